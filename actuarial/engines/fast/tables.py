"""The fast engine's tables: closed-form expectations per person-year, the proposal tables of each
risk cell (unit pmfs and their folds), the catastrophic probabilities, and draws of who reaches the
floor (see :mod:`actuarial.engines.fast`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...model import basic as basicmod
from ...model.claims import YearFactors, compliant_share, cost_scale
from ...config.distributions import severity_from_spec
from ...exact.compound import compound_cells, count_pmf, episode_pmf
from ...model.cells import RiskCell, stream_mean, stream_prevalence
from ...scenario import LEVELS, Scenario

GRID_POINTS = 400
"""Grid units in the floor: step h = floor / GRID_POINTS (yuan)."""
RARE = 0.002
"""A stream with P(N > 0) below this is not enumerated: any positive count makes a candidate."""
MAX_ENUMERATED = 20_000
"""At most this many enumerated count vectors per cell (rarer streams are demoted first)."""


# --------------------------------------------------------------------------- closed-form expectations
def limited_mean(sev, u: float) -> float:
    """E[min(X, u)] for a severity (yuan): the family's own :meth:`~actuarial.config.distributions.Severity.limited_mean`."""
    return sev.limited_mean(u)


EXPECTED_FIELDS = ("episodes", "cost", "compliant", "basic_paid")
"""The agg fields :func:`expected_per_person` returns, in its order."""


def expected_per_person(scenario: Scenario, cell: RiskCell, factors: YearFactors,
                        cache: dict | None = None) -> np.ndarray:
    """Expected (episodes, cost, compliant, basic paid before the annual cap) per person-year of ``cell``.

    ``cache`` keeps each stream's per-episode expectation at a cost scale (cells of one region share it).
    """
    cache = {} if cache is None else cache
    scale = cost_scale(scenario, cell.region, factors.severity)
    out = np.zeros(4)
    for k, stream in enumerate(scenario.claims.streams):
        rate = stream_mean(stream, cell) * factors.frequency * stream_prevalence(stream, cell)
        if rate <= 0:
            continue
        if ("per_episode", k, scale) not in cache:
            per = np.zeros(4)
            total = sum(stream.level_mix.values())
            for lvl, w in stream.level_mix.items():
                if w <= 0:
                    continue
                sev = severity_from_spec(stream.severity[lvl])
                s = compliant_share(scenario.claims, lvl)
                terms = basicmod.terms_for(scenario.basic, stream.setting, lvl)
                knot = terms.deductible / (s * scale) if s > 0 else math.inf
                paid = terms.coinsurance * s * scale * (sev.mean() - sev.limited_mean(knot))
                per += w / total * np.array([1.0, scale * sev.mean(), s * scale * sev.mean(), paid])
            cache["per_episode", k, scale] = per
        out += rate * cache["per_episode", k, scale]
    return out


# --------------------------------------------------------------------------- proposal tables
def _truncated_conv(a: np.ndarray, b: np.ndarray, top: int) -> np.ndarray:
    """Distribution of min(X + Y, top) for grid pmfs on 0..top (batched over leading axes)."""
    n = 1 << int(math.ceil(math.log2(2 * top + 2)))
    full = np.fft.irfft(np.fft.rfft(a, n) * np.fft.rfft(b, n), n)[..., :top]
    full = np.maximum(full, 0.0)
    return np.concatenate([full, np.maximum(1.0 - full.sum(axis=-1, keepdims=True), 0.0)], axis=-1)


@dataclass
class CellTables:
    """Per risk cell and year: how candidates are proposed (see the module docstring)."""

    streams: np.ndarray  # indices (into claims.streams) of in-scope streams with episodes
    count_pmfs: list  # P(N_k = n) per in-scope stream
    enumerated: np.ndarray  # positions (in ``streams``) of the enumerated streams
    caps: np.ndarray  # m_k per enumerated stream
    vectors: np.ndarray  # (V, len(streams)) enumerated count vectors with T > 0
    weights: np.ndarray  # P(n)·T(n) for each enumerated vector
    ok: np.ndarray  # P(stream k stays inside E) per in-scope stream
    z_e: float
    z_r: float
    expected: np.ndarray  # expected_per_person
    scale: float  # cost multiplier the proposal is tabulated at (region × table severity ≥ the year's)


def _grid(floor: float) -> tuple[float, int]:
    """Grid step (yuan) and the floor in grid units; a floor of 0 gets a nominal 1-yuan grid."""
    if floor <= 0:
        return 1.0, 1
    step = floor / GRID_POINTS
    return step, int(math.ceil(floor / step - 1e-9))


UNIT_PERSON_YEARS = 100_000_000
"""Without shocks, person-years per unit of work (about 1 GB of candidates at the guideline's rates)."""
PROGRESS_PERSON_YEARS = 200_000_000
"""By default the fast engine shows progress above this many person-years (a few seconds)."""
SHOCK_YEARS = 10
"""With shocks, simulated years per unit of work (years on one severity grid point share a sampler)."""
SEVERITY_GRID = 0.02
"""With shocks, proposal tables are tabulated at year severities on a log grid of this spacing."""


def table_severity(severity: float, shocks: bool) -> float:
    """The severity multiplier the proposal tables use: the year's own without shocks, else the
    next point ≥ it of a log grid (so tables are shared across years; costs are then scaled down)."""
    if not shocks:
        return severity
    b = math.exp(math.ceil(math.log(severity) / SEVERITY_GRID) * SEVERITY_GRID)
    return b if b >= severity else b * math.exp(SEVERITY_GRID)


def _unit_joint(scenario: Scenario, k: int, scale: float, step: float, top: int, cache: dict) -> np.ndarray:
    """(levels × top+1) joint pmf of (level, rounded-up units of ``step`` yuan) of one episode of stream ``k``."""
    key = ("unit", k, scale, step, top)
    if key not in cache:
        stream = scenario.claims.streams[k]
        joint = np.zeros((len(LEVELS), top + 1))
        for l_idx, lvl in enumerate(LEVELS):
            if stream.level_mix.get(lvl, 0.0) > 0:
                one = stream.model_copy(update={"level_mix": {lvl: 1.0}})
                joint[l_idx] = stream.level_mix[lvl] * episode_pmf(scenario, one, scale, step, top + 1,
                                                                   rounding="up")
        cache[key] = joint / joint.sum()
    return cache[key]


def _folds(scenario: Scenario, k: int, scale: float, step: float, top: int, m: int, cache: dict) -> np.ndarray:
    """D_k^n, n = 0..m: n-fold truncated convolutions of stream ``k``'s unit pmf (cached, grown on demand)."""
    key = ("folds", k, scale, step, top)
    d = cache.get(key, np.eye(1, top + 1))
    if d.shape[0] < m + 1:
        unit = _unit_joint(scenario, k, scale, step, top, cache).sum(axis=0)
        start = d.shape[0]
        d = np.concatenate([d, np.zeros((m + 1 - start, top + 1))])
        for n in range(start, m + 1):
            d[n] = _truncated_conv(d[n - 1], unit, top)
        cache[key] = d
    return d[:m + 1]


def build_tables(scenario: Scenario, cell: RiskCell, factors: YearFactors, floor: float,
                 cache: dict | None = None, *, severity: float | None = None) -> CellTables:
    """The proposal tables of one risk cell in a year with ``factors``.

    ``severity`` (≥ ``factors.severity``; default equal) is the severity multiplier the proposal
    (unit pmfs, T(n)) is tabulated at; counts use the year's frequency. ``cache`` keeps what depends
    only on (stream, cost scale) — unit pmfs, their n-fold convolutions and T(n) — so cells and
    years share them. P(out-of-pocket > threshold) is not here: :func:`catastrophic_probabilities`
    computes it for all cells at once.
    """
    cache = {} if cache is None else cache
    cii = scenario.cii
    step, top = _grid(floor)
    severity = factors.severity if severity is None else severity
    scale = cost_scale(scenario, cell.region, severity)
    streams, pmfs = [], []
    for k, stream in enumerate(scenario.claims.streams):
        if not cii.covers(stream.disease):
            continue
        mean = stream_mean(stream, cell) * factors.frequency
        prev = stream_prevalence(stream, cell)
        if mean <= 0 or prev <= 0:
            continue
        streams.append(k)
        pmfs.append(count_pmf(mean, stream.dispersion, prev))
    positive = np.array([1 - p[0] for p in pmfs])
    # With a floor of 0 every positive accumulation is kept: no stream is enumerated, so every
    # person with an in-scope episode is a candidate (set R).
    order = [i for i in np.argsort(-positive, kind="stable") if positive[i] >= RARE and floor > 0]
    caps = {}
    for i in order:
        tail = 1 - np.cumsum(pmfs[i])
        caps[i] = int(min(np.argmax(tail < 1e-4), 60))
    while order and np.prod([caps[i] + 1 for i in order]) > MAX_ENUMERATED:
        order.pop()
    enumerated = np.array(sorted(order), int)
    ok = np.array([pmfs[i][:caps[i] + 1].sum() if i in caps and i in order else pmfs[i][0] for i in range(len(streams))])
    z_r = float(1 - np.prod(ok))
    vectors = np.zeros((0, len(streams)), int)
    weights = np.zeros(0)
    if len(enumerated):
        folds = [_folds(scenario, streams[i], scale, step, top, caps[i], cache) for i in enumerated]
        key = ("T", tuple(streams[i] for i in enumerated), tuple(caps[i] for i in enumerated), scale, step, top)
        if key not in cache:  # T(n) on the grid of enumerated counts: depends on costs only, not on the cell
            prefix = folds[0]
            for d in folds[1:-1]:
                prefix = _truncated_conv(prefix[:, None, :], d[None, :, :], top).reshape(-1, top + 1)
            if len(folds) == 1:
                t = prefix[:, top]
            else:  # P(prefix + last ≥ top) = Σ_a P(prefix = a) P(last ≥ top − a)
                last = np.cumsum(folds[-1][:, ::-1], axis=1)[:, ::-1]  # last[n, r] = P(D^n ≥ r)
                t = (prefix @ last[:, top - np.arange(top + 1)].T).ravel()
            cache[key] = np.clip(t, 0.0, 1.0)
        t = cache[key]
        shape = tuple(caps[i] + 1 for i in enumerated)
        if ("grid", shape) not in cache:  # the enumerated count vectors, in T's order
            cache["grid", shape] = np.stack(np.unravel_index(np.arange(t.size), shape), axis=1)
        grid = cache["grid", shape]
        p = np.ones(t.size)
        for j, i in enumerate(enumerated):
            p *= pmfs[i][grid[:, j]]
        for i in range(len(streams)):
            if i not in enumerated:
                p *= pmfs[i][0]
        keep = t * p > 0
        vectors = np.zeros((int(keep.sum()), len(streams)), int)
        vectors[:, enumerated] = grid[keep]
        weights = (t * p)[keep]
    return CellTables(np.array(streams, int), pmfs, enumerated, np.array([caps[i] for i in enumerated], int),
                      vectors, weights, ok, float(weights.sum()), z_r,
                      expected_per_person(scenario, cell, factors, cache), scale)


def catastrophic_probabilities(scenario: Scenario, cells: list[RiskCell], factors: YearFactors,
                               cache: dict) -> np.ndarray:
    """P(total out-of-pocket > catastrophic threshold) per person-year of each cell (exact grid, step
    threshold/250), batched by :func:`actuarial.exact.compound.compound_cells` (1,024 points, so mass beyond
    four thresholds is damped by e^(−10) before it could wrap)."""
    thr = scenario.cii.catastrophic_threshold
    size = 1 << 10
    # Only P(total ≤ threshold) is needed, so each episode is lumped just above it (nothing to wrap).
    oop = compound_cells(scenario, cells, factors, list(scenario.claims.streams),
                         lambda stream, scale: episode_pmf(scenario, stream, scale, thr / 250, 252, what="oop_total"),
                         size, 10.0 / size, 251, cache, "oop")
    return 1.0 - oop[:, :250].sum(axis=1) - 0.5 * oop[:, 250]  # the grid point at the threshold straddles it


def _draw(pmf: np.ndarray, g: np.random.Generator, size: int) -> np.ndarray:
    """Draws from a (possibly unnormalised) pmf on 0..len−1 by inverse cdf."""
    c = np.cumsum(pmf)
    return np.minimum(np.searchsorted(c, g.random(size) * c[-1], side="right"), len(pmf) - 1)


def draw_outside(tab: CellTables, g: np.random.Generator, size: int) -> np.ndarray:
    """``size`` count vectors from the exact count law restricted to R (not all streams inside E)."""
    k = len(tab.streams)
    out = np.zeros((size, k), int)
    if size == 0:
        return out
    stay = np.cumprod(np.concatenate([[1.0], tab.ok[:-1]]))
    first = _draw(stay * (1 - tab.ok), g, size)  # the first stream outside E
    caps = np.full(k, -1)
    caps[tab.enumerated] = tab.caps
    for i in range(k):
        pmf = tab.count_pmfs[i]
        inside = pmf.copy()
        inside[caps[i] + 1:] = 0.0
        if caps[i] < 0:
            inside[0] = pmf[0]
        outside = pmf - inside
        for sel, law in ((first > i, inside), (first == i, outside), (first < i, pmf)):
            m = int(sel.sum())
            if m:
                out[sel, i] = _draw(law, g, m)
    return out
