"""Every exception the toolkit raises on purpose, in one place (as scikit-learn's ``exceptions.py``).

Errors about what the user wrote (a scenario, bid, sweep or experience file, a command-line
option) are :class:`ValueError` subclasses whose message is one line naming the file or option,
the dotted field, the allowed range and the value; the command line prints them without a
traceback and exits with status 2. The older import locations (``actuarial.scenario.ScenarioError``,
``actuarial.sweep.SweepError``, ``actuarial.fitting.ExperienceError``, ``actuarial.backend.BackendError``,
``actuarial.cli.UserError``) re-export these classes, so either spelling catches the same error.

>>> from actuarial.errors import ScenarioError, SweepError
>>> issubclass(SweepError, ScenarioError) and issubclass(ScenarioError, ValueError)
True
"""

from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario file or a scenario value is invalid; the message says where and why."""


class SweepError(ScenarioError):
    """A sweep definition or output directory is unusable; the message says where and why."""


class ExperienceError(ValueError):
    """Experience data are missing or invalid; the message names the file, the column and what was expected."""


class UserError(ValueError):
    """A problem with what the user asked for (a command-line option, an output path); printed without a traceback."""


class BackendError(RuntimeError):
    """The requested array backend cannot be used here (not installed, or no GPU)."""


class ConservationError(ArithmeticError):
    """Money is not conserved in a simulated year (premium ≠ claims + insurer result + returned
    surplus − the fund's share of losses beyond a few ulps of the terms): a defect, never bad input."""


class MemoryLimitError(UserError):
    """A run would need more memory than this machine allows; the message gives the estimate and the limit."""


__all__ = ["BackendError", "ConservationError", "ExperienceError", "MemoryLimitError", "ScenarioError",
           "SweepError", "UserError"]
