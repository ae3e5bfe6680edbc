"""Errors raised by ``physinf.symbolic`` (all derive from :class:`physinf.errors.PhysinfError`)."""

from __future__ import annotations

from physinf.errors import InvalidParameterError, PhysinfError, UnknownNameError

__all__ = [
    "BackendUnavailableError",
    "FormulaFileError",
    "InvalidTargetError",
    "SymbolicError",
    "TooFewPointsError",
    "UnknownOperatorError",
]


class SymbolicError(PhysinfError):
    """Base class of the symbolic-distillation errors."""


class InvalidTargetError(SymbolicError, InvalidParameterError):
    """Targets that are constant, non-finite or of the wrong shape."""


class TooFewPointsError(SymbolicError, InvalidParameterError):
    """Fewer data points than free constants to fit."""


class UnknownOperatorError(SymbolicError, UnknownNameError):
    """An operator name that no backend knows."""


class BackendUnavailableError(SymbolicError, ImportError):
    """An optional backend (e.g. PySR / Julia) that is not installed or cannot start."""


class FormulaFileError(SymbolicError, InvalidParameterError):
    """A formula file (or dict) that cannot be loaded: malformed JSON, another schema version,
    missing keys, arrays of the wrong shape, or an expression with anything but the whitelisted
    SymPy constructors (formula files are parsed, never executed)."""
