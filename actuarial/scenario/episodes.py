"""Scenario tables: severity specifications and the claims model (episode streams, B/C shares,
trend, out-of-area care, shocks; ``treatment_split``).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, field_validator, model_validator

from ..config import tables
from ..config.severities import Histogram, ScipySeverity, scipy_family
from .base import (
    DISEASES,
    Disease,
    Level,
    Percent,
    PositiveYuan,
    Scheme,
    _field_error,
    _Model,
)


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
        """The severity object (:class:`actuarial.config.severities.ScipySeverity`)."""
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
        """The severity object (:class:`actuarial.config.severities.Histogram`)."""
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
    """The default tables' episode streams (:func:`actuarial.config.tables.default_streams`), validated."""
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
