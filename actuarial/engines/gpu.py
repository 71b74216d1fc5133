"""The brute-force engine on an array module (numpy or CuPy): many blocks of people per launch.

Same model as :func:`actuarial.engines.engine.simulate_block` — population, episode
streams with prevalence, Poisson / negative-binomial counts, hospital levels,
lognormal / gamma / spliced-Pareto severities, region cost factors, locations,
basic insurance with its annual cap (最高支付限额), accumulation by location for
in-scope streams — and the same output (:class:`actuarial.engines.accumulations.Accumulations`),
so :func:`actuarial.results.simulation.evaluate` works unchanged. Written only with ``xp``
operations on whole arrays; loops run over streams, levels, years and rejection
rounds, never over people.

Random numbers come from the counter-based generator of :mod:`actuarial.backend`:
each draw is a hash of a key (from :func:`actuarial.model.rng.seed_sequence` of the
seed, the purpose and the contract year, then the simulated year and the
stream's name) and counters that name the draw (global person number, episode
rank, rejection attempt). So the numbers do not depend on ``batch_blocks``,
chunking or worker count, and numpy and CuPy draw the same uniforms. They are
other numbers than the CPU engine's (agreement is statistical; year shocks are
shared, they come from :func:`actuarial.model.claims.year_factors`).

Sums use ``bincount``: bit-for-bit reproducible on numpy; on CuPy the additions
are atomic, so totals are reproducible to floating-point rounding (~1e-15
relative), not bit for bit.

>>> from actuarial import load_scenario
>>> from actuarial.results.simulation import evaluate
>>> sc = load_scenario("scenarios/provincial_guideline.toml").replace(**{"population.size": 20_000})
>>> acc = accumulate_gpu(sc, years=2, seed=1, xp="numpy")
>>> acc.agg.shape, evaluate(acc).claims_per_capita().value > 0
((2, 1, 6, 9), True)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..model import basic as basicmod
from ..model import rng as rngmod
from ..config import tables
from ..backend import CounterUniforms, bincount, derive_key, get_array_module, to_numpy, uniform
from ..backend import standard_gamma as backend_standard_gamma
from .driver import pass_floor
from ..model.cii import episode_contribution
from ..model.claims import (OUT_OF_AREA, compliant_cost, level_weights, location_weights, region_cost_factors,
                            shock_matrix, year_factors)
from ..config.distributions import severity_from_spec
from ..exact.control import TOP, episode_units, grid_step, person_cells
from ..model import agg_fields
from .accumulations import Accumulations, BlockOutcome, MapFn, Rows, control_from_blocks, run_blocks
from ..model.cells import population_cells
from ..model.population import N_GROUPS, age_in_band, composition, group_index
from ..scenario import LEVELS, LOCATIONS, SCHEMES, Scenario

# Purposes of the draws of one episode stream (first counter of every draw's hash; actuarial.model.rng.GPU_EPISODES).
PREVALENCE, FRAILTY, COUNT, LEVEL, SEVERITY, LOCATION = (rngmod.GPU_EPISODES[k] for k in (
    "prevalence", "frailty", "count", "level", "severity", "location"))
POISSON_PART = 64.0
"""Poisson means above this are drawn as sums of independent parts (exp(-mean) must not underflow)."""

DEFAULT_BATCH_BLOCKS = {"numpy": 4, "cupy": 128}
"""Blocks of 65,536 people per batch: one set of array operations over all of them."""


def _key(seed: int, purpose: str, *path: int) -> int:
    """The counter-based generator's key of ``purpose`` (a name in :data:`actuarial.model.rng.PURPOSES`)."""
    state = rngmod.seed_for(purpose, seed, *path).generate_state(2, np.uint64)
    return derive_key(int(state[0]), int(state[1]))


# ----------------------------------------------------------------------------- samplers (from uniforms)
def categorical(xp, p, u):
    """Index drawn with probabilities ``p`` (normalised here) by inverse transform of uniforms ``u``."""
    p = np.asarray(p, float)
    cum = np.cumsum(p / p.sum())
    cum[np.flatnonzero(p)[-1]:] = 1.0  # rounding can never pick a trailing category of probability 0
    return xp.searchsorted(xp.asarray(cum), u, side="right")


def standard_gamma(xp, shape: float, key: int, *counters):
    """Gamma(shape, 1) variates, one per element of the 1-D ``counters``
    (:func:`actuarial.backend.standard_gamma` on the uniforms of ``key`` and ``counters``)."""
    return backend_standard_gamma(xp, shape, CounterUniforms(xp, key, counters))


def _poisson_small(xp, mean, u):
    """Poisson(mean) by sequential search of the CDF (mean ≤ POISSON_PART), one uniform each."""
    k = xp.zeros(mean.shape[0], xp.int64)
    p = xp.exp(-mean)
    cdf = p.copy()
    active = xp.flatnonzero(u > cdf)
    while active.size:
        k[active] += 1
        p[active] *= mean[active] / k[active]
        cdf[active] += p[active]
        # p reaching 0 stops the search where rounding keeps the CDF just below u
        active = active[(u[active] > cdf[active]) & (p[active] > 0)]
    return k


def poisson(xp, mean, key: int, *counters):
    """Poisson counts with per-element ``mean`` (any size), by inverse transform in parts of ≤ 64."""
    out = xp.zeros(mean.shape[0], xp.int64)
    remaining = mean.astype(xp.float64, copy=True)
    part = 0
    idx = xp.flatnonzero(remaining > 0)
    while idx.size:
        m = xp.minimum(remaining[idx], POISSON_PART)
        remaining[idx] -= m
        out[idx] += _poisson_small(xp, m, uniform(xp, key, *(c[idx] for c in counters), part))
        idx = idx[remaining[idx] > 0]
        part += 1
    return out


def severity(xp, spec, key: int, *counters):
    """Episode costs (yuan) for a scenario severity spec: the family's own ``sample`` on the uniforms of
    ``key`` and ``counters`` (inverse transform by default; the gamma's rejection sampler)."""
    return severity_from_spec(spec).sample(xp, CounterUniforms(xp, key, counters))


def basic_payments(xp, basic, compliant, level, inpatient, person, n_people: int):
    """Basic fund payment after the annual cap, the deductible part, and the payment before the cap,
    per episode (yuan): :func:`actuarial.model.basic.episode_payments` and :func:`actuarial.model.basic.apply_annual_cap`
    on ``xp`` arrays (the rules' one home)."""
    uncapped, deductible_part = basicmod.episode_payments(basic, compliant, level, inpatient, xp)
    return basicmod.apply_annual_cap(basic, uncapped, person, n_people, xp), deductible_part, uncapped


# ----------------------------------------------------------------------------- one batch of blocks
def _population(xp, scenario: Scenario, seed: int, blocks: Sequence[int]):
    """People of consecutive ``blocks``: global person numbers, block (0-based in the batch) and columns."""
    cfg = scenario.population
    bounds = [rngmod.block_bounds(cfg.size, b) for b in blocks]
    pid = xp.concatenate([xp.arange(a, b, dtype=xp.int64) for a, b in bounds])
    local = xp.concatenate([xp.full(b - a, i, xp.int64) for i, (a, b) in enumerate(bounds)])
    key = _key(seed, "gpu.population")
    c = rngmod.GPU_PEOPLE
    comp = composition(cfg)
    band5 = categorical(xp, comp.age, uniform(xp, key, c["age_band"], pid))
    age = age_in_band(band5, xp.floor(uniform(xp, key, c["age_year"], pid) * 5).astype(xp.int64), xp)
    female = uniform(xp, key, c["female"], pid) < comp.female
    scheme = categorical(xp, comp.scheme, uniform(xp, key, c["scheme"], pid))
    poor = uniform(xp, key, c["poor"], pid) < xp.asarray(comp.poor)[scheme]
    region = categorical(xp, comp.region, uniform(xp, key, c["region"], pid))
    band = tables.utilisation_band(age, xp)
    group = group_index(scheme, poor.astype(xp.int64))
    return dict(pid=pid, local=local, band=band, female=female, scheme=scheme, region=region, group=group)


def _episodes(xp, scenario: Scenario, people: dict, key_year: int, frequency: float, sev_factor: float):
    """All episodes of the batch in one year: person (batch index), stream, level, location, cost, compliant."""
    claims = scenario.claims
    pid, band = people["pid"], people["band"]
    region_cost = xp.asarray(region_cost_factors(scenario.population))
    parts = []
    for s_idx, st in enumerate(claims.streams):
        ks = derive_key(key_year, rngmod.stream_id(st.name))
        if st.prevalence < 1 or st.prevalence_age_factor is not None:
            prev = st.prevalence
            if st.prevalence_age_factor is not None:
                prev = st.prevalence * xp.asarray(np.asarray(st.prevalence_age_factor, float))[band]
            who = xp.flatnonzero(uniform(xp, ks, PREVALENCE, pid) < prev)
        else:
            who = xp.arange(pid.shape[0])
        mean = xp.asarray(np.asarray(st.episodes_by_age, float))[band[who]]
        if st.female_factor != 1.0:
            mean = mean * (1.0 + (st.female_factor - 1.0) * people["female"][who])
        if st.scheme_factor:
            factor = xp.asarray(np.array([st.scheme_factor.get(s, 1.0) for s in SCHEMES]))
            mean = mean * factor[people["scheme"][who]]
        mean = mean * frequency
        if st.dispersion > 0:  # negative binomial: gamma frailty of mean 1 and variance `dispersion`
            k = 1.0 / st.dispersion
            mean = mean * standard_gamma(xp, k, ks, xp.full(who.shape[0], FRAILTY), pid[who]) / k
        counts = poisson(xp, mean, ks, xp.full(who.shape[0], COUNT), pid[who])
        # Episode e belongs to the person whose cumulative count first exceeds e (repeat without host sync).
        ends = xp.cumsum(counts)
        m = int(ends[-1]) if ends.shape[0] else 0
        e = xp.arange(m)
        owner = xp.searchsorted(ends, e, side="right")
        person = who[owner]
        rank = e - (ends - counts)[owner]  # k-th episode of its person: names the episode's draws
        pe = pid[person]
        level = categorical(xp, level_weights(st), uniform(xp, ks, LEVEL, pe, rank))
        cost = xp.empty(m)
        for l_idx, lvl in enumerate(LEVELS):
            sel = xp.flatnonzero(level == l_idx)
            if sel.size:
                cost[sel] = severity(xp, st.severity[lvl], ks, xp.full(sel.shape[0], SEVERITY), pe[sel], rank[sel])
        cost *= sev_factor * region_cost[people["region"][person]]
        location = xp.zeros(m, xp.int64)
        away = xp.flatnonzero(level == OUT_OF_AREA)
        if away.size:
            location[away] = 1 + categorical(xp, location_weights(claims),  # shares of LOCATIONS[1:]
                                             uniform(xp, ks, LOCATION, pe[away], rank[away]))
        parts.append((person, xp.full(m, s_idx, xp.int64), level, location, cost, compliant_cost(claims, cost, level, xp)))
    return [xp.concatenate(cols) for cols in zip(*parts)]


def simulate_blocks_xp(scenario: Scenario, seed: int, blocks: Sequence[int], years: int, floor: float,
                       contract_year: int = 0, xp="numpy", control_step: float | None = None) -> list[BlockOutcome]:
    """Simulate ``years`` years of consecutive ``blocks`` at once; host arrays out, one outcome per block.

    With ``control_step`` (yuan) rows carry min(S, TOP) of :mod:`actuarial.exact.control`, and outcomes
    their block's people per population cell."""
    xp = get_array_module(xp)
    blocks = list(blocks)
    nb, n_groups, kloc = len(blocks), N_GROUPS, len(LOCATIONS)
    people = _population(xp, scenario, seed, blocks)
    n = people["pid"].shape[0]
    cii = scenario.cii
    streams = scenario.claims.streams
    in_scope = xp.asarray(np.array([cii.covers(s.disease) for s in streams]))
    inpatient = xp.asarray(basicmod.inpatient_streams(scenario.claims))
    premium = xp.asarray(np.array(scenario.premium_by_scheme()))
    gi = people["local"] * n_groups + people["group"]  # (block in batch, group) cell of each person
    cells = nb * n_groups

    def per_cell(idx, weights=None):
        out = bincount(xp, idx, weights=weights, minlength=cells)
        return out.astype(xp.float64)

    people_c, premium_c = per_cell(gi), per_cell(gi, premium[people["scheme"]])
    agg = xp.zeros((years, cells, agg_fields.n_fields()))
    rows = []
    key_claims = _key(seed, "gpu.claims", contract_year)
    for year in range(years):
        f = year_factors(scenario, seed, year, contract_year)
        person, stream, level, location, cost, compliant = _episodes(
            xp, scenario, people, derive_key(key_claims, year), f.frequency, f.severity)
        paid, deductible_part, paid_u = basic_payments(xp, scenario.basic, compliant, level, inpatient[stream],
                                                       person, n)
        oop_c = compliant - paid
        toward = episode_contribution(cii, scenario.claims, compliant, paid, deductible_part)
        cov = xp.flatnonzero(in_scope[stream])
        by_location = bincount(xp, person[cov] * kloc + location[cov], weights=toward[cov],
                                  minlength=n * kloc).reshape(n, kloc)
        oop_compliant = bincount(xp, person, weights=oop_c, minlength=n)
        oop_total = bincount(xp, person, weights=cost - paid, minlength=n)
        ge = gi[person]
        agg[year] = agg_fields.stack(dict(
            people=people_c, premium=premium_c, episodes=per_cell(ge), cost=per_cell(ge, cost),
            compliant=per_cell(ge, compliant), basic_paid=per_cell(ge, paid),
            oop_compliant=per_cell(gi, oop_compliant), oop_total=per_cell(gi, oop_total),
            catastrophic_before=per_cell(gi, (oop_total > cii.catastrophic_threshold).astype(xp.float64)),
        ), xp, axis=1)
        acc = by_location.sum(axis=1)
        keep = xp.flatnonzero(acc >= floor if floor > 0 else acc > 0)
        units = xp.zeros(keep.shape[0])
        if control_step is not None:  # before the basic annual cap, as E[X] assumes
            toward_u = episode_contribution(cii, scenario.claims, compliant, paid_u, deductible_part)
            units = bincount(xp, person[cov], weights=episode_units(toward_u[cov], control_step, xp), minlength=n)[keep]
        rows.append((xp.full(keep.shape[0], year, xp.int32), people["local"][keep], people["group"][keep],
                     by_location[keep], oop_compliant[keep], oop_total[keep], units))
    # One transfer per batch; rows re-ordered block by block (then year, person) as in the CPU engine.
    cols = [to_numpy(xp.concatenate(c)) for c in zip(*rows)]
    agg_h = to_numpy(agg).reshape(years, nb, n_groups, agg_fields.n_fields())
    order = np.argsort(cols[1], kind="stable")  # by block in the batch
    cols = [a[order] for a in cols]
    year_h, local_h, group_h, loc_h, oc_h, ot_h, units_h = cols
    units_h = np.minimum(units_h, TOP).astype(np.int32) if control_step is not None else None
    counts = None
    if control_step is not None:  # people per (block in batch, population cell), on the host
        cells_all = population_cells(scenario)
        host = {k: to_numpy(people[k]) for k in ("local", "band", "female", "group", "region")}
        idx = person_cells(cells_all, host["band"], host["female"], host["group"] // 2, host["group"] % 2,
                           host["region"])
        counts = np.bincount(host["local"] * len(cells_all) + idx,
                             minlength=nb * len(cells_all)).reshape(nb, len(cells_all))
    starts = np.searchsorted(local_h, np.arange(nb + 1))
    out = []
    for i, b in enumerate(blocks):
        s = slice(starts[i], starts[i + 1])
        out.append(BlockOutcome(b, agg_h[:, i], Rows(year_h[s].astype(np.int32), np.full(s.stop - s.start, b, np.int32),
                                                     group_h[s].astype(np.int8), loc_h[s], oc_h[s], ot_h[s],
                                                     None if units_h is None else units_h[s]),
                                None if counts is None else counts[i]))
    return out


def simulate_block_xp(scenario: Scenario, seed: int, block: int, years: int, floor: float,
                      contract_year: int = 0, xp="numpy") -> BlockOutcome:
    """One block, like :func:`actuarial.engines.engine.simulate_block` (same numbers as in any batch)."""
    return simulate_blocks_xp(scenario, seed, [block], years, floor, contract_year, xp)[0]


def accumulate_gpu(scenario: Scenario, years: int = 20, seed: int = 0, *, floor: float | None = None,
                   contract_year: int = 0, chunk_size: int | None = None, progress: bool | None = None,
                   map_fn: MapFn | None = None, xp: str = "auto", batch_blocks: int | None = None) -> Accumulations:
    """The heavy pass on an array backend (see :func:`actuarial.engines.engine.accumulate` for the arguments).

    xp : "numpy", "cupy" or "auto" (CuPy when a GPU is usable, else numpy).
    batch_blocks : blocks of 65,536 people simulated together (default 128 on CuPy, 4 on numpy, or
        ``chunk_size`` / 65,536 when given); does not change the numbers, only memory and speed.
        Memory is roughly 200-500 bytes per person in a batch (128 blocks: about 2-4 GB).
    """
    module = get_array_module(xp)  # fails here, with the install hint, before any work
    name = module.__name__
    floor = pass_floor(scenario, years, floor)
    if batch_blocks is None:
        batch_blocks = (max(1, chunk_size // rngmod.BLOCK_SIZE) if chunk_size else DEFAULT_BATCH_BLOCKS[name])
    if int(batch_blocks) < 1:
        raise ValueError(f"batch_blocks must be >= 1 (got {batch_blocks})")
    nb = rngmod.n_blocks(scenario.population.size)
    batches = [list(range(i, min(i + int(batch_blocks), nb))) for i in range(0, nb, int(batch_blocks))]

    step = grid_step(scenario, floor)  # the claims control variate (actuarial.exact.control); None with shocks

    def run_batch(blocks: list[int]) -> list[BlockOutcome]:
        return simulate_blocks_xp(scenario, seed, blocks, years, floor, contract_year, name, step)

    outcomes = run_blocks(run_batch, batches, map_fn, scenario, years, progress, f"simulating ({name})")
    return Accumulations(scenario, int(seed), int(years), int(contract_year), floor,
                         np.stack([o.agg for o in outcomes], axis=1), Rows.concat([o.rows for o in outcomes]),
                         shock_matrix(scenario, seed, years, contract_year),
                         control=control_from_blocks(scenario, seed, contract_year, step, outcomes), engine="gpu")
