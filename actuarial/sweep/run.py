"""Running a sweep: points grouped by heavy pass (common random numbers), mapped in process or on
Dask, each finished point stored as a proven part so that a killed run resumes.
"""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path

import pandas as pd

from ..contract.exact_metrics import point_metrics
from ..engines.crn import group_designs
from ..engines.engine import accumulate
from ..engines.parallel import DaskMap
from ..engines.preflight import check_memory
from ..estimates import Estimate
from ..results.simulation import evaluate
from ..scenario import Scenario
from .definition import Sweep
from .results import SweepResult
from .store import SweepStore


# --------------------------------------------------------------------------- running
def _tasks(sweep: Sweep, scenarios: list[Scenario], seeds: list[int], skip: set[int]) -> list[tuple]:
    """One task per heavy pass, for the points not in ``skip``.

    A task is (scenario, seed, years, contract_year, floor, [(point, cii, funding, fee rate)], outputs).
    The floor is the lowest deductible over *all* the group's points, so a resumed run keeps the
    same rows (rows below a point's deductible add exact zeros to its figures anyway). With
    ``engine="fast"`` the floor also sets the sampler's grid, so a point's draws depend on the
    group it shares a pass with (the same within one sweep definition, resumed or not).
    """
    tasks = []
    for group in group_designs(scenarios, seeds):
        todo = [(i, scenarios[i].cii, scenarios[i].funding, scenarios[i].contract.combined_fee_rate)
                for i in group.members if i not in skip]
        if todo:
            floor, lead = group.floor, group.members[0]
            tasks.append((scenarios[lead], seeds[lead], sweep.years, sweep.contract_year, floor, todo, sweep.outputs,
                          sweep.engine))
    return tasks


def _run_group(task: tuple) -> list[tuple[int, list[tuple[str, float, float]]]]:
    """One heavy pass, then each of its points' designs; returns [(point, [(metric, estimate, se)])].

    Module-level so Dask can ship it.
    """

    scenario, seed, years, contract_year, floor, points, outputs, engine = task
    if engine == "exact":  # no draws: each point from its exact law (actuarial.contract.exact_metrics)

        return [(index, point_metrics(scenario.model_copy(update={"cii": cii, "funding": funding.model_copy(),
                 "contract": scenario.contract.model_copy(update={"combined_fee_rate_percent": 100 * fee_rate})}),
                                      outputs)) for index, cii, funding, fee_rate in points]
    acc = accumulate(scenario, years, seed, floor=floor, contract_year=contract_year, progress=False, engine=engine)
    out = []
    for index, cii, funding, fee_rate in points:
        # a copy, so the premium is recomputed from `funding` the same way whichever point leads the group
        metrics = evaluate(acc, cii, funding.model_copy(), fee_rate).metrics()
        values = []
        for name in outputs:
            m = metrics[name]
            values.append((name, m.value, m.se) if isinstance(m, Estimate) else (name, float(m), 0.0))
        out.append((index, values))
    return out


def _point_frame(point: dict, values: list[tuple[str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame([{**point, "metric": m, "estimate": e, "se": s} for m, e, s in values])


_Store = SweepStore  # its old name here


def run_sweep(sweep: Sweep, out: str | Path | None = None, *, workers: int = 1, processes: bool = True,
              scheduler: str | None = None, map_fn=None, progress: bool | None = None,
              connect_timeout: float = 5.0) -> "SweepResult":
    """Simulate every point of ``sweep`` and collect the tidy results.

    Parameters
    ----------
    out : output directory; each finished point is written there at once and a
        re-run skips finished points (resume). ``None``: keep everything in memory.
    workers : points run in parallel on this many Dask workers (1: in this process).
    processes, scheduler : see :class:`actuarial.engines.parallel.DaskMap`.
    map_fn : an already started ``map_fn(f, items)`` (e.g. a :class:`~actuarial.engines.parallel.DaskMap`
        shared by several sweeps); overrides ``workers`` and ``scheduler``.
    progress : progress bar over points (default: on a terminal).
    connect_timeout : seconds to wait for ``scheduler`` (see :class:`~actuarial.engines.parallel.DaskMap`).

    Before any work the largest pass is checked against the memory available
    (:func:`actuarial.engines.preflight.check_memory`, raising :class:`~actuarial.errors.MemoryLimitError`).

    Points that differ only in the CII design, funding or fee rate and share a seed
    (common random numbers) share one heavy pass (:func:`actuarial.engines.engine.accumulate`)
    and are priced on its rows, as calibration does; a grid over deductible × tier rates
    costs one simulation. The numbers do not depend on ``workers``, on this sharing or on
    interruptions: each point is a pure function of its scenario and seed.
    """
    # A plain text bar, as in actuarial.engines.driver: tqdm.auto warns in notebooks without ipywidgets.
    from tqdm import tqdm


    scenarios = sweep.scenarios()
    largest = max(scenarios, key=lambda sc: sc.population.size)
    check_memory(largest, sweep.years, sweep.engine, workers, designs=max(1, workers), what="each point of this sweep")
    points = sweep.points()
    records = points.to_dict("records")
    store = SweepStore(out, sweep, records) if out is not None else None
    frames: dict[int, pd.DataFrame] = store.verified() if store else {}  # a bad part is named and recomputed
    done = set(frames)
    todo = _tasks(sweep, scenarios, [r["seed"] for r in records], done)
    if map_fn is not None or (scheduler is None and workers <= 1):
        pool = nullcontext(map_fn or map)
    else:
        pool = DaskMap(workers=workers, processes=processes, scheduler=scheduler, timeout=connect_timeout)
    with tqdm(total=len(records), initial=len(done), unit="point", desc="sweep",
              disable=progress is False or (progress is None and not _isatty())) as bar, pool as mapper:
        for group in (mapper(_run_group, todo) if todo else ()):
            for index, values in group:
                frame = _point_frame(records[index], values)
                if store:
                    store.write(index, frame)
                frames[index] = frame
            bar.update(len(group))
    result = SweepResult(sweep, pd.concat([frames[i] for i in sorted(frames)], ignore_index=True))
    if store:
        store.write_results(result.table)  # derived; replaced atomically on each run
    return result


def _isatty() -> bool:

    return sys.stderr.isatty()
