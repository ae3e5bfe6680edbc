"""theory: physics only. Kinematics, SM inputs, PDFs, processes as SymPy polynomials in
Wilson coefficients, and the optimal observables derived from them. Imports sympy/numpy only."""

from theory import kinematics, morphing, units
from theory.errors import (
    EventFileError,
    InvalidParameterError,
    KinematicsError,
    MissingDependencyError,
    PDFError,
    PhysinfError,
    UnknownNameError,
)
from theory.morphing import monomials
from theory.processes.base import Channel, PhaseSpaceHint, Process
from theory.processes.registry import available_processes, get_process
from theory.scores import joint_ratio, joint_score, truth_fisher_information
from theory.sm import SM, SMInputs, alpha_s_running

__all__ = [
    "SM",
    "Channel",
    "EventFileError",
    "InvalidParameterError",
    "KinematicsError",
    "MissingDependencyError",
    "PDFError",
    "PhaseSpaceHint",
    "PhysinfError",
    "Process",
    "SMInputs",
    "UnknownNameError",
    "alpha_s_running",
    "available_processes",
    "get_process",
    "joint_ratio",
    "joint_score",
    "kinematics",
    "monomials",
    "morphing",
    "truth_fisher_information",
    "units",
]


def __dir__() -> list[str]:
    return sorted(__all__)
