"""Multi-year contracts (多年期承办合同): policy changes during the term, dynamic repricing,
cumulative results and the fund's payment schedule.

This module owns the sequence of contract years; each year is simulated by
:func:`actuarial.engines.engine.accumulate` (with the cost trend of that contract year and its own
independent draws) and settled by :func:`actuarial.contract.settlement.settle`.

Simulated *paths* tie the years together: path ``i`` is simulated year ``i`` of contract
year 1, then of contract year 2, and so on, so repricing and cumulative results follow one
path's experience. Contract years are numbered from 1.

* **Policy changes** (``contract.policy_changes``) replace CII terms from a contract year on.
  The policy loss of a year is the extra claims they cause, measured on the same draws
  (the year re-evaluated with the original design, common random numbers), capped by
  :func:`~actuarial.contract.settlement.settle` at the actual loss.
* **Repricing** (``contract.repricing``) scales next year's premium by a credibility-weighted
  comparison of the contract's cumulative loss ratio with its target, within bounds.

>>> from actuarial import load_scenario
>>> sc = load_scenario("scenarios/provincial_guideline.toml").replace(**{"population.size": 20000})
>>> res = run_contract(sc, years=4, seed=1)
>>> int(res.summary().contract_year.max())   # three contract years, numbered from 1
3
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..fitting.credibility import Credibility, buhlmann_straub
from ..model.cii import min_deductible
from ..engines.crn import heavy_differences, paired_engine
from ..engines.driver import choose_engine
from ..engines.engine import accumulate
from .projection import scenario_for_year
from ..results.simulation import Z95, SimulationResult, evaluate, mean_estimate, prob_estimate
from ..scenario import Contract, Scenario, ScenarioError
from .settlement import Settlement, settle

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantiles shown in fan charts."""

YEAR_METRICS = ("premium", "claims", "policy_loss", "insurer_result", "returned_surplus", "fund_loss_share",
                "bond_forfeited", "fund_outlay", "price_factor", "cumulative_insurer_result", "cumulative_fund_outlay")
"""Per contract year figures in :meth:`ContractResult.summary` (yuan per year, except ``price_factor``)."""


@dataclass(frozen=True)
class ContractYear:
    """One contract year across all simulated paths."""

    year: int  # 1-based contract year
    changes: dict  # dotted CII paths in force that differ from the tender design
    result: SimulationResult  # the year simulated under the design in force
    price_factor: np.ndarray  # premium multiplier per path from repricing (1 = the tender premium)
    settlement: Settlement
    credibility: Credibility | None = None  # Bühlmann–Straub Z and inputs behind next year's price, if used


def design_in_force(contract: Contract, year: int) -> dict:
    """The dotted CII changes in force in contract ``year`` (later changes override earlier ones)."""
    changes: dict = {}
    for change in sorted(contract.policy_changes, key=lambda c: c.from_year):
        if change.from_year <= year:
            changes.update(change.changes)
    return changes


def reprice(contract: Contract, factor: np.ndarray, cum_claims: np.ndarray, cum_premium: np.ndarray,
            z: np.ndarray | float | None = None) -> np.ndarray:
    """Next year's premium factor per path from the cumulative loss ratio (see :class:`~actuarial.scenario.Repricing`).

    >>> from actuarial.scenario import Contract
    >>> c = Contract(combined_fee_rate_percent=5, repricing={"credibility_percent": 50, "max_increase_percent": 10})
    >>> reprice(c, np.ones(2), np.array([105.0, 114.0]), np.array([100.0, 100.0])).round(4).tolist()  # LR 1.05, 1.14
    [1.0526, 1.1]
    """
    rule = contract.repricing
    if rule is None:
        return factor
    target = (rule.target_loss_ratio_percent or 100 - contract.combined_fee_rate_percent) / 100
    z = rule.credibility_percent / 100 if z is None else z  # z: Bühlmann–Straub credibility per path
    change = z * (cum_claims / cum_premium / target - 1)
    return factor * (1 + np.clip(change, -rule.max_decrease_percent / 100, rule.max_increase_percent / 100))


def run_contract(scenario: Scenario, years: int = 20, seed: int = 0, *, score=None, progress: bool | None = None,
                 **accumulate_kw) -> "ContractResult":
    """Simulate the whole contract term of ``scenario.contract`` over ``years`` simulated paths.

    ``score`` is the assessment score(s) releasing the performance bond (default: the bond's
    ``assumed_score``). Other keywords go to :func:`~actuarial.engines.engine.accumulate`.
    """
    contract = scenario.contract
    tender = scenario
    factor = np.ones(years)
    cum_claims = np.zeros(years)
    cum_premium = np.zeros(years)
    history: list[tuple[np.ndarray, np.ndarray]] = []  # (claims, premium) per contract year, per path
    out: list[ContractYear] = []
    by_year = {}  # contract year → (the tender's design that year, policy changes, the design in force)
    for year in range(1, contract.years + 1):
        # The tender's design as it stands in this contract year: indexed amounts and drivers (actuarial.contract.projection).
        planned = scenario_for_year(tender, year)
        changes = design_in_force(contract, year)
        try:
            by_year[year] = (planned, changes, planned.replace(**changes) if changes else planned)
        except ScenarioError as err:
            raise ScenarioError(f"contract.policy_changes (contract year {year}): {err}") from None
    # One floor and one engine for the whole term: every contract year then draws the same people
    # (an engine picked per year would price year 2 on another sample of the population).
    floor = min(min(min_deductible(p.cii), min_deductible(f.cii)) for p, _, f in by_year.values())
    heavy_years = {y: d for y, (p, _, f) in by_year.items() if (d := heavy_differences(f.cii, p.cii))}
    asked = accumulate_kw.get("engine", "auto")
    if heavy_years and asked == "fast":
        # A change to a field the heavy pass reads (e.g. a wider disease scope) needs its own pass;
        # with the brute and GPU engines the same seed draws the same episodes, so the policy loss is
        # still a paired difference. The fast engine's draws depend on those fields, so it cannot pair.
        year, fields = next(iter(heavy_years.items()))
        raise ValueError(
            f"contract.policy_changes (contract year {year}) change cii {fields}, which the fast engine's "
            "draws depend on, so the policy loss would not be a paired difference; use engine='brute' "
            "(or 'gpu') for this contract")
    engine = choose_engine(tender, floor, paired_engine(asked, 2 if heavy_years else 1))
    kw = {**accumulate_kw, "engine": engine}
    for year in range(1, contract.years + 1):
        scenario, changes, in_force = by_year[year]
        base_cii, cii = scenario.cii, in_force.cii
        reads_heavy = year in heavy_years

        def run(sc: Scenario):
            return accumulate(sc, years, seed, floor=floor, contract_year=year - 1, progress=progress, **kw)

        acc = run(in_force if reads_heavy else scenario)
        res = evaluate(acc, cii)
        claims = res.yearly("claims")
        extra = 0.0
        if changes:
            base_res = evaluate(run(scenario), base_cii) if reads_heavy else res.with_design(base_cii)
            extra = np.maximum(claims - base_res.yearly("claims"), 0.0)
        premium = res.yearly("premium") * factor
        cum_claims = cum_claims + claims
        cum_premium = cum_premium + premium
        history.append((claims, premium))
        cred, z = _credibility(contract, history)
        out.append(ContractYear(year, changes, res, factor, settle(contract, premium, claims, extra, score), cred))
        factor = reprice(contract, factor, cum_claims, cum_premium, z)
    return ContractResult(tender, int(seed), int(years), tuple(out))


def _credibility(contract: Contract, history) -> tuple[Credibility | None, np.ndarray | None]:
    """Bühlmann–Straub Z per path from the yearly loss ratios so far (None: the fixed weight applies)."""
    rule = contract.repricing
    if rule is None or rule.credibility_method != "buhlmann_straub":
        return None, None
    claims = np.stack([c for c, _ in history], axis=1)
    premium = np.stack([p for _, p in history], axis=1)
    if claims.shape[1] < 2 or claims.shape[0] < 2:
        return None, np.zeros(claims.shape[0])  # one year: year-to-year noise unknown, no credibility yet
    target = (rule.target_loss_ratio_percent or 100 - contract.combined_fee_rate_percent) / 100
    cred = buhlmann_straub(claims / premium, premium, collective=target)
    return cred, cred.z


@dataclass(frozen=True)
class ContractResult:
    """A simulated multi-year contract: per contract year settlements, cumulative results, cash flows."""

    scenario: Scenario
    seed: int
    paths: int
    years: tuple[ContractYear, ...]

    def per_path(self) -> dict[str, np.ndarray]:
        """Figures as (contract years × paths) arrays, yuan (``price_factor`` is a multiplier)."""
        out = {}
        for name in YEAR_METRICS:
            if name.startswith("cumulative_"):
                continue
            if name == "price_factor":
                out[name] = np.stack([y.price_factor for y in self.years])
            else:
                out[name] = np.stack([getattr(y.settlement, name) for y in self.years])
        out["cumulative_insurer_result"] = out["insurer_result"].cumsum(axis=0)
        out["cumulative_fund_outlay"] = out["fund_outlay"].cumsum(axis=0)
        out["loss_ratio"] = out["claims"] / out["premium"]
        return out

    def summary(self) -> pd.DataFrame:
        """Tidy table by contract year: metric, mean, SE, 5 % and 95 % quantiles over paths.

        Money in yuan per contract year (``cumulative_*``: from the start of the term);
        ``prob_*`` rows are probabilities with their binomial SE.
        """
        data = self.per_path()
        records = []
        for i, cy in enumerate(self.years):
            for name in YEAR_METRICS:
                x = data[name][i]
                est = mean_estimate(x)
                records.append((cy.year, name, est.value, est.se, *np.quantile(x, [0.05, 0.95])))
            for name, event in (("prob_fund_covers_loss", cy.settlement.fund_loss_share > 0),
                                ("prob_insurer_loss", cy.settlement.insurer_result < 0)):
                est = prob_estimate(event)
                records.append((cy.year, name, est.value, est.se, np.nan, np.nan))
        return pd.DataFrame.from_records(records, columns=["contract_year", "metric", "mean", "se", "q05", "q95"])

    def fan_data(self, metrics=("insurer_result", "fund_outlay", "cumulative_insurer_result",
                                "cumulative_fund_outlay", "loss_ratio")) -> pd.DataFrame:
        """Quantiles over paths by contract year, for fan charts: contract_year, metric, q05 … q95."""
        data = self.per_path()
        rows = []
        for name in metrics:
            if name not in data:
                raise ValueError(f"unknown metric {name!r}; choose from {sorted(data)}")
            qs = np.quantile(data[name], QUANTILES, axis=1)  # (quantiles, years)
            for i, cy in enumerate(self.years):
                rows.append((cy.year, name, *qs[:, i]))
        return pd.DataFrame.from_records(rows, columns=["contract_year", "metric"] + [f"q{round(q * 100):02d}" for q in QUANTILES])

    def payment_schedule(self) -> pd.DataFrame:
        """The fund's expected cash flows by contract year (yuan, mean over paths, with SE).

        Premium instalments as the contract's ``payment_schedule`` (the bond instalment pays
        only the released bond), then at settlement the returned surplus (insurer → fund)
        and the fund's loss share (fund → insurer). ``amount`` is positive when the fund pays.
        """
        rows = []
        schedule = self.scenario.contract.payment_schedule
        for cy in self.years:
            s = cy.settlement
            for inst in schedule:
                x = s.bond_released if inst.bond else s.premium * inst.percent / 100
                item = "performance bond released" if inst.bond else f"premium instalment {inst.percent:g} %"
                rows.append((cy.year, inst.due, item, mean_estimate(x)))
            rows.append((cy.year, "settlement", "surplus returned to fund", mean_estimate(-s.returned_surplus)))
            rows.append((cy.year, "settlement", "fund's share of loss", mean_estimate(s.fund_loss_share)))
        return pd.DataFrame([(y, due, item, e.value, e.se) for y, due, item, e in rows],
                            columns=["contract_year", "due", "item", "amount", "se"])

    def to_dict(self) -> dict:
        """JSON-ready: by contract year, each metric's estimate, SE and 95 % CI; the payment schedule."""
        by_year: dict = {}
        for r in self.summary().itertuples(index=False):
            lo, hi = r.mean - Z95 * r.se, r.mean + Z95 * r.se
            by_year.setdefault(str(r.contract_year), {})[r.metric] = {"estimate": r.mean, "se": r.se, "ci95": [lo, hi]}
        return {
            "scenario": self.scenario.programme.name, "seed": self.seed, "paths": self.paths,
            "contract_years": len(self.years),
            "policy_changes": {str(cy.year): cy.changes for cy in self.years if cy.changes},
            "by_year": by_year,
            "payment_schedule": self.payment_schedule().to_dict(orient="records"),
        }

    def _repr_html_(self) -> str:
        table = self.summary().pivot(index="metric", columns="contract_year", values="mean")
        head = (f"<b>{self.scenario.programme.name}</b>: {len(self.years)}-year contract, {self.paths} simulated paths, "
                f"seed {self.seed} (mean yuan per contract year; SEs in <code>.summary()</code>)")
        return head + table.to_html(float_format=lambda v: f"{v:,.4g}")

    def plot(self, metric: str = "cumulative_fund_outlay", ax=None):
        """Fan chart of ``metric`` by contract year (5-95 % and 25-75 % bands, median)."""
        import matplotlib.pyplot as plt

        fan = self.fan_data((metric,))
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        x = fan.contract_year
        ax.fill_between(x, fan.q05, fan.q95, alpha=0.25, label="5-95 %")
        ax.fill_between(x, fan.q25, fan.q75, alpha=0.45, label="25-75 %")
        ax.plot(x, fan.q50, marker="o", label="median")
        ax.set(xlabel="contract year", ylabel=f"{metric} (yuan)", xticks=list(x), title=self.scenario.programme.name)
        ax.legend()
        return ax
