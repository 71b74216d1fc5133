"""Tender bid comparison (招标评标): several insurers' bids on one simulated population.

This module owns bid files and the comparison (tables, plot); the committee's report is
:mod:`actuarial.report.bids`. It simulates nothing itself.
All bids are priced on the **same draws** (common random numbers): the same seed for every
:func:`~actuarial.engines.engine.accumulate` pass, one pass per distinct deductible (and heavy-pass
fields) floored at that deductible, then :func:`~actuarial.results.simulation.evaluate` per bid's CII design
and fee rate, then :func:`~actuarial.contract.settlement.settle` per simulated year under the bid's contract
terms. Differences between bids are therefore not blurred by sampling noise between them, and
a bid's figures do not depend on which other bids it is compared with: they equal
``simulate(bid scenario, years, seed)`` (a shared floor would move the control variate's grid,
and the fast engine's draws, with the lowest deductible among the bidders).

A bid file (TOML) names its base scenario and overrides the ``[cii]`` and ``[contract]``
tables (key by key; a table such as ``tiers`` or ``[contract.bond]`` is replaced whole)::

    [bid]
    name = "Insurer A: low fee"
    base = "../../provincial_guideline.toml"   # relative to this file
    [contract]
    combined_fee_rate_percent = 3

Policy changes and repricing in a bid's contract are not used here (one tender year).

>>> cmp = compare_bids(sorted(Path("scenarios/bids/provincial").glob("*.toml")), years=3, seed=1, size=20000)
>>> len(cmp.ranked()) >= 3
True
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..engines.crn import group_designs, paired_engine
from ..engines.engine import accumulate
from ..results.compliance import compliance, records
from ..results.plots import _axes
from ..results.simulation import (
    Z95,
    Estimate,
    SimulationResult,
    evaluate,
    mean_estimate,
    prob_estimate,
    quantile_ci,
)
from ..scenario import Scenario, ScenarioError, read_toml, validate_scenario
from ..scenario.indexing import unresolve
from .exact_metrics import bid_metrics
from .settlement import Settlement, settle

BID_TABLES = ("bid", "cii", "contract")
"""Top-level tables a bid file may have."""

SHARED_SECTIONS = ("population", "funding", "claims", "basic")
"""Scenario sections every compared bid must share (the base population and claims model)."""

CRITERIA: dict[str, str] = {
    "fund_outlay_per_capita": "min",
    "prob_fund_covers_loss": "min",
    "actual_payment_ratio": "max",
    "beneficiaries_per_10k": "max",
    "catastrophic_avoided_per_10k": "max",
    "insurer_result_q05_per_capita": "max",
}
"""Scoring and dominance criteria and whether less or more is better. The insurer's 5 % quantile
stands for sustainability: a bid that leaves the insurer deep in loss in a bad year is fragile."""


# --------------------------------------------------------------------------- bids
@dataclass(frozen=True)
class Bid:
    """One insurer's bid: a name and the full scenario it implies (base + overrides)."""

    name: str
    scenario: Scenario
    path: Path | None = None
    notes: str = ""
    base: Scenario | None = None  # the tender's base scenario (for the purchaser-fixed terms of compliance)

    def terms(self) -> dict:
        """The bid's CII design and contract terms, JSON-ready."""
        cii, c = self.scenario.cii, self.scenario.contract
        return {"deductible": cii.deductible, "tiers": [[t.above, t.rate_percent] for t in cii.tiers],
                "cap": cii.cap if math.isfinite(cii.cap) else None,
                "contract": c.model_dump(mode="json", exclude={"policy_changes", "repricing", "payment_schedule"})}


def _fail(path: Path, where: str, message: str) -> ScenarioError:
    return ScenarioError(f"{path}: {where}: {message}")


def load_bid(path: str | Path) -> Bid:
    """Read a bid file, merge it over its base scenario and validate the result.

    Errors name the bid file and the field, e.g. ``bids/b.toml: contract.combined_fee_rate_percent: ...``.
    """
    path = Path(path)
    data = read_toml(path, "bid")
    extra = sorted(set(data) - set(BID_TABLES))
    if extra:
        raise _fail(path, extra[0], f"a bid may only set the tables {list(BID_TABLES)}; the base scenario "
                                    "fixes everything else")
    head = data.get("bid")
    if not isinstance(head, dict):
        raise _fail(path, "bid", "missing [bid] table with name and base")
    unknown = sorted(set(head) - {"name", "base", "notes"})
    if unknown:
        raise _fail(path, f"bid.{unknown[0]}", "unknown field (valid: name, base, notes)")
    name, base = head.get("name"), head.get("base")
    if not isinstance(name, str) or not name.strip():
        raise _fail(path, "bid.name", f"must be a non-empty string (got {name!r})")
    if not isinstance(base, str) or not base:
        raise _fail(path, "bid.base", f"must be the path of the base scenario, relative to the bid file (got {base!r})")
    base_path = path.parent / base
    if not base_path.is_file():
        why = "is a directory, not a scenario file" if base_path.is_dir() else "not found"
        raise _fail(path, "bid.base", f"base scenario {base_path} {why}; give the base scenario file, relative to "
                                      f"the bid file (got {base!r})")
    base_data = read_toml(base_path, "scenario")
    if "bid" in base_data:
        itself = " (this bid itself)" if base_path.resolve() == path.resolve() else " (another bid)"
        raise _fail(path, "bid.base", f"must name a scenario file, not a bid file; {base_path} has a [bid] "
                                      f"table{itself} (got {base!r})")
    base_scenario = validate_scenario(base_data, source=str(base_path))
    merged = base_scenario.model_dump(mode="python")

    unresolve(merged, {f"cii.{k}": v for k, v in data.get("cii", {}).items()} if isinstance(data.get("cii"), dict) else {})
    for table in ("cii", "contract"):
        override = data.get(table, {})
        if not isinstance(override, dict):
            raise _fail(path, table, "must be a table")
        merged[table] = {**merged[table], **override}
    return Bid(name.strip(), validate_scenario(merged, source=str(path)), path, str(head.get("notes", "")),
               base_scenario)


def _as_bid(x) -> Bid:
    if isinstance(x, Bid):
        return x
    if isinstance(x, Scenario):
        return Bid(x.programme.name, x)
    return load_bid(x)


def _check_shared(bids: list[Bid]) -> None:
    names = [b.name for b in bids]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ScenarioError(f"bid names must be unique (repeated: {dupes})")
    first = bids[0]
    ref = {s: getattr(first.scenario, s) for s in SHARED_SECTIONS}
    for bid in bids[1:]:
        differ = [s for s in SHARED_SECTIONS if getattr(bid.scenario, s) != ref[s]]
        if differ:
            where = bid.path or bid.name
            raise ScenarioError(
                f"{where}: bid '{bid.name}' does not share the base population/claims model of '{first.name}' "
                f"(sections {differ} differ); bids compared together must use the same base scenario")


# --------------------------------------------------------------------------- outcomes
@dataclass(frozen=True)
class BidOutcome:
    """A bid priced and settled on the common draws. ``metrics``: name → :class:`Estimate`."""

    bid: Bid
    result: SimulationResult
    settlement: Settlement
    metrics: dict[str, Estimate]

    def compliance(self):
        """The legal checks of :mod:`actuarial.results.compliance`, with the purchaser-fixed terms against the
        bid's base scenario when it has one (a DataFrame: check, value, limit, passed, source)."""
        return compliance(self.bid.scenario, self.result, self.bid.base)


def _compliance_records(outcome: BidOutcome) -> list[dict]:
    return records(outcome.compliance())


def _quantile_estimate(x: np.ndarray, q: float) -> Estimate:
    """Sample quantile with an SE read off its distribution-free 95 % CI (NaN when too few years)."""
    est, lo, hi = quantile_ci(x, q)
    se = (hi - lo) / (2 * Z95) if math.isfinite(lo) and math.isfinite(hi) else math.nan
    return Estimate(est, se)


def _outcome(bid: Bid, res: SimulationResult) -> BidOutcome:
    s = settle(bid.scenario.contract, res.yearly("premium"), res.yearly("claims"))
    people = res.yearly("people")
    per_capita = s.insurer_result / people
    base = res.metrics()
    metrics = {
        "fund_outlay_per_capita": mean_estimate(s.fund_outlay / people),
        "returned_surplus_per_capita": mean_estimate(s.returned_surplus / people),
        "bond_forfeited_per_capita": mean_estimate(s.bond_forfeited / people),
        "fund_loss_share_per_capita": mean_estimate(s.fund_loss_share / people),
        "prob_fund_covers_loss": prob_estimate(s.fund_loss_share > 0),
        "insurer_result_per_capita": mean_estimate(per_capita),
        "insurer_result_q05_per_capita": _quantile_estimate(per_capita, 0.05),
        "insurer_result_q95_per_capita": _quantile_estimate(per_capita, 0.95),
        "insurer_margin": mean_estimate(s.insurer_margin),
        "prob_insurer_loss": prob_estimate(s.insurer_result < 0),
        "claims_per_capita": base["claims_per_capita"],
        "actual_payment_ratio": base["actual_payment_ratio"],
        "beneficiaries_per_10k": base["beneficiaries_per_10k"],
        "catastrophic_avoided_per_10k": base["catastrophic_avoided_per_10k"],
    }

    metrics.update(bid_metrics(bid.scenario.model_copy(update={"funding": res.funding}), res.insured))
    return BidOutcome(bid, res, s, metrics)


def _weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    if weights is None:
        return {k: 1.0 for k in CRITERIA}
    bad = sorted(set(weights) - set(CRITERIA))
    if bad:
        raise ValueError(f"unknown weight criteria {bad}; valid: {list(CRITERIA)}")
    if any(not math.isfinite(w) or w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError(f"weights must be finite, >= 0 and not all zero (got {dict(weights)})")
    return {k: float(weights.get(k, 0.0)) for k in CRITERIA}


@dataclass(frozen=True)
class BidComparison:
    """Bids compared on common random numbers: table, ranking, dominance, plots.

    Money is yuan per insured person-year; probabilities are over simulated years.
    """

    outcomes: tuple[BidOutcome, ...]
    weights: dict[str, float]
    seed: int
    years: int
    base_name: str

    @property
    def names(self) -> list[str]:
        return [o.bid.name for o in self.outcomes]

    def scores(self) -> np.ndarray:
        """Weighted score 0–100 per bid: each criterion scaled so the best bid gets 1 and the worst 0."""
        total = np.zeros(len(self.outcomes))
        for crit, w in self.weights.items():
            x = np.array([o.metrics[crit].value for o in self.outcomes])
            good = x if CRITERIA[crit] == "max" else -x
            span = np.nanmax(good) - np.nanmin(good)
            total += w * (np.ones_like(good) if not span > 0 else (good - np.nanmin(good)) / span)
        return 100 * total / sum(self.weights.values())

    def reweighted(self, weights: Mapping[str, float] | None) -> "BidComparison":
        """The same priced bids scored with other committee weights (nothing is simulated again).

        Weights are checked as in :func:`compare_bids`; criteria left out weigh 0.
        """
        return replace(self, weights=_weights(weights))

    def dominated_by(self) -> list[list[str]]:
        """For each bid, the bids that dominate it: at least as good on every criterion, better on one."""
        vals = np.array([[o.metrics[c].value * (1 if d == "max" else -1) for c, d in CRITERIA.items()]
                         for o in self.outcomes])
        out = []
        for j in range(len(vals)):
            out.append([self.names[i] for i in range(len(vals))
                        if i != j and np.all(vals[i] >= vals[j]) and np.any(vals[i] > vals[j])])
        return out

    def summary(self) -> pd.DataFrame:
        """The ranked table (:meth:`table`): one row per bid, its score, rank and every criterion."""
        return self.table()

    def table(self) -> pd.DataFrame:
        """One row per bid (in input order): terms, every metric with its SE, score, rank, dominance."""
        scores = self.scores()
        rank = pd.Series(-scores).rank(method="min").astype(int).to_numpy()
        rows = []
        for o, sc, rk, dom in zip(self.outcomes, scores, rank, self.dominated_by()):
            c = o.bid.scenario.contract
            row = {"rank": rk, "bid": o.bid.name, "score": sc, "fee_rate_percent": c.combined_fee_rate_percent,
                   "deductible": o.bid.scenario.cii.deductible}
            for name, est in o.metrics.items():
                row[name] = est.value
                row[f"{name}_se"] = est.se
            row["dominated_by"] = "; ".join(dom)
            rows.append(row)
        return pd.DataFrame(rows)

    def ranked(self) -> pd.DataFrame:
        """:meth:`table` sorted by rank (best first)."""
        return self.table().sort_values(["rank", "fund_outlay_per_capita"], kind="stable").reset_index(drop=True)

    BRIEF_COLUMNS = {
        "rank": "rank", "bid": "bid", "score": "score", "fee_rate_percent": "fee %",
        "fund_outlay_per_capita": "fund outlay", "fund_outlay_per_capita_se": "± se",
        "returned_surplus_per_capita": "surplus back", "prob_fund_covers_loss": "P(fund loss)",
        "actual_payment_ratio": "pay ratio", "beneficiaries_per_10k": "benef/10k",
        "catastrophic_avoided_per_10k": "catastr. avoided/10k", "insurer_result_q05_per_capita": "insurer q05",
        "insurer_result_per_capita": "insurer mean", "dominated_by": "dominated by",
    }
    """Columns of :meth:`brief` and their short terminal labels (money: yuan per insured person-year)."""

    def brief(self) -> pd.DataFrame:
        """A narrow ranked table for the terminal: the criteria, fund outlay ± SE, dominance."""
        return self.ranked()[list(self.BRIEF_COLUMNS)].rename(columns=self.BRIEF_COLUMNS)

    def to_dict(self) -> dict:
        """JSON-ready: settings, criteria, weights and, per bid in rank order, terms and metrics."""
        table = self.table()
        dominated = self.dominated_by()
        bids = []
        for i in table.sort_values(["rank", "fund_outlay_per_capita"], kind="stable").index:
            o = self.outcomes[i]
            bids.append({"name": o.bid.name, "file": str(o.bid.path) if o.bid.path else None,
                         "rank": int(table["rank"][i]), "score": float(table["score"][i]),
                         "dominated_by": dominated[i], "terms": o.bid.terms(),
                         "metrics": {k: e.to_dict() for k, e in o.metrics.items()},
                         "compliance": _compliance_records(o)})
        return {"base": self.base_name, "seed": self.seed, "years": self.years,
                "insured": self.outcomes[0].result.insured, "criteria": dict(CRITERIA), "weights": self.weights,
                "bids": bids}

    def _repr_html_(self) -> str:
        head = (f"<b>Bid comparison</b> on {self.base_name}: {self.outcomes[0].result.insured:,} insured × "
                f"{self.years} simulated years, seed {self.seed}, common random numbers "
                "(yuan per insured person-year)")
        return head + self.brief().to_html(index=False, float_format=lambda v: f"{v:,.4g}")

    def _bars(self, ax, metric: str, title: str):
        """Bars of ``metric`` per bid with 95 % CIs on ``ax``."""
        est = [o.metrics[metric] for o in self.outcomes]
        x = np.arange(len(self.names))
        ax.bar(x, [e.value for e in est], yerr=[Z95 * e.se for e in est], capsize=4, color="tab:blue")
        ax.set_title(title)
        ax.set_xticks(x, self.names, rotation=20, ha="right", fontsize=8)
        return ax

    def plot(self, metric: str | None = None, ax=None, fig=None):
        """With ``metric`` or ``ax``: bars of one metric per bid (default fund outlay per capita) with
        95 % CIs, on ``ax``; returns the Axes. Otherwise the overview figure: bars (fund outlay, actual
        payment ratio, with 95 % CIs) and a box plot of the insurer's result per simulated year, per bid;
        returns the matplotlib figure."""
        import matplotlib.pyplot as plt

        if metric is not None or ax is not None:
            metric = metric or "fund_outlay_per_capita"
            return self._bars(_axes(ax), metric, metric)
        fig = fig or plt.figure(figsize=(13, 4.5))
        axes = fig.subplots(1, 3)
        labels = self.names
        x = np.arange(len(labels))
        self._bars(axes[0], "fund_outlay_per_capita", "fund outlay (yuan per capita)")
        self._bars(axes[1], "actual_payment_ratio", "actual payment ratio")
        per_year = [o.settlement.insurer_result / o.result.yearly("people") for o in self.outcomes]
        axes[2].boxplot(per_year, whis=(5, 95))
        axes[2].axhline(0, color="grey", lw=0.8)
        axes[2].set_title("insurer result (yuan per capita, 5-95 %)")
        axes[2].set_xticks(x + 1, labels, rotation=20, ha="right", fontsize=8)
        fig.suptitle(f"{self.base_name}: {self.years} simulated years, common random numbers", fontsize=10)
        fig.tight_layout()
        return fig


def compare_bids(paths_or_bids: Iterable, years: int = 20, seed: int = 0, weights: Mapping[str, float] | None = None,
                 *, size: int | None = None, progress: bool | None = None, **accumulate_kw) -> BidComparison:
    """Compare bids (bid files, :class:`Bid` or :class:`~actuarial.scenario.Scenario`) on one simulated population.

    ``weights`` (criterion → weight, see :data:`CRITERIA`) score and rank the bids; default equal
    weights. ``size`` overrides the population size of the shared base.
    """
    bids = [_as_bid(x) for x in paths_or_bids]
    if not bids:
        raise ValueError("give at least one bid")
    w = _weights(weights)
    if size is not None:
        if size < 1:
            raise ValueError(f"size must be >= 1 (got {size})")
        bids = [Bid(b.name, b.scenario.replace(**{"population.size": size}), b.path, b.notes, b.base) for b in bids]
    _check_shared(bids)
    base = bids[0].scenario
    # Bids that differ in a field the heavy pass reads (scope, ...) get their own pass with the same seed:
    # with the brute and GPU engines the episodes drawn are identical, so the comparison keeps common
    # random numbers; the fast engine's draws depend on those fields, so there such bids are unpaired.
    # Each bid is priced on a pass floored at its own deductible (actuarial.engines.crn.group_designs, own_floor), so
    # that its figures do not depend on which other bids it is compared with: they equal
    # simulate(bid) with the same seed. Bids sharing heavy fields and deductible share a pass.
    groups = group_designs([b.scenario for b in bids], own_floor=True)
    engine = paired_engine(accumulate_kw.pop("engine", "auto"), len(groups))
    if len(groups) > 1 and engine == "fast":
        warnings.warn("bids differ in deductible, cii scope, includes_basic_deductible or catastrophic_threshold: "
                      "with engine='fast' they are priced on different draws, so differences between them are not "
                      "paired (each bid's figures and SEs stay valid); use engine='brute' for paired differences",
                      stacklevel=2)
    priced: dict[int, SimulationResult] = {}
    for group in groups:
        lead = bids[group.members[0]].scenario
        acc = accumulate(lead, years, seed, floor=group.floor, progress=progress, engine=engine, **accumulate_kw)
        for i in group.members:
            b = bids[i].scenario
            priced[i] = evaluate(acc, b.cii, base.funding, b.contract.combined_fee_rate)
    outcomes = tuple(_outcome(b, priced[i]) for i, b in enumerate(bids))
    return BidComparison(outcomes, w, int(seed), int(years), base.programme.name)
