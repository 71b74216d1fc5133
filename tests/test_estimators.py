"""Standard-error formulas: the ratio estimator (delta method) and the control-variate estimator,
each against the spread of its own estimates over independent replications."""

import math

import numpy as np
import pytest

from actuarial import simulate
from actuarial.exact.compound import expected_cii
from actuarial.estimates import ratio_estimate

from designs import DESIGNS


def test_ratio_se_by_hand():
    # r = 6/3 = 2; residuals (num − r·den)/mean(den) = (−1, 0, 1): variance 1, SE = √(1/3)
    est = ratio_estimate(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0]))
    assert est.value == 2.0 and est.se == pytest.approx(math.sqrt(1 / 3))
    assert math.isnan(ratio_estimate(np.array([1.0]), np.array([2.0])).se)  # one unit: no SE


def test_ratio_se_matches_the_spread_over_replications():
    rng = np.random.default_rng(4)
    values, ses = [], []
    for _ in range(3000):
        den = rng.integers(50, 150, 40).astype(float)  # units of unequal size
        num = rng.gamma(2.0, 3.0, 40) * den / 10
        est = ratio_estimate(num, den)
        values.append(est.value)
        ses.append(est.se)
    spread, typical = np.std(values, ddof=1), math.sqrt(np.mean(np.square(ses)))
    assert typical == pytest.approx(spread, rel=0.08)  # the SE of an SD from 3,000 replications is ~1.3 %


def test_controlled_se_matches_the_spread_over_replications():
    """The control-variate estimate of claims (Monte Carlo part + population composition part) over 40
    seeds: its reported SE matches the estimates' spread, and their mean matches the exact method."""
    sc = DESIGNS["poor_rules_and_bc_self_pay"].replace(**{"population.size": 8_000})
    values, ses = [], []
    for seed in range(40):
        est = simulate(sc, years=8, seed=seed, engine="fast").claims_per_capita()
        values.append(est.value)
        ses.append(est.se)
    spread, typical = np.std(values, ddof=1), math.sqrt(np.mean(np.square(ses)))
    assert 0.65 < typical / spread < 1.5, (typical, spread)  # an SD from 40 draws is known to ±11 %
    exact = expected_cii(sc, step=20.0, n_points=1 << 15).claims_per_capita
    assert abs(np.mean(values) - exact) < 3 * spread / math.sqrt(len(values))


def test_tvar_se_matches_the_spread_over_replications_and_the_closed_form():
    """Exponential(1) years: TVaR_0.9 = ln 10 + 1 and its SE sqrt(19 / n). The SE that forgets the level's
    own estimation (the tail years' sd alone) reads about a quarter too small and is refused."""
    from actuarial.estimates import tvar_estimate

    rng = np.random.default_rng(7)
    n = 400
    reps = [tvar_estimate(rng.exponential(size=n), 0.9) for _ in range(3000)]
    values = np.array([e.value for e in reps])
    ses = np.array([e.se for e in reps])
    assert values.mean() == pytest.approx(math.log(10) + 1, abs=4 * values.std() / math.sqrt(values.size) + 0.02)
    assert ses.mean() == pytest.approx(values.std(ddof=1), rel=0.06)
    assert ses.mean() == pytest.approx(math.sqrt(19 / n), rel=0.06)
    naive = np.mean([np.sort(rng.exponential(size=n))[int(0.9 * n):].std(ddof=1) / math.sqrt(0.1 * n)
                     for _ in range(300)])
    assert naive < 0.8 * values.std(ddof=1)
