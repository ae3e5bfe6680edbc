"""Exact recovery of simple formulas with a small, deterministic (generation) budget."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from physinf.symbolic import Budget, Restarts, distill

BUDGET = Budget(generations=40, population_size=400, max_length=20)


def _identity(formula, truth, names, X):
    syms = {str(v): v for v in formula.variables}
    f_true = sp.lambdify([syms[n] for n in names], truth.subs({sp.Symbol(n): syms[n] for n in names}), "numpy")
    y = f_true(*X.T) * np.ones(len(X))
    return float(np.max(np.abs(formula(X) - y)) / np.max(np.abs(y)))


@pytest.mark.parametrize("restarts", [Restarts(), Restarts.single()], ids=["default", "one-genetic-search"])
@pytest.mark.parametrize(
    ("truth", "names", "ops"),
    [
        ("sqrt(x**2 + y**2)", ["x", "y"], ("add", "sub", "mul", "div", "sqrt", "square")),  # |p_T| of a 2-vector
        ("mu*Nn", ["mu", "Nn"], ("add", "sub", "mul", "div")),  # Feynman I.12.1
        ("m*g*z", ["m", "g", "z"], ("add", "sub", "mul", "div")),  # Feynman I.14.3
        ("beta*(1 + alpha*cos(theta))", ["beta", "alpha", "theta"], ("add", "sub", "mul", "div", "cos")),  # III.17.37
    ],
)
def test_exact_recovery(truth, names, ops, restarts):
    rng = np.random.default_rng(7)
    X = rng.uniform(1.0, 5.0, (400, len(names)))
    expr = sp.sympify(truth, locals={n: sp.Symbol(n) for n in names})
    y = sp.lambdify([sp.Symbol(n) for n in names], expr, "numpy")(*X.T) * np.ones(len(X))
    f = distill(X, y, names, budget=BUDGET, seed=1, operators=ops, restarts=restarts)
    assert _identity(f, expr, names, rng.uniform(1.0, 5.0, (500, len(names)))) < 1e-6, str(f)
    # constants snapped to exact values: the template equals the truth symbolically
    diff = sp.simplify(f.expr - expr.subs({sp.Symbol(n): v for n, v in zip(names, f.variables)}))
    assert diff == 0 or abs(float(diff)) < 1e-9, str(f.expr)
