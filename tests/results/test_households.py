"""Households: the synthesis against its published inputs, the per-person pass against the brute engine,
catastrophic counts by hand and after each layer, bad input."""

import json

import numpy as np
import pytest
from scipy import stats

from actuarial import load_scenario
from actuarial.cli import main
from actuarial.engines.engine import accumulate
from actuarial.model.agg_fields import AGG_FIELDS
from actuarial.results.households import LAYERS, catastrophic, person_outcomes, synthesise, threshold
from actuarial.config.income import per_capita_income
from actuarial.model.population import population_block
from actuarial.results.simulation import evaluate
from actuarial.scenario.rules import HOUSEHOLD_SIZE_SHARES_2010, Households
from actuarial.scenario import ScenarioError

NATIONAL = "scenarios/national_2019_residents.toml"


def small(size=40_000, **households):
    sc = load_scenario(NATIONAL).replace(**{"population.size": size})
    return sc.replace(households={**sc.households.model_dump(), **households}) if households else sc


def test_thresholds_by_hand():
    # capacity to pay: 3 x (20,000 − 6,000) x 40 % = 16,800; below subsistence: 0 (any spending is catastrophic)
    assert threshold(np.array([20_000.0, 5_000.0]), np.array([3, 2]), basis="capacity_to_pay", percent=40,
                     subsistence=6_000).tolist() == [16_800.0, 0.0]
    # income basis (SDG 3.8.2 at 10 %): 4 x 30,000 x 10 % = 12,000
    assert threshold(np.array([30_000.0]), np.array([4]), basis="income", percent=10, subsistence=6_000).tolist() == [12_000.0]


def test_sigma_default_reproduces_the_nbs_quintiles():
    """income_sigma 0.834 puts the bottom fifth's mean at 9,215 / 39,218 of the mean (NBS 2023); the top fifth's
    mean then comes out at 2.49 times the mean against the published 95,055 / 39,218 = 2.42."""
    sigma = Households(income_year=2019, basis="income").income_sigma
    z = stats.norm.ppf(0.2)
    bottom = stats.norm.cdf(z - sigma) / 0.2
    top = (1 - stats.norm.cdf(-z - sigma)) / 0.2
    assert bottom == pytest.approx(9_215 / 39_218, rel=0.01)
    assert top == pytest.approx(95_055 / 39_218, rel=0.03)


def test_synthesis_matches_its_published_inputs():
    sc = load_scenario(NATIONAL).replace(**{"population.size": 200_000, "population.scheme_shares": {"urban": 0.3, "ncms": 0.7},
                                            "funding.basic_fund_per_capita": {"urban": 770, "ncms": 770},
                                            "population.poverty_rate_percent": {}, "indexed.income_series": "residents"})
    spec = sc.households
    sizes, incomes, series = [], [], []
    for b in range(4):
        hh = synthesise(spec, population_block(sc.population, 5, b), 5, b)
        sizes.append(hh.size[:-1])  # the block's last household is cut to the people left
        incomes.append(hh.income)
        series.append(hh.series)
        assert np.bincount(hh.member_of).tolist() == hh.size.tolist()  # every person in exactly one household
    sizes, incomes, series = np.concatenate(sizes), np.concatenate(incomes), np.concatenate(series)
    p = np.array(HOUSEHOLD_SIZE_SHARES_2010) / sum(HOUSEHOLD_SIZE_SHARES_2010)
    n = sizes.size
    observed = np.bincount(sizes - 1, minlength=p.size) / n
    assert np.all(np.abs(observed - p) < 4 * np.sqrt(p * (1 - p) / n)), (observed, p)
    for i, name in enumerate(("urban", "rural")):  # urban residents' scheme → urban income, NCMS → rural
        x = incomes[series == i]
        assert abs(x.mean() - per_capita_income(name, 2019)) < 4 * x.std() / np.sqrt(x.size), name
    shares = np.bincount(series, minlength=3)[:2] / series.size  # household heads' schemes follow the insured
    assert abs(shares[0] - 0.3) < 4 * np.sqrt(0.21 / series.size)


def test_person_pass_reproduces_the_brute_engine():
    sc = small(70_000)  # two blocks
    acc = accumulate(sc, years=2, seed=8, progress=False, engine="brute")  # the person pass uses its draws
    res = evaluate(acc)
    for year in range(2):
        for block in range(2):
            out = person_outcomes(sc, 8, block, year)
            agg = acc.agg[year, block].sum(axis=0)
            assert out.oop_total.sum() == pytest.approx(agg[AGG_FIELDS.index("oop_total")], rel=1e-12)
            assert out.oop_compliant.sum() == pytest.approx(agg[AGG_FIELDS.index("oop_compliant")], rel=1e-12)
            cell = (acc.rows.year == year) & (acc.rows.block == block)
            assert out.cii.sum() == pytest.approx(res.benefit[cell].sum(), rel=1e-12)


def test_layers_lower_the_count_and_mean_size():
    res = catastrophic(small(), years=3, seed=4)
    rates = [res.rate(layer) for layer in LAYERS]
    assert rates[0].value > rates[1].value > rates[2].value > 0
    assert all(r.se > 0 for r in rates)
    d = res.to_dict()
    assert d["household_mean_size"] == pytest.approx(np.arange(1, 11) @ np.array(HOUSEHOLD_SIZE_SHARES_2010) / 100, rel=0.03)
    # Teeth: on the income basis at 10 % (SDG 3.8.2's lower line) far more households are counted.
    wider = catastrophic(small(basis="income", threshold_percent=10), years=3, seed=4).rate("before_cii")
    assert wider.value > rates[0].value + 5 * wider.se


@pytest.mark.parametrize("changes,expected", [
    ({"threshold_percent": 0}, "households.threshold_percent: must be > 0 and <= 100 (got 0)"),
    ({"subsistence_per_capita": 0}, "households.subsistence_per_capita: basis = \"capacity_to_pay\" needs it"),
    ({"income_year": 2030}, "households.income_year: must be >= 2011 and <= 2024 (got 2030)"),
])
def test_bad_household_values(changes, expected):
    with pytest.raises(ScenarioError) as err:
        small(**changes)
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_run_json_carries_household_counts(tmp_path):
    out = tmp_path / "run.json"
    assert main(["run", NATIONAL, "--size", "20000", "--years", "2", "--no-progress", "--format", "json",
                 "--out", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    for layer in LAYERS:
        assert set(data[f"households_catastrophic_per_10k_{layer}"]) == {"estimate", "se", "ci95"}
    assert data["households"] > 0 and "residents" in data["household_income_per_capita_mean"]
