"""Monte Carlo claims: the episodes (admissions, special outpatient care) of one block in one year.

Owns episode counts, hospital levels, locations and costs. It does not know
about basic insurance or CII; :mod:`actuarial.basic` takes the episodes next.

Each episode stream draws from its own generator keyed by (seed, year, block,
stream name), in a fixed order: prevalence, counts, levels, costs by level,
locations. Year-level shocks multiply the mean count and the cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import rng as rngmod
from .distributions import frequency_for, severity_from_spec
from .population import PopulationBlock
from .scenario import LEVELS, LOCATIONS, SCHEMES, EpisodeStream, Scenario

OUT_OF_AREA = LEVELS.index("out_of_area")


@dataclass(frozen=True)
class Episodes:
    """Episodes of one block-year, one row per episode. Money in yuan."""

    person: np.ndarray  # int64 index into the block
    stream: np.ndarray  # int16 index into scenario.claims.streams
    level: np.ndarray  # int8 index into LEVELS
    location: np.ndarray  # int8 index into LOCATIONS
    cost: np.ndarray  # float64 total medical cost
    compliant: np.ndarray  # float64 compliant part (合规费用)

    def __len__(self) -> int:
        return self.person.shape[0]


@dataclass(frozen=True)
class YearFactors:
    """Multipliers for one simulated year: systemic shocks and the cost trend."""

    frequency: float = 1.0
    severity: float = 1.0


def shock_matrix(scenario: Scenario, seed: int, years: int, contract_year: int = 0) -> np.ndarray:
    """(years, 2): each simulated year's frequency and severity multipliers (Accumulations.shocks)."""
    return np.array([[f.frequency, f.severity] for f in
                     (year_factors(scenario, seed, y, contract_year) for y in range(years))])


def year_factors(scenario: Scenario, seed: int, year: int, contract_year: int = 0) -> YearFactors:
    """Shock multipliers for simulated year ``year`` (mean 1), times the cost trend to ``contract_year``."""
    shocks = scenario.claims.shocks
    trend = (1 + scenario.claims.cost_trend_percent / 100) ** contract_year
    if not shocks.enabled:
        return YearFactors(1.0, trend)
    g = rngmod.generator(seed, rngmod.SHOCK, year, contract_year)
    z = g.standard_normal(2)
    return factors_at(scenario, float(z[0]), float(z[1]), contract_year)


def factors_at(scenario: Scenario, z_frequency: float, z_severity: float, contract_year: int = 0) -> YearFactors:
    """The year's multipliers at standard-normal shock values: lognormal with mean 1 and the scenario's sd
    (``exp(s·z − s²/2)``, s² = log(1 + sd²)), the severity one times the cost trend to ``contract_year``.

    >>> from actuarial import load_scenario
    >>> sc = load_scenario("scenarios/provincial_guideline.toml").replace(**{"claims.shocks.frequency_sd": 0.1})
    >>> round(factors_at(sc, 1.0, 0.0).frequency, 4)
    1.0994
    """
    shocks = scenario.claims.shocks
    trend = (1 + scenario.claims.cost_trend_percent / 100) ** contract_year

    def lognormal_mean_one(sd: float, zi: float) -> float:
        s2 = np.log1p(sd**2)
        return float(np.exp(np.sqrt(s2) * zi - s2 / 2))

    return YearFactors(lognormal_mean_one(shocks.frequency_sd, z_frequency),
                       trend * lognormal_mean_one(shocks.severity_sd, z_severity))


def person_mean_episodes(stream: EpisodeStream, people: PopulationBlock, who: np.ndarray | None = None) -> np.ndarray:
    """Mean episodes per person-year for each person (or the people ``who``), given they have the stream."""
    idx = slice(None) if who is None else who
    mean = np.asarray(stream.episodes_by_age, float)[people.band[idx]]
    if stream.female_factor != 1.0:
        mean = mean * np.where(people.female[idx], stream.female_factor, 1.0)
    if stream.scheme_factor:
        factor = np.array([stream.scheme_factor.get(s, 1.0) for s in SCHEMES])
        mean = mean * factor[people.scheme[idx]]
    return mean


def person_prevalence(stream: EpisodeStream, people: PopulationBlock) -> np.ndarray | float:
    """Probability that each person has the stream in the year."""
    if stream.prevalence_age_factor is None:
        return stream.prevalence
    return stream.prevalence * np.asarray(stream.prevalence_age_factor, float)[people.band]


def simulate_episodes(scenario: Scenario, people: PopulationBlock, seed: int, year: int, block: int,
                      factors: YearFactors = YearFactors(), contract_year: int = 0) -> Episodes:
    """All episodes of ``people`` (block ``block``) in simulated year ``year`` of contract year ``contract_year``."""
    claims = scenario.claims
    region_cost = np.array([r.cost_factor for r in scenario.population.regions])
    compliant_share = np.array([claims.compliant_percent.get(lvl, 100.0) / 100 for lvl in LEVELS])
    location_p = np.array(claims.out_of_area.shares())
    parts = []
    for s_idx, stream in enumerate(claims.streams):
        g = rngmod.generator(seed, rngmod.CLAIMS, year, contract_year, block, rngmod.stream_id(stream.name))
        n = len(people)
        if stream.prevalence < 1 or stream.prevalence_age_factor is not None:
            who = np.flatnonzero(g.random(n) < person_prevalence(stream, people))
        else:
            who = np.arange(n)
        mean = person_mean_episodes(stream, people, who) * factors.frequency
        counts = frequency_for(stream.dispersion).rvs(g, mean)
        person = np.repeat(who, counts)
        m = person.shape[0]
        mix = np.array([stream.level_mix.get(lvl, 0.0) for lvl in LEVELS])
        level = g.choice(len(LEVELS), size=m, p=mix / mix.sum()).astype(np.int8)
        cost = np.empty(m)
        for l_idx, lvl in enumerate(LEVELS):
            sel = level == l_idx
            k = int(sel.sum())
            if k:
                cost[sel] = severity_from_spec(stream.severity[lvl]).rvs(g, k)
        cost *= factors.severity * region_cost[people.region[person]]
        location = np.zeros(m, np.int8)
        away = level == OUT_OF_AREA
        if away.any():
            location[away] = 1 + g.choice(len(LOCATIONS) - 1, size=int(away.sum()), p=location_p / location_p.sum())
        parts.append((person, np.full(m, s_idx, np.int16), level, location, cost, cost * compliant_share[level]))
    return Episodes(*(np.concatenate(cols) for cols in zip(*parts)))
