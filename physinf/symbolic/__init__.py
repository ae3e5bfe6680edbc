"""Symbolic distillation: learned or exact scores -> closed-form formulas with uncertainties.

``distill(X, y, names)`` runs a symbolic-regression backend (pyoperon by default, PySR
optionally), then shared post-processing: SymPy parsing and simplification, constants re-fitted
as parameters with covariance (SymbolFit pattern), snapping, Pareto-front selection and
declared symmetries. The result is a :class:`Formula` (LaTeX, numpy, torch, JSON).
"""

from __future__ import annotations

from physinf.symbolic.backends import BACKENDS, DEFAULT_OPERATORS, OPERATORS, Backend, Budget, Candidate, get_backend
from physinf.symbolic.distill import distill, fit_formula
from physinf.symbolic.errors import (
    BackendUnavailableError,
    InvalidTargetError,
    SymbolicError,
    TooFewPointsError,
    UnknownOperatorError,
)
from physinf.symbolic.formula import Formula, FrontMember
from physinf.symbolic.presets import WBF_CP_ODD, ScorePreset
from physinf.symbolic.selection import pareto_indices, scores, select
from physinf.symbolic.symmetry import Symmetry

__all__ = [
    "distill", "fit_formula", "Formula", "FrontMember", "Budget", "Candidate", "Backend", "BACKENDS",
    "OPERATORS", "DEFAULT_OPERATORS", "get_backend", "Symmetry", "select", "scores", "pareto_indices",
    "SymbolicError", "InvalidTargetError",
    "TooFewPointsError", "UnknownOperatorError", "BackendUnavailableError", "ScorePreset", "WBF_CP_ODD",
]


def __dir__() -> list[str]:
    return list(__all__)
