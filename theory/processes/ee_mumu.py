"""e+ e- -> mu+ mu- through s-channel gamma and Z, with four-lepton contact operators.

Momenta (incoming flow in): ``pa`` = e- (incoming), ``pb`` = e+ (incoming),
``p1`` = mu- (outgoing), ``p2`` = mu+ (outgoing). Leptons are massless.

How |M|^2 is built (SymPy, nothing typed):

* Every contribution is written as the coefficient ``A_ij(s)`` of the effective
  four-fermion interaction ``(ebar gamma^mu P_i e)(mubar gamma_mu P_j mu)`` (i, j = L, R),
  so the amplitude is ``M = sum_ij A_ij [vbar(pb) gamma^mu P_i u(pa)][ubar(p1) gamma_mu P_j v(p2)]``.
* Spin sums are explicit Dirac traces (``theory.dirac.current_tensor``), one per chirality:
  ``T_ij = Tr[pb gamma^mu pa gamma^a P_i] Tr[p1 gamma_mu p2 gamma_a P_j]``. Different
  chiralities on one massless line do not interfere (P_i pslash gamma^a P_k = pslash gamma^a P_i P_k = 0
  for i != k), so ``sum|M|^2 = sum_ij |A_ij|^2 T_ij`` exactly; SymPy finds
  ``T_LL = T_RR = 4 u^2`` and ``T_LR = T_RL = 4 t^2`` (t = (pa - p1)^2, u = (pa - p2)^2).
* ``A_ij`` as a polynomial in the Wilson coefficients theta is expanded by SymPy and
  the coefficient of each monomial becomes a morphing component.

Feynman rules and signs (metric +---). With ``L_int = -e Q_f psibar gamma psi A
- (g/c_W) psibar gamma (g_L P_L + g_R P_R) psi Z``, ``g_L = T3 - Q s_W^2``, ``g_R = -Q s_W^2``,
tree-level exchange in the s-channel is equivalent to the effective Lagrangian

    L_eff = A_ij (ebar gamma^mu P_i e)(mubar gamma_mu P_j mu),
    A_ij^SM = R(s) [e^2 Q_e Q_mu / s + g_Z^2 g_i^e g_j^mu / (s - m_Z^2 + i W(s))],  g_Z^2 = e^2/(s_W^2 c_W^2),

with the electroweak conventions of ``theory.sm`` (all numbers are channel couplings):
R(s) = alpha_em(s)/alpha, 1 for a fixed alpha_em (``aem_run = 0``) and Pythia 8's running for
``aem_run = 1`` (``theory.sm.alpha_em_ratio_symbolic``); W(s) = m_Z Gamma_Z (fixed width) or
s Gamma_Z/m_Z (running width, ``w_run = 1``); s_W^2 of g_Z^2 from the scheme (or ``sw2_fixed``) and
the s^2 in g_L, g_R from ``sw2_eff`` when set. A contact term ``L = (c/Lambda^2) O`` simply
adds ``c/Lambda^2`` to the matching ``A_ij``. Operators (Warsaw basis, Lambda = 1 TeV,
theta = c in TeV^-2, converted with 1e-6 GeV^-2; each operator written once, no flavour-
transposed copy):

* ``c_ll``: O_ll^{1122} = (lbar_1 gamma^mu l_1)(lbar_2 gamma_mu l_2)       -> A_LL += c_ll/Lambda^2
* ``c_ee``: O_ee^{1122} = (ebar_1 gamma^mu e_1)(ebar_2 gamma_mu e_2)       -> A_RR += c_ee/Lambda^2
* ``c_le``: O_le^{1122} + O_le^{2211} = (lbar_1 gamma l_1)(ebar_2 gamma e_2) + (lbar_2 gamma l_2)(ebar_1 gamma e_1)
  -> A_LR += c_le/Lambda^2 and A_RL += c_le/Lambda^2

With these signs a positive coefficient interferes *constructively* with the SM at
sqrt(s) >> m_Z (there A_LL^SM, A_RR^SM, A_LR^SM > 0 for like-charged leptons); the
interference relative to the SM grows like s.

Electroweak inputs come from the process's ``SMInputs`` (``theory.sm.SM``, the G_mu scheme, by
default; ``with_sm`` for another scheme or preset) and travel as channel couplings (``e2``,
``gz2``, ``mZ``, ``wZ``, charges and Z couplings, the running switches and parameters), so a test
or a user can switch the Z off by passing a channel with ``gz2 = 0``.

References: Eichten, Lane, Peskin, Phys. Rev. Lett. 50 (1983) 811 (contact terms);
Grzadkowski, Iskrzynski, Misiak, Rosiek, arXiv:1008.4884 (Warsaw basis);
docs/notes/physics.md §3.1 (A0/A1 textbook form used in the tests).
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar, Mapping, Sequence

import numpy as np
import sympy as sp

from theory.dirac import contract, current_tensor
from theory.observables import pair_observables
from theory.processes.base import Channel, PhaseSpaceHint, Process
from theory.sm import SMInputs, alpha_em_ratio_symbolic, breit_wigner_width_symbolic, running_couplings

__all__ = ["EEMuMu", "channel_without_z", "chiral_traces", "contact_components", "electroweak_couplings"]

CHIRALITIES = ("L", "R")
GEV2_PER_TEV2 = sp.Rational(1, 10**6)  # theta is c/Lambda^2 in TeV^-2; amplitudes need GeV^-2


def _dot(a: Sequence[sp.Expr], b: Sequence[sp.Expr]) -> sp.Expr:
    return a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3]


def chiral_traces(
    f_in: Sequence[sp.Expr], fbar_in: Sequence[sp.Expr], f_out: Sequence[sp.Expr], fbar_out: Sequence[sp.Expr]
) -> dict[tuple[str, str], sp.Expr]:
    """Spin sums T_ij of |[vbar(fbar_in) gamma^mu P_i u(f_in)][ubar(f_out) gamma_mu P_j v(fbar_out)]|^2.

    Derived from explicit Dirac traces (massless: u ubar = v vbar = pslash), then factorised.
    """
    line_in = {c: current_tensor(fbar_in, f_in, c) for c in CHIRALITIES}
    line_out = {c: current_tensor(f_out, fbar_out, c) for c in CHIRALITIES}
    return {(i, j): sp.factor(contract(line_in[i], line_out[j])) for i in CHIRALITIES for j in CHIRALITIES}


def contact_components(
    powers: np.ndarray,
    theta: Sequence[sp.Symbol],
    traces: Mapping[tuple[str, str], sp.Expr],
    sm_real: Mapping[tuple[str, str], sp.Expr],
    sm_imag: Mapping[tuple[str, str], sp.Expr],
    contact: Mapping[tuple[str, str], sp.Expr],
    average: sp.Expr,
) -> list[sp.Expr]:
    """Morphing components of average * sum_ij T_ij |R_ij + i I_ij + C_ij(theta)|^2.

    ``contact[ij]`` is linear in theta (already in GeV^-2). SymPy expands the modulus
    squared in theta using placeholder symbols for R, I and the operator weights, so the
    momentum-dependent pieces stay factorised (good for ``lambdify(cse=True)``).
    """
    R, Im = sp.Symbol("R_", real=True), sp.Symbol("I_", real=True)
    out = [sp.Integer(0)] * len(powers)
    for ij, trace in traces.items():
        c_expr = sp.expand(contact.get(ij, sp.Integer(0)))
        weights = [sp.Symbol(f"x{k}_", real=True) for k in range(len(theta))]
        placeholder_c = sum((w * t for w, t in zip(weights, theta)), sp.Integer(0))
        poly = sp.Poly(sp.expand((R + placeholder_c) ** 2 + Im**2), *theta) if theta else None
        subs = {R: sm_real[ij], Im: sm_imag[ij]}
        subs.update({w: c_expr.coeff(t) for w, t in zip(weights, theta)})
        for row, k in enumerate(powers):
            if theta:
                coeff = poly.coeff_monomial(tuple(int(e) for e in k))
            else:
                coeff = R**2 + Im**2
            coeff = coeff.subs(subs)
            if coeff != 0:
                out[row] = out[row] + average * trace * coeff
    return out


def electroweak_couplings(sm: SMInputs, prefix: str, charge: float, t3: float) -> dict[str, float]:
    """Charge and Z couplings g_L = T3 - Q s^2, g_R = -Q s^2 of one fermion, keyed by prefix, with
    s^2 = ``sm.sw2_vector`` (sin^2 theta_eff when the inputs set one, else the scheme's s_W^2)."""
    s2 = sm.sw2_vector
    return {f"Q{prefix}": charge, f"gL{prefix}": t3 - charge * s2, f"gR{prefix}": -charge * s2}


def boson_couplings(sm: SMInputs) -> dict[str, float]:
    """e^2, g_Z^2 = e^2/(s_W^2 c_W^2), m_Z, Gamma_Z and the running-alpha and running-width
    couplings (``theory.sm.running_couplings``) of the given inputs."""
    return {"e2": sm.e**2, "gz2": sm.e**2 / (sm.sw2 * sm.cw2), "mZ": sm.mZ, "wZ": sm.wZ, **running_couplings(sm)}


def sm_coefficients(s: sp.Expr, f1: str, f2: str) -> tuple[dict, dict]:
    """Real and imaginary parts of A_ij^SM(s) for fermions with coupling prefixes f1, f2:
    R(s) [e^2 Q1 Q2/s + g_Z^2 g_i g_j (s - m_Z^2 - i W(s)) / ((s - m_Z^2)^2 + W(s)^2)]."""
    e2, gz2, mZ, wZ = sp.symbols("e2 gz2 mZ wZ", real=True)
    q1, q2 = sp.Symbol(f"Q{f1}", real=True), sp.Symbol(f"Q{f2}", real=True)
    ratio = alpha_em_ratio_symbolic(s)
    width = breit_wigner_width_symbolic(s, mZ, wZ)
    den = (s - mZ**2) ** 2 + width**2
    real, imag = {}, {}
    for i in CHIRALITIES:
        for j in CHIRALITIES:
            gz = gz2 * sp.Symbol(f"g{i}{f1}", real=True) * sp.Symbol(f"g{j}{f2}", real=True)
            real[(i, j)] = ratio * (e2 * q1 * q2 / s + gz * (s - mZ**2) / den)
            imag[(i, j)] = -ratio * gz * width / den
    return real, imag


class EEMuMu(Process):
    """e+ e- -> mu+ mu- (gamma + Z, s-channel) with the contact operators c_ll, c_ee, c_le.

    Labels: pa = e- (in), pb = e+ (in), p1 = mu- (out), p2 = mu+ (out).
    Components: spin-averaged (1/4) |M|^2 per monomial of (c_ll, c_ee, c_le), degree <= 2.
    Scale: sqrt(s).
    """

    name = "ee_mumu"
    description = "e+ e- -> mu+ mu- via gamma/Z with four-lepton contact operators O_ll, O_ee, O_le"
    coefficients = ("c_ll", "c_ee", "c_le")
    labels = ("pa", "pb", "p1", "p2")
    max_degree = 2
    collider = "ee"
    references = ("Eichten-Lane-Peskin PRL 50 (1983) 811", "arXiv:1008.4884")

    # (chirality of the e line, chirality of the mu line) each operator feeds, with its weight
    operator_chiralities: ClassVar[dict[str, tuple[tuple[str, str], ...]]] = {
        "c_ll": (("L", "L"),),
        "c_ee": (("R", "R"),),
        "c_le": (("L", "R"), ("R", "L")),
    }

    observable_prefix = "l"
    features = ("cos_theta",)

    def observables(self, p: np.ndarray) -> dict[str, np.ndarray]:
        """Muon-pair observables and cos θ of the μ⁻ with respect to the e⁻ beam (+z)."""
        p = self._check_momenta(p)
        mu = p[:, 2]
        return pair_observables(p[:, 2], p[:, 3], "l") | {"cos_theta": mu[:, 3] / np.linalg.norm(mu[:, 1:], axis=1)}

    @property
    def phase_space(self) -> PhaseSpaceHint:  # type: ignore[override]
        return PhaseSpaceHint("2to2", masses=(0.0, 0.0), resonance=(self.sm.mZ, self.sm.wZ))

    @property
    def channels(self) -> tuple[Channel, ...]:
        return (self.make_channel(self.sm),)

    @staticmethod
    def make_channel(sm: SMInputs) -> Channel:
        """The e- e+ -> mu- mu+ channel with couplings from other SM inputs (no rebuild needed)."""
        couplings = {**boson_couplings(sm)}
        couplings.update(electroweak_couplings(sm, "e", -1.0, -0.5))
        couplings.update(electroweak_couplings(sm, "m", -1.0, -0.5))
        return Channel("e-e+_mu-mu+", (11, -11), (13, -13), couplings, 1.0)

    def _build_components(self) -> list[sp.Expr]:
        pa, pb, p1, p2 = (self.momenta[k] for k in self.labels)
        traces = chiral_traces(pa, pb, p1, p2)
        s = 2 * _dot(pa, pb)
        real, imag = sm_coefficients(s, "e", "m")
        contact: dict[tuple[str, str], sp.Expr] = {}
        for theta, name in zip(self.theta_symbols, self.coefficients):
            for ij in self.operator_chiralities[name]:
                contact[ij] = contact.get(ij, sp.Integer(0)) + GEV2_PER_TEV2 * theta
        return contact_components(self.powers, self.theta_symbols, traces, real, imag, contact, sp.Rational(1, 4))

    def scale(self, p: np.ndarray) -> np.ndarray:
        p = self._check_momenta(p)
        q = p[:, 0] + p[:, 1]
        return np.sqrt(np.maximum(q[:, 0] ** 2 - np.sum(q[:, 1:] ** 2, axis=-1), 0.0))


def channel_without_z(channel: Channel) -> Channel:
    """A copy of ``channel`` with the Z exchange switched off (g_Z^2 = 0): pure QED."""
    return replace(channel, couplings={**channel.couplings, "gz2": 0.0})
