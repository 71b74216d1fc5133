"""A sweep's definition: its parameters, design (tornado, grid, Latin hypercube), outputs and
seeds, validated from a TOML file, and the points it expands to.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ..config.paths import resolve_path, thaw
from ..model import rng as rngmod
from ..scenario import (
    Scenario,
    ScenarioError,
    _format_errors,
    load_scenario,
    read_toml,
    validate_scenario,
)
from ..scenario import _Model as _ScenarioModel
from .store import FORMAT_VERSION

DESIGNS = ("tornado", "grid", "lhs")
METRICS = (
    "insured", "premium_per_capita", "claims_per_capita", "break_even_premium", "beneficiaries_per_10k",
    "benefit_per_beneficiary", "actual_payment_ratio", "payment_ratio_above_deductible", "loss_ratio",
    "basic_paid_per_capita", "oop_compliant_per_capita", "catastrophic_per_10k", "catastrophic_avoided_per_10k",
    "prob_claims_exceed_net_premium",
)
"""Metrics a sweep can report: the keys of :meth:`actuarial.results.simulation.SimulationResult.metrics`."""

RESERVED = ("point", "varied", "side", "seed", "metric", "estimate", "se")


SWEEP_STREAM = rngmod.PURPOSES["sweep"][0]
"""First spawn-key entry of the sweep's point seeds (registered in :data:`actuarial.model.rng.PURPOSES`)."""


from ..contract.exact_metrics import RISK_METRICS
from ..errors import SweepError  # noqa: E402  (re-exported: its old home)


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
        default="brute", description="simulation engine (see engine.accumulate), or exact (actuarial.contract.exact_metrics)")
    source: str = Field(default="<sweep>", exclude=True)

    @field_validator("outputs")
    @classmethod
    def _outputs(cls, v: tuple[str, ...]) -> tuple[str, ...]:
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
