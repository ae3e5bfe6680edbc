"""Constant re-fitting (SymbolFit pattern): errors are calibrated and shrink as 1/√N."""

from __future__ import annotations

import numpy as np
import pytest

from physinf.symbolic import TooFewPointsError, fit_formula

EXPR = "a*sin(x) + b*x**2"


def _data(n, seed, sigma=0.1):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, n)
    y = 1.3 * np.sin(x) + 0.4 * x**2 + sigma * rng.standard_normal(n)
    return x[:, None], y


def test_errors_shrink_as_one_over_sqrt_n():
    n_small, n_large = 400, 6400
    e_small = fit_formula(EXPR, *_data(n_small, 1), ["x"], constants={"a": 1, "b": 1}).errors
    e_large = fit_formula(EXPR, *_data(n_large, 2), ["x"], constants={"a": 1, "b": 1}).errors
    ratio = e_small / e_large
    # expected sqrt(16) = 4; the error estimate itself fluctuates by ~1/sqrt(2 N_small) ≈ 3.5 %
    tol = 5 * 4.0 / np.sqrt(2 * n_small)
    np.testing.assert_allclose(ratio, 4.0, atol=tol)


def test_errors_are_calibrated():
    fits = [fit_formula(EXPR, *_data(200, s), ["x"], constants={"a": 1, "b": 1}) for s in range(60)]
    values = np.array([f.values for f in fits])
    reported = np.mean([f.errors for f in fits], axis=0)
    spread = values.std(axis=0, ddof=1)
    # the sample std of 60 fits has a relative uncertainty ≈ 1/sqrt(2·59) ≈ 9 %; allow 3 sigma
    np.testing.assert_allclose(spread / reported, 1.0, atol=3 / np.sqrt(2 * 59))
    assert np.all(np.abs(values.mean(axis=0) - [1.3, 0.4]) < 3 * reported / np.sqrt(60) + 1e-3)


def test_weights_are_used():
    X, y = _data(2000, 3, sigma=0.0)
    y = y.copy()
    y[X[:, 0] > 0] += 1.0  # corrupt half of the points, then weight them out
    w = (X[:, 0] <= 0).astype(float)
    f = fit_formula(EXPR, X, y, ["x"], weights=w, constants={"a": 1, "b": 1})
    np.testing.assert_allclose(f.values, [1.3, 0.4], rtol=1e-8)


def test_covariance_is_symmetric_positive():
    f = fit_formula(EXPR, *_data(500, 4), ["x"], constants={"a": 1, "b": 1})
    assert f.covariance.shape == (2, 2)
    np.testing.assert_allclose(f.covariance, f.covariance.T)
    assert np.all(np.linalg.eigvalsh(f.covariance) > 0)


def test_fewer_points_than_constants():
    X, y = _data(2, 5)
    with pytest.raises(TooFewPointsError, match="free constants"):
        fit_formula(EXPR, X, y, ["x"], constants={"a": 1, "b": 1})
