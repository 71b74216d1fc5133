"""Workbooks: --format xlsx on the commands, units in headers, inputs sheet, same numbers as the JSON."""

import json
from pathlib import Path

import pandas as pd
import pytest

from actuarial import cli
from actuarial.report.excel import column_unit, with_units, write_workbook

BIDS = sorted(str(p) for p in Path("scenarios/bids/provincial").glob("*.toml"))
SMALL = ["--size", "20000", "--years", "4", "--seed", "5", "--no-progress"]


def _strip(col: str) -> str:
    return col.split(" [", 1)[0]


def test_compare_xlsx_matches_the_json_to_the_last_digit(tmp_path):
    assert cli.main(["compare", *BIDS, *SMALL, "--format", "json", "--out", str(tmp_path / "c.json")]) == 0
    assert cli.main(["compare", *BIDS, *SMALL, "--format", "xlsx", "--out", str(tmp_path / "c.xlsx")]) == 0
    payload = json.loads((tmp_path / "c.json").read_text())
    book = pd.read_excel(tmp_path / "c.xlsx", sheet_name=None)
    assert {"table", "bids", "inputs"} <= set(book)
    bids = book["bids"].rename(columns=_strip)
    table = book["table"].rename(columns=_strip).set_index("bid")
    checked = 0
    for i, bid in enumerate(payload["bids"]):
        assert bids["name"][i] == bid["name"] and bids["rank"][i] == bid["rank"] and bids["score"][i] == bid["score"]
        for metric, est in bid["metrics"].items():
            for key in ("estimate", "se"):
                if est[key] is None:
                    continue
                assert bids[f"metrics.{metric}.{key}"][i] == est[key]  # exact: same float, every digit
                column = metric if key == "estimate" else f"{metric}_se"
                assert table.loc[bid["name"], column] == est[key]
                checked += 1
    assert checked > 80
    # units in the headers; the inputs sheet holds the seed and the scenario
    assert "fund_outlay_per_capita [yuan per insured person-year]" in book["table"].columns
    assert "beneficiaries_per_10k [per 10,000 insured]" in book["table"].columns
    inputs = dict(zip(book["inputs"].field, book["inputs"].value))
    assert inputs["seed"] == 5 and inputs["population.size"] == 20000 and inputs["cii.deductible"] == 8000


@pytest.mark.parametrize("command", [["run", "scenarios/qinzhou_2016.toml"], ["calibrate", "scenarios/qinzhou_2016.toml"]])
def test_run_and_calibrate_write_workbooks(tmp_path, command):
    out = tmp_path / "r.xlsx"
    assert cli.main([*command, *SMALL, "--format", "xlsx", "--out", str(out)]) == 0
    book = pd.read_excel(out, sheet_name=None)
    assert "table" in book and "inputs" in book
    if command[0] == "run":
        assert "unit" in book["table"].columns  # a long table: the unit beside each metric
        row = book["table"][(book["table"].group == "all") & (book["table"].metric == "claims_per_capita")]
        assert row.unit.iloc[0] == "yuan per insured person-year"
    else:
        assert "premium_per_capita [yuan per insured person-year]" in book["table"].columns


def test_sweep_writes_a_workbook(tmp_path):
    sweep = tmp_path / "s.toml"
    sweep.write_text(f'base = "{Path("scenarios/provincial_guideline.toml").resolve()}"\ndesign = "tornado"\n'
                     'years = 2\nseed = 1\noutputs = ["claims_per_capita"]\n[overrides]\n"population.size" = 20000\n'
                     '[[parameters]]\nname = "deductible"\npath = "cii.deductible"\nlow = 6000\nhigh = 10000\n')
    out = tmp_path / "s.xlsx"
    assert cli.main(["sweep", str(sweep), "--dir", str(tmp_path / "d"), "--no-progress", "--format", "xlsx",
                     "--out", str(out)]) == 0
    book = pd.read_excel(out, sheet_name=None)
    assert "claims_per_capita [yuan per insured person-year]" in book["table"].columns
    assert len(book["results"]) == 3 and "inputs" in book


def test_xlsx_needs_out_and_never_overwrites(tmp_path, capsys):
    assert cli.main(["run", "scenarios/qinzhou_2016.toml", *SMALL, "--format", "xlsx"]) == 2
    assert "--format xlsx writes a workbook: give --out" in capsys.readouterr().err
    out = tmp_path / "mine.xlsx"
    out.write_bytes(b"mine")
    assert cli.main(["run", "scenarios/qinzhou_2016.toml", *SMALL, "--format", "xlsx", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_bytes() == b"mine"
    with pytest.raises(FileExistsError):
        write_workbook(out, {"t": pd.DataFrame({"a": [1]})})


def test_units_and_values_round_trip(tmp_path):
    assert column_unit("prob_fund_covers_loss") == "fraction" and column_unit("bid") is None
    frame = pd.DataFrame({"bid": ["A"], "claims_per_capita": [0.1 + 0.2], "x": [float("inf")]})
    assert list(with_units(frame).columns) == ["bid", "claims_per_capita [yuan per insured person-year]", "x"]
    write_workbook(tmp_path / "w.xlsx", {"t": frame}, inputs={"a": {"b": 1.5}}, settings={"seed": 7})
    back = pd.read_excel(tmp_path / "w.xlsx", sheet_name=None)
    assert back["t"].iloc[0, 1] == 0.1 + 0.2 and float(back["t"].iloc[0, 2]) == float("inf")
    assert dict(zip(back["inputs"].field, back["inputs"].value))["a.b"] == 1.5
