"""Every dotted ``actuarial.…`` name and every repository path (``actuarial/…``, ``tests/…``, ``scenarios/…``)
the README, the benchmarks' notes, the notebooks and the docstrings mention exists: after a module moves,
no text points at its old place."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = re.compile(r"(?<![\w/\"'])actuarial(?:\.\w+)+")  # not a path, not inside a quoted key


def resolves(name: str) -> bool:
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def mentioned_names() -> dict[str, str]:
    files = [ROOT / "README.md", ROOT / "benchmarks" / "README.md", *(ROOT / "notebooks").glob("*.ipynb"),
             *(ROOT / "actuarial").rglob("*.py")]
    out = {}
    for f in files:
        for m in NAME.finditer(f.read_text(encoding="utf-8")):
            if "__main__" not in m.group(0):
                out.setdefault(m.group(0).rstrip("."), str(f.relative_to(ROOT)))
    return out


def test_every_mentioned_name_exists():
    missing = {n: f for n, f in mentioned_names().items() if not resolves(n)}
    assert missing == {}


PATH = re.compile(r"(?<![\w./-])((?:actuarial|tests|benchmarks|scenarios|notebooks)/[\w/.-]*[\w/])")
EXAMPLES = {"scenarios/bad.toml"}  # a file named in an example error message, not a file of the repository


def missing_paths(text: str) -> list[str]:
    return sorted({p for m in PATH.finditer(text) if "*" not in (p := m.group(1).rstrip("."))
                   and p not in EXAMPLES and not (ROOT / p).exists()})


def test_every_mentioned_path_exists():
    files = [ROOT / "README.md", ROOT / "benchmarks" / "README.md", ROOT / ".ci" / "run",
             *(ROOT / "notebooks").glob("*.ipynb"), *(ROOT / "actuarial").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]
    missing = {str(f.relative_to(ROOT)): m for f in files if f.exists() and (m := missing_paths(f.read_text(encoding="utf-8")))}
    assert missing == {}


def test_the_path_check_can_fail():
    assert missing_paths("see `actuarial/exact/control.py` and tests/designs.py") == []
    gone = "actuarial/" + "control.py"  # spelled in two parts, so this file does not mention it
    assert missing_paths(f"see `{gone}`") == [gone]


def test_the_name_check_can_fail():
    assert resolves("actuarial.model.cii.benefit") and resolves("actuarial.contract.bids")
    assert not resolves("actuarial.compare.compare_bids") and not resolves("actuarial.model.cii.no_such_rule")
