"""physinf's error classes (shared with ``theory``, re-exported here)."""

from theory.errors import (
    EventFileError,
    InvalidParameterError,
    KinematicsError,
    MissingDependencyError,
    PDFError,
    PhysinfError,
    UnknownNameError,
    did_you_mean,
)

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
