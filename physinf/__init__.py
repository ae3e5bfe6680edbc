"""physinf: from a Lagrangian with dimension-6 Wilson coefficients to a published likelihood.

Subpackages: ``simulate`` (parton-level events, EventSample), ``detector`` (smearing),
``symbolic`` (distillation of scores into formulas), ``stats`` (pyhf likelihoods, limits,
Fisher information). Heavy optional dependencies (Pythia, PySR) load only when used.
"""

from physinf._version import __version__  # noqa: E402

from physinf.errors import (  # noqa: E402
    EventFileError,
    InvalidParameterError,
    KinematicsError,
    MissingDependencyError,
    PDFError,
    PhysinfError,
    UnknownNameError,
)
from physinf.simulate import Cuts, EventSample, GenerationConfig, generate  # noqa: E402

__all__ = [
    "__version__",
    "generate",
    "EventSample",
    "GenerationConfig",
    "Cuts",
    "PhysinfError",
    "UnknownNameError",
    "InvalidParameterError",
    "KinematicsError",
    "PDFError",
    "EventFileError",
    "MissingDependencyError",
]


def __dir__() -> list[str]:
    return sorted(__all__)
