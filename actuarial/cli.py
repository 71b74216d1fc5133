"""The ``actuarial`` command line: ``run``, ``calibrate``, ``validate`` and the commands other modules add.

Output is a human table by default; ``--format json`` or ``--format csv`` for
scripts. JSON keys are stable and documented in the README. Errors in the
user's input print one clear message and exit with status 2.

Other modules add commands by defining ``add_parser(subparsers)`` and being
listed in :data:`COMMAND_MODULES`.
"""

from __future__ import annotations

import argparse
import importlib
from contextlib import contextmanager
import json
import math
import os
import sys
from pathlib import Path

import pandas as pd

from . import __version__
from . import preflight
from .atomic import write_new
from .rng import BLOCK_SIZE
from .scenario import Population, ScenarioError, load_scenario

MAX_SIZE = next(m.le for m in Population.model_fields["size"].metadata if getattr(m, "le", None))
"""Largest ``--size``: the scenario schema's bound on population.size."""

COMMAND_MODULES: tuple[str, ...] = ("actuarial.compare", "actuarial.report", "actuarial.sweep", "actuarial.backtest",
                                   "actuarial.risk", "actuarial.fit_cli")
"""Modules that add subcommands (each defines ``add_parser(subparsers)``)."""


from .errors import UserError  # noqa: E402  (re-exported: its old home)


def _jsonable(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if hasattr(x, "item"):
        return _jsonable(x.item())
    return x


def check_new_files(**options: str | None) -> None:
    """Refuse, before any work, output paths that exist or that two options share (nothing is overwritten).

    >>> check_new_files(out="a.json", png="a.json")
    Traceback (most recent call last):
    ...
    actuarial.errors.UserError: --out and --png name the same file a.json; give each its own
    """
    given = {opt: Path(p) for opt, p in options.items() if p}
    for opt, path in given.items():
        if path.exists():
            raise UserError(f"{path}: already exists; choose another --{opt} (nothing was overwritten)")
        parent = path.parent
        if not parent.is_dir():
            why = "is a file, not a folder" if parent.exists() else "no such folder"
            raise UserError(f"--{opt} {path}: the folder {parent} {why}; create it or choose another path")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise UserError(f"--{opt} {path}: the folder {parent} is not writable; choose another path")
    seen: dict[Path, str] = {}
    for opt, path in given.items():
        key = path.resolve()
        if key in seen:
            raise UserError(f"--{seen[key]} and --{opt} name the same file {path}; give each its own")
        seen[key] = opt


def write_output(path: str | Path, content, option: str) -> Path:
    """Write an output file atomically (:func:`actuarial.atomic.write_new`): complete or absent, never
    overwriting; a failure (a full disk) is a :class:`UserError` naming ``--option`` and leaves nothing behind."""
    try:
        return write_new(path, content)
    except FileExistsError:
        raise UserError(f"{path}: already exists; choose another --{option} (nothing was overwritten)") from None
    except OSError as err:
        raise UserError(f"--{option} {path}: could not be written ({err.strerror or err}); nothing was left "
                        "behind, so the same command can be run again") from None


def emit(payload: dict, table: pd.DataFrame, fmt: str, out: str | None = None, headline: str = "", inputs=None) -> None:
    """Write ``payload`` as JSON, or ``table`` as CSV or a human table (after ``headline``), to ``out`` or stdout;
    ``xlsx``: a workbook of the tables and ``inputs`` (a scenario or dict) at ``out`` (:mod:`actuarial.excel`)."""
    if fmt == "xlsx":
        from .excel import write_xlsx

        return write_xlsx(out, payload, table, inputs)
    if fmt == "json":
        text = json.dumps(_jsonable(payload), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "csv":
        text = table.to_csv(index=False)
    else:
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            text = table.to_string(index=False, float_format=lambda v: f"{v:,.4f}") + "\n"
        if headline:
            text = headline + "\n\n" + text
    if out:
        check_new_files(out=out)  # again: the file may have appeared while simulating
        path = Path(out)
        write_output(path, text, "out")
        print(f"wrote {path}", file=sys.stderr)
    else:
        sys.stdout.write(text)


MAX_SEED = 2**63 - 1
"""Largest seed: seeds are stored in int64 columns (sweep results)."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad option is one line naming the option (no usage block), exit status 2."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def add_simulation_options(p: argparse.ArgumentParser, years: int = 20) -> None:
    """Options of every simulating command: seed, years, size, engine, workers, progress."""
    p.add_argument("--seed", type=int, default=20240101, help="random seed (default: %(default)s)")
    p.add_argument("--years", type=int, default=years, help="simulated years (default: %(default)s)")
    p.add_argument("--size", type=int, default=None, help="override population.size (insured persons)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--engine", choices=("auto", "brute", "fast", "gpu"), default="auto",
                   help="auto (default): the fastest engine whose rules cover the scenario (fast, else brute); "
                        "brute: every person simulated; fast: exact sampling of those reaching the deductible; "
                        "gpu: brute force on CuPy when a GPU is usable, else numpy")
    p.add_argument("--workers", type=int, default=1, help="Dask workers on this machine (default 1: in process)")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address (tcp://HOST:8786) for a cluster")
    add_connect_timeout(p)


def add_connect_timeout(p: argparse.ArgumentParser) -> None:
    """``--connect-timeout``: how long to wait for a ``--scheduler`` before refusing."""
    p.add_argument("--connect-timeout", type=float, default=5.0, metavar="SECONDS",
                   help="seconds to wait for the --scheduler to answer (default %(default)s)")


def add_common(p: argparse.ArgumentParser, years: int = 20) -> None:
    """The simulation options plus ``--format`` and ``--out``."""
    add_simulation_options(p, years)
    p.add_argument("--format", choices=("table", "json", "csv", "xlsx"), default="table",
                   help="output format (xlsx: an Excel workbook, needs --out)")
    p.add_argument("--out", default=None, help="write output to this file (never overwrites)")


def check_counts(args) -> None:
    """``--years``, ``--workers`` and ``--size`` (where the command has them) must be ≥ 1, checked before any work."""
    for name in ("years", "workers", "size"):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            raise UserError(f"--{name} must be >= 1 (got {value})")
    if getattr(args, "format", None) == "xlsx" and not getattr(args, "out", None):
        raise UserError("--format xlsx writes a workbook: give --out FILE.xlsx")
    size = getattr(args, "size", None)
    if size is not None and size > MAX_SIZE:
        raise UserError(f"--size must be >= 1 and <= {MAX_SIZE:_} insured persons (got {size})")
    seed = getattr(args, "seed", None)
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise UserError(f"--seed must be >= 0 and <= 2**63 - 1 (got {seed})")
    timeout = getattr(args, "connect_timeout", None)
    if timeout is not None and not (math.isfinite(timeout) and 0 < timeout <= 3600):
        raise UserError(f"--connect-timeout must be > 0 and <= 3600 seconds (got {timeout})")


@contextmanager
def engine_options(args):
    """Keyword arguments for :func:`actuarial.engine.accumulate` from the common options.

    With ``--workers`` > 1 or ``--scheduler`` the blocks run on Dask; the numbers do not change.
    """
    check_counts(args)
    kw = {"engine": args.engine, "progress": False if args.no_progress else None}
    if args.workers == 1 and not args.scheduler:
        yield kw
        return
    from .parallel import DaskMap

    with DaskMap(workers=args.workers, scheduler=args.scheduler, timeout=args.connect_timeout) as dmap:
        yield {**kw, "map_fn": dmap, "chunk_size": BLOCK_SIZE}  # one block per task keeps workers busy


def scenario_from_args(args, scenario=None):
    """``args.scenario`` loaded (or the given, already validated ``scenario``), with ``--size`` applied,
    after checking the output file and the counts."""
    check_new_files(out=getattr(args, "out", None))
    check_counts(args)
    sc = scenario if scenario is not None else load_scenario(args.scenario)
    if getattr(args, "size", None) is not None:
        sc = sc.replace(**{"population.size": args.size})
    preflight.check_run(sc, args.years, args.engine, args.workers)  # before any work: memory and replicates
    return sc


def _headline(res) -> str:
    control = "; expected claims and beneficiaries with a control variate" if res.control_expected is not None else ""
    return (f"{res.scenario.programme.name}: {res.insured:,} insured x {res.years} simulated years, "
            f"seed {res.accumulations.seed}, {res.accumulations.engine} engine; estimates with Monte Carlo standard errors (se){control}.")


def cmd_run(args) -> int:
    from .results import simulate

    sc = scenario_from_args(args)
    with engine_options(args) as kw:
        from .assistance import assistance_engine, assistance_floor

        floor = assistance_floor(sc)  # rows down to the medical assistance deductible (actuarial.assistance)
        kw["engine"] = assistance_engine(sc, kw["engine"])
        res = simulate(sc, args.years, args.seed, **kw, **({} if floor is None else {"floor": floor}))
    payload = res.to_dict()
    if sc.households is not None:  # household catastrophic expenditure: its own pass over everyone
        from .households import catastrophic

        payload.update(catastrophic(sc, args.years, args.seed, progress=kw["progress"]).to_dict())
    from .compliance import describe_failures

    checks = res.compliance()
    failed = describe_failures(checks)
    open_checks = ", ".join(checks.loc[checks["passed"].isna(), "check"])
    note = failed or (f"Compliance: {int(checks['passed'].sum())} legal checks pass"
                      + (f"; not decided (no data, or the 95 % CI straddles the limit): {open_checks}." if open_checks else "."))
    emit(payload, res.summary(), args.format, args.out, _headline(res) + "\n" + note, inputs=sc)
    if failed and args.format != "table":
        print(failed, file=sys.stderr)
    return 0


def check_calibrate_options(args) -> None:
    """Refuse options the chosen calibration would silently ignore, and out-of-range values, before any work."""
    if args.percentile is not None and args.target != "percentile":
        raise UserError(f"--percentile {args.percentile:g} is used only with --target percentile "
                        f"(this run uses --target {args.target}); drop it or add --target percentile")
    if args.percentile is not None and not 0 < args.percentile < 1:
        raise UserError(f"--percentile must be > 0 and < 1, a fraction such as 0.9 (got {args.percentile:g})")
    if args.premium is not None and args.solve == "premium":
        raise UserError(f"--premium {args.premium:g} is used only with --solve deductible or --solve tiers "
                        "(this run calibrates the premium); drop it or add --solve")
    if args.premium is not None and not (math.isfinite(args.premium) and args.premium > 0):
        raise UserError(f"--premium must be a finite number > 0 yuan per person-year (got {args.premium:g})")
    if args.percentile is None:
        args.percentile = 0.9


def cmd_calibrate(args) -> int:
    from .calibration import calibrate_premium, solve_deductible, solve_tier_shift

    check_calibrate_options(args)
    sc = scenario_from_args(args)
    with engine_options(args) as kw:
        if args.solve == "deductible":
            sol = solve_deductible(sc, args.premium, args.years, args.seed, **kw)
        elif args.solve == "tiers":
            sol = solve_tier_shift(sc, args.premium, args.years, args.seed, **kw)
        else:
            sol = None
            if args.target != "break_even":  # the exact risk view where it applies (actuarial.risk)
                from .risk import calibrate_command

                status = calibrate_command(args, sc, kw)
                if status is not None:
                    return status
            cal = calibrate_premium(sc, args.target, args.percentile, args.years, args.seed, **kw)
    if sol is not None:
        payload = {"scenario": sc.programme.name, "seed": args.seed, "engine": sol.result.accumulations.engine,
                   "years": args.years, **sol.to_dict(),
                   "claims_per_capita": sol.result.claims_per_capita().to_dict()}
        table = pd.DataFrame([{"parameter": sol.parameter, "estimate": sol.value, "ci95_low": sol.ci95[0],
                               "ci95_high": sol.ci95[1], "premium_per_capita": sol.premium}])
        emit(payload, table, args.format, args.out, inputs=sc)
        return 0
    res = cal.result
    payload = {"scenario": sc.programme.name, "seed": args.seed, "engine": res.accumulations.engine,
               "years": args.years, "insured": res.insured, "combined_fee_rate": res.combined_fee_rate,
               **cal.to_dict(), "claims_per_capita": res.claims_per_capita().to_dict(),
               "loss_ratio_at_current_premium": res.loss_ratio().to_dict()}
    table = cal.table().rename(columns={"premium": "premium_per_capita"})
    lo, hi = cal.ci95
    headline = (f"{_headline(res)}\nCalibrated premium ({cal.target}): {cal.premium:.2f} yuan per person-year "
                f"(95% CI {lo:.2f} to {hi:.2f}); the scenario funds {cal.current_premium:.2f}.")
    emit(payload, table, args.format, args.out, headline, inputs=sc)
    return 0


def cmd_validate(args) -> int:
    ok = True
    for path in args.scenarios:
        try:
            sc = load_scenario(path)
            print(f"ok    {path}: {sc.programme.name}")
        except ScenarioError as err:
            ok = False
            print(f"error {err}", file=sys.stderr)
    return 0 if ok else 2


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="actuarial", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"actuarial {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="simulate a scenario and print the headline figures with standard errors")
    p.add_argument("scenario", help="scenario TOML file")
    add_common(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("calibrate", help="calibrate the per-capita premium (or solve the design a premium affords)")
    p.add_argument("scenario", help="scenario TOML file")
    add_common(p)
    p.add_argument("--target", choices=("break_even", "percentile", "prob_loss", "cost_of_capital"), default="break_even",
                   help="percentile, prob_loss and cost_of_capital use the exact pool law where it applies (actuarial risk)")
    p.add_argument("--alpha", type=float, default=0.1, help="with --target prob_loss: P(insurer loss) <= alpha")
    p.add_argument("--coc", type=float, default=0.06,
                   help="with --target cost_of_capital: cost-of-capital rate (an assumption; default %(default)s)")
    p.add_argument("--percentile", type=float, default=None, help="with --target percentile (default 0.9)")
    p.add_argument("--solve", choices=("premium", "deductible", "tiers"), default="premium",
                   help="premium (default), or the deductible / tier shift that --premium affords")
    p.add_argument("--premium", type=float, default=None,
                   help="yuan per person-year, with --solve deductible or tiers (default: the scenario's)")
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("validate", help="check scenario files and report every problem")
    p.add_argument("scenarios", nargs="+", help="scenario TOML files")
    p.set_defaults(func=cmd_validate)

    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    # ScenarioError and UserError are ValueErrors, as are parameters out of range (e.g. a solver
    # bracket); a ConnectionError is e.g. a --scheduler that names no reachable Dask scheduler.
    except (ValueError, ConnectionError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # e.g. a full disk while writing: one line, and atomic outputs left nothing behind
        where = f"{err.filename}: " if getattr(err, "filename", None) else ""
        print(f"error: {where}{err.strerror or err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
