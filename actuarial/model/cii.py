"""The CII benefit (大病保险待遇) on each person's annual accumulation. Pure, vectorised functions.

Terms
-----
accumulation
    Compliant out-of-pocket cost left after basic insurance in the year
    (合规自付费用), from covered episodes, less the first self-paid shares of
    category B and C items (乙类/丙类先行自付), yuan per person-year. Each
    episode's part is :func:`episode_contribution`; the B/C self-pay is taken
    per episode from the item cost (``category_bc_base = "item_cost"``, 001
    l.1087) or as an annual factor on the out-of-pocket (:func:`eligible_factor`).
deductible
    起付线: the accumulation below it is not reimbursed.
tiers
    分段支付比例: marginal rates on bands. With ``tier_edges = "accumulation"``
    band *j* runs from ``max(above_j, deductible)`` to ``max(above_{j+1},
    deductible)`` of the accumulation; with ``tier_edges = "excess"`` (the
    band edges are amounts above the deductible, "起付标准以上", 001 l.1063) it
    runs from ``deductible + above_j`` to ``deductible + above_{j+1}``, each
    person's own deductible (the poor's is lower, so their edges are too).
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

import math

import numpy as np

from ..scenario import CII, LOCATIONS


def tiered_benefit(accumulation, deductible, edges, rates, on_excess: bool = False) -> np.ndarray:
    """Marginal tiered benefit before the cap, yuan.

    ``accumulation`` and ``deductible`` broadcast (arrays of people or scalars);
    ``edges`` are the tiers' ``above`` values (first is 0), ``rates`` fractions,
    either 1-D (same for everyone) or 2-D (people × tiers). ``on_excess``: the
    edges are amounts above each person's deductible (``CII.tier_edges = "excess"``).

    >>> float(tiered_benefit(np.array([30000.0]), 6000, [0, 20000], [0.5, 0.6], on_excess=True)[0])
    12400.0
    """
    if on_excess:  # measure from the deductible: the same bands with a zero deductible
        accumulation = np.asarray(accumulation, float) - np.asarray(deductible, float)
        deductible = 0.0
    x = np.asarray(accumulation, float)[..., None]
    d = np.asarray(deductible, float)[..., None]
    e = np.asarray(edges, float)
    lo = np.maximum(e, d)
    hi = np.maximum(np.append(e[1:], np.inf), d)
    band = np.clip(x - lo, 0.0, hi - lo)
    return np.sum(band * np.asarray(rates, float), axis=-1)


def bc_self_pay_share(cii: CII, claims) -> float:
    """k: the part of an episode's compliant cost the patient self-pays first on B/C items (fraction),
    ``b·s_B + c·s_C`` with ``b``, ``c`` the B/C shares of compliant cost (``claims``) and ``s_B``,
    ``s_C`` the self-pay rates (乙类/丙类先行自付)."""
    return (claims.category_b_percent * cii.category_b_self_pay_percent
            + claims.category_c_percent * cii.category_c_self_pay_percent) / 1e4


def eligible_factor(cii: CII, category_b_share: float, category_c_share: float) -> float:
    """Share of the accumulation that enters the CII tiers after the B/C self-pay (fraction).

    ``category_bc_base = "out_of_pocket"``: the self-paid 15 % / 30 % (乙类/丙类先行自付) is taken
    from the B/C share of the out-of-pocket that would enter CII, i.e. ``1 − b·s_B − c·s_C`` of the
    annual accumulation, with ``b``, ``c`` the B/C shares of compliant cost.
    ``category_bc_base = "item_cost"`` (the seed's reading, 001 l.1087): the self-pay is taken from the
    B/C item cost per episode by :func:`episode_contribution`, so the annual factor is 1.

    >>> from actuarial.scenario import CII
    >>> d = CII(deductible=6000, tiers=[{"above": 0, "rate_percent": 50}], category_bc_base="out_of_pocket",
    ...         category_b_self_pay_percent=15, category_c_self_pay_percent=30)
    >>> round(eligible_factor(d, 0.20, 0.05), 4)    # 1 − 0.20·0.15 − 0.05·0.30
    0.955
    """
    if cii.category_bc_base == "item_cost":
        return 1.0
    return 1.0 - category_b_share * cii.category_b_self_pay_percent / 100 - category_c_share * cii.category_c_self_pay_percent / 100


def claims_eligible_factor(cii: CII, claims) -> float:
    """:func:`eligible_factor` with the B/C shares of compliant cost of a scenario's ``claims``."""
    return eligible_factor(cii, claims.category_b_percent / 100, claims.category_c_percent / 100)


def episode_contribution(cii: CII, claims, compliant, basic_paid, deductible_part):
    """An episode's contribution toward the CII accumulation (合规自付累计), yuan (arrays of any xp).

    The one home of "what counts toward the accumulation", called by every engine; the exact method
    uses its closed form :func:`episode_contribution_terms` (tests/test_fidelity_rules.py holds the
    two equal). The compliant cost (合规费用) left after the basic fund's payment ``basic_paid``, less
    the basic deductible part (起付标准以下个人负担部分) unless ``cii.includes_basic_deductible``
    (shared/seeds/001: 起付线不含基本医疗保险起付标准以下个人负担部分); with
    ``cii.category_bc_base = "item_cost"`` (001 l.1087) the B/C self-pay ``k · compliant``
    (:func:`bc_self_pay_share` of the scenario's ``claims``) is taken out too, at least 0 per episode.

    >>> from actuarial.scenario import CII, Claims
    >>> d = CII(deductible=6000, tiers=[{"above": 0, "rate_percent": 50}])
    >>> float(episode_contribution(d, Claims(), 11000.0, 6000.0, 1000.0))   # 11,000 − 6,000 − the 1,000 deductible
    4000.0
    >>> d = CII(deductible=6000, tiers=[{"above": 0, "rate_percent": 50}], category_bc_base="item_cost",
    ...         category_b_self_pay_percent=15, category_c_self_pay_percent=30)
    >>> c = Claims(category_b_percent=20, category_c_percent=5)          # k = 0.045
    >>> float(episode_contribution(d, c, 20000.0, 11000.0, 1000.0))       # 9,000 − 1,000 − 0.045 × 20,000
    7100.0
    """
    # Plain arithmetic and a ufunc, so numpy and CuPy arrays (the GPU engine) both stay on their device.
    oop = compliant - basic_paid
    toward = oop if cii.includes_basic_deductible else oop - deductible_part
    if cii.category_bc_base == "item_cost" and bc_self_pay_share(cii, claims) > 0:
        toward = np.maximum(toward - bc_self_pay_share(cii, claims) * compliant, 0.0)
    return toward


def episode_contribution_terms(cii: CII, claims, s: float, d: float, c: float) -> tuple[float, float, float]:
    """(a0, knot, a1): :func:`episode_contribution` of an episode of cost X (yuan) is
    ``a0·min(X, knot) + a1·max(X − knot, 0)`` (before the basic annual cap), for compliant share ``s``,
    basic deductible ``d`` (yuan) and coinsurance ``c`` (fractions). Non-decreasing in X.

    >>> from actuarial.scenario import CII, Claims
    >>> d = CII(deductible=6000, tiers=[{"above": 0, "rate_percent": 50}])
    >>> episode_contribution_terms(d, Claims(), 0.8, 1000.0, 0.6)
    (0.0, 1250.0, 0.32000000000000006)
    """
    knot = d / s if s > 0 else math.inf
    if cii.category_bc_base != "item_cost" or bc_self_pay_share(cii, claims) == 0:
        return (s, knot, s * (1.0 - c)) if cii.includes_basic_deductible else (0.0, knot, s * (1.0 - c))
    k = bc_self_pay_share(cii, claims)
    slope = s * (1.0 - c - k)  # above the basic deductible
    if cii.includes_basic_deductible:
        if slope < 0:
            raise ValueError(f"B/C self-pay on the item cost with basic coinsurance {c:g} + k {k:g} > 1: the "
                             "episode's contribution would fall with its cost")
        return s * (1.0 - k), knot, slope
    if slope <= 0:  # the self-pay eats the whole out-of-pocket: nothing ever enters
        return 0.0, math.inf, 0.0
    # (1 − c)(sX − d) − k·sX = slope·(X − X0), zero at X0 = (1 − c)·d / slope ≥ d/s
    return 0.0, (1.0 - c) * d / slope, slope


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
        return tiered_benefit(x, deductible, edges, np.clip(base + points / 100 + bonus, 0.0, 1.0),
                              on_excess=cii.tier_edges == "excess")

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


def policy_accumulation(cii: CII, by_location: np.ndarray) -> np.ndarray:
    """Accumulation inside the policy's scope, yuan per person: locations whose rule is a flat 0 %
    (care CII does not pay, e.g. Shanghai outside its designated providers, 001 l.551) left out.
    The denominator of the policy payment ratio (:mod:`actuarial.results.compliance`)."""
    by_location = np.atleast_2d(np.asarray(by_location, float))
    keep = [k == 0 or (rule := cii.locations.get(name)) is None or rule.flat_rate_percent != 0
            for k, name in enumerate(LOCATIONS)]
    return by_location[:, keep].sum(axis=1)


def band_measure(cii: CII, eligible, deductible) -> np.ndarray:
    """What the tiers' ``above`` edges are compared with, yuan: the eligible accumulation itself, or
    its excess over each person's ``deductible`` when ``cii.tier_edges == "excess"``."""
    eligible = np.asarray(eligible, float)
    return eligible - np.asarray(deductible, float) if cii.tier_edges == "excess" else eligible


def min_deductible(cii: CII) -> float:
    """The lowest deductible anyone faces, yuan (below it nobody is paid)."""
    return min(cii.deductible, cii.effective_poor_deductible)
