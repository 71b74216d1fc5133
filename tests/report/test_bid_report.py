"""The committee's report, driven in headless Chromium (Playwright with the system browser).

The page re-ranks the bids from the weights a committee member types; the ranking shown must be
``compare_bids(...).reweighted(...)``. Skips cleanly where Chromium or Playwright is missing.
"""

import re
import shutil
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

from actuarial import cli  # noqa: E402
from actuarial.contract.bids import CRITERIA, compare_bids  # noqa: E402
from actuarial.report.page import Report  # noqa: E402

BIDS = sorted(str(p) for p in Path("scenarios/bids/provincial").glob("*.toml"))
ARGS = ["--size", "20000", "--years", "10", "--seed", "11", "--no-progress"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def cmp():
    return compare_bids(BIDS, years=10, seed=11, size=20_000, progress=False)


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "bids.html"
    assert cli.main(["report", *BIDS, *ARGS, "--out", str(out), "--xlsx", str(out.with_suffix(".xlsx"))]) == 0
    return out


def test_report_has_the_committees_sections(page_file, cmp):
    html = page_file.read_text(encoding="utf-8")
    for zh, en in (("摘要", "Summary"), ("投标条款", "Bid terms"), ("合规性", "Compliance"), ("排名的稳健性", "Robustness"),
                   ("假设、来源与重现", "Assumptions"), ("年度赔付分布", "Annual claims distribution")):
        assert zh in html and en in html
        assert html.index(zh) < html.index(en)  # Chinese first
    winner = cmp.ranked().bid[0]
    assert f"“{winner}”" in html and "Monte Carlo error" in html
    assert "not the policy ratio" in html and "vs the 50 % floor" in html
    assert html.count("data:image/png;base64,") == len(BIDS)  # one annual-claims chart per bid
    assert not re.search(r'(src|href)="(?!data:)', html) and not re.search(r"<script[^>]*\ssrc=", html)
    # the command that reproduces the numbers, from the options (not from the test runner's argv)
    assert f"actuarial report {' '.join(BIDS)} --seed 11 --years 10 --size 20000 --engine auto" in html


def test_report_workbook_offers_the_same_tables(page_file):
    import pandas as pd

    book = pd.read_excel(page_file.with_suffix(".xlsx"), sheet_name=None)
    assert {"ranking", "terms", "paired_differences", "compliance", "robustness", "inputs"} <= set(book)
    assert "fund_outlay_per_capita [yuan per insured person-year]" in book["ranking"].columns


def test_cli_lang_is_checked(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["report", *BIDS, "--lang", "fr", "--out", str(tmp_path / "x.html")])
    assert not (tmp_path / "x.html").exists()


def test_charts_carry_chinese_labels(cmp):
    from matplotlib import font_manager

    from actuarial.report.bids import claims_chart
    from actuarial.report.display import cjk_font

    if cjk_font() is None:
        with pytest.warns(UserWarning, match="fonts-noto-cjk"):
            fig = claims_chart(cmp.outcomes[0], "zh")
        assert fig.axes[0].get_xlabel().startswith("annual")
        return
    fig = claims_chart(cmp.outcomes[0], "zh")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "年度大病保险赔付（元/人·年）" and ax.get_ylabel() == "模拟年数"
    assert all(re.search(r"[\u4e00-\u9fff]", t.get_text()) for t in fig.legends[0].get_texts())
    # the label is drawn with a font that has the glyphs
    assert "CJK" in font_manager.findfont(ax.xaxis.label.get_fontproperties(), fallback_to_default=False)
    matplotlib.pyplot.close(fig)


def _playwright():
    if CHROMIUM is None:
        pytest.skip("headless Chromium not installed (Debian: apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install playwright)")
    return sync_api.sync_playwright


@pytest.fixture(scope="module")
def browser():
    sync_playwright = _playwright()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def _ranking(page) -> list[tuple[int, str, str]]:
    return page.eval_on_selector_all(
        "#ranking tbody tr", "rows => rows.map(r => [r.cells[0].textContent, r.cells[1].textContent, "
                             "r.cells[2].textContent])")


def _expected(cmp, weights) -> list[list[str]]:
    r = cmp.reweighted(weights).ranked()
    return [[str(k), b, f"{s:.2f}"] for k, b, s in zip(r["rank"], r.bid, r.score)]


def test_weights_control_reranks_as_the_comparison(browser, page_file, cmp):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(page_file.as_uri())
    assert _ranking(page) == _expected(cmp, None)
    for weights in ({"fund_outlay_per_capita": 3}, {"insurer_result_q05_per_capita": 4, "prob_fund_covers_loss": 2},
                    {"beneficiaries_per_10k": 5, "actual_payment_ratio": 0.5}, {"catastrophic_avoided_per_10k": 1}):
        full = {c: float(weights.get(c, 0.0)) for c in CRITERIA}
        for crit, w in full.items():
            page.fill(f"#w-{crit}", f"{w:g}")
        assert _ranking(page) == _expected(cmp, full), weights
    # invalid weights: a message, the ranking stays
    before = _ranking(page)
    for crit in CRITERIA:
        page.fill(f"#w-{crit}", "0")
    assert page.text_content("#weights-error").strip() and _ranking(page) == before
    page.click("#weights-reset")
    assert _ranking(page) == _expected(cmp, None) and not page.text_content("#weights-error").strip()
    page.close()


def test_bid_terms_table_and_sorting(browser, page_file, cmp):
    page = browser.new_page()
    page.goto(page_file.as_uri())
    for i, o in enumerate(cmp.outcomes):
        cii, c = o.bid.scenario.cii, o.bid.scenario.contract
        cell = f'#terms tr[data-key="{{}}"] td[data-key="bid{i}"]'
        assert page.text_content(cell.format("deductible")) == f"{cii.deductible:,.2f}"
        assert page.text_content(cell.format("fee")) == f"{c.combined_fee_rate_percent:g} %"
        assert page.text_content(cell.format("cap")) == f"{cii.cap:,.2f}"
    assert page.get_attribute('#terms tr[data-key="deductible"]', "class") == "differs"
    assert page.get_attribute('#terms tr[data-key="cap"]', "class") is None
    # sortable: clicking the fund-outlay header orders the rows by it
    page.click("#outcomes-fund thead th:nth-child(2)")
    values = page.eval_on_selector_all("#outcomes-fund tbody tr td:nth-child(2)",
                                       "cells => cells.map(c => parseFloat(c.getAttribute('data-sort')))")
    assert values == sorted(values)
    page.close()


def test_lang_zh_page_and_chart_text(browser, cmp, tmp_path):
    from actuarial.report.bids import add_bid_report
    from actuarial.report.display import cjk_font

    out = tmp_path / "zh.html"
    add_bid_report(Report("评标报告", "Bid report", lang="zh"), cmp, robust=None).save(out)
    page = browser.new_page()
    page.goto(out.as_uri())
    headings = page.eval_on_selector_all("h2", "hs => hs.map(h => h.textContent)")
    assert headings[:3] == ["摘要", "评分与排名", "投标条款"]
    alts = page.eval_on_selector_all("figure img", "imgs => imgs.map(i => i.alt)")
    assert len(alts) == len(cmp.outcomes)
    if cjk_font() is not None:
        assert all("年度赔付分布" in a for a in alts)
    page.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_layout_holds_at_desktop_and_narrow_widths(browser, page_file, width, tmp_path):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(page_file.as_uri())
    # the page itself never scrolls sideways: wide tables scroll inside their own box
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    page.screenshot(path=str(tmp_path / f"report_{width}.png"), full_page=True)
    page.close()
