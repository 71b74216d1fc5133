"""The array-backend engine (actuarial.engines.gpu): samplers against closed forms, basic payments against the
CPU functions, agreement with the brute-force engine, reproducibility, and clear backend errors.

Runs on numpy everywhere, and on CuPy too where CuPy imports and a GPU is present."""

import math
import sys
import types

import numpy as np
import pytest

from actuarial import accumulate, load_scenario, simulate
from actuarial import backend
from actuarial.engines import gpu
from actuarial.model import basic as basicmod
from actuarial.backend import BackendError, get_array_module, to_numpy
from actuarial.engines.engine import simulate_block
from actuarial.model.agg_fields import AGG_FIELDS

SCENARIOS = ("provincial_guideline", "qinzhou_2016", "daqing_2015_ncms", "shanghai")


def _available():
    names = ["numpy"]
    try:
        backend.get_array_module("cupy")
        names.append("cupy")
    except BackendError:
        pass
    return names


BACKENDS = _available()


@pytest.fixture(params=BACKENDS)
def xp(request):
    return get_array_module(request.param)


def _scenario(name, size):
    return load_scenario(f"scenarios/{name}.toml").replace(**{"population.size": size})


# ----------------------------------------------------------------------------- samplers
def test_uniforms_are_a_function_of_key_and_counters(xp):
    c = xp.arange(200_000)
    u = to_numpy(backend.uniform(xp, 11, 3, c))
    assert u.min() > 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 4 * math.sqrt(1 / 12 / u.size)
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 4 / math.sqrt(u.size)
    # Same counters in another order → the same numbers, permuted (no hidden state).
    perm = np.random.default_rng(0).permutation(u.size)
    assert np.array_equal(to_numpy(backend.uniform(xp, 11, 3, xp.asarray(perm))), u[perm])
    assert not np.array_equal(to_numpy(backend.uniform(xp, 12, 3, c)), u)
    # numpy and every other backend hash to the same bits.
    assert np.array_equal(to_numpy(backend.hash64(xp, 11, 3, c)), backend.hash64(np, 11, 3, np.arange(200_000)))
    assert np.array_equal(u, backend.uniform(np, 11, 3, np.arange(200_000)))
    # The extreme hashes map strictly inside (0, 1): no log(0), no ndtri(1) = inf.
    ends = to_numpy(backend.to_unit(xp.asarray(np.array([0, 2**64 - 1], np.uint64))))
    assert ends.dtype == np.float64 and ends.tolist() == [2.0 ** -53, 1 - 2.0 ** -53]


def _fake_cupy(fuse):
    """A module named "cupy" that is numpy underneath, with the given ``fuse``."""
    fake = types.ModuleType("cupy")
    fake.__getattr__ = lambda name: getattr(np, name)

    def quiet(f):  # numpy warns on scalar uint64 wrap-around, which the hash relies on; CuPy does not
        g = fuse(f)

        def run(*args):
            with np.errstate(over="ignore"):
                return g(*args)
        return run

    fake.fuse = quiet
    return fake


def test_fused_uniforms_are_checked_against_the_reference(monkeypatch):
    """The CuPy path compiles the hash with cupy.fuse; here fuse is the identity on numpy."""
    monkeypatch.setattr(backend, "_FUSED", {})
    monkeypatch.setattr(backend, "_fusion_failed", False)
    fake = _fake_cupy(lambda f: f)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    c = np.arange(1000)
    assert np.array_equal(backend.uniform(fake, 5, 2, c, c[::-1]), backend.uniform(np, 5, 2, c, c[::-1]))
    assert set(backend._FUSED) == {3} and not backend._fusion_failed


def test_a_fusion_that_disagrees_falls_back_to_the_same_numbers(monkeypatch):
    monkeypatch.setattr(backend, "_FUSED", {})
    monkeypatch.setattr(backend, "_fusion_failed", False)
    fake = _fake_cupy(lambda f: (lambda *args: f(*args) * 0.5))  # e.g. a constant typed differently
    monkeypatch.setitem(sys.modules, "cupy", fake)
    c = np.arange(1000)
    with pytest.warns(UserWarning, match="unfused uniforms"):
        u = backend.uniform(fake, 5, 2, c)
    assert np.array_equal(u, backend.uniform(np, 5, 2, c)) and backend._fusion_failed


@pytest.mark.parametrize("mean", [0.05, 2.5, 150.0])  # 150 > POISSON_PART: drawn in parts
def test_poisson_mean_and_variance(xp, mean):
    n = 200_000
    k = to_numpy(gpu.poisson(xp, xp.full(n, mean), 5, xp.arange(n)))
    assert abs(k.mean() - mean) < 4 * math.sqrt(mean / n)
    assert abs(k.var() / mean - 1) < 4 * math.sqrt(2 / n) + 4 / math.sqrt(n * mean)


@pytest.mark.parametrize("shape", [0.4, 1.0, 6.0])
def test_gamma_mean_and_variance(xp, shape):
    n = 200_000
    g = to_numpy(gpu.standard_gamma(xp, shape, 9, xp.arange(n)))
    assert g.min() >= 0
    assert abs(g.mean() - shape) < 4 * math.sqrt(shape / n)
    assert abs(g.var() / shape - 1) < 6 * math.sqrt((6 / shape + 2) / n)  # Var of s² ≈ σ⁴ (κ₄/σ⁴ + 2)/n


def test_spliced_pareto_tail_and_categorical(xp):
    from actuarial.config.distributions import SplicedPareto
    from actuarial.scenario import SplicedParetoSpec

    spec = SplicedParetoSpec(family="spliced_pareto", mean=10_000, cv=1.2, threshold=40_000, alpha=2.5)
    n = 400_000
    x = to_numpy(gpu.severity(xp, spec, 3, xp.arange(n)))
    exact = SplicedPareto(10_000, 1.2, 40_000, 2.5)
    for t in (5_000, 40_000, 100_000):  # P(X > t) against the closed form, within 4 SE
        p = float(exact.sf(t))
        assert abs((x > t).mean() - p) < 4 * math.sqrt(p * (1 - p) / n), t
    cat = to_numpy(gpu.categorical(xp, [1, 2, 7], backend.uniform(xp, 4, xp.arange(n))))
    freq = np.bincount(cat, minlength=3) / n
    assert np.all(np.abs(freq - [0.1, 0.2, 0.7]) < 4 * np.sqrt(np.array([0.09, 0.16, 0.21]) / n))
    # Categories of probability 0 are never drawn, even by the uniform closest to 1.
    edge = xp.asarray([1e-300, 0.3, 1 - 2.0 ** -53])
    assert to_numpy(gpu.categorical(xp, [0.0, 1 / 3, 2 / 3, 0.0], edge)).tolist() == [1, 1, 2]


def test_basic_payments_match_the_cpu_functions(xp, provincial):
    """Deductible, coinsurance and the annual cap: same numbers as actuarial.model.basic, incl. a capped person."""
    rng = np.random.default_rng(1)
    m, n = 2_000, 300
    compliant = rng.lognormal(9, 1.5, m)
    compliant[:3] = 200_000.0  # person 0 is far above the annual cap
    level = rng.integers(0, 4, m)
    inpatient = rng.random(m) < 0.8
    person = np.sort(rng.integers(0, n, m))
    person[:3] = 0
    uncapped, ded = basicmod.episode_payments(provincial.basic, compliant, level, inpatient)
    paid = basicmod.apply_annual_cap(provincial.basic, uncapped, person, n)
    gpaid, gded, guncapped = gpu.basic_payments(xp, provincial.basic, xp.asarray(compliant), xp.asarray(level),
                                                xp.asarray(inpatient), xp.asarray(person), n)
    assert np.bincount(person, paid, n)[0] == pytest.approx(provincial.basic.annual_cap)
    np.testing.assert_allclose(to_numpy(gpaid), paid, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(guncapped), uncapped, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(gded), ded, rtol=1e-12)


def test_episode_levels_locations_and_compliant_costs(xp, provincial):
    """One year of episodes: level mix per stream, out-of-area locations, compliant share, by frequency."""
    from actuarial.scenario import LEVELS, LOCATIONS

    sc = provincial.replace(**{"population.size": 300_000})
    people = gpu._population(xp, sc, 1, range(5))
    person, stream, level, location, cost, compliant = (to_numpy(a) for a in gpu._episodes(xp, sc, people, 99, 1.0, 1.0))

    def close(counts, p):
        n = counts.sum()
        p = np.asarray(p) / np.sum(p)
        assert np.all(np.abs(counts / n - p) <= 4 * np.sqrt(p * (1 - p) / n) + 1e-12), (counts / n, p)

    for s_idx, st in enumerate(sc.claims.streams):
        sel = stream == s_idx
        if sel.sum() > 1000:
            close(np.bincount(level[sel], minlength=len(LEVELS)), [st.level_mix.get(lv, 0.0) for lv in LEVELS])
    away = level == LEVELS.index("out_of_area")
    assert away.sum() > 1000 and (location[~away] == 0).all()
    close(np.bincount(location[away], minlength=len(LOCATIONS))[1:], sc.claims.out_of_area.shares())
    share = np.array([sc.claims.compliant_percent.get(lv, 100.0) / 100 for lv in LEVELS])
    np.testing.assert_allclose(compliant, cost * share[level], rtol=1e-15)
    assert (cost > 0).all() and person.max() < 5 * 65_536


# ----------------------------------------------------------------------------- agreement with the CPU engine
def _per_capita(acc, cells):
    """Ratio estimate of ``cells`` (per (year, block) totals) per insured, and its SE over the cells."""
    p = acc.agg[..., AGG_FIELDS.index("people")].sum(axis=2).ravel()
    e = cells.ravel()
    r = e.sum() / p.sum()
    k = e.size
    return r, math.sqrt(k / (k - 1) * ((e - r * p) ** 2).sum()) / p.sum()


def _episode_cells(acc):
    return acc.agg[..., AGG_FIELDS.index("episodes")].sum(axis=2)


def _location_cells(acc, loc):
    """Accumulation (yuan) at location ``loc`` of the kept rows, per (year, block)."""
    out = np.zeros(acc.agg.shape[:2])
    np.add.at(out, (acc.rows.year, acc.rows.block), acc.rows.by_location[:, loc])
    return out


METRICS = ("claims_per_capita", "beneficiaries_per_10k", "basic_paid_per_capita", "oop_compliant_per_capita",
           "catastrophic_per_10k")


def _assert_agree(g, b, k=3.0):
    from actuarial.scenario import LOCATIONS

    for m in METRICS:
        x, y = g.metrics()[m], b.metrics()[m]
        z = (x.value - y.value) / math.hypot(x.se, y.se)
        assert abs(z) < k, f"{m}: gpu {x} vs brute {y} (z = {z:.2f})"
    checks = {"episodes per capita": _episode_cells}
    checks.update({f"accumulation at {name}": (lambda acc, i=i: _location_cells(acc, i))
                   for i, name in enumerate(LOCATIONS)})
    for what, cells in checks.items():
        (rx, sx), (ry, sy) = _per_capita(g.accumulations, cells(g.accumulations)), \
            _per_capita(b.accumulations, cells(b.accumulations))
        if sx == sy == 0:
            assert rx == ry == 0, what
            continue
        assert abs(rx - ry) < k * math.hypot(sx, sy), f"{what}: {rx} ± {sx} vs {ry} ± {sy}"
    assert g.premium_per_capita() == pytest.approx(b.premium_per_capita(), rel=1e-2)


@pytest.mark.parametrize("name", SCENARIOS)
def test_agrees_with_brute_force(xp, name):
    sc = _scenario(name, 200_000)
    g = simulate(sc, years=4, seed=7, engine="gpu", xp=xp.__name__)
    b = simulate(sc, years=4, seed=8, progress=False)
    assert g.accumulations.agg.shape == b.accumulations.agg.shape
    assert np.array_equal(g.accumulations.total("people"), b.accumulations.total("people"))
    _assert_agree(g, b)


def test_agrees_with_gamma_regions_and_trend(xp, provincial):
    """Features no bundled scenario uses together: gamma severities, two regions with different cost
    levels, and the cost trend of contract year 2. No shocks, so (year, block) cells are independent
    replicates and the SEs are tight enough to catch, e.g., swapped region cost factors (+21 % claims)."""
    sc = provincial.replace(**{
        "population.size": 200_000,
        "population.regions": [{"name": "city", "share": 0.4, "cost_factor": 1.3},
                               {"name": "county", "share": 0.6, "cost_factor": 0.8}],
        "claims.streams.0.severity.tertiary": {"family": "gamma", "mean": 12_000, "cv": 0.6},
        "claims.streams.0.severity.secondary": {"family": "gamma", "mean": 5_000, "cv": 2.0},
        "claims.cost_trend_percent": 8,
    })
    g = simulate(sc, years=4, seed=7, engine="gpu", xp=xp.__name__, contract_year=2)
    b = simulate(sc, years=4, seed=8, progress=False, contract_year=2)
    assert g.accumulations.contract_year == 2
    _assert_agree(g, b)


@pytest.mark.parametrize("shock", ["frequency_sd", "severity_sd"])
def test_yearly_claims_follow_the_shocks(xp, provincial, shock):
    """Each simulated year's claims move with that year's shock (shared with the brute engine by seed)."""
    sc = provincial.replace(**{"population.size": 130_000, f"claims.shocks.{shock}": 0.3})
    g = simulate(sc, years=10, seed=7, engine="gpu", xp=xp.__name__)
    factor = g.accumulations.shocks[:, 0 if shock == "frequency_sd" else 1]
    assert np.corrcoef(g.yearly("claims"), factor)[0, 1] > 0.9


# ----------------------------------------------------------------------------- reproducibility and shape
def _same(a, b, exact):
    check = np.testing.assert_array_equal if exact else (lambda x, y: np.testing.assert_allclose(x, y, rtol=1e-12))
    check(a.agg, b.agg)
    for f in ("year", "block", "group", "by_location", "oop_compliant", "oop_total"):
        check(getattr(a.rows, f), getattr(b.rows, f))


def test_reproducible_and_independent_of_batching(xp):
    sc = _scenario("qinzhou_2016", 3 * 65_536 + 1_000)  # 4 blocks, the last one partial
    name = xp.__name__
    exact = name == "numpy"  # CuPy's bincount adds atomically: equal to rounding, not bit for bit
    one = gpu.accumulate_gpu(sc, 3, seed=2, floor=0, xp=name, batch_blocks=1)
    _same(one, gpu.accumulate_gpu(sc, 3, seed=2, floor=0, xp=name, batch_blocks=1), exact)
    _same(one, gpu.accumulate_gpu(sc, 3, seed=2, floor=0, xp=name, batch_blocks=3), exact)
    _same(one, accumulate(sc, 3, seed=2, floor=0, engine="gpu", xp=name, chunk_size=4 * 65_536), exact)
    # One block alone gives that block's numbers from the batch.
    alone = gpu.simulate_block_xp(sc, 2, 3, 3, 0.0, 0, name)
    sel = one.rows.block == 3
    np.testing.assert_allclose(alone.agg, one.agg[:, 3], rtol=1e-12)
    np.testing.assert_allclose(alone.rows.oop_total, one.rows.oop_total[sel], rtol=1e-12)
    other = gpu.accumulate_gpu(sc, 3, seed=3, floor=0, xp=name)
    assert not np.allclose(other.agg, one.agg)
    # Shape as the CPU engine: rows are exactly the person-years with a positive accumulation (floor 0).
    cpu = simulate_block(sc, 2, 3, 3, 0.0)
    assert alone.agg.shape == cpu.agg.shape and alone.rows.by_location.shape[1] == cpu.rows.by_location.shape[1]
    assert (alone.rows.by_location.sum(axis=1) > 0).all()
    assert one.agg[..., AGG_FIELDS.index("people")].sum() == 3 * sc.population.size


def test_rows_hold_the_person_years_at_or_above_the_floor(xp, qinzhou):
    sc = qinzhou.replace(**{"population.size": 50_000})
    low = gpu.accumulate_gpu(sc, 2, seed=4, floor=0, xp=xp.__name__)
    high = gpu.accumulate_gpu(sc, 2, seed=4, floor=20_000, xp=xp.__name__)
    acc = low.rows.by_location.sum(axis=1)
    assert len(high.rows) == int((acc >= 20_000).sum()) > 0
    assert (high.rows.by_location.sum(axis=1) >= 20_000).all()
    np.testing.assert_allclose(low.agg, high.agg, rtol=1e-12)  # the floor changes the rows only


# ----------------------------------------------------------------------------- backend selection and errors
def test_numpy_and_unknown_backends():
    assert get_array_module("numpy") is np
    assert get_array_module(np) is np
    with pytest.raises(BackendError, match=r"xp must be one of 'numpy', 'cupy', 'auto' \(got 'tpu'\)"):
        get_array_module("tpu")
    with pytest.raises(BackendError, match="xp must be one of"):
        accumulate(load_scenario("scenarios/qinzhou_2016.toml"), 1, engine="gpu", xp="tpu")


def test_missing_cupy_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy → ImportError, as when not installed
    with pytest.raises(BackendError, match=r"xp='cupy'.*not installed.*pip install -e \.\[gpu\]"):
        get_array_module("cupy")
    with pytest.raises(BackendError, match="pip install -e"):
        accumulate(load_scenario("scenarios/qinzhou_2016.toml"), 1, engine="gpu", xp="cupy")
    assert get_array_module("auto") is np  # auto falls back to numpy


def test_cupy_without_a_device_is_a_clear_error(monkeypatch):
    def no_device():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    fake = types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=no_device)))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    with pytest.raises(BackendError, match="xp='cupy'.*no CUDA device.*cudaErrorNoDevice"):
        get_array_module("cupy")
    fake.cuda.runtime.getDeviceCount = lambda: 0
    with pytest.raises(BackendError, match="no CUDA device is present"):
        get_array_module("cupy")
    assert get_array_module("auto") is np


def test_to_numpy_copies_device_arrays_to_the_host():
    class Device:  # stands for cupy.ndarray: .get() returns the host copy
        def get(self):
            return np.arange(3)

    a = np.ones(2)
    assert to_numpy(a) is a
    assert np.array_equal(to_numpy(Device()), np.arange(3))
    assert np.array_equal(to_numpy([1, 2]), [1, 2])
    assert backend.special(np).ndtri(0.5) == 0.0


def test_bincount_takes_empty_input(xp):
    empty = xp.zeros(0, xp.int64)
    w = to_numpy(backend.bincount(xp, empty, weights=xp.zeros(0), minlength=3))
    assert w.dtype == np.float64 and np.array_equal(w, [0.0, 0.0, 0.0])
    assert np.array_equal(to_numpy(backend.bincount(xp, empty, minlength=2)), [0, 0])
    assert np.array_equal(to_numpy(backend.bincount(xp, xp.asarray([2, 0, 2]), xp.asarray([1.5, 1.0, 2.0]), 4)),
                          [1.0, 0.0, 3.5, 0.0])


def test_cli_accepts_the_gpu_engine(capsys):
    from actuarial.cli import main

    assert main(["run", "scenarios/qinzhou_2016.toml", "--engine", "gpu", "--size", "20000", "--years", "2",
                 "--no-progress", "--format", "json"]) in (0, None)
    assert "claims" in capsys.readouterr().out
