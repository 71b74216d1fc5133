"""Sensitivity sweeps (敏感性分析): simulate a scenario at many parameter points and tabulate the metrics.

A :class:`Sweep` names a base scenario, a design and the parameters to vary.
Each parameter is a dotted field path of the scenario (``cii.deductible``); a
``*`` matches every element of a list or table (``cii.tiers.*.rate_percent``,
``claims.streams.*.episodes_by_age``), and the value is applied in one of three
modes:

* ``set``   — the field becomes the value (``cii.deductible = 6000``);
* ``scale`` — the field is multiplied by the value; a list of numbers is scaled
  element by element (``episodes_by_age *= 1.1``: utilisation +10 %);
* ``add``   — the value is added (``rate_percent += 5``: five points more).

Designs
-------
``tornado``  one at a time: the base point, then each parameter at ``low`` and
             ``high`` with the others at base (2k + 1 points).
``grid``     every combination of each parameter's ``values``.
``lhs``      ``samples`` Latin-hypercube points in the box ``[low, high]^k``
             (:class:`scipy.stats.qmc.LatinHypercube`).

Seeds
-----
With common random numbers (CRN, the default for tornado and grid) every point
runs with the sweep's seed, so the same people fall ill in the same simulated
years at every point and the difference between two points measures the
parameter's effect, not the luck of the draws. For parameters that act on
amounts (costs, trend, deductible, tiers, premium) the draws stay aligned and
the difference's standard error is about ten times smaller than with
independent seeds (provincial guideline, 300,000 insured × 4 years); for
parameters that change episode counts (utilisation, prevalence, dispersion)
the streams re-align only partly (about 1.5 times smaller). Points that differ
only in the CII design, funding or fee rate even share one heavy pass. Without
CRN (the default for LHS, where points are a sample of the parameter space)
point *i* gets its own seed, spawned from the sweep seed and *i* with
:class:`numpy.random.SeedSequence`.

Results
-------
A tidy table, one row per point × metric: ``point``, the parameter values, the
point's ``seed``, ``metric``, ``estimate`` and its Monte Carlo ``se``. With an
output directory each finished point is written at once as a small parquet
part, so an interrupted sweep resumes where it stopped: running it again skips
finished points (it refuses a directory holding another sweep's results).

This package does not simulate (:mod:`actuarial.results.simulation`) nor move work
(:mod:`actuarial.engines.parallel`); it builds points (:mod:`~actuarial.sweep.definition`), runs them
(:mod:`~actuarial.sweep.run`), collects numbers (:mod:`~actuarial.sweep.results`) and keeps them
(:mod:`~actuarial.sweep.store`).

>>> from actuarial import load_scenario
>>> base = load_scenario("scenarios/provincial_guideline.toml").replace(**{"population.size": 20000})
>>> sw = Sweep(base=base, design="tornado", years=2, seed=1, outputs=("claims_per_capita",),
...            parameters=[Parameter(name="deductible", path="cii.deductible", low=6000, high=10000)])
>>> sw.points()[["side", "deductible"]].values.tolist()
[['base', 8000.0], ['low', 6000.0], ['high', 10000.0]]
>>> res = run_sweep(sw, progress=False)
>>> t = res.tornado()                      # yuan per person-year at low / base / high
>>> bool(t.low_estimate[0] > t.base_estimate[0] > t.high_estimate[0])
True
"""

from __future__ import annotations

from ..errors import SweepError  # re-exported: its old home
from ..config.paths import resolve_path  # re-exported: the one dotted-path helper
from .store import FORMAT_VERSION  # re-exported
from .definition import (
    DESIGNS,
    METRICS,
    RESERVED,
    SWEEP_STREAM,
    Parameter,
    Sweep,
    _combine,
    _Model,
    load_sweep,
)
from .results import SweepResult
from .run import _run_group, _tasks, run_sweep

__all__ = [
    "SweepError",
    "resolve_path",
    "FORMAT_VERSION",
    "DESIGNS",
    "METRICS",
    "Parameter",
    "RESERVED",
    "SWEEP_STREAM",
    "Sweep",
    "_Model",
    "_combine",
    "load_sweep",
    "_run_group",
    "_tasks",
    "run_sweep",
    "SweepResult",
]
