"""Basic insurance by hand, and one block recomputed independently from its episodes.

The second half takes the episodes the engine draws for one block and redoes
basic insurance, the annual cap, the CII scope and the accumulation with
pandas group-bys (not the engine's bincounts), then checks the engine's rows,
totals and CII claims against that.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from actuarial import validate_scenario
from actuarial.model.basic import apply_annual_cap, episode_payments, level_terms
from actuarial.model.cii import benefit
from actuarial.model.claims import simulate_episodes, year_factors
from actuarial.engines.engine import accumulate, simulate_block
from actuarial.model.agg_fields import AGG_FIELDS
from actuarial.model.population import population_block
from actuarial.results.simulation import evaluate
from actuarial.scenario import LEVELS, LOCATIONS, Basic, BasicLevel

TERMS = Basic(inpatient={"primary": BasicLevel(deductible=200, coinsurance_percent=90),
                         "secondary": BasicLevel(deductible=500, coinsurance_percent=75),
                         "tertiary": BasicLevel(deductible=1000, coinsurance_percent=60)},
              outpatient=BasicLevel(deductible=100, coinsurance_percent=65),
              annual_cap=150_000)
PRIMARY, SECONDARY, TERTIARY = (LEVELS.index(k) for k in ("primary", "secondary", "tertiary"))


# --------------------------------------------------------------------------- per episode
@pytest.mark.parametrize("compliant, level, inpatient, paid, deductible_part", [
    (11_000, TERTIARY, True, 0.60 * 10_000, 1_000),     # basic.py's example: 6,000 and 1,000
    (800, TERTIARY, True, 0.0, 800),                      # below the deductible: patient pays it all
    (1_000, TERTIARY, True, 0.0, 1_000),                  # exactly at the deductible
    (1_200, PRIMARY, True, 0.90 * 1_000, 200),
    (5_500, SECONDARY, True, 0.75 * 5_000, 500),
    (1_000, TERTIARY, False, 0.65 * 900, 100),            # outpatient terms, whatever the level
    (0, PRIMARY, True, 0.0, 0.0),
])
def test_episode_payment_by_hand(compliant, level, inpatient, paid, deductible_part):
    got_paid, got_ded = episode_payments(TERMS, np.array([float(compliant)]), np.array([level]), np.array([inpatient]))
    assert got_paid[0] == pytest.approx(paid) and got_ded[0] == pytest.approx(deductible_part)


def test_episode_payments_vectorised_mix():
    compliant = np.array([11_000.0, 1_200.0, 1_000.0])
    paid, ded = episode_payments(TERMS, compliant, np.array([TERTIARY, PRIMARY, SECONDARY]),
                                 np.array([True, True, False]))
    assert paid == pytest.approx([6_000, 900, 585]) and ded == pytest.approx([1_000, 200, 100])


def test_level_terms_nan_where_undefined():
    ded, coins = level_terms(TERMS)
    assert list(ded[:3]) == [200, 500, 1000] and list(coins[:3]) == pytest.approx([0.9, 0.75, 0.6])
    assert np.isnan(ded[LEVELS.index("out_of_area")]) and np.isnan(coins[LEVELS.index("out_of_area")])


# --------------------------------------------------------------------------- annual cap
def test_annual_cap_scales_each_persons_episodes_in_proportion():
    """Person 0: 100,000 + 80,000 = 180,000 > 150,000, so both are scaled by 150/180;
    person 1 is under the cap; person 2 is exactly at it."""
    paid = np.array([100_000.0, 80_000.0, 40_000.0, 150_000.0])
    person = np.array([0, 0, 1, 2])
    got = apply_annual_cap(TERMS, paid, person, 3)
    assert got == pytest.approx([100_000 * 150 / 180, 80_000 * 150 / 180, 40_000, 150_000])
    assert got[:2].sum() == pytest.approx(150_000)


def test_annual_cap_not_binding_returns_the_payments_unchanged():
    paid = np.array([10.0, 20.0])
    assert apply_annual_cap(TERMS, paid, np.array([0, 1]), 2) is paid


# --------------------------------------------------------------------------- one block by hand
def small_scenario():
    """Default streams, a low basic cap so that it binds, a disease scope that drops some streams."""
    return validate_scenario({
        "programme": {"name": "hand check"},
        "population": {"size": 6000, "scheme_shares": {"urban": 0.4, "ncms": 0.6},
                       "poverty_rate_percent": {"ncms": 10}},
        "funding": {"per_capita": {"urban": 30, "ncms": 25}},
        "basic": {"annual_cap": 20_000},
        "cii": {"deductible": 3000, "poor_deductible": 1500, "poor_points": 10, "cap": 40_000,
                "scope": ["general", "cancer"],
                "tiers": [{"above": 0, "rate_percent": 50}, {"above": 10_000, "rate_percent": 70}]},
    })


def by_hand(sc, seed: int, year: int):
    """Per-person accumulation by location, and basic/out-of-pocket totals, from the drawn episodes."""
    people = population_block(sc.population, seed, 0)
    ep = simulate_episodes(sc, people, seed, year, 0, year_factors(sc, seed, year))
    streams = sc.claims.streams
    df = pd.DataFrame({"person": ep.person, "level": [LEVELS[i] for i in ep.level],
                       "location": ep.location, "cost": ep.cost, "compliant": ep.compliant,
                       "inpatient": [streams[s].setting == "inpatient" for s in ep.stream],
                       "covered": [streams[s].disease in sc.cii.scope for s in ep.stream]})
    basic = sc.basic

    def terms(row):
        t = basic.inpatient[row.level] if row.inpatient else basic.outpatient
        return pd.Series({"ded": t.deductible, "coins": t.coinsurance_percent / 100})

    df = df.join(df.apply(terms, axis=1))
    df["ded_part"] = df[["compliant", "ded"]].min(axis=1)
    df["paid"] = df.coins * (df.compliant - df.ded_part)
    yearly = df.groupby("person").paid.transform("sum")
    df["paid"] *= np.minimum(1.0, basic.annual_cap / yearly.where(yearly > 0, 1.0))
    df["toward"] = df.compliant - df.paid - df.ded_part
    acc = (df[df.covered].pivot_table(index="person", columns="location", values="toward", aggfunc="sum")
           .reindex(columns=range(len(LOCATIONS)), fill_value=0.0).fillna(0.0))
    acc = acc[acc.sum(axis=1) > 0]
    return people, df, acc


def test_block_rows_and_totals_match_a_recomputation_from_the_episodes():
    sc, seed = small_scenario(), 31
    out = simulate_block(sc, seed, 0, years=2, floor=0.0)
    assert sc.basic.annual_cap == 20_000
    for year in range(2):
        people, df, acc = by_hand(sc, seed, year)
        rows = out.rows.year == year
        # the engine keeps every person with a positive accumulation, in person order
        assert rows.sum() == len(acc)
        assert np.allclose(out.rows.by_location[rows], acc.to_numpy(), rtol=1e-12, atol=1e-6)
        assert np.array_equal(out.rows.group[rows], people.group[acc.index.to_numpy()])
        agg = out.agg[year].sum(axis=0)
        assert agg[AGG_FIELDS.index("people")] == 6000
        assert agg[AGG_FIELDS.index("basic_paid")] == pytest.approx(df.paid.sum(), rel=1e-12)
        assert agg[AGG_FIELDS.index("oop_total")] == pytest.approx((df.cost - df.paid).sum(), rel=1e-12)
        assert agg[AGG_FIELDS.index("premium")] == pytest.approx(
            30 * (people.scheme == 0).sum() + 25 * (people.scheme == 1).sum())
        # the low cap binds for someone, so the scaling above was exercised
        assert (df.groupby("person").paid.sum() >= 20_000 - 1e-6).any()


def test_engine_claims_match_the_benefit_of_the_recomputed_accumulations():
    sc, seed = small_scenario(), 31
    res = evaluate(accumulate(sc, years=2, seed=seed, progress=False))
    for year in range(2):
        people, _, acc = by_hand(sc, seed, year)
        poor = people.poor[acc.index.to_numpy()]
        expected = benefit(sc.cii, acc.to_numpy(), poor).sum()
        assert res.yearly("claims")[year] == pytest.approx(expected, rel=1e-12)
        assert expected > 0
