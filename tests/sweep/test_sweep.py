"""Sensitivity sweeps: point generation, tidy results, resume after a crash, workers, bad files."""

import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from actuarial import load_scenario, simulate
from actuarial import sweep as sweepmod
from actuarial.sweep import run as sweeprun
from actuarial.cli import main
from actuarial.model.rng import seed_sequence
from actuarial.sweep import Parameter, Sweep, SweepError, SweepResult, load_sweep, resolve_path, run_sweep

SWEEPS = Path(__file__).resolve().parents[2] / "scenarios" / "sweeps"


@pytest.fixture(scope="module")
def base():
    return load_scenario("scenarios/provincial_guideline.toml").replace(**{"population.size": 20_000})


def tornado(base, **kw):
    params = [
        Parameter(name="utilisation", path="claims.streams.*.episodes_by_age", mode="scale", low=0.9, high=1.1),
        Parameter(name="deductible", path="cii.deductible", low=6000, high=10000),
        Parameter(name="tier_points", path="cii.tiers.*.rate_percent", mode="add", low=-5, high=5),
    ]
    return Sweep(base=base, design="tornado", parameters=params, years=2, seed=11,
                 outputs=("claims_per_capita", "loss_ratio", "insured"), **kw)


def grid(base):
    params = [Parameter(name="deductible", path="cii.deductible", values=(6000, 8000, 10000)),
              Parameter(name="premium", path="funding.per_capita.*", mode="add", values=(-2, 2))]
    return Sweep(base=base, design="grid", parameters=params, years=2, seed=3,
                 outputs=("claims_per_capita", "premium_per_capita", "loss_ratio"))


# --------------------------------------------------------------------------- paths and modes
def test_resolve_path_wildcards(base):
    data = base.model_dump(mode="python")
    found = [p for p, _, _ in resolve_path(data, "cii.tiers.*.rate_percent")]
    assert found == [f"cii.tiers.{i}.rate_percent" for i in range(4)]
    assert [p for p, _, _ in resolve_path(data, "funding.per_capita.*")] == ["funding.per_capita.urban",
                                                                             "funding.per_capita.ncms"]
    with pytest.raises(KeyError, match="no field 'cii.tierz'"):
        resolve_path(data, "cii.tierz.0")
    with pytest.raises(KeyError, match="no field 'cii.tiers.9'"):
        resolve_path(data, "cii.tiers.9.rate_percent")


def test_modes_apply_to_every_matched_field(base):
    sw = tornado(base)
    sc = sw.scenario_at({"utilisation": 1.1, "deductible": 7000, "tier_points": 5})
    for new, old in zip(sc.claims.streams, base.claims.streams):
        np.testing.assert_allclose(new.episodes_by_age, np.array(old.episodes_by_age) * 1.1)
    assert sc.cii.deductible == 7000
    assert [t.rate_percent for t in sc.cii.tiers] == [55, 65, 75, 80]
    assert sw.scenario_at({"utilisation": 1.0, "deductible": 8000, "tier_points": 0}) == base


# --------------------------------------------------------------------------- designs
def test_tornado_points(base):
    pts = tornado(base).points()
    assert len(pts) == 7
    assert pts.iloc[0][["side", "utilisation", "deductible", "tier_points"]].tolist() == ["base", 1.0, 8000.0, 0.0]
    row = pts[(pts.varied == "deductible") & (pts.side == "high")].iloc[0]
    assert (row.utilisation, row.deductible, row.tier_points) == (1.0, 10000.0, 0.0)
    # one parameter moves per point
    moved = (pts[["utilisation", "deductible", "tier_points"]] != pts.iloc[0][["utilisation", "deductible", "tier_points"]]).sum(axis=1)
    assert moved.tolist() == [0, 1, 1, 1, 1, 1, 1]
    assert set(pts.seed) == {11}  # common random numbers


def test_grid_points(base):
    pts = grid(base).points()
    assert pts[["deductible", "premium"]].values.tolist() == [[6000, -2], [6000, 2], [8000, -2], [8000, 2],
                                                              [10000, -2], [10000, 2]]


def test_lhs_points_are_stratified_and_seeded(base):
    params = [Parameter(name="u", path="claims.streams.*.episodes_by_age", mode="scale", low=0.8, high=1.2),
              Parameter(name="d", path="cii.deductible", low=5000, high=9000, integer=True)]
    sw = Sweep(base=base, design="lhs", samples=10, parameters=params, seed=5)
    pts = sw.points()
    strata = np.floor((pts.u - 0.8) / 0.4 * 10).astype(int)
    assert sorted(strata) == list(range(10))  # one point in each tenth of the range
    assert (pts.d == np.round(pts.d)).all() and pts.d.between(5000, 9000).all()
    assert not sw.crn and pts.seed.nunique() == 10
    expected = int(seed_sequence(5, sweepmod.SWEEP_STREAM, 3).generate_state(1, np.uint64)[0] >> np.uint64(1))
    assert pts.seed[3] == expected
    pd.testing.assert_frame_equal(pts, sw.points())  # reproducible
    assert not pts.equals(sw.model_copy(update={"seed": 6}).points())


# --------------------------------------------------------------------------- results
@pytest.fixture(scope="module")
def tornado_result(base):
    return run_sweep(tornado(base), progress=False)


def test_tidy_table_matches_direct_simulation(base, tornado_result):
    t = tornado_result.table
    assert list(t.columns) == ["point", "varied", "side", "utilisation", "deductible", "tier_points", "seed",
                               "metric", "estimate", "se"]
    assert len(t) == 7 * 3
    direct = simulate(tornado(base).scenario_at({"utilisation": 1.1, "deductible": 8000, "tier_points": 0}),
                      years=2, seed=11, progress=False, engine="brute")
    row = t[(t.varied == "utilisation") & (t.side == "high") & (t.metric == "claims_per_capita")].iloc[0]
    assert (row.estimate, row.se) == (direct.claims_per_capita().value, direct.claims_per_capita().se)
    assert (t[t.metric == "insured"].estimate == 20_000).all() and (t[t.metric == "insured"].se == 0).all()


def test_shared_heavy_pass_equals_separate_runs(base, tornado_result):
    """Deductible and tier points are priced on the base point's draws: same figures as simulating each."""
    t = tornado_result.table.set_index(["varied", "side", "metric"])
    for varied, side, values in [("deductible", "high", {"deductible": 10000}),
                                 ("deductible", "low", {"deductible": 6000}),
                                 ("tier_points", "low", {"tier_points": -5})]:
        point = {"utilisation": 1.0, "deductible": 8000, "tier_points": 0, **values}
        # The shared pass keeps rows from the lowest deductible (6,000), which also sets the control
        # variate's grid: the direct run uses that floor too, so every figure is the same.
        direct = simulate(tornado(base).scenario_at(point), years=2, seed=11, progress=False, floor=6000, engine="brute")
        assert t.loc[(varied, side, "claims_per_capita"), "estimate"] == direct.claims_per_capita().value
        assert t.loc[(varied, side, "claims_per_capita"), "se"] == direct.claims_per_capita().se
        assert t.loc[(varied, side, "loss_ratio"), "estimate"] == pytest.approx(direct.loss_ratio().value, rel=1e-12)


def test_tornado_table_under_crn(tornado_result):
    tt = tornado_result.tornado("claims_per_capita").set_index("parameter")
    # same draws at every point: a higher deductible / lower tier rate pays strictly less
    assert tt.loc["deductible", "low_estimate"] > tt.loc["deductible", "base_estimate"] > tt.loc["deductible", "high_estimate"]
    assert tt.loc["tier_points", "low_estimate"] < tt.loc["tier_points", "base_estimate"] < tt.loc["tier_points", "high_estimate"]
    assert tt.swing.is_monotonic_decreasing
    html = tornado_result._repr_html_()
    assert "Sweep (tornado)" in html and "common random numbers" in html and "claims_per_capita_se" in html
    ax = tornado_result.plot_tornado("loss_ratio")
    assert len(ax.get_yticklabels()) == 3
    with pytest.raises(ValueError, match="not swept"):
        tornado_result.tornado("catastrophic_per_10k")


def test_grid_result_heatmap(base):
    res = run_sweep(grid(base), progress=False)
    w = res.wide().set_index(["deductible", "premium"])
    assert w.shape == (6, 5)
    for d in (6000, 8000, 10000):
        # the premium does not touch the draws or the benefit: same claims, exactly (CRN)
        assert w.claims_per_capita[(d, -2)] == w.claims_per_capita[(d, 2)]
        assert w.premium_per_capita[(d, 2)] - w.premium_per_capita[(d, -2)] == pytest.approx(4)
    np.testing.assert_allclose(w.loss_ratio, w.claims_per_capita / w.premium_per_capita, rtol=1e-12)
    ax = res.plot_heatmap("deductible", "premium", "loss_ratio")
    assert ax.get_xlabel() == "deductible" and len(ax.texts) == 6


# --------------------------------------------------------------------------- resume and workers
def test_resume_after_crash_equals_uninterrupted(base, tornado_result, tmp_path, monkeypatch):
    real = sweeprun._run_group
    calls = []

    def crash_after_one(task):
        if calls:
            raise KeyboardInterrupt("simulated kill")
        calls.append([i for i, *_ in task[5]])
        return real(task)

    # heavy passes: {base, deductible and tier points} share the draws; each utilisation point has its own
    monkeypatch.setattr(sweeprun, "_run_group", crash_after_one)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(tornado(base), out, progress=False)
    assert calls == [[0, 3, 4, 5, 6]]
    assert sorted(p.name for p in (out / "points").iterdir()) == [f"point-00000{i}.parquet" for i in (0, 3, 4, 5, 6)]

    calls.clear()
    monkeypatch.setattr(sweeprun, "_run_group", lambda task: (calls.append([i for i, *_ in task[5]]), real(task))[1])
    resumed = run_sweep(tornado(base), out, progress=False)
    assert calls == [[1], [2]]  # only the unfinished points ran
    pd.testing.assert_frame_equal(resumed.table, tornado_result.table)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), tornado_result.table)
    calls.clear()
    run_sweep(tornado(base), out, progress=False)
    assert calls == []  # nothing left to do
    reopened = SweepResult.from_dir(out)
    assert reopened.sweep.fingerprint() == tornado(base).fingerprint()
    pd.testing.assert_frame_equal(reopened.table, tornado_result.table)


def test_refuses_other_sweeps_directory(base, tmp_path):
    out = tmp_path / "run"
    run_sweep(grid(base), out, progress=False)
    with pytest.raises(SweepError, match="different sweep"):
        run_sweep(grid(base).model_copy(update={"years": 3}), out, progress=False)
    # A directory written by an older format (estimates computed without the control variate).
    manifest = out / "sweep.json"
    data = json.loads(manifest.read_text())
    data["sweep"]["format"] = 1
    manifest.write_text(json.dumps(data))
    with pytest.raises(SweepError, match="another version of actuarial"):
        run_sweep(grid(base), out, progress=False)
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(SweepError, match="not a sweep output directory"):
        run_sweep(grid(base), other, progress=False)
    assert (other / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize("processes", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_two_workers_same_numbers(base, tornado_result, processes):
    res = run_sweep(tornado(base), workers=2, processes=processes, progress=False)
    pd.testing.assert_frame_equal(res.table, tornado_result.table)


# --------------------------------------------------------------------------- files and CLI
@pytest.mark.parametrize("name", sorted(p.name for p in SWEEPS.glob("*.toml")))
def test_example_sweep_files_load(name):
    sw = load_sweep(SWEEPS / name)
    assert len(sw.scenarios()) == len(sw.points()) > 1


def write(tmp_path, body, name="s.toml"):
    shutil_base = Path("scenarios/provincial_guideline.toml").resolve()
    path = tmp_path / name
    path.write_text(f'base = "{shutil_base}"\n' + body)
    return path


@pytest.mark.parametrize("body,expected", [
    ('outputs = ["claims"]\n[[parameters]]\nname="d"\npath="cii.deductible"\nlow=1\nhigh=2\n',
     r"s\.toml: outputs: .*unknown metrics \['claims'\]"),
    ('[[parameters]]\nname="d"\npath="cii.deductable"\nlow=1\nhigh=2\n',
     r"s\.toml: parameters\.0 \(d\): path 'cii.deductable': no field 'cii.deductable'"),
    ('[[parameters]]\nname="t"\npath="cii.tiers.*.rate_percent"\nmode="add"\nlow=-5\nhigh=30\n',
     r"s\.toml \(point 2: t=30\): cii\.tiers\.3\.rate_percent: must be >= 0 and <= 100 \(got 105\.0\)"),
    ('design = "grid"\n[[parameters]]\nname="d"\npath="cii.deductible"\nlow=1\nhigh=2\n',
     r"s\.toml: parameters\.0 \(d\): the grid design needs 'values'"),
    ('[[parameters]]\nname="d"\npath="cii.deductible"\nlow=9\nhigh=2\n',
     r"s\.toml: parameters\.0: .*low must be <= high"),
    ('years = 0\n[[parameters]]\nname="d"\npath="cii.deductible"\nlow=1\nhigh=2\n',
     r"s\.toml: years: must be >= 1 \(got 0\)"),
    ('[overrides]\n"population.size" = -3\n[[parameters]]\nname="d"\npath="cii.deductible"\nlow=1\nhigh=2\n',
     r"s\.toml: overrides: population\.size: must be >= 1 .*\(got -3\)"),
])
def test_bad_sweep_files_name_file_and_field(tmp_path, body, expected):
    with pytest.raises(SweepError, match=expected):
        load_sweep(write(tmp_path, body))


def test_missing_base_and_cli_error(tmp_path, capsys):
    path = tmp_path / "nobase.toml"
    path.write_text('design = "tornado"\n')
    with pytest.raises(SweepError, match=r"nobase\.toml: base: give the base scenario"):
        load_sweep(path)
    assert main(["sweep", str(path)]) == 2
    assert "nobase.toml: base" in capsys.readouterr().err


def test_cli_runs_and_resumes(tmp_path, capsys):
    path = write(tmp_path, '''
years = 1
outputs = ["claims_per_capita"]
[overrides]
"population.size" = 5000
[[parameters]]
name = "deductible"
path = "cii.deductible"
low = 6000
high = 10000
''')
    out = tmp_path / "res"
    png = tmp_path / "t.png"
    assert main(["sweep", str(path), "--dir", str(out), "--format", "json", "--no-progress", "--plot", str(png)]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["points"] == 3 and first["common_random_numbers"] and png.stat().st_size > 0
    assert main(["sweep", str(path), "--dir", str(out), "--format", "json", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["results"] == first["results"]


@pytest.mark.slow
def test_resume_after_killed_process(tmp_path):
    """SIGKILL the CLI once some points are written; the re-run completes to the uninterrupted numbers."""
    import os
    import signal
    import subprocess
    import sys
    import time

    path = write(tmp_path, '''
years = 2
outputs = ["claims_per_capita", "loss_ratio"]
[overrides]
"population.size" = 60000
[[parameters]]
name = "deductible"
path = "cii.deductible"
low = 6000
high = 10000
[[parameters]]
name = "utilisation"
path = "claims.streams.*.episodes_by_age"
mode = "scale"
low = 0.9
high = 1.1
''')
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(Path(sweepmod.__file__).parents[2])}
    cmd = [sys.executable, "-m", "actuarial.cli", "sweep", str(path), "--dir", str(out), "--no-progress"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None and len(list(out.glob("points/point-*.parquet"))) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    written = len(list(out.glob("points/point-*.parquet")))
    assert written >= 1
    resumed = run_sweep(load_sweep(path), out, progress=False)
    fresh = run_sweep(load_sweep(path), progress=False)
    pd.testing.assert_frame_equal(resumed.table, fresh.table)
    assert not list(out.glob("points/.point-*"))  # no half-written part is ever visible
