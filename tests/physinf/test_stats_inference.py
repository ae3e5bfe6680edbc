"""Validation of fits, scans, intervals, CLs limits and coverage against independent calculations."""

from __future__ import annotations

import numpy as np
import pyhf
import pytest
from _stats_helpers import restore_pyhf_backend, toy_templates  # noqa: F401
from scipy.optimize import brentq, minimize
from scipy.stats import norm

from physinf.stats import (
    Background,
    Systematics,
    build_likelihood,
    cls_upper_limit,
    coverage,
    fit,
    histogram_templates,
    intervals_from_scan,
    profile_scan,
    profile_scan_2d,
    threshold,
)


def _counting(b: float, s: float, n_obs: float, bounds=(-0.9, 5.0)):
    """One bin: n = b + c·s (the 'SM' template is b, the linear term s)."""
    t = histogram_templates(np.array([0.5, 0.5]), np.array([[b, 0.0], [0.0, s]]) * 1e-3, np.array([[0], [1]]), ("c",), [0.0, 1.0], 1.0)
    return build_likelihood(t, systematics=Systematics(mc_stat=False), bounds={"c": bounds}, data=[n_obs])


def test_counting_interval_matches_closed_form():
    b, s, n = 100.0, 20.0, 130.0
    lh = _counting(b, s, n)
    grid = np.linspace(-0.5, 3.5, 401)
    scan = profile_scan(lh, "c", grid)

    def q(c: float) -> float:  # -2 ln λ for a Poisson count, exact
        lam = b + c * s
        return 2 * (lam - n - n * np.log(lam / n))

    np.testing.assert_allclose(scan.delta, [q(c) for c in grid], atol=1e-6)
    assert fit(lh).bestfit["c"] == pytest.approx((n - b) / s, abs=1e-5)
    for level in (0.68, 0.95):
        (lo, hi), = intervals_from_scan(grid, scan.delta, level).segments
        t = threshold(level)
        assert lo == pytest.approx(brentq(lambda c, t=t: q(c) - t, -0.5, 1.5), abs=2e-4)
        assert hi == pytest.approx(brentq(lambda c, t=t: q(c) - t, 1.5, 3.5), abs=2e-4)


def test_cls_upper_limit_matches_asymptotic_formula():
    b, s = 50.0, 10.0
    spec = {
        "channels": [{"name": "SR", "samples": [
            {"name": "sig", "data": [s], "modifiers": [{"name": "mu", "type": "normfactor", "data": None}]},
            {"name": "bkg", "data": [b], "modifiers": []},
        ]}]
    }
    model = pyhf.Model(spec, poi_name="mu")
    res = cls_upper_limit(model, np.array([b] + model.config.auxdata))
    # data = background Asimov: q̃_μ = q_μ,A, CLs = 2(1 − Φ(√q)) → √q = Φ⁻¹(0.975)
    z = norm.ppf(0.975)
    mu = brentq(lambda m: 2 * (m * s - b * np.log1p(m * s / b)) - z**2, 0.01, 10)
    assert res.observed == pytest.approx(mu, rel=2e-3)
    assert res.expected[2] == pytest.approx(mu, rel=2e-3)
    assert pyhf.get_backend()[0].name == "numpy"


def _independent_twice_nll(t, bkg, sm_err, bkg_err, data):
    """-2 ln L written directly: Poisson bins with staterror γ on SM+bkg, Gaussian constraints."""
    rel = np.sqrt(sm_err**2 + bkg_err**2) / (t.yields[0] + bkg)

    def nll(c: np.ndarray, gamma: np.ndarray) -> float:
        f = np.prod(c[None, :] ** t.powers, axis=1)
        lam = gamma * (t.yields[0] + bkg) + f[1:] @ t.yields[1:]
        if np.any(lam <= 0):
            return 1e30
        return float(2 * np.sum(lam - data * np.log(lam)) + np.sum(((gamma - 1) / rel) ** 2))

    return nll


def test_profile_scan_matches_independent_scipy_likelihood():
    t = toy_templates(n_bins=4, lumi=30.0, two=True)
    bkg = np.array([40.0, 60.0, 60.0, 40.0])
    bkg_err = 0.1 * np.sqrt(bkg)
    data = np.round(t.yields_at([0.4, -0.3]) + bkg)
    lh = build_likelihood(t, [Background("bkg", bkg, bkg_err)], bounds={"ca": (-3, 3), "cb": (-3, 3)}, data=data)
    grid = np.linspace(0.25, 0.55, 7)
    scan = profile_scan(lh, "ca", grid)
    nll = _independent_twice_nll(t, bkg, np.sqrt(t.sumw2[0, 0]), bkg_err, data)

    def prof(ca: float | None) -> float:
        best = np.inf
        for start in (-1.0, 0.0, 1.0):
            x0 = np.concatenate([[0.0 if ca is not None else start, start], np.ones(4)])
            bnds = [(-3, 3), (-3, 3)] + [(0.5, 1.5)] * 4
            if ca is not None:
                bnds[0] = (ca, ca)
                x0[0] = ca
            r = minimize(lambda p: nll(p[:2], p[2:]), x0, method="L-BFGS-B", bounds=bnds, options={"ftol": 1e-15, "gtol": 1e-10})
            best = min(best, r.fun)
        return best

    ref = prof(None)
    np.testing.assert_allclose(scan.delta, [prof(c) - ref for c in grid], atol=1e-4)
    # others fixed instead of profiled
    fixed = profile_scan(lh, "ca", grid, profile=False, fixed={"cb": 0.0})
    assert not fixed.profiled and fixed.delta.min() >= -1e-9
    assert fixed.best.bestfit["cb"] == 0.0


def test_disjoint_interval_and_2d_scan():
    # one bin, n = 100 + 10c + 10c², observed 160: minima at c = 2 and c = -3
    t = histogram_templates(np.full(3, 0.5), np.diag([100.0, 10.0, 10.0]) * 1e-3, np.array([[0], [1], [2]]), ("c",), [0.0, 1.0], 1.0)
    lh = build_likelihood(t, systematics=Systematics(mc_stat=False), bounds={"c": (-5, 5)}, data=[160.0])
    scan = profile_scan(lh, "c", np.linspace(-5, 5, 201))
    segs = scan.interval(0.68).segments
    assert len(segs) == 2
    assert segs[0][0] < -3 < segs[0][1] < 2 - 1 and segs[1][0] < 2 < segs[1][1]
    lh2 = build_likelihood(toy_templates(n_bins=4, lumi=30.0, two=True), systematics=Systematics(mc_stat=False), bounds={"ca": (-2, 2), "cb": (-2, 2)})
    s2 = profile_scan_2d(lh2, ("ca", "cb"), np.linspace(-1, 1, 5), np.linspace(-1, 1, 4))
    assert s2.delta.shape == (4, 5) and s2.delta.min() >= -1e-6
    assert s2.delta[0, 0] == pytest.approx(float(np.sum(2 * (
        lambda lam, d: lam - d - d * np.log(lam / d))(lh2.expected_yields({"ca": -1, "cb": -1}), lh2.expected_yields()))), rel=1e-6)


def test_coverage_of_68_interval():
    lh = build_likelihood(toy_templates(n_bins=4, lumi=3.0), systematics=Systematics(mc_stat=False), bounds={"ca": (-3, 3)})
    res = coverage(lh, {"ca": 0.5}, "ca", n_toys=150, level=0.68, seed=3)
    assert abs(res.fraction - 0.68) < 3 * np.sqrt(0.68 * 0.32 / res.n_toys)


def test_functions_restore_the_global_backend():
    pyhf.set_backend("numpy", pyhf.optimize.minuit_optimizer())
    lh = _counting(100.0, 20.0, 110.0)
    fit(lh, uncertainties=True)
    profile_scan(lh, "c", np.linspace(-0.5, 1.5, 5))
    assert pyhf.get_backend()[1].name == "minuit"
