"""``actuarial report``: the bilingual HTML report of scenarios and bids (and its workbook)."""

from __future__ import annotations

from pathlib import Path

from ..contract.bids import compare_bids
from ..report.bid_stats import robustness
from ..report.bids import add_bid_report, workbook_tables
from ..report.display import label
from ..report.excel import write_workbook
from ..report.page import BID_TITLE, TITLE, Report, scenario_report
from ..scenario import read_toml, validate_scenario
from .common import (
    UserError,
    add_simulation_options,
    check_new_files,
    engine_options,
    scenario_from_args,
)
from .compare import parse_weights


def cmd_report(args) -> int:
    import sys

    import matplotlib

    matplotlib.use("Agg")

    check_new_files(out=args.out, xlsx=args.xlsx)
    out = Path(args.out)
    parsed = [(path, read_toml(Path(path), "scenario")) for path in args.scenarios]  # bid files have a [bid] table
    bids = [path for path, data in parsed if "bid" in data]
    scenarios = [scenario_from_args(args, validate_scenario(data, source=path)) for path, data in parsed
                 if "bid" not in data]
    if args.xlsx and not bids:
        raise UserError("--xlsx: the workbook holds a bid comparison's tables; give bid files")
    title = BID_TITLE if bids and not scenarios else TITLE

    rep = Report(*title, subtitle=label(f"{args.years} 个模拟年，随机种子 {args.seed}",
                                        f"{args.years} simulated years, seed {args.seed}", args.lang), lang=args.lang)
    tables = {}
    with engine_options(args) as kw:
        if bids:

            cmp = compare_bids(bids, args.years, args.seed, parse_weights(args.weights), size=args.size, **kw)
            robust = robustness(cmp, **kw)
            add_bid_report(rep, cmp, robust, command=_command(args))
            tables = workbook_tables(cmp, robust)
            inputs = cmp.outcomes[0].bid.scenario
        scenario_report(scenarios, args.years, args.seed, report=rep, **kw)
    if args.xlsx:
        write_workbook(args.xlsx, tables, inputs=inputs,
                       settings={"seed": args.seed, "years": args.years, "size": args.size, "lang": args.lang})
        print(f"wrote {args.xlsx}", file=sys.stderr)
    try:
        rep.save(out)
    except FileExistsError as err:
        raise UserError(str(err)) from None
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _command(args) -> str:
    """The command line that reproduces the report's numbers (written from the parsed options, not argv)."""
    import shlex

    parts = ["actuarial", "report", *args.scenarios, "--seed", str(args.seed), "--years", str(args.years)]
    for opt in ("size", "weights"):
        if getattr(args, opt) is not None:
            parts += [f"--{opt}", str(getattr(args, opt))]
    parts += ["--engine", args.engine, "--lang", args.lang, "--out", "REPORT.html"]
    return " ".join(shlex.quote(p) for p in parts)


def add_parser(subparsers) -> None:
    """The ``report`` subcommand: a self-contained HTML report of one or more scenarios."""
    p = subparsers.add_parser("report", help="write a self-contained bilingual HTML report of scenarios and bids")
    p.add_argument("scenarios", nargs="+", help="scenario TOML files, and/or bid TOML files (with a [bid] table) "
                                                "to compare on one simulated population")
    p.add_argument("--out", required=True, help="HTML file to write (never overwrites)")
    p.add_argument("--lang", choices=("zh", "en", "both"), default="both",
                   help="headings and chart labels: Chinese, English or both, Chinese first (default %(default)s)")
    p.add_argument("--weights", default=None, help="committee weights for bids, criterion=w,... (default equal)")
    p.add_argument("--xlsx", default=None, help="also write the bid comparison's tables to this Excel workbook "
                                                "(never overwrites)")
    add_simulation_options(p)
    p.set_defaults(func=cmd_report)
