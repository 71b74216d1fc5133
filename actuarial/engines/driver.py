"""The one driver of a heavy pass: argument checks, the floor, units of work mapped in order, progress.

Every engine (:mod:`actuarial.engines.engine`'s brute force, :mod:`actuarial.engines.fast`,
:mod:`actuarial.engines.gpu`) runs its units of work through :func:`run_units` after
:func:`pass_floor` has checked its arguments, so these rules are written once:
``years`` ≥ 1, the floor defaults to the lowest CII deductible and is ≥ 0, a
mapper may return units in any order (they are re-ordered by key), and long work
shows a progress bar. It also owns :func:`choose_engine`, the rule behind
``engine="auto"``. It does not know how any engine samples.

>>> from actuarial import load_scenario
>>> choose_engine(load_scenario("scenarios/qinzhou_2016.toml"))
'fast'
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

from ..model.cii import min_deductible
from ..scenario import Scenario

ENGINES = ("auto", "brute", "fast", "gpu")
"""Engine names :func:`actuarial.engines.engine.accumulate` takes ("auto" picks one, see :func:`choose_engine`)."""


def pass_floor(scenario: Scenario, years: int, floor: float | None) -> float:
    """The floor (yuan) of a heavy pass after checking ``years`` ≥ 1 and ``floor`` ≥ 0.

    ``None`` means the scenario's lowest CII deductible (:func:`actuarial.model.cii.min_deductible`).

    >>> from actuarial import load_scenario
    >>> pass_floor(load_scenario("scenarios/qinzhou_2016.toml"), 2, 500)
    500.0
    """
    if years < 1:
        raise ValueError(f"years must be >= 1 (got {years})")
    floor = min_deductible(scenario.cii) if floor is None else float(floor)
    if floor < 0:
        raise ValueError(f"floor must be >= 0 yuan (got {floor})")
    return floor


def run_units(fn: Callable, units: Sequence, map_fn=None, *, total: int, show: bool, desc: str,
              done: Callable, key: Callable) -> list:
    """``fn`` mapped over ``units`` (by ``map_fn``, default in order in this process), results sorted by
    ``key`` so that the mapping never changes the numbers; a tqdm bar of ``total`` person-years
    advanced by ``done(result)`` for each result."""
    from tqdm import tqdm  # plain text bar: works in terminals and notebooks without ipywidgets

    mapper = map_fn or (lambda f, xs: map(f, xs))
    out: list = []
    with tqdm(total=total, unit="person-yr", unit_scale=True, disable=not show, desc=desc) as bar:
        for result in mapper(fn, units):
            out.append(result)
            bar.update(done(result))
    out.sort(key=key)
    return out


def flatten(parts: Iterable[list]) -> list:
    """The items of a list of lists (units of work that return several block outcomes each)."""
    return [x for part in parts for x in part]


def fast_covers(scenario: Scenario, floor: float | None = None) -> bool:
    """Whether the fast engine's rules cover ``scenario`` for rows kept from ``floor`` (yuan).

    The fast engine selects people by their accumulation *before* the basic annual cap
    (最高支付限额). That is exact when the cap cannot bind for anyone below the floor: every
    stream in the CII scope (out-of-scope costs could fill the cap) and the cap at least
    ``floor · c/(1 − c)`` for the largest basic coinsurance ``c`` (the fund pays ``c/(1 − c)`` yuan
    per yuan of accumulation above the basic deductible). Otherwise the brute engine is exact.
    """
    floor = min_deductible(scenario.cii) if floor is None else float(floor)
    if not all(scenario.cii.covers(s.disease) for s in scenario.claims.streams):
        return False
    basic = scenario.basic
    c = max([t.coinsurance for t in basic.inpatient.values()] + [basic.outpatient.coinsurance])
    if c >= 1:
        return False
    return basic.annual_cap >= floor * c / (1 - c)


def choose_engine(scenario: Scenario, floor: float | None = None, engine: str = "auto") -> str:
    """The engine a heavy pass runs on: ``engine`` itself unless "auto", which picks the fastest engine
    whose rules cover the scenario (:func:`fast_covers`: "fast", else "brute"; never "gpu", which
    must be asked for)."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(map(repr, ENGINES))} (got {engine!r})")
    if engine != "auto":
        return engine
    return "fast" if fast_covers(scenario, floor) else "brute"
