"""HTML reports for tender committees (招标评审报告): one self-contained file, bilingual labels.

Owns the page: sections of text, tables and figures, each titled in Chinese
and English, rendered into a single HTML file with the figures embedded as
base64 PNGs (no network, no external files) and every piece of text
HTML-escaped. It does not simulate; :func:`scenario_report` runs the
simulations and calibrations it shows.

Sections are generic (:meth:`Report.add_text`, :meth:`Report.add_table`,
:meth:`Report.add_figure`), so other analyses (bid comparisons, sweeps) add
their own sections the same way.

>>> import pandas as pd
>>> rep = Report("大病保险测算报告", "CII actuarial report")
>>> rep = rep.add_table("关键指标", "Key metrics", pd.DataFrame({"metric": ["a<b"], "value": [1.0]}))
>>> "a&lt;b" in rep.to_html()
True

Command line::

    actuarial report scenarios/qinzhou_2016.toml --years 20 --out qinzhou.html
    actuarial report scenarios/bids/provincial/*.toml --out bids.html   # bid comparison section
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..atomic import write_new
from ..results.calibration import calibrate_premium
from ..results.plots import (
    plot_benefit_by_band,
    plot_calibration,
    plot_claims,
    plot_loss_ratio,
)
from ..results.simulation import simulate
from .display import check_lang, label

METRIC_LABELS: dict[str, tuple[str, str]] = {
    "insured": ("参保人数", "Insured persons"),
    "premium_per_capita": ("人均保费（元）", "Premium per capita (yuan)"),
    "claims_per_capita": ("预计人均赔付（元）", "Expected claims per capita (yuan)"),
    "break_even_premium": ("盈亏平衡保费（元）", "Break-even premium (yuan)"),
    "beneficiaries_per_10k": ("每万人受益人数", "Beneficiaries per 10,000 insured"),
    "benefit_per_beneficiary": ("人均受益金额（元）", "Benefit per beneficiary (yuan)"),
    "actual_payment_ratio": ("实际支付比例", "Actual payment ratio"),
    "share_of_oop_paid": ("大病保险支付占受益人合规自付比例", "Share of beneficiaries' out-of-pocket paid"),
    "payment_ratio_above_deductible": ("起付线以上支付比例", "Payment ratio above the deductible"),
    "loss_ratio": ("赔付率", "Loss ratio"),
    "basic_paid_per_capita": ("基本医保人均支付（元）", "Basic insurance paid per capita (yuan)"),
    "oop_compliant_per_capita": ("人均合规自付（元）", "Compliant out-of-pocket per capita (yuan)"),
    "catastrophic_per_10k": ("每万人灾难性支出", "Catastrophic expenditure per 10,000"),
    "catastrophic_avoided_per_10k": ("每万人避免灾难性支出", "Catastrophic cases avoided per 10,000"),
    "prob_claims_exceed_net_premium": ("赔付超过净保费的概率", "P(claims > net premium)"),
}
"""Chinese and English labels of the headline metrics of :meth:`SimulationResult.metrics`."""

COLUMN_LABELS: dict[str, str] = {
    "metric": "指标 Metric", "estimate": "估计值 Estimate", "se": "标准误 SE", "ci95_low": "95%置信下限 CI low",
    "ci95_high": "95%置信上限 CI high", "group": "人群 Group", "item": "项目 Item", "value": "取值 Value",
    "premium": "保费（元） Premium (yuan)", "current_premium": "现行保费（元） Current premium (yuan)",
}


def format_number(v: float) -> str:
    """Numbers for committee tables: whole numbers with thousands separators, else 4 significant digits."""
    if v != v:  # NaN
        return "—"
    if float(v).is_integer() and abs(v) < 1e15:
        return f"{v:,.0f}"
    return f"{v:,.1f}" if abs(v) >= 1000 else f"{v:.4g}"


def bilingual(zh: str, en: str) -> str:
    """Escaped HTML of a Chinese label followed by its English one."""
    return f'<span lang="zh">{escape(zh)}</span> <span lang="en">{escape(en)}</span>'


def figure_png(fig, dpi: int = 110) -> bytes:
    """A matplotlib Figure (or Axes) as PNG bytes."""
    fig = getattr(fig, "figure", fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def figure_block(figure, alt: str, caption: str = "", close: bool = True) -> dict:
    """A figure block of a section: the Figure (or Axes) as an embedded base64 PNG, closed afterwards by default."""
    fig = getattr(figure, "figure", figure)
    data = base64.b64encode(figure_png(fig)).decode("ascii")
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return {"kind": "figure", "src": f"data:image/png;base64,{data}", "alt": alt, "caption": caption}


@dataclass(frozen=True)
class Cell:
    """A table cell: the text shown, the value it sorts by (None: its text) and a CSS class."""

    text: str
    sort: float | str | None = None
    cls: str = ""
    key: str = ""


@dataclass(frozen=True)
class Table:
    """A table for the page: column headers and rows of :class:`Cell`; sortable in the browser."""

    columns: list[str]
    rows: list[list[Cell]]
    id: str = ""
    cls: str = ""
    row_keys: list[str] | None = None
    row_classes: list[str] | None = None

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, float_format=format_number, **kw) -> "Table":
        """A DataFrame's cells formatted (floats by ``float_format``), sorting by their numeric values."""
        rows = []
        for rec in frame.itertuples(index=False):
            cells = []
            for v in rec:
                if isinstance(v, (float, np.floating)):
                    cells.append(Cell(float_format(v), float(v) if v == v else None))
                elif isinstance(v, (int, np.integer)) and not isinstance(v, bool):
                    cells.append(Cell(str(v), int(v)))
                else:
                    cells.append(Cell("—" if v is None else str(v), cls="text"))
            rows.append(cells)
        return cls([str(c) for c in frame.columns], rows, **kw)


def _env():
    from jinja2 import Environment, PackageLoader

    # Optional block keys (note, badge, cls, ...) may be absent: the default Undefined renders them as empty.
    return Environment(loader=PackageLoader("actuarial.report", "templates"), autoescape=True)


class Report:
    """A report page built from sections; :meth:`save` writes one self-contained HTML file.

    Every title is given in Chinese and English; ``lang`` (``zh``, ``en`` or ``both``, Chinese
    first) picks the headings shown. The page is rendered with Jinja2 templates
    (``actuarial/report/templates``) with autoescaping, so text and tables are escaped.
    """

    def __init__(self, title_zh: str, title_en: str, subtitle: str = "", lang: str = "both"):
        self.title_zh, self.title_en, self.subtitle = title_zh, title_en, subtitle
        self.lang = check_lang(lang)
        self.sections: list[dict] = []

    def add_section(self, title_zh: str, title_en: str, blocks: list[dict], anchor: str = "") -> "Report":
        """A section of blocks (dicts with a ``kind``: text, heading, table, figure, figures, weights, list)."""
        self.sections.append({"title_zh": title_zh, "title_en": title_en, "blocks": blocks, "anchor": anchor})
        return self

    def add_text(self, title_zh: str, title_en: str, text: str) -> "Report":
        """A section of plain text; blank lines separate paragraphs."""
        return self.add_section(title_zh, title_en, [text_block(text)])

    def add_table(self, title_zh: str, title_en: str, table: pd.DataFrame, note: str = "",
                  float_format=format_number, index: bool = False) -> "Report":
        """A section with a table; known column names get bilingual headers (:data:`COLUMN_LABELS`).

        ``float_format`` is a function of a float, or a format string such as ``"{:,.2f}"``.
        """
        fmt = float_format.format if isinstance(float_format, str) else float_format
        frame = table.reset_index() if index else table
        shown = frame.rename(columns={c: COLUMN_LABELS.get(c, c) for c in frame.columns})
        return self.add_section(title_zh, title_en,
                                [{"kind": "table", "table": Table.from_frame(shown, fmt), "note": note}])

    def add_figure(self, title_zh: str, title_en: str, figure, caption: str = "", close: bool = True) -> "Report":
        """A section with a matplotlib Figure or Axes, embedded as a base64 PNG (closed afterwards by default)."""
        return self.add_section(title_zh, title_en, [figure_block(figure, title_en, caption, close)])

    def to_html(self) -> str:
        stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")

        return _env().get_template("report.html.j2").render(
            lang=self.lang, title_zh=self.title_zh, title_en=self.title_en, subtitle=self.subtitle,
            version=__version__, stamp=stamp, sections=self.sections,
            sort_hint=label("点击排序", "click to sort", self.lang))

    def save(self, path: str | Path) -> Path:
        """Write the page to ``path``; refuses to overwrite an existing file."""
        path = Path(path)
        try:
            write_new(path, self.to_html())
        except FileExistsError:
            raise FileExistsError(f"{path}: already exists; choose another file (nothing was overwritten)") from None
        return path

    def _repr_html_(self) -> str:
        return self.to_html()


def text_block(text: str, cls: str = "") -> dict:
    """A text block: blank lines separate paragraphs, single newlines break lines (all escaped by the template)."""
    paras = [p.strip() for p in str(text).split("\n\n") if p.strip()]
    return {"kind": "text", "paragraphs": [p.split("\n") for p in paras], "cls": cls}


# --------------------------------------------------------------------------- content for scenarios
def programme_table(res) -> pd.DataFrame:
    """The programme's design and the simulation's size, as item / value rows (bilingual items)."""
    sc, cii = res.scenario, res.cii
    tiers = "; ".join(f"{'deductible' if i == 0 else f'{t.above:,.0f}'}+: {t.rate_percent:g}%"
                      for i, t in enumerate(cii.tiers))
    funding = ", ".join(f"{s} {res.funding.premium_per_capita(s):,.2f}" for s in sc.population.scheme_shares)
    rows = [
        ("方案 Programme", sc.programme.name),
        ("来源 Source", sc.programme.source or "—"),
        ("参保人数 Insured persons", f"{sc.population.size:,}"),
        ("人均筹资（元） Premium per capita (yuan)", funding),
        ("起付线（元） Deductible (yuan)", f"{cii.deductible:,.0f}"
         + (f" (poor {cii.effective_poor_deductible:,.0f})" if cii.poor_deductible is not None else "")),
        ("分段支付比例 Tiers (marginal rates by annual accumulation, yuan)", tiers),
        ("年度最高支付限额（元） Annual cap (yuan)", "none" if cii.cap == float("inf") else f"{cii.cap:,.0f}"),
        ("综合费率 Combined fee rate", f"{res.combined_fee_rate:.1%}"),
        ("模拟年数 Simulated years", f"{res.years} (seed {res.accumulations.seed})"),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


def metrics_table(res) -> pd.DataFrame:
    """Headline metrics for all insured with bilingual names, estimate, SE and 95 % CI."""
    s = res.summary()
    s = s[s.group == "all"].drop(columns="group")
    s["metric"] = [" ".join(METRIC_LABELS.get(m, (m, ""))).strip() for m in s.metric]
    return s.reset_index(drop=True)


def add_scenario(report: Report, res, cal=None) -> Report:
    """Add a scenario's sections: programme summary, calibrated premium, key metrics and plots."""

    name = res.scenario.programme.name
    cal = cal or calibrate_premium(res)
    lo, hi = cal.ci95
    report.add_table(f"方案概况：{name}", f"Programme summary: {name}", programme_table(res))
    report.add_text(
        f"测算保费：{name}", f"Calibrated premium: {name}",
        f"测算人均保费 {cal.premium:.2f} 元（95% 置信区间 {lo:.2f}–{hi:.2f}），现行 {cal.current_premium:.2f} 元。\n"
        f"Calibrated premium ({cal.target}): {cal.premium:.2f} yuan per insured person-year "
        f"(95% CI {lo:.2f}–{hi:.2f}); current premium {cal.current_premium:.2f} yuan.",
    )
    report.add_table(f"测算保费明细：{name}", f"Calibrated premium by group: {name}", cal.table(),
                     note="yuan per insured person-year; break-even = expected claims / (1 − combined fee rate)",
                     float_format="{:,.2f}")
    report.add_table(f"关键指标：{name}", f"Key metrics: {name}", metrics_table(res),
                     note="Monte Carlo estimates with standard errors and 95% confidence intervals"
                          + ("; expected claims and beneficiaries use a control variate with an exact expectation"
                             if res.control_expected is not None else ""))
    report.add_figure(f"年度赔付分布：{name}", f"Annual claims vs premium: {name}", plot_claims(res))
    report.add_figure(f"赔付率分布：{name}", f"Loss ratio: {name}", plot_loss_ratio(res))
    report.add_figure(f"分段赔付：{name}", f"Benefit by cost band: {name}", plot_benefit_by_band(res))
    report.add_figure(f"保费收敛：{name}", f"Convergence of the premium: {name}", plot_calibration(cal))
    return report


def add_fit(report: Report, fit) -> Report:
    """Add an experience fit's sections: frequency parameters, severity by level, basic terms and QQ plots.

    Everything shown is aggregate; small cells are already suppressed by the fit.
    """
    import matplotlib.pyplot as plt

    source = Path(fit.sources[0]).name
    report.add_text("经验数据", f"Experience data: {source}",
                    f"{fit.insured:,.0f} insured person-years; cells with fewer than {fit.min_cell_size} people "
                    f"are suppressed.\n" + "\n".join(fit.notes))
    report.add_table("发生频率参数", "Frequency parameters (episodes per person-year)", fit.frequency_parameters())
    sev = fit.severity_table()
    report.add_table("费用分布（按医院级别）", "Severity by hospital level (best family by AIC)",
                     sev[sev.best].drop(columns="best"))
    report.add_table("合规比例与基本医保", "Compliant share and basic insurance by level", fit.levels)
    keys = list(fit.severities)
    if keys:
        fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 4), layout="constrained", squeeze=False)
        for ax, (stream, level) in zip(axes[0], keys):
            fit.plot(level, "qq", ax=ax, stream=stream)
        report.add_figure("拟合优度", "Goodness of fit (QQ)", fig)
    return report


TITLE = ("大病保险精算测算报告", "Critical illness insurance actuarial report")
BID_TITLE = ("大病保险招标评审报告", "Critical illness insurance: tender evaluation report")


def scenario_report(scenarios, years: int = 20, seed: int = 0, progress: bool | None = False,
                    report: Report | None = None, **accumulate_kw) -> Report:
    """Simulate and calibrate each scenario (same seed) and add their sections to ``report`` (default: a new one);
    with several scenarios a summary table compares them. Other keywords go to :func:`actuarial.engines.engine.accumulate`."""

    report = report or Report(*TITLE, subtitle=f"{years} simulated years, seed {seed}")
    results = [simulate(sc, years, seed, progress=progress, **accumulate_kw) for sc in scenarios]
    cals = [calibrate_premium(r) for r in results]
    if len(results) > 1:
        overview = pd.DataFrame({
            "方案 Programme": [r.scenario.programme.name for r in results],
            "现行保费 Current premium": [c.current_premium for c in cals],
            "测算保费 Calibrated premium": [c.premium for c in cals],
            "95%置信下限 CI low": [c.ci95[0] for c in cals],
            "95%置信上限 CI high": [c.ci95[1] for c in cals],
            "赔付率 Loss ratio": [r.loss_ratio().value for r in results],
        })
        report.add_table("方案比较", "Scenarios at a glance", overview, float_format="{:,.3f}")
    for res, cal in zip(results, cals):
        add_scenario(report, res, cal)
    return report


def add_comparison(report: Report, cmp) -> Report:
    """Add a bid comparison (:class:`actuarial.contract.bids.BidComparison`): ranked table and its figure."""
    report.add_table("投标方案比较", f"Bid comparison: {cmp.base_name}", cmp.brief(),
                     note=f"{cmp.years} simulated years, seed {cmp.seed}, common random numbers; "
                          "money in yuan per insured person-year")
    report.add_figure("投标方案比较图", "Bid comparison (fund outlay, payment ratio, insurer result)", cmp.plot())
    return report
