"""Checks made before any simulation starts: will the run fit in memory, and will it have standard errors?

A run that cannot finish should be refused in the first second with the reason, not die after
minutes with a numpy ``MemoryError`` (or print NaN confidence intervals with exit status 0).
:func:`check_run` estimates the peak memory of a heavy pass from the scenario's size, the simulated
years and the engine, compares it with the memory this process may use, and counts the
independent replicates behind the standard errors.

The estimate (bytes) is the sum of

* the per (simulated year, block, group) totals and the result's cells:
  ``years × blocks × N_GROUPS × CELL_BYTES``;
* the kept rows (person-years whose accumulation reaches the CII deductible):
  ``person-years × ROW_SHARE × ROW_BYTES``;
* the engine's own working arrays: ``person-years × ENGINE_BYTES[engine]`` (the fast engine keeps
  per-person arrays across the simulated years) plus one unit of work (a block) per worker.

It is an upper estimate for the bundled scenarios, not a measurement; see the constants.
This module simulates nothing and does not change how the engines use memory.

>>> from actuarial import load_scenario
>>> sc = load_scenario("scenarios/provincial_guideline.toml").replace(**{"population.size": 1_000_000})
>>> estimate_bytes(sc, years=20, engine="brute") < 2**30
True
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from ..errors import MemoryLimitError, UserError
from ..model.population import N_GROUPS
from ..model.rng import BLOCK_SIZE
from .driver import choose_engine

CELL_BYTES = 40 * 8
"""Per (year, block, group): the engine's 9 totals and the result's ~27 cell fields, float64 (yuan or counts)."""

ROW_SHARE = 0.05
"""ASSUMPTION: share of person-years kept as rows. Measured at the scenario's own deductible on the
bundled scenarios (65,536 insured × 2 years, seed 1, this version): 0.17 % (national urban 2012)
to 1.9 % (Qinzhou 2016); 5 % leaves room for lower deductibles (a calibration's floor)."""

ROW_BYTES = 160
"""Per kept row: year, block, group, 5 accumulations by location, two out-of-pocket amounts, the
control unit (69 bytes), the CII benefit (8), and a second copy while blocks are concatenated."""

ENGINE_BYTES = {"brute": 0.0, "gpu": 0.0, "fast": 4.0}
"""Engine working memory per person-year: the fast engine holds about 2–4 bytes per person-year
(issue 14, measured at 2·10^9 insured × 5 years: 20.7 GB); brute and gpu work block by block."""

BLOCK_WORK_BYTES = 64 * BLOCK_SIZE * 8
"""One block's working arrays (people, episodes, payments), yuan float64: about 34 MB."""

MIN_REPLICATES = 2
"""A standard error needs at least two independent replicates."""


def estimate_bytes(scenario, years: int, engine: str = "brute", workers: int = 1, designs: int = 1) -> int:
    """Estimated peak memory of one heavy pass (bytes); ``designs`` passes held at once (e.g. a comparison)."""
    if engine == "auto":  # the engine "auto" would pick (actuarial.engines.driver.choose_engine)

        engine = choose_engine(scenario)
    if engine == "exact":  # the exact method draws nothing and keeps no rows
        return int(max(1, workers) * BLOCK_WORK_BYTES)
    size = scenario.population.size
    blocks = math.ceil(size / BLOCK_SIZE)
    person_years = float(size) * years
    per_pass = (years * blocks * N_GROUPS * CELL_BYTES + person_years * ROW_SHARE * ROW_BYTES
                + person_years * ENGINE_BYTES.get(engine, 0.0))
    return int(designs * per_pass + max(1, workers) * BLOCK_WORK_BYTES)


def memory_limit() -> int:
    """Bytes this process may still use: ``ACTUARIAL_MEMORY_LIMIT`` (e.g. ``8G``) if set, else the smaller
    of the memory available now and the container's (cgroup) limit."""
    given = os.environ.get("ACTUARIAL_MEMORY_LIMIT")
    if given:
        return parse_bytes(given)
    import psutil

    limit = psutil.virtual_memory().available
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            limit = min(limit, int(text))
    return int(limit)


def parse_bytes(text: str) -> int:
    """``"8G"`` → 8·2^30; plain digits are bytes. Raises :class:`UserError` otherwise."""
    units = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    num, unit = (t[:-1], t[-1]) if t and t[-1] in units else (t, "")
    try:
        value = float(num) * units[unit]
    except ValueError:
        raise UserError(f"ACTUARIAL_MEMORY_LIMIT: expected bytes such as 8G or 512M (got {text!r})") from None
    if not math.isfinite(value) or value <= 0:
        raise UserError(f"ACTUARIAL_MEMORY_LIMIT: must be > 0 (got {text!r})")
    return int(value)


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"


def check_memory(scenario, years: int, engine: str = "brute", workers: int = 1, designs: int = 1,
                 what: str = "this run") -> int:
    """Raise :class:`~actuarial.errors.MemoryLimitError` (with the estimate and the limit) if ``what`` would
    not fit in memory; return the estimate (bytes) otherwise."""
    need = estimate_bytes(scenario, years, engine, workers, designs)
    limit = memory_limit()
    if need > limit:
        raise MemoryLimitError(
            f"{what} ({scenario.population.size:,} insured x {years:,} simulated years, engine {engine}) needs "
            f"about {_gib(need)} of memory; {_gib(limit)} is available (set ACTUARIAL_MEMORY_LIMIT to change the "
            f"limit): use fewer --years or a smaller --size")
    return need


def replicates(scenario, years: int) -> int:
    """Independent replicates behind a standard error: (simulated year, block) cells, or whole years
    when systemic shocks tie the blocks of a year together (see :mod:`actuarial.results.simulation`)."""
    if scenario.claims.shocks.enabled:
        return years
    return years * math.ceil(scenario.population.size / BLOCK_SIZE)


def check_replicates(scenario, years: int, source: str | None = None) -> None:
    """Refuse a run whose estimates would have no standard error (fewer than two replicates); the message
    names ``--years``, or the ``years`` field of the file ``source``."""
    n = replicates(scenario, years)
    option = "years" if source else "--years"
    if n < MIN_REPLICATES:
        unit = ("simulated years (the scenario's shocks tie each year's people together)"
                if scenario.claims.shocks.enabled else
                f"(simulated year, block of {BLOCK_SIZE:,} people) cells")
        raise UserError(f"{source + ': ' if source else ''}{option} = {years}: gives {n} independent replicate(s) of {unit}; a standard error "
                        f"needs at least {MIN_REPLICATES}: use {option} >= 2 or more than {BLOCK_SIZE:,} insured")


def check_run(scenario, years: int, engine: str = "brute", workers: int = 1, designs: int = 1) -> int:
    """Both checks, before any work: memory (:func:`check_memory`) and replicates (:func:`check_replicates`)."""
    check_replicates(scenario, years)
    return check_memory(scenario, years, engine, workers, designs)
