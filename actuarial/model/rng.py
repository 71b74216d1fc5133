"""Seeding: one seed, one independent stream per purpose, block, year and episode stream.

Streams are derived with :class:`numpy.random.SeedSequence` spawn keys, so the
numbers for (year 3, block 17, cancer episodes) are the same whether the run
uses one process or twenty, and whatever the chunking. Adding an episode stream
does not shift the draws of the others (common random numbers), because each
stream's key comes from its name, not its position.
"""

from __future__ import annotations

import zlib

import numpy as np

BLOCK_SIZE = 1 << 16
"""People per block: the unit of seeding. Chunks and workers are whole blocks."""



def stream_id(name: str) -> int:
    """A stable 32-bit id for a named stream (crc32 of its name)."""
    return zlib.crc32(name.encode("utf-8"))


PURPOSES: dict[str, tuple[int, ...]] = {
    "population": (0,),  # + block: the people of a block (actuarial.model.population)
    "claims": (1,),  # + year, contract year, block, stream_id(episode stream name) (actuarial.model.claims)
    "shock": (2,),  # + year, contract year: a simulated year's systemic shocks (actuarial.model.claims)
    "pools": (3,),  # + stream_id(pool name): the seed of each pooling unit of a contract (actuarial.contract.pools)
    "fast.population": (stream_id("fast_engine"), 0),  # + block: people per risk cell (actuarial.engines.fast)
    "fast.years": (stream_id("fast_engine"), 1),  # + contract year, first year, years: a unit of work
    "gpu.population": (stream_id("gpu"), 0),  # key of the GPU engine's counter-based population draws
    "gpu.claims": (stream_id("gpu"), 1),  # + contract year: key of its claims draws (actuarial.engines.gpu)
    "sweep": (stream_id("sweep"),),  # + point index (or 2^20: the sample design) (actuarial.sweep)
    "bid_report.bootstrap": (stream_id("bid_report_bootstrap"),),  # resampling of year totals (actuarial.report.bid_stats)
    "households": (stream_id("households"),),  # + block: household sizes and incomes (actuarial.results.households)
}
"""Every random-stream purpose and the spawn-key prefix under the seed it owns: the one registry.

Keys are never built by hand: call sites ask :func:`key`, :func:`generator` or :func:`seed_for`
with the purpose's name. No key is a prefix of another's (tests/model/test_rng.py), so no two purposes
can draw the same numbers. Adding a purpose adds an entry; the values here never change (the same
seed must give the same numbers)."""

GPU_PEOPLE = {"age_band": 0, "age_year": 1, "female": 2, "scheme": 3, "poor": 4, "region": 5}
"""First counter of each population draw of the GPU engine (under the key of purpose ``gpu`` + population)."""
GPU_EPISODES = {"prevalence": 0, "frailty": 1, "count": 2, "level": 3, "severity": 4, "location": 5}
"""First counter of each draw of an episode stream on the GPU engine (under the stream's key)."""

POPULATION, CLAIMS, SHOCK = (PURPOSES[p][0] for p in ("population", "claims", "shock"))  # kept for old callers


def key(purpose: str, *path: int) -> tuple[int, ...]:
    """The spawn key of ``purpose`` (a name in :data:`PURPOSES`) followed by ``path``."""
    try:
        return PURPOSES[purpose] + tuple(int(k) for k in path)
    except KeyError:
        raise KeyError(f"unknown random-stream purpose {purpose!r}; registered: {sorted(PURPOSES)}") from None


def generator_for(purpose: str, seed: int, *path: int) -> np.random.Generator:
    """The generator of ``purpose`` and ``path`` under ``seed`` (see :data:`PURPOSES`)."""
    return generator(seed, *key(purpose, *path))


def seed_for(purpose: str, seed: int, *path: int) -> np.random.SeedSequence:
    """The SeedSequence of ``purpose`` and ``path`` under ``seed``."""
    return seed_sequence(seed, *key(purpose, *path))


def seed_sequence(seed: int, *key: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in key))


def generator(seed: int, *key: int) -> np.random.Generator:
    """The generator for one purpose/key path under ``seed``."""
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, *key)))


def n_blocks(size: int) -> int:
    return -(-int(size) // BLOCK_SIZE)


def block_bounds(size: int, block: int) -> tuple[int, int]:
    """[start, stop) person indices of ``block``."""
    start = block * BLOCK_SIZE
    return start, min(start + BLOCK_SIZE, int(size))
