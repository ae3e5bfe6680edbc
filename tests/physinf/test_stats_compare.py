"""information_table: binned and unbinned rows computed the same way for every observable.

Checks: one bin is the rate-only information L (dσ/dθ)²/σ computed by hand; the labelled joint
score (unbinned) reproduces the truth-level information of theory.scores to 1e-10; binning can only
lose information (histogram of Δφ_jj and of the exact score <= the unbinned exact score);
the width is 2 × 1.96/√I; a bad coefficient or reference name is refused.
"""

from __future__ import annotations

import numpy as np
import pytest

from physinf.simulate import marginal_score
from physinf.stats import information_table, unbinned_fisher_information
from physinf.stats.errors import InvalidModelError


def test_rows_agree_with_independent_formulas(wbf_sample):
    s = wbf_sample
    theta = np.zeros(2)
    t_obs = marginal_score(s)[:, 1]
    rows = information_table(
        s.weight_components, s.powers, s.coefficients, theta, "cHWtil", 300.0,
        binned={"rate": np.zeros(len(s)), "dphi": s.observables["delta_phi_jj"], "score_hist": t_obs},
        scores={"observable score": t_obs, "joint score": s.joint_score(theta)[:, 1]},
        reference="joint score",
    )
    truth = unbinned_fisher_information(s.weight_components, s.powers, theta, 300.0)[1, 1]
    assert rows["joint score"].information == pytest.approx(truth, rel=1e-10)
    # CP-odd coefficient at the SM: dσ/dθ vanishes up to MC noise, so the rate knows almost nothing
    assert rows["rate"].information < 1e-3 * truth
    assert rows["dphi"].information < rows["observable score"].information
    assert rows["score_hist"].information < rows["observable score"].information <= truth * (1 + 1e-12)
    assert rows["observable score"].width95 == pytest.approx(2 * 1.959963984540054 / np.sqrt(rows["observable score"].information))
    assert rows["joint score"].fraction_of_reference == 1.0


def test_one_bin_is_the_rate_information(wbf_sample):
    s = wbf_sample
    theta = np.array([0.0, 0.0])
    rows = information_table(s.weight_components, s.powers, s.coefficients, theta, "cHW", 300.0,
                             binned={"rate": s.observables["m_jj"]}, n_bins=1)
    sigma = s.cross_section(theta)
    dsigma = s.weight_gradients(theta)[:, 0].sum()
    assert rows["rate"].information == pytest.approx(300.0 * 1000.0 * dsigma**2 / sigma, rel=1e-10)


def test_bad_names_are_refused(wbf_sample):
    s = wbf_sample
    with pytest.raises(InvalidModelError, match="unknown coefficient"):
        information_table(s.weight_components, s.powers, s.coefficients, [0, 0], "cHB", 300.0, binned={"x": s.observables["m_jj"]})
    with pytest.raises(InvalidModelError, match="reference"):
        information_table(s.weight_components, s.powers, s.coefficients, [0, 0], "cHW", 300.0,
                          binned={"x": s.observables["m_jj"]}, reference="y")
