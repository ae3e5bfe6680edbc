"""Fisher information captured by an observable, in units of the exact (or learned) score's.

Estimator (one for every row of the benchmark): for a CP-odd θ at the SM the rate term
vanishes and the information of a 1-D observable O is ``I(O) = L σ E[g(O)²]`` with
``g(O) = E[t | O]`` the conditional mean of the per-event score t (docs/notes/physics.md §4, §7).
We estimate ``g`` by a *piecewise-linear* regression of t on O in equal-population bins of O
(weighted), and subtract the known upward bias of the in-sample fit (2 fitted numbers per bin,
``2 s_b² / n_b``). The reference is ``E[t_ref²]`` with t_ref the exact parton-level score (or a
learned local score). The fraction ``I(O) / I_ref`` is independent of L σ. Because
``E[g²] ≤ E[t²]`` the fraction is ≤ 1 up to statistical fluctuations; binning makes it a
(slightly) conservative estimate.
"""

from __future__ import annotations

import numpy as np

from physinf.errors import InvalidParameterError

__all__ = ["conditional_information", "information_fraction"]


def _check(observable, score, weights):
    o = np.asarray(observable, float).ravel()
    t = np.asarray(score, float).ravel()
    if o.shape != t.shape or o.size < 20:
        raise InvalidParameterError("observable and score must be 1-D arrays of the same length (>= 20)")
    w = np.ones_like(o) if weights is None else np.asarray(weights, float).ravel()
    if w.shape != o.shape or np.any(w < 0):
        raise InvalidParameterError("weights must be non-negative with the observable's shape")
    ok = np.isfinite(o) & np.isfinite(t) & np.isfinite(w)
    return o[ok], t[ok], w[ok]


def conditional_information(
    observable: np.ndarray, score: np.ndarray, weights: np.ndarray | None = None, n_bins: int = 50
) -> float:
    """``E[(E[t|O])²]`` (per unit Lσ) by bias-corrected piecewise-linear regression in bins of O."""
    o, t, w = _check(observable, score, weights)
    n_bins = int(max(1, min(n_bins, o.size // 20)))
    edges = np.quantile(o, np.linspace(0.0, 1.0, n_bins + 1))
    idx = np.clip(np.searchsorted(edges, o, side="right") - 1, 0, n_bins - 1)
    total, wsum = 0.0, w.sum()
    for b in range(n_bins):
        m = idx == b
        if not np.any(m):
            continue
        ob, tb, wb = o[m], t[m], w[m]
        W = wb.sum()
        n_eff = W**2 / np.sum(wb**2)
        mo = np.sum(wb * ob) / W
        mt = np.sum(wb * tb) / W
        var_o = np.sum(wb * (ob - mo) ** 2) / W
        slope = np.sum(wb * (ob - mo) * (tb - mt)) / W / var_o if var_o > 0 and n_eff > 5 else 0.0
        fit = mt + slope * (ob - mo)
        resid_var = np.sum(wb * (tb - fit) ** 2) / W
        k = 2 if slope != 0.0 else 1
        total += W * (np.sum(wb * fit**2) / W - k * resid_var / n_eff)
    return float(total / wsum)


def information_fraction(
    observable: np.ndarray,
    score: np.ndarray,
    reference: np.ndarray | float | None = None,
    weights: np.ndarray | None = None,
    n_bins: int = 50,
) -> float:
    """``I(observable) / I_ref``; I_ref = E[reference²] (array: the exact score), a number, or E[score²]."""
    info = conditional_information(observable, score, weights, n_bins)
    if reference is None:
        reference = score
    if np.ndim(reference) == 0:
        ref = float(reference)
    else:
        r = np.asarray(reference, float).ravel()
        w = np.ones_like(r) if weights is None else np.asarray(weights, float).ravel()
        ok = np.isfinite(r)
        ref = float(np.sum(w[ok] * r[ok] ** 2) / w[ok].sum())
    if not ref > 0:
        raise InvalidParameterError("the reference information must be positive")
    return info / ref
