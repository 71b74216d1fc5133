"""Scenario files: the validated, immutable description of one programme.

A scenario (方案) is a TOML file with the sections ``programme``, ``population``,
``funding``, ``claims``, ``basic``, ``cii`` and ``contract``. This module owns the
schema, the defaults and the loading; it computes nothing.

Conventions
-----------
* Money is in yuan. Counts are per person-year.
* Fields ending in ``_percent`` hold percentages (``50`` means 50 %), as in the
  policy texts; the matching property without the suffix returns the fraction
  (``0.5``) that the engine uses.
* Every model forbids unknown keys, so a typo is an error, not a silently
  ignored setting.

Errors
------
:func:`load_scenario` raises :class:`ScenarioError`, whose message names the file,
the dotted field path, the offending value and the allowed range, e.g.::

    scenarios/bad.toml: cii.deductible: must be >= 0 (got -5)
"""

from __future__ import annotations

import difflib
import math
import tomllib
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Mapping, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo

from . import tables
from .paths import PathError, set_path
from .severities import Histogram, ScipySeverity, scipy_family
from .rules_schema import Drivers, Households, Indexed, MedicalAssistance

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


from .errors import ScenarioError  # noqa: E402  (re-exported: its old home)


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


# --------------------------------------------------------------------------- programme
class Programme(_Model):
    """Who runs the programme and where the numbers come from."""

    name: str = Field(min_length=1)
    source: str = ""
    year: int | None = Field(default=None, ge=1990, le=2100)
    notes: str = ""


# --------------------------------------------------------------------------- population
class Region(_Model):
    """One pooling area (统筹地区) of the population, with its relative medical cost level."""

    name: str = Field(min_length=1)
    share: float = Field(gt=0, le=1)
    cost_factor: float = Field(default=1.0, gt=0, le=10)


class Population(_Model):
    """Insured residents: size and composition. Shares are fractions of the insured."""

    size: int = Field(ge=1, le=2_000_000_000, description="insured persons")
    age_shares: tuple[float, ...] = Field(
        default=tables.AGE_SHARES_2010,
        description="share of insured in each 5-year age band 0-4, 5-9, ..., 85+ (18 values)",
    )
    female_share: float = Field(default=0.49, ge=0, le=1)
    scheme_shares: dict[Scheme, float] = Field(default_factory=lambda: {"merged": 1.0})
    poverty_rate_percent: dict[Scheme, Percent] = Field(default_factory=dict)
    regions: tuple[Region, ...] = (Region(name="pool", share=1.0),)

    @field_validator("age_shares")
    @classmethod
    def _age_shares(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if len(v) != len(tables.AGE_BAND_STARTS):
            raise ValueError(f"needs {len(tables.AGE_BAND_STARTS)} values (bands 0-4 ... 85+), got {len(v)}")
        if any(not math.isfinite(x) or x < 0 for x in v) or sum(v) <= 0:
            raise ValueError("values must be finite, >= 0 and not all zero")
        return v

    @field_validator("scheme_shares")
    @classmethod
    def _scheme_shares(cls, v: dict[str, float]) -> dict[str, float]:
        if not v:
            raise ValueError("at least one scheme is needed (urban, ncms, merged)")
        if any(not (0 <= x <= 1) for x in v.values()):
            raise ValueError("each share must be between 0 and 1")
        if abs(sum(v.values()) - 1) > 1e-6:
            raise ValueError(f"shares must sum to 1 (got {sum(v.values()):.6g})")
        return v

    @field_validator("regions")
    @classmethod
    def _regions(cls, v: tuple[Region, ...]) -> tuple[Region, ...]:
        if not v:
            raise ValueError("at least one region is needed")
        if abs(sum(r.share for r in v) - 1) > 1e-6:
            raise ValueError(f"region shares must sum to 1 (got {sum(r.share for r in v):.6g})")
        if len({r.name for r in v}) != len(v):
            raise ValueError("region names must be unique")
        return v

    @model_validator(mode="after")
    def _poverty_schemes(self) -> "Population":
        extra = set(self.poverty_rate_percent) - set(self.scheme_shares)
        if extra:
            raise _field_error("poverty_rate_percent", f"names schemes {sorted(extra)} that are not in "
                               f"scheme_shares; allowed: {sorted(self.scheme_shares)}")
        return self

    def poverty_rate(self, scheme: str) -> float:
        """Share of the scheme's insured in the poor population (贫困人口), as a fraction."""
        return self.poverty_rate_percent.get(scheme, 0.0) / 100


# --------------------------------------------------------------------------- severity
class LogNormalSpec(_Model):
    """Lognormal cost per episode, by its mean (yuan) and coefficient of variation."""

    family: Literal["lognormal"] = "lognormal"
    mean: PositiveYuan
    cv: float = Field(gt=0, le=20)


class GammaSpec(_Model):
    """Gamma cost per episode, by its mean (yuan) and coefficient of variation."""

    family: Literal["gamma"]
    mean: PositiveYuan
    cv: float = Field(gt=0, le=20)


class SplicedParetoSpec(_Model):
    """Lognormal body (mean, cv of the unspliced lognormal) with a Pareto tail above ``threshold``.

    The tail keeps the lognormal's probability of exceeding the threshold, so the
    body below it is unchanged; ``alpha`` (> 1) is the Pareto tail index.
    """

    family: Literal["spliced_pareto"]
    mean: PositiveYuan
    cv: float = Field(gt=0, le=20)
    threshold: PositiveYuan
    alpha: float = Field(gt=1, le=50)


class ScipySpec(_Model):
    """Any continuous ``scipy.stats`` family by ``name`` with keyword ``params`` (shape parameters,
    ``loc`` and ``scale`` in yuan), e.g. ``{family = "scipy", name = "weibull_min", params = {c = 0.9,
    scale = 9000}}``. The support must start at 0 or above and the mean be finite."""

    family: Literal["scipy"]
    name: str
    params: dict[str, float] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        scipy_family(v)  # a clear error naming the field when scipy has no such continuous family
        return v

    @model_validator(mode="after")
    def _fits(self) -> "ScipySpec":
        try:
            self.build()
        except ValueError as e:
            raise _field_error("params", str(e)) from None
        return self

    def build(self):
        """The severity object (:class:`actuarial.severities.ScipySeverity`)."""
        return ScipySeverity(self.name, self.params)


class HistogramSpec(_Model):
    """An empirical severity: piecewise uniform on bin ``edges`` (yuan, increasing, first >= 0) with bin
    ``probabilities`` (one per bin, normalised), e.g. from a claims extract's cost histogram."""

    family: Literal["histogram"]
    edges: tuple[float, ...]
    probabilities: tuple[float, ...]

    @model_validator(mode="after")
    def _fits(self) -> "HistogramSpec":
        try:
            self.build()
        except ValueError as e:
            field = "edges" if str(e).startswith("edges") else "probabilities"
            raise _field_error(field, str(e).partition(" must ")[0] and "must " + str(e).partition(" must ")[2]) from None
        return self

    def build(self):
        """The severity object (:class:`actuarial.severities.Histogram`)."""
        return Histogram(self.edges, self.probabilities)


SeveritySpec = Annotated[Union[LogNormalSpec, GammaSpec, SplicedParetoSpec, ScipySpec, HistogramSpec],
                         Field(discriminator="family")]


# --------------------------------------------------------------------------- claims
class EpisodeStream(_Model):
    """One kind of episode: general admissions (住院), special outpatient care (门诊特殊慢性病),
    or the treatment of one listed disease.

    A person has the stream with probability ``prevalence × age factor`` (1 for
    general admissions); if they have it, their episode count in the year is
    Poisson (``dispersion = 0``) or negative binomial with gamma frailty of
    variance ``dispersion``, with mean ``episodes_by_age[band] × sex factor ×
    scheme factor``.
    """

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_]+$")
    disease: Disease = "general"
    setting: Literal["inpatient", "outpatient"] = "inpatient"
    prevalence: float = Field(default=1.0, gt=0, le=1, description="share of insured having the stream (before age factors)")
    prevalence_age_factor: tuple[float, ...] | None = Field(
        default=None, description="relative prevalence by utilisation age band (7 values), mean-free"
    )
    episodes_by_age: tuple[float, ...] = Field(description="mean episodes per person-year for those with the stream, by utilisation age band (7 values)")
    dispersion: float = Field(default=0.0, ge=0, le=50)
    female_factor: float = Field(default=1.0, gt=0, le=10)
    scheme_factor: dict[Scheme, float] = Field(default_factory=dict)
    level_mix: dict[Level, float] = Field(
        default_factory=lambda: dict(tables.ADMISSION_LEVEL_MIX)
    )
    severity: dict[Level, SeveritySpec]

    @field_validator("episodes_by_age", "prevalence_age_factor")
    @classmethod
    def _by_age(cls, v: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if v is None:
            return v
        n = len(tables.UTILISATION_BANDS)
        if len(v) != n:
            raise ValueError(f"needs {n} values, one per age band {tables.UTILISATION_BAND_LABELS}, got {len(v)}")
        if any(not math.isfinite(x) or x < 0 or x > 400 for x in v):
            raise ValueError("values must be between 0 and 400")
        return v

    @field_validator("scheme_factor")
    @classmethod
    def _scheme_factor(cls, v: dict[str, float]) -> dict[str, float]:
        if any(not (0 < x <= 10) for x in v.values()):
            raise ValueError("each factor must be > 0 and <= 10")
        return v

    @model_validator(mode="after")
    def _mix(self) -> "EpisodeStream":
        mix = self.level_mix
        if any(not (0 <= x <= 1) for x in mix.values()) or abs(sum(mix.values()) - 1) > 1e-6:
            raise _field_error("level_mix", f"shares must be in [0, 1] and sum to 1 (got {dict(mix)})")
        missing = [lvl for lvl, share in mix.items() if share > 0 and lvl not in self.severity]
        if missing:
            raise _field_error("severity", f"missing for levels {missing}, which have a positive level_mix share; "
                               f"give a severity for each of {sorted(l for l, x in mix.items() if x > 0)}")
        if self.prevalence_age_factor is not None and max(self.prevalence * f for f in self.prevalence_age_factor) > 1:
            raise _field_error("prevalence_age_factor", "prevalence x prevalence_age_factor must stay <= 1 in every band")
        return self


class Shocks(_Model):
    """Year-level systemic multipliers (parameter risk): lognormal with mean 1 and the given sd."""

    frequency_sd: float = Field(default=0.0, ge=0, le=2)
    severity_sd: float = Field(default=0.0, ge=0, le=2)

    @property
    def enabled(self) -> bool:
        return self.frequency_sd > 0 or self.severity_sd > 0


class OutOfArea(_Model):
    """How out-of-area episodes split between locations (fractions summing to 1)."""

    in_province_referred: float = Field(default=0.5, ge=0, le=1)
    in_province_unreferred: float = Field(default=0.2, ge=0, le=1)
    out_of_province_referred: float = Field(default=0.2, ge=0, le=1)
    out_of_province_unreferred: float = Field(default=0.1, ge=0, le=1)

    @model_validator(mode="after")
    def _sum(self) -> "OutOfArea":
        total = sum(self.shares())
        if abs(total - 1) > 1e-6:
            raise ValueError(f"the four shares must sum to 1 (got {total:.6g})")
        return self

    def shares(self) -> tuple[float, float, float, float]:
        """Shares for LOCATIONS[1:], in that order."""
        return (self.in_province_referred, self.in_province_unreferred,
                self.out_of_province_referred, self.out_of_province_unreferred)


def default_streams() -> tuple[EpisodeStream, ...]:
    """The default tables' episode streams (:func:`actuarial.tables.default_streams`), validated."""
    return tuple(EpisodeStream(**spec) for spec in tables.default_streams())


class Claims(_Model):
    """The claims model: episode streams, compliant share, B/C items, trend and shocks."""

    streams: tuple[EpisodeStream, ...] = Field(default_factory=lambda: default_streams())
    compliant_percent: dict[Level, Percent] = Field(
        default_factory=lambda: dict(tables.COMPLIANT_PERCENT)
    )
    category_b_percent: Percent = Field(default=20.0, description="share of compliant cost in category B (乙类) items")
    category_c_percent: Percent = Field(default=5.0, description="share of compliant cost in category C (丙类) items")
    cost_trend_percent: float = Field(default=8.0, ge=-50, le=100, description="annual medical cost trend, % per year")
    out_of_area: OutOfArea = OutOfArea()
    shocks: Shocks = Shocks()

    @model_validator(mode="before")
    @classmethod
    def _treatment_split(cls, data: Any) -> Any:
        """``treatment_split = { cancer = { cancer_radio_chemo = 0.6 } }`` splits a stream's episodes
        between treatment groups (scenario.DISEASES) for schemes that list treatments, not diseases.

        Each named group gets a stream named after the group with that share of the stream's episodes
        (its counts thinned: exact for Poisson and negative binomial counts), the stream itself keeps
        the rest. The split streams draw their patients independently, so one person's listed and
        unlisted treatments are not the same patient's: exact for the in-scope accumulation when only
        listed groups are in scope, approximate for the basic annual cap and the total out-of-pocket.
        The result is ordinary streams (the split is not kept: a dumped scenario lists them)."""
        if not isinstance(data, dict) or "treatment_split" not in data:
            return data
        data = dict(data)
        split = data.pop("treatment_split")
        if not isinstance(split, dict):
            raise _field_error("treatment_split", "must be a table: stream name → { group = share }")
        streams = [s.model_dump() if isinstance(s, BaseModel) else dict(s)
                   for s in data.get("streams", tables.default_streams())]
        names = [s.get("name") for s in streams]
        out = []
        for st in streams:
            shares = split.get(st.get("name"), {})
            if not isinstance(shares, dict):
                raise _field_error(f"treatment_split.{st['name']}", "must be a table: group = share of episodes")
            for group, share in shares.items():
                where = f"treatment_split.{st['name']}.{group}"
                if group not in DISEASES:
                    raise _field_error(where, f"unknown group; choose from {list(DISEASES)}")
                if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
                    raise _field_error(where, f"must be a share > 0 and <= 1 of the stream's episodes (got {share!r})")
            rest = 1 - sum(shares.values())
            if rest < -1e-9:
                raise _field_error(f"treatment_split.{st['name']}", f"shares add up to more than 1 (got {1 - rest:g})")
            scale = lambda f: [round(f * e, 12) for e in st["episodes_by_age"]]  # noqa: E731
            out += [{**st, "name": g, "disease": g, "episodes_by_age": scale(f)}
                    for g, f in shares.items()]
            if rest > 1e-9:
                out.append({**st, "episodes_by_age": scale(rest)} if shares else st)
        unknown = sorted(set(split) - set(names))
        if unknown:
            raise _field_error("treatment_split", f"no stream named {unknown}; streams: {names}")
        data["streams"] = out
        return data

    @field_validator("streams")
    @classmethod
    def _streams(cls, v: tuple[EpisodeStream, ...]) -> tuple[EpisodeStream, ...]:
        if not v:
            raise ValueError("at least one episode stream is needed")
        names = [s.name for s in v]
        if len(set(names)) != len(names):
            raise ValueError(f"stream names must be unique (got {names})")
        return v

    @model_validator(mode="after")
    def _compliant(self) -> "Claims":
        used = {lvl for s in self.streams for lvl, share in s.level_mix.items() if share > 0}
        missing = sorted(used - set(self.compliant_percent))
        if missing:
            raise _field_error("compliant_percent", f"missing for levels {missing} that the streams use")
        if self.category_b_percent + self.category_c_percent > 100:
            raise _field_error("category_c_percent", "category_b_percent + category_c_percent must be <= 100 "
                               f"(got {self.category_b_percent:g} + {self.category_c_percent:g})")
        return self


# --------------------------------------------------------------------------- basic insurance
class BasicLevel(_Model):
    """Basic insurance terms at one hospital level: per-admission deductible (起付标准) and fund share."""

    deductible: Yuan
    coinsurance_percent: Percent = Field(description="share of compliant cost above the deductible the basic fund pays")

    @property
    def coinsurance(self) -> float:
        return self.coinsurance_percent / 100


class Basic(_Model):
    """Basic medical insurance (基本医疗保险) for residents."""

    inpatient: dict[Level, BasicLevel] = Field(
        default_factory=lambda: {k: BasicLevel(**v) for k, v in tables.BASIC_INPATIENT.items()}
    )
    outpatient: BasicLevel = Field(default_factory=lambda: BasicLevel(**tables.BASIC_OUTPATIENT))
    annual_cap: PositiveYuan = Field(default=150_000, description="最高支付限额, yuan per person-year")


# --------------------------------------------------------------------------- CII
class Tier(_Model):
    """One marginal band (分段): ``rate_percent`` applies to accumulation above ``above`` yuan."""

    above: Yuan
    rate_percent: Percent

    @property
    def rate(self) -> float:
        return self.rate_percent / 100


class LocationRule(_Model):
    """CII terms for out-of-area care: a flat rate, or points added to every tier (negative lowers)."""

    flat_rate_percent: Percent | None = None
    points: float = Field(default=0.0, ge=-100, le=100)


class CII(_Model):
    """Critical illness insurance (大病保险) on each person's annual accumulation.

    The accumulation is the compliant out-of-pocket cost left after basic
    insurance (合规自付费用) in the year, from the episode streams in ``scope``,
    less the self-paid shares of category B/C items.
    """

    deductible: Yuan = Field(description="起付线, yuan per person-year")
    tiers: tuple[Tier, ...] = Field(description="分段支付比例; first tier must start at 0 (= the deductible)")
    tier_edges: Literal["accumulation", "excess"] = Field(
        default="accumulation",
        description="what the tiers' 'above' edges measure: the annual accumulation, or the amount above each "
                    "person's own deductible (起付标准以上, 001 l.1063)")
    cap: float = Field(default=math.inf, gt=0, description="年度最高支付限额, yuan per person-year; omit for none")
    poor_deductible: Yuan | None = Field(default=None, description="起付线 for the poor population; default = deductible")
    poor_points: float = Field(default=0.0, ge=0, le=100, description="points added to each tier rate for the poor")
    includes_basic_deductible: bool = Field(
        default=False, description="whether the basic per-admission deductible counts in the accumulation"
    )
    category_b_self_pay_percent: Percent = 0.0
    category_c_self_pay_percent: Percent = 0.0
    category_bc_base: Literal["item_cost", "out_of_pocket"] = Field(
        default="item_cost",
        description="what the B/C self-pay percents are taken from: the B/C item cost per episode (the seed's "
                    "reading, 001 l.1087: 使用…乙、丙类,分别先由个人自付15%、30%后; cii.episode_contribution) or, "
                    "the toolkit's earlier reading kept as an option, the B/C share of the out-of-pocket that "
                    "enters CII (an annual factor, cii.eligible_factor: it removes less, for texts that say so)")
    scope: tuple[str, ...] = Field(default=(), description="disease groups covered; empty = all (不受病种限制)")
    locations: dict[AwayLocation, LocationRule] = Field(default_factory=dict)
    catastrophic_threshold: PositiveYuan = Field(
        default=20_000, description="total out-of-pocket (yuan per person-year) counted as catastrophic expenditure"
    )

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, v: tuple[Tier, ...]) -> tuple[Tier, ...]:
        if not v:  # checked here, not by min_length, so a bad tier does not also report "no tiers"
            raise ValueError("at least one tier is needed, e.g. [{ above = 0, rate_percent = 50 }]")
        if v[0].above != 0:
            raise ValueError(f"the first tier must start at above = 0 (the deductible), got {v[0].above}")
        edges = [t.above for t in v]
        if any(b <= a for a, b in zip(edges, edges[1:])):
            raise ValueError(f"tier 'above' edges must increase strictly (got {edges})")
        return v

    @field_validator("scope")
    @classmethod
    def _scope(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [d for d in v if d not in DISEASES]
        if bad:
            raise ValueError(f"unknown disease groups {bad}; allowed: {list(DISEASES)}")
        return v

    @property
    def effective_poor_deductible(self) -> float:
        return self.deductible if self.poor_deductible is None else self.poor_deductible

    def covers(self, disease: str) -> bool:
        """Whether episodes of a stream with this disease group count toward the accumulation."""
        return not self.scope or disease in self.scope


# --------------------------------------------------------------------------- funding and contract
class Funding(_Model):
    """How the CII premium is raised (筹资): yuan per insured person-year by scheme, or a share of basic funding."""

    per_capita: dict[Scheme, PositiveYuan] = Field(default_factory=dict)
    basic_fund_per_capita: dict[Scheme, PositiveYuan] = Field(
        default_factory=dict, description="basic-scheme funding (筹资), yuan per insured person-year"
    )
    basic_fund_share_percent: Percent | None = None

    @model_validator(mode="after")
    def _one_mode(self) -> "Funding":
        modes = "give either per_capita (yuan per person-year by scheme), or basic_fund_share_percent with basic_fund_per_capita"
        if self.per_capita and self.basic_fund_share_percent is not None:
            raise _field_error("basic_fund_share_percent", f"not allowed together with per_capita; {modes}")
        if not self.per_capita and self.basic_fund_share_percent is None:
            raise _field_error("per_capita", f"missing; {modes}")
        if self.basic_fund_share_percent is not None and not self.basic_fund_per_capita:
            raise _field_error("basic_fund_per_capita", "missing; basic_fund_share_percent needs it (yuan per person-year by scheme)")
        return self

    def premium_per_capita(self, scheme: str) -> float:
        """CII premium for one insured person-year of ``scheme``, yuan."""
        if self.per_capita:
            return self.per_capita[scheme]
        return self.basic_fund_per_capita[scheme] * self.basic_fund_share_percent / 100

    def schemes(self) -> set[str]:
        return set(self.per_capita or self.basic_fund_per_capita)


class Band(_Model):
    """One band of a risk corridor (风险调节区间), in % of premium.

    ``insurer_share_percent`` of the slice of surplus (or loss) between
    ``above_percent`` and the next band's ``above_percent`` goes to the insurer;
    the rest goes to (surplus) or is borne by (loss) the fund. The last band is open.
    """

    above_percent: float = Field(ge=0, le=100, description="lower edge of the band, % of premium")
    insurer_share_percent: Percent = Field(description="insurer's share of the slice, %")


def _require_increasing(values: list[float], what: str) -> None:
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(f"{what} must increase strictly (got {values})")


def _check_bands(v: tuple[Band, ...] | None) -> tuple[Band, ...] | None:
    if v is None:
        return v
    if not v:
        raise ValueError("give at least one band, or leave the field out")
    if v[0].above_percent != 0:
        raise ValueError(f"the first band must start at above_percent = 0, got {v[0].above_percent}")
    _require_increasing([b.above_percent for b in v], "band above_percent edges")
    return v


class BondRelease(_Model):
    """Share of the performance bond released when the assessment score (考核得分, 0-100) is at least ``score``."""

    score: float = Field(ge=0, le=100)
    release_percent: Percent


class PerformanceBond(_Model):
    """Performance bond (质量保证金): part of the premium withheld until the year-end assessment.

    The released share is that of the highest ``release`` row whose ``score`` the
    assessment reaches (0 below all rows); the unreleased bond stays with the fund.
    ``assumed_score`` is the score used when the simulation has no score of its own.
    """

    withheld_percent: float = Field(gt=0, le=100, description="bond withheld, % of premium (Daqing 10)")
    release: tuple[BondRelease, ...] = (BondRelease(score=0, release_percent=100),)
    assumed_score: float = Field(default=100, ge=0, le=100)

    @field_validator("release")
    @classmethod
    def _release(cls, v: tuple[BondRelease, ...]) -> tuple[BondRelease, ...]:
        if not v:
            raise ValueError("give at least one release row (score, release_percent)")
        _require_increasing([r.score for r in v], "release scores")
        shares = [r.release_percent for r in v]
        if any(b < a for a, b in zip(shares, shares[1:])):
            raise ValueError(f"release_percent must not fall as the score rises (got {shares})")
        return v

    def release_fraction(self, score):
        """Released fraction of the bond (0-1) for assessment score(s) ``score``."""
        import numpy as np

        scores = np.array([r.score for r in self.release])
        shares = np.array([0.0] + [r.release_percent / 100 for r in self.release])
        return shares[np.searchsorted(scores, np.asarray(score, float), side="right")]


class Instalment(_Model):
    """One premium payment to the insurer (拨付): ``percent`` of the year's premium due by ``due`` (MM-DD).

    ``bond = true`` marks the instalment that pays the performance bond, after the assessment.
    """

    due: str = Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", description="MM-DD within the contract year")
    percent: float = Field(gt=0, le=100)
    bond: bool = False


class PolicyChange(_Model):
    """A government policy change during the term (政策调整), from contract year ``from_year`` (1 = first) on.

    ``changes`` maps dotted scenario paths under ``cii.`` to new values, e.g.
    ``{"cii.deductible" = 6000}``. The extra claims it causes are the policy loss.
    """

    from_year: int = Field(ge=2, le=10, description="first contract year (1 = the first) the change applies to")
    description: str = ""
    changes: dict[str, Any] = Field(min_length=1)

    @field_validator("changes")
    @classmethod
    def _paths(cls, v: dict[str, Any]) -> dict[str, Any]:
        bad = [k for k in v if not k.startswith("cii.")]
        if bad:
            raise ValueError(f"policy changes may only change CII terms (paths starting 'cii.'), got {bad}")
        return v


class Repricing(_Model):
    """Dynamic repricing (动态调整) of next year's premium from the contract's experience so far.

    factor(t+1) = factor(t) × (1 + clip(Z × (experience loss ratio / target − 1), −max_decrease, +max_increase)),
    with credibility Z = ``credibility_percent`` / 100 and the experience loss ratio
    cumulative claims / cumulative premium of the contract to date. With ``credibility_method =
    "buhlmann_straub"`` Z is instead estimated (:mod:`actuarial.credibility`) from the yearly loss
    ratios so far, the simulated paths as pools, premium as weights: Z > 0 only where the paths'
    experience differs by more than year-to-year noise explains (0 in the first year).
    """

    target_loss_ratio_percent: float | None = Field(default=None, gt=0, le=200,
                                                    description="default: 100 − combined fee rate")
    credibility_percent: Percent = 50.0
    credibility_method: Literal["fixed", "buhlmann_straub"] = Field(
        default="fixed", description="fixed: Z = credibility_percent; buhlmann_straub: Z estimated each year "
                                     "(actuarial.credibility) from the simulated paths' yearly loss ratios")
    max_increase_percent: Percent = 10.0
    max_decrease_percent: Percent = 10.0


def _single_payment() -> tuple[Instalment, ...]:
    return (Instalment(due="03-31", percent=100),)


class Contract(_Model):
    """Contract terms with the insurer (承办合同); the settlement rules are in :mod:`actuarial.settlement`.

    Surplus U = premium − claims. With no corridor the insurer keeps surplus up to
    ``surplus_cap_percent`` (default: the combined fee rate 综合费率) of premium and
    the rest returns to the fund; ``surplus_bands`` give a tiered corridor instead.
    A loss splits into policy loss (政策性亏损), shared by ``policy_loss_fund_share_percent``
    with optional caps on the fund's share, and non-policy loss, borne by the insurer
    unless ``loss_bands`` share it (a risk corridor; symmetric when it equals
    ``surplus_bands``).

    >>> Contract(combined_fee_rate_percent=5, surplus_cap_percent=4).surplus_corridor()  # Daqing: keep up to 4 %
    ([0.0, 0.04], [1.0, 0.0])
    """

    combined_fee_rate_percent: float = Field(default=5.0, ge=0, description="综合费率 (admin + profit), % of premium; at most 5")
    surplus_cap_percent: Percent | None = Field(default=None, description="surplus the insurer may keep, % of premium; default = fee rate")
    surplus_bands: tuple[Band, ...] | None = Field(default=None, description="tiered surplus corridor (instead of surplus_cap_percent)")
    loss_bands: tuple[Band, ...] | None = Field(default=None, description="corridor for non-policy losses; default: insurer bears all")
    policy_loss_fund_share_percent: Percent = Field(default=50.0, description="fund's share of a policy loss (政策性亏损)")
    policy_loss_fund_cap_yuan: Yuan | None = Field(default=None, description="cap on the fund's share of a policy loss, yuan per year")
    policy_loss_fund_cap_percent: Percent | None = Field(default=None, description="cap on the fund's share of a policy loss, % of premium")
    bond: PerformanceBond | None = None
    payment_schedule: tuple[Instalment, ...] = Field(default_factory=_single_payment)
    policy_changes: tuple[PolicyChange, ...] = ()
    repricing: Repricing | None = None
    years: int = Field(default=3, ge=1, le=10)
    pools: Literal["one", "by_region"] = Field(
        default="one", description="统筹单位: 'by_region' settles each population region as its own pool under "
                                   "these terms and sums the results (Daqing's three NCMS units, 001 l.887-889)")

    @field_validator("combined_fee_rate_percent")
    @classmethod
    def _fee_cap(cls, v: float) -> float:
        if not math.isfinite(v) or v > 5:
            raise ValueError("the combined fee rate (综合费率) may not exceed 5 % of premium (policy cap); "
                             "a bid above it is rejected")
        return v

    _surplus_bands = field_validator("surplus_bands")(classmethod(lambda cls, v: _check_bands(v)))
    _loss_bands = field_validator("loss_bands")(classmethod(lambda cls, v: _check_bands(v)))

    @model_validator(mode="after")
    def _consistent(self) -> "Contract":
        if self.surplus_cap_percent is not None and self.surplus_bands is not None:
            raise ValueError("give surplus_cap_percent or surplus_bands, not both")
        total = sum(i.percent for i in self.payment_schedule)
        if abs(total - 100) > 1e-6:
            raise ValueError(f"payment_schedule percents must sum to 100 (got {total:g})")
        dues = [i.due for i in self.payment_schedule]
        if dues != sorted(dues):
            raise ValueError(f"payment_schedule due dates must be in calendar order (got {dues})")
        bond_pct = sum(i.percent for i in self.payment_schedule if i.bond)
        if self.bond is None and bond_pct:
            raise ValueError("payment_schedule has a bond instalment but the contract has no [contract.bond]")
        if self.bond is not None and abs(bond_pct - self.bond.withheld_percent) > 1e-6:
            raise ValueError(f"the payment_schedule bond instalments ({bond_pct:g} %) must equal "
                             f"bond.withheld_percent ({self.bond.withheld_percent:g} %)")
        late = [c.from_year for c in self.policy_changes if c.from_year > self.years]
        if late:
            raise ValueError(f"policy_changes from_year {late} fall outside the {self.years}-year term")
        return self

    @property
    def combined_fee_rate(self) -> float:
        return self.combined_fee_rate_percent / 100

    def surplus_corridor(self) -> tuple[list[float], list[float]]:
        """Band lower edges (fractions of premium) and insurer shares (fractions) for surplus."""
        if self.surplus_bands is not None:
            return [b.above_percent / 100 for b in self.surplus_bands], [b.insurer_share_percent / 100 for b in self.surplus_bands]
        cap = self.combined_fee_rate_percent if self.surplus_cap_percent is None else self.surplus_cap_percent
        return [0.0, cap / 100], [1.0, 0.0]

    def loss_corridor(self) -> tuple[list[float], list[float]]:
        """Band lower edges (fractions of premium) and insurer shares (fractions) for non-policy loss."""
        if self.loss_bands is None:
            return [0.0], [1.0]
        return [b.above_percent / 100 for b in self.loss_bands], [b.insurer_share_percent / 100 for b in self.loss_bands]


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
    """Amounts indexed on national series, resolved to yuan at loading (:mod:`actuarial.indexing`)."""
    drivers: Drivers | None = None
    """Multi-year drivers of the contract term (:mod:`actuarial.projection`)."""
    medical_assistance: MedicalAssistance | None = None
    """Medical assistance (医疗救助), the third layer after CII (:mod:`actuarial.assistance`)."""
    households: Households | None = None
    """Households for catastrophic health expenditure against income (:mod:`actuarial.households`)."""

    @model_validator(mode="before")
    @classmethod
    def _resolve_indexed(cls, data: Any) -> Any:
        from .indexing import resolve_raw

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
        from .indexing import unresolve

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
_BOUND_TEXT = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def _num(v: float) -> str:
    if not float(v).is_integer():
        return f"{v:g}"
    return f"{int(v):_}" if abs(v) >= 10_000 else str(int(v))  # as TOML writes big numbers; years stay 1990


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
