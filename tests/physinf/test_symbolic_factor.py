"""Declared factors, restricted search inputs, redundant constants and rational-only snapping."""

from __future__ import annotations

import numpy as np
import sympy as sp

from physinf.symbolic import Budget, distill
from physinf.symbolic.refit import fix_redundant, nice_values, refit


def test_declared_factor_with_search_restricted_to_the_invariant():
    # y = x sin(phi) (1 + 2 r)/(1 + r/2): the CP-odd-like prefactor x sin(phi) is declared, g(r) is
    # searched over r alone (x and phi are only in the factor). The search must return F * g
    # exactly: the structure of a score whose pseudoscalar part physics fixes.
    rng = np.random.default_rng(5)
    n = 600
    X = np.column_stack([rng.uniform(0.2, 2, n), rng.uniform(-np.pi, np.pi, n), rng.uniform(0.5, 5, n)])
    y = X[:, 0] * np.sin(X[:, 1]) * (1 + 2 * X[:, 2]) / (1 + X[:, 2] / 2)
    f = distill(X, y, ["x", "phi", "r"], budget=Budget(generations=40, population_size=300, max_length=15),
                seed=2, operators=("add", "sub", "mul", "div"), factor="x*sin(phi)", search_names=["r"])
    assert f.metrics["factor"] == "x*sin(phi)" and f.metrics["search_names"] == ["r"]
    assert np.max(np.abs(f(X) - y)) < 1e-6 * np.max(np.abs(y))
    x, phi = f.variables[0], f.variables[1]
    assert f.template.has(sp.sin(phi)) and f.template.has(x)


def test_redundant_scale_is_fixed_and_loss_unchanged():
    # a (b x)/(c z + d) has two flat directions (b a and the common scale of numerator and
    # denominator): two constants become +-1, the loss stays the same, the remaining errors are finite
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 2, (500, 2))
    y = 2 * X[:, 0] / (3 * X[:, 1] + 1) + 0.01 * rng.standard_normal(500)
    x, z = sp.symbols("x z", real=True)
    a, b, c, d = sp.symbols("c0:4", real=True)
    fit = refit(a * (b * x) / (c * z + d), [x, z], [a, b, c, d], [1, 1.5, 2, 1], X, y)
    expr, params, new = fix_redundant(a * (b * x) / (c * z + d), [x, z], [a, b, c, d], fit, X, y)
    assert len(params) == 2
    assert abs(new.mse / fit.mse - 1) < 1e-8
    assert np.all(np.isfinite(new.errors)) and np.all(new.errors < 0.05)
    # the ratio of the two remaining constants is the physical 3 : 1 (c z + d normalised by the fixed one)
    ratio = new.values[0] / new.values[1]
    assert abs(ratio - 3) < 5 * 3 * np.hypot(*(new.errors / new.values))


def test_identifiable_constants_are_left_alone():
    rng = np.random.default_rng(1)
    X = rng.uniform(0.5, 2, (300, 1))
    y = 2 * X[:, 0] + 0.5 + 0.01 * rng.standard_normal(300)
    x = sp.Symbol("x", real=True)
    a, b = sp.symbols("c0:2", real=True)
    fit = refit(a * x + b, [x], [a, b], [1, 0], X, y)
    expr, params, new = fix_redundant(a * x + b, [x], [a, b], fit, X, y)
    assert params == [a, b] and expr == a * x + b


def test_rational_only_snapping_table():
    assert nice_values(0.5642, rational_only=False)[0] == 1 / sp.sqrt(sp.pi)  # 1/sqrt(pi) = 0.5642
    snapped = nice_values(0.5642, k=3, rational_only=True)
    assert all(v.is_Rational for v in snapped) and snapped[0] == sp.Rational(1, 2)
