"""Multi-year drivers: each contract year's design by hand, money conserved per year, the exact cross-check, bad input."""

import numpy as np
import pytest

from actuarial import load_scenario
from actuarial.model.claims import YearFactors
from actuarial.contract.multiyear import run_contract
from actuarial.exact.compound import expected_cii
from actuarial.contract.projection import scenario_for_year, shift_ages
from actuarial.scenario import ScenarioError

from designs import indexed_design

DRIVERS = {"utilisation_trend_percent": 3, "age_shift_years_per_year": 0.5, "enrolment_change_percent": -2,
           "first_year_months": 9}


def with_drivers(**drivers):
    return indexed_design().replace(drivers={**DRIVERS, **drivers})


def test_shift_ages_keeps_the_total_and_ages_everyone():
    shares = np.array([0.1, 0.2, 0.3, 0.4])
    for years in (0.5, 1.0, 7.0, 12.5):
        out = np.array(shift_ages(shares, years))
        assert out.sum() == pytest.approx(1.0)
        ages = np.arange(4)
        assert out @ ages > shares @ ages  # the mean band rises
    assert shift_ages(shares, 0.0) == tuple(shares)
    assert shift_ages(shares, 2.5) == pytest.approx((0.05, 0.15, 0.25, 0.55))  # half of each band moves up


def test_each_contract_year_by_hand():
    sc = with_drivers()
    y1, y3 = scenario_for_year(sc, 1), scenario_for_year(sc, 3)
    # Year 1: 9 months of episodes and premium; year 3: 1.03^2 episodes, 0.98^2 insured, aged one year.
    assert y1.claims.streams[0].episodes_by_age[0] == pytest.approx(0.75)
    assert y1.premium_by_scheme()[2] == pytest.approx(22.5)
    assert y3.claims.streams[0].episodes_by_age[0] == pytest.approx(1.03 ** 2)
    assert y3.premium_by_scheme()[2] == 30 and y3.population.size == round(60_000 * 0.98 ** 2)
    assert y3.population.age_shares == shift_ages(sc.population.age_shares, 1.0)
    assert y3.cii.deductible == 0.25 * 14_617  # the indexed deductible still follows its year
    assert scenario_for_year(indexed_design(), 2) == scenario_for_year(indexed_design(), 2).replace()  # no drivers: plain


def test_money_is_conserved_every_year_with_drivers():
    res = run_contract(with_drivers(), years=4, seed=2, progress=False)
    for cy in res.years:
        s = cy.settlement
        residual = s.premium - (s.claims + s.insurer_result + s.returned_surplus + s.bond_forfeited - s.fund_loss_share)
        assert np.abs(residual).max() < 0.005, cy.year
    first, later = res.years[0].settlement.premium, res.years[1].settlement.premium
    assert first == pytest.approx(0.75 * 30 * 60_000) and later == pytest.approx(30 * round(60_000 * 0.98))


def test_partial_first_year_and_trend_match_exact():
    """Contract years 1 (9 months) and 3 (utilisation 1.03^2, older, cost trend 1.08^2) against the exact method."""
    sc = with_drivers(age_shift_years_per_year=0.0)  # one utilisation band: keep the population in it
    res = run_contract(sc, years=3, seed=13, progress=False)
    for k in (1, 3):
        mc = res.years[k - 1].result.claims_per_capita()
        exact = expected_cii(scenario_for_year(sc, k), factors=YearFactors(1.0, 1.08 ** (k - 1)), step=10.0,
                             n_points=1 << 16).claims_per_capita
        assert abs(mc.value - exact) < 3.5 * mc.se, (k, mc, exact)
    full_year = expected_cii(sc, step=10.0, n_points=1 << 16).claims_per_capita
    assert abs(full_year - res.years[0].result.claims_per_capita().value) > 5 * res.years[0].result.claims_per_capita().se


@pytest.mark.parametrize("field,value,expected", [
    ("first_year_months", 13, "drivers.first_year_months: must be >= 1 and <= 12 (got 13)"),
    ("age_shift_years_per_year", 2, "drivers.age_shift_years_per_year: must be >= 0 and <= 1 (got 2)"),
    ("enrolment_change_percent", -80, "drivers.enrolment_change_percent: must be >= -50 and <= 100 (got -80)"),
])
def test_bad_driver_values(field, value, expected):
    with pytest.raises(ScenarioError) as err:
        with_drivers(**{field: value})
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_national_template_projects_three_years():
    sc = load_scenario("scenarios/national_2019_residents.toml")
    years = [scenario_for_year(sc, k) for k in (1, 2, 3)]
    assert [y.cii.deductible for y in years] == [14_114, 15_366.5, 16_094.5]  # 50 % of 2018-2020 NBS income
    assert [round(y.premium_by_scheme()[2], 2) for y in years] == [38.5, 41.5, 45.0]  # 5 % of 770 / 830 / 900
