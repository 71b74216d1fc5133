"""The numbers of the committee report: paired differences, score gap, terms, compliance, robustness, formats."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from actuarial.report import bid_stats as bs
from actuarial.results.compliance import surplus_kept_cap
from actuarial.contract.bids import CRITERIA, compare_bids
from actuarial.report.display import label, per_10k, percent, pm, yuan
from actuarial.scenario import Contract

BIDS = sorted(str(p) for p in (Path(__file__).resolve().parents[2] / "scenarios/bids/provincial").glob("*.toml"))


@pytest.fixture(scope="module")
def cmp():
    return compare_bids(BIDS, years=10, seed=3, size=20_000, progress=False)


def test_year_parts_reproduce_every_metric(cmp):
    for o in cmp.outcomes:
        for metric in bs.UNITS:
            assert bs.year_parts(o, metric).value() == pytest.approx(o.metrics[metric].value, rel=1e-12, abs=1e-12)


def test_paired_difference_of_a_mean_is_the_mean_of_yearly_differences(cmp):
    # Hand-worked: fund outlay per capita is a mean over years, so the paired difference is the mean of the
    # per-year differences and its SE their sample SD / sqrt(years).
    a, b = cmp.outcomes[0], cmp.outcomes[3]
    d = a.settlement.fund_outlay / a.result.yearly("people") - b.settlement.fund_outlay / b.result.yearly("people")
    est = bs.paired_difference(cmp, 0, 3, "fund_outlay_per_capita")
    assert est.value == pytest.approx(d.mean(), rel=1e-12)
    assert est.se == pytest.approx(d.std(ddof=1) / math.sqrt(d.size), rel=1e-12)
    # Pairing removes the common noise: far below the unpaired SE.
    unpaired = math.hypot(a.metrics["fund_outlay_per_capita"].se, b.metrics["fund_outlay_per_capita"].se)
    assert est.se < 0.7 * unpaired


def test_paired_ratio_difference_matches_the_metrics(cmp):
    for crit in ("actual_payment_ratio", "beneficiaries_per_10k", "catastrophic_avoided_per_10k"):
        est = bs.paired_difference(cmp, 3, 0, crit)
        assert est.value == pytest.approx(cmp.outcomes[3].metrics[crit].value - cmp.outcomes[0].metrics[crit].value,
                                          rel=1e-10, abs=1e-12)
        assert est.se >= 0 and np.isfinite(est.se)


def test_scores_of_is_the_comparisons_scoring_rule(cmp):
    values = {c: np.array([o.metrics[c].value for o in cmp.outcomes]) for c in CRITERIA}
    for w in (None, {"fund_outlay_per_capita": 3, "beneficiaries_per_10k": 1}, {"prob_fund_covers_loss": 1}):
        other = cmp.reweighted(w)
        np.testing.assert_array_equal(bs.scores_of(values, other.weights, CRITERIA), other.scores())


def test_score_gap_is_paired_and_reproducible(cmp):
    gap = bs.score_gap(cmp)
    ranked = cmp.ranked()
    assert (gap.winner, gap.runner_up) == (ranked.bid[0], ranked.bid[1])
    assert gap.gap.value == pytest.approx(ranked.score[0] - ranked.score[1])
    assert gap.gap.se > 0 and 0 <= gap.prob_winner_first <= 1
    assert bs.score_gap(cmp) == gap  # its own seeded stream: same numbers every time


def test_surplus_kept_hand_worked():
    """The most surplus an insurer may keep (compliance.surplus_kept_cap), a fraction of premium."""
    assert surplus_kept_cap(Contract(combined_fee_rate_percent=4, surplus_cap_percent=4)) == pytest.approx(0.04)
    # Corridor: keeps all up to 2 %, half of 2-6 %: at most 2 + 2 = 4 % of premium, the fee.
    corridor = Contract(combined_fee_rate_percent=4, surplus_bands=[
        {"above_percent": 0, "insurer_share_percent": 100}, {"above_percent": 2, "insurer_share_percent": 50},
        {"above_percent": 6, "insurer_share_percent": 0}])
    assert surplus_kept_cap(corridor) == pytest.approx(0.04)
    open_ended = Contract(combined_fee_rate_percent=4, surplus_bands=[
        {"above_percent": 0, "insurer_share_percent": 100}, {"above_percent": 4, "insurer_share_percent": 10}])
    assert surplus_kept_cap(open_ended) == math.inf  # keeps a share of any surplus


def test_bid_compliance_checks_the_purchaser_fixed_terms(cmp):
    """Each bid is checked against its base scenario: a bid that lowers the province-wide deductible
    (bid D, 001 l.177) fails, whatever it scores."""
    for o in cmp.outcomes:
        t = o.compliance().set_index("check")
        changed = o.bid.scenario.cii.deductible != o.bid.base.cii.deductible
        assert bool(t.loc["bid_keeps_deductible", "passed"]) is (not changed)
    assert any(o.bid.scenario.cii.deductible != o.bid.base.cii.deductible for o in cmp.outcomes)



def test_terms_table_side_by_side(cmp):
    t = bs.terms_table(cmp).set_index("term")
    assert list(t.index) == list(bs.TERM_LABELS)
    a, d = "A: low fee, standard tiers", "D: lower deductible"
    assert (t.loc["deductible", a], t.loc["deductible", d]) == ("8,000.00", "7,000.00")
    assert t.loc["fee", a] == "3 %" and t.loc["cap", a] == "220,000.00"
    assert t.loc["deductible", "differs"] and not t.loc["cap", "differs"]
    assert "10 % withheld" in t.loc["bond", "C: tight cap, corridor, bond"]


def test_scaled_scenario_scales_every_stream(provincial):
    up = bs.scaled_scenario(provincial, "claims.streams.*.episodes_by_age", 1.1)
    for s0, s1 in zip(provincial.claims.streams, up.claims.streams):
        np.testing.assert_allclose(s1.episodes_by_age, np.array(s0.episodes_by_age) * 1.1)
    cost = bs.scaled_scenario(provincial, "claims.streams.*.severity.*.mean", 0.9)
    s0, s1 = provincial.claims.streams[0], cost.claims.streams[0]
    assert all(s1.severity[k].mean == pytest.approx(0.9 * s0.severity[k].mean) for k in s0.severity)


def test_robustness_cases(cmp):
    r = bs.robustness(cmp, progress=False)
    assert list(r.case) == ["stated", *bs.WEIGHTINGS, *bs.ASSUMPTION_CHANGES]
    assert r.ranking[0] == list(cmp.ranked().bid)
    assert r.ranking[1] == list(cmp.reweighted(None).ranked().bid)
    assert all(sorted(x) == sorted(cmp.names) for x in r.ranking)


def test_display_formats():
    assert yuan(1234.5) == "1,234.50" and yuan(float("nan")) == "—"
    assert percent(0.5) == "50.00 %" and per_10k(64.26) == "64.3"
    assert pm(0.2412, 0.001, "percent") == "24.12 ± 0.20 %"
    assert pm(10.0, float("nan"), "yuan") == "10.00 ± —"
    assert label("甲", "A", "zh") == "甲" and label("甲", "A", "both") == "甲 A"
    with pytest.raises(ValueError, match="lang must be one of"):
        label("甲", "A", "fr")


def test_annotated_fields_cite_the_scenario_file():
    from actuarial.report.bids import annotated_fields

    t = annotated_fields("scenarios/provincial_guideline.toml").set_index("field")
    assert t.loc["cii.deductible", "value"] == "8000" and "line 177" in t.loc["cii.deductible", "note"]
    assert t.loc["population.size", "assumption"] and not t.loc["cii.cap", "assumption"]
    lines = Path("scenarios/provincial_guideline.toml").read_text().splitlines()
    assert lines[t.loc["cii.deductible", "line"] - 1].startswith("deductible = 8000")
    assert isinstance(t, pd.DataFrame)
