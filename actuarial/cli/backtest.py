"""``actuarial backtest``: the model's outputs beside published statistics."""

from __future__ import annotations

import argparse

from ..fitting.backtest import backtest, to_frame
from ..scenario import load_scenario
from .common import UserError, check_counts, check_new_files, emit


def add_parser(sub) -> None:
    """The ``backtest`` subcommand (registered through :data:`actuarial.cli.COMMAND_MODULES`)."""
    p = sub.add_parser("backtest", help="set the model's outputs beside published statistics (source, year, pass/fail)")
    p.add_argument("scenarios", nargs="*", help="scenario TOML files (default: every scenarios/*.toml)")
    p.add_argument("--size", type=int, default=131_072, help="people simulated per scenario (default %(default)s)")
    p.add_argument("--years", type=int, default=4, help="simulated years (default %(default)s)")
    p.add_argument("--seed", type=int, default=20240101, help="random seed (default %(default)s)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format")
    p.add_argument("--out", default=None, help="write output to this file (never overwrites)")
    p.set_defaults(func=cmd_backtest)


def cmd_backtest(args: argparse.Namespace) -> int:
    from pathlib import Path


    check_new_files(out=args.out)
    check_counts(args)
    paths = args.scenarios or sorted(str(p) for p in Path("scenarios").glob("*.toml"))
    if not paths:
        raise UserError("no scenario files given and none in scenarios/; name one or more TOML files")
    scenarios = [load_scenario(p) for p in paths]  # all validated before any simulating
    rows = [row for sc in scenarios for row in backtest(sc, args.size, args.years, args.seed)]
    table = to_frame(rows)
    shown = table.drop(columns="source") if args.format == "table" else table
    n_ok = sum(r["within_tolerance"] is True for r in rows)
    n_tested = sum(r["within_tolerance"] is not None for r in rows)
    headline = (f"Back-test: {n_ok} of {n_tested} model figures within the published tolerance "
                f"({args.size:,} people x {args.years} years per scenario, seed {args.seed}). "
                "Sources: --format json or csv.")
    emit({"seed": args.seed, "years": args.years, "size": args.size, "rows": rows}, shown, args.format, args.out,
         headline)
    return 0
