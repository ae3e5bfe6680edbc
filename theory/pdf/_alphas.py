"""alpha_s for a PDF set: LHAPDF ``ipol`` interpolation, or running from alpha_s(MZ) (docs/notes/pdfs.md §6).

References:
    LHAPDF6 (AlphaS_Ipol): A. Buckley et al., arXiv:1412.7420.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidParameterError, PDFError
from ..sm import alpha_s_running

__all__ = ["AlphaSIpol", "AlphaSRunning"]


def _hermite(t, v0, m0, v1, m1):
    t2 = t * t
    t3 = t2 * t
    return (2 * t3 - 3 * t2 + 1) * v0 + (t3 - 2 * t2 + t) * m0 + (-2 * t3 + 3 * t2) * v1 + (t3 - t2) * m1


class AlphaSIpol:
    """Cubic Hermite in log Q2 on the set's (AlphaS_Qs, AlphaS_Vals) knots.

    A repeated Q splits subgrids at a threshold (upper subgrid on the knot); slopes are
    central, forward or backward inside each subgrid. Below the first knot: power law
    with the log-log slope of the first two distinct knots. Above the last: constant.
    """

    def __init__(self, qs, vals) -> None:
        try:
            q = np.asarray(qs, dtype=float)
            a = np.asarray(vals, dtype=float)
        except (TypeError, ValueError):
            raise PDFError("AlphaS_Qs/AlphaS_Vals must be lists of numbers") from None
        if q.ndim != 1 or q.shape != a.shape or q.size < 2 or np.any(np.diff(q) < 0) or np.any(q <= 0):
            raise PDFError("AlphaS_Qs/AlphaS_Vals must be equal-length lists (>= 2) of ascending positive Q")
        self.q2s = q * q
        self.vals = a
        cuts = np.flatnonzero(np.diff(self.q2s) == 0) + 1
        self._grids = []  # (q2 knots, log q2 knots, values)
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, q.size]):
            if hi - lo >= 2:
                self._grids.append((self.q2s[lo:hi], np.log(self.q2s[lo:hi]), a[lo:hi]))
        self._starts = np.array([g[0][0] for g in self._grids])
        nxt = int(np.flatnonzero(self.q2s > self.q2s[0])[0])
        self._loggrad = np.log10(a[nxt] / a[0]) / np.log10(self.q2s[nxt] / self.q2s[0])

    def __call__(self, q2: np.ndarray) -> np.ndarray:
        q2 = np.asarray(q2, dtype=float)
        out = np.empty_like(q2)
        low = q2 < self.q2s[0]
        high = q2 > self.q2s[-1]
        out[low] = self.vals[0] * (q2[low] / self.q2s[0]) ** self._loggrad
        out[high] = self.vals[-1]
        mid = ~(low | high)
        which = np.clip(np.searchsorted(self._starts, q2, side="right") - 1, 0, len(self._grids) - 1)
        for s, (kq2, klog, kv) in enumerate(self._grids):
            m = mid & (which == s)
            if not np.any(m):
                continue
            v = q2[m]
            n = kq2.size
            i = np.clip(np.searchsorted(kq2, v, side="right") - 1, 0, n - 2)
            d = np.diff(kv) / np.diff(klog)  # forward differences on intervals
            if n == 2:
                slope = np.array([d[0], d[0]])
            else:
                slope = np.empty(n)
                slope[0] = d[0]
                slope[-1] = d[-1]
                slope[1:-1] = 0.5 * (d[:-1] + d[1:])
            dl = klog[i + 1] - klog[i]
            t = (np.log(v) - klog[i]) / dl
            out[m] = _hermite(t, kv[i], slope[i] * dl, kv[i + 1], slope[i + 1] * dl)
        return out


class AlphaSRunning:
    """alpha_s from alpha_s(MZ) by fixed-nf running (theory.sm.alpha_s_running)."""

    def __init__(self, alpha_s_mz: float, mz: float, order: int, nf: int = 5) -> None:
        if order not in (0, 1):
            raise InvalidParameterError(f"alpha_s running order must be 0 or 1, got {order!r}")
        self.alpha_s_mz, self.mz, self.order, self.nf = float(alpha_s_mz), float(mz), order, nf

    def __call__(self, q2: np.ndarray) -> np.ndarray:
        return np.asarray(alpha_s_running(np.sqrt(q2), self.alpha_s_mz, self.mz, order=self.order, nf=self.nf))
