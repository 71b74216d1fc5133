"""The brute-force engine and the dispatch (:func:`accumulate` runs brute, fast or gpu): population →
claims → basic insurance → annual accumulations.

The heavy pass (:func:`accumulate`) runs every simulated year of every block of
people and keeps two things:

* per (simulated year, block, reporting group) totals that do not depend on
  the CII design (people, premium, cost, basic paid, out-of-pocket, ...);
* one row per person-year whose CII accumulation reaches ``floor`` (most
  people never do), with the accumulation by location.

The CII layer is then applied to the rows (:func:`actuarial.results.simulation.evaluate`),
which is cheap, so calibration and the inverse solvers re-price many designs on
the same draws (common random numbers) without re-simulating.

Work is split in blocks of :data:`actuarial.model.rng.BLOCK_SIZE` people; each block
is a pure function of (scenario, seed, block), so results are identical for
any ``chunk_size`` and any number of workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..exact.control import grid_step, person_cells, row_units
from ..model import agg_fields
from ..model import basic as basicmod
from ..model import rng as rngmod
from ..model.cells import population_cells
from ..model.cii import episode_contribution
from ..model.claims import Episodes, shock_matrix, simulate_episodes, year_factors
from ..model.population import N_GROUPS, PopulationBlock, population_block
from ..scenario import LOCATIONS, Scenario

# The heavy pass's output and the block driver live in actuarial.engines.accumulations, where every
# engine imports them (fast and gpu import them from there, so this dispatch is not imported back).
from .accumulations import (
    Accumulations,
    BlockOutcome,
    MapFn,
    Rows,
    control_from_blocks,
    run_blocks,
)
from .crn import HEAVY_CII_FIELDS, heavy_cii  # noqa: F401  (re-exported; their home is actuarial.engines.crn)
from .driver import choose_engine, pass_floor
from .fast import accumulate_fast
from .gpu import accumulate_gpu


@dataclass(frozen=True)
class PersonYear:
    """One simulated year of one block's people, every person kept (the brute engine's draws). Yuan."""

    episodes: Episodes
    paid_uncapped: np.ndarray  # per episode: basic fund's payment before its annual cap
    paid: np.ndarray  # per episode: after the annual cap
    deductible_part: np.ndarray  # per episode: the basic deductible the patient bears (起付标准以下)
    covered: np.ndarray  # bool per episode: in the CII scope
    by_location: np.ndarray  # (people × len(LOCATIONS)): the CII accumulation before B/C self-pay
    oop_compliant: np.ndarray  # per person: compliant out-of-pocket after basic
    oop_total: np.ndarray  # per person: total out-of-pocket after basic (incl. non-compliant)


def person_year(scenario: Scenario, people: PopulationBlock, seed: int, year: int, block: int,
                contract_year: int = 0) -> PersonYear:
    """Episodes, basic payments and every person's CII accumulation and out-of-pocket in ``year``:
    the brute engine's pass, before rows are kept (households and medical assistance use it too)."""
    n = len(people)
    cii = scenario.cii
    in_scope = np.array([cii.covers(s.disease) for s in scenario.claims.streams])
    inpatient = basicmod.inpatient_streams(scenario.claims)
    factors = year_factors(scenario, seed, year, contract_year)
    ep = simulate_episodes(scenario, people, seed, year, block, factors, contract_year)
    paid_u, deductible_part = basicmod.episode_payments(scenario.basic, ep.compliant, ep.level, inpatient[ep.stream])
    paid = basicmod.apply_annual_cap(scenario.basic, paid_u, ep.person, n)
    toward_cii = episode_contribution(cii, scenario.claims, ep.compliant, paid, deductible_part)
    covered = in_scope[ep.stream]
    k = len(LOCATIONS)
    by_location = np.bincount(ep.person[covered] * k + ep.location[covered], weights=toward_cii[covered],
                              minlength=n * k).reshape(n, k)
    oop_compliant = np.bincount(ep.person, weights=ep.compliant - paid, minlength=n)
    oop_total = np.bincount(ep.person, weights=ep.cost - paid, minlength=n)
    return PersonYear(ep, paid_u, paid, deductible_part, covered, by_location, oop_compliant, oop_total)


def simulate_block(scenario: Scenario, seed: int, block: int, years: int, floor: float,
                   contract_year: int = 0, control_step: float | None = None) -> BlockOutcome:
    """Simulate ``years`` independent years of one block of people (pure function of its arguments).

    With ``control_step`` (yuan) the rows carry min(S, TOP) of :mod:`actuarial.exact.control` and the
    outcome the block's people per population cell.
    """
    people = population_block(scenario.population, seed, block)
    n = len(people)
    group = people.group
    cii = scenario.cii
    premium_by_scheme = np.array(scenario.premium_by_scheme())
    people_g = np.bincount(group, minlength=N_GROUPS).astype(float)
    premium_g = np.bincount(group, weights=premium_by_scheme[people.scheme], minlength=N_GROUPS)
    agg = np.zeros((years, N_GROUPS, agg_fields.n_fields()))
    rows = []
    for year in range(years):
        py = person_year(scenario, people, seed, year, block, contract_year)
        ep, paid, by_location, oop_compliant, oop_total = py.episodes, py.paid, py.by_location, py.oop_compliant, py.oop_total

        def per_group(values: np.ndarray, person: np.ndarray | None = None) -> np.ndarray:
            g = group if person is None else group[person]
            return np.bincount(g, weights=values, minlength=N_GROUPS)

        agg[year] = agg_fields.stack(dict(
            people=people_g, premium=premium_g,
            episodes=np.bincount(group[ep.person], minlength=N_GROUPS).astype(float),
            cost=per_group(ep.cost, ep.person), compliant=per_group(ep.compliant, ep.person),
            basic_paid=per_group(paid, ep.person),
            oop_compliant=per_group(oop_compliant), oop_total=per_group(oop_total),
            catastrophic_before=per_group((oop_total > cii.catastrophic_threshold).astype(float)),
        ), axis=1)
        acc = by_location.sum(axis=1)
        keep = np.flatnonzero(acc >= floor if floor > 0 else acc > 0)
        units = None
        if control_step is not None:  # before the basic annual cap, as E[X] assumes
            toward_u = episode_contribution(cii, scenario.claims, ep.compliant, py.paid_uncapped, py.deductible_part)
            units = row_units(ep.person[py.covered], toward_u[py.covered], control_step, n, keep)
        rows.append(Rows(np.full(keep.size, year, np.int32), np.full(keep.size, block, np.int32),
                         group[keep].astype(np.int8), by_location[keep], oop_compliant[keep], oop_total[keep], units))
    counts = None
    if control_step is not None:
        cells = population_cells(scenario)
        counts = np.bincount(person_cells(cells, people.band, people.female, people.scheme, people.poor,
                                          people.region), minlength=len(cells))
    return BlockOutcome(block, agg, Rows.concat(rows), counts)


def accumulate(scenario: Scenario, years: int = 20, seed: int = 0, *, floor: float | None = None,
               contract_year: int = 0, chunk_size: int | None = None, progress: bool | None = None,
               map_fn: MapFn | None = None, engine: Literal["auto", "brute", "fast", "gpu"] = "auto",
               xp: str = "auto") -> Accumulations:
    """Run the heavy pass over all blocks and ``years`` simulated years.

    Parameters
    ----------
    years : number of independent simulated years (replicates of one contract year).
    seed : the one seed everything derives from.
    floor : keep person-years whose accumulation is at least this (yuan); defaults to the
        scenario's lowest CII deductible. Pass a lower floor to re-price lower deductibles.
    contract_year : 0 for the first contract year; the cost trend applies ``contract_year`` times.
    chunk_size : people per unit of work (rounded to whole blocks); does not change the numbers.
    progress : show a progress bar (default: on a terminal, for more than 10^6 person-years).
    map_fn : how to map the block function over blocks (default: in this process, in order);
        :mod:`actuarial.engines.parallel` supplies a Dask one. Results are re-ordered by block.
    engine : "auto" (default) picks the fastest engine whose rules cover the scenario
        (:func:`actuarial.engines.driver.choose_engine`: "fast" where it is exact, else "brute") and records
        the pick in ``Accumulations.engine``; "brute" simulates everyone; "fast"
        (:mod:`actuarial.engines.fast`) simulates in full only the people whose accumulation reaches the
        floor (same output, other random numbers); "gpu" (:mod:`actuarial.engines.gpu`) is the brute force
        on an array backend, ``xp`` = "numpy", "cupy" or "auto" (CuPy when a GPU is usable), many
        blocks per launch (other random numbers).
    """
    engine = choose_engine(scenario, floor, engine)
    if engine == "fast":
        return accumulate_fast(scenario, years, seed, floor=floor, contract_year=contract_year,
                               chunk_size=chunk_size, progress=progress, map_fn=map_fn)
    if engine == "gpu":
        return accumulate_gpu(scenario, years, seed, floor=floor, contract_year=contract_year,
                              chunk_size=chunk_size, progress=progress, map_fn=map_fn, xp=xp)
    floor = pass_floor(scenario, years, floor)
    nb = rngmod.n_blocks(scenario.population.size)
    per_chunk = max(1, (chunk_size or rngmod.BLOCK_SIZE) // rngmod.BLOCK_SIZE)
    chunks = [list(range(i, min(i + per_chunk, nb))) for i in range(0, nb, per_chunk)]

    step = grid_step(scenario, floor)  # the claims control variate (actuarial.exact.control); None with shocks

    def run_chunk(blocks: list[int]) -> list[BlockOutcome]:
        return [simulate_block(scenario, seed, b, years, floor, contract_year, step) for b in blocks]

    outcomes = run_blocks(run_chunk, chunks, map_fn, scenario, years, progress, "simulating")
    agg = np.stack([o.agg for o in outcomes], axis=1)
    return Accumulations(scenario, int(seed), int(years), int(contract_year), floor, agg,
                         Rows.concat([o.rows for o in outcomes]), shock_matrix(scenario, seed, years, contract_year),
                         control=control_from_blocks(scenario, seed, contract_year, step, outcomes), engine="brute")
