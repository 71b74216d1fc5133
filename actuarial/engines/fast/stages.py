"""The fast engine's stages: a unit of simulated years of one block (candidates, conditioned
episodes, rows and totals) and :func:`accumulate_fast`, the driver (see :mod:`actuarial.engines.fast`).
"""

from __future__ import annotations

import numpy as np

from ...model import agg_fields
from ...model import basic as basicmod
from ...model import cii as ciimod
from ...model import rng as rngmod
from ..accumulations import Accumulations, Rows
from ...model.claims import cost_scale, shock_matrix, year_factors
from ...exact.control import Control, grid_step, row_units
from ...config.distributions import frequency_for
from ..driver import pass_floor, run_units
from ...model.cells import population_cells, stream_mean, stream_prevalence
from ...model.population import N_GROUPS, group_index
from ...scenario import LOCATIONS, Scenario
from .sampler import draw_conditioned, draw_episodes, toward_cii
from .tables import (EXPECTED_FIELDS, PROGRESS_PERSON_YEARS, SHOCK_YEARS, UNIT_PERSON_YEARS, _draw, _grid,
                     build_tables, catastrophic_probabilities, draw_outside, table_severity)


# --------------------------------------------------------------------------- simulated years
def simulate_years(scenario: Scenario, seed: int, years: list[int], contract_year: int, floor: float,
                   counts: np.ndarray, cells: list, tables: dict, control_step: float | None = None):
    """agg (len(years), blocks, N_GROUPS, fields) and kept Rows of simulated ``years``.

    Years with equal factors (all of them without shocks) share their tables and multinomial
    draws; with shocks each year has its own count laws, but years whose severities fall on the
    same grid point share the proposal tables and one sequential sampler.
    ``counts``: (blocks, cells) people per population cell; ``cells``: (prob, RiskCell, poor).
    ``control_step``: grid step (yuan) of the claims control variate (:mod:`actuarial.exact.control`);
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
    """The fast heavy pass: same arguments and output as :func:`actuarial.engines.engine.accumulate`.

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
