"""Medical assistance (the third layer): the rule by hand, CII untouched, exact cross-check, the floor bound, bad input."""

import json

import numpy as np
import pytest

from actuarial.model import cii as ciimod
from actuarial import simulate
from actuarial.model.assistance import (assistance_benefit, assistance_engine, assistance_floor, metrics,
                                               rows_complete)
from actuarial.cli import main
from actuarial.exact.compound import cell_distribution
from actuarial.model.cells import population_cells
from actuarial.scenario.rules import MedicalAssistance
from actuarial.scenario import ScenarioError

from designs import design

MA = {"eligible": "poor", "deductible": 1000, "rate_percent": 70, "cap": 20_000}


def three_layer(ma=None, cii=None):
    """Poor 40 %: CII 3,000 deductible (poor 1,500, +10 points), then assistance for the poor."""
    sc = design(population={"poverty_rate_percent": {"merged": 40}},
                cii={"deductible": 3000, "poor_deductible": 1500, "poor_points": 10, "includes_basic_deductible": True,
                     **(cii or {})})
    return sc.replace(**{"medical_assistance": ma or MA})


def test_rule_by_hand():
    ma = MedicalAssistance(**MA)
    remaining = np.array([0.0, 1000.0, 5000.0, 50_000.0, 5000.0])
    eligible = np.array([True, True, True, True, False])
    # 0; at the deductible 0; 0.7 x 4,000 = 2,800; 0.7 x 49,000 = 34,300 capped at 20,000; not eligible 0
    assert assistance_benefit(ma, remaining, eligible).tolist() == [0.0, 0.0, 2800.0, 20_000.0, 0.0]


def test_cii_is_not_reduced_by_assistance():
    """001 l.177: the CII accumulation does not deduct assistance; CII paid is the same with or without it."""
    with_ma = three_layer()
    res_with = simulate(with_ma, years=2, seed=3, progress=False, floor=assistance_floor(with_ma))
    res_without = simulate(with_ma.replace(medical_assistance=None), years=2, seed=3, progress=False,
                           floor=assistance_floor(with_ma))
    assert np.array_equal(res_with.benefit, res_without.benefit)
    assert "medical_assistance_per_capita" not in res_without.metrics()


def exact_three_layers(sc, step=10.0, n_points=1 << 16):
    """E[assistance] and E[CII] per insured person-year from the exact accumulation distribution.

    With the basic deductible counted, no scope and no basic cap, the accumulation *is* the compliant
    out-of-pocket after basic insurance, so assistance = f(A − CII(A)) on the grid."""
    cii, ma = sc.cii, sc.medical_assistance
    ma_total = cii_total = 0.0
    for w, cell, poor in population_cells(sc):
        dist = cell_distribution(sc, cell, step=step, n_points=n_points)
        by_location = np.zeros((dist.values.size, len(ciimod.LOCATIONS)))
        by_location[:, 0] = dist.values
        pay = ciimod.benefit(cii, by_location, np.full(dist.values.size, poor))
        ma_pay = assistance_benefit(ma, dist.values - pay, np.full(dist.values.size, poor))
        ma_total += w * float(dist.pmf @ ma_pay)
        cii_total += w * float(dist.pmf @ pay)
    return ma_total, cii_total


@pytest.mark.parametrize("engine", ["brute", "fast", "gpu"])
def test_three_layers_match_exact(engine):
    sc = three_layer()
    res = simulate(sc, years=3, seed=5, progress=False, engine=engine, floor=assistance_floor(sc))
    assert rows_complete(res)
    m = metrics(res)
    exact_ma, exact_cii = exact_three_layers(sc)
    est = m["medical_assistance_per_capita"]
    assert est.se < 0.02 * est.value and m["medical_assistance_unresolved_max_per_capita"].value == 0
    assert abs(est.value - exact_ma) < 3.5 * est.se, (est, exact_ma)
    # Teeth: a 5-point lower assistance rate is far outside the error.
    lower, _ = exact_three_layers(sc.replace(**{"medical_assistance.rate_percent": 65}))
    assert abs(lower - exact_ma) > 5 * est.se


def test_below_the_floor_is_bounded():
    """Rows kept from the CII floor (3,000 / poor 1,500) miss poor people with 1,000-1,500 yuan of
    out-of-pocket; the rows' figure plus the stated bound brackets the complete figure."""
    sc = three_layer()
    partial = simulate(sc, years=2, seed=9, progress=False)  # default floor: the lowest CII deductible
    full = simulate(sc, years=2, seed=9, progress=False, floor=assistance_floor(sc))
    assert not rows_complete(partial) and rows_complete(full)
    lo = metrics(partial)["medical_assistance_per_capita"].value
    gap = metrics(partial)["medical_assistance_unresolved_max_per_capita"].value
    exact = metrics(full)["medical_assistance_per_capita"].value
    assert lo < exact <= lo + gap + 1e-9 and gap > 0


def test_auto_engine_is_brute_when_the_rows_cannot_hold_everyone():
    sc = three_layer(cii={"includes_basic_deductible": False})
    assert assistance_engine(sc, "auto") == "brute" and assistance_engine(sc, "fast") == "fast"
    assert assistance_engine(three_layer(), "auto") == "auto"  # rows complete from the assistance floor: any engine


def test_outputs_after_all_layers_add_up():
    sc = three_layer()
    res = simulate(sc, years=2, seed=4, progress=False, floor=assistance_floor(sc))
    m = res.metrics()
    oop = m["oop_compliant_per_capita"].value
    claims = res.ratio("claims", "people", controlled=False).value  # the draws (claims_per_capita uses the control)
    assert m["oop_after_all_layers_per_capita"].value == pytest.approx(
        oop - claims - m["medical_assistance_per_capita"].value)
    ratio = (m["basic_paid_per_capita"].value + claims + m["medical_assistance_per_capita"].value) / (
        res.ratio("compliant", "people").value)
    assert m["comprehensive_payment_ratio"].value == pytest.approx(ratio)


@pytest.mark.parametrize("field,value,expected", [
    ("rate_percent", 150, "medical_assistance.rate_percent: must be >= 0 and <= 100 (got 150)"),
    ("deductible", -1, "medical_assistance.deductible: must be >= 0 (got -1)"),
    ("eligible", "all", "medical_assistance.eligible: must be 'poor' (got 'all')"),
])
def test_bad_assistance_values(field, value, expected):
    with pytest.raises(ScenarioError) as err:
        three_layer({**MA, field: value})
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_run_json_carries_the_three_layers(tmp_path):
    out = tmp_path / "run.json"
    assert main(["run", "scenarios/national_2019_residents.toml", "--size", "20000", "--years", "2",
                 "--no-progress", "--format", "json", "--out", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    for key in ("medical_assistance_per_capita", "medical_assistance_recipients_per_10k",
                "oop_after_all_layers_per_capita", "comprehensive_payment_ratio_poor",
                "oop_after_all_layers_per_capita_poor", "medical_assistance_unresolved_max_per_capita"):
        assert set(data[key]) == {"estimate", "se", "ci95"}, key
    assert isinstance(data["medical_assistance_exact"], bool)
    # the basic deductible is outside the accumulation here, so run bounds the rest on the brute engine
    assert data["engine"] == "brute"
    assert data["comprehensive_payment_ratio_poor"]["estimate"] > data["comprehensive_payment_ratio"]["estimate"]
