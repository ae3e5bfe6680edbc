"""Rebuild SymPy expressions from ``srepr`` text without executing it.

Formula files travel between physicists, so reading one must never run code. ``sympify`` and
``eval`` would: a file whose ``template_srepr`` is ``__import__('os').system(...) or Symbol('x')``
runs the command. :func:`from_srepr` instead parses the text with :mod:`ast` and builds each
node itself, accepting only a whitelist of SymPy constructors: ``Symbol(name, real=True)``,
``Integer``, ``Rational``, ``Float``, ``Add``, ``Mul``, ``Pow``, the functions of the operator
table (:data:`physinf.symbolic.operators.SYMPY_FUNCTIONS`) and the constants ``pi`` and ``E``.
Anything else raises :class:`~physinf.symbolic.errors.FormulaFileError`.
"""

from __future__ import annotations

import ast
import math

import sympy as sp

from physinf.symbolic.errors import FormulaFileError
from physinf.symbolic.operators import SYMPY_FUNCTIONS

__all__ = ["MAX_SREPR_CHARS", "from_srepr"]

MAX_SREPR_CHARS = 1_000_000
_CONSTANTS = {"pi": sp.pi, "E": sp.E}
_NARY = {"Add": sp.Add, "Mul": sp.Mul}


def _fail(text: str, why: str) -> FormulaFileError:
    shown = text if len(text) <= 120 else text[:117] + "..."
    return FormulaFileError(f"refused expression {shown!r}: {why}. A formula file may contain only "
                            f"Symbol(name, real=True), Integer, Rational, Float, Add, Mul, Pow, "
                            f"{', '.join(sorted(SYMPY_FUNCTIONS))}, pi and E")


def _literal(node: ast.AST, kind: type, text: str):
    if isinstance(node, ast.Constant) and type(node.value) is kind:
        return node.value
    if kind is int and isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_literal(node.operand, int, text)
    raise _fail(text, f"expected a {kind.__name__} literal, found {ast.unparse(node)!r}")


def from_srepr(text: str) -> sp.Basic:
    """The SymPy object of ``sympy.srepr`` output, built from whitelisted constructors only."""
    if not isinstance(text, str):
        raise FormulaFileError(f"an expression must be a string (SymPy srepr), got {type(text).__name__}")
    if len(text) > MAX_SREPR_CHARS:
        raise _fail(text, f"longer than {MAX_SREPR_CHARS} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise _fail(text, f"not a valid expression ({type(exc).__name__})") from exc

    def build(node: ast.AST) -> sp.Basic:
        if isinstance(node, ast.Name) and node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            raise _fail(text, f"{ast.unparse(node)!r} is not a whitelisted constructor call")
        name, args, kw = node.func.id, node.args, {k.arg: k.value for k in node.keywords}
        if any(isinstance(a, ast.Starred) for a in args) or None in kw:
            raise _fail(text, "star arguments are not allowed")
        if name == "Symbol":
            if len(args) != 1 or set(kw) != {"real"} or _literal(kw["real"], bool, text) is not True:
                raise _fail(text, "a symbol must be Symbol('name', real=True)")
            symbol_name = _literal(args[0], str, text)
            if not symbol_name.isidentifier():
                raise _fail(text, f"symbol name {symbol_name!r} is not an identifier")
            return sp.Symbol(symbol_name, real=True)
        if name == "Integer" and len(args) == 1 and not kw:
            return sp.Integer(_literal(args[0], int, text))
        if name == "Rational" and len(args) == 2 and not kw:
            p, q = _literal(args[0], int, text), _literal(args[1], int, text)
            if q == 0:
                raise _fail(text, "zero denominator")
            return sp.Rational(p, q)
        if name == "Float" and len(args) == 1 and set(kw) <= {"precision"}:
            digits = _literal(args[0], str, text)
            precision = _literal(kw["precision"], int, text) if "precision" in kw else 53
            if not 1 <= precision <= 1024:
                raise _fail(text, f"Float precision {precision} out of range")
            try:
                value = float(digits)
            except ValueError as exc:
                raise _fail(text, f"{digits!r} is not a number") from exc
            if not math.isfinite(value):
                raise _fail(text, "non-finite Float")
            return sp.Float(digits, precision=precision)
        if kw:
            raise _fail(text, f"{name} takes no keyword arguments here")
        if name in _NARY and args:
            return _NARY[name](*[build(a) for a in args])
        if name == "Pow" and len(args) == 2:
            return sp.Pow(build(args[0]), build(args[1]))
        if name in SYMPY_FUNCTIONS and len(args) == 1:
            return SYMPY_FUNCTIONS[name](build(args[0]))
        raise _fail(text, f"{name}(...) with {len(args)} argument(s) is not a whitelisted constructor")

    try:
        return build(tree.body)
    except RecursionError as exc:
        raise _fail(text, "nested too deeply") from exc
