"""Monte Carlo claims: the episodes (admissions, special outpatient care) of one block in one year.

Owns episode counts, hospital levels, locations and costs. It does not know
about basic insurance or CII; :mod:`actuarial.model.basic` takes the episodes next.

Each episode stream draws from its own generator keyed by (seed, year, block,
stream name), in a fixed order: prevalence, counts, levels, costs by level,
locations. Year-level shocks multiply the mean count and the cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import rng as rngmod
from ..config.distributions import frequency_for, severity_from_spec
from .population import PopulationBlock
from ..scenario import LEVELS, LOCATIONS, SCHEMES, EpisodeStream, Scenario

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
    g = rngmod.generator_for("shock", seed, year, contract_year)
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


# --------------------------------------------------------------------------- the episode rules
# One home each; every engine (brute, fast, GPU) and the exact method call these. Engines differ
# only in how they sample (numpy Generator, counter-based uniforms, conditioned draws).
def compliant_shares(claims, xp=np) -> np.ndarray:
    """Compliant share (合规费用占比) of an episode's cost by LEVELS index, fractions (100 % when unset)."""
    return xp.asarray(np.array([claims.compliant_percent.get(lvl, 100.0) / 100 for lvl in LEVELS]))


def compliant_share(claims, level: str) -> float:
    """:func:`compliant_shares` of one level (name), a fraction."""
    return float(compliant_shares(claims)[LEVELS.index(level)])


def compliant_cost(claims, cost, level, xp=np):
    """Compliant part (yuan) of episode costs ``cost`` at hospital levels ``level`` (LEVELS indices)."""
    return cost * compliant_shares(claims, xp)[level]


def level_weights(stream: EpisodeStream) -> np.ndarray:
    """A stream's hospital-level mix by LEVELS index (weights, not normalised: samplers normalise)."""
    return np.array([stream.level_mix.get(lvl, 0.0) for lvl in LEVELS])


def location_weights(claims) -> np.ndarray:
    """Shares of an out-of-area episode's locations, LOCATIONS[1:] in order (fractions summing to 1)."""
    return np.array(claims.out_of_area.shares())


def region_cost_factors(population) -> np.ndarray:
    """Cost multiplier of each region (Population.regions order)."""
    return np.array([r.cost_factor for r in population.regions])


def cost_scale(scenario: Scenario, region, severity: float = 1.0):
    """Cost multiplier of episodes in ``region`` (index or index array) in a year of ``severity``."""
    return severity * region_cost_factors(scenario.population)[region]


# Episode sampling with a numpy Generator, in the one order every CPU sampler uses: level, then
# cost by level, then (for out-of-area episodes) location; the compliant part is the level's share.
def draw_levels(g: np.random.Generator, stream: EpisodeStream, m: int) -> np.ndarray:
    """``m`` hospital levels (int8 LEVELS indices) from the stream's level mix."""
    mix = level_weights(stream)
    return g.choice(len(LEVELS), size=m, p=mix / mix.sum()).astype(np.int8)


def draw_costs(g: np.random.Generator, stream: EpisodeStream, level: np.ndarray, out: np.ndarray | None = None,
               at: np.ndarray | None = None) -> np.ndarray:
    """Unscaled costs (yuan) of episodes at ``level``, level by level from each level's severity.

    With ``out`` and ``at`` the costs are written to ``out[at]`` (and ``out`` returned)."""
    if out is None:
        out, at = np.empty(level.shape[0]), np.arange(level.shape[0])
    for l_idx, lvl in enumerate(LEVELS):
        sel = at[level == l_idx]
        if sel.size:
            out[sel] = severity_from_spec(stream.severity[lvl]).rvs(g, sel.size)
    return out


def draw_locations(g: np.random.Generator, claims, level: np.ndarray) -> np.ndarray:
    """Locations (int8 LOCATIONS indices): local, or for out-of-area episodes one of LOCATIONS[1:]."""
    location = np.zeros(level.shape[0], np.int8)
    away = level == OUT_OF_AREA
    if away.any():
        p = location_weights(claims)
        location[away] = 1 + g.choice(len(LOCATIONS) - 1, size=int(away.sum()), p=p / p.sum())
    return location


def simulate_episodes(scenario: Scenario, people: PopulationBlock, seed: int, year: int, block: int,
                      factors: YearFactors = YearFactors(), contract_year: int = 0) -> Episodes:
    """All episodes of ``people`` (block ``block``) in simulated year ``year`` of contract year ``contract_year``."""
    claims = scenario.claims
    region_cost = region_cost_factors(scenario.population)
    parts = []
    for s_idx, stream in enumerate(claims.streams):
        g = rngmod.generator_for("claims", seed, year, contract_year, block,
                                   rngmod.stream_id(stream.name))
        n = len(people)
        if stream.prevalence < 1 or stream.prevalence_age_factor is not None:
            who = np.flatnonzero(g.random(n) < person_prevalence(stream, people))
        else:
            who = np.arange(n)
        mean = person_mean_episodes(stream, people, who) * factors.frequency
        counts = frequency_for(stream.dispersion).rvs(g, mean)
        person = np.repeat(who, counts)
        m = person.shape[0]
        level = draw_levels(g, stream, m)
        cost = draw_costs(g, stream, level)
        cost *= factors.severity * region_cost[people.region[person]]
        location = draw_locations(g, claims, level)
        parts.append((person, np.full(m, s_idx, np.int16), level, location, cost, compliant_cost(claims, cost, level)))
    return Episodes(*(np.concatenate(cols) for cols in zip(*parts)))
