"""Parton-level generation: conservation laws, exact morphing, scores, CP, file round trip, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from physinf.simulate import Cuts, EventSample, generate
from theory.errors import EventFileError, InvalidParameterError, KinematicsError, UnknownNameError


def test_momentum_conservation_and_on_shell(wbf_sample):
    p = wbf_sample.momenta
    # pa + pb = p1 + p2 + pH to rounding of TeV-scale numbers
    np.testing.assert_allclose(p[:, 0] + p[:, 1], p[:, 2] + p[:, 3] + p[:, 4], atol=1e-7)
    m2 = p[..., 0] ** 2 - np.sum(p[..., 1:] ** 2, axis=-1)
    np.testing.assert_allclose(m2[:, :4], 0.0, atol=1e-5)
    np.testing.assert_allclose(np.sqrt(m2[:, 4]), 125.0, rtol=1e-9)


def test_cuts_are_applied(wbf_sample):
    obs = wbf_sample.observables
    assert obs["pt_j2"].min() > 20.0 and np.abs([obs["eta_j1"], obs["eta_j2"]]).max() < 5.0


def test_weights_are_an_exact_polynomial(wbf_sample, rng):
    # sigma(theta) from the sample equals the sum of reweighted events for any theta, and it is quadratic
    for _ in range(3):
        theta = rng.normal(size=2)
        assert wbf_sample.cross_section(theta) == pytest.approx(wbf_sample.weights(theta).sum(), rel=1e-12)
    ts = np.linspace(-2, 2, 5)
    sig = [wbf_sample.cross_section([t, 0.5 * t]) for t in ts]
    assert abs(np.polynomial.polynomial.polyfit(ts, sig, 3)[3]) < 1e-10 * max(sig)


def test_joint_score_is_finite_difference_of_log_likelihood(wbf_sample, rng):
    # t(z|theta) = d/dtheta [log w_z(theta) - log sigma(theta)]; central differences, step 1e-5:
    # truncation O(h^2 |d^3 log p|) ~ 1e-9, rounding ~ 1e-16/h ~ 1e-11, so 1e-6 relative is safe.
    theta = np.array([0.3, -0.2])
    score = wbf_sample.joint_score(theta)
    h = 1e-5
    for i in range(2):
        d = np.zeros(2)
        d[i] = h

        def logp(th):
            return np.log(wbf_sample.weights(th)) - np.log(wbf_sample.cross_section(th))

        fd = (logp(theta + d) - logp(theta - d)) / (2 * h)
        np.testing.assert_allclose(score[:, i], fd, rtol=1e-6, atol=1e-8)
    # expectation of the score vanishes (rate term included), exactly for the sample's own sigma
    w = wbf_sample.weights(theta)
    assert np.abs(w @ score / w.sum()).max() < 1e-10


def test_joint_ratio_equals_ratio_of_normalised_weights(wbf_sample):
    # theory.scores derives r symbolically; here it is recomputed directly from the event weights
    t0, t1 = np.array([0.5, -0.3]), np.array([0.0, 0.2])
    r = wbf_sample.joint_ratio(t0, t1)
    direct = (wbf_sample.weights(t0) / wbf_sample.cross_section(t0)) / (wbf_sample.weights(t1) / wbf_sample.cross_section(t1))
    np.testing.assert_allclose(r, direct, rtol=1e-12)


def test_cp_odd_interference_integrates_to_zero_and_is_odd_in_delta_phi(wbf_sample):
    # Component order: 1, cHW, cHWtil, cHW^2, cHW cHWtil, cHWtil^2 (theory.processes.base.monomials)
    w = wbf_sample.weight_components
    dphi = wbf_sample.observables["delta_phi_jj"]

    def total_and_error(col, mask=slice(None)):
        x = np.where(mask, col, 0.0) if not isinstance(mask, slice) else col
        return x.sum(), np.sqrt(len(x) * np.var(x))

    odd, odd_err = total_and_error(w[:, 2])
    assert abs(odd) < 4 * odd_err  # zero within MC error (4 sigma: no false alarms)
    pos, pos_err = total_and_error(w[:, 2], dphi > 0)
    neg, neg_err = total_and_error(w[:, 2], dphi < 0)
    assert pos * neg < 0 and abs(pos) > 5 * pos_err  # opposite signs, each clearly non-zero
    even_pos, e1 = total_and_error(w[:, 1], dphi > 0)
    even_neg, e2 = total_and_error(w[:, 1], dphi < 0)
    assert even_pos * even_neg > 0  # CP-even interference has the same sign in both halves
    assert abs(even_pos - even_neg) < 4 * np.hypot(e1, e2)


def test_sample_round_trip_and_corrupt_files(wbf_sample, tmp_path):
    path = wbf_sample.save(tmp_path / "wbf.h5")
    back = EventSample.load(path)
    np.testing.assert_array_equal(back.momenta, wbf_sample.momenta)
    np.testing.assert_array_equal(back.weight_components, wbf_sample.weight_components)
    assert back.process == "wbf" and back.coefficients == ("cHW", "cHWtil")
    assert back.config == wbf_sample.config and back.config.config_hash == wbf_sample.config.config_hash
    assert back.mc_rel_error == wbf_sample.mc_rel_error and dict(back.cutflow) == dict(wbf_sample.cutflow)
    assert not list(tmp_path.glob("*.tmp"))  # no temporary file left behind
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(EventFileError, match="not a readable HDF5"):
        EventSample.load(bad)
    import h5py

    with h5py.File(path, "a") as f:
        f.attrs["format_version"] = 99
    with pytest.raises(EventFileError, match="format version 99"):
        EventSample.load(path)
    with pytest.raises(EventFileError, match="does not exist"):
        EventSample.load(tmp_path / "missing.h5")


def test_unweighting_preserves_cross_section(wbf_sample, rng):
    unw = wbf_sample.unweighted(rng)
    w = unw.weights()
    assert np.allclose(w, w[0])
    assert unw.cross_section() == pytest.approx(wbf_sample.cross_section(), rel=1e-12)
    # the interference fraction agrees within the statistical error of the unweighted sample
    frac_w = wbf_sample.cross_section([1, 0]) / wbf_sample.cross_section()
    frac_u = unw.cross_section([1, 0]) / unw.cross_section()
    rel_spread = np.std(unw.weight_components[:, 1] / w) / np.sqrt(len(unw))
    assert abs(frac_w - frac_u) < 5 * rel_spread


def test_bad_input_is_explained():
    with pytest.raises(UnknownNameError, match="Did you mean 'wbf'"):
        generate("wbff", 100)
    with pytest.raises(InvalidParameterError, match="2 Wilson coefficients"):
        generate("wbf", 100, theta_ref=[0.1])
    with pytest.raises(KinematicsError, match="below the threshold"):
        generate("wbf", 100, sqrt_s=100.0)
    with pytest.raises(InvalidParameterError, match="positive energy"):
        generate("wbf", 100, sqrt_s=-5.0)
    with pytest.raises(InvalidParameterError, match="non-negative"):
        Cuts(pt_min=-1)


def test_saved_file_carries_the_joint_score_at_the_reference_point(wbf_sample, tmp_path):
    import h5py

    path = wbf_sample.save(tmp_path / "s.h5")
    with h5py.File(path, "r") as f:
        np.testing.assert_allclose(f["joint_score_ref"][()], wbf_sample.joint_score(wbf_sample.theta_ref))


def test_ee_mumu_generator_reproduces_the_born_cross_section():
    # sigma(e+e- -> mu+mu-) at sqrt(s) = 10 GeV: (4 pi alpha^2 / 3 s) A0 with the Z (docs/notes/physics.md §3.1);
    # the generator integrates |M|^2 over cos(theta) by Monte Carlo: agreement within 4 sigma of its error
    from theory.sm import SM

    s = generate("ee_mumu", 4000, sqrt_s=10.0, seed=2, n_adapt=2000, n_iterations=4)
    from textbook import ee_ff_a0_a1

    a0, _ = ee_ff_a0_a1(100.0, SM)
    expected = 4 * np.pi * SM.alpha**2 / (3 * 100.0) * a0 * 0.3893793721e9
    assert s.cross_section() == pytest.approx(expected, abs=4 * s.cross_section_error())
    assert s.cross_section_error() / s.cross_section() < 0.01


@pytest.mark.parametrize("name", ["drell_yan", "gg_gg", "gg_ggg"])
def test_every_hadronic_process_generates(name):
    # smoke test with physics: momentum conservation and a positive, finite cross section with small MC error
    s = generate(name, 2000, seed=3, n_adapt=2000, n_iterations=3)
    p = s.momenta
    np.testing.assert_allclose(p[:, 0] + p[:, 1], p[:, 2:].sum(axis=1), atol=1e-6)
    assert s.cross_section() > 0 and s.cross_section_error() < 0.2 * s.cross_section()


def test_factorisation_scale_variations(wbf_sample, tmp_path):
    # muF x 2 and x 1/2: the LO WBF cross section changes by a few per cent (no alpha_s at LO, PDFs only);
    # both variations are stored per event with the same morphing structure and survive a round trip
    up, down = wbf_sample.variation_weights("muF_x2"), wbf_sample.variation_weights("muF_x0.5")
    nominal = wbf_sample.cross_section()
    assert 0.001 < abs(up.sum() / nominal - 1) < 0.15 and 0.001 < abs(down.sum() / nominal - 1) < 0.15
    assert (up.sum() - nominal) * (down.sum() - nominal) < 0  # opposite directions
    back = EventSample.load(wbf_sample.save(tmp_path / "v.h5"))
    np.testing.assert_array_equal(back.variations["muF_x2"], wbf_sample.variations["muF_x2"])
    with pytest.raises(UnknownNameError, match="muF_x2"):
        wbf_sample.variation_weights("muF_x3")


def test_cross_section_error_of_parts(wbf_sample, rng):
    # the generator's error belongs to the whole sample; an unweighted copy keeps sigma and its error,
    # a fiducial subset falls back to the spread of its weights
    unw = wbf_sample.unweighted(rng)
    assert unw.cross_section_error() == pytest.approx(wbf_sample.cross_section_error(), rel=1e-12)
    part = wbf_sample.subset(wbf_sample.observables["m_jj"] > 500.0)
    w = part.weights()
    assert part.cross_section_error() == pytest.approx(np.sqrt(len(w) * np.var(w, ddof=1)), rel=1e-12)
