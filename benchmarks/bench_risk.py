"""Benchmark (a script, not a test): the exact risk view of a 5-million-insured provincial city, and an exact
Latin-hypercube sweep, against the fast engine's simulated years.

    PYTHONPATH=. python benchmarks/bench_risk.py                   # about 2-4 minutes on 2 cores
    PYTHONPATH=. python benchmarks/bench_risk.py --sweep-points 1000 --workers 2   # the full sweep

The city is the provincial guideline at 5,000,000 insured with the basic annual cap lifted (1e9 yuan):
the one rule of the bundled scenario the exact method does not follow (see ``actuarial.exact.pool``).

1. Full risk summary (mean, sd, 5 quantiles, 5 TVaRs, exceedances, settlement, three premiums), in
   process, without shocks and with frequency/severity shocks of sd 0.1/0.1.
2. The fast engine's cost for the same 99th percentile to ±0.05 yuan (half-width of its 95 % CI):
   the years needed follow from the exact law (Var of a sample quantile ≈ q(1−q)/(n f(x_q)²)); the
   time per simulated year is measured on a few years; their product is the fast engine's time.
3. The exact LHS sweep over utilisation, severity and deductible (``engine = "exact"``); with fewer
   points than 1,000 the time is extrapolated linearly (each point is independent).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actuarial import load_scenario, simulate  # noqa: E402
from actuarial.contract.risk import risk_view  # noqa: E402
from actuarial.sweep import Parameter, Sweep, run_sweep  # noqa: E402

Z95 = 1.959963984540054


def city(shocks: float = 0.0):
    sc = load_scenario(ROOT / "scenarios" / "provincial_guideline.toml")
    return sc.replace(**{"population.size": 5_000_000, "basic.annual_cap": 1e9,
                         "claims.shocks.frequency_sd": shocks, "claims.shocks.severity_sd": shocks})


def timed_view(sc, repeat: int):
    """Best wall time and its CPU time (the machine may be shared: CPU time is what this process used)."""
    best, cpu, view = math.inf, math.inf, None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        view = risk_view(sc, thresholds=("24", "25", "30"))
        view.to_dict()
        if time.perf_counter() - t < best:
            best, cpu = time.perf_counter() - t, time.process_time() - c
    return best, cpu, view


def fast_cost(sc, view, years_probe: int) -> tuple[float, int, float]:
    """(seconds per simulated year, years for the 99th percentile to ±0.05, total seconds)."""
    d = view.dist
    q = d.quantile(0.99)
    near = np.abs(d.values - q) < 0.02
    density = d.pmf[near].sum() / (near.sum() * d.step / d.insured)
    years = math.ceil(0.99 * 0.01 * (Z95 / (0.05 * density)) ** 2)
    t = time.perf_counter()
    simulate(sc, years=years_probe, seed=1, engine="fast", progress=False)
    per_year = (time.perf_counter() - t) / years_probe
    return per_year, years, per_year * years


def sweep_time(points: int, workers: int) -> float:
    base = city()
    sw = Sweep(base=base, design="lhs", samples=points, seed=7, engine="exact",
               outputs=("claims_per_capita", "break_even_premium", "claims_q99", "claims_tvar995",
                        "prob_loss_premium", "cost_of_capital_premium"),
               parameters=[Parameter(name="utilisation", path="claims.streams.*.episodes_by_age", mode="scale",
                                     low=0.85, high=1.15),
                           Parameter(name="severity", path="claims.streams.*.severity.*.mean", mode="scale",
                                     low=0.85, high=1.15),
                           Parameter(name="deductible", path="cii.deductible", low=6000, high=10000)])
    t = time.perf_counter()
    run_sweep(sw, workers=workers, progress=False)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--probe-years", type=int, default=3, help="fast-engine years timed per case")
    ap.add_argument("--sweep-points", type=int, default=50)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--no-fast", action="store_true", help="skip the fast-engine comparison")
    args = ap.parse_args()
    rows = []
    for shocks in (0.0, 0.1):
        sc = city(shocks)
        secs, cpu, view = timed_view(sc, args.repeat if shocks == 0 else 1)
        d = view.to_dict()
        acpc = d["annual_claims_per_capita"]
        line = (f"shocks {shocks:.1f}/{shocks:.1f}: exact risk summary {secs:.2f} s wall ({cpu:.2f} s CPU); mean {acpc['mean']:.4f}, "
                f"sd {acpc['sd']:.4f}, q99 {acpc['quantiles']['0.99']:.4f}, q99.5 {acpc['quantiles']['0.995']:.4f}, "
                f"TVaR99.5 {acpc['tvar']['0.995']:.4f} yuan per capita; aliasing <= {d['accuracy']['aliasing_bound']:.1e}, "
                f"shock error {d['accuracy']['shock_error_per_capita']:.1e}")
        print(line, flush=True)
        if not args.no_fast:
            per_year, years, total = fast_cost(sc, view, args.probe_years)
            print(f"    fast engine: {per_year:.2f} s per simulated year x {years:,} years for q99 +/-0.05 "
                  f"= {total:,.0f} s; ratio {total / secs:,.0f}x", flush=True)
            rows.append((shocks, secs, per_year, years, total))
    import os

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    c = time.process_time()
    t = sweep_time(args.sweep_points, args.workers)
    c = time.process_time() - c
    print(f"exact LHS sweep, {args.sweep_points} points at 5M insured, {args.workers} worker(s): {t:.1f} s wall, "
          f"{c:.1f} s CPU in this process "
          f"({t / args.sweep_points:.2f} s per point; 1,000 points ~ {1000 * t / args.sweep_points / 60:.1f} min)")


if __name__ == "__main__":
    main()
