"""Errors raised by physinf and theory.

Every error says what was wrong and how to fix it. They all derive from
``PhysinfError`` so a user can catch the whole family at once.
"""

from __future__ import annotations

import difflib

__all__ = [
    "EventFileError",
    "InvalidParameterError",
    "KinematicsError",
    "MissingDependencyError",
    "PDFError",
    "PhysinfError",
    "UnknownNameError",
    "did_you_mean",
]


class PhysinfError(Exception):
    """Base class of every error raised on purpose by physinf or theory."""


class UnknownNameError(PhysinfError, KeyError):
    """A name (process, PDF set, coefficient, operator) that is not known."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InvalidParameterError(PhysinfError, ValueError):
    """A parameter value or array of the wrong shape, type or range."""


class KinematicsError(PhysinfError, ValueError):
    """Unphysical kinematics: energies below threshold, inconsistent cuts."""


class PDFError(PhysinfError):
    """A PDF set that cannot be found, read or evaluated."""


class EventFileError(PhysinfError):
    """An event file that is missing, corrupt or from an incompatible version."""


class MissingDependencyError(PhysinfError, ImportError):
    """An optional package (an extra of physinf) that a feature needs is not installed."""


def did_you_mean(name: str, known: list[str] | tuple[str, ...]) -> str:
    """A ' Did you mean ...?' suffix for an unknown name, or '' if nothing is close."""
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
