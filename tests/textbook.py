"""Independent textbook formulas the tests compare against (written here, not taken from the library)."""

from __future__ import annotations


def ee_ff_a0_a1(s: float, sm, q_f: float = -1.0, t3_f: float = -0.5) -> tuple[float, float]:
    """A0, A1 of e+e- -> f fbar through gamma + Z (docs/notes/physics.md §3.1):
    dsigma/dOmega = alpha^2/(4s) N_c [A0 (1 + cos^2) + A1 cos], v = T3 - 2 Q sW^2, a = T3,
    chi = s / (4 sW^2 cW^2 (s - mZ^2 + i mZ GZ))."""
    q_e, v_e, a_e = -1.0, -0.5 + 2.0 * sm.sw2, -0.5
    v_f, a_f = t3_f - 2.0 * q_f * sm.sw2, t3_f
    chi = s / (4.0 * sm.sw2 * sm.cw2 * (s - sm.mZ**2 + 1j * sm.mZ * sm.wZ))
    a0 = q_e**2 * q_f**2 + 2 * q_e * q_f * v_e * v_f * chi.real + (v_e**2 + a_e**2) * (v_f**2 + a_f**2) * abs(chi) ** 2
    a1 = 4 * q_e * q_f * a_e * a_f * chi.real + 8 * v_e * a_e * v_f * a_f * abs(chi) ** 2
    return a0, a1
