"""Small loops of the integrand compiled with numba when it is installed (numpy otherwise).

The same sums in the same order either way, so the two paths agree to the last bit; numba only
avoids the (events x channels) temporaries of the numpy version. The numba kernel backend switch
(``PHYSINF_KERNEL_BACKEND=numpy``) turns these off too.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["group_densities", "group_luminosities"]

_NUMBA: dict | None = None


def _numba_loops() -> dict:
    global _NUMBA
    if _NUMBA is None:
        from theory.processes._compile import kernel_backend

        _NUMBA = {}
        if kernel_backend() == "numba":
            from numba import njit

            @njit(cache=True, nogil=True)
            def lum_loop(fa, fb, a, b, g, s, out):  # pragma: no cover - compiled
                for k in range(a.shape[0]):  # contiguous rows: the inner loop vectorises
                    for n in range(fa.shape[1]):
                        out[g[k], n] += s[k] * fa[a[k], n] * fb[b[k], n]
                return out

            @njit(cache=True, nogil=True)
            def contract_loop(lum, comps, out):  # pragma: no cover - compiled
                for n in range(comps.shape[0]):
                    for c in range(comps.shape[2]):
                        acc = 0.0
                        for g in range(comps.shape[1]):
                            acc += lum[g, n] * comps[n, g, c]
                        out[n, c] = acc
                return out

            _NUMBA = {"lum": lum_loop, "contract": contract_loop}
    return _NUMBA


def group_luminosities(fa: np.ndarray, fb: np.ndarray, a: np.ndarray, b: np.ndarray, g: np.ndarray, s: np.ndarray,
                       n_groups: int) -> np.ndarray:
    """sum over channels k of group g: s_k fa[a_k] fb[b_k], shape (n_groups, N), for parton densities
    fa, fb of shape (n_partons, N); channels are summed in their order (a, b, g, s: per-channel
    parton indices, group, symmetry factor)."""
    out = np.zeros((n_groups, fa.shape[1]))
    loop = _numba_loops().get("lum")
    if loop is not None:
        return loop(np.ascontiguousarray(fa), np.ascontiguousarray(fb), a, b, g, s, out)
    for k in range(a.shape[0]):
        out[g[k]] += s[k] * fa[a[k]] * fb[b[k]]
    return out


def group_densities(fas: Sequence[np.ndarray], fbs: Sequence[np.ndarray], a: np.ndarray, b: np.ndarray,
                    g: np.ndarray, s: np.ndarray, comps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per scale j: sum_g L_jg A_gc with the group luminosities L_j of (fas[j], fbs[j]), shape
    (N, n_scales, C); and L_0 (n_groups, N), for the flavour draw. comps: (N, n_groups, C)."""
    n, n_groups, n_comp = comps.shape
    out = np.empty((n, len(fas), n_comp))
    loop = _numba_loops().get("contract")
    comps = np.ascontiguousarray(comps)
    lum0 = None
    for j, (fa, fb) in enumerate(zip(fas, fbs)):
        lum = group_luminosities(fa, fb, a, b, g, s, n_groups)
        lum0 = lum if j == 0 else lum0
        if loop is not None:
            out[:, j] = loop(lum, comps, np.empty((n, n_comp)))
        else:
            acc = np.zeros((n, n_comp))
            for k in range(n_groups):
                acc += lum[k, :, None] * comps[:, k, :]
            out[:, j] = acc
    assert lum0 is not None
    return lum0, out
