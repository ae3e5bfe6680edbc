"""The variational layer and the preprocessing of the amplitude surrogates, against exact answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import physinf.learn.surrogate as surrogate_api
from physinf.errors import InvalidParameterError, KinematicsError
from physinf.learn.surrogate import SurrogateConfig, TrainConfig, VBLinear
from physinf.learn.surrogate.layers import kl_divergence, resample, set_map_mode
from physinf.learn.surrogate.preprocess import Preprocessing, canonical_order, check_amplitudes, check_momenta

PUBLIC = [
    "AccuracyReport", "AmplitudeSurrogate", "NoiseInjectionResult", "PullReport", "SurrogateConfig",
    "SurrogateFileError", "SurrogateMismatchError", "SurrogateModel", "SurrogatePrediction", "TrainConfig", "VBLinear",
    "accuracy", "amplitude_dataset", "noise_injection", "plot_accuracy_vs_size", "plot_pulls", "pulls",
    "surrogate_systematic", "with_surrogate_uncertainty",
]


def test_public_api_pinned():
    assert dir(surrogate_api) == sorted(PUBLIC)


def test_kl_is_zero_at_the_prior_and_matches_monte_carlo():
    """Closed-form KL(q || N(0, 1/p)): exactly 0 when q is the prior; elsewhere equal to the Monte
    Carlo average of log q - log p over 4000 draws of the 60 weights (tolerance: 5 standard errors)."""
    torch.manual_seed(0)
    layer = VBLinear(6, 10, prior_precision=4.0)
    with torch.no_grad():
        layer.mu.zero_()
        layer.logsig2.fill_(math.log(1 / 4.0))
    assert float(layer.kl().detach()) == pytest.approx(0.0, abs=1e-5)
    with torch.no_grad():
        layer.mu.normal_(0, 0.7)
        layer.logsig2.uniform_(-3, 0)
    q = torch.distributions.Normal(layer.mu.detach().double(), (0.5 * layer.logsig2.detach().double()).exp())
    prior = torch.distributions.Normal(0.0, 0.5)
    w = q.sample((4000,))
    terms = (q.log_prob(w) - prior.log_prob(w)).sum(dim=(1, 2))
    assert float(layer.kl().detach()) == pytest.approx(float(terms.mean()), abs=5 * float(terms.std()) / math.sqrt(4000))


def test_local_reparameterisation_has_the_moments_of_random_weights():
    """Training mode: pre-activations ~ N(x mu^T + b, x^2 sigma^2^T). Over 20000 draws the sample mean
    and variance agree with these within 5 standard errors (sd/sqrt(n) and var*sqrt(2/n))."""
    torch.manual_seed(1)
    layer = VBLinear(3, 2)
    with torch.no_grad():
        layer.logsig2.fill_(-1.0)
        layer.bias.fill_(0.3)
    x = torch.tensor([[0.5, -1.0, 2.0]]).expand(20000, 3)
    layer.train()
    out = layer(x).detach().double()
    mean = (x[:1] @ layer.mu.T + layer.bias).detach().double()[0]
    var = ((x[:1] ** 2) @ layer.logsig2.exp().T).detach().double()[0]
    n = len(out)
    assert torch.all((out.mean(0) - mean).abs() < 5 * var.sqrt() / math.sqrt(n))
    assert torch.all((out.var(0) - var).abs() < 5 * var * math.sqrt(2 / n))


def test_evaluation_draw_is_one_function_until_resampled():
    torch.manual_seed(2)
    net = torch.nn.Sequential(VBLinear(4, 8), torch.nn.Tanh(), VBLinear(8, 1))
    with torch.no_grad():
        for m in net:
            if isinstance(m, VBLinear):
                m.logsig2.fill_(-2.0)
    net.eval()
    x = torch.randn(5, 4)
    a, b = net(x), net(x)
    assert torch.equal(a, b)  # the same frozen weights
    resample(net)
    assert not torch.equal(a, net(x))  # a new draw
    set_map_mode(net, True)
    m1 = net(x)
    resample(net)
    assert torch.equal(m1, net(x))  # mean weights: deterministic
    assert float(kl_divergence(net).detach()) > 0


def _boost_z(p: np.ndarray, beta: float) -> np.ndarray:
    g = 1 / math.sqrt(1 - beta**2)
    out = p.copy()
    out[..., 0] = g * (p[..., 0] - beta * p[..., 3])
    out[..., 3] = g * (p[..., 3] - beta * p[..., 0])
    return out


def _rotate(p: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    out = p.copy()
    out[..., 1] = c * p[..., 1] - s * p[..., 2]
    out[..., 2] = s * p[..., 1] + c * p[..., 2]
    return out


@pytest.fixture(scope="module")
def ggg_points():
    from physinf.learn.surrogate import amplitude_dataset

    return amplitude_dataset("gg_ggg", 400, seed=3, n_adapt=2000, n_iterations=2)


def test_invariant_inputs_are_lorentz_invariant_and_ordering_blind(ggg_points):
    """Features from s_ij are unchanged (to float64 round-off) by a boost along z, a rotation, and a
    permutation of the identical final-state gluons (canonical ordering)."""
    p, a = ggg_points
    pre = Preprocessing.fit(p, a, ("pa", "pb", "p1", "p2", "p3"), "invariants", (2, 3, 4))
    f = pre.features(p)
    np.testing.assert_allclose(pre.features(_rotate(_boost_z(p, 0.6), 1.1)), f, atol=1e-9)
    np.testing.assert_allclose(pre.features(p[:, [0, 1, 4, 2, 3]]), f, atol=1e-12)
    # standardised: unit width on the fitting points; targets: log of the dimensionless A * s_hat
    np.testing.assert_allclose(f.std(axis=0), 1.0, rtol=1e-9)
    y = pre.targets(p, a)
    np.testing.assert_allclose([y.mean(), y.std()], [0.0, 1.0], atol=1e-9)


def test_symmetry_is_detected_from_the_exact_amplitude(ggg_points):
    """g g -> g g g is symmetric in its three final gluons; WBF's labelled quark lines are not."""
    from physinf.learn.surrogate.surrogate import _symmetric_particles
    from theory.processes.registry import get_process

    p, _ = ggg_points
    ggg = get_process("gg_ggg")
    assert _symmetric_particles(ggg, ggg.channels[0], p) == (2, 3, 4)
    wbf = get_process("wbf")
    ch = wbf.channel("2_2_ZZ")  # u u -> u u H: identical flavours, but not an exchange-symmetric |M|^2
    from physinf.simulate import generate

    pw = generate("wbf", 300, seed=2, n_adapt=2000, n_iterations=2).momenta
    assert _symmetric_particles(wbf, ch, pw) == ()


def test_canonical_order_sorts_by_energy():
    p = np.zeros((1, 5, 4))
    p[0, :2, 0] = 1.0  # beams at rest in sum: the key is the energy
    p[0, 2:, 0] = [1.0, 3.0, 2.0]
    assert canonical_order(p, (2, 3, 4))[0, 2:, 0].tolist() == [3.0, 2.0, 1.0]


def test_bad_momenta_and_amplitudes_are_refused(ggg_points):
    p, a = ggg_points
    labels = ("pa", "pb", "p1", "p2", "p3")
    with pytest.raises(KinematicsError, match="shape"):
        check_momenta(p[:, :4], labels)  # a particle missing
    with pytest.raises(KinematicsError, match="shape"):
        check_momenta(p[:, :, :3], labels)
    bad = p.copy()
    bad[3, 2, 1] += 1.0  # 1 GeV of p_x out of nowhere
    with pytest.raises(KinematicsError, match="momentum conservation"):
        check_momenta(bad, labels)
    nan = p.copy()
    nan[0, 0, 0] = np.nan
    with pytest.raises(KinematicsError, match="non-finite"):
        check_momenta(nan, labels)
    with pytest.raises(InvalidParameterError, match="not finite"):
        check_amplitudes(np.where(np.arange(len(a))[:, None] == 5, np.inf, a), len(a), 1)
    with pytest.raises(InvalidParameterError, match="<= 0"):
        check_amplitudes(-a, len(a), 1)
    with pytest.raises(InvalidParameterError, match="shape"):
        check_amplitudes(a[:-1], len(a), 1)


def test_configs_refuse_unknown_and_invalid_settings():
    with pytest.raises(InvalidParameterError, match="hidden"):
        SurrogateConfig.from_dict({"hiden": 64})
    with pytest.raises(InvalidParameterError, match="invariants"):
        SurrogateConfig(inputs="invarients")
    with pytest.raises(InvalidParameterError, match="ensemble"):
        SurrogateConfig(bayesian=False)
    with pytest.raises(InvalidParameterError, match="validation_fraction"):
        TrainConfig(validation_fraction=1.5)
    with pytest.raises(InvalidParameterError, match="schedule"):
        TrainConfig(schedule="linear")


def test_networks_are_float32_whatever_torchs_default_dtype():
    """pyhf's 64-bit torch backend sets torch's default dtype to float64 process-wide; the surrogate
    and estimator networks must still be float32, the dtype of the tensors they are fed."""
    from physinf.learn.surrogate.networks import build_network

    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        net = build_network(SurrogateConfig(hidden=8, layers=2), 5, 5, 1)
        assert {p.dtype for p in net.parameters()} == {torch.float32}
        net(torch.zeros(3, 5, dtype=torch.float32))
    finally:
        torch.set_default_dtype(before)
