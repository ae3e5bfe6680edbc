"""Model-selection rules on a Pareto front of (complexity, loss).

- ``accuracy``: the lowest loss.
- ``best`` (PySR's rule): score = −Δ log(loss) / Δ complexity between neighbours on the front;
  the highest score among members with loss < 1.5 × the minimum loss.
- ``knee``: the member farthest below the straight line joining the ends of the front in
  (complexity, log loss).
- ``parsimonious``: the simplest member whose loss is compatible with the lowest one given the
  noise: ``L ≤ L_min (1 + (d + 4 sqrt(2d)) / N)`` with d ≥ 1 the number of constants the
  lowest-loss member has in excess and N the (effective) number of points. With the right
  structure, extra constants lower the mean squared error by fitting noise, by χ²_d/N in
  relative terms; the bound is that χ²'s mean plus four standard deviations. PySR's 1.5
  window of ``best`` admits approximations 50 % worse than the optimum, far outside what the
  noise allows for N ~ 1000; this rule is for data from an exact law with noise.

Equal losses: losses below ``floor`` (``distill`` passes 1e-22 Var(y): numerically exact) are
set to ``floor``, and a longer member enters the front only if it lowers the loss by more than
the relative ``rtol`` (1e-6). So among formulas with the same loss the simplest is selected,
whatever the rule: an exact-looking short formula beats a longer one that is no better.
References: Cranmer, arXiv:2305.01582 (score / best).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from physinf.errors import InvalidParameterError, did_you_mean

__all__ = ["RULES", "front_scores", "pareto_indices", "select"]

RULES = ("best", "accuracy", "knee", "parsimonious")
Rule = Literal["best", "accuracy", "knee", "parsimonious"]


def _floor(loss: np.ndarray) -> np.ndarray:
    finite = loss[np.isfinite(loss)]
    scale = float(np.max(np.abs(finite))) if finite.size else 1.0
    return np.maximum(loss, 1e-300 + 1e-15 * scale)


def pareto_indices(complexity: np.ndarray, loss: np.ndarray, *, floor: float = 0.0, rtol: float = 0.0) -> np.ndarray:
    """Indices of the non-dominated members, sorted by complexity (loss strictly decreasing).

    Losses are clipped below at ``floor``; a member counts as better than the simpler ones only
    if its loss is below ``(1 - rtol)`` times theirs."""
    c, l_ = np.asarray(complexity, float), np.maximum(np.asarray(loss, float), floor)
    order = np.lexsort((l_, c))
    keep, best = [], np.inf
    for i in order:
        if np.isfinite(l_[i]) and l_[i] < best * (1.0 - rtol):
            keep.append(i)
            best = l_[i]
    return np.asarray(keep, dtype=int)


def front_scores(complexity: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """PySR score of each member of a front sorted by complexity (first member: 0)."""
    c, l_ = np.asarray(complexity, float), np.log(_floor(np.asarray(loss, float)))
    s = np.zeros(len(c))
    if len(c) > 1:
        s[1:] = -(l_[1:] - l_[:-1]) / np.maximum(c[1:] - c[:-1], 1e-12)
    return s


def select(complexity, loss, rule: Rule = "best", *, floor: float = 0.0, rtol: float = 0.0,
           n_params=None, n_points: float | None = None) -> int:
    """Index (into the given arrays) of the member picked by ``rule``, among Pareto-optimal ones
    (:func:`pareto_indices` with ``floor`` and ``rtol``). ``parsimonious`` needs ``n_params``
    (constants per member) and ``n_points`` (effective number of points)."""
    if rule not in RULES:
        raise InvalidParameterError(f"unknown selection rule {rule!r}.{did_you_mean(str(rule), list(RULES))} "
                                    f"Known: {', '.join(RULES)}")
    c, l_ = np.asarray(complexity, float), np.asarray(loss, float)
    if c.shape != l_.shape or c.size == 0:
        raise InvalidParameterError("complexity and loss must be non-empty arrays of the same shape")
    front = pareto_indices(c, l_, floor=floor, rtol=rtol)
    if front.size == 0:
        raise InvalidParameterError("no candidate has a finite loss")
    fc, fl = c[front], np.maximum(l_[front], floor)
    if rule == "accuracy":
        return int(front[np.argmin(fl)])
    if rule == "parsimonious":
        if n_params is None or n_points is None or n_points <= 0:
            raise InvalidParameterError("selection 'parsimonious' needs n_params and n_points")
        k = np.asarray(n_params, float)[front]
        best = int(np.argmin(fl))
        d = np.maximum(k[best] - k, 1.0)
        ok = fl <= fl[best] * (1.0 + (d + 4.0 * np.sqrt(2.0 * d)) / n_points)
        return int(front[np.flatnonzero(ok)[0]])
    if rule == "best":
        s = front_scores(fc, fl)
        ok = fl < 1.5 * fl.min() if fl.min() > 0 else fl <= fl.min()
        s = np.where(ok, s, -np.inf)
        return int(front[np.argmax(s)])
    if len(front) <= 2:
        return int(front[-1])
    x = (fc - fc[0]) / max(fc[-1] - fc[0], 1e-12)
    ll = np.log(_floor(fl))
    y = (ll - ll[-1]) / max(ll[0] - ll[-1], 1e-12)
    # distance below the chord from (0, 1) to (1, 0): 1 - x - y
    return int(front[np.argmax(1.0 - x - y)])
