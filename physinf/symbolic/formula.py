"""The :class:`Formula` result: expression, constants ± errors, covariance, front, metrics, exports."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sympy as sp

from physinf.errors import InvalidParameterError

__all__ = ["Formula", "FrontMember", "TORCH_FUNCTIONS"]

SCHEMA_VERSION = "1.0.0"


def _torch_functions() -> dict:
    import torch

    return {
        "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "exp": torch.exp, "log": torch.log,
        "sqrt": torch.sqrt, "Abs": torch.abs, "tanh": torch.tanh, "asin": torch.asin, "acos": torch.acos,
        "atan": torch.atan, "atan2": torch.atan2, "sign": torch.sign, "pi": float(np.pi), "E": float(np.e),
        "cbrt": lambda a: torch.sign(a) * torch.abs(a) ** (1.0 / 3.0),
    }


TORCH_FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "sqrt", "Abs", "tanh", "asin", "acos", "atan", "cbrt")


@dataclass(frozen=True)
class FrontMember:
    """One post-processed Pareto-front member (after parsing, simplifying, re-fitting)."""

    expression: str  # with constants substituted
    complexity: int
    loss: float

    def to_dict(self) -> dict:
        return {"expression": self.expression, "complexity": self.complexity, "loss": self.loss}


@dataclass(frozen=True)
class Formula:
    """A distilled closed-form formula.

    ``template`` has the constants as symbols ``c0, c1, ...`` (``params``); ``values``,
    ``errors`` and ``covariance`` are their re-fitted estimates. ``expr`` substitutes them.
    ``variables`` are the input symbols, in the column order of ``X``.
    """

    template: sp.Expr
    variables: tuple[sp.Symbol, ...]
    params: tuple[sp.Symbol, ...]
    values: np.ndarray
    covariance: np.ndarray
    front: tuple[FrontMember, ...] = ()
    selected: int = -1
    metrics: dict = field(default_factory=dict)

    # ----------------------------------------------------------------- views
    @property
    def names(self) -> list[str]:
        return [str(v) for v in self.variables]

    @property
    def errors(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(np.atleast_2d(self.covariance)), 0.0, None)) if len(self.params) else np.zeros(0)

    @property
    def constants(self) -> dict[str, tuple[float, float]]:
        """``{name: (value, error)}``."""
        return {str(p): (float(v), float(e)) for p, v, e in zip(self.params, self.values, self.errors)}

    @property
    def expr(self) -> sp.Expr:
        """The expression with the fitted constants substituted (floats)."""
        return self.template.subs({p: sp.Float(float(v), 15) for p, v in zip(self.params, self.values)})

    @property
    def complexity(self) -> int:
        from physinf.symbolic.parse import complexity

        return complexity(self.template)

    def __repr__(self) -> str:
        consts = ", ".join(f"{k}={v:.6g}±{e:.2g}" for k, (v, e) in self.constants.items())
        return f"Formula({self.template}; {consts})"

    # --------------------------------------------------------------- exports
    def latex(self, with_errors: bool = False) -> str:
        """LaTeX of the template with values (or ``value \\pm error``) substituted."""
        if not with_errors:
            return sp.latex(self.template.subs({p: sp.Float(float(v), 6) for p, v in zip(self.params, self.values)}))
        reps = {p: sp.Symbol(f"({v:.6g} \\pm {e:.2g})") for p, v, e in zip(self.params, self.values, self.errors)}
        return sp.latex(self.template.subs(reps))

    def numpy(self):
        """numpy callable ``f(X)`` with X of shape (N, n_variables)."""
        fn = sp.lambdify(self.variables, self.expr, modules="numpy")

        def f(X: np.ndarray) -> np.ndarray:
            X = np.asarray(X, dtype=float)
            if X.ndim != 2 or X.shape[1] != len(self.variables):
                raise InvalidParameterError(f"X must have shape (N, {len(self.variables)}) for {self.names}")
            with np.errstate(all="ignore"):
                out = fn(*[X[:, i] for i in range(X.shape[1])])
            return np.broadcast_to(np.asarray(out, dtype=float), (X.shape[0],)).copy()

        return f

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return self.numpy()(X)

    def torch(self):
        """A ``torch.nn.Module`` mapping (N, n_variables) -> (N,); the constants are trainable parameters."""
        import torch

        fn = sp.lambdify([*self.variables, *self.params], self.template, modules=[_torch_functions(), "math"])
        names = self.names
        n_vars = len(self.variables)

        class FormulaModule(torch.nn.Module):
            def __init__(self, values: np.ndarray) -> None:
                super().__init__()
                self.constants = torch.nn.Parameter(torch.as_tensor(np.asarray(values, float), dtype=torch.float64))

            def forward(self, X: torch.Tensor) -> torch.Tensor:
                if X.ndim != 2 or X.shape[1] != n_vars:
                    raise InvalidParameterError(f"X must have shape (N, {n_vars}) for {names}")
                out = fn(*[X[:, i] for i in range(n_vars)], *[self.constants[j] for j in range(len(self.constants))])
                return torch.as_tensor(out, dtype=X.dtype) * torch.ones(X.shape[0], dtype=X.dtype)

        return FormulaModule(self.values)

    # ----------------------------------------------------------------- JSON
    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "template": str(self.template),
            "template_srepr": sp.srepr(self.template),
            "expression": str(self.expr),
            "latex": self.latex(),
            "variables": [sp.srepr(v) for v in self.variables],
            "params": [sp.srepr(p) for p in self.params],
            "values": [float(v) for v in self.values],
            "errors": [float(e) for e in self.errors],
            "covariance": np.atleast_2d(self.covariance).tolist() if len(self.params) else [],
            "front": [m.to_dict() for m in self.front],
            "selected": self.selected,
            "metrics": self.metrics,
        }

    def to_json(self, path: str | Path | None = None) -> str:
        """JSON text (also written to ``path`` if given). :meth:`from_json` reloads the same expression."""
        text = json.dumps(self.to_dict(), indent=1, default=float)
        if path is not None:
            Path(path).write_text(text)
        return text

    @classmethod
    def from_dict(cls, d: dict) -> "Formula":
        if d.get("schema_version") != SCHEMA_VERSION:
            raise InvalidParameterError(f"unsupported Formula schema {d.get('schema_version')!r}; expected {SCHEMA_VERSION}")
        cov = np.asarray(d["covariance"], float).reshape(len(d["params"]), len(d["params"]))
        return cls(
            template=_from_srepr(d["template_srepr"]),
            variables=tuple(_from_srepr(v) for v in d["variables"]),
            params=tuple(_from_srepr(p) for p in d["params"]),
            values=np.asarray(d["values"], float),
            covariance=cov,
            front=tuple(FrontMember(**m) for m in d["front"]),
            selected=int(d["selected"]),
            metrics=dict(d["metrics"]),
        )

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> "Formula":
        text = str(text_or_path)
        if not text.lstrip().startswith("{"):
            text = Path(text_or_path).read_text()
        return cls.from_dict(json.loads(text))


def _from_srepr(text: str) -> sp.Basic:
    """Rebuild a SymPy object from ``srepr`` output (SymPy's own constructors only)."""
    return sp.sympify(text)
