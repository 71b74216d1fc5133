"""Risk cells (风险单元): the people who share one utilisation age band, sex, scheme and region.

People in one cell have the same episode streams, so their annual CII accumulation has one compound
distribution (:mod:`actuarial.exact.compound`); cells whose :func:`risk_key` is equal share it. The
engines draw people cell by cell, the exact methods weigh cells by :func:`population_cells`.

>>> from actuarial import load_scenario
>>> cells = population_cells(load_scenario("scenarios/provincial_guideline.toml"))
>>> round(sum(w for w, _, _ in cells), 12)
1.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import tables
from ..scenario import SCHEMES, EpisodeStream, Scenario
from .claims import YearFactors, cost_scale
from .population import composition


@dataclass(frozen=True)
class RiskCell:
    """People with the same risk: utilisation band index, sex, scheme index, region index."""

    band: int
    female: bool
    scheme: int
    region: int


def stream_mean(stream: EpisodeStream, cell: RiskCell) -> float:
    """Mean episodes per person-year of those with the stream (before the year shock)."""
    m = stream.episodes_by_age[cell.band]
    if cell.female:
        m *= stream.female_factor
    return m * stream.scheme_factor.get(SCHEMES[cell.scheme], 1.0)


def stream_prevalence(stream: EpisodeStream, cell: RiskCell) -> float:
    if stream.prevalence_age_factor is None:
        return stream.prevalence
    return stream.prevalence * stream.prevalence_age_factor[cell.band]


def risk_key(scenario: Scenario, cell: RiskCell, factors: YearFactors = YearFactors()) -> tuple:
    """What a cell's annual distribution depends on: its cost scale and, per episode stream, the mean
    count and prevalence. Cells with equal keys have identical risk and share one compound
    distribution (e.g. a scenario whose streams do not vary by age, sex or scheme has one)."""
    return (cost_scale(scenario, cell.region, factors.severity), factors.frequency,
            tuple((stream_mean(st, cell), stream_prevalence(st, cell)) for st in scenario.claims.streams))


def population_cells(scenario: Scenario) -> list[tuple[float, RiskCell, bool]]:
    """(probability, risk cell, poor) for every cell of the population with positive probability."""
    pop = scenario.population
    comp = composition(pop)
    age = comp.age / sum(pop.age_shares)
    band_of = tables.utilisation_band(tables.AGE_BAND_STARTS)
    band_p = np.bincount(band_of, weights=age, minlength=len(tables.UTILISATION_BANDS))
    out = []
    for b, pb in enumerate(band_p):
        for female, pf in ((False, 1 - comp.female), (True, comp.female)):
            for s_idx, ps in enumerate(comp.scheme):
                rate = comp.poor[s_idx]
                for poor, pp in ((False, 1 - rate), (True, rate)):
                    for r_idx, pr in enumerate(comp.region):
                        w = pb * pf * ps * pp * pr
                        if w > 0:
                            out.append((float(w), RiskCell(b, female, s_idx, r_idx), poor))
    return out
