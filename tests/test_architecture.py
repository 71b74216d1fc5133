"""The package's floor plan: imports point down only (no cycle, counting the imports inside
functions too; no package imports one above it in the data flow), no module is over ~450 lines,
and the command line sits on top, in ``actuarial/cli/``, imported by nothing below."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "actuarial"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every actuarial module ``path`` imports, anywhere in the file (module level or inside functions)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "actuarial"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == "actuarial":
                target = node.module
            else:
                continue
            out.add(target)
            out |= {f"{target}.{a.name}" for a in node.names}  # `from . import rng` names a module
    return out


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    # The package's face (actuarial/__init__.py) re-exports the public API; importing it from below
    # (for __version__) is not a dependency on the modules it re-exports.
    return {m: {t for t in imports_of(p) if t in files and t != "actuarial" and t != m}
            for m, p in files.items() if m != "actuarial"}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle():
    assert cycles(graph()) == []


def test_the_cycle_check_can_fail():
    g = graph()
    g["actuarial.scenario"] = g["actuarial.scenario"] | {"actuarial.results.simulation"}  # results imports scenario
    assert any({"actuarial.scenario", "actuarial.results.simulation"} <= set(c) for c in cycles(g))


def test_the_command_line_is_on_top():
    """Only actuarial/cli/ (and ``python -m actuarial``) parse arguments; nothing below imports the CLI."""
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        if name.startswith("actuarial.cli") or name == "actuarial.__main__":
            continue
        source = path.read_text(encoding="utf-8")
        assert "argparse" not in source, f"{name} uses argparse: the command line belongs in actuarial/cli/"
        assert not any(t.startswith("actuarial.cli") for t in imports_of(path)), f"{name} imports the CLI"


# The layers, bottom up, as the data flow reads (actuarial/__init__.py, README "Repository"). A module
# may import its own layer and those below it; the ground floor is the four foundation modules.
LAYERS = ("errors estimates atomic backend", "config", "scenario", "model", "exact", "engines", "results",
          "fitting", "contract", "sweep", "report", "cli", "__main__")


def layer_of(module: str) -> int:
    part = module.split(".")[1]
    for i, names in enumerate(LAYERS):
        if part in names.split():
            return i
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS (and to the README's table)")


def climbs(g: dict[str, set[str]]) -> list[str]:
    return sorted(f"{m} -> {t}" for m, ts in g.items() for t in ts if layer_of(t) > layer_of(m))


def test_every_import_points_down_the_layers():
    assert climbs(graph()) == []


def test_the_layer_check_can_fail():
    g = graph()
    g["actuarial.model.cii"] = g["actuarial.model.cii"] | {"actuarial.results.simulation"}
    assert climbs(g) == ["actuarial.model.cii -> actuarial.results.simulation"]


def test_no_module_is_over_450_lines():
    long = {module_name(p): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450}
    assert long == {}, f"split these along the data flow: {long}"


def exception_classes(source: str) -> list[str]:
    """Classes in ``source`` that derive from a builtin exception or from one of actuarial.errors'."""
    import builtins

    from actuarial import errors

    known = {n for n, v in {**vars(builtins), **vars(errors)}.items()
             if isinstance(v, type) and issubclass(v, BaseException)}
    return [node.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ClassDef)
            and {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases} & known]


def test_every_exception_is_defined_in_the_error_module():
    """One error module: a class deriving from an exception is defined in actuarial/errors.py only."""
    elsewhere = [f"{module_name(p)}.{c}" for p in PACKAGE.rglob("*.py") if p != PACKAGE / "errors.py"
                 for c in exception_classes(p.read_text(encoding="utf-8"))]
    assert elsewhere == [], f"define these in actuarial/errors.py: {elsewhere}"


def test_the_exception_check_can_fail():
    source = "class BadRows(ExperienceError):\n    pass\nclass Plain:\n    pass\nclass Gone(KeyError): ...\n"
    assert exception_classes(source) == ["BadRows", "Gone"]


def hidden_imports(source: str) -> list[int]:
    """Lines of ``source`` that import from the package inside a function (``from . import __version__``,
    the face's version string, excepted)."""
    out = []
    for fn in ast.walk(ast.parse(source)):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if (isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("actuarial"))
                        and [a.name for a in node.names] != ["__version__"]):
                    out.append(node.lineno)
    return sorted(set(out))


def test_no_package_import_is_hidden_in_a_function():
    """Every module's dependencies stand in its import block, where a reader (and the layer check) sees
    them. (The command line gains nothing by loading layers late: it reads the package's version, so
    ``import actuarial`` has run before any command.)"""
    hidden = {module_name(p): lines for p in PACKAGE.rglob("*.py")
              if (lines := hidden_imports(p.read_text(encoding="utf-8")))}
    assert hidden == {}


def test_the_hidden_import_check_can_fail():
    source = "from .a import b\n\ndef f():\n    from ..model import cii\n    from .. import __version__\n    return cii\n"
    assert hidden_imports(source) == [4]
