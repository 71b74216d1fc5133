"""Settlement: hand-worked cases, money conservation as a property, clear errors for bad terms.

The hand-worked cases use a premium of 1,000,000 yuan so every figure can be checked on paper.
"""

import numpy as np
import pytest

from actuarial.errors import ConservationError
from hypothesis import given, settings
from hypothesis import strategies as st

from actuarial.scenario import Band, Contract, ScenarioError, load_scenario, validate_scenario
from actuarial.contract.settlement import CENT, corridor_split, mean_estimate, settle

P = 1_000_000.0


def one(contract, claims, extra=0.0, score=None):
    s = settle(contract, P, claims, extra, score)
    assert abs(s.conservation_residual()[0]) < CENT
    return {k: float(v[0]) for k, v in s.frame().iloc[:, 1:].items()}


def test_surplus_below_fee_cap_all_kept():
    # U = 30,000 < 5 % × P = 50,000: the insurer keeps it all.
    r = one(Contract(combined_fee_rate_percent=5), 970_000)
    assert r["insurer_result"] == pytest.approx(30_000) and r["returned_surplus"] == 0


def test_surplus_above_fee_cap_returned():
    # U = 100,000: insurer keeps 50,000 (5 %), 50,000 returns to the fund.
    r = one(Contract(combined_fee_rate_percent=5), 900_000)
    assert r["insurer_result"] == pytest.approx(50_000) and r["returned_surplus"] == pytest.approx(50_000)
    assert r["fund_outlay"] == pytest.approx(950_000)


def test_daqing_surplus_cap_4_percent():
    # Fee 5 % but surplus capped at 4 %: keeps 40,000 of 100,000, returns 60,000.
    r = one(Contract(combined_fee_rate_percent=5, surplus_cap_percent=4), 900_000)
    assert r["insurer_result"] == pytest.approx(40_000) and r["returned_surplus"] == pytest.approx(60_000)


def test_non_policy_loss_borne_by_insurer():
    r = one(Contract(), 1_100_000)
    assert r["insurer_result"] == pytest.approx(-100_000) and r["fund_loss_share"] == 0
    assert r["fund_outlay"] == pytest.approx(P)


def test_policy_loss_shared_by_ratio():
    # Loss 100,000 of which 60,000 policy: fund 50 % × 60,000 = 30,000; insurer 30,000 + 40,000.
    r = one(Contract(policy_loss_fund_share_percent=50), 1_100_000, extra=60_000)
    assert r["policy_loss"] == pytest.approx(60_000) and r["non_policy_loss"] == pytest.approx(40_000)
    assert r["fund_loss_share"] == pytest.approx(30_000) and r["insurer_result"] == pytest.approx(-70_000)


def test_policy_loss_capped_at_actual_loss():
    # Extra claims 150,000 but the loss is only 100,000: all of it is policy loss.
    r = one(Contract(policy_loss_fund_share_percent=50), 1_100_000, extra=150_000)
    assert r["policy_loss"] == pytest.approx(100_000) and r["fund_loss_share"] == pytest.approx(50_000)
    # A surplus year has no policy loss even with extra claims.
    r = one(Contract(), 950_000, extra=30_000)
    assert r["policy_loss"] == 0 and r["insurer_result"] == pytest.approx(50_000)


@pytest.mark.parametrize("cap, fund", [({"policy_loss_fund_cap_percent": 2}, 20_000),
                                       ({"policy_loss_fund_cap_yuan": 10_000}, 10_000),
                                       ({"policy_loss_fund_cap_yuan": 10_000, "policy_loss_fund_cap_percent": 0.5}, 5_000)])
def test_fund_share_caps(cap, fund):
    # Policy loss 100,000, 50 % = 50,000 before the cap.
    r = one(Contract(policy_loss_fund_share_percent=50, **cap), 1_100_000, extra=100_000)
    assert r["fund_loss_share"] == pytest.approx(fund) and r["insurer_result"] == pytest.approx(-(100_000 - fund))


TIERED = [Band(above_percent=0, insurer_share_percent=100), Band(above_percent=3, insurer_share_percent=50),
          Band(above_percent=8, insurer_share_percent=0)]


def test_tiered_surplus_corridor():
    # U = 100,000 = 10 %: 0-3 % all kept (30,000); 3-8 % half (25,000 of 50,000); above 8 % returned (20,000).
    r = one(Contract(surplus_bands=TIERED), 900_000)
    assert r["insurer_result"] == pytest.approx(55_000) and r["returned_surplus"] == pytest.approx(45_000)


def test_symmetric_corridor_shares_non_policy_loss():
    # Non-policy loss 100,000 through the same bands: insurer bears 30,000 + 25,000, fund 25,000 + 20,000.
    r = one(Contract(surplus_bands=TIERED, loss_bands=TIERED), 1_100_000)
    assert r["insurer_result"] == pytest.approx(-55_000) and r["fund_loss_share"] == pytest.approx(45_000)


def test_asymmetric_corridor():
    # Loss bands: insurer bears all to 5 %, 80 % above. Loss 100,000 → insurer 50,000 + 40,000.
    loss = [Band(above_percent=0, insurer_share_percent=100), Band(above_percent=5, insurer_share_percent=80)]
    r = one(Contract(surplus_cap_percent=3, loss_bands=loss), 1_100_000)
    assert r["insurer_result"] == pytest.approx(-90_000) and r["fund_loss_share"] == pytest.approx(10_000)


def test_performance_bond_partly_released():
    # 10 % bond = 100,000; score 85 releases 60 %; 40,000 forfeited to the fund.
    c = Contract(bond={"withheld_percent": 10, "release": [{"score": 60, "release_percent": 30},
                                                           {"score": 80, "release_percent": 60},
                                                           {"score": 90, "release_percent": 100}]},
                 payment_schedule=[{"due": "03-31", "percent": 50}, {"due": "08-31", "percent": 40},
                                   {"due": "11-30", "percent": 10, "bond": True}])
    r = one(c, 900_000, score=85)
    assert r["bond_withheld"] == pytest.approx(100_000) and r["bond_released"] == pytest.approx(60_000)
    assert r["bond_forfeited"] == pytest.approx(40_000)
    assert r["insurer_result"] == pytest.approx(10_000)      # 50,000 kept surplus − 40,000 forfeited
    assert r["returned_to_fund"] == pytest.approx(90_000)    # 50,000 surplus + 40,000 bond
    assert one(c, 900_000, score=50)["bond_forfeited"] == pytest.approx(100_000)
    assert one(c, 900_000)["bond_forfeited"] == 0             # assumed score 100


def test_corridor_split_slices():
    ins, fund = corridor_split(np.array([0.0, 20.0, 50.0]), np.array([100.0] * 3), [0, 0.03, 0.08], [1, 0.5, 0])
    np.testing.assert_allclose(ins, [0, 3 + 2.5, 3 + 2.5])
    np.testing.assert_allclose(fund, [0, 2.5 + 12, 2.5 + 42])


def test_summary_reports_margin_distribution():
    rng = np.random.default_rng(1)
    prem = np.full(500, P)
    s = settle(Contract(), prem, rng.normal(0.95, 0.05, 500) * P)
    t = s.summary().set_index("metric")
    assert {"mean", "se", "q05", "q50", "q95"} <= set(t.columns)
    m = t.loc["insurer_margin"]
    assert m.q05 < 0 < m.q50 <= m.q95 <= 0.05 + 1e-12  # the margin never exceeds the 5 % cap
    assert 0 < t.loc["prob_insurer_loss", "mean"] < 1
    assert "insurer_margin" in s._repr_html_() and set(s.to_dict()["fund_outlay"]) == {"estimate", "se", "ci95"}


# ------------------------------------------------------------------ conservation property
bands = st.lists(st.tuples(st.floats(0.1, 30), st.floats(0, 100)), min_size=0, max_size=3).map(
    lambda xs: [Band(above_percent=0, insurer_share_percent=xs[0][1] if xs else 100)]
    + [Band(above_percent=sum(x[0] for x in xs[: i + 1]), insurer_share_percent=x[1]) for i, x in enumerate(xs)])


@st.composite
def contracts(draw):
    kw = {"combined_fee_rate_percent": draw(st.floats(0, 5)),
          "policy_loss_fund_share_percent": draw(st.floats(0, 100))}
    mode = draw(st.sampled_from(["fee", "cap", "bands"]))
    if mode == "cap":
        kw["surplus_cap_percent"] = draw(st.floats(0, 20))
    elif mode == "bands":
        kw["surplus_bands"] = draw(bands)
    if draw(st.booleans()):
        kw["loss_bands"] = draw(bands)
    if draw(st.booleans()):
        kw["policy_loss_fund_cap_yuan"] = draw(st.floats(0, 1e9))
    if draw(st.booleans()):
        kw["policy_loss_fund_cap_percent"] = draw(st.floats(0, 100))
    if draw(st.booleans()):
        w = draw(st.floats(0.5, 20))
        kw["bond"] = {"withheld_percent": w, "release": [{"score": 60, "release_percent": 50},
                                                         {"score": 90, "release_percent": 100}]}
        kw["payment_schedule"] = [{"due": "03-31", "percent": 100 - w}, {"due": "11-30", "percent": w, "bond": True}]
    return Contract(**kw)


@settings(max_examples=200, deadline=None)
@given(contracts(), st.lists(st.tuples(st.floats(1e3, 5e9), st.floats(0, 3), st.floats(0, 2),
                                                              st.floats(0, 100)), min_size=1, max_size=20))
def test_money_conserved_to_the_cent(contract, outcomes):
    prem, ratio, extra, score = (np.array(x) for x in zip(*outcomes))
    s = settle(contract, prem, prem * ratio, prem * extra, score)
    assert np.all(np.abs(s.conservation_residual()) < CENT)
    loss = np.maximum(s.claims - s.premium, 0)
    surplus = np.maximum(s.premium - s.claims, 0)
    tol = 1e-6 * s.premium
    assert np.all(s.returned_surplus >= -tol) and np.all(s.returned_surplus <= surplus + tol)
    assert np.all(s.fund_loss_share >= -tol) and np.all(s.fund_loss_share <= loss + tol)
    assert np.all(s.bond_released + s.bond_forfeited == pytest.approx(s.bond_withheld))


# ------------------------------------------------------------------ bad terms
@pytest.fixture(scope="module")
def base():
    return load_scenario("scenarios/provincial_guideline.toml").model_dump(mode="python")


@pytest.mark.parametrize("contract, field, words", [
    ({"combined_fee_rate_percent": 6}, "contract.combined_fee_rate_percent", "may not exceed 5 %"),
    ({"surplus_bands": [{"above_percent": 0, "insurer_share_percent": 100},
                        {"above_percent": 0, "insurer_share_percent": 0}]}, "contract.surplus_bands", "increase"),
    ({"loss_bands": [{"above_percent": 2, "insurer_share_percent": 100}]}, "contract.loss_bands", "start at"),
    ({"loss_bands": [{"above_percent": 0, "insurer_share_percent": 120}]}, "contract.loss_bands.0.insurer_share_percent", "must be >= 0 and <= 100"),
    ({"surplus_cap_percent": 4, "surplus_bands": [{"above_percent": 0, "insurer_share_percent": 100}]},
     "contract", "not both"),
    ({"policy_loss_fund_share_percent": -1}, "contract.policy_loss_fund_share_percent", "must be >= 0 and <= 100"),
    ({"payment_schedule": [{"due": "03-31", "percent": 50}]}, "contract", "sum to 100"),
    ({"payment_schedule": [{"due": "03-31", "percent": 90}, {"due": "11-30", "percent": 10, "bond": True}]},
     "contract", "no [contract.bond]"),
    ({"payment_schedule": [{"due": "13-31", "percent": 100}]}, "contract.payment_schedule.0.due", "pattern"),
    ({"policy_changes": [{"from_year": 2, "changes": {"funding.per_capita.urban": 40}}]},
     "contract.policy_changes.0.changes", "cii."),
    ({"policy_changes": [{"from_year": 4, "changes": {"cii.deductible": 4000}}]}, "contract", "outside the 3-year"),
    ({"bond": {"withheld_percent": 10, "release": [{"score": 90, "release_percent": 100},
                                                  {"score": 80, "release_percent": 60}]}},
     "contract.bond.release", "increase"),
])
def test_bad_terms_clear_errors(base, contract, field, words):
    with pytest.raises(ScenarioError) as err:
        validate_scenario({**base, "contract": contract}, source="bids/x.toml")
    msg = str(err.value)
    assert f"bids/x.toml: {field}" in msg and words in msg, msg


def test_settle_rejects_bad_outcomes():
    with pytest.raises(ValueError, match="premium"):
        settle(Contract(), 0.0, 1.0)
    with pytest.raises(ValueError, match="policy_extra_claims"):
        settle(Contract(), 1.0, 1.0, -1.0)


def test_conservation_check_catches_a_cent():
    import dataclasses

    s = settle(Contract(), np.array([P, P]), np.array([900_000.0, 1_100_000.0]))
    s.check_conservation()
    bad = dataclasses.replace(s, insurer_result=s.insurer_result + np.array([0.0, 0.01]))
    with pytest.raises(ConservationError, match="not conserved"):
        bad.check_conservation()


def test_monte_carlo_means_match_closed_forms():
    # Claims normal with mean 0.9 P and sd 0.1 P, so U = P − C ~ N(0.1 P, 0.1 P); fee cap c = 5 % of P.
    # E[returned] = E[(U − c)+] and E[loss] = E[(−U)+] have the normal closed form
    # E[(X − k)+] = (μ − k) Φ((μ − k)/σ) + σ φ((μ − k)/σ).
    from scipy.stats import norm

    def stop_loss(mu, sigma, k):
        z = (mu - k) / sigma
        return (mu - k) * norm.cdf(z) + sigma * norm.pdf(z)

    n, mu, sigma, c = 200_000, 0.1 * P, 0.1 * P, 0.05 * P
    claims = np.random.default_rng(20240101).normal(P - mu, sigma, n).clip(0)
    s = settle(Contract(combined_fee_rate_percent=5), np.full(n, P), claims)
    returned_, loss_ = stop_loss(mu, sigma, c), stop_loss(-mu, sigma, 0)
    kept_ = mu + loss_ - returned_  # E[min(U+, c)] = E[U+] − E[(U − c)+], and E[U+] = μ + E[(−U)+]
    for got, want in ((s.returned_surplus, returned_), (s.insurer_other_loss, loss_), (s.kept_surplus, kept_)):
        est = mean_estimate(got)
        assert abs(est.value - want) < 4 * est.se, (est, want)
