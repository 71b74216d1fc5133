"""The whole scenario (:class:`Scenario`), editing by dotted path, and loading a file with errors that
name the file, the dotted field, the valid range and the value.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Mapping, get_args

import tomllib
from pydantic import BaseModel, ValidationError, model_validator
from pydantic.fields import FieldInfo

from ..config.paths import set_path
from ..errors import PathError, ScenarioError
from .base import _BOUND_TEXT, SCHEMES, _bounds, _field_error, _Model, _num
from .contract import Contract
from .design import CII, Basic, Funding
from .episodes import Claims
from .indexing import resolve_raw, unresolve
from .people import Population, Programme
from .rules import Drivers, Households, Indexed, MedicalAssistance


# --------------------------------------------------------------------------- scenario
class Scenario(_Model):
    """A whole programme: population, claims model, basic insurance, CII design, funding, contract."""

    programme: Programme
    population: Population
    funding: Funding
    claims: Claims = Claims()
    basic: Basic = Basic()
    cii: CII
    contract: Contract = Contract()
    indexed: Indexed | None = None
    """Amounts indexed on national series, resolved to yuan at loading (:mod:`actuarial.scenario.indexing`)."""
    drivers: Drivers | None = None
    """Multi-year drivers of the contract term (:mod:`actuarial.contract.projection`)."""
    medical_assistance: MedicalAssistance | None = None
    """Medical assistance (医疗救助), the third layer after CII (:mod:`actuarial.model.assistance`)."""
    households: Households | None = None
    """Households for catastrophic health expenditure against income (:mod:`actuarial.results.households`)."""

    @model_validator(mode="before")
    @classmethod
    def _resolve_indexed(cls, data: Any) -> Any:
        return resolve_raw(data)

    @model_validator(mode="after")
    def _cross(self) -> "Scenario":
        missing = sorted(set(self.population.scheme_shares) - self.funding.schemes())
        if missing:
            where = "per_capita" if self.funding.per_capita else "basic_fund_per_capita"
            raise _field_error(f"funding.{where}", f"no amount for schemes {missing} that population.scheme_shares uses; "
                               f"give one for each of {sorted(self.population.scheme_shares)}")
        streams_levels = {lvl for s in self.claims.streams for lvl, sh in s.level_mix.items() if sh > 0 and s.setting == "inpatient"}
        missing_lv = sorted(streams_levels - set(self.basic.inpatient))
        if missing_lv:
            raise _field_error("basic.inpatient", f"no terms for levels {missing_lv} that the inpatient streams use")
        if self.cii.scope:
            covered = {s.disease for s in self.claims.streams}
            if not covered & set(self.cii.scope):
                raise _field_error("cii.scope", f"{list(self.cii.scope)} matches no claims stream; "
                                   f"the streams' diseases are {sorted(covered)}")
        return self

    def premium_by_scheme(self, funding: Funding | None = None) -> list[float]:
        """CII premium per insured person-year for each of SCHEMES, yuan (0 for schemes the population
        does not have); ``funding`` defaults to the scenario's."""
        funding = funding or self.funding
        return [funding.premium_per_capita(s) if s in self.population.scheme_shares else 0.0 for s in SCHEMES]

    # Convenience for sweeps and the inverse solvers.
    def replace(self, **dotted: Any) -> "Scenario":
        """A copy with fields replaced by dotted path (``"cii.deductible"``), validated again.

        >>> s = load_scenario("scenarios/qinzhou_2016.toml")
        >>> s.replace(**{"cii.deductible": 5000, "funding.per_capita.merged": 30}).cii.deductible
        5000.0
        """
        data = self.model_dump(mode="python")

        unresolve(data, dotted)  # indexed yuan fields are resolved again, unless replaced here
        for path, value in dotted.items():
            _set_dotted(data, path, value)
        return validate_scenario(data, source="<replace>")


def _set_dotted(data: dict, path: str, value: Any) -> None:
    try:
        set_path(data, path, value)
    except PathError as e:
        if e.prefix == path:
            raise ScenarioError(f"cannot set '{path}'") from None
        raise ScenarioError(f"unknown field path '{path}' (no '{e.prefix}')") from None
    except ValueError:  # a list index that is not a number
        raise ScenarioError(f"cannot set '{path}'") from None


_SEVERITY_TAGS = ("lognormal", "gamma", "spliced_pareto", "scipy", "histogram")
def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models inside a type (through Annotated, Optional, unions, tuples and dict values)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _field_at(loc: tuple) -> tuple[FieldInfo | None, list[type[BaseModel]], bool]:
    """The field at a pydantic error location, the models that may hold its next key, and whether
    the location ends inside the field's value (a dict entry or a tuple item) rather than at the field."""
    models: list[type[BaseModel]] = [Scenario]
    info, inside = None, False
    for part in loc:
        owner = next((m for m in models if isinstance(part, str) and part in m.model_fields), None)
        if owner is None:  # a tuple index, a dict key or a union tag: stay in the same field
            inside = True
            continue
        info, inside = owner.model_fields[part], False
        models = _models_in(info.annotation)
    return info, models, inside


def _explain(e: dict) -> tuple[tuple, str, bool]:
    """(location, message, show the value?) for one pydantic error, in the file's terms."""
    loc = tuple(e["loc"])
    kind = e["type"]
    msg = e["msg"].removeprefix("Value error, ")
    if msg.startswith("@"):  # a model-level check naming its field (see _field_error)
        field, _, msg = msg[1:].partition(": ")
        return loc + tuple(field.split(".")), msg, False
    info, models, inside = _field_at(loc)
    if kind == "missing":
        if len(loc) == 1:
            return loc, f"missing section [{loc[0]}] (required)", False
        return loc, "missing (required)", False
    if kind == "extra_forbidden":
        parent = _field_at(loc[:-1])[1] if len(loc) > 1 else [Scenario]
        allowed = sorted({f for m in parent for f in m.model_fields})
        return loc, f"unknown field (check the spelling); allowed fields here: {', '.join(allowed)}", False
    if loc and loc[-1] == "[key]":  # a dict key outside its allowed names
        return loc[:-1], f"unknown name {e['input']!r}; allowed: {msg.removeprefix('Input should be ')}", False
    if kind == "union_tag_invalid":
        return loc + ("family",), f"unknown family {e['ctx']['tag']!r}; allowed: {e['ctx']['expected_tags']}", False
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bounds = _bounds(info, inside) or dict(e.get("ctx", {}))
        rng = " and ".join(f"{_BOUND_TEXT[k]} {_num(v)}" for k, v in bounds.items() if k in _BOUND_TEXT)
        return loc, f"must be {rng}", True
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        bounds = _bounds(info, inside)
        rng = " and ".join(f"{_BOUND_TEXT[k]} {_num(v)}" for k, v in bounds.items())
        number = "a whole number" if kind.startswith("int") else "a number"
        return loc, f"must be {number}{' ' + rng if rng else ''}", True
    return loc, msg.replace("Input should be", "must be"), True


def _typos(errors: list[dict]) -> list[dict]:
    """A misspelt key is two pydantic errors (the unknown key, and the real one missing): keep one,
    naming both, so a typo is one line."""
    missing = {tuple(e["loc"]): e for e in errors if e["type"] == "missing"}
    out, used = [], set()
    for e in errors:
        loc = tuple(e["loc"])
        if e["type"] == "extra_forbidden" and loc:
            near = [m for m in missing if m[:-1] == loc[:-1] and m not in used]
            guess = difflib.get_close_matches(str(loc[-1]), [str(m[-1]) for m in near], n=1, cutoff=0.6)
            if guess:
                used.add(loc[:-1] + (guess[0],))
                real = ".".join(str(p) for p in loc[:-1] + (guess[0],))
                allowed = _explain(e)[1].partition("; ")[2]
                out.append({**e, "type": "typo", "msg": f"unknown field; did you mean '{guess[0]}'? "
                                                        f"({real}: missing, required); {allowed}"})
                continue
        out.append(e)
    return [e for e in out if not (e["type"] == "missing" and tuple(e["loc"]) in used)]


def _format_errors(err: ValidationError, source: str) -> str:
    """One line per problem: ``file: dotted.field: what is wrong and what is allowed (got value)``."""
    lines = []
    for e in _typos(err.errors()):
        if e["type"] == "typo":
            lines.append(f"{source}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}")
            continue
        loc, msg, show = _explain(e)
        path = ".".join(str(p) for p in loc if p not in _SEVERITY_TAGS)
        got = e.get("input")
        shown = f" (got {got!r})" if show and not isinstance(got, (dict, list, tuple)) else ""
        lines.append(f"{source}: {path or '<top>'}: {msg}{shown}")
    return "\n".join(lines)


def validate_scenario(data: Mapping[str, Any], source: str = "<dict>") -> Scenario:
    """Validate a mapping (e.g. parsed TOML) into a :class:`Scenario`, or raise :class:`ScenarioError`."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_format_errors(err, source)) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file.

    >>> s = load_scenario("scenarios/provincial_guideline.toml")
    >>> s.cii.deductible
    8000.0
    """
    path = Path(path)
    return validate_scenario(read_toml(path, "scenario"), source=str(path))


def read_toml(path: Path, kind: str, error: type[Exception] = ScenarioError) -> dict:
    """Parse a TOML file of the given ``kind`` (scenario, bid, sweep), or raise ``error`` naming the file."""
    if not path.is_file():
        raise error(f"{path}: is a directory, not a {kind} file" if path.is_dir() else f"{path}: no such {kind} file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:  # e.g. no read permission
        raise error(f"{path}: cannot read the {kind} file ({err.strerror or err})") from None
    except tomllib.TOMLDecodeError as err:
        raise error(f"{path}: not valid TOML: {err}") from None
    except UnicodeDecodeError as err:
        raise error(f"{path}: not UTF-8 text ({err}); save the file as UTF-8") from None
