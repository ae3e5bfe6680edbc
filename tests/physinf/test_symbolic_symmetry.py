"""Declared symmetry: odd in Δφ, enforced by mirroring + projection, or tested."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from physinf.errors import InvalidParameterError
from physinf.symbolic import Budget, Symmetry, distill, fit_formula


def test_projection_removes_even_part():
    x, d = sp.symbols("x d", real=True)
    odd = Symmetry("x").project(sp.sin(x + d), x)
    assert sp.simplify(odd - sp.cos(d) * sp.sin(x)) == 0


def test_enforced_symmetry_gives_odd_formula():
    rng = np.random.default_rng(5)
    X = np.column_stack([rng.uniform(0.2, 2.0, 600), rng.uniform(-np.pi, np.pi, 600)])
    y = X[:, 0] * np.sin(X[:, 1]) + 0.05 * np.cos(X[:, 1])  # a small even contamination
    f = distill(X, y, ["xp", "dphi"], budget=Budget(generations=20, population_size=300, max_length=15), seed=2,
                operators=("add", "sub", "mul", "div", "sin", "cos"), symmetry=Symmetry("dphi", "odd", "enforce"))
    Xm = X.copy()
    Xm[:, 1] *= -1
    np.testing.assert_allclose(f(Xm), -f(X), atol=1e-12)
    assert f.metrics["symmetry"]["violation"] < 1e-12


def test_symmetry_test_mode_reports_violation():
    rng = np.random.default_rng(6)
    X = np.column_stack([rng.uniform(0.2, 2.0, 300), rng.uniform(-np.pi, np.pi, 300)])
    y = X[:, 0] * np.sin(X[:, 1] + 0.3)
    f = fit_formula("xp*sin(dphi + d)", X, y, ["xp", "dphi"], constants={"d": 0.0})
    assert Symmetry("dphi", mode="test").violation(f, X, ["xp", "dphi"]) > 0.1


def test_bad_symmetry():
    with pytest.raises(InvalidParameterError):
        Symmetry("x", parity="weird")
    with pytest.raises(InvalidParameterError, match="not one of the inputs"):
        Symmetry("nope").column(["x"])
