"""pyproject.toml and environment.yml stay consistent; the README and CI agree on the test command."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!\[ ]", req, maxsplit=1)[0].lower()


def _conda_names() -> dict[str, str]:
    out = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"\s+- ([A-Za-z0-9_.-]+)(.*)$", line)
        if m and m.group(1) not in ("pip", "-e"):
            out[m.group(1).lower()] = m.group(2).strip()
    return out


def test_environment_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    conda = _conda_names()
    needed = project["dependencies"] + project["optional-dependencies"]["test"]
    for req in needed:
        name = _name(req)
        conda_name = {"dask": "dask"}.get(name, name)
        assert conda_name in conda, f"environment.yml lacks {name} (pyproject: {req})"
        spec = req[len(name):].split("]")[-1].strip()
        assert conda[conda_name] == spec, f"{name}: pyproject says '{spec}', environment.yml '{conda[conda_name]}'"
    assert "distributed" in conda  # dask[distributed] on pip is dask + distributed on conda


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    m = re.search(r"<!-- test-command -->\s*```(?:bash|sh)?\n(.+?)\n```", readme, re.S)
    assert m, "README must mark its test command with <!-- test-command -->"
    assert m.group(1).strip() in ci


def test_the_report_templates_ship_with_the_package():
    """The HTML report's templates are package data of ``actuarial.report`` (pyproject), so a wheel has them."""
    from fnmatch import fnmatch

    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["actuarial.report"]
    templates = sorted((ROOT / "actuarial" / "report" / "templates").iterdir())
    assert templates
    for path in templates:
        rel = path.relative_to(ROOT / "actuarial" / "report").as_posix()
        assert any(fnmatch(rel, g) for g in globs), f"{rel} is not package data of actuarial.report"
