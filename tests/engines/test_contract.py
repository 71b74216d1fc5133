"""The engine contract: one standard every engine (brute, fast, gpu on numpy) is held to, the way
scikit-learn's estimator checks hold every estimator. A new engine passes it or is not an engine.

Each check runs the engine through :func:`actuarial.engines.engine.accumulate` on small scenarios and
looks only at what the contract promises: the accumulations' shape and named fields, rows at or
above the floor, numbers independent of chunking and of the order workers return their units,
agreement with the exact method (:mod:`actuarial.exact.compound`) within 3 standard errors on designed
cells, and each simulated year's claims following its shock.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from actuarial.model import agg_fields
from actuarial import load_scenario
from actuarial.model import rng as rngmod
from actuarial.engines.engine import accumulate
from actuarial.exact.compound import expected_cii
from actuarial.model.population import N_GROUPS
from actuarial.results.simulation import evaluate
from actuarial.scenario import LOCATIONS

from designs import DESIGNS, STREAMS_SCOPE, design

ENGINES = ("brute", "fast", "gpu")
SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.toml"))


def run(sc, engine, years=2, seed=1, **kw):
    """The heavy pass on ``engine`` (the GPU engine on numpy)."""
    extra = {"xp": "numpy"} if engine == "gpu" else {}
    return accumulate(sc, years, seed, engine=engine, progress=False, **extra, **kw)


def small(path, size=20_000):
    return load_scenario(path).replace(**{"population.size": size})


# --------------------------------------------------------------------------- shape and fields
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_accumulations_have_the_contracted_shape_and_fields(engine, path):
    sc = small(path)
    acc = run(sc, engine)
    assert acc.engine == engine
    blocks = rngmod.n_blocks(sc.population.size)
    assert acc.agg.shape == (2, blocks, N_GROUPS, len(agg_fields.AGG_FIELDS))
    assert acc.shocks.shape == (2, 2)
    people = acc.total("people")
    assert np.all(people == sc.population.size)  # every person, every simulated year
    per_capita = np.array(sc.premium_by_scheme()).repeat(2)
    np.testing.assert_allclose(agg_fields.get(acc.agg, "premium"), agg_fields.get(acc.agg, "people") * per_capita,
                               rtol=1e-12)
    # Money identities on the named totals (before the CII layer).
    get = lambda f: acc.total(f)  # noqa: E731
    np.testing.assert_allclose(get("oop_compliant"), get("compliant") - get("basic_paid"), rtol=1e-9)
    np.testing.assert_allclose(get("oop_total"), get("cost") - get("basic_paid"), rtol=1e-9)
    assert np.all(get("compliant") <= get("cost") * (1 + 1e-12)) and np.all(get("basic_paid") >= 0)
    rows = acc.rows
    n = len(rows)
    assert rows.by_location.shape == (n, len(LOCATIONS))
    for f in ("year", "block", "group", "oop_compliant", "oop_total"):
        assert getattr(rows, f).shape == (n,)
    assert set(np.unique(rows.year)) <= set(range(2)) and set(np.unique(rows.block)) <= set(range(blocks))
    # Rows are the person-years at or above the floor, and nothing else.
    assert np.all(rows.by_location.sum(axis=1) >= acc.floor * (1 - 1e-12))
    if acc.control is not None:
        assert rows.control is not None and rows.control.shape == (n,)


@pytest.mark.parametrize("engine", ENGINES)
def test_reordering_the_field_tuple_cannot_corrupt_totals(engine, provincial, monkeypatch):
    """Every engine writes and every reader reads the totals by name: a permuted field tuple gives the
    same totals and the same CII figures."""
    sc = provincial.replace(**{"population.size": 20_000})
    before = run(sc, engine)
    totals = {f: before.total(f) for f in agg_fields.AGG_FIELDS}
    claims = evaluate(before).claims_per_capita()
    monkeypatch.setattr(agg_fields, "AGG_FIELDS", tuple(reversed(agg_fields.AGG_FIELDS)))
    after = run(sc, engine)
    for f, v in totals.items():
        np.testing.assert_array_equal(after.total(f), v, err_msg=f)
    res = evaluate(after)
    assert res.claims_per_capita() == claims
    assert res.insured == sc.population.size


# --------------------------------------------------------------------------- reproducibility
def reversed_map(fn, units):
    """A mapper that returns units in reverse order (as a pool of workers may)."""
    return reversed([fn(u) for u in list(units)])


@pytest.mark.parametrize("engine", ENGINES)
def test_numbers_do_not_depend_on_chunks_or_workers(engine, provincial):
    sc = provincial.replace(**{"population.size": 2 * rngmod.BLOCK_SIZE + 5_000})  # three blocks, the last short
    ref = run(sc, engine, years=1, seed=3)
    for kw in ({"chunk_size": rngmod.BLOCK_SIZE}, {"map_fn": reversed_map}):
        other = run(sc, engine, years=1, seed=3, **kw)
        np.testing.assert_array_equal(other.agg, ref.agg)
        for f in ("year", "block", "group", "by_location", "oop_compliant", "oop_total", "control"):
            np.testing.assert_array_equal(getattr(other.rows, f), getattr(ref.rows, f), err_msg=f)


# --------------------------------------------------------------------------- against the exact method
CELLS = {
    "no_poverty": DESIGNS["poisson_one_tier"],
    "poverty": DESIGNS["poor_rules_and_bc_self_pay"],
    "deductible_in_accumulation": DESIGNS["nb_tiers_cap_with_basic_deductible"],
    "disease_list_out_of_area_regions": DESIGNS["disease_list_scope_regions"],
    "scipy_and_histogram_severities": design(streams=[{
        "name": "adm", "episodes_by_age": [0.9] * 7, "level_mix": {"secondary": 0.5, "out_of_area": 0.5},
        "severity": {"secondary": {"family": "histogram", "edges": [0, 2000, 6000, 20000, 60000],
                                   "probabilities": [0.3, 0.4, 0.25, 0.05]},
                     "out_of_area": {"family": "scipy", "name": "weibull_min",
                                     "params": {"c": 0.9, "scale": 11000}}}}]),
    "all_streams_in_scope": design(streams=STREAMS_SCOPE, cii={"deductible": 6000}),
}


@lru_cache(maxsize=None)
def exact_of(name):
    return expected_cii(CELLS[name], step=20.0, n_points=1 << 15)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(CELLS))
def test_agrees_with_the_exact_method(engine, name):
    """Claims and beneficiaries per insured within 3 SE of the FFT expectation (the exact method has
    no basic annual cap and no location rules: the designed cells have neither)."""
    # 20 (year, block) units, so the standard errors themselves are well estimated.
    sc = CELLS[name].replace(**{"population.size": 15_000})
    res = evaluate(run(sc, engine, years=20, seed=21))
    exact = exact_of(name)
    claims, benef = res.claims_per_capita(), res.ratio("beneficiaries", "people")
    assert claims.se > 0 and abs(claims.value - exact.claims_per_capita) < 3 * claims.se, (claims, exact)
    assert abs(benef.value - exact.beneficiaries_per_capita) < 3 * benef.se, (benef, exact)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_bundled_scenarios_agree_with_the_exact_method(engine, path):
    """The bundled scenarios without what the exact method leaves out (basic annual cap, location rules)."""
    sc = load_scenario(path).replace(**{"population.size": 200_000, "basic.annual_cap": 1e9, "cii.locations": {}})
    # 8 years: 32 (year, block) units. Without a CII cap Y − X has a Pareto tail, and with 16 units the
    # SE itself was too noisy: the gpu engine at seed 5 read z = −3.4 / −3.6 on the two urban files (which
    # share its draws), while 12 further seeds gave z from −0.9 to 1.8 and 8 years at seed 5 −1.3 / −1.5.
    res = evaluate(run(sc, engine, years=8, seed=5))
    exact = expected_cii(sc)
    claims = res.claims_per_capita()
    assert abs(claims.value - exact.claims_per_capita) < 3 * claims.se, (claims, exact)


# --------------------------------------------------------------------------- shocks
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("shock", ["frequency_sd", "severity_sd"])
def test_each_years_claims_follow_its_shock(engine, shock):
    sc = DESIGNS["poisson_one_tier"].replace(**{"population.size": 20_000, f"claims.shocks.{shock}": 0.3})
    acc = run(sc, engine, years=8, seed=7)
    factor = acc.shocks[:, 0 if shock == "frequency_sd" else 1]
    assert np.corrcoef(evaluate(acc).yearly("claims"), factor)[0, 1] > 0.8
    # Same seed, same shocks in every engine: they come from one stream (rng purpose "shock").
    assert np.array_equal(acc.shocks, run(sc, "brute" if engine != "brute" else "fast", years=8, seed=7).shocks)
