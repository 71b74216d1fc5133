"""Actuarial simulation and funding-rate calibration for China's urban-rural residents' critical
illness insurance (城乡居民大病保险).

The packages follow the data flow, each importing only those below it (``tests/test_architecture.py``)::

    config → scenario → model → exact → engines → results → fitting → contract → sweep → report → cli

``config`` (families, default tables, national series), ``scenario`` (the validated programme file),
``model`` (population, claims, basic insurance, the CII benefit, medical assistance: each rule once),
``exact`` (compound and pool laws by FFT, the control variate), ``engines`` (brute, fast, gpu: how
they sample), ``results`` (simulation result, calibration, compliance, household
catastrophic expenditure, the charts), ``fitting`` (experience,
banded data, credibility, back-test), ``contract`` (settlement, multi-year, pools, risk view, bids),
``sweep``, ``report`` (HTML pages, workbooks) and ``cli`` on top. ``errors``, ``estimates``,
``atomic`` and ``backend`` are the ground floor.

>>> from actuarial import load_scenario, simulate, calibrate_premium
"""

from .contract.bids import BidComparison, compare_bids, load_bid
from .contract.multiyear import ContractResult, run_contract
from .contract.settlement import Settlement, settle
from .results.calibration import (Calibration, InverseSolution, calibrate_premium, shift_tiers, solve_deductible,
                                  solve_tier_shift)
from .errors import BackendError, ConservationError, ExperienceError, MemoryLimitError, SweepError, UserError
from .engines.engine import accumulate
from .engines.accumulations import Accumulations
from .model.population import generate_population
from .estimates import Estimate
from .results.simulation import SimulationResult, evaluate, simulate
from .scenario import Scenario, ScenarioError, load_scenario, validate_scenario

__all__ = [
    "BidComparison", "ContractResult", "Settlement", "compare_bids", "load_bid", "run_contract", "settle",
    "Accumulations", "Calibration", "Estimate", "InverseSolution", "Scenario", "ScenarioError", "SimulationResult",
    "accumulate", "calibrate_premium", "evaluate", "generate_population", "load_scenario", "shift_tiers",
    "simulate", "solve_deductible", "solve_tier_shift", "validate_scenario",
    "BackendError", "ConservationError", "ExperienceError", "MemoryLimitError", "SweepError", "UserError",
]
__version__ = "0.1.0"
