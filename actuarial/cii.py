"""The CII benefit (大病保险待遇) on each person's annual accumulation. Pure, vectorised functions.

Terms
-----
accumulation
    Compliant out-of-pocket cost left after basic insurance in the year
    (合规自付费用), from covered episodes, less the first self-paid shares of
    category B and C items (乙类/丙类先行自付), yuan per person-year.
deductible
    起付线: the accumulation below it is not reimbursed.
tiers
    分段支付比例: marginal rates on bands of the accumulation. Band *j* runs
    from ``max(above_j, deductible)`` to ``max(above_{j+1}, deductible)``.
cap
    年度最高支付限额 on the benefit, yuan per person-year.

Out-of-area care (异地就医) is paid under a different schedule: a flat rate
above the deductible, or the tier rates moved by some points. When a person's
accumulation mixes locations, the benefit is the accumulation-weighted mix of
each location's schedule applied to the whole accumulation; when all care is
local this is the plain tiered benefit.

Hand-worked example (Qinzhou 2016, bands assumed at 20,000/40,000/60,000):
accumulation 30,000 yuan, deductible 6,000 → 50 % of 14,000 + 60 % of 10,000
= 13,000 yuan.

>>> import numpy as np
>>> float(tiered_benefit(np.array([30000.0]), 6000, [0, 20000, 40000, 60000], [0.5, 0.6, 0.7, 0.8])[0])
13000.0
"""

from __future__ import annotations

import numpy as np

from .scenario import CII, LOCATIONS


def tiered_benefit(accumulation, deductible, edges, rates) -> np.ndarray:
    """Marginal tiered benefit before the cap, yuan.

    ``accumulation`` and ``deductible`` broadcast (arrays of people or scalars);
    ``edges`` are the tiers' ``above`` values (first is 0), ``rates`` fractions,
    either 1-D (same for everyone) or 2-D (people × tiers).
    """
    x = np.asarray(accumulation, float)[..., None]
    d = np.asarray(deductible, float)[..., None]
    e = np.asarray(edges, float)
    lo = np.maximum(e, d)
    hi = np.maximum(np.append(e[1:], np.inf), d)
    band = np.clip(x - lo, 0.0, hi - lo)
    return np.sum(band * np.asarray(rates, float), axis=-1)


def eligible_factor(cii: CII, category_b_share: float, category_c_share: float) -> float:
    """Share of the post-basic compliant OOP that enters the CII tiers after the B/C self-pay (fraction).

    Modelling choice: the self-paid 15 % / 30 % (乙类/丙类先行自付) is taken from the B/C share of the
    out-of-pocket that would enter CII, i.e. ``1 − b·s_B − c·s_C`` with ``b``, ``c`` the B/C shares of
    compliant cost. Applying it to the whole B/C item cost instead would remove more.

    >>> from actuarial.scenario import CII
    >>> d = CII(deductible=6000, tiers=[{"above": 0, "rate_percent": 50}],
    ...         category_b_self_pay_percent=15, category_c_self_pay_percent=30)
    >>> round(eligible_factor(d, 0.20, 0.05), 4)    # 1 − 0.20·0.15 − 0.05·0.30
    0.955
    """
    return 1.0 - category_b_share * cii.category_b_self_pay_percent / 100 - category_c_share * cii.category_c_self_pay_percent / 100


def claims_eligible_factor(cii: CII, claims) -> float:
    """:func:`eligible_factor` with the B/C shares of compliant cost of a scenario's ``claims``."""
    return eligible_factor(cii, claims.category_b_percent / 100, claims.category_c_percent / 100)


def benefit(cii: CII, by_location: np.ndarray, poor: np.ndarray, factor: float = 1.0) -> np.ndarray:
    """CII benefit per person, yuan.

    Parameters
    ----------
    cii : the CII design.
    by_location : (people × len(LOCATIONS)) accumulation before the B/C self-pay, by location, yuan.
    poor : bool per person; the poor get ``poor_deductible`` and ``poor_points``.
    factor : :func:`eligible_factor`, the share left after the B/C self-pay.
    """
    by_location = np.atleast_2d(np.asarray(by_location, float))
    poor = np.asarray(poor, bool)
    total = by_location.sum(axis=1)
    x = factor * total
    deductible = np.where(poor, cii.effective_poor_deductible, cii.deductible)
    edges = [t.above for t in cii.tiers]
    base = np.array([t.rate for t in cii.tiers])
    bonus = np.where(poor, cii.poor_points / 100, 0.0)[:, None]

    def schedule(points: float) -> np.ndarray:
        return tiered_benefit(x, deductible, edges, np.clip(base + points / 100 + bonus, 0.0, 1.0))

    pay = schedule(0.0)
    if cii.locations and len(total):
        with np.errstate(invalid="ignore", divide="ignore"):
            weight = np.where(total[:, None] > 0, by_location / total[:, None], 0.0)
        mixed = weight[:, 0] * pay
        for k, name in enumerate(LOCATIONS[1:], start=1):
            rule = cii.locations.get(name)
            if rule is None:
                mixed += weight[:, k] * pay
            elif rule.flat_rate_percent is not None:
                mixed += weight[:, k] * rule.flat_rate_percent / 100 * np.maximum(x - deductible, 0.0)
            else:
                mixed += weight[:, k] * schedule(rule.points)
        pay = mixed
    return np.minimum(pay, cii.cap)


def episode_contribution(cii: CII, compliant, basic_paid, deductible_part):
    """An episode's contribution toward the CII accumulation (合规自付累计), yuan (arrays of any xp).

    The one home of "what counts toward the accumulation": the compliant cost (合规费用) left after
    the basic fund's payment, less the basic deductible part (起付标准以下个人负担部分) unless
    ``cii.includes_basic_deductible`` (shared/seeds/001: 起付线不含基本医疗保险起付标准以下个人负担部分).
    Every engine and the exact method (:func:`actuarial.exact.episode_terms`, which evaluates it on
    unit inputs: the contribution is linear in its three arguments) call it.

    >>> from actuarial.scenario import CII
    >>> d = CII(deductible=6000, tiers=[{"above": 0, "rate_percent": 50}])
    >>> float(episode_contribution(d, 11000.0, 6000.0, 1000.0))   # 11,000 − 6,000 − the 1,000 deductible
    4000.0
    """
    oop = compliant - basic_paid
    return oop if cii.includes_basic_deductible else oop - deductible_part


def min_deductible(cii: CII) -> float:
    """The lowest deductible anyone faces, yuan (below it nobody is paid)."""
    return min(cii.deductible, cii.effective_poor_deductible)
