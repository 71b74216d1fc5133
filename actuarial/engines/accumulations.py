"""The heavy pass's output, shared by every engine: the rows and totals of :class:`Accumulations`,
one block's :class:`BlockOutcome`, and the block driver that maps a block function over chunks.

Engines (:mod:`actuarial.engines.engine` brute force, :mod:`actuarial.engines.fast`, :mod:`actuarial.engines.gpu`) import
these from here; :func:`actuarial.engines.engine.accumulate` dispatches to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np

from ..model import agg_fields
from ..model.claims import year_factors
from ..exact.control import Control
from .driver import flatten, run_units
from ..model.cells import population_cells
from ..scenario import LOCATIONS, Scenario


@dataclass(frozen=True)
class Rows:
    """Person-years whose accumulation reached the floor. Money in yuan."""

    year: np.ndarray  # int32 simulated year
    block: np.ndarray  # int32
    group: np.ndarray  # int8, 2 * scheme + poor
    by_location: np.ndarray  # float64 (rows × len(LOCATIONS)), accumulation before B/C self-pay
    oop_compliant: np.ndarray  # float64, compliant out-of-pocket after basic, incl. the basic deductible
    oop_total: np.ndarray  # float64, total out-of-pocket after basic (incl. non-compliant)
    control: np.ndarray | None = None  # int32 min(S, TOP) of actuarial.exact.control (without shocks), else None

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

    @property
    def people(self) -> float:
        """People in the block (from the totals of its first simulated year)."""
        return float(agg_fields.get(self.agg, "people")[0].sum())


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
    """The claims control variate (:mod:`actuarial.exact.control`; every engine, without shocks), else None."""
    engine: str = "brute"
    """The engine that ran the pass ("brute", "fast" or "gpu"; ``engine="auto"`` records its pick)."""

    def total(self, field: str) -> np.ndarray:
        """Per simulated year total of an AGG_FIELDS field."""
        return agg_fields.get(self.agg, field).sum(axis=(1, 2))


MapFn = Callable[[Callable[[int], BlockOutcome], Iterable[int]], Iterable[BlockOutcome]]


def run_blocks(fn, chunks, map_fn, scenario: Scenario, years: int, progress: bool | None, desc: str) -> list[BlockOutcome]:
    """Block outcomes of ``fn`` mapped over ``chunks`` of blocks (:func:`actuarial.engines.driver.run_units`), in
    block order; the bar counts each outcome's people (default: on above 10^6 person-years)."""
    show = progress if progress is not None else scenario.population.size * years > 1_000_000
    parts = run_units(fn, chunks, map_fn, total=scenario.population.size * years, show=show, desc=desc,
                      done=lambda out: sum(int(o.people) for o in out) * years, key=lambda out: out[0].block if out else -1)
    return sorted(flatten(parts), key=lambda o: o.block)


def control_from_blocks(scenario: Scenario, seed: int, contract_year: int, step: float | None,
                        outcomes: Sequence[BlockOutcome]) -> Control | None:
    """The claims control variate of a brute-force pass from its blocks' cell counts (None without a step)."""
    if step is None:
        return None
    return Control.build(scenario, population_cells(scenario), np.stack([o.cell_counts for o in outcomes]),
                         year_factors(scenario, seed, 0, contract_year), step)
