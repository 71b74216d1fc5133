"""``actuarial risk`` and the exact risk targets of ``actuarial calibrate``."""

from __future__ import annotations

import math

import pandas as pd

from ..contract.risk import (
    CAPITAL_LEVEL,
    COST_OF_CAPITAL_RATE,
    DEFAULT_QUANTILES,
    PROB_LOSS_ALPHA,
    calibrate_risk,
    risk_view,
)
from ..exact.pool import exact_limits
from ..scenario import Scenario
from .common import (
    UserError,
    add_common,
    check_new_files,
    emit,
    engine_options,
    scenario_from_args,
    write_output,
)


def calibrate_command(args, scenario: Scenario, kw: dict):
    """``actuarial calibrate --target percentile|prob_loss|cost_of_capital`` with the exact figures where
    they apply. Returns the exit status, or None to leave a simulated percentile to the classic path."""
    limits = exact_limits(scenario)
    if limits and args.target == "percentile":
        return None
    if limits:  # simulated years: about 20 of them beyond the quantile the target reads, as for percentiles

        tail = args.alpha if args.target == "prob_loss" else 1 - CAPITAL_LEVEL
        needed = math.ceil(20 / tail - 1e-9)
        if args.years < needed:
            raise UserError(f"--target {args.target}: the exact method does not apply ({limits[0].split(':')[0]}), and "
                            f"simulated years need --years >= {needed} (got {args.years})")
    kw = {k: v for k, v in kw.items() if k not in ("engine", "progress")}
    view = risk_view(scenario, quantiles=(), alpha=args.alpha, coc=args.coc, years=args.years, seed=args.seed,
                     engine=args.engine if args.engine != "brute" else "fast", progress=not args.no_progress and None,
                     **kw)
    est = calibrate_risk(view, args.target, args.percentile)
    label = {"percentile": f"percentile {args.percentile:g}", "prob_loss": f"P(insurer loss) <= {args.alpha:g}",
             "cost_of_capital": f"cost of capital {args.coc:g}"}[args.target]
    lo, hi = est.ci95
    payload = {"scenario": scenario.programme.name, "method": view.method, "limits": list(view.limits),
               "insured": view.insured, "combined_fee_rate": view.fee_rate, "target": label,
               "premium_per_capita": est.to_dict(), "current_premium_per_capita": view.premium_per_capita}
    if view.method == "simulation":
        payload.update(seed=args.seed, years=args.years)
    table = pd.DataFrame([{"group": "all", "premium_per_capita": est.value, "se": est.se, "ci95_low": lo,
                           "ci95_high": hi, "current_premium": view.premium_per_capita}])
    emit(payload, table, args.format, args.out, view.headline() + f"\nCalibrated premium ({label}): {est.value:.2f} "
         f"yuan per person-year (95% CI {lo:.2f} to {hi:.2f}); the scenario funds {view.premium_per_capita:.2f}.")
    return 0


def _levels(text: str) -> tuple[str, ...]:
    out = tuple(t.strip() for t in text.split(",") if t.strip())
    for t in out:
        try:
            ok = 0 < float(t) < 1
        except ValueError:
            ok = False
        if not ok:
            raise UserError(f"--quantiles: each level must be a number in (0, 1), separated by commas (got {t!r})")
    if not out:
        raise UserError("--quantiles: give at least one level, e.g. 0.99")
    return out


def _thresholds(items) -> tuple[str, ...]:
    for t in items or ():
        try:
            ok = math.isfinite(float(t)) and float(t) >= 0
        except ValueError:
            ok = False
        if not ok:
            raise UserError(f"--threshold: each must be an amount >= 0 yuan per capita (got {t!r})")
    return tuple(items or ())


def cmd_risk(args) -> int:
    check_new_files(out=args.out, png=args.png)
    qs, ts = _levels(args.quantiles), _thresholds(args.threshold)
    if args.nodes < 2:
        raise UserError(f"--nodes must be >= 2 (got {args.nodes})")
    if not 0 < args.alpha < 1:
        raise UserError(f"--alpha must be in (0, 1) (got {args.alpha})")
    if not 0 <= args.coc <= 1:
        raise UserError(f"--coc must be in [0, 1] (got {args.coc})")
    sc = scenario_from_args(args)
    with engine_options(args) as kw:
        kw = {k: v for k, v in kw.items() if k not in ("engine", "progress")}
        view = risk_view(sc, quantiles=qs, thresholds=ts, method=args.method, alpha=args.alpha, coc=args.coc,
                         nodes=args.nodes, years=args.years, seed=args.seed, engine=args.engine,
                         progress=False if args.no_progress else None, **kw)
    emit(view.to_dict(), view.summary(), args.format, args.out, view.headline())
    if args.png:
        import sys

        import matplotlib

        matplotlib.use("Agg")

        fig = view.plot().figure
        write_output(args.png, lambda p: fig.savefig(p, dpi=120, format="png"), "png")
        print(f"wrote {args.png}", file=sys.stderr)
    return 0


def add_parser(subparsers) -> None:
    """The ``actuarial risk SCENARIO`` subcommand."""
    p = subparsers.add_parser("risk", help="annual claims distribution of the whole pool (exact where it applies): "
                                           "quantiles, TVaR, exceedance, settlement, risk premiums")
    p.add_argument("scenario", help="scenario TOML file")
    add_common(p, years=100)
    p.set_defaults(engine="fast", func=cmd_risk)
    p.add_argument("--quantiles", default=",".join(DEFAULT_QUANTILES),
                   help="levels, comma-separated (default %(default)s)")
    p.add_argument("--threshold", nargs="+", default=None, metavar="YUAN",
                   help="amounts of annual claims per capita (yuan) for P(claims > amount)")
    p.add_argument("--method", choices=("auto", "exact", "simulation"), default="auto",
                   help="auto: exact where the method follows every rule, else simulated years (--years, --engine)")
    p.add_argument("--alpha", type=float, default=PROB_LOSS_ALPHA, help="P(insurer loss) target (default %(default)s)")
    p.add_argument("--coc", type=float, default=COST_OF_CAPITAL_RATE,
                   help="cost-of-capital rate on the 99.5%% shortfall (default %(default)s, an assumption)")
    p.add_argument("--nodes", type=int, default=5, help="Gauss-Hermite nodes per shocked normal (default %(default)s)")
    p.add_argument("--png", default=None, help="also save the distribution plot to this PNG (never overwrites)")
