"""The :class:`Formula` result: expression, constants ± errors, covariance, front, metrics, exports."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sympy as sp

from physinf._io import write_text
from physinf.errors import InvalidParameterError
from physinf.symbolic.errors import FormulaFileError
from physinf.symbolic.serialize import from_srepr

__all__ = ["SCHEMA_VERSION", "Formula", "FrontMember"]

SCHEMA_VERSION = "1.1.0"
#: versions :meth:`Formula.from_dict` reads (1.0.0 files have no raw losses in the front).
READABLE_VERSIONS = ("1.0.0", "1.1.0")
_REQUIRED = ("schema_version", "template_srepr", "variables", "params", "values", "covariance", "front",
             "selected", "metrics")


@dataclass(frozen=True)
class FrontMember:
    """One post-processed Pareto-front member (after parsing, simplifying, re-fitting).

    ``loss``: its weighted MSE after post-processing; ``raw_loss``: that of the backend's own
    expression on the same rows (NaN where unknown); ``loss <= raw_loss`` up to round-off."""

    expression: str  # with constants substituted
    complexity: int
    loss: float
    raw_loss: float = float("nan")

    def to_dict(self) -> dict:
        return {"expression": self.expression, "complexity": self.complexity, "loss": self.loss,
                "raw_loss": self.raw_loss}

    @classmethod
    def from_dict(cls, d: dict) -> FrontMember:
        if not isinstance(d, dict) or not {"expression", "complexity", "loss"} <= set(d):
            raise FormulaFileError(f"a front member needs expression, complexity and loss, got {d!r}")
        try:
            return cls(str(d["expression"]), int(d["complexity"]), float(d["loss"]),
                       float(d.get("raw_loss", float("nan"))))
        except (TypeError, ValueError) as exc:
            raise FormulaFileError(f"malformed front member {d!r}: {exc}") from exc


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

        from physinf._sympy import lambdify_torch

        fn = lambdify_torch([*self.variables, *self.params], self.template)
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
                out = torch.as_tensor(out, dtype=X.dtype, device=X.device)
                return out * torch.ones(X.shape[0], dtype=X.dtype, device=X.device)

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

    def to_json(self, path: str | os.PathLike) -> Path:
        """Write the formula as JSON to ``path`` (atomically: a crash never leaves half a file).
        :meth:`from_json` reads it back; ``json.dumps(formula.to_dict())`` gives the text."""
        return write_text(path, json.dumps(self.to_dict(), indent=1, default=float) + "\n")

    @classmethod
    def from_dict(cls, d: dict) -> Formula:
        """Rebuild a formula from :meth:`to_dict` output. Expressions are parsed against a
        whitelist of SymPy constructors, never executed (:func:`physinf.symbolic.serialize.from_srepr`);
        anything malformed raises :class:`~physinf.symbolic.errors.FormulaFileError`."""
        if not isinstance(d, dict):
            raise FormulaFileError(f"a formula must be a JSON object, got {type(d).__name__}")
        if d.get("schema_version") not in READABLE_VERSIONS:
            raise FormulaFileError(f"unsupported formula schema version {d.get('schema_version')!r}; "
                                   f"this physinf reads {', '.join(READABLE_VERSIONS)}")
        missing = [k for k in _REQUIRED if k not in d]
        if missing:
            raise FormulaFileError(f"formula file lacks the key(s) {', '.join(missing)}")
        template = from_srepr(d["template_srepr"])
        if not isinstance(d["variables"], list) or not isinstance(d["params"], list):
            raise FormulaFileError("variables and params must be lists of srepr strings")
        variables = tuple(from_srepr(v) for v in d["variables"])
        params = tuple(from_srepr(p) for p in d["params"])
        for s_ in (*variables, *params):
            if not isinstance(s_, sp.Symbol):
                raise FormulaFileError(f"variables and params must be symbols, got {s_!r}")
        if len(set(variables) | set(params)) != len(variables) + len(params):
            raise FormulaFileError("variable and parameter names must be distinct")
        unknown = template.free_symbols - set(variables) - set(params)
        if unknown:
            raise FormulaFileError(f"the template uses symbols {sorted(map(str, unknown))} that are neither "
                                   "variables nor params")
        n = len(params)
        try:
            values = np.asarray(d["values"], dtype=float)
            cov = np.asarray(d["covariance"], dtype=float)
        except (TypeError, ValueError) as exc:
            raise FormulaFileError(f"values and covariance must be numbers: {exc}") from exc
        if values.shape != (n,):
            raise FormulaFileError(f"values must have {n} entries (one per parameter), got shape {values.shape}")
        if n == 0 and cov.size == 0:
            cov = np.zeros((0, 0))
        if cov.shape != (n, n):
            raise FormulaFileError(f"covariance must be {n}x{n} for {n} parameters, got shape {cov.shape}")
        if not isinstance(d["front"], list) or not isinstance(d["metrics"], dict):
            raise FormulaFileError("front must be a list and metrics an object")
        front = tuple(FrontMember.from_dict(m) for m in d["front"])
        try:
            selected = int(d["selected"])
        except (TypeError, ValueError) as exc:
            raise FormulaFileError(f"selected must be an integer, got {d['selected']!r}") from exc
        return cls(template, variables, params, values, cov, front, selected, dict(d["metrics"]))

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> Formula:
        """Read a formula file written by :meth:`to_json` (parsed, never executed)."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise FormulaFileError(f"cannot read formula file {path}: {exc.strerror or exc}") from exc
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, ValueError) as exc:
            raise FormulaFileError(f"{path} is not valid JSON: {exc}") from exc
        return cls.from_dict(data)

