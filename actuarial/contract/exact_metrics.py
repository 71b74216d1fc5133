"""Exact figures, no sampling error, for sweep points (``engine = "exact"``) and for bids: from the exact pool law.

Where a point's design is within the exact method's rules (:func:`actuarial.exact.pool.exact_limits`), its
means come from the per-person laws (:func:`actuarial.exact.pool.person_benefits`; no pool FFT is needed for a
mean) and its risk metrics from the pool's annual law (:func:`actuarial.exact.shocks.pool_distribution`).
Every SE is 0. A point outside the rules is an error naming the rule (simulate it with another engine).

Metrics: those of :data:`EXACT_METRICS` (a subset of :data:`actuarial.sweep.METRICS`) and the risk
metrics :data:`RISK_METRICS` (only with this engine). Money in yuan per insured person-year.

>>> from actuarial import load_scenario
>>> sc = load_scenario("scenarios/provincial_guideline.toml").replace(**{"basic.annual_cap": 1e9})
>>> m = dict((k, v) for k, v, _ in point_metrics(sc, ("claims_per_capita", "claims_q99")))
>>> round(m["claims_per_capita"], 2), bool(m["claims_q99"] > m["claims_per_capita"])
(15.87, True)
"""

from __future__ import annotations

import numpy as np

from ..exact.pool import cell_counts, exact_limits, person_benefits
from ..exact.shocks import pool_distribution
from ..estimates import Estimate
from ..scenario import Scenario
from .risk import _premium_total, risk_view
from .settlement import settle

EXACT_METRICS = ("insured", "premium_per_capita", "claims_per_capita", "break_even_premium", "loss_ratio",
                 "beneficiaries_per_10k", "benefit_per_beneficiary", "prob_claims_exceed_net_premium")
"""Sweep metrics the exact engine gives (means are exact; the probability from the pool law)."""
RISK_METRICS = ("claims_sd", "claims_q90", "claims_q99", "claims_q995", "claims_tvar99", "claims_tvar995",
                "prob_insurer_loss", "prob_fund_covers_loss", "prob_loss_premium", "cost_of_capital_premium")
"""Risk metrics, only with ``engine = "exact"``: sd, quantiles and TVaR of annual claims per capita,
settlement probabilities, and the premiums of :mod:`actuarial.contract.risk` (α = 10 %, cost of capital 6 %)."""
_NEEDS_POOL = set(RISK_METRICS) | {"prob_claims_exceed_net_premium"}


def point_metrics(scenario: Scenario, outputs) -> list[tuple[str, float, float]]:
    """[(metric, value, 0.0)] for one sweep point (see the module docstring)."""
    bad = [m for m in outputs if m not in EXACT_METRICS + RISK_METRICS]
    if bad:
        raise ValueError(f"engine 'exact' cannot give metrics {bad}; it gives {list(EXACT_METRICS + RISK_METRICS)}")
    limits = exact_limits(scenario)
    if limits:
        raise ValueError(f"{scenario.programme.name}: engine 'exact' does not follow this point's rules: "
                         + "; ".join(limits) + " (use engine 'fast')")
    counts = cell_counts(scenario)
    insured = int(counts.sum())
    fee = scenario.contract.combined_fee_rate

    premium = _premium_total(scenario, counts) / insured
    out: dict[str, float] = {"insured": float(insured), "premium_per_capita": premium}
    if not scenario.claims.shocks.enabled:  # E[claims] from the per-person laws, no pool FFT
        pb = person_benefits(scenario)
        mean_c, _ = pb.moments()
        paid = np.einsum("ck,ck->c", pb.pmf, (pb.values[pb.poor.astype(int)] > 0).astype(float))
        claims, benef = float(counts @ mean_c) / insured, float(counts @ paid) / insured
        out.update(beneficiaries_per_10k=1e4 * benef, benefit_per_beneficiary=claims / benef if benef > 0 else np.nan)
    else:
        claims = None
        if {"beneficiaries_per_10k", "benefit_per_beneficiary"} & set(outputs):
            raise ValueError("engine 'exact' gives beneficiaries only without year shocks")
    if claims is None or _NEEDS_POOL & set(outputs):
        view = risk_view(scenario, quantiles=("0.9", "0.99", "0.995"), counts=counts, method="exact")
        m = view.metrics()
        claims = claims if claims is not None else float(m["mean"])
        out.update(claims_sd=m["sd"], claims_q90=m["quantiles"]["0.9"], claims_q99=m["quantiles"]["0.99"],
                   claims_q995=m["quantiles"]["0.995"], claims_tvar99=m["tvar"]["0.99"],
                   claims_tvar995=m["tvar"]["0.995"], prob_insurer_loss=m["settlement"]["prob_insurer_loss"],
                   prob_fund_covers_loss=m["settlement"]["prob_fund_covers_loss"],
                   prob_loss_premium=m["pricing"]["prob_loss_premium"],
                   cost_of_capital_premium=m["pricing"]["cost_of_capital_premium"],
                   prob_claims_exceed_net_premium=m["prob_claims_exceed_net_premium"])
    out.update(claims_per_capita=claims, break_even_premium=claims / (1 - fee), loss_ratio=claims / premium)
    return [(name, float(out[name]), 0.0) for name in outputs]


def bid_metrics(scenario: Scenario, insured: int) -> dict:
    """The settlement metrics of :func:`actuarial.contract.bids.compare_bids` from the exact pool law of a bid's
    scenario at ``insured`` people (expected composition), as :class:`~actuarial.estimates.Estimate` with SE
    0; an empty dict where the exact method does not follow the scenario's rules (the bid keeps its
    simulated figures)."""
    if exact_limits(scenario):
        return {}

    counts = cell_counts(scenario, insured)
    dist = pool_distribution(scenario, counts)
    keep = dist.pmf > 0
    w, claims = dist.pmf[keep] / dist.pmf[keep].sum(), dist.values[keep]
    premium = _premium_total(scenario, counts) / int(counts.sum())
    s = settle(scenario.contract, np.full(claims.size, premium), claims)

    def quantile(x: np.ndarray, q: float) -> float:
        order = np.argsort(x, kind="stable")
        cum = np.cumsum(w[order])
        return float(x[order][min(int(np.searchsorted(cum, q - 1e-15)), x.size - 1)])

    exact = {"fund_outlay_per_capita": w @ s.fund_outlay, "returned_surplus_per_capita": w @ s.returned_surplus,
             "bond_forfeited_per_capita": w @ s.bond_forfeited, "fund_loss_share_per_capita": w @ s.fund_loss_share,
             "prob_fund_covers_loss": w @ (s.fund_loss_share > 0), "insurer_result_per_capita": w @ s.insurer_result,
             "insurer_result_q05_per_capita": quantile(s.insurer_result, 0.05),
             "insurer_result_q95_per_capita": quantile(s.insurer_result, 0.95),
             "insurer_margin": w @ s.insurer_margin, "prob_insurer_loss": w @ (s.insurer_result < 0)}
    return {k: Estimate(float(v), 0.0) for k, v in exact.items()}
