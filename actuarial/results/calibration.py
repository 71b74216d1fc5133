"""Premium calibration (费率测算) and the inverse problem: the benefit design a budget affords.

* :func:`calibrate_premium` — the per-capita premium that breaks even after the
  combined fee rate, or that covers a chosen percentile of the annual claims
  distribution, with a 95 % confidence interval.
* :func:`solve_deductible` / :func:`solve_tier_shift` — the CII deductible, or
  the uniform shift of all tier rates (points), at which expected claims use
  exactly a given premium net of the fee rate. Solved with
  :func:`scipy.optimize.brentq` on one set of draws (common random numbers), so
  the objective is a smooth deterministic function of the design.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Literal

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from ..engines.engine import accumulate
from ..scenario import CII, SCHEMES, Scenario, Tier
from .plots import _axes, plot_calibration
from ..estimates import Z95, Estimate, quantile_ci
from .simulation import SimulationResult, evaluate, simulate


@dataclass(frozen=True)
class Calibration:
    """A calibrated per-capita premium (yuan per insured person-year) with its 95 % CI."""

    target: str
    premium: float
    ci95: tuple[float, float]
    se: float
    current_premium: float
    by_scheme: dict[str, Estimate]
    result: SimulationResult

    def basic_fund_percent(self) -> dict | None:
        """The calibrated premium as % of basic-scheme funding, when the scenario is funded that way."""
        funding = self.result.scenario.funding
        if funding.basic_fund_share_percent is None:
            return None
        shares = self.result.scenario.population.scheme_shares
        basic = sum(shares[s] * funding.basic_fund_per_capita[s] for s in shares)
        return {"estimate": float(100 * self.premium / basic), "ci95": [float(100 * c / basic) for c in self.ci95],
                "current": funding.basic_fund_share_percent}

    def to_dict(self) -> dict:
        out = {
            "target": self.target,
            "premium_per_capita": {"estimate": self.premium, "se": self.se, "ci95": list(self.ci95)},
            "current_premium_per_capita": self.current_premium,
            "by_scheme": {s: e.to_dict() for s, e in self.by_scheme.items()},
        }
        if (pct := self.basic_fund_percent()) is not None:
            out["basic_fund_percent"] = pct
        return out

    def _repr_html_(self) -> str:
        import html

        lo, hi = self.ci95
        return (f"<b>Calibrated premium ({html.escape(self.target)})</b>: {self.premium:.2f} yuan per person-year "
                f"(95% CI {lo:.2f} – {hi:.2f}); currently {self.current_premium:.2f}"
                + self.table().set_index("group").to_html(float_format=lambda v: f"{v:,.2f}"))

    def summary(self):
        """Premium (yuan per person-year) with SE, 95 % CI and the current premium: all insured, then by scheme."""
        return self.table()

    def table(self):
        """Premium (yuan per person-year) with SE, 95 % CI and the current premium: all insured, then by scheme."""
        import pandas as pd

        rows = [("all", self.premium, self.se, *self.ci95, self.current_premium)]
        funding = self.result.scenario.funding
        rows += [(s, e.value, e.se, *e.ci95, funding.premium_per_capita(s)) for s, e in self.by_scheme.items()]
        return pd.DataFrame(rows, columns=["group", "premium", "se", "ci95_low", "ci95_high", "current_premium"])

    def plot(self, kind: str = "convergence", ax=None):
        """Convergence of the break-even premium with this calibration's CI, or a result plot kind."""
        return plot_calibration(self, kind, ax=ax)


def _result(source: Scenario | SimulationResult, years: int, seed: int, **kw) -> SimulationResult:
    if isinstance(source, SimulationResult):
        return source
    return simulate(source, years, seed, **kw)


def calibrate_premium(source: Scenario | SimulationResult, target: Literal["break_even", "percentile"] = "break_even",
                      percentile: float = 0.9, years: int = 20, seed: int = 0, **kw) -> Calibration:
    """Per-capita premium for ``target`` (yuan per insured person-year).

    ``break_even``: E[claims] / (1 − fee rate), CI from the Monte Carlo SE.
    ``percentile``: the ``percentile`` quantile of annual claims per capita over
    simulated years, / (1 − fee rate), with a distribution-free order-statistic
    CI; it needs enough years (at least 20 / (1 − percentile)).

    >>> from actuarial import load_scenario, calibrate_premium
    >>> sc = load_scenario("scenarios/qinzhou_2016.toml").replace(**{"population.size": 20000})
    >>> cal = calibrate_premium(sc, years=2, seed=1)
    >>> bool(cal.ci95[0] < cal.premium < cal.ci95[1])
    True
    """
    res = _result(source, years, seed, **kw)
    net = 1 - res.combined_fee_rate
    by_scheme = {}
    shares = res.scenario.population.scheme_shares
    if len(shares) > 1:
        for i, s in enumerate(SCHEMES):
            if s in shares:
                by_scheme[s] = res.break_even_premium([2 * i, 2 * i + 1])
    if target == "break_even":
        est = res.break_even_premium()
        return Calibration("break_even", est.value, est.ci95, est.se, res.premium_per_capita(), by_scheme, res)
    if target != "percentile":
        raise ValueError(f"target must be 'break_even' or 'percentile' (got {target!r})")
    if not 0 < percentile < 1:
        raise ValueError(f"percentile must be in (0, 1) (got {percentile})")
    per_capita = res.yearly("claims") / res.yearly("people") / net
    needed = math.ceil(20 / (1 - percentile) - 1e-9)  # about 20 years beyond the quantile
    if res.years < needed:
        raise ValueError(f"the {percentile:.0%} percentile needs at least {needed} "
                         f"simulated years (got {res.years}); pass more years")
    est, lo, hi = quantile_ci(per_capita, percentile)
    se = (hi - lo) / (2 * Z95)
    return Calibration(f"percentile {percentile:g}", est, (lo, hi), se, res.premium_per_capita(), by_scheme, res)


@dataclass(frozen=True)
class InverseSolution:
    """A design parameter solved for a budget, with the 95 % CI from the claims' Monte Carlo SE."""

    parameter: str
    value: float
    ci95: tuple[float, float]
    premium: float
    cii: CII
    result: SimulationResult

    design: Callable[[float], CII] | None = field(default=None, repr=False, compare=False)
    """The design at each parameter value (set by the solvers; :meth:`plot` traces it)."""
    bracket: tuple[float, float] | None = None

    def to_dict(self) -> dict:
        return {"parameter": self.parameter, "estimate": self.value, "ci95": list(self.ci95),
                "premium_per_capita": self.premium}

    def summary(self) -> pd.DataFrame:
        """One row: the parameter, its value and 95 % CI, and the budget premium (yuan per person-year)."""
        return pd.DataFrame([{"parameter": self.parameter, "estimate": self.value, "ci95_low": self.ci95[0],
                              "ci95_high": self.ci95[1], "premium_per_capita": self.premium}])

    def _repr_html_(self) -> str:
        import html

        return (f"<b>{html.escape(self.parameter)}</b> that a premium of {self.premium:.2f} yuan per person-year "
                f"affords: {self.value:,.2f} (95% CI {self.ci95[0]:,.2f} – {self.ci95[1]:,.2f})"
                + self.summary().to_html(index=False, float_format=lambda v: f"{v:,.2f}"))

    def plot(self, ax=None, points: int = 25):
        """Break-even premium (yuan per person-year, ± 1.96 SE) across the solver's bracket on the same
        draws, with the budget premium and the solution (and its CI) marked."""
        if self.design is None or self.bracket is None:
            raise ValueError("this solution carries no design to trace (build it with solve_deductible or "
                             "solve_tier_shift)")
        ax = _axes(ax)
        xs = np.linspace(*self.bracket, points)
        est = [self.result.with_design(self.design(x)).break_even_premium() for x in xs]
        y = np.array([e.value for e in est])
        half = Z95 * np.array([e.se for e in est])
        ax.plot(xs, y, color="C0", label="break-even premium")
        ax.fill_between(xs, y - half, y + half, color="C0", alpha=0.2, lw=0)
        ax.axhline(self.premium, color="C3", ls="--", lw=1, label=f"budget {self.premium:.2f}")
        ax.axvline(self.value, color="k", lw=1)
        ax.axvspan(*self.ci95, color="k", alpha=0.1, lw=0)
        ax.set_xlabel(self.parameter)
        ax.set_ylabel("yuan per person-year")
        ax.legend(frameon=False, fontsize=8)
        return ax


def _solve(res0: SimulationResult, design, lo: float, hi: float, premium: float, name: str) -> InverseSolution:
    net = premium * (1 - res0.combined_fee_rate)

    def claims(v: float) -> Estimate:
        return res0.with_design(design(v)).claims_per_capita()

    at_lo, at_hi = claims(lo).value, claims(hi).value  # the bracket's ends, shared by the three roots

    def root(target: float) -> float:
        if (at_lo - target) * (at_hi - target) > 0:
            raise ValueError(
                f"no {name} in [{lo:g}, {hi:g}] makes expected claims equal {target:.3f} yuan per capita "
                f"(claims run from {at_lo:.3f} to {at_hi:.3f}); widen the bracket or change the premium")
        return brentq(lambda v: claims(v).value - target, lo, hi, xtol=1e-6 * max(1.0, abs(hi - lo)))

    value = root(net)
    best = design(value)
    result = res0.with_design(best)
    se = result.claims_per_capita().se
    ends = sorted(root(net + s * Z95 * se) for s in (-1, 1)) if se > 0 and math.isfinite(se) else [value, value]
    return InverseSolution(name, value, (ends[0], ends[1]), premium, best, result, design, (lo, hi))


def solve_deductible(scenario: Scenario, premium: float | None = None, years: int = 20, seed: int = 0,
                     bracket: tuple[float, float] | None = None, **kw) -> InverseSolution:
    """The CII deductible (yuan) at which expected claims = ``premium`` × (1 − fee rate).

    ``premium`` defaults to the scenario's current premium per capita. The poor
    population's deductible keeps its ratio to the general one. The bracket
    defaults to 0.25–4 × the current deductible.
    """
    cii = scenario.cii
    d0 = cii.deductible if cii.deductible > 0 else 10_000.0
    lo, hi = bracket or (0.25 * d0, 4 * d0)
    if not 0 <= lo < hi:
        raise ValueError(f"bracket must satisfy 0 <= low < high (got {lo}, {hi})")
    poor_ratio = cii.effective_poor_deductible / cii.deductible if cii.deductible > 0 else 1.0

    def design(d: float) -> CII:
        upd = {"deductible": d}
        if cii.poor_deductible is not None:
            upd["poor_deductible"] = d * poor_ratio
        return cii.model_copy(update=upd)

    res0 = evaluate(accumulate(scenario, years, seed, floor=lo * min(1.0, poor_ratio), **kw), design(lo))
    return _solve(res0, design, lo, hi, res0.premium_per_capita() if premium is None else premium, "deductible")


def shift_tiers(cii: CII, points: float) -> CII:
    """``cii`` with every tier rate moved by ``points`` percentage points (clipped to 0–100)."""
    tiers = tuple(Tier(above=t.above, rate_percent=float(np.clip(t.rate_percent + points, 0, 100))) for t in cii.tiers)
    return cii.model_copy(update={"tiers": tiers})


def solve_tier_shift(scenario: Scenario, premium: float | None = None, years: int = 20, seed: int = 0,
                     bracket: tuple[float, float] = (-50.0, 50.0), **kw) -> InverseSolution:
    """The uniform shift of all tier rates (percentage points) at which expected claims use the premium."""
    res0 = simulate(scenario, years, seed, **kw)
    return _solve(res0, lambda p: shift_tiers(scenario.cii, p), bracket[0], bracket[1],
                  res0.premium_per_capita() if premium is None else premium, "tier_shift_points")
