"""Small loops of the integrand compiled with numba when it is installed (numpy otherwise).

The same sums in the same order either way, so the two paths agree to the last bit; numba only
avoids the (events x channels) temporaries of the numpy version. The numba kernel backend switch
(``PHYSINF_KERNEL_BACKEND=numpy``) turns these off too.
"""

from __future__ import annotations

import numpy as np

__all__ = ["draw_channels", "group_densities"]

_NUMBA: dict | None = None
_BLOCK = 256  # events per block of the density loop


def _count_below(cdf: np.ndarray, width: int, threshold: float) -> int:
    """How many of cdf[:width] lie below threshold, at most width - 1 (the drawn index)."""
    k = 0
    for i in range(width):
        if cdf[i] < threshold:
            k += 1
    return min(k, width - 1)


def _numba_loops() -> dict:
    global _NUMBA
    if _NUMBA is None:
        from theory.processes._compile import kernel_backend

        _NUMBA = {}
        if kernel_backend() == "numba":
            from numba import njit

            count_below = njit(cache=True, nogil=True)(_count_below)

            @njit(cache=True, nogil=True)
            def density_loop(fa, fb, a, b, g, s, comps, lum0, out):  # pragma: no cover - compiled
                n_scales, n_events = fa.shape[1], fa.shape[2]
                n_groups, n_comp = comps.shape[1], comps.shape[2]
                lum = np.empty((n_scales, n_groups, _BLOCK))
                # blocks of events keep the luminosities in cache; channels and groups are summed
                # in order, as in the numpy version
                for lo in range(0, n_events, _BLOCK):
                    m = min(lo + _BLOCK, n_events) - lo
                    lum[:, :, :m] = 0.0
                    for j in range(n_scales):
                        for k in range(a.shape[0]):
                            sk, row = s[k], lum[j, g[k], :m]
                            fa_k, fb_k = fa[a[k], j, lo : lo + m], fb[b[k], j, lo : lo + m]
                            for n in range(m):  # contiguous slices: vectorised
                                row[n] += sk * fa_k[n] * fb_k[n]
                    lum0[:, lo : lo + m] = lum[0, :, :m]
                    for n in range(lo, lo + m):
                        out[n] = 0.0
                        for q in range(n_groups):
                            for j in range(n_scales):
                                weight = lum[j, q, n - lo]
                                for c in range(n_comp):
                                    out[n, j, c] += weight * comps[n, q, c]
                return out

            @njit(cache=True, nogil=True)
            def draw_loop(gw, u1, u2, members, a, b, s, fa, fb, cdf, out):  # pragma: no cover - compiled
                n_g, width = gw.shape[1], members.shape[1]
                for n in range(gw.shape[0]):
                    acc = 0.0
                    for k in range(n_g):
                        acc += gw[n, k]
                        cdf[k] = acc
                    g = count_below(cdf, n_g, u1[n] * acc)
                    acc = 0.0
                    for k in range(width):
                        m = members[g, k]
                        if m >= 0:
                            acc += fa[a[m], n] * fb[b[m], n] * s[m]
                        cdf[k] = acc
                    k = count_below(cdf, width, u2[n] * acc)
                    out[n] = max(members[g, k], 0)
                return out

            _NUMBA = {"densities": density_loop, "draw": draw_loop}
    return _NUMBA


def group_densities(fa: np.ndarray, fb: np.ndarray, a: np.ndarray, b: np.ndarray, g: np.ndarray, s: np.ndarray,
                    comps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per scale j: sum_g L_jg A_gc with the group luminosities L_jg = sum over the channels k of
    group g of s_k fa[a_k, j] fb[b_k, j] (parton densities (n_partons, n_scales, N)), shape
    (N, n_scales, C); and L_0 (n_groups, N), for the flavour draw. comps: (N, n_groups, C)."""
    n, n_groups, n_comp = comps.shape
    n_scales = fa.shape[1]
    out = np.empty((n, n_scales, n_comp))
    lum0 = np.zeros((n_groups, n))
    loop = _numba_loops().get("densities")
    if loop is not None:
        fa, fb, comps = np.ascontiguousarray(fa), np.ascontiguousarray(fb), np.ascontiguousarray(comps)
        return lum0, loop(fa, fb, a, b, g, s, comps, lum0, out)
    for j in range(n_scales):
        lum = np.zeros((n_groups, n))
        for k in range(a.shape[0]):
            lum[g[k]] += s[k] * fa[a[k], j] * fb[b[k], j]
        lum0 = lum if j == 0 else lum0
        acc = np.zeros((n, n_comp))
        for q in range(n_groups):
            acc += lum[q, :, None] * comps[:, q, :]
        out[:, j] = acc
    return lum0, out


def _pick(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index drawn per row with probability proportional to the row's weights (u uniform in [0, 1))."""
    cdf = np.cumsum(weights, axis=1)
    return np.minimum((cdf < (u * cdf[:, -1])[:, None]).sum(axis=1), weights.shape[1] - 1)


def draw_channels(group_weights: np.ndarray, u1: np.ndarray, u2: np.ndarray, members: np.ndarray, a: np.ndarray,
                  b: np.ndarray, s: np.ndarray, fa: np.ndarray | None, fb: np.ndarray | None) -> np.ndarray:
    """Channel of each event in two stages: a group with probability proportional to
    group_weights (N, n_groups) using u1, then one of its members (rows of ``members``, -1 padded)
    with weights s_k fa[a_k] fb[b_k] (parton densities (n_partons, N); s_k alone without them) using u2."""
    n = group_weights.shape[0]
    loop = _numba_loops().get("draw")
    if loop is not None and fa is not None and fb is not None and n:
        cdf = np.empty(max(group_weights.shape[1], members.shape[1]))
        return loop(np.ascontiguousarray(group_weights), u1, u2, members, a, b, s, np.ascontiguousarray(fa),
                    np.ascontiguousarray(fb), cdf, np.empty(n, dtype=np.int64))
    g = _pick(group_weights, u1)
    rows = members[g]  # (n, width), -1 padded
    valid = rows >= 0
    safe = np.where(valid, rows, 0)
    if fa is not None and fb is not None:
        event = np.arange(n)[:, None]
        w = fa[a[safe], event] * fb[b[safe], event] * s[safe]
    else:
        w = s[safe].astype(float)
    k = _pick(np.where(valid, w, 0.0), u2)
    return np.take_along_axis(safe, k[:, None], axis=1)[:, 0]
