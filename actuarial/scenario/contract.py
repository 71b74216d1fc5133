"""Scenario tables: the contract (fee, surplus and loss corridors, bond, payment schedule, policy
changes, repricing, term, pools).
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .base import Percent, Yuan, _Model


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
    "buhlmann_straub"`` Z is instead estimated (:mod:`actuarial.fitting.credibility`) from the yearly loss
    ratios so far, the simulated paths as pools, premium as weights: Z > 0 only where the paths'
    experience differs by more than year-to-year noise explains (0 in the first year).
    """

    target_loss_ratio_percent: float | None = Field(default=None, gt=0, le=200,
                                                    description="default: 100 − combined fee rate")
    credibility_percent: Percent = 50.0
    credibility_method: Literal["fixed", "buhlmann_straub"] = Field(
        default="fixed", description="fixed: Z = credibility_percent; buhlmann_straub: Z estimated each year "
                                     "(actuarial.fitting.credibility) from the simulated paths' yearly loss ratios")
    max_increase_percent: Percent = 10.0
    max_decrease_percent: Percent = 10.0


def _single_payment() -> tuple[Instalment, ...]:
    return (Instalment(due="03-31", percent=100),)


class Contract(_Model):
    """Contract terms with the insurer (承办合同); the settlement rules are in :mod:`actuarial.contract.settlement`.

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
