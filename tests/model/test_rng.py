"""The random-stream registry: every purpose has its own key, and call sites use it."""

import re
from pathlib import Path

import numpy as np
import pytest

from actuarial.model import rng as rngmod


def test_no_two_purposes_share_a_key():
    keys = list(rngmod.PURPOSES.values())
    assert len(set(keys)) == len(keys)
    for a, ka in rngmod.PURPOSES.items():
        for b, kb in rngmod.PURPOSES.items():
            # A key that is a prefix of another could be extended (by a block or year) into it.
            assert a == b or ka != kb[:len(ka)], f"{a} {ka} is a prefix of {b} {kb}"


@pytest.mark.parametrize("table", [rngmod.GPU_PEOPLE, rngmod.GPU_EPISODES])
def test_gpu_draw_purposes_are_distinct(table):
    assert len(set(table.values())) == len(table)


def test_key_values_never_change():
    """Same seed, same numbers: the registered keys are the ones every earlier release used."""
    assert rngmod.PURPOSES["population"] == (0,) and rngmod.PURPOSES["claims"] == (1,)
    assert rngmod.PURPOSES["shock"] == (2,)
    assert rngmod.PURPOSES["fast.years"] == (rngmod.stream_id("fast_engine"), 1)
    assert rngmod.PURPOSES["gpu.claims"] == (rngmod.stream_id("gpu"), 1)
    a = rngmod.generator_for("claims", 7, 3, 0, 2).random(3)
    assert np.array_equal(a, rngmod.generator(7, 1, 3, 0, 2).random(3))


def test_unknown_purpose_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown random-stream purpose 'clams'"):
        rngmod.key("clams", 1)


def test_call_sites_use_the_registry():
    """No module builds a generator or seed sequence from raw key numbers: only rng.py may."""
    pattern = re.compile(r"rngmod\.(generator|seed_sequence)\(")
    offenders = [p.name for p in Path(rngmod.__file__).parents[1].rglob("*.py")  # subpackages too
                 if p.name != "rng.py" and pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
