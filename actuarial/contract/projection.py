"""The tender's design as it stands in each contract year: indexed amounts and multi-year drivers.

Owns :func:`scenario_for_year`, which :func:`actuarial.contract.multiyear.run_contract` calls for every
contract year before simulating it. It computes nothing itself: it returns an ordinary, validated
scenario, so every engine and the exact method see the year's rules without knowing about them.

Contract year ``k`` (1 = the first) gets

* the ``[indexed]`` amounts of year ``k`` (:func:`actuarial.scenario.indexing.for_contract_year`);
* the ``[drivers]`` (:class:`~actuarial.scenario.rules.Drivers`): episodes per person-year ×
  (1 + utilisation trend)^(k−1); the age structure moved ``age_shift_years_per_year`` × (k−1)
  years older (:func:`shift_ages`); the insured count × (1 + enrolment change)^(k−1), rounded; and
  in year 1 only, episodes and premium × ``first_year_months`` / 12 (a contract starting on
  1 April, as Henan's pilots, 001 l.759, covers 9 months of claims for 9 months of premium).

The cost trend stays with the engines (``claims.cost_trend_percent``, applied ``k − 1`` times).
A single-year ``actuarial run`` simulates contract year 1 at full-year rates, without drivers.
"""

from __future__ import annotations

import numpy as np

from ..scenario.indexing import for_contract_year


def shift_ages(shares, years: float) -> tuple[float, ...]:
    """5-year age-band shares (0-4 … 85+) after the people age ``years`` years with no one entering or leaving.

    People are taken as spread evenly within a band, so ``years`` / 5 of each band moves up one band;
    the open top band keeps its own. The total is unchanged.

    >>> shift_ages([0.5, 0.3, 0.2], 1.0)          # a fifth of each band moves up
    (0.4, 0.34, 0.26)
    >>> shift_ages([0.5, 0.3, 0.2], 5.0)          # a whole band
    (0.0, 0.5, 0.5)
    """
    x = np.asarray(shares, float)
    whole, frac = int(years // 5), (years % 5) / 5
    for _ in range(whole):
        x = np.concatenate([[0.0], x[:-2], [x[-2] + x[-1]]])
    moved = frac * x
    moved[-1] = 0.0  # the open top band keeps everyone
    out = x - moved
    out[1:] += moved[:-1]
    return tuple(round(float(v), 12) for v in out)


def scenario_for_year(scenario, year: int):
    """``scenario`` as it stands in contract ``year`` (1 = the first): indexed amounts resolved and drivers applied.

    >>> from actuarial import load_scenario
    >>> sc = load_scenario("scenarios/national_2019_residents.toml")
    >>> y3 = scenario_for_year(sc, 3)
    >>> y3.cii.deductible, y3.population.size          # 50 % of 2020's 32,189; 300,000 x 0.99^2
    (16094.5, 294030)
    """
    sc = for_contract_year(scenario, year)
    drivers = getattr(sc, "drivers", None)
    if drivers is None:
        return sc
    k = year - 1
    part = drivers.first_year_months / 12 if year == 1 else 1.0
    changes: dict = {}
    usage = (1 + drivers.utilisation_trend_percent / 100) ** k * part
    if usage != 1.0:
        changes["claims.streams"] = [
            s.model_dump(mode="python") | {"episodes_by_age": tuple(v * usage for v in s.episodes_by_age)}
            for s in sc.claims.streams]
    if drivers.age_shift_years_per_year and k:
        changes["population.age_shares"] = shift_ages(sc.population.age_shares, drivers.age_shift_years_per_year * k)
    if drivers.enrolment_change_percent and k:
        changes["population.size"] = max(1, round(sc.population.size * (1 + drivers.enrolment_change_percent / 100) ** k))
    if part != 1.0:
        funding = sc.funding
        if funding.per_capita:
            changes["funding.per_capita"] = {s: v * part for s, v in funding.per_capita.items()}
        else:
            changes["funding.basic_fund_per_capita"] = {s: v * part for s, v in funding.basic_fund_per_capita.items()}
    return sc.replace(**changes) if changes else sc
