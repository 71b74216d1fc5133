"""The tender committee's report on a bid comparison (评标报告): sections, charts and its workbook tables.

Owns what the committee reads, in order: a one-paragraph summary (ranking, winner, lead and
whether the lead exceeds the Monte Carlo error), the weights control that re-ranks the bids in
the page, the bid terms side by side, compliance per bid, the fund's, the insurer's and the
beneficiaries' outcomes with the annual-claims chart per bid, the ranking's robustness, and the
assumptions with their sources. The numbers come from :mod:`actuarial.report.bid_stats`, the formats
from :mod:`actuarial.report.display`; the page is rendered by :class:`actuarial.report.page.Report`.

>>> from pathlib import Path
>>> from actuarial.contract.bids import compare_bids
>>> from actuarial.report.page import Report
>>> cmp = compare_bids(sorted(Path("scenarios/bids/provincial").glob("*.toml")), years=4, seed=1, size=20000,
...                    progress=False)
>>> rep = add_bid_report(Report("评标报告", "Bid report", lang="en"), cmp, robust=None)
>>> "Bid terms" in rep.to_html()
True
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..config import tables
from ..contract.bids import CRITERIA
from ..scenario import read_toml
from . import bid_stats as bs
from .display import Z95, chart_lang, chart_rc, label, percent, pm, yuan
from .page import Cell, Table, figure_block, text_block


def _est(o, metric):
    e = o.metrics[metric]
    return Cell(pm(e.value, e.se, bs.UNITS[metric]), e.value)


def _pm_note(lang: str) -> str:
    return label("“±”后为95%置信区间半宽（1.96×蒙特卡洛标准误）；“± —”：模拟年数太少，无法给出分位数的区间；"
                 "金额单位：元/参保人·年。",
                 "± is the 95 % half-width (1.96 × Monte Carlo SE); “± —”: too few simulated years for a "
                 "quantile's interval; money in yuan per insured person-year.", lang)


# --------------------------------------------------------------------------- summary
def summary_text(cmp, lang: str) -> str:
    """The summary paragraph(s): ranking, winner, lead over the runner-up and whether it exceeds MC error."""
    ranked = cmp.ranked()
    order = " > ".join(ranked.bid)
    gap = bs.score_gap(cmp)
    if gap is None:
        return label(f"只有一个投标方案：{order}。", f"A single bid: {order}.", lang)
    half = Z95 * gap.gap.se
    zh = (f"在所述权重下，排名为：{order}。第一名“{gap.winner}”得分 {ranked.score[0]:.2f}（满分100），领先第二名"
          f"“{gap.runner_up}” {gap.gap.value:.2f} 分（按模拟年配对估计，95%半宽 ±{half:.2f} 分）；"
          + ("该差距大于蒙特卡洛误差。" if gap.exceeds_error else "该差距不大于蒙特卡洛误差，两者排名不能区分。")
          + f"对模拟年重抽样 {gap.resamples} 次，第一名在 {100 * gap.prob_winner_first:.1f}% 的重抽样中仍居首位。"
          f"所有方案在同一批 {cmp.years} 个模拟年上计算（共同随机数）。")
    en = (f"Under the stated weights the ranking is {order}. The winner, “{gap.winner}”, scores "
          f"{ranked.score[0]:.2f} of 100 and leads “{gap.runner_up}” by {gap.gap.value:.2f} points "
          f"(paired over the simulated years, 95 % half-width ±{half:.2f}); "
          + ("the lead is larger than the Monte Carlo error. " if gap.exceeds_error else
             "the lead is NOT larger than the Monte Carlo error: the two cannot be told apart. ")
          + f"Resampling the simulated years {gap.resamples} times, the winner stays first in "
          f"{100 * gap.prob_winner_first:.1f} % of resamples. All bids are priced on the same {cmp.years} "
          "simulated years (common random numbers).")
    return zh if lang == "zh" else en if lang == "en" else zh + "\n\n" + en


def _difference_table(cmp, lang: str) -> Table:
    t = bs.winner_vs_runner_up(cmp)
    ranked = cmp.ranked()
    rows = []
    for r in t.itertuples():
        zh, en = bs.CRITERION_LABELS[r.criterion]
        fmt = {"yuan": yuan, "percent": percent, "per_10k": lambda v: f"{v:,.1f}"}[r.unit]
        sig = label("是", "yes", lang) if r.significant else label("否", "no", lang)
        rows.append([Cell(label(zh, en, lang), cls="text"), Cell(fmt(r.winner), r.winner),
                     Cell(fmt(r.runner_up), r.runner_up),
                     Cell(pm(r.difference, r.difference_se, r.unit), r.difference), Cell(sig, cls="text")])
    cols = [label("评分指标（单位）", "Criterion (unit)", lang),
            label(f"第一名 {ranked.bid[0]}", f"Winner {ranked.bid[0]}", lang),
            label(f"第二名 {ranked.bid[1]}", f"Runner-up {ranked.bid[1]}", lang),
            label("配对差（第一名−第二名，±95%）", "Paired difference, winner − runner-up (± 95 %)", lang),
            label("超出误差", "Beyond MC error", lang)]
    return Table(cols, rows, id="paired")


# --------------------------------------------------------------------------- weights and ranking
def weights_block(cmp, lang: str) -> dict:
    """The weights control and the ranking table it re-orders (ids ``weights`` and ``ranking``)."""
    ranked = cmp.ranked()
    keys = {n: f"bid{i}" for i, n in enumerate(cmp.names)}
    rows = [[Cell(str(r.rank), int(r.rank)), Cell(r.bid, cls="text bid"), Cell(f"{r.score:.2f}", float(r.score)),
             _est(cmp.outcomes[cmp.names.index(r.bid)], "fund_outlay_per_capita")] for r in ranked.itertuples()]
    cols = [label("名次", "Rank", lang), label("投标方案", "Bid", lang), label("得分（0–100）", "Score (0–100)", lang),
            label("基金人均支出（元/人·年，±95%）", "Fund outlay (yuan per person-year, ± 95 %)", lang)]
    table = Table(cols, rows, id="ranking", row_keys=[keys[b] for b in ranked.bid])
    data = {"order": list(cmp.weights), "criteria": {c: d for c, d in _criteria().items() if c in cmp.weights},
            "weights": cmp.weights,
            "bids": [{"key": keys[o.bid.name], "name": o.bid.name,
                      "metrics": {c: (o.metrics[c].value if np.isfinite(o.metrics[c].value) else None)
                                  for c in {*cmp.weights, "fund_outlay_per_capita"}}} for o in cmp.outcomes],
            "weights_error": label("权重须为非负数且不全为零", "weights must be >= 0 and not all zero", lang)}
    criteria = [{"key": c, "label": label(*bs.CRITERION_LABELS[c], lang), "weight": f"{w:g}"}
                for c, w in cmp.weights.items()]
    note = label("得分：每项指标按各方案的最好值=1、最差值=0线性换算后加权平均，再乘以100；同分按基金支出排序。",
                 "Score: each criterion scaled so the best bid gets 1 and the worst 0, weighted mean × 100; "
                 "ties go to the lower fund outlay.", lang)
    return {"kind": "weights", "criteria": criteria, "table": table, "data": data, "note": note}


def _criteria() -> dict[str, str]:
    return dict(CRITERIA)


# --------------------------------------------------------------------------- terms and compliance
def terms_block(cmp, lang: str) -> dict:
    """Bid terms side by side (id ``terms``); rows where bids differ are highlighted."""
    t = bs.terms_table(cmp, lang)
    keys = {n: f"bid{i}" for i, n in enumerate(cmp.names)}
    rows = [[Cell(label(r["label_zh"], r["label_en"], lang), cls="text")]
            + [Cell(r[n], cls="text", key=keys[n]) for n in cmp.names] for _, r in t.iterrows()]
    cols = [label("条款", "Term", lang)] + list(cmp.names)
    table = Table(cols, rows, id="terms", cls="terms", row_keys=list(t.term),
                  row_classes=["differs" if d else "" for d in t.differs])
    note = label("黄色底色：各方案不同的条款。", "Highlighted: terms on which the bids differ.", lang)
    return {"kind": "table", "table": table, "note": note}


def _check_value(v) -> str:
    if isinstance(v, (bool, np.bool_)) or v is None:
        return "—" if v is None else str(v)
    if isinstance(v, (int, float, np.number)):
        return percent(v) if abs(float(v)) <= 1 else yuan(v)  # fractions as %, amounts in yuan
    return str(v)


def compliance_blocks(cmp, lang: str) -> tuple[list[dict], bool]:
    """Per bid: a heading with pass / FAIL / undecided and the table of checks (:mod:`actuarial.results.compliance`,
    with the purchaser-fixed terms against the bid's base scenario)."""
    blocks = []
    for o in cmp.outcomes:
        checks = o.compliance()
        # passed is True, False or <NA>: undecided (no data, or the estimate's 95 % CI straddles the limit)
        failed = bool((checks.passed == False).fillna(False).any())  # noqa: E712 (nullable boolean)
        ok = not failed and not bool(checks.passed.isna().any())

        def verdict(passed) -> Cell:
            if pd.isna(passed):
                return Cell(label("待定", "undecided", lang), cls="text")
            return Cell(label("通过", "pass", lang) if passed else label("不通过", "FAIL", lang),
                        cls="pass" if passed else "fail")

        rows = [[Cell(str(c.check), cls="text"), Cell(_check_value(c.value)), Cell(_check_value(c.limit)),
                 verdict(c.passed), Cell(str(c.source), cls="text")]
                for c in checks.itertuples()]
        cols = [label("检查项", "Check", lang), label("取值", "Value", lang), label("限值", "Limit", lang),
                label("结果", "Result", lang), label("依据", "Source", lang)]
        blocks.append({"kind": "heading", "text": o.bid.name,
                       "badge": label("通过", "pass", lang) if ok else label("不通过", "FAIL", lang) if failed
                       else label("待定", "undecided", lang), "badge_cls": "full" if ok else "partial"})
        blocks.append({"kind": "table", "table": Table(cols, rows), "note": ""})
    return blocks


# --------------------------------------------------------------------------- outcomes
OUTCOME_GROUPS: dict[str, tuple[str, str, list[tuple[str, str, str]]]] = {
    "fund": ("基金", "The fund", [
        ("fund_outlay_per_capita", "预期支出（元/人·年）", "Expected outlay (yuan per person-year)"),
        ("returned_surplus_per_capita", "返还结余（元/人·年）", "Surplus returned (yuan per person-year)"),
        ("fund_loss_share_per_capita", "分担亏损（元/人·年）", "Loss share paid (yuan per person-year)"),
        ("prob_fund_covers_loss", "分担亏损的概率（%）", "P(fund shares a loss) (%)")]),
    "insurer": ("保险机构", "The insurer", [
        ("insurer_result_per_capita", "承保结果均值（元/人·年）", "Result, mean (yuan per person-year)"),
        ("insurer_result_q05_per_capita", "5%分位（元/人·年）", "5 % quantile (yuan per person-year)"),
        ("insurer_result_q95_per_capita", "95%分位（元/人·年）", "95 % quantile (yuan per person-year)"),
        ("prob_insurer_loss", "亏损概率（%）", "P(loss) (%)")]),
    "people": ("参保人", "Beneficiaries", [
        ("claims_per_capita", "预计赔付（元/人·年）", "Expected claims (yuan per person-year)"),
        ("payment_ratio_above_deductible", "起付线以上政策支付比例（%，对照50%下限）",
         "Policy payment ratio above the deductible (%, vs the 50 % floor)"),
        ("actual_payment_ratio", "大病保险占受益人合规自付费用的比例（%，非政策比例）",
         "CII share of beneficiaries' compliant out-of-pocket cost (%, not the policy ratio)"),
        ("beneficiaries_per_10k", "受益人数（人/万人）", "Beneficiaries (per 10,000 insured)")]),
}
"""The three outcome tables: metric, Chinese and English column headers (with units)."""


def outcome_tables(cmp, lang: str) -> list[dict]:
    """The fund's, the insurer's and the beneficiaries' outcomes per bid, each estimate ± its 95 % half-width."""
    blocks = []
    for key, (zh, en, cols) in OUTCOME_GROUPS.items():
        rows = []
        for o in cmp.outcomes:
            cells = [Cell(o.bid.name, cls="text")]
            for metric, _, _ in cols:
                if metric == "payment_ratio_above_deductible":
                    e = o.result.metrics()[metric]
                    cells.append(Cell(pm(e.value, e.se, "percent"), e.value))
                else:
                    cells.append(_est(o, metric))
            rows.append(cells)
        headers = [label("投标方案", "Bid", lang)] + [label(z, e, lang) for _, z, e in cols]
        blocks.append({"kind": "heading", "zh": zh, "en": en})
        blocks.append({"kind": "table", "table": Table(headers, rows, id=f"outcomes-{key}"), "note": ""})
    blocks.append(text_block(_pm_note(lang), cls="meta"))
    return blocks


def claims_chart(outcome, lang: str = "both", bins=None):
    """Histogram of a bid's annual CII claims per capita over the simulated years, with premium and net premium.

    Labels in ``lang`` (Chinese needs a CJK font, :func:`actuarial.report.display.chart_lang`); ``bins`` (edges,
    yuan) lets several bids share one scale. Returns the Figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    lang = chart_lang(lang)
    res = outcome.result
    x = res.yearly("claims") / res.yearly("people")
    premium = res.premium_per_capita()
    net = premium * (1 - res.combined_fee_rate)
    est = outcome.metrics["claims_per_capita"]
    with plt.rc_context(chart_rc(lang)):
        fig, ax = plt.subplots(figsize=(6.4, 4.3), layout="constrained")
        ax.hist(x, bins=int(np.clip(np.sqrt(x.size) * 2, 5, 40)) if bins is None else bins, color="#4C72B0", alpha=0.8,
                label=label(f"模拟年（{x.size}年）", f"simulated years (n={x.size})", lang))
        ax.axvline(premium, color="black", lw=2, label=label(f"保费 {premium:.2f}", f"premium {premium:.2f}", lang))
        fee = f"{res.combined_fee_rate:.1%}"
        ax.axvline(net, color="#C44E52", ls="--", lw=2,
                   label=label(f"净保费 {net:.2f}（扣综合费率{fee}）", f"net premium {net:.2f} (fee {fee})", lang))
        ax.axvline(est.value, color="#55A868", ls=":", lw=2,
                   label=label(f"预计赔付 {est.value:.2f}", f"expected claims {est.value:.2f}", lang))
        ax.set_xlabel(label("年度大病保险赔付（元/人·年）", "annual CII claims (yuan per person-year)", lang))
        ax.set_ylabel(label("模拟年数", "simulated years", lang))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(f"{outcome.bid.name}", fontsize=10)
        fig.legend(fontsize=7.5, loc="outside lower center", ncols=2, frameon=False)  # below: bars stay visible
    return fig


def chart_blocks(cmp, lang: str) -> dict:
    """One annual-claims chart per bid, on common bins so the bids compare at a glance."""
    per_year = [o.result.yearly("claims") / o.result.yearly("people") for o in cmp.outcomes]
    premium = [o.result.premium_per_capita() for o in cmp.outcomes]
    edges = np.histogram_bin_edges(np.concatenate(per_year + [premium]),
                                   bins=int(np.clip(np.sqrt(per_year[0].size) * 2, 5, 40)))
    items = []
    for o in cmp.outcomes:
        alt = label(f"{o.bid.name}：年度赔付分布", f"{o.bid.name}: annual claims distribution", chart_lang(lang))
        items.append(figure_block(claims_chart(o, lang, bins=edges), alt))
    return {"kind": "figures", "items": items}


# --------------------------------------------------------------------------- robustness and assumptions
def robustness_block(robust: pd.DataFrame, lang: str) -> dict:
    yes, no = label("是", "yes", lang), label("否", "NO", lang)
    rows = [[Cell(label(r.label_zh, r.label_en, lang), cls="text"), Cell(" > ".join(r.ranking), cls="text"),
             Cell(r.winner, cls="text"), Cell(yes if r.same_winner else no, cls="pass" if r.same_winner else "fail")]
            for r in robust.itertuples()]
    cols = [label("情形", "Case", lang), label("排名（从高到低）", "Ranking (best first)", lang),
            label("第一名", "Winner", lang), label("第一名不变", "Same winner", lang)]
    note = label("其他权重：所列指标权重为3，其余为1，使用同一批模拟；就诊率与次均费用±10%：重新模拟（同一种子、年数和人数），按所述权重排名。",
                 "Other weightings: the named criteria weigh 3, the rest 1, on the same draws. Utilisation and "
                 "cost per episode ±10 %: re-simulated (same seed, years and size), ranked with the stated weights.",
                 lang)
    return {"kind": "table", "table": Table(cols, rows, id="robustness"), "note": note}


def annotated_fields(path: str | Path) -> pd.DataFrame:
    """The settings of a scenario file that carry a comment (source or ASSUMPTION), with their line numbers.

    Columns: ``field`` (dotted), ``value`` (as written), ``note`` (the comment, with any ASSUMPTION
    comment of the lines just above), ``assumption`` (bool), ``line``.
    """
    path = Path(path)
    table, pending, rows = "", [], []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        s = line.strip()
        if s.startswith("["):
            table, pending = s.strip("[]").strip(), []
            continue
        if s.startswith("#"):
            text = s.lstrip("#").strip()
            if "ASSUMPTION" in text or pending:
                pending.append(text)
            continue
        m = re.match(r'^([A-Za-z0-9_"]+)\s*=\s*([^#]*?)\s*(?:#\s*(.*))?$', s)
        if not m:
            continue
        note = " ".join(pending + ([m.group(3)] if m.group(3) else []))
        pending = []
        if note:
            key = m.group(1).strip('"')
            rows.append({"field": f"{table}.{key}" if table else key, "value": m.group(2).rstrip("[{").strip() or "…",
                         "note": note, "assumption": "ASSUMPTION" in note, "line": n})
    return pd.DataFrame(rows, columns=["field", "value", "note", "assumption", "line"])


def base_file(bid) -> Path | None:
    """The base scenario file a bid file names (None for a bid built in Python)."""
    if bid.path is None:
        return None
    return Path(bid.path).parent / read_toml(Path(bid.path), "bid")["bid"]["base"]


def _default_sources() -> list[str]:
    doc = tables.__doc__.split("Sources\n-------\n", 1)[-1]
    return [re.sub(r"\s+", " ", b).strip() for b in doc.split("\n* ") if b.strip()]


def assumptions_blocks(cmp, lang: str, command: str = "") -> list[dict]:
    """Reproduction settings, the base scenario's sourced and assumed fields, and the default tables' sources."""
    o = cmp.outcomes[0]
    sc = o.bid.scenario
    repro = [label("版本", "Version", lang) + f": actuarial {__version__}",
             label("随机种子", "Seed", lang) + f": {cmp.seed}",
             label("模拟年数", "Simulated years", lang) + f": {cmp.years}",
             label("参保人数", "Insured persons", lang) + f": {o.result.insured:,}",
             label("基础方案", "Base scenario", lang) + f": {sc.programme.name} ({sc.programme.source or '—'})"]
    if command:
        repro.append(label("重现命令", "Command to reproduce", lang) + f": {command}")
    blocks = [{"kind": "list", "items": repro}]
    path = base_file(o.bid)
    if path is not None and path.is_file():
        t = annotated_fields(path)
        rows = [[Cell(r.field, cls="text"), Cell(r.value, cls="text"),
                 Cell(label("假设", "assumption", lang) if r.assumption else label("政策文本", "policy text", lang),
                      cls="text"), Cell(f"{path.name}:{r.line} — {r.note}", cls="text")] for r in t.itertuples()]
        cols = [label("字段", "Field", lang), label("取值", "Value", lang), label("类别", "Kind", lang),
                label("来源（文件:行）", "Source (file:line)", lang)]
        blocks += [{"kind": "heading", "zh": "基础方案的取值", "en": f"Settings of {path.name}"},
                   {"kind": "table", "table": Table(cols, rows, id="assumptions"), "note": ""}]
    blocks += [{"kind": "heading", "zh": "默认表的来源（actuarial/config/tables.py）", "en": "Defaults not in the file"},
               {"kind": "list", "items": _default_sources()}]
    return blocks


# --------------------------------------------------------------------------- the report
def add_bid_report(report, cmp, robust: pd.DataFrame | None = None, command: str = ""):
    """Add the committee's sections for ``cmp`` (a :class:`~actuarial.contract.bids.BidComparison`) to ``report``.

    ``robust`` is :func:`actuarial.report.bid_stats.robustness` (its section is left out when None); ``command``
    the command line that reproduces the report. Headings and chart labels follow ``report.lang``.
    """
    lang = report.lang
    blocks = [text_block(summary_text(cmp, lang), cls="summary")]
    if len(cmp.outcomes) > 1:
        blocks.append({"kind": "table", "table": _difference_table(cmp, lang), "note": _pm_note(lang)})
    report.add_section("摘要", "Summary", blocks, anchor="summary")
    report.add_section("评分与排名", "Scores and ranking", [weights_block(cmp, lang)], anchor="ranking-section")
    report.add_section("投标条款", "Bid terms", [terms_block(cmp, lang)], anchor="terms-section")
    comp = compliance_blocks(cmp, lang)
    report.add_section("合规性", "Compliance", comp, anchor="compliance")
    report.add_section("基金、保险机构与参保人的结果", "Outcomes for the fund, the insurer and beneficiaries",
                       outcome_tables(cmp, lang) + [{"kind": "heading", "zh": "年度赔付分布",
                                                     "en": "Annual claims distribution"}, chart_blocks(cmp, lang)],
                       anchor="outcomes")
    if robust is not None:
        report.add_section("排名的稳健性", "Robustness of the ranking", [robustness_block(robust, lang)],
                           anchor="robustness-section")
    report.add_section("假设、来源与重现", "Assumptions, sources and reproduction",
                       assumptions_blocks(cmp, lang, command), anchor="assumptions-section")
    return report


def workbook_tables(cmp, robust: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The report's tables for a workbook (raw numbers, units in the headers via :mod:`actuarial.report.excel`)."""
    tables = {"ranking": cmp.ranked(), "terms": bs.terms_table(cmp)}
    if len(cmp.outcomes) > 1:
        tables["paired_differences"] = bs.winner_vs_runner_up(cmp)
    comp = []
    for o in cmp.outcomes:
        comp.append(o.compliance().assign(bid=o.bid.name))
    tables["compliance"] = pd.concat(comp, ignore_index=True)
    if robust is not None:
        tables["robustness"] = robust.assign(ranking=[" > ".join(r) for r in robust.ranking])
    path = base_file(cmp.outcomes[0].bid)
    if path is not None and path.is_file():
        tables["assumptions"] = annotated_fields(path)
    return tables
