"""WBF against Pythia 8's built-in HiggsSM:ff2Hff(t:WW) + (t:ZZ), like with like.

Pythia approximates the |M|^2 numerators (Sigma3ff2HfftWW/ZZ, SigmaHiggs.cc): every flavour pair
gets the quark-quark form, where a quark-antiquark pair needs pa.p2 pb.p1 instead of pa.pb p1.p2.
``validation.pythia_wbf`` reweights physinf's exact events to Pythia's numerators, so the comparison
tests everything else (phase space, PDFs, couplings, flavour sums); without it the Delta eta_jj
shape differs at ~1e5 events (docs/benchmarks.md, validation section).

Settings on both sides: Pythia 8.317 defaults (``SMInputs.preset("pythia8")``: sin^2 theta_W = 0.2312,
sin^2 theta_eff = 0.2315, m_W = 80.385, m_Z = 91.1876 GeV) with alpha_em fixed at alphaEMmZ, a fixed
factorisation scale of 125 GeV, no cuts (inclusive), the same PDF grid file. Statistics: 4e4
phase-space points (physinf, MC error ~0.4 %) and 4e4 Pythia events (quoted error 0.25 %, which
overestimates its seed-to-seed spread by ~1.8x at this size); the 1e6-event comparison is in
benchmarks/validation.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from physinf.simulate import Cuts, generate
from physinf.simulate.phasespace import TChannel23
from theory.observables import wbf_observables
from validation.compare import shape_chi2
from validation.pythia_wbf import WBF_SM, PythiaNumerators, pythia_numerator_factors, wbf_process

N_EVENTS = 40000


def _dot(a, b):
    return a[..., 0] * b[..., 0] - np.sum(a[..., 1:] * b[..., 1:], axis=-1)


def test_pythia_numerators_are_the_quark_quark_structure():
    # Pythia's forms (SigmaHiggs.cc), independent of physinf's traces: W fusion pa.pb p1.p2 for every pair
    # (exact for q q and qbar qbar, pa.p2 pb.p1 for q qbar); Z fusion c1 pa.pb p1.p2 + c2 pa.p2 pb.p1 with
    # c1 = l1^2 l2^2 + r1^2 r2^2, c2 = l1^2 r2^2 + r1^2 l2^2 for every pair (q qbar: the two swap). Compared
    # as exact = approx / ratio to 1e-11 of the larger of the two: where the exact q qbar numerator pa.p2 pb.p1
    # nearly vanishes (ratio up to 1e9), its value is a cancellation of terms of the size of approx.
    proc = wbf_process()
    approx = PythiaNumerators(proc)
    rng = np.random.default_rng(7)
    p, *_ = TChannel23(13000.0, WBF_SM.mH, WBF_SM.mW, pt_min=20.0).map(rng.random((16, 6)), rng)
    x = _dot(p[:, 0], p[:, 1]) * _dot(p[:, 2], p[:, 3])
    y = _dot(p[:, 0], p[:, 3]) * _dot(p[:, 1], p[:, 2])
    s2 = WBF_SM.sw2_vector
    l_u, r_u, l_d, r_d = 1 - 4 / 3 * s2, -4 / 3 * s2, -1 + 2 / 3 * s2, 2 / 3 * s2
    c1, c2 = l_u**2 * l_d**2 + r_u**2 * r_d**2, l_u**2 * r_d**2 + r_u**2 * l_d**2
    expected = {"2_1_WW": 1.0, "-2_-1_WW": 1.0, "2_-2_WW": x / y, "-1_1_WW": x / y,
                "2_-1_ZZ": (c1 * x + c2 * y) / (c1 * y + c2 * x), "2_1_ZZ": 1.0}
    for name, ratio in expected.items():
        i = [ch.name for ch in proc.channels].index(name)
        exact = proc.components(p, proc.channels[i])[:, 0]
        ours = approx.components_for_channels(p, [approx.channels[i]])[:, 0, 0]
        scale = np.maximum(np.abs(ours), np.abs(exact))
        assert np.all(np.abs(exact - ours / ratio) <= 1e-11 * scale), name


@pytest.fixture(scope="module")
def both():
    pytest.importorskip("pythia8mc", reason="Pythia 8 comparison needs the shower extra (pythia8mc)")
    from validation.pythia_wbf import pythia_wbf_events

    proc = wbf_process()
    ours = generate(proc, N_EVENTS, seed=5, scale=125.0, cuts=Cuts(), n_adapt=10000, n_iterations=6, scale_factors=())
    factors = pythia_numerator_factors(ours, proc)
    ref = pythia_wbf_events(N_EVENTS, seed=5, fixed_scale=125.0)
    return ours, factors, ref


def test_pythias_numerators_raise_sigma_by_one_per_cent(both):
    # the cause of the former ~1 % gap: the factor's mean over physinf's own events (no Pythia
    # statistics involved; its MC error here is ~1e-3). Measured at 1e6 events: 1.0095 (docs/benchmarks.md).
    ours, factors, _ = both
    w = ours.weights()
    assert 1.005 < np.sum(w * factors) / np.sum(w) < 1.015


def test_inclusive_cross_section_agrees_after_reweighting(both):
    ours, factors, ref = both
    w = ours.weights()
    sigma = ours.cross_section() * np.sum(w * factors) / np.sum(w)
    combined = math.hypot(ours.cross_section_error(), ref.sigma_error_pb)
    # 4 standard deviations of the combined error (~0.5 %); the like-with-like ratio is 1.000 +- 0.002 at 1e6
    assert abs(sigma - ref.sigma_pb) < 4 * combined, (sigma, ref.sigma_pb, combined)
    # the couplings are Pythia's own: read back from the run
    assert ref.couplings["sin2thetaWbar"] == WBF_SM.sw2_vector and ref.couplings["alphaEM(mZ^2)"] == WBF_SM.alpha


@pytest.mark.parametrize(
    "name, bins",
    [("delta_eta_jj", np.linspace(0.0, 9.0, 19)), ("delta_phi_jj", np.linspace(-np.pi, np.pi, 13)),
     ("m_jj", np.array([0, 50, 100, 200, 300, 400, 600, 800, 1000, 1500, 2000, 3000, 6000.0])),
     ("pt_j1", np.array([0, 20, 40, 60, 80, 100, 130, 160, 200, 260, 350, 500, 2000.0]))],
)
def test_shapes_agree_after_reweighting(both, name, bins):
    ours, factors, ref = both
    x_o = ours.observables[name]
    x_r = wbf_observables(ref.momenta, WBF_SM.mH, WBF_SM.mW)[name]
    chi2, ndf, p = shape_chi2(x_o, ours.weights() * factors, x_r, None, bins)
    # p > 1e-3: a shape difference of a few % per bin at these statistics fails
    assert p > 1e-3, (name, chi2, ndf)
