"""WBF |M|^2: textbook SM limits, CP properties of the interference terms, polynomial structure."""

from __future__ import annotations

import numpy as np
import pytest

from theory.kinematics import minkowski
from theory.processes.registry import get_process
from theory.sm import SM


@pytest.fixture(scope="module")
def wbf():
    return get_process("wbf")


def random_wbf_momenta(rng, n=200, sqrt_s=13000.0):
    """Exact 2 -> 3 kinematics from the generator's own phase-space map (jets + on-shell H)."""
    from physinf.simulate.phasespace import TChannel23

    ps = TChannel23(sqrt_s, SM.mH, SM.mW, pt_min=5.0, y_max=4.0)
    p, x1, x2, _ = ps.map(rng.uniform(size=(4 * n, 6)), rng)
    ok = (x1 < 1) & (x2 < 1)
    return p[ok][:n]


def chan(wbf, name):
    return wbf.channel(name)


def test_sm_ww_fusion_matches_textbook(wbf, rng):
    # u d -> d u H via W W, both lines left-handed: sum|M|^2/4 = g^6 m_W^2 (pa.pb)(p1.p2) / (t1-mW^2)^2 (t2-mW^2)^2
    # (e.g. Cahn-Dawson; follows from |u-bar g^mu P_L u u-bar g_mu P_L u|^2 = 16 (pa.pb)(p1.p2)). Exact up to rounding.
    p = random_wbf_momenta(rng)
    pa, pb, p1, p2 = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
    t1, t2 = minkowski(pa - p1, pa - p1), minkowski(pb - p2, pb - p2)
    expected = SM.g**6 * SM.mW**2 * minkowski(pa, pb) * minkowski(p1, p2) / ((t1 - SM.mW**2) ** 2 * (t2 - SM.mW**2) ** 2)
    got = wbf.components(p, chan(wbf, "2_1_WW"))[:, 0]
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    # an antiquark on line b (u ubar -> d dbar) exchanges pb <-> p2 in the trace: (pa.p2)(p1.pb)
    expected_bar = SM.g**6 * SM.mW**2 * minkowski(pa, p2) * minkowski(p1, pb) / ((t1 - SM.mW**2) ** 2 * (t2 - SM.mW**2) ** 2)
    np.testing.assert_allclose(wbf.components(p, chan(wbf, "2_-2_WW"))[:, 0], expected_bar, rtol=1e-10)


def test_sm_zz_fusion_matches_chiral_textbook_form(wbf, rng):
    # u d -> u d H via Z Z: same-helicity lines give (pa.pb)(p1.p2), opposite helicities (pa.p2)(pb.p1);
    # couplings g/c_W (T3 - Q s_W^2) and g/c_W (-Q s_W^2). No photon in the SM (no h gamma gamma, h Z gamma vertex).
    p = random_wbf_momenta(rng)
    pa, pb, p1, p2 = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
    t1, t2 = minkowski(pa - p1, pa - p1), minkowski(pb - p2, pb - p2)
    gz = SM.g / np.sqrt(SM.cw2)
    uL, uR = gz * (0.5 - 2 / 3 * SM.sw2), gz * (-2 / 3 * SM.sw2)
    dL, dR = gz * (-0.5 + 1 / 3 * SM.sw2), gz * (1 / 3 * SM.sw2)
    same = (uL**2 * dL**2 + uR**2 * dR**2) * minkowski(pa, pb) * minkowski(p1, p2)
    opposite = (uL**2 * dR**2 + uR**2 * dL**2) * minkowski(pa, p2) * minkowski(pb, p1)
    hzz = SM.g * SM.mZ / np.sqrt(SM.cw2)
    expected = 16 / 4 * hzz**2 * (same + opposite) / ((t1 - SM.mZ**2) ** 2 * (t2 - SM.mZ**2) ** 2)
    np.testing.assert_allclose(wbf.components(p, chan(wbf, "2_1_ZZ"))[:, 0], expected, rtol=1e-10)


def mirror_y(p):
    """Reflection p_y -> -p_y: flips every azimuth, hence the sign of Delta phi_jj and of eps(pa, pb, p1, p2)."""
    q = p.copy()
    q[..., 2] *= -1
    return q


@pytest.mark.parametrize("name", ["2_1_WW", "2_2_ZZ", "-1_2_ZZ", "1_-1_WW", "4_3_WW"])
def test_cp_odd_interference_flips_under_mirror_and_cp_even_does_not(wbf, rng, name):
    # Event by event: the cHWtil interference (component 2) is odd under the mirror, the SM, cHW
    # interference and all quadratic terms are even. Exact symmetry, so a relative tolerance of 1e-9.
    p = random_wbf_momenta(rng)
    a = wbf.components(p, chan(wbf, name))
    b = wbf.components(mirror_y(p), chan(wbf, name))
    scale = np.abs(a).max(axis=0)
    np.testing.assert_allclose(b[:, 2], -a[:, 2], atol=1e-9 * scale[2])
    for c in (0, 1, 3, 5):
        np.testing.assert_allclose(b[:, c], a[:, c], atol=1e-9 * scale[c])
    # the CP-odd interference is not identically zero
    assert np.abs(a[:, 2]).max() > 1e-3 * np.abs(a[:, 0]).max()


def test_cp_odd_interference_is_proportional_to_the_levi_civita_contraction(wbf, rng):
    # At linear order the only CP-odd invariant is eps(pa, pb, p1, p2) (docs/notes/physics.md §9): the ratio of
    # the cHWtil interference to eps must be mirror-even, i.e. the interference vanishes where eps does.
    from theory.kinematics import eps, phi, pt

    p = random_wbf_momenta(rng)
    # rotate jet 2 about the beam into the plane of jet 1 (Delta phi = 0) and let the Higgs take the balance

    rot = -phi(p[:, 3]) + phi(p[:, 2])
    c, s = np.cos(rot), np.sin(rot)
    planar = p.copy()
    px, py = p[:, 3, 1], p[:, 3, 2]
    planar[:, 3, 1], planar[:, 3, 2] = c * px - s * py, s * px + c * py
    planar[:, 4] = planar[:, 0] + planar[:, 1] - planar[:, 2] - planar[:, 3]
    assert np.allclose(eps(planar[:, 0], planar[:, 1], planar[:, 2], planar[:, 3]), 0.0, atol=1e-6 * pt(p[:, 2]).max() ** 4)
    comps = wbf.components(planar, chan(wbf, "2_1_WW"))
    assert np.all(np.abs(comps[:, 2]) <= 1e-9 * np.abs(comps[:, 1]).max())


def test_amplitude2_is_the_stated_polynomial(wbf, rng):
    # amplitude2(theta) = sum_c f_c(theta) A_c, checked against an exact quadratic fit in each direction.
    p = random_wbf_momenta(rng, n=20)
    ch = chan(wbf, "2_1_WW")
    thetas = np.linspace(-3, 3, 7)
    for i in range(2):
        vals = []
        for t in thetas:
            th = np.zeros(2)
            th[i] = t
            vals.append(wbf.amplitude2(p, th, ch))
        coeffs = np.polynomial.polynomial.polyfit(thetas, np.array(vals), 3)
        assert np.all(np.abs(coeffs[3]) <= 1e-9 * np.abs(coeffs).max(axis=0))


def test_bad_theta_length_is_explained(wbf, rng):
    from theory.errors import InvalidParameterError

    p = random_wbf_momenta(rng, n=3)
    with pytest.raises(InvalidParameterError, match="2 Wilson coefficients"):
        wbf.amplitude2(p, [0.1, 0.2, 0.3])


@pytest.mark.parametrize("name, structure", [("2_1_WW", "qq"), ("1_-1_WW", "qqbar"), ("-2_-1_WW", "qq")])
def test_w_fusion_cp_odd_ratio_has_the_closed_form(wbf, rng, name, structure):
    # W fusion has one helicity structure per channel, so the interference/SM ratio is a fixed function:
    # two quark (or two antiquark) lines: C eps(pa,pb,p1,p2) (1/s_hat + 1/m_jj^2); a quark and an antiquark
    # line: C eps (1/(2 pa.p2) + 1/(2 pb.p1)) (the crossed pairing of the traces). Propagators and couplings
    # cancel in the ratio, so C is one number for all events: relative spread ~ rounding.
    from theory.kinematics import eps

    p = random_wbf_momenta(rng)
    pa, pb, p1, p2 = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
    comps = wbf.components(p, chan(wbf, name))
    k = [i for i, pw in enumerate(wbf.powers) if tuple(pw) == (0, 1)][0]
    if structure == "qq":
        form = 1 / minkowski(pa + pb, pa + pb) + 1 / minkowski(p1 + p2, p1 + p2)
    else:
        form = 1 / (2 * minkowski(pa, p2)) + 1 / (2 * minkowski(pb, p1))
    ratio = comps[:, k] / comps[:, 0] / (eps(pa, pb, p1, p2) * form)
    assert np.std(ratio) < 1e-9 * abs(np.mean(ratio))


def test_line_tensor_signs_under_chirality_and_charge_conjugation(wbf):
    # WBF writes every chirality and antiquark line through the left-handed quark line's (S, A)
    # (theory.processes.wbf.line_parts): P_R and in <-> out must each flip A and keep S. Checked on
    # the Dirac traces themselves, exactly (polynomials: the differences expand to zero).
    import sympy as sp

    from theory.dirac import current_tensor
    from theory.processes.wbf import line_parts

    pa, p1 = list(wbf.momenta["pa"]), list(wbf.momenta["p1"])
    S, A = line_parts(pa, p1)
    right = current_tensor(p1, pa, "R")
    antiquark = current_tensor(pa, p1, "L")
    for i in range(4):
        for j in range(4):
            for other in (right, antiquark):
                re, im = other[i, j].as_real_imag()
                assert sp.expand(re - S[i, j]) == 0
                assert sp.expand(im + A[i, j]) == 0
    assert any(sp.expand(A[i, j]) != 0 for i in range(4) for j in range(4))  # the signs matter
