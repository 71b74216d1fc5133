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

POPULATION, CLAIMS, SHOCK = 0, 1, 2


def stream_id(name: str) -> int:
    """A stable 32-bit id for a named stream (crc32 of its name)."""
    return zlib.crc32(name.encode("utf-8"))


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
