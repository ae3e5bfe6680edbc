"""Named observables computed from momenta (the ``x`` columns of an EventSample).

Formulas only: which observables a process has is declared by the process itself
(``Process.observables``), which calls these functions.
"""

from __future__ import annotations

import numpy as np

from theory.errors import KinematicsError
from theory.kinematics import component_major, delta_phi_jj_signed, mandelstam, mass2, minkowski, pseudorapidity, pt, rapidity
from theory.sm import SM

__all__ = ["dilepton_observables", "pair_observables", "wbf_invariants", "wbf_observables"]


def pair_observables(a: np.ndarray, b: np.ndarray, prefix: str) -> dict[str, np.ndarray]:
    """pT-ordered observables of two visible objects a, b (each (N, 4))."""
    swap = pt(b) > pt(a)
    lead = np.where(swap[:, None], b, a)
    sub = np.where(swap[:, None], a, b)
    return {
        f"pt_{prefix}1": pt(lead),
        f"pt_{prefix}2": pt(sub),
        f"eta_{prefix}1": pseudorapidity(lead),
        f"eta_{prefix}2": pseudorapidity(sub),
        f"y_{prefix}1": rapidity(lead),
        f"y_{prefix}2": rapidity(sub),
        f"m_{prefix}{prefix}": np.sqrt(np.maximum(mandelstam(lead, sub), 0.0)),
        f"delta_eta_{prefix}{prefix}": np.abs(pseudorapidity(lead) - pseudorapidity(sub)),
        f"delta_phi_{prefix}{prefix}": delta_phi_jj_signed(a, b),
    }


def dilepton_observables(l_minus: np.ndarray, l_plus: np.ndarray) -> dict[str, np.ndarray]:
    """Observables of a lepton pair that know the charges: mass, rapidity and p_T of the pair and
    the Collins-Soper angle of the negative lepton,

        cos θ_CS = sign(p_z,ll) 2 (p1⁺ p2⁻ − p1⁻ p2⁺) / (m_ll √(m_ll² + p_T,ll²)),  p± = (E ± p_z)/√2,

    (Collins, Soper, Phys. Rev. D16 (1977) 2219) with 1 = l⁻, 2 = l⁺; the sign of the pair's p_z
    stands in for the (unknown) quark direction in p p collisions. Its forward-backward asymmetry
    is the γ/Z interference that four-fermion operators change."""
    q = l_minus + l_plus
    m2 = np.maximum(mass2(q), 0.0)
    m = np.sqrt(m2)
    pt_ll = pt(q)
    p1p, p1m = (l_minus[:, 0] + l_minus[:, 3]) / np.sqrt(2), (l_minus[:, 0] - l_minus[:, 3]) / np.sqrt(2)
    p2p, p2m = (l_plus[:, 0] + l_plus[:, 3]) / np.sqrt(2), (l_plus[:, 0] - l_plus[:, 3]) / np.sqrt(2)
    sign = np.where(q[:, 3] >= 0, 1.0, -1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cos_cs = sign * 2 * (p1p * p2m - p1m * p2p) / (m * np.sqrt(m2 + pt_ll**2))
    return {"m_ll": m, "y_ll": rapidity(q), "pt_ll": pt_ll, "cos_theta_cs": cos_cs}


def wbf_invariants(momenta: np.ndarray, m_w: float = SM.mW) -> dict[str, np.ndarray]:
    """Dimensionless Lorentz invariants of p p -> j j H that the CP-odd WBF score depends on.

    The incoming partons are reconstructed from the visible final state (exact at LO):
    pa = (E + pz)/2 (1, 0, 0, 1), pb = (E - pz)/2 (1, 0, 0, -1) of the j j H system, and the
    forward jet (larger rapidity) is attached to pa, the backward one to pb. With
    t_a = 2 pa.j_f, t_b = 2 pb.j_b (the momentum transfers of that assignment) and
    u_a = 2 pa.j_b, u_b = 2 pb.j_f (those of the crossed one):

      r_s = s_hat / m_jj^2, r_u = (u_a + u_b)/m_jj^2, r_t = (t_a + t_b)/m_jj^2,
      kappa_u = u_a u_b / (s_hat m_jj^2), kappa_t = t_a t_b / (s_hat m_jj^2),
      r_cross = [(t_a + m_W^2)(t_b + m_W^2) / ((u_a + m_W^2)(u_b + m_W^2))]^2,

    the squared ratio of the W propagators of the crossed assignment to the direct one. At LO the
    W-fusion interference/SM ratio is eps(pa, pb, p1, p2) (1/s_hat + 1/m_jj^2) for two quark
    lines and eps (1/u_a + 1/u_b) for a quark and an antiquark line (theory.processes.wbf).
    """
    fin = momenta[:, 2] + momenta[:, 3] + momenta[:, 4]
    plus, minus = (fin[:, 0] + fin[:, 3]) / 2, (fin[:, 0] - fin[:, 3]) / 2
    zero = np.zeros_like(plus)
    pa = np.stack([plus, zero, zero, plus], axis=1)
    pb = np.stack([minus, zero, zero, -minus], axis=1)
    fwd = rapidity(momenta[:, 2]) >= rapidity(momenta[:, 3])
    jf = np.where(fwd[:, None], momenta[:, 2], momenta[:, 3])
    jb = np.where(fwd[:, None], momenta[:, 3], momenta[:, 2])
    s_hat = mass2(pa + pb)
    m_jj2 = mass2(jf + jb)
    t_a, t_b = 2 * minkowski(pa, jf), 2 * minkowski(pb, jb)
    u_a, u_b = 2 * minkowski(pa, jb), 2 * minkowski(pb, jf)
    mw2 = m_w**2
    return {
        "r_s": s_hat / m_jj2,
        "r_u": (u_a + u_b) / m_jj2,
        "r_t": (t_a + t_b) / m_jj2,
        "kappa_u": u_a * u_b / (s_hat * m_jj2),
        "kappa_t": t_a * t_b / (s_hat * m_jj2),
        "r_cross": ((t_a + mw2) * (t_b + mw2) / ((u_a + mw2) * (u_b + mw2))) ** 2,
    }


def wbf_observables(momenta: np.ndarray, m_higgs: float = SM.mH, m_w: float = SM.mW) -> dict[str, np.ndarray]:
    """Observables of p p -> j j H from momenta (N, 5, 4) ordered (pa, pb, p1, p2, pH).

    Jets are pT-ordered (j1 leading); delta_eta_jj = |eta_j1 - eta_j2|; delta_phi_jj is signed,
    phi(forward jet) - phi(backward jet) with jets ordered in rapidity (theory.kinematics);
    x_p1, x_p2 = pT/m_H (the dimensionless inputs of the seed-talk formula); the invariants of
    :func:`wbf_invariants`.
    """
    momenta = np.asarray(momenta, dtype=float)
    if momenta.ndim != 3 or momenta.shape[1:] != (5, 4):
        raise KinematicsError(f"WBF momenta must have shape (N, 5, 4) ordered (pa, pb, p1, p2, pH), got {momenta.shape}")
    momenta = component_major(momenta)
    obs = pair_observables(momenta[:, 2], momenta[:, 3], "j")
    obs["sin_delta_phi_jj"] = np.sin(obs["delta_phi_jj"])  # the CP-odd structure, smooth across +-pi
    obs["cos_delta_phi_jj"] = np.cos(obs["delta_phi_jj"])
    obs["x_p1"] = obs["pt_j1"] / m_higgs
    obs["x_p2"] = obs["pt_j2"] / m_higgs
    obs["pt_h"] = pt(momenta[:, 4])
    obs["y_h"] = rapidity(momenta[:, 4])
    # invariant mass of the whole final state (= sqrt(s_hat) at parton level)
    obs["m_jjh"] = np.sqrt(np.maximum(mass2(momenta[:, 2] + momenta[:, 3] + momenta[:, 4]), 0.0))
    return obs | wbf_invariants(momenta, m_w)
