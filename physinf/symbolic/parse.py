"""Backend strings -> SymPy and numpy; bounded simplification; constants -> named parameters.

Infix strings (``^`` or ``**`` powers) are parsed with Python's :mod:`ast` against the operator
table (:mod:`physinf.symbolic.operators`): only numbers, the given variable names, ``pi``,
``E``, + - * / ^ and the table's functions are accepted, and nothing is ever evaluated as code.
The same tree is built either as a SymPy expression (:func:`to_sympy`) or evaluated directly
with numpy (:func:`evaluate`); the second is an independent reference for the first, which is
how the post-processing checks that parsing kept the backend's numbers.

Constants become symbols ``c0, c1, ...`` (the SymbolFit pattern) so they can be re-fitted
with uncertainties. Integer exponents and integer/rational structure stay fixed.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping

import numpy as np
import sympy as sp

from physinf.symbolic.errors import SymbolicError
from physinf.symbolic.operators import INFIX_FUNCTIONS, SYMPY_FUNCTIONS, TABLE

__all__ = [
    "MAX_EXPRESSION_CHARS",
    "PARAM_PREFIX",
    "complexity",
    "evaluate",
    "numeric_function",
    "parametrise",
    "parse_infix",
    "same_numbers",
    "simplify_bounded",
    "to_sympy",
]

PARAM_PREFIX = "c"
MAX_EXPRESSION_CHARS = 20_000
_BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
_CONSTANTS_SYMPY = {"pi": sp.pi, "E": sp.E}
_CONSTANTS_NUMPY = {"pi": np.pi, "E": np.e}


def parse_infix(expression: str, names: set[str] | frozenset[str] | Mapping[str, object]) -> ast.Expression:
    """Parse and validate an infix string; raise :class:`SymbolicError` on anything else.

    Accepted: int/float literals, the variable ``names`` (then ``pi``, ``E``), unary ±,
    + - * / and ``^``/``**``, and calls of one-argument table functions (``sin``, ``sqrt``,
    ``square``, ``Abs``, ...)."""
    if not isinstance(expression, str):
        raise SymbolicError(f"expected an expression string, got {type(expression).__name__}")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise SymbolicError(f"expression of {len(expression)} characters is longer than {MAX_EXPRESSION_CHARS}")
    try:
        tree = ast.parse(expression.replace("^", "**"), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise SymbolicError(f"cannot parse expression {expression!r}: {exc}") from exc
    known = set(names)

    def bad(node: ast.AST) -> SymbolicError:
        return SymbolicError(f"expression {expression!r} contains {ast.unparse(node)!r}: only numbers, the variables "
                             f"{sorted(known)}, pi, E, + - * / ^ and the functions {sorted(INFIX_FUNCTIONS)} "
                             "(one argument each) are allowed")

    def check(node: ast.AST) -> None:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return
        if isinstance(node, ast.Name) and (node.id in known or node.id in _CONSTANTS_SYMPY):
            return
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return check(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            check(node.left)
            return check(node.right)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in INFIX_FUNCTIONS
                and len(node.args) == 1 and not node.keywords):
            return check(node.args[0])
        raise bad(node)

    try:
        check(tree.body)
    except RecursionError as exc:
        raise SymbolicError("expression is nested too deeply") from exc
    return tree


def _build(tree: ast.Expression, leaf: Callable[[str], object], number: Callable[[int | float, bool], object],
           call: Callable[[str, object], object], binary: Callable[[str, object, object], object]):
    def walk(node: ast.AST, exponent: bool = False):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant):
            return number(node.value, exponent)
        if isinstance(node, ast.Name):
            return leaf(node.id)
        if isinstance(node, ast.UnaryOp):
            value = walk(node.operand, exponent)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            name = _BINARY[type(node.op)]
            return binary(name, walk(node.left), walk(node.right, exponent=name == "pow"))
        if isinstance(node, ast.Call):
            return call(node.func.id, walk(node.args[0]))
        raise SymbolicError(f"unexpected syntax {type(node).__name__}")  # pragma: no cover - parse_infix rejects it

    try:
        return walk(tree)
    except RecursionError as exc:
        raise SymbolicError("expression is nested too deeply") from exc


def _sympy_number(value: int | float, exponent: bool) -> sp.Expr:
    if isinstance(value, int) or (exponent and float(value).is_integer()):
        return sp.Integer(int(value))
    return sp.Float(value)


def to_sympy(expression: str | ast.Expression, symbols: Mapping[str, sp.Symbol],
             names: set[str] | None = None) -> sp.Expr:
    """SymPy expression of an infix string whose variables are keys of ``symbols``.

    Float literals stay Floats (constants to fit); integers, and integer-valued exponents,
    become exact integers."""
    tree = expression if isinstance(expression, ast.Expression) else parse_infix(expression, names or symbols)

    def leaf(name: str) -> sp.Expr:
        return symbols[name] if name in symbols else _CONSTANTS_SYMPY[name]

    def call(name: str, arg):
        return INFIX_FUNCTIONS[name].sympy(arg)

    def binary(name: str, a, b):
        return TABLE[name].sympy(a, b)

    try:
        return sp.sympify(_build(tree, leaf, _sympy_number, call, binary))
    except (TypeError, ValueError, ZeroDivisionError) as exc:  # pragma: no cover - SymPy corner cases
        raise SymbolicError(f"cannot build {ast.unparse(tree)!r} in SymPy: {exc}") from exc


def evaluate(expression: str | ast.Expression, columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Evaluate an infix string with numpy (float64), variables from ``columns``; no SymPy.

    Floating-point warnings are silenced: invalid points come back as NaN or inf."""
    tree = expression if isinstance(expression, ast.Expression) else parse_infix(expression, columns)
    n = len(next(iter(columns.values()))) if columns else 1

    def leaf(name: str):
        return np.asarray(columns[name], float) if name in columns else _CONSTANTS_NUMPY[name]

    def number(value, exponent):  # noqa: ARG001
        return float(value)

    def call(name: str, arg):
        return INFIX_FUNCTIONS[name].numpy(arg)

    def binary(name: str, a, b):
        return TABLE[name].numpy(a, b)

    with np.errstate(all="ignore"):
        out = _build(tree, leaf, number, call, binary)
    return np.broadcast_to(np.asarray(out, dtype=float), (n,)).copy()


# ---------------------------------------------------------------------------- SymPy -> numbers
_NUMPY_OF_SYMPY: dict[type, Callable] = {cls: INFIX_FUNCTIONS[name if name != "Abs" else "abs"].numpy
                                         for name, cls in SYMPY_FUNCTIONS.items()}


def _compile(expr: sp.Expr, index: Mapping[sp.Symbol, int]) -> Callable[[tuple], np.ndarray | float]:
    """Nested closures evaluating ``expr`` on a tuple of argument values (no SymPy printing)."""
    if isinstance(expr, sp.Symbol):
        i = index[expr]
        return lambda v: v[i]
    if expr.is_Number or isinstance(expr, sp.NumberSymbol):
        c = float(expr)
        return lambda v: c
    if not isinstance(expr, (sp.Add, sp.Mul, sp.Pow)) and (type(expr) not in _NUMPY_OF_SYMPY or len(expr.args) != 1):
        # anything else (e.g. sign, from differentiating Abs): let lambdify print this subtree
        symbols = sorted(expr.free_symbols, key=lambda s_: index[s_])
        compiled = sp.lambdify(symbols, expr, "numpy")
        positions = [index[s_] for s_ in symbols]
        return lambda v: compiled(*[v[i] for i in positions])
    args = [_compile(a, index) for a in expr.args]
    if isinstance(expr, (sp.Add, sp.Mul)):
        first, rest = args[0], args[1:]
        if isinstance(expr, sp.Add):
            def add(v):
                out = first(v)
                for g in rest:
                    out = out + g(v)
                return out
            return add

        def mul(v):
            out = first(v)
            for g in rest:
                out = out * g(v)
            return out
        return mul
    if isinstance(expr, sp.Pow):
        base, exp = args
        if expr.exp == sp.S.Half:
            return lambda v: np.sqrt(base(v))
        if expr.exp == -1:
            return lambda v: 1.0 / np.asarray(base(v), dtype=float)
        if expr.exp.is_Integer and expr.exp > 0:
            k = int(expr.exp)
            return lambda v: np.power(base(v), k)
        return lambda v: np.power(np.asarray(base(v), dtype=float), exp(v))
    fn = _NUMPY_OF_SYMPY[type(expr)]
    (arg,) = args
    return lambda v: fn(arg(v))


def numeric_function(expr: sp.Expr, symbols: list[sp.Symbol]) -> Callable[..., np.ndarray]:
    """``f(*values)``: the numbers of ``expr`` with ``symbols`` set to ``values``, computed by
    closures over its tree with the operator table's numpy functions. Unlike ``lambdify``
    nothing is printed or compiled, which makes it the cheap choice for expressions that are
    evaluated a few hundred times (checks, fits). Floating-point warnings are silenced;
    invalid points give NaN or inf, as lambdify's code would."""
    program = _compile(expr, {s: i for i, s in enumerate(symbols)})

    def f(*values):
        with np.errstate(all="ignore"):
            return program(values)

    return f


# ---------------------------------------------------------------------------- simplification
def same_numbers(a: np.ndarray, b: np.ndarray, rtol: float = 1e-9) -> bool:
    """True when two evaluations agree: the same non-finite points, and the finite values
    within ``rtol`` of the largest finite magnitude."""
    fa, fb = np.isfinite(a), np.isfinite(b)
    if not np.array_equal(fa, fb) or not fa.any():
        return bool(np.array_equal(fa, fb) and fa.any())
    scale = max(float(np.max(np.abs(a[fa]))), 1e-300)
    return bool(np.max(np.abs(a[fa] - b[fa])) <= rtol * scale)


def _guarded(fn: Callable[[sp.Expr], sp.Expr], max_nodes: int) -> Callable[[sp.Expr], sp.Expr]:
    def step(expr: sp.Expr) -> sp.Expr:
        return fn(expr) if complexity(expr) <= max_nodes else expr

    return step


#: The fixed sequence of simplification steps: each is polynomial in the size of the expression
#: and applied only below its size guard (tree nodes), so the cost is bounded by construction.
SIMPLIFY_STEPS: tuple[tuple[str, Callable[[sp.Expr], sp.Expr]], ...] = (
    ("factor_terms", _guarded(sp.factor_terms, 80)),
    ("cancel", _guarded(lambda e: sp.cancel(sp.together(e)), 40)),
    ("powsimp", _guarded(sp.powsimp, 80)),
    ("powdenest", _guarded(sp.powdenest, 60)),
    ("factor_terms", _guarded(sp.factor_terms, 80)),
)


def simplify_bounded(expr: sp.Expr, values: Callable[[sp.Expr], np.ndarray] | None = None,
                     rtol: float = 1e-9) -> tuple[sp.Expr, list[str]]:
    """Apply :data:`SIMPLIFY_STEPS` in order; keep a step's result only if it is not larger
    (tree nodes) and, when ``values`` (expression -> numbers on check points) is given, has the
    same numbers (:func:`same_numbers`). Returns the expression and the names of rejected steps.

    No step calls ``sympy.simplify`` (whose run time is unbounded) and no global state (signals,
    timers) is touched."""
    current = expr
    current_values = values(current) if values is not None else None
    rejected: list[str] = []
    for name, step in SIMPLIFY_STEPS:
        try:
            new = step(current)
        except (RecursionError, TypeError, ValueError, ZeroDivisionError, sp.PolynomialError):  # pragma: no cover
            rejected.append(name)
            continue
        if new == current or complexity(new) > complexity(current):
            continue
        if values is not None:
            new_values = values(new)
            if not same_numbers(current_values, new_values, rtol):
                rejected.append(name)
                continue
            current_values = new_values
        current = new
    return current, rejected


# ---------------------------------------------------------------------------- parameters
def parametrise(expr: sp.Expr, prefix: str = PARAM_PREFIX) -> tuple[sp.Expr, list[sp.Symbol], list[float]]:
    """Replace every Float by a parameter symbol; return (expr, params, initial values).

    Floats that are integer exponents are made exact integers instead.
    """
    values: list[float] = []
    params: list[sp.Symbol] = []

    def walk(node: sp.Basic) -> sp.Basic:
        if isinstance(node, sp.Float):
            s = sp.Symbol(f"{prefix}{len(params)}", real=True)
            params.append(s)
            values.append(float(node))
            return s
        if not node.args:
            return node
        if isinstance(node, sp.Pow) and isinstance(node.exp, sp.Float) and float(node.exp) == round(float(node.exp)):
            return sp.Pow(walk(node.base), sp.Integer(round(float(node.exp))))
        return node.func(*[walk(a) for a in node.args])

    out = walk(expr)
    return out, params, values


def complexity(expr: sp.Expr) -> int:
    """Number of nodes of the expression tree (every leaf and operator counts 1)."""
    return sum(1 for _ in sp.preorder_traversal(expr))
