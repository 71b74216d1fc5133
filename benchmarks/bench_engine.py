"""Benchmarks (scripts, not tests): engine throughput against a plain-numpy baseline, the time to a
precise break-even premium for a 5-million-insured city, and sweep throughput with 1 and 2 workers.

    PYTHONPATH=. python benchmarks/bench_engine.py                 # about 2-4 minutes on 2 cores
    PYTHONPATH=. python benchmarks/bench_engine.py --engine fast --city --workers 2
    PYTHONPATH=. python benchmarks/bench_engine.py --engine gpu --xp cupy --size 10000000 --years 20 --no-sweep

The baseline is the script an analyst would write first: one generator, the whole
population at once, per-episode arrays, ``np.add.at`` into per-person totals, inverse-CDF
severities. It draws differently from the engine (other streams, other methods), so the two
agree in expectation only; the output prints both estimates, their standard errors and the
z-score of the difference.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy import special

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actuarial import load_scenario  # noqa: E402
from actuarial.engines.engine import accumulate  # noqa: E402
from actuarial.estimates import Z95, ratio_estimate  # noqa: E402
from actuarial.results.simulation import evaluate  # noqa: E402
from actuarial.scenario import LEVELS, SCHEMES, Scenario  # noqa: E402
from actuarial.config import tables  # noqa: E402
from actuarial.backend import BackendError, get_array_module  # noqa: E402

GUIDELINE = ROOT / "scenarios" / "provincial_guideline.toml"
TORNADO = ROOT / "scenarios" / "sweeps" / "provincial_tornado.toml"


# --------------------------------------------------------------------------- plain-numpy baseline
def _check_supported(sc: Scenario) -> None:
    """The baseline covers the features the provincial guideline uses; refuse anything else."""
    cii, claims, pop = sc.cii, sc.claims, sc.population
    unsupported = {
        "shocks": claims.shocks.enabled, "regions": len(pop.regions) > 1 or pop.regions[0].cost_factor != 1,
        "poverty": any(pop.poverty_rate_percent.values()), "cii.locations": bool(cii.locations),
        "cii.scope": bool(cii.scope), "cii.includes_basic_deductible": cii.includes_basic_deductible,
        # B/C self-pay is taken here on the out-of-pocket; the item-cost reading (the default) is not modelled
        "cii.category_bc_base = item_cost with B/C self-pay": cii.category_bc_base == "item_cost" and (
            cii.category_b_self_pay_percent > 0 or cii.category_c_self_pay_percent > 0),
    }
    bad = [k for k, v in unsupported.items() if v]
    if bad:
        raise SystemExit(f"the numpy baseline does not model {bad}; use the provincial guideline")


def _severity(rng: np.random.Generator, spec, n: int) -> np.ndarray:
    """Cost per episode (yuan), by inverse CDF for the lognormal body and Pareto tail."""
    sigma = math.sqrt(math.log1p(spec.cv ** 2))
    mu = math.log(spec.mean) - sigma ** 2 / 2
    if spec.family == "gamma":
        shape = 1 / spec.cv ** 2
        return rng.gamma(shape, spec.mean / shape, n)
    u = rng.random(n)
    x = np.exp(mu + sigma * special.ndtri(u))
    if spec.family == "spliced_pareto":
        p = special.ndtr(-(math.log(spec.threshold) - mu) / sigma)  # lognormal mass above the threshold
        tail = u > 1 - p
        x[tail] = spec.threshold * ((1 - u[tail]) / p) ** (-1 / spec.alpha)
    return x


def baseline_claims(sc: Scenario, years: int, seed: int) -> tuple[float, float]:
    """CII claims per insured person-year (yuan) and its standard error, person by person-year."""
    _check_supported(sc)
    rng = np.random.default_rng(seed)
    pop, claims, basic, cii = sc.population, sc.claims, sc.basic, sc.cii
    n = pop.size
    shares = np.array(pop.age_shares)
    age = np.array(tables.AGE_BAND_STARTS)[rng.choice(len(shares), n, p=shares / shares.sum())] + rng.integers(0, 5, n)
    female = rng.random(n) < pop.female_share
    scheme = rng.choice(len(SCHEMES), n, p=[pop.scheme_shares.get(s, 0.0) for s in SCHEMES])
    band = np.searchsorted(tables.UTILISATION_BANDS, age, side="right") - 1
    factor = 1 - (claims.category_b_percent * cii.category_b_self_pay_percent
                  + claims.category_c_percent * cii.category_c_self_pay_percent) / 1e4
    benefit_total = np.zeros(n)  # over the simulated years, per person
    for _ in range(years):
        compliant, paid, deductible_part = np.zeros(n), np.zeros(n), np.zeros(n)
        for st in claims.streams:
            has = np.ones(n, bool)
            if st.prevalence < 1 or st.prevalence_age_factor is not None:
                age_factor = np.ones(7) if st.prevalence_age_factor is None else np.array(st.prevalence_age_factor)
                has = rng.random(n) < st.prevalence * age_factor[band]
            mean = np.array(st.episodes_by_age)[band] * np.where(female, st.female_factor, 1.0)
            mean *= np.array([st.scheme_factor.get(s, 1.0) for s in SCHEMES])[scheme]
            mean = np.where(has, mean, 0.0)
            if st.dispersion > 0:
                r = 1 / st.dispersion
                count = rng.negative_binomial(r, r / (r + mean))
            else:
                count = rng.poisson(mean)
            person = np.repeat(np.arange(n), count)
            mix = np.array([st.level_mix.get(lv, 0.0) for lv in LEVELS])
            level = rng.choice(len(LEVELS), person.size, p=mix / mix.sum())
            cost = np.zeros(person.size)
            for li, lv in enumerate(LEVELS):
                sel = level == li
                if sel.any():
                    cost[sel] = _severity(rng, st.severity[lv], int(sel.sum()))
            comp = cost * np.array([claims.compliant_percent.get(lv, 100.0) / 100 for lv in LEVELS])[level]
            if st.setting == "inpatient":
                ded = np.array([basic.inpatient[lv].deductible if lv in basic.inpatient else 0 for lv in LEVELS])[level]
                coins = np.array([basic.inpatient[lv].coinsurance if lv in basic.inpatient else 0 for lv in LEVELS])[level]
            else:
                ded, coins = basic.outpatient.deductible, basic.outpatient.coinsurance
            own = np.minimum(comp, ded)
            np.add.at(compliant, person, comp)
            np.add.at(paid, person, coins * (comp - own))
            np.add.at(deductible_part, person, own)
        paid = np.minimum(paid, basic.annual_cap)
        x = factor * (compliant - paid - deductible_part)  # CII accumulation, basic deductible excluded
        pay = np.zeros(n)
        edges = [t.above for t in cii.tiers] + [math.inf]
        for j, tier in enumerate(cii.tiers):
            lo, hi = max(edges[j], cii.deductible), max(edges[j + 1], cii.deductible)
            pay += tier.rate * np.clip(x - lo, 0.0, hi - lo)
        benefit_total += np.minimum(pay, cii.cap)
    per_year = benefit_total / years  # people are the independent units (same people every year)
    return float(per_year.mean()), float(per_year.std(ddof=1) / math.sqrt(n))


# --------------------------------------------------------------------------- engine
def engine_kwargs(engine: str, xp: str = "auto", batch_blocks: int | None = None) -> dict:
    """Keyword arguments of accumulate for ``engine`` (gpu: also ``xp`` and the batch size)."""
    if engine == "gpu":
        return {"engine": "gpu", "xp": xp, "chunk_size": batch_blocks and batch_blocks * 65_536}
    return {"engine": engine}


def run_engine(sc: Scenario, years: int, seed: int, engine: str, map_fn=None, **kw):
    if engine == "gpu":  # CuPy compiles its kernels on first use: warm up on one block-year, untimed
        accumulate(sc.replace(**{"population.size": 65_536}), 1, seed, progress=False, **engine_kwargs(engine, **kw))
    t0 = time.perf_counter()
    res = evaluate(accumulate(sc, years, seed, progress=False, map_fn=map_fn, **engine_kwargs(engine, **kw)))
    return res, time.perf_counter() - t0


def sweep_throughput(args) -> None:
    """The example tornado at a smaller size: in process, then on Dask worker processes and threads."""
    from actuarial.engines.parallel import DaskMap
    from actuarial.sweep import load_sweep, run_sweep

    size, years = args.sweep_size, 4
    sw = load_sweep(TORNADO)
    sw = sw.model_copy(update={"base": sw.base.replace(**{"population.size": size}), "years": years})
    n_points = len(sw.points())
    n_py = n_points * size * years
    print(f"sweep: {TORNADO.name}, {n_points} points x {size:,} insured x {years} years")
    t0 = time.perf_counter()
    serial = run_sweep(sw, progress=False)
    sdt = time.perf_counter() - t0
    line("1 worker (in process): time (s)", f"{sdt:.1f} ({60 * n_points / sdt:.1f} points/min, "
         f"{n_py / sdt:,.0f} person-years/s)")
    for processes in (True, False):
        kind = "processes" if processes else "threads"
        t0 = time.perf_counter()
        with DaskMap(workers=args.workers, processes=processes) as dmap:
            dmap.client.run(importlib.import_module, "actuarial.results.simulation")  # workers' imports count as start-up
            start = time.perf_counter() - t0
            t1 = time.perf_counter()
            par = run_sweep(sw, map_fn=dmap, progress=False)
            pdt = time.perf_counter() - t1
        line(f"{args.workers} Dask worker {kind}: time (s)", f"{pdt:.1f} ({60 * n_points / pdt:.1f} points/min, "
             f"{n_py / pdt:,.0f} person-years/s) + {start:.1f} s start-up")
        line("  same numbers as 1 worker", str(serial.table.equals(par.table)))


def line(label: str, value: str) -> None:
    print(f"  {label:<44} {value}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--engine", choices=("brute", "fast", "gpu"), default="brute", help="engine passed to accumulate")
    ap.add_argument("--xp", choices=("auto", "numpy", "cupy"), default="auto", help="array backend of --engine gpu")
    ap.add_argument("--batch-blocks", type=int, default=None, help="--engine gpu: blocks of 65,536 people per batch")
    ap.add_argument("--size", type=int, default=1_000_000, help="insured persons (default %(default)s)")
    ap.add_argument("--years", type=int, default=3, help="engine simulated years (default %(default)s)")
    ap.add_argument("--baseline-years", type=int, default=2, help="baseline simulated years (default %(default)s)")
    ap.add_argument("--seed", type=int, default=20240101)
    ap.add_argument("--city", action="store_true", help="run the 5M-insured city to a 0.05-yuan CI (minutes)")
    ap.add_argument("--city-size", type=int, default=5_000_000)
    ap.add_argument("--city-years", type=int, default=None,
                    help="with --city: simulate only this many years and project the full time")
    ap.add_argument("--workers", type=int, default=2,
                    help="Dask workers for --city (1: in process) and the sweep (default 2)")
    ap.add_argument("--threads", action="store_true", help="--city on Dask worker threads, not processes")
    ap.add_argument("--no-sweep", action="store_true", help="skip the sweep throughput")
    ap.add_argument("--sweep-size", type=int, default=400_000, help="insured per sweep point (default %(default)s)")
    args = ap.parse_args(argv)

    sc = load_scenario(GUIDELINE).replace(**{"population.size": args.size})
    try:
        backend = f" (xp={get_array_module(args.xp).__name__})" if args.engine == "gpu" else ""
    except BackendError as e:
        raise SystemExit(str(e)) from None
    print(f"Provincial guideline, {args.size:,} insured, seed {args.seed}, engine={args.engine}{backend}")

    gpu_kw = {"xp": args.xp, "batch_blocks": args.batch_blocks} if args.engine == "gpu" else {}
    res, dt = run_engine(sc, args.years, args.seed, args.engine, **gpu_kw)
    py = args.size * args.years
    eng = res.claims_per_capita()
    raw = res.ratio("claims", "people", controlled=False)
    print(f"engine: {args.years} simulated years")
    line("time (s)", f"{dt:.2f}")
    line("person-years / s", f"{py / dt:,.0f}")
    line("CII claims per capita (yuan)", f"{eng.value:.4f} ± {eng.se:.4f}")
    if res.control_expected is not None:
        line("  without the control variate", f"{raw.value:.4f} ± {raw.se:.4f} "
             f"(variance {(raw.se / eng.se) ** 2:.0f}x the controlled)")

    t0 = time.perf_counter()
    base_value, base_se = baseline_claims(sc, args.baseline_years, args.seed)
    bdt = time.perf_counter() - t0
    bpy = args.size * args.baseline_years
    z = (eng.value - base_value) / math.hypot(eng.se, base_se)
    print(f"plain-numpy baseline: {args.baseline_years} simulated years")
    line("time (s)", f"{bdt:.2f}")
    line("person-years / s", f"{bpy / bdt:,.0f}")
    line("CII claims per capita (yuan)", f"{base_value:.4f} ± {base_se:.4f}")
    line("engine − baseline (z-score)", f"{eng.value - base_value:+.4f} (z = {z:+.2f}; "
         f"{'agree' if abs(z) < 3 else 'DISAGREE'} within 3 SE)")
    line("speed-up per person-year", f"{(py / dt) / (bpy / bdt):.1f}x")
    # Time to a given CI width scales as time × SE² (SE² ∝ 1 / person-years for both at this size).
    line("speed-up at equal CI width (time x SE^2)", f"{(bdt * base_se ** 2) / (dt * eng.se ** 2):.0f}x")

    # Break-even premium to ±0.05 yuan. Without shocks the Monte Carlo variance falls as
    # 1/person-years; the controlled estimate also carries the drawn population's composition
    # (variance ∝ 1/insured, not reduced by more years), projected from the pilot.
    fee = 1 - res.combined_fee_rate
    be = res.break_even_premium()
    target = (0.05 / Z95) ** 2
    mc2, comp2 = be.se ** 2, 0.0
    if res.control_expected is not None:
        mc2 = (ratio_estimate(res.cell("claims") - res.cell("control"), res.cell("people")).se / fee) ** 2
        comp2 = max(be.se ** 2 - mc2, 0.0) * args.size / args.city_size
    if target <= comp2:
        raise SystemExit("the composition error alone exceeds the target: use a larger city")
    city_years = max(1, math.ceil(1.1 * py * mc2 / (target - comp2) / args.city_size))  # 10 % margin
    base_years = math.ceil(1.1 * bpy * (base_se / fee) ** 2 / target / args.city_size)
    base_time = base_years * args.city_size / (bpy / bdt)
    print(f"break-even premium, {args.city_size:,}-insured city, 95% CI half-width <= 0.05 yuan")
    line("pilot break-even premium (yuan)", f"{be.value:.3f} ± {be.se:.3f} from {py:,} person-years")
    line("simulated years needed (incl. 10% margin)", f"engine {city_years}, baseline {base_years}")
    line("projected time at the measured rates (s)", f"engine {city_years * args.city_size / (py / dt):.1f}, "
         f"baseline {base_time:.0f} (1 worker)")
    if args.city:
        from actuarial.engines.parallel import DaskMap

        run_years = args.city_years or city_years
        city = sc.replace(**{"population.size": args.city_size})
        t0 = time.perf_counter()
        if args.workers > 1:
            with DaskMap(workers=args.workers, processes=not args.threads) as dmap:
                cres, _ = run_engine(city, run_years, args.seed, args.engine, map_fn=dmap, **gpu_kw)
        else:
            cres, _ = run_engine(city, run_years, args.seed, args.engine, **gpu_kw)
        cdt = time.perf_counter() - t0
        rate = run_years * args.city_size / cdt
        cbe = cres.break_even_premium()
        kind = "in process" if args.workers <= 1 else f"on {args.workers} worker {'threads' if args.threads else 'processes'}"
        line(f"measured, {run_years} years {kind} (s)", f"{cdt:.1f} ({rate:,.0f} person-years/s)")
        line("break-even premium (yuan)", f"{cbe.value:.3f}, 95% CI half-width {Z95 * cbe.se:.4f}")
        if run_years < city_years:
            line(f"time for all {city_years} years at that rate (s)", f"{city_years * args.city_size / rate:.0f}")
        else:
            line("speed-up over the baseline to this CI", f"{base_time / cdt:.0f}x")

    if not args.no_sweep:
        sweep_throughput(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
