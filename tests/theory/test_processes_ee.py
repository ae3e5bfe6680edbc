"""e+ e- -> mu+ mu- (theory/processes/ee_mumu.py) against textbook Born formulas.

The reference numbers are computed here, independently of the process module, from the
A0/A1 form of docs/notes/physics.md §3.1 (massless fermions, Breit-Wigner Z), in the same
G_mu scheme as the process. Angular integrals use Gauss-Legendre quadrature, which is exact
for the polynomials in cos(theta) of a 2 -> 2 s-channel Born process (degree <= 2).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from textbook import ee_ff_a0_a1

from theory.processes.ee_mumu import EEMuMu, channel_without_z
from theory.processes.registry import get_process
from theory.sm import SM

PB_PER_GEV2 = 3.89379e8  # (hbar c)^2 in pb GeV^2


def cm_momenta(sqrt_s: float, cos_theta: np.ndarray, phi: float = 0.3) -> np.ndarray:
    """pa = e- along +z, pb = e+, p1 = mu- at angle theta to the e-, p2 = mu+ (shape (N, 4, 4))."""
    c = np.asarray(cos_theta, dtype=float)
    s_ = np.sqrt(1.0 - c**2)
    e = sqrt_s / 2.0
    n = c.size
    p = np.zeros((n, 4, 4))
    p[:, 0] = [e, 0, 0, e]
    p[:, 1] = [e, 0, 0, -e]
    p[:, 2] = np.stack([np.full(n, e), e * s_ * np.cos(phi), e * s_ * np.sin(phi), e * c], axis=-1)
    p[:, 3] = p[:, 0] + p[:, 1] - p[:, 2]
    return p


def integrate(process, sqrt_s, theta, channel=None, lo=-1.0, hi=1.0, n=8):
    """sigma in pb over cos(theta) in [lo, hi]: dsigma/dcos = |M|^2 / (32 pi s)."""
    x, w = np.polynomial.legendre.leggauss(n)
    c = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
    m2 = process.amplitude2(cm_momenta(sqrt_s, c), theta, channel)
    return 0.5 * (hi - lo) * np.sum(w * m2) / (32 * math.pi * sqrt_s**2) * PB_PER_GEV2


def afb(process, sqrt_s, theta=(0.0, 0.0, 0.0), channel=None):
    f = integrate(process, sqrt_s, theta, channel, 0.0, 1.0)
    b = integrate(process, sqrt_s, theta, channel, -1.0, 0.0)
    return (f - b) / (f + b)


@pytest.fixture(scope="module")
def ee():
    return get_process("ee_mumu")


SM0 = (0.0, 0.0, 0.0)


def test_pure_photon_cross_section_is_exact(ee):
    # Z switched off: sigma = 4 pi alpha^2/(3 s) exactly; quadrature is exact, so only rounding (1e-12).
    sqrt_s = 10.0
    sigma = integrate(ee, sqrt_s, SM0, channel_without_z(ee.channels[0]))
    expected = 4 * math.pi * SM.alpha**2 / (3 * sqrt_s**2) * PB_PER_GEV2
    assert sigma == pytest.approx(expected, rel=1e-12)
    # docs/notes/physics.md: 933.5 pb with alpha_Gmu = 1/132.18 (m_W = 80.379); here m_W = 80.369 -> 1/132.10
    assert sigma == pytest.approx(933.5 * (132.18 * SM.alpha) ** 2, rel=1e-3)


def test_cross_section_with_z_at_10_gev(ee):
    # gamma + Z at 10 GeV equals (4 pi alpha^2/3s) A0 (same formula, independent code; rounding only).
    sqrt_s = 10.0
    sigma = integrate(ee, sqrt_s, SM0)
    a0, _ = ee_ff_a0_a1(sqrt_s**2, SM)
    assert sigma == pytest.approx(4 * math.pi * SM.alpha**2 / (3 * sqrt_s**2) * a0 * PB_PER_GEV2, rel=1e-10)
    # the Z correction at 10 GeV is small (~ s/mZ^2 * v_e v_f, well below a per cent) but not zero
    pure = integrate(ee, sqrt_s, SM0, channel_without_z(ee.channels[0]))
    assert 0 < abs(sigma / pure - 1) < 1e-2


@pytest.mark.parametrize("sqrt_s", [10.0, 35.0, SM.mZ, 130.0, 500.0])
def test_angular_distribution_matches_a0_a1(ee, sqrt_s):
    # dsigma/dcos = (pi alpha^2 / 2s)[A0 (1 + c^2) + A1 c] point by point (checks signs of the Z terms).
    c = np.linspace(-0.95, 0.95, 7)
    got = ee.amplitude2(cm_momenta(sqrt_s, c), SM0) / (32 * math.pi * sqrt_s**2)
    a0, a1 = ee_ff_a0_a1(sqrt_s**2, SM)
    expected = 2 * math.pi * SM.alpha**2 / (4 * sqrt_s**2) * (a0 * (1 + c**2) + a1 * c)
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_afb_at_pole_and_below(ee):
    # A_FB = 3 A1 / (8 A0) in the same (G_mu, m_W = SM.mW) scheme; quadrature exact -> 1e-10.
    for sqrt_s in (10.0, 35.0, SM.mZ):
        a0, a1 = ee_ff_a0_a1(sqrt_s**2, SM)
        assert afb(ee, sqrt_s) == pytest.approx(3 * a1 / (8 * a0), rel=1e-10)
    # physics-notes values (quoted to 2 significant digits; m_W differs by 10 MeV): below the pole negative
    assert afb(ee, 10.0) == pytest.approx(-0.0066, abs=1e-4)
    assert afb(ee, 35.0) == pytest.approx(-0.093, abs=1e-3)


def test_afb_at_pole_with_mw_80379():
    # The quoted tree-level G_mu value 0.0340 uses m_W = 80.379 (s_W^2 = 0.2230); 4th digit tolerance.
    sm = SM.with_(mW=80.379)
    ee = get_process("ee_mumu")
    value = afb(ee, sm.mZ, channel=EEMuMu.make_channel(sm))
    assert value == pytest.approx(0.0340, abs=5e-5)
    a0, a1 = ee_ff_a0_a1(sm.mZ**2, sm)
    assert value == pytest.approx(3 * a1 / (8 * a0), rel=1e-10)


def helicity_reference(p: np.ndarray, theta: np.ndarray, sm=SM) -> np.ndarray:
    """Independent |M|^2: (1/4) sum_ij |A_ij|^2 4 (u^2 if i == j else t^2), contact added to A_ij."""
    s = 2 * (p[:, 0, 0] * p[:, 1, 0] - np.sum(p[:, 0, 1:] * p[:, 1, 1:], axis=-1))
    t = -2 * (p[:, 0, 0] * p[:, 2, 0] - np.sum(p[:, 0, 1:] * p[:, 2, 1:], axis=-1))
    u = -s - t
    g = {"L": -0.5 + sm.sw2, "R": sm.sw2}
    c_ll, c_ee, c_le = 1e-6 * np.asarray(theta)
    contact = {"LL": c_ll, "RR": c_ee, "LR": c_le, "RL": c_le}
    total = 0.0
    for i in "LR":
        for j in "LR":
            a = sm.e**2 / s + sm.e**2 / (sm.sw2 * sm.cw2) * g[i] * g[j] / (s - sm.mZ**2 + 1j * sm.mZ * sm.wZ)
            a = a + contact[i + j]
            total = total + np.abs(a) ** 2 * (u**2 if i == j else t**2)
    return total


@pytest.mark.parametrize("sqrt_s", [60.0, SM.mZ, 400.0, 3000.0])
def test_contact_operators_against_helicity_formula(ee, sqrt_s):
    # Trace-derived polynomial vs hand helicity formula at random theta: rounding only (1e-10).
    rng = np.random.default_rng(1)
    p = cm_momenta(sqrt_s, rng.uniform(-1, 1, 6), phi=1.1)
    for theta in rng.normal(0, 3, size=(3, 3)):
        np.testing.assert_allclose(ee.amplitude2(p, theta), helicity_reference(p, theta), rtol=1e-10)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_interference_sign_and_growth(ee, index):
    # Positive c interferes constructively above the Z, and sigma_int/sigma_SM grows like s:
    # the ratio between 2 TeV and 1 TeV is 4 up to m_Z^2/s corrections (< 1 %).
    row = 1 + index  # linear components follow the SM one
    ratios = []
    for sqrt_s in (1000.0, 2000.0):
        x, w = np.polynomial.legendre.leggauss(8)
        comps = ee.components(cm_momenta(sqrt_s, x))
        ratios.append(np.sum(w * comps[:, row]) / np.sum(w * comps[:, 0]))
    assert ratios[0] > 0
    assert ratios[1] / ratios[0] == pytest.approx(4.0, rel=1e-2)


def test_scale_is_sqrt_s(ee):
    p = cm_momenta(91.0, np.array([0.1, -0.4]))
    np.testing.assert_allclose(ee.scale(p), 91.0, rtol=1e-14)
