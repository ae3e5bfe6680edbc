"""Standard Model inputs: electroweak input schemes, running alpha_em, presets, running alpha_s.

Electroweak input schemes (``SMInputs.scheme``; on-shell masses m_W, m_Z in every scheme,
s_W^2 = 1 - m_W^2/m_Z^2, tree-level relations for everything derived):

* ``"Gmu"`` (default): inputs G_F, m_W, m_Z; alpha_Gmu = sqrt(2) G_F m_W^2 s_W^2 / pi.
* ``"alphaMZ"``: inputs alpha(m_Z) (``alpha_mZ``), m_W, m_Z; G_F = pi alpha / (sqrt(2) m_W^2 s_W^2).
* ``"alpha0"``: inputs alpha(0) (``alpha_0``), m_W, m_Z; G_F derived the same way.

In each, e = sqrt(4 pi alpha), g = e/s_W, g_Z = e/(s_W c_W), v = 2 m_W s_W / e (= (sqrt(2) G_F)^-1/2
in the G_mu scheme). Other programs' conventions on top of a scheme:

* ``sw2_fixed``: an s_W^2 for the Z normalisation and the W couplings that is not the on-shell
  value (Pythia 8's ``StandardModel:sin2thetaW``); ``sw2_eff``: the s_W^2 in the fermions' vector
  couplings to the Z, g_L = T3 - Q s_eff^2, g_R = -Q s_eff^2 (sin^2 theta_eff; Pythia 8's
  ``sin2thetaWbar``). None: the scheme's s_W^2.
* ``alpha_running``: ``"fixed"`` (the scheme's alpha everywhere) or ``"pythia8"``: alpha_em(Q^2)
  at s-channel photon and Z exchange as Pythia 8 runs it (``SigmaProcess:alphaEMorder = 1``:
  first-order running with effective thresholds, anchored at ``alpha_0`` and at ``alpha_mZ``
  at Q = 91.188 GeV), evaluated at Q^2 = s_hat inside the processes' SymPy expressions.
* ``width_running``: s-channel Breit-Wigner 1/(s - m^2 + i m Gamma) (False) or with the
  s-dependent width 1/(s - m^2 + i s Gamma/m) (True, Pythia 8's form).

Presets (``SMInputs.preset``): ``"physinf"`` (the defaults), ``"pythia8"`` (Pythia 8.317's defaults),
``"madgraph_sm"`` (MadGraph5_aMC@NLO's ``sm`` model, restrict_default). Every value and its source:
docs/conventions.md.

References: PDG, "Review of Particle Physics", Phys. Rev. D 110 (2024) 030001 (inputs; Electroweak
model review for alpha(m_Z)); A. Denner, S. Dittmaier, "Electroweak radiative corrections for
collider physics", Phys. Rept. 864 (2020) 1, arXiv:1912.06823, sect. 3 (input schemes);
T. Sjostrand et al., "A comprehensive guide to the physics and usage of PYTHIA 8.3",
arXiv:2203.11601 (and Pythia 8.317's StandardModel.cc: AlphaEM); LO/NLO alpha_s running: Ellis,
Stirling, Webber, "QCD and collider physics", eq. (2.19).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import sympy as sp

from theory.errors import InvalidParameterError, UnknownNameError, did_you_mean

__all__ = [
    "ALPHA_RUNNING",
    "CKM_DIAGONAL",
    "MADGRAPH_SM",
    "PRESETS",
    "PYTHIA8",
    "SCHEMES",
    "SM",
    "SMInputs",
    "alpha_em_ratio_symbolic",
    "alpha_em_running",
    "alpha_s_running",
    "breit_wigner_width_symbolic",
    "running_couplings",
]

# Diagonal CKM: with massless quarks and a unitary CKM the sum over final flavours
# gives the same total as the full matrix (only the b -> t line, kinematically closed, differs).
CKM_DIAGONAL = {(2, 1): 1.0, (4, 3): 1.0}

SCHEMES = ("Gmu", "alphaMZ", "alpha0")
ALPHA_RUNNING = ("fixed", "pythia8")
PRESETS = ("physinf", "pythia8", "madgraph_sm")

# CODATA 2018 (PDG 2024): 1/alpha(0) = 137.035999084
ALPHA_0 = 1.0 / 137.035999084
# PDG 2024, Electroweak model review: MSbar alpha^(5)(m_Z)^-1 = 127.951 +- 0.009
ALPHA_MZ = 1.0 / 127.951

# Pythia 8 AlphaEM (StandardModel.cc, unchanged from 8.2 to 8.317): effective thresholds (GeV^2) for
# e, mu, light quarks, tau + c, b, running coefficients per step, and the m_Z it anchors alpha_mZ at.
PYTHIA8_Q2STEP = (0.26e-6, 0.011, 0.25, 3.5, 90.0)
PYTHIA8_BRUN = (0.1061, 0.2122, 0.460, 0.700, 0.725)
PYTHIA8_ALPHA_MZ_SCALE = 91.188


def _positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
        raise InvalidParameterError(f"SM input {name} must be a positive finite number, got {value!r}")


def _in_unit_interval(name: str, value: Any, hint: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 < value < 1):
        raise InvalidParameterError(f"SM input {name} must lie in (0, 1), got {value!r}; {hint}")


@dataclass(frozen=True)
class SMInputs:
    """Electroweak and QCD inputs, the input scheme and the propagator and coupling conventions.

    Masses and widths in GeV. JSON-serialisable (``dataclasses.asdict`` / ``SMInputs(**d)``), so
    every generation config and EventSample records the exact conventions it was made with.
    Fields after ``nf``: ``alpha_fixed`` overrides the scheme's alpha (kept for old configs; prefer
    ``scheme="alphaMZ"`` with ``alpha_mZ``); ``sw2_fixed``, ``sw2_eff``, ``scheme``, ``alpha_0``,
    ``alpha_mZ``, ``alpha_running``, ``width_running``: see the module docstring.
    """

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
    alpha_fixed: float | None = None
    sw2_fixed: float | None = None
    scheme: str = "Gmu"
    alpha_0: float = ALPHA_0
    alpha_mZ: float = ALPHA_MZ
    alpha_running: str = "fixed"
    width_running: bool = False
    sw2_eff: float | None = None

    def __post_init__(self) -> None:
        for name in ("GF", "mZ", "mW", "mH", "wZ", "wW", "alpha_s_mZ"):
            _positive(name, getattr(self, name))
        for name in ("mt", "wH"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value >= 0):
                raise InvalidParameterError(f"SM input {name} must be a non-negative finite number, got {value!r}")
        if isinstance(self.nf, bool) or not isinstance(self.nf, int) or not 3 <= self.nf <= 6:
            raise InvalidParameterError(f"SM input nf (active quark flavours in alpha_s) must be 3..6, got {self.nf!r}")
        if not isinstance(self.scheme, str) or self.scheme not in SCHEMES:
            raise UnknownNameError(
                f"unknown electroweak input scheme {self.scheme!r}; choose one of {', '.join(SCHEMES)}."
                f"{did_you_mean(str(self.scheme), SCHEMES)}"
            )
        if not isinstance(self.alpha_running, str) or self.alpha_running not in ALPHA_RUNNING:
            raise UnknownNameError(
                f"unknown alpha_em running {self.alpha_running!r}; choose one of {', '.join(ALPHA_RUNNING)}."
                f"{did_you_mean(str(self.alpha_running), ALPHA_RUNNING)}"
            )
        if not isinstance(self.width_running, bool):
            raise InvalidParameterError(
                f"width_running must be True (s-dependent Breit-Wigner width) or False (fixed width), got {self.width_running!r}"
            )
        _in_unit_interval("alpha_0", self.alpha_0, "it is the fine-structure constant alpha(0) ~ 1/137")
        _in_unit_interval("alpha_mZ", self.alpha_mZ, "it is alpha_em at m_Z ~ 1/128")
        if self.alpha_running == "pythia8" and not self.alpha_0 < self.alpha_mZ:
            raise InvalidParameterError(
                f"alpha_mZ = {self.alpha_mZ} must exceed alpha_0 = {self.alpha_0}: alpha_em grows with the scale"
            )
        for name, hint in (("alpha_fixed", "an alpha_em value such as 1/128"),
                           ("sw2_fixed", "a sin^2 theta_W such as 0.2312"),
                           ("sw2_eff", "an effective sin^2 theta_eff such as 0.2315")):
            value = getattr(self, name)
            if value is not None:
                _in_unit_interval(name, value, f"give {hint} or None")
        if self.mW >= self.mZ:
            raise InvalidParameterError(
                f"m_W = {self.mW} must be below m_Z = {self.mZ} (s_W^2 = 1 - m_W^2/m_Z^2 > 0 in every input scheme)"
            )

    # ---- derived quantities of the input scheme
    @property
    def sw2_on_shell(self) -> float:
        """1 - m_W^2/m_Z^2."""
        return 1.0 - self.mW**2 / self.mZ**2

    @property
    def sw2(self) -> float:
        """sin^2 theta_W of the Z normalisation and the W couplings: on-shell, unless ``sw2_fixed``."""
        if self.sw2_fixed is not None:
            return self.sw2_fixed
        return self.sw2_on_shell

    @property
    def cw2(self) -> float:
        return 1.0 - self.sw2

    @property
    def sw2_vector(self) -> float:
        """sin^2 theta in the fermions' vector couplings to the Z: ``sw2_eff``, else ``sw2``."""
        return self.sw2_eff if self.sw2_eff is not None else self.sw2

    @property
    def alpha(self) -> float:
        """The scheme's alpha_em (1/132.18 in the G_mu scheme for m_W = 80.379), unless ``alpha_fixed``.

        G_mu: sqrt(2) G_F m_W^2 s_W^2 / pi; alphaMZ: ``alpha_mZ``; alpha0: ``alpha_0``. With a running
        alpha_em this is the reference value the processes rescale by alpha(s_hat)/alpha."""
        if self.alpha_fixed is not None:
            return self.alpha_fixed
        if self.scheme == "alphaMZ":
            return self.alpha_mZ
        if self.scheme == "alpha0":
            return self.alpha_0
        return math.sqrt(2.0) * self.GF * self.mW**2 * self.sw2 / math.pi

    @property
    def e(self) -> float:
        return math.sqrt(4.0 * math.pi * self.alpha)

    @property
    def g(self) -> float:
        """SU(2) coupling g = e/s_W = 2 m_W / v."""
        return self.e / math.sqrt(self.sw2)

    @property
    def gz(self) -> float:
        """Z coupling g_Z = e/(s_W c_W)."""
        return self.e / math.sqrt(self.sw2 * self.cw2)

    @property
    def vev(self) -> float:
        """v = (sqrt(2) G_F)^(-1/2) = 246.2 GeV in the G_mu scheme; 2 m_W s_W / e in the others."""
        if self.scheme == "Gmu" and self.alpha_fixed is None:
            return 1.0 / math.sqrt(math.sqrt(2.0) * self.GF)
        return 2.0 * self.mW * math.sqrt(self.sw2) / self.e

    @property
    def GF_derived(self) -> float:
        """The Fermi constant the scheme implies at tree level, pi alpha / (sqrt(2) m_W^2 s_W^2)
        (equals ``GF`` in the G_mu scheme)."""
        return math.pi * self.alpha / (math.sqrt(2.0) * self.mW**2 * self.sw2)

    def derived(self) -> dict[str, float]:
        """Every derived electroweak quantity of these inputs, by name (for reports and documents)."""
        return {"alpha": self.alpha, "1/alpha": 1.0 / self.alpha, "sw2": self.sw2, "cw2": self.cw2,
                "sw2_vector": self.sw2_vector, "e": self.e, "g": self.g, "gz": self.gz, "vev": self.vev,
                "GF": self.GF_derived, "mW": self.mW, "mZ": self.mZ, "wZ": self.wZ, "wW": self.wW}

    # ---- running couplings
    def alpha_em(self, Q2):
        """alpha_em at the squared scale Q2 (GeV^2; number or array) in this convention: the scheme's
        alpha when ``alpha_running == "fixed"``, Pythia 8's running otherwise."""
        if self.alpha_running == "fixed":
            out = np.full_like(np.asarray(Q2, dtype=float), self.alpha)
            return out if out.ndim else float(out)
        return alpha_em_running(Q2, self.alpha_0, self.alpha_mZ)

    def alpha_s(self, Q: float, order: int = 0) -> float:
        """alpha_s(Q) at LO (order 0) or NLO (order 1), fixed nf, from alpha_s(m_Z)."""
        return alpha_s_running(Q, self.alpha_s_mZ, self.mZ, order=order, nf=self.nf)

    def with_(self, **changes: Any) -> "SMInputs":
        """A copy with some inputs changed (e.g. to match another program); unknown names refused."""
        known = [f.name for f in fields(self)]
        for key in changes:
            if key not in known:
                raise UnknownNameError(f"SMInputs has no input {key!r}; known: {', '.join(known)}.{did_you_mean(key, known)}")
        return replace(self, **changes)

    @classmethod
    def preset(cls, name: str) -> "SMInputs":
        """Inputs and conventions of another program: ``"pythia8"`` (Pythia 8.317 defaults),
        ``"madgraph_sm"`` (MadGraph5_aMC@NLO ``sm`` model defaults) or ``"physinf"`` (this package's
        defaults). Sources of every value: docs/conventions.md."""
        if name == "physinf":
            return cls()
        if name == "pythia8":
            return PYTHIA8
        if name == "madgraph_sm":
            return MADGRAPH_SM
        raise UnknownNameError(f"unknown SM preset {name!r}; choose one of {', '.join(PRESETS)}.{did_you_mean(name, PRESETS)}")


# ------------------------------------------------------------------------------------------------ alpha_em
def _pythia8_steps(alpha_0: float, alpha_mZ: float) -> tuple[list[float], list[float]]:
    """alpha_em at Pythia's thresholds and the running coefficient of each step (AlphaEM::init)."""
    q2, b = PYTHIA8_Q2STEP, list(PYTHIA8_BRUN)
    steps = [0.0] * 5
    steps[4] = alpha_mZ / (1.0 + alpha_mZ * b[4] * math.log(PYTHIA8_ALPHA_MZ_SCALE**2 / q2[4]))
    steps[3] = steps[4] / (1.0 - steps[4] * b[3] * math.log(q2[3] / q2[4]))
    steps[0] = alpha_0
    steps[1] = steps[0] / (1.0 - steps[0] * b[0] * math.log(q2[1] / q2[0]))
    steps[2] = steps[1] / (1.0 - steps[1] * b[1] * math.log(q2[2] / q2[1]))
    # step 2's coefficient is fitted so that alpha_em is continuous at the tau/charm threshold
    b[2] = (1.0 / steps[3] - 1.0 / steps[2]) / math.log(q2[2] / q2[3])
    return steps, b


def alpha_em_running(Q2, alpha_0: float = ALPHA_0, alpha_mZ: float = ALPHA_MZ):
    """Pythia 8's first-order running alpha_em(Q^2) (``SigmaProcess:alphaEMorder = 1``), Q2 in GeV^2.

    Step i (above threshold Q_i^2): alpha(Q^2) = alpha_i / (1 - b_i alpha_i ln(Q^2/Q_i^2)); alpha_0
    below the electron threshold; steps 0-2 run up from alpha_0, steps 3-4 down from alpha_mZ at
    Q = 91.188 GeV, with b_2 fitted for continuity. So 1/alpha is continuous and piecewise linear
    in ln Q^2 (the form ``alpha_em_ratio_symbolic`` uses)."""
    q2 = np.asarray(Q2, dtype=float)
    if np.any(~np.isfinite(q2)) or np.any(q2 <= 0):
        raise InvalidParameterError("alpha_em scale Q^2 must be positive and finite (in GeV^2)")
    steps, b = _pythia8_steps(alpha_0, alpha_mZ)
    out = np.full(q2.shape, alpha_0)
    done = np.zeros(q2.shape, dtype=bool)
    for i in range(4, -1, -1):
        sel = (q2 > PYTHIA8_Q2STEP[i]) & ~done
        out[sel] = steps[i] / (1.0 - b[i] * steps[i] * np.log(q2[sel] / PYTHIA8_Q2STEP[i]))
        done |= sel
    return out if out.ndim else float(out)


def running_couplings(sm: SMInputs) -> dict[str, float]:
    """Channel couplings of the running alpha_em and the running width (``alpha_em_ratio_symbolic``,
    ``breit_wigner_width_symbolic``): switches ``aem_run`` and ``w_run`` (0 or 1) and the numbers of
    1/alpha(L) = aem_A - aem_b L + sum_i aem_c_i max(0, aem_L_i - L), L = ln(Q^2/GeV^2).

    The running parameters are filled whatever the switch, so every term stays finite and the
    fixed convention gives exactly the fixed-coupling numbers (0 times a finite number)."""
    steps, b = _pythia8_steps(sm.alpha_0, sm.alpha_mZ)
    logs = [math.log(q) for q in PYTHIA8_Q2STEP]
    out = {"aem_run": 1.0 if sm.alpha_running == "pythia8" else 0.0, "aem_ref": sm.alpha,
           "aem_A": 1.0 / steps[4] + b[4] * logs[4], "aem_b": b[4],
           "w_run": 1.0 if sm.width_running else 0.0}
    slopes_below = [0.0] + b[:4]  # slope of 1/alpha below threshold i is -b_{i-1} (0 below the electron)
    for i in range(5):
        out[f"aem_c{i}"] = slopes_below[i] - b[i]
        out[f"aem_L{i}"] = logs[i]
    return out


class log(sp.log):  # noqa: N801 - printers find functions by class name, so it must be called "log"
    """Natural logarithm, printed as ``np.log`` in the compiled kernels of theory.processes._compile
    (their generated code has numpy as ``np`` but no bare ``log``) and as sympy.log by every other
    printer (numpy/mpmath lambdify, the torch path). Mathematically sympy.log."""

    def _pythoncode(self, printer: Any) -> str:
        if type(printer).__module__ == "theory.processes._compile":
            return f"np.log({printer._print(self.args[0])})"
        return printer._print_log(self)


_log = log
del log


def alpha_em_ratio_symbolic(s: sp.Expr) -> sp.Expr:
    """alpha_em(s)/alpha_ref as a SymPy expression of s (GeV^2) and the couplings of
    ``running_couplings``: 1 when ``aem_run = 0``, Pythia 8's running alpha(s) over the scheme's
    alpha (``aem_ref``) when ``aem_run = 1``. max(0, y) is written (y + |y|)/2, exact zero above
    a threshold."""
    c = {name: sp.Symbol(name, real=True) for name in ("aem_run", "aem_ref", "aem_A", "aem_b")}
    L = _log(s)
    inverse = c["aem_A"] - c["aem_b"] * L
    for i in range(5):
        y = sp.Symbol(f"aem_L{i}", real=True) - L
        inverse += sp.Symbol(f"aem_c{i}", real=True) * (y + sp.Abs(y)) / 2
    return (1 - c["aem_run"]) + c["aem_run"] / (c["aem_ref"] * inverse)


def breit_wigner_width_symbolic(s: sp.Expr, mass: sp.Symbol, width: sp.Symbol) -> sp.Expr:
    """The width term of an s-channel propagator 1/(s - m^2 + i W): W = m Gamma (``w_run = 0``) or
    the s-dependent s Gamma/m (``w_run = 1``)."""
    w_run = sp.Symbol("w_run", real=True)
    return (1 - w_run) * mass * width + w_run * s * width / mass


# ------------------------------------------------------------------------------------------------ alpha_s
def alpha_s_running(Q, alpha_s_mZ: float, mZ: float = 91.1876, order: int = 0, nf: int = 5):
    """Running alpha_s at one (order=0) or two loops (order=1) with fixed nf.

    LO: alpha_s(Q) = a / (1 + b0 a L), L = ln(Q^2/mZ^2), b0 = (33 - 2 nf)/(12 pi).
    NLO: the exact two-loop solution is found by Newton iteration of the implicit
    equation 1/a(Q) - 1/a0 + b1/b0 ln[(a(Q)(1 + b1/b0 a0)) / (a0 (1 + b1/b0 a(Q)))] = b0 L,
    with b1 = (153 - 19 nf)/(24 pi^2).
    """
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


# ------------------------------------------------------------------------------------------------ presets
def _madgraph_mw(alpha: float, GF: float, mZ: float) -> float:
    """MadGraph sm model's derived W mass: sqrt(m_Z^2/2 + sqrt(m_Z^4/4 - pi alpha m_Z^2/(sqrt(2) G_F)))."""
    return math.sqrt(mZ**2 / 2.0 + math.sqrt(mZ**4 / 4.0 - math.pi * alpha * mZ**2 / (math.sqrt(2.0) * GF)))


SM = SMInputs()

# Pythia 8.317 defaults (share/Pythia8/xmldoc: StandardModelParameters.xml, ParticleData.xml,
# CouplingsAndScales.xml). Pythia recomputes the Z, W and H total widths from its partial widths at
# initialisation (doForceWidth off); the widths below are those values, read back from Pythia 8.317
# after init with default settings (tests/theory/test_sm_presets.py re-reads them when pythia8mc is
# installed). docs/conventions.md lists each with its setting name.
PYTHIA8 = SMInputs(
    GF=1.16637e-5, mZ=91.1876, mW=80.385, mH=125.0, mt=173.0,
    wZ=2.5041895850769285, wW=2.0922939256110316, wH=0.004083428388965407,
    alpha_s_mZ=0.13, nf=5, scheme="alphaMZ", alpha_0=0.00729735, alpha_mZ=0.00781751,
    alpha_running="pythia8", width_running=True, sw2_fixed=0.2312, sw2_eff=0.2315,
)

# MadGraph5_aMC@NLO, model "sm" (restrict_default.dat): SMINPUTS aEWM1 = 132.507, Gf = 1.16639e-5,
# aS = 0.118; MZ = 91.188, MH = 125, MT = 173; WZ = 2.441404, WW = 2.0476, WH = 6.382339e-3; MW derived
# from (alpha, G_F, m_Z) as in the model's parameters.py; fixed widths, fixed alpha, one s_W^2.
_MG_ALPHA, _MG_GF, _MG_MZ = 1.0 / 132.507, 1.16639e-5, 91.188
MADGRAPH_SM = SMInputs(
    GF=_MG_GF, mZ=_MG_MZ, mW=_madgraph_mw(_MG_ALPHA, _MG_GF, _MG_MZ), mH=125.0, mt=173.0,
    wZ=2.441404, wW=2.0476, wH=6.382339e-3, alpha_s_mZ=0.118, nf=5,
    scheme="alphaMZ", alpha_mZ=_MG_ALPHA, alpha_running="fixed", width_running=False,
)
