"""Scenario tables: basic insurance terms, the CII design (deductible, tiers, cap, poor-population and
out-of-area rules, scope, B/C self-pay) and the funding.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..config import tables
from .base import (
    DISEASES,
    AwayLocation,
    Level,
    Percent,
    PositiveYuan,
    Scheme,
    Yuan,
    _field_error,
    _Model,
)


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
