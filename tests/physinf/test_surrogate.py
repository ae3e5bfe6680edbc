"""Bayesian amplitude surrogate on g g -> g g g: calibration, noise injection, out-of-distribution
growth of sigma_stat, safe save/load, and use inside event generation.

One small surrogate (5000 points, 64x3 network, 150 epochs, ~15 s on one core) serves most tests.
"""

from __future__ import annotations

import json
import math
import os
import pickle

import numpy as np
import pytest
import torch

from physinf.learn.base import Estimator
from physinf.learn.surrogate import (
    AmplitudeSurrogate,
    SurrogateConfig,
    SurrogateFileError,
    SurrogateMismatchError,
    SurrogateModel,
    TrainConfig,
    accuracy,
    amplitude_dataset,
    noise_injection,
    pulls,
    with_surrogate_uncertainty,
)
from physinf.learn.surrogate.calibration import stat_growth

SMALL = SurrogateConfig(hidden=64, layers=3, n_draws=30)
FAST = TrainConfig(epochs=150, schedule="cosine", patience=1000, validation_fraction=0.25, batch_size=256, seed=0)


@pytest.fixture(scope="module")
def data():
    torch.set_num_threads(1)
    train = amplitude_dataset("gg_ggg", 5000, seed=1, n_adapt=4000)
    test = amplitude_dataset("gg_ggg", 4000, seed=99, n_adapt=4000)
    return train, test


@pytest.fixture(scope="module")
def trained(data):
    (p, a), _ = data
    return AmplitudeSurrogate("gg_ggg", config=SMALL, train=FAST, device="cpu").fit_arrays(p, a)


def test_surrogate_is_an_estimator(trained):
    assert isinstance(trained, Estimator)
    assert trained.model_id.startswith("surrogate:") and len(trained.model_id) == len("surrogate:") + 12
    assert trained.preprocessing_.symmetric == (0, 1, 2, 3, 4)  # both beams and the three final gluons


def test_pulls_are_calibrated_on_independent_points(trained, data):
    """Pulls t = (A_NN - A_true)/sigma_tot on 4000 test points never seen in training or calibration.

    Tolerances: the pull mean has standard error 1/sqrt(n); the width's standard error is
    sqrt((kurtosis - 1)/(4 n)) (1/sqrt(2n) for a Gaussian; the measured kurtosis of the pulls is
    used since surrogate errors have heavier tails), plus that of the recalibration factor fitted
    on the 1250 validation points; 4 standard errors each."""
    _, (pt, at) = data
    pred = trained.predict_uncertainty(pt)
    rep = pulls(pred, at)
    n, n_val = rep.n, round(FAST.validation_fraction * 5000)
    t = rep.values
    kurt = float(np.mean((t - t.mean()) ** 4) / np.var(t) ** 2)
    se_width = math.sqrt((kurt - 1) / (4 * n) + (kurt - 1) / (4 * n_val))
    assert abs(rep.mean) < 4 / math.sqrt(n)
    assert abs(rep.width - 1) < 4 * se_width
    # the stated uncertainty tracks the actual error: the median sigma_tot/A and median |Delta| agree within 2x
    acc = accuracy(pred.amplitude, at[:, 0])
    assert 0.5 < np.median(pred.relative("tot")) / acc.median_abs < 2.0
    # a surrogate of a tree amplitude on 3750 points: percent-level (measured 1.6 %)
    assert acc.median_abs < 0.03
    assert len(rep.bins) == 5 and rep.top_1pc["n"] == 40


def test_central_value_is_unbiased_after_the_mean_recalibration(trained, data):
    """The mean-weight network of a variational net trained with the Gaussian loss is offset by a
    nearly constant amount (the covariance of the weight noise in its mean and log-variance
    outputs); the validation mean residual removes it. Checked on independent points: the mean
    log-residual log(A_NN/A) is zero within 4 standard errors, from the test points' own scatter
    and from the 1250 validation points that fixed the shift."""
    (p, a), (pt, at) = data
    n_val = round(FAST.validation_fraction * 5000)
    # the wiring (sign, standardised units, member average): on the validation points themselves the
    # inverse-variance weighted mean log-residual vanishes up to the float32 network arithmetic
    val = np.random.default_rng(FAST.seed).permutation(len(p))[:n_val]
    pred = trained.predict_uncertainty(p[val])
    weight = 1.0 / pred.relative("tot") ** 2
    assert abs(np.sum(weight * np.log(pred.amplitude / a[val, 0])) / np.sum(weight)) < 1e-5
    r = np.log(trained.predict(pt)[:, 0] / at[:, 0])
    assert abs(r.mean()) < 4 * r.std() * math.sqrt(1 / len(r) + 1 / n_val)
    assert trained.mean_shift_.shape == (trained.n_components,) and trained.mean_shift_[0] != 0.0


def test_noise_injection_recovers_the_injected_noise(data):
    """Labels with 10 % relative Gaussian noise: sigma_syst/A learns it. The network's own error
    without noise (~2 % at this size) adds in quadrature (sqrt(0.1^2 + 0.02^2) = 0.102), the
    median of |N(0,1)|-distributed residual widths is estimated from 750 validation points
    (about 4 % precision), hence the window 0.085 to 0.12; pulls against noisy test labels have
    unit width within 4 standard errors (1/sqrt(2n) Gaussian noise, plus the calibration's). The
    target is log A, and E[log(1 + eps g)] = -eps^2/2: the surrogate learns A (1 - eps^2/2), so the
    pull mean against the noisy labels is expected at -eps/2 = -0.05 (within 4/sqrt(n))."""
    (p, a), (pt, at) = data
    base = AmplitudeSurrogate("gg_ggg", config=SMALL, train=TrainConfig(epochs=60, schedule="cosine", patience=1000,
                                                                         validation_fraction=0.25, batch_size=256))
    res = noise_injection(base, p[:3000], a[:3000], 0.10, pt[:2000], at[:2000], seed=4)
    assert 0.085 < res.sigma_syst_over_a_median < 0.12
    se = math.sqrt(1 / (2 * res.n_test) + 1 / (2 * 750))
    assert abs(res.pull_width_noisy - 1) < 4 * se
    assert abs(res.pull_mean_noisy + 0.10 / 2) < 4 / math.sqrt(res.n_test)


def test_sigma_stat_grows_outside_the_training_region(trained, data):
    """Trained with every gluon p_T > 50 GeV: at points with a gluon of p_T < 25 GeV (closer to the
    soft pole, never seen) the weight draws disagree more than inside. The ratio of median
    sigma_stat/A is known to a few percent (30 draws give each sigma_stat to 13 %, medians over
    1000 and ~2500 points), so 1.2 is many standard errors above "no growth" (measured: 1.41 with
    the beams in canonical order, above 1.5 without)."""
    from physinf.simulate import Cuts

    _, (pt, _) = data
    po, _ = amplitude_dataset("gg_ggg", 3000, seed=17, n_adapt=4000, cuts=Cuts(pt_min=10.0, abs_eta_max=2.5, dr_min=0.4))
    outside = po[np.min(np.hypot(po[:, 2:, 1], po[:, 2:, 2]), axis=1) < 25.0]
    assert len(outside) > 300
    assert stat_growth(trained, pt[:1000], outside) > 1.2


def test_save_load_round_trip_is_exact(trained, data, tmp_path):
    _, (pt, _) = data
    path = trained.save(tmp_path / "ggg")
    back = AmplitudeSurrogate.load(path, "gg_ggg", inputs="invariants", device="cpu")
    assert back.model_id == trained.model_id
    np.testing.assert_array_equal(back.predict(pt[:500]), trained.predict(pt[:500]))
    a, b = back.predict_uncertainty(pt[:500]), trained.predict_uncertainty(pt[:500])
    np.testing.assert_array_equal(a.sigma_stat, b.sigma_stat)
    np.testing.assert_array_equal(a.sigma_syst, b.sigma_syst)
    meta = json.loads((path / "surrogate.json").read_text())
    assert meta["identity"]["process"] == "gg_ggg" and meta["identity"]["config"]["inputs"] == "invariants"


def test_load_refuses_another_process_or_convention(trained, tmp_path):
    path = trained.save(tmp_path / "ggg")
    with pytest.raises(SurrogateMismatchError, match="gg_ggg"):
        AmplitudeSurrogate.load(path, "gg_gg")
    with pytest.raises(SurrogateMismatchError, match="invariants"):
        AmplitudeSurrogate.load(path, inputs="momenta")


class _Exploit:
    def __reduce__(self):
        return (os.system, (f"touch {os.environ.get('PHYSINF_EXPLOIT_MARKER', '/nonexistent/marker')}",))


def test_crafted_weights_file_is_refused_without_running_it(trained, tmp_path, monkeypatch):
    """A weights.pt that is a pickle whose __reduce__ would run a shell command: weights-only loading
    refuses it, and the command never runs (its marker file is not created)."""
    path = trained.save(tmp_path / "ggg")
    marker = tmp_path / "pwned"
    monkeypatch.setenv("PHYSINF_EXPLOIT_MARKER", str(marker))
    with open(path / "weights.pt", "wb") as f:
        pickle.dump({"member0.net.0.mu": _Exploit()}, f)
    with pytest.raises(SurrogateFileError, match="refused"):
        AmplitudeSurrogate.load(path)
    assert not marker.exists()


def test_tampered_or_incomplete_folders_are_refused(trained, tmp_path):
    path = trained.save(tmp_path / "ggg")
    state = torch.load(path / "weights.pt", weights_only=True)
    state["member0.net.0.bias"] = state["member0.net.0.bias"] + 1.0
    torch.save(state, path / "weights.pt")
    with pytest.raises(SurrogateFileError, match="do not belong"):
        AmplitudeSurrogate.load(path)
    (path / "surrogate.json").unlink()
    with pytest.raises(SurrogateFileError, match="not a saved surrogate"):
        AmplitudeSurrogate.load(path)


def test_fit_refuses_bad_training_data(data):
    (p, a), _ = data
    s = AmplitudeSurrogate("gg_ggg", config=SMALL, train=FAST, device="cpu")
    with pytest.raises(Exception, match="<= 0"):
        s.fit_arrays(p[:100], -a[:100])
    bad = a[:100].copy()
    bad[7] = np.nan
    with pytest.raises(Exception, match="not finite"):
        s.fit_arrays(p[:100], bad)
    with pytest.raises(Exception, match="shape"):
        s.fit_arrays(p[:100, :4], a[:100])
    with pytest.raises(Exception, match="not fitted"):
        s.predict(p[:10])


def test_generation_with_the_surrogate_carries_its_uncertainty(trained):
    """generate() with the surrogate: the config records its model_id; the surrogate variations
    bracket the cross section computed with the exact amplitude on the same events (the fully
    correlated band is the stated uncertainty); and they become a pyhf shape systematic."""
    from physinf.simulate import generate

    model = SurrogateModel(trained)
    sample = generate(model, 6000, seed=3, n_adapt=3000, n_iterations=3, scale_factors=())
    assert sample.config.model == trained.model_id
    sample = with_surrogate_uncertainty(sample, model)
    w = sample.weights()
    a_sur = trained.predict(sample.momenta)[:, 0]
    a_exact = trained.process.components(sample.momenta)[:, 0]
    sigma_exact = float(np.sum(w * a_exact / a_sur))
    band = float(np.sum(sample.variation_weights("surrogate_up") - w))
    assert band > 0
    assert abs(sample.cross_section() - sigma_exact) < band
    down = float(np.sum(w - sample.variation_weights("surrogate_down")))
    assert down == pytest.approx(band, rel=1e-12)
    exact_sample = generate("gg_ggg", 2000, seed=3, n_adapt=2000, n_iterations=2)
    with pytest.raises(SurrogateMismatchError, match="component model"):
        with_surrogate_uncertainty(exact_sample, model)
    try:
        from physinf.learn.surrogate import surrogate_systematic

        syst = surrogate_systematic(sample, "pt_j1", np.array([50.0, 100.0, 200.0, 400.0, 2000.0]))
    except ImportError:  # pragma: no cover - physinf.stats mid-refactor
        pytest.skip("physinf.stats is not importable")
    assert np.all(syst.rel_up > 0) and np.all(syst.rel_down < 0)
    assert syst.name == "surrogate"


def test_surrogate_model_refuses_channels_it_was_not_trained_for(trained):
    from theory.processes.registry import get_process

    model = SurrogateModel(trained)
    assert model.channels == get_process("gg_ggg").channels
    with pytest.raises(SurrogateMismatchError):
        SurrogateModel(trained, get_process("gg_gg"))


def test_deterministic_ensemble_gives_a_second_sigma_stat(data):
    (p, a), (pt, _) = data
    ens = AmplitudeSurrogate("gg_ggg", config=SurrogateConfig(hidden=32, layers=2, bayesian=False, ensemble=3),
                             train=TrainConfig(epochs=15, schedule="cosine", batch_size=256), device="cpu")
    pred = ens.fit_arrays(p[:2000], a[:2000]).predict_uncertainty(pt[:500])
    assert pred.sigma_stat_ensemble is not None
    np.testing.assert_allclose(pred.sigma_stat_ensemble, pred.sigma_stat, rtol=1e-12)  # members are the only spread
    assert np.all(pred.sigma_stat > 0)


def test_lgatr_backbone_is_lorentz_invariant():
    """The optional L-GATr backbone: its prediction is unchanged (float32 round-off) when every
    momentum is boosted along z and rotated about it, as a Lorentz-invariant |M|^2 must be."""
    pytest.importorskip("lgatr")
    p, a = amplitude_dataset("gg_ggg", 300, seed=5, n_adapt=2000, n_iterations=2)
    s = AmplitudeSurrogate("gg_ggg", config=SurrogateConfig(inputs="momenta", backbone="lgatr", hidden=16, layers=1,
                                                            n_draws=4),
                           train=TrainConfig(epochs=2, batch_size=64), device="cpu").fit_arrays(p, a)
    g, beta = 1 / math.sqrt(1 - 0.5**2), 0.5
    q = p.copy()
    q[..., 0], q[..., 3] = g * (p[..., 0] - beta * p[..., 3]), g * (p[..., 3] - beta * p[..., 0])
    c, sn = math.cos(0.7), math.sin(0.7)
    q[..., 1], q[..., 2] = c * p[..., 1] - sn * p[..., 2], sn * p[..., 1] + c * p[..., 2]
    np.testing.assert_allclose(s.predict(q[:50]), s.predict(p[:50]), rtol=2e-3)


@pytest.mark.gpu
def test_fit_and_predict_on_cuda_match_cpu_precision(data):
    (p, a), (pt, at) = data
    s = AmplitudeSurrogate("gg_ggg", config=SMALL, train=TrainConfig(epochs=20), device="cuda").fit_arrays(p, a)
    pred = s.predict_uncertainty(pt)
    assert np.all(np.isfinite(pred.mean)) and accuracy(pred.amplitude, at[:, 0]).median_abs < 0.2


@pytest.fixture(scope="module")
def wbf_trained():
    """A small WBF surrogate (u d -> d u H, all six morphing components of cHW and cHWtil):
    4000 points, 64x3 network, 100 epochs (~8 s), and 3000 independent test points."""
    torch.set_num_threads(1)
    p, a = amplitude_dataset("wbf", 4000, seed=1, channel="2_1_WW", n_adapt=4000)
    test = amplitude_dataset("wbf", 3000, seed=99, channel="2_1_WW", n_adapt=4000)
    train = TrainConfig(epochs=100, schedule="cosine", patience=1000, validation_fraction=0.25, batch_size=256, seed=0)
    return AmplitudeSurrogate("wbf", "2_1_WW", config=SMALL, train=train, device="cpu").fit_arrays(p, a), test


def test_wbf_components_are_learned_as_a_quadratic_form(wbf_trained, tmp_path):
    """The quadratic pieces (log targets) are learned to tens of percent where ratios to the SM
    (heavy-tailed: up to 3e6) missed them by a factor ~140 in the same setting; the CP-odd
    interference (cHWtil), a parity-odd function, gets its sign from the eps(p_a, p_b, p_1, p_2)
    input (with parity-even invariants alone the sign is a coin flip: 50 %; measured 92 % here,
    binomial error 0.5 %); per-component recalibration gives pulls of unit width on independent
    points for every component (the validation set of 1000 points fixes each factor to ~2 %, the
    test width has 1.3 % error, heavy tails add more: +-0.15)."""
    s, (pt, at) = wbf_trained
    pre = s.preprocessing_
    assert pre.pairs == ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)) and pre.pseudoscalar
    pred = s.predict_uncertainty(pt)
    for c in (3, 5):  # cHW^2, cHWtil^2
        assert np.median(np.abs(pred.mean[:, c] / at[:, c] - 1)) < 0.5
    assert np.mean(np.sign(pred.mean[:, 2]) == np.sign(at[:, 2])) > 0.85
    t = (pred.mean - at) / pred.sigma_tot
    np.testing.assert_allclose(t.std(axis=0, ddof=1), 1.0, atol=0.15)
    assert s.mean_shift_[[1, 2, 4]].tolist() == [0.0, 0.0, 0.0]  # correlations are not shifted
    # the target convention and the per-component factors survive saving
    loaded = AmplitudeSurrogate.load(s.save(tmp_path / "wbf"), device="cpu")
    assert loaded.preprocessing_.pairs == pre.pairs and loaded.preprocessing_.pseudoscalar
    np.testing.assert_array_equal(loaded.sigma_scale_, s.sigma_scale_)
    np.testing.assert_array_equal(loaded.predict(pt[:200]), s.predict(pt[:200]))
