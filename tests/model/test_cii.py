"""The CII benefit, checked on cases a reader can work on paper, and its invariants.

Most cases use the Qinzhou 2016 design (shared/seeds/001, lines 1061-1087):
deductible 6,000 (poor 3,000, +10 points), marginal rates 50 / 60 / 70 / 80 %
on the bands 0-20,000 / 20,000-40,000 / 40,000-60,000 / above 60,000 of the
annual accumulation (the lower edges are the scenario's assumption), cap
500,000. Band *j* runs from max(edge_j, deductible) to max(edge_{j+1}, deductible).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actuarial.model.cii import benefit, eligible_factor, min_deductible, tiered_benefit
from actuarial.scenario import CII, LOCATIONS

EDGES = [0, 20_000, 40_000, 60_000]
RATES = [0.5, 0.6, 0.7, 0.8]


def design(**kw) -> CII:
    terms = dict(deductible=6000, cap=500_000,
                 tiers=[{"above": e, "rate_percent": 100 * r} for e, r in zip(EDGES, RATES)])
    terms.update(kw)
    return CII(**terms)


def pay(cii: CII, accumulation, poor=False, location: str = "local", factor: float = 1.0) -> np.ndarray:
    """Benefit for people whose whole accumulation is at one location."""
    x = np.atleast_1d(np.asarray(accumulation, float))
    by_location = np.zeros((x.size, len(LOCATIONS)))
    by_location[:, LOCATIONS.index(location)] = x
    return benefit(cii, by_location, np.full(x.size, poor), factor)


# --------------------------------------------------------------------------- tiers
@pytest.mark.parametrize("accumulation, expected", [
    (0, 0.0),
    (5_000, 0.0),                                   # below the deductible
    (6_000, 0.0),                                   # exactly at the deductible
    (10_000, 0.5 * 4_000),                          # inside band 1: 2,000
    (20_000, 0.5 * 14_000),                         # at the first edge: 7,000
    (30_000, 0.5 * 14_000 + 0.6 * 10_000),          # across one edge: 13,000 (cii.py's example)
    (40_000, 7_000 + 0.6 * 20_000),                 # 19,000
    (60_000, 19_000 + 0.7 * 20_000),                # 33,000
    (100_000, 33_000 + 0.8 * 40_000),               # 65,000
])
def test_tiers_by_hand(accumulation, expected):
    assert pay(design(), accumulation)[0] == pytest.approx(expected, abs=1e-9)


def test_deductible_above_the_first_edges():
    """With a deductible of 25,000 the 50 % band is empty and the 60 % band starts at 25,000."""
    cii = design(deductible=25_000)
    assert pay(cii, 30_000)[0] == pytest.approx(0.6 * 5_000)
    assert pay(cii, 50_000)[0] == pytest.approx(0.6 * 15_000 + 0.7 * 10_000)


def test_cap_binds():
    assert pay(design(cap=50_000), 100_000)[0] == 50_000            # 65,000 uncapped
    assert pay(design(cap=65_000), 100_000)[0] == pytest.approx(65_000)   # exactly at the cap
    # Qinzhou's own cap: 33,000 + 80 % of 640,000 = 545,000 > 500,000
    assert pay(design(), 700_000)[0] == 500_000


def test_no_cap_means_infinite():
    cii = CII(deductible=0, tiers=[{"above": 0, "rate_percent": 55}])
    assert math.isinf(cii.cap)
    assert pay(cii, 10_000_000)[0] == pytest.approx(5_500_000)


def test_flat_rate_disease_list_scheme_shanghai():
    """Shanghai (001 line 551): 55 % of the policy-scope out-of-pocket cost, no deductible."""
    cii = CII(deductible=0, tiers=[{"above": 0, "rate_percent": 55}],
              scope=("uremia_dialysis", "transplant_antirejection", "cancer", "mental_illness"))
    assert list(pay(cii, [0, 1, 10_000])) == pytest.approx([0, 0.55, 5_500])


def test_tiered_benefit_broadcasts_rates_per_person():
    rates = np.array([[0.5, 0.6], [0.6, 0.7]])   # second person: +10 points
    got = tiered_benefit(np.array([30_000.0, 30_000.0]), 6000, [0, 20_000], rates)
    assert got == pytest.approx([0.5 * 14_000 + 0.6 * 10_000, 0.6 * 14_000 + 0.7 * 10_000])


# --------------------------------------------------------------------------- the poor
def test_poor_deductible_and_points():
    cii = design(poor_deductible=3000, poor_points=10)
    assert pay(cii, 3_000, poor=True)[0] == 0
    assert pay(cii, 10_000, poor=True)[0] == pytest.approx(0.6 * 7_000)                  # 4,200
    assert pay(cii, 30_000, poor=True)[0] == pytest.approx(0.6 * 17_000 + 0.7 * 10_000)  # 17,200
    assert pay(cii, 30_000, poor=False)[0] == pytest.approx(13_000)                      # unchanged
    assert min_deductible(cii) == 3000 and min_deductible(design()) == 6000


def test_poor_points_never_push_a_rate_above_100_percent():
    cii = CII(deductible=0, tiers=[{"above": 0, "rate_percent": 95}], poor_points=10)
    assert pay(cii, 1_000, poor=True)[0] == pytest.approx(1_000)


def test_poor_deductible_defaults_to_the_general_one():
    cii = design(poor_points=10)
    assert cii.effective_poor_deductible == 6000
    assert pay(cii, 10_000, poor=True)[0] == pytest.approx(0.6 * 4_000)


# --------------------------------------------------------------------------- out of area
QINZHOU_LOCATIONS = {
    "out_of_province_referred": {"flat_rate_percent": 50},
    "out_of_province_unreferred": {"flat_rate_percent": 40},
    "in_province_referred": {"points": -5},
    "in_province_unreferred": {"points": -10},
}


def test_out_of_area_rules_by_hand():
    cii = design(locations=QINZHOU_LOCATIONS)
    assert pay(cii, 30_000, location="out_of_province_referred")[0] == pytest.approx(0.5 * 24_000)
    assert pay(cii, 30_000, location="out_of_province_unreferred")[0] == pytest.approx(0.4 * 24_000)
    assert pay(cii, 30_000, location="in_province_referred")[0] == pytest.approx(0.45 * 14_000 + 0.55 * 10_000)
    assert pay(cii, 30_000, location="in_province_unreferred")[0] == pytest.approx(0.40 * 14_000 + 0.50 * 10_000)
    assert pay(cii, 30_000, location="local")[0] == pytest.approx(13_000)


def test_flat_out_of_area_rate_uses_the_poor_deductible_but_no_points():
    """'统一支付50%' (line 1081): a uniform rate, so the poor's +10 points do not apply to it."""
    cii = design(locations=QINZHOU_LOCATIONS, poor_deductible=3000, poor_points=10)
    assert pay(cii, 30_000, poor=True, location="out_of_province_referred")[0] == pytest.approx(0.5 * 27_000)


def test_mixed_locations_weight_each_schedule_by_its_share():
    """20,000 local + 10,000 in-province referred: 2/3 × 13,000 + 1/3 × 11,800 = 12,600 (cii.py's rule)."""
    cii = design(locations=QINZHOU_LOCATIONS)
    by_location = np.zeros((1, len(LOCATIONS)))
    by_location[0, LOCATIONS.index("local")] = 20_000
    by_location[0, LOCATIONS.index("in_province_referred")] = 10_000
    assert benefit(cii, by_location, np.array([False]))[0] == pytest.approx(12_600)


def test_a_location_without_a_rule_is_paid_as_local():
    cii = design(locations={"in_province_referred": {"points": -5}})
    assert pay(cii, 30_000, location="out_of_province_unreferred")[0] == pytest.approx(13_000)


def test_without_location_rules_location_does_not_matter():
    assert pay(design(), 30_000, location="out_of_province_unreferred")[0] == pytest.approx(13_000)


# --------------------------------------------------------------------------- B/C self-pay
def test_category_b_c_self_pay_by_hand():
    """Qinzhou (line 1087): B items 15 %, C items 30 % self-paid first. With 20 % of the cost in B
    and 5 % in C, 1 − 0.2 × 0.15 − 0.05 × 0.30 = 0.955 of the accumulation enters the tiers."""
    cii = design(category_b_self_pay_percent=15, category_c_self_pay_percent=30, category_bc_base="out_of_pocket")
    factor = eligible_factor(cii, 0.20, 0.05)
    assert factor == pytest.approx(0.955)
    # 30,000 → 28,650 eligible: 50 % of 14,000 + 60 % of 8,650
    assert pay(cii, 30_000, factor=factor)[0] == pytest.approx(7_000 + 0.6 * 8_650)
    assert eligible_factor(design(), 0.20, 0.05) == 1.0


# --------------------------------------------------------------------------- invariants
@st.composite
def designs(draw):
    n = draw(st.integers(1, 5))
    gaps = draw(st.lists(st.floats(1, 100_000), min_size=n - 1, max_size=n - 1))
    edges = np.concatenate([[0.0], np.cumsum(gaps)])
    rates = draw(st.lists(st.floats(0, 100), min_size=n, max_size=n))
    kw = dict(deductible=draw(st.floats(0, 50_000)),
              tiers=[{"above": float(e), "rate_percent": r} for e, r in zip(edges, rates)],
              poor_points=draw(st.floats(0, 30)),
              poor_deductible=draw(st.none() | st.floats(0, 50_000)))
    if draw(st.booleans()):
        kw["cap"] = draw(st.floats(1, 500_000))
    if draw(st.booleans()):
        kw["locations"] = {"in_province_referred": {"points": draw(st.floats(-20, 0))},
                           "out_of_province_referred": {"flat_rate_percent": draw(st.floats(0, 100))}}
    return CII(**kw)


@settings(max_examples=100, deadline=None)
@given(cii=designs(), poor=st.booleans(),
       mix=st.lists(st.floats(0, 1), min_size=len(LOCATIONS), max_size=len(LOCATIONS)).filter(lambda m: sum(m) > 0),
       totals=st.lists(st.floats(0, 2_000_000), min_size=2, max_size=20))
def test_benefit_invariants(cii, poor, mix, totals):
    """Monotone in the accumulation (for a fixed location mix), 0 up to the deductible, never above
    the cap, never above the accumulation over the deductible, and at most 1 yuan per extra yuan."""
    x = np.sort(np.asarray(totals))
    share = np.asarray(mix) / sum(mix)
    got = benefit(cii, x[:, None] * share[None, :], np.full(x.size, poor))
    d = cii.effective_poor_deductible if poor else cii.deductible
    tol = 1e-6 * (1 + x)
    assert np.all(got >= 0)
    assert np.all(np.diff(got) >= -tol[1:])
    assert np.all(got <= cii.cap + 1e-9)
    assert np.all(got <= np.maximum(x - d, 0) + tol)
    assert np.all(got[x <= d] <= tol[x <= d])  # splitting x over locations may round it up by 1 ulp
    assert np.all(np.diff(got) <= np.diff(x) + tol[1:])
