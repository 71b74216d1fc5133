"""The exact annual distribution of the whole pool's CII claims (全统筹区年度赔付分布), by FFT.

Per population cell *c* (utilisation band, sex, scheme, region, poor or not; :func:`actuarial.model.cells.population_cells`)
every insured person's annual CII benefit *B* has one distribution: the exact annual accumulation of the
risk cell on a grid (:func:`actuarial.exact.compound.compound_cells`) mapped through :func:`actuarial.model.cii.benefit`.
People are independent given the year's shocks, so the pool's annual claims ``T = Σ_c Σ_{i∈c} B_i`` have
the characteristic function ``Π_c φ_c(ω)^{n_c}`` with ``n_c`` the (integer) number of insured in cell *c*.

How it is computed, and what is approximate (each reported on :class:`PoolDistribution`):

* **accumulation grid** (step ``h``, default lowest deductible / 100, "nearest" rounding): the only
  approximation in the per-person law; its error in the mean is O(h²) (about 10⁻⁴ yuan per capita for the
  provincial guideline, measured in ``benchmarks/README.md``). With a finite CII cap the grid ends where
  everyone's benefit reaches the cap, so the mass lumped at its end is paid exactly the cap.
* **benefit lattice** (step ``H`` yuan): each per-person benefit value is split between the two nearest
  lattice points so that its mean is kept exactly (a mean-preserving spread); the variance this adds to the
  pool total is computed exactly (``lattice_variance``).
* **window and aliasing**: the FFT of ``points`` lattice points covers ``[origin, origin + points·H)``, a
  window centred on the mean, not on 0 (a 10⁷-person pool needs no 10⁸-point grid). The mass outside it
  (which the FFT would wrap around) is bounded by Chernoff bounds computed from the lattice laws themselves,
  ``P(T ≥ u) ≤ min_θ exp(K(θ) − θu)`` with ``K`` the pool's cumulant generating function (``aliasing``).
* **year shocks** (lognormal frequency and severity multipliers of :func:`actuarial.model.claims.year_factors`):
  the pool law is computed exactly at Gauss–Hermite nodes of the two normals; each node's law, centred,
  is placed at the conditional mean interpolated (log-polynomial through the nodes) on a dense grid of the
  normals, so the mixture is smooth even where the conditional laws are far narrower than the node spacing.
  ``shock_error`` is the gap between the Gauss–Hermite mean and the mixture's mean (per capita).

Rules the method does not follow (:func:`exact_limits` lists them; :mod:`actuarial.contract.risk` then falls back
to simulated years): out-of-area CII schedules (``cii.locations`` with out-of-area care in scope) and the
basic annual cap where it can move CII claims by more than :data:`CAP_TOLERANCE` yuan per capita.

>>> from actuarial import load_scenario
>>> sc = load_scenario("scenarios/provincial_guideline.toml").replace(**{"population.size": 5_000_000})
>>> dist = conditional_pool(sc.replace(**{"basic.annual_cap": 1e9}))   # a design within the method's rules
>>> round(dist.mean(), 2), dist.aliasing < 1e-9          # yuan per insured person-year
(15.87, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from ..config import tables
from ..estimates import lattice_quantile, tail_mean
from ..model import cii as ciimod
from ..model.cells import population_cells
from ..model.claims import YearFactors
from ..model.population import generate_population
from ..scenario import LOCATIONS, Scenario
from .compound import compound_cells, episode_pmf, top_episode_cost
from .control import person_cells

ALIAS_TOL = 1e-12
"""Target bound on the probability outside the FFT window (each side)."""
POINTS = 1 << 16
"""Lattice points of the pool's annual total (FFT length)."""
CAP_TOLERANCE = 0.01
"""Largest bound (yuan per insured person-year) on what the basic annual cap can add to CII claims for
the method to count as exact (0.04 % of a 25-yuan premium). ASSUMPTION: a tolerance, not a statistic."""
GRID_PER_DEDUCTIBLE = 100
"""Accumulation grid points per lowest deductible (step = deductible / 100)."""


# --------------------------------------------------------------------------- what the method follows
def _away_in_scope(scenario: Scenario) -> bool:
    return any(st.level_mix.get("out_of_area", 0.0) > 0 for st in scenario.claims.streams
               if scenario.cii.covers(st.disease))


def basic_cap_bound(scenario: Scenario, factors: YearFactors = YearFactors()) -> float:
    """Upper bound (yuan per insured person-year) on the CII claims the basic annual cap adds.

    Where the basic fund's annual payment ``P`` exceeds the cap (最高支付限额), the patient's compliant
    out-of-pocket grows by ``P − cap`` at most, so the benefit grows by at most the highest marginal CII
    rate (poor points included) × the B/C factor × ``E[(P − cap)+]``, computed exactly per risk cell from
    the compound law of the annual basic payment (all streams).
    """
    cap = scenario.basic.annual_cap
    cii = scenario.cii
    factor = ciimod.claims_eligible_factor(cii, scenario.claims)
    rate = min(1.0, max(t.rate for t in cii.tiers) + cii.poor_points / 100)
    if rate * factor <= 0:
        return 0.0
    step = cap / 200
    n = 1024  # the annual payment on [0, 5·cap); beyond, lumped (counted at the lump: a lower bound
    # for that mass's excess, so the top is made generous below)
    size = 4 * n

    def episode(stream, scale):  # the basic payment, rounded up: an upper bound on it
        return episode_pmf(scenario, stream, scale, step, n, what="basic_paid", rounding="up")

    cells = population_cells(scenario)
    risk = sorted({c for _, c, _ in cells}, key=lambda c: (c.band, c.female, c.scheme, c.region))
    pmf = compound_cells(scenario, risk, factors, list(scenario.claims.streams), episode, size, 10.0 / size, size // 2)
    values = np.arange(size // 2) * step
    tail = 1.0 - pmf.sum(axis=1)  # beyond 10·cap: counted with a Markov-style allowance of 10·cap each
    excess = pmf @ np.maximum(values - cap, 0.0) + np.maximum(tail, 0.0) * 10 * cap
    weight = {c: 0.0 for c in risk}
    for w, c, _ in cells:
        weight[c] += w
    return float(rate * factor * sum(weight[c] * e for c, e in zip(risk, excess)))


def exact_limits(scenario: Scenario) -> list[str]:
    """Why the exact method cannot follow ``scenario`` (empty when it can), one sentence each.

    >>> from actuarial import load_scenario
    >>> sc = load_scenario("scenarios/provincial_guideline.toml")
    >>> [why.split(":")[0] for why in exact_limits(sc)]          # the basic annual cap can bite
    ['basic.annual_cap']
    >>> exact_limits(sc.replace(**{"basic.annual_cap": 1e9}))
    []
    """
    out = []
    if scenario.cii.locations and _away_in_scope(scenario):
        out.append("cii.locations: out-of-area schedules (异地就医) are applied to a mixed accumulation, "
                   "which the exact method does not follow")
    if not math.isfinite(scenario.basic.annual_cap) or scenario.basic.annual_cap >= 1e9:
        return out
    bound = basic_cap_bound(scenario, YearFactors(1.0, _stressed_severity(scenario)))
    if bound > CAP_TOLERANCE:
        out.append(f"basic.annual_cap: the basic annual cap can add up to {bound:.3g} yuan per capita to CII "
                   f"claims (tolerance {CAP_TOLERANCE:g}), which the exact method does not follow")
    return out


def _stressed_severity(scenario: Scenario) -> float:
    """A high severity multiplier (the 99.9 % shock) so the cap check holds in bad years too."""
    sd = scenario.claims.shocks.severity_sd
    trend = (1 + scenario.claims.cost_trend_percent / 100) ** 0
    if sd <= 0:
        return trend
    s2 = math.log1p(sd**2)
    return trend * math.exp(math.sqrt(s2) * 3.09 - s2 / 2)


# --------------------------------------------------------------------------- counts
def cell_counts(scenario: Scenario, size: int | None = None) -> np.ndarray:
    """Insured per population cell (:func:`actuarial.model.cells.population_cells` order), integers summing to
    ``size`` (default ``population.size``): the expected composition, rounded by largest remainders."""
    n = int(scenario.population.size if size is None else size)
    w = np.array([p for p, _, _ in population_cells(scenario)])
    raw = n * w / w.sum()
    counts = np.floor(raw).astype(np.int64)
    short = n - int(counts.sum())
    if short > 0:
        counts[np.argsort(counts - raw, kind="stable")[:short]] += 1
    return counts


def drawn_counts(scenario: Scenario, seed: int) -> np.ndarray:
    """Insured per population cell in the synthetic population the engines draw with ``seed``."""

    cells = population_cells(scenario)
    pop = generate_population(scenario, seed=seed)
    idx = person_cells(cells, tables.utilisation_band(pop.age), pop.female, pop.scheme, pop.poor, pop.region)
    return np.bincount(idx, minlength=len(cells)).astype(np.int64)


# --------------------------------------------------------------------------- per-person laws
@dataclass(frozen=True)
class PersonBenefits:
    """Per population cell, one person's annual CII benefit: ``pmf[c] @ values[poor[c]]`` is its mean (yuan)."""

    values: np.ndarray  # (2, grid points): benefit at each accumulation grid point, not poor / poor (yuan)
    pmf: np.ndarray  # (population cells, grid points)
    poor: np.ndarray  # (population cells,) bool
    step: float  # accumulation grid step, yuan
    truncated: float  # mass at the grid's end not paid exactly (0 with a finite cap)

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        v = self.values[self.poor.astype(int)]
        mean = np.einsum("ck,ck->c", self.pmf, v)
        second = np.einsum("ck,ck->c", self.pmf, v * v)
        return mean, np.maximum(second - mean**2, 0.0)


def _cap_reach(cii, factor: float) -> float:
    """Accumulation (yuan) at which everyone's local benefit has reached the cap (inf without one)."""
    if not math.isfinite(cii.cap) or factor <= 0:
        return math.inf
    local = cii.model_copy(update={"locations": {}})

    def pays(x: float) -> bool:
        acc = np.zeros((2, len(LOCATIONS)))
        acc[:, 0] = x
        return bool(np.all(ciimod.benefit(local, acc, np.array([False, True]), factor) >= cii.cap - 1e-9))

    lo, hi = 0.0, 1e10
    if not pays(hi):
        return math.inf
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if pays(mid) else (mid, hi)
    return hi


def person_benefits(scenario: Scenario, factors: YearFactors = YearFactors(), *, step: float | None = None,
                    cache: dict | None = None) -> PersonBenefits:
    """Each population cell's per-person annual benefit law (exact accumulation FFT, then the benefit rule)."""
    cii = scenario.cii
    factor = ciimod.claims_eligible_factor(cii, scenario.claims)
    ded = ciimod.min_deductible(cii)
    reach = _cap_reach(cii, factor)
    if not math.isfinite(reach):  # no cap: twice the largest episode cost's 1 − 10⁻⁹ quantile
        reach = 2 * top_episode_cost(scenario, factors, cii)
    if step is None:  # a deductible-free design (Shanghai) takes its step from the reach
        step = ded / GRID_PER_DEDUCTIBLE if ded > 0 else reach / 8192
        step = max(step, reach / 65536)
    n = max(int(math.ceil(reach / step)) + 2, 8 * GRID_PER_DEDUCTIBLE)
    size = 1 << int(math.ceil(math.log2(1.25 * n)))  # wrap-around beyond it is damped by the tilt (e^-10)
    cells = population_cells(scenario)
    risk = sorted({c for _, c, _ in cells}, key=lambda c: (c.band, c.female, c.scheme, c.region))
    streams = [st for st in scenario.claims.streams if cii.covers(st.disease)]
    acc = compound_cells(scenario, risk, factors, streams,
                         lambda st, scale: episode_pmf(scenario, st, scale, step, n), size, 10.0 / size, n,
                         cache=cache, key=f"pool{step}/{n}")
    lost = np.maximum(1.0 - acc.sum(axis=1), 0.0)
    acc[:, -1] += lost  # accumulations beyond the grid: paid the cap exactly when the grid reaches it
    truncated = 0.0 if math.isfinite(cii.cap) else float(lost.max(initial=0.0))
    grid = np.zeros((n, len(LOCATIONS)))
    grid[:, 0] = np.arange(n) * step
    values = np.stack([ciimod.benefit(cii.model_copy(update={"locations": {}}), grid, np.full(n, poor), factor)
                       for poor in (False, True)])
    index = {c: i for i, c in enumerate(risk)}
    rows = np.array([index[c] for _, c, _ in cells])
    return PersonBenefits(values, acc[rows], np.array([p for _, _, p in cells]), float(step), truncated)


def _lattice_map(values: np.ndarray, h: float) -> tuple[sparse.csr_matrix, int]:
    """Sparse (grid points × lattice points) map splitting each value between its two lattice neighbours,
    mean-preserving; and the lattice length."""
    u = values / h
    j = np.floor(u).astype(np.int64)
    frac = u - j
    k = int(j.max()) + 2
    rows = np.concatenate([np.arange(values.size)] * 2)
    cols = np.concatenate([j, j + 1])
    data = np.concatenate([1 - frac, frac])
    return sparse.csr_matrix((data, (rows, cols)), shape=(values.size, k)), k


def lattice_pmfs(pb: PersonBenefits, h: float) -> tuple[np.ndarray, float]:
    """(population cells, K) per-person benefit pmfs on the lattice 0, h, 2h, … and the variance the
    spread adds per person of each cell (yuan²)."""
    maps = [_lattice_map(pb.values[p], h) for p in (0, 1)]
    k = max(m[1] for m in maps)
    out = np.zeros((pb.pmf.shape[0], k))
    added = np.zeros(pb.pmf.shape[0])
    for p, (m, kp) in enumerate(maps):
        sel = pb.poor == bool(p)
        if sel.any():
            out[sel, :kp] = (m.T @ pb.pmf[sel].T).T
            u = pb.values[p] / h
            spread = h * h * (u - np.floor(u)) * (np.ceil(u) - u)
            added[sel] = pb.pmf[sel] @ spread
    return out, added


# --------------------------------------------------------------------------- the pool's law
@dataclass(frozen=True)
class PoolDistribution:
    """The pool's annual CII claims ``T`` (yuan per year) on a lattice: ``P(T = origin + k·step) = pmf[k]``.

    Accessors work in yuan per insured person-year (``T / insured``), the unit of a per-capita premium.
    """

    origin: float
    step: float
    pmf: np.ndarray
    insured: int
    aliasing: float  # bound on P(T outside the window), both sides
    lattice_variance: float  # variance the lattice adds to T, yuan² (mean unchanged)
    accumulation_step: float  # accumulation grid step h, yuan
    truncated: float  # per-person mass beyond a grid without a cap (paid at its end)
    nodes: int = 1  # shock quadrature nodes (1 without shocks)
    shock_error: float = 0.0  # |Gauss–Hermite mean − mixture mean|, yuan per capita
    info: dict = field(default_factory=dict)

    @property
    def values(self) -> np.ndarray:
        """Lattice values of the annual claims per capita (yuan per insured person-year)."""
        return (self.origin + self.step * np.arange(self.pmf.size)) / self.insured

    def mean(self) -> float:
        return float(self.pmf @ self.values)

    def sd(self) -> float:
        v = self.values
        m = self.mean()
        return float(math.sqrt(max(self.pmf @ (v - m) ** 2, 0.0)))

    def cdf(self, x: float) -> float:
        """P(T / insured ≤ x)."""
        return float(self.pmf[self.values <= x].sum())

    def prob_exceed(self, x: float) -> float:
        """P(T / insured > x)."""
        return float(self.pmf[self.values > x].sum())

    def quantile(self, q: float) -> float:
        """Smallest lattice value v with P(T / insured ≤ v) ≥ q (yuan per capita)."""
        return lattice_quantile(self.values, self.pmf, q)

    def tvar(self, q: float) -> float:
        """Tail value at risk: the mean of the worst ``1 − q`` of years, (1/(1−q)) ∫_q^1 VaR_u du (yuan per capita)."""
        return tail_mean(self.values, self.pmf / self.pmf.sum(), q)

    def expect(self, fn) -> float:
        """E[fn(T / insured)] for a vectorised ``fn``."""
        return float(self.pmf @ fn(self.values))


def _thetas(sd: float) -> np.ndarray:
    return np.logspace(-2, 2.5, 46) / max(sd, 1e-300)


def _chernoff(logmgf, sd: float, side: int, tol: float) -> float:
    """The point beyond which the mass on ``side`` (+1 right, −1 left) is ≤ tol by a Chernoff bound."""
    best = math.inf if side > 0 else -math.inf
    for th in _thetas(sd):
        k = logmgf(side * th)
        if math.isfinite(k):
            u = side * (k - math.log(tol)) / th
            best = min(best, u) if side > 0 else max(best, u)
    return best


def _tail_bound(logmgf, sd: float, side: int, edge: float) -> float:
    """Chernoff bound on P(T ≥ edge) (side +1) or P(T < edge) (side −1)."""
    return min([1.0] + [math.exp(min(logmgf(side * t) - side * t * edge, 0.0)) for t in _thetas(sd)])


def _log_mgf(pmfs: np.ndarray, counts: np.ndarray, h: float):
    k = np.arange(pmfs.shape[1]) * h
    live = counts > 0
    pm, n = pmfs[live], counts[live].astype(float)

    def f(theta: float) -> float:
        e = theta * k
        top = e.max()
        with np.errstate(divide="ignore"):
            return float(n @ (np.log(pm @ np.exp(e - top)) + top))
    return f


def _pool_transform(lat: np.ndarray, n: np.ndarray, origin_k: int, points: int) -> np.ndarray:
    """rfft of the pool's pmf wrapped to the window: Π_c φ_c^{n_c} · e^{2πi j·origin/points}.

    ``n_c · Log φ_c`` with integer ``n_c`` gives φ_c^{n_c} whatever the branch of the logarithm.
    Moduli first (real logs): frequencies where the product underflows are exactly 0 and need no angle.
    """
    phi = np.fft.rfft(lat, n=points, axis=1)
    re, im = phi.real, phi.imag
    with np.errstate(divide="ignore"):
        log_mod = n @ (0.5 * np.log(re * re + im * im))
    keep = np.flatnonzero(log_mod > -745.0)
    angle = n @ np.arctan2(im[:, keep], re[:, keep])
    j = keep.astype(np.int64)
    shift = 2 * np.pi * ((j * (origin_k % points)) % points) / points
    out = np.zeros(points // 2 + 1, complex)
    out[keep] = np.exp(log_mod[keep] + 1j * (angle + shift))
    return out


def conditional_pool(scenario: Scenario, counts: np.ndarray | None = None, factors: YearFactors = YearFactors(), *,
                     points: int = POINTS, step: float | None = None, cache: dict | None = None) -> PoolDistribution:
    """The pool's annual claims given the year's multipliers ``factors`` (no shock left to integrate)."""
    counts = cell_counts(scenario) if counts is None else np.asarray(counts, np.int64)
    pb = person_benefits(scenario, factors, step=step, cache=cache)
    if counts.shape != (pb.pmf.shape[0],) or np.any(counts < 0):
        raise ValueError(f"counts must be {pb.pmf.shape[0]} non-negative integers, one per population cell")
    insured = int(counts.sum())
    mean_c, var_c = pb.moments()
    mu, var = float(counts @ mean_c), float(counts @ var_c)
    sd = math.sqrt(var)
    top = float(pb.values.max())
    if sd <= 0:  # nobody can be paid: T = 0
        pmf = np.zeros(points)
        pmf[0] = 1.0
        return PoolDistribution(0.0, 1.0, pmf, insured, 0.0, 0.0, pb.step, pb.truncated)
    lo, hi = max(0.0, mu - 12 * sd), mu + 12 * sd + 3 * top
    for _ in range(6):  # the window from Chernoff bounds on the lattice laws themselves
        h = (hi - lo) / (points - 2)
        lat, added = lattice_pmfs(pb, h)
        logmgf = _log_mgf(lat, counts, h)
        new_hi = _chernoff(logmgf, sd, +1, ALIAS_TOL)
        new_lo = max(0.0, _chernoff(logmgf, sd, -1, ALIAS_TOL))
        width = new_hi - new_lo
        if new_hi <= hi and new_lo >= lo and width > 0.6 * (hi - lo):
            break
        lo, hi = max(0.0, new_lo - 0.03 * width), new_hi + 0.03 * width
    origin_k = int(math.floor(lo / h))
    origin = origin_k * h
    alias = _tail_bound(logmgf, sd, +1, origin + (points - 1) * h)
    if origin > 0:
        alias += _tail_bound(logmgf, sd, -1, origin)
    # characteristic function: Π φ_c^{n_c}, wrapped to the window (T − origin mod points)
    kk = lat.shape[1]
    if kk > points:
        wrapped = np.zeros((lat.shape[0], points))
        for start in range(0, kk, points):
            piece = lat[:, start:start + points]
            wrapped[:, :piece.shape[1]] += piece
        lat = wrapped
    live = counts > 0
    pmf = np.fft.irfft(_pool_transform(lat[live], counts[live].astype(float), origin_k, points), points)
    pmf = np.maximum(pmf, 0.0)
    pmf /= pmf.sum()
    return PoolDistribution(origin, h, pmf, insured, float(alias), float(counts @ added), pb.step, pb.truncated,
                            info={"expected_total": mu, "sd_total": sd})
