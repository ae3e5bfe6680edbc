"""Standard Model inputs in the G_mu scheme and running alpha_s.

Inputs (PDG 2024 where stated): G_F, m_Z, m_W, m_H, widths. Derived in the G_mu
scheme: s_W^2 = 1 - m_W^2/m_Z^2, alpha_Gmu = sqrt(2) G_F m_W^2 s_W^2 / pi,
e = sqrt(4 pi alpha), g = e/s_W, v = (sqrt(2) G_F)^(-1/2).

References: PDG, "Review of Particle Physics", Phys. Rev. D 110 (2024) 030001;
LO/NLO running: e.g. Ellis, Stirling, Webber, "QCD and collider physics", eq. (2.19).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from theory.errors import InvalidParameterError

__all__ = ["SMInputs", "SM", "alpha_s_running", "CKM_DIAGONAL"]

# Diagonal CKM: with massless quarks and a unitary CKM the sum over final flavours
# gives the same total as the full matrix (only the b -> t line, kinematically closed, differs).
CKM_DIAGONAL = {(2, 1): 1.0, (4, 3): 1.0}


@dataclass(frozen=True)
class SMInputs:
    """Electroweak and QCD inputs. Masses and widths in GeV."""

    GF: float = 1.1663788e-5
    mZ: float = 91.1876
    mW: float = 80.369  # PDG 2024 average
    mH: float = 125.0
    mt: float = 172.5
    wZ: float = 2.4952
    wW: float = 2.085
    wH: float = 4.07e-3
    alpha_s_mZ: float = 0.118
    nf: int = 5
    # Overrides, only to reproduce another program's couplings (e.g. Pythia 8's fixed
    # alpha_em(m_Z) and MSbar sin^2 theta_W); None keeps the G_mu-scheme values.
    alpha_fixed: float | None = None
    sw2_fixed: float | None = None

    def __post_init__(self) -> None:
        for name in ("GF", "mZ", "mW", "mH", "wZ", "wW", "alpha_s_mZ"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise InvalidParameterError(f"SM input {name} must be a positive finite number, got {value!r}")
        for name in ("alpha_fixed", "sw2_fixed"):
            value = getattr(self, name)
            if value is not None and not (0 < value < 1):
                raise InvalidParameterError(f"SM input {name} must lie in (0, 1), got {value!r}")
        if self.mW >= self.mZ:
            raise InvalidParameterError(
                f"m_W = {self.mW} must be below m_Z = {self.mZ} (s_W^2 = 1 - m_W^2/m_Z^2 > 0 in the G_mu scheme)"
            )

    # ---- derived G_mu-scheme quantities
    @property
    def sw2(self) -> float:
        """sin^2 theta_W = 1 - m_W^2/m_Z^2 (on-shell definition), unless overridden."""
        if self.sw2_fixed is not None:
            return self.sw2_fixed
        return 1.0 - self.mW**2 / self.mZ**2

    @property
    def cw2(self) -> float:
        return 1.0 - self.sw2

    @property
    def alpha(self) -> float:
        """alpha_Gmu = sqrt(2) G_F m_W^2 s_W^2 / pi (1/132.18 for m_W = 80.379), unless overridden."""
        if self.alpha_fixed is not None:
            return self.alpha_fixed
        return math.sqrt(2.0) * self.GF * self.mW**2 * self.sw2 / math.pi

    @property
    def e(self) -> float:
        return math.sqrt(4.0 * math.pi * self.alpha)

    @property
    def g(self) -> float:
        """SU(2) coupling g = e/s_W = 2 m_W / v."""
        return self.e / math.sqrt(self.sw2)

    @property
    def vev(self) -> float:
        """v = (sqrt(2) G_F)^(-1/2) = 246.2 GeV."""
        return 1.0 / math.sqrt(math.sqrt(2.0) * self.GF)

    def alpha_s(self, Q: float, order: int = 0) -> float:
        """alpha_s(Q) at LO (order 0) or NLO (order 1), fixed nf, from alpha_s(m_Z)."""
        return alpha_s_running(Q, self.alpha_s_mZ, self.mZ, order=order, nf=self.nf)

    def with_(self, **changes: float) -> "SMInputs":
        """A copy with some inputs changed (e.g. to match another program)."""
        return replace(self, **changes)


def alpha_s_running(Q, alpha_s_mZ: float, mZ: float = 91.1876, order: int = 0, nf: int = 5):
    """Running alpha_s at one (order=0) or two loops (order=1) with fixed nf.

    LO: alpha_s(Q) = a / (1 + b0 a L), L = ln(Q^2/mZ^2), b0 = (33 - 2 nf)/(12 pi).
    NLO: the exact two-loop solution is found by Newton iteration of the implicit
    equation 1/a(Q) - 1/a0 + b1/b0 ln[(a(Q)(1 + b1/b0 a0)) / (a0 (1 + b1/b0 a(Q)))] = b0 L,
    with b1 = (153 - 19 nf)/(24 pi^2).
    """
    import numpy as np

    if order not in (0, 1):
        raise InvalidParameterError(f"alpha_s order must be 0 (LO) or 1 (NLO), got {order!r}")
    Qa = np.asarray(Q, dtype=float)
    if np.any(~np.isfinite(Qa)) or np.any(Qa <= 0):
        raise InvalidParameterError("alpha_s scale Q must be positive and finite (in GeV)")
    b0 = (33.0 - 2.0 * nf) / (12.0 * math.pi)
    L = np.log(Qa**2 / mZ**2)
    a_lo = alpha_s_mZ / (1.0 + b0 * alpha_s_mZ * L)
    if order == 0:
        return a_lo if a_lo.ndim else float(a_lo)
    b1 = (153.0 - 19.0 * nf) / (24.0 * math.pi**2)
    c = b1 / b0
    a0 = alpha_s_mZ

    def f(a):
        return 1.0 / a - 1.0 / a0 + c * np.log(a * (1 + c * a0) / (a0 * (1 + c * a))) - b0 * L

    def fprime(a):
        return -1.0 / a**2 + c * (1.0 / a - c / (1 + c * a))

    a = np.array(a_lo, dtype=float)
    for _ in range(50):
        step = f(a) / fprime(a)
        a = a - step
        if np.all(np.abs(step) < 1e-15 * np.abs(a)):
            break
    return a if a.ndim else float(a)


SM = SMInputs()
