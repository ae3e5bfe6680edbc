"""Vectorised LHAPDF ``logcubic`` interpolation and ``continuation`` extrapolation.

Follows LHAPDF 6.2.3 ``LogBicubicInterpolator`` and ``ContinuationExtrapolator``
(docs/notes/pdfs.md §3-§4) point for point, on arrays: the knot search is ``np.searchsorted``
and all points in one subgrid are done in one pass of gathers.

Values can be one flavour (tables of shape (nx, nq), results (N,)) or several at
once (tables (nx, nq, nf), results (N, nf)).

References:
    LHAPDF6: A. Buckley et al., arXiv:1412.7420.
"""

from __future__ import annotations

import numpy as np

from ._lhagrid import Subgrid

__all__ = ["extrapolate_continuation", "interpolate"]


def _hermite(t, v0, m0, v1, m1):
    """Cubic Hermite with t in [0, 1] and slopes already scaled by the interval width."""
    t2 = t * t
    t3 = t2 * t
    return (2 * t3 - 3 * t2 + 1) * v0 + (t3 - 2 * t2 + t) * m0 + (-2 * t3 + 3 * t2) * v1 + (t3 - t2) * m1


def _below(knots: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Index of the knot <= v, never the last knot (LHAPDF ``xbelow``/``q2below``)."""
    i = np.searchsorted(knots, v, side="right") - 1
    return np.clip(i, 0, len(knots) - 2)


def _fast():
    """The numba loop for all flavours at once (theory.pdf._fastinterp), or None without numba."""
    global _FAST
    if _FAST is None:
        import importlib.util
        import os

        _FAST = False
        if os.environ.get("PHYSINF_KERNEL_BACKEND", "").strip().lower() != "numpy" and importlib.util.find_spec("numba"):
            from ._fastinterp import hermite_all_flavours

            _FAST = hermite_all_flavours
    return _FAST or None


_FAST = None


def _interp_subgrid(sg: Subgrid, col: int | None, x: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """Interpolate inside one subgrid. col=None gives all flavours, shape (N, nf)."""
    tab = sg.vd if col is None else sg.vd_by_flav[col]  # (nx*nq, 2[, nf]): value, d/dlogx
    nq = sg.q2s.size
    ix = _below(sg.xs, x)
    iq = _below(sg.q2s, q2)
    logxs, logq2s = sg.logxs, sg.logq2s
    dlx = logxs[ix + 1] - logxs[ix]
    tx = (np.log(x) - logxs[ix]) / dlx
    dlq1 = logq2s[iq + 1] - logq2s[iq]
    tq = (np.log(q2) - logq2s[iq]) / dlq1
    base = ix * nq
    ext = (slice(None),) + (None,) * (tab.ndim - 2)  # broadcast per-point weights over flavours

    if nq < 4:  # bilinear fallback in (log x, log Q2), docs/notes/pdfs.md §3.5
        wx = tx[ext]

        def lin_x(r):
            v0 = np.take(tab, base + r, axis=0)[:, 0]
            v1 = np.take(tab, base + nq + r, axis=0)[:, 0]
            return v0 + wx * (v1 - v0)

        lo, hi = lin_x(iq), lin_x(iq + 1)
        return lo + tq[ext] * (hi - lo)

    fast = _fast() if col is None else None
    if fast is not None and x.size:
        out = np.empty((x.shape[0], tab.shape[2]))
        return fast(np.ascontiguousarray(tab), base, iq, nq, tx, dlx, tq, np.ascontiguousarray(logq2s, dtype=float), out)

    # Hermite basis in log x, computed once per point; slopes scaled by the interval width.
    t2 = tx * tx
    t3 = t2 * tx
    h00 = (2 * t3 - 3 * t2 + 1)[ext]
    h10 = ((t3 - 2 * t2 + tx) * dlx)[ext]
    h01 = (-2 * t3 + 3 * t2)[ext]
    h11 = ((t3 - t2) * dlx)[ext]

    def along_x(r):
        """Cubic Hermite in log x on Q row r (an index array)."""
        a = np.take(tab, base + r, axis=0)
        b = np.take(tab, base + nq + r, axis=0)
        return h00 * a[:, 0] + h10 * a[:, 1] + h01 * b[:, 0] + h11 * b[:, 1]

    vl = along_x(iq)
    vh = along_x(iq + 1)
    first = iq == 0
    last = iq == nq - 2
    # Rows iq-1 and iq+2 only where they exist inside this subgrid (never across a seam).
    iqm = np.maximum(iq - 1, 0)
    iqp = np.minimum(iq + 2, nq - 1)
    vll = along_x(iqm)
    vhh = along_x(iqp)
    r0 = np.where(first, 0.0, dlq1 / np.where(first, 1.0, logq2s[iq] - logq2s[iqm]))[ext]
    r2 = np.where(last, 0.0, dlq1 / np.where(last, 1.0, logq2s[iqp] - logq2s[iq + 1]))[ext]
    first, last = first[ext], last[ext]
    diff = vh - vl
    # LHAPDF: central differences (scaled by dlq1) inside; at the first interval the lower slope
    # is the forward difference, at the last the upper slope is the backward difference.
    vdl = np.where(first, diff, 0.5 * (diff + (vl - vll) * r0))
    vdh = np.where(last, diff, 0.5 * (diff + (vhh - vh) * r2))
    s2 = tq * tq
    s3 = s2 * tq
    return ((2 * s3 - 3 * s2 + 1)[ext] * vl + (s3 - 2 * s2 + tq)[ext] * vdl
            + (-2 * s3 + 3 * s2)[ext] * vh + (s3 - s2)[ext] * vdh)


def interpolate(subgrids: tuple[Subgrid, ...], starts: np.ndarray, col: int | None, x: np.ndarray,
                q2: np.ndarray) -> np.ndarray:
    """Interpolate points known to lie inside the grid, choosing the subgrid by Q2.

    A Q2 exactly on a seam uses the upper subgrid (docs/notes/pdfs.md §2).
    """
    if len(subgrids) == 1:
        return _interp_subgrid(subgrids[0], col, x, q2)
    which = np.clip(np.searchsorted(starts, q2, side="right") - 1, 0, len(subgrids) - 1)
    first = int(which[0]) if which.size else 0
    if which.size and np.all(which == first):
        return _interp_subgrid(subgrids[first], col, x, q2)
    nf = subgrids[0].vd.shape[2]
    out = np.empty(x.shape if col is not None else (x.shape[0], nf))
    for s in np.unique(which):
        idx = np.flatnonzero(which == s)
        out[idx] = _interp_subgrid(subgrids[s], col, x[idx], q2[idx])
    return out


def _lin_extrap(t, y0, y1):
    """LHAPDF ``_extrapolateLinear``: in log(y) where both values exceed 1e-3, else in y.

    t = (u - u0)/(u1 - u0) for the extrapolation variable u (log x or log Q2).
    """
    pos = (y0 > 1e-3) & (y1 > 1e-3)
    with np.errstate(divide="ignore", invalid="ignore"):
        logv = np.exp(np.log(np.where(pos, y0, 1.0)) + t * (np.log(np.where(pos, y1, 1.0)) - np.log(np.where(pos, y0, 1.0))))
    return np.where(pos, logv, y0 + t * (y1 - y0))


def extrapolate_continuation(ipol, x: np.ndarray, q2: np.ndarray, xk: np.ndarray, q2k: np.ndarray,
                             ncols: int | None) -> np.ndarray:
    """Continuation extrapolation (docs/notes/pdfs.md §4) for points outside the grid with x <= xmax.

    ``ipol(x, q2)`` interpolates in-grid points; xk and q2k are the global knots
    (all subgrids). ``ncols`` is None for one flavour, else the number of flavours.
    """
    xmin, x1 = xk[0], xk[1]
    q2min, q2max = q2k[0], q2k[-1]
    q2a, q2b = q2k[-2], q2k[-1]
    out = np.empty(x.shape if ncols is None else (x.shape[0], ncols))

    def col(v):
        return v if ncols is None else v[:, None]

    def full(n, v):
        return np.full(n, v)

    lx = np.log(x)
    tx = (lx - np.log(xmin)) / (np.log(x1) - np.log(xmin))
    lq = np.log(q2)
    tq = (lq - np.log(q2a)) / (np.log(q2b) - np.log(q2a))

    def x_extrap(idx, q2v):
        """Branch A: x < xmin with q2v in range, linear in log x from the first two x knots."""
        n = idx.size
        f0 = ipol(full(n, xmin), q2v)
        f1 = ipol(full(n, x1), q2v)
        return _lin_extrap(col(tx[idx]), f0, f1)

    def ipol_or_x(idx, q2v):
        """Interpolate, or x-extrapolate where x < xmin (q2v in range)."""
        n = idx.size
        res = np.empty(n if ncols is None else (n, ncols))
        lo = x[idx] < xmin
        if np.any(~lo):
            res[~lo] = ipol(x[idx][~lo], q2v[~lo])
        if np.any(lo):
            res[lo] = x_extrap(idx[lo], q2v[lo])
        return res

    lowx = x < xmin
    highq = q2 > q2max
    lowq = q2 < q2min
    # A: x < xmin, Q2 in range.
    idx = np.flatnonzero(lowx & ~highq & ~lowq)
    if idx.size:
        out[idx] = x_extrap(idx, q2[idx])
    # B: x in range, Q2 > Q2max: linear in log Q2 from the last two Q2 knots.
    idx = np.flatnonzero(~lowx & highq)
    if idx.size:
        n = idx.size
        f0 = ipol(x[idx], full(n, q2a))
        f1 = ipol(x[idx], full(n, q2b))
        out[idx] = _lin_extrap(col(tq[idx]), f0, f1)
    # C: x < xmin and Q2 > Q2max: Q2 first at the two lowest x knots, then x.
    idx = np.flatnonzero(lowx & highq)
    if idx.size:
        n = idx.size
        t = col(tq[idx])
        g0 = _lin_extrap(t, ipol(full(n, xmin), full(n, q2a)), ipol(full(n, xmin), full(n, q2b)))
        g1 = _lin_extrap(t, ipol(full(n, x1), full(n, q2a)), ipol(full(n, x1), full(n, q2b)))
        out[idx] = _lin_extrap(col(tx[idx]), g0, g1)
    # D: Q2 < Q2min, anomalous-dimension ansatz (x-extrapolating first where x < xmin).
    idx = np.flatnonzero(lowq)
    if idx.size:
        n = idx.size
        f0 = ipol_or_x(idx, full(n, q2min))
        f1 = ipol_or_x(idx, full(n, 1.01 * q2min))
        with np.errstate(divide="ignore", invalid="ignore"):
            anom = np.where(np.abs(f0) >= 1e-5, (f1 - f0) / f0 / 0.01, 1.0)
        anom = np.maximum(anom, -2.5)
        r = col(q2[idx] / q2min)
        out[idx] = f0 * r ** (anom * r + 1.0 - r)
    return out
