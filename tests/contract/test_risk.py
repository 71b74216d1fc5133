"""The exact pool law and the risk view: against brute-force convolution, the exact per-person law, and the
simulated years of the fast and brute engines (quantiles with order-statistic CIs, probabilities with
binomial SEs, means with their SEs)."""

import json
import math

import numpy as np
import pytest
from scipy import stats

from actuarial import load_scenario, simulate, validate_scenario
from actuarial.cli import main
from actuarial.exact.compound import expected_cii
from actuarial.exact.pool import (cell_counts, conditional_pool, drawn_counts, exact_limits, lattice_pmfs,
                                         person_benefits)
from actuarial.exact.shocks import pool_distribution
from actuarial.estimates import quantile_ci, tvar_estimate
from actuarial.contract.exact_metrics import bid_metrics
from actuarial.contract.risk import break_even_premiums, risk_view

from designs import OLD_MEN

Z = 4.0  # |z| allowed for a Monte Carlo comparison (fixed seeds: a failure is a real disagreement)


def design(size=2000, shocks=None, poverty=0.0, dispersion=0.0, deductible=3000, cap=None):
    """Designed cells: one age band, one sex, one scheme (two cells with poverty), a high claim rate."""
    ln = {"family": "lognormal", "mean": 9000, "cv": 1.2}
    cii = {"deductible": deductible, "tiers": [{"above": 0, "rate_percent": 50}, {"above": 20000, "rate_percent": 70}],
           "poor_deductible": deductible / 2, "poor_points": 10}
    if cap:
        cii["cap"] = cap
    return validate_scenario({
        "programme": {"name": "risk test"},
        "population": {"size": size, "age_shares": OLD_MEN, "female_share": 0.0,
                       "poverty_rate_percent": {"merged": poverty}},
        "funding": {"per_capita": {"merged": 30}},
        "claims": {"streams": [{"name": "adm", "episodes_by_age": [0.3] * 7, "dispersion": dispersion,
                                "level_mix": {"tertiary": 1.0}, "severity": {"tertiary": ln}}],
                   "category_b_percent": 0, "category_c_percent": 0, "shocks": shocks or {}},
        "basic": {"annual_cap": 1e9},
        "cii": cii,
        "contract": {"combined_fee_rate_percent": 5, "surplus_cap_percent": 3},
    })


def provincial_small(size):
    return load_scenario("scenarios/provincial_guideline.toml").replace(
        **{"population.size": size, "basic.annual_cap": 1e9})


# --------------------------------------------------------------------------- the FFT against direct sums
def test_tiny_pool_equals_brute_force_convolution_and_a_count_off_by_one_is_seen():
    sc = design(size=12, poverty=30)
    counts = cell_counts(sc)
    assert counts.sum() == 12 and (counts > 0).sum() == 2
    dist = conditional_pool(sc, counts, points=1 << 12)
    lat, _ = lattice_pmfs(person_benefits(sc), dist.step)

    def convolve(cs):
        out = np.array([1.0])
        for row, n in zip(lat, cs):
            for _ in range(n):
                out = np.convolve(out, row)
        return out

    direct = convolve(counts)
    start = int(round(dist.origin / dist.step))
    assert start == 0
    got = dist.pmf[:direct.size]
    assert np.max(np.abs(got - direct[:got.size])) < 1e-11  # FFT round-off: a few eps × sqrt(4096)
    assert dist.aliasing < 1e-9 and direct[dist.pmf.size:].sum() < 1e-9
    off = counts.copy()
    off[0] += 1  # one person more in a cell: visibly another law
    other = convolve(off)
    assert np.max(np.abs(other[:got.size] - got)) > 1e-3


def test_pool_mean_is_the_insured_times_the_exact_per_person_expectation():
    sc = provincial_small(1_000_000)
    dist = conditional_pool(sc)
    per_person = expected_cii(sc, step=dist.accumulation_step, n_points=4608).claims_per_capita
    assert dist.mean() == pytest.approx(per_person, abs=2e-4)  # same grid; actuarial.exact.compound lumps its tail differently
    assert dist.aliasing < 1e-9
    assert math.sqrt(dist.lattice_variance) / dist.insured < 0.03 * dist.sd()


def test_centred_window_needs_no_huge_grid_for_ten_million():
    dist = conditional_pool(provincial_small(10_000_000))
    assert dist.origin > 0 and dist.pmf.size == 1 << 16
    # per-capita sd shrinks like 1/sqrt(n): compare with 1M insured
    small = conditional_pool(provincial_small(1_000_000))
    assert dist.sd() * math.sqrt(10) == pytest.approx(small.sd(), rel=0.01)
    for d, n in ((dist, 10_000_000), (small, 1_000_000)):  # the lattice keeps the mean exactly
        sc = provincial_small(n)
        assert d.mean() == pytest.approx(cell_counts(sc) @ person_benefits(sc).moments()[0] / n, abs=1e-9)


# --------------------------------------------------------------------------- against simulated years
def _agree(view, per_year, insured_premium=None):
    """Every figure of the exact view against simulated years of claims per capita."""
    years = per_year.size
    d = view.dist
    m = view.metrics()
    se = per_year.std(ddof=1) / math.sqrt(years)
    assert abs(per_year.mean() - m["mean"]) < Z * se
    # The sd is compared on claims capped at the exact 99.5 % quantile: with a Pareto tail of index
    # below 4 the kurtosis is infinite, so the raw sample sd has no usable standard error (it reads
    # low in most samples); capped, every moment is finite and the check keeps its power on the body.
    cap = d.quantile(0.995)
    capped = np.minimum(per_year, cap)
    sd_exact = math.sqrt(d.expect(lambda v: np.minimum(v, cap) ** 2) - d.expect(lambda v: np.minimum(v, cap)) ** 2)
    sd_se = capped.std(ddof=1) * math.sqrt((stats.kurtosis(capped) + 2) / (4 * years))
    assert abs(capped.std(ddof=1) - sd_exact) < Z * sd_se + d.step / d.insured
    assert m["sd"] == pytest.approx(d.sd())
    for q in view.quantiles:
        _, lo, hi = quantile_ci(per_year, float(q), level=0.999)
        assert lo - 2 * d.step / d.insured <= m["quantiles"][q] <= hi + 2 * d.step / d.insured, q
    for t in view.thresholds:
        p = m["prob_exceed"][t]
        assert abs((per_year > float(t)).mean() - p) < Z * math.sqrt(max(p * (1 - p), 1 / years) / years), t
    net = view.premium_per_capita * (1 - view.fee_rate)
    p = m["prob_claims_exceed_net_premium"]
    assert abs((per_year > net).mean() - p) < Z * math.sqrt(max(p * (1 - p), 1 / years) / years)
    tvar = tvar_estimate(per_year, 0.9)  # its SE counts the level's own estimation too
    assert abs(tvar.value - m["tvar"]["0.9"]) < Z * tvar.se


def test_exact_agrees_with_the_fast_engine_on_designed_cells():
    sc = design(size=3000, poverty=20, dispersion=0.5)
    seed = 11
    res = simulate(sc, years=1500, seed=seed, engine="fast", progress=False)
    per_year = res.yearly("claims") / res.yearly("people")
    view = risk_view(sc, quantiles=("0.5", "0.9", "0.99"), thresholds=("350", "420"),
                     counts=drawn_counts(sc, seed))
    assert view.method == "exact" and view.insured == res.insured
    assert view.premium_per_capita == pytest.approx(res.premium_per_capita())
    _agree(view, per_year)
    # settlement flows: the same settle() on each simulated year
    from actuarial.contract.settlement import settle

    s = settle(sc.contract, res.yearly("premium"), res.yearly("claims"))
    flows = view.metrics()["settlement"]
    for name, x in (("insurer_result_per_capita", s.insurer_result), ("returned_surplus_per_capita",
                                                                      s.returned_surplus)):
        x = x / res.yearly("people")
        # + 1e-4 yuan: a flow as rare as the returned surplus here (≈ 4e-6 yuan per capita) may occur in
        # none of the 1,500 years, leaving a sample SE of 0
        assert abs(x.mean() - flows[name]) < Z * x.std(ddof=1) / math.sqrt(x.size) + 1e-4, name


def test_exact_agrees_with_the_brute_engine_on_the_provincial_guideline():
    sc = provincial_small(2000)
    seed = 3
    res = simulate(sc, years=500, seed=seed, engine="brute", progress=False)
    view = risk_view(sc, quantiles=("0.5", "0.9"), thresholds=("30",), counts=drawn_counts(sc, seed))
    _agree(view, res.yearly("claims") / res.yearly("people"))


# --------------------------------------------------------------------------- shocks
def test_shock_mixture_matches_a_many_node_quadrature_where_the_laws_are_wide():
    """1-D shock, small pool: the conditional laws are wide, so a plain 40-node Gauss-Hermite mixture is
    accurate; the interpolated mixture (5 nodes) must agree with it, and dropping the shock must not."""
    sc = design(size=400, shocks={"frequency_sd": 0.3})
    counts = cell_counts(sc)
    mix = pool_distribution(sc, counts, nodes=5, points=1 << 13)
    from numpy.polynomial.hermite_e import hermegauss

    from actuarial.model.claims import factors_at

    x, w = hermegauss(40)
    w = w / w.sum()
    conds = [conditional_pool(sc, counts, factors_at(sc, z, 0.0), points=1 << 13) for z in x]
    grid = np.linspace(mix.quantile(0.001), mix.quantile(0.999), 60)
    plain = np.array([sum(wi * c.cdf(g) for wi, c in zip(w, conds)) for g in grid])
    got = np.array([mix.cdf(g) for g in grid])
    assert np.max(np.abs(got - plain)) < 0.01
    plain_mean = sum(wi * c.mean() for wi, c in zip(w, conds))
    assert mix.mean() == pytest.approx(plain_mean, rel=1e-3)
    assert mix.shock_error < 1e-3 * mix.mean()
    without = conditional_pool(sc, counts, points=1 << 13)
    assert np.max(np.abs(np.array([without.cdf(g) for g in grid]) - plain)) > 0.03


@pytest.mark.slow
def test_shocked_pool_agrees_with_simulated_years_and_a_dropped_shock_fails():
    sc = design(size=2000, shocks={"frequency_sd": 0.3, "severity_sd": 0.3})
    seed = 7
    res = simulate(sc, years=4000, seed=seed, engine="brute", progress=False)
    per_year = res.yearly("claims") / res.yearly("people")
    counts = drawn_counts(sc, seed)
    view = risk_view(sc, quantiles=("0.5", "0.9", "0.99"), thresholds=("250",), counts=counts)
    _agree(view, per_year)
    for dropped in ({"claims.shocks.frequency_sd": 0.0}, {"claims.shocks.severity_sd": 0.0}):
        wrong = pool_distribution(sc.replace(**dropped), counts)
        sd_se = per_year.std(ddof=1) * math.sqrt((stats.kurtosis(per_year) + 2) / (4 * per_year.size))
        assert abs(per_year.std(ddof=1) - wrong.sd()) > Z * sd_se


@pytest.mark.slow
@pytest.mark.parametrize("name", ["provincial_guideline", "national_2012_ncms", "henan_2013_urban",
                                  "daqing_2015_urban", "shanghai"])
def test_bundled_scenarios_without_out_of_area_rules(name):
    """With the basic cap lifted (the one rule the exact method does not follow), every bundled scenario
    without out-of-area rules agrees with the fast engine's simulated years."""
    sc = load_scenario(f"scenarios/{name}.toml").replace(**{"population.size": 20_000, "basic.annual_cap": 1e9,
                                                             "cii.locations": {}})  # Shanghai pays only at home
    assert exact_limits(sc) == []
    res = simulate(sc, years=600, seed=2, engine="fast", progress=False)
    view = risk_view(sc, quantiles=("0.5", "0.9", "0.99"), counts=drawn_counts(sc, 2))
    _agree(view, res.yearly("claims") / res.yearly("people"))


# --------------------------------------------------------------------------- pricing and fallbacks
def test_prob_loss_premium_keeps_the_insurer_loss_probability_at_alpha():
    sc = design(size=5000)
    view = risk_view(sc, quantiles=("0.9",), alpha=0.1)
    m = view.metrics()
    p = m["pricing"]["prob_loss_premium"]
    at = risk_view(sc.replace(**{"funding.per_capita.merged": p}), quantiles=("0.9",)).metrics()
    assert at["settlement"]["prob_insurer_loss"] <= 0.1 + 1e-12
    below = risk_view(sc.replace(**{"funding.per_capita.merged": p * 0.995}), quantiles=("0.9",)).metrics()
    assert below["settlement"]["prob_insurer_loss"] > 0.1
    coc = m["pricing"]["cost_of_capital_premium"]
    mean, q = m["mean"], risk_view(sc, quantiles=("0.995",)).metrics()["quantiles"]["0.995"]
    assert coc == pytest.approx((mean + 0.06 * (q - mean)) / 0.95)
    assert break_even_premiums(sc, np.array([10.0]))[0] == pytest.approx(10.0, abs=1e-5)


def test_out_of_area_rules_fall_back_to_simulated_years_with_ses():
    sc = load_scenario("scenarios/qinzhou_2016.toml").replace(**{"population.size": 3000})
    view = risk_view(sc, quantiles=("0.9",), thresholds=("40",), years=40, seed=1)
    assert view.method == "simulation" and any(w.startswith("cii.locations") for w in view.limits)
    d = view.to_dict()
    assert d["annual_claims_per_capita"]["mean"]["se"] > 0
    assert 0 <= d["annual_claims_per_capita"]["prob_exceed"]["40"]["estimate"] <= 1


def test_cli_risk_json_keys_as_typed_and_errors(tmp_path, capsys):
    path = tmp_path / "pg.toml"
    text = open("scenarios/provincial_guideline.toml", encoding="utf-8").read()
    path.write_text(text.replace("[contract]", "[basic]\nannual_cap = 1_000_000_000\n\n[contract]"), encoding="utf-8")
    png = tmp_path / "risk.png"
    assert main(["risk", str(path), "--size", "200000", "--quantiles", "0.99,0.995", "--threshold", "24", "25.0",
                 "--format", "json", "--png", str(png)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == "exact" and out["insured"] == 200_000
    acpc = out["annual_claims_per_capita"]
    assert set(acpc["quantiles"]) == {"0.99", "0.995"} and set(acpc["tvar"]) == {"0.99", "0.995"}
    assert set(acpc["prob_exceed"]) == {"24", "25.0"} and png.exists()
    assert acpc["quantiles"]["0.99"] < acpc["tvar"]["0.99"]
    assert {"insurer_result_per_capita", "returned_surplus_per_capita", "fund_loss_share_per_capita"} <= set(
        out["settlement"])
    for bad in (["--quantiles", "1.5"], ["--threshold", "-3"], ["--nodes", "1"], ["--alpha", "2"]):
        assert main(["risk", str(path), *bad]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: --")
    assert main(["calibrate", str(path), "--size", "200000", "--target", "cost_of_capital", "--format", "json"]) == 0
    cal = json.loads(capsys.readouterr().out)
    assert cal["method"] == "exact" and cal["premium_per_capita"]["se"] == 0


def test_plot_marks_premium_and_net_premium():
    view = risk_view(design(size=5000), quantiles=("0.9",))
    ax = view.plot()
    xs = sorted(line.get_xdata()[0] for line in ax.lines[1:])
    assert xs == pytest.approx(sorted([view.premium_per_capita, view.premium_per_capita * 0.95]))
    assert "<b>" in view._repr_html_() and len(view.summary()) > 10


def test_compare_uses_the_exact_settlement_figures_where_they_apply():
    from actuarial import compare_bids

    base = design(size=4000)
    bids = [base.replace(**{"programme.name": "low fee", "contract.combined_fee_rate_percent": 3}),
            base.replace(**{"programme.name": "high fee", "contract.combined_fee_rate_percent": 5})]
    cmp = compare_bids(bids, years=400, seed=4, engine="fast", progress=False)
    for o in cmp.outcomes:
        m = o.metrics
        assert m["insurer_result_per_capita"].se == 0 and m["prob_insurer_loss"].se == 0
        sim = o.settlement.insurer_result / o.result.yearly("people")
        assert abs(sim.mean() - m["insurer_result_per_capita"].value) < Z * sim.std(ddof=1) / math.sqrt(sim.size)
        p = m["prob_fund_covers_loss"].value
        q = (o.settlement.fund_loss_share > 0).mean()
        assert abs(p - q) < Z * math.sqrt(max(p * (1 - p), 1 / 400) / 400)
    lifted = load_scenario("scenarios/qinzhou_2016.toml").replace(**{"population.size": 3000})
    assert bid_metrics(lifted, 3000) == {}  # out-of-area rules: the bid keeps its simulated figures
