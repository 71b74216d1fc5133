"""Results of a simulation: the CII layer applied to the accumulations, and every estimate with its
Monte Carlo standard error.

Standard errors come from independent replication units. Without systemic
shocks the (simulated year, block) cells are independent, so they are the
units (a ratio estimator over many cells). With shocks, blocks of the same
year share the year's multipliers, so whole simulated years are the units.

The synthetic people are drawn once and kept for every simulated year, so these
SEs are conditional on that population; the error from its composition (which
people the seed drew) is small at real sizes. The fast engine's non-CII totals
are exact given the people, so for them blocks are the replicates (when there
are at least two), which counts exactly that composition error.

Expected CII claims over people or premium (claims per capita, the break-even premium, the loss
ratio) use the control variate of :mod:`actuarial.exact.control` when the simulation has one: their
SE is the Monte Carlo part plus the composition error of the drawn people.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engines.accumulations import Accumulations
from ..engines.crn import heavy_cii
from ..engines.engine import accumulate
from ..engines.parallel import DaskMap
from ..estimates import (  # noqa: F401
    Z95,
    Estimate,
    mean_estimate,
    prob_estimate,
    quantile_ci,
    ratio_estimate,
)
from ..model import agg_fields, assistance
from ..model import cii as ciimod
from ..model.population import N_GROUPS, group_labels
from ..scenario import CII, SCHEMES, Funding
from .compliance import compliance, records
from .plots import plot_result

DEPRECATED_METRICS = {"actual_payment_ratio": "share_of_oop_paid"}
"""Old metric name → its new name. ``actual_payment_ratio`` (CII paid ÷ the beneficiaries' whole
compliant out-of-pocket, about 0.2) was read against the policy's 50 % floor, which applies to
``payment_ratio_above_deductible`` (:mod:`actuarial.results.compliance`)."""


@dataclass(frozen=True)
class SimulationResult:
    """A scenario simulated with one CII design.

    Per (simulated year, block, group) arrays let every figure be broken down
    by scheme and poverty status and carry its standard error. ``benefit`` is
    aligned with ``accumulations.rows``.
    """

    accumulations: Accumulations
    cii: CII
    funding: Funding
    combined_fee_rate: float
    benefit: np.ndarray  # yuan per row
    cells: np.ndarray  # (years, blocks, groups, len(CELL_FIELDS))
    control_expected: np.ndarray | None = None
    """E[X] of the claims control variate per person-year of each population cell (yuan), or None
    when the simulation has no control (:mod:`actuarial.exact.control`)."""
    control_expected_beneficiaries: np.ndarray | None = None
    """P(X > 0) per person-year of each population cell: the beneficiaries' control, or None."""

    EXTRA_FIELDS = ("claims", "beneficiaries", "oop_beneficiaries", "catastrophic_avoided", "above_deductible",
                    "control", "control_expected", "control_beneficiaries", "control_beneficiaries_expected")
    """After AGG_FIELDS: CII paid (yuan), beneficiaries, compliant out-of-pocket of beneficiaries (yuan),
    catastrophic cases avoided by CII, eligible accumulation above the deductible (yuan), and the
    control variates: Σ X over the rows and the people's E[X] (yuan), then the count of rows with
    X > 0 and the people's expected count (all 0 without a control)."""


    @property
    def CELL_FIELDS(self) -> tuple:  # noqa: N802 (kept its old, constant-like name)
        """The fields of ``cells``: AGG_FIELDS (read when asked, see :mod:`actuarial.model.agg_fields`), then EXTRA_FIELDS."""
        return agg_fields.AGG_FIELDS + self.EXTRA_FIELDS

    CONTROLS = {"claims": ("control", "control_expected", "control_expected"),
                "beneficiaries": ("control_beneficiaries", "control_beneficiaries_expected",
                                  "control_expected_beneficiaries")}
    """Numerators with a control variate: (cell field of Σ X, cell field of ΣE[X], per-cell E[X] attribute)."""

    # ----------------------------------------------------------------- basic accessors
    @property
    def scenario(self):
        return self.accumulations.scenario

    @property
    def years(self) -> int:
        return self.accumulations.years

    @property
    def insured(self) -> int:
        return int(self.cells[0, ..., self.CELL_FIELDS.index("people")].sum())

    def cell(self, name: str, groups=None) -> np.ndarray:
        """(years, blocks) totals of a cell field, over ``groups`` (default all)."""
        x = self.cells[..., self.CELL_FIELDS.index(name)]
        if groups is not None:
            x = x[..., list(groups)]
        return x.sum(axis=-1)

    def yearly(self, name: str, groups=None) -> np.ndarray:
        """Per simulated year totals of a cell field (yuan or counts)."""
        return self.cell(name, groups).sum(axis=1)

    def first_years(self, k: int) -> "SimulationResult":
        """The same result restricted to its first ``k`` simulated years (convergence of estimates)."""
        acc = self.accumulations
        keep = acc.rows.year < k
        acc = dataclasses.replace(acc, years=k, agg=acc.agg[:k], rows=acc.rows.take(keep), shocks=acc.shocks[:k])
        return dataclasses.replace(self, accumulations=acc, benefit=self.benefit[keep], cells=self.cells[:k])

    def _units(self, name: str, groups=None, by_block: bool = False) -> np.ndarray:
        x = self.cell(name, groups)
        if self.scenario.claims.shocks.enabled:
            return x.sum(axis=1)  # years share their shock: whole years are the replicates
        return x.sum(axis=0) if by_block else x

    def ratio(self, num: str, den: str, groups=None, per: float = 1.0, controlled: bool = True) -> Estimate:
        """Σnum / Σden with its standard error, times ``per`` (e.g. 10,000 for 'per 10,000 insured').

        CII claims or beneficiaries over people or premium use the control variate when the
        simulation has one (:mod:`actuarial.exact.control`); ``controlled=False`` gives the plain ratio
        of the draws.
        """
        if controlled and num in self.CONTROLS and den in ("people", "premium") and self.control_expected is not None:
            return self._controlled_ratio(num, den, groups).scaled(per)
        # Exact per-block totals (fast engine) repeat every year: only blocks are independent replicates
        # (with a single block, fall back to cells: the SE is then conditional on the drawn people).
        by_block = (self.accumulations.exact_totals and num in agg_fields.AGG_FIELDS and den in agg_fields.AGG_FIELDS
                    and self.accumulations.agg.shape[1] > 1)
        return ratio_estimate(self._units(num, groups, by_block), self._units(den, groups, by_block)).scaled(per)

    def _controlled_ratio(self, num: str, den: str, groups=None) -> Estimate:
        """(Σ(Y − X) + Σ E[X]) / Σden; SE² = Monte Carlo part (ratio estimator of Σ(Y − X) over the
        (year, block) units) + the composition part: Var(Σ_c n_c (E[X]_c − r·den_c)) under the multinomial cell counts."""
        x_field, expected_field, per_cell_attr = self.CONTROLS[num]
        resid = self.cell(num, groups) - self.cell(x_field, groups)
        den_u = self.cell(den, groups)
        den_total = den_u.sum()
        if den_total == 0:
            return Estimate(math.nan, math.nan)
        expected = self.cell(expected_field, groups).sum()
        value = (resid.sum() + expected) / den_total
        mc = ratio_estimate(resid, den_u).se  # units differ in size (the last block is short); NaN with one unit
        ctl = self.accumulations.control
        per_scheme = np.array(self.scenario.premium_by_scheme(self.funding))
        den_c = np.ones(ctl.cell_group.size) if den == "people" else per_scheme[ctl.cell_group // 2]
        inside = np.isin(ctl.cell_group, np.arange(N_GROUPS) if groups is None else list(groups))
        # A cell's E[Y] taken as its E[X] scaled by ΣY / ΣX-expected (Y − X is small and grows with X).
        per_cell = getattr(self, per_cell_attr) * (value * den_total / expected if expected > 0 else 1.0)
        z = np.where(inside, per_cell - value * den_c, 0.0)
        composition = ctl.counts.sum() * (ctl.cell_prob @ z**2 - (ctl.cell_prob @ z) ** 2)
        per_year = den_total / self.years
        return Estimate(value, math.sqrt(mc**2 + composition / per_year**2))

    # ----------------------------------------------------------------- headline estimates
    def claims_per_capita(self, groups=None) -> Estimate:
        """Expected CII claims, yuan per insured person-year."""
        return self.ratio("claims", "people", groups)

    def premium_per_capita(self, groups=None) -> float:
        """Premium collected, yuan per insured person-year (no sampling error)."""
        return float(self.cell("premium", groups).sum() / self.cell("people", groups).sum())

    def break_even_premium(self, groups=None) -> Estimate:
        """Premium per capita at which expected claims equal premium × (1 − fee rate), yuan."""
        return self.claims_per_capita(groups).scaled(1 / (1 - self.combined_fee_rate))

    def loss_ratio(self) -> Estimate:
        return self.ratio("claims", "premium")

    def prob_claims_exceed_net_premium(self) -> Estimate:
        """P(claims > premium × (1 − fee rate)) in a year, over simulated years, with binomial SE."""
        return prob_estimate(self.yearly("claims") > self.yearly("premium") * (1 - self.combined_fee_rate))

    def metrics(self, groups=None) -> dict[str, Estimate | float]:
        """The headline figures, each an :class:`Estimate` (or a plain number when exact)."""
        out: dict[str, Estimate | float] = {
            "insured": float(self.cell("people", groups)[0].sum()),
            "premium_per_capita": self.premium_per_capita(groups),
            "claims_per_capita": self.claims_per_capita(groups),
            "break_even_premium": self.break_even_premium(groups),
            "beneficiaries_per_10k": self.ratio("beneficiaries", "people", groups, per=1e4),
            "benefit_per_beneficiary": self.ratio("claims", "beneficiaries", groups),
            "share_of_oop_paid": self.ratio("claims", "oop_beneficiaries", groups),
            "payment_ratio_above_deductible": self.ratio("claims", "above_deductible", groups),
            "loss_ratio": self.ratio("claims", "premium", groups),
            "basic_paid_per_capita": self.ratio("basic_paid", "people", groups),
            "oop_compliant_per_capita": self.ratio("oop_compliant", "people", groups),
            "catastrophic_per_10k": self.ratio("catastrophic_before", "people", groups, per=1e4),
            "catastrophic_avoided_per_10k": self.ratio("catastrophic_avoided", "people", groups, per=1e4),
        }
        if groups is None:
            out["prob_claims_exceed_net_premium"] = self.prob_claims_exceed_net_premium()
        if getattr(self.scenario, "medical_assistance", None) is not None:  # the third layer (actuarial.model.assistance)

            out.update(assistance.metrics(self, groups))
        for old, new in DEPRECATED_METRICS.items():  # kept for scripts, notebooks and bid criteria
            out[old] = out[new]
        # every headline figure is a non-negative amount, count or ratio; per-10k counts are at most 10,000
        return {k: v.bounded(0.0, 1e4 if k.endswith("_per_10k") else 1.0 if k.startswith("prob_") else math.inf)
                if isinstance(v, Estimate) else v for k, v in out.items()}

    def compliance(self, base=None) -> pd.DataFrame:
        """The legal floors checked on this result (:func:`actuarial.results.compliance.compliance`); ``base``:
        the tender's base scenario when this result prices a bid."""
        return compliance(self.scenario.model_copy(update={"cii": self.cii, "funding": self.funding}), self, base)

    def summary(self) -> pd.DataFrame:
        """Headline metrics for all insured and by scheme: estimate, standard error, 95% CI."""
        groups = {"all": None}
        for i, s in enumerate(SCHEMES):
            if s in self.scenario.population.scheme_shares and len(self.scenario.population.scheme_shares) > 1:
                groups[s] = [2 * i, 2 * i + 1]
        if any(self.scenario.population.poverty_rate_percent.values()):
            groups["poor"] = [g for g, (_, poor) in enumerate(group_labels()) if poor]
        records = []
        for label, gs in groups.items():
            for name, est in self.metrics(gs).items():
                if name in DEPRECATED_METRICS:
                    continue
                if isinstance(est, Estimate):
                    lo, hi = est.ci95
                    records.append((label, name, est.value, est.se, lo, hi))
                else:
                    records.append((label, name, est, 0.0, est, est))
        return pd.DataFrame.from_records(records, columns=["group", "metric", "estimate", "se", "ci95_low", "ci95_high"])

    def to_dict(self) -> dict:
        """JSON-ready headline figures (keys documented in the README)."""
        out = {
            "scenario": self.scenario.programme.name,
            "seed": self.accumulations.seed,
            "engine": self.accumulations.engine,
            "years": self.years,
            "insured": self.insured,
            "combined_fee_rate": self.combined_fee_rate,
            "control_variate": self.control_expected is not None,
        }
        for name, est in self.metrics().items():
            if name != "insured":  # already there, as an integer
                out[name] = est.to_dict() if isinstance(est, Estimate) else est
        if getattr(self.scenario, "medical_assistance", None) is not None:  # the poor after all three layers

            out["medical_assistance_exact"] = assistance.exact_flag(self)
            for name, est in assistance.metrics(self, assistance.poor_groups()).items():
                out[f"{name}_poor"] = est.to_dict()
        out["deprecated"] = {old: f"same as {new}" for old, new in DEPRECATED_METRICS.items()}

        out["compliance"] = records(self.compliance())
        return out

    def _repr_html_(self) -> str:
        table = self.summary()
        table = table[table.group == "all"].drop(columns="group").set_index("metric")
        from html import escape

        head = (f"<b>{escape(self.scenario.programme.name)}</b>: {self.insured:,} insured × {self.years} simulated years, "
                f"seed {self.accumulations.seed}")
        return head + table.to_html(float_format=lambda v: f"{v:,.0f}" if float(v).is_integer() else f"{v:,.4g}")

    def plot(self, kind: str = "claims", ax=None, **kw):
        """Plot the result: ``claims``, ``loss_ratio``, ``benefit_by_band`` or ``convergence`` (see :mod:`actuarial.results.plots`)."""
        return plot_result(self, kind, ax=ax, **kw)

    def with_design(self, cii: CII | None = None, funding: Funding | None = None,
                    combined_fee_rate: float | None = None) -> "SimulationResult":
        """The same draws evaluated under another CII design / funding (common random numbers)."""
        return evaluate(self.accumulations, cii or self.cii, funding or self.funding,
                        self.combined_fee_rate if combined_fee_rate is None else combined_fee_rate)


def evaluate(acc: Accumulations, cii: CII | None = None, funding: Funding | None = None,
             combined_fee_rate: float | None = None) -> SimulationResult:
    """Apply a CII design to accumulated rows and tabulate every cell.

    The design's deductibles must not be below ``acc.floor`` (rows below it were not kept).
    """
    sc = acc.scenario
    cii = cii or sc.cii
    funding = funding or sc.funding
    rate = sc.contract.combined_fee_rate if combined_fee_rate is None else combined_fee_rate
    differ = {f: v for f, v in heavy_cii(cii).items() if v != getattr(sc.cii, f)}
    if differ:
        raise ValueError(f"cii fields {sorted(differ)} differ from the simulated scenario's; the heavy pass reads "
                         "them, so simulate a scenario that has them (accumulate(scenario.replace(...)))")
    if ciimod.min_deductible(cii) < acc.floor - 1e-9:
        raise ValueError(f"CII deductible {ciimod.min_deductible(cii)} is below the accumulation floor "
                         f"{acc.floor}; re-run accumulate() with floor <= the lowest deductible")
    rows = acc.rows
    factor = ciimod.claims_eligible_factor(cii, sc.claims)
    pay = ciimod.benefit(cii, rows.by_location, rows.poor, factor)
    deductible = np.where(rows.poor, cii.effective_poor_deductible, cii.deductible)
    above = np.maximum(factor * ciimod.policy_accumulation(cii, rows.by_location) - deductible, 0.0)
    years, blocks = acc.agg.shape[:2]
    cell_index = (rows.year.astype(np.int64) * blocks + rows.block) * N_GROUPS + rows.group
    size = years * blocks * N_GROUPS

    def tab(weights: np.ndarray) -> np.ndarray:
        return np.bincount(cell_index, weights=weights, minlength=size).reshape(years, blocks, N_GROUPS)

    got = pay > 0
    thr = cii.catastrophic_threshold
    ctl, expected_c = acc.control, (None, None)
    zero = np.zeros((years, blocks, N_GROUPS))
    controls = [zero] * 4
    if ctl is not None and rows.control is not None:
        x = ctl.values(cii, factor, rows.control, rows.poor)
        expected_c = ctl.expected(cii, factor)  # per cell: E[X], P(X > 0)

        def by_group(per_cell: np.ndarray) -> np.ndarray:  # (years, blocks, groups): the people's expectation
            g = np.stack([ctl.counts[:, ctl.cell_group == k] @ per_cell[ctl.cell_group == k]
                          for k in range(N_GROUPS)], axis=1)
            return np.broadcast_to(g, (years, blocks, N_GROUPS))

        controls = [tab(x), by_group(expected_c[0]), tab((x > 0).astype(float)), by_group(expected_c[1])]
    extra = np.stack([
        tab(pay), tab(got.astype(float)), tab(np.where(got, rows.oop_compliant, 0.0)),
        tab(((rows.oop_total > thr) & (rows.oop_total - pay <= thr)).astype(float)), tab(above),
        *controls,
    ], axis=-1)
    agg = acc.agg
    if funding is not sc.funding:  # premium depends on funding only through per-scheme amounts
        agg = agg.copy()
        per_person = np.array(sc.premium_by_scheme(funding)).repeat(2)
        agg[..., agg_fields.index("premium")] = agg_fields.get(agg, "people") * per_person
    return SimulationResult(acc, cii, funding, rate, pay, np.concatenate([agg, extra], axis=-1), *expected_c)


def simulate(scenario, years: int = 20, seed: int = 0, *, workers: int | None = None, processes: bool = True,
             scheduler: str | None = None, **kwargs) -> SimulationResult:
    """Simulate ``scenario`` for ``years`` independent years and apply its CII design.

    Keyword arguments go to :func:`actuarial.engines.engine.accumulate` (``engine``, default "auto": the
    fastest engine whose rules cover the scenario, recorded in ``result.accumulations.engine``;
    ``chunk_size``, ``progress``, ``floor``, ``contract_year``, ``map_fn``). With ``workers`` (local Dask
    workers, ``processes`` or threads) or ``scheduler`` (a Dask scheduler's address) the blocks run on
    Dask (:class:`actuarial.engines.parallel.DaskMap`), one block per task unless ``chunk_size`` says
    otherwise; the numbers are the serial run's.

    >>> from actuarial import load_scenario, simulate
    >>> res = simulate(load_scenario("scenarios/qinzhou_2016.toml").replace(**{"population.size": 20000}),
    ...                years=2, seed=1)
    >>> est = res.claims_per_capita()       # yuan per insured person-year, with its SE
    >>> bool(est.se > 0)
    True
    """
    if workers is None and scheduler is None:
        return evaluate(accumulate(scenario, years, seed, **kwargs))

    with DaskMap(workers=workers or 2, processes=processes, scheduler=scheduler) as dmap:
        return evaluate(accumulate(scenario, years, seed, map_fn=dmap, **kwargs))
