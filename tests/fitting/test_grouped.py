"""Fitting banded (grouped) tender data: recovery of known parameters, open top bands, bad files, privacy."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from actuarial import load_scenario, simulate
from actuarial.errors import GroupedDataError
from actuarial.fitting.grouped import build_grouped_scenario, fit_grouped, read_bands

DATA = Path(__file__).resolve().parents[1] / "data"
BANDS, ENROL = DATA / "grouped_bands.csv", DATA / "grouped_enrolment.csv"
_spec = importlib.util.spec_from_file_location("make_grouped", DATA / "make_grouped.py")
make_grouped = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_grouped)
TRUTH = make_grouped.TRUTH


@pytest.fixture(scope="module")
def fit():
    return fit_grouped(BANDS, ENROL, "lognormal")


def test_recovers_the_parameters_the_model_generated_within_4_se(fit):
    assert not fit.warning
    for s, r in TRUTH.params["rate"].items():
        assert abs(fit.params["rate"][s] - r) < 4 * fit.se["rate"][s], s
        assert fit.se["rate"][s] < 0.25 * r  # an SE small enough to mean something
    for key in ("mean", "cv"):
        assert abs(fit.params[key] - TRUTH.params[key]) < 4 * fit.se[key], key
        assert fit.se[key] < 0.2 * TRUTH.params[key]
    for key in ("cost_trend", "frequency_trend"):
        assert abs(fit.params[key] - TRUTH.params[key]) < 4 * fit.se[key], key
        assert fit.se[key] < 0.1
    assert fit.p_value > 0.001 and fit.df > 0


def test_a_wider_open_top_band_still_recovers(tmp_path):
    b = pd.read_csv(BANDS)
    top = b[b.band_low >= 50_000].groupby(["year", "scheme"], as_index=False).agg(people=("people", "sum"),
                                                                                    amount=("amount", "sum"))
    top = top.assign(band_low=50_000, band_high=np.nan)
    merged = pd.concat([b[b.band_low < 50_000], top])[b.columns]
    path = tmp_path / "bands.csv"
    merged.to_csv(path, index=False)
    f = fit_grouped(path, ENROL, "lognormal")
    assert np.isinf(f.gof.band_high.max())
    for key in ("mean", "cv"):
        assert abs(f.params[key] - TRUTH.params[key]) < 4 * f.se[key], key


def test_family_that_cannot_fit_is_flagged_and_best_avoids_it(fit):
    gamma = fit_grouped(BANDS, ENROL, "gamma")
    assert gamma.warning and all(math.isnan(v) for v in gamma.table().se)
    assert gamma.p_value < 1e-6  # and the goodness of fit says so too
    best = fit_grouped(BANDS, ENROL, "best")
    assert best.family in ("lognormal", "spliced_pareto") and not best.warning


def test_no_amount_of_a_small_band_survives_in_the_fit(fit):
    b = pd.read_csv(BANDS)
    small = b[b.people < fit.min_cell_size]
    assert len(small) > 0  # the data have such bands (the open top band)
    shown = fit.gof.merge(b, on=["year", "scheme", "band_low", "people"], suffixes=("", "_in"))
    assert shown[shown.people < fit.min_cell_size].amount.isna().all()
    numbers = set(np.round(fit.gof.select_dtypes("number").to_numpy().ravel(), 2)) | set(
        np.round(fit.table().estimate, 2))
    assert not numbers & set(np.round(small.amount, 2))


def test_built_scenario_reproduces_the_fitted_rate_above_the_threshold(fit):
    """Round trip: simulate the built scenario for the base year; people above 5,000 per insured match the fit."""
    sc = build_grouped_scenario(fit, load_scenario("scenarios/provincial_guideline.toml"), fit.base_year)
    assert sc.claims.streams[0].name == "high_cost" and sc.population.size == round(sum(fit.insured.values()))
    sc = sc.replace(**{"cii.deductible": 5000, "population.size": 300_000})
    res = simulate(sc, years=2, seed=9, progress=False)
    got = res.ratio("beneficiaries", "people")
    insured = sum(fit.insured.values())
    expected = sum(fit.rate(s) * fit.insured[s] for s in fit.insured) / insured * float(fit.severity().sf(5000))
    assert abs(got.value - expected) < 4 * got.se + 0.03 * expected


def test_trend_to_the_contract_year(fit):
    sc = build_grouped_scenario(fit, load_scenario("scenarios/provincial_guideline.toml"), fit.base_year + 2)
    sev = sc.claims.streams[0].severity["tertiary"]
    assert sev.mean == pytest.approx(fit.params["mean"] * (1 + fit.params["cost_trend"]) ** 2)
    assert sc.claims.cost_trend_percent == pytest.approx(100 * fit.params["cost_trend"])


@pytest.mark.parametrize("edit, column, row", [
    (lambda d: d.drop(columns="people"), "people", None),
    (lambda d: d.assign(people=d.people.where(d.index != 3, -2)), "people", 4),
    (lambda d: d.assign(band_low=d.band_low.where(d.index != 2, 25_000)), "band_low", 3),
    (lambda d: d.assign(amount=d.amount.where(d.index != 0, 10.0)), "amount", 1),
    (lambda d: d.assign(scheme=d.scheme.where(d.index != 5, "rural")), "scheme", 6),
    (lambda d: d.assign(band_high=d.band_high.where(d.index != 1, 5_000)), "band_high", 2),
])
def test_bad_band_files_get_one_line_errors(tmp_path, edit, column, row):
    path = tmp_path / "bad.csv"
    edit(pd.read_csv(BANDS)).to_csv(path, index=False)
    with pytest.raises(GroupedDataError) as err:
        read_bands(path)
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg and column in msg
    if row is not None:
        assert f"row {row}" in msg


def test_missing_enrolment_year_is_named(tmp_path):
    path = tmp_path / "enrol.csv"
    pd.read_csv(ENROL).query("year != 2015").to_csv(path, index=False)
    with pytest.raises(GroupedDataError, match=r"enrol.csv: column 'insured': no row for year 2015"):
        fit_grouped(BANDS, path)
