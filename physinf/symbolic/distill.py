"""High-level entry points: :func:`distill` (search + shared post-processing) and :func:`fit_formula`."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import sympy as sp

from physinf.errors import InvalidParameterError
from physinf.symbolic.backends import DEFAULT_OPERATORS, Backend, Budget, get_backend
from physinf.symbolic.backends.base import check_operators
from physinf.symbolic.errors import InvalidTargetError, SymbolicError, TooFewPointsError
from physinf.symbolic.formula import Formula, FrontMember
from physinf.symbolic.parse import complexity, parametrise, simplify_safe, to_sympy
from physinf.symbolic.refit import fix_redundant, refit, snap_constants
from physinf.symbolic.selection import RULES, select
from physinf.symbolic.symmetry import Symmetry

__all__ = ["distill", "fit_formula", "validate_data"]


def validate_data(X, y, names, weights=None) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray | None]:
    """Check shapes, finiteness and non-constancy; return float arrays."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    names = [str(n) for n in names]
    if X.ndim != 2:
        raise InvalidParameterError(f"X must be 2-D (N, n_variables), got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise InvalidTargetError(f"y must have shape ({X.shape[0]},), got {y.shape}")
    if len(names) != X.shape[1] or len(set(names)) != len(names):
        raise InvalidParameterError(f"names must be {X.shape[1]} distinct strings, got {names}")
    for n in names:
        if not n.isidentifier():
            raise InvalidParameterError(f"variable name {n!r} must be a Python identifier")
    if not np.all(np.isfinite(y)):
        raise InvalidTargetError(f"y has {int(np.sum(~np.isfinite(y)))} non-finite values (NaN/inf); drop them first")
    if not np.all(np.isfinite(X)):
        raise InvalidParameterError("X has non-finite values (NaN/inf); drop those rows first")
    if y.size and np.ptp(y) <= 1e-12 * max(np.max(np.abs(y)), 1e-300):
        raise InvalidTargetError("y is constant: there is nothing to regress (a formula would be one number)")
    if weights is not None:
        weights = np.asarray(weights, float)
        if weights.shape != y.shape or not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
            raise InvalidParameterError("weights must be finite, non-negative, not all zero, with y's shape")
    return X, y, names, weights


def _divide_by_factor(factor: str, table, variables, X, y, w):
    """(X, y/F, w F²) on the rows where the known factor F is non-zero."""
    if not isinstance(factor, str):
        raise InvalidParameterError(f"factor must be a formula string over the input names, got {factor!r}")
    try:
        expr = to_sympy(factor, table)
    except SymbolicError as exc:
        raise InvalidParameterError(f"cannot use factor {factor!r}: {exc}") from exc
    values = np.asarray(sp.lambdify(variables, expr, "numpy")(*X.T), float) * np.ones(len(y))
    scale = np.max(np.abs(values[np.isfinite(values)]), initial=0.0)
    keep = np.isfinite(values) & (np.abs(values) > 1e-12 * scale)
    if keep.sum() < 3:
        raise InvalidTargetError(f"the factor {factor!r} vanishes (or is not finite) on all but {int(keep.sum())} points")
    f = values[keep]
    w_new = (np.ones(len(y)) if w is None else w)[keep] * f**2
    return X[keep], y[keep] / f, w_new


def _symbols(names: list[str]) -> list[sp.Symbol]:
    return [sp.Symbol(n, real=True) for n in names]


def _metrics(f, X, y, weights) -> dict:
    w = np.ones_like(y) if weights is None else weights
    pred = f(X)
    mse = float(np.sum(w * (pred - y) ** 2) / w.sum())
    var = float(np.sum(w * (y - np.average(y, weights=w)) ** 2) / w.sum())
    return {"mse": mse, "r2": 1.0 - mse / var if var > 0 else float("nan"), "n_points": int(len(y))}


def fit_formula(expression: str | sp.Expr, X, y, names, weights=None, constants: dict | None = None) -> Formula:
    """Re-fit the constants of a given formula (floats in it, or symbols named in ``constants``).

    Example: ``fit_formula("-x1*(x2 + c)*(a - b*deta)*sin(dphi + d)", X, y, names,
    constants={"a": 1, "b": 0.1, "c": 0.2, "d": 0})``.
    """
    X, y, names, weights = validate_data(X, y, names, weights)
    variables = _symbols(names)
    table = {n: v for n, v in zip(names, variables)}
    consts = dict(constants or {})
    for k in consts:
        if k in table:
            raise InvalidParameterError(f"constant {k!r} clashes with a variable name")
    csyms = {k: sp.Symbol(k, real=True) for k in consts}
    expr = to_sympy(str(expression), {**table, **csyms}) if isinstance(expression, str) else expression
    template, params, values = parametrise(expr)
    params = list(csyms.values()) + params
    values = [float(v) for v in consts.values()] + values
    if len(y) <= len(params):
        raise TooFewPointsError(f"{len(y)} points cannot determine {len(params)} free constants; give more points")
    fit = refit(template, variables, params, values, X, y, weights)
    formula = Formula(template, tuple(variables), tuple(params), fit.values, fit.covariance)
    metrics = _metrics(formula.numpy(), X, y, weights)
    metrics["fit_converged"] = fit.success
    return Formula(template, tuple(variables), tuple(params), fit.values, fit.covariance, metrics=metrics)


def _process(cand, table, variables, sym: Symmetry | None, sym_symbol, X, y, w):
    expr = to_sympy(cand.expression, table)
    if sym is not None and sym.mode == "enforce":
        expr = sym.project(expr, sym_symbol)
    expr = simplify_safe(expr)
    template, params, values = parametrise(expr)
    if len(params) >= len(y):
        return None
    fit = refit(template, variables, params, values, X, y, w)
    if not np.isfinite(fit.mse):
        return None
    return template, params, fit


def _tidy(template, params, fit, variables, X, y, w, snap: bool | str):
    """Fix redundant constants to ±1, then snap constants to simple values (both AIC-guarded)."""
    if params:
        template, params, fit = fix_redundant(template, variables, params, fit, X, y, w)
    if snap and params:
        template, params, fit = snap_constants(template, variables, params, fit, X, y, w,
                                               rational_only=snap == "rational")
        template = simplify_safe(template)
        value = dict(zip(params, fit.values))
        params = [p for p in params if p in template.free_symbols]
        fit = refit(template, variables, params, [value[p] for p in params], X, y, w)
    if not np.isfinite(fit.mse):
        return None
    return template, params, fit


def distill(
    X,
    y,
    names,
    *,
    backend: str | Backend = "operon",
    budget: Budget | None = None,
    seed: int = 0,
    weights=None,
    operators: tuple[str, ...] = DEFAULT_OPERATORS,
    selection: str = "best",
    symmetry: Symmetry | None = None,
    snap: bool | str = True,
    max_search_points: int = 5000,
    max_refit_points: int = 20000,
    factor: str | None = None,
    search_names: list[str] | None = None,
) -> Formula:
    """Search for a closed-form ``y ≈ f(X)`` and return the selected :class:`Formula`.

    Steps: validate -> (mirror the data for an enforced symmetry) -> backend search on at most
    ``max_search_points`` rows -> for every candidate: parse to SymPy, project onto the declared
    symmetry, simplify, constants -> parameters, weighted re-fit, snap constants to simple
    values where the loss allows (AIC), re-fit -> Pareto front -> ``selection`` rule
    ('best', 'accuracy', 'knee') -> final re-fit on all data with covariance.
    Inputs should be dimensionless (e.g. p_T / m_H); constants then stay O(1).

    ``factor``: a known factor F(X) of the target that physics fixes (a SymPy string over
    ``names``, e.g. the CP-odd prefactor ``"x_p1*x_p2*sin(delta_phi_jj)"``, proportional to
    eps(pa, pb, p1, p2)/s_hat in WBF). The backend then searches g in y ≈ F·g by fitting y/F
    with weights w F² (the same least squares; rows with F = 0 carry no information about g and
    are left out of the search), and every candidate becomes F·g before the post-processing.
    ``snap``: True (small rationals and multiples of π, √2, √3, √π, √(2π), e), "rational"
    (small rationals only) or False.
    ``search_names``: the inputs the backend may use (default: all); the factor and the
    symmetry may use others (e.g. g from the invariants only, F from p_T and Δφ).
    """
    t0 = time.perf_counter()
    X, y, names, weights = validate_data(X, y, names, weights)
    ops = check_operators(operators)
    if snap not in (True, False, "rational"):
        raise InvalidParameterError(f"snap must be True, False or 'rational', got {snap!r}")
    if selection not in RULES:
        select([1], [1.0], selection)  # raises the standard error
    if budget is None:
        budget = Budget()
    bk = get_backend(backend)
    variables = _symbols(names)
    safe = [f"x{i}" for i in range(len(names))]
    table = dict(zip(safe, variables)) | dict(zip(names, variables))
    cols = list(range(len(names)))  # the inputs the backend sees
    if search_names is not None:
        if not search_names or any(n not in names for n in search_names):
            raise InvalidParameterError(f"search_names must be a non-empty subset of the inputs {names}, got {search_names}")
        cols = [names.index(n) for n in search_names]
    if len(y) < 3:
        raise TooFewPointsError(f"{len(y)} points are too few to fit any formula with constants")
    sym_symbol = None
    if symmetry is not None:
        sym_symbol = variables[symmetry.column(names)]
    rng = np.random.default_rng(seed)
    Xs, ys, ws = X, y, weights
    if len(y) > max_search_points:
        idx = rng.choice(len(y), max_search_points, replace=False)
        Xs, ys, ws = X[idx], y[idx], None if weights is None else weights[idx]
    if symmetry is not None and symmetry.mode == "enforce":
        Xs, ys, ws = symmetry.augment(Xs, ys, names, ws)
    if factor is not None:
        Xs, ys, ws = _divide_by_factor(factor, table, variables, Xs, ys, ws)
    t_search = time.perf_counter()
    candidates = bk.search(Xs[:, cols], ys, [safe[i] for i in cols], budget, seed, ws, ops)
    t_search = time.perf_counter() - t_search
    if not candidates:
        raise SymbolicError(f"backend {bk.name!r} returned no candidates")
    if factor is not None:
        candidates = [replace(c, expression=f"({factor})*({c.expression})") for c in candidates]
    Xr, yr, wr = X, y, weights
    if len(y) > max_refit_points:
        idx = rng.choice(len(y), max_refit_points, replace=False)
        Xr, yr, wr = X[idx], y[idx], None if weights is None else weights[idx]
    processed, seen = [], set()
    for cand in candidates:
        res = _process(cand, table, variables, symmetry, sym_symbol, Xr, yr, wr)
        if res is None or str(res[0]) in seen:
            continue
        seen.add(str(res[0]))
        processed.append(res)
    if not processed:
        raise TooFewPointsError(f"no candidate could be fitted: {len(y)} points vs. the candidates' free constants")
    comps = np.array([complexity(t) for t, _, _ in processed])
    losses = np.array([f.mse for _, _, f in processed])
    order = np.lexsort((losses, comps))
    processed = [processed[i] for i in order]
    comps, losses = comps[order], losses[order]
    k = select(comps, losses, selection)
    template, params, fit_k = processed[k]
    # fix redundant constants and snap the selected member only (cheap; the front keeps the plain re-fits)
    tidied = _tidy(template, params, fit_k, variables, Xr, yr, wr, snap)
    if tidied is not None:
        template, params, fit_k = tidied
        processed[k] = tidied
    final = refit(template, variables, params, fit_k.values, X, y, weights)
    front = tuple(
        FrontMember(str(t.subs({p: sp.Float(float(v), 8) for p, v in zip(ps, f.values)})), int(c), float(f.mse))
        for (t, ps, f), c in zip(processed, comps)
    )
    formula = Formula(template, tuple(variables), tuple(params), final.values, final.covariance, front, k)
    metrics = _metrics(formula.numpy(), X, y, weights)
    metrics.update(backend=bk.name, selection=selection, seed=int(seed), search_time_s=t_search,
                   wall_time_s=time.perf_counter() - t0, n_candidates=len(candidates), complexity=int(comps[k]),
                   budget={"generations": budget.generations, "max_time": budget.max_time,
                           "population_size": budget.population_size, "max_length": budget.max_length},
                   operators=list(ops), fit_converged=final.success, factor=factor,
                   search_names=[names[i] for i in cols])
    if symmetry is not None:
        metrics["symmetry"] = {"variable": symmetry.variable, "parity": symmetry.parity, "mode": symmetry.mode,
                               "violation": symmetry.violation(formula.numpy(), X[:2000], names)}
    return Formula(template, tuple(variables), tuple(params), final.values, final.covariance, front, k, metrics)
