"""HTML report: self-contained, escaped, bilingual; CLI never overwrites; renders in headless Chromium."""

import base64
import re
import shutil
import subprocess

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from actuarial import cli  # noqa: E402
from actuarial.report.page import Report, format_number, scenario_report  # noqa: E402

TITLE_EN = "Critical illness insurance actuarial report"


@pytest.fixture(scope="module")
def html(qinzhou):
    return scenario_report([qinzhou.replace(**{"population.size": 20_000})], years=3, seed=2).to_html()


def test_report_is_self_contained_with_the_expected_sections(html):
    for zh_en in ("方案概况", "Programme summary", "测算保费", "Calibrated premium", "关键指标", "Key metrics",
                  "预计人均赔付", "Expected claims per capita", "赔付率", "Benefit by cost band"):
        assert zh_en in html
    imgs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(imgs) == 4
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in imgs)
    # Nothing loaded from elsewhere: no external scripts, stylesheets or images.
    assert not re.search(r'(src|href)="(?!data:)', html)
    # Scripts are inline only (sortable tables): none is fetched.
    assert not re.search(r"<script[^>]*\ssrc=", html) and "http://" not in html and "https://" not in html


def test_calibrated_premium_shown_matches_the_calibration(qinzhou):
    from actuarial import calibrate_premium, simulate
    from actuarial.report.page import add_scenario

    res = simulate(qinzhou.replace(**{"population.size": 20_000}), years=3, seed=2)
    cal = calibrate_premium(res)
    page = add_scenario(Report("测试", "Test"), res, cal).to_html()
    assert f"{cal.premium:.2f}" in page and f"{cal.ci95[0]:.2f}" in page and f"{cal.ci95[1]:.2f}" in page
    matplotlib.pyplot.close("all")


def test_everything_is_escaped():
    rep = Report("<b>标题</b>", "Title & <i>more</i>", subtitle="<script>alert(1)</script>")
    rep.add_text("文本", "Text <x>", "a < b\n\nc & d")
    rep.add_table("表", "Table", pd.DataFrame({"name": ["<img src=x>"], "value": [1234.5]}))
    page = rep.to_html()
    assert "<script>alert" not in page and "<img src=x>" not in page and "<i>more</i>" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x&gt;" in page and "a &lt; b" in page and "1,234.5" in page


def test_generic_sections_and_figure():
    fig, ax = matplotlib.pyplot.subplots()
    ax.plot([0, 1], [1, 0])
    rep = Report("报告", "Report").add_figure("图", "Figure", ax, caption="a line").add_text("说明", "Notes", "x")
    page = rep.to_html()
    assert page.index("Figure") < page.index("Notes")  # sections keep their order
    assert "<figcaption>a line</figcaption>" in page


def test_format_number():
    assert [format_number(v) for v in (30000.0, 29.934, 3338.2, 0.002016, float("nan"))] == \
        ["30,000", "29.93", "3,338.2", "0.002016", "—"]


def test_save_and_cli_refuse_to_overwrite(tmp_path, capsys):
    out = tmp_path / "r.html"
    out.write_text("mine")
    with pytest.raises(FileExistsError, match="already exists"):
        Report("报告", "Report").save(out)
    assert out.read_text() == "mine"
    rc = cli.main(["report", "scenarios/qinzhou_2016.toml", "--size", "5000", "--years", "2", "--out", str(out)])
    assert rc == 2 and "already exists" in capsys.readouterr().err
    assert out.read_text() == "mine"


def test_cli_writes_a_report_of_two_scenarios(tmp_path):
    out = tmp_path / "two.html"
    rc = cli.main(["report", "scenarios/qinzhou_2016.toml", "scenarios/provincial_guideline.toml",
                   "--size", "10000", "--years", "2", "--no-progress", "--out", str(out)])
    assert rc == 0
    page = out.read_text(encoding="utf-8")
    assert "Scenarios at a glance" in page and "Qinzhou 2016" in page and "Provincial guideline" in page
    assert page.count("data:image/png;base64,") == 8


def test_cli_bad_scenario_is_a_clear_error(tmp_path, capsys):
    rc = cli.main(["report", "no_such.toml", "--out", str(tmp_path / "x.html")])
    assert rc == 2 and "no such scenario file" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (Debian: apt-get install -y chromium)")
def test_report_renders_in_headless_chromium(html, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    shot = tmp_path / "shot.png"
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]
    subprocess.run(flags + [f"--user-data-dir={tmp_path / 'ud1'}", f"--screenshot={shot}", "--window-size=1200,1600",
                            page.as_uri()], capture_output=True, timeout=120, check=True)
    img = matplotlib.image.imread(shot)[..., :3]
    assert img.shape[:2] == (1600, 1200)
    non_white = (img < 0.9).any(axis=-1).mean()
    assert non_white > 0.02 and np.unique(img.reshape(-1, 3), axis=0).shape[0] > 50  # text, tables and a plot
    dom = subprocess.run(flags + [f"--user-data-dir={tmp_path / 'ud2'}", "--dump-dom", page.as_uri()],
                         capture_output=True, timeout=120, check=True, text=True).stdout
    assert TITLE_EN in dom and "Qinzhou 2016" in dom and "Key metrics" in dom


def test_fit_section_is_aggregate_only():
    from actuarial.fitting import fit_experience
    from actuarial.report.page import add_fit

    fit = fit_experience("tests/data/claims.csv", "tests/data/enrolment.csv")
    page = add_fit(Report("经验", "Experience"), fit).to_html()
    assert "Frequency parameters" in page and "spliced_pareto" in page and "data:image/png;base64," in page
    assert "S0" not in re.sub(r"base64,[A-Za-z0-9+/=]+", "", page)  # no person ids outside the image data


def test_cli_report_with_bids_adds_the_comparison(tmp_path):
    from pathlib import Path

    bids = sorted(str(p) for p in Path("scenarios/bids/provincial").glob("*.toml"))
    out = tmp_path / "bids.html"
    rc = cli.main(["report", *bids, "scenarios/qinzhou_2016.toml", "--size", "10000", "--years", "2",
                   "--no-progress", "--out", str(out)])
    assert rc == 0
    page = out.read_text(encoding="utf-8")
    assert "Bid terms" in page and "Programme summary: Qinzhou 2016" in page
    assert page.index("Bid terms") < page.index("Programme summary")
    assert page.count("data:image/png;base64,") == 8  # an annual-claims chart per bid + four scenario plots
