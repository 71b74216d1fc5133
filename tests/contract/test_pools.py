"""One contract, several pooling units settled separately (Daqing's three NCMS units, 001 l.887-889)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actuarial import load_scenario
from actuarial.contract.pools import pool_scenarios, pool_seed, pool_sizes, settle_pools, settle_scenario
from actuarial.scenario import Contract, ScenarioError
from actuarial.contract.settlement import CENT, settle

money = st.floats(1.0, 1e7, allow_nan=False, allow_infinity=False)


@settings(max_examples=150, deadline=None)
@given(pools=st.lists(st.tuples(money, st.floats(0.0, 3.0), st.floats(0.0, 1.0)), min_size=1, max_size=5),
       fee=st.floats(0, 5), cap=st.floats(0, 5), fund_share=st.floats(0, 100), bond=st.booleans())
def test_money_is_conserved_in_every_pool_and_in_total(pools, fee, cap, fund_share, bond):
    """Property: for any pools and terms, each pool and the sum conserve money to the cent, and the
    total of every term is the sum over the pools."""
    extra = {}
    if bond:
        extra = {"bond": {"withheld_percent": 10}, "payment_schedule": [
            {"due": "03-31", "percent": 90}, {"due": "11-30", "percent": 10, "bond": True}]}
    c = Contract(combined_fee_rate_percent=fee, surplus_cap_percent=cap, policy_loss_fund_share_percent=fund_share,
                 **extra)
    premiums = [np.array([p, 2 * p]) for p, _, _ in pools]
    claims = [np.array([p * lr, 2 * p * lr]) for p, lr, _ in pools]
    policy = [np.array([p * e, 0.0]) for p, _, e in pools]
    s = settle_pools(c, premiums, claims, policy_extra_claims=policy)
    for one in (*s.pools, s.total):
        assert np.max(np.abs(one.conservation_residual())) <= CENT
    assert np.allclose(s.total.insurer_result, sum(p.insurer_result for p in s.pools))
    assert np.allclose(s.total.premium, sum(premiums))
    if len(pools) == 1:
        alone = settle(c, premiums[0], claims[0], policy[0])
        assert np.allclose(s.total.insurer_result, alone.insurer_result)


def test_separate_pools_do_not_net_surplus_against_loss():
    """Hand-worked: keep 4 % of a 100-yuan pool's surplus of 10, bear a 10-yuan loss in the other."""
    c = Contract(combined_fee_rate_percent=4, surplus_cap_percent=4)
    s = settle_pools(c, [np.array([100.0]), np.array([100.0])], [np.array([90.0]), np.array([110.0])], ["a", "b"])
    assert s.total.insurer_result.tolist() == [-6.0] and s.total.returned_surplus.tolist() == [6.0]
    assert settle(c, 200.0, 200.0).insurer_result.tolist() == [0.0]
    assert set(s.frame()["pool"]) == {"a", "b", "total"}


def test_pool_sizes_sum():
    assert pool_sizes(1_300_000, [0.42, 0.50, 0.08]) == [546_000, 650_000, 104_000]
    assert sum(pool_sizes(1001, [1, 1, 1])) == 1001


def test_daqing_ncms_is_three_pools():
    sc = load_scenario("scenarios/daqing_2015_ncms.toml")
    assert sc.contract.pools == "by_region"
    pools = pool_scenarios(sc)
    assert len(pools) == 3
    assert sum(p.population.size for _, p in pools) == sc.population.size
    assert all(len(p.population.regions) == 1 and p.contract.pools == "one" for _, p in pools)
    assert len({pool_seed(1, n) for n, _ in pools}) == 3
    assert pool_scenarios(load_scenario("scenarios/daqing_2015_urban.toml"))[0][1].contract.pools == "one"


def test_settle_scenario_reproducible_and_conserved():
    sc = load_scenario("scenarios/daqing_2015_ncms.toml").replace(**{"population.size": 40_000})
    a = settle_scenario(sc, years=3, seed=4, engine="fast", progress=False)
    b = settle_scenario(sc, years=3, seed=4, engine="fast", progress=False)
    assert np.array_equal(a.total.insurer_result, b.total.insurer_result)
    a.check_conservation()
    assert a.total.premium.tolist() == [20.0 * 40_000] * 3


def test_bad_pools_value_is_one_line():
    sc = load_scenario("scenarios/daqing_2015_ncms.toml")
    with pytest.raises(ScenarioError) as err:
        sc.replace(**{"contract.pools": "per_county"})
    msg = str(err.value)
    assert "\n" not in msg and "contract.pools" in msg and "'one'" in msg and "'by_region'" in msg
