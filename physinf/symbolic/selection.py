"""Model-selection rules on a Pareto front of (complexity, loss).

- ``accuracy``: the lowest loss.
- ``best`` (PySR's rule): score = −Δ log(loss) / Δ complexity between neighbours on the front;
  the highest score among members with loss < 1.5 × the minimum loss.
- ``knee``: the member farthest below the straight line joining the ends of the front in
  (complexity, log loss).
References: Cranmer, arXiv:2305.01582 (score / best).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from physinf.errors import InvalidParameterError, did_you_mean

__all__ = ["pareto_indices", "scores", "select", "RULES"]

RULES = ("best", "accuracy", "knee")
Rule = Literal["best", "accuracy", "knee"]


def _floor(loss: np.ndarray) -> np.ndarray:
    finite = loss[np.isfinite(loss)]
    scale = float(np.max(np.abs(finite))) if finite.size else 1.0
    return np.maximum(loss, 1e-300 + 1e-15 * scale)


def pareto_indices(complexity: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated members, sorted by complexity (loss strictly decreasing)."""
    c, l_ = np.asarray(complexity, float), np.asarray(loss, float)
    order = np.lexsort((l_, c))
    keep, best = [], np.inf
    for i in order:
        if np.isfinite(l_[i]) and l_[i] < best:
            keep.append(i)
            best = l_[i]
    return np.asarray(keep, dtype=int)


def scores(complexity: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """PySR score of each member of a front sorted by complexity (first member: 0)."""
    c, l_ = np.asarray(complexity, float), np.log(_floor(np.asarray(loss, float)))
    s = np.zeros(len(c))
    if len(c) > 1:
        s[1:] = -(l_[1:] - l_[:-1]) / np.maximum(c[1:] - c[:-1], 1e-12)
    return s


def select(complexity, loss, rule: Rule = "best") -> int:
    """Index (into the given arrays) of the member picked by ``rule``, among Pareto-optimal ones."""
    if rule not in RULES:
        raise InvalidParameterError(f"unknown selection rule {rule!r}.{did_you_mean(str(rule), list(RULES))} "
                                    f"Known: {', '.join(RULES)}")
    c, l_ = np.asarray(complexity, float), np.asarray(loss, float)
    if c.shape != l_.shape or c.size == 0:
        raise InvalidParameterError("complexity and loss must be non-empty arrays of the same shape")
    front = pareto_indices(c, l_)
    if front.size == 0:
        raise InvalidParameterError("no candidate has a finite loss")
    fc, fl = c[front], l_[front]
    if rule == "accuracy":
        return int(front[np.argmin(fl)])
    if rule == "best":
        s = scores(fc, fl)
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
