"""Readings of the seed texts as model rules (issue "faithful to the policy texts").

* Tier edges on the excess over each person's own deductible (Qinzhou "起付标准以上(元)", 001 l.1063):
  hand-worked for poor and non-poor people, and the exact method against the engines.
* The B/C self-pay on the item cost (001 l.1087): the one per-episode rule
  (:func:`actuarial.model.cii.episode_contribution`) against its piecewise-linear form, and the exact method
  against a Monte Carlo built on that rule (the engines refuse the reading until they call it).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actuarial import simulate, validate_scenario
from actuarial.model import basic as basicmod
from actuarial.model import cii as ciimod
from actuarial.model.claims import simulate_episodes
from actuarial.exact.compound import expected_cii
from actuarial.model.population import generate_population
from actuarial.scenario import CII, LOCATIONS, Claims, ScenarioError

OLD = [0.0] * 14 + [1.0] + [0.0] * 3  # everyone aged 70-74: one utilisation band


def design(cii=None, claims=None, population=None):
    """A homogeneous, high-claim population (as tests/exact/test_compound.py), 40 % poor."""
    sc = {
        "programme": {"name": "fidelity rules"},
        "population": {"size": 60_000, "age_shares": OLD, "female_share": 0.0,
                       "poverty_rate_percent": {"merged": 40}, **(population or {})},
        "funding": {"per_capita": {"merged": 30}},
        "claims": {"streams": [{"name": "adm", "episodes_by_age": [1.2] * 7, "dispersion": 0.5,
                                "level_mix": {"secondary": 0.4, "tertiary": 0.6},
                                "severity": {"secondary": {"family": "lognormal", "mean": 7000, "cv": 1.1},
                                             "tertiary": {"family": "lognormal", "mean": 14000, "cv": 1.2}}}],
                   "category_b_percent": 0, "category_c_percent": 0, **(claims or {})},
        "basic": {"annual_cap": 1e9},
        "cii": {"deductible": 6000, "poor_deductible": 2000, "poor_points": 10, "tier_edges": "excess",
                "tiers": [{"above": 0, "rate_percent": 50}, {"above": 5_000, "rate_percent": 60},
                          {"above": 15_000, "rate_percent": 75}], **(cii or {})},
    }
    return validate_scenario(sc)


def pay(cii: CII, accumulation, poor: bool) -> float:
    by_location = np.zeros((1, len(LOCATIONS)))
    by_location[0, 0] = accumulation
    return float(ciimod.benefit(cii, by_location, np.array([poor]))[0])


# --------------------------------------------------------------------------- tier edges
QINZHOU = dict(deductible=6000, poor_deductible=3000, poor_points=10, cap=500_000,
               tiers=[{"above": 0, "rate_percent": 50}, {"above": 20_000, "rate_percent": 60},
                      {"above": 40_000, "rate_percent": 70}, {"above": 60_000, "rate_percent": 80}])


@pytest.mark.parametrize("accumulation, poor, expected", [
    (5_000, False, 0.0),
    (26_000, False, 0.5 * 20_000),                                # the first band is 6,000-26,000
    (36_000, False, 0.5 * 20_000 + 0.6 * 10_000),                 # 16,000
    (76_000, False, 0.5 * 20_000 + 0.6 * 20_000 + 0.7 * 20_000 + 0.8 * 10_000),  # 44,000
    (23_000, True, 0.6 * 20_000),                                 # poor: 3,000-23,000 at 50 + 10 points
    (33_000, True, 0.6 * 20_000 + 0.7 * 10_000),                  # 19,000
    (73_000, True, 0.6 * 20_000 + 0.7 * 20_000 + 0.8 * 20_000 + 0.9 * 10_000),  # 51,000
])
def test_edges_on_the_excess_by_hand(accumulation, poor, expected):
    """Qinzhou's table read as "起付标准以上" (l.1063): the bands follow each person's own deductible."""
    assert pay(CII(tier_edges="excess", **QINZHOU), accumulation, poor) == pytest.approx(expected, abs=1e-9)


def test_edges_on_the_accumulation_unchanged():
    cii = CII(**QINZHOU)
    assert cii.tier_edges == "accumulation"
    assert pay(cii, 30_000, False) == pytest.approx(0.5 * 14_000 + 0.6 * 10_000)   # cii.py's example


@settings(max_examples=200, deadline=None)
@given(x=st.floats(0, 1e6), poor=st.booleans())
def test_excess_edges_shift_the_schedule_by_the_deductible(x, poor):
    """Edges on the excess = edges on the accumulation moved up by the person's deductible; never less."""
    ded = 3000 if poor else 6000
    shifted = CII(**{**QINZHOU, "tiers": [{"above": t["above"] + (ded if i else 0), "rate_percent": t["rate_percent"]}
                                        for i, t in enumerate(QINZHOU["tiers"])]})
    excess = CII(tier_edges="excess", **QINZHOU)
    assert pay(excess, x, poor) == pytest.approx(pay(shifted, x, poor), abs=1e-6)
    assert pay(excess, x, poor) <= pay(CII(**QINZHOU), x, poor) + 1e-9


def test_bad_tier_edges_value_is_one_line():
    with pytest.raises(ScenarioError) as err:
        design(cii={"tier_edges": "above"})
    msg = str(err.value)
    assert "\n" not in msg and "cii.tier_edges" in msg and "'accumulation'" in msg and "'excess'" in msg
    assert "'above'" in msg


@pytest.mark.parametrize("engine", ["brute", "fast", "gpu"])
def test_exact_agrees_with_the_engines_edges_on_the_excess(engine):
    """Poor (deductible 2,000, +10 points) and non-poor people, bands on each one's excess."""
    sc = design()
    exact = expected_cii(sc, step=10.0, n_points=1 << 16)
    assert exact.truncated < 1e-5
    mc = simulate(sc, years=3, seed=11, engine=engine, progress=False)
    for groups in (None, [5], [4]):  # all; merged poor (2·2 + 1); merged not poor
        claims = mc.claims_per_capita(groups)
        assert claims.se < 0.02 * claims.value
    claims = mc.claims_per_capita()
    assert abs(claims.value - exact.claims_per_capita) < 3 * claims.se, (claims, exact)
    # teeth: the same draws on the accumulation's edges differ by far more than the SE
    other = expected_cii(sc.replace(**{"cii.tier_edges": "accumulation"}), step=10.0, n_points=1 << 16)
    assert abs(other.claims_per_capita - exact.claims_per_capita) > 6 * claims.se


# --------------------------------------------------------------------------- B/C on the item cost
def item_cost(sc):
    """``sc`` with the B/C self-pay on the item cost."""
    return sc.model_copy(update={"cii": sc.cii.model_copy(update={"category_bc_base": "item_cost"})})


BC = dict(cii={"category_b_self_pay_percent": 15, "category_c_self_pay_percent": 30},
          claims={"category_b_percent": 30, "category_c_percent": 10})


@settings(max_examples=300, deadline=None)
@given(x=st.floats(0, 5e5), s=st.floats(0.5, 1.0), d=st.floats(0, 3000), c=st.floats(0.0, 0.9),
       includes=st.booleans(), b=st.floats(0, 60), cc=st.floats(0, 40))
def test_episode_rule_is_its_piecewise_linear_form(x, s, d, c, includes, b, cc):
    """cii.episode_contribution (the engines' rule) equals the exact method's (a0, knot, a1) form."""
    cii = CII(deductible=1, tiers=[{"above": 0, "rate_percent": 50}], includes_basic_deductible=includes,
              category_b_self_pay_percent=15, category_c_self_pay_percent=30, category_bc_base="item_cost")
    claims = Claims(category_b_percent=b, category_c_percent=cc)
    k = ciimod.bc_self_pay_share(cii, claims)
    if includes and 1 - c - k < 0:
        return
    compliant = s * x
    ded_part = min(compliant, d)
    oop = compliant - c * (compliant - ded_part)
    rule = float(ciimod.episode_contribution(cii, claims, np.array([compliant]), np.array([compliant - oop]),
                                             np.array([ded_part]))[0])
    a0, knot, a1 = ciimod.episode_contribution_terms(cii, claims, s, d, c)
    form = a0 * min(x, knot) + (a1 * max(x - knot, 0.0) if np.isfinite(knot) else 0.0)
    assert rule == pytest.approx(form, rel=1e-9, abs=1e-6)
    assert rule >= 0


def test_out_of_pocket_reading_is_the_old_factor():
    assert CII(deductible=6000, tiers=[{"above": 0, "rate_percent": 50}]).category_bc_base == "item_cost"  # the seed's
    cii = CII(deductible=6000, tiers=[{"above": 0, "rate_percent": 50}], category_bc_base="out_of_pocket",
              category_b_self_pay_percent=15, category_c_self_pay_percent=30)
    claims = Claims(category_b_percent=20, category_c_percent=5)
    assert ciimod.claims_eligible_factor(cii, claims) == pytest.approx(0.955)
    assert ciimod.claims_eligible_factor(cii.model_copy(update={"category_bc_base": "item_cost"}), claims) == 1.0


def _mini_monte_carlo(sc, years: int, seed: int) -> tuple[float, float]:
    """Claims per capita (and SE over years) from the claims and basic modules and cii.episode_contribution:
    what an engine computes once it calls the shared rule (no basic annual cap: it is 1e9 here)."""
    people = generate_population(sc, seed=seed)
    n = len(people.age)
    inpatient = np.array([s.setting == "inpatient" for s in sc.claims.streams])
    per_year = []
    for year in range(years):
        ep = simulate_episodes(sc, people, seed, year, 0)
        paid, ded_part = basicmod.episode_payments(sc.basic, ep.compliant, ep.level, inpatient[ep.stream])
        toward = ciimod.episode_contribution(sc.cii, sc.claims, ep.compliant, paid, ded_part)
        acc = np.zeros((n, len(LOCATIONS)))
        acc[:, 0] = np.bincount(ep.person, weights=toward, minlength=n)
        factor = ciimod.claims_eligible_factor(sc.cii, sc.claims)
        per_year.append(ciimod.benefit(sc.cii, acc, people.poor, factor).sum() / n)
    per_year = np.array(per_year)
    return float(per_year.mean()), float(per_year.std(ddof=1) / np.sqrt(years))


def test_exact_agrees_with_the_per_episode_rule_on_item_cost():
    """B/C on the item cost, edges on the excess, poor and non-poor: exact vs a Monte Carlo on the rule."""
    sc = item_cost(design(**BC))
    exact = expected_cii(sc, step=10.0, n_points=1 << 16).claims_per_capita
    value, se = _mini_monte_carlo(sc, years=6, seed=3)
    assert se < 0.02 * value
    assert abs(value - exact) < 3.5 * se, (value, se, exact)
    # the reading matters: on the out-of-pocket the claims are clearly higher
    old = expected_cii(design(**BC).replace(**{"cii.category_bc_base": "out_of_pocket"}), step=10.0,
                       n_points=1 << 16).claims_per_capita
    assert old - exact > 6 * se


@pytest.mark.parametrize("engine", ["brute", "fast", "gpu"])
def test_engines_apply_the_item_cost_rule(engine):
    """Every engine builds its accumulation from cii.episode_contribution: B/C on the item cost agrees
    with the exact method, and clearly differs from the out-of-pocket reading on the same draws."""
    sc = item_cost(design(**BC)).replace(**{"population.size": 30_000})
    exact = expected_cii(sc, step=10.0, n_points=1 << 16).claims_per_capita
    res = simulate(sc, years=4, seed=5, progress=False, engine=engine)
    claims = res.claims_per_capita()
    assert abs(claims.value - exact) < 3 * claims.se, (claims, exact)
    old = expected_cii(sc.replace(**{"cii.category_bc_base": "out_of_pocket"}), step=10.0, n_points=1 << 16)
    assert old.claims_per_capita - exact > 6 * claims.se


def test_bad_bc_base_value_is_one_line():
    with pytest.raises(ScenarioError) as err:
        design(cii={"category_bc_base": "cost"})
    msg = str(err.value)
    assert "\n" not in msg and "cii.category_bc_base" in msg and "'item_cost'" in msg and "'out_of_pocket'" in msg


def test_benefit_bands_follow_the_excess():
    """plots.benefit_by_band_table puts a person-year in the band whose rate the benefit pays, with the
    bands on each person's excess over their own deductible (poor and non-poor)."""
    from actuarial.results import plots

    sc = design(population={"size": 20_000})
    r = simulate(sc, years=2, seed=3, progress=False)
    t = plots.benefit_by_band_table(r)
    rows = r.accumulations.rows
    x = rows.by_location.sum(axis=1)
    ded = np.where(rows.poor, sc.cii.effective_poor_deductible, sc.cii.deductible)
    slope = ciimod.benefit(sc.cii, rows.by_location + np.eye(len(LOCATIONS))[0], rows.poor) - r.benefit
    edges = [tier.above for tier in sc.cii.tiers] + [np.inf]
    for j in range(1, len(edges)):
        inside = (x - ded >= edges[j - 1]) & (x - ded < edges[j])
        assert t["person_years"][j] * r.years == inside.sum()
        rate = sc.cii.tiers[j - 1].rate + np.where(rows.poor, sc.cii.poor_points / 100, 0.0)
        strict = inside & (x + 1 - ded < edges[j])
        assert np.allclose(slope[strict], rate[strict])
    assert t["band"][2] == "deductible+5k–deductible+15k"


def test_policy_accumulation_leaves_out_care_the_policy_does_not_pay():
    """Shanghai pays nothing outside its designated providers (l.551): that care is outside the policy
    payment ratio's denominator; reduced rates (Qinzhou's −10 points) stay inside."""
    acc = np.array([[1000.0, 200.0, 300.0, 400.0, 500.0]])
    none = CII(deductible=0, tiers=[{"above": 0, "rate_percent": 55}],
               locations={k: {"flat_rate_percent": 0} for k in LOCATIONS[1:]})
    assert ciimod.policy_accumulation(none, acc).tolist() == [1000.0]
    lower = CII(deductible=0, tiers=[{"above": 0, "rate_percent": 55}], locations={"in_province_unreferred": {"points": -10}})
    assert ciimod.policy_accumulation(lower, acc).tolist() == [2400.0]
    assert float(ciimod.benefit(none, acc, np.array([False]))[0]) == pytest.approx(550.0)


# --------------------------------------------------------------------------- treatment-level scope
def test_treatment_split_thins_a_default_stream():
    """Daqing l.811 covers cancer radio/chemotherapy only: 60 % (an assumption) of the default cancer
    stream's admissions become a `cancer_radio_chemo` stream; the rest stay `cancer`; nothing else moves."""
    from actuarial.scenario import default_streams

    plain = {s.name: s for s in default_streams()}
    c = Claims(treatment_split={"cancer": {"cancer_radio_chemo": 0.6}})
    got = {s.name: s for s in c.streams}
    assert set(got) == set(plain) | {"cancer_radio_chemo"}
    assert got["cancer_radio_chemo"].disease == "cancer_radio_chemo"
    np.testing.assert_allclose(got["cancer_radio_chemo"].episodes_by_age, 0.6 * np.array(plain["cancer"].episodes_by_age))
    np.testing.assert_allclose(got["cancer"].episodes_by_age, 0.4 * np.array(plain["cancer"].episodes_by_age))
    assert got["cancer"].prevalence == got["cancer_radio_chemo"].prevalence == plain["cancer"].prevalence
    assert got["admissions"] == plain["admissions"]
    # a dumped scenario lists the split streams and validates to the same claims
    assert Claims.model_validate(c.model_dump()) == c


@pytest.mark.parametrize("split,expected", [
    ({"cancer": {"cancer_radio_chemo": 1.5}}, "claims.treatment_split.cancer.cancer_radio_chemo: must be a share > 0 and <= 1"),
    ({"cancer": {"chemo": 0.5}}, "claims.treatment_split.cancer.chemo: unknown group"),
    ({"tumour": {"cancer_radio_chemo": 0.5}}, "claims.treatment_split: no stream named ['tumour']"),
    ({"cancer": {"cancer_radio_chemo": 0.7, "cancer_other_listed": 0.6}}, "shares add up to more than 1"),
])
def test_bad_treatment_split_is_one_line(split, expected):
    from actuarial import load_scenario

    data = load_scenario("scenarios/default_county.toml").model_dump(mode="python")
    data["claims"]["treatment_split"] = split
    with pytest.raises(ScenarioError) as err:
        validate_scenario(data, source="county.toml")
    msg = str(err.value)
    assert msg.startswith("county.toml: ") and expected in msg and "\n" not in msg
