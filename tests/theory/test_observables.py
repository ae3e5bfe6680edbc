"""Observables with an independent check.

* cos θ_CS of a lepton pair: at LO (p_T,ll = 0) it is the polar angle of the l⁻ in the pair's rest
  frame, signed by the pair's longitudinal direction; computed here by an explicit boost.
* cos θ of e+e- -> μ+μ-: its forward-backward asymmetry over generated events equals the Born value
  3 A1 / (8 A0) (docs/notes/physics.md §3.1) within the Monte Carlo error.
* sin and cos of the signed Δφ_jj in WBF are the sine and cosine of the stored angle.
* pair_observables (each p_T, η, y computed once; Δφ from the cross and dot products) equals the
  definitions of theory.kinematics, term by term, on random pairs and on exactly back-to-back ones
  (Δφ = +π, never -π: the interval is (-π, π]).
"""

from __future__ import annotations

import numpy as np
import pytest

from theory import kinematics as k
from theory.kinematics import boost
from theory.observables import dilepton_observables, pair_observables


def test_collins_soper_angle_is_the_rest_frame_angle_at_lo(rng):
    n = 200
    m = rng.uniform(60, 500, n)
    cos_true = rng.uniform(-1, 1, n)
    phi = rng.uniform(0, 2 * np.pi, n)
    sin_t = np.sqrt(1 - cos_true**2)
    k = (m / 2)[:, None] * np.stack([np.ones(n), sin_t * np.cos(phi), sin_t * np.sin(phi), cos_true], axis=1)
    kbar = k * np.array([1, -1, -1, -1])
    beta = np.zeros((n, 3))
    beta[:, 2] = rng.uniform(-0.95, 0.95, n)  # a longitudinal boost: p_T,ll = 0 as at LO
    lm, lp = boost(k, beta), boost(kbar, beta)
    obs = dilepton_observables(lm, lp)
    np.testing.assert_allclose(obs["m_ll"], m, rtol=1e-10)
    np.testing.assert_allclose(obs["cos_theta_cs"], np.sign(beta[:, 2]) * cos_true, atol=1e-9)


def test_ee_forward_backward_asymmetry_from_cos_theta():
    from textbook import ee_ff_a0_a1

    from physinf.simulate import generate
    from theory.sm import SM

    sample = generate("ee_mumu", 20000, sqrt_s=200.0, seed=4, n_adapt=2000, n_iterations=4)
    c, w = sample.observables["cos_theta"], sample.weights()
    afb = (w[c > 0].sum() - w[c < 0].sum()) / w.sum()
    err = np.sqrt(np.sum(w**2)) / w.sum()  # binomial-like bound on the weighted asymmetry's error
    a0, a1 = ee_ff_a0_a1(200.0**2, SM)
    assert afb == pytest.approx(3 * a1 / (8 * a0), abs=4 * err)


def test_wbf_angle_columns(wbf_sample):
    dphi = wbf_sample.observables["delta_phi_jj"]
    np.testing.assert_allclose(wbf_sample.observables["sin_delta_phi_jj"], np.sin(dphi), atol=1e-14)
    np.testing.assert_allclose(wbf_sample.observables["cos_delta_phi_jj"], np.cos(dphi), atol=1e-14)


def test_pair_observables_are_the_kinematic_definitions(rng):
    n = 2000
    pt_ = rng.uniform(1, 300, (2, n))
    eta = rng.uniform(-5, 5, (2, n))
    phi = rng.uniform(-np.pi, np.pi, (2, n))
    mass = rng.uniform(0, 20, (2, n))
    p = [np.stack([np.sqrt(m**2 + (t * np.cosh(e)) ** 2), t * np.cos(f), t * np.sin(f), t * np.sinh(e)], axis=1)
         for t, e, f, m in zip(pt_, eta, phi, mass)]
    b2b = p[0].copy()  # the last 10 pairs exactly back to back in the transverse plane
    b2b[:, 1:3] *= -1
    p[1][-10:] = b2b[-10:]
    a, b = p
    obs = pair_observables(a, b, "j")
    lead = np.where((k.pt(b) > k.pt(a))[:, None], b, a)
    sub = np.where((k.pt(b) > k.pt(a))[:, None], a, b)
    # η: asinh(p_z/p_T) here, log((|p| + p_z)/(|p| - p_z))/2 in kinematics (which loses digits at large |η|)
    checks = {"pt_j1": k.pt(lead), "pt_j2": k.pt(sub), "eta_j1": k.pseudorapidity(lead), "eta_j2": k.pseudorapidity(sub),
              "y_j1": k.rapidity(lead), "y_j2": k.rapidity(sub), "m_jj": np.sqrt(np.maximum(k.mandelstam(lead, sub), 0)),
              "delta_eta_jj": np.abs(k.pseudorapidity(lead) - k.pseudorapidity(sub)),
              "delta_phi_jj": k.delta_phi_jj_signed(a, b)}
    for name, value in checks.items():
        np.testing.assert_allclose(obs[name], value, rtol=1e-9, atol=1e-9, err_msg=name)
    assert np.all(obs["delta_phi_jj"][-10:] == np.pi)
