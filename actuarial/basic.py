"""Basic medical insurance (基本医疗保险): what the basic fund pays per episode and per year.

Per episode: the patient pays the deductible (起付标准) of the episode's level,
then the fund pays ``coinsurance`` of the compliant cost above it. Per year: the
fund's total for a person is capped (最高支付限额); what the cap cuts off goes
back to the patient, spread over their episodes in proportion to what the fund
paid for each (the cap is annual, so no episode order is needed).

Output: per-episode fund payment and the part of the patient's compliant cost
that is the basic deductible, which CII usually excludes from its
accumulation (shared/seeds/001: 起付线不含基本医疗保险起付标准以下个人负担部分).

>>> import numpy as np
>>> from actuarial.scenario import Basic, BasicLevel
>>> terms = Basic(inpatient={"tertiary": BasicLevel(deductible=1000, coinsurance_percent=60)},
...               annual_cap=150_000)
>>> paid, ded = episode_payments(terms, np.array([11000.0]), np.array([2]), np.array([True]))
>>> float(paid[0]), float(ded[0])   # 60% of (11,000 - 1,000); patient keeps the 1,000 deductible
(6000.0, 1000.0)
"""

from __future__ import annotations

import numpy as np

from .scenario import LEVELS, Basic


def level_terms(basic: Basic) -> tuple[np.ndarray, np.ndarray]:
    """Inpatient deductible (yuan) and coinsurance (fraction) by LEVELS index; NaN where not defined."""
    ded = np.array([basic.inpatient[lvl].deductible if lvl in basic.inpatient else np.nan for lvl in LEVELS])
    coins = np.array([basic.inpatient[lvl].coinsurance if lvl in basic.inpatient else np.nan for lvl in LEVELS])
    return ded, coins


def episode_payments(basic: Basic, compliant: np.ndarray, level: np.ndarray, inpatient: np.ndarray):
    """Basic fund payment and deductible part per episode, before the annual cap (yuan)."""
    ded_l, coins_l = level_terms(basic)
    ded = np.where(inpatient, ded_l[level] if len(level) else 0.0, basic.outpatient.deductible)
    coins = np.where(inpatient, coins_l[level] if len(level) else 0.0, basic.outpatient.coinsurance)
    deductible_part = np.minimum(compliant, ded)
    paid = coins * (compliant - deductible_part)
    return paid, deductible_part


def apply_annual_cap(basic: Basic, paid: np.ndarray, person: np.ndarray, n_people: int) -> np.ndarray:
    """Episode payments scaled so that no person's annual total exceeds ``basic.annual_cap``."""
    total = np.bincount(person, weights=paid, minlength=n_people)
    over = total > basic.annual_cap
    if not over.any():
        return paid
    scale = np.ones(n_people)
    scale[over] = basic.annual_cap / total[over]
    return paid * scale[person]
