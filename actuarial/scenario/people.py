"""Scenario tables: the programme and the insured population (size, ages, sex, schemes, poverty, regions).
"""

from __future__ import annotations

import math

from pydantic import Field, field_validator, model_validator

from ..config import tables
from .base import Percent, Scheme, _field_error, _Model


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
