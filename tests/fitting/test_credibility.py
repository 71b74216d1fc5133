"""Bühlmann–Straub credibility: a hand-worked case, unequal weights against the textbook formulas written out,
recovery of variance components, and its use in contract repricing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from actuarial import load_scenario
from actuarial.contract.multiyear import run_contract
from actuarial.fitting.credibility import buhlmann_straub, experience_credibility


def test_hand_worked_two_pools():
    c = buhlmann_straub(np.array([[0.8, 1.0], [1.2, 1.4]]), np.ones((2, 2)))
    assert c.epv == pytest.approx(0.02) and c.vhm == pytest.approx(0.07)
    assert c.k == pytest.approx(2 / 7) and c.z == pytest.approx([0.875, 0.875])
    assert c.collective == pytest.approx(1.1)
    assert c.estimate == pytest.approx([0.875 * 0.9 + 0.125 * 1.1, 0.875 * 1.3 + 0.125 * 1.1])


def test_unequal_weights_and_missing_years_match_the_formulas_written_out():
    x = np.array([[0.9, 1.1, np.nan], [1.3, 1.0, 1.2], [0.7, np.nan, 0.8]])
    w = np.array([[100.0, 120.0, 0.0], [300.0, 280.0, 260.0], [50.0, 0.0, 70.0]])
    c = buhlmann_straub(x, w)
    rows = [[(xi, wi) for xi, wi in zip(xr, wr) if wi > 0] for xr, wr in zip(x, w)]
    wp = [sum(wi for _, wi in r) for r in rows]
    mp = [sum(xi * wi for xi, wi in r) / sum(wi for _, wi in r) for r in rows]
    wt = sum(wp)
    m = sum(a * b for a, b in zip(wp, mp)) / wt
    s2 = sum(wi * (xi - mp[i]) ** 2 for i, r in enumerate(rows) for xi, wi in r) / sum(len(r) - 1 for r in rows)
    a = (sum(wp[i] * (mp[i] - m) ** 2 for i in range(3)) - 2 * s2) / (wt - sum(v * v for v in wp) / wt)
    assert c.epv == pytest.approx(s2) and c.vhm == pytest.approx(a)
    assert c.z == pytest.approx([v / (v + s2 / a) for v in wp])
    assert c.z[1] > c.z[0] > c.z[2]  # more premium, more credibility


def test_no_between_pool_variance_gives_no_credibility():
    rng = np.random.default_rng(1)
    x = 1.0 + 0.05 * rng.standard_normal((30, 4))  # pools differ only by year noise
    c = buhlmann_straub(x, np.ones_like(x), collective=0.95)
    assert c.vhm < 0.0005 and np.all(c.z < 0.3)
    big = buhlmann_straub(x + np.arange(30)[:, None] * 0.1, np.ones_like(x))  # pools far apart
    assert np.all(big.z > 0.95)


def test_recovers_variance_components():
    rng = np.random.default_rng(7)
    means = 1.0 + 0.1 * rng.standard_normal(400)  # a = 0.01
    w = rng.uniform(50, 150, (400, 5))
    x = means[:, None] + rng.standard_normal((400, 5)) * np.sqrt(2.0 / w)  # s² = 2 per unit weight
    c = buhlmann_straub(x, w)
    assert c.epv == pytest.approx(2.0, rel=0.1) and c.vhm == pytest.approx(0.01, rel=0.2)


def test_errors():
    with pytest.raises(ValueError, match="needs >= 2 pools"):
        buhlmann_straub(np.array([[1.0, 1.1]]), np.ones((1, 2)))
    with pytest.raises(ValueError, match="missing column"):
        experience_credibility(pd.DataFrame({"pool": [1], "year": [1]}))


def test_table_shows_z_and_its_inputs():
    t = pd.DataFrame({"pool": ["A", "A", "B", "B"], "year": [1, 2, 1, 2], "loss_ratio": [0.8, 1.0, 1.2, 1.4],
                      "premium": [1.0] * 4})
    tab = experience_credibility(t).table()
    assert tab.pool.tolist() == ["A", "B"] and set(tab.attrs) == {"epv", "vhm", "k", "collective"}


def test_contract_repricing_with_buhlmann_straub():
    sc = load_scenario("scenarios/qinzhou_2016.toml").replace(**{
        "population.size": 20_000, "claims.shocks.severity_sd": 0.2,
        "contract.repricing": {"credibility_method": "buhlmann_straub", "max_increase_percent": 50,
                               "max_decrease_percent": 50}})
    res = run_contract(sc, years=40, seed=3)
    assert res.years[0].credibility is None  # one year: no year-to-year variance yet, Z = 0
    assert np.all(res.years[1].price_factor == 1.0)
    cred = res.years[1].credibility
    assert cred is not None and cred.z.shape == (40,) and np.all((cred.z >= 0) & (cred.z < 1))
    # Year shocks are independent across years: the paths' true means do not differ, so Z stays small.
    assert np.mean(cred.z) < 0.5
    rule = sc.contract.repricing
    target = 1 - sc.contract.combined_fee_rate
    cum_c = res.years[0].result.yearly("claims") + res.years[1].result.yearly("claims")
    cum_p = res.years[0].settlement.premium + res.years[1].settlement.premium
    expected = np.clip(cred.z * (cum_c / cum_p / target - 1), -0.5, 0.5) + 1
    assert res.years[2].price_factor == pytest.approx(expected)
    assert rule.credibility_method == "buhlmann_straub"
