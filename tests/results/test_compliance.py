"""Legal floors and ceilings (actuarial.results.compliance): each check passes and fails where the texts say."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from actuarial import load_scenario, simulate
from actuarial.cli import main
from actuarial.contract.bids import compare_bids, load_bid
from actuarial.results.compliance import (COLUMNS, compliance, describe_failures,
                                                 premium_share_of_basic_funding, surplus_kept_cap)
from actuarial.scenario import Contract

SMALL = {"population.size": 20_000}
BIDS = Path("scenarios/bids/provincial")


@pytest.fixture(scope="module")
def provincial_result():
    sc = load_scenario("scenarios/provincial_guideline.toml").replace(**SMALL)
    return sc, simulate(sc, years=2, seed=5, engine="fast", progress=False)


def by_check(table):
    return table.set_index("check")


def test_columns_and_the_guideline_passes(provincial_result):
    sc, res = provincial_result
    table = compliance(sc, res)
    assert list(table.columns) == COLUMNS
    t = by_check(table)
    assert t.loc["policy_payment_ratio", "limit"] == 0.5 and t.loc["policy_payment_ratio", "passed"]
    assert t.loc["combined_fee_rate", "value"] == 0.05 and t.loc["combined_fee_rate", "passed"]
    assert t.loc["contract_years", "passed"]
    # per-capita funding: the share of basic funding cannot be checked, and says so
    assert math.isnan(t.loc["premium_share_of_basic_funding", "value"])
    assert t["passed"].isna().sum() == 1
    assert describe_failures(table) == ""
    assert all("shared/seeds/001 l." in s for s in table["source"])


def test_payment_ratio_floor_fails_below_fifty(provincial_result):
    sc, res = provincial_result
    low = res.with_design(sc.cii.model_copy(update={"tiers": (sc.cii.tiers[0].model_copy(update={"rate_percent": 40}),)}))
    t = by_check(compliance(sc, low))
    assert t.loc["policy_payment_ratio", "value"] == pytest.approx(0.40, abs=1e-9)   # one flat tier, no cap binding
    assert not t.loc["policy_payment_ratio", "passed"]
    assert "policy_payment_ratio" in describe_failures(compliance(sc, low))


def test_surplus_kept_by_hand():
    assert surplus_kept_cap(Contract(combined_fee_rate_percent=4, surplus_cap_percent=4)) == pytest.approx(0.04)
    corridor = Contract(combined_fee_rate_percent=4, surplus_bands=[
        {"above_percent": 0, "insurer_share_percent": 100}, {"above_percent": 2, "insurer_share_percent": 50},
        {"above_percent": 6, "insurer_share_percent": 0}])
    assert surplus_kept_cap(corridor) == pytest.approx(0.02 + 0.5 * 0.04)
    assert math.isinf(surplus_kept_cap(Contract(surplus_bands=[{"above_percent": 0, "insurer_share_percent": 10}])))


def test_premium_share_of_basic_funding_by_hand():
    sh = load_scenario("scenarios/shanghai.toml")
    assert premium_share_of_basic_funding(sh) == pytest.approx(0.02)      # 2 % of the basic fund (l.543)
    assert math.isnan(premium_share_of_basic_funding(load_scenario("scenarios/provincial_guideline.toml")))


def test_fee_above_the_ceiling_fails(provincial_result):
    sc, res = provincial_result
    t = by_check(compliance(sc, res.with_design(combined_fee_rate=0.06)))
    assert not t.loc["combined_fee_rate", "passed"]


def test_bid_that_lowers_the_deductible_fails_the_purchaser_terms():
    """l.177 fixes the province-wide deductible at 8,000: bid D's 7,000 is not the bidder's to change."""
    cmp = compare_bids(sorted(BIDS.glob("*.toml")), years=2, seed=1, size=20_000, engine="fast", progress=False)
    verdict = {o.bid.name[0]: by_check(o.compliance()) for o in cmp.outcomes}
    assert not verdict["D"].loc["bid_keeps_deductible", "passed"]
    assert verdict["D"].loc["bid_keeps_deductible", "value"] == 7000
    assert verdict["D"].loc["bid_keeps_deductible", "limit"] == 8000
    for name in "ABC":
        assert verdict[name].loc["bid_keeps_deductible", "passed"]
        assert verdict[name]["passed"].dropna().all(), name
    bids = cmp.to_dict()["bids"]
    assert all("compliance" in b for b in bids)
    json.dumps(bids)


def test_bid_base_is_kept():
    bid = load_bid(BIDS / "a_low_fee.toml")
    assert bid.base is not None and bid.base.programme.name == "Provincial guideline (201x)"


def test_run_json_carries_compliance_and_the_table_shows_failures(capsys, tmp_path):
    small = ["--size", "20000", "--years", "2", "--seed", "3", "--no-progress", "--engine", "fast"]
    assert main(["run", "scenarios/qinzhou_2016.toml", *small, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    checks = {c["check"]: c for c in out["compliance"]}
    assert checks["combined_fee_rate"]["passed"] is True and checks["combined_fee_rate"]["limit"] == 0.05
    assert out["actual_payment_ratio"] == out["share_of_oop_paid"]        # the deprecated alias
    assert "actual_payment_ratio" in out["deprecated"]
    bad = tmp_path / "bad.toml"
    text = Path("scenarios/provincial_guideline.toml").read_text(encoding="utf-8")
    bad.write_text(text.replace("combined_fee_rate_percent = 5", "combined_fee_rate_percent = 4\nsurplus_cap_percent = 9"),
                   encoding="utf-8")
    assert main(["run", str(bad), *small]) == 0
    shown = capsys.readouterr().out
    assert "COMPLIANCE FAILED surplus_kept" in shown
    assert "share_of_oop_paid" in shown and "actual_payment_ratio" not in shown
