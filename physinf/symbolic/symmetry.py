"""Declared symmetries of the target, e.g. ``t(−Δφ) = −t(Δφ)`` for a CP-odd score."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import sympy as sp

from physinf.errors import InvalidParameterError

__all__ = ["Symmetry"]


@dataclass(frozen=True)
class Symmetry:
    """Parity of the target under ``variable -> -variable``.

    ``mode="enforce"``: the search sees mirrored copies of the data and every candidate is
    projected onto its (anti)symmetric part, ``(f(v) ∓ f(−v)) / 2``, before re-fitting.
    ``mode="test"``: candidates are left alone and the violation is reported in the metrics.
    """

    variable: str
    parity: Literal["odd", "even"] = "odd"
    mode: Literal["enforce", "test"] = "enforce"

    def __post_init__(self) -> None:
        if self.parity not in ("odd", "even"):
            raise InvalidParameterError(f"Symmetry.parity must be 'odd' or 'even', got {self.parity!r}")
        if self.mode not in ("enforce", "test"):
            raise InvalidParameterError(f"Symmetry.mode must be 'enforce' or 'test', got {self.mode!r}")

    @property
    def sign(self) -> int:
        return -1 if self.parity == "odd" else 1

    def column(self, names: list[str]) -> int:
        if self.variable not in names:
            raise InvalidParameterError(f"symmetry variable {self.variable!r} is not one of the inputs {names}")
        return names.index(self.variable)

    def augment(self, X: np.ndarray, y: np.ndarray, names: list[str], weights=None):
        """Data plus its mirror image (``v -> −v``, ``y -> sign·y``)."""
        i = self.column(names)
        Xm = X.copy()
        Xm[:, i] = -Xm[:, i]
        w = None if weights is None else np.concatenate([weights, weights])
        return np.concatenate([X, Xm]), np.concatenate([y, self.sign * y]), w

    def project(self, expr: sp.Expr, symbol: sp.Symbol) -> sp.Expr:
        """The (anti)symmetric part of ``expr`` in ``symbol``."""
        mirrored = expr.subs(symbol, -symbol)
        return (expr + self.sign * mirrored) / 2

    def violation(self, f, X: np.ndarray, names: list[str]) -> float:
        """RMS of ``f(x) − sign·f(Px)`` over 2 RMS(f): 0 for an exactly symmetric f."""
        i = self.column(names)
        Xm = X.copy()
        Xm[:, i] = -Xm[:, i]
        a, b = f(X), f(Xm)
        denom = 2.0 * np.sqrt(np.mean(a**2)) + 1e-300
        return float(np.sqrt(np.mean((a - self.sign * b) ** 2)) / denom)
