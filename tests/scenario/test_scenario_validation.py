"""Bad scenario files: every error names the file, the dotted field and what is allowed.

Each case starts from a small valid file and breaks one thing. The expected
pieces are what a user needs to fix the file without reading the code: the
field path, and the valid range or the allowed values.
"""

from __future__ import annotations

import pytest

from actuarial.cli import main
from actuarial.scenario import ScenarioError, load_scenario

BASE = """\
[programme]
name = "t"

[population]
size = 1000

[funding]
per_capita = { merged = 30 }

[cii]
deductible = 8000
tiers = [{ above = 0, rate_percent = 50 }]
"""

STREAM = """
[[claims.streams]]
name = "adm"
episodes_by_age = [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]
level_mix = { tertiary = 1.0 }
severity.tertiary = { family = "lognormal", mean = 10000, cv = 1.0 }
"""


def edit(old: str, new: str, text: str = BASE) -> str:
    assert old in text, old  # a case that edits nothing would test the valid file
    return text.replace(old, new)


def with_stream(old: str = "", new: str = "") -> str:
    return BASE + (edit(old, new, STREAM) if old else STREAM)


# id: (file text, pieces the message must contain besides the file name)
CASES = {
    "missing_section": (
        edit("[funding]\nper_capita = { merged = 30 }\n", ""),
        ["funding: missing section [funding]"]),
    "unknown_field_typo": (
        edit("deductible = 8000", "deductable = 8000"),
        ["cii.deductable: unknown field", "allowed fields here:", "deductible", "cii.deductible: missing"]),
    "negative_deductible": (
        edit("deductible = 8000", "deductible = -5"),
        ["cii.deductible: must be >= 0", "(got -5)"]),
    "rate_percent_over_100": (
        edit("rate_percent = 50", "rate_percent = 150"),
        ["cii.tiers.0.rate_percent: must be >= 0 and <= 100", "(got 150)"]),
    "tiers_not_increasing": (
        edit("tiers = [{ above = 0, rate_percent = 50 }]",
             "tiers = [{ above = 0, rate_percent = 50 }, { above = 50000, rate_percent = 60 },"
             " { above = 20000, rate_percent = 70 }]"),
        ["cii.tiers: tier 'above' edges must increase strictly", "[0.0, 50000.0, 20000.0]"]),
    "first_tier_not_at_zero": (
        edit("above = 0", "above = 1000"),
        ["cii.tiers: the first tier must start at above = 0", "got 1000"]),
    "no_tiers": (
        edit("tiers = [{ above = 0, rate_percent = 50 }]", "tiers = []"),
        ["cii.tiers: at least one tier is needed"]),
    "scheme_shares_not_summing_to_1": (
        edit("size = 1000", "size = 1000\nscheme_shares = { urban = 0.5, ncms = 0.4 }"),
        ["population.scheme_shares: shares must sum to 1", "(got 0.9)"]),
    "unknown_scheme": (
        edit("size = 1000", "size = 1000\nscheme_shares = { rural = 1.0 }"),
        ["population.scheme_shares.rural: unknown name 'rural'", "'urban', 'ncms' or 'merged'"]),
    "poverty_rate_for_scheme_not_in_population": (
        edit("size = 1000", "size = 1000\npoverty_rate_percent = { ncms = 5 }"),
        ["population.poverty_rate_percent: names schemes ['ncms']", "allowed: ['merged']"]),
    "poverty_rate_over_100": (
        edit("size = 1000", "size = 1000\npoverty_rate_percent = { merged = 150 }"),
        ["population.poverty_rate_percent.merged: must be >= 0 and <= 100", "(got 150)"]),
    "age_shares_wrong_length": (
        edit("size = 1000", "size = 1000\nage_shares = [1, 2, 3]"),
        ["population.age_shares: needs 18 values", "got 3"]),
    "region_shares_not_summing_to_1": (
        edit("size = 1000", 'size = 1000\nregions = [{ name = "a", share = 0.5 }, { name = "b", share = 0.3 }]'),
        ["population.regions: region shares must sum to 1", "(got 0.8)"]),
    "population_size_0": (
        edit("size = 1000", "size = 0"),
        ["population.size: must be >= 1 and <= 2_000_000_000", "(got 0)"]),
    "population_size_not_whole": (
        edit("size = 1000", "size = 1000.5"),
        ["population.size: must be a whole number >= 1", "(got 1000.5)"]),
    "string_where_number_expected": (
        edit("deductible = 8000", 'deductible = "8000 yuan"'),
        ["cii.deductible: must be a number >= 0", "(got '8000 yuan')"]),
    "severity_family_unknown": (
        with_stream('"lognormal"', '"weibull"'),
        ["claims.streams.0.severity.tertiary.family: unknown family 'weibull'",
         "'lognormal', 'gamma', 'spliced_pareto'"]),
    "pareto_alpha_not_above_1": (
        with_stream('{ family = "lognormal", mean = 10000, cv = 1.0 }',
                    '{ family = "spliced_pareto", mean = 10000, cv = 1.0, threshold = 50000, alpha = 0.8 }'),
        ["claims.streams.0.severity.tertiary.alpha: must be > 1 and <= 50", "(got 0.8)"]),
    "severity_mean_nan": (
        with_stream("mean = 10000", "mean = nan"),
        ["claims.streams.0.severity.tertiary.mean: must be a finite number", "(got nan)"]),
    "level_mix_not_summing_to_1": (
        with_stream("level_mix = { tertiary = 1.0 }", "level_mix = { tertiary = 0.7, secondary = 0.2 }"),
        ["claims.streams.0.level_mix: shares must be in [0, 1] and sum to 1"]),
    "severity_missing_for_a_level": (
        with_stream("level_mix = { tertiary = 1.0 }", "level_mix = { tertiary = 0.5, secondary = 0.5 }"),
        ["claims.streams.0.severity: missing for levels ['secondary']", "['secondary', 'tertiary']"]),
    "episodes_by_age_wrong_length": (
        with_stream("[0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]", "[0.1, 0.1]"),
        ["claims.streams.0.episodes_by_age: needs 7 values", "'80+'", "got 2"]),
    "stream_setting_unknown": (
        with_stream('name = "adm"', 'name = "adm"\nsetting = "daycare"'),
        ["claims.streams.0.setting: must be 'inpatient' or 'outpatient'", "(got 'daycare')"]),
    "duplicate_stream_names": (
        BASE + STREAM + STREAM,
        ["claims.streams: stream names must be unique", "['adm', 'adm']"]),
    "compliant_percent_over_100": (
        BASE + "\n[claims]\ncompliant_percent = { tertiary = 150 }\n",
        ["claims.compliant_percent.tertiary: must be >= 0 and <= 100", "(got 150)"]),
    "category_b_plus_c_over_100": (
        BASE + "\n[claims]\ncategory_b_percent = 80\ncategory_c_percent = 30\n",
        ["claims.category_c_percent: category_b_percent + category_c_percent must be <= 100", "80 + 30"]),
    "out_of_area_shares_not_summing_to_1": (
        BASE + "\n[claims.out_of_area]\nin_province_referred = 0.9\n",
        ["claims.out_of_area: the four shares must sum to 1", "(got 1.4)"]),
    "funding_both_modes": (
        edit("per_capita = { merged = 30 }",
             "per_capita = { merged = 30 }\nbasic_fund_share_percent = 5\nbasic_fund_per_capita = { merged = 500 }"),
        ["funding.basic_fund_share_percent: not allowed together with per_capita",
         "give either per_capita", "or basic_fund_share_percent with basic_fund_per_capita"]),
    "funding_neither_mode": (
        edit("per_capita = { merged = 30 }", "basic_fund_per_capita = { merged = 500 }"),
        ["funding.per_capita: missing", "give either per_capita"]),
    "funding_share_without_basic_fund": (
        edit("per_capita = { merged = 30 }", "basic_fund_share_percent = 5"),
        ["funding.basic_fund_per_capita: missing; basic_fund_share_percent needs it"]),
    "funding_missing_a_scheme": (
        edit("size = 1000", "size = 1000\nscheme_shares = { urban = 0.5, ncms = 0.5 }", edit("merged = 30", "urban = 30")),
        ["funding.per_capita: no amount for schemes ['ncms']", "give one for each of ['ncms', 'urban']"]),
    "negative_premium": (
        edit("merged = 30", "merged = -30"),
        ["funding.per_capita.merged: must be > 0", "(got -30)"]),
    "zero_premium": (
        edit("merged = 30", "merged = 0"),
        ["funding.per_capita.merged: must be > 0", "(got 0)"]),
    "fee_rate_over_5": (
        BASE + "\n[contract]\ncombined_fee_rate_percent = 8\n",
        ["contract.combined_fee_rate_percent:", "may not exceed 5 % of premium", "(got 8)"]),
    "disease_scope_unknown": (
        edit("deductible = 8000", 'deductible = 8000\nscope = ["cancer", "diabetes"]'),
        ["cii.scope: unknown disease groups ['diabetes']", "allowed:", "'uremia_dialysis'"]),
    "scope_matching_no_stream": (
        edit("deductible = 8000", 'deductible = 8000\nscope = ["cancer"]') + STREAM,
        ["cii.scope: ['cancer'] matches no claims stream", "diseases are ['general']"]),
    "cap_zero": (
        edit("deductible = 8000", "deductible = 8000\ncap = 0"),
        ["cii.cap: must be > 0", "(got 0)"]),
    "location_unknown": (
        BASE + "\n[cii.locations]\nabroad = { flat_rate_percent = 50 }\n",
        ["cii.locations.abroad: unknown name 'abroad'", "'in_province_referred'", "'out_of_province_unreferred'"]),
    "basic_terms_missing_for_a_level": (
        BASE + STREAM + "\n[basic]\ninpatient.primary = { deductible = 200, coinsurance_percent = 90 }\n",
        ["basic.inpatient: no terms for levels ['tertiary']"]),
    "year_out_of_range": (
        edit('name = "t"', 'name = "t"\nyear = 1850'),
        ["programme.year: must be >= 1990 and <= 2100", "(got 1850)"]),
}


def test_base_file_is_valid(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text(BASE + STREAM, encoding="utf-8")
    assert load_scenario(path).cii.deductible == 8000


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file_message(tmp_path, case):
    text, pieces = CASES[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert all(line.startswith(f"{path}: ") for line in msg.splitlines()), msg
    for piece in pieces:
        assert piece in msg, f"{piece!r} not in:\n{msg}"
    assert "Input should" not in msg and "Value error" not in msg and "<top>" not in msg, msg


def test_invalid_toml_syntax_names_file_and_line(tmp_path):
    path = tmp_path / "syntax.toml"
    path.write_text(edit("deductible = 8000", "deductible = = 8000"), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"syntax\.toml: not valid TOML: .*line 11, column 14"):
        load_scenario(path)


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match=r"nowhere\.toml: no such scenario file"):
        load_scenario(tmp_path / "nowhere.toml")


def test_non_utf8_file(tmp_path):
    path = tmp_path / "gbk.toml"
    path.write_bytes(BASE.replace('"t"', '"大病保险"').encode("gbk"))
    with pytest.raises(ScenarioError, match=r"gbk\.toml: not UTF-8 text .*save the file as UTF-8"):
        load_scenario(path)


def test_every_problem_is_reported_at_once(tmp_path):
    path = tmp_path / "two.toml"
    path.write_text(edit("size = 1000", "size = 0", edit("deductible = 8000", "deductible = -1")), encoding="utf-8")
    msg = str(pytest.raises(ScenarioError, load_scenario, path).value)
    assert "population.size" in msg and "cii.deductible" in msg and len(msg.splitlines()) == 2


def test_replace_reports_the_dotted_field(qinzhou):
    with pytest.raises(ScenarioError, match=r"<replace>: cii\.tiers\.1\.rate_percent: must be >= 0 and <= 100"):
        qinzhou.replace(**{"cii.tiers.1.rate_percent": 120})
    with pytest.raises(ScenarioError, match="unknown field path 'cii.nothing.deductible'"):
        qinzhou.replace(**{"cii.nothing.deductible": 1})


# --------------------------------------------------------------------------- the validate command
def test_validate_cli_ok(capsys):
    assert main(["validate", "scenarios/qinzhou_2016.toml", "scenarios/default_county.toml"]) == 0
    out = capsys.readouterr().out
    assert "ok    scenarios/qinzhou_2016.toml: Qinzhou 2016" in out and "default_county.toml" in out


def test_validate_cli_reports_each_bad_file_and_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(CASES["rate_percent_over_100"][0], encoding="utf-8")
    missing = tmp_path / "missing.toml"
    assert main(["validate", "scenarios/qinzhou_2016.toml", str(bad), str(missing)]) == 2
    captured = capsys.readouterr()
    assert "ok    scenarios/qinzhou_2016.toml" in captured.out
    assert f"error {bad}: cii.tiers.0.rate_percent: must be >= 0 and <= 100 (got 150)" in captured.err
    assert f"error {missing}: no such scenario file" in captured.err


def test_run_on_bad_file_exits_2_without_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(CASES["unknown_scheme"][0], encoding="utf-8")
    assert main(["run", str(bad), "--years", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "population.scheme_shares.rural" in err and "Traceback" not in err
