"""The one operator table of ``physinf.symbolic``.

Every operator a search may use is one :class:`Operator` row: its arity, its SymPy and numpy
meaning, and its spelling in each backend. Everything else is derived from :data:`TABLE`:
the backend option mappings (``OPERON_SYMBOLS``, ``PYSR_BINARY``, ``PYSR_UNARY``), the names the
infix parser accepts, the SymPy classes a formula file may contain, and (through
:func:`physinf._sympy.torch_namespace`, the one SymPy -> torch path) the torch export.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import sympy as sp

__all__ = [
    "ALGEBRAIC",
    "ARITHMETIC",
    "DEFAULT_OPERATORS",
    "INFIX_FUNCTIONS",
    "OPERATORS",
    "OPERON_SYMBOLS",
    "PYSR_BINARY",
    "PYSR_UNARY",
    "SYMPY_FUNCTIONS",
    "TABLE",
    "Operator",
]


@dataclass(frozen=True)
class Operator:
    """One operator: ``name`` (physinf's spelling), ``arity``, ``sympy`` and ``numpy``
    implementations, the spellings ``operon`` (pyoperon ``allowed_symbols``) and ``pysr``
    (PySR operator), and the ``level`` of the nested operator sets used by restarts
    (arithmetic ⊂ algebraic ⊂ transcendental)."""

    name: str
    arity: int
    sympy: Callable[..., Any]
    numpy: Callable[..., Any]
    operon: str
    pysr: str
    level: Literal["arithmetic", "algebraic", "transcendental"]


TABLE: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator("add", 2, lambda a, b: a + b, np.add, "add", "+", "arithmetic"),
        Operator("sub", 2, lambda a, b: a - b, np.subtract, "sub", "-", "arithmetic"),
        Operator("mul", 2, lambda a, b: a * b, np.multiply, "mul", "*", "arithmetic"),
        Operator("div", 2, lambda a, b: a / b, np.divide, "div", "/", "arithmetic"),
        Operator("pow", 2, lambda a, b: a**b, np.power, "pow", "^", "algebraic"),
        Operator("sqrt", 1, sp.sqrt, np.sqrt, "sqrt", "sqrt", "algebraic"),
        Operator("square", 1, lambda a: a**2, np.square, "square", "square", "algebraic"),
        Operator("cbrt", 1, sp.cbrt, np.cbrt, "cbrt", "cbrt", "algebraic"),
        Operator("abs", 1, sp.Abs, np.abs, "abs", "abs", "algebraic"),
        Operator("sin", 1, sp.sin, np.sin, "sin", "sin", "transcendental"),
        Operator("cos", 1, sp.cos, np.cos, "cos", "cos", "transcendental"),
        Operator("tan", 1, sp.tan, np.tan, "tan", "tan", "transcendental"),
        Operator("exp", 1, sp.exp, np.exp, "exp", "exp", "transcendental"),
        Operator("log", 1, sp.log, np.log, "log", "log", "transcendental"),
        Operator("tanh", 1, sp.tanh, np.tanh, "tanh", "tanh", "transcendental"),
        Operator("asin", 1, sp.asin, np.arcsin, "asin", "asin", "transcendental"),
        Operator("acos", 1, sp.acos, np.arccos, "acos", "acos", "transcendental"),
        Operator("atan", 1, sp.atan, np.arctan, "atan", "atan", "transcendental"),
    )
}

#: operator name -> arity (the names every backend maps).
OPERATORS: dict[str, int] = {name: op.arity for name, op in TABLE.items()}
DEFAULT_OPERATORS: tuple[str, ...] = ("add", "sub", "mul", "div", "sin", "cos", "exp", "log", "sqrt", "square")
ARITHMETIC: frozenset[str] = frozenset(n for n, op in TABLE.items() if op.level == "arithmetic")
ALGEBRAIC: frozenset[str] = frozenset(n for n, op in TABLE.items() if op.level in ("arithmetic", "algebraic"))

OPERON_SYMBOLS: dict[str, str] = {name: op.operon for name, op in TABLE.items()}
PYSR_BINARY: dict[str, str] = {name: op.pysr for name, op in TABLE.items() if op.arity == 2}
PYSR_UNARY: dict[str, str] = {name: op.pysr for name, op in TABLE.items() if op.arity == 1}

#: function names the infix parser accepts in backend strings (``Abs`` is SymPy's spelling of abs).
INFIX_FUNCTIONS: dict[str, Operator] = {name: op for name, op in TABLE.items() if op.arity == 1} | {"Abs": TABLE["abs"]}



def _sympy_functions() -> dict[str, type]:
    x = sp.Symbol("x", real=True)
    out: dict[str, type] = {}
    for op in TABLE.values():
        if op.arity == 1:
            node = op.sympy(x)
            if isinstance(node, sp.Function):
                out[node.func.__name__] = node.func
    return out


#: SymPy function classes the operators produce, by class name (sqrt, square, cbrt, pow are Pow nodes).
SYMPY_FUNCTIONS: dict[str, type] = _sympy_functions()
