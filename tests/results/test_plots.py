"""Plots: each kind draws what the result object says (checked against the numbers behind it)."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from actuarial import accumulate, calibrate_premium, evaluate  # noqa: E402
from actuarial.results import plots  # noqa: E402


@pytest.fixture(scope="module")
def res(qinzhou):
    return evaluate(accumulate(qinzhou.replace(**{"population.size": 30_000}), 6, seed=5, progress=False))


def test_claims_histogram_marks_premium_and_net_premium(res):
    ax = res.plot("claims")
    xs = sorted(line.get_xdata()[0] for line in ax.get_lines())
    expected = sorted([33.0, 33.0 * 0.95, res.claims_per_capita().value])
    assert xs == pytest.approx(expected)
    heights = [p.get_height() for p in ax.patches]
    assert sum(heights) == res.years  # one count per simulated year
    matplotlib.pyplot.close("all")


def test_loss_ratio_band_is_one_minus_fee(res):
    ax = res.plot("loss_ratio")
    band = [p for p in ax.patches if p.get_label().startswith("fee band")][0]
    x0 = band.get_x()
    assert x0 == pytest.approx(0.95) and x0 + band.get_width() == pytest.approx(1.0)
    lr = plots.yearly_loss_ratio(res)
    assert lr == pytest.approx(res.yearly("claims") / (33.0 * res.yearly("people")))
    matplotlib.pyplot.close("all")


def test_benefit_by_band_adds_up(res):
    t = plots.benefit_by_band_table(res)
    # Every kept row lands in one band; the CII paid adds up to the total claims.
    assert t["paid"].sum() * res.years == pytest.approx(res.benefit.sum())
    assert t["person_years"].sum() * res.years == pytest.approx(len(res.accumulations.rows))
    assert t.loc[0, "paid"] == 0.0  # below the deductible nothing is paid
    assert list(t["rate_percent"][1:]) == [50, 60, 70, 80]
    # Beneficiaries (paid > 0) are exactly the rows above the deductible.
    assert t["person_years"][1:].sum() * res.years == pytest.approx(res.yearly("beneficiaries").sum())
    ax = res.plot("benefit_by_band")
    assert len(ax.get_xticks()) == 5
    matplotlib.pyplot.close("all")


def test_convergence_ends_at_the_full_estimate(res):
    t = plots.convergence_table(res)
    assert list(t["years"]) == list(range(1, 7))
    full = res.claims_per_capita()
    assert t["estimate"].iloc[-1] == pytest.approx(full.value)
    assert t["se"].iloc[-1] == pytest.approx(full.se)
    # First-year estimate is that year's (controlled) claims per capita: Σ(Y − X) + ΣE[X] over its people.
    first = res.yearly("claims")[0] - res.yearly("control")[0] + res.yearly("control_expected")[0]
    assert t["estimate"].iloc[0] == pytest.approx(first / res.yearly("people")[0])
    assert t["estimate"].iloc[0] == pytest.approx(res.first_years(1).claims_per_capita().value)
    ax = res.plot("convergence")
    assert np.allclose(ax.get_lines()[0].get_ydata(), t["estimate"])
    matplotlib.pyplot.close("all")


def test_calibration_plot_and_html(res):
    cal = calibrate_premium(res)
    ax = cal.plot()
    labels = [line.get_label() for line in ax.get_lines()]
    assert any(lbl.startswith("calibrated") for lbl in labels)
    t = plots.convergence_table(res, break_even=True)
    assert t["estimate"].iloc[-1] == pytest.approx(cal.premium)
    html = cal._repr_html_()
    assert "<table" in html and f"{cal.premium:,.2f}" in html
    assert "<table" in res._repr_html_()
    matplotlib.pyplot.close("all")


def test_unknown_kind_is_a_clear_error(res):
    with pytest.raises(ValueError, match="plot kind must be one of"):
        res.plot("pie")


def test_benefit_bands_are_the_marginal_tiers(provincial):
    """Each person-year sits in the band whose tier rate the benefit function pays at its accumulation."""
    from actuarial import simulate
    from actuarial.model.cii import tiered_benefit

    # edges on the accumulation (the file bands the excess: tests/test_fidelity_rules.py checks that reading)
    r = simulate(provincial.replace(**{"population.size": 40_000, "cii.tier_edges": "accumulation"}), 2, seed=5,
                 progress=False)
    t = plots.benefit_by_band_table(r)
    x = r.accumulations.rows.by_location.sum(axis=1)  # no B/C self-pay, no poor in this scenario
    edges = [tier.above for tier in r.cii.tiers]
    rates = [tier.rate for tier in r.cii.tiers]
    slope = tiered_benefit(x + 1.0, r.cii.deductible, edges, rates) - tiered_benefit(x, r.cii.deductible, edges, rates)
    for j, rate in enumerate(rates, start=1):
        lo = max(edges[j - 1], r.cii.deductible)
        hi = edges[j] if j < len(edges) else np.inf
        inside = (x >= lo) & (x + 1.0 < hi)
        assert np.allclose(slope[inside], rate)
        assert t["person_years"][j] * r.years == pytest.approx(((x >= lo) & (x < hi)).sum())
