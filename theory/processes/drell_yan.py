"""Drell-Yan p p -> e+ e- (q qbar -> gamma/Z -> e+ e-) with SMEFT two-lepton-two-quark operators.

Momenta (incoming flow in): ``pa`` = parton from beam a (+z), ``pb`` = parton from beam b,
``p1`` = e- (outgoing), ``p2`` = e+ (outgoing). Massless fermions. Channels ``q qbar`` have
the quark in beam a, ``qbar q`` in beam b; the couplings ``qa`` / ``qb`` (1 or 0) say which,
and the expression is ``qa * E(q = pa) + qb * E(q = pb)`` (shared pieces are common
sub-expressions). The amplitude for muons is the same (lepton masses neglected).

Construction is the one of ``theory.processes.ee_mumu`` (read its docstring for the Feynman
rules and signs): the effective coefficient of ``(ebar gamma^mu P_i e)(qbar gamma_mu P_j q)``,

    A_ij = R(s) [e^2 Q_e Q_q / s + g_Z^2 g_i^e g_j^q / (s - m_Z^2 + i W(s))] + sum_k theta_k w_k,ij / Lambda^2,

explicit Dirac traces per chirality, spin average 1/4 and colour average
1/N_c^2 * N_c = 1/3, i.e. ``sum|M|^2/12`` of the colour- and spin-summed square. The electroweak
conventions (input scheme, running alpha_em R(s), fixed or running Z width W(s), separate s_W^2 of
the Z normalisation and sin^2 theta_eff of the vector couplings) are those of the process's
``SMInputs``; ``DrellYan().with_sm(SMInputs.preset("pythia8"))`` reproduces Pythia 8's
``WeakSingleBoson:ffbar2gmZ`` (docs/conventions.md).

Operators (Warsaw basis, L = sum_k (c_k/Lambda^2) O_k, Lambda = 1 TeV, flavour-universal in
the quarks, lepton flavour = the final-state lepton; theta_k = c_k in TeV^-2). Neutral-current
weights w_k,ij for i = lepton chirality, j = quark chirality:

* ``c_lq1``  O_lq^(1) = (lbar gamma^mu l)(qbar gamma_mu q):                 LL, u: +1, d: +1
* ``c_lq3``  O_lq^(3) = (lbar gamma^mu tau^I l)(qbar gamma_mu tau^I q):     LL, u: -1, d: +1
  (the tau^3 tau^3 piece; (2 T3_e)(2 T3_q))
* ``c_eu``   O_eu = (ebar gamma^mu e)(ubar gamma_mu u):                      RR, u only
* ``c_ed``   O_ed = (ebar gamma^mu e)(dbar gamma_mu d):                      RR, d only
* ``c_lu``   O_lu = (lbar gamma^mu l)(ubar gamma_mu u):                      LR, u only
* ``c_ld``   O_ld = (lbar gamma^mu l)(dbar gamma_mu d):                      LR, d only
* ``c_qe``   O_qe = (qbar gamma^mu q)(ebar gamma_mu e):                      RL (lepton R, quark L), u and d

``drell_yan`` uses (c_lq1, c_eu) (6 components); ``drell_yan_full`` all seven (36 components).
With these signs the SM coefficient A_LL for u quarks is negative above the Z, so c_lq1 < 0
interferes constructively there (the ATLAS/CMS "eta_LL = -1 constructive" convention).

Scale: the dilepton invariant mass. Default generator cut: m_ll > 50 GeV (``default_cuts``); no
lepton p_T or eta cuts at generator level (those belong to the detector).

References: Grzadkowski et al., arXiv:1008.4884 (Warsaw basis); Alioli, Dekens, Girard, Mereghetti,
arXiv:1804.07407 (SMEFT in neutral-current Drell-Yan); ESW "QCD and collider physics" ch. 9.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import sympy as sp

from theory.cuts import Cuts
from theory.observables import dilepton_observables, pair_observables
from theory.processes.base import Channel, PhaseSpaceHint, Process
from theory.processes.ee_mumu import (
    GEV2_PER_TEV2,
    _dot,
    boson_couplings,
    chiral_traces,
    contact_components,
    electroweak_couplings,
    sm_coefficients,
)
from theory.sm import SMInputs

__all__ = ["OPERATORS", "QUARKS", "DrellYan", "DrellYanFull"]

# operator -> ((lepton chirality, quark chirality), weight for up-type, weight for down-type)
OPERATORS: Mapping[str, tuple[tuple[str, str], float, float]] = {
    "c_lq1": (("L", "L"), 1.0, 1.0),
    "c_lq3": (("L", "L"), -1.0, 1.0),
    "c_eu": (("R", "R"), 1.0, 0.0),
    "c_ed": (("R", "R"), 0.0, 1.0),
    "c_lu": (("L", "R"), 1.0, 0.0),
    "c_ld": (("L", "R"), 0.0, 1.0),
    "c_qe": (("R", "L"), 1.0, 1.0),
}

# pdg id -> (name, charge, T3)
QUARKS = {1: ("d", -1.0 / 3.0, -0.5), 2: ("u", 2.0 / 3.0, 0.5), 3: ("s", -1.0 / 3.0, -0.5),
          4: ("c", 2.0 / 3.0, 0.5), 5: ("b", -1.0 / 3.0, -0.5)}


class DrellYan(Process):
    """q qbar -> gamma/Z -> e- e+ with the operators c_lq1 and c_eu (degree 2).

    Labels: pa, pb = partons from beams a (+z) and b (-z), p1 = e-, p2 = e+.
    Channels: u ubar, d dbar, s sbar, c cbar, b bbar and the beam-swapped ones.
    """

    name = "drell_yan"
    description = "p p -> e+ e- (q qbar -> gamma/Z) with SMEFT operators O_lq^(1), O_eu"
    coefficients: tuple[str, ...] = ("c_lq1", "c_eu")
    labels = ("pa", "pb", "p1", "p2")
    max_degree = 2
    collider = "pp"
    references = ("arXiv:1008.4884", "arXiv:1804.07407")
    default_cuts = Cuts(m_min=50.0)  # m_ll > 50 GeV: the photon pole at m_ll = 0 needs a lower cut
    observable_prefix = "l"
    features = ("m_ll", "y_ll", "cos_theta_cs")  # a 2 -> 2 event up to the azimuth

    def observables(self, p: np.ndarray) -> dict[str, np.ndarray]:
        """Lepton-pair observables (p_T-ordered) plus m_ll, y_ll, p_T,ll and cos θ_CS of the e⁻."""
        p = self._check_momenta(p)
        return pair_observables(p[:, 2], p[:, 3], "l") | dilepton_observables(p[:, 2], p[:, 3])

    @property
    def phase_space(self) -> PhaseSpaceHint:  # type: ignore[override]
        return PhaseSpaceHint("2to2", masses=(0.0, 0.0), resonance=(self.sm.mZ, self.sm.wZ))

    @property
    def channels(self) -> tuple[Channel, ...]:
        return self.make_channels(self.sm)

    def make_channels(self, sm: SMInputs) -> tuple[Channel, ...]:
        """All quark channels with couplings from the given SM inputs (no rebuild needed)."""
        base = {**boson_couplings(sm), **electroweak_couplings(sm, "l", -1.0, -0.5)}
        out = []
        for pdg, (q, charge, t3) in QUARKS.items():
            up = t3 > 0
            couplings = {**base, **electroweak_couplings(sm, "q", charge, t3)}
            for op in self.coefficients:
                couplings[f"w_{op}"] = OPERATORS[op][1] if up else OPERATORS[op][2]
            out.append(Channel(f"{q}_{q}bar", (pdg, -pdg), (11, -11), {**couplings, "qa": 1.0, "qb": 0.0}))
            out.append(Channel(f"{q}bar_{q}", (-pdg, pdg), (11, -11), {**couplings, "qa": 0.0, "qb": 1.0}))
        return tuple(out)

    def _build_components(self) -> list[sp.Expr]:
        pa, pb, p1, p2 = (self.momenta[k] for k in self.labels)
        s = 2 * _dot(pa, pb)
        # couplings: i = lepton chirality (prefix l), j = quark chirality (prefix q)
        real, imag = sm_coefficients(s, "l", "q")
        contact: dict[tuple[str, str], sp.Expr] = {}
        for theta, op in zip(self.theta_symbols, self.coefficients):
            ij = OPERATORS[op][0]
            contact[ij] = contact.get(ij, sp.Integer(0)) + GEV2_PER_TEV2 * sp.Symbol(f"w_{op}", real=True) * theta
        average = sp.Rational(1, 12)  # spins 1/4, colours 1/9 * 3
        total = [sp.Integer(0)] * self.n_components
        for flag, (q, qbar) in ((sp.Symbol("qa", real=True), (pa, pb)), (sp.Symbol("qb", real=True), (pb, pa))):
            # chiral_traces keys are (incoming-line chirality, outgoing-line chirality) = (quark, lepton);
            # A_ij is keyed (lepton, quark), so transpose the keys.
            t_quark_lepton = chiral_traces(q, qbar, p1, p2)
            traces = {(i, j): t_quark_lepton[(j, i)] for (i, j) in t_quark_lepton}
            comps = contact_components(self.powers, self.theta_symbols, traces, real, imag, contact, average)
            total = [a + flag * b for a, b in zip(total, comps)]
        return total

    def scale(self, p: np.ndarray) -> np.ndarray:
        """Dilepton invariant mass m_ll (GeV)."""
        p = self._check_momenta(p)
        q = p[:, 2] + p[:, 3]
        return np.sqrt(np.maximum(q[:, 0] ** 2 - np.sum(q[:, 1:] ** 2, axis=-1), 0.0))


class DrellYanFull(DrellYan):
    """Drell-Yan with all seven neutral-current two-lepton-two-quark operators (36 components)."""

    name = "drell_yan_full"
    description = "p p -> e+ e- with O_lq^(1), O_lq^(3), O_eu, O_ed, O_lu, O_ld, O_qe"
    coefficients = tuple(OPERATORS)
