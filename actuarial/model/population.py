"""Synthetic insured populations, as columns of arrays (never one object per person).

A population is generated block by block (:data:`actuarial.model.rng.BLOCK_SIZE`
people each), every block from its own seeded stream, so a province of 10^7
people is never held in memory at once and the same seed gives the same
people however the work is chunked or distributed.

>>> from actuarial import load_scenario, generate_population
>>> pop = generate_population(load_scenario("scenarios/qinzhou_2016.toml"), size=1000, seed=1)
>>> len(pop), pop.to_frame().columns.tolist()
(1000, ['age', 'female', 'scheme', 'poor', 'region'])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import rng as rngmod
from ..config import tables
from ..scenario import SCHEMES, Population, Scenario

N_GROUPS = 2 * len(SCHEMES)
"""Reporting groups: scheme × poor (index ``2 * scheme + poor``)."""


def group_index(scheme, poor):
    """Reporting group of (scheme index, poor flag): ``2 * scheme + poor`` (scalars or arrays of any xp)."""
    return 2 * scheme + poor


@dataclass(frozen=True)
class Composition:
    """The population's composition as weight vectors, the one home of how people are drawn.

    Every sampler (:func:`generate_block`, the GPU engine's counter-based draws) and the risk
    cells of :func:`actuarial.model.cells.population_cells` read these; samplers normalise the weights.
    """

    age: np.ndarray  # weight of each 5-year band of tables.AGE_BAND_STARTS
    female: float  # share of women (fraction)
    scheme: np.ndarray  # weight of each scheme, SCHEMES order
    poor: np.ndarray  # poverty rate of each scheme (fraction), SCHEMES order
    region: np.ndarray  # weight of each region, Population.regions order


def composition(cfg: Population) -> Composition:
    """The :class:`Composition` of a population config."""
    return Composition(np.asarray(cfg.age_shares, float), float(cfg.female_share),
                       np.array([cfg.scheme_shares.get(s, 0.0) for s in SCHEMES]),
                       np.array([cfg.poverty_rate(s) for s in SCHEMES]),
                       np.array([r.share for r in cfg.regions]))


def age_in_band(band5, offset, xp=np):
    """Age in years (int) from a 5-year band index and the year within it (0-4)."""
    return xp.asarray(np.asarray(tables.AGE_BAND_STARTS))[band5] + offset


def group_labels() -> list[tuple[str, bool]]:
    """(scheme, poor) for each group index."""
    return [(s, bool(p)) for s in SCHEMES for p in (0, 1)]


@dataclass(frozen=True)
class PopulationBlock:
    """People of one block: ages in years, flags and category codes (see :data:`SCHEMES`)."""

    age: np.ndarray  # int16, years
    female: np.ndarray  # bool
    scheme: np.ndarray  # int8, index into SCHEMES
    poor: np.ndarray  # bool, poor population (贫困人口)
    region: np.ndarray  # int16, index into Population.regions
    band: np.ndarray = None  # int8 utilisation age band (index into tables.UTILISATION_BANDS); derived

    def __post_init__(self):
        if self.band is None:  # computed once: every stream of every year looks it up
            band = tables.utilisation_band(self.age)
            object.__setattr__(self, "band", band.astype(np.int8))

    def __len__(self) -> int:
        return self.age.shape[0]

    @property
    def group(self) -> np.ndarray:
        return group_index(self.scheme.astype(np.int8), self.poor)

    def to_frame(self) -> pd.DataFrame:
        """A labelled table of the block (for inspection; the engine uses the arrays)."""
        return pd.DataFrame({
            "age": self.age,
            "female": self.female,
            "scheme": pd.Categorical.from_codes(self.scheme, SCHEMES),
            "poor": self.poor,
            "region": self.region,
        })


def generate_block(cfg: Population, n: int, rng: np.random.Generator) -> PopulationBlock:
    """Draw ``n`` insured people from the population composition ``cfg``."""
    comp = composition(cfg)
    shares = comp.age
    band5 = rng.choice(len(shares), size=n, p=shares / shares.sum())
    age = age_in_band(band5, rng.integers(0, 5, n)).astype(np.int16)
    female = rng.random(n) < comp.female
    scheme_p = comp.scheme
    scheme = rng.choice(len(SCHEMES), size=n, p=scheme_p / scheme_p.sum()).astype(np.int8)
    poor = rng.random(n) < comp.poor[scheme]
    region_p = comp.region
    region = rng.choice(len(region_p), size=n, p=region_p / region_p.sum()).astype(np.int16)
    return PopulationBlock(age, female, scheme, poor, region)


def population_block(cfg: Population, seed: int, block: int) -> PopulationBlock:
    """Block ``block`` of the population drawn with ``seed`` (same people for the same arguments)."""
    start, stop = rngmod.block_bounds(cfg.size, block)
    return generate_block(cfg, stop - start, rngmod.generator_for("population", seed, block))


def generate_population(scenario: Scenario | Population, size: int | None = None, seed: int = 0) -> PopulationBlock:
    """The whole insured population (or its first ``size`` people) as one block of arrays.

    ``size`` defaults to ``population.size``. For very large populations prefer the
    engine, which works block by block.
    """
    cfg = scenario.population if isinstance(scenario, Scenario) else scenario
    if size is not None:
        cfg = cfg.model_copy(update={"size": int(size)})
    blocks = [population_block(cfg, seed, b) for b in range(rngmod.n_blocks(cfg.size))]
    return PopulationBlock(*(np.concatenate([getattr(b, f) for b in blocks]) for f in
                             ("age", "female", "scheme", "poor", "region")))
