"""Results, premium calibration and the inverse solvers."""

import math

import numpy as np
import pytest

from actuarial import accumulate, calibrate_premium, evaluate, shift_tiers, solve_deductible, solve_tier_shift
from actuarial.estimates import Estimate, quantile_ci, ratio_estimate


@pytest.fixture(scope="module")
def small_result(qinzhou):
    return evaluate(accumulate(qinzhou.replace(**{"population.size": 100_000}), 4, seed=3, progress=False))


def test_ratio_estimate_by_hand():
    # Units (num, den): (2, 1), (4, 1), (6, 2): ratio 12/4 = 3; residuals (2−3, 4−3, 6−6)/(4/3).
    est = ratio_estimate(np.array([2.0, 4.0, 6.0]), np.array([1.0, 1.0, 2.0]))
    resid = np.array([-1.0, 1.0, 0.0]) / (4 / 3)
    assert est.value == 3.0
    assert est.se == pytest.approx(math.sqrt(resid.var(ddof=1) / 3))
    assert Estimate(10, 1).ci95 == pytest.approx((10 - 1.959964, 10 + 1.959964))


def test_quantile_ci_covers_true_quantile():
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(200):
        est, lo, hi = quantile_ci(rng.standard_normal(200), 0.9)
        hits += lo <= 1.2815515655446004 <= hi
    assert hits >= 180  # nominal 95 %: 190 expected, binomial sd ≈ 3


def test_metrics_are_consistent(small_result):
    r = small_result
    m = r.metrics()
    assert m["insured"] == 100_000
    assert m["premium_per_capita"] == pytest.approx(33.0)
    claims = r.yearly("claims").sum() / r.yearly("people").sum()
    assert r.ratio("claims", "people", controlled=False).value == pytest.approx(claims)
    # The headline uses the control variate (actuarial.exact.control): Σ(Y − X) + ΣE[X] over the people.
    controlled = (claims * r.yearly("people").sum() - r.yearly("control").sum() + r.yearly("control_expected").sum()) \
        / r.yearly("people").sum()
    assert m["claims_per_capita"].value == pytest.approx(controlled)
    assert abs(controlled - claims) < 3 * r.ratio("claims", "people", controlled=False).se
    assert m["break_even_premium"].value == pytest.approx(controlled / 0.95)
    assert m["benefit_per_beneficiary"].value == pytest.approx(r.benefit[r.benefit > 0].mean())
    assert 0 < m["actual_payment_ratio"].value < m["payment_ratio_above_deductible"].value <= 0.9
    assert all(e.se > 0 for e in m.values() if isinstance(e, Estimate) and e.value > 0)
    assert r.benefit.sum() == pytest.approx(r.yearly("claims").sum())


def test_higher_deductible_pays_less_on_the_same_draws(small_result):
    base = small_result.claims_per_capita().value
    higher = small_result.with_design(small_result.cii.model_copy(update={"deductible": 9000})).claims_per_capita().value
    assert higher < base
    more = small_result.with_design(shift_tiers(small_result.cii, 5)).claims_per_capita().value
    assert more > base


def test_design_below_floor_is_refused(small_result):
    with pytest.raises(ValueError, match="below the accumulation floor"):
        small_result.with_design(small_result.cii.model_copy(update={"deductible": 1000, "poor_deductible": 500}))


def test_break_even_calibration(small_result):
    cal = calibrate_premium(small_result)
    claims = small_result.claims_per_capita()
    assert cal.premium == pytest.approx(claims.value / 0.95)
    assert cal.se == pytest.approx(claims.se / 0.95)
    assert cal.ci95[0] < cal.premium < cal.ci95[1]
    assert cal.to_dict()["premium_per_capita"]["ci95"] == list(cal.ci95)


def test_percentile_calibration_needs_years(small_result):
    with pytest.raises(ValueError, match="needs at least 200 simulated years"):
        calibrate_premium(small_result, target="percentile", percentile=0.9)


def test_percentile_calibration(provincial):
    res = evaluate(accumulate(provincial.replace(**{"population.size": 20_000}), 60, seed=4, progress=False))
    cal = calibrate_premium(res, target="percentile", percentile=0.5)
    per_capita = res.yearly("claims") / res.yearly("people") / 0.95
    assert cal.premium == pytest.approx(np.median(per_capita))
    assert cal.ci95[0] <= cal.premium <= cal.ci95[1]


def test_solve_deductible_round_trip(qinzhou):
    """Budget = the break-even premium at the scenario's own deductible → the solver returns that deductible."""
    sc = qinzhou.replace(**{"population.size": 60_000})
    # brute: its draws do not depend on the floor, so the solver's pass (floor at its bracket) is the same
    res = evaluate(accumulate(sc, 3, seed=8, floor=1500, progress=False, engine="brute"))
    budget = res.break_even_premium().value
    sol = solve_deductible(sc, premium=budget, years=3, seed=8, engine="brute")
    assert sol.value == pytest.approx(6000, rel=1e-4)
    assert sol.ci95[0] < 6000 < sol.ci95[1]
    assert sol.cii.poor_deductible == pytest.approx(sol.value / 2)  # keeps Qinzhou's 3,000 : 6,000
    net = sol.result.claims_per_capita().value
    assert net == pytest.approx(budget * 0.95, rel=1e-6)


def test_solve_tier_shift_round_trip(qinzhou):
    sc = qinzhou.replace(**{"population.size": 60_000})
    budget = evaluate(accumulate(sc, 3, seed=8, progress=False)).break_even_premium().value
    sol = solve_tier_shift(sc, premium=budget * 1.1, years=3, seed=8)
    assert sol.value > 0  # a bigger budget buys higher rates
    assert sol.result.claims_per_capita().value == pytest.approx(budget * 1.1 * 0.95, rel=1e-6)


def test_unaffordable_budget_is_a_clear_error(qinzhou):
    with pytest.raises(ValueError, match="no deductible in"):
        solve_deductible(qinzhou.replace(**{"population.size": 20_000}), premium=500, years=1, seed=1)


def test_design_changing_heavy_fields_is_refused(small_result):
    with pytest.raises(ValueError, match=r"cii fields \['scope'\] differ"):
        small_result.with_design(small_result.cii.model_copy(update={"scope": ("cancer",)}))
