"""Named observables computed from momenta (the ``x`` columns of an EventSample).

Formulas only: which observables a process has is declared by the process itself
(``Process.observables``), which calls these functions.
"""

from __future__ import annotations

import numpy as np

from theory.errors import KinematicsError
from theory.kinematics import component_major, mass2, pt, rapidity
from theory.sm import SM

__all__ = ["dilepton_observables", "pair_observables", "wbf_invariants", "wbf_observables"]


def _mass2_of_sum(*vectors: np.ndarray) -> np.ndarray:
    """(Σ p)² of momenta (N, 4): theory.kinematics.mass2 of the summed components (summed component by
    component: no (N, 4) temporaries)."""
    total = [vectors[0][:, k] for k in range(4)]
    for v in vectors[1:]:
        total = [t + v[:, k] for k, t in enumerate(total)]
    return mass2(total)


def _pt_eta_y(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p_T, pseudorapidity asinh(p_z/p_T) and rapidity of momenta (N, 4), each computed once."""
    p_t = pt(p)
    with np.errstate(divide="ignore", invalid="ignore"):  # p_T = 0: η = ±inf, as pseudorapidity
        eta = np.arcsinh(p[:, 3] / p_t)
    return p_t, eta, rapidity(p)


def pair_observables(a: np.ndarray, b: np.ndarray, prefix: str) -> dict[str, np.ndarray]:
    """pT-ordered observables of two visible objects a, b (each (N, 4)), and the signed Δφ of
    theory.kinematics.delta_phi_jj_signed: φ(forward) − φ(backward) in rapidity, in (−π, π]."""
    return _pair_parts(a, b, prefix)[0]


def _pair_parts(a: np.ndarray, b: np.ndarray, prefix: str) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """pair_observables, and sin Δφ, cos Δφ of its signed Δφ.

    Each of p_T, η and y is computed once per object; Δφ is atan2 of the cross and dot products of
    the transverse momenta, whose ratios to p_T,a p_T,b are its sine and cosine (no wrapping of
    angles, no sine of a difference of angles: numpy's float64 sin costs 15 ns a number)."""
    pt_a, eta_a, y_a = _pt_eta_y(a)
    pt_b, eta_b, y_b = _pt_eta_y(b)
    swap = pt_b > pt_a  # b leads
    # sin and cos of φ_a − φ_b times p_T,a p_T,b; the sign puts the forward object first
    sign = np.where(y_a >= y_b, 1.0, -1.0)
    cross = sign * (a[:, 2] * b[:, 1] - a[:, 1] * b[:, 2]) + 0.0  # + 0.0: -0.0 would give -π at back-to-back
    dot = a[:, 1] * b[:, 1] + a[:, 2] * b[:, 2]
    norm = pt_a * pt_b
    safe = np.where(norm > 0, norm, 1.0)  # a zero p_T: Δφ = atan2(0, 0) = 0
    obs = {
        f"pt_{prefix}1": np.maximum(pt_a, pt_b),
        f"pt_{prefix}2": np.minimum(pt_a, pt_b),
        f"eta_{prefix}1": np.where(swap, eta_b, eta_a),
        f"eta_{prefix}2": np.where(swap, eta_a, eta_b),
        f"y_{prefix}1": np.where(swap, y_b, y_a),
        f"y_{prefix}2": np.where(swap, y_a, y_b),
        f"m_{prefix}{prefix}": np.sqrt(np.maximum(_mass2_of_sum(a, b), 0.0)),
        f"delta_eta_{prefix}{prefix}": np.abs(eta_a - eta_b),
        f"delta_phi_{prefix}{prefix}": np.arctan2(cross, dot),
    }
    return obs, np.where(norm > 0, cross / safe, 0.0), np.where(norm > 0, dot / safe, 1.0)


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
    e, pz = momenta[:, :, 0], momenta[:, :, 3]
    fin_e, fin_z = e[:, 2] + e[:, 3] + e[:, 4], pz[:, 2] + pz[:, 3] + pz[:, 4]
    plus, minus = (fin_e + fin_z) / 2, (fin_e - fin_z) / 2
    # pa.j = plus (E - p_z), pb.j = minus (E + p_z) for pa, pb along +z and -z
    down_2, down_3 = e[:, 2] - pz[:, 2], e[:, 3] - pz[:, 3]
    up_2, up_3 = e[:, 2] + pz[:, 2], e[:, 3] + pz[:, 3]
    fwd = up_2 * down_3 >= up_3 * down_2  # y_2 >= y_3, y = log(up/down)/2 (no logarithms)
    s_hat = 4 * plus * minus
    m_jj2 = _mass2_of_sum(momenta[:, 2], momenta[:, 3])
    t_a, t_b = 2 * plus * np.where(fwd, down_2, down_3), 2 * minus * np.where(fwd, up_3, up_2)
    u_a, u_b = 2 * plus * np.where(fwd, down_3, down_2), 2 * minus * np.where(fwd, up_2, up_3)
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
    obs, sin_dphi, cos_dphi = _pair_parts(momenta[:, 2], momenta[:, 3], "j")
    obs["sin_delta_phi_jj"] = sin_dphi  # the CP-odd structure, smooth across +-pi
    obs["cos_delta_phi_jj"] = cos_dphi
    obs["x_p1"] = obs["pt_j1"] / m_higgs
    obs["x_p2"] = obs["pt_j2"] / m_higgs
    obs["pt_h"] = pt(momenta[:, 4])
    obs["y_h"] = rapidity(momenta[:, 4])
    # invariant mass of the whole final state (= sqrt(s_hat) at parton level)
    obs["m_jjh"] = np.sqrt(np.maximum(_mass2_of_sum(momenta[:, 2], momenta[:, 3], momenta[:, 4]), 0.0))
    return obs | wbf_invariants(momenta, m_w)
