"""The back-test: model outputs beside published figures, from the CLI and the API."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from actuarial import load_scenario
from actuarial.fitting.backtest import PUBLISHED, backtest, tabulate, to_frame
from actuarial.cli import main
from actuarial.results.simulation import simulate

ROOT = Path(__file__).resolve().parents[2]
COUNTY = ROOT / "scenarios" / "default_county.toml"
KEYS = {"metric", "model", "published", "source", "year", "tolerance", "within_tolerance"}


@pytest.fixture(scope="module")
def county_rows():
    return backtest(load_scenario(COUNTY), size=65_536, years=3, seed=5)


def test_rows_have_the_documented_keys_and_honest_flags(county_rows):
    assert [r["metric"] for r in county_rows] == [p.metric for p in PUBLISHED]
    for r in county_rows:
        assert KEYS <= set(r)
        est, se = r["model"]["estimate"], r["model"]["se"]
        assert np.isfinite(est) and 0 < se < abs(est)
        lo, hi = r["tolerance"]["low"], r["tolerance"]["high"]
        assert lo <= r["published"] <= hi
        assert r["within_tolerance"] == (lo <= est <= hi)
        assert r["source"] and 2000 < r["year"] < 2030


def test_inputs_taken_from_statistics_are_reproduced(county_rows):
    """The rows the default tables were built from pass (the CII rows are the out-of-sample test)."""
    passed = {r["metric"]: r["within_tolerance"] for r in county_rows}
    for metric in ("admissions_per_100", "cost_per_admission_tertiary", "cost_per_admission_secondary",
                   "cost_per_admission_primary", "basic_reimbursement_of_compliant_percent"):
        assert passed[metric], metric


def test_cii_figures_agree_with_the_engine():
    """Beneficiaries and benefit from the back-test's episode pass equal the engine's on the same draws."""
    sc = load_scenario(COUNTY).replace(**{"population.size": 40_000})
    t = tabulate(sc, size=40_000, years=2, seed=3)
    res = simulate(sc, years=2, seed=3, progress=False, engine="brute")  # the same episode draws
    assert t["beneficiaries"].sum() == res.yearly("beneficiaries").sum()
    assert t["cii_paid"].sum() == pytest.approx(res.yearly("claims").sum(), rel=1e-9)
    assert t["people"].sum() == res.yearly("people").sum()


def test_cli_json_and_csv(tmp_path, capsys):
    assert main(["backtest", str(COUNTY), "--size", "20000", "--years", "2", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert len(payload["rows"]) == len(PUBLISHED) and KEYS <= set(payload["rows"][0])
    out = tmp_path / "bt.csv"
    assert main(["backtest", str(COUNTY), "--size", "20000", "--years", "2", "--format", "csv", "--out", str(out)]) == 0
    head = out.read_text(encoding="utf-8").splitlines()[0]
    assert head.startswith("scenario,metric,model,se,published,low,high,pass")


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["backtest", str(tmp_path / "none.toml")]) == 2
    err = capsys.readouterr().err.strip()
    assert "none.toml" in err and len(err.splitlines()) == 1
    assert main(["backtest", str(COUNTY), "--years", "0"]) == 2
    assert "--years must be >= 1" in capsys.readouterr().err


def test_to_frame_marks_misses():
    rows = [{"scenario": "s", "metric": "m", "model": {"estimate": 1.0, "se": 0.1}, "published": 2.0,
             "tolerance": {"low": 1.5, "high": 2.5}, "within_tolerance": False, "year": 2016, "source": "x"}]
    assert to_frame(rows)["pass"].tolist() == ["NO"]
