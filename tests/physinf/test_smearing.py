"""Gaussian jet smearing."""

from __future__ import annotations

import numpy as np
import pytest

from physinf.detector import jet_energy_resolution, smear_jets
from physinf.errors import InvalidParameterError


def _events(n=20000):
    rng = np.random.default_rng(0)
    p = np.zeros((n, 5, 4))
    for j in (2, 3):
        pt, eta, phi = np.full(n, 100.0), rng.uniform(-1, 1, n), rng.uniform(-np.pi, np.pi, n)
        p[:, j] = np.stack([pt * np.cosh(eta), pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)], axis=1)
    p[:, 0] = [500, 0, 0, 500]
    return p


def test_resolution_values():
    np.testing.assert_allclose(jet_energy_resolution(np.array([20.0, 100.0]), np.zeros(2)), [0.144, 0.0622], atol=2e-3)


def test_smearing_statistics_and_untouched_particles():
    p = _events()
    s = smear_jets(p, np.random.default_rng(1))
    np.testing.assert_array_equal(s[:, [0, 1, 4]], p[:, [0, 1, 4]])
    pt = np.hypot(s[:, 2, 1], s[:, 2, 2])
    E = p[:, 2, 0]
    expected = np.mean(jet_energy_resolution(E, np.arcsinh(p[:, 2, 3] / 100.0)))
    n = len(pt)
    assert abs(np.std(pt / 100.0) / expected - 1) < 5 / np.sqrt(2 * n)
    assert abs(np.mean(pt / 100.0) - 1) < 5 * expected / np.sqrt(n)
    m2 = s[:, 2, 0] ** 2 - np.sum(s[:, 2, 1:] ** 2, axis=1)
    np.testing.assert_allclose(m2 / s[:, 2, 0] ** 2, 0, atol=1e-9)


def test_reproducible_and_validated():
    p = _events(10)
    np.testing.assert_array_equal(smear_jets(p, np.random.default_rng(3)), smear_jets(p, np.random.default_rng(3)))
    with pytest.raises(InvalidParameterError):
        smear_jets(p[:, :, :3], np.random.default_rng(3))
    with pytest.raises(InvalidParameterError):
        smear_jets(p, 3)
