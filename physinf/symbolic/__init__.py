"""Symbolic distillation: learned or exact scores -> closed-form formulas with uncertainties.

``distill(X, y, names)`` runs a symbolic-regression backend (pyoperon by default, PySR
optionally) over several operator sets and target transforms (:class:`Restarts`), then shared
post-processing that never makes a candidate worse than the backend's own expression: parsing
(no code is evaluated), bounded simplification, constants re-fitted as parameters with
covariance (SymbolFit pattern), snapping, one merged Pareto front, selection and declared
symmetries. The result is a :class:`Formula` (LaTeX, numpy, torch, JSON files that are parsed
against a whitelist on reading). One operator table (:mod:`physinf.symbolic.operators`) drives
every backend and export.
"""

from __future__ import annotations

from physinf.symbolic.backends import BACKENDS, DEFAULT_OPERATORS, OPERATORS, Backend, Budget, Candidate, get_backend
from physinf.symbolic.distill import distill, fit_formula
from physinf.symbolic.errors import (
    BackendUnavailableError,
    FormulaFileError,
    InvalidTargetError,
    SymbolicError,
    TooFewPointsError,
    UnknownOperatorError,
)
from physinf.symbolic.formula import Formula, FrontMember
from physinf.symbolic.presets import WBF_CP_ODD, ScorePreset
from physinf.symbolic.restarts import Restarts
from physinf.symbolic.selection import front_scores, pareto_indices, select
from physinf.symbolic.symmetry import Symmetry

__all__ = [
    "BACKENDS",
    "DEFAULT_OPERATORS",
    "OPERATORS",
    "WBF_CP_ODD",
    "Backend",
    "BackendUnavailableError",
    "Budget",
    "Candidate",
    "Formula",
    "FormulaFileError",
    "FrontMember",
    "InvalidTargetError",
    "Restarts",
    "ScorePreset",
    "SymbolicError",
    "Symmetry",
    "TooFewPointsError",
    "UnknownOperatorError",
    "distill",
    "fit_formula",
    "front_scores",
    "get_backend",
    "pareto_indices",
    "select",
]


def __dir__() -> list[str]:
    return list(__all__)
