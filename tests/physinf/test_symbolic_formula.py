"""Formula exports (LaTeX, numpy, torch) agree; JSON files reload the same expression and are
parsed, never executed."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

from physinf.errors import PhysinfError
from physinf.symbolic import Formula, FormulaFileError, fit_formula

SEED = "-x_p1*(x_p2 + c)*(a - b*delta_eta_jj)*sin(delta_phi_jj + d)"
NAMES = ["x_p1", "x_p2", "delta_eta_jj", "delta_phi_jj"]


@pytest.fixture(scope="module")
def formula():
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.gamma(2, 0.4, 800), rng.gamma(2, 0.3, 800), rng.uniform(0, 8, 800),
                         rng.uniform(-np.pi, np.pi, 800)])
    y = -X[:, 0] * (X[:, 1] + 0.24) * (1.09 - 0.102 * X[:, 2]) * np.sin(X[:, 3] + 0.0066)
    y = y + 0.01 * rng.standard_normal(len(y))
    f = fit_formula(SEED, X, y, NAMES, constants={"a": 1.0, "b": 0.1, "c": 0.2, "d": 0.0})
    return f, X


def test_seed_formula_constants(formula):
    f, _ = formula
    vals = dict(zip(map(str, f.params), f.values))
    for k, v in {"a": 1.09, "b": 0.102, "c": 0.24, "d": 0.0066}.items():
        assert abs(vals[k] - v) < 5 * f.constants[k][1] + 1e-9


def test_json_round_trip(formula, tmp_path):
    f, X = formula
    path = tmp_path / "f.json"
    assert f.to_json(path) == path
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]  # atomic write: no temporary file left
    g = Formula.from_json(path)
    assert g.template == f.template and g.variables == f.variables and g.params == f.params
    np.testing.assert_array_equal(g.values, f.values)
    np.testing.assert_array_equal(g.covariance, f.covariance)
    np.testing.assert_array_equal(g(X), f(X))
    assert Formula.from_dict(json.loads(json.dumps(f.to_dict()))).template == f.template


def test_round_trip_of_every_operator_and_constant(tmp_path):
    from physinf.symbolic.operators import INFIX_FUNCTIONS

    x, z = sp.symbols("x z", real=True)
    c = sp.Symbol("c0", real=True)
    expr = sum((op.sympy(x + c) for name, op in INFIX_FUNCTIONS.items() if name != "Abs"), sp.Integer(0))
    expr += sp.pi * sp.sqrt(2) * z ** sp.Rational(-3, 2) + sp.E * sp.Float("0.125") / x
    f = Formula(expr, (x, z), (c,), np.array([0.25]), np.array([[1e-4]]))
    g = Formula.from_json(f.to_json(tmp_path / "all.json"))
    assert g.template == f.template


@pytest.mark.parametrize("payload", [
    "__import__('os').system('touch pwned') or Symbol('x')",
    "Symbol('x', real=True).__class__.__mro__",
    "eval('1')",
    "Symbol('x', real=True, commutative=False)",
    "Function('f')(Symbol('x', real=True))",
    "Symbol('__import__', real=True) + Integer(1)",
    "lambda: 0",
    "Integer('1' * 10)",
])
def test_hostile_formula_file_is_refused_and_runs_nothing(formula, tmp_path, monkeypatch, payload):
    f, _ = formula
    monkeypatch.chdir(tmp_path)
    data = f.to_dict()
    data["template_srepr"] = payload
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(data))
    with pytest.raises(FormulaFileError, match="refused"):
        Formula.from_json(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.json"]  # no file was created
    assert issubclass(FormulaFileError, PhysinfError)


def test_formula_file_errors(formula, tmp_path):
    f, _ = formula
    good = f.to_dict()

    def load(d):
        path = tmp_path / "f.json"
        path.write_text(json.dumps(d) if not isinstance(d, str) else d)
        return Formula.from_json(path)

    with pytest.raises(FormulaFileError, match="schema version '9.9.9'"):
        load({**good, "schema_version": "9.9.9"})
    with pytest.raises(FormulaFileError, match="lacks the key.*params"):
        load({k: v for k, v in good.items() if k != "params"})
    with pytest.raises(FormulaFileError, match="covariance must be 4x4"):
        load({**good, "covariance": [[1.0, 0.0], [0.0, 1.0]]})
    with pytest.raises(FormulaFileError, match="values must have 4 entries"):
        load({**good, "values": [1.0]})
    with pytest.raises(FormulaFileError, match="neither variables nor params"):
        load({**good, "params": good["params"][:-1], "values": good["values"][:-1],
              "covariance": [row[:-1] for row in good["covariance"][:-1]]})
    with pytest.raises(FormulaFileError, match="not valid JSON"):
        load("{not json")
    with pytest.raises(FormulaFileError, match="cannot read"):
        Formula.from_json(tmp_path / "missing.json")


def test_exports_agree(formula):
    torch = pytest.importorskip("torch")
    f, X = formula
    ref = np.array([float(f.expr.subs(dict(zip(f.variables, row)))) for row in X[:20]])
    np.testing.assert_allclose(f.numpy()(X[:20]), ref, rtol=1e-12)
    module = f.torch()
    out = module(torch.as_tensor(X, dtype=torch.float64)).detach().numpy()
    np.testing.assert_allclose(out, f(X), rtol=1e-12)
    # gradients reach the constants
    module(torch.as_tensor(X, dtype=torch.float64)).sum().backward()
    assert module.constants.grad is not None and torch.all(torch.isfinite(module.constants.grad))
    # LaTeX is the SymPy LaTeX of the same expression
    tex = f.latex()
    assert "\\sin" in tex and "x_{p1}" in tex
    assert "\\pm" in f.latex(with_errors=True)


def test_numpy_shape_check(formula):
    from physinf.errors import InvalidParameterError

    f, X = formula
    with pytest.raises(InvalidParameterError, match="shape"):
        f(X[:, :2])


def test_simplification_is_bounded_without_global_state():
    # no sympy.simplify (unbounded run time) and no signal handlers: a large expression goes
    # through the fixed, size-guarded steps quickly and keeps its numbers
    import signal
    import time

    from physinf.symbolic.parse import simplify_bounded

    x, y = sp.symbols("x y", real=True)
    big = sum(sp.sin(k * x + y) ** 2 / (1 + k * x * y) for k in range(1, 40))
    handler = signal.getsignal(signal.SIGALRM)
    t0 = time.perf_counter()
    out, _ = simplify_bounded(big)
    assert time.perf_counter() - t0 < 5.0
    assert signal.getsignal(signal.SIGALRM) is handler
    pts = {x: 0.7, y: 1.3}
    assert abs(float(out.subs(pts)) - float(big.subs(pts))) < 1e-9 * abs(float(big.subs(pts)))
