"""A fast engine: simulate in full only the people whose accumulation reaches the floor (快速引擎).

Most insured never reach the CII deductible. Per homogeneous risk cell (one
utilisation age band, sex, scheme and region) this engine computes, from the
exact grid distributions of :mod:`actuarial.exact`, how likely a person is to
reach the accumulation floor, draws how many people of the cell are
*candidates*, and simulates every episode only for them. The output is an
:class:`actuarial.engine.Accumulations`, so :func:`actuarial.results.evaluate`
works unchanged; select it with ``accumulate(..., engine="fast")`` or
``simulate(..., engine="fast")``.

Sampling — exact, the grid only proposes
----------------------------------------
Let *Y* be an episode's contribution to the accumulation (before the basic
annual cap) and ``u = min(ceil(Y / h), F)`` its grid units *rounded up*, with
``F = floor / h``. Then ``A ≥ floor`` implies ``Σu ≥ F``: the rounded event is a
superset. For the vector of in-scope stream counts *n* the probability
``T(n) = P(Σu ≥ F | n)`` is computed exactly on the grid (truncated n-fold
convolutions; everything at or above *F* is one lump, so nothing wraps).

* Streams where ``P(N > 0)`` is not small are *enumerated* up to a count
  ``m_k`` (set *E*); count vectors in *E* are proposed with probability
  ``∝ P(n)·T(n)``, and their episodes are drawn from their exact law given
  ``Σu ≥ F`` sequentially: each episode's units given those before, weighted by the
  tail of the later episodes' truncated convolution, then (level, cost) inside
  that grid cell by the severity's inverse survival function — no rejection.
* Every other count vector (a rare stream with a positive count, or a count above
  ``m_k``; set *R*) is drawn from its exact unconditional law restricted to *R*
  (by the first stream that leaves *E*), with unconditioned episodes.
* In a cell of ``n`` people the number of *E*- and *R*-candidates is multinomial
  with probabilities ``Z_E = Σ_E P(n)T(n)`` and ``Z_R = P(R)``; a candidate is kept
  when its exact accumulation reaches the floor.

Kept people are then exactly a Binomial(n, P(A ≥ floor)) thinning of the cell
with the exact conditional law of their episodes (levels, costs, locations):
the grid changes how many candidates are drawn, never what is kept. Streams
outside ``cii.scope`` are drawn unconditionally for the kept people (they enter
the basic annual cap and the out-of-pocket totals).

Shocks: each simulated year's multipliers (:func:`actuarial.claims.year_factors`)
rescale counts and costs. Count laws are the year's own; the proposal (unit pmfs,
T(n)) is tabulated at the next point ``s' ≥ s`` of a log grid of severities (2 %
apart, :func:`table_severity`), so years share tables, and conditioned costs are
multiplied by ``s/s' ≤ 1`` afterwards. That is exact: the episodes are drawn from
their law at ``s'`` given the rounded event, scaling them down gives the law at
``s``, and scaling down only lowers accumulations, so the event still contains
every person-year that reaches the floor (the accept step on exact sums does the rest).

Layout of the work: candidates of every cell (and every year of a unit of work)
with the same table cost scale go through one vectorised sequential sampler — one
numpy step per episode index. At the first episode everyone misses all *F* units, so
one weight row per distinct (stream, later episodes) serves all; at later episodes each
person's units are drawn by rejection (propose from the unit pmf, accept with the
later episodes' tail probability — exact), and the few still rejected after
REJECTION_ROUNDS get weight rows. A person leaves the sampler once the floor is
reached, and the later episodes are drawn unconditioned in one go.

Totals per (year, block, group) (``agg``): people and premium are counted
exactly; episodes, cost, compliant cost and basic paid are the people count
times their exact expectation per person-year (closed-form limited expectations),
so they carry no process noise, only the variation of each block's drawn population
(:mod:`actuarial.results` then takes blocks, not years, as their replicates:
``Accumulations.exact_totals``); the part of basic paid the annual cap cuts off
is added from the kept people; ``catastrophic_before`` is the people count times
``P(total out-of-pocket > threshold)`` from the exact grid distribution (step
threshold/250). Figures built on the rows (CII claims, beneficiaries, ...) keep
their full Monte Carlo error, so their standard errors are honest.

Rows also carry the rounded-down units of the claims control variate (:mod:`actuarial.control`),
which without shocks makes expected claims 10-150× less variable on the same draws.

Speed (provincial guideline, one core of a shared 2-core machine; see benchmarks/README.md):
about 90-140 million person-years/s without shocks against 4-5 million for the brute engine
and the plain-numpy baseline, with the same standard error per person-year for the CII
figures (the kept people are an exact sample): about 20-30× at equal CI width; the non-CII
totals carry no process noise. With shocks (10 % s.d.) about 17-21 million
person-years/s at 10^6 insured and 50 million at 10^7 (per-year tables and draws are fixed
cost). What is left is numpy work per candidate (≈ 1.5 µs, ≈ 3.3 episodes each), about 1.1
candidates per person-year kept.

Assumptions (documented limits): selection uses the accumulation before the
basic annual cap, and the cap's cut for people not kept is not counted; both
matter only when the cap binds below the floor (e.g. a disease-list scope and
huge out-of-scope costs). The population is drawn as multinomial cell counts per
block, not person by person, so the fast and brute engines use different random
numbers (same distribution). With ``floor = 0`` (no deductible, e.g. Shanghai) every
person with an in-scope episode is simulated, which is still cheap for disease-list schemes.

>>> from actuarial import load_scenario, simulate
>>> sc = load_scenario("scenarios/provincial_guideline.toml").replace(**{"population.size": 200_000})
>>> res = simulate(sc, years=2, seed=1, engine="fast")
>>> bool(res.claims_per_capita().se > 0)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import basic as basicmod
from . import rng as rngmod
from . import cii as ciimod
from .claims import (YearFactors, compliant_cost, compliant_share, cost_scale, draw_costs, draw_levels, draw_locations,
                     shock_matrix, year_factors)
from .driver import pass_floor, run_units
from .control import Control, grid_step, row_units
from .distributions import frequency_for, severity_from_spec
from . import agg_fields
from .accumulations import Accumulations, Rows
from .exact import (RiskCell, compound_cells, cost_at_amount, count_pmf, episode_pmf, episode_terms, population_cells,
                    stream_mean, stream_prevalence)
from .population import N_GROUPS, group_index
from .scenario import LEVELS, LOCATIONS, Scenario


GRID_POINTS = 400
"""Grid units in the floor: step h = floor / GRID_POINTS (yuan)."""
RARE = 0.002
"""A stream with P(N > 0) below this is not enumerated: any positive count makes a candidate."""
MAX_ENUMERATED = 20_000
"""At most this many enumerated count vectors per cell (rarer streams are demoted first)."""


# --------------------------------------------------------------------------- closed-form expectations
def limited_mean(sev, u: float) -> float:
    """E[min(X, u)] for a severity (yuan): the family's own :meth:`~actuarial.distributions.Severity.limited_mean`."""
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
    threshold/250), batched by :func:`actuarial.exact.compound_cells` (1,024 points, so mass beyond
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


# --------------------------------------------------------------------------- episodes
def draw_episodes(scenario: Scenario, counts: np.ndarray, scale: np.ndarray, g: np.random.Generator):
    """Episodes for count matrix (people × all streams): owner, stream, level, location, cost, compliant."""
    claims = scenario.claims
    n_streams = counts.shape[1]
    flat = np.repeat(np.arange(counts.size), counts.ravel())
    owner, stream = flat // n_streams, (flat % n_streams).astype(np.int16)
    m = owner.size
    level = np.zeros(m, np.int8)
    cost = np.empty(m)
    for s_idx, st in enumerate(claims.streams):
        sel = np.flatnonzero(stream == s_idx)
        if not sel.size:
            continue
        lv = draw_levels(g, st, sel.size)
        level[sel] = lv
        draw_costs(g, st, lv, cost, sel)
    cost *= scale[owner]
    location = draw_locations(g, claims, level)
    return owner, stream, level, location, cost, compliant_cost(claims, cost, level)


def toward_cii(scenario: Scenario, stream, level, compliant, inpatient):
    """Per-episode basic payment and contribution to the accumulation, before the annual cap."""
    paid, ded = basicmod.episode_payments(scenario.basic, compliant, level, inpatient[stream])
    return paid, ded, ciimod.episode_contribution(scenario.cii, scenario.claims, compliant, paid, ded)


# --------------------------------------------------------------------------- conditioned episodes
def _row_search(cum: np.ndarray, row: np.ndarray, target: np.ndarray) -> np.ndarray:
    """For each i, the first a with cum[row[i], a] > target[i] · cum[row[i], −1] (inverse cdf by rows).

    Rows are normalised to [0, 1] and shifted by 2·row, so one searchsorted serves every draw.
    """
    last = cum[:, -1:]
    flat = (cum / np.where(last > 0, last, 1.0) + 2 * np.arange(cum.shape[0])[:, None]).ravel()
    return np.searchsorted(flat, 2 * row + target, side="right") - row * cum.shape[1]


def _suffix_tails(scenario: Scenario, subs: np.ndarray, scale: float, step: float, top: int, cache: dict) -> np.ndarray:
    """tails[u, x] = P(min(Σ units of the episodes in count vector subs[u], top) ≥ x), x = 0..top.

    Products of the per-stream n-fold tables' transforms (no wrap: the padded length exceeds the
    largest possible sum of lumped parts); tails[:, 0] = 1 and the empty vector has tails 1[x = 0].
    """
    n_streams = subs.shape[1]
    present = [k for k in range(n_streams) if subs[:, k].any()]
    nfft = 1 << int(math.ceil(math.log2(max(len(present), 1) * (top + 1) + 1)))
    prod = np.ones((subs.shape[0], nfft // 2 + 1), complex)
    for k in present:
        d = _folds(scenario, k, scale, step, top, int(subs[:, k].max()), cache)
        prod *= np.fft.rfft(d, nfft, axis=1)[subs[:, k]]
    pmf = np.maximum(np.fft.irfft(prod, nfft, axis=1)[:, :top], 0.0)
    full = np.concatenate([pmf, np.maximum(1.0 - pmf.sum(axis=1, keepdims=True), 0.0)], axis=1)
    tails = np.cumsum(full[:, ::-1], axis=1)[:, ::-1]
    tails[:, 0] = 1.0
    return tails


REJECTION_ROUNDS = 8
"""Rejection rounds per step of the sequential sampler before the rest get exact weight rows."""
ROW_CHUNK = 8192
"""Weight rows (each top+1 floats) built at once in the sequential sampler."""


def draw_conditioned(scenario: Scenario, vecs: np.ndarray, inv: np.ndarray, owners: np.ndarray, scale: float,
                     g: np.random.Generator, step: float, top: int, cache: dict):
    """Episodes of people with in-scope count vectors ``vecs[inv]`` (``vecs``: distinct vectors × all
    streams; ``inv``: one index per person), drawn exactly from their law given Σu ≥ top at cost scale ``scale`` — sequentially, no rejection.

    Each person's episodes are put in a fixed order (by stream). Episode i's units have
    P(u_i = a | u_1..u_{i−1}) ∝ P(u = a)·P(u_{i+1} + … + u_n ≥ r − a), r the units still missing,
    the second factor from the transforms of the later episodes' count vector; then (level, cost)
    are drawn given the grid cell of the units, by the inverse survival function of the severity
    between the cell's bounds. Vectorised over every person at once (all cells of one cost scale):
    one step per episode index, with one weight row per distinct (stream, later episodes, r).
    Once r = 0, or at the last episode, the units are drawn from the unit pmf truncated below r.
    """
    n_streams = vecs.shape[1]
    n_of = vecs.sum(axis=1)
    n_max = int(n_of.max())
    # seq[v, j]: stream of the j-th episode; later[v, j]: count vector of the episodes after it.
    seq = np.full((len(vecs), n_max), -1)
    later = np.zeros((len(vecs), n_max, n_streams), int)
    for v, vec in enumerate(vecs):
        order = np.repeat(np.arange(n_streams), vec)
        seq[v, :order.size] = order
        later[v, :order.size] = vec - np.cumsum(np.eye(n_streams, dtype=int)[order], axis=0)
    subs, sub_of = np.unique(later.reshape(-1, n_streams), axis=0, return_inverse=True)
    sub_of = sub_of.reshape(len(vecs), n_max)
    tails = _suffix_tails(scenario, subs, scale, step, top, cache)
    d = np.zeros((n_streams, top + 1))
    for k in np.unique(seq[seq >= 0]):
        d[k] = _unit_joint(scenario, int(k), scale, step, top, cache).sum(axis=0)
    cum_d = np.cumsum(d, axis=1)
    grid = np.arange(top + 1)
    # ``alive``: people still short of the floor with episodes left. Once r = 0 the episodes left
    # are unconditioned: they are drawn in one go at the end (``free``), without grid units.
    alive = np.arange(inv.size)
    r = np.full(inv.size, top)
    n_left = n_of[inv]
    out_owner, out_stream, out_units, free_who, free_counts = [], [], [], [], []
    for j in range(n_max):
        if not alive.size:
            break
        v = inv[alive]
        st = seq[v, j]
        rj = r[alive]
        a = np.empty(alive.size, int)
        last = n_left[alive] == j + 1
        if last.any():  # P(u = a) on a ≥ r
            p_i, rr = st[last], rj[last]
            lo = cum_d[p_i, rr - 1] / cum_d[p_i, -1]
            a[last] = _row_search(cum_d, p_i, lo + g.random(p_i.size) * (1 - lo))
        cond = np.flatnonzero(~last)
        if cond.size and j > 0:
            # Rejection first (exact): propose a ~ P(u = a), accept with P(later ≥ r − a) ≤ 1.
            # After step 0 the units missing vary, so weight rows would be many; rejection is
            # per person and cheap. Whoever is still rejected after a few rounds gets a row.
            for _ in range(REJECTION_ROUNDS):
                p_i, rr = st[cond], rj[cond]
                prop = _row_search(cum_d, p_i, g.random(cond.size))
                take = g.random(cond.size) < tails[sub_of[v[cond], j], np.clip(rr - prop, 0, top)]
                a[cond[take]] = prop[take]
                cond = cond[~take]
                if not cond.size:
                    break
        if cond.size:
            pair = st[cond] * len(subs) + sub_of[v[cond], j]
            if j == 0:  # every r is top: distinct pairs by a bincount over their small range, no sort
                seen = np.bincount(pair, minlength=n_streams * len(subs)) > 0
                row = (np.cumsum(seen) - 1)[pair]
                keys = np.flatnonzero(seen) * (top + 1) + top
            else:
                keys, row = np.unique(pair * (top + 1) + rj[cond], return_inverse=True)
            u = g.random(cond.size)
            for lo_k in range(0, keys.size, ROW_CHUNK):
                kk = keys[lo_k:lo_k + ROW_CHUNK]
                ks, ksub, kr = kk // (top + 1) // len(subs), kk // (top + 1) % len(subs), kk % (top + 1)
                need = np.clip(kr[:, None] - grid[None, :], 0, top)
                w = d[ks] * tails[ksub[:, None], need]
                sel = (row >= lo_k) & (row < lo_k + kk.size) if keys.size > ROW_CHUNK else slice(None)
                a[cond[sel]] = _row_search(np.cumsum(w, axis=1), row[sel] - lo_k, u[sel])
        a = np.clip(a, 0, top)
        r[alive] = rj = np.maximum(rj - a, 0)
        out_owner.append(owners[alive])
        out_stream.append(st)
        out_units.append(a)
        done = (rj == 0) & ~last
        if done.any():
            free_who.append(owners[alive[done]])
            free_counts.append(later[v[done], j])
        alive = alive[(rj > 0) & ~last]
    owner, stream, units = (np.concatenate(x) for x in (out_owner, out_stream, out_units))
    parts = []
    for k in np.unique(stream):
        m = stream == k
        parts.append(_episodes_in_cells(scenario, int(k), _unit_joint(scenario, int(k), scale, step, top, cache), scale,
                                        units[m], owner[m], g, step, top))
    if free_who:
        who = np.concatenate(free_who)
        row, *cols = draw_episodes(scenario, np.concatenate(free_counts), np.full(who.size, scale), g)
        parts.append((who[row], *cols))
    return tuple(np.concatenate(c) for c in zip(*parts))


def _episodes_in_cells(scenario: Scenario, stream_idx: int, unit_levels: np.ndarray, scale: float, a: np.ndarray,
                       owner: np.ndarray, g: np.random.Generator, step: float, top: int):
    """(level, cost) of episodes of stream ``stream_idx`` at cost scale ``scale`` given their rounded-up units ``a``."""
    joint = unit_levels[:, a]  # (levels × episodes): P(level, units = a)
    cl = np.cumsum(joint, axis=0)
    level = np.minimum((cl < g.random(a.size) * cl[-1]).sum(axis=0), len(LEVELS) - 1).astype(np.int8)
    st = scenario.claims.streams[stream_idx]
    cost = np.empty(a.size)
    u = g.random(a.size)
    for l_idx, lvl in enumerate(LEVELS):
        sel = np.flatnonzero(level == l_idx)
        if not sel.size:
            continue
        sev = severity_from_spec(st.severity[lvl])
        a0, knot, a1 = episode_terms(scenario, st, lvl)
        aa = a[sel]

        x_lo = np.where(aa == 0, 0.0, cost_at_amount((aa - 1) * step, a0, knot, a1) / scale)
        x_hi = np.where(aa == top, np.inf, cost_at_amount(aa * step, a0, knot, a1) / scale)
        s_lo = sev.sf(x_lo)
        s_hi = np.where(np.isfinite(x_hi), sev.sf(np.where(np.isfinite(x_hi), x_hi, 0.0)), 0.0)
        cost[sel] = scale * sev.isf(s_hi + u[sel] * (s_lo - s_hi))
    location = draw_locations(g, scenario.claims, level)
    return owner, np.full(a.size, stream_idx, np.int16), level, location, cost, compliant_cost(scenario.claims, cost, level)


# --------------------------------------------------------------------------- simulated years
def simulate_years(scenario: Scenario, seed: int, years: list[int], contract_year: int, floor: float,
                   counts: np.ndarray, cells: list, tables: dict, control_step: float | None = None):
    """agg (len(years), blocks, N_GROUPS, fields) and kept Rows of simulated ``years``.

    Years with equal factors (all of them without shocks) share their tables and multinomial
    draws; with shocks each year has its own count laws, but years whose severities fall on the
    same grid point share the proposal tables and one sequential sampler.
    ``counts``: (blocks, cells) people per population cell; ``cells``: (prob, RiskCell, poor).
    ``control_step``: grid step (yuan) of the claims control variate (:mod:`actuarial.control`);
    the kept rows then carry min(S, TOP), else None.
    """
    claims, cii = scenario.claims, scenario.cii
    year_f = [year_factors(scenario, seed, y, contract_year) for y in years]
    g = rngmod.generator_for("fast.years", seed, contract_year, years[0], len(years))
    n_years, n_blocks = len(years), counts.shape[0]
    n_units = n_years * n_blocks  # unit = (year, block)
    n_streams = len(claims.streams)
    step, top = _grid(floor)
    in_scope = np.array([cii.covers(s.disease) for s in claims.streams])
    inpatient = basicmod.inpatient_streams(claims)
    premium = np.array(scenario.premium_by_scheme())
    agg = np.zeros((n_units, N_GROUPS, agg_fields.n_fields()))
    fi = agg_fields.index  # field positions by name
    conditioned = []  # set E: (cell index, table, vector indices, units, factor index)
    free = []  # set R: (cell index, count matrix over all streams, units, factor index)
    distinct_f = sorted(set(year_f), key=year_f.index)
    # With shocks the proposal is tabulated at a grid severity ≥ the year's (tables shared across
    # years); conditioned costs are scaled down by ``shrink`` afterwards, which only lowers
    # accumulations, so the candidates still cover every person-year that reaches the floor.
    t_sev = np.array([table_severity(f.severity, claims.shocks.enabled) for f in distinct_f])
    shrink = np.array([f.severity for f in distinct_f]) / t_sev
    for f_idx, factors in enumerate(distinct_f):
        at_years = np.array([i for i, f in enumerate(year_f) if f == factors])
        units_f = (at_years[:, None] * n_blocks + np.arange(n_blocks)).ravel()
        catastrophic = catastrophic_probabilities(scenario, [c for _, c, _ in cells], factors, tables)
        for c_idx, (_, cell, poor) in enumerate(cells):
            key = (cell, factors.frequency, factors.severity)
            tab = tables.get(key) or build_tables(scenario, cell, factors, floor, tables, severity=t_sev[f_idx])
            if not claims.shocks.enabled:  # a shocked year's own tables are not met again
                tables[key] = tab
            n = np.tile(counts[:, c_idx], at_years.size)
            grp = group_index(cell.scheme, int(poor))
            agg[units_f, grp, fi("people")] += n
            agg[units_f, grp, fi("premium")] += n * premium[cell.scheme]
            agg[units_f[:, None], grp, fi(EXPECTED_FIELDS)[None, :]] += n[:, None] * tab.expected
            agg[units_f, grp, fi("catastrophic_before")] += n * catastrophic[c_idx]
            if not len(tab.streams):
                continue
            rest = max(1.0 - tab.z_e - tab.z_r, 0.0)
            split = g.multinomial(n, np.array([tab.z_e, tab.z_r, rest]) / (tab.z_e + tab.z_r + rest))
            k_e, k_r = split[:, 0], split[:, 1]
            pick = _draw(tab.weights, g, int(k_e.sum())) if k_e.sum() else np.zeros(0, int)
            if pick.size:
                conditioned.append((c_idx, tab, pick, np.repeat(units_f, k_e), f_idx))
            if k_r.sum():
                mat = np.zeros((int(k_r.sum()), n_streams), int)
                mat[:, tab.streams] = draw_outside(tab, g, int(k_r.sum()))
                free.append((c_idx, mat, np.repeat(units_f, k_r), f_idx))
    get = agg_fields.get
    agg[..., fi("oop_compliant")] = get(agg, "compliant") - get(agg, "basic_paid")  # before the cap's cut
    agg[..., fi("oop_total")] = get(agg, "cost") - get(agg, "basic_paid")
    agg = agg.reshape(n_years, n_blocks, N_GROUPS, agg_fields.n_fields())
    # Candidates: set E first (conditioned on the rounded-up units), then set R (unconditioned).
    unit = np.concatenate([u for *_, u, _ in conditioned] + [u for *_, u, _ in free] + [np.zeros(0, int)])
    cell_of = np.concatenate([np.full(u.size, c) for c, *_, u, _ in conditioned + free]
                             + [np.zeros(0, int)]).astype(int)
    f_of = np.concatenate([np.full(u.size, f) for *_, u, f in conditioned + free] + [np.zeros(0, int)]).astype(int)
    n_cand = unit.size
    if n_cand == 0:
        return agg, Rows.concat([])
    severity = np.array([f.severity for f in distinct_f])[f_of]
    frequency = np.array([f.frequency for f in distinct_f])[f_of]
    scale = cost_scale(scenario, np.array([c.region for _, c, _ in cells])[cell_of], severity)
    chosen = []  # episodes: (owner = candidate id, stream, level, location, cost, compliant)
    offset = 0
    if conditioned:  # one sequential sampler per cost scale (region), across all cells
        starts = np.cumsum([0] + [p.size for _, _, p, _, _ in conditioned])
        for sc_val in sorted({tab.scale for _, tab, *_ in conditioned}):
            # Distinct count vectors without sorting the candidates: the vectors each cell used
            # (bincount), made distinct across cells, then looked up per candidate.
            parts = [(i, tab, p, np.flatnonzero(np.bincount(p, minlength=len(tab.vectors))))
                     for i, (_, tab, p, *_) in enumerate(conditioned) if tab.scale == sc_val]
            used = np.zeros((sum(m.size for *_, m in parts), n_streams), int)
            at = 0
            for _, tab, _, mine in parts:
                used[at:at + mine.size, tab.streams] = tab.vectors[mine]
                at += mine.size
            distinct, code = np.unique(used, axis=0, return_inverse=True)
            code, inv, who, at = code.ravel(), [], [], 0
            for i, tab, pick, mine in parts:
                local = np.zeros(len(tab.vectors), int)
                local[mine] = code[at:at + mine.size]
                inv.append(local[pick])
                who.append(starts[i] + np.arange(pick.size))
                at += mine.size
            owner, stream, level, location, cost, compliant = draw_conditioned(
                scenario, distinct, np.concatenate(inv), np.concatenate(who), float(sc_val), g, step, top, tables)
            down = shrink[f_of[owner]]
            chosen.append((owner, stream, level, location, cost * down, compliant * down))
        offset = int(starts[-1])
    if free:
        mat = np.concatenate([m for _, m, *_ in free])
        owner, *cols = draw_episodes(scenario, mat, scale[offset:], g)
        chosen.append((offset + owner, *cols))

    # Streams outside the scope, unconditioned, for every candidate.
    out_counts = np.zeros((n_cand, n_streams), int)
    cell_list = [c for _, c, _ in cells]
    for s_idx, st in enumerate(claims.streams):
        if in_scope[s_idx]:
            continue
        mean = np.array([stream_mean(st, c) for c in cell_list])[cell_of] * frequency
        prev = np.array([stream_prevalence(st, c) for c in cell_list])[cell_of]
        has = g.random(n_cand) < prev
        out_counts[:, s_idx] = frequency_for(st.dispersion).rvs(g, mean * has)
    if not in_scope.all():
        chosen.append(draw_episodes(scenario, out_counts, scale, g))
    person, stream, level, location, cost, compliant = (np.concatenate(cols) for cols in zip(*chosen))

    paid_u, ded, toward_u = toward_cii(scenario, stream, level, compliant, inpatient)
    covered = in_scope[stream]
    acc_u = np.bincount(person[covered], weights=toward_u[covered], minlength=n_cand)
    paid = basicmod.apply_annual_cap(scenario.basic, paid_u, person, n_cand)
    oop_c = compliant - paid
    toward = ciimod.episode_contribution(cii, scenario.claims, compliant, paid, ded)
    k = len(LOCATIONS)
    by_location = np.bincount(person[covered] * k + location[covered], weights=toward[covered],
                              minlength=n_cand * k).reshape(n_cand, k)
    oop_compliant = np.bincount(person, weights=oop_c, minlength=n_cand)
    oop_total = np.bincount(person, weights=cost - paid, minlength=n_cand)
    cut = np.bincount(person, weights=paid_u - paid, minlength=n_cand)
    kept = np.flatnonzero(acc_u >= floor if floor > 0 else acc_u > 0)
    units = None
    if control_step is not None:  # X > 0 needs h·S ≥ the deductible ≥ floor, so kept rows hold every X > 0
        units = row_units(person[covered], toward_u[covered], control_step, n_cand, kept)
    group = np.array([group_index(c.scheme, int(p)) for _, c, p in cells], np.int8)[cell_of]
    where = unit[kept] * N_GROUPS + group[kept]
    cut_g = np.bincount(where, weights=cut[kept], minlength=n_units * N_GROUPS).reshape(agg.shape[:3])
    agg[..., fi("basic_paid")] -= cut_g
    agg[..., fi("oop_compliant")] += cut_g
    agg[..., fi("oop_total")] += cut_g
    rows = Rows(np.asarray(years, np.int32)[unit[kept] // n_blocks], (unit[kept] % n_blocks).astype(np.int32),
                group[kept], by_location[kept], oop_compliant[kept], oop_total[kept], units)
    return agg, rows


def accumulate_fast(scenario: Scenario, years: int = 20, seed: int = 0, *, floor: float | None = None,
                    contract_year: int = 0, chunk_size: int | None = None, progress: bool | None = None,
                    map_fn=None) -> Accumulations:
    """The fast heavy pass: same arguments and output as :func:`actuarial.engine.accumulate`.

    ``chunk_size`` is accepted for compatibility and ignored; ``progress`` shows a bar over the
    units of work (default: above PROGRESS_PERSON_YEARS). The units of work are runs of
    simulated years: without shocks as many as UNIT_PERSON_YEARS allows, with them
    SHOCK_YEARS; ``map_fn`` maps over those units. One seed gives the same numbers
    however the units are mapped (but not the brute engine's numbers).
    """
    floor = pass_floor(scenario, years, floor)
    cells = population_cells(scenario)
    nb = rngmod.n_blocks(scenario.population.size)
    probs = np.array([w for w, _, _ in cells])
    size = scenario.population.size
    counts = np.stack([rngmod.generator_for("fast.population", seed, b).multinomial(
        np.subtract(*rngmod.block_bounds(size, b)[::-1]), probs / probs.sum()) for b in range(nb)])

    # Units of work: runs of simulated years, fixed by the scenario (so the numbers do not depend
    # on the mapping). Without shocks every year has the same tables, so a unit holds as many
    # years as UNIT_PERSON_YEARS allows (memory); with shocks, SHOCK_YEARS years.
    span = SHOCK_YEARS if scenario.claims.shocks.enabled else max(1, UNIT_PERSON_YEARS // max(size, 1))
    units = [list(range(y, min(y + span, years))) for y in range(0, years, span)]
    shared: dict | None = {} if map_fn is None else None  # in one process, units share tables
    step = grid_step(scenario, floor)  # the claims control variate; None with shocks
    control = None if step is None else Control.build(scenario, cells, counts,
                                                      year_factors(scenario, seed, 0, contract_year), step)

    def run(unit: list[int]):
        return unit[0], *simulate_years(scenario, seed, unit, contract_year, floor, counts, cells,
                                        shared if shared is not None else {}, step)

    show = progress if progress is not None else size * years > PROGRESS_PERSON_YEARS
    span_of = {u[0]: len(u) for u in units}
    outs = run_units(run, units, map_fn, total=size * years, show=show, desc="simulating (fast)",
                     done=lambda out: size * span_of[out[0]], key=lambda out: out[0])
    agg = np.concatenate([a for _, a, _ in outs])
    return Accumulations(scenario, int(seed), int(years), int(contract_year), floor, agg,
                         Rows.concat([r for _, _, r in outs]), shock_matrix(scenario, seed, years, contract_year), exact_totals=True, control=control,
                         engine="fast")
