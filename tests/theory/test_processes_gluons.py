"""gg -> gg and gg -> ggg (theory/processes/gluons.py) against independent evaluations.

* gg -> gg: the ESW Table 7.1 row (9/2)(3 - tu/s^2 - su/t^2 - st/u^2) g^4, symbolically
  (CM momenta with symbols, difference simplifies to 0) and numerically (rounding, 1e-12).
* gg -> ggg: an explicit full-colour sum computed here: complex spinor products, all 24
  colour orderings, SU(3) traces Tr(T^a1...T^a5) from Gell-Mann matrices summed over all
  8^5 colour assignments and all 20 MHV/anti-MHV helicities. No leading-colour assumption.
* gg -> ggg soft limit: |M_5|^2 -> eikonal factor x colour-ordered |M_4|^2 as the third gluon
  becomes soft; the deviation falls linearly with its energy.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sympy as sp

from theory.kinematics import boost, random_lorentz, rotate
from theory.processes.registry import get_process

ALPHA_S = 0.118


def two_to_two(sqrt_s, c, phi=0.4):
    e = sqrt_s / 2
    sn = np.sqrt(1 - c**2)
    return np.array([[[e, 0, 0, e], [e, 0, 0, -e], [e, e * sn * np.cos(phi), e * sn * np.sin(phi), e * c],
                      [e, -e * sn * np.cos(phi), -e * sn * np.sin(phi), -e * c]]])


def _iso(rng, n):
    v = rng.normal(size=(n, 3))
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def two_to_three(rng, n, sqrt_s=500.0, e3=None):
    """n random massless g g -> g g g points in the CM frame; gluon p3 with energy e3 if given."""
    out = np.zeros((n, 5, 4))
    e = sqrt_s / 2
    out[:, 0] = [e, 0, 0, e]
    out[:, 1] = [e, 0, 0, -e]
    energy3 = rng.uniform(0.1, 0.45, n) * sqrt_s if e3 is None else np.full(n, e3)
    p3 = np.concatenate([energy3[:, None], energy3[:, None] * _iso(rng, n)], axis=-1)
    q = out[:, 0] + out[:, 1] - p3  # decays to p1 + p2 in its rest frame
    m = np.sqrt(q[:, 0] ** 2 - np.sum(q[:, 1:] ** 2, axis=-1))
    k = np.concatenate([m[:, None] / 2, (m[:, None] / 2) * _iso(rng, n)], axis=-1)
    beta = q[:, 1:] / q[:, :1]
    out[:, 2] = boost(k, beta)
    out[:, 3] = q - out[:, 2]
    out[:, 4] = p3
    return out


def test_gg_gg_equals_esw_symbolically():
    # Exact identity: the Parke-Taylor expression at CM momenta minus the ESW row simplifies to 0.
    proc = get_process("gg_gg")
    E, c = sp.symbols("E c", positive=True)
    sn = sp.sqrt(1 - c**2)
    mom = {"pa": (E, 0, 0, E), "pb": (E, 0, 0, -E), "p1": (E, E * sn, 0, E * c), "p2": (E, -E * sn, 0, -E * c)}
    subs = {sym: val for label in proc.labels for sym, val in zip(proc.momenta[label], mom[label])}
    a_s = sp.Symbol("alpha_s", real=True, positive=True)
    expr = proc.component_expressions[0].subs(subs) / (4 * sp.pi * a_s) ** 2
    s, t, u = 4 * E**2, -2 * E**2 * (1 - c), -2 * E**2 * (1 + c)
    esw = sp.Rational(9, 2) * (3 - t * u / s**2 - s * u / t**2 - s * t / u**2)
    assert sp.cancel(sp.together(expr - esw)) == 0


def test_gg_gg_equals_esw_numerically():
    # Random angles and frames: relative 1e-12 (double-precision rounding of a few hundred terms).
    proc = get_process("gg_gg")
    rng = np.random.default_rng(3)
    g4 = (4 * math.pi * ALPHA_S) ** 2
    for c in rng.uniform(-0.99, 0.99, 8):
        p = two_to_two(rng.uniform(50, 3000), c, rng.uniform(0, 6))
        rot, beta = random_lorentz(rng)
        p_lab = boost(rotate(p, rot), beta)
        s = 2 * (p[0, 0, 0] * p[0, 1, 0] - p[0, 0, 1:] @ p[0, 1, 1:])
        t, u = -s * (1 - c) / 2, -s * (1 + c) / 2
        esw = 4.5 * (3 - t * u / s**2 - s * u / t**2 - s * t / u**2)
        assert proc.amplitude2(p_lab, ())[0] / g4 == pytest.approx(esw, rel=1e-12)


def test_channels_and_symmetry_factors():
    # identical final gluons: 1/2! and 1/3! in the cross section, not in |M|^2
    for name, n_out, factor in (("gg_gg", 2, 0.5), ("gg_ggg", 3, 1 / 6)):
        (ch,) = get_process(name).channels
        assert ch.incoming == (21, 21) and ch.outgoing == (21,) * n_out
        assert ch.symmetry_factor == pytest.approx(factor, rel=1e-15)
        assert ch.couplings["alpha_s"] == ALPHA_S


# ---- independent full-colour gg -> ggg


def _gell_mann_generators() -> np.ndarray:
    lam = np.zeros((8, 3, 3), dtype=complex)
    lam[0][0, 1] = lam[0][1, 0] = 1
    lam[1][0, 1], lam[1][1, 0] = -1j, 1j
    lam[2][0, 0], lam[2][1, 1] = 1, -1
    lam[3][0, 2] = lam[3][2, 0] = 1
    lam[4][0, 2], lam[4][2, 0] = -1j, 1j
    lam[5][1, 2] = lam[5][2, 1] = 1
    lam[6][1, 2], lam[6][2, 1] = -1j, 1j
    lam[7] = np.diag([1, 1, -2]) / np.sqrt(3)
    return lam / np.sqrt(2)  # Tr(T^a T^b) = delta^ab


def _spinors(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """lambda, lambda-tilde of an outgoing massless momentum; negative energy: i * spinor(-k)."""
    sign = np.sign(k[0])
    q = k * sign
    plus = q[0] + q[3]
    lam = np.array([np.sqrt(plus), (q[1] + 1j * q[2]) / np.sqrt(plus)])
    lam_t = lam.conj()
    if sign < 0:
        lam, lam_t = 1j * lam, 1j * lam_t
    return lam, lam_t


def full_colour_gg_ggg(p: np.ndarray, gs2: float) -> float:
    """Averaged |M|^2 from sum_{hel} sum_{a1..a5} |sum_sigma Tr(T^sigma) A(sigma)|^2 (all outgoing)."""
    k = p.copy()
    k[:2] *= -1  # all outgoing
    sp_ = [_spinors(v) for v in k]
    ang = np.array([[sp_[i][0][0] * sp_[j][0][1] - sp_[i][0][1] * sp_[j][0][0] for j in range(5)] for i in range(5)])
    sq = np.array([[sp_[i][1][0] * sp_[j][1][1] - sp_[i][1][1] * sp_[j][1][0] for j in range(5)] for i in range(5)])
    T = _gell_mann_generators()
    tr = np.einsum("aij,bjk,ckl,dlm,emi->abcde", T, T, T, T, T, optimize=True)
    letters = "abcde"
    orders = [(0, *perm) for perm in itertools.permutations(range(1, 5))]
    colour = [np.einsum(f"{''.join(letters[o] for o in order)}->abcde", tr) for order in orders]
    total = 0.0
    for bracket in (ang, sq):  # MHV (two minus: angle brackets) and anti-MHV (square brackets)
        for i, j in itertools.combinations(range(5), 2):
            amp = np.zeros((8,) * 5, dtype=complex)
            for order, col in zip(orders, colour):
                ring = np.prod([bracket[order[m], order[(m + 1) % 5]] for m in range(5)])
                amp += col * bracket[i, j] ** 4 / ring
            total += np.sum(np.abs(amp) ** 2)
    return gs2**3 * total / 256


def test_gg_ggg_against_full_colour_sum():
    # Leading colour is exact for n = 5: agreement to rounding (1e-10; sums of ~10^5 terms).
    proc = get_process("gg_ggg")
    rng = np.random.default_rng(11)
    p = two_to_three(rng, 3)
    rot, _ = random_lorentz(rng)
    p = rotate(p, rot)  # generic directions: no spinor with E + pz = 0
    got = proc.amplitude2(p, ())
    gs2 = 4 * math.pi * ALPHA_S
    for n in range(p.shape[0]):
        assert got[n] == pytest.approx(full_colour_gg_ggg(p[n], gs2), rel=1e-10)


def test_gg_ggg_soft_limit():
    # Gluon p3 soft with energy e: sum|M5|^2 -> g^2 N sum_{sigma4} |A4(sigma4)|^2 sum_{adjacent a,b} 2 s_ab/(s_a5 s_b5)
    # (leading-colour eikonal, exact colour for n = 4, 5), with |A4|^2 at the e -> 0 (momentum-conserving
    # 2 -> 2) kinematics. That 2 -> 2 colour sum is tied to the ESW-checked gg_gg process (1e-12);
    # the soft ratio deviates from 1 by O(e/sqrt(s)), so it must shrink ~10x per decade of e.
    proc, proc4 = get_process("gg_ggg"), get_process("gg_gg")
    gs2 = 4 * math.pi * ALPHA_S
    hard = two_to_three(np.random.default_rng(5), 4, sqrt_s=500.0, e3=0.0)[:, :4]
    deviations = []
    for e_soft in (1e-1, 1e-2):
        p = two_to_three(np.random.default_rng(5), 4, sqrt_s=500.0, e3=e_soft)
        m5 = proc.amplitude2(p, ())
        ref, m4 = np.zeros(p.shape[0]), np.zeros(p.shape[0])
        for n in range(p.shape[0]):
            h, q = hard[n], p[n, 4]
            d = {(i, j): 2 * (h[i, 0] * h[j, 0] - h[i, 1:] @ h[j, 1:]) for i in range(4) for j in range(4)}
            sq = {i: 2 * (h[i, 0] * q[0] - h[i, 1:] @ q[1:]) for i in range(4)}
            num = sum(d[i, j] ** 4 for i, j in itertools.combinations(range(4), 2))
            for perm in itertools.permutations(range(1, 4)):
                order = (0, *perm)
                pairs = [(order[m], order[(m + 1) % 4]) for m in range(4)]
                a4 = num / np.prod([d[pr] for pr in pairs])
                eik = sum(2 * d[a, b] / (sq[a] * sq[b]) for a, b in pairs)
                ref[n] += gs2**3 * 3**3 * 8 * a4 * eik / 256
                m4[n] += gs2**2 * 3**2 * 8 * a4 / 256
        np.testing.assert_allclose(m4, proc4.amplitude2(hard, ()), rtol=1e-12)
        deviations.append(np.max(np.abs(m5 / ref - 1)))
    assert deviations[1] < 2e-3
    assert deviations[1] < 0.2 * deviations[0]


def test_scale_and_cuts():
    # scale = H_T/2 (= pT for 2 -> 2); cuts reject soft gluons
    proc = get_process("gg_gg")
    p = two_to_two(200.0, 0.6)
    np.testing.assert_allclose(proc.scale(p), 100.0 * 0.8, rtol=1e-13)
    assert proc.cuts(p).tolist() == [True]
    p5 = two_to_three(np.random.default_rng(2), 3, e3=1e-3)
    assert not np.any(get_process("gg_ggg").cuts(p5))
