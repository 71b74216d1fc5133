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


class GroupedDataError(ExperienceError):
    """A grouped (banded) data file is invalid; the message names the file, the column and the row."""


class PathError(KeyError):
    """A dotted field path names a field that is not there; ``prefix`` is its first part that does not
    exist. Raised by :mod:`actuarial.config.paths`; scenario edits and sweeps turn it into a
    :class:`ScenarioError` naming the file."""

    def __init__(self, path: str, prefix: str):
        super().__init__(f"no field '{prefix}'")
        self.path, self.prefix = path, prefix

    def __str__(self) -> str:
        return self.args[0]


class TableYearError(ValueError):
    """A year outside a national table (:mod:`actuarial.config.income`) with no growth rate to project it;
    indexed scenario amounts turn it into a :class:`ScenarioError` naming the field."""


__all__ = ["BackendError", "ConservationError", "ExperienceError", "GroupedDataError", "MemoryLimitError",
           "PathError", "ScenarioError", "SweepError", "TableYearError", "UserError"]
