"""Plots of simulation results, calibrations and fits (matplotlib).

Owns the pictures only: every number drawn here comes from a result object
(:class:`~actuarial.results.simulation.SimulationResult`, :class:`~actuarial.results.calibration.Calibration`,
:class:`~actuarial.fitting.ExperienceFit`). Each function takes an optional
``ax`` and returns the :class:`matplotlib.axes.Axes` it drew on, so plots
compose into a user's own figures. Labels are English (matplotlib often has no
CJK font); the HTML report adds the Chinese titles.

Kinds reachable from ``SimulationResult.plot(kind=...)``:

* ``"claims"`` — annual CII claims per capita over simulated years, with the
  premium and the net premium (premium × (1 − fee rate)) marked;
* ``"loss_ratio"`` — annual loss ratio, with the fee band [1 − fee rate, 1] shaded;
* ``"benefit_by_band"`` — CII paid and beneficiaries per simulated year by
  band of accumulation above the deductible (the tier bands);
* ``"convergence"`` — the claims-per-capita estimate and its 95 % CI as
  simulated years accumulate.

>>> import matplotlib; matplotlib.use("Agg")
>>> from actuarial import load_scenario, simulate
>>> res = simulate(load_scenario("scenarios/qinzhou_2016.toml").replace(**{"population.size": 20000}), years=3)
>>> ax = res.plot("claims")
>>> ax.get_xlabel()
'annual CII claims, yuan per insured person-year'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model import cii as ciimod

RESULT_KINDS = ("claims", "loss_ratio", "benefit_by_band", "convergence")


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    return ax


def _bins(x: np.ndarray) -> int:
    return int(np.clip(np.sqrt(max(x.size, 1)) * 2, 5, 50))


# --------------------------------------------------------------------------- data behind the plots
def yearly_claims_per_capita(res) -> np.ndarray:
    """CII claims per insured person-year in each simulated year (yuan)."""
    return res.yearly("claims") / res.yearly("people")


def yearly_loss_ratio(res) -> np.ndarray:
    """Claims / premium in each simulated year (fraction)."""
    return res.yearly("claims") / res.yearly("premium")


def convergence_table(res, break_even: bool = False) -> pd.DataFrame:
    """Claims per capita (or the break-even premium) estimated from the first k simulated years, k = 1..years.

    Columns: ``years``, ``estimate``, ``se``, ``ci95_low``, ``ci95_high`` (yuan per
    insured person-year). Each row is :meth:`SimulationResult.claims_per_capita` of the first k
    years (with the control variate where the result has one, :mod:`actuarial.exact.control`).
    """
    scale = 1 / (1 - res.combined_fee_rate) if break_even else 1.0
    records = []
    for k in range(1, res.years + 1):
        est = res.first_years(k).claims_per_capita().scaled(scale)
        lo, hi = est.ci95
        records.append((k, est.value, est.se, lo, hi))
    return pd.DataFrame.from_records(records, columns=["years", "estimate", "se", "ci95_low", "ci95_high"])


def benefit_by_band_table(res) -> pd.DataFrame:
    """CII paid and person-years per simulated year by tier band of the eligible annual accumulation.

    Band *j* holds the person-years whose accumulation (after the B/C self-pay, yuan) lies in
    tier *j*: from ``max(above_j, deductible)`` to ``above_{j+1}`` (``deductible + above_j`` to
    ``deductible + above_{j+1}`` with ``cii.tier_edges = "excess"``), exactly where
    :func:`actuarial.model.cii.tiered_benefit` pays tier *j*'s marginal rate. Person-years that reached
    the accumulation floor but not their own deductible form the first row. Columns: ``band``,
    ``rate_percent`` (the general tier rate), ``person_years`` and ``paid`` (yuan), both per
    simulated year.
    """
    rows, cii, sc = res.accumulations.rows, res.cii, res.scenario
    factor = ciimod.claims_eligible_factor(cii, sc.claims)
    deductible = np.where(rows.poor, cii.effective_poor_deductible, cii.deductible)
    x = factor * rows.by_location.sum(axis=1)
    edges = [t.above for t in cii.tiers]
    labels = ["below deductible"]
    plus = "deductible+" if cii.tier_edges == "excess" else ""  # edges measured from each one's deductible
    for i, lo in enumerate(edges):
        hi = edges[i + 1] if i + 1 < len(edges) else None
        start = "deductible" if i == 0 else plus + _short(lo)
        labels.append(f"{start}–{plus}{_short(hi)}" if hi is not None else f">{start}")
    # band 0: below the person's deductible; band j+1: edges[j] <= x < edges[j+1] (the marginal tier)
    band = np.where(x < deductible, 0, np.searchsorted(edges, ciimod.band_measure(cii, x, deductible), side="right"))
    n = len(labels)
    years = res.years
    count = np.bincount(band, minlength=n) / years
    paid = np.bincount(band, weights=res.benefit, minlength=n) / years
    rate = [np.nan] + [t.rate_percent for t in cii.tiers]
    return pd.DataFrame({"band": labels, "rate_percent": rate, "person_years": count, "paid": paid})


def _short(yuan: float) -> str:
    """20000 → '20k' (axis labels)."""
    return f"{yuan / 1000:g}k" if yuan >= 1000 else f"{yuan:g}"


# --------------------------------------------------------------------------- result plots
def plot_claims(res, ax=None):
    """Histogram of annual claims per capita, with the premium and net premium (yuan per person-year)."""
    ax = _axes(ax)
    x = yearly_claims_per_capita(res)
    premium = res.premium_per_capita()
    net = premium * (1 - res.combined_fee_rate)
    ax.hist(x, bins=_bins(x), color="#4C72B0", alpha=0.8, label=f"simulated years (n={x.size})")
    ax.axvline(premium, color="black", lw=2, label=f"premium {premium:.2f}")
    ax.axvline(net, color="#C44E52", ls="--", lw=2,
               label=f"net premium {net:.2f} (fee {res.combined_fee_rate:.1%})")
    est = res.claims_per_capita()
    ax.axvline(est.value, color="#55A868", ls=":", lw=2, label=f"expected claims {est.value:.2f} ± {est.se:.2f}")
    ax.set_xlabel("annual CII claims, yuan per insured person-year")
    ax.set_ylabel("simulated years")
    ax.set_title(f"{res.scenario.programme.name}: annual claims vs premium")
    ax.legend(fontsize=8)
    return ax


def plot_loss_ratio(res, ax=None):
    """Histogram of annual loss ratios with the fee band [1 − fee rate, 1] shaded."""
    ax = _axes(ax)
    x = yearly_loss_ratio(res)
    r = res.combined_fee_rate
    ax.axvspan(1 - r, 1, color="#DD8452", alpha=0.25,
               label=f"fee band {1 - r:.0%}–100% (insurer keeps less than its {r:.0%} fee)")
    ax.axvline(1 - r, color="#DD8452", lw=2)
    ax.axvline(1, color="#C44E52", lw=2, label="100%: loss beyond this")
    ax.hist(x, bins=_bins(x), color="#4C72B0", alpha=0.8, label=f"simulated years (n={x.size})")
    ax.set_xlabel("annual loss ratio (claims / premium)")
    ax.set_ylabel("simulated years")
    ax.xaxis.set_major_formatter(_percent_formatter())
    ax.set_title(f"{res.scenario.programme.name}: loss ratio")
    ax.legend(fontsize=8)
    return ax


def _percent_formatter():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0)


def plot_benefit_by_band(res, ax=None):
    """Bars: CII paid per simulated year by tier band (yuan), with beneficiaries on a second axis."""
    ax = _axes(ax)
    t = benefit_by_band_table(res)
    pos = np.arange(len(t))
    ax.bar(pos - 0.2, t["paid"] / 1e4, width=0.4, color="#4C72B0", label="CII paid (10,000 yuan / year)")
    ax.set_ylabel("CII paid, 10,000 yuan per simulated year")
    ax2 = ax.twinx()
    ax2.bar(pos + 0.2, t["person_years"], width=0.4, color="#DD8452", label="person-years / year")
    ax2.set_ylabel("person-years per simulated year")
    ax.set_xticks(pos, [f"{b}\n({r:.0f}%)" if np.isfinite(r) else b for b, r in zip(t["band"], t["rate_percent"])],
                  fontsize=8)
    ax.set_xlabel("eligible accumulation above the deductible, yuan (tier rate)")
    ax.set_title(f"{res.scenario.programme.name}: benefit by cost band")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper right")
    return ax


def plot_convergence(res, ax=None, break_even: bool = False, reference: float | None = None,
                     reference_label: str = "premium"):
    """The running estimate (claims per capita, or break-even premium) with its 95 % CI band."""
    ax = _axes(ax)
    t = convergence_table(res, break_even)
    ax.fill_between(t["years"], t["ci95_low"], t["ci95_high"], color="#4C72B0", alpha=0.25, label="95% CI")
    ax.plot(t["years"], t["estimate"], color="#4C72B0", marker="o", ms=3,
            label="break-even premium" if break_even else "claims per capita")
    if reference is not None:
        ax.axhline(reference, color="black", ls="--", label=f"{reference_label} {reference:.2f}")
    ax.set_xlabel("simulated years used")
    ax.set_ylabel("yuan per insured person-year")
    ax.set_title(f"{res.scenario.programme.name}: convergence of the estimate")
    ax.legend(fontsize=8)
    return ax


_RESULT_PLOTS = {"claims": plot_claims, "loss_ratio": plot_loss_ratio, "benefit_by_band": plot_benefit_by_band,
                 "convergence": plot_convergence}


def plot_result(res, kind: str = "claims", ax=None, **kw):
    """Dispatch for :meth:`SimulationResult.plot`; ``kind`` is one of :data:`RESULT_KINDS`."""
    if kind not in _RESULT_PLOTS:
        raise ValueError(f"plot kind must be one of {list(RESULT_KINDS)} (got {kind!r})")
    return _RESULT_PLOTS[kind](res, ax=ax, **kw)


# --------------------------------------------------------------------------- calibration
CALIBRATION_KINDS = ("convergence", "claims", "loss_ratio", "benefit_by_band")


def plot_calibration(cal, kind: str = "convergence", ax=None):
    """Convergence of the break-even premium with the calibrated premium and its CI; other kinds as for results."""
    if kind != "convergence":
        if kind not in CALIBRATION_KINDS:
            raise ValueError(f"plot kind must be one of {list(CALIBRATION_KINDS)} (got {kind!r})")
        return plot_result(cal.result, kind, ax=ax)
    ax = plot_convergence(cal.result, ax=ax, break_even=True, reference=cal.current_premium,
                          reference_label="current premium")
    lo, hi = cal.ci95
    ax.axhspan(lo, hi, color="#55A868", alpha=0.15)
    ax.axhline(cal.premium, color="#55A868", lw=2,
               label=f"calibrated ({cal.target}) {cal.premium:.2f} [{lo:.2f}, {hi:.2f}]")
    ax.legend(fontsize=8)
    return ax


# --------------------------------------------------------------------------- fit diagnostics
def plot_severity_fit(fit, level: str, kind: str = "qq", ax=None, stream: str | None = None):
    """Goodness of fit of the severity families at one hospital level.

    ``qq``: fitted quantiles against the empirical quantiles (log scales; on
    the diagonal when the family fits). ``cdf``: empirical CDF with each
    fitted family's CDF.
    """
    ax = _axes(ax)
    sev = fit.severity(level, stream)
    q, emp = sev.probabilities, sev.empirical_quantiles
    if kind == "qq":
        for name, dist in sev.distributions().items():
            style = "-" if name == sev.best else ":"
            ax.plot(emp, dist.ppf(q), style, marker=".", ms=3, label=f"{name} (AIC {sev.aic[name]:,.0f})")
        lo, hi = float(emp.min()), float(emp.max())
        ax.plot([lo, hi], [lo, hi], color="black", lw=1, label="perfect fit")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("empirical quantile, yuan per episode")
        ax.set_ylabel("fitted quantile, yuan per episode")
    elif kind == "cdf":
        ax.step(emp, q, where="post", color="black", lw=1.5, label=f"empirical (n={sev.n})")
        grid = np.geomspace(max(float(emp.min()), 1.0), float(emp.max()), 200)
        for name, dist in sev.distributions().items():
            ax.plot(grid, dist.cdf(grid), "-" if name == sev.best else ":", label=name)
        ax.set_xscale("log")
        ax.set_xlabel("cost per episode, yuan")
        ax.set_ylabel("cumulative probability")
    else:
        raise ValueError(f"kind must be 'qq' or 'cdf' (got {kind!r})")
    ax.set_title(f"severity at {level} level (best: {sev.best})")
    ax.legend(fontsize=8)
    return ax
