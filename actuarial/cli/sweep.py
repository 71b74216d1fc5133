"""``actuarial sweep``: run or resume a sensitivity sweep and print or plot its table."""

from __future__ import annotations

import sys
from pathlib import Path

from ..engines.preflight import check_replicates
from ..sweep import Sweep, SweepResult, load_sweep, run_sweep
from .common import (
    UserError,
    add_connect_timeout,
    check_counts,
    check_new_files,
    emit,
    write_output,
)


def add_parser(subparsers) -> None:
    """``actuarial sweep SWEEP.toml``: run (or resume) a sweep, print the results, optionally plot."""
    p = subparsers.add_parser("sweep", help="run or resume a sensitivity sweep (tornado, grid, LHS) from a TOML file")
    p.add_argument("sweep", help="sweep TOML file (see scenarios/sweeps/)")
    p.add_argument("--dir", default=None,
                   help="output directory (default: ./<sweep file name>-sweep); re-running resumes")
    p.add_argument("--workers", type=int, default=1, help="Dask workers running points in parallel (default 1)")
    p.add_argument("--threads", action="store_true", help="thread workers instead of processes")
    p.add_argument("--scheduler", default=None, help="address of a running Dask scheduler, e.g. tcp://host:8786")

    add_connect_timeout(p)
    p.add_argument("--plot", default=None, help="write a tornado chart (tornado) or heat map (grid of 2) to this PNG")
    p.add_argument("--format", choices=("table", "json", "csv", "xlsx"), default="table",
                   help="output format (xlsx: an Excel workbook, needs --out)")
    p.add_argument("--out", default=None, help="write the table / JSON to this file (never overwrites)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=cmd_sweep)


def _plottable(sweep: Sweep) -> bool:
    return sweep.design == "tornado" or len(sweep.parameters) == 2


def cmd_sweep(args) -> int:
    sweep = load_sweep(args.sweep)
    check_counts(args)
    check_new_files(out=args.out, plot=args.plot)
    if args.plot and not _plottable(sweep):
        raise UserError(f"--plot {args.plot}: draws a tornado (tornado design) or a heat map (exactly two "
                        f"parameters); this sweep is a {sweep.design} of {len(sweep.parameters)} parameters")
    directory = Path(args.dir) if args.dir else Path(f"{Path(args.sweep).stem}-sweep")
    if directory.exists() and not directory.is_dir():
        raise UserError(f"--dir {directory}: is a file, not a directory; choose another output directory")

    try:  # a sweep may be run for its estimates alone: warn, do not refuse
        check_replicates(min(sweep.scenarios(), key=lambda sc: sc.population.size), sweep.years, sweep.source)
    except UserError as err:
        print(f"warning: {err}; the standard errors will be NaN", file=sys.stderr)
    res = run_sweep(sweep, directory, workers=args.workers, processes=not args.threads,
                    scheduler=args.scheduler, progress=False if args.no_progress else None,
                    connect_timeout=args.connect_timeout)
    if args.plot:
        _plot(res, args.plot)
    payload = {"sweep": str(args.sweep), "design": sweep.design, "points": int(res.table.point.nunique()),
               "years": sweep.years, "seed": sweep.seed, "common_random_numbers": sweep.crn,
               "directory": str(directory), "results": res.table.to_dict("records")}
    emit(payload, res.summary(), args.format, args.out, inputs=sweep.definition())
    return 0


def _plot(res: SweepResult, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")

    names = res.parameter_names
    if res.sweep.design == "tornado":
        ax = res.plot_tornado()
    elif len(names) == 2:
        ax = res.plot_heatmap(names[0], names[1])
    else:
        raise UserError("--plot draws a tornado (tornado design) or a heat map (exactly two parameters)")
    ax.figure.tight_layout()

    write_output(path, lambda p: ax.figure.savefig(p, dpi=120, format="png"), "plot")
