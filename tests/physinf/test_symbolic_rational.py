"""The sparse rational regression backend: exact ratios of monomial sums, deterministic and fast."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from physinf.symbolic import Budget, Restarts, distill
from physinf.symbolic.backends.rational import RationalBackend
from physinf.symbolic.parse import evaluate

ARITH = ("add", "sub", "mul", "div")


def _data(n=250, k=4, seed=0, lo=1.0, hi=5.0):
    return np.random.default_rng(seed).uniform(lo, hi, (n, k))


def test_centre_of_mass_is_found_exactly():
    # Feynman I.18.4, (m1 r1 + m2 r2)/(m1 + m2): three columns besides the anchor
    X = _data()
    y = (X[:, 0] * X[:, 2] + X[:, 1] * X[:, 3]) / (X[:, 0] + X[:, 1])
    cands = RationalBackend().search(X, y, ["x0", "x1", "x2", "x3"], Budget(), 0, None, ARITH)
    best = min(cands, key=lambda c: c.loss)
    assert best.loss < 1e-26 * np.var(y)
    # the candidate string evaluates (independently of SymPy) to the target
    pred = evaluate(best.expression, {f"x{i}": X[:, i] for i in range(4)})
    np.testing.assert_allclose(pred, y, rtol=1e-12)
    # candidates form a front: more terms, lower loss
    assert [c.complexity for c in cands] == sorted(c.complexity for c in cands)
    assert all(a.loss > b.loss for a, b in zip(cands, cands[1:]))


def test_polynomials_only_without_division_and_nothing_without_mul():
    X = _data(k=2)
    y = X[:, 0] ** 2 + 3 * X[:, 0] * X[:, 1]
    cands = RationalBackend().search(X, y, ["a", "b"], Budget(), 0, None, ("add", "mul"))
    assert all("/" not in c.expression for c in cands)
    assert min(c.loss for c in cands) < 1e-26 * np.var(y)
    assert RationalBackend().search(X, y, ["a", "b"], Budget(), 0, None, ("add", "sub")) == []


def test_log_features_make_a_boltzmann_factor_a_sum():
    # Feynman I.40.1 after a log: log(n0 exp(-m g x/(kb T))) = log(n0) - m g x/(kb T), a sum of
    # two library columns once log(n0) is a feature (six inputs: monomials with powers +-1)
    X = _data(k=6, seed=2)
    y = np.log(X[:, 0]) - X[:, 1] * X[:, 2] * X[:, 4] / (X[:, 3] * X[:, 5])
    cands = RationalBackend().search(X, y, ["n0", "m", "x", "T", "g", "kb"], Budget(), 0, None, ARITH + ("log",))
    best = min(cands, key=lambda c: c.loss)
    assert best.loss < 1e-26 * np.var(y) and "log(n0)" in best.expression


def test_library_size_adapts_to_the_number_of_inputs():
    rb = RationalBackend()
    sizes = [len(rb.exponents(n)) for n in range(1, 7)]
    assert all(s <= rb.max_monomials for s in sizes)
    assert max(max(e) for e in rb.exponents(3)) == 4 and max(max(e) for e in rb.exponents(6)) == 1


@pytest.mark.parametrize("seed", [1, 2])
def test_distill_finds_a_relativistic_mass_without_any_genetic_search(seed):
    # Feynman I.10.7, m0/sqrt(1 - v^2/c^2): its square is rational; the rational regression on the
    # squared target finds it, and distill stops before the genetic searches (noise-free data)
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.uniform(1, 5, 400), rng.uniform(1, 2, 400), rng.uniform(3, 10, 400)])
    y = X[:, 0] / np.sqrt(1 - X[:, 1] ** 2 / X[:, 2] ** 2)
    f = distill(X, y, ["m", "v", "c"], budget=Budget(generations=2, population_size=50), seed=seed,
                operators=("add", "sub", "mul", "div", "sqrt"), restarts=Restarts(transforms=("square",)))
    m, v, c = f.variables
    assert f.metrics["exact"] and f.metrics["selected_restart"].startswith("square | rational")
    assert all(r["restart"].split(" | ")[1] == "rational" for r in f.metrics["restarts"])
    pts = {m: 2.0, v: 1.5, c: 4.0}
    assert float(f.expr.subs(pts)) == pytest.approx(float((m / sp.sqrt(1 - v**2 / c**2)).subs(pts)), rel=1e-12)


def test_cosine_of_a_product_of_two_inputs():
    # Feynman I.50.26, x1 (cos(w t) + alpha cos(w t)^2): rational in x1, alpha and cos(w t), found
    # by the rational regression with w replaced by cos(w t) (deterministic, no genetic search)
    rng = np.random.default_rng(4)
    X = rng.uniform(1, 3, (400, 4))
    c = np.cos(X[:, 1] * X[:, 2])
    y = X[:, 0] * (c + X[:, 3] * c**2)
    f = distill(X, y, ["x1", "omega", "t", "alpha"], budget=Budget(generations=2, population_size=50), seed=1,
                operators=("add", "sub", "mul", "div", "cos"))
    x1, w, t, a = f.variables
    assert f.metrics["exact"] and "cos(x1*x2)" in f.metrics["selected_restart"]
    assert sp.simplify(f.expr - x1 * (sp.cos(w * t) + a * sp.cos(w * t) ** 2)) == 0
