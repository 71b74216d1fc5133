"""Fitting and checking a scenario against data (经验数据): claim-level experience (reading,
frequency, severity, experience: the maximum-likelihood fits and turning a fit into a
:class:`~actuarial.scenario.Scenario`), the banded tables tenders hand out
(:mod:`~actuarial.fitting.grouped`), Bühlmann–Straub credibility (:mod:`~actuarial.fitting.credibility`)
and the back-test against published figures (:mod:`~actuarial.fitting.backtest`, the one part that
simulates).

Experience files
================

Input files (CSV or parquet)
----------------------------
**claims**: one row per episode (admission 住院, or special outpatient episode):

==============  ==========================================================================
``person_id``   pseudonymous id; only used to count episodes per person, never kept
``age``         age in years at the episode, 0-120
``sex``         ``F`` / ``M`` (also ``female`` / ``male``, ``女`` / ``男``)
``scheme``      ``urban``, ``ncms`` or ``merged``
``level``       hospital level: ``primary``, ``secondary``, ``tertiary``, ``out_of_area``
``cost``        total medical cost of the episode, yuan, > 0
``compliant``   compliant part (合规费用), yuan, 0 ≤ compliant ≤ cost
``basic_paid``  paid by basic insurance (基本医保支付), yuan, 0 ≤ basic_paid ≤ compliant
``stream``      optional: episode stream name (default ``admissions``)
==============  ==========================================================================

**enrolment**: insured person-years by cell (exposure):

==============  ==========================================================================
``age_band``    one of ``0-4``, ``5-14``, ``15-44``, ``45-59``, ``60-69``, ``70-79``, ``80+``
``sex``         as above
``scheme``      as above
``insured``     insured person-years in the cell (people insured the whole year), ≥ 0
==============  ==========================================================================

A person's cell is taken from their first episode (age band, sex, scheme).

Models
------
* Frequency, per stream: episodes per person-year with mean
  ``episodes_by_age[band] × female_factor^female × scheme_factor[scheme]``
  (the scenario's own form), Poisson or negative binomial (gamma frailty,
  Var N = m + dispersion·m²), fitted jointly by maximum likelihood on the
  per-person count distribution of every cell (people with no episode are
  ``insured − people with claims``). The family with the lower AIC wins.
* Severity, per stream and hospital level: lognormal (closed-form MLE), gamma
  (MLE, scipy) and lognormal body spliced with a Pareto tail (censored
  lognormal body + Hill estimate of the tail index; the threshold is profiled
  over upper quantiles unless given). Lowest AIC wins.
* Compliant share (Σ compliant / Σ cost) and basic terms (per-admission
  deductible and coinsurance from the line ``basic_paid = c·(compliant − d)``)
  by level.

Privacy: fits and tables carry no person identifiers; empirical quantiles are
means of groups of at least ``max(min_cell_size, 10)`` costs (no raw cost can be solved back,
see :func:`grouped_quantiles`); any table cell with fewer
than ``min_cell_size`` people (default 10) is suppressed (values NaN,
``suppressed`` True), and a level with fewer people is not fitted (the base
scenario's severity is kept).

>>> fit = fit_experience("tests/data/claims.csv", "tests/data/enrolment.csv")
>>> fit.frequency["admissions"].family
'negative_binomial'
>>> from actuarial import load_scenario
>>> sc = build_scenario(fit, load_scenario("scenarios/provincial_guideline.toml"))
>>> sc.claims.streams[0].name
'admissions'
"""

from __future__ import annotations

from ..errors import ExperienceError  # re-exported: its old home
from .experience import ExperienceFit, build_scenario, fit_experience, level_summaries
from .frequency import FrequencyFit, fit_frequency, suppress
from .reading import (
    BANDS,
    CLAIMS_COLUMNS,
    ENROLMENT_COLUMNS,
    SEVERITY_FAMILIES,
    read_claims,
    read_enrolment,
)
from .severity import QUANTILE_GROUPS, SeverityFit, fit_severity, grouped_quantiles

__all__ = [
    "ExperienceError",
    "BANDS",
    "CLAIMS_COLUMNS",
    "ENROLMENT_COLUMNS",
    "SEVERITY_FAMILIES",
    "read_claims",
    "read_enrolment",
    "FrequencyFit",
    "fit_frequency",
    "suppress",
    "QUANTILE_GROUPS",
    "SeverityFit",
    "fit_severity",
    "grouped_quantiles",
    "ExperienceFit",
    "build_scenario",
    "fit_experience",
    "level_summaries",
]
