"""Actuarial simulation and funding-rate calibration for China's urban-rural residents'
critical illness insurance (城乡居民大病保险).

Data flows one way, one module per step::

    scenario → population → claims → basic → cii → engine/results → calibration → settlement/compare/sweep → report

>>> from actuarial import load_scenario, simulate, calibrate_premium
"""

from .compare import BidComparison, compare_bids, load_bid
from .contracts import ContractResult, run_contract
from .settlement import Settlement, settle
from .calibration import Calibration, InverseSolution, calibrate_premium, shift_tiers, solve_deductible, solve_tier_shift
from .errors import BackendError, ConservationError, ExperienceError, MemoryLimitError, SweepError, UserError
from .engines.engine import Accumulations, accumulate
from .model.population import generate_population
from .results import Estimate, SimulationResult, evaluate, simulate
from .scenario import Scenario, ScenarioError, load_scenario, validate_scenario

__all__ = [
    "BidComparison", "ContractResult", "Settlement", "compare_bids", "load_bid", "run_contract", "settle",
    "Accumulations", "Calibration", "Estimate", "InverseSolution", "Scenario", "ScenarioError", "SimulationResult",
    "accumulate", "calibrate_premium", "evaluate", "generate_population", "load_scenario", "shift_tiers",
    "simulate", "solve_deductible", "solve_tier_shift", "validate_scenario",
    "BackendError", "ConservationError", "ExperienceError", "MemoryLimitError", "SweepError", "UserError",
]
__version__ = "0.1.0"
