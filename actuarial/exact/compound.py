"""Exact annual distributions of the CII accumulation (精确累计分布), for homogeneous risk cells.

A *risk cell* (:mod:`actuarial.model.cells`) is the people who share one utilisation age band, sex,
scheme and region: they have the same episode streams, so their annual CII accumulation
(合规自付累计, yuan per person-year) has one compound distribution. This module
computes it on a grid by FFT and from it the expected CII benefit, as an
independent cross-check of the Monte Carlo engine and as the proposal tables of
:mod:`actuarial.engines.fast`.

Per episode of a stream at level *l* with cost *X* (yuan), compliant share
``s``, basic deductible ``d`` and basic coinsurance ``c`` (outpatient streams use
the outpatient terms), the accumulation receives

* ``(1 − c) · max(s·X − d, 0)`` when the basic deductible is not counted
  (``cii.includes_basic_deductible = false``), or
* ``s·X − c · max(s·X − d, 0)`` when it is,

and nothing from streams outside ``cii.scope``. Both are piecewise-linear and
non-decreasing in *X*, so the episode amount's distribution function is the
severity's at the inverse: no sampling is involved.

Discretisation: the episode amount is rounded to the *nearest* grid point
(``rounding="nearest"``; the grid's error in the mean is O(step²), and
:func:`expected_cii` shows it shrinking with the step) or *up*
(``rounding="up"``: every rounded amount is ≥ the true one, which the fast
engine needs for its proposal) or *down* (``rounding="down"``: the control variate of
:mod:`actuarial.exact.control`, which rounds each simulated episode the same way). Amounts at or above the last grid point are
lumped there; the lumped mass is reported (``truncated``) and a large value
means the grid is too short. Level mixes are mixed on the grid; the count
pgf — Poisson, negative binomial with gamma frailty of variance ``dispersion``,
and ``(1 − p) + p·G(z)`` for a prevalence ``p`` < 1 — is applied to the
transform, streams multiply, and the transform is padded (and exponentially
tilted) so that no mass wraps around; the total mass is checked.

Not modelled (documented limits of the cross-check): the basic annual cap
(最高支付限额) and the CII location rules (异地就医); use designs where they
do not bite (a high ``basic.annual_cap``; no ``cii.locations``).

>>> from actuarial import load_scenario
>>> sc = load_scenario("scenarios/provincial_guideline.toml")
>>> man_70_ncms = RiskCell(band=5, female=False, scheme=1, region=0)   # bands: actuarial.config.tables.UTILISATION_BANDS
>>> dist = cell_distribution(sc, man_70_ncms, step=40.0, n_points=4096)
>>> round(float(dist.pmf.sum()), 9)
1.0
>>> round(dist.sf(8000), 4)       # P(accumulation ≥ 8,000 yuan) in a year
0.0147
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..config.distributions import severity_from_spec
from ..model import basic as basicmod
from ..model import cii as ciimod
from ..model.cells import RiskCell, population_cells, risk_key, stream_mean, stream_prevalence
from ..model.claims import YearFactors, compliant_share, cost_scale
from ..scenario import CII, LEVELS, LOCATIONS, EpisodeStream, Scenario

Rounding = Literal["nearest", "up", "down"]
What = Literal["toward_cii", "oop_total", "basic_paid"]


# --------------------------------------------------------------------------- one episode
def episode_terms(scenario: Scenario, stream: EpisodeStream, level: str, what: What = "toward_cii"):
    """(a0, knot, a1): the episode amount is ``a0·min(X, knot) + a1·max(X − knot, 0)`` of the cost X (yuan).

    ``toward_cii`` is the contribution to the CII accumulation (before the basic annual cap);
    ``oop_total`` the total out-of-pocket after basic insurance (non-compliant cost included);
    ``basic_paid`` the basic fund's payment (before its annual cap).
    """
    basic = scenario.basic
    terms = basicmod.terms_for(basic, stream.setting, level)
    s = compliant_share(scenario.claims, level)
    d, c = terms.deductible, terms.coinsurance
    knot = d / s if s > 0 else math.inf
    if what == "oop_total":
        return 1.0, knot, 1.0 - c * s
    if what == "basic_paid":
        return 0.0, knot, c * s
    return ciimod.episode_contribution_terms(scenario.cii, scenario.claims, s, d, c)  # the engines' rule


def cost_at_amount(y: np.ndarray, a0: float, knot: float, a1: float) -> np.ndarray:
    """The cost X at which the episode amount reaches y (the inverse of the piecewise-linear map);
    at y ≤ 0 the largest cost with amount 0: the knot when the first piece is flat (a0 = 0), else 0."""
    y = np.asarray(y, float)
    pos = np.maximum(y, 0.0)
    low = a0 * knot if math.isfinite(knot) else math.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        below = pos / a0 if a0 > 0 else np.full_like(pos, np.inf)  # a0 = 0 below the knot: never a positive amount
        above = knot + (pos - low) / a1 if a1 > 0 else np.full_like(pos, np.inf)
    return np.where(y <= 0, knot if a0 == 0 else 0.0, np.where(pos <= low, below, above))


def amount_cdf(sev, scale: float, terms, y) -> np.ndarray:
    """P(amount ≤ y) for cost ``scale · X``, X ~ ``sev``; y in yuan (array)."""
    y = np.asarray(y, float)
    x = cost_at_amount(y, *terms)
    out = np.where(np.isfinite(x), sev.cdf(np.where(np.isfinite(x), x, 0.0) / scale), 1.0)
    return np.where(y < 0, 0.0, out)


def episode_pmf(scenario: Scenario, stream: EpisodeStream, scale: float, step: float, size: int,
                what: What = "toward_cii", rounding: Rounding = "nearest") -> np.ndarray:
    """Grid pmf (``size`` points, spacing ``step`` yuan) of one episode's amount, mixed over levels.

    Point ``size − 1`` also holds every amount beyond it (lumped tail). ``scale``
    multiplies the cost (region factor × year severity shock).
    """
    j = np.arange(size, dtype=float)
    # F at edges[k] = P(rounded ≤ k); rounded down, ≤ k means amount < (k + 1)·step (continuous above 0)
    edges = {"nearest": (j + 0.5) * step, "up": j * step, "down": (j + 1) * step}[rounding]
    pmf = np.zeros(size)
    total = sum(stream.level_mix.get(lvl, 0.0) for lvl in LEVELS)
    for lvl in LEVELS:
        w = stream.level_mix.get(lvl, 0.0)
        if w <= 0:
            continue
        cdf = amount_cdf(severity_from_spec(stream.severity[lvl]), scale, episode_terms(scenario, stream, lvl, what),
                         edges)
        cdf[-1] = 1.0
        pmf += w / total * np.diff(cdf, prepend=0.0)
    return np.maximum(pmf, 0.0)


# --------------------------------------------------------------------------- counts
def count_pgf(z: np.ndarray, mean: float, dispersion: float, prevalence: float = 1.0) -> np.ndarray:
    """Probability generating function of the episode count at complex ``z``."""
    if dispersion == 0:
        g = np.exp(mean * (z - 1))
    else:  # gamma frailty: (1 − β(z − 1))^(−r), r = 1/dispersion, β = mean·dispersion
        g = (1 - mean * dispersion * (z - 1)) ** (-1.0 / dispersion)
    return (1 - prevalence) + prevalence * g


def count_pmf(mean: float, dispersion: float, prevalence: float = 1.0, tol: float = 1e-15) -> np.ndarray:
    """P(N = n) for n = 0 .. n_max, n_max where the remaining mass is below ``tol``.

    Log-pmfs from ``gammaln`` (one vectorised call: the fast engine builds these per cell and year).
    """
    from scipy import special

    var = mean + dispersion * mean**2
    n_max = int(mean + 12 * math.sqrt(var) + 10)
    while True:
        n = np.arange(n_max + 1, dtype=float)
        if mean <= 0:
            p = (n == 0).astype(float)
        elif dispersion == 0:  # Poisson
            p = np.exp(n * math.log(mean) - mean - special.gammaln(n + 1))
        else:  # negative binomial: r = 1/dispersion, success probability r / (r + mean)
            r = 1.0 / dispersion
            log_q = math.log(mean / (r + mean))
            log_p = math.log(r / (r + mean))
            p = np.exp(special.gammaln(n + r) - special.gammaln(r) - special.gammaln(n + 1) + r * log_p + n * log_q)
        # The second test stops where rounding keeps 1 − Σp just above tol though the tail is gone.
        if 1 - p.sum() < tol or p[n_max // 2:].sum() < 1e-3 * tol or n_max > 100_000:
            break
        n_max *= 2
    p = prevalence * p
    p[0] += 1 - prevalence
    return p


# --------------------------------------------------------------------------- compound
@dataclass(frozen=True)
class GridDistribution:
    """A distribution on the grid 0, step, 2·step, ... (yuan): ``pmf[k] = P(A = k·step)``."""

    step: float
    pmf: np.ndarray
    truncated: float = 0.0  # per-episode mass lumped at the grid's end (largest over streams)

    @property
    def values(self) -> np.ndarray:
        return np.arange(self.pmf.size) * self.step

    def mean(self) -> float:
        return float(self.pmf @ self.values)

    def sf(self, x: float) -> float:
        """P(A ≥ x)."""
        return float(self.pmf[self.values >= x - 1e-9 * self.step].sum())

    def expect(self, fn) -> float:
        return float(self.pmf @ fn(self.values))


def compound(parts: list[tuple[np.ndarray, float, float, float]], size: int) -> np.ndarray:
    """pmf (``size`` points) of a sum of independent compound streams.

    ``parts``: (episode pmf on the grid, mean count, dispersion, prevalence) per stream.
    The transform is exponentially tilted (factor e^(−θk), θ = 10/size) so that mass
    beyond the end is damped by e^(−10) before it could wrap around.
    """
    theta = 10.0 / size
    tilt = np.exp(-theta * np.arange(size))
    log_t = np.zeros(size // 2 + 1, complex)
    for pmf, mean, dispersion, prevalence in parts:
        padded = np.zeros(size)
        k = min(pmf.size, size)
        padded[:k] = pmf[:k]
        phi = np.fft.rfft(padded * tilt)
        log_t += np.log(count_pgf(phi, mean, dispersion, prevalence))
    out = np.fft.irfft(np.exp(log_t), size) / tilt
    return np.maximum(out, 0.0)


def compound_cells(scenario: Scenario, cells: list[RiskCell], factors: YearFactors, streams: list,
                   episode, size: int, theta: float, keep: int, cache: dict | None = None,
                   key: str = "") -> np.ndarray:
    """(len(cells), keep): the first ``keep`` points of each risk cell's annual-sum pmf over ``streams``.

    Batched :func:`compound`: ``episode(stream, scale)`` gives one episode's grid pmf (≤ ``size``
    points) at a cost scale; its tilted transform is computed once per (stream, scale) and kept in
    ``cache`` under ``(key, stream position, scale)``; each cell multiplies in its count pgfs,
    region by region (which bounds the complex work array). Tilting by ``theta`` damps mass
    beyond ``size`` by e^(−θ·size) before it wraps around.
    """
    cache = {} if cache is None else cache
    # Cells of identical risk (risk_key) share one transform product and inverse FFT.
    keys = [risk_key(scenario, c, factors) for c in cells]
    first = {}
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    if len(first) < len(cells):
        unique = list(first.values())
        out = compound_cells(scenario, [cells[i] for i in unique], factors, streams, episode, size, theta, keep,
                             cache, key)
        where = {k: j for j, k in enumerate(first)}
        return out[[where[k] for k in keys]]
    tilt = np.exp(-theta * np.arange(size))
    shape = (len(streams), len(cells))
    mean = np.array([[stream_mean(st, c) for c in cells] for st in streams]).reshape(shape) * factors.frequency
    prev = np.array([[stream_prevalence(st, c) for c in cells] for st in streams]).reshape(shape)
    regions = np.array([c.region for c in cells])
    out = np.zeros((len(cells), keep))
    for r in np.unique(regions):
        at = np.flatnonzero(regions == r)
        scale = cost_scale(scenario, r, factors.severity)
        transform = np.ones((at.size, size // 2 + 1), complex)
        for k, stream in enumerate(streams):
            live = (mean[k, at] > 0) & (prev[k, at] > 0)
            if not live.any():
                continue
            if (key, k, scale) not in cache:
                pmf = episode(stream, scale)
                padded = np.zeros(size)
                padded[:pmf.size] = pmf
                cache[key, k, scale] = np.fft.rfft(padded * tilt)
            sel = at[live]
            transform[live] *= count_pgf(cache[key, k, scale][None, :], mean[k, sel, None], stream.dispersion,
                                         prev[k, sel, None])
        out[at] = np.maximum(np.fft.irfft(transform, size, axis=1)[:, :keep] / tilt[:keep], 0.0)
    return out


def stream_parts(scenario: Scenario, cell: RiskCell, factors: YearFactors, step: float, n_points: int,
                 what: What = "toward_cii", rounding: Rounding = "nearest"):
    """Compound inputs for every stream that contributes to ``what`` in ``cell``."""
    cii = scenario.cii
    scale = cost_scale(scenario, cell.region, factors.severity)
    parts = []
    for stream in scenario.claims.streams:
        if what == "toward_cii" and not cii.covers(stream.disease):
            continue
        mean = stream_mean(stream, cell) * factors.frequency
        prev = stream_prevalence(stream, cell)
        if mean <= 0 or prev <= 0:
            continue
        pmf = episode_pmf(scenario, stream, scale, step, n_points, what, rounding)
        parts.append((pmf, mean, stream.dispersion, prev))
    return parts


def cell_distribution(scenario: Scenario, cell: RiskCell, factors: YearFactors = YearFactors(), *,
                      step: float, n_points: int, size: int | None = None, what: What = "toward_cii",
                      rounding: Rounding = "nearest") -> GridDistribution:
    """Annual distribution of the accumulation (or total out-of-pocket) of one person of ``cell``.

    ``n_points`` grid points per episode (the last lumps the tail); ``size`` points for
    the annual total (default 4 × n_points, rounded up to a power of two).
    """
    parts = stream_parts(scenario, cell, factors, step, n_points, what, rounding)
    size = size or 1 << int(math.ceil(math.log2(4 * n_points)))
    if not parts:
        pmf = np.zeros(size)
        pmf[0] = 1.0
        return GridDistribution(step, pmf)
    pmf = compound(parts, size)
    mass = pmf.sum()
    if abs(mass - 1) > 1e-6:
        raise RuntimeError(f"exact distribution lost mass ({mass:.9f}); use a larger size or step")
    return GridDistribution(step, pmf / mass, max(float(p[0][-1]) for p in parts))


# --------------------------------------------------------------------------- CII expectation
@dataclass(frozen=True)
class ExactCII:
    """Expected CII figures per insured person-year (no sampling error), and the grid used."""

    claims_per_capita: float  # yuan per insured person-year
    beneficiaries_per_capita: float  # persons paid per insured person-year
    floor_probability: float  # P(accumulation ≥ lowest deductible)
    # Probabilities at a threshold count the share of the straddling grid point above it.
    step: float
    truncated: float  # largest per-episode mass lumped at the grid's end


def top_episode_cost(scenario: Scenario, factors: YearFactors = YearFactors(), cii: CII | None = None,
                     tail: float = 1e-9) -> float:
    """The largest episode cost's ``1 − tail`` quantile, yuan, after the year's and the regions' cost
    factors; with ``cii``, over the streams in its scope only."""
    top = 0.0
    for stream in scenario.claims.streams:
        if cii is not None and not cii.covers(stream.disease):
            continue
        for lvl, w in stream.level_mix.items():
            if w > 0:
                top = max(top, float(severity_from_spec(stream.severity[lvl]).ppf(1 - tail)))
    return top * factors.severity * max(r.cost_factor for r in scenario.population.regions)


def default_grid(scenario: Scenario, cii: CII, factors: YearFactors = YearFactors()) -> tuple[float, int]:
    """(step, points): step = lowest deductible / 400; the grid reaches the largest per-episode
    amount's 1 − 10⁻⁹ quantile (at most 2^16 points; beyond, the tail is lumped and reported).

    A design without a deductible (Shanghai) has no deductible to scale the step by: its 2^16 points
    then reach four times the largest in-scope episode cost's 1 − 10⁻⁶ quantile (a Pareto tail's
    1 − 10⁻⁹ quantile would make the step thousands of yuan); the lumped tail is reported.
    """
    ded = ciimod.min_deductible(cii)
    if ded <= 0:
        return top_episode_cost(scenario, factors, cii, tail=1e-6) * 4 / (1 << 16), 1 << 16
    step = max(ded, 1.0) / 400
    points = int(min(max(top_episode_cost(scenario, factors) / step, 8 * 400), 1 << 16))
    return step, points


def _share_above(values: np.ndarray, step: float, threshold: float) -> np.ndarray:
    """Share of each grid point's interval above ``threshold``. The point 0 stands for [0, step/2),
    almost all of it people with no in-scope episode: none of it counts (a design without a
    deductible pays from the first yuan, so those people are not beneficiaries)."""
    share = np.clip((values + step / 2 - threshold) / step, 0.0, 1.0)
    share[values <= 0] = 0.0
    return share


def expected_cii(scenario: Scenario, cii: CII | None = None, factors: YearFactors = YearFactors(), *,
                 step: float | None = None, n_points: int | None = None, cache: dict | None = None) -> ExactCII:
    """Expected CII benefit and beneficiaries per insured person-year, summed over the population's cells.

    The benefit is :func:`actuarial.model.cii.benefit` on the (all local) accumulation, with the
    B/C factor of :func:`actuarial.model.cii.eligible_factor`; the poor get their deductible and points.
    Cells of identical risk (:func:`risk_key`) share one compound distribution; ``cache`` (a dict)
    keeps the distributions for further designs on the same grid (:func:`expected_cii_designs`).

    >>> from actuarial import load_scenario
    >>> sc = load_scenario("scenarios/provincial_guideline.toml").replace(**{"basic.annual_cap": 1e9})
    >>> round(expected_cii(sc, step=80.0, n_points=2048).claims_per_capita, 1)   # yuan per person-year
    15.8
    """
    cii = cii or scenario.cii
    if step is None or n_points is None:
        s0, p0 = default_grid(scenario, cii, factors)
        if step is None:
            step = s0
        n_points = n_points or int(p0 * s0 / step)
    factor = ciimod.claims_eligible_factor(cii, scenario.claims)
    no_locations = cii.model_copy(update={"locations": {}})
    dists = {} if cache is None else cache
    heavy = (scenario.cii.scope, scenario.cii.includes_basic_deductible, step, n_points)
    on_grid: dict[bool, tuple] = {}  # every cell has the same grid: benefit and shares once per poverty status
    claims = benef = floor_p = 0.0
    truncated = 0.0
    for w, cell, poor in population_cells(scenario):
        key = (heavy, risk_key(scenario, cell, factors))
        if key not in dists:
            dists[key] = cell_distribution(scenario, cell, factors, step=step, n_points=n_points)
        dist = dists[key]
        truncated = max(truncated, dist.truncated)
        if poor not in on_grid:
            values = dist.values
            by_location = np.zeros((values.size, len(LOCATIONS)))
            by_location[:, 0] = values
            pay = ciimod.benefit(no_locations, by_location, np.full(values.size, poor), factor)
            # A grid point stands for [a − step/2, a + step/2): count the part of it above a threshold.
            ded = cii.effective_poor_deductible if poor else cii.deductible
            pays = cii.tiers[0].rate + (cii.poor_points / 100 if poor else 0.0) > 0 and factor > 0
            above = _share_above(values, step, ded / factor if factor > 0 else math.inf) if pays else None
            on_grid[poor] = pay, above, _share_above(values, step, ciimod.min_deductible(cii))
        pay, above, at_floor = on_grid[poor]
        claims += w * float(dist.pmf @ pay)
        benef += w * float(dist.pmf @ above) if above is not None else w * float(dist.pmf[pay > 0].sum())
        floor_p += w * float(dist.pmf @ at_floor)
    return ExactCII(claims, benef, floor_p, step, truncated)


def expected_cii_designs(scenario: Scenario, designs: list[CII], factors: YearFactors = YearFactors(), *,
                         step: float | None = None, n_points: int | None = None) -> list[ExactCII]:
    """:func:`expected_cii` of several CII designs priced on one set of distributions (one grid, set by
    the lowest deductible among them unless ``step`` is given; each distinct risk computed once)."""
    if step is None or n_points is None:
        low = min(designs, key=ciimod.min_deductible)
        s0, p0 = default_grid(scenario, low, factors)
        step = s0 if step is None else step
        n_points = n_points or int(p0 * s0 / step)
    cache: dict = {}
    return [expected_cii(scenario, d, factors, step=step, n_points=n_points, cache=cache) for d in designs]
