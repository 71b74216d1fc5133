"""Scenario sections for the rules tenders use today: ``[indexed]``, ``[drivers]``, ``[medical_assistance]``,
``[households]``.

Schema only (validated, immutable, unknown keys forbidden, like :mod:`actuarial.scenario`);
the sections are optional fields of :class:`~actuarial.scenario.Scenario`. What they do lives in
:mod:`actuarial.scenario.indexing` (indexed amounts resolved to yuan), :mod:`actuarial.contract.projection`
(multi-year drivers), :mod:`actuarial.model.assistance` (the third layer) and
:mod:`actuarial.results.households` (household catastrophic expenditure). Percentages are written as
percents in files (``50`` = 50 %); money in yuan.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, model_validator

from ..config.income import DISPOSABLE_INCOME
from .base import Percent, _Model  # the scenario's strict numbers: `true` is not 1 %, "50000" not 50,000 yuan

INCOME_SERIES = ("urban", "rural", "residents", "scheme")
"""``scheme``: urban residents' scheme → urban income, NCMS → rural, merged scheme → all residents."""

SCHEME_SERIES = {"urban": "urban", "ncms": "rural", "merged": "residents"}


class Indexed(_Model):
    """Amounts written as shares of published national series, resolved to yuan per contract year.

    Contract year ``k`` (1 = the first) falls in calendar year ``base_year + k − 1``; a deductible
    indexed on income uses the *prior* calendar year's per-capita disposable income (上年度居民人均
    可支配收入, as every policy text does), basic funding the same year's. The yuan values are
    written into ``cii.deductible``, ``cii.poor_deductible``, ``medical_assistance.deductible`` and
    ``funding.basic_fund_per_capita`` when the scenario is loaded (for ``contract_year``); :func:`actuarial.scenario.indexing.for_contract_year`
    resolves another year. Tables: :mod:`actuarial.config.income`.

    >>> Indexed(base_year=2020, deductible_income_percent=50).income_year
    2019
    """

    base_year: int = Field(ge=min(DISPOSABLE_INCOME) + 1, le=2100, description="calendar year of contract year 1")
    contract_year: int = Field(default=1, ge=1, le=10, description="the contract year the yuan values are for")
    income_series: Literal[INCOME_SERIES] = "scheme"
    deductible_income_percent: float | None = Field(
        default=None, gt=0, le=1000, allow_inf_nan=False, description="CII deductible (起付线), % of prior-year per-capita disposable income")
    poor_deductible_income_percent: float | None = Field(
        default=None, gt=0, le=1000, allow_inf_nan=False, description="CII deductible for the poor, % of prior-year per-capita disposable income")
    assistance_deductible_income_percent: float | None = Field(
        default=None, ge=0, le=1000, allow_inf_nan=False,
        description="medical assistance deductible, % of prior-year per-capita disposable income")
    income_growth_percent: float | None = Field(
        default=None, ge=-20, le=50, allow_inf_nan=False,
        description="ASSUMPTION: income growth, % a year, for years after the income table's last")
    basic_fund: Literal["national_minimum"] | None = Field(
        default=None, description="basic funding per capita from the national minimum standard of each year")
    basic_fund_base: dict[Literal["urban", "ncms", "merged"], Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(
        default_factory=dict, description="basic funding per capita in contract year 1 by scheme, yuan; grows at basic_fund_growth_percent")
    basic_fund_growth_percent: float | None = Field(
        default=None, ge=-20, le=50, allow_inf_nan=False,
        description="ASSUMPTION: basic funding growth, % a year (after the table's last year, or from basic_fund_base)")

    @model_validator(mode="after")
    def _consistent(self) -> "Indexed":
        if self.basic_fund is not None and self.basic_fund_base:
            raise ValueError("give basic_fund = \"national_minimum\" or basic_fund_base, not both")
        if self.basic_fund_base and self.basic_fund_growth_percent is None:
            raise ValueError("basic_fund_base needs basic_fund_growth_percent (% a year)")
        return self

    @property
    def calendar_year(self) -> int:
        """Calendar year of ``contract_year``."""
        return self.base_year + self.contract_year - 1

    @property
    def income_year(self) -> int:
        """Calendar year whose income indexes ``contract_year``'s deductible (the prior year)."""
        return self.calendar_year - 1

    @property
    def indexes_funding(self) -> bool:
        return self.basic_fund is not None or bool(self.basic_fund_base)


class Drivers(_Model):
    """Multi-year drivers of a contract term (applied per contract year by :mod:`actuarial.contract.projection`).

    Contract year ``k`` (1 = the first) gets episode rates × (1 + utilisation trend)^(k−1), the age
    structure moved ``age_shift_years_per_year`` × (k−1) years older, the insured count ×
    (1 + enrolment change)^(k−1); contract year 1 covers ``first_year_months`` months (episodes and
    premium × months / 12; Henan's pilots started on 1 April, 001 l.759: 9 months). The cost trend
    stays ``claims.cost_trend_percent``.
    """

    utilisation_trend_percent: float = Field(default=0.0, ge=-50, le=100, description="episodes per person-year, % a year")
    age_shift_years_per_year: float = Field(
        default=0.0, ge=0, le=1, description="years the insured age per contract year: 1 = a closed cohort, 0 = stationary")
    enrolment_change_percent: float = Field(default=0.0, ge=-50, le=100, description="insured count, % a year")
    first_year_months: int = Field(default=12, ge=1, le=12, description="months covered by contract year 1")


class MedicalAssistance(_Model):
    """Medical assistance (医疗救助, civil affairs) as a third layer after basic insurance and CII.

    For eligible people it pays ``rate_percent`` of the compliant out-of-pocket left after basic
    insurance and CII (个人自付合规剩余部分, 001 l.177) above ``deductible``, up to ``cap``, yuan per
    person-year. It is not deducted from the CII accumulation (001 l.177: "在计算大病保险个人累计
    负担额度时, 不扣除贫困患者当年享受的医疗救助额度"), so CII is unchanged by it.
    """

    eligible: Literal["poor"] = Field(default="poor", description="who may receive it: the poor population (贫困人口)")
    deductible: float = Field(default=0.0, ge=0, allow_inf_nan=False, description="起付线, yuan per person-year")
    rate_percent: Percent = Field(description="救助比例: share of the remaining compliant out-of-pocket paid, %")
    cap: float = Field(default=math.inf, gt=0, description="年度救助限额, yuan per person-year; omit for none")

    @property
    def rate(self) -> float:
        return self.rate_percent / 100



HOUSEHOLD_SIZE_SHARES_2010 = (14.53, 24.37, 26.86, 17.56, 10.03, 4.20, 1.43, 0.56, 0.23, 0.21)
"""Family households by size 1, 2, …, 9, 10+ persons, % (2010 Population Census, national table 1-10
家庭户规模; read from the census tabulation as published, files.zkey.cc mirror). 10+ is taken as 10."""


class Households(_Model):
    """Households for catastrophic health expenditure (灾难性卫生支出) against income (:mod:`actuarial.results.households`).

    The insured of each block are grouped at random into households of sizes drawn from
    ``size_shares_percent``; each household gets a per-capita disposable income, lognormal with the
    mean of its head's scheme series in ``income_year`` (:mod:`actuarial.config.income`) and the log-sd
    ``income_sigma`` (default fitted to the NBS 2023 bottom income quintile). A household's spending
    is catastrophic when its out-of-pocket exceeds ``threshold_percent`` of its income
    (``basis = "income"``, SDG 3.8.2 uses 10 or 25) or of its capacity to pay, income less
    subsistence (``basis = "capacity_to_pay"``, WHO: 40).
    """

    size_shares_percent: tuple[float, ...] = Field(default=HOUSEHOLD_SIZE_SHARES_2010,
                                                   description="households of 1, 2, … persons (last: that size or more), %")
    income_year: int = Field(ge=min(DISPOSABLE_INCOME), le=max(DISPOSABLE_INCOME), description="calendar year of income")
    income_series: Literal[INCOME_SERIES] = "scheme"
    income_sigma: float = Field(default=0.834, gt=0, le=3, description="log-sd of per-capita income between households")
    basis: Literal["income", "capacity_to_pay"] = "capacity_to_pay"
    threshold_percent: float = Field(default=40.0, gt=0, le=100, description="catastrophic above this % of the basis")
    subsistence_per_capita: float = Field(default=0.0, ge=0, allow_inf_nan=False,
                                          description="subsistence spending, yuan per person-year (capacity to pay)")
    out_of_pocket: Literal["total", "compliant"] = Field(
        default="total", description="total out-of-pocket (incl. non-compliant) or compliant only")

    @model_validator(mode="after")
    def _shares(self) -> "Households":
        v = self.size_shares_percent
        if not v or len(v) > 20 or any(not math.isfinite(x) or x < 0 for x in v) or sum(v) <= 0:
            raise ValueError("@size_shares_percent: 1-20 values >= 0, not all zero (households of 1, 2, … persons)")
        if self.basis == "capacity_to_pay" and self.subsistence_per_capita == 0:
            raise ValueError("@subsistence_per_capita: basis = \"capacity_to_pay\" needs it (yuan per person-year, > 0)")
        return self
