"""Indexed parameters: tables, resolution to yuan per contract year, bad input, and the exact cross-check."""

from pathlib import Path

import pytest

from actuarial import load_scenario, validate_scenario
from actuarial.model.claims import YearFactors
from actuarial.cli import main
from actuarial.contract.multiyear import run_contract
from actuarial.exact.compound import expected_cii
from actuarial.config.income import (BASIC_FUNDING_MINIMUM, DISPOSABLE_INCOME, basic_funding,
                                            per_capita_income)
from actuarial.scenario.indexing import for_contract_year
from actuarial.scenario import ScenarioError

from designs import indexed_design

NATIONAL = "scenarios/national_2019_residents.toml"


# --------------------------------------------------------------------------- tables
def test_tables_are_complete_and_plausible():
    for year, row in DISPOSABLE_INCOME.items():
        assert row.urban > row.rural > 0 and row.source
        assert row.residents is None or row.rural < row.residents < row.urban
    years = sorted(DISPOSABLE_INCOME)
    assert all(DISPOSABLE_INCOME[b].urban > DISPOSABLE_INCOME[a].urban for a, b in zip(years, years[1:]))
    assert all(BASIC_FUNDING_MINIMUM[y].total > BASIC_FUNDING_MINIMUM[y - 1].total for y in list(BASIC_FUNDING_MINIMUM)[1:])
    assert per_capita_income("residents", 2018) == 28_228  # NBS 2018 release, checked
    assert basic_funding(2016) == 570  # agrees with seed 002


def test_years_outside_the_table():
    with pytest.raises(ValueError, match="residents per-capita disposable income for 2012.*2013-2024"):
        per_capita_income("residents", 2012)
    with pytest.raises(ValueError, match="give a growth rate"):
        per_capita_income("urban", 2030)
    assert per_capita_income("urban", 2026, 10.0) == pytest.approx(54_188 * 1.21)


# --------------------------------------------------------------------------- resolution by hand
def test_national_2019_resolves_by_hand():
    sc = load_scenario(NATIONAL)
    # 2019 notice: 50 % (poor 25 %) of 2018's residents' income 28,228; funding 5 % of 770 (2019 minimum).
    assert (sc.cii.deductible, sc.cii.poor_deductible) == (14_114, 7_057)
    assert sc.funding.basic_fund_per_capita == {"merged": 770} and sc.premium_by_scheme()[2] == pytest.approx(38.5)
    y3 = for_contract_year(sc, 3)  # calendar 2021: 2020 income 32,189, 2021 funding 900
    assert (y3.cii.deductible, y3.cii.poor_deductible) == (16_094.5, 8_047.25)
    assert y3.premium_by_scheme()[2] == pytest.approx(45.0)
    assert for_contract_year(y3, 1).cii.deductible == sc.cii.deductible


def test_scheme_series_follows_the_scheme():
    urban = indexed_design({"income_series": "scheme"}, population={"scheme_shares": {"urban": 1.0}},
                           funding={"per_capita": {"urban": 30}})
    ncms = indexed_design({"income_series": "scheme"}, population={"scheme_shares": {"ncms": 1.0}},
                          funding={"per_capita": {"ncms": 30}})
    assert urban.cii.deductible == 0.25 * 33_616 and ncms.cii.deductible == 0.25 * 12_363  # 2016 NBS


def test_replace_of_a_yuan_field_overrides_the_index():
    sc = load_scenario(NATIONAL)
    fixed = sc.replace(**{"cii.deductible": 9000})
    assert fixed.cii.deductible == 9000 and fixed.indexed.deductible_income_percent is None
    assert for_contract_year(fixed, 2).cii.deductible == 9000  # no longer indexed
    assert for_contract_year(fixed, 2).cii.poor_deductible == 0.25 * 30_733  # still indexed
    moved = sc.replace(**{"indexed.base_year": 2021})  # other fields are resolved again
    assert moved.cii.deductible == 0.5 * 32_189


# --------------------------------------------------------------------------- bad input
BAD = {
    "negative percent": ("deductible_income_percent = -5",
                         "national_bad.toml: indexed.deductible_income_percent: must be > 0 and <= 1000 (got -5)"),
    "year beyond the table": ("base_year = 2030",
                              "national_bad.toml: indexed.base_year: contract year 1 (calendar 2030) needs the prior "
                              "year's income: no residents per-capita disposable income for 2029"),
    "unknown series": ('income_series = "rich"', "national_bad.toml: indexed.income_series: must be 'urban', 'rural', "
                                                 "'residents' or 'scheme' (got 'rich')"),
    "early year": ("base_year = 2005", "national_bad.toml: indexed.base_year: must be >= 2012 and <= 2100 (got 2005)"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_indexed_values_get_one_line(tmp_path, case):
    line, expected = BAD[case]
    key = line.split(" = ")[0]
    text = open(NATIONAL, encoding="utf-8").read()
    start = text.index(f"\n{key} = ", text.index("[indexed]")) + 1
    bad = tmp_path / "national_bad.toml"
    bad.write_text(text[:start] + line + text[text.index("\n", start):], encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(bad)
    message = str(err.value)
    assert expected in message and "\n" not in message.strip(), message


def test_yuan_and_indexed_together_is_an_error():
    with pytest.raises(ScenarioError, match=r"cii.deductible: given both in yuan \(5000\) and as indexed.deductible_income_percent \(3090.75 for contract year 1\)"):
        indexed_design(cii={"deductible": 5000})


def test_scheme_series_with_mixed_schemes_is_an_error():
    with pytest.raises(ScenarioError, match="indexed.income_series: 'scheme' needs one income series"):
        indexed_design({"income_series": "scheme"}, population={"scheme_shares": {"urban": 0.4, "ncms": 0.6}},
                       funding={"per_capita": {"urban": 30, "ncms": 25}})


def test_cli_exit_2_on_bad_indexed_value(tmp_path, capsys):
    text = open(NATIONAL, encoding="utf-8").read().replace("deductible_income_percent = 50", "deductible_income_percent = 5000")
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    assert main(["run", str(bad), "--years", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "indexed.deductible_income_percent: must be > 0 and <= 1000 (got 5000)" in err and "Traceback" not in err


# --------------------------------------------------------------------------- exact cross-check over a contract
@pytest.mark.parametrize("engine", ["brute", "fast", "gpu"])
def test_indexed_deductible_over_a_contract_matches_exact(engine):
    """Each contract year is simulated with that year's deductible (25 % of the prior year's rural income:
    3,091 / 3,358 / 3,654 yuan) and cost trend; claims per capita match the exact method year by year."""
    sc = indexed_design()
    res = run_contract(sc, years=3, seed=11, engine=engine, progress=False)
    deductibles = [cy.result.cii.deductible for cy in res.years]
    assert deductibles == [0.25 * 12_363, 0.25 * 13_432, 0.25 * 14_617]
    for k, cy in enumerate(res.years, start=1):
        exact = expected_cii(for_contract_year(sc, k), factors=YearFactors(1.0, 1.08 ** (k - 1)), step=10.0,
                             n_points=1 << 16).claims_per_capita
        mc = cy.result.claims_per_capita()
        assert mc.se < 0.02 * mc.value
        assert abs(mc.value - exact) < 3.5 * mc.se, (k, mc, exact)
    # Teeth: had the deductible stayed at year 1's, year 3 would differ by far more than 3 SE.
    frozen = expected_cii(sc, factors=YearFactors(1.0, 1.08 ** 2), step=10.0, n_points=1 << 16).claims_per_capita
    assert abs(frozen - res.years[2].result.claims_per_capita().value) > 5 * res.years[2].result.claims_per_capita().se


def test_consolidated_template_indexes_the_assistance_deductible():
    sc = load_scenario("scenarios/national_2022_consolidated.toml")
    # 2021 opinion: at most 5 % of prior-year residents' income: 5 % of 35,128 (2021), then of 36,883 (2022)
    assert sc.medical_assistance.deductible == pytest.approx(1_756.4)
    assert for_contract_year(sc, 2).medical_assistance.deductible == pytest.approx(1_844.15)
    assert (sc.cii.deductible, sc.cii.poor_deductible) == (17_564, 8_782)


def test_indexed_assistance_deductible_needs_the_section():
    with pytest.raises(ScenarioError, match=r"<dict>: medical_assistance: missing; indexed.assistance_deductible_income_percent"):
        indexed_design({"assistance_deductible_income_percent": 5})


def test_a_dumped_scenario_validates_again_and_a_bid_overrides_the_index(tmp_path):
    sc = load_scenario(NATIONAL)
    assert validate_scenario(sc.model_dump(mode="python")) == sc  # both forms present and agreeing
    from actuarial.contract.bids import load_bid

    bid = tmp_path / "bid.toml"
    bid.write_text(f'[bid]\nname = "lower deductible"\nbase = "{(Path(NATIONAL).resolve())}"\n'
                   "[cii]\ndeductible = 10_000\n", encoding="utf-8")
    b = load_bid(bid)
    assert b.scenario.cii.deductible == 10_000 and b.scenario.cii.poor_deductible == 7_057  # poor still indexed
