"""NPE, NLE and NRE (sbi) against the exact posterior of the toy, with tiny budgets.

The toy (test_sbi_toy.py) has a closed-form observable density, so the exact posterior of an
experiment of N = 20 events is known (:class:`ReferencePosterior` on the closed-form components;
posterior width ≈ 1/sqrt(20) ≈ 0.22). Networks are small and trained on 3000 simulations (5000
in 2-d) in a few seconds each; the benchmark trains fully.

Tolerances: C2ST of 500 draws against 500 exact draws has a null spread 0.5/sqrt(1000) = 0.016
(c2st_null_sigma); the bound 0.5 + 3 x 0.016 + 0.05 allows, beyond the null, what a mean shift of
about 0.25 posterior widths gives (Φ(0.125) − 0.5 = 0.05) — the accuracy these budgets reach
(measured 0.50–0.53 in 1-d). Posterior means within 0.35 exact widths, widths within [0.75, 1.35]
of the exact one. Calibration over 100 experiments: binomial errors 0.047 (68 %) and 0.022 (95 %);
bound 3σ plus the same tiny-budget allowance of 0.05.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
import torch
from test_sbi_toy import toy_components, toy_sample

from physinf.errors import InvalidParameterError, UnknownNameError
from physinf.learn import (
    BoxPrior,
    EstimatorFileError,
    EventSimulator,
    NotFittedError,
    PosteriorConfig,
    PosteriorEstimator,
    ReferencePosterior,
    ScoreSummary,
    TrainingConfig,
    c2st,
    c2st_null_sigma,
    calibrate,
)

FEATURES = ["x1", "x2"]
N_EVENTS = 20
SMALL = dict(hidden_features=32, num_transforms=3, max_epochs=80, stop_after_epochs=10, seed=1,
             normalisation_events=5000)
SALLY = TrainingConfig(epochs=15, batch_size=256, patience=5, learning_rate=3e-3, final_learning_rate=3e-4)
C2ST_BOUND = 0.5 + 3 * c2st_null_sigma(500) + 0.05


@pytest.fixture(scope="module")
def toy():
    train, test = toy_sample(20000, seed=5).split([0.5, 0.5], np.random.default_rng(0))
    return train, test


def _estimator(method: str, prior: BoxPrior, n_sims: int = 3000, **config) -> PosteriorEstimator:
    summary = ScoreSummary(FEATURES, coefficients=prior.names, training=SALLY, hidden=(32, 32)) if method == "npe" else None
    return PosteriorEstimator(method, prior, FEATURES, n_events=N_EVENTS, summary=summary, device="cpu",
                              config=PosteriorConfig(n_simulations=n_sims, **{**SMALL, **config}))


@pytest.fixture(scope="module")
def trained_1d(toy):
    train, _ = toy
    prior = BoxPrior([-1], [1], names=["a"])
    return {m: _estimator(m, prior).fit(train) for m in ("npe", "nle", "nre")}


@pytest.fixture(scope="module")
def observed_1d(toy):
    _, test = toy
    sim = EventSimulator(test, BoxPrior([-1], [1], names=["a"]))
    idx = sim.draw([[0.3]], N_EVENTS, np.random.default_rng(21))[0]
    exact = ReferencePosterior(sim, toy_components(test)).posterior(idx)
    x = np.stack([test.observables[f] for f in FEATURES], axis=1)[idx]
    return x, exact


# ------------------------------------------------------------------------------ against the exact posterior
@pytest.mark.parametrize("method", ["npe", "nle", "nre"])
def test_one_coefficient_posterior_matches_the_exact_one(trained_1d, observed_1d, method):
    x, exact = observed_1d
    post = trained_1d[method].posterior(x)
    draws = post.sample(500)
    reference = exact.sample(500, np.random.default_rng(2))
    assert c2st(draws, reference) < C2ST_BOUND
    assert abs(post.mean()[0] - exact.mean()[0]) < 0.35 * exact.std()[0]
    assert 0.75 < post.std()[0] / exact.std()[0] < 1.35
    lo, hi = post.credible_interval(0.68)
    assert lo < post.mean()[0] < hi and abs((hi - lo) / 2 - post.std()[0]) < 0.15 * post.std()[0]  # near-Gaussian
    assert np.all(np.abs(draws) <= 1.0)  # inside the prior box
    grid = post.grid
    np.testing.assert_allclose(np.sum(np.exp(grid.log_density)) * grid.widths[0], 1.0, rtol=1e-9)


@pytest.mark.parametrize(("method", "config"), [("nle", {"nle_training": "simulations"}), ("nle", {"score_weight": 0.0}),
                                               ("nre", {"nre_training": "simulations"}), ("nre", {"score_weight": 0.0})],
                         ids=["nle-sbi-trainer", "nle-no-score-term", "nre-sbi-trainer", "nre-no-score-term"])
def test_training_variants_match_the_exact_posterior(toy, observed_1d, method, config):
    """NLE and NRE the sbi way (its trainer on 3000 fixed (θ, x) pairs; NRE_C) and on the weights
    without the joint-score regression (the defaults have it): the same bounds as the defaults above."""
    train, _ = toy
    x, exact = observed_1d
    est = _estimator(method, BoxPrior([-1], [1], names=["a"]), **config).fit(train)
    post = est.posterior(x)
    assert c2st(post.sample(500), exact.sample(500, np.random.default_rng(2))) < C2ST_BOUND
    assert abs(post.mean()[0] - exact.mean()[0]) < 0.35 * exact.std()[0]
    assert 0.75 < post.std()[0] / exact.std()[0] < 1.35


def test_two_coefficient_posterior_matches_the_exact_one(toy):
    train, test = toy
    prior = BoxPrior([-1, -1], [1, 1])
    est = _estimator("nre", prior, n_sims=5000).fit(train)
    sim = EventSimulator(test, prior)
    idx = sim.draw([[0.3, -0.2]], N_EVENTS, np.random.default_rng(22))[0]
    exact = ReferencePosterior(sim, toy_components(test)).posterior(idx)
    post = est.posterior(np.stack([test.observables[f] for f in FEATURES], axis=1)[idx])
    assert c2st(post.sample(500), exact.sample(500, np.random.default_rng(3))) < C2ST_BOUND
    assert np.all(np.abs(post.mean() - exact.mean()) < 0.35 * exact.std())
    assert np.all((0.75 < post.std() / exact.std()) & (post.std() / exact.std() < 1.35))
    assert post.cov().shape == (2, 2) and post.labels == ("a", "b")


def test_mcmc_agrees_with_the_grid(trained_1d, observed_1d):
    """Cross-check of the grid sampler against sbi's own MCMC (slice sampling, numpy-seeded).

    MCMC draws are autocorrelated (10 chains x 30 draws, thinning 2): the bound allows twice the
    independent-draw null spread of 300 draws (0.5 + 2 x 3 x 0.020)."""
    x, _ = observed_1d
    est = copy.copy(trained_1d["nre"])
    est.config = dataclasses.replace(est.config, mcmc_chains=10, mcmc_warmup=50)
    post = est.posterior(x)
    mcmc = post.sample(300, sampler="mcmc")
    assert c2st(mcmc, post.sample(300, sampler="grid")) < 0.5 + 6 * c2st_null_sigma(300)
    np.testing.assert_array_equal(post.sample(300, sampler="mcmc"), mcmc)  # reproducible


class _ExactToyRatio(torch.nn.Module):
    """The toy's exact log r(x, θ) = log[U(x)·f(θ)/σ(θ)] (one coefficient a), plus a spurious 0.3 a."""

    def __init__(self) -> None:
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def unnormalized_log_ratio(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        a = theta.reshape(-1, theta.shape[-1])[:, 0].double()
        x1 = x.reshape(-1, x.shape[-1])[:, 0].double()
        exact = torch.log(1 + a * x1 + a**2 * (x1**2 / 4 + 1 / 16)) - torch.log(1 + 5 * a**2 / 16)
        return (exact + 0.3 * a).float().reshape(theta.shape[:-1])

    forward = unnormalized_log_ratio


def test_nre_normalisation_removes_a_spurious_function_of_theta(toy, observed_1d):
    """A θ-only error g(θ) = 0.3 a in the log ratio shifts the posterior of N = 20 events by
    N g'/(N I) = 0.3 (1.3 widths; I = 1 per event); normalising over 20000 marginal draws must
    bring it back to the exact posterior: the normaliser's Monte Carlo error moves the mean by
    ~ 1/sqrt(20000)/I ≈ 0.007 and the training sample's finite size by ~ 1/sqrt(N_eff = 10⁴) ≈ 0.01,
    so within 0.15 widths."""
    train, _ = toy
    x, exact = observed_1d
    prior = BoxPrior([-1], [1], names=["a"])
    est = PosteriorEstimator("nre", prior, FEATURES, n_events=N_EVENTS, device="cpu", config=PosteriorConfig(seed=0))
    est.network_, est.simulator_ = _ExactToyRatio(), EventSimulator(train, prior)
    raw = est.posterior(x)
    assert (raw.mean()[0] - exact.mean()[0]) / exact.std()[0] > 1.0
    est.log_normaliser_ = est._ratio_normaliser(est.simulator_, np.stack([train.observables[f] for f in FEATURES], 1),
                                                np.random.default_rng(0))
    fixed = est.posterior(x)
    assert abs(fixed.mean()[0] - exact.mean()[0]) < 0.15 * exact.std()[0]
    assert fixed.std()[0] == pytest.approx(exact.std()[0], rel=0.05)
    assert np.all(np.abs(est.log_normaliser([[-0.9], [0.0], [0.9]])[:, None] - 0.3 * np.array([[-0.9], [0.0], [0.9]])) < 0.03)


class _ToyRatioOverMarginal(torch.nn.Module):
    """The toy's exact log p(x|a)/p̄(x), p̄ = E_{a~U(-1,1)} p(x|a) (b = 0), plus ``shift(a, x1)``.

    p(x|a)/p(x|0) = (1 + a x1 + a² c)/(1 + k a²), c = x1²/4 + 1/16, k = 5/16, so
    p̄(x)/p(x|0) = I0 + c I2 with I0 = arctan(√k)/√k and I2 = (1 − I0)/k (the prior averages of
    1/(1 + k a²) and a²/(1 + k a²); the odd term averages to zero)."""

    def __init__(self, shift=lambda a, x1: 0.0 * a) -> None:
        super().__init__()
        self.unused, self.shift = torch.nn.Parameter(torch.zeros(1)), shift

    def forward(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        a, x1 = theta[:, 0].double(), x[:, 0].double()
        k = 5 / 16
        c = x1**2 / 4 + 1 / 16
        i0 = np.arctan(np.sqrt(k)) / np.sqrt(k)
        exact = torch.log(1 + a * x1 + a**2 * c) - torch.log(1 + k * a**2) - torch.log(i0 + c * (1 - i0) / k)
        return (exact + self.shift(a, x1)).float()


def test_nre_loss_on_the_weights_is_smallest_at_the_exact_ratio(toy):
    """NRE's training loss on the weights (cross-entropy with the events' exact ratios r_n(θ) =
    p_n(θ)/p̄_n, physinf.learn.weighted_training) must be minimised by the exact observable log ratio
    log p(x|θ)/p̄(x) (the hidden label z averages out of both terms): each perturbation (a constant,
    a θ-only term, an x-θ term) raises it. Common pairs for every network, so the differences
    (~c²/4 ≈ 0.01 for c = 0.2) are not hidden by the 1/sqrt(2·10⁵) noise of the loss itself. The
    score term (α = 1) is then smallest at the exact ratio too: its residual is the difference of
    the observable and the event-level score, which no network can remove."""
    from physinf.learn.data import feature_matrix
    from physinf.learn.weighted_training import _ratio_loss, _WeightedPairs

    train, _ = toy
    prior = BoxPrior([-1], [1], names=["a"])
    pairs = _WeightedPairs(EventSimulator(train, prior), feature_matrix(train, FEATURES), "ratio", True)
    batch = pairs.draw(prior, 200_000, np.random.default_rng(4), torch.device("cpu"))
    for alpha in (0.0, 1.0):
        exact = float(_ratio_loss(_ToyRatioOverMarginal().eval(), batch, alpha).detach())
        for shift in (lambda a, x1: 0.2 + 0 * a, lambda a, x1: -0.2 + 0 * a, lambda a, x1: 0.3 * a,
                      lambda a, x1: 0.2 * a * x1):
            assert float(_ratio_loss(_ToyRatioOverMarginal(shift).eval(), batch, alpha).detach()) > exact + 2e-3


@pytest.mark.parametrize("method", ["npe", "nre"])
def test_calibration_with_sbi_diagnostics(trained_1d, toy, method):
    _, test = toy
    cal = calibrate(trained_1d[method], test, n_experiments=100, n_posterior_samples=100, seed=3)
    assert cal.n_events == N_EVENTS and len(cal.sbc_ks_pvalues) == 1
    for level, cov, sigma in zip(cal.levels, cal.coverage, cal.coverage_sigma):
        assert abs(cov - level) < 3 * sigma + 0.05, cal
    assert cal.abs_error == max(abs(c - a) for c, a in zip(cal.coverage, cal.levels))


# ------------------------------------------------------------------------------ runtime hygiene
def test_seeded_reproducible_and_leaves_no_trace(toy, tmp_path, monkeypatch):
    train, _ = toy
    monkeypatch.chdir(tmp_path)
    prior = BoxPrior([-1], [1], names=["a"])
    threads = torch.get_num_threads()
    np_state = np.random.get_state()[1].copy()
    torch_state = torch.random.get_rng_state().clone()
    # on the weights with physinf's loop (NLE, NRE) and with sbi's trainer (NRE_C)
    for method, training in (("nle", {}), ("nre", {"nre_training": "simulations"}), ("nre", {})):
        a = _estimator(method, prior, n_sims=400, max_epochs=3, **training).fit(train)
        b = _estimator(method, prior, n_sims=400, max_epochs=3, **training).fit(train)
        c = _estimator(method, prior, n_sims=400, max_epochs=3, seed=2, **training).fit(train)
        for key, value in a.network_.state_dict().items():
            torch.testing.assert_close(value, b.network_.state_dict()[key], rtol=0, atol=0)
        assert any(not torch.equal(v, c.network_.state_dict()[k]) for k, v in a.network_.state_dict().items())
    x = np.zeros((5, 2))
    np.testing.assert_array_equal(a.posterior(x).sample(50), b.posterior(x).sample(50))
    assert list(tmp_path.iterdir()) == []  # no sbi-logs, nothing else
    assert torch.get_num_threads() == threads
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert a.history_.epochs == 3 and not a.history_.converged and len(a.history_.validation_loss) >= 3


@pytest.mark.parametrize("method", ["npe", "nle", "nre"])
def test_save_and_load_round_trip(trained_1d, observed_1d, toy, method, tmp_path):
    x, _ = observed_1d
    est = trained_1d[method]
    path = est.save(tmp_path / f"{method}.pt")
    back = PosteriorEstimator.load(path, device="cpu")
    theta = np.linspace(-0.9, 0.9, 7)[:, None]
    np.testing.assert_allclose(back.posterior(x).potential(theta), est.posterior(x).potential(theta), rtol=1e-6, atol=1e-6)
    assert back.method == method and back.prior == est.prior and back.features == est.features
    with pytest.raises(InvalidParameterError, match="loaded without a sample"):
        calibrate(back, n_experiments=100)
    with pytest.raises(EstimatorFileError, match="holds a 'PosteriorEstimator'"):
        from physinf.learn import LocalScoreEstimator

        LocalScoreEstimator.load(path)


# ------------------------------------------------------------------------------ bad input
def test_bad_input_is_refused(trained_1d, toy, wbf_sample):
    train, _ = toy
    prior = BoxPrior([-1], [1], names=["a"])
    with pytest.raises(InvalidParameterError, match="Did you mean 'nre'"):
        PosteriorEstimator("nree", prior, FEATURES, n_events=5)
    with pytest.raises(InvalidParameterError, match="a summary is NPE's"):
        PosteriorEstimator("nle", prior, FEATURES, n_events=5, summary=ScoreSummary(FEATURES))
    with pytest.raises(InvalidParameterError, match="NRE takes density_estimator"):
        PosteriorEstimator("nre", prior, FEATURES, n_events=5, config=PosteriorConfig(density_estimator="nsf"))
    with pytest.raises(InvalidParameterError, match="Did you mean 'maf'"):
        PosteriorConfig(density_estimator="mafs")
    with pytest.raises(InvalidParameterError, match="nle_training must be 'weights'"):
        PosteriorConfig(nle_training="weighted")
    with pytest.raises(InvalidParameterError, match="score_weight must be a finite number"):
        PosteriorConfig(score_weight=-1.0)
    with pytest.raises(InvalidParameterError, match="nre_training must be 'weights'"):
        PosteriorConfig(nre_training="sbi")
    with pytest.raises(InvalidParameterError, match="set nre_training='simulations' to use sbi's NRE_A"):
        PosteriorConfig(nre_variant="a")
    for method in ("nle", "nre"):
        with pytest.raises(InvalidParameterError, match=f"set {method}_training='weights' or score_weight=0"):
            PosteriorEstimator(method, prior, FEATURES, n_events=5,
                               config=PosteriorConfig(**{f"{method}_training": "simulations"}, score_weight=1.0))
    default, sbi_way = PosteriorConfig(), PosteriorConfig(nle_training="simulations", nre_training="simulations")
    assert [default.score_weight_for(m) for m in ("nle", "nre")] == [1.0, 1.0]
    assert [sbi_way.score_weight_for(m) for m in ("nle", "nre")] == [0.0, 0.0]
    assert default.training_for("npe") == "simulations" and PosteriorConfig(score_weight=0.5).score_weight_for("nre") == 0.5
    with pytest.raises(InvalidParameterError, match="n_events"):
        PosteriorEstimator("nle", prior, FEATURES, n_events=0)
    with pytest.raises(NotFittedError):
        PosteriorEstimator("nle", prior, FEATURES, n_events=5).posterior(np.zeros((5, 2)))
    with pytest.raises(UnknownNameError, match="the process 'wbf' does not have"):
        PosteriorEstimator("nle", prior, ["x_p1"], n_events=5).fit(wbf_sample)
    with pytest.raises(InvalidParameterError, match="1 dimension.*'a', 'b'"):
        PosteriorEstimator("nle", BoxPrior([-1], [1]), FEATURES, n_events=5).fit(train)
    nle, npe = trained_1d["nle"], trained_1d["npe"]
    with pytest.raises(InvalidParameterError, match=r"shape \(N, 2\)"):
        nle.posterior(np.zeros((5, 3)))
    with pytest.raises(InvalidParameterError, match="non-finite"):
        nle.posterior(np.array([[0.0, np.inf]]))
    with pytest.raises(InvalidParameterError, match="trained on experiments of 20 events"):
        npe.posterior(np.zeros((7, 2)))
    post = nle.posterior(np.zeros((3, 2)))
    with pytest.raises(InvalidParameterError, match="outside the prior box"):
        post.log_prob([[1.2]])
    with pytest.raises(InvalidParameterError, match="Did you mean 'mcmc'"):
        post.sample(10, sampler="mcm")
    with pytest.raises(InvalidParameterError, match="draws from NPE's flow"):
        post.sample(10, sampler="direct")
    with pytest.raises(InvalidParameterError, match="n_experiments"):
        calibrate(nle, n_experiments=10)
