"""Comparing physinf's weighted events with another program's unweighted ones.

* :func:`shape_chi2`: chi^2 of two normalised histograms (weighted vs unweighted), each bin's
  variance from both samples (sum of w^2 for weighted events, N for unweighted ones); ndf =
  non-empty bins - 1 (the normalisation is fixed).
* :func:`dilepton_observables`: m_ll, y_ll and the Collins-Soper cos(theta*) of l- (index 2) and
  l+ (index 3): cos theta_CS = sign(y_ll) 2 (p1+ p2- - p1- p2+) / (m_ll sqrt(m_ll^2 + pT_ll^2)),
  p+- = (E +- p_z)/sqrt(2), 1 = l-, 2 = l+ (Collins, Soper, Phys. Rev. D 16 (1977) 2219). At LO
  (pT_ll = 0) it is the l- polar angle in the dilepton rest frame, signed by the boost direction.
* :func:`asymmetry`: forward-backward asymmetry of weighted events with its error.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from theory.errors import InvalidParameterError

__all__ = ["asymmetry", "dilepton_observables", "ratio_error", "shape_chi2"]


def shape_chi2(x: np.ndarray, w: np.ndarray | None, x_ref: np.ndarray, w_ref: np.ndarray | None,
               bins: np.ndarray) -> tuple[float, int, float]:
    """(chi^2, ndf, p-value) of the normalised shapes of two samples in ``bins``. Weights None:
    unit weights. Bins empty in both samples are left out."""
    w = np.ones(len(x)) if w is None else np.asarray(w, float)
    w_ref = np.ones(len(x_ref)) if w_ref is None else np.asarray(w_ref, float)
    h, _ = np.histogram(x, bins, weights=w)
    h2, _ = np.histogram(x, bins, weights=w**2)
    r, _ = np.histogram(x_ref, bins, weights=w_ref)
    r2, _ = np.histogram(x_ref, bins, weights=w_ref**2)
    if h.sum() <= 0 or r.sum() <= 0:
        raise InvalidParameterError("a histogram is empty: no events inside the bins")
    var = h2 / h.sum() ** 2 + r2 / r.sum() ** 2
    used = var > 0
    chi2 = float(np.sum((h[used] / h.sum() - r[used] / r.sum()) ** 2 / var[used]))
    ndf = int(used.sum()) - 1
    return chi2, ndf, float(stats.chi2.sf(chi2, ndf))


def dilepton_observables(momenta: np.ndarray) -> dict[str, np.ndarray]:
    """m_ll, y_ll and cos_theta_cs of events (N, >=4, 4) with l- at index 2 and l+ at index 3."""
    l1, l2 = momenta[:, 2], momenta[:, 3]
    q = l1 + l2
    m2 = q[:, 0] ** 2 - np.sum(q[:, 1:] ** 2, axis=-1)
    m = np.sqrt(np.maximum(m2, 0.0))
    pt2 = q[:, 1] ** 2 + q[:, 2] ** 2
    y = 0.5 * np.log((q[:, 0] + q[:, 3]) / (q[:, 0] - q[:, 3]))
    plus1, minus1 = (l1[:, 0] + l1[:, 3]) / math.sqrt(2), (l1[:, 0] - l1[:, 3]) / math.sqrt(2)
    plus2, minus2 = (l2[:, 0] + l2[:, 3]) / math.sqrt(2), (l2[:, 0] - l2[:, 3]) / math.sqrt(2)
    cos_cs = np.sign(y) * 2.0 * (plus1 * minus2 - minus1 * plus2) / (m * np.sqrt(m2 + pt2))
    return {"m_ll": m, "y_ll": y, "cos_theta_cs": cos_cs}


def asymmetry(cos_theta: np.ndarray, w: np.ndarray | None = None) -> tuple[float, float]:
    """A_FB = (sigma(cos > 0) - sigma(cos < 0)) / sigma and its statistical error
    (sqrt(sum w^2 (s - A)^2) / sum w, s = sign(cos); sqrt((1 - A^2)/N) for unit weights)."""
    w = np.ones(len(cos_theta)) if w is None else np.asarray(w, float)
    s = np.sign(cos_theta)
    total = w.sum()
    a = float(np.sum(w * s) / total)
    err = float(np.sqrt(np.sum(w**2 * (s - a) ** 2)) / total)
    return a, err


def ratio_error(a: float, da: float, b: float, db: float) -> tuple[float, float]:
    """a/b and its error for independent errors da, db."""
    r = a / b
    return r, abs(r) * math.hypot(da / a, db / b)
