"""The heavy pass: reproducibility, chunk invariance, and claims/basic against closed forms."""

import math

import numpy as np
import pytest

from actuarial import accumulate, validate_scenario
from actuarial.model.agg_fields import AGG_FIELDS
from actuarial.model import rng as rngmod
from actuarial.model.basic import episode_payments
from actuarial.model.claims import person_mean_episodes, simulate_episodes, year_factors
from actuarial.config.distributions import LogNormal
from actuarial.model.population import population_block


def one_stream_scenario(size=50_000, **cii):
    """A merged-scheme population with one lognormal tertiary admission stream."""
    return validate_scenario({
        "programme": {"name": "test"},
        "population": {"size": size},
        "funding": {"per_capita": {"merged": 30}},
        "claims": {"streams": [{
            "name": "adm", "episodes_by_age": [0.2] * 7, "dispersion": 0.5,
            "level_mix": {"tertiary": 1.0},
            "severity": {"tertiary": {"family": "lognormal", "mean": 12_000, "cv": 1.3}},
        }], "compliant_percent": {"tertiary": 80}},
        "basic": {"inpatient": {"tertiary": {"deductible": 1000, "coinsurance_percent": 60}}, "annual_cap": 1e9},
        "cii": {"deductible": 8000, "tiers": [{"above": 0, "rate_percent": 50}], **cii},
    })


def test_same_numbers_for_any_chunk_size(provincial):
    sc = provincial.replace(**{"population.size": 3 * rngmod.BLOCK_SIZE + 1234})
    a = accumulate(sc, years=2, seed=11, chunk_size=rngmod.BLOCK_SIZE, progress=False)
    b = accumulate(sc, years=2, seed=11, chunk_size=3 * rngmod.BLOCK_SIZE, progress=False)
    assert np.array_equal(a.agg, b.agg)
    for f in ("year", "block", "group", "by_location", "oop_compliant", "oop_total"):
        assert np.array_equal(getattr(a.rows, f), getattr(b.rows, f))
    c = accumulate(sc, years=2, seed=12, progress=False)
    assert not np.array_equal(a.agg, c.agg)


def test_blocks_are_independent_of_population_size(provincial):
    """Block 0 of a bigger population is the same people and claims: size only adds blocks."""
    small = accumulate(provincial.replace(**{"population.size": rngmod.BLOCK_SIZE}), 1, seed=5, progress=False,
                       engine="brute")
    big = accumulate(provincial.replace(**{"population.size": 2 * rngmod.BLOCK_SIZE}), 1, seed=5, progress=False,
                       engine="brute")
    assert np.array_equal(small.agg[:, 0], big.agg[:, 0])


def test_episode_count_matches_expectation():
    sc = one_stream_scenario()
    people = population_block(sc.population, 3, 0)
    stream = sc.claims.streams[0]
    m = person_mean_episodes(stream, people)
    counts = [len(simulate_episodes(sc, people, 3, y, 0)) for y in range(20)]
    expected = m.sum()
    se = math.sqrt((m + stream.dispersion * m**2).sum() / 20)  # NB variance, 20 years
    assert abs(np.mean(counts) - expected) < 4 * se


def test_basic_payment_per_episode_matches_closed_form():
    """E[paid] = c · s · (E[X] − E[min(X, d/s)]) for lognormal X, compliant share s, deductible d."""
    sc = one_stream_scenario(size=60_000)
    people = population_block(sc.population, 1, 0)
    eps = [simulate_episodes(sc, people, 1, y, 0) for y in range(10)]
    compliant = np.concatenate([e.compliant for e in eps])
    level = np.concatenate([e.level for e in eps])
    paid, ded = episode_payments(sc.basic, compliant, level, np.ones(len(level), bool))
    sev, s, d, c = LogNormal(12_000, 1.3), 0.8, 1000.0, 0.6
    expected = c * s * (sev.mean() - sev.limited_mean(d / s))
    assert abs(paid.mean() - expected) < 4 * paid.std() / math.sqrt(paid.size)
    assert np.all(ded <= d) and np.all(ded <= compliant)


def test_totals_are_consistent(qinzhou):
    acc = accumulate(qinzhou.replace(**{"population.size": 40_000}), 3, seed=2, progress=False)
    cost, paid = acc.total("cost"), acc.total("basic_paid")
    assert np.allclose(cost - paid, acc.total("oop_total"), rtol=1e-10)
    assert np.allclose(acc.total("compliant") - paid, acc.total("oop_compliant"), rtol=1e-10)
    assert np.all(acc.total("people") == 40_000)
    assert np.all(acc.rows.by_location.sum(axis=1) >= acc.floor)


def test_trend_and_shocks(provincial):
    assert year_factors(provincial, 1, 0, contract_year=2).severity == pytest.approx(1.08**2)
    shocked = provincial.replace(**{"claims.shocks.frequency_sd": 0.1, "claims.shocks.severity_sd": 0.2})
    f = np.array([[year_factors(shocked, 9, y).frequency, year_factors(shocked, 9, y).severity] for y in range(4000)])
    assert abs(f[:, 0].mean() - 1) < 4 * 0.1 / math.sqrt(4000)
    assert abs(f[:, 1].mean() - 1) < 4 * 0.2 / math.sqrt(4000)
    assert f[:, 1].std() == pytest.approx(0.2, rel=0.1)


def test_blocks_of_a_year_share_its_shock(provincial):
    """With a severity shock, two blocks' mean cost per episode move together across years; without, they don't."""
    def block_costs(sc):
        acc = accumulate(sc, 20, seed=4, progress=False, engine="brute")
        cost = acc.agg[..., AGG_FIELDS.index("cost")].sum(axis=2)
        episodes = acc.agg[..., AGG_FIELDS.index("episodes")].sum(axis=2)
        return cost / episodes  # (years, blocks)

    sc = provincial.replace(**{"population.size": 2 * rngmod.BLOCK_SIZE})
    shocked = block_costs(sc.replace(**{"claims.shocks.severity_sd": 0.3}))
    plain = block_costs(sc)
    assert np.corrcoef(shocked[:, 0], shocked[:, 1])[0, 1] > 0.8
    assert abs(np.corrcoef(plain[:, 0], plain[:, 1])[0, 1]) < 0.6


def test_bad_years_is_a_clear_error(provincial):
    with pytest.raises(ValueError, match="years must be >= 1"):
        accumulate(provincial, years=0)
