"""The scenario vocabulary (schemes, hospital levels, locations, disease groups), the strict base model
of every scenario table, and the number types (yuan, percent) with their checks.
"""

from __future__ import annotations

import math
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.fields import FieldInfo

SCHEMES = ("urban", "ncms", "merged")
"""Basic schemes: urban residents (城镇居民医保), rural NCMS (新农合), merged (城乡居民医保)."""

LEVELS = ("primary", "secondary", "tertiary", "out_of_area")
"""Hospital levels of an episode; ``out_of_area`` is care outside the pooling area (异地就医)."""

LOCATIONS = (
    "local",
    "in_province_referred",
    "in_province_unreferred",
    "out_of_province_referred",
    "out_of_province_unreferred",
)
"""Where an episode was treated, for the CII out-of-area rules (统筹区外 / 省外, 转诊)."""

DISEASES = ("general", "cancer", "uremia_dialysis", "transplant_antirejection", "mental_illness", "chronic_other",
            "cancer_radio_chemo", "cancer_other_listed", "mental_illness_listed")
"""Disease groups an episode stream may carry; disease-list schemes (病种) select some.

Treatment-level groups, for schemes that list treatments rather than diseases: ``cancer_radio_chemo``
(恶性肿瘤放化疗: radio- and chemotherapy courses; Daqing l.811, Shanghai l.547),
``cancer_other_listed`` (Shanghai's other listed cancer treatments: 内分泌特异治疗, 同位素, 介入, 中医,
l.547) and ``mental_illness_listed`` (Shanghai's seven listed mental illnesses, l.547). A scenario
splits a disease's episodes between streams of these groups (a stream per treatment group) and
the plain group (``cancer``: surgery, diagnosis and the rest) instead of raising a prevalence."""

# The same names as types for the schema (Literal of a tuple lists its members).
Scheme = Literal[SCHEMES]
Level = Literal[LEVELS]
Disease = Literal[DISEASES]
AwayLocation = Literal[LOCATIONS[1:]]




def _field_error(field: str, message: str) -> ValueError:
    """An error found by a model-level check that belongs to one of the model's fields.

    Pydantic places such errors at the model; the loader moves them to
    ``<model path>.<field>`` so the message names the field the user must fix.
    """
    return ValueError(f"@{field}: {message}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _strict_numbers(cls, data: Any) -> Any:
        """Numbers must be numbers: ``true`` is not 1 yuan and ``"8000"`` (a quoted number) is not 8000,
        both being typos more often than intent; NaN is no value at all. (Pydantic's lax mode would
        take all three.) The error names the field (see :func:`_field_error`)."""
        if not isinstance(data, dict):
            return data
        for name, value in data.items():
            field = cls.model_fields.get(name)
            kind = _number_kind(field.annotation) if field is not None else None
            if kind is None:
                continue
            if kind[0]:
                bad = [(None, value)] if _not_a_number(value) else []
            elif isinstance(value, dict):
                bad = [(k, v) for k, v in value.items() if _not_a_number(v)]
            elif isinstance(value, (list, tuple)):
                bad = [(i, v) for i, v in enumerate(value) if _not_a_number(v)]
            else:
                bad = []
            if bad:
                where, got = bad[0]
                rng = " and ".join(f"{_BOUND_TEXT[k]} {_num(v)}" for k, v in _bounds(field, not kind[0]).items())
                if isinstance(got, float):  # NaN
                    raise _field_error(name if where is None else f"{name}.{where}",
                                       f"must be a finite number{' ' + rng if rng else ''} (got nan)")
                what = ("NaN is not a value" if isinstance(got, float) else
                        "a string: write the number unquoted" if isinstance(got, str) else
                        "true/false is not a number")
                raise _field_error(name if where is None else f"{name}.{where}", f"must be a number{' ' + rng if rng else ''} ({what}) (got {got!r})")
        return data


def _not_a_number(v: Any) -> bool:
    return isinstance(v, (bool, str)) or (isinstance(v, float) and math.isnan(v))


def _number_kind(annotation: Any) -> tuple[bool, bool] | None:
    """(scalar, items) when a field holds a number, or a tuple / dict of numbers; None otherwise."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if annotation in (int, float):
        return True, False
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, UnionType):
        arms = [a for a in args if a is not type(None)]
        kinds = [_number_kind(a) for a in arms]
        return kinds[0] if len(arms) == 1 else None
    if origin in (tuple, dict) and args:
        inner = args[-1] if origin is dict or args[-1] is not Ellipsis else args[0]
        k = _number_kind(inner)
        return (False, True) if k == (True, False) else None
    return None


Percent = Annotated[float, Field(ge=0, le=100)]
Yuan = Annotated[float, Field(ge=0, allow_inf_nan=False)]
PositiveYuan = Annotated[float, Field(gt=0, allow_inf_nan=False)]


_BOUND_TEXT = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def _num(v: float) -> str:
    if not float(v).is_integer():
        return f"{v:g}"
    return f"{int(v):_}" if abs(v) >= 10_000 else str(int(v))  # as TOML writes big numbers; years stay 1990


def _bounds(info: FieldInfo | None, inside: bool) -> dict[str, float]:
    """Numeric bounds (gt/ge/lt/le) of a field, or of its dict values / tuple items when ``inside``."""
    if info is None:
        return {}
    metadata = list(info.metadata)
    if inside:  # e.g. dict[Literal[...], Percent]: the bounds sit on the value type
        args = get_args(info.annotation)
        metadata = [m for inner in getattr(args[-1] if args else None, "__metadata__", ())
                    for m in getattr(inner, "metadata", [inner])]
    out = {}
    for m in metadata:
        for key in _BOUND_TEXT:
            if getattr(m, key, None) is not None:
                out[key] = getattr(m, key)
    return out
