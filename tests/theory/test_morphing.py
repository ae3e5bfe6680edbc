"""theory.morphing: monomials and the inversion from benchmark points to morphing components.

Checks: the number of monomials is C(n + d, d); values and gradients against direct formulas and
finite differences; components fitted from weights at K = C random benchmark points reproduce the
true components to rounding (condition number stated), K > C points give a zero residual for
an exact polynomial and a non-zero one when the weights are not a polynomial of that degree, and
points that cannot separate the quadratic terms are refused with the undetermined monomials named.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from theory.errors import InvalidParameterError
from theory.morphing import components_from_benchmarks, monomial_gradients, monomial_names, monomial_values, monomials


@pytest.mark.parametrize("n, d", [(1, 2), (2, 2), (3, 2), (7, 2), (2, 4)])
def test_monomial_count_and_order(n, d):
    powers = monomials(n, d)
    assert powers.shape == (math.comb(n + d, d), n)
    assert (powers[0] == 0).all() and np.all(np.diff(powers.sum(axis=1)) >= 0)


def test_values_gradients_and_names():
    powers = monomials(2, 2)
    theta = np.array([0.7, -1.3])
    a, b = theta
    np.testing.assert_allclose(monomial_values(powers, theta), [1, a, b, a * a, a * b, b * b])
    h = 1e-6
    for i in range(2):
        d = np.zeros(2)
        d[i] = h
        fd = (monomial_values(powers, theta + d) - monomial_values(powers, theta - d)) / (2 * h)
        np.testing.assert_allclose(monomial_gradients(powers, theta)[:, i], fd, atol=1e-8)
    assert monomial_names(powers, ["cHW", "cHWtil"]) == ["SM", "cHW", "cHWtil", "cHW^2", "cHW*cHWtil", "cHWtil^2"]


def test_components_from_exactly_determined_benchmarks(rng):
    powers = monomials(2, 2)
    true = rng.normal(size=(50, powers.shape[0]))
    thetas = rng.uniform(-2, 2, size=(powers.shape[0], 2))
    weights = true @ monomial_values(powers, thetas).T
    fit = components_from_benchmarks(powers, thetas, weights)
    # errors are amplified by at most the condition number: rounding 1e-16 x cond
    assert fit.condition < 1e4
    np.testing.assert_allclose(fit.components, true, atol=1e-12 * fit.condition * np.abs(true).max())
    assert fit.max_rel_residual < 1e-12


def test_overdetermined_fit_detects_a_non_polynomial(rng):
    powers = monomials(1, 2)
    thetas = np.linspace(-2, 2, 7)[:, None]
    true = rng.normal(size=(20, 3))
    weights = true @ monomial_values(powers, thetas).T
    assert components_from_benchmarks(powers, thetas, weights).max_rel_residual < 1e-12
    cubic = weights + 0.1 * thetas[:, 0] ** 3  # not a quadratic: the residual says so
    assert components_from_benchmarks(powers, thetas, cubic).max_rel_residual > 1e-3


def test_underdetermined_benchmarks_are_refused_with_the_missing_monomials():
    powers = monomials(2, 2)
    # SM plus one point per operator (and its negative): linear and squared terms are fixed, the
    # cross term cHW*cHWtil is not
    thetas = np.array([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1], [2, 0]], dtype=float)
    weights = np.ones((3, len(thetas)))
    with pytest.raises(InvalidParameterError, match=r"undetermined: cHW\*cHWtil"):
        components_from_benchmarks(powers, thetas, weights, coefficients=("cHW", "cHWtil"))
    with pytest.raises(InvalidParameterError, match="one column per benchmark"):
        components_from_benchmarks(powers, thetas, np.ones((3, 2)))
    with pytest.raises(InvalidParameterError, match="NaN"):
        components_from_benchmarks(monomials(1, 1), np.array([[0.0], [1.0]]), np.array([[1.0, np.nan]]))
