"""Drell-Yan q qbar -> e- e+ (theory/processes/drell_yan.py) against textbook partonic formulas.

References are computed here independently: the A0/A1 form of docs/notes/physics.md §3.1 with the
colour factor N_c -> 1/3 (average over the quark colours), and a hand-written helicity formula
for the contact operators. Gauss-Legendre in cos(theta) is exact for these degree-2 polynomials,
so the tolerances are rounding-level.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from textbook import ee_ff_a0_a1

from theory.processes.registry import get_process
from theory.sm import SM

PB_PER_GEV2 = 3.89379e8
QUARK = {"u": (2 / 3, 0.5), "d": (-1 / 3, -0.5), "s": (-1 / 3, -0.5), "c": (2 / 3, 0.5), "b": (-1 / 3, -0.5)}


def cm_momenta(sqrt_s: float, cos_theta: np.ndarray, phi: float = 0.7) -> np.ndarray:
    """pa along +z, pb along -z, p1 = e- at angle theta to pa, p2 = e+."""
    c = np.asarray(cos_theta, dtype=float)
    s_ = np.sqrt(1 - c**2)
    e = sqrt_s / 2
    p = np.zeros((c.size, 4, 4))
    p[:, 0] = [e, 0, 0, e]
    p[:, 1] = [e, 0, 0, -e]
    p[:, 2] = np.stack([np.full(c.size, e), e * s_ * np.cos(phi), e * s_ * np.sin(phi), e * c], axis=-1)
    p[:, 3] = p[:, 0] + p[:, 1] - p[:, 2]
    return p


def sigma(process, channel, sqrt_s, theta, lo=-1.0, hi=1.0):
    x, w = np.polynomial.legendre.leggauss(8)
    c = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
    m2 = process.amplitude2(cm_momenta(sqrt_s, c), theta, channel)
    return 0.5 * (hi - lo) * np.sum(w * m2) / (32 * math.pi * sqrt_s**2) * PB_PER_GEV2


@pytest.fixture(scope="module")
def dy():
    return get_process("drell_yan")


@pytest.fixture(scope="module")
def dy_full():
    return get_process("drell_yan_full")


def test_channels(dy):
    # ten channels: five flavours, each with the quark in beam a or in beam b
    names = {c.name for c in dy.channels}
    assert len(names) == 10
    for ch in dy.channels:
        assert ch.incoming[0] == -ch.incoming[1] and abs(ch.incoming[0]) in (1, 2, 3, 4, 5)
        assert ch.outgoing == (11, -11)
        assert ch.couplings["qa"] + ch.couplings["qb"] == 1.0
        assert (ch.couplings["qa"] == 1.0) == (ch.incoming[0] > 0)


@pytest.mark.parametrize("flavour", ["u", "d"])
def test_pure_photon_partonic_cross_section(dy, flavour):
    # Z off: sigma(q qbar -> e e) = 4 pi alpha^2 Q_q^2 / (9 s) (colour average 1/3); rounding only.
    ch = dy.channel(f"{flavour}_{flavour}bar")
    from dataclasses import replace

    ch = replace(ch, couplings={**ch.couplings, "gz2": 0.0})
    q = QUARK[flavour][0]
    for sqrt_s in (20.0, 300.0):
        expected = 4 * math.pi * SM.alpha**2 * q**2 / (9 * sqrt_s**2) * PB_PER_GEV2
        assert sigma(dy, ch, sqrt_s, (0, 0)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("flavour", list(QUARK))
@pytest.mark.parametrize("sqrt_s", [40.0, SM.mZ, 250.0])
def test_gamma_z_cross_section_and_afb(dy, flavour, sqrt_s):
    # Full gamma + Z: sigma = (4 pi alpha^2 / 3 s) A0 / 3 and A_FB = 3 A1 / (8 A0) (forward = e- along
    # the quark); with the antiquark in beam a A_FB flips sign and sigma is unchanged. Rounding only.
    q, t3 = QUARK[flavour]
    a0, a1 = ee_ff_a0_a1(sqrt_s**2, SM, q, t3)
    s0 = 4 * math.pi * SM.alpha**2 / (3 * sqrt_s**2) * a0 / 3 * PB_PER_GEV2
    for name, sign in ((f"{flavour}_{flavour}bar", 1), (f"{flavour}bar_{flavour}", -1)):
        ch = dy.channel(name)
        f, b = sigma(dy, ch, sqrt_s, (0, 0), 0, 1), sigma(dy, ch, sqrt_s, (0, 0), -1, 0)
        assert f + b == pytest.approx(s0, rel=1e-10)
        assert (f - b) / (f + b) == pytest.approx(sign * 3 * a1 / (8 * a0), rel=1e-9)


WEIGHTS = {  # op: (lepton chirality, quark chirality, weight u, weight d), from the operator definitions
    "c_lq1": ("L", "L", 1, 1),
    "c_lq3": ("L", "L", -1, 1),
    "c_eu": ("R", "R", 1, 0),
    "c_ed": ("R", "R", 0, 1),
    "c_lu": ("L", "R", 1, 0),
    "c_ld": ("L", "R", 0, 1),
    "c_qe": ("R", "L", 1, 1),
}


def helicity_reference(p, theta, names, flavour, quark_in_a=True, sm=SM):
    """(1/12) sum_ij |A_ij|^2 * 4 * (u^2 if i == j else t^2), t = (p_quark - p_e-)^2."""
    q_q, t3 = QUARK[flavour]
    pq = p[:, 0] if quark_in_a else p[:, 1]
    s = 2 * (p[:, 0, 0] * p[:, 1, 0] - np.sum(p[:, 0, 1:] * p[:, 1, 1:], axis=-1))
    t = -2 * (pq[:, 0] * p[:, 2, 0] - np.sum(pq[:, 1:] * p[:, 2, 1:], axis=-1))
    u = -s - t
    gl = {"L": -0.5 + sm.sw2, "R": sm.sw2}
    gq = {"L": t3 - q_q * sm.sw2, "R": -q_q * sm.sw2}
    total = 0.0
    for i in "LR":
        for j in "LR":
            a = sm.e**2 * (-1) * q_q / s + sm.e**2 / (sm.sw2 * sm.cw2) * gl[i] * gq[j] / (s - sm.mZ**2 + 1j * sm.mZ * sm.wZ)
            for th, name in zip(theta, names):
                li, qj, wu, wd = WEIGHTS[name]
                if (li, qj) == (i, j):
                    a = a + 1e-6 * th * (wu if t3 > 0 else wd)
            total = total + np.abs(a) ** 2 * 4 * (u**2 if i == j else t**2)
    return total / 12


@pytest.mark.parametrize("flavour", ["u", "d"])
def test_all_operators_against_helicity_formula(dy_full, flavour):
    # drell_yan_full (all seven operators) vs the hand formula at random theta, both beam orders.
    rng = np.random.default_rng(7)
    for sqrt_s in (70.0, 700.0, 2500.0):
        p = cm_momenta(sqrt_s, rng.uniform(-1, 1, 5), phi=rng.uniform(0, 6))
        for theta in rng.normal(0, 2, size=(2, 7)):
            for quark_in_a, name in ((True, f"{flavour}_{flavour}bar"), (False, f"{flavour}bar_{flavour}")):
                got = dy_full.amplitude2(p, theta, dy_full.channel(name))
                ref = helicity_reference(p, theta, dy_full.coefficients, flavour, quark_in_a)
                np.testing.assert_allclose(got, ref, rtol=1e-10)


def test_interference_sign_and_growth(dy):
    # Above the Z, A_LL^SM < 0 for u and > 0 for d, A_RR^SM < 0 for u: so c_lq1 interferes
    # destructively (negative) for u ubar, constructively for d dbar; c_eu is absent for d.
    # sigma_int/sigma_SM grows like s: ratio(2 TeV)/ratio(1 TeV) = 4 up to m_Z^2/s (< 1 %).
    x, w = np.polynomial.legendre.leggauss(8)
    ratio = {}
    for name in ("u_ubar", "d_dbar"):
        for sqrt_s in (1000.0, 2000.0):
            comps = dy.components(cm_momenta(sqrt_s, x), dy.channel(name))
            ratio[name, sqrt_s] = (w @ comps[:, 1:3]) / (w @ comps[:, 0])
    assert ratio["u_ubar", 1000.0][0] < 0 and ratio["u_ubar", 1000.0][1] < 0
    assert ratio["d_dbar", 1000.0][0] > 0 and ratio["d_dbar", 1000.0][1] == 0
    np.testing.assert_allclose(ratio["u_ubar", 2000.0] / ratio["u_ubar", 1000.0], 4.0, rtol=1e-2)
    assert ratio["d_dbar", 2000.0][0] / ratio["d_dbar", 1000.0][0] == pytest.approx(4.0, rel=1e-2)


def test_scale_and_cuts(dy):
    # scale = m_ll (boost along z leaves it unchanged); cut m_ll > 50 GeV
    from theory.kinematics import boost_z

    p = boost_z(cm_momenta(120.0, np.array([0.2, -0.5])), 0.8)
    np.testing.assert_allclose(dy.scale(p), 120.0, rtol=1e-13)
    assert dy.cuts(np.concatenate([p, cm_momenta(30.0, np.array([0.1]))])).tolist() == [True, True, False]
