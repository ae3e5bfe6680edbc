"""Fisher-information fraction of an observable relative to the exact score."""

from __future__ import annotations

import numpy as np

from physinf.information import information_fraction


def _toy(n=40000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    t = x[:, 0] + 0.5 * x[:, 1]  # the exact score
    return x, t, rng


def test_score_itself_and_monotone_transform_capture_everything():
    _, t, _ = _toy()
    assert abs(information_fraction(t, t) - 1.0) < 0.01
    assert abs(information_fraction(np.arctan(t), t) - 1.0) < 0.01


def test_partial_observable():
    x, t, _ = _toy()
    # E[t | x0] = x0: fraction 1 / 1.25
    assert abs(information_fraction(x[:, 0], t) - 0.8) < 0.02


def test_noisy_labels_are_unbiased_and_noise_observable_is_zero():
    x, t, rng = _toy()
    labels = t + 2.0 * rng.standard_normal(len(t))  # joint-score-like noise around t(x)
    assert abs(information_fraction(x[:, 0], labels, reference=t) - 0.8) < 0.05
    assert abs(information_fraction(rng.normal(size=len(t)), t)) < 0.02
