"""PySR adapter logic without Julia; the real call only where PySR and Julia are installed."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from physinf.symbolic import Budget, Restarts, distill
from physinf.symbolic.backends.pysr import PySRBackend, parse_hall_of_fame
from physinf.symbolic.errors import UnknownOperatorError
from physinf.symbolic.parse import to_sympy


def test_option_mapping():
    opts = PySRBackend().options(Budget(generations=7, population_size=33, max_length=17, max_time=12), 4,
                                 ("add", "mul", "div", "pow", "sin", "square"))
    assert opts["binary_operators"] == ["+", "*", "/", "^"]
    assert opts["unary_operators"] == ["sin", "square"]
    assert (opts["niterations"], opts["population_size"], opts["maxsize"]) == (7, 33, 17)
    assert opts["timeout_in_seconds"] == 12.0 and opts["random_state"] == 4
    assert opts["deterministic"] is True and opts["parallelism"] == "serial"
    with pytest.raises(UnknownOperatorError):
        PySRBackend().options(Budget(), 0, ("add", "gamma"))


def test_hall_of_fame_parsing():
    import sympy as sp

    rows = [
        {"complexity": 1, "loss": 2.5, "equation": "x0"},
        {"complexity": 5, "loss": 0.1, "equation": "(x0 * 2.0) + square(x1)"},
        {"Complexity": 8, "Loss": 1e-12, "Equation": "sqrt(x0^2 + x1^2)"},
    ]
    cands = parse_hall_of_fame(rows)
    assert [c.complexity for c in cands] == [1, 5, 8]
    x0, x1 = sp.symbols("x0 x1", real=True)
    assert to_sympy(cands[2].expression, {"x0": x0, "x1": x1}) == sp.sqrt(x0**2 + x1**2)
    assert to_sympy(cands[1].expression, {"x0": x0, "x1": x1}) == 2.0 * x0 + x1**2


def test_post_processing_shared_with_a_fake_backend():
    class Fake:
        name = "fake"

        def search(self, X, y, names, budget, seed, weights=None, operators=()):
            return parse_hall_of_fame([{"complexity": 3, "loss": 1.0, "equation": "1.9*x0 + 0.1"},
                                       {"complexity": 7, "loss": 0.0, "equation": "2.0001*x0*x1"}])

    rng = np.random.default_rng(1)
    X = rng.uniform(1, 2, (100, 2))
    # one search with the fake backend (the built-in rational regression would find 2ab itself)
    f = distill(X, 2 * X[:, 0] * X[:, 1], ["a", "b"], backend=Fake(), budget=Budget(generations=1),
                restarts=Restarts.single())
    assert str(f.expr) == "2*a*b"


_HAS_PYSR = importlib.util.find_spec("pysr") is not None


@pytest.mark.skipif(not _HAS_PYSR, reason="PySR not installed (optional extra physinf[pysr]; needs Julia)")
def test_real_pysr_call():  # pragma: no cover - needs Julia
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 2, (200, 2))
    f = distill(X, X[:, 0] * X[:, 1], ["a", "b"], backend="pysr", budget=Budget(generations=5, population_size=30))
    assert f.metrics["r2"] > 0.99
