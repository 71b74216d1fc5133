"""Named fields of the heavy pass's per (year, block, group) totals: the one place that maps a
field's name to its position on the last axis.

Code never writes a position (``agg[..., 4]``): it asks :func:`index`, :func:`get` or builds the
last axis with :func:`stack` from a name → values mapping, each of which reads :data:`AGG_FIELDS`
when called. So reordering or extending the field tuple cannot silently move one total into
another (tests/engines/test_contract.py permutes it and gets the same totals).

>>> import numpy as np
>>> agg = stack({f: np.full(2, float(i)) for i, f in enumerate(AGG_FIELDS)})
>>> agg.shape, float(get(agg, "cost")[0])
((2, 9), 3.0)
"""

from __future__ import annotations

import numpy as np

AGG_FIELDS = (
    "people", "premium", "episodes", "cost", "compliant", "basic_paid",
    "oop_compliant", "oop_total", "catastrophic_before",
)
"""Per (year, block, group) totals: people, premium (yuan), episodes, total cost, compliant cost,
basic fund paid, compliant out-of-pocket after basic, total out-of-pocket after basic, and persons
whose total out-of-pocket exceeds the catastrophic threshold (all yuan except the counts)."""


def index(name: str | tuple | list):
    """Position of field ``name`` (or an int array of positions for several names) on the last axis."""
    if isinstance(name, str):
        return AGG_FIELDS.index(name)
    return np.array([AGG_FIELDS.index(n) for n in name], int)


def get(agg, name: str):
    """The totals of field ``name``: ``agg`` without its last axis."""
    return agg[..., index(name)]


def stack(values: dict, xp=np, axis: int = -1):
    """The last (field) axis built from ``{field name: array}`` (every field, no other; any xp)."""
    if set(values) != set(AGG_FIELDS):
        raise KeyError(f"fields {sorted(set(AGG_FIELDS) ^ set(values))} missing or unknown")
    return xp.stack([values[f] for f in AGG_FIELDS], axis=axis)


def n_fields() -> int:
    """Length of the field axis."""
    return len(AGG_FIELDS)
