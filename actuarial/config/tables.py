"""Default demographic, utilisation, cost and basic-insurance tables, with their sources.

These are the values a scenario gets when it does not give its own. A programme
with data of its own should override them (or fit them with
:mod:`actuarial.fitting` / :mod:`actuarial.fitting.grouped`). Every number is one of
three kinds, recorded in :data:`SOURCES` (value, source, year, note):

* **statistic**: taken from a published national statistic (bulletin, yearbook,
  survey), named with its year;
* **assumption**: no published figure was found; the value is a judgement of the
  right order and is marked ASSUMPTION;
* **calibration**: an input set so that the model reproduces a published *input*
  figure (never a CII output such as a loss ratio); the target and the fitted
  value are both given.

No number here was chosen to make the CII layer cost what programmes funded: the
back-test (:mod:`actuarial.fitting.backtest`) sets the model's CII outputs beside the
published ones, and a miss is reported, not tuned away.

Summary (details and exact wording in :data:`SOURCES`)
------------------------------------------------------
* Age structure: 2010 Population Census, 5-year bands (NBS).
* Admissions: 17.6 admissions per 100 population a year (National Health
  Statistical Bulletin 2017; 18.2 in 2018), all streams together on the census
  age structure; the age shape is an ASSUMPTION after the National Health
  Services Survey (the elderly are admitted 3-4 times as often as adults 15-44).
* Cost per admission: China Health Statistics Yearbook 2017 (year 2016):
  about 13,100 yuan tertiary, 5,600 secondary, 1,600 township health centres.
* Level mix of admissions: NHC national medical-service statistics, January to
  October 2019: tertiary hospitals 38 %, secondary 32 %, first-level, unrated
  hospitals and primary care 25 % of all discharges (the rest in public-health
  institutions, spread pro rata); 5 % out of the pooling area is an ASSUMPTION.
* Cancer: about 4.3 million new cases a year in 2015 (Chen et al., Cancer
  statistics in China 2015), 0.31 % of the population, taken as the share in
  treatment in a year.
* Basic insurance: deductibles are ASSUMPTIONS; the coinsurance rates are a
  CALIBRATION to the residents' policy-scope inpatient payment ratio of about
  75 % (shared/seeds/004, line 25).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .distributions import SplicedPareto

AGE_BAND_STARTS = tuple(range(0, 90, 5))
"""Start age of each 5-year band 0-4 ... 85+ used for the population's age structure."""

AGE_SHARES_2010 = (
    5.7, 5.4, 5.7, 7.5, 9.6, 7.6, 7.3, 8.8, 9.3,
    7.8, 5.8, 6.1, 4.4, 3.0, 2.4, 1.8, 0.9, 0.5,
)
"""Share (%) of the population in each 5-year band, 2010 census (rounded)."""

UTILISATION_BANDS = (0, 5, 15, 45, 60, 70, 80)
"""Start age of each band of the utilisation curves (episode rates, prevalences)."""

def utilisation_band(age, xp=np) -> np.ndarray:
    """Index into UTILISATION_BANDS of each age (years); ``xp`` the array module of ``age``."""
    return xp.searchsorted(xp.asarray(np.asarray(UTILISATION_BANDS)), age, side="right") - 1


UTILISATION_BAND_LABELS = ("0-4", "5-14", "15-44", "45-59", "60-69", "70-79", "80+")

@dataclass(frozen=True)
class Source:
    """Where one default number comes from.

    ``kind`` is "statistic" (a published figure), "assumption" (none found: a
    judgement, marked ASSUMPTION) or "calibration" (an input fitted to a published
    input figure; ``note`` gives the target and the fitted value).
    """

    name: str
    value: object
    unit: str
    kind: str
    source: str
    year: int | None
    note: str = ""


TARGET_ADMISSIONS_PER_100 = 17.6
"""Admissions per 100 population a year, all payers (National Health Statistical Bulletin 2017)."""

ADMISSIONS_BY_AGE = (0.168, 0.070, 0.112, 0.195, 0.307, 0.419, 0.503)
"""General admissions per person-year by utilisation band (men; women × ``female_factor``).

The age shape is an ASSUMPTION after the National Health Services Survey; the level
is set so that all inpatient streams together give TARGET_ADMISSIONS_PER_100 on the
2010 census age structure (general 16.4 + cancer 0.9 + mental illness 0.3); the
test ``tests/config/test_tables.py`` recomputes it.
"""

ADMISSION_LEVEL_MIX = {"primary": 0.26, "secondary": 0.34, "tertiary": 0.35, "out_of_area": 0.05}
"""Share of general admissions by level: NHC discharges Jan-Oct 2019 (tertiary 38.1 %, secondary 32.5 %,
first-level + unrated hospitals + primary care 25.2 %, the rest pro rata), 5 % out of area taken from tertiary."""

COST_PER_ADMISSION = {"primary": 1_600, "secondary": 5_600, "tertiary": 13_100, "out_of_area": 20_000}
"""Mean cost per general admission by level, yuan at 2016 prices (Yearbook 2017; out of area an ASSUMPTION)."""

CANCER_IN_TREATMENT = 0.0031
"""Share of the population treated for cancer in a year: new cases 2015 (4.29 million, Chen et al. 2016) / 1.37 billion."""

COMPLIANT_PERCENT = {"primary": 95.0, "secondary": 90.0, "tertiary": 85.0, "out_of_area": 75.0}
"""Share (%) of an episode's cost that is compliant (合规, inside the catalogues), by level (ASSUMPTION)."""

BASIC_INPATIENT = {
    "primary": {"deductible": 200, "coinsurance_percent": 95},
    "secondary": {"deductible": 500, "coinsurance_percent": 95},
    "tertiary": {"deductible": 1000, "coinsurance_percent": 80},
    "out_of_area": {"deductible": 1500, "coinsurance_percent": 65},
}
"""Residents' basic inpatient terms by level: per-admission deductible (yuan, ASSUMPTION) and fund share (%,
CALIBRATION: the whole schedule moved so that the fund pays about 75 % of compliant inpatient cost, the
policy-scope target of shared/seeds/004 line 25; see SOURCES)."""

BASIC_OUTPATIENT = {"deductible": 0, "coinsurance_percent": 65}
"""Residents' basic terms for special-disease outpatient episodes (门诊特殊慢性病); ASSUMPTION."""

_NHSS = "National Health Services Survey (国家卫生服务调查)"
_YEARBOOK = "China Health Statistics Yearbook 2017 (中国卫生和计划生育统计年鉴), cost per admission by hospital level"
SOURCES: tuple[Source, ...] = (
    Source("AGE_SHARES_2010", AGE_SHARES_2010, "% of population by 5-year band", "statistic",
           "Tabulation on the 2010 Population Census of the PRC (NBS), rounded to 0.1 %", 2010),
    Source("TARGET_ADMISSIONS_PER_100", TARGET_ADMISSIONS_PER_100, "admissions per 100 population", "statistic",
           "2017 National Health Statistical Bulletin (国家卫生健康事业发展统计公报): annual inpatient rate 17.6 % "
           "(18.2 % in 2018)", 2017, "all payers; residents assumed to be admitted as often as the whole population"),
    Source("ADMISSIONS_BY_AGE", ADMISSIONS_BY_AGE, "general admissions per person-year by band", "calibration",
           "level: TARGET_ADMISSIONS_PER_100; age shape: ASSUMPTION after the " + _NHSS, 2017,
           "target 17.6 inpatient episodes per 100 on the census ages; fitted 17.6 (0.168 ... 0.503 = the former "
           "shape x 1.40)"),
    Source("female_factor", 1.05, "relative admission rate of women", "assumption",
           "ASSUMPTION (childbirth admissions); the " + _NHSS + " reports a higher rate for women", None),
    Source("scheme_factor.ncms", 0.95, "relative admission rate in NCMS", "assumption",
           "ASSUMPTION: rural residents are admitted a little less often", None),
    Source("ADMISSION_LEVEL_MIX", ADMISSION_LEVEL_MIX, "share of general admissions", "statistic",
           "NHC, national medical services Jan-Oct 2019 (全国医疗服务情况): discharges 21,074 (10^4) in all; tertiary "
           "8,039, secondary 6,842, first-level 886, unrated 991, primary-care institutions 3,436", 2019,
           "all payers; public-health institutions (4 %) spread pro rata; out_of_area 5 % is an ASSUMPTION taken "
           "from tertiary"),
    Source("COST_PER_ADMISSION.tertiary", 13_100, "yuan per admission", "statistic", _YEARBOOK, 2016,
           "all payers; the Pareto tail above 100,000 (alpha 2.7) and cv 1.2 are ASSUMPTIONS; the spliced "
                                        "distribution's mean, tail included, is the statistic"),
    Source("COST_PER_ADMISSION.secondary", 5_600, "yuan per admission", "statistic", _YEARBOOK, 2016,
           "cv 1.1 is an ASSUMPTION"),
    Source("COST_PER_ADMISSION.primary", 1_600, "yuan per admission", "statistic",
           _YEARBOOK + " (township health centres)", 2016, "cv 0.9 is an ASSUMPTION"),
    Source("COST_PER_ADMISSION.out_of_area", 20_000, "yuan per admission", "assumption",
           "ASSUMPTION: about 1.5 x the tertiary mean (provincial top hospitals)", None,
           "the spliced distribution's mean, tail included (Pareto above 150,000, alpha 2.5, cv 1.3: ASSUMPTIONS)"),
    Source("cost_per_admission_hospitals", 8_605, "yuan per admission", "statistic",
           "2016 National Health and Family Planning Statistical Bulletin: hospitals' cost per admission 8,604.7",
           2016, "used by the back-test only (it mixes levels)"),
    Source("CANCER_IN_TREATMENT", CANCER_IN_TREATMENT, "share of population a year", "statistic",
           "Chen W. et al., Cancer statistics in China, 2015, CA Cancer J Clin 66 (2016): 4.29 million new cases",
           2015, "taken as the share in treatment in a year (ASSUMPTION); 3 treatment admissions a year, the "
                 "age factors and costs 8,000-22,000 per admission are ASSUMPTIONS"),
    Source("dialysis.prevalence", 0.0004, "share before age factors (about 0.035 % on census ages)", "assumption",
           "ASSUMPTION of the order of the Chinese National Renal Data System's count of dialysis patients "
           "(roughly half a million in 2016); not re-checked", 2016, "12 monthly episodes of 5,500-6,500 yuan"),
    Source("mental_illness.prevalence", 0.003, "share a year with an admission", "assumption",
           "ASSUMPTION: below the about 0.4 % of the population registered with severe mental disorders in the "
           "national management system (2016)", None),
    Source("special_outpatient.prevalence", 0.04, "share before age factors", "assumption",
           "ASSUMPTION: special chronic-disease outpatient care (门诊特殊慢性病), 6 episodes of 600-1,000 yuan", None),
    Source("transplant.prevalence", 0.00005, "share", "assumption", "ASSUMPTION", None),
    Source("COMPLIANT_PERCENT", COMPLIANT_PERCENT, "% of cost inside the catalogues", "assumption",
           "ASSUMPTION: typical compliant shares by level", None),
    Source("BASIC_INPATIENT.deductible", {k: v["deductible"] for k, v in BASIC_INPATIENT.items()},
           "yuan per admission", "assumption", "ASSUMPTION: typical residents' deductibles of the period", None),
    Source("BASIC_INPATIENT.coinsurance_percent", {k: v["coinsurance_percent"] for k, v in BASIC_INPATIENT.items()},
           "% of compliant cost above the deductible", "calibration",
           "target: residents' policy-scope inpatient payment ratio '75 % 左右' (shared/seeds/004 line 25, "
           "Guangdong, end of the 12th five-year plan)", 2015,
           "the former schedule (90/75/60/45) moved up by 20 points, capped at 95 (one parameter); target 75 %, "
           "fitted 75.0 % of compliant inpatient cost (actuarial.fitting.backtest.tabulate, default county, 131,072 x 2)"),
    Source("BASIC_OUTPATIENT", BASIC_OUTPATIENT, "deductible yuan, fund share %", "assumption", "ASSUMPTION", None),
)
"""Every default number: value, unit, kind (statistic / assumption / calibration), source, year and note."""


def sources_frame():
    """:data:`SOURCES` as a table (name, value, unit, kind, source, year, note).

    >>> int(sources_frame().set_index("name").loc["TARGET_ADMISSIONS_PER_100", "year"])
    2017
    """
    import pandas as pd

    return pd.DataFrame([{f: getattr(s, f) for f in Source.__dataclass_fields__} for s in SOURCES])


def default_streams() -> tuple[dict, ...]:
    """The default episode streams as plain data (``claims.streams`` entries; the schema,
    :func:`actuarial.scenario.default_streams`, validates them): general admissions, special
    outpatient care and four listed diseases.

    The listed-disease streams exist so that disease-list schemes (Shanghai,
    Daqing) have something to cover; see :data:`SOURCES` for each number's source
    or ASSUMPTION label.
    """
    def ln(mean: float, cv: float) -> dict:
        return {"family": "lognormal", "mean": mean, "cv": cv}

    def sp(mean: float, cv: float, threshold: float, alpha: float) -> dict:
        # The statistic is the mean of the whole distribution, tail included; the spec's mean is the body's.
        body = round(SplicedPareto.body_mean_for(mean, cv, threshold, alpha), 2)
        return {"family": "spliced_pareto", "mean": body, "cv": cv, "threshold": threshold, "alpha": alpha}

    cost = COST_PER_ADMISSION
    cancer_age = (0.05, 0.05, 0.3, 1.5, 3.0, 4.0, 3.5)
    # prevalence before age factors such that the census-weighted share is CANCER_IN_TREATMENT
    cancer_prevalence = round(CANCER_IN_TREATMENT / float(np.dot(census_band_weights(), cancer_age)), 5)
    specs = [
        dict(name="admissions", episodes_by_age=ADMISSIONS_BY_AGE, dispersion=1.0,
             female_factor=1.05, scheme_factor={"ncms": 0.95}, level_mix=dict(ADMISSION_LEVEL_MIX),
             severity={"primary": ln(cost["primary"], 0.9), "secondary": ln(cost["secondary"], 1.1),
                       "tertiary": sp(cost["tertiary"], 1.2, 100_000, 2.7),
                       "out_of_area": sp(cost["out_of_area"], 1.3, 150_000, 2.5)}),
        dict(name="special_outpatient", disease="chronic_other", setting="outpatient", prevalence=0.04,
             prevalence_age_factor=(0.1, 0.2, 0.5, 1.3, 2.2, 2.8, 2.8), episodes_by_age=(6,) * 7,
             level_mix={"secondary": 0.6, "tertiary": 0.4},
             severity={"secondary": ln(600, 1.0), "tertiary": ln(1000, 1.0)}),
        dict(name="cancer", disease="cancer", prevalence=cancer_prevalence,
             prevalence_age_factor=cancer_age, episodes_by_age=(3,) * 7,
             level_mix={"secondary": 0.2, "tertiary": 0.7, "out_of_area": 0.1},
             severity={"secondary": ln(8000, 0.8), "tertiary": ln(14000, 0.9), "out_of_area": ln(22000, 1.0)}),
        dict(name="dialysis", disease="uremia_dialysis", setting="outpatient", prevalence=0.0004,
             prevalence_age_factor=(0.05, 0.1, 0.6, 1.5, 2.0, 2.0, 1.5), episodes_by_age=(12,) * 7,
             level_mix={"secondary": 0.5, "tertiary": 0.5},
             severity={"secondary": ln(5500, 0.3), "tertiary": ln(6500, 0.3)}),
        dict(name="transplant", disease="transplant_antirejection", setting="outpatient", prevalence=0.00005,
             episodes_by_age=(12,) * 7, level_mix={"tertiary": 1.0}, severity={"tertiary": ln(3000, 0.4)}),
        dict(name="mental_illness", disease="mental_illness", prevalence=0.003,
             prevalence_age_factor=(0.0, 0.3, 1.2, 1.2, 1.0, 0.8, 0.6), episodes_by_age=(1,) * 7,
             level_mix={"secondary": 0.7, "tertiary": 0.3},
             severity={"secondary": ln(9000, 0.8), "tertiary": ln(15000, 0.8)}),
    ]
    return tuple(specs)


def census_band_weights(age_shares=AGE_SHARES_2010) -> np.ndarray:
    """Share of the population in each utilisation band (fractions summing to 1) for 5-year ``age_shares``.

    >>> round(float(census_band_weights()[2]), 3)    # 15-44 on the 2010 census
    0.503
    """
    shares = np.asarray(age_shares, float)
    return np.bincount(utilisation_band(np.asarray(AGE_BAND_STARTS)), weights=shares / shares.sum(),
                       minlength=len(UTILISATION_BANDS))
