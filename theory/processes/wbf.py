"""Weak-boson fusion q q -> q q H with CP-even and CP-odd dimension-6 HVV operators.

Lagrangian (Warsaw basis, canonically normalised fields, Lambda = 1 TeV):

    L = L_SM + cHW/Lambda^2 (H^dag H) W^I_{mu nu} W^{I mu nu}
             + cHWtil/Lambda^2 (H^dag H) Wtilde^I_{mu nu} W^{I mu nu},
    Wtilde_{mu nu} = 1/2 epsilon_{mu nu rho sigma} W^{rho sigma},  epsilon^{0123} = +1.

With H^dag H -> (v + h)^2/2 and W^3 = c_W Z + s_W A the operators give, for two incoming
bosons V1(k1, index alpha), V2(k2, index beta) (momenta flowing into the vertex):

    i Gamma^{alpha beta} = i [ g_SM^{V1V2} g^{ab}
                               - 4 (v/Lambda^2) kappa^{V1V2} cHW    (k1.k2 g^{ab} - k2^a k1^b)
                               - 4 (v/Lambda^2) kappa^{V1V2} cHWtil  eps^{rho a sigma b} k1_rho k2_sigma ]

with g_SM^{WW} = g m_W, g_SM^{ZZ} = g m_Z/c_W (none for Z gamma, gamma gamma) and
kappa^{WW} = 1, kappa^{ZZ} = c_W^2, kappa^{Z gamma} = s_W c_W, kappa^{gamma gamma} = s_W^2.
(From h W+_{mu nu} W-^{mu nu} with coefficient 2 c v/Lambda^2; identical Z or photon fields
give the same factor through the symmetry factor 2.) The operators' shift of the gauge
kinetic terms is absorbed in the canonical normalisation and the input scheme, so the SM-like
g^{mu nu} coupling is unchanged. Since the photon couples through c_HW, neutral-current fusion
includes Z Z, Z gamma, gamma Z and gamma gamma exchange; W fusion only W W.

t-channel approximation, as in VBF programs (e.g. VBFNLO, Pythia's HiggsSM:ff2Hff): each
quark line emits one boson, line a -> 1 and line b -> 2; s-channel (Higgsstrahlung-like)
diagrams and the interference between the two assignments for identical quarks are dropped
(colour- and kinematically suppressed). Spin-summed fermion lines are Dirac traces derived
by SymPy per chirality (theory.dirac); colour: singlet exchange gives a factor 9/9 = 1.
CKM: diagonal (u<->d, c<->s); with massless quarks and a unitary CKM this equals the full
sum over final flavours, except for b lines, which are dropped from W fusion (b -> t closed).

Momenta: pa, pb incoming partons; p1, p2 outgoing partons from lines a and b; pH.

References: Hankele, Klamke, Zeppenfeld, Figy, hep-ph/0609075; Brehmer, Kling, Plehn, Tait,
arXiv:1712.02350; Grzadkowski et al. (Warsaw basis) arXiv:1008.4884; SMEFTsim, arXiv:2012.11343.
"""

from __future__ import annotations

import math
from functools import cached_property
from itertools import product

import numpy as np
import sympy as sp

from theory.cuts import Cuts
from theory.dirac import METRIC, current_tensor, levi_civita_upper
from theory.kinematics import minkowski, pt
from theory.observables import wbf_observables
from theory.processes.base import Channel, PhaseSpaceHint, Process

__all__ = ["WBF"]

LAMBDA = 1000.0  # GeV: Wilson coefficients are c/Lambda^2 in TeV^-2

# (charge, weak isospin T3) of quark flavours 1..5
_QUARKS = {1: (-1 / 3, -0.5), 2: (2 / 3, 0.5), 3: (-1 / 3, -0.5), 4: (2 / 3, 0.5), 5: (-1 / 3, -0.5)}
_W_PARTNER = {1: 2, 2: 1, 3: 4, 4: 3}  # diagonal CKM
_BOSONS = ("W", "Z", "A")
# Boson pairs that meet at the HVV vertex, with (SM coupling name, kappa name)
_PAIRS = {("W", "W"): ("gWW", "kWW"), ("Z", "Z"): ("gZZ", "kZZ"), ("Z", "A"): (None, "kZA"),
          ("A", "Z"): (None, "kZA"), ("A", "A"): (None, "kAA")}


def _sym(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def _contract(L1: sp.Matrix, L2: sp.Matrix, X: sp.Matrix, Y: sp.Matrix) -> sp.Expr:
    """sum L1^{mu mu'} L2^{nu nu'} X_{mu nu} Y_{mu' nu'} for real line tensors L1, L2."""
    core = L1.T * X * L2
    return sum(core[i, j] * Y[i, j] for i in range(4) for j in range(4))


def line_parts(p_in: list, p_out: list) -> tuple[sp.Matrix, sp.Matrix]:
    """(S, A): real and imaginary parts of the left-handed quark line tensor Tr[p_out g p_in g P_L].
    The Dirac traces are polynomials with Gaussian-integer coefficients, so the parts separate
    exactly. The right-handed projector and charge conjugation (an antiquark line, in <-> out) each
    flip the sign of the Levi-Civita part A and leave S alone (tests/theory/test_wbf.py)."""
    q = current_tensor(p_out, p_in, "L")
    parts = [[q[i, j].as_real_imag() for j in range(4)] for i in range(4)]
    return sp.Matrix(4, 4, lambda i, j: parts[i][j][0]), sp.Matrix(4, 4, lambda i, j: parts[i][j][1])


class WBF(Process):
    """p p -> j j H through W and Z (and photon) fusion, with cHW and cHWtil."""

    name = "wbf"
    description = "weak-boson fusion q q -> q q H, t-channel approximation, CP-even cHW and CP-odd cHWtil"
    coefficients = ("cHW", "cHWtil")
    labels = ("pa", "pb", "p1", "p2", "pH")
    unlabelled_jets = (2, 3)
    max_degree = 2
    collider = "pp"
    references = ("hep-ph/0609075", "arXiv:1712.02350", "arXiv:1008.4884", "arXiv:2012.11343")

    default_cuts = Cuts(pt_min=20.0, abs_eta_max=5.0)
    visible_particles = (2, 3)  # the two jets; the Higgs decays (detector level)
    # jet p_T (as p_T/m_H), pseudorapidities, the signed azimuthal angle and the Higgs rapidity fix
    # the unlabelled event up to a rotation about the beam
    features = ("x_p1", "x_p2", "eta_j1", "eta_j2", "sin_delta_phi_jj", "cos_delta_phi_jj", "y_h")

    @property
    def phase_space(self) -> PhaseSpaceHint:  # type: ignore[override]
        return PhaseSpaceHint("2to3_tchannel", masses=(0.0, 0.0, self.sm.mH), tchannel_mass=self.sm.mW)

    def observables(self, p: np.ndarray) -> dict[str, np.ndarray]:
        """Jet-pair observables, x_p = pT/m_H, Higgs pT and rapidity, m_jjH and the Lorentz
        invariants of the CP-odd score (``theory.observables.wbf_observables``)."""
        return wbf_observables(self._check_momenta(p), self.sm.mH, self.sm.mW)

    # ---------------------------------------------------------------- symbols
    def _line_couplings(self, line: int) -> dict[tuple[str, str], sp.Symbol]:
        return {(v, ch): _sym(f"G{line}{v}{ch}") for v in _BOSONS for ch in "LR"}

    def _structures(self, k1: list, k2: list) -> list[sp.Matrix]:
        """Lorentz structures of the HVV vertex, lower indices: g, (k1.k2 g - k2 k1), eps(k1, ., k2, .)."""
        g = METRIC  # g_{mu nu} = diag(1, -1, -1, -1)
        k1l = [k1[0], -k1[1], -k1[2], -k1[3]]
        k2l = [k2[0], -k2[1], -k2[2], -k2[3]]
        k12 = minkowski(k1, k2)
        even = sp.Matrix(4, 4, lambda a, b: k12 * g[a, b] - k2l[a] * k1l[b])
        # eps_{rho alpha sigma beta} k1^rho k2^sigma; eps_{...} = -eps^{...} since det g = -1
        odd = sp.zeros(4)
        for (r, a, s, b), sign in levi_civita_upper().items():
            odd[a, b] += -sign * k1[r] * k2[s]
        return [g, even, odd]

    def _pair_constants(self, pair: tuple[str, str]) -> list[sp.Expr]:
        """Constants multiplying the structures for a boson pair: SM, cHW, cHWtil."""
        sm_name, kappa_name = _PAIRS[pair]
        sm_const = _sym(sm_name) if sm_name else sp.Integer(0)
        dim6 = -4 * _sym("vev") / LAMBDA**2 * _sym(kappa_name)
        return [sm_const, dim6, dim6]

    def _propagator(self, boson: str, q2: sp.Expr) -> sp.Expr:
        # Feynman gauge, q^mu q^nu terms vanish against massless conserved currents;
        # t-channel virtualities are space-like, so no width is needed.
        mass2 = {"W": _sym("mW") ** 2, "Z": _sym("mZ") ** 2, "A": 0}[boson]
        return 1 / (q2 - mass2)

    def _build_components(self) -> list[sp.Expr]:
        """|M|^2 = 1/4 sum over chiralities (c1, c2) and structures a, b of T_a T_b K_ab(c1, c2), with
        K_ab = Re L1 L2 Gamma_a Gamma_b* the kinematic contraction of the vertex structures and T_a the
        amplitude coefficient of structure a (couplings x propagators x vertex constants, summed over
        boson pairs).

        The line tensors are L = S + i eta A with (S, A) those of a left-handed quark line and
        eta = chi sigma: chi = +1 (L) or -1 (R), sigma = +1 (quark) or -1 (antiquark, the symbol
        quark_a or quark_b set to 0). So K_ab = KS_ab - eta1 eta2 KA_ab, and
            |M|^2_ab = 1/4 f_ab [KS_ab sum_{c1 c2} T_a T_b - sigma1 sigma2 KA_ab sum_{c1 c2} chi1 chi2 T_a T_b]
        (f_ab = 1 for a = b, else 2): twelve contractions serve every chirality and every channel."""
        pa, pb, p1, p2, _ = (list(self.momenta[label]) for label in self.labels)
        k1 = [pa[i] - p1[i] for i in range(4)]
        k2 = [pb[i] - p2[i] for i in range(4)]
        q1sq, q2sq = minkowski(k1, k1), minkowski(k2, k2)
        G1, G2 = self._line_couplings(1), self._line_couplings(2)
        sigma1, sigma2 = 2 * _sym("quark_a") - 1, 2 * _sym("quark_b") - 1
        structures = self._structures(k1, k2)
        S1, A1 = line_parts(pa, p1)
        S2, A2 = line_parts(pb, p2)
        pairs = [(a, b) for a in range(3) for b in range(a, 3)]
        KS = {(a, b): _contract(S1, S2, structures[a], structures[b]) for a, b in pairs}
        KA = {(a, b): _contract(A1, A2, structures[a], structures[b]) for a, b in pairs}

        chi = {"L": 1, "R": -1}
        TT = {ab: sp.Integer(0) for ab in pairs}
        TT_chi = {ab: sp.Integer(0) for ab in pairs}
        for c1, c2 in product("LR", repeat=2):
            T = [sum(G1[(P[0], c1)] * G2[(P[1], c2)] * self._propagator(P[0], q1sq) * self._propagator(P[1], q2sq)
                     * self._pair_constants(P)[a] for P in _PAIRS) for a in range(3)]
            for a, b in pairs:
                TT[(a, b)] += T[a] * T[b]
                TT_chi[(a, b)] += chi[c1] * chi[c2] * T[a] * T[b]

        out = []
        for k in self.powers.tolist():
            # structure indices: SM (0, 0); linear in theta_i (0, i); quadratic (i, j)
            a, b = ([0, 0] + [i + 1 for i, e in enumerate(k) for _ in range(e)])[-2:]
            # linear and mixed quadratic terms appear twice in |sum_c theta_c T_c|^2
            f = 1 if a == b else 2
            # average over the 4 initial helicity states; colour: 9 / 9 = 1
            out.append(f * (KS[(a, b)] * TT[(a, b)] - sigma1 * sigma2 * KA[(a, b)] * TT_chi[(a, b)]) / 4)
        return out

    # ---------------------------------------------------------------- channels
    def _coupling_values(self) -> dict[str, float]:
        """Couplings common to every channel, from the process's SMInputs (its input scheme and
        s_W^2; the t-channel propagators carry no width, so ``width_running`` does not enter)."""
        sm = self.sm
        if sm.alpha_running != "fixed":
            from theory.errors import InvalidParameterError

            raise InvalidParameterError(
                f"WBF takes a fixed alpha_em, but the SM inputs ask for alpha_running={sm.alpha_running!r}: its "
                "amplitude has no per-event alpha_em (a running alpha at Pythia's VBF renormalisation scale would "
                "have to enter the SymPy expressions). Use sm.with_(alpha_running='fixed') (alpha_em = sm.alpha, e.g. "
                "alpha_mZ in the alphaMZ scheme), and Pythia's SigmaProcess:alphaEMorder = -1 to compare."
            )
        sw, cw = math.sqrt(sm.sw2), math.sqrt(sm.cw2)
        return {
            "gWW": sm.g * sm.mW,
            "gZZ": sm.g * sm.mZ / cw,
            "kWW": 1.0,
            "kZZ": sm.cw2,
            "kZA": sw * cw,
            "kAA": sm.sw2,
            "vev": 2.0 * sm.mW / sm.g,
            "mW": sm.mW,
            "mZ": sm.mZ,
        }

    def _line(self, line: int, flavour: int, current: str) -> dict[str, float]:
        """Chiral couplings of one quark line (flavour > 0 quark, < 0 antiquark) to W, Z, A: g/sqrt(2),
        g_Z (T3 - Q s^2), -g_Z Q s^2, e Q, with s^2 = sin^2 theta_eff when the SM inputs set one."""
        sm = self.sm
        q, t3 = _QUARKS[abs(flavour)]
        gz = sm.g / math.sqrt(sm.cw2)
        s2 = sm.sw2_vector
        out = {f"G{line}{v}{c}": 0.0 for v in _BOSONS for c in "LR"}
        if current == "W":
            out[f"G{line}WL"] = sm.g / math.sqrt(2.0)
        else:
            out[f"G{line}ZL"] = gz * (t3 - q * s2)
            out[f"G{line}ZR"] = gz * (-q * s2)
            out[f"G{line}AL"] = sm.e * q
            out[f"G{line}AR"] = sm.e * q
        return out

    @cached_property
    def channels(self) -> tuple[Channel, ...]:
        partons = [f for f in range(1, 6)] + [-f for f in range(1, 6)]
        base = self._coupling_values()
        out = []
        for a, b in product(partons, repeat=2):
            for current in ("Z", "W"):
                if current == "W":
                    if abs(a) == 5 or abs(b) == 5:
                        continue
                    fa, fb = _W_PARTNER[abs(a)] * np.sign(a), _W_PARTNER[abs(b)] * np.sign(b)
                    # charge flow: line a emits W+- and line b must emit the opposite charge
                    dqa = _QUARKS[abs(fa)][0] * np.sign(a) - _QUARKS[abs(a)][0] * np.sign(a)
                    dqb = _QUARKS[abs(fb)][0] * np.sign(b) - _QUARKS[abs(b)][0] * np.sign(b)
                    if not math.isclose(dqa + dqb, 0.0, abs_tol=1e-9):
                        continue
                    outgoing = (int(fa), int(fb), 25)
                else:
                    outgoing = (a, b, 25)
                couplings = dict(base)
                couplings.update(self._line(1, a, current))
                couplings.update(self._line(2, b, current))
                couplings["quark_a"] = 1.0 if a > 0 else 0.0
                couplings["quark_b"] = 1.0 if b > 0 else 0.0
                out.append(Channel(name=f"{a}_{b}_{current}{current}", incoming=(a, b), outgoing=outgoing, couplings=couplings))
        return tuple(out)

    # ---------------------------------------------------------------- scale
    def scale(self, p: np.ndarray) -> np.ndarray:
        """Geometric mean of the two propagator virtuality estimates (Pythia's default 2 for VBF):
        mu^2 = sqrt((m_W^2 + pT1^2)(m_W^2 + pT2^2)), with m_W for both W and Z fusion."""
        m2 = self.sm.mW**2
        return ((m2 + pt(p[:, 2]) ** 2) * (m2 + pt(p[:, 3]) ** 2)) ** 0.25
