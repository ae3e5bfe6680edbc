"""Small loops of the integrand compiled with numba when it is installed (numpy otherwise).

The same sums in the same order either way, so the two paths agree to the last bit; numba only
avoids the (events x channels) temporaries of the numpy version. The numba kernel backend switch
(``PHYSINF_KERNEL_BACKEND=numpy``) turns these off too.
"""

from __future__ import annotations

import numpy as np

__all__ = ["group_luminosities"]

_NUMBA = None


def _numba_loops():
    global _NUMBA
    if _NUMBA is None:
        from theory.processes._compile import kernel_backend

        _NUMBA = False
        if kernel_backend() == "numba":
            from numba import njit

            @njit(cache=True, nogil=True)
            def lum_loop(fa, fb, a, b, g, s, out):  # pragma: no cover - compiled
                for n in range(fa.shape[0]):
                    for k in range(a.shape[0]):
                        out[n, g[k]] += s[k] * fa[n, a[k]] * fb[n, b[k]]
                return out

            _NUMBA = lum_loop
    return _NUMBA or None


def group_luminosities(fa: np.ndarray, fb: np.ndarray, a: np.ndarray, b: np.ndarray, g: np.ndarray, s: np.ndarray,
                       n_groups: int) -> np.ndarray:
    """sum over channels k of group g: s_k fa[:, a_k] fb[:, b_k], shape (N, n_groups); channels are
    summed in their order (a, b, g, s: per-channel parton indices, group, symmetry factor)."""
    out = np.zeros((fa.shape[0], n_groups))
    loop = _numba_loops()
    if loop is not None:
        return loop(np.ascontiguousarray(fa), np.ascontiguousarray(fb), a, b, g, s, out)
    for k in range(a.shape[0]):
        out[:, g[k]] += s[k] * fa[:, a[k]] * fb[:, b[k]]
    return out
