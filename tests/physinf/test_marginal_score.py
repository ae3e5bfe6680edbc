"""Score of the observable event: the labelled joint score averaged over jet assignments.

Checks: (1) the identity permutation of Integrand.matrix_weights reproduces the stored joint
score (the re-evaluation uses the generator's PDFs, scale and couplings); (2) the marginal score
does not depend on the labels (swapping p1 <-> p2 leaves it unchanged, while the joint score
changes); (3) it is the conditional mean E[t(x, z)|x]: the residual t_joint - t_marg is
orthogonal to every function of the unlabelled event, here t_marg itself, within the Monte
Carlo error of the sample (4 standard errors); (4) processes without unlabelled jets keep
their joint score; (5) samples without a generation config are refused with a hint; a fixed scale is read from the
config.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from physinf.errors import InvalidParameterError
from physinf.simulate import generate, marginal_score, unlabelled_components
from physinf.simulate.marginal import _integrand
from theory.scores import joint_score


def _swapped(sample):
    order = [0, 1, 3, 2, 4]
    return dataclasses.replace(sample, momenta=sample.momenta[:, order], pdg=sample.pdg[:, order], observables={})


def _labelled(sample):
    """Matrix-element weights at the labelled momenta (x1, x2 from the incoming partons)."""
    p = sample.momenta
    integrand = _integrand(sample, None, None)
    return integrand.matrix_weights(p, (p[:, 0, 0] + p[:, 0, 3]) / 13000.0, (p[:, 1, 0] - p[:, 1, 3]) / 13000.0)


def test_identity_permutation_reproduces_the_stored_joint_score(wbf_sample):
    sub = wbf_sample.subset(np.arange(2000))
    theta = np.array([0.3, -0.2])
    mine = joint_score(sub.powers, _labelled(sub), wbf_sample.sigma_components, theta)
    stored = wbf_sample.joint_score(theta)[:2000]
    assert np.max(np.abs(mine - stored)) < 1e-9 * np.max(np.abs(stored))


def test_marginal_score_ignores_the_jet_labels(wbf_sample):
    sub = wbf_sample.subset(np.arange(3000))
    swapped = _swapped(sub)
    t = marginal_score(sub)
    t_swapped = marginal_score(swapped)
    assert np.max(np.abs(t - t_swapped)) < 1e-10 * np.max(np.abs(t))
    # the labelled joint score is not symmetric: the comparison above is not vacuous
    joint_swapped = joint_score(sub.powers, _labelled(swapped), sub.sigma_components, sub.theta_ref)
    assert np.max(np.abs(joint_swapped - sub.joint_score())) > 0.1 * np.max(np.abs(t))
    # and the summed components are the two labelled evaluations
    assert np.allclose(unlabelled_components(sub), _labelled(sub) + _labelled(swapped), rtol=1e-12, atol=0)


def test_marginal_score_is_the_conditional_mean_of_the_joint_score(wbf_sample):
    k = list(wbf_sample.coefficients).index("cHWtil")
    t_joint = wbf_sample.joint_score()[:, k]
    t_marg = marginal_score(wbf_sample)[:, k]
    w = wbf_sample.weights()
    # weighted mean of (t_joint - t_marg) t_marg and its standard error (weights normalised)
    prod = (t_joint - t_marg) * t_marg
    wn = w / w.sum()
    mean = np.sum(wn * prod)
    se = np.sqrt(np.sum(wn**2 * (prod - mean) ** 2))
    info_marg = np.sum(wn * t_marg**2)
    assert abs(mean) < 4 * se + 1e-12 * info_marg, (mean, se)
    # information: observable < joint, and the labels carry a few per cent (measured 5 %)
    ratio = info_marg / np.sum(wn * t_joint**2)
    assert 0.8 < ratio < 1.0


def test_process_without_unlabelled_jets_keeps_its_joint_score():
    sample = generate("drell_yan", 400, seed=3, n_adapt=2000, n_iterations=3, scale_factors=())
    assert np.allclose(marginal_score(sample), sample.joint_score(), rtol=1e-9, atol=1e-12)


def test_sample_without_config_is_refused_with_a_hint(wbf_sample):
    sub = dataclasses.replace(wbf_sample.subset(np.arange(10)), config=None)
    with pytest.raises(InvalidParameterError, match="no generation config"):
        marginal_score(sub)
    other = dataclasses.replace(wbf_sample.config, process="drell_yan")
    with pytest.raises(InvalidParameterError, match="does not match"):
        marginal_score(wbf_sample.subset(np.arange(10)), config=other)


def test_fixed_scale_is_taken_from_the_config():
    # a fixed factorisation scale changes the channel mix, hence the ratios of the components:
    # re-evaluating with the config's scale reproduces the stored joint score; another scale does not
    sample = generate("wbf", 2000, seed=4, scale=125.0, n_adapt=1000, n_iterations=2, scale_factors=())
    theta = np.array([0.0, 0.5])
    own = joint_score(sample.powers, _labelled(sample), sample.sigma_components, theta)
    assert np.max(np.abs(own - sample.joint_score(theta))) < 1e-9 * np.max(np.abs(own))
    moved = dataclasses.replace(sample, config=dataclasses.replace(sample.config, scale_gev=2000.0))
    other = joint_score(sample.powers, _labelled(moved), sample.sigma_components, theta)
    assert np.max(np.abs(other - sample.joint_score(theta))) > 1e-4 * np.max(np.abs(own))
