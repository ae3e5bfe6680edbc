"""One operator table drives every backend mapping, the parser, the file whitelist and torch."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from physinf.symbolic import OPERATORS, Budget
from physinf.symbolic.backends.operon import OperonBackend
from physinf.symbolic.backends.pysr import PySRBackend
from physinf.symbolic.errors import SymbolicError
from physinf.symbolic.operators import INFIX_FUNCTIONS, SYMPY_FUNCTIONS, TABLE
from physinf.symbolic.parse import evaluate, to_sympy


def test_backend_options_come_from_the_table():
    ops = tuple(TABLE)
    operon = OperonBackend().options(Budget(), 0, ops)["allowed_symbols"].split(",")
    assert operon == [TABLE[o].operon for o in ops] + ["constant", "variable"]
    pysr = PySRBackend().options(Budget(), 0, ops)
    assert pysr["binary_operators"] == [TABLE[o].pysr for o in ops if TABLE[o].arity == 2]
    assert pysr["unary_operators"] == [TABLE[o].pysr for o in ops if TABLE[o].arity == 1]
    assert OPERATORS == {name: op.arity for name, op in TABLE.items()}


@pytest.mark.parametrize("name", sorted(INFIX_FUNCTIONS))
def test_sympy_numpy_and_torch_agree_for_every_unary_operator(name):
    torch = pytest.importorskip("torch")
    from physinf._sympy import lambdify_torch

    x = sp.Symbol("x", real=True)
    values = np.linspace(0.1, 0.9, 9)  # inside every operator's real domain
    text = f"{name}(0.5*x + 0.05)"
    expr = to_sympy(text, {"x": x})
    direct = evaluate(text, {"x": values})
    via_sympy = sp.lambdify([x], expr, "numpy")(values)
    via_torch = lambdify_torch([x], expr)(torch.as_tensor(values, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(via_sympy, direct, rtol=1e-13)
    np.testing.assert_allclose(via_torch, direct, rtol=1e-13)
    for node in sp.preorder_traversal(expr):  # everything an operator builds can be read back from a file
        if isinstance(node, sp.Function):
            assert type(node).__name__ in SYMPY_FUNCTIONS


def test_torch_namespace_covers_the_table():
    pytest.importorskip("torch")
    from physinf._sympy import torch_namespace

    assert set(SYMPY_FUNCTIONS) <= set(torch_namespace())


@pytest.mark.parametrize("bad", ["__import__('os')", "x.real", "x if x else 1", "[x]", "sin(x, x)", "gamma(x)",
                                 "x @ x", "sin(x=1)", "'x'", "True"])
def test_infix_parser_refuses_everything_else(bad):
    with pytest.raises(SymbolicError, match="not allowed|contains|cannot parse"):
        to_sympy(bad, {"x": sp.Symbol("x", real=True)})


def test_powers_and_constants():
    x = sp.Symbol("x", real=True)
    assert to_sympy("x^2.0 + square(x) + 3", {"x": x}) == 2 * x**2 + 3
    assert to_sympy("pi*x", {"x": x}) == sp.pi * x
    assert to_sympy("E", {"E": x}) == x  # a variable named like a constant wins
    assert isinstance(to_sympy("0.5*x", {"x": x}).args[0], sp.Float)  # floats stay constants to fit
