"""Bad input, as a hostile user would write it: every case exits with status 2 and one line naming
the file or option, the field, the allowed range and the value; no traceback; no output file left.

Cases cover scenario files, bid files, sweep files, command-line options and experience files.
Each runs ``actuarial.cli.main`` in process (a SystemExit from argparse counts as its status).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from actuarial.cli import main

SCENARIO = '''[programme]
name = "T"
[population]
size = 20_000
scheme_shares = { urban = 0.3, ncms = 0.7 }
[funding]
per_capita = { urban = 29, ncms = 25 }
[cii]
deductible = 8000
cap = 220_000
tiers = [ { above = 0, rate_percent = 50 }, { above = 30_000, rate_percent = 60 } ]
[contract]
combined_fee_rate_percent = 5
'''

BID = '''[bid]
name = "A"
base = "s.toml"
[contract]
combined_fee_rate_percent = 3
'''

SWEEP = '''base = "s.toml"
design = "tornado"
years = 2
seed = 1
outputs = ["claims_per_capita"]
[[parameters]]
name = "deductible"
path = "cii.deductible"
low = 6000
high = 10000
'''

CLAIMS = "tests/data/claims.csv"
ENROLMENT = "tests/data/enrolment.csv"


def _sub(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# (id, files to write {name: text}, argv after the command's files, expected pieces of the one line)
# In argv and pieces, {d} is the temporary folder.
SCENARIO_CASES = [
    ("deductible_negative", ("deductible = 8000", "deductible = -5"), ["cii.deductible", ">= 0", "-5"]),
    ("deductible_bool", ("deductible = 8000", "deductible = true"), ["cii.deductible", ">= 0", "True"]),
    ("deductible_string", ("deductible = 8000", 'deductible = "8000"'), ["cii.deductible", ">= 0", "'8000'"]),
    ("deductible_nan", ("deductible = 8000", "deductible = nan"), ["cii.deductible", "finite number", "nan"]),
    ("deductible_inf", ("deductible = 8000", "deductible = inf"), ["cii.deductible", "inf"]),
    ("size_zero", ("size = 20_000", "size = 0"), ["population.size", ">= 1", "0"]),
    ("size_float", ("size = 20_000", "size = 1.5"), ["population.size", "whole number", "1.5"]),
    ("size_huge", ("size = 20_000", "size = 3_000_000_000"), ["population.size", "<= 2_000_000_000", "3000000000"]),
    ("size_bool", ("size = 20_000", "size = true"), ["population.size", ">= 1", "True"]),
    ("female_share", ("scheme_shares", "female_share = 1.5\nscheme_shares"), ["population.female_share", "<= 1", "1.5"]),
    ("female_share_nan", ("scheme_shares", "female_share = nan\nscheme_shares"), ["population.female_share", "nan"]),
    ("scheme_shares_sum", ("urban = 0.3, ncms = 0.7", "urban = 0.3, ncms = 0.6"), ["population.scheme_shares", "sum to 1", "0.9"]),
    ("scheme_share_string", ("urban = 0.3, ncms = 0.7", 'urban = "0.3", ncms = 0.7'), ["population.scheme_shares.urban", "'0.3'"]),
    ("unknown_scheme", ("urban = 0.3, ncms = 0.7", "urban = 0.3, rural = 0.7"), ["population.scheme_shares", "rural", "allowed"]),
    ("age_shares_length", ("scheme_shares", "age_shares = [1, 2, 3]\nscheme_shares"), ["population.age_shares", "18 values", "3"]),
    ("typo_field", ("deductible = 8000", "deductable = 8000"), ["cii.deductable", "unknown field", "deductible"]),
    ("missing_section", ("[cii]", "[ciii]"), ["cii", "missing"]),
    ("tier_rate", ("rate_percent = 60", "rate_percent = 150"), ["cii.tiers.1.rate_percent", "<= 100", "150"]),
    ("tiers_order", ("above = 30_000", "above = 0"), ["cii.tiers", "increase strictly", "0"]),
    ("cap_negative", ("cap = 220_000", "cap = -1"), ["cii.cap", "-1"]),
    ("fee_rate", ("combined_fee_rate_percent = 5", "combined_fee_rate_percent = 200"),
     ["contract.combined_fee_rate_percent", "200"]),
    ("per_capita_negative", ("urban = 29, ncms = 25", "urban = -29, ncms = 25"), ["funding.per_capita.urban", "> 0", "-29"]),
    ("per_capita_missing_scheme", ("urban = 29, ncms = 25", "urban = 29"), ["funding.per_capita", "ncms"]),
    ("year_range", ('name = "T"', 'name = "T"\nyear = 1800'), ["programme.year", ">= 1990", "1800"]),
    ("scope_unknown", ("deductible = 8000", 'deductible = 8000\nscope = ["flu"]'), ["cii.scope", "flu", "allowed"]),
    ("not_toml", ("[cii]", "[cii"), ["not valid TOML"]),
    # The sections of today's rules (actuarial.scenario.rules) take numbers as strictly as the rest.
    ("assistance_rate_bool", ("[contract]", "[medical_assistance]\nrate_percent = true\n[contract]"),
     ["medical_assistance.rate_percent", "True"]),
    ("assistance_cap_string", ("[contract]", '[medical_assistance]\nrate_percent = 50\ncap = "50000"\n[contract]'),
     ["medical_assistance.cap", "'50000'"]),
    ("drivers_trend_bool", ("[contract]", "[drivers]\nutilisation_trend_percent = true\n[contract]"),
     ["drivers.utilisation_trend_percent", "True"]),
]


def _scenario_case(text_edit):
    old, new = text_edit
    return {"s.toml": _sub(SCENARIO, old, new)}


CASES = []
for name, edit, pieces in SCENARIO_CASES:
    CASES.append((f"scenario-{name}", _scenario_case(edit), ["run", "{d}/s.toml"], ["{d}/s.toml", *pieces]))

CASES += [
    ("scenario-missing_file", {}, ["run", "{d}/nope.toml"], ["{d}/nope.toml", "no such scenario file"]),
    ("scenario-directory", {"dir.toml/x": ""}, ["run", "{d}/dir.toml"], ["{d}/dir.toml", "is a directory"]),
    ("scenario-not_utf8", {"s.toml": b"[programme]\nname = \"\xff\"\n"}, ["run", "{d}/s.toml"], ["{d}/s.toml", "UTF-8"]),
    ("validate-bad", _scenario_case(("deductible = 8000", "deductible = -1")), ["validate", "{d}/s.toml"],
     ["{d}/s.toml", "cii.deductible", ">= 0", "-1"]),
    # command-line options
    ("cli-seed_negative", {"s.toml": SCENARIO}, ["run", "{d}/s.toml", "--seed", "-1"], ["--seed", ">= 0", "-1"]),
    ("cli-seed_huge", {"s.toml": SCENARIO}, ["run", "{d}/s.toml", "--seed", str(2**64)], ["--seed", "2**63", str(2**64)]),
    ("cli-seed_text", {"s.toml": SCENARIO}, ["run", "{d}/s.toml", "--seed", "abc"], ["--seed", "invalid int", "abc"]),
    ("cli-years_zero", {"s.toml": SCENARIO}, ["run", "{d}/s.toml", "--years", "0"], ["--years", ">= 1", "0"]),
    ("cli-years_one_replicate", {"s.toml": SCENARIO}, ["run", "{d}/s.toml", "--years", "1"],
     ["--years", "1", "at least 2", "65,536"]),
    ("cli-years_memory", {"s.toml": SCENARIO}, ["run", "{d}/s.toml", "--years", "1000000000"],
     ["1,000,000,000 simulated years", "GiB", "available"]),
    ("cli-size_memory", {"s.toml": SCENARIO}, ["run", "{d}/s.toml", "--size", "2000000000", "--years", "100000"],
     ["2,000,000,000 insured", "GiB", "available"]),
    ("cli-size_zero", {"s.toml": SCENARIO}, ["run", "{d}/s.toml", "--size", "0"], ["--size", ">= 1", "0"]),
    ("cli-size_huge", {"s.toml": SCENARIO}, ["run", "{d}/s.toml", "--size", "10000000000"],
     ["--size", "<= 2_000_000_000", "10000000000"]),
    ("cli-size_float", {"s.toml": SCENARIO}, ["run", "{d}/s.toml", "--size", "1e10"], ["--size", "invalid int", "1e10"]),
    ("cli-workers_zero", {"s.toml": SCENARIO}, ["run", "{d}/s.toml", "--workers", "0"], ["--workers", ">= 1", "0"]),
    ("cli-engine", {"s.toml": SCENARIO}, ["run", "{d}/s.toml", "--engine", "quantum"], ["--engine", "quantum", "brute"]),
    ("cli-format", {"s.toml": SCENARIO}, ["run", "{d}/s.toml", "--format", "xml"], ["--format", "xml", "json"]),
    ("cli-out_exists", {"s.toml": SCENARIO, "o.json": "{}"}, ["run", "{d}/s.toml", "--out", "{d}/o.json"],
     ["{d}/o.json", "already exists", "--out"]),
    ("cli-out_nodir", {"s.toml": SCENARIO}, ["run", "{d}/s.toml", "--out", "{d}/nodir/o.json"],
     ["--out", "{d}/nodir/o.json", "no such folder"]),
    ("cli-out_under_file", {"s.toml": SCENARIO, "file": "x"}, ["run", "{d}/s.toml", "--out", "{d}/file/child"],
     ["--out", "{d}/file/child", "is a file"]),
    ("cli-out_is_dir", {"s.toml": SCENARIO, "od/x": ""}, ["run", "{d}/s.toml", "--out", "{d}/od"],
     ["{d}/od", "already exists", "--out"]),
    ("cli-connect_timeout", {"s.toml": SCENARIO}, ["run", "{d}/s.toml", "--connect-timeout", "0"],
     ["--connect-timeout", "> 0", "0"]),
    ("calibrate-percentile_ignored", {"s.toml": SCENARIO}, ["calibrate", "{d}/s.toml", "--percentile", "0.95"],
     ["--percentile", "--target percentile", "0.95"]),
    ("calibrate-premium_ignored", {"s.toml": SCENARIO}, ["calibrate", "{d}/s.toml", "--premium", "30"],
     ["--premium", "--solve", "30"]),
    ("calibrate-premium_nan", {"s.toml": SCENARIO}, ["calibrate", "{d}/s.toml", "--solve", "deductible", "--premium", "nan"],
     ["--premium", "> 0", "nan"]),
    ("calibrate-premium_negative", {"s.toml": SCENARIO},
     ["calibrate", "{d}/s.toml", "--solve", "tiers", "--premium", "-5"], ["--premium", "> 0", "-5"]),
    ("calibrate-percentile_range", {"s.toml": SCENARIO},
     ["calibrate", "{d}/s.toml", "--target", "percentile", "--percentile", "1.5"], ["--percentile", "< 1", "1.5"]),
    ("calibrate-target", {"s.toml": SCENARIO}, ["calibrate", "{d}/s.toml", "--target", "max"], ["--target", "max"]),
    ("calibrate-one_replicate", {"s.toml": SCENARIO}, ["calibrate", "{d}/s.toml", "--years", "1"],
     ["--years", "at least 2"]),
    ("report-out_nodir", {"s.toml": SCENARIO}, ["report", "{d}/s.toml", "--out", "{d}/nodir/r.html"],
     ["--out", "{d}/nodir/r.html", "no such folder"]),
    ("report-bad_scenario", _scenario_case(("cap = 220_000", "cap = -3")), ["report", "{d}/s.toml", "--out", "{d}/r.html"],
     ["{d}/s.toml", "cii.cap", "-3"]),
    ("report-out_exists", {"s.toml": SCENARIO, "r.html": "x"}, ["report", "{d}/s.toml", "--out", "{d}/r.html"],
     ["{d}/r.html", "already exists"]),
    # bid files
    ("bid-base_itself", {"s.toml": SCENARIO, "b.toml": _sub(BID, 's.toml"', 'b.toml"')}, ["compare", "{d}/b.toml"],
     ["{d}/b.toml", "bid.base", "not a bid file", "itself", "'b.toml'"]),
    ("bid-base_other_bid", {"s.toml": SCENARIO, "a.toml": BID, "b.toml": _sub(BID, 's.toml"', 'a.toml"')},
     ["compare", "{d}/b.toml"], ["{d}/b.toml", "bid.base", "not a bid file", "'a.toml'"]),
    ("bid-base_missing", {"b.toml": BID}, ["compare", "{d}/b.toml"], ["{d}/b.toml", "bid.base", "not found", "'s.toml'"]),
    ("bid-base_not_string", {"b.toml": _sub(BID, 'base = "s.toml"', "base = 3")}, ["compare", "{d}/b.toml"],
     ["{d}/b.toml", "bid.base", "3"]),
    ("bid-no_head", {"b.toml": "[contract]\ncombined_fee_rate_percent = 3\n"}, ["compare", "{d}/b.toml"],
     ["{d}/b.toml", "bid", "missing [bid]"]),
    ("bid-unknown_table", {"s.toml": SCENARIO, "b.toml": BID + "[population]\nsize = 5\n"}, ["compare", "{d}/b.toml"],
     ["{d}/b.toml", "population", "only set the tables"]),
    ("bid-fee_rate", {"s.toml": SCENARIO, "b.toml": _sub(BID, "= 3", "= 300")}, ["compare", "{d}/b.toml"],
     ["{d}/b.toml", "contract.combined_fee_rate_percent", "300"]),
    ("bid-fee_bool", {"s.toml": SCENARIO, "b.toml": _sub(BID, "= 3", "= true")}, ["compare", "{d}/b.toml"],
     ["{d}/b.toml", "contract.combined_fee_rate_percent", "True"]),
    ("bid-deductible", {"s.toml": SCENARIO, "b.toml": BID + "[cii]\ndeductible = -100\n"}, ["compare", "{d}/b.toml"],
     ["{d}/b.toml", "cii.deductible", ">= 0", "-100"]),
    ("bid-duplicate_names", {"s.toml": SCENARIO, "a.toml": BID, "b.toml": BID}, ["compare", "{d}/a.toml", "{d}/b.toml"],
     ["unique", "A"]),
    ("bid-weights", {"s.toml": SCENARIO, "a.toml": BID}, ["compare", "{d}/a.toml", "--weights", "speed=1"],
     ["--weights", "speed", "valid"]),
    ("bid-weights_negative", {"s.toml": SCENARIO, "a.toml": BID},
     ["compare", "{d}/a.toml", "--weights", "fund_outlay_per_capita=-1"], ["--weights", ">= 0", "-1"]),
    ("bid-png_nodir", {"s.toml": SCENARIO, "a.toml": BID}, ["compare", "{d}/a.toml", "--png", "{d}/nodir/p.png"],
     ["--png", "{d}/nodir/p.png", "no such folder"]),
    ("bid-years_memory", {"s.toml": SCENARIO, "a.toml": BID}, ["compare", "{d}/a.toml", "--years", "1000000000"],
     ["1,000,000,000 simulated years", "GiB"]),
    # sweep files
    ("sweep-seed_huge", {"s.toml": SCENARIO, "w.toml": _sub(SWEEP, "seed = 1", f"seed = {2**63}")},
     ["sweep", "{d}/w.toml", "--dir", "{d}/out"], ["{d}/w.toml", "seed", "<=", str(2**63)]),
    ("sweep-seed_negative", {"s.toml": SCENARIO, "w.toml": _sub(SWEEP, "seed = 1", "seed = -1")},
     ["sweep", "{d}/w.toml", "--dir", "{d}/out"], ["{d}/w.toml", "seed", ">= 0", "-1"]),
    ("sweep-years_zero", {"s.toml": SCENARIO, "w.toml": _sub(SWEEP, "years = 2", "years = 0")},
     ["sweep", "{d}/w.toml", "--dir", "{d}/out"], ["{d}/w.toml", "years", ">= 1", "0"]),
    ("sweep-years_bool", {"s.toml": SCENARIO, "w.toml": _sub(SWEEP, "years = 2", "years = true")},
     ["sweep", "{d}/w.toml", "--dir", "{d}/out"], ["{d}/w.toml", "years", "True"]),
    ("sweep-bad_path", {"s.toml": SCENARIO, "w.toml": _sub(SWEEP, "cii.deductible", "cii.deductibel")},
     ["sweep", "{d}/w.toml", "--dir", "{d}/out"], ["{d}/w.toml", "parameters.0", "cii.deductibel", "no field"]),
    ("sweep-low_high", {"s.toml": SCENARIO, "w.toml": _sub(SWEEP, "low = 6000", "low = 12000")},
     ["sweep", "{d}/w.toml", "--dir", "{d}/out"], ["{d}/w.toml", "parameters.0", "low", "12000"]),
    ("sweep-grid_without_values", {"s.toml": SCENARIO, "w.toml": _sub(SWEEP, "tornado", "grid")},
     ["sweep", "{d}/w.toml", "--dir", "{d}/out"], ["{d}/w.toml", "parameters.0", "values"]),
    ("sweep-unknown_metric", {"s.toml": SCENARIO, "w.toml": _sub(SWEEP, '"claims_per_capita"', '"profit"')},
     ["sweep", "{d}/w.toml", "--dir", "{d}/out"], ["{d}/w.toml", "outputs", "profit", "choose from"]),
    ("sweep-point_invalid", {"s.toml": SCENARIO, "w.toml": _sub(SWEEP, "low = 6000", "low = -6000")},
     ["sweep", "{d}/w.toml", "--dir", "{d}/out"], ["{d}/w.toml", "point 1", "cii.deductible", ">= 0", "-6000"]),
    ("sweep-base_missing", {"w.toml": SWEEP}, ["sweep", "{d}/w.toml", "--dir", "{d}/out"],
     ["{d}/w.toml", "base", "no such scenario file"]),
    ("sweep-base_bad", {"s.toml": _sub(SCENARIO, "cap = 220_000", "cap = -2"), "w.toml": SWEEP},
     ["sweep", "{d}/w.toml", "--dir", "{d}/out"], ["{d}/w.toml", "cii.cap", "-2"]),
    ("sweep-override_bad", {"s.toml": SCENARIO, "w.toml": SWEEP + '[overrides]\n"population.size" = -3\n'},
     ["sweep", "{d}/w.toml", "--dir", "{d}/out"], ["{d}/w.toml", "overrides", "population.size", "-3"]),
    ("sweep-not_toml", {"w.toml": "base = "}, ["sweep", "{d}/w.toml", "--dir", "{d}/out"], ["{d}/w.toml", "not valid TOML"]),
    ("sweep-dir_is_file", {"s.toml": SCENARIO, "w.toml": SWEEP, "out": "x"}, ["sweep", "{d}/w.toml", "--dir", "{d}/out"],
     ["--dir", "{d}/out", "is a file"]),
    ("sweep-plot_unplottable", {"s.toml": SCENARIO, "w.toml": _sub(_sub(SWEEP, "tornado", "lhs"), "seed = 1", "seed = 1\nsamples = 3")
                                + '[[parameters]]\nname = "fee"\npath = "contract.combined_fee_rate_percent"\nlow = 3\nhigh = 5\n'
                                + '[[parameters]]\nname = "cap"\npath = "cii.cap"\nlow = 1e5\nhigh = 3e5\n'},
     ["sweep", "{d}/w.toml", "--dir", "{d}/out", "--plot", "{d}/p.png"], ["--plot", "{d}/p.png", "lhs of 3 parameters"]),
    ("sweep-plot_nodir", {"s.toml": SCENARIO, "w.toml": SWEEP},
     ["sweep", "{d}/w.toml", "--dir", "{d}/out", "--plot", "{d}/nodir/p.png"], ["--plot", "{d}/nodir/p.png", "no such folder"]),
    ("sweep-years_memory", {"s.toml": SCENARIO, "w.toml": _sub(SWEEP, "years = 2", "years = 100000") + '[overrides]\n"population.size" = 2_000_000_000\n'},
     ["sweep", "{d}/w.toml", "--dir", "{d}/out"], ["2,000,000,000 insured", "GiB", "available"]),
    # experience files
    ("fit-missing_file", {}, ["fit", "{d}/nope.csv", ENROLMENT], ["{d}/nope.csv", "no such claims file"]),
    ("fit-missing_column", {"c.csv": "person_id,age\n1,30\n"}, ["fit", "{d}/c.csv", ENROLMENT], ["{d}/c.csv", "missing column", "sex"]),
    ("fit-negative_cost", {"c.csv": "person_id,age,sex,scheme,level,cost,compliant,basic_paid\n1,30,F,urban,tertiary,-100.0,0,0\n"},
     ["fit", "{d}/c.csv", ENROLMENT], ["{d}/c.csv", "'cost'", "row 1", "-100.0", "> 0"]),
    ("fit-age", {"c.csv": "person_id,age,sex,scheme,level,cost,compliant,basic_paid\n1,130,F,urban,tertiary,100,0,0\n"},
     ["fit", "{d}/c.csv", ENROLMENT], ["{d}/c.csv", "'age'", "130", "between 0 and 120"]),
    ("fit-sex", {"c.csv": "person_id,age,sex,scheme,level,cost,compliant,basic_paid\n1,30,X,urban,tertiary,100,0,0\n"},
     ["fit", "{d}/c.csv", ENROLMENT], ["{d}/c.csv", "'sex'", "X"]),
    ("fit-compliant_above_cost", {"c.csv": "person_id,age,sex,scheme,level,cost,compliant,basic_paid\n1,30,F,urban,tertiary,100,200,0\n"},
     ["fit", "{d}/c.csv", ENROLMENT], ["{d}/c.csv", "'compliant'", "200", "between 0"]),
    ("fit-one_row", {"c.csv": "person_id,age,sex,scheme,level,cost,compliant,basic_paid\n1,30,F,urban,tertiary,100,50,10\n"},
     ["fit", "{d}/c.csv", ENROLMENT], ["stream 'admissions'", "1 people", "min_cell_size = 10"]),
    ("fit-enrolment_negative", {"e.csv": "age_band,sex,scheme,insured\n0-4,F,urban,-5\n"}, ["fit", CLAIMS, "{d}/e.csv"],
     ["{d}/e.csv", "'insured'", "-5"]),
    ("fit-min_cell_size", {}, ["fit", CLAIMS, ENROLMENT, "--min-cell-size", "0"], ["--min-cell-size", ">= 1", "0"]),
    ("fit-empty", {"c.csv": ""}, ["fit", "{d}/c.csv", ENROLMENT], ["{d}/c.csv", "cannot read"]),
]


def _write(d: Path, files: dict) -> None:
    for name, text in files.items():
        path = d / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse
        return exc.code


def _listing(d: Path) -> set[str]:
    return {str(p.relative_to(d)) for p in d.rglob("*")}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_line(case, tmp_path, capsys, monkeypatch):
    name, files, argv, pieces = case
    monkeypatch.setenv("ACTUARIAL_MEMORY_LIMIT", "16G")  # the same refusals on any machine
    _write(tmp_path, files)
    before = _listing(tmp_path)
    d = str(tmp_path)
    args = [a.replace("{d}", d) for a in argv]
    if args[0] in ("run", "calibrate", "compare") and "--out" not in args:
        args += ["--out", f"{d}/result.json"]
    rc = _run(args + ["--no-progress"] if args[0] in ("run", "calibrate", "compare", "sweep", "report") else args)
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 2, (rc, err)
    assert "Traceback" not in err and len(lines) == 1, err
    for piece in pieces:
        assert piece.replace("{d}", d) in lines[0], f"{piece!r} not in {lines[0]!r}"
    assert "np.float64" not in lines[0] and "np.int64" not in lines[0]
    assert _listing(tmp_path) == before, "an output was left behind"


def test_the_suite_is_broad():
    kinds = {c[0].split("-")[0] for c in CASES}
    assert len(CASES) >= 60 and {"scenario", "cli", "bid", "sweep", "fit"} <= kinds


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_one_line(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    path.chmod(0)
    assert _run(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "cannot read the scenario file" in err


def test_unreadable_file_is_named_even_as_root(tmp_path, capsys, monkeypatch):
    """As root chmod 000 does not stop reading: simulate the PermissionError the OS gives other users."""
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    real = Path.read_text

    def deny(self, *a, **k):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "read_text", deny)
    assert _run(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}: cannot read the scenario file (Permission denied)" in err
