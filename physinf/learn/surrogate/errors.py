"""Errors of the amplitude surrogates (members of the PhysinfError family)."""

from __future__ import annotations

from physinf.errors import EventFileError, InvalidParameterError

__all__ = ["SurrogateFileError", "SurrogateMismatchError"]


class SurrogateFileError(EventFileError):
    """A saved surrogate that is missing, corrupt, of an unknown format, or not plain weights and JSON."""


class SurrogateMismatchError(InvalidParameterError):
    """A surrogate used for another process, channel, input convention or SM inputs than it was trained for."""
