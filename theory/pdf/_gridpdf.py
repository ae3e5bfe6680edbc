"""``GridPDF``: one member of an LHAPDF6 grid set, evaluated with LHAPDF's rules (docs/notes/pdfs.md §2-§6)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

import numpy as np

from ..errors import InvalidParameterError, PDFError
from ._alphas import AlphaSIpol, AlphaSRunning
from ._interp import extrapolate_continuation, interpolate
from ._lhagrid import GridData

__all__ = ["EXTRAPOLATORS", "GridPDF"]

EXTRAPOLATORS = ("continuation", "nearest", "error")


class GridPDF:
    """x f(x, Q) of one PDF member from an LHAPDF6 ``lhagrid1`` grid.

    Evaluation: log-bicubic interpolation inside each subgrid (upper subgrid on a seam),
    then the set's extrapolator outside the grid (``continuation``, ``nearest`` or
    ``error``), then the ForcePositive clamp (0: none, 1: negatives -> 0, 2: values
    below 1e-10 -> 1e-10). A PID not in ``flavors`` gives 0; PID 0 means the gluon (21).

    Build it with :func:`theory.pdf.load_pdf`.

    References:
        LHAPDF6: A. Buckley et al., arXiv:1412.7420.
    """

    def __init__(self, data: GridData, metadata: Mapping, *, force_positive: int, extrapolator: str) -> None:
        if force_positive not in (0, 1, 2):
            raise InvalidParameterError(f"force_positive must be 0, 1 or 2, got {force_positive!r}")
        if extrapolator not in EXTRAPOLATORS:
            raise InvalidParameterError(f"extrapolator must be one of {EXTRAPOLATORS}, got {extrapolator!r}")
        self._data = data
        self._subgrids = data.subgrids
        self._starts = np.array([s.q2s[0] for s in data.subgrids])
        self._xk = np.unique(np.concatenate([s.xs for s in data.subgrids]))
        self._q2k = np.unique(np.concatenate([s.q2s for s in data.subgrids]))
        self.flavors: tuple[int, ...] = data.flavors
        self._col = {pid: k for k, pid in enumerate(self.flavors)}
        if 0 not in self._col and 21 in self._col:
            self._col[0] = self._col[21]
        self.force_positive = int(force_positive)
        self.extrapolator = extrapolator
        self.xmin, self.xmax = float(self._xk[0]), float(self._xk[-1])
        self.q2min, self.q2max = float(self._q2k[0]), float(self._q2k[-1])
        self.qmin, self.qmax = float(np.sqrt(self.q2min)), float(np.sqrt(self.q2max))
        self.metadata: Mapping = MappingProxyType(dict(metadata))
        self.name: str = str(metadata.get("SetName", data.path.stem))
        self.member: int = int(metadata.get("Member", 0))
        self._alpha_s = self._make_alpha_s()

    def __repr__(self) -> str:
        return (
            f"GridPDF({self.name!r}, member={self.member}, flavors={list(self.flavors)}, "
            f"x=[{self.xmin:g}, {self.xmax:g}], Q=[{self.qmin:g}, {self.qmax:g}] GeV, "
            f"force_positive={self.force_positive}, extrapolator={self.extrapolator!r})"
        )

    @property
    def path(self):
        """The member file this PDF was read from."""
        return self._data.path

    # ------------------------------------------------------------------ alpha_s
    def _make_alpha_s(self):
        md = self.metadata
        if md.get("AlphaS_Qs") and md.get("AlphaS_Vals"):
            return AlphaSIpol(md["AlphaS_Qs"], md["AlphaS_Vals"])
        if md.get("AlphaS_MZ") is None:
            return None
        order = md.get("AlphaS_OrderQCD", md.get("OrderQCD", 0))
        return AlphaSRunning(md["AlphaS_MZ"], md.get("MZ", 91.1876), order=min(int(order), 1))

    def alpha_s(self, Q):
        """alpha_s(Q) of the set (Q in GeV): its ipol table, else running from AlphaS_MZ."""
        Qa = np.asarray(Q, dtype=float)
        if np.any(~np.isfinite(Qa)) or np.any(Qa <= 0):
            raise InvalidParameterError("alpha_s scale Q must be positive and finite (in GeV)")
        return self.alpha_s_Q2(Qa * Qa)

    def alpha_s_Q2(self, Q2):
        """alpha_s at Q2 in GeV^2."""
        if self._alpha_s is None:
            raise PDFError(
                f"PDF set {self.name!r} has no AlphaS_MZ or AlphaS_Qs/AlphaS_Vals metadata; "
                "provide a .info file next to the grid"
            )
        q2 = np.asarray(Q2, dtype=float)
        if np.any(~np.isfinite(q2)) or np.any(q2 <= 0):
            raise InvalidParameterError("alpha_s scale Q2 must be positive and finite (in GeV^2)")
        out = self._alpha_s(q2.reshape(-1)).reshape(q2.shape)
        return float(out) if out.ndim == 0 else out

    # ------------------------------------------------------------------ evaluation
    def _prepare(self, x, q2):
        xa, qa = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(q2, dtype=float))
        shape = xa.shape
        xf, q2f = xa.reshape(-1), qa.reshape(-1)
        if not (np.all(np.isfinite(xf)) and np.all(np.isfinite(q2f))):
            raise InvalidParameterError("x and Q must be finite")
        if np.any(xf <= 0) or np.any(xf > 1):
            bad = xf[(xf <= 0) | (xf > 1)][0]
            raise InvalidParameterError(f"unphysical momentum fraction x = {float(bad)!r}: need 0 < x <= 1")
        if np.any(q2f <= 0):
            raise InvalidParameterError("the scale Q must be positive (in GeV)")
        if self.extrapolator == "nearest":
            xf = np.clip(xf, self.xmin, self.xmax)
            q2f = np.clip(q2f, self.q2min, self.q2max)
        elif np.any(xf > self.xmax):
            bad = xf[xf > self.xmax][0]
            raise PDFError(
                f"x = {float(bad)!r} is above the grid's xmax = {self.xmax!r} of {self.name!r}; "
                "LHAPDF does not extrapolate to large x"
            )
        return shape, xf, q2f

    def _eval(self, col: int | None, x: np.ndarray, q2: np.ndarray) -> np.ndarray:
        inside = (x >= self.xmin) & (q2 >= self.q2min) & (q2 <= self.q2max)
        if np.all(inside):
            out = interpolate(self._subgrids, self._starts, col, x, q2)
        else:
            if self.extrapolator == "error":
                i = int(np.flatnonzero(~inside)[0])
                raise PDFError(
                    f"(x, Q) = ({float(x[i]):g}, {float(np.sqrt(q2[i])):g} GeV) is outside the grid of {self.name!r} "
                    f"(x >= {self.xmin:g}, {self.qmin:g} <= Q <= {self.qmax:g} GeV) and the extrapolator "
                    "is 'error'; load it with extrapolator='continuation' or 'nearest' to extrapolate"
                )
            nf = None if col is not None else len(self.flavors)
            out = np.empty(x.shape if nf is None else (x.shape[0], nf))
            idx = np.flatnonzero(inside)
            out[idx] = interpolate(self._subgrids, self._starts, col, x[idx], q2[idx])
            idx = np.flatnonzero(~inside)

            def ipol(xv, q2v):
                return interpolate(self._subgrids, self._starts, col, xv, q2v)

            out[idx] = extrapolate_continuation(ipol, x[idx], q2[idx], self._xk, self._q2k, nf)
        if self.force_positive == 1:
            np.maximum(out, 0.0, out=out)
        elif self.force_positive == 2:
            np.maximum(out, 1e-10, out=out)
        return out

    @staticmethod
    def _pid(pid) -> int:
        if isinstance(pid, (bool, np.bool_)) or not isinstance(pid, (int, np.integer)):
            raise InvalidParameterError(f"pid must be an integer PDG id, got {pid!r}")
        return int(pid)

    def xfxQ2(self, pid: int, x, Q2):
        """x f(x, Q2) for one PDG id; x and Q2 (GeV^2) broadcast. A float for scalar input."""
        pid = self._pid(pid)
        shape, xa, q2a = self._prepare(x, Q2)
        col = self._col.get(pid)
        out = np.zeros(xa.shape) if col is None else self._eval(col, xa, q2a)
        out = out.reshape(shape)
        return float(out) if out.ndim == 0 else out

    def xfxQ(self, pid: int, x, Q):
        """x f(x, Q) for one PDG id; x and Q (GeV) broadcast. A float for scalar input."""
        return self.xfxQ2(pid, x, self._q_to_q2(Q))

    def xfxQ2_all(self, x, Q2, pids=None) -> np.ndarray:
        """x f for several flavours at once: array (len(pids), *broadcast shape).

        ``pids`` defaults to ``self.flavors`` (file order); PIDs not in the set give rows of 0.
        """
        pids = self.flavors if pids is None else tuple(self._pid(p) for p in pids)
        shape, xa, q2a = self._prepare(x, Q2)
        allv = self._eval(None, xa, q2a)  # (N, nf)
        cols = [self._col.get(p) for p in pids]
        present = [c for c in cols if c is not None]
        if len(present) == len(cols):  # one gather; a transposed view, rows strided
            return allv[:, present].T.reshape((len(pids),) + shape)
        out = np.zeros((len(pids), xa.size))
        for k, c in enumerate(cols):
            if c is not None:
                out[k] = allv[:, c]
        return out.reshape((len(pids),) + shape)

    def xfxQ_all(self, x, Q, pids=None) -> np.ndarray:
        """x f for several flavours at once, Q in GeV: array (len(pids), *broadcast shape)."""
        return self.xfxQ2_all(x, self._q_to_q2(Q), pids)

    @staticmethod
    def _q_to_q2(Q) -> np.ndarray:
        Qa = np.asarray(Q, dtype=float)
        if np.any(Qa <= 0):
            raise InvalidParameterError("the scale Q must be positive (in GeV)")
        return Qa * Qa
