"""Backend strings -> SymPy: parse, simplify, turn numeric constants into named parameters.

Constants become symbols ``c0, c1, ...`` (the SymbolFit pattern) so they can be re-fitted
with uncertainties. Integer exponents and integer/rational structure stay fixed.
"""

from __future__ import annotations

import contextlib
import signal
import threading

import sympy as sp

from physinf.symbolic.errors import SymbolicError

__all__ = ["to_sympy", "parametrise", "complexity", "simplify_safe", "PARAM_PREFIX"]

PARAM_PREFIX = "c"
_LOCALS = {
    "square": lambda a: a**2, "cbrt": lambda a: sp.cbrt(a), "sqrt": sp.sqrt, "exp": sp.exp, "log": sp.log,
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "tanh": sp.tanh, "abs": sp.Abs, "Abs": sp.Abs,
    "asin": sp.asin, "acos": sp.acos, "atan": sp.atan, "pi": sp.pi, "E": sp.E,
}


def to_sympy(expression: str, symbols: dict[str, sp.Symbol]) -> sp.Expr:
    """Parse an infix string (``^`` or ``**`` powers) whose variables are keys of ``symbols``."""
    text = expression.replace("^", "**")
    try:
        expr = sp.sympify(text, locals={**_LOCALS, **symbols}, rational=False)
    except (sp.SympifyError, SyntaxError, TypeError) as exc:
        raise SymbolicError(f"cannot parse backend expression {expression!r}: {exc}") from exc
    unknown = expr.free_symbols - set(symbols.values())
    if unknown:
        raise SymbolicError(f"expression {expression!r} uses unknown symbols {sorted(map(str, unknown))}")
    return expr


class _SimplifyTimeout(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Raise _SimplifyTimeout after ``seconds`` (main thread on POSIX only; elsewhere no limit)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or seconds <= 0:
        yield
        return

    def handler(signum, frame):  # noqa: ARG001
        raise _SimplifyTimeout

    previous = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def simplify_safe(expr: sp.Expr, max_ops: int = 60, max_seconds: float = 2.0) -> sp.Expr:
    """``sympy.simplify`` for small expressions, a cheap ``expand_mul/powsimp`` pass for large ones.

    ``sympy.simplify`` can take minutes on some noisy-data candidates; after ``max_seconds`` the
    cheap pass is used instead, so post-processing stays proportional to the search budget."""
    try:
        if sp.count_ops(expr) <= max_ops:
            try:
                with _time_limit(max_seconds):
                    out = sp.simplify(expr)
            except _SimplifyTimeout:
                out = sp.powsimp(sp.expand_mul(expr))
        else:
            out = sp.powsimp(sp.expand_mul(expr))
    except (RecursionError, TypeError, ValueError):  # pragma: no cover - sympy corner cases
        return expr
    return out if sp.count_ops(out) <= sp.count_ops(expr) else expr


def _is_structural(num: sp.Number, parent: sp.Basic | None) -> bool:
    """Integers / rationals and exponents are structure, floats are constants to fit."""
    if isinstance(num, (sp.Integer, sp.Rational)):
        return True
    return isinstance(parent, sp.Pow) and parent.exp == num and float(num) == int(float(num))


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
