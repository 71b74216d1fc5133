"""The command line: stable JSON keys, formats, clear errors, nothing overwritten."""

import json

import pytest

from actuarial.cli import main

SMALL = ["--size", "20000", "--years", "2", "--seed", "7", "--no-progress"]

RUN_KEYS = {
    "scenario", "seed", "engine", "years", "insured", "combined_fee_rate", "premium_per_capita", "claims_per_capita",
    "break_even_premium", "beneficiaries_per_10k", "benefit_per_beneficiary", "actual_payment_ratio",
    "payment_ratio_above_deductible", "loss_ratio", "basic_paid_per_capita", "oop_compliant_per_capita",
    "catastrophic_per_10k", "catastrophic_avoided_per_10k", "prob_claims_exceed_net_premium", "control_variate",
    "share_of_oop_paid", "deprecated", "compliance",
}


def run_json(capsys, *argv):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_run_json_keys(capsys):
    out = run_json(capsys, "run", "scenarios/qinzhou_2016.toml", *SMALL, "--format", "json")
    assert set(out) == RUN_KEYS
    assert set(out["claims_per_capita"]) == {"estimate", "se", "ci95"}
    assert out["insured"] == 20000 and out["seed"] == 7
    assert out["control_variate"] is True  # no shocks in Qinzhou's file


def test_calibrate_json_and_reproducible(capsys):
    a = run_json(capsys, "calibrate", "scenarios/provincial_guideline.toml", *SMALL, "--format", "json")
    b = run_json(capsys, "calibrate", "scenarios/provincial_guideline.toml", *SMALL, "--format", "json")
    assert a == b
    assert {"target", "premium_per_capita", "current_premium_per_capita", "by_scheme", "claims_per_capita",
            "loss_ratio_at_current_premium", "insured", "combined_fee_rate", "scenario", "seed", "years"} <= set(a)
    assert set(a["by_scheme"]) == {"urban", "ncms"}
    lo, hi = a["premium_per_capita"]["ci95"]
    assert lo < a["premium_per_capita"]["estimate"] < hi


def test_calibrate_solve_deductible_json(capsys):
    out = run_json(capsys, "calibrate", "scenarios/qinzhou_2016.toml", *SMALL, "--solve", "deductible",
                   "--premium", "33", "--format", "json")
    assert out["parameter"] == "deductible" and out["premium_per_capita"] == 33
    assert out["ci95"][0] <= out["estimate"] <= out["ci95"][1]


def test_csv_and_table(capsys):
    assert main(["run", "scenarios/qinzhou_2016.toml", *SMALL, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "group,metric,estimate,se,ci95_low,ci95_high"
    assert main(["calibrate", "scenarios/qinzhou_2016.toml", *SMALL]) == 0
    assert "premium_per_capita" in capsys.readouterr().out


def test_out_never_overwrites(tmp_path, capsys):
    target = tmp_path / "result.json"
    target.write_text("precious")
    assert main(["run", "scenarios/qinzhou_2016.toml", *SMALL, "--format", "json", "--out", str(target)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert target.read_text() == "precious"


def test_bad_inputs_exit_2_with_message(tmp_path, capsys):
    assert main(["run", str(tmp_path / "missing.toml")]) == 2
    assert "no such scenario file" in capsys.readouterr().err
    assert main(["run", "scenarios/qinzhou_2016.toml", "--years", "0"]) == 2
    assert "--years must be >= 1" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text((pytest.importorskip("pathlib").Path("scenarios/qinzhou_2016.toml").read_text())
                   .replace("deductible = 6000", "deductible = -6000"))
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "cii.deductible" in err and "must be >= 0" in err and "-6000" in err


def test_workers_and_engine_options(capsys):
    """--workers runs the blocks on Dask with the same numbers; --engine fast agrees within the SEs."""
    common = ["run", "scenarios/qinzhou_2016.toml", "--size", "140000", "--seed", "3", "--no-progress", "--format", "json"]
    serial = run_json(capsys, *common, "--years", "2")
    assert run_json(capsys, *common, "--years", "2", "--workers", "2") == serial
    fast = run_json(capsys, *common, "--years", "20", "--engine", "fast")
    a, b = serial["claims_per_capita"], fast["claims_per_capita"]
    assert abs(a["estimate"] - b["estimate"]) < 4 * (a["se"] ** 2 + b["se"] ** 2) ** 0.5
    assert main(["run", "scenarios/qinzhou_2016.toml", "--workers", "0"]) == 2
    assert "--workers must be >= 1" in capsys.readouterr().err


def test_outputs_checked_before_simulating(tmp_path, capsys):
    taken = tmp_path / "taken.json"
    taken.write_text("keep")
    # a huge size would take minutes: the check must come first
    assert main(["run", "scenarios/qinzhou_2016.toml", "--size", "100000000", "--out", str(taken)]) == 2
    assert "already exists" in capsys.readouterr().err
    same = str(tmp_path / "x.out")
    assert main(["compare", "scenarios/bids/provincial/a_low_fee.toml", "--out", same, "--png", same]) == 2
    assert "name the same file" in capsys.readouterr().err
    assert taken.read_text() == "keep"
