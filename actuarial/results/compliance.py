"""Legal floors and ceilings of the policy texts, checked on a simulated result (合规检查).

This module owns the checks; it simulates nothing. :func:`compliance` returns one row per check:

==========  ===============================================================================
check       name of the rule
value       what the scenario / result has (fractions; yuan where the check says so)
limit       the floor or ceiling of the text (same units)
passed      True / False, or <NA> when the scenario lacks what the check needs (or a Monte Carlo
            estimate's 95 % CI straddles the limit: more simulated years decide)
source      the seed file and line the limit comes from, with the text's words
==========  ===============================================================================

The checks (shared/seeds/001):

* ``policy_payment_ratio`` ≥ 50 %: CII paid ÷ the eligible accumulation above each beneficiary's
  deductible (the policy's payment ratio; "实际支付比例不低于50%", l.159 provincial, l.365
  national). Read on the part above the deductible, as the tiers of l.175 are; the share of the
  whole out-of-pocket paid (``share_of_oop_paid``, about 0.2) is a different figure.
* ``combined_fee_rate`` ≤ 5 % of premium ("综合费率…控制在…5%以内", l.207).
* ``surplus_kept`` ≤ the combined fee rate: the most surplus the insurer may keep, % of premium
  ("结余超出合同约定综合费率以上的…划转回", l.207).
* ``premium_share_of_basic_funding`` about 5 % of the basic schemes' funding
  ("大病保险总费额度控制在医保筹资总额度5%左右", l.163); "左右" read as at most 6 % (an ASSUMPTION:
  ABOUT_TOLERANCE); not applicable when the file gives no basic funding.
* ``contract_years`` ≥ 3 ("合同期限原则上不低于3年", l.205; l.371).
* For a bid (``base`` given): the terms the purchaser fixes are the base's: deductible, poor
  deductible, cap, scope and what counts toward the accumulation ("起付线为8000元…最高…22万元", l.177;
  "制定大病保险的筹资、报销范围、最低补偿比例", l.203), and every tier rate inside the base's
  range ("分段支付比例为50%-75%(纳入招标内容确定)", l.175).

>>> from actuarial import load_scenario, simulate
>>> sc = load_scenario("scenarios/provincial_guideline.toml").replace(**{"population.size": 20_000})
>>> table = compliance(sc, simulate(sc, years=2, seed=1, engine="fast"))
>>> list(table.columns)
['check', 'value', 'limit', 'passed', 'source']
>>> bool(table.set_index("check").loc["combined_fee_rate", "passed"])
True
"""

from __future__ import annotations

import math

import pandas as pd

from ..estimates import Z95
from ..scenario import Scenario

SEED = "shared/seeds/001"
PAYMENT_RATIO_FLOOR = 0.50
FEE_RATE_CEILING = 0.05
PREMIUM_SHARE_TARGET = 0.05
ABOUT_TOLERANCE = 0.20
"""ASSUMPTION: "5 % 左右" (about 5 %) is read as at most 5 % × (1 + 0.20) = 6 %."""
MIN_CONTRACT_YEARS = 3
PURCHASER_FIXED = ("deductible", "poor_deductible", "cap", "scope", "includes_basic_deductible", "tier_edges",
                   "category_b_self_pay_percent", "category_c_self_pay_percent", "category_bc_base")
"""CII fields a bid may not change: the purchaser sets them (l.177, l.203)."""

COLUMNS = ["check", "value", "limit", "passed", "source"]


def _row(check: str, value: float, limit: float, passed, source: str) -> dict:
    return {"check": check, "value": float(value), "limit": float(limit), "passed": passed, "source": source}


def surplus_kept_cap(contract) -> float:
    """The most surplus the insurer may keep, as a fraction of premium (inf when an open band pays it)."""
    edges, shares = contract.surplus_corridor()
    total = 0.0
    for lo, hi, share in zip(edges, list(edges[1:]) + [math.inf], shares):
        if share > 0:
            total += share * (hi - lo)
    return total


def premium_share_of_basic_funding(scenario: Scenario) -> float:
    """CII premium ÷ basic-scheme funding per insured person-year, population-weighted (fraction);
    NaN when the file gives no basic funding for every scheme."""
    funding, shares = scenario.funding, scenario.population.scheme_shares
    if not all(s in funding.basic_fund_per_capita for s in shares):
        return math.nan
    premium = sum(w * funding.premium_per_capita(s) for s, w in shares.items())
    basic = sum(w * funding.basic_fund_per_capita[s] for s, w in shares.items())
    return premium / basic


def compliance(scenario: Scenario, result, base: Scenario | None = None) -> pd.DataFrame:
    """The legal floors and ceilings checked for ``scenario`` priced as ``result`` (a
    :class:`~actuarial.results.simulation.SimulationResult`); with ``base`` (the tender's base scenario) also
    the terms a bid may not change. Columns: check, value, limit, passed, source (see the module)."""
    rows = []
    ratio = result.metrics()["payment_ratio_above_deductible"]
    value, se = ratio.value, ratio.se if math.isfinite(ratio.se) else 0.0
    decided = math.isfinite(value) and abs(value - PAYMENT_RATIO_FLOOR) >= Z95 * se
    rows.append(_row("policy_payment_ratio", value, PAYMENT_RATIO_FLOOR,
                     bool(value >= PAYMENT_RATIO_FLOOR) if decided else pd.NA,
                     f"{SEED} l.159, l.365: 实际支付比例不低于50% (CII paid ÷ accumulation above the deductible; "
                     f"se {se:.2g}, <NA> while the 95 % CI straddles the floor)"))
    fee = result.combined_fee_rate
    rows.append(_row("combined_fee_rate", fee, FEE_RATE_CEILING, bool(fee <= FEE_RATE_CEILING + 1e-12),
                     f"{SEED} l.207: 综合费率…控制在大病保险筹资总额的5%以内"))
    kept = surplus_kept_cap(scenario.contract)
    rows.append(_row("surplus_kept", kept, fee, bool(kept <= fee + 1e-12),
                     f"{SEED} l.207: 结余超出合同约定综合费率以上的…划转回财政社保基金专户"))
    share = premium_share_of_basic_funding(scenario)
    ceiling = PREMIUM_SHARE_TARGET * (1 + ABOUT_TOLERANCE)
    rows.append(_row("premium_share_of_basic_funding", share, PREMIUM_SHARE_TARGET,
                     bool(share <= ceiling + 1e-12) if math.isfinite(share) else pd.NA,
                     f"{SEED} l.163: 大病保险总费额度控制在医保筹资总额度5%左右 (左右: at most 6 %, an ASSUMPTION)"))
    years = scenario.contract.years
    rows.append(_row("contract_years", years, MIN_CONTRACT_YEARS, bool(years >= MIN_CONTRACT_YEARS),
                     f"{SEED} l.205, l.371: 合同期限原则上不低于3年"))
    if base is not None:
        rows.extend(_purchaser_terms(scenario, base))
    return pd.DataFrame(rows, columns=COLUMNS).astype({"passed": "boolean"})


def _purchaser_terms(bid: Scenario, base: Scenario) -> list[dict]:
    rows = []
    for name in PURCHASER_FIXED:
        got, fixed = getattr(bid.cii, name), getattr(base.cii, name)
        numeric = isinstance(got, (int, float)) and isinstance(fixed, (int, float)) and not isinstance(got, bool)
        rows.append(_row(f"bid_keeps_{name}", got if numeric else math.nan, fixed if numeric else math.nan,
                         got == fixed, f"{SEED} l.177, l.203: 起付线…最高支付限额…报销范围 fixed by the purchaser "
                                       f"(bid {got!r}, base {fixed!r})"))
    lo = min(t.rate_percent for t in base.cii.tiers) / 100
    hi = max(t.rate_percent for t in base.cii.tiers) / 100
    rates = [t.rate_percent / 100 for t in bid.cii.tiers]
    rows.append(_row("bid_tier_rates_min", min(rates), lo, bool(min(rates) >= lo - 1e-12),
                     f"{SEED} l.175: 分段支付比例为50%-75%(纳入招标内容确定); the base's lowest rate"))
    rows.append(_row("bid_tier_rates_max", max(rates), hi, bool(max(rates) <= hi + 1e-12),
                     f"{SEED} l.175: 分段支付比例为50%-75%(纳入招标内容确定); the base's highest rate"))
    return rows


def records(table: pd.DataFrame) -> list[dict]:
    """A :func:`compliance` table as JSON-ready dicts (non-finite numbers and <NA> become None)."""
    def num(x):
        return float(x) if x is not None and math.isfinite(x) else None

    return [{"check": r.check, "value": num(r.value), "limit": num(r.limit),
             "passed": None if pd.isna(r.passed) else bool(r.passed), "source": r.source}
            for r in table.itertuples()]


def failures(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a :func:`compliance` table that failed (``passed`` is False, not NA)."""
    return table[table["passed"].fillna(True) == False]  # noqa: E712 (nullable boolean)


def describe_failures(table: pd.DataFrame) -> str:
    """One line per failed check, for terminals (empty string when everything passed)."""
    return "\n".join(f"COMPLIANCE FAILED {r.check}: {r.value:.4g} against limit {r.limit:.4g} ({r.source})"
                     for r in failures(table).itertuples())
