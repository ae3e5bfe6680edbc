"""Re-fit the constants of a candidate as parameters, with uncertainties (the SymbolFit pattern).

Loss: weighted least squares ``Σ w (f − y)² / Σ w``. Covariance: the sandwich (HC0) estimator
``H⁻¹ (Σ w² r² J Jᵀ) H⁻¹`` with ``H = Σ w J Jᵀ``. It is valid for heteroscedastic targets such as
per-event joint scores and for importance weights, and reduces to ``s² (JᵀJ)⁻¹`` for plain noise;
the errors shrink as 1/√N.
References: Tsoi et al., arXiv:2411.09851 (SymbolFit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy.optimize import least_squares

from physinf.symbolic.parse import numeric_function

__all__ = [
    "AIC",
    "STRICT",
    "LossTolerance",
    "RefitResult",
    "fix_redundant",
    "make_function",
    "nice_values",
    "refit",
    "snap_constants",
]


@dataclass(frozen=True)
class RefitResult:
    """Fitted constants, their covariance, and the weighted MSE at the optimum.

    ``success`` is False when the optimiser failed or ended worse than its starting point (the
    starting values are then kept: a re-fit never makes a candidate worse)."""

    values: np.ndarray
    covariance: np.ndarray
    mse: float
    success: bool

    @property
    def errors(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))


def make_function(expr: sp.Expr, variables: list[sp.Symbol], params: list[sp.Symbol]):
    """numpy callable ``f(X, p)`` with X (N, n_vars); warnings are silenced, non-finite kept.

    The expression is evaluated by walking its tree (:func:`physinf.symbolic.parse.numeric_function`):
    compiling it with ``lambdify`` costs more than the few hundred evaluations of a fit."""
    fn = numeric_function(expr, [*variables, *params])

    def f(X: np.ndarray, p: np.ndarray) -> np.ndarray:
        out = fn(*[X[:, i] for i in range(X.shape[1])], *p)
        return np.broadcast_to(np.asarray(out, dtype=float), (X.shape[0],)).copy()

    return f


def _jacobian(expr, variables, params):
    """All derivatives ∂f/∂p_i, evaluated by walking their trees."""
    if not params:
        return lambda X, p: np.zeros((X.shape[0], 0))
    grads = [make_function(sp.diff(expr, p), variables, params) for p in params]

    def jac(X, p):
        return np.stack([g(X, p) for g in grads], axis=1)

    return jac


def _weighted_mse(r: np.ndarray, w: np.ndarray) -> float:
    return float(np.sum(w * r**2) / w.sum()) if np.all(np.isfinite(r)) else np.inf


def refit(
    expr: sp.Expr,
    variables: list[sp.Symbol],
    params: list[sp.Symbol],
    start: list[float] | np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    covariance: bool = True,
    max_nfev_per_param: int = 200,
) -> RefitResult:
    """Least-squares fit of ``params`` in ``expr`` to (X, y); returns values, covariance, MSE.

    The fit never ends worse than it starts: if the optimiser's result has a larger loss than
    ``start``, the starting values are kept (and ``success`` is False). ``covariance=False``
    skips the sandwich covariance (zeros are returned), for the candidates of a front;
    the optimiser stops after ``max_nfev_per_param · (n_params + 1)`` evaluations."""
    w = np.ones(len(y)) if weights is None else np.asarray(weights, float)
    w = w / w.mean()
    f = make_function(expr, variables, params)
    p0 = np.asarray(start, dtype=float)
    mse0 = _weighted_mse(f(X, p0) - y, w)
    if not params:
        return RefitResult(p0, np.zeros((0, 0)), mse0, bool(np.isfinite(mse0)))
    jac = _jacobian(expr, variables, params)
    sw = np.sqrt(w)

    def resid(p):
        r = sw * (f(X, p) - y)
        return np.where(np.isfinite(r), r, 1e150)

    def rjac(p):
        J = sw[:, None] * jac(X, p)
        return np.where(np.isfinite(J), J, 0.0)

    try:
        # tolerances 1e-12: an exact formula still reaches round-off (its cost falls by orders of
        # magnitude per step), an inexact one stops once the relative gain is below 1e-12
        sol = least_squares(resid, p0, jac=rjac, method="lm" if len(y) > len(p0) else "trf",
                            xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=max_nfev_per_param * (len(p0) + 1))
        p, ok = sol.x, bool(sol.success)
    except (ValueError, np.linalg.LinAlgError):
        p, ok = p0, False
    mse = _weighted_mse(f(X, p) - y, w)
    if not mse <= mse0:  # also when the result is not finite: keep the starting point
        p, mse, ok = p0, mse0, False
    if not np.isfinite(mse):
        return RefitResult(p, np.full((len(p), len(p)), np.inf), np.inf, False)
    if not covariance:
        return RefitResult(p, np.zeros((len(p), len(p))), mse, ok)
    r = f(X, p) - y
    J = jac(X, p)
    if not np.all(np.isfinite(J)):
        return RefitResult(p, np.full((len(p), len(p)), np.inf), mse, ok)
    H = (J * w[:, None]).T @ J
    M = (J * (w**2 * r**2)[:, None]).T @ J
    try:
        Hinv = np.linalg.pinv(H, rcond=1e-12)
        cov = Hinv @ M @ Hinv
    except np.linalg.LinAlgError:  # pragma: no cover
        cov = np.full((len(p), len(p)), np.inf)
    return RefitResult(p, cov, mse, ok)


@dataclass(frozen=True)
class LossTolerance:
    """How much a simplifying step (snapping a constant, fixing a redundant one) may raise the
    weighted MSE, with ``floor = abs_var · Var(y)``:

    - ``aic == 0`` (:data:`STRICT`, the post-processing invariant): ``new <= old (1 + rel) + floor``;
    - ``aic > 0`` (:data:`AIC`): Akaike's trade of one constant for loss,
      ``N log((new + floor)/(old + floor)) < aic``; the floor lets noise-free fits snap round-off.
    """

    aic: float = 0.0
    rel: float = 1e-6
    abs_var: float = 1e-12

    def max_loss(self, old: float, n: int, var_y: float) -> float:
        floor = self.abs_var * var_y
        if self.aic > 0:
            return (old + floor) * float(np.exp(self.aic / max(n, 1))) - floor
        return old * (1.0 + self.rel) + floor

    def accepts(self, new: RefitResult, old: RefitResult, n: int, var_y: float) -> bool:
        return bool(np.isfinite(new.mse) and new.mse <= self.max_loss(old.mse, n, var_y))


#: no trade of loss for simplicity beyond round-off (the post-processing contract).
STRICT = LossTolerance()
#: one constant is worth a loss rise of up to a factor exp(2/N) (Akaike).
AIC = LossTolerance(aic=2.0, rel=0.0, abs_var=1e-13)


def _simple_table() -> list[sp.Expr]:
    vals: set[sp.Expr] = set()
    for q in (1, 2, 3, 4):
        for p in range(-24, 25):
            vals.add(sp.Rational(p, q))
    specials = [sp.pi, sp.sqrt(2), sp.sqrt(3), sp.sqrt(sp.pi), sp.sqrt(2 * sp.pi), sp.E]
    for s_ in specials:
        for r in (1, 2, 4, sp.Rational(1, 2), sp.Rational(1, 4)):
            vals.add(s_ * r)
            vals.add(r / s_)
            vals.add(-s_ * r)
            vals.add(-r / s_)
    return sorted(vals, key=lambda v: float(v))


_SIMPLE = _simple_table()
_SIMPLE_F = np.array([float(v) for v in _SIMPLE])
_RATIONAL = [v for v in _SIMPLE if v.is_Rational]
_RATIONAL_F = np.array([float(v) for v in _RATIONAL])


def nice_values(c: float, k: int = 2, rational_only: bool = False) -> list[sp.Expr]:
    """The ``k`` simple closed forms nearest to ``c`` (small rationals p/q, q <= 4; unless
    ``rational_only``, also multiples of π, √2, √3, √π, √(2π), e)."""
    table, values = (_RATIONAL, _RATIONAL_F) if rational_only else (_SIMPLE, _SIMPLE_F)
    order = np.argsort(np.abs(values - c), kind="stable")[:k]
    return [table[i] for i in order]


def _fix_one(expr, variables, params, values, i, value, X, y, weights):
    """Substitute ``value`` for constant i and re-fit the others from their current values
    (a trial: no covariance, a short fit)."""
    new_expr = expr.subs(params[i], value)
    new_params = [p for j, p in enumerate(params) if j != i]
    start = [float(v) for j, v in enumerate(values) if j != i]
    return new_expr, new_params, refit(new_expr, variables, new_params, start, X, y, weights, covariance=False,
                                       max_nfev_per_param=10)


def _var(y: np.ndarray, weights: np.ndarray | None) -> float:
    w = np.ones(len(y)) if weights is None else np.asarray(weights, float)
    return float(np.average((y - np.average(y, weights=w)) ** 2, weights=w))


def snap_constants(
    expr: sp.Expr,
    variables: list[sp.Symbol],
    params: list[sp.Symbol],
    fit: RefitResult,
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    rel_tol: float = 0.02,
    rational_only: bool = False,
    tolerance: LossTolerance = AIC,
) -> tuple[sp.Expr, list[sp.Symbol], RefitResult]:
    """Greedily fix constants to simple closed forms where it does not hurt.

    A snap is accepted when the re-fitted loss stays within ``tolerance`` (default :data:`AIC`:
    less than what one parameter buys, with an MSE floor of 1e-13 Var(y) so noise-free fits can
    snap round-off; :data:`STRICT` trades no loss). Only values within ``rel_tol`` (relative)
    and within 3σ of the fitted constant are tried, so a snap never moves a constant by more
    than its uncertainty; a constant within 3σ of 0 is also tried at 0, which drops its term.
    ``rational_only``: snap to small rationals only (for targets whose constants are couplings
    and PDF averages rather than geometry, where π or √2 would be numerology).
    """
    n, var_y = len(y), _var(y, weights)
    params, cur = list(params), fit
    changed = True
    while changed and params:
        changed = False
        order = np.argsort(-np.abs(cur.values))[::-1]  # small constants first
        for i in order:
            c = float(cur.values[i])
            sigma = float(cur.errors[i]) if np.isfinite(cur.errors[i]) else 0.0
            insignificant = 0.0 < abs(c) <= 3.0 * sigma  # compatible with 0: try dropping the term
            for v in ([sp.Integer(0)] if insignificant else []) + nice_values(c, rational_only=rational_only):
                dist = abs(float(v) - c)
                near = dist <= rel_tol * max(abs(c), 1e-3) or (v == 0 and insignificant)
                if not near or dist > 3.0 * sigma + 1e-6 * max(abs(c), 1.0):
                    continue
                new_expr, new_params, new_fit = _fix_one(expr, variables, params, cur.values, i, v, X, y, weights)
                if tolerance.accepts(new_fit, cur, n, var_y):
                    # the errors of the accepted fit bound the next snaps
                    new_fit = refit(new_expr, variables, new_params, new_fit.values, X, y, weights,
                                    max_nfev_per_param=20)
                    expr, params, cur, changed = new_expr, new_params, new_fit, True
                    break
            if changed:
                break
    return expr, params, cur


def fix_redundant(
    expr: sp.Expr,
    variables: list[sp.Symbol],
    params: list[sp.Symbol],
    fit: RefitResult,
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    tol: float = 1e-6,
    tolerance: LossTolerance = AIC,
) -> tuple[sp.Expr, list[sp.Symbol], RefitResult]:
    """Fix constants the data cannot determine to ±1, one at a time.

    A search often returns over-parametrised forms, e.g. ``a (b x + c y) / (d z + e)``, where a
    common scale of numerator and denominator is a flat direction of the loss: the constants
    then have no meaningful errors. The flat direction is found from the singular values of the
    Jacobian in relative units (columns p_i ∂f/∂p_i, normalised); the constant with the largest
    share of it is set to ±1 and the rest re-fitted, accepted if the loss stays within
    ``tolerance`` (default :data:`AIC`).
    """
    w = np.ones(len(y)) if weights is None else np.asarray(weights, float)
    sw = np.sqrt(w / w.mean())
    var_y = _var(y, weights)
    while len(params) > 1:
        J = sw[:, None] * _jacobian(expr, variables, params)(X, fit.values) * fit.values[None, :]
        norms = np.linalg.norm(J, axis=0)
        if not np.all(np.isfinite(J)) or np.any(norms == 0):
            break
        _, sv, vt = np.linalg.svd(J / norms, full_matrices=False)
        if sv[-1] > tol * sv[0]:
            break
        accepted = False
        for i in np.argsort(-np.abs(vt[-1])):
            if abs(vt[-1][i]) < 0.1:
                break
            one = sp.Integer(1 if fit.values[i] >= 0 else -1)
            new_expr, new_params, new_fit = _fix_one(expr, variables, params, fit.values, i, one, X, y, weights)
            if tolerance.accepts(new_fit, fit, len(y), var_y):
                expr, params, fit, accepted = new_expr, new_params, new_fit, True
                break
        if not accepted:
            break
    if len(params) and not np.any(fit.covariance):  # a trial fit was accepted: give it its covariance
        fit = refit(expr, variables, params, fit.values, X, y, weights, max_nfev_per_param=20)
    return expr, params, fit
