"""Shared post-processing of backend candidates, with the no-loss invariant enforced per step.

Every candidate goes parse -> (factor, transform inverse, symmetry projection) -> bounded
simplification -> constants as parameters -> re-fit, and its weighted MSE is measured after
each step on the same rows:

- ``raw``: the backend's string evaluated directly with numpy (:func:`physinf.symbolic.parse.evaluate`,
  no SymPy), mapped back to the target like the SymPy expression. This is the reference.
- ``parse``: the SymPy expression, lambdified. It must reproduce ``raw``
  (within :data:`STEP_TOLERANCE`); a candidate that does not is dropped and counted, since its
  formula would not be the one the search found.
- ``simplify``: :func:`physinf.symbolic.parse.simplify_bounded` keeps a step only if the numbers
  are unchanged.
- ``refit``: starts from the backend's constants and keeps them if the optimiser ends worse.

Invariant (checked at the end of :func:`process`): the processed loss is at most
``raw × (1 + 1e-6) + 1e-12 Var(y)`` (:data:`physinf.symbolic.refit.STRICT`). Should a step
violate it, the candidate falls back to its parsed form with the backend's constants.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from physinf.symbolic.backends.base import Candidate
from physinf.symbolic.errors import SymbolicError
from physinf.symbolic.operators import TABLE
from physinf.symbolic.parse import complexity, evaluate, parametrise, parse_infix, simplify_bounded, to_sympy
from physinf.symbolic.refit import STRICT, LossTolerance, RefitResult, make_function, refit
from physinf.symbolic.restarts import TRANSFORMS, Restart
from physinf.symbolic.symmetry import Symmetry

__all__ = ["STEP_TOLERANCE", "Prepared", "Processed", "Target", "prepare", "process", "weighted_mse"]

#: tolerance of each numbers-preserving step (parse): a tenth of the end-to-end invariant.
STEP_TOLERANCE = LossTolerance(rel=1e-7, abs_var=1e-13)


def weighted_mse(pred: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    r = pred - y
    return float(np.sum(w * r**2) / w.sum()) if np.all(np.isfinite(r)) else np.inf


@dataclass
class Target:
    """What the post-processing needs to know: the re-fit rows (X, y, weights), the input
    symbols, the names the backend saw for its columns, the declared factor and symmetry."""

    X: np.ndarray
    y: np.ndarray
    weights: np.ndarray | None
    variables: list[sp.Symbol]
    search_names: dict[str, int]  # backend name -> column of X
    factor: sp.Expr | None = None
    symmetry: Symmetry | None = None
    symmetry_column: int | None = None
    counts: dict = field(default_factory=lambda: {"parse_mismatch": 0, "simplify_rejected": 0,
                                                  "refit_kept_start": 0, "fallback": 0, "not_finite": 0})

    def __post_init__(self) -> None:
        self.w = np.ones(len(self.y)) if self.weights is None else np.asarray(self.weights, float)
        self.var_y = float(np.average((self.y - np.average(self.y, weights=self.w)) ** 2, weights=self.w))
        self._factor_values = None
        self._factor_mirror = None
        self.X_mirror = None
        if self.symmetry is not None and self.symmetry.mode == "enforce":
            self.X_mirror = self.X.copy()
            self.X_mirror[:, self.symmetry_column] *= -1
        # inputs positive on every row: simplified as positive symbols (sqrt(x**2) -> x), which
        # is exact on the data; the numbers check of each step still applies
        self._to_positive = {v: sp.Symbol(v.name, positive=True) for i, v in enumerate(self.variables)
                             if np.all(self.X[:, i] > 0)}
        self._to_real = {p: v for v, p in self._to_positive.items()}
        if self.factor is not None:
            f = make_function(self.factor, self.variables, [])
            self._factor_values = f(self.X, np.zeros(0))
            if self.X_mirror is not None:
                self._factor_mirror = f(self.X_mirror, np.zeros(0))

    @property
    def plain(self) -> bool:
        """No weights, factor or symmetry projection: the searches fit this very objective."""
        return self.weights is None and self.factor is None and self.X_mirror is None

    def loss(self, pred: np.ndarray) -> float:
        return weighted_mse(pred, self.y, self.w)

    def values(self, expr: sp.Expr) -> np.ndarray:
        """numpy values of a SymPy expression on the re-fit rows."""
        return make_function(expr, self.variables, [])(self.X, np.zeros(0))

    def simplify(self, expr: sp.Expr, numbers: Callable[[sp.Expr], np.ndarray] | None = None) -> tuple[sp.Expr, list[str]]:
        """:func:`physinf.symbolic.parse.simplify_bounded` with the positive inputs declared
        positive, numbers checked on the re-fit rows (or by ``numbers``)."""
        numbers = numbers or self.values
        out, rejected = simplify_bounded(expr.subs(self._to_positive),
                                         lambda e: numbers(e.subs(self._to_real)))
        return out.subs(self._to_real), rejected

    def raw_values(self, tree: ast.Expression, restart: Restart) -> np.ndarray:
        """The backend's expression evaluated with numpy, mapped back to the target."""
        t = TRANSFORMS[restart.transform]

        def on(X: np.ndarray, factor: np.ndarray | None) -> np.ndarray:
            columns = {name: X[:, col] for name, col in self.search_names.items()}
            if restart.substitute is not None:  # the search saw f(x_j ...) in place of x_j
                with np.errstate(all="ignore"):
                    columns[restart.substitute[1]] = restart.feature(columns)
            g = evaluate(tree, columns)
            with np.errstate(all="ignore"):
                out = restart.sign * t.inverse_numpy(g)
                return out if factor is None else factor * out

        out = on(self.X, self._factor_values)
        if self.X_mirror is not None:
            mirrored = on(self.X_mirror, self._factor_mirror)
            out = (out + self.symmetry.sign * mirrored) / 2
        return out

    def sympy(self, tree: ast.Expression, restart: Restart) -> sp.Expr:
        """The same expression in SymPy, over the input symbols."""
        table = {name: self.variables[col] for name, col in self.search_names.items()}
        if restart.substitute is not None:
            table[restart.substitute[1]] = restart.feature(table, function=TABLE[restart.substitute[0]].sympy)
        g = to_sympy(tree, table)
        expr = restart.sign * TRANSFORMS[restart.transform].inverse_sympy(g)
        if self.factor is not None:
            expr = self.factor * expr
        if self.X_mirror is not None:
            expr = self.symmetry.project(expr, self.variables[self.symmetry_column])
        return expr


@dataclass(frozen=True)
class Processed:
    """A post-processed candidate: ``template`` with constants ``params`` = ``fit.values``, its
    ``complexity`` (tree nodes), and the loss after each step (``steps``: raw, parse, simplify,
    refit). ``loss`` is the final one; ``raw_loss`` the backend's own expression's."""

    template: sp.Expr
    params: tuple[sp.Symbol, ...]
    fit: RefitResult
    complexity: int
    steps: dict
    expression: str
    restart: str

    @property
    def loss(self) -> float:
        return self.fit.mse

    @property
    def raw_loss(self) -> float:
        return self.steps["raw"]

    def with_fit(self, template: sp.Expr, params, fit: RefitResult) -> Processed:
        return Processed(template, tuple(params), fit, complexity(template), dict(self.steps), self.expression,
                         self.restart)


@dataclass(frozen=True)
class Prepared:
    """A parsed candidate: the backend's tree, its raw loss (numpy, no SymPy), the SymPy
    expression over the inputs (factor, transform inverse and symmetry applied) and its size."""

    candidate: Candidate
    restart: Restart
    tree: ast.Expression
    raw_loss: float
    expr: sp.Expr
    complexity: int


def prepare(candidate: Candidate, target: Target, restart: Restart) -> Prepared | None:
    """Parse a candidate and measure its raw loss; None if it cannot be parsed or evaluated."""
    try:
        tree = parse_infix(candidate.expression, target.search_names)
    except SymbolicError:
        target.counts["parse_mismatch"] += 1
        return None
    raw = target.loss(target.raw_values(tree, restart))
    if not np.isfinite(raw):
        target.counts["not_finite"] += 1
        return None
    expr = target.sympy(tree, restart)
    return Prepared(candidate, restart, tree, raw, expr, complexity(expr))


def process(candidate: Candidate | Prepared, target: Target, restart: Restart | None = None,
            *, max_nfev_per_param: int = 10) -> Processed | None:
    """Post-process one candidate (see the module docstring); None if it cannot be evaluated
    on the data, has no finite loss, or has as many constants as points."""
    prep = candidate if isinstance(candidate, Prepared) else prepare(candidate, target, restart)
    if prep is None:
        return None
    raw, expr = prep.raw_loss, prep.expr
    n, var_y = len(target.y), target.var_y
    parsed = target.loss(target.values(expr))
    if not parsed <= STEP_TOLERANCE.max_loss(raw, n, var_y):
        target.counts["parse_mismatch"] += 1
        return None
    simple, rejected = target.simplify(expr)
    target.counts["simplify_rejected"] += len(rejected)
    simplified = target.loss(target.values(simple))
    template, params, start = parametrise(simple)
    if len(params) >= n:
        return None
    fit = refit(template, target.variables, params, start, target.X, target.y, target.weights, covariance=False,
                max_nfev_per_param=max_nfev_per_param)
    target.counts["refit_kept_start"] += int(not fit.success)
    steps = {"raw": raw, "parse": parsed, "simplify": simplified, "refit": fit.mse}
    if not fit.mse <= STRICT.max_loss(raw, n, var_y):  # enforce the invariant: fall back to the parsed form
        target.counts["fallback"] += 1
        template, params, start = parametrise(expr)
        fit = refit(template, target.variables, params, start, target.X, target.y, target.weights, covariance=False,
                    max_nfev_per_param=max_nfev_per_param)
        steps.update(simplify=parsed, refit=fit.mse, fallback=True)
        if not fit.mse <= STRICT.max_loss(raw, n, var_y):  # pragma: no cover - parsed loss passed the check above
            return None
    return Processed(template, tuple(params), fit, complexity(template), steps, prep.candidate.expression,
                     prep.restart.label)
