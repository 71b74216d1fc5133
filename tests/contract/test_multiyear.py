"""Multi-year contracts: same draws as single-year runs, policy loss from common random numbers,
repricing by the stated rule, cumulative figures, payment schedule, conservation every year."""

import json

import numpy as np
import pytest

from actuarial import evaluate, load_scenario
from actuarial.contract.multiyear import reprice, run_contract
from actuarial.engines.engine import accumulate
from actuarial.scenario import Contract, ScenarioError

SIZE, PATHS, SEED = 20_000, 6, 3
RAISE = {"from_year": 2, "description": "deductible lowered to 6,000", "changes": {"cii.deductible": 6000}}
DAQING_TERMS = {
    "bond": {"withheld_percent": 10, "release": [{"score": 80, "release_percent": 50}, {"score": 90, "release_percent": 100}],
             "assumed_score": 85},
    "payment_schedule": [{"due": "03-31", "percent": 50}, {"due": "08-31", "percent": 40},
                         {"due": "11-30", "percent": 10, "bond": True}],
}


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("scenarios/provincial_guideline.toml").replace(**{"population.size": SIZE})


@pytest.fixture(scope="module")
def changed(scenario):
    sc = scenario.replace(**{"contract.policy_changes": [RAISE], "contract.repricing": {"credibility_percent": 60},
                             **{f"contract.{k}": v for k, v in DAQING_TERMS.items()}})
    return run_contract(sc, PATHS, SEED)


def test_years_use_the_engine_draws_of_each_contract_year(scenario):
    res = run_contract(scenario, PATHS, SEED)
    for cy in res.years:
        direct = evaluate(accumulate(scenario, PATHS, SEED, contract_year=cy.year - 1))
        np.testing.assert_allclose(cy.settlement.claims, direct.yearly("claims"))
        np.testing.assert_allclose(cy.settlement.premium, direct.yearly("premium"))
    assert np.all(res.per_path()["policy_loss"] == 0)
    # Cost trend 8 %: later contract years cost more on average.
    claims = res.per_path()["claims"].mean(axis=1)
    assert claims[2] > claims[0]


def test_policy_loss_is_extra_claims_capped_at_loss(scenario, changed):
    assert np.all(changed.years[0].settlement.policy_loss == 0)
    for cy in changed.years[1:]:
        acc = accumulate(scenario, PATHS, SEED, floor=6000, contract_year=cy.year - 1)
        new = evaluate(acc, scenario.cii.model_copy(update={"deductible": 6000.0})).yearly("claims")
        old = evaluate(acc, scenario.cii).yearly("claims")
        s = cy.settlement
        loss = np.maximum(s.claims - s.premium, 0)
        np.testing.assert_allclose(s.claims, new)
        np.testing.assert_allclose(s.policy_loss, np.minimum(new - old, loss))
        assert np.all(new > old)


def test_repricing_follows_the_rule(changed):
    y1, y2, y3 = changed.years
    contract = changed.scenario.contract
    np.testing.assert_allclose(y2.price_factor, reprice(contract, np.ones(PATHS), y1.settlement.claims, y1.settlement.premium))
    cum_c = y1.settlement.claims + y2.settlement.claims
    cum_p = y1.settlement.premium + y2.settlement.premium
    np.testing.assert_allclose(y3.price_factor, reprice(contract, y2.price_factor, cum_c, cum_p))
    step = y3.price_factor / y2.price_factor
    assert np.all((step >= 0.9 - 1e-12) & (step <= 1.1 + 1e-12))
    np.testing.assert_allclose(y2.settlement.premium, y1.settlement.premium * y2.price_factor)


def test_reprice_hand_worked():
    c = Contract(combined_fee_rate_percent=4, repricing={"credibility_percent": 50, "max_decrease_percent": 5})
    # target 96 %: LR 0.96 → no change; LR 0.72 → 50 % × (0.75 − 1) = −12.5 %, bounded at −5 %; LR 1.008 → +2.5 %.
    got = reprice(c, np.array([1.0, 1.0, 2.0]), np.array([96.0, 72.0, 100.8]), np.array([100.0, 100.0, 100.0]))
    np.testing.assert_allclose(got, [1.0, 0.95, 2.05])
    assert reprice(Contract(), np.array([1.3]), np.array([5.0]), np.array([1.0]))[0] == 1.3  # no repricing rule


def test_conservation_and_cumulative(changed):
    for cy in changed.years:
        assert np.all(np.abs(cy.settlement.conservation_residual()) < 0.005)
    d = changed.per_path()
    np.testing.assert_allclose(d["cumulative_fund_outlay"][-1], d["fund_outlay"].sum(axis=0))
    np.testing.assert_allclose(d["cumulative_insurer_result"][1], d["insurer_result"][:2].sum(axis=0))


def test_payment_schedule_daqing(changed):
    sched = changed.payment_schedule()
    y1 = sched[sched.contract_year == 1].set_index("due")
    s = changed.years[0].settlement
    p = s.premium.mean()
    assert y1.loc["03-31", "amount"] == pytest.approx(0.5 * p)
    assert y1.loc["08-31", "amount"] == pytest.approx(0.4 * p)
    assert y1.loc["11-30", "amount"] == pytest.approx(0.1 * p * 0.5)  # score 85 releases half of the bond
    paid = sched[(sched.contract_year == 1) & (sched.due != "settlement")].amount.sum()
    assert paid == pytest.approx(p - s.bond_forfeited.mean())


def test_summary_fan_dict_html(changed):
    t = changed.summary()
    assert set(t.contract_year) == {1, 2, 3}
    assert {"metric", "mean", "se", "q05", "q95"} <= set(t.columns)
    row = t[(t.contract_year == 2) & (t.metric == "fund_outlay")].iloc[0]
    assert row.se > 0 and row.q05 <= row["mean"] <= row.q95
    fan = changed.fan_data()
    qs = fan[["q05", "q25", "q50", "q75", "q95"]].to_numpy()
    assert np.all(np.diff(qs, axis=1) >= 0) and len(fan) == 5 * 3
    d = json.loads(json.dumps(changed.to_dict()))
    assert d["policy_changes"]["2"] == {"cii.deductible": 6000}
    assert set(d["by_year"]["3"]["fund_outlay"]) == {"estimate", "se", "ci95"}
    assert "3-year contract" in changed._repr_html_()
    assert changed.plot() is not None
    with pytest.raises(ValueError, match="unknown metric"):
        changed.fan_data(("nope",))


def test_bad_policy_change_path_is_clear(scenario):
    sc = scenario.replace(**{"contract.policy_changes": [{"from_year": 2, "changes": {"cii.deductable": 6000}}]})
    with pytest.raises(ScenarioError, match=r"contract.policy_changes \(contract year 2\).*deductable"):
        run_contract(sc, 2, 0)


def test_tiers_raised_ten_points_create_policy_loss(scenario):
    raise_tiers = {f"cii.tiers.{i}.rate_percent": t.rate_percent + 10 for i, t in enumerate(scenario.cii.tiers)}
    sc = scenario.replace(**{"contract.years": 2, "contract.policy_changes": [
        {"from_year": 2, "description": "every tier +10 points", "changes": raise_tiers}]})
    res = run_contract(sc, PATHS, SEED)
    y2 = res.years[1]
    assert [t.rate_percent for t in y2.result.cii.tiers] == [60, 70, 80, 85]
    extra = y2.result.yearly("claims") - y2.result.with_design(scenario.cii).yearly("claims")
    s = y2.settlement
    np.testing.assert_allclose(s.policy_loss, np.minimum(extra, np.maximum(s.claims - s.premium, 0)))
    assert s.policy_loss.max() > 0


def test_policy_change_to_scope_is_simulated_not_ignored():
    """Widening the disease scope mid-contract changes which episodes count: the year is simulated with the
    new scope (same draws), and the extra claims are the policy loss."""
    from actuarial import accumulate, evaluate, load_scenario
    from actuarial.contract.multiyear import run_contract

    sc = load_scenario("scenarios/daqing_2015_ncms.toml").replace(**{"population.size": 30_000})
    wider = list(sc.cii.scope) + ["general"]  # general admissions reach the deductible in any year; mental illness may not
    changed = sc.replace(**{"contract.policy_changes": [{"from_year": 2, "changes": {"cii.scope": wider}}],
                            "contract.repricing": None})
    res = run_contract(changed, years=3, seed=1)
    year2 = res.years[1]
    direct = evaluate(accumulate(sc.replace(**{"cii.scope": wider}), 3, 1, contract_year=1, progress=False))
    base = evaluate(accumulate(sc, 3, 1, contract_year=1, progress=False))
    assert np.allclose(year2.result.yearly("claims"), direct.yearly("claims"))
    extra = direct.yearly("claims") - base.yearly("claims")
    assert np.all(extra > 0)
    loss = np.maximum(year2.settlement.claims - year2.settlement.premium, 0)
    assert np.allclose(year2.settlement.policy_loss, np.minimum(extra, loss))


def test_fast_engine_refuses_unpaired_policy_loss():
    from actuarial import load_scenario
    from actuarial.contract.multiyear import run_contract

    sc = load_scenario("scenarios/daqing_2015_ncms.toml").replace(**{"population.size": 20_000})
    changed = sc.replace(**{"contract.policy_changes": [
        {"from_year": 2, "changes": {"cii.scope": list(sc.cii.scope) + ["mental_illness"]}}]})
    with pytest.raises(ValueError, match="fast engine's draws depend on"):
        run_contract(changed, years=2, seed=1, engine="fast")
