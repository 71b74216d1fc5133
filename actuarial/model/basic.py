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

from ..backend import bincount
from ..scenario import LEVELS, Basic


def level_terms(basic: Basic) -> tuple[np.ndarray, np.ndarray]:
    """Inpatient deductible (yuan) and coinsurance (fraction) by LEVELS index; NaN where not defined."""
    ded = np.array([basic.inpatient[lvl].deductible if lvl in basic.inpatient else np.nan for lvl in LEVELS])
    coins = np.array([basic.inpatient[lvl].coinsurance if lvl in basic.inpatient else np.nan for lvl in LEVELS])
    return ded, coins


def terms_for(basic: Basic, setting: str, level: str):
    """The basic terms (deductible 起付标准 in yuan, coinsurance as a fraction) of an episode of
    ``setting`` ("inpatient" or "outpatient") at hospital ``level``: inpatient terms by level, one
    outpatient schedule (the closed forms of the exact method and the fast engine read these)."""
    return basic.inpatient[level] if setting == "inpatient" else basic.outpatient


def inpatient_streams(claims) -> np.ndarray:
    """Whether each episode stream is inpatient (bool, claims.streams order): which terms it gets."""
    return np.array([s.setting == "inpatient" for s in claims.streams])


def episode_payments(basic: Basic, compliant, level, inpatient, xp=np):
    """Basic fund payment and deductible part per episode, before the annual cap (yuan).

    The one home of the per-episode basic rule (any array module ``xp``): the fund pays
    ``coinsurance`` of the compliant cost above the level's deductible (起付标准); outpatient
    episodes (``inpatient`` False) use the outpatient terms.
    """
    ded_l, coins_l = level_terms(basic)
    # One table: inpatient terms by level, then the outpatient terms at index len(LEVELS).
    ded_t = xp.asarray(np.append(ded_l, basic.outpatient.deductible))
    coins_t = xp.asarray(np.append(coins_l, basic.outpatient.coinsurance))
    row = xp.where(inpatient, level, len(LEVELS))
    ded, coins = ded_t[row], coins_t[row]
    deductible_part = xp.minimum(compliant, ded)
    paid = coins * (compliant - deductible_part)
    return paid, deductible_part


def apply_annual_cap(basic: Basic, paid, person, n_people: int, xp=np):
    """Episode payments scaled so that no person's annual total exceeds ``basic.annual_cap`` (最高支付限额).

    What the cap cuts off is spread over the person's episodes in proportion to what the fund paid
    for each (the cap is annual, so no episode order is needed). Any array module ``xp``.
    """
    total = bincount(xp, person, weights=paid, minlength=n_people)
    over = total > basic.annual_cap
    if xp is np and not over.any():
        return paid
    scale = xp.where(over, basic.annual_cap / xp.where(over, total, 1.0), 1.0)
    return paid * scale[person]
