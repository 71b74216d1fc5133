"""Scale-out on Dask: run the engine's blocks, or a sweep's points, on many workers (并行计算).

:class:`DaskMap` is a ``map_fn`` for :func:`actuarial.engines.engine.accumulate` (and
for :func:`actuarial.sweep.run_sweep`): it maps a function over a list of work
items on Dask workers and yields the results as they finish. The engine
re-orders the outcomes by block and every block draws from its own seeded
stream (:mod:`actuarial.model.rng`), so the numbers are identical for any worker
count, thread/process choice and chunk size; only the wall time changes.

Two ways to get workers:

* embedded (default): a :class:`distributed.LocalCluster` with ``workers``
  workers on this machine, processes (default; real parallelism for the
  Python parts of the engine) or threads, started on ``__enter__`` and shut
  down on ``__exit__``;
* a real cluster: ``scheduler="tcp://HOST:8786"`` connects a
  :class:`distributed.Client` to a running ``dask scheduler``; the workers must
  be able to ``import actuarial`` (same version) — see the README.

This module does not own the engine or the statistics; it only moves work.

>>> from actuarial import load_scenario
>>> from actuarial.engines.engine import accumulate
>>> sc = load_scenario("scenarios/qinzhou_2016.toml").replace(**{"population.size": 20000})
>>> with DaskMap(workers=2, processes=False) as dmap:        # doctest: +SKIP
...     acc = accumulate(sc, years=2, seed=1, map_fn=dmap)
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterable, Iterator

__all__ = ["DaskMap"]


class DaskMap:
    """A Dask-backed ``map_fn(f, items)``; use it as a context manager.

    Parameters
    ----------
    workers : number of workers of the embedded local cluster (ignored with ``scheduler``).
    processes : worker processes (True) or threads in this process (False).
    scheduler : address of a running Dask scheduler (``"tcp://10.0.0.5:8786"``); ``None`` for
        the embedded local cluster.
    threads_per_worker : threads per worker (default 1: the engine's numpy work is the unit).
    timeout : seconds to wait for ``scheduler`` to answer before raising :class:`ConnectionError`
        (default 5; a closed port would otherwise be retried for Dask's own 30 s).

    Results are yielded in completion order; callers that care about order
    (the engine, sweeps) carry an index in each result.
    """

    def __init__(self, workers: int = 2, processes: bool = True, scheduler: str | None = None,
                 threads_per_worker: int = 1, timeout: float = 5.0):
        if scheduler is None and int(workers) < 1:
            raise ValueError(f"workers must be >= 1 (got {workers})")
        if threads_per_worker < 1:
            raise ValueError(f"threads_per_worker must be >= 1 (got {threads_per_worker})")
        self.workers = int(workers)
        self.processes = bool(processes)
        self.scheduler = scheduler
        self.threads_per_worker = int(threads_per_worker)
        self.timeout = float(timeout)
        self.client = None
        self._cluster = None

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> "DaskMap":
        from distributed import Client, LocalCluster

        if self.scheduler is not None:
            try:
                self.client = Client(self.scheduler, timeout=f"{self.timeout}s")
            except (OSError, TimeoutError) as err:  # a closed port retries until the timeout
                raise ConnectionError(f"--scheduler {self.scheduler}: no Dask scheduler answered within "
                                      f"{self.timeout:g} s (--connect-timeout): {str(err).splitlines()[0]}") from None
        else:
            self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=self.threads_per_worker,
                                         processes=self.processes, dashboard_address=":0",
                                         silence_logs=logging.ERROR)
            self.client = Client(self._cluster)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the client and, if this object started it, the local cluster."""
        if self.client is not None:
            self.client.close()
            self.client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    # ------------------------------------------------------------------ mapping
    def __call__(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """Submit ``fn(item)`` for every item; yield results as they complete."""
        from distributed import as_completed

        if self.client is None:
            raise RuntimeError("DaskMap is not started: use it as `with DaskMap(...) as dmap:`")
        futures = self.client.map(fn, list(items), pure=False)
        try:
            for fut in as_completed(futures):
                yield fut.result()
        finally:  # an interrupted consumer must not leave work running on the cluster
            self.client.cancel(futures)

    def __repr__(self) -> str:
        where = self.scheduler or f"local, {self.workers} {'processes' if self.processes else 'threads'}"
        return f"DaskMap({where}, {'started' if self.client else 'not started'})"
