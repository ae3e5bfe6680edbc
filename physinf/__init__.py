"""physinf: from a Lagrangian with dimension-6 Wilson coefficients to a published likelihood.

Subpackages: ``simulate`` (parton-level events, EventSample), ``detector`` (smearing),
``symbolic`` (distillation of scores into formulas), ``stats`` (pyhf likelihoods, limits,
Fisher information). Heavy optional dependencies (Pythia, PySR) load only when used.
"""

from physinf._version import __version__
from physinf.errors import (
    EventFileError,
    InvalidParameterError,
    KinematicsError,
    MissingDependencyError,
    PDFError,
    PhysinfError,
    UnknownNameError,
)
from physinf.simulate import Cuts, EventSample, GenerationConfig, generate

__all__ = [
    "Cuts",
    "EventFileError",
    "EventSample",
    "GenerationConfig",
    "InvalidParameterError",
    "KinematicsError",
    "MissingDependencyError",
    "PDFError",
    "PhysinfError",
    "UnknownNameError",
    "__version__",
    "generate",
]


def __dir__() -> list[str]:
    return sorted(__all__)
