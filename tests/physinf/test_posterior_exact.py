"""Exact posteriors on a θ grid, checked against closed forms, quadrature, Fisher information and calibration.

* Grid machinery on Gaussians (log density known): mean, covariance, central interval and HPD
  credibility to 1e-3 of the width (grid cells are ~1/60 of a width: quadrature errors O(h²) ~ 1e-4).
* The toy (test_sbi_toy.py): the grid posterior of N = 20 events from the closed-form components
  against an independent scipy quadrature of the same likelihood: mean and width to 1e-3 of the
  width, interval ends to 2e-3.
* WBF at parton level: the per-event Fisher information from the unlabelled components equals
  E[t²] of ``marginal_score`` (the lead's score of the observable event, computed independently
  from the matrix elements) to 1e-9; the exact posterior of N = 2000 events approaches the Fisher
  width 1/sqrt(N I) (Bernstein–von Mises): averaged over 8 experiments within 6 % (the observed
  information of one experiment scatters by ~ sd(t²)/(E[t²] sqrt(N)) ≈ 7 %, /sqrt(8) for the mean,
  plus the 1/N corrections of a quadratic likelihood).
* Calibration: for experiments drawn from the simulator, the posterior from the labelled weights
  is the exact posterior of the index-level simulator, and the posterior from the unlabelled
  components that of the observable events; both must cover at 68 % and 95 % within 3 binomial
  standard errors (200 experiments: 0.033 and 0.015) plus the rank resolution 1/L (L = 200 draws).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, optimize
from test_sbi_toy import TOY_SIGMA_COMPONENTS, toy_components, toy_sample

from physinf.errors import InvalidParameterError, UnknownNameError
from physinf.learn import BoxPrior, EventSimulator, GridPosterior, ReferencePosterior, calibrate
from physinf.simulate import marginal_score, unlabelled_components


# ------------------------------------------------------------------------------ grid machinery
def test_grid_posterior_of_a_gaussian():
    prior = BoxPrior([-1], [1], names=["c"])
    grid = GridPosterior.from_log_function(lambda th: -0.5 * ((th[:, 0] - 0.1) / 0.2) ** 2, prior)
    assert grid.mean()[0] == pytest.approx(0.1, abs=2e-4)
    assert grid.std()[0] == pytest.approx(0.2, rel=1e-3)
    lo, hi = grid.credible_interval(0.68)
    z = 0.994457883  # Φ⁻¹(0.84)
    assert lo == pytest.approx(0.1 - 0.2 * z, abs=2e-4) and hi == pytest.approx(0.1 + 0.2 * z, abs=2e-4)
    np.testing.assert_allclose(grid.hpd_credibility([[0.3], [0.1 - 0.2 * 1.959964]]), [0.682689, 0.95], atol=2e-3)
    # log_prob is normalised over the box, and the grid's interpolation agrees with it
    total, _ = integrate.quad(lambda t: np.exp(grid.log_prob([[t]])[0]), -1, 1, points=[0.1], limit=200)
    assert total == pytest.approx(1.0, abs=1e-4)
    th = np.random.default_rng(0).uniform(-0.3, 0.5, (50, 1))
    np.testing.assert_allclose(grid.interpolated_log_density(th), grid.log_prob(th), atol=2e-3)
    # samples: mean and std within 4 standard errors of 20000 draws
    draws = grid.sample(20000, np.random.default_rng(1))
    assert abs(draws.mean() - 0.1) < 4 * 0.2 / np.sqrt(20000)
    assert abs(draws.std() / 0.2 - 1) < 4 / np.sqrt(2 * 20000)


def test_grid_posterior_of_a_correlated_gaussian_in_two_dimensions():
    cov = np.array([[0.04, 0.018], [0.018, 0.0225]])
    inv = np.linalg.inv(cov)
    mean = np.array([-0.2, 0.3])
    prior = BoxPrior([-1.5, -1.5], [1.5, 1.5], names=["a", "b"])
    grid = GridPosterior.from_log_function(lambda th: -0.5 * np.einsum("ni,ij,nj->n", th - mean, inv, th - mean), prior)
    np.testing.assert_allclose(grid.mean(), mean, atol=1e-3)
    np.testing.assert_allclose(grid.cov(), cov, rtol=5e-3, atol=2e-5)
    lo, hi = grid.credible_interval(0.95, "b")
    assert (lo, hi) == pytest.approx((0.3 - 1.959964 * 0.15, 0.3 + 1.959964 * 0.15), abs=3e-3)
    th = mean + np.array([[0.2, 0.15]])
    d2 = float((th[0] - mean) @ inv @ (th[0] - mean))  # 1.14: the HPD region of a Gaussian is an ellipse
    assert grid.hpd_credibility(th)[0] == pytest.approx(1 - np.exp(-d2 / 2), abs=5e-3)


def test_grid_posterior_refuses_what_it_cannot_do():
    with pytest.raises(InvalidParameterError, match="one or two coefficients"):
        GridPosterior.from_log_function(lambda th: np.zeros(len(th)), BoxPrior([0, 0, 0], [1, 1, 1]))
    with pytest.raises(InvalidParameterError, match="-inf"):
        GridPosterior.from_log_function(lambda th: np.full(len(th), -np.inf), BoxPrior([0], [1]))
    grid = GridPosterior.from_log_function(lambda th: np.zeros(len(th)), BoxPrior([0], [1], names=["c"]))
    with pytest.raises(InvalidParameterError, match="level"):
        grid.credible_interval(1.5)
    with pytest.raises(UnknownNameError, match="Did you mean 'c'"):
        grid.marginal("cc")


# ------------------------------------------------------------------------------ the toy in closed form
def test_exact_toy_posterior_against_quadrature():
    s = toy_sample(20000, seed=3)
    prior = BoxPrior([-1], [1], names=["a"])
    sim = EventSimulator(s, prior)
    ref = ReferencePosterior(sim, toy_components(s), sigma_components=TOY_SIGMA_COMPONENTS)
    idx = sim.draw([[0.4]], 20, np.random.default_rng(7))[0]
    post = ref.posterior(idx)
    x1 = s.observables["x1"][idx]

    def like(a: float) -> float:
        return float(np.exp(np.sum(np.log(1 + a * x1 + a**2 * (x1**2 / 4 + 1 / 16))) - 20 * np.log(1 + 5 * a**2 / 16)))

    z, _ = integrate.quad(like, -1, 1, limit=200)
    mean = integrate.quad(lambda a: a * like(a), -1, 1, limit=200)[0] / z
    sd = np.sqrt(integrate.quad(lambda a: (a - mean) ** 2 * like(a), -1, 1, limit=200)[0] / z)

    def cdf(a: float) -> float:
        return integrate.quad(like, -1, a, limit=200)[0] / z

    lo, hi = (optimize.brentq(lambda a, q=q: cdf(a) - q, -1, 1) for q in (0.16, 0.84))
    assert post.mean()[0] == pytest.approx(mean, abs=1e-3 * sd)
    assert post.std()[0] == pytest.approx(sd, rel=1e-3)
    got = post.credible_interval(0.68)
    assert got == pytest.approx((lo, hi), abs=2e-3 * sd)
    assert post.log_prob([[mean]])[0] == pytest.approx(np.log(like(mean) / z), abs=1e-4)


def test_reference_posterior_refuses_bad_input():
    s = toy_sample(500)
    sim = EventSimulator(s, BoxPrior([-1, -1], [1, 1]))
    with pytest.raises(InvalidParameterError, match="shape"):
        ReferencePosterior(sim, toy_components(s)[:, :3])
    ref = ReferencePosterior(sim, toy_components(s))
    with pytest.raises(InvalidParameterError, match="event indices"):
        ref.posterior(np.array([0, 600]))
    with pytest.raises(InvalidParameterError, match="1-D array of event indices"):
        ref.posterior(np.array([0.5, 1.0]))
    with pytest.raises(InvalidParameterError, match="outside the prior box"):
        ref.log_likelihood(np.array([1, 2]), [[2.0, 0.0]])


# ------------------------------------------------------------------------------ WBF, parton level
@pytest.fixture(scope="module")
def wbf_reference(wbf_sample):
    U = unlabelled_components(wbf_sample)
    return U


def test_fisher_information_equals_the_marginal_score_variance(wbf_sample, wbf_reference):
    sim = EventSimulator(wbf_sample, BoxPrior([-1, -1], [1, 1]))
    ref = ReferencePosterior.exact(sim, components=wbf_reference)
    for theta in ([0.0, 0.0], [0.4, -0.7]):
        t = marginal_score(wbf_sample, theta)
        w = wbf_sample.weights(theta)
        expected = np.einsum("n,ni,nj->ij", w / w.sum(), t, t)
        np.testing.assert_allclose(ref.fisher_information([theta]), expected, rtol=1e-9)


def test_exact_posterior_approaches_the_fisher_width(wbf_sample, wbf_reference):
    sim = EventSimulator(wbf_sample, BoxPrior([-1], [1], names=["cHWtil"]))
    ref = ReferencePosterior.exact(sim, components=wbf_reference)
    n = 2000
    fisher_width = 1 / np.sqrt(n * ref.fisher_information([0.0])[0, 0])
    rng = np.random.default_rng(11)
    ratios = [ref.posterior(sim.draw([[0.0]], n, rng)[0]).std()[0] / fisher_width for _ in range(8)]
    assert np.mean(ratios) == pytest.approx(1.0, abs=0.06), ratios


@pytest.mark.parametrize("kind", ["labelled", "unlabelled"])
def test_exact_posteriors_are_calibrated(wbf_sample, wbf_reference, kind):
    sim = EventSimulator(wbf_sample, BoxPrior([-1], [1], names=["cHWtil"]))
    components = wbf_sample.weight_components if kind == "labelled" else wbf_reference
    cal = calibrate(ReferencePosterior(sim, components), n_events=50, n_experiments=200, n_posterior_samples=200, seed=4)
    for level, cov, sigma in zip(cal.levels, cal.coverage, cal.coverage_sigma):
        assert abs(cov - level) < 3 * sigma + 1 / 200, (kind, cal)
    assert min(cal.sbc_ks_pvalues) > 1e-3, cal
