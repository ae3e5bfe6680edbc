"""The one SymPy -> torch path: amplitudes, formulas and surrogates all compile through here.

``lambdify_torch`` turns SymPy expressions into a function of torch tensors (any device and
dtype) with the same common-subexpression elimination as the numpy path. SymPy prints
functions by name; :func:`torch_namespace` maps every name our expressions use onto torch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sympy as sp

__all__ = ["lambdify_torch", "torch_namespace"]


def torch_namespace() -> dict[str, Any]:
    """SymPy function names -> torch functions (imported lazily: physinf imports without torch)."""
    import torch

    return {
        "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "exp": torch.exp, "log": torch.log,
        "sqrt": torch.sqrt, "Abs": torch.abs, "tanh": torch.tanh, "asin": torch.asin, "acos": torch.acos,
        "atan": torch.atan, "atan2": torch.atan2, "sign": torch.sign, "pi": 3.141592653589793,
        "E": 2.718281828459045, "cbrt": lambda a: torch.sign(a) * torch.abs(a) ** (1.0 / 3.0),
    }


def _fold_numeric_powers(expr: sp.Expr) -> sp.Expr:
    """torch.pow rejects (Python float, int) pairs: evaluate powers of pure numbers, e.g. (4 pi a)^2
    with a a number, to one float before printing."""
    return expr.replace(lambda x: x.is_Pow and x.base.is_number and x.exp.is_number, lambda x: sp.Float(x.evalf(17)))


def lambdify_torch(args: Sequence[Any], exprs: Any, *, cse: bool = True) -> Callable[..., Any]:
    """``sympy.lambdify`` for torch tensors: ``args`` symbols (or lists of them), ``exprs`` one
    expression or a list. Results keep the inputs' device and dtype; a constant result comes
    back as a Python number (broadcast it against the inputs where a tensor is needed)."""
    if isinstance(exprs, (list, tuple)):
        folded: Any = [_fold_numeric_powers(sp.sympify(e)) for e in exprs]
    else:
        folded = _fold_numeric_powers(sp.sympify(exprs))
    return sp.lambdify(args, folded, modules=[torch_namespace(), "math"], cse=cse)
