"""The dimensionless invariants of theory.observables.wbf_invariants.

Checks: the incoming partons reconstructed from the j j H system equal the generator's (so the
invariants are observables, exact at LO); invariance under boosts along the beam and rotations
about it; the momentum-conservation identity r_t + r_u = 1 + r_s - m_H^2/m_jj^2; and that the
closed forms of the W-fusion CP-odd ratio, written with the invariants and the seed-talk
prefactor x_p1 x_p2 sin(Delta phi) (= eps(pa, pb, j_f, j_b)/s_hat up to a constant), hold event
by event. Tolerances: double-precision rounding of O(10) operations on TeV-scale momenta.
"""

from __future__ import annotations

import numpy as np

from theory.kinematics import boost_z, mass2, minkowski, rapidity, rotate
from theory.observables import wbf_invariants, wbf_observables
from theory.processes.registry import get_process

NAMES = ("r_s", "r_u", "r_t", "kappa_u", "kappa_t", "r_cross")


def _close(a, b, rel=1e-9):
    return np.max(np.abs(a - b) / (np.abs(b) + 1e-300)) < rel


def test_reconstruction_equals_the_generated_partons(wbf_sample):
    p = wbf_sample.momenta[:3000]
    inv = wbf_invariants(p)
    pa, pb = p[:, 0], p[:, 1]
    fwd = rapidity(p[:, 2]) >= rapidity(p[:, 3])
    jf = np.where(fwd[:, None], p[:, 2], p[:, 3])
    jb = np.where(fwd[:, None], p[:, 3], p[:, 2])
    m2 = mass2(jf + jb)
    assert _close(inv["r_s"], mass2(pa + pb) / m2)
    assert _close(inv["r_u"], 2 * (minkowski(pa, jb) + minkowski(pb, jf)) / m2)
    assert _close(inv["kappa_t"], 4 * minkowski(pa, jf) * minkowski(pb, jb) / (mass2(pa + pb) * m2))


def test_invariants_do_not_change_under_beam_boosts_and_rotations(wbf_sample, rng):
    p = wbf_sample.momenta[:2000]
    angle = rng.uniform(0, 2 * np.pi)
    rot = np.array([[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0.0, 0.0, 1.0]])
    moved = rotate(boost_z(p, rng.uniform(-1.5, 1.5)), rot)
    a, b = wbf_invariants(p), wbf_invariants(moved)
    for name in NAMES:
        assert _close(b[name], a[name], 1e-8), name


def test_momentum_conservation_identity(wbf_sample):
    p = wbf_sample.momenta
    inv = wbf_invariants(p)
    m2 = mass2(p[:, 2] + p[:, 3])
    m_h2 = mass2(p[:, 4])
    assert np.max(np.abs(inv["r_t"] + inv["r_u"] - (1 + inv["r_s"] - m_h2 / m2)) / inv["r_s"]) < 1e-9


def test_w_fusion_cp_odd_ratio_in_terms_of_the_invariants(wbf_sample):
    # qq lines: ratio = C x_p1 x_p2 sin(dphi) (1 + r_s); q qbar lines: C' x_p1 x_p2 sin(dphi) r_u / kappa_u
    # (tests/theory/test_wbf.py checks the eps forms); valid where line a's jet is the forward one
    wbf = get_process("wbf")
    p = wbf_sample.momenta[:3000]
    p = p[rapidity(p[:, 2]) > rapidity(p[:, 3])]
    obs = wbf_observables(p)
    prefactor = obs["x_p1"] * obs["x_p2"] * np.sin(obs["delta_phi_jj"])
    k = [i for i, pw in enumerate(wbf.powers) if tuple(pw) == (0, 1)][0]
    for name, form in (("2_1_WW", 1 + obs["r_s"]), ("1_-1_WW", obs["r_u"] / obs["kappa_u"])):
        comps = wbf.components(p, wbf.channel(name))
        ratio = comps[:, k] / comps[:, 0] / (prefactor * form)
        assert np.std(ratio) < 1e-8 * abs(np.mean(ratio)), name
