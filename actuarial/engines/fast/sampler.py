"""The fast engine's episode sampler: unconditioned draws, and episodes conditioned on the
rounded amounts that made a person a candidate (rejection, then weight rows; see :mod:`actuarial.engines.fast`).
"""

from __future__ import annotations

import math

import numpy as np

from ...model import basic as basicmod
from ...model import cii as ciimod
from ...model.claims import compliant_cost, draw_costs, draw_levels, draw_locations
from ...config.distributions import severity_from_spec
from ...exact.compound import cost_at_amount, episode_terms
from ...scenario import LEVELS, Scenario
from .tables import _folds, _unit_joint


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
