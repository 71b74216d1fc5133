"""Indexed parameters (``[indexed]``): amounts written as shares of national series, resolved to yuan.

This module owns the resolution of :class:`~actuarial.scenario.rules.Indexed` into the yuan fields
the engines read (``cii.deductible``, ``cii.poor_deductible``, ``funding.basic_fund_per_capita``).
Resolution happens on the raw scenario data, before validation, so a loaded scenario is an
ordinary one: every engine, the exact method and the solvers work on it unchanged. A file that
writes both the yuan field and its indexed form is an error (one home per number), unless they agree
(as in a dumped scenario validated again).

Hand-worked example (the 2019 national rule, contract year 1 in 2020): deductible 50 % of the
2019 residents' per-capita disposable income 30,733 = 15,366.5 yuan; the poor 25 % = 7,683.25.

>>> data = {"indexed": {"base_year": 2020, "income_series": "residents", "deductible_income_percent": 50,
...                     "poor_deductible_income_percent": 25}, "cii": {}}
>>> resolve_raw(data)["cii"]
{'deductible': 15366.5, 'poor_deductible': 7683.25}
"""

from __future__ import annotations

from typing import Any, Mapping

from pydantic import ValidationError

from ..config.income import basic_funding, per_capita_income
from ..errors import TableYearError
from .rules import SCHEME_SERIES, Indexed

# (yuan path, Indexed field that sets it)
_TARGETS = (("cii.deductible", "deductible_income_percent"),
            ("cii.poor_deductible", "poor_deductible_income_percent"),
            ("medical_assistance.deductible", "assistance_deductible_income_percent"),
            ("funding.basic_fund_per_capita", "basic_fund"))
_INCOME_TARGETS = _TARGETS[:3]


def _error(field: str, message: str) -> ValueError:
    # The "@field: " prefix makes the scenario loader report the dotted field (actuarial.scenario.base._field_error).
    return ValueError(f"@{field}: {message}")


def income_series_for(spec: Indexed, schemes) -> str:
    """The income series (urban / rural / residents) a deductible follows, given the population's schemes."""
    if spec.income_series != "scheme":
        return spec.income_series
    series = sorted({SCHEME_SERIES[s] for s in schemes if s in SCHEME_SERIES})
    if len(series) != 1:
        raise _error("indexed.income_series", f"'scheme' needs one income series, but population.scheme_shares "
                     f"{sorted(schemes)} mixes {series}; the CII deductible is one number, so name the series "
                     "(urban, rural, residents) or write one file per scheme")
    return series[0]


def resolve_raw(data: Any) -> Any:
    """Raw scenario data with the ``[indexed]`` amounts written in yuan (a new dict; the input is not changed).

    Leaves data without a valid ``[indexed]`` section as it is (the validator then reports the section's
    own errors). Raises ValueError("@field: ...") for a yuan field given twice or a year outside the tables.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("indexed"), Mapping):
        return data
    data = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in data.items()}
    try:
        spec = Indexed.model_validate(data["indexed"])
    except ValidationError:  # reported by the normal validation; placeholders keep the indexed
        raw = data["indexed"]  # fields from being reported missing as well
        if "deductible_income_percent" in raw and isinstance(data.get("cii"), dict):
            data["cii"].setdefault("deductible", 0.0)
        if ("basic_fund" in raw or "basic_fund_base" in raw) and isinstance(data.get("funding"), dict):
            data["funding"].setdefault("basic_fund_per_capita", {s: 1.0 for s in SCHEME_SERIES})
        return data
    data.setdefault("cii", {})
    data.setdefault("funding", {})
    population = data.get("population") if isinstance(data.get("population"), Mapping) else {}
    schemes = population.get("scheme_shares") or {"merged": 1.0}
    if spec.assistance_deductible_income_percent is not None and not isinstance(data.get("medical_assistance"), dict):
        raise _error("medical_assistance", "missing; indexed.assistance_deductible_income_percent needs a "
                     "[medical_assistance] section")
    if not isinstance(data["cii"], dict) or not isinstance(data["funding"], dict):
        return data
    given: dict[str, Any] = {}
    for path, field in _TARGETS:
        section, key = path.split(".")
        if getattr(spec, field) is None and not (field == "basic_fund" and spec.indexes_funding):
            continue
        target = data[section]
        if key in target and target[key] not in (None, {}):
            given[path] = target.pop(key)  # checked against the resolved value below (a dumped scenario agrees)
    if any(getattr(spec, field) is not None for _, field in _INCOME_TARGETS):
        series = income_series_for(spec, schemes)
        try:
            income = per_capita_income(series, spec.income_year, spec.income_growth_percent)
        except TableYearError as err:
            raise _error("indexed.base_year", f"contract year {spec.contract_year} (calendar {spec.calendar_year}) "
                         f"needs the prior year's income: {err}; use indexed.income_growth_percent") from None
        for path, field in _INCOME_TARGETS:
            if getattr(spec, field) is not None:
                section, key = path.split(".")
                data[section][key] = round(income * getattr(spec, field) / 100, 2)
    if spec.indexes_funding:
        data["funding"]["basic_fund_per_capita"] = _basic_fund(spec, schemes)
    for path, value in given.items():  # a file giving both forms is an error unless they agree
        section, key = path.split(".")
        field = dict(_TARGETS)[path]
        if not _same(value, data[section][key]):
            source = "basic_fund / basic_fund_base" if field == "basic_fund" else field
            raise _error(path, f"given both in yuan ({value!r}) and as indexed.{source} "
                         f"({data[section][key]!r} for contract year {spec.contract_year}); give one of them")
    return data


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return set(a) == set(b) and all(_same(a[k], b[k]) for k in a)
    try:
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))
    except (TypeError, ValueError):
        return False


def _basic_fund(spec: Indexed, schemes) -> dict[str, float]:
    if spec.basic_fund_base:
        grow = (1 + spec.basic_fund_growth_percent / 100) ** (spec.contract_year - 1)
        return {s: round(v * grow, 2) for s, v in spec.basic_fund_base.items()}
    try:
        amount = basic_funding(spec.calendar_year, spec.basic_fund_growth_percent)
    except TableYearError as err:
        raise _error("indexed.basic_fund", f"contract year {spec.contract_year} (calendar {spec.calendar_year}): "
                     f"{err}; use indexed.basic_fund_growth_percent") from None
    return {s: amount for s in schemes}


def unresolve(data: dict, dotted: Mapping[str, Any]) -> None:
    """Prepare a dumped scenario for :meth:`Scenario.replace`: a yuan field being replaced stops being
    indexed (the new yuan value wins); the other resolved fields are removed, to be resolved again."""
    spec = data.get("indexed")
    if not spec:
        return
    for path, field in _TARGETS:
        section, key = path.split(".")
        replaced = any(p == path or p.startswith(path + ".") for p in dotted)
        indexed = spec.get(field) is not None or (field == "basic_fund" and spec.get("basic_fund_base"))
        if not indexed:
            continue
        if replaced:
            spec[field] = None
            if field == "basic_fund":
                spec["basic_fund_base"] = {}
        else:
            data[section].pop(key, None)


def for_contract_year(scenario, year: int):
    """``scenario`` with its ``[indexed]`` amounts resolved for contract ``year`` (1 = the first);
    the same scenario when it has no ``[indexed]`` section.

    >>> from actuarial import load_scenario
    >>> sc = load_scenario("scenarios/national_2019_residents.toml")
    >>> sc.cii.deductible, for_contract_year(sc, 2).cii.deductible   # 50 % of 2018's 28,228, then of 2019's 30,733
    (14114.0, 15366.5)
    """
    if getattr(scenario, "indexed", None) is None:
        return scenario
    return scenario.replace(**{"indexed.contract_year": int(year)})
