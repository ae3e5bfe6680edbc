"""Binnings of an observable: weighted quantiles, and the binning that maximises the Fisher information.

The Fisher-optimal binning merges a fine quantile pre-binning into ``n_bins`` contiguous bins by
dynamic programming, maximising Σ_b (∂n_b)² / n_b exactly over all merges of the pre-binning
(the information of one coefficient, or of a fixed direction v in coefficient space).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from physinf.stats.errors import InvalidModelError
from theory.morphing import monomial_gradients, monomial_values

__all__ = ["fisher_optimal_edges", "quantile_edges"]


def _check(x: np.ndarray, weights: np.ndarray | None, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    if x.ndim != 1 or w.shape != x.shape or not (np.all(np.isfinite(x)) and np.all(np.isfinite(w))):
        raise InvalidModelError("observable and weights must be finite (N,) arrays of the same length")
    if not (isinstance(n_bins, int | np.integer) and n_bins >= 1):
        raise InvalidModelError(f"n_bins must be a positive integer, got {n_bins}")
    if np.any(w < 0):
        raise InvalidModelError("quantile binning needs non-negative weights (use the SM weight)")
    return x, w


def quantile_edges(x: np.ndarray, n_bins: int, weights: np.ndarray | None = None, strict: bool = True) -> np.ndarray:
    """Edges with equal (weighted) content per bin; outer edges at the min and max of ``x``.

    With ``strict=False`` fewer bins are returned when single heavy events or ties make some
    quantiles coincide (used for fine pre-binnings)."""
    x, w = _check(x, weights, n_bins)
    order = np.argsort(x)
    xs, cw = x[order], np.cumsum(w[order])
    if cw[-1] <= 0:
        raise InvalidModelError("total weight is zero")
    targets = cw[-1] * np.arange(1, n_bins) / n_bins
    inner = xs[np.minimum(np.searchsorted(cw, targets), len(xs) - 1)]
    edges = np.unique(np.concatenate([[xs[0]], inner, [xs[-1]]]))
    if strict and len(edges) - 1 < n_bins:
        raise InvalidModelError(f"only {len(edges) - 1} distinct quantile bins possible (ties in x); use fewer bins")
    return edges


def fisher_optimal_edges(
    x: np.ndarray,
    weight_components: np.ndarray,
    powers: np.ndarray,
    theta: Sequence[float],
    n_bins: int,
    direction: Sequence[float] | None = None,
    background_weights: np.ndarray | None = None,
    n_fine: int = 200,
) -> np.ndarray:
    """Edges of ``n_bins`` bins maximising the binned Fisher information along ``direction`` at θ.

    ``direction`` defaults to the first coefficient. The result is optimal among merges of an
    ``n_fine``-bin SM-quantile pre-binning (overall scale, i.e. luminosity, does not matter).
    """
    w = np.asarray(weight_components, dtype=float)
    theta = np.atleast_1d(np.asarray(theta, dtype=float))
    v = np.zeros(len(theta)) if direction is None else np.asarray(direction, dtype=float)
    if direction is None:
        v[0] = 1.0
    sigma = w @ monomial_values(powers, theta)
    if background_weights is not None:
        sigma = sigma + np.asarray(background_weights, dtype=float)
    deriv = w @ (monomial_gradients(powers, theta) @ v)
    fine = quantile_edges(x, min(n_fine, len(x)), np.clip(w[:, 0], 0, None), strict=False)
    if n_bins > len(fine) - 1:
        raise InvalidModelError(f"n_bins={n_bins} exceeds the {len(fine) - 1} fine bins available")
    idx = np.clip(np.searchsorted(fine, x, side="right") - 1, 0, len(fine) - 2)
    s = np.concatenate([[0.0], np.cumsum(np.bincount(idx, sigma, len(fine) - 1))])
    d = np.concatenate([[0.0], np.cumsum(np.bincount(idx, deriv, len(fine) - 1))])
    m = len(fine) - 1

    def gain(i: np.ndarray, j: int) -> np.ndarray:  # information of merged fine bins [i, j)
        ss, dd = s[j] - s[i], d[j] - d[i]
        return np.where(ss > 0, dd**2 / np.where(ss > 0, ss, 1.0), -np.inf)

    best = np.full((n_bins + 1, m + 1), -np.inf)
    arg = np.zeros((n_bins + 1, m + 1), dtype=int)
    best[0, 0] = 0.0
    for k in range(1, n_bins + 1):
        for j in range(k, m + 1):
            i = np.arange(k - 1, j)
            cand = best[k - 1, i] + gain(i, j)
            t = int(np.argmax(cand))
            best[k, j], arg[k, j] = cand[t], i[t]
    cuts = [m]
    for k in range(n_bins, 0, -1):
        cuts.append(arg[k, cuts[-1]])
    return fine[np.array(cuts[::-1])]
