"""Shared synthetic inputs for the stats tests (no event generator needed)."""

from __future__ import annotations

import numpy as np
import pyhf
import pytest

from physinf.stats import histogram_templates


@pytest.fixture(autouse=True)
def restore_pyhf_backend():
    """Restore pyhf's global backend after each test (some tests switch it on purpose)."""
    before = pyhf.get_backend()
    yield
    if pyhf.get_backend() != before:
        pyhf.set_backend(*before)


def toy_events(n: int = 20000, seed: int = 1, two: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """x ~ U(-π, π); SM weight 1, interference ∝ sin x, quadratic ∝ 1 + x²  (pb per event, σ_SM = 0.1 pb)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-np.pi, np.pi, n)
    sm = np.ones(n)
    if not two:
        w = np.stack([sm, 0.8 * np.sin(x), 0.3 * (1 + x**2)], axis=1)
        return x, w * 0.1 / n, np.array([[0], [1], [2]]), ("ca",)
    # two coefficients, positive-definite: |1 + a·s1(x) + b·s2(x)|² + (0.3 a)² + (0.3 b)²
    s1, s2 = 0.8 * np.sin(x), 0.5 * np.cos(x)
    w = np.stack([sm, 2 * s1, 2 * s2, s1**2 + 0.09, 2 * s1 * s2, s2**2 + 0.09], axis=1)
    powers = np.array([[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2]])
    return x, w * 0.1 / n, powers, ("ca", "cb")


def toy_templates(n_bins: int = 6, lumi: float = 300.0, two: bool = False, channel: str = "SR", seed: int = 1):
    x, w, p, names = toy_events(seed=seed, two=two)
    return histogram_templates(x, w, p, names, np.linspace(-np.pi, np.pi, n_bins + 1), lumi, channel=channel)
