"""Post-processing never loses accuracy (issue 9): a contract over both backends' adapters.

The fronts below are stored backend output. The first is pyoperon's front for the Feynman
equation I.8.14, d = sqrt((x2 - x1)^2 + (y2 - y1)^2), x, y uniform in [1, 5], seed 1 (30 s,
the benchmark operators): before the fix, distill turned it into a formula with R^2 = 0.39,
because the backend's column names x0..x3 were looked up in a table that the caller's names
x1, x2 had overwritten. Raw losses are computed here independently (the backend string
evaluated with numpy by this test), so the pipeline cannot grade its own homework.

Tolerances: the contract of the issue, processed <= raw (1 + 1e-6) + 1e-12 Var(y).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp

from physinf.symbolic import Budget, Restarts, distill
from physinf.symbolic.backends.base import Candidate
from physinf.symbolic.backends.operon import OperonBackend
from physinf.symbolic.backends.pysr import parse_hall_of_fame
from physinf.symbolic.backends.rational import RationalBackend
from physinf.symbolic.postprocess import Target, process
from physinf.symbolic.restarts import Restart

# pyoperon 0.6.2, I.8.14 (columns x0..x3 = x1, x2, y1, y2), as returned by get_model_string
OPERON_I_8_14 = [
    "(2.165768623352 + ((-0.055293507874) * (0.565816819668 * x3)))",
    "(3.470102787018 + (1.678253769875 * sin(((-0.511218011379) * x3))))",
    "(1.677126765251 + (0.252830505371 * ((1.442695021629 * x2) / (1.117122650146 * x3))))",
    "(2.874234437943 + ((-1.512159466743) * cos((((-0.660070121288) * x1) + (0.659955859184 * x0)))))",
    "(1.873446464539 + (0.763324141502 * (cos(((-0.993851363659) * x3)) + (((0.513175845146 * x1) + "
    "((-0.513351440430) * x0)) ^ 2))))",
    "(4.351974964142 + ((-3.645500421524) * (cos(((0.420106858015 * x1) + ((-0.420339107513) * x0))) * "
    "cos((((-0.409775406122) * x3) - ((-0.416808813810) * x2))))))",
    "((-4.758934974670) + (9.608182907104 * cos((cos(sin((((-0.361516475677) * x1) + (0.360780000687 * x0)))) * "
    "cos(sin(((0.353990018368 * x3) - (0.353558093309 * x2))))))))",
    "((-0.000670758076) + ((-5.826634883881) * cos((((cos(sin((((-0.600238621235) * x1) + (0.600968062878 * x0)))) * "
    "(-0.338694363832)) * cos((((-0.681676685810) * x3) - ((-0.680502653122) * x2)))) + (cos(((0.126583918929 * x1) "
    "+ ((-0.126551121473) * x0))) * (-4.293302059174))))))",
    "((-0.000001335823) + (1.000009536743 * (((((cos((((-0.224952772260) * x1) + (0.224967628717 * x0))) * "
    "(-12.453683853149)) * cos((((-0.215860530734) * x3) - ((-0.216136321425) * x2)))) + 8.476918220520) * "
    "cos(cos((cos(sin((((-0.679802894592) * x1) + (0.678077995777 * x0)))) * cos((((-0.560862720013) * x3) - "
    "((-0.558655083179) * x2))))))) + 3.802336692810)))",
    # the exact form, as a search with add, sub, mul, div, sqrt, square returned it (seed 2, 8 s)
    "((-0.000000030783) + (1.000000000000 * sqrt(((((1.000000000000 * x1) - (1.000000000000 * x0)) ^ 2) + "
    "(((1.000000000000 * x2) - (1.000000000000 * x3)) ^ 2)))))",
    # an inexact one from the same search (seed 1)
    "((-0.059121996164) + (1.037480473518 * sqrt(((((((0.050986260176 * x2) + ((-0.055792279541) * x3)) - "
    "(1.039410114288 * x0)) - ((-1.042823433876) * x1)) ^ 2) - (((((-0.401902914047) + (0.106554001570 * x2)) + "
    "0.977649271488) - 1.019558310509) - (((0.885565042496 * x3) + ((-0.899980425835) * x2)) ^ 2))))))",
]
# PySR hall-of-fame rows for the same data (PySR's spelling: square(), ^, unary minus)
PYSR_I_8_14 = [
    {"complexity": 1, "loss": 1.01, "equation": "2.0712"},
    {"complexity": 6, "loss": 0.50, "equation": "2.87 - 1.51*cos(0.66*x0 - 0.66*x1)"},
    {"complexity": 10, "loss": 0.03, "equation": "-3.6455*cos(0.42*(x1 - x0))*cos(0.41*(x3 - x2)) + 4.35"},
    {"complexity": 12, "loss": 1e-3, "equation": "sqrt(square(x1 - x0) + (x3 - x2)^2.0)*1.0000001 + -1.2e-7"},
    {"complexity": 14, "loss": 1e-2, "equation": "abs(x1 - x0) + square(x3 - x2)*0.21 - -0.1"},
]
NAMES = ["x1", "x2", "y1", "y2"]  # the caller's names look like the backend's on purpose


def _data(n=1000, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.uniform(1, 5, (n, 4))
    return X, np.sqrt((X[:, 1] - X[:, 0]) ** 2 + (X[:, 3] - X[:, 2]) ** 2)


def _raw_loss(expression: str, X: np.ndarray, y: np.ndarray) -> float:
    """The backend string evaluated by this test with numpy, independently of physinf."""
    text = re.sub(r"\bx(\d)\b", r"X[:, \1]", expression.replace("^", "**"))
    namespace = {"X": X, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos, "exp": np.exp, "log": np.log,
                 "square": np.square, "abs": np.abs}
    with np.errstate(all="ignore"):
        pred = eval(text, namespace) * np.ones(len(y))
    return float(np.mean((pred - y) ** 2))


class _Stored:
    """A backend that returns a stored front (in the names it is given, like a real one)."""

    def __init__(self, name, candidates):
        self.name, self.candidates = name, candidates

    def search(self, X, y, names, budget, seed, weights=None, operators=()):
        mapping = {f"x{i}": n for i, n in enumerate(names)}
        return [Candidate(re.sub(r"\bx(\d)\b", lambda m: mapping[m.group(0)], c.expression), c.complexity, c.loss)
                for c in self.candidates]


FRONTS = {
    "operon": [Candidate(e, len(e), 0.0) for e in OPERON_I_8_14],
    "pysr": parse_hall_of_fame(PYSR_I_8_14),
}


def _target(X, y):
    variables = [sp.Symbol(n, real=True) for n in NAMES]
    return Target(X, y, None, variables, {f"x{i}": i for i in range(4)})


@pytest.mark.parametrize("adapter", sorted(FRONTS))
def test_every_candidate_keeps_its_accuracy(adapter):
    X, y = _data()
    var = float(np.var(y))
    target = _target(X, y)
    for cand in FRONTS[adapter]:
        raw = _raw_loss(cand.expression, X, y)
        p = process(cand, target, Restart("identity", 1, ("add",), 0))
        assert p is not None, cand.expression
        assert p.raw_loss == pytest.approx(raw, rel=1e-9, abs=1e-14 * var)
        for step in ("parse", "simplify", "refit"):
            assert p.steps[step] <= raw * (1 + 1e-6) + 1e-12 * var, (step, cand.expression, p.steps)
        # the processed formula, evaluated from scratch, has the loss it reports
        f = sp.lambdify(target.variables, p.template.subs(dict(zip(p.params, p.fit.values))), "numpy")
        assert np.mean((f(*X.T) - y) ** 2) == pytest.approx(p.loss, rel=1e-6, abs=1e-12 * var)
    assert target.counts["parse_mismatch"] == 0 and target.counts["fallback"] == 0


@pytest.mark.parametrize("adapter", sorted(FRONTS))
def test_accuracy_selection_is_never_worse_than_the_best_raw_member(adapter):
    X, y = _data()
    var = float(np.var(y))
    best_raw = min(_raw_loss(c.expression, X, y) for c in FRONTS[adapter])
    f = distill(X, y, NAMES, backend=_Stored(adapter, FRONTS[adapter]), budget=Budget(generations=1),
                selection="accuracy", restarts=Restarts.single())
    assert f.metrics["mse"] <= best_raw * (1 + 1e-6) + 1e-12 * var
    for m in f.front:
        assert m.loss <= m.raw_loss * (1 + 1e-6) + 1e-12 * var


def test_issue_9_front_gives_the_exact_formula_with_the_callers_names():
    # before the fix: -2*cos(0.524*x1)*cos(x2/sqrt(pi) - 0.0449*y2) + 2.07, R^2 = 0.39
    X, y = _data()
    f = distill(X, y, NAMES, backend=_Stored("operon", FRONTS["operon"]), budget=Budget(generations=1),
                restarts=Restarts.single())
    x1, x2, y1, y2 = f.variables
    assert f.metrics["r2"] > 1 - 1e-12
    assert sp.simplify(f.expr - sp.sqrt((x2 - x1) ** 2 + (y2 - y1) ** 2)) == 0


@pytest.mark.parametrize("noise", [0.0, 0.01])
@pytest.mark.parametrize("adapter", ["operon", "rational"])
def test_real_adapter_fronts_keep_their_accuracy(adapter, noise):
    # real searches (tiny, deterministic): every member they return keeps its loss after
    # post-processing, on noise-free and on noisy targets (where the re-fit changes constants)
    X, y = _data(n=300, seed=4)
    y = y + noise * np.sqrt(np.mean(y**2)) * np.random.default_rng(5).standard_normal(len(y))
    var = float(np.var(y))
    ops = ("add", "sub", "mul", "div", "sin", "cos", "exp", "log", "sqrt", "square")
    backend = OperonBackend() if adapter == "operon" else RationalBackend()
    cands = backend.search(X, y, ["x0", "x1", "x2", "x3"], Budget(generations=15, population_size=200), 3, None, ops)
    assert len(cands) >= 3
    target = _target(X, y)
    for cand in cands:
        raw = _raw_loss(cand.expression, X, y)
        p = process(cand, target, Restart("identity", 1, ops, 0))
        if not np.isfinite(raw):
            assert p is None
            continue
        assert p is not None and p.loss <= raw * (1 + 1e-6) + 1e-12 * var, cand.expression


def test_refit_that_ends_worse_keeps_the_starting_values(monkeypatch):
    import physinf.symbolic.refit as refit_module

    class Bad:
        x = np.array([10.0, -7.0])
        success = True

    monkeypatch.setattr(refit_module, "least_squares", lambda *a, **k: Bad())
    x = sp.Symbol("x", real=True)
    a, b = sp.symbols("c0 c1", real=True)
    X = np.linspace(0, 1, 50)[:, None]
    fit = refit_module.refit(a * x + b, [x], [a, b], [2.0, 0.5], X, 2 * X[:, 0] + 0.5)
    np.testing.assert_array_equal(fit.values, [2.0, 0.5])
    assert fit.mse < 1e-28 and not fit.success


def test_a_simplification_that_changes_the_numbers_is_rejected(monkeypatch):
    import physinf.symbolic.parse as parse_module

    x = sp.Symbol("x", real=True)
    shrink = ("bad", lambda e: sp.Float(1.001) * x if e.has(sp.sin) else e)  # smaller, but not the same function
    monkeypatch.setattr(parse_module, "SIMPLIFY_STEPS", (shrink,))
    expr = sp.sin(x) ** 2 + sp.cos(x) ** 2 + x - 1
    X = np.linspace(0.1, 2, 40)
    out, rejected = parse_module.simplify_bounded(expr, lambda e: sp.lambdify([x], e, "numpy")(X) * np.ones(40))
    assert out == expr and rejected == ["bad"]


def test_bounded_simplification_keeps_numbers_and_shrinks():
    from physinf.symbolic.parse import complexity, simplify_bounded

    x, y = sp.symbols("x y", real=True)
    expr = (x * y + x) / (x * y**2 + x * y)  # = 1/y after cancel
    pts = np.random.default_rng(0).uniform(1, 2, (30, 2))
    out, rejected = simplify_bounded(expr, lambda e: sp.lambdify([x, y], e, "numpy")(*pts.T) * np.ones(30))
    assert out == 1 / y and not rejected and complexity(out) < complexity(expr)
