"""The SBI simulator: unweighted events at any θ drawn from one weighted sample, and its box prior.

What is checked and why the tolerances are what they are:

* the resampled events follow the weighted distribution at θ: Pearson χ² of a histogram of M
  draws against the expectation M p_b(θ), p_b the weighted fraction of the sample in bin b. The
  draws are multinomial with exactly these probabilities, so χ² ~ χ²(B − 1) and the test fails
  for χ² above the 0.999 quantile (a false alarm once in a thousand runs, fixed seeds here);
* against an *independent* weighted sample the expectation itself fluctuates: the variance per bin
  is the multinomial one plus both samples' own MC variances Σw²/(Σw)²; same χ² criterion;
* the exact positivity check finds a weight that dips below zero only inside the box (its
  corners are all positive), which a corner check would miss.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from test_sbi_toy import toy_sample

from physinf.errors import InvalidParameterError, UnknownNameError
from physinf.learn import BoxPrior, EventSimulator
from physinf.simulate import EventSample
from theory.morphing import monomials

EDGES = np.linspace(-np.pi, np.pi, 21)


def _chi2_limit(dof: int) -> float:
    return float(stats.chi2.ppf(0.999, dof))


@pytest.mark.parametrize("theta", [[0.0, 0.0], [0.9, -0.6], [-1.0, 1.0]])
def test_resampled_events_follow_the_weighted_distribution(wbf_sample, theta):
    prior = BoxPrior([-1, -1], [1, 1])
    sim = EventSimulator(wbf_sample, prior)
    rng = np.random.default_rng(3)
    draws = sim.draw(np.tile(theta, (40, 1)), 2500, rng).ravel()  # 100k events at θ
    dphi = wbf_sample.observables["delta_phi_jj"]
    counts, _ = np.histogram(dphi[draws], EDGES)
    p, _ = np.histogram(dphi, EDGES, weights=wbf_sample.weights(theta) / wbf_sample.cross_section(theta))
    np.testing.assert_allclose(p, np.histogram(dphi, EDGES, weights=sim.probabilities(theta))[0], rtol=1e-12)
    chi2 = np.sum((counts - len(draws) * p) ** 2 / (len(draws) * p))
    assert chi2 < _chi2_limit(len(p) - 1), chi2


def test_resampled_events_match_an_independent_weighted_sample(wbf_sample):
    """Draws from one half against the weighted histogram of the other half, with every error."""
    theta = np.array([0.8])
    a, b = wbf_sample.split([0.5, 0.5], np.random.default_rng(4))
    sim = EventSimulator(a, BoxPrior([-1], [1], names=["cHWtil"]))
    full = np.array([0.0, 0.8])  # cHW fixed at the reference point (0)
    draws = sim.draw(np.tile(theta, (20, 1)), 1000, np.random.default_rng(5)).ravel()
    m = len(draws)
    frac_draws = np.histogram(a.observables["delta_phi_jj"][draws], EDGES)[0] / m

    def fractions(s: EventSample) -> tuple[np.ndarray, np.ndarray]:
        w = s.weights(full)
        total = w.sum()
        idx = np.clip(np.searchsorted(EDGES, s.observables["delta_phi_jj"], side="right") - 1, 0, len(EDGES) - 2)
        sw = np.bincount(idx, weights=w, minlength=len(EDGES) - 1)
        sw2 = np.bincount(idx, weights=w**2, minlength=len(EDGES) - 1)
        f = sw / total
        return f, (sw2 - 2 * f * sw2 + f**2 * np.sum(w**2)) / total**2  # variance of a ratio of weighted sums

    fa, va = fractions(a)
    fb, vb = fractions(b)
    variance = fa * (1 - fa) / m + va + vb
    chi2 = np.sum((frac_draws - fb) ** 2 / variance)
    assert chi2 < _chi2_limit(len(fb) - 1), chi2
    # and the draws alone, without the independent half's error, are consistent with half a
    chi2_a = np.sum((frac_draws - fa) ** 2 / (fa * (1 - fa) / m))
    assert chi2_a < _chi2_limit(len(fa) - 1), chi2_a


def test_fixed_coefficients_and_reproducible_draws(wbf_sample):
    prior = BoxPrior([-0.5], [0.5], names=["cHWtil"])
    sim = EventSimulator(wbf_sample, prior, fixed={"cHW": 0.3})
    np.testing.assert_allclose(sim.full_theta([[0.2]]), [[0.3, 0.2]])
    np.testing.assert_allclose(sim.cross_section([[0.2]]), [wbf_sample.cross_section([0.3, 0.2])], rtol=1e-12)
    one = sim.draw([[0.1], [-0.4]], 50, np.random.default_rng(9))
    two = sim.draw([[0.1], [-0.4]], 50, np.random.default_rng(9))
    assert one.shape == (2, 50) and one.dtype == np.int64
    np.testing.assert_array_equal(one, two)
    assert one.min() >= 0 and one.max() < len(wbf_sample)


def test_prior_and_simulator_refuse_bad_input(wbf_sample):
    with pytest.raises(InvalidParameterError, match="low < high"):
        BoxPrior([1.0], [-1.0])
    with pytest.raises(InvalidParameterError, match="one distinct name"):
        BoxPrior([0, 0], [1, 1], names=["cHW"])
    with pytest.raises(InvalidParameterError, match="2 dimension"):
        BoxPrior([-1, -1], [1, 1]).coefficient_index(("a", "b", "c"))
    with pytest.raises(InvalidParameterError, match="1 dimension.*cHW"):
        EventSimulator(wbf_sample, BoxPrior([-1], [1]))  # unnamed 1-d box, 2 coefficients
    with pytest.raises(UnknownNameError, match="Did you mean 'cHWtil'"):
        EventSimulator(wbf_sample, BoxPrior([-1], [1], names=["cHWtl"]))
    sim = EventSimulator(wbf_sample, BoxPrior([-1], [1], names=["cHWtil"]))
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidParameterError, match="outside the prior box"):
        sim.draw([[1.5]], 10, rng)
    with pytest.raises(InvalidParameterError, match="shape"):
        sim.draw([[0.1, 0.2]], 10, rng)
    with pytest.raises(InvalidParameterError, match="non-finite"):
        sim.draw([[np.nan]], 10, rng)
    with pytest.raises(InvalidParameterError, match="n_events"):
        sim.draw([[0.1]], 0, rng)
    with pytest.raises(InvalidParameterError, match="both in the prior and fixed"):
        EventSimulator(wbf_sample, BoxPrior([-1], [1], names=["cHWtil"]), fixed={"cHWtil": 0.0})
    with pytest.raises(InvalidParameterError, match="no events"):
        EventSimulator(wbf_sample.subset(np.zeros(len(wbf_sample), dtype=bool)), BoxPrior([-1, -1], [1, 1]))
    zero = EventSample(process="toy2", coefficients=("a", "b"), powers=monomials(2, 2), labels=("p",),
                       momenta=np.zeros((5, 1, 4)), pdg=np.zeros((5, 1)), weight_components=np.zeros((5, 6)))
    with pytest.raises(InvalidParameterError, match="all weights are zero"):
        EventSimulator(zero, BoxPrior([-1, -1], [1, 1]))


def test_a_weight_negative_only_inside_the_box_is_found():
    # w(a) = 1 - 4a + 3.9a² is positive at a = -1 (8.9) and a = 1 (0.9) but -0.026 at a = 0.51
    s = toy_sample(10)
    comps = np.tile([1.0, -4.0, 0.0, 3.9, 0.0, 0.0], (10, 1)) * 0.1
    comps[1] = [1.0, 0.0, 0.0, 1.0, 0.0, 1.0]
    bad = EventSample(process="toy2", coefficients=("a", "b"), powers=monomials(2, 2), labels=("p",),
                      momenta=s.momenta, pdg=s.pdg, weight_components=comps, observables=s.observables)
    assert np.all(bad.weights([1.0, 0.0]) > 0) and np.all(bad.weights([-1.0, 0.0]) > 0)
    with pytest.raises(InvalidParameterError, match="9 event weights become negative"):
        EventSimulator(bad, BoxPrior([-1, -1], [1, 1]))
    # a box that avoids the dip is accepted
    EventSimulator(bad, BoxPrior([-1, -1], [0.3, 1]))


@pytest.mark.parametrize("theta", [[0.0, 0.0], [0.9, -0.6]])
def test_weighted_candidates_estimate_the_weighted_distribution(wbf_sample, theta):
    """NLE's training draws (one envelope candidate per θ, weighted by p_n(θ) over its probability):
    the weighted histogram of M candidates estimates the weighted fractions p_b(θ) without bias.
    Error per bin from the candidates themselves (Σ weight² minus the mean's share); χ² against
    the exact fractions at the 0.999 quantile; the weights average to one within 5 of their σ/√M."""
    sim = EventSimulator(wbf_sample, BoxPrior([-1, -1], [1, 1]))
    m = 100_000
    idx, weight = sim.weighted_draw(np.tile(theta, (m, 1)), np.random.default_rng(7))
    assert idx.shape == weight.shape == (m,) and np.all(weight >= 0)
    assert abs(weight.mean() - 1.0) < 5 * weight.std() / np.sqrt(m)
    dphi = wbf_sample.observables["delta_phi_jj"][idx]
    est = np.histogram(dphi, EDGES, weights=weight)[0] / m
    est2 = np.histogram(dphi, EDGES, weights=weight**2)[0] / m
    variance = (est2 - est**2) / m
    p = np.histogram(wbf_sample.observables["delta_phi_jj"], EDGES, weights=sim.probabilities(theta))[0]
    chi2 = np.sum((est - p) ** 2 / variance)
    assert chi2 < _chi2_limit(len(p)), chi2


def test_joint_score_is_the_derivative_of_the_event_probabilities(wbf_sample):
    """t(z_n|θ) = ∇_θ log p_n(θ), checked by central differences (step 1e-5: truncation error
    ~1e-10 of a quadratic's log, round-off ~1e-11 / 1e-5); fixed coefficients are held fixed."""
    sim = EventSimulator(wbf_sample, BoxPrior([-1], [1], names=["cHWtil"]), fixed={"cHW": 0.4})
    theta = np.array([[0.3], [-0.7], [0.0]])
    idx = np.array([5, 17, 123])
    score = sim.joint_score(theta, idx)
    h = 1e-5
    fd = [(np.log(sim.probabilities(t + h)[i]) - np.log(sim.probabilities(t - h)[i])) / (2 * h) for t, i in zip(theta, idx)]
    np.testing.assert_allclose(score[:, 0], fd, rtol=1e-6, atol=1e-8)
    with pytest.raises(InvalidParameterError, match="one event per θ row"):
        sim.joint_score(theta, idx[:2])


def test_marginal_probabilities_are_the_prior_average(wbf_sample):
    """p̄_n = E_π[p_n(θ)] by Gauss-Legendre against adaptive quadrature (scipy quad / dblquad to
    1e-11) for a few events, in 1-d (cHW fixed at 0.4) and 2-d; the sum is one to round-off."""
    from scipy import integrate

    one = EventSimulator(wbf_sample, BoxPrior([-1], [1], names=["cHWtil"]), fixed={"cHW": 0.4})
    two = EventSimulator(wbf_sample, BoxPrior([-0.5, -1], [1, 1]))
    events = [3, 40, 777]
    for sim in (one, two):
        marginal = sim.marginal_probabilities()
        assert marginal.shape == (len(wbf_sample),) and np.all(marginal >= 0)
        assert marginal.sum() == pytest.approx(1.0, abs=1e-12)
    for n in events:
        exact = integrate.quad(lambda t, n=n: one.probabilities([[t]])[n], -1, 1, epsabs=0, epsrel=1e-11)[0] / 2
        assert one.marginal_probabilities()[n] == pytest.approx(exact, rel=1e-9)
        exact = integrate.dblquad(lambda b, a, n=n: two.probabilities([[a, b]])[n], -0.5, 1, -1, 1, epsabs=0, epsrel=1e-10)[0] / 3
        assert two.marginal_probabilities()[n] == pytest.approx(exact, rel=1e-8)


@pytest.mark.parametrize("theta", [[0.0, 0.0], [0.9, -0.6]])
def test_ratio_draws_follow_the_marginal_and_reweight_to_theta(wbf_sample, theta):
    """NRE's training draws: events from p̄ (multinomial χ² of their histogram against p̄_b at the
    0.999 quantile), and their exact ratios r_n(θ) = p_n(θ)/p̄_n reweight them to p_b(θ) (χ² with
    the candidates' own weighted variance, as for NLE's candidates above); E[r] = 1 within 5σ."""
    sim = EventSimulator(wbf_sample, BoxPrior([-1, -1], [1, 1]))
    m = 100_000
    idx, ratio = sim.ratio_draw(np.tile(theta, (m, 1)), np.random.default_rng(8))
    dphi_all = wbf_sample.observables["delta_phi_jj"]
    dphi = dphi_all[idx]
    marginal = np.histogram(dphi_all, EDGES, weights=sim.marginal_probabilities())[0]
    counts = np.histogram(dphi, EDGES)[0]
    assert np.sum((counts - m * marginal) ** 2 / (m * marginal)) < _chi2_limit(len(EDGES) - 2)
    np.testing.assert_allclose(ratio, sim.probabilities(theta)[idx] / sim.marginal_probabilities()[idx], rtol=1e-10)
    assert abs(ratio.mean() - 1.0) < 5 * ratio.std() / np.sqrt(m)
    est = np.histogram(dphi, EDGES, weights=ratio)[0] / m
    variance = (np.histogram(dphi, EDGES, weights=ratio**2)[0] / m - est**2) / m
    p = np.histogram(dphi_all, EDGES, weights=sim.probabilities(theta))[0]
    assert np.sum((est - p) ** 2 / variance) < _chi2_limit(len(p))
