"""The ``actuarial`` command line: ``run``, ``calibrate`` and ``validate`` here, and the commands of
this package's modules (compare, report, sweep, backtest, risk, fit).

Output is a human table by default; ``--format json`` or ``--format csv`` for
scripts. JSON keys are stable and documented in the README. Errors in the
user's input print one clear message and exit with status 2.

All of the command line lives in this package, on top of the library: no module below it imports
it (tests/test_architecture.py). A command module defines ``add_parser(subparsers)`` and is listed
in :data:`COMMAND_MODULES`; shared helpers are in :mod:`actuarial.cli.common`.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys

import pandas as pd

from .. import __version__
from ..model.assistance import assistance_engine, assistance_floor
from ..results.calibration import calibrate_premium, solve_deductible, solve_tier_shift
from ..results.compliance import describe_failures
from ..results.households import catastrophic
from ..results.simulation import simulate
from ..scenario import ScenarioError, load_scenario
from .common import (  # noqa: F401  (re-exported)
    MAX_SEED,
    MAX_SIZE,
    OneLineParser,
    UserError,
    _jsonable,
    add_common,
    add_connect_timeout,
    add_simulation_options,
    check_counts,
    check_new_files,
    emit,
    engine_options,
    scenario_from_args,
    write_output,
)
from .risk import calibrate_command

COMMAND_MODULES: tuple[str, ...] = ("actuarial.cli.compare", "actuarial.cli.report", "actuarial.cli.sweep",
                                   "actuarial.cli.backtest", "actuarial.cli.risk", "actuarial.cli.fit")
"""Modules that add subcommands (each defines ``add_parser(subparsers)``), all in this package."""


def _headline(res) -> str:
    control = "; expected claims and beneficiaries with a control variate" if res.control_expected is not None else ""
    return (f"{res.scenario.programme.name}: {res.insured:,} insured x {res.years} simulated years, "
            f"seed {res.accumulations.seed}, {res.accumulations.engine} engine; estimates with Monte Carlo standard errors (se){control}.")


def cmd_run(args) -> int:
    sc = scenario_from_args(args)
    with engine_options(args) as kw:
        floor = assistance_floor(sc)  # rows down to the medical assistance deductible (actuarial.model.assistance)
        kw["engine"] = assistance_engine(sc, kw["engine"])
        res = simulate(sc, args.years, args.seed, **kw, **({} if floor is None else {"floor": floor}))
    payload = res.to_dict()
    if sc.households is not None:  # household catastrophic expenditure: its own pass over everyone

        payload.update(catastrophic(sc, args.years, args.seed, progress=kw["progress"]).to_dict())

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
    check_calibrate_options(args)
    sc = scenario_from_args(args)
    with engine_options(args) as kw:
        if args.solve == "deductible":
            sol = solve_deductible(sc, args.premium, args.years, args.seed, **kw)
        elif args.solve == "tiers":
            sol = solve_tier_shift(sc, args.premium, args.years, args.seed, **kw)
        else:
            sol = None
            if args.target != "break_even":  # the exact risk view where it applies (actuarial.contract.risk)

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
    parser = OneLineParser(prog="actuarial", description=(
        "Monte Carlo simulation, exact risk views and premium calibration for China's urban-rural residents' "
        "critical illness insurance (大病保险); each command's --help gives its options."))
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
