"""Errors raised by :mod:`physinf.stats`.

All derive from :class:`physinf.errors.PhysinfError`, so ``except PhysinfError`` catches them.
"""

from __future__ import annotations

from physinf.errors import InvalidParameterError, PhysinfError, UnknownNameError

__all__ = ["FitError", "InvalidModelError", "StatsError", "UnknownCoefficientError", "WorkspaceError"]


class StatsError(PhysinfError):
    """Base class of the statistics errors."""


class InvalidModelError(StatsError, InvalidParameterError):
    """Templates, binning or yields that cannot make a valid likelihood (empty bins, non-finite or
    negative totals, inconsistent binning across samples)."""


class UnknownCoefficientError(StatsError, UnknownNameError):
    """A Wilson-coefficient (or parameter) name that the model does not have."""


class WorkspaceError(StatsError, ValueError):
    """A workspace or patchset JSON that fails the schema or cannot be read back."""


class FitError(StatsError, RuntimeError):
    """A fit or scan that did not converge."""
