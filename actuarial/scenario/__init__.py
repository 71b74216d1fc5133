"""Scenario files: the validated, immutable description of one programme.

A scenario (方案) is a TOML file with the sections ``programme``, ``population``,
``funding``, ``claims``, ``basic``, ``cii`` and ``contract``. This package owns the
schema (one module per part of a file: base, people, episodes, design, contract, rules, model),
the defaults and the loading; only :mod:`~actuarial.scenario.indexing` computes (indexed amounts
to yuan).

Conventions
-----------
* Money is in yuan. Counts are per person-year.
* Fields ending in ``_percent`` hold percentages (``50`` means 50 %), as in the
  policy texts; the matching property without the suffix returns the fraction
  (``0.5``) that the engine uses.
* Every model forbids unknown keys, so a typo is an error, not a silently
  ignored setting.

Errors
------
:func:`load_scenario` raises :class:`ScenarioError`, whose message names the file,
the dotted field path, the offending value and the allowed range, e.g.::

    scenarios/bad.toml: cii.deductible: must be >= 0 (got -5)
"""

from __future__ import annotations

# One module per part of a scenario file, in the order of the data flow; this face re-exports them,
# so ``from actuarial.scenario import CII`` and the like keep working.
from ..errors import ScenarioError  # re-exported: its old home
from .base import (
                   DISEASES,
                   LEVELS,
                   LOCATIONS,
                   SCHEMES,
                   AwayLocation,
                   Disease,
                   Level,
                   Percent,
                   PositiveYuan,
                   Scheme,
                   Yuan,
                   _field_error,
                   _Model,
)
from .contract import (
                   Band,
                   BondRelease,
                   Contract,
                   Instalment,
                   PerformanceBond,
                   PolicyChange,
                   Repricing,
)
from .design import CII, Basic, BasicLevel, Funding, LocationRule, Tier
from .episodes import (
                   Claims,
                   EpisodeStream,
                   GammaSpec,
                   HistogramSpec,
                   LogNormalSpec,
                   OutOfArea,
                   ScipySpec,
                   SeveritySpec,
                   Shocks,
                   SplicedParetoSpec,
                   default_streams,
)
from .model import Scenario, _format_errors, load_scenario, read_toml, validate_scenario
from .people import Population, Programme, Region

__all__ = [
    "ScenarioError",
    "AwayLocation",
    "DISEASES",
    "Disease",
    "LEVELS",
    "LOCATIONS",
    "Level",
    "Percent",
    "PositiveYuan",
    "SCHEMES",
    "Scheme",
    "Yuan",
    "_Model",
    "_field_error",
    "Population",
    "Programme",
    "Region",
    "Claims",
    "EpisodeStream",
    "GammaSpec",
    "HistogramSpec",
    "LogNormalSpec",
    "OutOfArea",
    "ScipySpec",
    "SeveritySpec",
    "Shocks",
    "SplicedParetoSpec",
    "default_streams",
    "Basic",
    "BasicLevel",
    "CII",
    "Funding",
    "LocationRule",
    "Tier",
    "Band",
    "BondRelease",
    "Contract",
    "Instalment",
    "PerformanceBond",
    "PolicyChange",
    "Repricing",
    "Scenario",
    "_format_errors",
    "load_scenario",
    "read_toml",
    "validate_scenario",
]
