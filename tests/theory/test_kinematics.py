"""Kinematics: numpy and SymPy give the same numbers; conventions (eps sign, signed Delta phi) as documented."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from theory import kinematics as k
from theory.processes.base import momentum_symbols
from theory.sm import SM, SMInputs, alpha_s_running


def massless(rng, n, e_range=(10, 500)):
    e = rng.uniform(*e_range, n)
    c = rng.uniform(-1, 1, n)
    ph = rng.uniform(-np.pi, np.pi, n)
    s = np.sqrt(1 - c**2)
    return np.stack([e, e * s * np.cos(ph), e * s * np.sin(ph), e * c], -1)


def test_eps_sign_convention_for_beams_along_z(rng):
    # docs/notes/physics.md §0: with eps^{0123} = +1, eps(pa, pb, p1, p2) = -det = -(s/2) pT1 pT2 sin(phi1 - phi2)
    n = 50
    ea, eb = rng.uniform(100, 1000, n), rng.uniform(100, 1000, n)
    pa = np.stack([ea, 0 * ea, 0 * ea, ea], -1)
    pb = np.stack([eb, 0 * eb, 0 * eb, -eb], -1)
    p1, p2 = massless(rng, n), massless(rng, n)
    s = k.mandelstam(pa, pb)
    expected = -(s / 2) * k.pt(p1) * k.pt(p2) * np.sin(k.phi(p1) - k.phi(p2))
    np.testing.assert_allclose(k.eps(pa, pb, p1, p2), expected, rtol=1e-9, atol=1e-6)
    # eps^{0123} = +1 means eps_{0123} = -1: e0, e1, e2, e3 unit vectors give -1
    e = np.eye(4)
    assert k.eps(e[0], e[1], e[2], e[3]) == pytest.approx(-1.0)


def test_numpy_and_sympy_agree(rng):
    # one formula, two backends: substitute random numbers into the SymPy result
    a, b = momentum_symbols("a"), momentum_symbols("b")
    pa, pb = massless(rng, 1)[0], massless(rng, 1)[0]
    subs = dict(zip(a, pa)) | dict(zip(b, pb))
    for fn in (k.minkowski, k.mandelstam):
        assert float(fn(a, b).subs(subs)) == pytest.approx(float(fn(pa, pb)), rel=1e-12)
    for fn in (k.pt, k.phi, k.rapidity, k.pseudorapidity):
        assert float(sp.N(fn(a).subs(subs))) == pytest.approx(float(fn(pa)), rel=1e-12, abs=1e-12)


def test_invariants_survive_boosts_and_rotations(rng):
    p1, p2 = massless(rng, 100), massless(rng, 100)
    rot, beta = k.random_lorentz(rng)
    q1, q2 = k.boost(k.rotate(p1, rot), beta), k.boost(k.rotate(p2, rot), beta)
    np.testing.assert_allclose(k.minkowski(q1, q2), k.minkowski(p1, p2), rtol=1e-10)
    np.testing.assert_allclose(k.mass2(q1), 0.0, atol=1e-8 * p1[:, 0].max() ** 2)
    # rapidity differences are invariant under z boosts
    r1, r2 = k.boost_z(p1, 0.7), k.boost_z(p2, 0.7)
    np.testing.assert_allclose(k.rapidity(r1) - k.rapidity(r2), k.rapidity(p1) - k.rapidity(p2), rtol=1e-9, atol=1e-12)
    with pytest.raises(Exception, match="beta"):
        k.boost(p1, np.array([0.0, 0.0, 1.0]))


def test_signed_delta_phi_orders_jets_in_rapidity(rng):
    j1, j2 = massless(rng, 200), massless(rng, 200)
    d12, d21 = k.delta_phi_jj_signed(j1, j2), k.delta_phi_jj_signed(j2, j1)
    np.testing.assert_allclose(d12, d21)  # symmetric in the argument order
    assert np.all((d12 > -np.pi) & (d12 <= np.pi))
    fwd = np.where((k.rapidity(j1) > k.rapidity(j2))[:, None], j1, j2)
    bwd = np.where((k.rapidity(j1) > k.rapidity(j2))[:, None], j2, j1)
    np.testing.assert_allclose(np.sin(d12), np.sin(k.phi(fwd) - k.phi(bwd)), atol=1e-12)


def test_gmu_scheme_and_running_alpha_s():
    # docs/notes/physics.md §3.1: 1/alpha_Gmu = 132.18 for m_W = 80.379 (132.10 for 80.369); s_W^2 = 0.2230
    assert 1 / SMInputs(mW=80.379).alpha == pytest.approx(132.18, abs=0.01)
    assert 1 / SM.alpha == pytest.approx(132.10, abs=0.01)
    assert SMInputs(mW=80.379).sw2 == pytest.approx(0.2230, abs=1e-4)
    assert SM.vev == pytest.approx(246.22, abs=0.01)
    assert SM.g * SM.vev / 2 == pytest.approx(SM.mW, rel=1e-12)  # m_W = g v / 2 holds in the G_mu scheme
    # LO running, alpha_s(mZ) = 0.118, nf = 5: 0.1731, 0.1165, 0.0877 at 10, 100, 1000 GeV
    for q, ref in ((10, 0.1731), (100, 0.1165), (1000, 0.0877)):
        assert alpha_s_running(q, 0.118) == pytest.approx(ref, abs=1e-4)
    # NLO: equals alpha_s(mZ) at mZ; runs faster than LO towards low scales (b1 > 0)
    assert alpha_s_running(91.1876, 0.118, order=1) == pytest.approx(0.118, rel=1e-12)
    assert alpha_s_running(10, 0.118, order=1) > alpha_s_running(10, 0.118)
    with pytest.raises(Exception, match="positive"):
        alpha_s_running(-1.0, 0.118)
    with pytest.raises(Exception, match="below m_Z"):
        SMInputs(mW=95.0)
    assert math.isfinite(SM.alpha_s(50.0))


def test_component_major_is_the_same_momenta_with_contiguous_components():
    import numpy as np

    from theory.kinematics import component_major

    p = np.random.default_rng(0).normal(size=(7, 5, 4))
    q = component_major(p)
    assert q.shape == p.shape and np.array_equal(q, p)
    assert q[:, 2, 1].flags.c_contiguous and not p[:, 2, 1].flags.c_contiguous
    assert not np.shares_memory(q, p)  # a copy: the caller's array is never aliased
