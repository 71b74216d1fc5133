"""The numbers behind a tender committee's report: paired differences, terms, compliance, robustness.

Owns what the bid report (:mod:`actuarial.report.bids`) says about a
:class:`~actuarial.contract.bids.BidComparison`; it draws nothing and writes no HTML.

All bids are priced on the **same simulated years** (common random numbers), so the
difference between two bids is estimated year by year: for a criterion that is a mean or a
ratio over years, each bid's per-year linearised value (delta method) is differenced within
the year and the SE of the difference is that of a mean over years, far smaller than the two
bids' SEs combined. A quantile criterion and the weighted score gap are not linear in the
years; their paired SEs come from resampling the simulated years (the same resample for every
bid). The SEs are conditional on the drawn population, as are the bids' own.

>>> from pathlib import Path
>>> from actuarial.contract.bids import compare_bids
>>> cmp = compare_bids(sorted(Path("scenarios/bids/provincial").glob("*.toml")), years=10, seed=1, size=20000,
...                    progress=False)
>>> d = paired_difference(cmp, 0, 1, "fund_outlay_per_capita")   # yuan per person-year, bid 0 − bid 1
>>> bool(d.se < math.hypot(cmp.outcomes[0].metrics["fund_outlay_per_capita"].se,
...                        cmp.outcomes[1].metrics["fund_outlay_per_capita"].se))
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config.paths import resolve_path, thaw
from ..contract.bids import CRITERIA, Bid, compare_bids
from ..estimates import Z95, Estimate
from ..model import rng as rngmod
from ..scenario import validate_scenario
from ..sweep import _combine
from .display import label

UNITS: dict[str, str] = {
    "fund_outlay_per_capita": "yuan", "returned_surplus_per_capita": "yuan", "bond_forfeited_per_capita": "yuan",
    "fund_loss_share_per_capita": "yuan", "prob_fund_covers_loss": "percent", "insurer_result_per_capita": "yuan",
    "insurer_result_q05_per_capita": "yuan", "insurer_result_q95_per_capita": "yuan", "insurer_margin": "percent",
    "prob_insurer_loss": "percent", "claims_per_capita": "yuan", "actual_payment_ratio": "percent",
    "beneficiaries_per_10k": "per_10k", "catastrophic_avoided_per_10k": "per_10k",
}
"""Display unit of each bid metric (:mod:`actuarial.report.display`): yuan per insured person-year, a fraction
shown as %, or a count per 10,000 insured."""

CRITERION_LABELS: dict[str, tuple[str, str]] = {
    "fund_outlay_per_capita": ("基金人均支出（元/人·年）", "Fund outlay (yuan per person-year)"),
    "prob_fund_covers_loss": ("基金分担亏损的概率（%）", "P(fund shares a loss) (%)"),
    "actual_payment_ratio": ("大病保险占受益人合规费用的比例（%）", "CII share of beneficiaries' compliant cost (%)"),
    "beneficiaries_per_10k": ("每万人受益人数（人/万人）", "Beneficiaries (per 10,000 insured)"),
    "catastrophic_avoided_per_10k": ("每万人避免灾难性支出（例/万人）", "Catastrophic cases avoided (per 10,000)"),
    "insurer_result_q05_per_capita": ("承保结果5%分位（元/人·年）", "Insurer result, 5 % quantile (yuan per person-year)"),
}
"""Bilingual names (with units) of the scoring criteria of :data:`actuarial.contract.bids.CRITERIA`."""


# --------------------------------------------------------------------------- per-year parts of a metric
@dataclass(frozen=True)
class YearParts:
    """A metric as a function of the simulated years: Σnum/Σden (``q`` None) or the q-quantile of num/den.

    ``num`` and ``den`` are per-year arrays; ``scale`` multiplies the result (10,000 for per-10k counts).
    """

    num: np.ndarray
    den: np.ndarray
    scale: float = 1.0
    q: float | None = None

    def value(self, idx=None) -> np.ndarray | float:
        """The metric over the years ``idx`` (rows of a resample matrix, or all years when None)."""
        num, den = (self.num, self.den) if idx is None else (self.num[idx], self.den[idx])
        if self.q is not None:
            return np.quantile(num / den, self.q, axis=-1) * self.scale
        return num.sum(axis=-1) / den.sum(axis=-1) * self.scale

    def linearised(self) -> np.ndarray:
        """Per-year influence values (num − R·den)/mean(den) × scale, whose mean-over-years SE is the ratio's."""
        if self.q is not None:
            raise ValueError("a quantile has no linear per-year form; resample the years instead")
        r = self.num.sum() / self.den.sum()
        return (self.num - r * self.den) / self.den.mean() * self.scale


def year_parts(outcome, metric: str) -> YearParts:
    """Per-year parts of a bid metric, consistent with :attr:`BidOutcome.metrics` (same point value).

    Counts per person use the result's control variate where it has one (:mod:`actuarial.exact.control`),
    so the value is the controlled estimate; the years are the units.
    """
    res, s = outcome.result, outcome.settlement
    people = res.yearly("people")
    ones = np.ones_like(people)
    per_person = {"fund_outlay_per_capita": s.fund_outlay, "returned_surplus_per_capita": s.returned_surplus,
                  "bond_forfeited_per_capita": s.bond_forfeited, "fund_loss_share_per_capita": s.fund_loss_share,
                  "insurer_result_per_capita": s.insurer_result}
    if metric in per_person:  # the comparison's figures are means over years of per-capita values
        return YearParts(per_person[metric] / people, ones)
    if metric in ("insurer_result_q05_per_capita", "insurer_result_q95_per_capita"):
        return YearParts(s.insurer_result, people, q=0.05 if "q05" in metric else 0.95)
    if metric == "prob_fund_covers_loss":
        return YearParts((s.fund_loss_share > 0).astype(float), ones)
    if metric == "prob_insurer_loss":
        return YearParts((s.insurer_result < 0).astype(float), ones)
    if metric == "insurer_margin":
        return YearParts(s.insurer_result / s.premium, ones)
    ratios = {"claims_per_capita": ("claims", "people", 1.0), "actual_payment_ratio": ("claims", "oop_beneficiaries", 1.0),
              "beneficiaries_per_10k": ("beneficiaries", "people", 1e4),
              "catastrophic_avoided_per_10k": ("catastrophic_avoided", "people", 1e4)}
    if metric not in ratios:
        raise KeyError(f"no per-year form for metric {metric!r}")
    num, den, scale = ratios[metric]
    y = res.yearly(num)
    if num in res.CONTROLS and den in ("people", "premium") and res.control_expected is not None:
        x_field, expected_field, _ = res.CONTROLS[num]
        y = y - res.yearly(x_field) + res.yearly(expected_field)  # Σ(Y − X) + ΣE[X]: the controlled numerator
    return YearParts(y, res.yearly(den), scale)


def paired_difference(cmp, i: int, j: int, metric: str, n_boot: int = 2000) -> Estimate:
    """Bid ``i``'s metric minus bid ``j``'s, with the SE of the difference paired over simulated years.

    Units are the metric's (:data:`UNITS`). Means and ratios: SE of the mean of the per-year
    differences of linearised values; quantiles: SE over resamples of the years.
    """
    a, b = year_parts(cmp.outcomes[i], metric), year_parts(cmp.outcomes[j], metric)
    value = float(a.value() - b.value())
    if a.q is None:
        d = a.linearised() - b.linearised()
        se = float(d.std(ddof=1) / math.sqrt(d.size)) if d.size > 1 else math.nan
        return Estimate(value, se)
    idx = resample_years(cmp, n_boot)
    return Estimate(value, float(np.std(a.value(idx) - b.value(idx), ddof=1)))


def resample_years(cmp, n_boot: int = 2000) -> np.ndarray:
    """(n_boot, years) indices of simulated years drawn with replacement, one draw shared by all bids."""
    gen = rngmod.generator_for("bid_report.bootstrap", cmp.seed)
    return gen.integers(0, cmp.years, size=(n_boot, cmp.years))


def scores_of(values: dict[str, np.ndarray], weights: dict[str, float], criteria: dict[str, str]) -> np.ndarray:
    """:meth:`BidComparison.scores` for criterion values of shape (bids, ...): 0–100, best bid per criterion 1."""
    total = 0.0
    for crit, w in weights.items():
        good = values[crit] if criteria[crit] == "max" else -values[crit]
        lo, hi = np.nanmin(good, axis=0), np.nanmax(good, axis=0)
        span = hi - lo
        total = total + w * np.where(span > 0, (good - lo) / np.where(span > 0, span, 1.0), 1.0)
    return 100 * total / sum(weights.values())


@dataclass(frozen=True)
class ScoreGap:
    """Winner's lead over the runner-up in score points (0–100), its paired SE, and how often it stays first."""

    winner: str
    runner_up: str
    gap: Estimate
    prob_winner_first: float
    resamples: int

    @property
    def exceeds_error(self) -> bool:
        """Whether the lead is larger than its 95 % Monte Carlo half-width."""
        return bool(self.gap.value > Z95 * self.gap.se)


def score_gap(cmp, n_boot: int = 2000) -> ScoreGap | None:
    """The winner's lead under ``cmp.weights``, with an SE from resampling the simulated years (paired).

    None with a single bid.
    """
    ranked = cmp.ranked()
    if len(ranked) < 2:
        return None
    names = cmp.names
    w, r = names.index(ranked.bid[0]), names.index(ranked.bid[1])
    idx = resample_years(cmp, n_boot)
    values = {c: np.stack([year_parts(o, c).value(idx) for o in cmp.outcomes]) for c in cmp.weights}
    boot = scores_of(values, cmp.weights, CRITERIA)  # (bids, n_boot)
    point = cmp.scores()
    gap = Estimate(point[w] - point[r], float(np.std(boot[w] - boot[r], ddof=1)))
    first = float(np.mean(np.argmax(boot, axis=0) == w))
    return ScoreGap(names[w], names[r], gap, first, n_boot)


def winner_vs_runner_up(cmp) -> pd.DataFrame:
    """Per criterion: winner's and runner-up's estimates and their paired difference (winner − runner-up).

    Columns: ``criterion``, ``unit``, ``winner``, ``runner_up``, ``difference``, ``difference_se``,
    ``significant`` (|difference| > 1.96 SE). Units per :data:`UNITS`.
    """
    ranked = cmp.ranked()
    names = cmp.names
    w, r = names.index(ranked.bid[0]), names.index(ranked.bid[1])
    rows = []
    for crit in cmp.weights:
        d = paired_difference(cmp, w, r, crit)
        rows.append({"criterion": crit, "unit": UNITS[crit], "winner": cmp.outcomes[w].metrics[crit].value,
                     "runner_up": cmp.outcomes[r].metrics[crit].value, "difference": d.value,
                     "difference_se": d.se, "significant": bool(abs(d.value) > Z95 * d.se)})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- bid terms
TERM_LABELS: dict[str, tuple[str, str]] = {
    "deductible": ("起付线（元）", "Deductible (yuan per person-year)"),
    "tiers": ("分段比例", "Tiers (rate above each accumulation, yuan)"),
    "cap": ("封顶线（元）", "Annual cap (yuan per person-year)"),
    "fee": ("综合费率（%）", "Combined fee rate (% of premium)"),
    "surplus": ("结余率上限", "Surplus the insurer keeps (% of premium)"),
    "policy_loss": ("政策性亏损分担", "Policy loss: fund's share"),
    "corridor": ("风险调节", "Risk corridor for non-policy losses"),
    "bond": ("履约保证金", "Performance bond"),
}
"""Rows of the bid terms table, in the order the committee reads a bid."""


def _pct(v: float) -> str:
    return f"{v:g} %"


def bid_terms(bid, lang: str = "both") -> dict[str, str]:
    """A bid's terms as display strings keyed by :data:`TERM_LABELS` (yuan; percentages of premium), in ``lang``."""
    cii, c = bid.scenario.cii, bid.scenario.contract
    tiers = "; ".join(f"{label('起付线', 'deductible', lang) if t.above == 0 else f'{t.above:,.0f}'}+ {t.rate_percent:g} %"
                      for t in cii.tiers)
    if c.surplus_bands is not None:
        surplus = "; ".join(f"{b.above_percent:g} %+: " + label("留存", "keeps", lang) + f" {b.insurer_share_percent:g} %"
                            for b in c.surplus_bands)
    else:
        surplus = _pct(c.combined_fee_rate_percent if c.surplus_cap_percent is None else c.surplus_cap_percent)
    caps = [f"≤ {c.policy_loss_fund_cap_percent:g} % " + label("保费", "of premium", lang)
            if c.policy_loss_fund_cap_percent is not None else "",
            f"≤ {c.policy_loss_fund_cap_yuan:,.0f} " + label("元", "yuan", lang)
            if c.policy_loss_fund_cap_yuan is not None else ""]
    policy = " ".join([label("基金", "fund", lang) + f" {c.policy_loss_fund_share_percent:g} %"] + [x for x in caps if x])
    corridor = (label("无：保险机构全部承担", "none: insurer bears all", lang) if c.loss_bands is None else
                "; ".join(f"{b.above_percent:g} %+: " + label("保险机构", "insurer", lang) + f" {b.insurer_share_percent:g} %"
                          for b in c.loss_bands))
    bond = (label("无", "none", lang) if c.bond is None else
            f"{c.bond.withheld_percent:g} % " + label("预留", "withheld", lang) + "; "
            + label("假定考核分", "assumed score", lang) + f" {c.bond.assumed_score:g}")
    return {"deductible": f"{cii.deductible:,.2f}", "tiers": tiers,
            "cap": label("无", "none", lang) if not math.isfinite(cii.cap) else f"{cii.cap:,.2f}",
            "fee": _pct(c.combined_fee_rate_percent), "surplus": surplus, "policy_loss": policy,
            "corridor": corridor, "bond": bond}


def terms_table(cmp, lang: str = "en") -> pd.DataFrame:
    """Bid terms side by side: one row per term (:data:`TERM_LABELS`), one column per bid, and ``differs``."""
    terms = {o.bid.name: bid_terms(o.bid, lang) for o in cmp.outcomes}
    rows = []
    for key, (zh, en) in TERM_LABELS.items():
        values = [terms[n][key] for n in cmp.names]
        rows.append({"term": key, "label_zh": zh, "label_en": en, **dict(zip(cmp.names, values)),
                     "differs": len(set(values)) > 1})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- robustness
WEIGHTINGS: dict[str, tuple[str, str, dict[str, float]]] = {
    "equal": ("等权重", "Equal weights", {}),
    "fund": ("侧重基金支出", "Fund first (outlay ×3)", {"fund_outlay_per_capita": 3}),
    "benefit": ("侧重保障水平", "Benefit first (payment share, beneficiaries ×3)",
                {"actual_payment_ratio": 3, "beneficiaries_per_10k": 3}),
    "sustainability": ("侧重可持续性", "Sustainability first (insurer 5 % quantile, fund loss ×3)",
                       {"insurer_result_q05_per_capita": 3, "prob_fund_covers_loss": 3}),
}
"""Other committee weightings the ranking is checked under (criteria left out weigh 1)."""

ASSUMPTION_CHANGES: dict[str, tuple[str, str, str, float]] = {
    "utilisation_-10": ("就诊率 −10 %", "Utilisation −10 %", "claims.streams.*.episodes_by_age", 0.9),
    "utilisation_+10": ("就诊率 +10 %", "Utilisation +10 %", "claims.streams.*.episodes_by_age", 1.1),
    "cost_-10": ("次均费用 −10 %", "Cost per episode −10 %", "claims.streams.*.severity.*.mean", 0.9),
    "cost_+10": ("次均费用 +10 %", "Cost per episode +10 %", "claims.streams.*.severity.*.mean", 1.1),
}
"""Main assumptions changed for the robustness check: (labels, scenario path, multiplier), as in the
provincial tornado sweep (``scenarios/sweeps/provincial_tornado.toml``)."""


def scaled_scenario(scenario, path: str, factor: float):
    """``scenario`` with every field at the dotted ``path`` (``*`` = every element) multiplied by ``factor``."""

    data = thaw(scenario.model_dump(mode="python"))
    for _, container, key in resolve_path(data, path):
        container[key] = _combine(container[key], factor, "scale")
    return validate_scenario(data, source=f"{scenario.programme.name} ({path} × {factor:g})")


def _ranking(cmp) -> list[str]:
    return list(cmp.ranked().bid)


def robustness(cmp, years: int | None = None, seed: int | None = None, **compare_kw) -> pd.DataFrame:
    """The ranking under other weightings (same draws) and under utilisation and cost ±10 % (re-simulated).

    Columns: ``case``, ``label_zh``, ``label_en``, ``ranking`` (bid names, best first), ``winner``,
    ``same_winner``. Re-simulations use the comparison's years, seed and population size and the
    stated weights; ``compare_kw`` go to :func:`actuarial.contract.bids.compare_bids` (engine, progress).
    """
    base = _ranking(cmp)
    rows = [{"case": "stated", "label_zh": "所述权重", "label_en": "Stated weights", "ranking": base}]
    for key, (zh, en, w) in WEIGHTINGS.items():
        full = {c: float(w.get(c, 1.0)) for c in cmp.weights}
        rows.append({"case": key, "label_zh": zh, "label_en": en, "ranking": _ranking(cmp.reweighted(full))})
    years = cmp.years if years is None else years
    seed = cmp.seed if seed is None else seed
    for key, (zh, en, path, factor) in ASSUMPTION_CHANGES.items():
        bids = [Bid(o.bid.name, scaled_scenario(o.bid.scenario, path, factor), o.bid.path, o.bid.notes)
                for o in cmp.outcomes]
        other = compare_bids(bids, years, seed, cmp.weights, **compare_kw)
        rows.append({"case": key, "label_zh": zh, "label_en": en, "ranking": _ranking(other)})
    out = pd.DataFrame(rows)
    out["winner"] = [r[0] for r in out.ranking]
    out["same_winner"] = out.winner == base[0]
    return out
