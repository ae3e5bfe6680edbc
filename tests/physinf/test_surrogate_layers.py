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
    """Features from s_ij are unchanged (to float64 round-off) by a boost along z, a rotation, a
    permutation of the identical final-state gluons and the exchange of the two incoming gluons
    (canonical ordering); without the beams among the symmetric particles the exchange shows."""
    p, a = ggg_points
    pre = Preprocessing.fit(p, a, ("pa", "pb", "p1", "p2", "p3"), "invariants", (0, 1, 2, 3, 4))
    f = pre.features(p)
    np.testing.assert_allclose(pre.features(_rotate(_boost_z(p, 0.6), 1.1)), f, atol=1e-9)
    np.testing.assert_allclose(pre.features(p[:, [0, 1, 4, 2, 3]]), f, atol=1e-12)
    np.testing.assert_allclose(pre.features(p[:, [1, 0, 3, 4, 2]]), f, atol=1e-12)
    final_only = Preprocessing.fit(p, a, ("pa", "pb", "p1", "p2", "p3"), "invariants", (2, 3, 4))
    assert np.abs(final_only.features(p[:, [1, 0, 2, 3, 4]]) - final_only.features(p)).max() > 0.1
    # standardised: unit width on the fitting points; targets: log of the dimensionless A * s_hat
    np.testing.assert_allclose(f.std(axis=0), 1.0, rtol=1e-9)
    y = pre.targets(p, a)
    np.testing.assert_allclose([y.mean(), y.std()], [0.0, 1.0], atol=1e-9)


def test_symmetry_is_detected_from_the_exact_amplitude(ggg_points):
    """g g -> g g g is symmetric in its two incoming and its three final gluons; WBF's labelled
    quark lines (also the identical incoming u u) are not."""
    from physinf.learn.surrogate.surrogate import _symmetric_particles
    from theory.processes.registry import get_process

    p, _ = ggg_points
    ggg = get_process("gg_ggg")
    assert _symmetric_particles(ggg, ggg.channels[0], p) == (0, 1, 2, 3, 4)
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
    # beams: the one closer in angle to the leading final particle (smaller p_beam.p_2) goes first
    beams = np.array([[[1.0, 0, 0, 1], [1.0, 0, 0, -1], [0.5, 0, 0.3, -0.4], [0.9, 0, -0.3, 0.4], [0.6, 0, 0, 0]]])
    out = canonical_order(beams, (0, 1, 2, 3, 4))
    assert out[0, 2].tolist() == [0.9, 0, -0.3, 0.4]  # the leading particle, towards +z
    assert out[0, 0].tolist() == [1.0, 0, 0, 1] and out[0, 1].tolist() == [1.0, 0, 0, -1]
    assert canonical_order(beams[:, [1, 0, 2, 3, 4]], (0, 1, 2, 3, 4))[0, 0].tolist() == [1.0, 0, 0, 1]
    mirrored = beams * np.array([1, 1, 1, -1])  # the leading particle towards -z: the -z beam first
    assert canonical_order(mirrored, (0, 1, 2, 3, 4))[0, 0].tolist() == [1.0, 0, 0, -1]


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


@pytest.fixture(scope="module")
def wbf_points():
    from physinf.learn.surrogate import amplitude_dataset

    return amplitude_dataset("wbf", 600, seed=5, channel="2_1_WW", n_adapt=2000, n_iterations=2)


def test_quadratic_form_pairs_recognise_dimension_six_morphing():
    """Components that are every monomial of degree <= 2 (SM first) are entries of a quadratic form
    in (1, c_1, ..., c_k); anything else (a missing quadratic piece, a cubic term) is not."""
    from physinf.learn.surrogate.preprocess import quadratic_form_pairs
    from theory.processes.registry import get_process

    assert quadratic_form_pairs(get_process("wbf").powers) == ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))
    assert quadratic_form_pairs(get_process("ee_mumu").powers)[4:7] == ((1, 1), (1, 2), (1, 3))
    assert quadratic_form_pairs(get_process("gg_ggg").powers) == ((0, 0),)
    assert quadratic_form_pairs(np.array([[0, 0], [1, 0], [0, 1]])) is None  # linear only
    assert quadratic_form_pairs(np.array([[0], [1], [2], [3]])) is None  # a cubic term
    assert quadratic_form_pairs(np.array([[1], [0], [2]])) is None  # SM not first


def test_quadratic_form_targets_round_trip_and_are_bounded(wbf_points):
    """WBF targets: logs of the SM and quadratic pieces, Cauchy-Schwarz correlations rho in [-1, 1]
    for the interference and cross terms; mapped back they give the exact components (float64
    round-off, 1e-12 relative); rho computed independently here from the components."""
    from physinf.learn.surrogate.preprocess import quadratic_form_pairs
    from theory.processes.registry import get_process

    p, a = wbf_points
    wbf = get_process("wbf")
    pre = Preprocessing.fit(p, a, wbf.labels, "invariants", (), pairs=quadratic_form_pairs(wbf.powers))
    assert pre.log_columns.tolist() == [0, 3, 5]
    y = pre.targets(p, a)
    raw = y * pre.target_std + pre.target_mean
    rho_int = a[:, 1] / (2 * np.sqrt(a[:, 0] * a[:, 3]))
    np.testing.assert_allclose(raw[:, 1], rho_int, rtol=1e-12, atol=1e-15)
    total = p[:, 0] + p[:, 1]
    shat = total[:, 0] ** 2 - np.sum(total[:, 1:] ** 2, axis=1)
    np.testing.assert_allclose(raw[:, 3], np.log(a[:, 3] * shat), rtol=1e-12)  # 2 -> 3: A s_hat is dimensionless
    assert np.all(np.abs(raw[:, [1, 2, 4]]) <= 1.0)
    back, _, _ = pre.to_physics(p, y, np.zeros_like(y), np.zeros_like(y))
    np.testing.assert_allclose(back, a, rtol=1e-12, atol=0)
    # a saved preprocessing without pairs (older surrogates) reads as the ratio targets
    old = pre.to_json()
    old.pop("pairs")
    assert Preprocessing.from_json(old).pairs is None
    assert Preprocessing.from_json(pre.to_json()).pairs == pre.pairs


def test_quadratic_form_uncertainty_propagation_matches_sampling(wbf_points):
    """sigma of A_ab = 2 rho sqrt(A_aa A_bb) from independent small Gaussian errors on the
    standardised targets equals the spread of A_ab over 4000 sampled target vectors (the
    propagation is linear to O(sigma^2), 1e-3 here; 4000 samples give a 1.1 % error on a width,
    so 5 %)."""
    from physinf.learn.surrogate.preprocess import quadratic_form_pairs
    from theory.processes.registry import get_process

    p, a = wbf_points
    wbf = get_process("wbf")
    pre = Preprocessing.fit(p, a, wbf.labels, "invariants", (), pairs=quadratic_form_pairs(wbf.powers))
    y = pre.targets(p, a)[:50]
    pick = p[:50]
    inner = np.all(np.abs(y * pre.target_std + pre.target_mean)[:, [1, 2, 4]] < 0.99, axis=1)  # away from the clip
    sigma = 1e-3
    _, s_stat, _ = pre.to_physics(pick, y, np.full_like(y, sigma**2), np.zeros_like(y))
    rng = np.random.default_rng(0)
    draws = np.stack([pre.to_physics(pick, y + sigma * rng.standard_normal(y.shape), np.zeros_like(y),
                                     np.zeros_like(y))[0] for _ in range(4000)])
    np.testing.assert_allclose(draws.std(axis=0)[inner], s_stat[inner], rtol=0.05)


def test_quadratic_form_targets_refuse_non_positive_forms(wbf_points):
    """A negative quadratic piece, or an interference beyond 2 sqrt(A_SM A_quad), cannot be a
    |M_0 + sum c_i M_i|^2 expansion: clear errors that name the way out (ratio targets)."""
    from physinf.learn.surrogate.preprocess import quadratic_form_pairs
    from theory.processes.registry import get_process

    p, a = wbf_points
    wbf = get_process("wbf")
    pairs = quadratic_form_pairs(wbf.powers)
    bad = a.copy()
    bad[7, 3] = -bad[7, 3]
    with pytest.raises(InvalidParameterError, match="component 3.*targets='ratios'"):
        Preprocessing.fit(p, bad, wbf.labels, "invariants", (), pairs=pairs)
    bad = a.copy()
    bad[7, 1] = 3 * np.sqrt(a[7, 0] * a[7, 3])
    with pytest.raises(InvalidParameterError, match="Cauchy-Schwarz.*1.5"):
        Preprocessing.fit(p, bad, wbf.labels, "invariants", (), pairs=pairs)
    pre = Preprocessing.fit(p, bad, wbf.labels, "invariants", (), pairs=None)  # ratios take any polynomial
    assert pre.pairs is None and pre.log_columns.tolist() == [0]


def test_levi_civita_input_is_a_pseudoscalar(ggg_points):
    """eps(p_a, p_b, p_1, p_2) is unchanged (to round-off relative to E^4) by a boost and a rotation
    and changes sign under parity: the one input that can carry a parity-odd amplitude's sign;
    g g -> g g g, parity even, is found not to need it."""
    from physinf.learn.surrogate.preprocess import levi_civita
    from physinf.learn.surrogate.surrogate import _parity_odd
    from theory.processes.registry import get_process

    p, _ = ggg_points
    eps = levi_civita(p)
    scale = np.prod(p[:, :4, 0], axis=1)  # E_a E_b E_1 E_2 bounds |eps|
    np.testing.assert_allclose(levi_civita(_rotate(_boost_z(p, 0.6), 1.1)) / scale, eps / scale, atol=1e-9)
    mirrored = p * np.array([1.0, -1.0, -1.0, -1.0])
    np.testing.assert_allclose(levi_civita(mirrored), -eps, rtol=1e-12)
    assert np.median(np.abs(eps) / scale) > 1e-3  # not trivially zero for 2 -> 3 kinematics
    ggg = get_process("gg_ggg")
    assert not _parity_odd(ggg, ggg.channels[0], p)
