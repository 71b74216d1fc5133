"""The Monte Carlo engine: population → claims → basic insurance → annual accumulations.

The heavy pass (:func:`accumulate`) runs every simulated year of every block of
people and keeps two things:

* per (simulated year, block, reporting group) totals that do not depend on
  the CII design (people, premium, cost, basic paid, out-of-pocket, ...);
* one row per person-year whose CII accumulation reaches ``floor`` (most
  people never do), with the accumulation by location.

The CII layer is then applied to the rows (:func:`actuarial.results.evaluate`),
which is cheap, so calibration and the inverse solvers re-price many designs on
the same draws (common random numbers) without re-simulating.

Work is split in blocks of :data:`actuarial.rng.BLOCK_SIZE` people; each block
is a pure function of (scenario, seed, block), so results are identical for
any ``chunk_size`` and any number of workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Literal, Sequence

import numpy as np

from . import basic as basicmod
from . import rng as rngmod
from .claims import shock_matrix, simulate_episodes, year_factors
from .cii import min_deductible
from .control import Control, grid_step, person_cells, row_units
from .exact import population_cells
from .population import N_GROUPS, population_block
from .scenario import LOCATIONS, Scenario

AGG_FIELDS = (
    "people", "premium", "episodes", "cost", "compliant", "basic_paid",
    "oop_compliant", "oop_total", "catastrophic_before",
)
"""Per (year, block, group) totals: people, premium (yuan), episodes, total cost, compliant cost,
basic fund paid, compliant out-of-pocket after basic, total out-of-pocket after basic, and persons
whose total out-of-pocket exceeds the catastrophic threshold (all yuan except the counts)."""


HEAVY_CII_FIELDS = ("scope", "includes_basic_deductible", "catastrophic_threshold")
"""CII fields the heavy pass itself reads (which episodes count, what the accumulation includes, the
catastrophic count); the rest of the CII design is applied to the rows afterwards."""


def heavy_cii(cii) -> dict:
    """The heavy-pass fields of a CII design (two designs can share one pass iff these are equal)."""
    return {f: getattr(cii, f) for f in HEAVY_CII_FIELDS}


@dataclass(frozen=True)
class Rows:
    """Person-years whose accumulation reached the floor. Money in yuan."""

    year: np.ndarray  # int32 simulated year
    block: np.ndarray  # int32
    group: np.ndarray  # int8, 2 * scheme + poor
    by_location: np.ndarray  # float64 (rows × len(LOCATIONS)), accumulation before B/C self-pay
    oop_compliant: np.ndarray  # float64, compliant out-of-pocket after basic, incl. the basic deductible
    oop_total: np.ndarray  # float64, total out-of-pocket after basic (incl. non-compliant)
    control: np.ndarray | None = None  # int32 min(S, TOP) of actuarial.control (without shocks), else None

    @property
    def poor(self) -> np.ndarray:
        return (self.group % 2).astype(bool)

    def __len__(self) -> int:
        return self.year.shape[0]

    def take(self, which: np.ndarray) -> "Rows":
        """The rows selected by a boolean mask or index array."""
        return Rows(*(None if getattr(self, f) is None else getattr(self, f)[which] for f in
                      ("year", "block", "group", "by_location", "oop_compliant", "oop_total", "control")))

    @staticmethod
    def concat(parts: Sequence["Rows"]) -> "Rows":
        if not parts:
            return Rows(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int8),
                        np.zeros((0, len(LOCATIONS))), np.zeros(0), np.zeros(0))
        # Empty parts (a unit of work that kept nobody) do not decide whether the rows carry units.
        filled = [p for p in parts if len(p)]
        control = None if any(p.control is None for p in filled) else np.concatenate(
            [p.control for p in filled] + [np.zeros(0, np.int32)])
        return Rows(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                      ("year", "block", "group", "by_location", "oop_compliant", "oop_total")), control)


@dataclass(frozen=True)
class BlockOutcome:
    block: int
    agg: np.ndarray  # (years, N_GROUPS, len(AGG_FIELDS))
    rows: Rows
    cell_counts: np.ndarray | None = None  # people per population cell (with a control variate)


@dataclass(frozen=True)
class Accumulations:
    """Everything the heavy pass produced, for any CII design with deductibles ≥ ``floor``."""

    scenario: Scenario
    seed: int
    years: int
    contract_year: int
    floor: float
    agg: np.ndarray  # (years, blocks, N_GROUPS, len(AGG_FIELDS))
    rows: Rows
    shocks: np.ndarray  # (years, 2): frequency and severity multipliers
    exact_totals: bool = False
    """True when ``agg`` holds exact expectations given each block's people (the fast engine): then
    they vary only with the population's composition, block by block, not from year to year."""
    control: Control | None = None
    """The claims control variate (:mod:`actuarial.control`; every engine, without shocks), else None."""

    def total(self, field: str) -> np.ndarray:
        """Per simulated year total of an AGG_FIELDS field."""
        return self.agg[..., AGG_FIELDS.index(field)].sum(axis=(1, 2))


def simulate_block(scenario: Scenario, seed: int, block: int, years: int, floor: float,
                   contract_year: int = 0, control_step: float | None = None) -> BlockOutcome:
    """Simulate ``years`` independent years of one block of people (pure function of its arguments).

    With ``control_step`` (yuan) the rows carry min(S, TOP) of :mod:`actuarial.control` and the
    outcome the block's people per population cell.
    """
    people = population_block(scenario.population, seed, block)
    n = len(people)
    group = people.group
    cii = scenario.cii
    in_scope = np.array([cii.covers(s.disease) for s in scenario.claims.streams])
    inpatient = np.array([s.setting == "inpatient" for s in scenario.claims.streams])
    premium_by_scheme = np.array(scenario.premium_by_scheme())
    people_g = np.bincount(group, minlength=N_GROUPS).astype(float)
    premium_g = np.bincount(group, weights=premium_by_scheme[people.scheme], minlength=N_GROUPS)
    agg = np.zeros((years, N_GROUPS, len(AGG_FIELDS)))
    rows = []
    for year in range(years):
        factors = year_factors(scenario, seed, year, contract_year)
        ep = simulate_episodes(scenario, people, seed, year, block, factors, contract_year)
        paid_u, deductible_part = basicmod.episode_payments(scenario.basic, ep.compliant, ep.level, inpatient[ep.stream])
        paid = basicmod.apply_annual_cap(scenario.basic, paid_u, ep.person, n)
        oop_c = ep.compliant - paid
        toward_cii = oop_c if cii.includes_basic_deductible else oop_c - deductible_part
        covered = in_scope[ep.stream]
        k = len(LOCATIONS)
        by_location = np.bincount(ep.person[covered] * k + ep.location[covered], weights=toward_cii[covered],
                                  minlength=n * k).reshape(n, k)
        oop_compliant = np.bincount(ep.person, weights=oop_c, minlength=n)
        oop_total = np.bincount(ep.person, weights=ep.cost - paid, minlength=n)

        def per_group(values: np.ndarray, person: np.ndarray | None = None) -> np.ndarray:
            g = group if person is None else group[person]
            return np.bincount(g, weights=values, minlength=N_GROUPS)

        agg[year] = np.stack([
            people_g, premium_g,
            np.bincount(group[ep.person], minlength=N_GROUPS).astype(float),
            per_group(ep.cost, ep.person), per_group(ep.compliant, ep.person), per_group(paid, ep.person),
            per_group(oop_compliant), per_group(oop_total),
            per_group((oop_total > cii.catastrophic_threshold).astype(float)),
        ], axis=1)
        acc = by_location.sum(axis=1)
        keep = np.flatnonzero(acc >= floor if floor > 0 else acc > 0)
        units = None
        if control_step is not None:  # before the basic annual cap, as E[X] assumes
            toward_u = ep.compliant - paid_u - (0.0 if cii.includes_basic_deductible else deductible_part)
            units = row_units(ep.person[covered], toward_u[covered], control_step, n, keep)
        rows.append(Rows(np.full(keep.size, year, np.int32), np.full(keep.size, block, np.int32),
                         group[keep].astype(np.int8), by_location[keep], oop_compliant[keep], oop_total[keep], units))
    counts = None
    if control_step is not None:
        cells = population_cells(scenario)
        counts = np.bincount(person_cells(cells, people.band, people.female, people.scheme, people.poor,
                                          people.region), minlength=len(cells))
    return BlockOutcome(block, agg, Rows.concat(rows), counts)


MapFn = Callable[[Callable[[int], BlockOutcome], Iterable[int]], Iterable[BlockOutcome]]


def accumulate(scenario: Scenario, years: int = 20, seed: int = 0, *, floor: float | None = None,
               contract_year: int = 0, chunk_size: int | None = None, progress: bool | None = None,
               map_fn: MapFn | None = None, engine: Literal["brute", "fast", "gpu"] = "brute",
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
        :mod:`actuarial.parallel` supplies a Dask one. Results are re-ordered by block.
    engine : "brute" simulates everyone; "fast" (:mod:`actuarial.fast`) simulates in full only
        the people whose accumulation reaches the floor (same output, other random numbers);
        "gpu" (:mod:`actuarial.gpu`) is the brute force on an array backend, ``xp`` = "numpy",
        "cupy" or "auto" (CuPy when a GPU is usable), many blocks per launch (other random numbers).
    """
    if engine == "fast":
        from .fast import accumulate_fast

        return accumulate_fast(scenario, years, seed, floor=floor, contract_year=contract_year,
                               chunk_size=chunk_size, progress=progress, map_fn=map_fn)
    if engine == "gpu":
        from .gpu import accumulate_gpu

        return accumulate_gpu(scenario, years, seed, floor=floor, contract_year=contract_year,
                              chunk_size=chunk_size, progress=progress, map_fn=map_fn, xp=xp)
    if engine != "brute":
        raise ValueError(f"engine must be 'brute', 'fast' or 'gpu' (got {engine!r})")
    from tqdm import tqdm  # plain text bar: works in terminals and notebooks without ipywidgets

    if years < 1:
        raise ValueError(f"years must be >= 1 (got {years})")
    floor = min_deductible(scenario.cii) if floor is None else float(floor)
    nb = rngmod.n_blocks(scenario.population.size)
    per_chunk = max(1, (chunk_size or rngmod.BLOCK_SIZE) // rngmod.BLOCK_SIZE)
    chunks = [list(range(i, min(i + per_chunk, nb))) for i in range(0, nb, per_chunk)]

    step = grid_step(scenario, floor)  # the claims control variate (actuarial.control); None with shocks

    def run_chunk(blocks: list[int]) -> list[BlockOutcome]:
        return [simulate_block(scenario, seed, b, years, floor, contract_year, step) for b in blocks]

    mapper = map_fn or (lambda f, xs: map(f, xs))
    show = progress if progress is not None else scenario.population.size * years > 1_000_000
    outcomes: list[BlockOutcome] = []
    with tqdm(total=scenario.population.size * years, unit="person-yr", unit_scale=True,
              disable=not show, desc="simulating") as bar:
        for chunk_out in mapper(run_chunk, chunks):
            outcomes.extend(chunk_out)
            bar.update(sum(int(o.agg[0, :, 0].sum()) for o in chunk_out) * years)
    outcomes.sort(key=lambda o: o.block)
    agg = np.stack([o.agg for o in outcomes], axis=1)
    return Accumulations(scenario, int(seed), int(years), int(contract_year), floor, agg,
                         Rows.concat([o.rows for o in outcomes]), shock_matrix(scenario, seed, years, contract_year),
                         control=control_from_blocks(scenario, seed, contract_year, step, outcomes))


def control_from_blocks(scenario: Scenario, seed: int, contract_year: int, step: float | None,
                        outcomes: Sequence[BlockOutcome]) -> Control | None:
    """The claims control variate of a brute-force pass from its blocks' cell counts (None without a step)."""
    if step is None:
        return None
    return Control.build(scenario, population_cells(scenario), np.stack([o.cell_counts for o in outcomes]),
                         year_factors(scenario, seed, 0, contract_year), step)
