"""Every notebook in notebooks/ runs top to bottom at toy sizes (ACTUARIAL_SMALL=1) and is committed without outputs."""

import os
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    names = [p.name for p in NOTEBOOKS]
    for name in ("01_calibrate_premium.ipynb", "02_compare_bids.ipynb", "03_sensitivity_sweep.ipynb",
                 "04_fit_from_claims.ipynb"):
        assert name in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: strip the outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_runs_top_to_bottom_small(path, monkeypatch):
    from nbclient import NotebookClient

    # The kernel inherits this environment: this checkout's package and toy sizes; matplotlib's
    # inline backend (no MPLBACKEND) so the figures come back as PNG outputs.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    monkeypatch.setenv("ACTUARIAL_SMALL", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import actuarial; print(actuarial.__file__)"))
    client = NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    html = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "text/html" in o.get("data", {})]
    assert html, "result objects should display as HTML tables"
    pngs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(pngs) >= 2, "the notebook's plots should display"
    # The kernel imported this checkout's package, not an installed copy.
    assert nb.cells[-1].outputs[0]["text"].strip().startswith(str(ROOT / "actuarial"))
