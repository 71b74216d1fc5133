"""One result surface (issue 9): every result object has ``summary()`` (a tidy DataFrame),
``plot(ax=...)`` (draws on the Axes it is given and returns it), ``to_dict()`` (JSON-ready) and
``_repr_html_()`` (a notebook display)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from actuarial import calibrate_premium, load_scenario, simulate  # noqa: E402
from actuarial.results.calibration import solve_deductible  # noqa: E402
from actuarial.cli import _jsonable  # noqa: E402
from actuarial.contract.bids import compare_bids  # noqa: E402
from actuarial.contract.multiyear import run_contract  # noqa: E402
from actuarial.fitting import fit_experience  # noqa: E402
from actuarial.contract.risk import risk_view  # noqa: E402
from actuarial.contract.settlement import settle  # noqa: E402
from actuarial.sweep import Parameter, Sweep, run_sweep  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(ROOT / "scenarios" / "default_county.toml").replace(**{"population.size": 20_000})


@pytest.fixture(scope="module")
def results(scenario):
    sim = simulate(scenario, years=4, seed=1, engine="fast", progress=False)
    bids = sorted((ROOT / "scenarios" / "bids" / "provincial").glob("*.toml"))
    sweep = Sweep(base=scenario, design="tornado", years=2, seed=3,
                  parameters=[Parameter(name="deductible", path="cii.deductible", mode="scale", low=0.8, high=1.2)])
    return {
        "simulation": sim,
        "calibration": calibrate_premium(sim),
        "inverse solution": solve_deductible(scenario, years=4, seed=1, engine="fast", progress=False),
        "settlement": settle(scenario.contract, sim.yearly("premium"), sim.yearly("claims")),
        "contract": run_contract(scenario, 4, 1, engine="fast", progress=False),
        "bid comparison": compare_bids(bids, years=4, seed=1, size=20_000, progress=False),
        "sweep": run_sweep(sweep, progress=False),
        "experience fit": fit_experience(DATA / "claims.csv", DATA / "enrolment.csv"),
        "risk view": risk_view(scenario.replace(**{"basic.annual_cap": 1e9}), quantiles=("0.9",)),
    }


NAMES = ["simulation", "calibration", "inverse solution", "settlement", "contract", "bid comparison", "sweep",
         "experience fit", "risk view"]


@pytest.mark.parametrize("name", NAMES)
def test_every_result_has_the_four_methods(results, name):
    res = results[name]
    table = res.summary()
    assert isinstance(table, pd.DataFrame) and len(table) > 0
    fig, ax = plt.subplots()
    assert res.plot(ax=ax) is ax and ax.has_data()
    plt.close(fig)
    json.dumps(_jsonable(res.to_dict()))
    html = res._repr_html_()
    assert isinstance(html, str) and "<" in html
