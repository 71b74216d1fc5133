"""The risk view (风险视图): the pool's annual CII claims distribution, its tail metrics, settlement and pricing.

Exact where the exact method follows the scenario's rules (:func:`actuarial.exact.pool.exact_limits`): the law of
the whole pool's annual claims by FFT (:mod:`actuarial.exact.pool`, shocks by :mod:`actuarial.exact.shocks`), with
no sampling error. Elsewhere (out-of-area CII schedules, a basic annual cap that can bite) the output says
``method = "simulation"`` and every figure comes from simulated years of the fast engine, with its SE.

Figures (money in yuan per insured person-year; probabilities per contract year):

* mean, sd, quantiles and TVaR (mean of the worst ``1 − q`` of years) of annual claims per capita, and
  ``P(claims per capita > threshold)`` per threshold;
* ``P(claims > premium × (1 − fee rate))``;
* the settlement flows under the contract without policy changes (:func:`actuarial.contract.settlement.settle`):
  expected insurer result, returned surplus, fund's share of a loss, and their probabilities;
* premiums: the percentile premium ``q-quantile / (1 − fee)``; the premium at which
  ``P(insurer loss) ≤ α``; and the cost-of-capital premium
  ``(E[C] + coc · (VaR_99.5%(C) − E[C])) / (1 − fee)``, the expected claims plus a charge at rate ``coc``
  on the capital a 1-in-200 year needs beyond them.

>>> from actuarial import load_scenario
>>> sc = load_scenario("scenarios/provincial_guideline.toml").replace(**{"basic.annual_cap": 1e9,
...                                                                    "population.size": 1_000_000})
>>> view = risk_view(sc, quantiles=("0.99",), thresholds=("17",))
>>> view.method, round(view.dist.mean(), 2)
('exact', 15.87)
>>> round(view.to_dict()["annual_claims_per_capita"]["prob_exceed"]["17"], 3)   # sd 0.44 yuan
0.007
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..estimates import (
    Z95,
    Estimate,
    lattice_quantile,
    mean_estimate,
    prob_estimate,
    quantile_ci,
    tail_mean,
    tvar_estimate,
)
from ..exact.pool import PoolDistribution, cell_counts, exact_limits
from ..exact.shocks import pool_distribution
from ..model.cells import population_cells
from ..results.simulation import simulate
from ..scenario import Scenario
from .settlement import settle

COST_OF_CAPITAL_RATE = 0.06
"""ASSUMPTION: the cost-of-capital rate charged on the 99.5 % shortfall, 6 % a year — the rate of the
Solvency II risk margin (Commission Delegated Regulation (EU) 2015/35, Art. 39), used as a convention;
pass ``coc=`` (CLI ``--coc``) for a tender's own."""
PROB_LOSS_ALPHA = 0.10
"""Default α of the premium at which P(insurer loss) ≤ α (the issue's "P(loss) under 10 %")."""
DEFAULT_QUANTILES = ("0.5", "0.9", "0.95", "0.99", "0.995")
CAPITAL_LEVEL = 0.995


# --------------------------------------------------------------------------- one view of the years
@dataclass(frozen=True)
class Years:
    """Annual claims per capita as weighted values: a lattice law (exact) or simulated years (weights 1/n)."""

    values: np.ndarray  # yuan per insured person-year
    weights: np.ndarray
    simulated: bool

    def quantile(self, q: float) -> float:
        return lattice_quantile(self.values, self.weights, q)

    def tvar(self, q: float) -> float:
        return tail_mean(self.values, self.weights, q)


def _years(dist_or_sim) -> Years:
    if isinstance(dist_or_sim, PoolDistribution):
        keep = dist_or_sim.pmf > 0
        return Years(dist_or_sim.values[keep], dist_or_sim.pmf[keep] / dist_or_sim.pmf[keep].sum(), False)
    x = np.sort(np.asarray(dist_or_sim, float))
    return Years(x, np.full(x.size, 1 / x.size), True)


def _premium_total(scenario: Scenario, counts: np.ndarray) -> float:
    per = scenario.premium_by_scheme()
    return float(sum(n * per[c.scheme] for n, (_, c, _) in zip(counts, population_cells(scenario))))


def break_even_premiums(scenario: Scenario, claims_per_capita: np.ndarray, fee_rate: float | None = None) -> np.ndarray:
    """Per value of annual claims per capita, the smallest premium per capita (yuan) at which the insurer
    has no loss under the contract (:func:`actuarial.contract.settlement.settle`; bisection, to 10⁻⁶ yuan)."""
    c = np.asarray(claims_per_capita, float)
    contract = scenario.contract
    if fee_rate is not None:
        contract = contract.model_copy(update={"combined_fee_rate_percent": 100 * fee_rate})
    lo = np.full(c.size, 1e-9)
    hi = np.maximum(c, 1e-6) * 4 + 1.0
    ok_hi = settle(contract, hi, c).insurer_result >= 0
    for _ in range(60):
        mid = (lo + hi) / 2
        ok = settle(contract, mid, c).insurer_result >= 0
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    return np.where(ok_hi, hi, np.inf)


# --------------------------------------------------------------------------- the result
@dataclass(frozen=True)
class RiskView:
    """The risk view of one scenario: exact (``dist``) or simulated (``per_year``). See the module docstring."""

    scenario: Scenario
    method: str  # "exact" or "simulation"
    limits: tuple[str, ...]
    insured: int
    premium_per_capita: float
    fee_rate: float
    quantiles: tuple[str, ...]
    thresholds: tuple[str, ...]
    dist: PoolDistribution | None = None
    per_year: np.ndarray | None = None  # simulated claims per capita, one per year
    alpha: float = PROB_LOSS_ALPHA
    coc: float = COST_OF_CAPITAL_RATE
    sim: dict = field(default_factory=dict)  # engine, years, seed of the simulation

    # ----------------------------------------------------------------- figures
    def _est(self, value: float, se: float | None) -> Estimate | float:
        return float(value) if self.method == "exact" else Estimate(value, math.nan if se is None else se)

    def _q(self, y: Years, q: float) -> Estimate | float:
        if not y.simulated:
            return y.quantile(q)
        est, lo, hi = quantile_ci(y.values, q)
        return Estimate(est, (hi - lo) / (2 * Z95) if math.isfinite(lo) and math.isfinite(hi) else math.nan)

    def _tvar(self, y: Years, q: float) -> Estimate | float:
        if not y.simulated:
            return y.tvar(q)
        return tvar_estimate(y.values, q)

    def _p(self, y: Years, event: np.ndarray) -> Estimate | float:
        return prob_estimate(event) if y.simulated else float(y.weights @ event)

    def _m(self, y: Years, x: np.ndarray) -> Estimate | float:
        return mean_estimate(x) if y.simulated else float(y.weights @ x)

    def metrics(self) -> dict:
        """Every figure (plain floats when exact, :class:`~actuarial.estimates.Estimate` when simulated)."""
        y = _years(self.dist if self.method == "exact" else self.per_year)
        net = self.premium_per_capita * (1 - self.fee_rate)
        mean = self._m(y, y.values)
        sd = math.sqrt(max(y.weights @ (y.values - y.weights @ y.values) ** 2, 0.0))
        if y.simulated:  # SE of a sample sd: normal-theory sd / sqrt(2(n − 1)), an approximation
            sd *= math.sqrt(y.values.size / max(y.values.size - 1, 1))
            sd = Estimate(sd, sd / math.sqrt(2 * max(y.values.size - 1, 1)))
        s = settle(self.scenario.contract, np.full(y.values.size, self.premium_per_capita), y.values)
        q_cap = self._q(y, CAPITAL_LEVEL)
        mean_v = float(mean if isinstance(mean, float) else mean.value)
        q_cap_v, q_cap_se = (q_cap, 0.0) if isinstance(q_cap, float) else (q_cap.value, q_cap.se)
        coc_v = (mean_v + self.coc * (q_cap_v - mean_v)) / (1 - self.fee_rate)
        coc_se = (None if not y.simulated else
                  math.hypot((1 - self.coc) * mean.se, self.coc * q_cap_se) / (1 - self.fee_rate))
        # The no-loss premium b(C) grows with the claims C, so its (1 − α)-quantile is b(the claims' quantile).
        level = 1 - self.alpha
        if y.simulated:
            est, lo, hi = quantile_ci(y.values, level)
            ends = [v if math.isfinite(v) else est for v in (lo, hi)]
            b_est, b_lo, b_hi = break_even_premiums(self.scenario, np.array([est, *ends]), self.fee_rate)
            se = (b_hi - b_lo) / (2 * Z95) if math.isfinite(lo) and math.isfinite(hi) else math.nan
            pl = Estimate(b_est, se)
        else:
            pl = float(break_even_premiums(self.scenario, np.array([y.quantile(level)]), self.fee_rate)[0])
        return {
            "mean": mean, "sd": sd,
            "quantiles": {k: self._q(y, float(k)) for k in self.quantiles},
            "tvar": {k: self._tvar(y, float(k)) for k in self.quantiles},
            "prob_exceed": {k: self._p(y, y.values > float(k)) for k in self.thresholds},
            "prob_claims_exceed_net_premium": self._p(y, y.values > net),
            "settlement": {
                "insurer_result_per_capita": self._m(y, s.insurer_result),
                "returned_surplus_per_capita": self._m(y, s.returned_surplus),
                "fund_loss_share_per_capita": self._m(y, s.fund_loss_share),
                "bond_forfeited_per_capita": self._m(y, s.bond_forfeited),
                "fund_outlay_per_capita": self._m(y, s.fund_outlay),
                "prob_insurer_loss": self._p(y, s.insurer_result < 0),
                "prob_surplus_returned": self._p(y, s.returned_surplus > 0),
                "prob_fund_covers_loss": self._p(y, s.fund_loss_share > 0),
            },
            "pricing": {
                "percentile_premium": {k: (v / (1 - self.fee_rate) if isinstance(v, float) else
                                           v.scaled(1 / (1 - self.fee_rate)))
                                       for k, v in ((k, self._q(y, float(k))) for k in self.quantiles)},
                "prob_loss_premium": pl,
                "cost_of_capital_premium": self._est(coc_v, coc_se),
            },
        }

    # ----------------------------------------------------------------- outputs
    def to_dict(self) -> dict:
        """JSON-ready; keys of quantiles and thresholds as given. Exact figures are numbers; simulated ones
        ``{"estimate", "se", "ci95"}``."""
        m = self.metrics()

        def out(x):
            if isinstance(x, dict):
                return {k: out(v) for k, v in x.items()}
            return x.to_dict() if isinstance(x, Estimate) else x

        d = {"scenario": self.scenario.programme.name, "method": self.method, "limits": list(self.limits),
             "insured": self.insured, "premium_per_capita": self.premium_per_capita,
             "combined_fee_rate": self.fee_rate,
             "net_premium_per_capita": self.premium_per_capita * (1 - self.fee_rate),
             "annual_claims_per_capita": out({k: m[k] for k in ("mean", "sd", "quantiles", "tvar", "prob_exceed")}),
             "prob_claims_exceed_net_premium": out(m["prob_claims_exceed_net_premium"]),
             "settlement": out(m["settlement"]),
             "pricing": {**out(m["pricing"]), "prob_loss_alpha": self.alpha, "cost_of_capital_rate": self.coc}}
        if self.method == "exact":
            dist = self.dist
            d["accuracy"] = {"aliasing_bound": dist.aliasing, "lattice_sd_per_capita":
                             math.sqrt(dist.lattice_variance) / dist.insured, "lattice_step_per_capita":
                             dist.step / dist.insured, "accumulation_step": dist.accumulation_step,
                             "truncated": dist.truncated, "shock_nodes": dist.nodes,
                             "shock_error_per_capita": dist.shock_error}
        else:
            d["simulation"] = dict(self.sim)
        return d

    def summary(self) -> pd.DataFrame:
        """One row per figure: metric, value, se (0 when exact), unit."""
        rows = []

        def add(name, x, unit):
            if isinstance(x, Estimate):
                rows.append((name, x.value, x.se, unit))
            else:
                rows.append((name, float(x), 0.0, unit))

        m = self.metrics()
        add("mean", m["mean"], "yuan per capita")
        add("sd", m["sd"], "yuan per capita")
        for k, v in m["quantiles"].items():
            add(f"quantile {k}", v, "yuan per capita")
        for k, v in m["tvar"].items():
            add(f"tvar {k}", v, "yuan per capita")
        for k, v in m["prob_exceed"].items():
            add(f"P(claims > {k})", v, "probability")
        add("P(claims > net premium)", m["prob_claims_exceed_net_premium"], "probability")
        for k, v in m["settlement"].items():
            add(k, v, "probability" if k.startswith("prob") else "yuan per capita")
        for k, v in m["pricing"]["percentile_premium"].items():
            add(f"percentile premium {k}", v, "yuan per capita")
        add(f"premium with P(insurer loss) <= {self.alpha:g}", m["pricing"]["prob_loss_premium"], "yuan per capita")
        add(f"cost-of-capital premium (coc {self.coc:g})", m["pricing"]["cost_of_capital_premium"], "yuan per capita")
        return pd.DataFrame(rows, columns=["metric", "value", "se", "unit"])

    def headline(self) -> str:
        how = ("exact (FFT of the pool's annual law)" if self.method == "exact" else
               f"simulation ({self.sim.get('years')} years, {self.sim.get('engine')} engine, seed "
               f"{self.sim.get('seed')}): " + "; ".join(self.limits))
        return (f"{self.scenario.programme.name}: {self.insured:,} insured; premium {self.premium_per_capita:.2f} "
                f"yuan per capita, fee {self.fee_rate:.1%}. Method: {how}.")

    def _repr_html_(self) -> str:
        from html import escape

        return f"<b>{escape(self.headline())}</b>" + self.summary().to_html(index=False, float_format=lambda v: f"{v:,.4g}")

    def plot(self, ax=None):
        """The annual claims per capita (density, or a histogram of simulated years) with the premium and the
        net premium marked. Returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        ax = ax or plt.subplots(figsize=(7, 4))[1]
        if self.method == "exact":
            d = self.dist
            v, p = d.values, d.pmf
            keep = np.cumsum(p) > 1e-7
            keep &= np.cumsum(p[::-1])[::-1] > 1e-7
            ax.plot(v[keep], p[keep] / (d.step / d.insured), color="tab:blue", label="exact density")
        else:
            ax.hist(self.per_year, bins=max(10, int(math.sqrt(self.per_year.size))), density=True, color="tab:blue",
                    alpha=0.6, label=f"{self.per_year.size} simulated years")
        ax.axvline(self.premium_per_capita, color="tab:red", label=f"premium {self.premium_per_capita:.2f}")
        net = self.premium_per_capita * (1 - self.fee_rate)
        ax.axvline(net, color="tab:orange", ls="--", label=f"net premium {net:.2f}")
        ax.set_xlabel("annual CII claims, yuan per insured person-year")
        ax.set_ylabel("density")
        ax.set_title(f"{self.scenario.programme.name} ({self.method})", fontsize=10)
        ax.legend(fontsize=8)
        return ax


def risk_view(scenario: Scenario, *, quantiles=DEFAULT_QUANTILES, thresholds=(), method: str = "auto",
              alpha: float = PROB_LOSS_ALPHA, coc: float = COST_OF_CAPITAL_RATE, counts: np.ndarray | None = None,
              nodes: int = 5, years: int = 100, seed: int = 0, engine: str = "fast",
              progress: bool | None = None, **simulate_kw) -> RiskView:
    """The risk view of ``scenario`` (see the module docstring).

    ``method``: "auto" (exact where :func:`actuarial.exact.pool.exact_limits` is empty, else simulation), "exact"
    (forced: the limits are listed in the output) or "simulation". ``quantiles`` and ``thresholds`` are
    strings or numbers (kept as given for the output's keys); thresholds in yuan per capita. ``counts``:
    insured per population cell (default the expected composition, :func:`actuarial.exact.pool.cell_counts`).
    ``years``, ``seed``, ``engine`` (and ``simulate_kw`` for :func:`actuarial.results.simulation.simulate`): the
    simulated years when simulating.
    """
    qs = tuple(str(q) for q in quantiles)
    ts = tuple(str(t) for t in thresholds)
    for q in qs:
        if not 0 < float(q) < 1:
            raise ValueError(f"quantile levels must be in (0, 1) (got {q})")
    for t in ts:
        if not math.isfinite(float(t)) or float(t) < 0:
            raise ValueError(f"thresholds must be finite amounts >= 0 yuan per capita (got {t})")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1) (got {alpha})")
    if not 0 <= coc <= 1:
        raise ValueError(f"the cost-of-capital rate must be in [0, 1] (got {coc})")
    if method not in ("auto", "exact", "simulation"):
        raise ValueError(f"method must be 'auto', 'exact' or 'simulation' (got {method!r})")
    limits = tuple(exact_limits(scenario)) if method != "simulation" else ()
    fee = scenario.contract.combined_fee_rate
    use_exact = method == "exact" or (method == "auto" and not limits)
    common = dict(quantiles=qs, thresholds=ts, alpha=alpha, coc=coc)
    if use_exact:
        counts = cell_counts(scenario) if counts is None else np.asarray(counts, np.int64)
        dist = pool_distribution(scenario, counts, nodes=nodes, progress=bool(progress))
        insured = int(counts.sum())
        return RiskView(scenario, "exact", limits, insured, _premium_total(scenario, counts) / insured, fee,
                        dist=dist, **common)

    res = simulate(scenario, years, seed, engine=engine, progress=progress, **simulate_kw)
    per_year = res.yearly("claims") / res.yearly("people")
    return RiskView(scenario, "simulation", limits, res.insured, res.premium_per_capita(), fee, per_year=per_year,
                    sim={"engine": engine, "years": years, "seed": seed}, **common)


TARGETS = ("percentile", "prob_loss", "cost_of_capital")


def calibrate_risk(view: RiskView, target: str, percentile: float = 0.9) -> Estimate:
    """The premium per capita (yuan) for a risk target from a risk view: ``percentile`` (the ``percentile``
    quantile / (1 − fee)), ``prob_loss`` (P(insurer loss) ≤ ``view.alpha``) or ``cost_of_capital``.
    SE 0 when exact."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS} (got {target!r})")
    if target == "percentile":
        if not 0 < percentile < 1:
            raise ValueError(f"percentile must be in (0, 1) (got {percentile})")
        view = RiskView(**{**view.__dict__, "quantiles": (str(percentile),), "thresholds": ()})
        x = view.metrics()["pricing"]["percentile_premium"][str(percentile)]
    else:
        x = view.metrics()["pricing"]["prob_loss_premium" if target == "prob_loss" else "cost_of_capital_premium"]
    return x if isinstance(x, Estimate) else Estimate(x, 0.0)
