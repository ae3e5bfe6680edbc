"""Errors of the learning stage."""

from __future__ import annotations

from physinf.errors import EventFileError, InvalidParameterError, PhysinfError

__all__ = ["EstimatorError", "EstimatorFileError", "NotFittedError"]


class EstimatorError(PhysinfError):
    """An estimator asked to do something its training does not support."""


class NotFittedError(EstimatorError, InvalidParameterError):
    """predict/save before fit."""


class EstimatorFileError(EstimatorError, EventFileError):
    """A saved estimator that is missing, corrupt, unsafe or for another process or feature set."""
