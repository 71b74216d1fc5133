"""Regression tests for issue 14 ("nothing lost, nothing silently wrong"): each fails on the code before it."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from actuarial import load_scenario, settle
from actuarial.cli import main
from actuarial.errors import ConservationError, ExperienceError, ScenarioError, SweepError, UserError
from actuarial.scenario import Contract

SWEEP = '''base = "{base}"
design = "tornado"
years = 2
seed = 1
outputs = ["claims_per_capita"]
[overrides]
"population.size" = 20000
[[parameters]]
name = "deductible"
path = "cii.deductible"
low = 6000
high = 10000
'''


def _sweep_file(tmp_path):
    path = tmp_path / "w.toml"
    path.write_text(SWEEP.format(base=Path("scenarios/provincial_guideline.toml").resolve()))
    return path


# ------------------------------------------------------------------ 1: sweep parts prove their point
def test_a_part_holding_the_wrong_point_is_named_and_recomputed(tmp_path, capsys):
    from actuarial.sweep import SweepResult, load_sweep, run_sweep

    sw = load_sweep(_sweep_file(tmp_path))
    out = tmp_path / "d"
    first = run_sweep(sw, out, progress=False).table
    parts = out / "points"
    shutil.copy(parts / "point-000001.parquet", parts / "point-000002.parquet")  # point 1 posing as point 2
    with pytest.raises(SweepError, match="point-000002.parquet: holds point 1, not point 2"):
        SweepResult.from_dir(out)
    again = run_sweep(sw, out, progress=False).table
    assert "point-000002.parquet: holds point 1" in capsys.readouterr().err
    pd.testing.assert_frame_equal(again, first)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), first)
    assert (parts / "rejected" / "point-000002.parquet").exists()


def test_a_hand_edited_or_truncated_part_is_recomputed(tmp_path, capsys):
    import pyarrow.parquet as pq

    from actuarial.sweep import load_sweep, run_sweep

    sw = load_sweep(_sweep_file(tmp_path))
    out = tmp_path / "d"
    first = run_sweep(sw, out, progress=False).table
    part = out / "points" / "point-000000.parquet"
    table = pq.read_table(part)  # edit a value but keep the metadata, as a careful forger would
    frame = table.to_pandas()
    frame.loc[0, "estimate"] *= 2
    import pyarrow as pa

    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(table.schema.metadata), part)
    truncated = out / "points" / "point-000001.parquet"
    truncated.write_bytes(truncated.read_bytes()[:100])
    again = run_sweep(sw, out, progress=False).table
    err = capsys.readouterr().err
    assert "point-000000.parquet: its rows were changed" in err and "point-000001.parquet: unreadable" in err
    pd.testing.assert_frame_equal(again, first)


# ------------------------------------------------------------------ 2: atomic outputs
def test_a_failed_write_leaves_nothing_and_never_overwrites(tmp_path):
    from actuarial.atomic import write_new

    def boom(p):
        Path(p).write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_new(tmp_path / "o.json", boom)
    assert list(tmp_path.iterdir()) == []
    write_new(tmp_path / "o.json", "x")
    with pytest.raises(FileExistsError):
        write_new(tmp_path / "o.json", "y")
    assert (tmp_path / "o.json").read_text() == "x"


@pytest.fixture
def tiny_disk(tmp_path):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    yield mnt
    subprocess.run(["umount", str(mnt)], capture_output=True)


def test_full_disk_run_report_and_sweep_leave_nothing_then_rerun_succeeds(tiny_disk, tmp_path, capsys):
    filler = tiny_disk / "filler"
    with open(filler, "wb", buffering=0) as fh:  # fill the disk but for a few bytes
        try:
            while True:
                fh.write(b"\0" * 4096)
                fh.flush()
        except OSError:
            pass
    args = ["--size", "20000", "--years", "2", "--no-progress"]
    out, rep, sw = tiny_disk / "o.json", tiny_disk / "r.html", tiny_disk / "sweep"
    assert main(["run", "scenarios/provincial_guideline.toml", "--format", "json", "--out", str(out), *args]) == 2
    assert main(["report", "scenarios/provincial_guideline.toml", "--out", str(rep), *args]) == 2
    assert main(["sweep", str(_sweep_file(tmp_path)), "--dir", str(sw), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "No space left" in err
    assert not out.exists() and not rep.exists()
    assert not [p for p in tiny_disk.rglob("*") if p.name.endswith(".tmp")]
    filler.unlink()  # space again: the same commands succeed, nothing refuses for a leftover
    assert main(["run", "scenarios/provincial_guideline.toml", "--format", "json", "--out", str(out), *args]) == 0
    assert main(["report", "scenarios/provincial_guideline.toml", "--out", str(rep), *args]) == 0
    assert main(["sweep", str(_sweep_file(tmp_path)), "--dir", str(sw), "--no-progress"]) == 0
    assert out.stat().st_size > 0 and rep.stat().st_size > 0 and (sw / "results.parquet").exists()


# ------------------------------------------------------------------ 3: privacy of fits
def _invert_grid_quantiles(p: np.ndarray, q: np.ndarray, n: int) -> np.ndarray:
    """The attack: numpy's linear quantiles are linear in the order statistics; solve for them."""
    h = p * (n - 1)
    lo = np.floor(h).astype(int)
    frac = h - lo
    A = np.zeros((p.size, n))
    A[np.arange(p.size), lo] += 1 - frac
    A[np.arange(p.size), np.minimum(lo + 1, n - 1)] += frac
    return np.linalg.lstsq(A, q, rcond=None)[0]


def test_no_episode_cost_can_be_recovered_from_a_fit_or_its_plot():
    from actuarial.fitting import fit_severity

    costs = np.random.default_rng(5).lognormal(9, 1, size=150).round(2)
    fit = fit_severity(costs, level="tertiary")
    guess = _invert_grid_quantiles(fit.probabilities, fit.empirical_quantiles, costs.size)
    recovered = np.isclose(np.sort(costs), guess, rtol=0, atol=0.01).sum()
    exact = np.isin(np.round(fit.empirical_quantiles, 2), costs).sum()
    assert recovered <= 2 and exact == 0  # the old fine grid gave back all 150 costs
    assert fit.empirical_quantiles.size <= 15  # groups of >= 10 costs


# ------------------------------------------------------------------ 4: conservation
def test_conservation_tolerance_is_relative_and_the_error_named():
    P = 1e15
    s = settle(Contract(), np.array([P, P]), np.array([0.9 * P, 1.2 * P]))
    rounding = dataclasses.replace(s, insurer_result=s.insurer_result + np.array([0.0, 0.25]))  # 1/4 yuan at 10^15
    rounding.check_conservation()  # a few ulps of 10^15: not a leak (the old absolute half-cent raised)
    leak = dataclasses.replace(s, insurer_result=s.insurer_result + np.array([0.0, 1000.0]))
    with pytest.raises(ConservationError, match="year 1"):
        leak.check_conservation()


# ------------------------------------------------------------------ 5: CIs of probabilities and counts
def test_probability_and_count_intervals_stay_in_range():
    from actuarial.estimates import prob_estimate

    lo, hi = prob_estimate(np.zeros(10, bool)).ci95
    assert lo == 0.0 and hi <= 1.0


# ------------------------------------------------------------------ 6: strict numbers
@pytest.mark.parametrize("value", [True, "8000", float("nan")])
def test_deductible_must_be_a_number(value):
    sc = load_scenario("scenarios/provincial_guideline.toml")
    with pytest.raises(ScenarioError, match="cii.deductible"):
        sc.replace(**{"cii.deductible": value})


# ------------------------------------------------------------------ 7: assessment scores
@pytest.mark.parametrize("score", [float("nan"), -1, 101])
def test_settle_refuses_scores_outside_0_100(score):
    c = load_scenario("scenarios/daqing_2015_ncms.toml").contract
    with pytest.raises(ValueError, match="score must be"):
        settle(c, np.array([100.0]), np.array([90.0]), score=score)


# ------------------------------------------------------------------ 10: memory preflight
def test_memory_preflight_refuses_before_any_work(monkeypatch):
    from actuarial.engines import preflight

    monkeypatch.setenv("ACTUARIAL_MEMORY_LIMIT", "1G")
    sc = load_scenario("scenarios/provincial_guideline.toml").replace(**{"population.size": 1_000_000})
    assert preflight.check_memory(sc, 20) < 2**30
    with pytest.raises(UserError, match=r"needs about .* GiB of memory; 1.0 GiB is available"):
        preflight.check_memory(sc, 10_000)


# ------------------------------------------------------------------ 12: degenerate experience data
def test_equal_costs_raise_experience_error_without_showing_the_cost():
    from actuarial.fitting import fit_severity

    with pytest.raises(ExperienceError, match="all 50 episode costs are equal") as info:
        fit_severity(np.full(50, 12345.0))
    assert "12345" not in str(info.value)


# ------------------------------------------------------------------ 15: scheduler connect timeout
@pytest.mark.slow
def test_closed_scheduler_port_is_refused_quickly(capsys):
    import time

    t = time.perf_counter()
    rc = main(["run", "scenarios/provincial_guideline.toml", "--size", "1000", "--years", "2", "--no-progress",
               "--scheduler", "tcp://127.0.0.1:1", "--connect-timeout", "1"])
    assert rc == 2 and time.perf_counter() - t < 15
    assert "--scheduler tcp://127.0.0.1:1" in capsys.readouterr().err


# ------------------------------------------------------------------ 16: bids independent of the others
def test_a_bids_figures_do_not_depend_on_the_other_bids():
    from actuarial.contract.bids import Bid, compare_bids

    base = load_scenario("scenarios/provincial_guideline.toml").replace(**{"population.size": 20_000})
    a = Bid("A", base)
    low = Bid("low deductible", base.replace(**{"cii.deductible": 3000}))
    other = Bid("fee", base.replace(**{"contract.combined_fee_rate_percent": 3}))
    alone = compare_bids([a, other], years=2, seed=4).outcomes[0].metrics
    with_low = compare_bids([a, low], years=2, seed=4).outcomes[0].metrics
    for k in ("claims_per_capita", "fund_outlay_per_capita", "beneficiaries_per_10k"):
        assert with_low[k].value == alone[k].value and with_low[k].se == alone[k].se


def test_cli_process_exit_status_and_no_traceback(tmp_path):
    bad = tmp_path / "s.toml"
    bad.write_text(Path("scenarios/provincial_guideline.toml").read_text().replace("deductible = 8000", "deductible = true"))
    p = subprocess.run([sys.executable, "-m", "actuarial", "run", str(bad)], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(Path.cwd())})
    assert p.returncode == 2 and "Traceback" not in p.stderr and "cii.deductible" in p.stderr
