"""theory: physics only. Kinematics, SM inputs, PDFs, processes as SymPy polynomials in
Wilson coefficients, and the optimal observables derived from them. Imports sympy/numpy only."""

from theory import kinematics, morphing, units
from theory.errors import (
    EventFileError,
    InvalidParameterError,
    KinematicsError,
    PDFError,
    MissingDependencyError,
    PhysinfError,
    UnknownNameError,
)
from theory.morphing import monomials
from theory.processes.base import Channel, PhaseSpaceHint, Process
from theory.processes.registry import available_processes, get_process
from theory.scores import joint_ratio, joint_score, truth_fisher_information
from theory.sm import SM, SMInputs, alpha_s_running

__all__ = [
    "kinematics",
    "morphing",
    "units",
    "SM",
    "SMInputs",
    "alpha_s_running",
    "Process",
    "Channel",
    "PhaseSpaceHint",
    "monomials",
    "available_processes",
    "get_process",
    "joint_score",
    "joint_ratio",
    "truth_fisher_information",
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
