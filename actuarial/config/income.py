"""Published national series that indexed scenario parameters refer to, with their sources.

Owns two tables and their look-ups; it knows nothing about scenarios (see :mod:`actuarial.scenario.indexing`).

* :data:`DISPOSABLE_INCOME`: per-capita disposable income (人均可支配收入), yuan per person-year,
  by calendar year, for urban residents (城镇居民), rural residents (农村居民) and all residents
  (全国居民), from the National Bureau of Statistics' annual releases (国民经济和社会发展统计公报 and
  the January release "居民收入和消费支出情况"). Until 2012 the rural series is the per-capita *net*
  income (农民人均纯收入): the integrated household survey (城乡一体化住户调查) replaced it from 2013, and
  the residents' series starts in 2013. The policy texts of the period index on exactly these
  figures (e.g. 001 l.363: "城镇居民年人均可支配收入、农村居民年人均纯收入").
* :data:`BASIC_FUNDING_MINIMUM`: the national minimum per-capita funding of the residents' basic
  scheme (居民医保人均筹资: government subsidy 财政补助 + individual contribution 个人缴费), yuan per
  insured person-year, from the annual national notices on residents' basic medical insurance.

Each value carries its source and whether it was checked against a published copy in this
project (``verified``); an unchecked value is an ASSUMPTION taken from the NBS / notice series as
remembered and must be checked before a tender relies on it.

>>> per_capita_income("residents", 2018)     # NBS, 2018: 全国居民人均可支配收入 28,228 yuan
28228.0
>>> per_capita_income("urban", 2026, growth_percent=5.0) > per_capita_income("urban", 2024)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import TableYearError

Series = Literal["urban", "rural", "residents"]

NBS = "National Bureau of Statistics (国家统计局)"


@dataclass(frozen=True)
class IncomeYear:
    """One year of per-capita income, yuan per person-year (``residents`` None before 2013)."""

    urban: float
    rural: float
    residents: float | None
    source: str
    verified: str | None
    """Where the values were checked (a published copy), or None: an ASSUMPTION to check."""


_RELEASE = NBS + ", {y} 居民收入和消费支出情况 / {y} 年国民经济和社会发展统计公报"

DISPOSABLE_INCOME: dict[int, IncomeYear] = {
    2011: IncomeYear(21_810, 6_977, None, _RELEASE.format(y=2011) + " (rural: net income 纯收入)", None),
    2012: IncomeYear(24_565, 7_917, None, _RELEASE.format(y=2012) + " (rural: net income 纯收入)", None),
    2013: IncomeYear(26_955, 8_896, 18_311, _RELEASE.format(y=2013) + " (rural: net income 纯收入, the last year of "
                     "that series; the integrated survey's rural disposable income was 9,430)",
                     "2013 communiqué as quoted in 庆祝新中国成立65周年知识竞赛 (quanben5.com) and a 中国经济网 report"),
    2014: IncomeYear(28_844, 10_489, 20_167, _RELEASE.format(y=2014), None),
    2015: IncomeYear(31_195, 11_422, 21_966, _RELEASE.format(y=2015), None),
    2016: IncomeYear(33_616, 12_363, 23_821, _RELEASE.format(y=2016),
                     "2016 communiqué as reprinted by gd.huaxia.com (2017-04-09) and china.zjol.com.cn"),
    2017: IncomeYear(36_396, 13_432, 25_974, _RELEASE.format(y=2017), None),
    2018: IncomeYear(39_251, 14_617, 28_228, _RELEASE.format(y=2018),
                     "NBS release of 2019-01-21 as reprinted by 中国经济网 (nyfwjg.com mirror)"),
    2019: IncomeYear(42_359, 16_021, 30_733, _RELEASE.format(y=2019),
                     "NBS release of 2020-01-17 as reprinted by 中国经济网 (huakuclub.com mirror) and kingdee.com"),
    2020: IncomeYear(43_834, 17_131, 32_189, _RELEASE.format(y=2020), None),
    2021: IncomeYear(47_412, 18_931, 35_128, _RELEASE.format(y=2021),
                     "NBS release of 2022-01-17 as reprinted (dil5h.cn mirror)"),
    2022: IncomeYear(49_283, 20_133, 36_883, _RELEASE.format(y=2022), None),
    2023: IncomeYear(51_821, 21_691, 39_218, _RELEASE.format(y=2023),
                     "NBS release of 2024-01-17 as reported by 中新社"),
    2024: IncomeYear(54_188, 23_119, 41_314, _RELEASE.format(y=2024), None),
}
"""Per-capita disposable income by calendar year, yuan per person-year (see the module docstring)."""


@dataclass(frozen=True)
class FundingYear:
    """National minimum residents' basic funding in one year, yuan per insured person-year."""

    subsidy: float  # government subsidy (财政补助)
    individual: float  # individual contribution (个人缴费)
    source: str
    verified: str | None

    @property
    def total(self) -> float:
        return self.subsidy + self.individual


_NOTICE = "national notice on residents' basic medical insurance for {y} (国家卫生计生委/人社部/医保局、财政部)"

BASIC_FUNDING_MINIMUM: dict[int, FundingYear] = {
    2012: FundingYear(240, 60, _NOTICE.format(y=2012), None),
    2013: FundingYear(280, 70, _NOTICE.format(y=2013), None),
    2014: FundingYear(320, 90, _NOTICE.format(y=2014), None),
    2015: FundingYear(380, 120, _NOTICE.format(y=2015), None),
    2016: FundingYear(420, 150, _NOTICE.format(y=2016),
                      "570 yuan agrees with shared/seeds/002 (Yongzhou: residents' funding >= 570)"),
    2017: FundingYear(450, 180, _NOTICE.format(y=2017), None),
    2018: FundingYear(490, 220, _NOTICE.format(y=2018), None),
    2019: FundingYear(520, 250, "医保发〔2019〕30号 (国家医保局 财政部《关于做好2019年城乡居民基本医疗保障工作的通知》)", None),
    2020: FundingYear(550, 280, _NOTICE.format(y=2020), None),
    2021: FundingYear(580, 320, _NOTICE.format(y=2021), None),
    2022: FundingYear(610, 350, _NOTICE.format(y=2022), None),
    2023: FundingYear(640, 380, _NOTICE.format(y=2023), None),
    2024: FundingYear(670, 400, _NOTICE.format(y=2024), None),
}
"""National minimum per-capita funding of the residents' basic scheme by calendar year (see the module docstring)."""


def _project(table: dict, value, year: int, growth_percent: float | None, what: str) -> float:
    last = max(table)
    if year in table and value(table[year]) is not None:
        return float(value(table[year]))
    if year > last and growth_percent is not None:
        return float(value(table[last])) * (1 + growth_percent / 100) ** (year - last)
    have = sorted(y for y in table if value(table[y]) is not None)
    hint = " (or give a growth rate to project beyond it, an assumption)" if year > last else ""
    raise TableYearError(f"no {what} for {year}: the table covers {have[0]}-{have[-1]}{hint}")


def per_capita_income(series: Series, year: int, growth_percent: float | None = None) -> float:
    """Per-capita disposable income of ``series`` in calendar ``year``, yuan per person-year.

    Years after the table's last are projected at ``growth_percent`` % a year (an assumption);
    without it they are an error, as are years before the table.

    >>> per_capita_income("urban", 2011)
    21810.0
    >>> round(per_capita_income("urban", 2025, growth_percent=4.0), 2)   # 54,188 x 1.04
    56355.52
    """
    return _project(DISPOSABLE_INCOME, lambda r: getattr(r, series), year, growth_percent,
                    f"{series} per-capita disposable income")


def basic_funding(year: int, growth_percent: float | None = None) -> float:
    """National minimum residents' basic funding in calendar ``year``, yuan per insured person-year.

    >>> basic_funding(2019)     # 520 subsidy + 250 individual
    770.0
    """
    return _project(BASIC_FUNDING_MINIMUM, lambda r: r.total, year, growth_percent, "national minimum basic funding")
