"""Bid comparison: bid files merge and validate with clear errors, all bids see the same draws,
scores and dominance follow the stated rules, the CLI writes files and never overwrites them."""

import json
from pathlib import Path

import numpy as np
import pytest

from actuarial import accumulate, evaluate, load_scenario
from actuarial.cli import main
from actuarial.contract.bids import CRITERIA, Bid, BidComparison, BidOutcome, compare_bids, load_bid
from actuarial.estimates import Estimate
from actuarial.scenario import ScenarioError
from actuarial.contract.settlement import settle

BIDS = sorted(Path("scenarios/bids/provincial").resolve().glob("*.toml"))
ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--size", "20000", "--years", "3", "--seed", "5", "--no-progress"]


@pytest.fixture(scope="module")
def cmp():
    return compare_bids(BIDS, years=4, seed=5, size=20_000, engine="brute")  # brute: draws independent of the floor


def write_bid(tmp_path, body, name="bid.toml"):
    path = tmp_path / name
    path.write_text(f'[bid]\nname = "X"\nbase = "{ROOT}/scenarios/provincial_guideline.toml"\n' + body, encoding="utf-8")
    return path


def test_bundled_bids_load_and_override_only_their_tables():
    base = load_scenario("scenarios/provincial_guideline.toml")
    assert len(BIDS) >= 3
    for path in BIDS:
        bid = load_bid(path)
        for section in ("population", "funding", "claims", "basic"):
            assert getattr(bid.scenario, section) == getattr(base, section)
    b = load_bid(ROOT / "scenarios/bids/provincial/b_generous_tiers.toml").scenario
    assert [t.rate_percent for t in b.cii.tiers] == [55, 65, 72, 75]
    assert b.cii.deductible == base.cii.deductible and b.cii.cap == base.cii.cap  # not overridden: kept
    assert b.contract.policy_loss_fund_share_percent == 30 and b.contract.years == base.contract.years


@pytest.mark.parametrize("body, words", [
    ("[contract]\ncombined_fee_rate_percent = 6\n", "bid.toml: contract.combined_fee_rate_percent: the combined fee rate"),
    ("[contract]\nsurplus_cap = 4\n", "bid.toml: contract.surplus_cap: unknown field"),
    ("[cii]\ndeductible = -1\n", "bid.toml: cii.deductible: must be >= 0 (got -1"),
    ("[population]\nsize = 10\n", "bid.toml: population: a bid may only set the tables"),
    ("[contract]\nsurplus_bands = [{ above_percent = 0, insurer_share_percent = 100 }, "
     "{ above_percent = 0, insurer_share_percent = 10 }]\n", "bid.toml: contract.surplus_bands: band above_percent"),
])
def test_bad_bid_files_name_file_and_field(tmp_path, body, words):
    with pytest.raises(ScenarioError) as err:
        load_bid(write_bid(tmp_path, body))
    assert words in str(err.value)


def test_bid_header_errors(tmp_path):
    p = tmp_path / "nohead.toml"
    p.write_text("[contract]\ncombined_fee_rate_percent = 3\n")
    with pytest.raises(ScenarioError, match=r"nohead.toml: bid: missing \[bid\]"):
        load_bid(p)
    p.write_text('[bid]\nname = "X"\nbase = "missing.toml"\n')
    with pytest.raises(ScenarioError, match="nohead.toml: bid.base: base scenario .*missing.toml not found"):
        load_bid(p)
    p.write_text('[bid]\nname = "X"\nbase = "x.toml"\nprice = 3\n')
    with pytest.raises(ScenarioError, match="nohead.toml: bid.price: unknown field"):
        load_bid(p)
    with pytest.raises(ScenarioError, match="no such bid file"):
        load_bid(tmp_path / "absent.toml")


def test_bids_must_share_the_base(tmp_path):
    other = tmp_path / "q.toml"
    other.write_text(f'[bid]\nname = "Q"\nbase = "{ROOT}/scenarios/qinzhou_2016.toml"\n')
    with pytest.raises(ScenarioError, match="does not share the base population/claims model"):
        compare_bids([BIDS[0], other], years=1, seed=0, size=1000)
    with pytest.raises(ScenarioError, match="unique"):
        compare_bids([BIDS[0], BIDS[0]], years=1, seed=0, size=1000)


def test_common_random_numbers_and_settlement(cmp):
    base = load_bid(BIDS[0]).scenario.replace(**{"population.size": 20_000})
    acc = accumulate(base, 4, 5, engine="brute")  # floor 8,000: the same draws, fewer rows kept
    for o in cmp.outcomes:
        if o.bid.scenario.cii.deductible < 8000:
            continue
        direct = evaluate(acc, o.bid.scenario.cii, None, o.bid.scenario.contract.combined_fee_rate)
        np.testing.assert_allclose(o.result.yearly("claims"), direct.yearly("claims"))
        s = settle(o.bid.scenario.contract, direct.yearly("premium"), direct.yearly("claims"))
        people = direct.yearly("people")
        outlay = (s.premium - s.returned_surplus - s.bond_forfeited + s.fund_loss_share) / people
        assert o.metrics["fund_outlay_per_capita"].value == pytest.approx(outlay.mean())
        assert o.metrics["fund_outlay_per_capita"].se == pytest.approx(outlay.std(ddof=1) / 2)
        assert np.all(np.abs(o.settlement.conservation_residual()) < 0.005)


def test_same_terms_lower_fee_never_costs_the_fund_more():
    sc = load_bid(BIDS[0]).scenario
    lo = Bid("fee 3", sc.replace(**{"contract.combined_fee_rate_percent": 3}))
    hi = Bid("fee 5", sc.replace(**{"contract.combined_fee_rate_percent": 5}))
    out = compare_bids([lo, hi], years=4, seed=2, size=20_000)
    a, b = (o.settlement for o in out.outcomes)
    np.testing.assert_array_equal(a.claims, b.claims)  # common random numbers
    assert np.all(a.fund_outlay <= b.fund_outlay + 1e-9)
    assert out.outcomes[0].metrics["actual_payment_ratio"] == out.outcomes[1].metrics["actual_payment_ratio"]


def fake(values: dict[str, list[float]]) -> BidComparison:
    """A comparison with given criterion values, for hand-checked scores and dominance."""
    n = len(next(iter(values.values())))
    outcomes = []
    for i in range(n):
        metrics = {c: Estimate(values.get(c, [0.0] * n)[i], 0.0) for c in CRITERIA}
        outcomes.append(BidOutcome(Bid(f"bid{i}", None), None, None, metrics))
    return BidComparison(tuple(outcomes), {c: 1.0 for c in CRITERIA}, 0, 1, "fake")


def test_scores_hand_worked():
    c = fake({"fund_outlay_per_capita": [20, 22, 24], "actual_payment_ratio": [0.2, 0.3, 0.3]})
    c = BidComparison(c.outcomes, {**{k: 0.0 for k in CRITERIA}, "fund_outlay_per_capita": 1.0,
                                   "actual_payment_ratio": 1.0}, 0, 1, "fake")
    # outlay: 20 best (1), 22 half (0.5), 24 worst (0); ratio: 0.2 worst (0), 0.3 best (1).
    np.testing.assert_allclose(c.scores(), [50, 75, 50])


def test_dominance_hand_worked():
    c = fake({"fund_outlay_per_capita": [20, 21, 19], "actual_payment_ratio": [0.3, 0.3, 0.2]})
    # bid0 vs bid1: cheaper, same ratio, equal elsewhere → dominates. bid2 cheaper but lower ratio.
    assert c.dominated_by() == [[], ["bid0"], []]


def test_weights_are_validated(cmp):
    with pytest.raises(ValueError, match="unknown weight criteria"):
        compare_bids(BIDS, years=1, seed=0, size=1000, weights={"price": 1})
    with pytest.raises(ValueError, match="not all zero"):
        compare_bids(BIDS, years=1, seed=0, size=1000, weights={"fund_outlay_per_capita": 0})


def test_table_ranked_dict_html_plot(cmp):
    t = cmp.ranked()
    assert list(t["rank"]) == sorted(t["rank"]) and t["rank"].iloc[0] == 1
    assert {"fund_outlay_per_capita", "fund_outlay_per_capita_se", "prob_fund_covers_loss",
            "insurer_result_q05_per_capita", "insurer_result_q95_per_capita", "actual_payment_ratio",
            "beneficiaries_per_10k", "catastrophic_avoided_per_10k", "dominated_by"} <= set(t.columns)
    d = json.loads(json.dumps(cmp.to_dict(), allow_nan=True))
    assert [b["rank"] for b in d["bids"]] == sorted(b["rank"] for b in d["bids"])
    assert set(d["bids"][0]["metrics"]["fund_outlay_per_capita"]) == {"estimate", "se", "ci95"}
    assert "Bid comparison" in cmp._repr_html_()
    assert len(cmp.plot().axes) == 3
    # The lower deductible of bid D reaches more beneficiaries on the same draws.
    by = t.set_index("bid")
    assert by.loc["D: lower deductible", "beneficiaries_per_10k"] > by.loc["A: low fee, standard tiers", "beneficiaries_per_10k"]


def test_cli_compare_writes_json_csv_png_and_never_overwrites(tmp_path, capsys):
    out, png = tmp_path / "cmp.json", tmp_path / "cmp.png"
    args = ["compare", *map(str, BIDS), *SMALL]
    assert main([*args, "--format", "json", "--out", str(out), "--png", str(png),
                 "--weights", "fund_outlay_per_capita=2,actual_payment_ratio=1"]) == 0
    d = json.loads(out.read_text())
    assert d["weights"]["fund_outlay_per_capita"] == 2 and d["insured"] == 20000 and len(d["bids"]) == len(BIDS)
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert main([*args, "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("rank,bid,score")
    assert main(args) == 0
    assert "dominated by" in capsys.readouterr().out
    png.write_bytes(b"precious")
    assert main([*args, "--png", str(png)]) == 2
    assert "already exists" in capsys.readouterr().err and png.read_bytes() == b"precious"
    assert main([*args, "--weights", "nonsense"]) == 2
    assert "--weights" in capsys.readouterr().err


def test_reweighted_rescores_without_resimulating():
    from pathlib import Path

    from actuarial.contract.bids import compare_bids

    cmp = compare_bids(sorted(Path("scenarios/bids/provincial").glob("*.toml")), years=3, seed=2, size=20_000)
    fund_first = cmp.reweighted({"fund_outlay_per_capita": 1})
    assert fund_first.outcomes is cmp.outcomes
    outlay = [o.metrics["fund_outlay_per_capita"].value for o in cmp.outcomes]
    # With only fund outlay weighted, the cheapest bid scores 100 and the dearest 0.
    assert fund_first.scores()[int(np.argmin(outlay))] == pytest.approx(100)
    assert fund_first.scores()[int(np.argmax(outlay))] == pytest.approx(0)
    with pytest.raises(ValueError, match="weights must be"):
        cmp.reweighted({"fund_outlay_per_capita": -1})


def test_bids_differing_in_heavy_fields_are_priced_on_their_own_pass():
    """A bid that changes what the heavy pass reads (scope, basic deductible counted, catastrophic threshold)
    gets its own pass with the same seed: its figures equal a direct simulation, whatever the file order."""
    from actuarial import simulate
    from actuarial.contract.bids import Bid

    base = load_scenario("scenarios/provincial_guideline.toml").replace(**{"population.size": 30_000})
    bids = [Bid("plain", base),
            Bid("deductible counted", base.replace(**{"cii.includes_basic_deductible": True})),
            Bid("cancer only", base.replace(**{"cii.scope": ["cancer"]}))]
    # Several passes must stay paired, so engine="auto" (the default) prices them on the brute engine.
    direct = {b.name: simulate(b.scenario, 2, seed=3, progress=False, engine="brute").claims_per_capita().value
              for b in bids}
    assert len({round(v, 6) for v in direct.values()}) == 3
    for order in (bids, bids[::-1]):
        cmp = compare_bids(order, years=2, seed=3)
        got = {o.bid.name: o.result.claims_per_capita().value for o in cmp.outcomes}
        assert {o.result.accumulations.engine for o in cmp.outcomes} == {"brute"}
        assert got == pytest.approx(direct, rel=1e-12)
