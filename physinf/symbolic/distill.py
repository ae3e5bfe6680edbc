"""High-level entry points: :func:`distill` (search + shared post-processing) and :func:`fit_formula`."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import sympy as sp

from physinf.errors import InvalidParameterError
from physinf.symbolic.backends import DEFAULT_OPERATORS, Backend, Budget, get_backend
from physinf.symbolic.backends.base import check_operators
from physinf.symbolic.backends.rational import RationalBackend
from physinf.symbolic.errors import InvalidTargetError, SymbolicError, TooFewPointsError
from physinf.symbolic.formula import Formula, FrontMember
from physinf.symbolic.parse import parametrise, to_sympy
from physinf.symbolic.postprocess import Processed, Target, prepare, process
from physinf.symbolic.refit import AIC, STRICT, LossTolerance, fix_redundant, refit, snap_constants
from physinf.symbolic.restarts import TRANSFORMS, Restart, Restarts, plan
from physinf.symbolic.selection import RULES, pareto_indices, select
from physinf.symbolic.symmetry import Symmetry

__all__ = ["EXACT_LOSS", "FRONT_RTOL", "distill", "fit_formula", "validate_data"]

#: a loss below EXACT_LOSS · Var(y) is numerically exact: such formulas count as equally good
#: (the simplest is selected) and stop further restarts. Exact forms reach 1e-28 or less after
#: the float64 re-fit; a six-term rational approximant of m/sqrt(1 - v²/c²) reached 1e-16.
EXACT_LOSS = 1e-22
#: a longer formula enters the front only if it lowers the loss by more than this fraction.
FRONT_RTOL = 1e-6


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


def _parse_factor(factor, table: dict[str, sp.Symbol]) -> sp.Expr:
    if not isinstance(factor, str):
        raise InvalidParameterError(f"factor must be a formula string over the input names, got {factor!r}")
    try:
        return to_sympy(factor, table)
    except SymbolicError as exc:
        raise InvalidParameterError(f"cannot use factor {factor!r}: {exc}") from exc


def _divide_by_factor(factor: str, expr: sp.Expr, variables, X, y, w):
    """(X, y/F, w F²) on the rows where the known factor F is non-zero."""
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


def _share(total: float | None, n: int, weight: int = 1) -> int | None:
    """A restart's whole share of a total (generations or seconds), at least 1."""
    return None if total is None else max(1, int(total * weight / n))


def _front(processed: list[Processed], floor: float) -> list[int]:
    comps = np.array([p.complexity for p in processed])
    losses = np.array([p.loss for p in processed])
    return [int(i) for i in pareto_indices(comps, losses, floor=floor, rtol=FRONT_RTOL)]


def _tidy(sel: Processed, target: Target, snap: bool | str, tolerance: LossTolerance) -> Processed:
    """Fix redundant constants to ±1 and snap constants to simple values (within ``tolerance``),
    then simplify (numbers kept) and re-fit; never worse than ``tolerance`` allows."""
    variables, X, y, w = target.variables, target.X, target.y, target.weights
    template, params = sel.template, list(sel.params)
    # with covariance: snapping uses the errors
    fit = refit(template, variables, params, sel.fit.values, X, y, w, max_nfev_per_param=30)
    if params:
        template, params, fit = fix_redundant(template, variables, params, fit, X, y, w, tolerance=tolerance)
    if snap and params:
        template, params, fit = snap_constants(template, variables, params, fit, X, y, w,
                                               rational_only=snap == "rational", tolerance=tolerance)
    value = dict(zip(params, fit.values))

    def numbers(expr: sp.Expr) -> np.ndarray:
        return target.values(expr.subs({p: sp.Float(float(v), 17) for p, v in value.items()}))

    simple, _ = target.simplify(template, numbers)
    kept = [p for p in params if p in simple.free_symbols]
    new = refit(simple, variables, kept, [value[p] for p in kept], X, y, w, covariance=False)
    if new.mse <= tolerance.max_loss(fit.mse, len(y), target.var_y):
        template, params, fit = simple, kept, new
    if tolerance is STRICT and not fit.mse <= STRICT.max_loss(sel.loss, len(y), target.var_y):
        return sel  # several steps each within round-off may add up: the strict invariant is end to end
    return sel.with_fit(template, params, fit)


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
    restarts: Restarts | None = None,
    scheduler: Any = None,
) -> Formula:
    """Search for a closed-form ``y ≈ f(X)`` and return the selected :class:`Formula`.

    Steps:

    1. validate; mirror the data for an enforced symmetry; divide by a declared factor;
    2. searches on at most ``max_search_points`` rows, as planned by ``restarts`` (default
       :class:`Restarts`: the sparse rational regression, then genetic searches over nested
       operator sets and target transforms, sharing ``budget``; ``Restarts.single()`` for one
       search);
    3. every candidate post-processed (:mod:`physinf.symbolic.postprocess`: parse, symmetry
       projection, bounded simplification, constants -> parameters, weighted re-fit), and no
       step makes it worse than the backend's own expression;
    4. one merged Pareto front; the ``selection`` rule ('best', 'accuracy', 'knee',
       'parsimonious' for data from an exact law with noise; among equal losses the simplest
       wins);
    5. redundant constants fixed and constants snapped to simple values (within Akaike's
       criterion; with 'accuracy' only where the loss does not rise), final re-fit on all data
       with covariance.

    Inputs should be dimensionless (e.g. p_T / m_H); constants then stay O(1).

    ``factor``: a known factor F(X) of the target that physics fixes (a formula string over
    ``names``, e.g. the CP-odd prefactor ``"x_p1*x_p2*sin(delta_phi_jj)"``, proportional to
    eps(pa, pb, p1, p2)/s_hat in WBF). The backend then searches g in y ≈ F·g by fitting y/F
    with weights w F² (the same least squares; rows with F = 0 carry no information about g and
    are left out of the search), and every candidate becomes F·g before the post-processing.
    ``snap``: True (small rationals and multiples of π, √2, √3, √π, √(2π), e), "rational"
    (small rationals only) or False.
    ``search_names``: the inputs the backend may use (default: all); the factor and the
    symmetry may use others (e.g. g from the invariants only, F from p_T and Δφ).
    ``scheduler``: a dask.distributed Client or scheduler address; the planned searches then run
    as parallel tasks on that cluster (the same candidates as in turn when the budget is set by
    generations, not by ``max_time``; no early stop at an exact formula), and the post-processing
    stays in this process.
    """
    t0 = time.perf_counter()
    X, y, names, weights = validate_data(X, y, names, weights)
    ops = check_operators(operators)
    if snap not in (True, False, "rational"):
        raise InvalidParameterError(f"snap must be True, False or 'rational', got {snap!r}")
    if selection not in RULES:
        select([1], [1.0], selection)  # raises the standard error
    restarts = Restarts() if restarts is None else restarts
    if not isinstance(restarts, Restarts):
        raise InvalidParameterError(f"restarts must be a physinf.symbolic.Restarts, got {type(restarts).__name__}")
    budget = Budget() if budget is None else budget
    bk = get_backend(backend)
    variables = _symbols(names)
    table = dict(zip(names, variables))
    cols = list(range(len(names)))  # the inputs the backend sees
    if search_names is not None:
        if not search_names or any(n not in names for n in search_names):
            raise InvalidParameterError(f"search_names must be a non-empty subset of the inputs {names}, got {search_names}")
        cols = [names.index(n) for n in search_names]
    if len(y) < 3:
        raise TooFewPointsError(f"{len(y)} points are too few to fit any formula with constants")
    factor_expr = None if factor is None else _parse_factor(factor, table)
    rng = np.random.default_rng(seed)
    Xs, ys, ws = _subsample(X, y, weights, max_search_points, rng)
    if symmetry is not None and symmetry.mode == "enforce":
        Xs, ys, ws = symmetry.augment(Xs, ys, names, ws)
    if factor is not None:
        Xs, ys, ws = _divide_by_factor(factor, factor_expr, variables, Xs, ys, ws)
    # the backend sees its columns as x0, x1, ...: its strings are parsed with these names only,
    # never mixed with the caller's (whose names may themselves look like x1, y2, ...)
    safe = {f"x{j}": col for j, col in enumerate(cols)}
    target = Target(*_subsample(X, y, weights, max_refit_points, rng), variables, safe, factor_expr, symmetry,
                    None if symmetry is None else symmetry.column(names))
    exact = EXACT_LOSS * target.var_y
    runs = plan(restarts, ops, ys, seed, inputs=tuple(safe))
    members, log = _search(bk, runs, budget, (Xs[:, cols], ys, ws), target, exact, restarts.stop_when_exact, scheduler)
    n_candidates = sum(r["n_candidates"] for r in log)
    if n_candidates == 0:
        raise SymbolicError(f"backend {bk.name!r} returned no candidates")
    if not members:
        raise TooFewPointsError(f"no candidate could be fitted: {len(y)} points vs. the candidates' free constants")
    w_r = target.w
    k = select([p.complexity for p in members], [p.loss for p in members], selection, floor=exact, rtol=FRONT_RTOL,
               n_params=[len(p.params) for p in members], n_points=float(w_r.sum() ** 2 / np.sum(w_r**2)))
    tidied = _tidy(members[k], target, snap, STRICT if selection == "accuracy" else AIC)
    pool = [p for i, p in enumerate(members) if i != k] + [tidied]
    front = sorted({id(pool[i]): pool[i] for i in [*_front(pool, exact), len(pool) - 1]}.values(),
                   key=lambda p: (p.complexity, p.loss))
    k_front = next(i for i, p in enumerate(front) if p is tidied)
    template, params = tidied.template, tuple(tidied.params)
    final = refit(template, variables, list(params), tidied.fit.values, X, y, weights, max_nfev_per_param=50)
    members_out = tuple(
        FrontMember(str(p.template.subs({q: sp.Float(float(v), 8) for q, v in zip(p.params, p.fit.values)})),
                    int(p.complexity), float(p.loss), float(p.raw_loss))
        for p in front
    )
    formula = Formula(template, tuple(variables), params, final.values, final.covariance, members_out, k_front)
    metrics = _metrics(formula.numpy(), X, y, weights)
    metrics.update(backend=bk.name, selection=selection, seed=int(seed),
                   search_time_s=sum(r["search_time_s"] for r in log), wall_time_s=time.perf_counter() - t0,
                   n_candidates=n_candidates, complexity=int(tidied.complexity),
                   budget={"generations": budget.generations, "max_time": budget.max_time,
                           "population_size": budget.population_size, "max_length": budget.max_length},
                   operators=list(ops), fit_converged=final.success, factor=factor,
                   search_names=[names[i] for i in cols], restarts=log, postprocessing=dict(target.counts),
                   best_raw_loss=float(min(p.raw_loss for p in members)), exact=bool(tidied.loss <= exact),
                   selected_restart=tidied.restart, selected_raw=tidied.expression)
    if symmetry is not None:
        metrics["symmetry"] = {"variable": symmetry.variable, "parity": symmetry.parity, "mode": symmetry.mode,
                               "violation": symmetry.violation(formula.numpy(), X[:2000], names)}
    return Formula(template, tuple(variables), params, final.values, final.covariance, members_out, k_front, metrics)


def _subsample(X, y, weights, n_max: int, rng):
    """At most ``n_max`` rows, drawn without replacement."""
    if len(y) <= n_max:
        return X, y, weights
    idx = rng.choice(len(y), n_max, replace=False)
    return X[idx], y[idx], None if weights is None else weights[idx]


def _run_search(shared: tuple, i: int, t_rational: float = 0.0) -> tuple[list, float]:
    """Restart i of the plan: its backend's candidates and the search time. ``shared``: (backend,
    restarts, budget, (X, y, w), input names); a cluster task when distill gets a scheduler."""
    bk, runs, budget, (Xs, ys, ws), names = shared
    run = runs[i]
    t1 = time.perf_counter()
    values = TRANSFORMS[run.transform].forward(run.sign * ys)
    if run.backend == "rational":
        X_run = Xs
        if run.substitute is not None:
            X_run = Xs.copy()
            X_run[:, names.index(run.substitute[1])] = run.feature({n: Xs[:, i] for i, n in enumerate(names)})
        runner = RationalBackend() if run.substitute is None else RationalBackend(anchor_exponent=0, beam=3)  # cheaper pass
        candidates = runner.search(X_run, values, names, budget, run.seed, ws, run.operators)
    else:
        total_weight = max(1, sum(r.weight for r in runs if r.backend == "search"))
        left = None if budget.max_time is None else max(budget.max_time - t_rational, 0.0)
        share = Budget(**{**budget.__dict__, "generations": _share(budget.generations, total_weight, run.weight),
                          "max_time": _share(left, total_weight, run.weight)})
        candidates = bk.search(Xs, values, names, share, run.seed, ws, run.operators)
    return candidates, time.perf_counter() - t1


def _search(bk: Backend, runs: list[Restart], budget: Budget, data, target: Target, exact: float,
            stop_when_exact: bool, scheduler: Any = None) -> tuple[list[Processed], list[dict]]:
    """Run the planned searches, post-process their candidates, merge them (one entry per
    template, the lowest loss kept); with ``stop_when_exact``, stop after a search whose best
    loss is at most ``exact``.

    The genetic searches share what the rational regression left of ``budget`` by weight. For
    plain data (no weights, factor or symmetry) only candidates on the merged raw front
    (complexity, raw loss; all searches so far) are worth a re-fit, the others are parsed and
    measured only; otherwise the searches fitted another objective (pyoperon resamples weighted
    data, a factor divides the target), their raw losses do not rank the candidates, and every
    candidate is re-fitted."""
    names = list(target.search_names)
    shared = (bk, runs, budget, data, names)
    searched = None
    if scheduler is not None:  # every search as a cluster task at once; post-processing stays here, in order
        from physinf.simulate.parallel import map_on_cluster

        searched = map_on_cluster(_run_search, list(range(len(runs))), scheduler, shared=shared,
                                  purpose="symbolic-regression restarts on a dask cluster")
    processed: dict[str, Processed] = {}
    log: list[dict] = []
    raw_points: list[tuple[int, float]] = []
    t_rational = 0.0
    for i, run in enumerate(runs):
        candidates, t_run = searched[i] if searched is not None else _run_search(shared, i, t_rational)
        t1 = time.perf_counter()
        t_rational += t_run if run.backend == "rational" else 0.0
        prepared = [q for q in (prepare(c, target, run) for c in candidates) if q is not None]
        offset = len(raw_points)
        raw_points += [(q.complexity, q.raw_loss) for q in prepared]
        if target.plain:
            on_front = set(pareto_indices(*np.array(raw_points).T, floor=exact, rtol=FRONT_RTOL).tolist()) \
                if raw_points else set()
        else:  # the search fitted another objective (weights, factor, symmetry): re-fit every candidate
            on_front = set(range(offset, len(raw_points)))
        best, n_processed = np.inf, 0
        for j, q in enumerate(prepared):
            if offset + j not in on_front:
                continue
            n_processed += 1
            p = process(q, target)
            if p is None:
                continue
            best = min(best, p.loss)
            key = str(p.template)
            if key not in processed or p.loss < processed[key].loss:
                processed[key] = p
        log.append({"restart": run.label, "search_time_s": t_run, "n_candidates": len(candidates),
                    "n_processed": n_processed, "best_loss": best,
                    "postprocess_time_s": time.perf_counter() - t1})
        if stop_when_exact and best <= exact:
            break
    return list(processed.values()), log
