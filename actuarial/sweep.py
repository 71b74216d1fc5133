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

This module does not simulate (:mod:`actuarial.results`) nor move work
(:mod:`actuarial.parallel`); it builds points, runs them and collects numbers.

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

import hashlib
from contextlib import nullcontext
import itertools
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from . import rng as rngmod
from .crn import group_designs
from .paths import resolve_path, thaw  # noqa: F401  (resolve_path re-exported: the one dotted-path helper)
from .sweep_store import FORMAT_VERSION, SweepStore  # noqa: F401  (FORMAT_VERSION re-exported)
from .scenario import _Model as _ScenarioModel
from .scenario import Scenario, ScenarioError, _format_errors, load_scenario, read_toml, validate_scenario

DESIGNS = ("tornado", "grid", "lhs")
METRICS = (
    "insured", "premium_per_capita", "claims_per_capita", "break_even_premium", "beneficiaries_per_10k",
    "benefit_per_beneficiary", "actual_payment_ratio", "payment_ratio_above_deductible", "loss_ratio",
    "basic_paid_per_capita", "oop_compliant_per_capita", "catastrophic_per_10k", "catastrophic_avoided_per_10k",
    "prob_claims_exceed_net_premium",
)
"""Metrics a sweep can report: the keys of :meth:`actuarial.results.SimulationResult.metrics`."""

RESERVED = ("point", "varied", "side", "seed", "metric", "estimate", "se")


SWEEP_STREAM = rngmod.PURPOSES["sweep"][0]
"""First spawn-key entry of the sweep's point seeds (registered in :data:`actuarial.rng.PURPOSES`)."""


from .errors import SweepError  # noqa: E402  (re-exported: its old home)


# --------------------------------------------------------------------------- field paths
def _combine(current: Any, value: float, mode: str) -> Any:
    if mode == "set":
        return value
    if isinstance(current, (list, tuple)):
        return [_combine(c, value, mode) for c in current]
    if isinstance(current, bool) or not isinstance(current, (int, float)):
        raise TypeError(f"'{mode}' needs a number or a list of numbers (the field holds {current!r})")
    return current * value if mode == "scale" else current + value


# --------------------------------------------------------------------------- configuration
class _Model(_ScenarioModel):  # its strict numbers: years = true is not 1
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=False)


class Parameter(_Model):
    """One swept parameter: a dotted scenario path, a mode and its range or values.

    ``low``/``high`` (tornado, LHS) and ``values`` (grid) are in the mode's units:
    the field's own units for ``set``, a multiplier for ``scale`` (1 = unchanged),
    an increment for ``add`` (0 = unchanged). ``integer`` rounds LHS draws.
    """

    name: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="column name in the results")
    path: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_*]+(\.[A-Za-z0-9_*]+)*$")
    mode: Literal["set", "scale", "add"] = "set"
    low: float | None = Field(default=None, allow_inf_nan=False)
    high: float | None = Field(default=None, allow_inf_nan=False)
    values: tuple[float, ...] | None = Field(default=None, min_length=1)
    integer: bool = False

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, v: str) -> str:
        if v in RESERVED:
            raise ValueError(f"'{v}' is a reserved column name; choose another (reserved: {list(RESERVED)})")
        return v

    @model_validator(mode="after")
    def _range(self) -> "Parameter":
        if (self.low is None) != (self.high is None):
            raise ValueError("give both low and high")
        if self.low is not None and self.low > self.high:
            raise ValueError(f"low must be <= high (got low={self.low}, high={self.high})")
        return self

    def neutral(self, base: Scenario) -> float:
        """The value that leaves the base scenario unchanged (1 for scale, 0 for add, the field for set)."""
        if self.mode != "set":
            return 1.0 if self.mode == "scale" else 0.0
        vals = [c[k] for _, c, k in resolve_path(base.model_dump(mode="python"), self.path)]
        current = {repr(v) for v in vals}
        if len(current) != 1 or isinstance(vals[0], bool) or not isinstance(vals[0], (int, float)):
            raise TypeError(f"its base value is not one number ({', '.join(sorted(current))}); "
                            "use mode 'scale' or 'add' for lists")
        return float(vals[0])


class Sweep(_Model):
    """A sensitivity sweep: base scenario, design, parameters, metrics, simulated years and seed.

    ``common_random_numbers`` defaults to True for tornado and grid, False for LHS
    (see the module docstring). ``source`` names the sweep file in error messages.
    """

    base: Scenario
    design: Literal["tornado", "grid", "lhs"] = "tornado"
    parameters: tuple[Parameter, ...] = Field(min_length=1)
    outputs: tuple[str, ...] = ("claims_per_capita", "break_even_premium", "loss_ratio")
    years: int = Field(default=10, ge=1, le=100_000)
    seed: int = Field(default=0, ge=0, le=2**63 - 1, description="fits the int64 seed column of the results")
    contract_year: int = Field(default=0, ge=0, le=10, description="0 = first contract year; the cost trend applies this many times")
    samples: int | None = Field(default=None, ge=1, le=100_000, description="LHS points")
    common_random_numbers: bool | None = None
    engine: Literal["auto", "brute", "fast", "gpu", "exact"] = Field(
        default="brute", description="simulation engine (see engine.accumulate), or exact (actuarial.exact_engine)")
    source: str = Field(default="<sweep>", exclude=True)

    @field_validator("outputs")
    @classmethod
    def _outputs(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        from .exact_engine import RISK_METRICS  # risk metrics: engine "exact" only (checked when run)

        bad = [m for m in v if m not in METRICS + RISK_METRICS]
        if bad or not v:
            raise ValueError(f"unknown metrics {bad}; choose from {list(METRICS)} (engine exact also {list(RISK_METRICS)})")
        return v

    @model_validator(mode="after")
    def _design(self) -> "Sweep":
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            raise ValueError(f"parameter names must be unique (got {names})")
        for i, p in enumerate(self.parameters):
            if self.design == "grid" and p.values is None:
                raise ValueError(f"parameters.{i} ({p.name}): the grid design needs 'values'")
            if self.design != "grid" and p.low is None:
                raise ValueError(f"parameters.{i} ({p.name}): the {self.design} design needs 'low' and 'high'")
        if (self.design == "lhs") != (self.samples is not None):
            raise ValueError("'samples' is needed for, and only for, the lhs design")
        return self

    @property
    def crn(self) -> bool:
        """Whether every point uses the sweep seed (common random numbers)."""
        return self.design != "lhs" if self.common_random_numbers is None else self.common_random_numbers

    # ------------------------------------------------------------------ points
    def points(self) -> pd.DataFrame:
        """One row per point: ``point``, (tornado: ``varied``, ``side``), parameter values, ``seed``."""
        names = [p.name for p in self.parameters]
        extra: dict[str, list] = {}
        if self.design == "tornado":
            base = []
            for i, p in enumerate(self.parameters):
                try:
                    base.append(p.neutral(self.base))
                except (KeyError, TypeError) as err:
                    raise self._parameter_error(i, err) from None
            rows, extra = [base], {"varied": [""], "side": ["base"]}
            for j, p in enumerate(self.parameters):
                for side, v in (("low", p.low), ("high", p.high)):
                    rows.append(base[:j] + [v] + base[j + 1:])
                    extra["varied"].append(p.name)
                    extra["side"].append(side)
        elif self.design == "grid":
            rows = [list(c) for c in itertools.product(*(p.values for p in self.parameters))]
        else:
            from scipy.stats import qmc

            g = rngmod.generator_for("sweep", self.seed, 1 << 20)  # key apart from the point seeds
            try:
                sampler = qmc.LatinHypercube(d=len(names), rng=g)
            except TypeError:  # scipy < 1.15
                sampler = qmc.LatinHypercube(d=len(names), seed=g)
            u = sampler.random(self.samples)
            lo = np.array([p.low for p in self.parameters])
            hi = np.array([p.high for p in self.parameters])
            x = lo + u * (hi - lo)
            for j, p in enumerate(self.parameters):
                if p.integer:
                    x[:, j] = np.round(x[:, j])
            rows = x.tolist()
        table = pd.DataFrame(rows, columns=names, dtype=float)
        for k, v in reversed(extra.items()):
            table.insert(0, k, v)
        table.insert(0, "point", np.arange(len(table)))
        table["seed"] = [self.point_seed(i) for i in range(len(table))]
        return table

    def _parameter_error(self, i: int, err: Exception) -> SweepError:
        p = self.parameters[i]
        return SweepError(f"{self.source}: parameters.{i} ({p.name}): path '{p.path}': {err.args[0]}")

    def point_seed(self, index: int) -> int:
        """Seed of point ``index``: the sweep seed under CRN, else one spawned from (seed, index)."""
        if self.crn:
            return int(self.seed)
        state = rngmod.seed_for("sweep", self.seed, index).generate_state(1, np.uint64)[0]
        return int(state >> np.uint64(1))  # fits int64 columns

    def scenario_at(self, values: dict[str, float], label: str = "point") -> Scenario:
        """The base scenario with each parameter applied at ``values[name]``."""
        data = thaw(self.base.model_dump(mode="python"))
        for i, p in enumerate(self.parameters):
            try:
                for _, container, key in resolve_path(data, p.path):
                    container[key] = _combine(container[key], values[p.name], p.mode)
            except (KeyError, TypeError) as err:
                raise self._parameter_error(i, err) from None
        return validate_scenario(data, source=f"{self.source} ({label})")

    def scenarios(self) -> list[Scenario]:
        """Every point's scenario, validated (errors name the point and its values)."""
        out = []
        for rec in self.points().to_dict("records"):
            values = {p.name: rec[p.name] for p in self.parameters}
            shown = ", ".join(f"{k}={v:g}" for k, v in values.items())
            try:
                out.append(self.scenario_at(values, f"point {rec['point']}: {shown}"))
            except SweepError:
                raise
            except ScenarioError as err:
                raise SweepError(f"{err}") from None
        return out

    def definition(self) -> dict:
        """JSON-ready definition (what the fingerprint covers; :meth:`SweepResult.from_dir` reads it back)."""
        # the base in python mode: an absent cap (inf) must survive (json writes it as Infinity)
        return {"format": FORMAT_VERSION, **self.model_dump(mode="json", exclude={"base"}),
                "base": self.base.model_dump(mode="python")}

    def fingerprint(self) -> str:
        """sha256 of the definition: results in a directory belong to exactly one sweep."""
        text = json.dumps(self.definition(), sort_keys=True, ensure_ascii=True)
        return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- sweep files
def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep TOML file; the base scenario path is relative to the sweep file.

    Keys: ``base`` (scenario file), ``design``, ``years``, ``seed``, ``contract_year``, ``outputs``, ``engine``,
    ``samples`` (LHS), ``common_random_numbers``, ``[overrides]`` (dotted path →
    value, applied to the base first, e.g. ``"population.size" = 200000``) and
    ``[[parameters]]`` tables (``name``, ``path``, ``mode``, ``low``/``high`` or ``values``).
    """
    path = Path(path)
    data = read_toml(path, "sweep", SweepError)
    base_file = data.pop("base", None)
    if not isinstance(base_file, str):
        raise SweepError(f"{path}: base: give the base scenario file (relative to the sweep file), e.g. "
                         f"base = \"../provincial_guideline.toml\" (got {base_file!r})")
    try:
        base = load_scenario(path.parent / base_file)
    except ScenarioError as err:
        raise SweepError(f"{path}: base: {err}") from None
    overrides = data.pop("overrides", {})
    if not isinstance(overrides, dict):
        raise SweepError(f"{path}: overrides: must be a table of dotted path = value (got {overrides!r})")
    for key, value in overrides.items():
        try:
            base = base.replace(**{key: value})
        except (ScenarioError, IndexError, ValueError) as err:
            raise SweepError(f"{path}: overrides: {str(err).replace('<replace>: ', '')}") from None
    try:
        sweep = Sweep.model_validate({**data, "base": base, "source": str(path)})
    except ValidationError as err:
        lines = _format_errors(err, str(path)).replace(f"{path}: <top>: ", f"{path}: ").splitlines()
        # a bad parameter also empties the tuple: pydantic's "at least 1 item" is not a second problem
        lines = [ln for ln in lines if not (ln.startswith(f"{path}: parameters: ") and "at least 1 item" in ln
                                            and any(o.startswith(f"{path}: parameters.") for o in lines))]
        raise SweepError("\n".join(lines)) from None
    sweep.scenarios()  # every point must be a valid scenario before anything runs
    return sweep


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
    from .engine import accumulate
    from .results import Estimate, evaluate

    scenario, seed, years, contract_year, floor, points, outputs, engine = task
    if engine == "exact":  # no draws: each point from its exact law (actuarial.exact_engine)
        from .exact_engine import point_metrics

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
    processes, scheduler : see :class:`actuarial.parallel.DaskMap`.
    map_fn : an already started ``map_fn(f, items)`` (e.g. a :class:`~actuarial.parallel.DaskMap`
        shared by several sweeps); overrides ``workers`` and ``scheduler``.
    progress : progress bar over points (default: on a terminal).
    connect_timeout : seconds to wait for ``scheduler`` (see :class:`~actuarial.parallel.DaskMap`).

    Before any work the largest pass is checked against the memory available
    (:func:`actuarial.preflight.check_memory`, raising :class:`~actuarial.errors.MemoryLimitError`).

    Points that differ only in the CII design, funding or fee rate and share a seed
    (common random numbers) share one heavy pass (:func:`actuarial.engine.accumulate`)
    and are priced on its rows, as calibration does; a grid over deductible × tier rates
    costs one simulation. The numbers do not depend on ``workers``, on this sharing or on
    interruptions: each point is a pure function of its scenario and seed.
    """
    from tqdm import tqdm  # plain text bar, as in engine.accumulate: tqdm.auto warns in notebooks without ipywidgets

    from .preflight import check_memory

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
        from .parallel import DaskMap

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


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class SweepResult:
    """The tidy results of a sweep: one row per point × metric (``estimate`` and its ``se``).

    Units are the metrics' own: yuan per person-year for ``*_per_capita`` and
    ``break_even_premium``, fractions for ratios, counts per 10,000 insured for ``*_per_10k``.
    """

    sweep: Sweep
    table: pd.DataFrame

    @classmethod
    def from_dir(cls, directory: str | Path) -> "SweepResult":
        """Re-open the results in a sweep output directory (the points finished so far).

        >>> res = SweepResult.from_dir("provincial_tornado-sweep")   # doctest: +SKIP
        """
        directory = Path(directory)
        try:
            manifest = json.loads((directory / "sweep.json").read_text(encoding="utf-8"))
            definition = {k: v for k, v in manifest["sweep"].items() if k != "format"}
        except (OSError, ValueError, KeyError) as err:
            raise SweepError(f"{directory}: not a readable sweep output directory ({err})") from None
        sweep = Sweep.model_validate({**definition, "source": manifest.get("source", str(directory))})
        store = SweepStore(directory, sweep)
        frames = store.verified(reject=False)  # a part that cannot prove its point is an error, not a row
        if not frames:
            raise SweepError(f"{directory}: no finished points yet")
        return cls(sweep, pd.concat([frames[i] for i in sorted(frames)], ignore_index=True))

    @property
    def parameter_names(self) -> list[str]:
        return [p.name for p in self.sweep.parameters]

    def wide(self, value: str = "estimate") -> pd.DataFrame:
        """One row per point, one column per metric (``value`` = 'estimate' or 'se')."""
        index = [c for c in self.table.columns if c not in ("metric", "estimate", "se")]
        points = self.table.drop_duplicates("point")[index]
        values = self.table.pivot(index="point", columns="metric", values=value)
        return points.join(values, on="point")[index + list(self.sweep.outputs)].reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """Points with each metric as 'estimate' and 'metric_se' columns."""
        est, se = self.wide("estimate"), self.wide("se")
        for m in self.sweep.outputs:
            est[f"{m}_se"] = se[m]
        return est

    def tornado(self, metric: str | None = None) -> pd.DataFrame:
        """For a tornado sweep: per parameter the metric at low, base and high, sorted by swing.

        Under common random numbers the differences to base are far more precise
        than the per-point ``se`` suggests (the same draws are reused).
        """
        metric = self._metric(metric)
        if self.sweep.design != "tornado":
            raise ValueError(f"tornado() needs a tornado sweep (this one is '{self.sweep.design}')")
        t = self.table[self.table.metric == metric]
        base = t[t.side == "base"].iloc[0]
        rows = []
        for p in self.sweep.parameters:
            lo = t[(t.varied == p.name) & (t.side == "low")].iloc[0]
            hi = t[(t.varied == p.name) & (t.side == "high")].iloc[0]
            rows.append({"parameter": p.name, "mode": p.mode, "low": p.low, "high": p.high,
                         "low_estimate": lo.estimate, "base_estimate": base.estimate, "high_estimate": hi.estimate,
                         "low_se": lo.se, "base_se": base.se, "high_se": hi.se,
                         "swing": abs(hi.estimate - lo.estimate)})
        return pd.DataFrame(rows).sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)

    def _metric(self, metric: str | None) -> str:
        metric = metric or self.sweep.outputs[0]
        if metric not in self.sweep.outputs:
            raise ValueError(f"metric '{metric}' was not swept; choose from {list(self.sweep.outputs)}")
        return metric

    def plot_tornado(self, metric: str | None = None, ax=None, whiskers: bool = False):
        """Tornado chart (matplotlib): bars from the base value to the low / high results.

        ``whiskers`` draws ±1.96 × each point's SE; under common random numbers
        that overstates the uncertainty of the bars' lengths (the differences), so it is off by default.
        """
        import matplotlib.pyplot as plt

        metric = self._metric(metric)
        t = self.tornado(metric).iloc[::-1]
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.5 * len(t) + 1.5))
        base = t.base_estimate.iloc[0]
        y = np.arange(len(t))
        for side, colour in (("low", "tab:blue"), ("high", "tab:red")):
            v = t[f"{side}_estimate"].to_numpy()
            ax.barh(y, v - base, left=base, color=colour, alpha=0.75, label=side)
            if whiskers:
                ax.errorbar(v, y, xerr=1.96 * t[f"{side}_se"].to_numpy(), fmt="none", ecolor="k", lw=0.8)
        ax.axvline(base, color="k", lw=1)
        labels = [f"{r.parameter} ({_fmt(r.low)} / {_fmt(r.high)})" for r in t.itertuples()]
        ax.set_yticks(y, labels)
        ax.set_xlabel(metric)
        ax.set_title(f"{self.sweep.base.programme.name}: sensitivity of {metric}")
        ax.legend(loc="lower right")
        return ax

    def plot_heatmap(self, x: str, y: str, metric: str | None = None, ax=None):
        """Heat map of ``metric`` over parameters ``x`` and ``y`` (mean over any other parameters)."""
        import matplotlib.pyplot as plt

        metric = self._metric(metric)
        for name in (x, y):
            if name not in self.parameter_names:
                raise ValueError(f"'{name}' is not a parameter of this sweep ({self.parameter_names})")
        t = self.table[self.table.metric == metric]
        grid = t.pivot_table(index=y, columns=x, values="estimate", aggfunc="mean")
        if ax is None:
            _, ax = plt.subplots(figsize=(1.1 * grid.shape[1] + 2.5, 0.6 * grid.shape[0] + 2))
        im = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(grid.shape[1]), [_fmt(v) for v in grid.columns])
        ax.set_yticks(range(grid.shape[0]), [_fmt(v) for v in grid.index])
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        values = grid.to_numpy()
        mid = np.nanmin(values) + 0.6 * (np.nanmax(values) - np.nanmin(values))
        for (i, j), v in np.ndenumerate(values):  # dark text on the light (high) end of viridis
            ax.text(j, i, f"{v:.3g}", ha="center", va="center", color="k" if v > mid else "w", fontsize=8)
        ax.figure.colorbar(im, ax=ax, label=metric)
        ax.set_title(metric)
        return ax

    def to_parquet(self, path: str | Path) -> None:
        """Write the tidy table (never overwrites)."""
        from .atomic import write_new

        write_new(path, lambda p: self.table.to_parquet(p, index=False))  # complete or absent

    def _repr_html_(self) -> str:
        sw = self.sweep
        head = (f"<b>Sweep ({sw.design})</b> of {sw.base.programme.name}: {self.table.point.nunique()} points × "
                f"{sw.years} simulated years, seed {sw.seed}{' (common random numbers)' if sw.crn else ''}")
        return head + self.summary().to_html(index=False, float_format=lambda v: f"{v:,.4g}")


def _fmt(v: float) -> str:
    return f"{v:,.6g}" if math.isfinite(v) else str(v)
