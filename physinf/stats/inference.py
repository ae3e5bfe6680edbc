"""Fits, profile-likelihood scans, two-sided (possibly disjoint) intervals, CLs limits, coverage toys.

pyhf 0.7.6 has no two-sided interval or contour API, and its ``hypotest``/``upper_limit`` default to
one-sided statistics for a POI >= 0. For Wilson coefficients (either sign, quadratic yields,
possibly two minima) we scan t(c) = −2 ln λ(c) = 2NLL(c, ν̂̂) − 2NLL(ĉ, ν̂) directly and read the
intervals off the scan at the χ²₁ quantile (1 and 3.84 for 68% / 95% CL in one parameter; 2.30 and
5.99 for 2D contours). Intervals can be disjoint and are reported as lists of segments.

Every function runs pyhf on the numpy backend with a scipy (SLSQP) optimizer that it passes to
pyhf explicitly; pyhf's global backend is switched only when it is not numpy already, and is the
same on return (:mod:`physinf.stats._backend`). Fits from several threads at once are safe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyhf
from scipy.stats import chi2

from physinf.stats._backend import global_optimizer, minimize, minuit_optimizer, numpy_backend, scipy_optimizer
from physinf.stats.errors import FitError, InvalidModelError
from physinf.stats.likelihood import Likelihood
from physinf.stats.templates import check_coefficient_names

__all__ = [
    "CLsLimit",
    "CoverageResult",
    "FitResult",
    "Interval",
    "Scan1D",
    "Scan2D",
    "cls_upper_limit",
    "coverage",
    "fit",
    "intervals_from_scan",
    "profile_scan",
    "profile_scan_2d",
    "threshold",
]

def threshold(level: float, dof: int = 1) -> float:
    """Δ(−2 ln L) at confidence ``level`` for ``dof`` parameters (χ² quantile)."""
    if not 0 < level < 1:
        raise InvalidModelError(f"confidence level must be in (0, 1), got {level}")
    return float(chi2.ppf(level, dof))


@dataclass(frozen=True)
class FitResult:
    """Best fit: coefficient values, all parameters, −2 ln L at the minimum."""

    bestfit: dict[str, float]
    pars: np.ndarray
    twice_nll: float
    uncertainties: dict[str, float] | None = None


@dataclass(frozen=True)
class Interval:
    """A confidence set in one coefficient: a union of segments [lo, hi]."""

    level: float
    segments: tuple[tuple[float, float], ...]
    open_low: bool = False  # the set reaches the low end of the scan (the bound is not an interval end)
    open_high: bool = False

    @property
    def width(self) -> float:
        """Total length of the segments."""
        return float(sum(hi - lo for lo, hi in self.segments))

    def __contains__(self, value: float) -> bool:
        return any(lo <= value <= hi for lo, hi in self.segments)


@dataclass(frozen=True)
class Scan1D:
    """Profile-likelihood scan in one coefficient: Δ(−2 ln L) at ``values``."""

    name: str
    values: np.ndarray
    delta: np.ndarray
    best: FitResult
    profiled: bool

    def interval(self, level: float = 0.95) -> Interval:
        return intervals_from_scan(self.values, self.delta, level)


@dataclass(frozen=True)
class Scan2D:
    """Profile-likelihood scan in two coefficients; ``delta`` has shape (len(y), len(x))."""

    names: tuple[str, str]
    x: np.ndarray
    y: np.ndarray
    delta: np.ndarray
    best: FitResult
    profiled: bool


def _data(lh: Likelihood, data: np.ndarray | None) -> np.ndarray:
    return lh.data if data is None else lh.with_data(data).data


def _minimise(
    lh: Likelihood, data: np.ndarray, starts: Sequence[np.ndarray], fixed_mask: np.ndarray
) -> tuple[np.ndarray, float]:
    bounds = lh.model.config.suggested_bounds()
    fixed = [bool(f) for f in fixed_mask]
    optimizer = scipy_optimizer()
    best: tuple[np.ndarray, float] | None = None
    last_err: Exception | None = None
    for init in starts:
        try:
            pars, val = minimize(lh.model, data, init, bounds, fixed, optimizer, return_fitted_val=True)
        except pyhf.exceptions.FailedMinimization as err:
            last_err = err
            continue
        val = float(val)
        if np.isfinite(val) and (best is None or val < best[1]):
            best = (np.asarray(pars, dtype=float), val)
    if best is None:
        raise FitError(f"no fit converged from {len(starts)} starting points: {last_err}")
    return best


def _coefficient_starts(lh: Likelihood, base: np.ndarray, free: Sequence[str]) -> list[np.ndarray]:
    """0 plus ±1/4 and ±1/2 of each free coefficient's bound (several minima are common)."""
    starts = [base.copy()]
    for c in free:
        lo, hi = lh.bounds[c]
        for v in (0.25 * lo, 0.25 * hi, 0.5 * lo, 0.5 * hi):
            s = base.copy()
            s[lh.model.config.par_slice(c)] = v
            starts.append(s)
    return starts


def fit(
    lh: Likelihood,
    data: np.ndarray | None = None,
    fixed: Mapping[str, float] | None = None,
    uncertainties: bool = False,
) -> FitResult:
    """Maximum-likelihood fit (global: several starting points), optionally fixing coefficients.

    ``uncertainties=True`` adds HESSE errors from a final minuit fit; they are local and hide a
    second minimum, so use :func:`profile_scan` for intervals.
    """
    data = _data(lh, data)
    fixed = dict(fixed or {})
    check_coefficient_names(fixed, lh.coefficients)
    cfg = lh.model.config
    base = lh.pars(fixed)
    mask = np.array(cfg.suggested_fixed(), dtype=bool)
    for c in fixed:
        mask[cfg.par_slice(c)] = True
    free = [c for c in lh.coefficients if c not in fixed]
    with numpy_backend():
        pars, val = _minimise(lh, data, _coefficient_starts(lh, base, free), mask)
        errors = None
        if uncertainties:
            res = minimize(lh.model, data, pars, cfg.suggested_bounds(), mask.tolist(), minuit_optimizer(), return_uncertainties=True)
            errors = {c: float(res[cfg.par_slice(c), 1][0]) for c in free}
    best = {c: float(pars[cfg.par_slice(c)][0]) for c in lh.coefficients}
    return FitResult(best, pars, val, errors)


def _scan_points(
    lh: Likelihood, data: np.ndarray, points: Sequence[dict[str, float]], profile: bool, fixed_others: Mapping[str, float]
) -> np.ndarray:
    cfg = lh.model.config
    out = np.empty(len(points))
    prev: np.ndarray | None = None
    for i, point in enumerate(points):
        mask = np.array(cfg.suggested_fixed(), dtype=bool)
        base = lh.pars({**fixed_others, **point})
        names = list(point) + ([] if profile else [c for c in lh.coefficients if c not in point])
        for c in names:
            mask[cfg.par_slice(c)] = True
        starts = [base]
        if prev is not None:  # continuation from the previous scan point
            starts = [prev.copy()]
            for c in names:
                starts[0][cfg.par_slice(c)] = base[cfg.par_slice(c)]
        if profile:
            free = [c for c in lh.coefficients if c not in point]
            starts += _coefficient_starts(lh, base, free)[1:] if free else []
        prev, out[i] = _minimise(lh, data, starts, mask)
    return out


def profile_scan(
    lh: Likelihood,
    name: str,
    values: Sequence[float] | np.ndarray,
    data: np.ndarray | None = None,
    profile: bool = True,
    fixed: Mapping[str, float] | None = None,
) -> Scan1D:
    """Δ(−2 ln L) along one coefficient; others profiled (``profile=True``) or fixed at ``fixed`` (default 0).

    Nuisance parameters are always profiled. The reference minimum is the lower of the global fit
    and the scan's own minimum.
    """
    check_coefficient_names([name, *dict(fixed or {})], lh.coefficients)
    values = np.asarray(values, dtype=float)
    lo, hi = lh.bounds[name]
    if values.ndim != 1 or values.size < 2 or values.min() < lo or values.max() > hi:
        raise InvalidModelError(f"scan values for {name!r} must be a 1D grid inside the bounds {lh.bounds[name]}")
    data = _data(lh, data)
    others = {} if profile else {c: v for c, v in dict(fixed or {}).items() if c != name}
    with numpy_backend():
        best = fit(lh, data, fixed=None if profile else others)
        nll = _scan_points(lh, data, [{name: float(v)} for v in values], profile, others)
    ref = min(best.twice_nll, float(nll.min()))
    return Scan1D(name, values, nll - ref, best, profile)


def profile_scan_2d(
    lh: Likelihood,
    names: tuple[str, str],
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    data: np.ndarray | None = None,
    profile: bool = True,
) -> Scan2D:
    """Δ(−2 ln L) on a grid of two coefficients (others profiled or fixed at 0). Contours at 2.30 / 5.99."""
    check_coefficient_names(names, lh.coefficients)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    data = _data(lh, data)
    points = []
    for j, yv in enumerate(y):  # snake order keeps neighbouring points adjacent for the continuation start
        xs = x if j % 2 == 0 else x[::-1]
        points += [{names[0]: float(xv), names[1]: float(yv)} for xv in xs]
    with numpy_backend():
        best = fit(lh, data, fixed=None if profile else {c: 0.0 for c in lh.coefficients if c not in names})
        nll = _scan_points(lh, data, points, profile, {})
    grid = nll.reshape(len(y), len(x))
    grid[1::2] = grid[1::2, ::-1]
    ref = min(best.twice_nll, float(nll.min()))
    return Scan2D(tuple(names), x, y, grid - ref, best, profile)


def intervals_from_scan(values: np.ndarray, delta: np.ndarray, level: float = 0.95, dof: int = 1) -> Interval:
    """The set {c : Δ(−2 ln L)(c) <= χ²-quantile} as disjoint segments, ends by linear interpolation."""
    values, delta = np.asarray(values, dtype=float), np.asarray(delta, dtype=float)
    if values.shape != delta.shape or values.ndim != 1 or np.any(np.diff(values) <= 0):
        raise InvalidModelError("scan values must be strictly increasing and match the Δ(-2 ln L) array")
    if not np.all(np.isfinite(delta)):
        raise InvalidModelError("the scan contains non-finite Δ(-2 ln L) values")
    t = threshold(level, dof)
    inside = delta <= t
    segments = []
    i = 0
    n = len(values)
    while i < n:
        if not inside[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and inside[j + 1]:
            j += 1

        def cross(a: int, b: int) -> float:
            return float(values[a] + (t - delta[a]) * (values[b] - values[a]) / (delta[b] - delta[a]))

        lo = values[0] if i == 0 else cross(i - 1, i)
        hi = values[-1] if j == n - 1 else cross(j, j + 1)
        segments.append((float(lo), float(hi)))
        i = j + 1
    return Interval(level, tuple(segments), bool(inside[0]), bool(inside[-1]))


@dataclass(frozen=True)
class CLsLimit:
    """CLs upper limit on a positive rate parameter: observed and expected (−2σ … +2σ)."""

    observed: float
    expected: np.ndarray
    level: float


def cls_upper_limit(model: pyhf.Model, data: np.ndarray, level: float = 0.05) -> CLsLimit:
    """Asymptotic CLs (q̃_μ) upper limit on the model's POI, which must be a rate (lower bound 0)."""
    lo, hi = model.config.suggested_bounds()[model.config.poi_index]
    if lo != 0:
        raise InvalidModelError(
            f"CLs upper limits need a positive-rate POI with lower bound 0; {model.config.poi_name!r} has bounds {(lo, hi)}. "
            "For Wilson coefficients use profile_scan intervals."
        )
    with global_optimizer(scipy_optimizer()):  # pyhf's upper_limit takes no optimizer argument
        obs, exp = pyhf.infer.intervals.upper_limits.upper_limit(np.asarray(data, dtype=float), model, scan=None, level=level)
    return CLsLimit(float(obs), np.asarray(exp, dtype=float).ravel(), 1 - level)


@dataclass(frozen=True)
class CoverageResult:
    """Fraction of toys whose interval contains the true value, with its binomial error."""

    level: float
    fraction: float
    error: float
    n_toys: int


def coverage(
    lh: Likelihood,
    truth: Mapping[str, float],
    name: str,
    n_toys: int = 200,
    level: float = 0.68,
    seed: int | np.random.Generator = 0,
) -> CoverageResult:
    """Toy coverage of the profile-likelihood interval in ``name`` at the true point ``truth``.

    The true value is inside the interval iff Δ(−2 ln L)(c_true) <= threshold, so each toy costs one
    global and one conditional fit. Main bins are Poisson-fluctuated around the expectation at
    ``truth``; auxiliary data stay nominal (conditional toys), exact for models without constraints.
    """
    check_coefficient_names([name, *truth], lh.coefficients)
    rng = np.random.default_rng(seed)
    expected = lh.expected_yields(truth)
    aux = np.asarray(lh.model.config.auxdata, dtype=float)
    t = threshold(level)
    others = {c: v for c, v in truth.items() if c != name}
    hits = 0
    with numpy_backend():
        for _ in range(n_toys):
            toy = np.concatenate([rng.poisson(expected).astype(float), aux])
            best = fit(lh, toy)
            nll = _scan_points(lh, toy, [{name: float(truth.get(name, 0.0))}], True, others)
            hits += bool(nll[0] - min(best.twice_nll, nll[0]) <= t)
    frac = hits / n_toys
    return CoverageResult(level, frac, float(np.sqrt(frac * (1 - frac) / n_toys)), n_toys)

