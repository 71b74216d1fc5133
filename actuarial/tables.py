"""Default demographic and utilisation tables, with their sources.

These are the values a scenario gets when it does not give its own. They are
deliberately round: a programme with data of its own should override them (or
fit them with :mod:`actuarial.fitting`). Every number says where it comes from.

Sources
-------
* Age structure: Tabulation on the 2010 Population Census of the People's
  Republic of China (National Bureau of Statistics), population by 5-year age
  group, rounded to 0.1 %; the engine normalises the shares.
* Admission rates: the Sixth National Health Services Survey (2018) reports an
  annual inpatient rate of about 13.7 % overall, rising steeply with age (about
  a quarter of people aged 65+ admitted in a year). The band values below keep
  that age shape but give about 11.4 general admissions per 100 person-years on
  the census age structure (about 12 with the listed-disease streams): lower
  than the survey, because they were set together with the costs so that the CII
  layer costs what programmes actually funded. They are an assumption, not
  survey figures.
* Cost per admission: China Health Statistics Yearbook 2017 gives mean
  inpatient cost per admission in 2016 of about 13,100 yuan in tertiary
  hospitals, 5,600 in secondary hospitals and 1,600 in township health
  centres. The defaults are lower for the upper levels (tertiary: a lognormal
  body of mean 10,500 yuan with a Pareto tail above 100,000, overall mean about
  10,550; secondary 5,000; primary 1,600), since residents' admissions cost
  less than the all-payer averages and CII costs must match the premiums
  actually set (25-33 yuan under the provincial design, shared/seeds/001).
  Dispersion (cv) and tails are assumptions.
* Basic insurance terms: typical residents' scheme values of the period
  (deductible rising and coinsurance falling with hospital level); assumptions.
"""

from __future__ import annotations

import numpy as np

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

ADMISSIONS_BY_AGE = (0.12, 0.05, 0.08, 0.14, 0.22, 0.30, 0.36)
"""General admissions per person-year by utilisation band (assumption fitted to NHSS 2018's 13.7 %)."""

COMPLIANT_PERCENT = {"primary": 95.0, "secondary": 90.0, "tertiary": 85.0, "out_of_area": 75.0}
"""Share (%) of an episode's cost that is compliant (合规, inside the catalogues), by level (assumption)."""

BASIC_INPATIENT = {
    "primary": {"deductible": 200, "coinsurance_percent": 90},
    "secondary": {"deductible": 500, "coinsurance_percent": 75},
    "tertiary": {"deductible": 1000, "coinsurance_percent": 60},
    "out_of_area": {"deductible": 1500, "coinsurance_percent": 45},
}
"""Residents' basic inpatient terms by level: per-admission deductible (yuan) and fund share (%)."""

BASIC_OUTPATIENT = {"deductible": 0, "coinsurance_percent": 65}
"""Residents' basic terms for special-disease outpatient episodes (门诊特殊慢性病)."""


def default_streams() -> tuple:
    """The default episode streams: general admissions, special outpatient care and four listed diseases.

    The listed-disease streams exist so that disease-list schemes (Shanghai,
    Daqing) have something to cover; their prevalences are assumptions of the
    right order (dialysis about 0.04 % of residents, treated cancer about 0.3 %).
    """
    from .scenario import EpisodeStream  # local import: scenario imports this module

    def ln(mean: float, cv: float) -> dict:
        return {"family": "lognormal", "mean": mean, "cv": cv}

    def sp(mean: float, cv: float, threshold: float, alpha: float) -> dict:
        return {"family": "spliced_pareto", "mean": mean, "cv": cv, "threshold": threshold, "alpha": alpha}

    specs = [
        dict(name="admissions", episodes_by_age=ADMISSIONS_BY_AGE, dispersion=1.0,
             female_factor=1.05, scheme_factor={"ncms": 0.95},
             severity={"primary": ln(1600, 0.9), "secondary": ln(5000, 1.1),
                       "tertiary": sp(10500, 1.2, 100_000, 2.7), "out_of_area": sp(17000, 1.3, 150_000, 2.5)}),
        dict(name="special_outpatient", disease="chronic_other", setting="outpatient", prevalence=0.04,
             prevalence_age_factor=(0.1, 0.2, 0.5, 1.3, 2.2, 2.8, 2.8), episodes_by_age=(6,) * 7,
             level_mix={"secondary": 0.6, "tertiary": 0.4},
             severity={"secondary": ln(600, 1.0), "tertiary": ln(1000, 1.0)}),
        dict(name="cancer", disease="cancer", prevalence=0.002,
             prevalence_age_factor=(0.05, 0.05, 0.3, 1.5, 3.0, 4.0, 3.5), episodes_by_age=(3,) * 7,
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
    return tuple(EpisodeStream(**s) for s in specs)
