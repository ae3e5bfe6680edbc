"""The inner loop of ``_interp._interp_subgrid`` (all flavours, >= 4 Q knots) compiled with numba.

Same arithmetic, in the same order, as the numpy version (LHAPDF ``logcubic``: cubic Hermite in
log x on four Q rows, then in log Q2 with LHAPDF's end-interval slopes), so the values agree to
the last bit or to rounding; numba only removes the numpy temporaries of the gathers. Used when
numba is installed (``PHYSINF_KERNEL_BACKEND`` != ``numpy``); ``_interp`` falls back to numpy.
"""

from __future__ import annotations

from numba import njit

__all__ = ["hermite_all_flavours"]


@njit(cache=True, nogil=True, error_model="numpy")
def hermite_all_flavours(tab, base, iq, nq, tx, dlx, tq, logq2s, out):  # pragma: no cover - compiled
    n, nf = out.shape
    for k in range(n):
        t = tx[k]
        t2 = t * t
        t3 = t2 * t
        h00 = 2 * t3 - 3 * t2 + 1
        h10 = (t3 - 2 * t2 + t) * dlx[k]
        h01 = -2 * t3 + 3 * t2
        h11 = (t3 - t2) * dlx[k]
        q = iq[k]
        b = base[k]
        first = q == 0
        last = q == nq - 2
        qm = q - 1 if q > 0 else 0
        qp = q + 2 if q + 2 < nq - 1 else nq - 1
        dlq1 = logq2s[q + 1] - logq2s[q]
        r0 = 0.0 if first else dlq1 / (logq2s[q] - logq2s[qm])
        r2 = 0.0 if last else dlq1 / (logq2s[qp] - logq2s[q + 1])
        s = tq[k]
        s2 = s * s
        s3 = s2 * s
        w0 = 2 * s3 - 3 * s2 + 1
        w1 = s3 - 2 * s2 + s
        w2 = -2 * s3 + 3 * s2
        w3 = s3 - s2
        for f in range(nf):
            vl = h00 * tab[b + q, 0, f] + h10 * tab[b + q, 1, f] + h01 * tab[b + nq + q, 0, f] + h11 * tab[b + nq + q, 1, f]
            vh = (h00 * tab[b + q + 1, 0, f] + h10 * tab[b + q + 1, 1, f] + h01 * tab[b + nq + q + 1, 0, f]
                  + h11 * tab[b + nq + q + 1, 1, f])
            vll = h00 * tab[b + qm, 0, f] + h10 * tab[b + qm, 1, f] + h01 * tab[b + nq + qm, 0, f] + h11 * tab[b + nq + qm, 1, f]
            vhh = h00 * tab[b + qp, 0, f] + h10 * tab[b + qp, 1, f] + h01 * tab[b + nq + qp, 0, f] + h11 * tab[b + nq + qp, 1, f]
            diff = vh - vl
            vdl = diff if first else 0.5 * (diff + (vl - vll) * r0)
            vdh = diff if last else 0.5 * (diff + (vhh - vh) * r2)
            out[k, f] = w0 * vl + w1 * vdl + w2 * vh + w3 * vdh
    return out
