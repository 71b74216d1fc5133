"""Back-test: the model's outputs beside published figures, with source, year, tolerance and pass/fail.

A scenario is run on a sample of its population (a few simulated years of at most
``size`` people) and tabulated episode by episode, so that figures the engine does
not keep (admissions by hospital level, the basic fund's share of compliant
inpatient cost, the total cost of CII beneficiaries) can be set beside national
statistics. Nothing here changes the model: where it misses, the row says so.

Each row has ``metric``, ``model`` (estimate and Monte Carlo standard error, over
(simulated year, block) units), ``published`` (the figure), ``source``, ``year``,
``tolerance`` (the accepted interval, in the metric's unit) and
``within_tolerance``. The published figures are national, all-payer averages of
their year; a scenario describes one programme in one year, so a miss is
information about the scenario *or* the tables, never a reason to tune either.

Money comparisons are made at the prices of the figure's year: the model's cost
per admission is moved from the scenario's ``programme.year`` to the figure's
year with the scenario's own ``claims.cost_trend_percent``.

This module owns the back-test and its table of published figures. It reuses the
model's rules (:mod:`actuarial.model.claims`, :mod:`actuarial.model.basic`, :mod:`actuarial.model.cii`)
and does not restate any of them.

>>> from actuarial.scenario import load_scenario
>>> rows = backtest(load_scenario("scenarios/default_county.toml"), size=20_000, years=2, seed=1)
>>> sorted(rows[0])[:4]
['metric', 'model', 'note', 'published']
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..model import basic as basicmod
from ..model import cii as ciimod
from ..model import rng as rngmod
from ..engines.engine import person_year
from ..model.population import population_block
from ..estimates import Estimate, ratio_estimate
from ..scenario import LEVELS, Scenario


@dataclass(frozen=True)
class Published:
    """One published figure: value (or range), unit, source, year and the accepted interval."""

    metric: str
    value: float
    low: float
    high: float
    unit: str
    source: str
    year: int
    note: str = ""


PUBLISHED: tuple[Published, ...] = (
    Published("admissions_per_100", 17.6, 17.6 * 0.85, 17.6 * 1.15, "admissions per 100 person-years",
              "National Health Statistical Bulletin 2017 (国家卫生健康事业发展统计公报): annual inpatient rate 17.6 %",
              2017, "all payers and all ages; 18.2 % in 2018. Tolerance ±15 %."),
    Published("cost_per_admission_tertiary", 13_100, 13_100 * 0.8, 13_100 * 1.2, "yuan per admission",
              "China Health Statistics Yearbook 2017: cost per admission, tertiary hospitals", 2016,
              "all payers; model moved to 2016 prices with the scenario's cost trend. Tolerance ±20 %."),
    Published("cost_per_admission_secondary", 5_600, 5_600 * 0.8, 5_600 * 1.2, "yuan per admission",
              "China Health Statistics Yearbook 2017: cost per admission, secondary hospitals", 2016,
              "as above. Tolerance ±20 %."),
    Published("cost_per_admission_primary", 1_600, 1_600 * 0.8, 1_600 * 1.2, "yuan per admission",
              "China Health Statistics Yearbook 2017: cost per admission, township health centres", 2016,
              "the model's primary level is township centres and first-level hospitals. Tolerance ±20 %."),
    Published("cost_per_admission", 8_605, 8_605 * 0.8, 8_605 * 1.2, "yuan per admission",
              "National Health and Family Planning Statistical Bulletin 2016: hospitals' cost per admission 8,604.7",
              2016, "hospitals only (no township centres), all payers; the model's figure is over all levels "
                    "and streams, so it should sit somewhat below. Tolerance ±20 %."),
    Published("basic_reimbursement_of_compliant_percent", 75.0, 70.0, 80.0, "% of compliant inpatient cost",
              "policy-scope inpatient payment ratio target for residents, '75 % 左右' "
              "(shared/seeds/004, line 25, Guangdong, end of the 12th five-year plan)", 2015,
              "a target, not an outturn; accepted 70-80 %."),
    Published("cii_beneficiaries_per_10k", 17.0, 16.0, 18.0, "beneficiaries per 10,000 insured per year",
              "national CII figures for 2014 as cited in issue 12 (about 16-18 per 10,000 insured, deductibles "
              "near annual income); the original publication was not re-checked", 2014,
              "comparable only for designs with deductibles near annual income, all diseases."),
    Published("cii_benefit_per_beneficiary", 7_138, 7_138 * 0.75, 7_138 * 1.25, "yuan per beneficiary",
              "national CII average benefit per beneficiary, 2013, as cited in issue 12 (original not re-checked)",
              2013, "model moved to 2013 prices with the scenario's cost trend. Tolerance ±25 %."),
    Published("reimbursement_rise_points", 14.0, 5.0, 23.0, "percentage points of beneficiaries' total cost",
              "rise in the reimbursement ratio of CII beneficiaries, four cities, 2014, as cited in issue 12 "
              "(+5 to +23 points; original not re-checked)", 2014,
              "CII paid / beneficiaries' total medical cost; accepted: the published range."),
)
"""The published figures the back-test compares with (one home: the README and notebook read this)."""


def _price_move(scenario: Scenario, to_year: int) -> float:
    """Multiplier taking the scenario's money from its ``programme.year`` to ``to_year`` with its cost trend."""
    year = scenario.programme.year
    if year is None:
        return 1.0
    return (1 + scenario.claims.cost_trend_percent / 100) ** (to_year - year)


def tabulate(scenario: Scenario, size: int = 131_072, years: int = 4, seed: int = 0) -> dict[str, np.ndarray]:
    """Per (simulated year, block) totals of what the back-test compares, from an episode-level pass.

    Returns arrays of shape (years, blocks): ``people``; inpatient ``admissions``,
    ``cost`` and ``compliant``, ``basic_paid`` (yuan), and per level
    ``admissions_<level>`` / ``cost_<level>``; CII ``beneficiaries``, ``cii_paid`` and the
    beneficiaries' total medical cost ``beneficiary_cost`` (yuan).
    """
    sc = scenario.replace(**{"population.size": int(min(size, scenario.population.size))})
    nb = rngmod.n_blocks(sc.population.size)
    cii = sc.cii
    inpatient_s = basicmod.inpatient_streams(sc.claims)
    factor = ciimod.claims_eligible_factor(cii, sc.claims)
    keys = (["people", "admissions", "cost", "compliant", "basic_paid", "beneficiaries", "cii_paid", "beneficiary_cost"]
            + [f"{k}_{lvl}" for lvl in LEVELS for k in ("admissions", "cost")])
    out = {k: np.zeros((years, nb)) for k in keys}
    for b in range(nb):
        people = population_block(sc.population, seed, b)
        n = len(people)
        for y in range(years):
            py = person_year(sc, people, seed, y, b)  # the engine's own pass (actuarial.engines.engine)
            ep, paid = py.episodes, py.paid
            inp = inpatient_s[ep.stream]
            pay = ciimod.benefit(cii, py.by_location, people.poor, factor)
            got = pay > 0
            cost_person = np.bincount(ep.person, weights=ep.cost, minlength=n)
            o = {"people": n, "admissions": inp.sum(), "cost": ep.cost[inp].sum(),
                 "compliant": ep.compliant[inp].sum(), "basic_paid": paid[inp].sum(),
                 "beneficiaries": got.sum(), "cii_paid": pay.sum(), "beneficiary_cost": cost_person[got].sum()}
            for li, lvl in enumerate(LEVELS):
                sel = inp & (ep.level == li)
                o[f"admissions_{lvl}"] = sel.sum()
                o[f"cost_{lvl}"] = ep.cost[sel].sum()
            for k, v in o.items():
                out[k][y, b] = v
    return out


def _model(t: dict[str, np.ndarray], metric: str, scenario: Scenario, year: int) -> Estimate:
    """The model's value of ``metric`` from :func:`tabulate`'s totals, with its SE."""
    def r(num: str, den: str, per: float = 1.0) -> Estimate:
        if t[den].sum() == 0:
            return Estimate(math.nan, math.nan)
        return ratio_estimate(t[num].ravel(), t[den].ravel()).scaled(per)

    move = _price_move(scenario, year)
    if metric == "admissions_per_100":
        return r("admissions", "people", 100)
    if metric.startswith("cost_per_admission_"):
        lvl = metric.removeprefix("cost_per_admission_")
        return r(f"cost_{lvl}", f"admissions_{lvl}", move)
    if metric == "cost_per_admission":
        return r("cost", "admissions", move)
    if metric == "basic_reimbursement_of_compliant_percent":
        return r("basic_paid", "compliant", 100)
    if metric == "cii_beneficiaries_per_10k":
        return r("beneficiaries", "people", 1e4)
    if metric == "cii_benefit_per_beneficiary":
        return r("cii_paid", "beneficiaries", move)
    if metric == "reimbursement_rise_points":
        return r("cii_paid", "beneficiary_cost", 100)
    raise KeyError(metric)


def backtest(scenario: Scenario, size: int = 131_072, years: int = 4, seed: int = 0) -> list[dict]:
    """Rows of the back-test of one scenario (see the module docstring for the keys).

    ``size`` people (at most the scenario's) are simulated for ``years`` independent years.
    A row's ``within_tolerance`` is None when the model has no such episodes (e.g. no primary care).
    """
    t = tabulate(scenario, size, years, seed)
    rows = []
    for p in PUBLISHED:
        est = _model(t, p.metric, scenario, p.year)
        ok = None if not math.isfinite(est.value) else bool(p.low <= est.value <= p.high)
        rows.append({"scenario": scenario.programme.name, "metric": p.metric, "unit": p.unit,
                     "model": {"estimate": est.value, "se": est.se}, "published": p.value,
                     "tolerance": {"low": p.low, "high": p.high}, "within_tolerance": ok,
                     "source": p.source, "year": p.year, "note": p.note})
    return rows


def to_frame(rows: list[dict]) -> pd.DataFrame:
    """A flat table of back-test rows (one column per number), for display and CSV."""
    return pd.DataFrame([{
        "scenario": r["scenario"], "metric": r["metric"], "model": r["model"]["estimate"], "se": r["model"]["se"],
        "published": r["published"], "low": r["tolerance"]["low"], "high": r["tolerance"]["high"],
        "pass": {True: "yes", False: "NO", None: "n/a"}[r["within_tolerance"]], "year": r["year"],
        "source": r["source"],
    } for r in rows])
