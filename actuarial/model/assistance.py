"""Medical assistance (医疗救助) as the third layer after basic insurance and CII, and the outputs after all three.

Owns the assistance rule (:func:`assistance_benefit`, a pure function of each person's compliant
out-of-pocket left after basic insurance and CII) and its tabulation on a
:class:`~actuarial.results.simulation.SimulationResult`. It needs nothing from the engines beyond the rows and
the per-cell totals every engine produces, so every engine supports it. The CII layer does not
see it: the CII accumulation is not reduced by assistance received (001 l.177, l.179), which holds
by construction because assistance is computed from the CII result, never the other way round.

Scope below the floor
---------------------
Rows exist only for person-years whose CII accumulation reached the heavy pass's floor. For the
others CII pays nothing (the floor is at most the lowest CII deductible), so their assistance is
``min(rate · max(o − d, 0), cap)`` of their compliant out-of-pocket ``o``, which is known only as a
cell total ``T``. We handle it so:

* when the accumulation *is* the compliant out-of-pocket (``cii.includes_basic_deductible`` and no
  ``cii.scope``) and the floor is at most the assistance deductible, a person without a row has
  ``o < floor ≤ d`` and gets nothing: the rows are complete and the figures exact (``exact``);
  ``actuarial run`` lowers the floor to the assistance deductible in that case (:func:`assistance_floor`);
* otherwise (basic deductibles or out-of-scope care outside the accumulation) ``actuarial run`` lowers
  the floor to 0, so only people with no accumulation at all lack a row, and their part is bounded:
  ``0 ≤ assistance ≤ rate · T`` (and ≤ their count × cap). The estimates count the rows only (a lower
  bound) and ``medical_assistance_unresolved_max_per_capita`` gives the largest amount that may be
  missing (0 when exact; 0.008 yuan per capita against 7.60 in ``national_2022_consolidated.toml``,
  brute engine: see :func:`assistance_engine`).

Hand-worked example: compliant out-of-pocket after basic 60,000 yuan, CII pays 30,000; assistance
70 % above 0, cap 50,000 → 0.7 × 30,000 = 21,000; the patient keeps 9,000.

>>> import numpy as np
>>> from actuarial.scenario.rules import MedicalAssistance
>>> ma = MedicalAssistance(rate_percent=70, cap=50_000)
>>> assistance_benefit(ma, np.array([30_000.0, 30_000.0, 100_000.0]), np.array([True, False, True])).tolist()
[21000.0, 0.0, 50000.0]
"""

from __future__ import annotations

import math

import numpy as np

from .cii import min_deductible
from ..estimates import Estimate, ratio_estimate
from .population import N_GROUPS, group_labels
from ..scenario.rules import MedicalAssistance


def assistance_benefit(ma: MedicalAssistance, remaining, eligible) -> np.ndarray:
    """Medical assistance per person, yuan per person-year.

    ``remaining`` is each person's compliant out-of-pocket after basic insurance and CII (yuan),
    ``eligible`` a bool per person (the assisted group). Pays ``rate`` of the part above the
    deductible, up to the cap.
    """
    remaining = np.asarray(remaining, float)
    pay = np.minimum(ma.rate * np.maximum(remaining - ma.deductible, 0.0), ma.cap)
    return np.where(np.asarray(eligible, bool), pay, 0.0)


def assistance_floor(scenario) -> float | None:
    """The heavy pass's floor for the assistance layer (yuan), or None when the scenario has no assistance.

    When the accumulation is the compliant out-of-pocket, the assistance deductible (rows are then
    complete); otherwise 0, so that everyone with any accumulation has a row and only people whose whole
    out-of-pocket lies outside it (basic deductibles, out-of-scope care) are left to the bound.
    """
    ma = getattr(scenario, "medical_assistance", None)
    if ma is None:
        return None
    if _accumulation_is_oop(scenario):
        return min(min_deductible(scenario.cii), ma.deductible)
    return 0.0


def assistance_engine(scenario, engine: str) -> str:
    """The engine a run with medical assistance uses: "auto" becomes "brute" when the rows cannot hold
    everyone assistance may pay. The bound on the rest compares each cell's total out-of-pocket with
    its rows; the fast engine's totals are expectations, not the drawn people's, so there the
    difference is sampling noise clipped at 0 (a bound 100 times looser, measured on
    ``national_2022_consolidated.toml``: 0.67 against 0.008 yuan per capita)."""
    if engine == "auto" and getattr(scenario, "medical_assistance", None) is not None \
            and not _accumulation_is_oop(scenario):
        return "brute"
    return engine


def _accumulation_is_oop(scenario) -> bool:
    return scenario.cii.includes_basic_deductible and not scenario.cii.scope


def rows_complete(result) -> bool:
    """Whether the rows hold everyone assistance can pay (see the module docstring): then the figures are exact."""
    sc, ma = result.scenario, result.scenario.medical_assistance
    return _accumulation_is_oop(sc) and result.accumulations.floor <= ma.deductible


def _cells(result, name: str) -> np.ndarray:
    """(years, blocks, groups) totals of a cell field of the result."""
    return result.cells[..., result.CELL_FIELDS.index(name)]


def _eligible_groups(ma: MedicalAssistance) -> np.ndarray:
    return np.array([poor for _, poor in group_labels()])  # eligible = "poor", the only group the model has


def tabulate(result) -> dict[str, np.ndarray]:
    """(years, blocks, groups) totals: assistance paid and recipients (rows), and the bound on the part of
    people without a row (yuan; 0 when :func:`rows_complete`)."""
    ma = result.scenario.medical_assistance
    acc = result.accumulations
    rows = acc.rows
    eligible_g = _eligible_groups(ma)
    remaining = rows.oop_compliant - result.benefit
    pay = assistance_benefit(ma, remaining, eligible_g[rows.group])
    years, blocks = acc.agg.shape[:2]
    index = (rows.year.astype(np.int64) * blocks + rows.block) * N_GROUPS + rows.group

    def tab(weights) -> np.ndarray:
        return np.bincount(index, weights=weights, minlength=years * blocks * N_GROUPS).reshape(years, blocks, N_GROUPS)

    if rows_complete(result):
        bound = np.zeros((years, blocks, N_GROUPS))
    else:
        # Fast-engine totals are expectations given the people, rows are draws: clip a cell's difference at 0.
        outside = np.maximum(_cells(result, "oop_compliant") - tab(rows.oop_compliant), 0.0)
        people_out = np.maximum(_cells(result, "people") - tab(np.ones(len(rows))), 0.0)
        bound = np.where(eligible_g, np.minimum(ma.rate * outside, people_out * ma.cap), 0.0)
    return {"paid": tab(pay), "recipients": tab((pay > 0).astype(float)), "bound": bound}


def metrics(result, groups=None) -> dict[str, Estimate]:
    """Figures after all three layers, each with its Monte Carlo SE (per insured person-year unless named):

    medical_assistance_per_capita (yuan), medical_assistance_recipients_per_10k,
    medical_assistance_unresolved_max_per_capita (yuan; the most the rows may miss, 0 when exact),
    oop_after_all_layers_per_capita (compliant out-of-pocket after basic, CII and assistance, yuan) and
    comprehensive_payment_ratio (综合保障比例: basic + CII + assistance over compliant cost, fraction).
    """
    t = tabulate(result)
    sel = slice(None) if groups is None else list(groups)

    def units(x: np.ndarray) -> np.ndarray:
        x = x[..., sel].sum(axis=-1)
        return x.sum(axis=1) if result.scenario.claims.shocks.enabled else x  # years share their shock

    def cell(name: str) -> np.ndarray:
        return units(_cells(result, name))

    people = cell("people")
    paid, claims = units(t["paid"]), cell("claims")
    return {
        "medical_assistance_per_capita": ratio_estimate(paid, people),
        "medical_assistance_recipients_per_10k": ratio_estimate(units(t["recipients"]), people).scaled(1e4),
        "medical_assistance_unresolved_max_per_capita": ratio_estimate(units(t["bound"]), people),
        "oop_after_all_layers_per_capita": ratio_estimate(cell("oop_compliant") - claims - paid, people),
        "comprehensive_payment_ratio": ratio_estimate(cell("basic_paid") + claims + paid, cell("compliant")),
    }


def poor_groups() -> list[int]:
    """Reporting groups of the poor population."""
    return [g for g, (_, poor) in enumerate(group_labels()) if poor]


def exact_flag(result) -> bool:
    """JSON's ``medical_assistance_exact``: whether assistance figures count everyone (no bound needed)."""
    return bool(rows_complete(result)) or math.isclose(float(tabulate(result)["bound"].sum()), 0.0)
