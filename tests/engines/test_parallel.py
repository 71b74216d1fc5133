"""Dask scale-out gives the same numbers as the serial engine, for any worker count and chunking."""

import numpy as np
import pytest

from actuarial import load_scenario
from actuarial.engines.engine import accumulate
from actuarial.engines.parallel import DaskMap
from actuarial.results.simulation import simulate
from actuarial.model.rng import BLOCK_SIZE

SIZE = 3 * BLOCK_SIZE - 1000  # three blocks, the last one short


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("scenarios/qinzhou_2016.toml").replace(**{"population.size": SIZE})


@pytest.fixture(scope="module")
def serial(scenario):
    return accumulate(scenario, years=2, seed=7, progress=False)


def assert_same(a, b):
    assert np.array_equal(a.agg, b.agg)
    for f in ("year", "block", "group", "by_location", "oop_compliant", "oop_total"):
        assert np.array_equal(getattr(a.rows, f), getattr(b.rows, f)), f
    assert np.array_equal(a.shocks, b.shocks)


@pytest.mark.parametrize("workers,chunk", [(1, BLOCK_SIZE), (2, BLOCK_SIZE), (2, 2 * BLOCK_SIZE)])
def test_threads_match_serial(scenario, serial, workers, chunk):
    with DaskMap(workers=workers, processes=False) as dmap:
        acc = accumulate(scenario, years=2, seed=7, chunk_size=chunk, progress=False, map_fn=dmap)
    assert_same(acc, serial)
    assert len(serial.rows) > 0 and serial.agg.shape[1] == 3


def test_processes_match_serial(scenario, serial):
    with DaskMap(workers=2, processes=True) as dmap:
        acc = accumulate(scenario, years=2, seed=7, progress=False, map_fn=dmap)
        assert dmap.client is not None
    assert dmap.client is None  # closed cleanly on exit
    assert_same(acc, serial)


def test_simulate_convenience(scenario, serial):
    from actuarial.results.simulation import evaluate

    res = simulate(scenario, years=2, seed=7, workers=2, processes=False, progress=False)
    ref = evaluate(serial)
    assert res.claims_per_capita() == ref.claims_per_capita()


def test_not_started_and_bad_arguments():
    with pytest.raises(RuntimeError, match="not started"):
        list(DaskMap(workers=1)(abs, [1]))
    with pytest.raises(ValueError, match="workers must be >= 1"):
        DaskMap(workers=0)
