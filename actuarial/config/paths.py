"""Dotted field paths into nested dicts and lists (``"cii.tiers.0.rate_percent"``): the one home of
reading and editing a configuration by path (:meth:`actuarial.scenario.Scenario.replace`, sweeps).

>>> data = {"cii": {"tiers": [{"rate": 50}, {"rate": 60}]}}
>>> [p for p, _, _ in resolve_path(data, "cii.tiers.*.rate")]
['cii.tiers.0.rate', 'cii.tiers.1.rate']
>>> set_path(data, "cii.tiers.1.rate", 65); data["cii"]["tiers"][1]
{'rate': 65}
"""

from __future__ import annotations

from typing import Any

from ..errors import PathError


def resolve_path(data: Any, path: str) -> list[tuple[str, Any, Any]]:
    """Concrete fields a dotted path (``*`` = every element) points at in ``data``.

    Returns ``(concrete_path, container, key)`` triples so the caller can read
    ``container[key]`` or set it. Raises :class:`PathError` (a KeyError) naming the first bad part.
    """
    found = [("", data)]
    keys = path.split(".")
    for depth, key in enumerate(keys):
        nxt = []
        for prefix, node in found:
            if isinstance(node, (list, tuple)):
                idx = range(len(node)) if key == "*" else [int(key)] if key.isdigit() and int(key) < len(node) else []
                children = [(str(i), i) for i in idx]
            elif isinstance(node, dict):
                children = [(str(k), k) for k in node] if key == "*" else [(key, key)] if key in node else []
            else:
                children = []
            if not children:
                raise PathError(path, ".".join(keys[: depth + 1]))
            nxt += [((prefix + "." if prefix else "") + name, (node, k)) for name, k in children]
        if depth == len(keys) - 1:
            return [(p, node, k) for p, (node, k) in nxt]
        found = [(p, node[k]) for p, (node, k) in nxt]
    raise PathError(path, "")


def set_path(data: Any, path: str, value: Any) -> None:
    """Set the field at dotted ``path`` (no wildcard) in ``data`` to ``value``; a missing last key of a
    dict is added (a new entry of a name-keyed table), every other part must exist (:class:`PathError`)."""
    parent, _, last = path.rpartition(".")
    node = data if not parent else resolve_path(data, parent)[0]
    if parent:
        _, container, key = node
        node = container[key]
    if isinstance(node, list):
        if not (last.isdigit() and int(last) < len(node)):
            raise PathError(path, path)
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise PathError(path, path)


def thaw(data: Any) -> Any:
    """A mutable deep copy (tuples become lists) so any element can be set."""
    if isinstance(data, dict):
        return {k: thaw(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [thaw(v) for v in data]
    return data
