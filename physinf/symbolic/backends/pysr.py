"""PySR backend (optional extra ``physinf[pysr]``).

``import pysr`` starts Julia (and may try to download it), so it is imported only inside
:meth:`PySRBackend.search`. The option mapping and the hall-of-fame parsing are plain Python
and are tested without Julia.
References: Cranmer, arXiv:2305.01582.
"""

from __future__ import annotations

import numpy as np

from physinf.symbolic.backends.base import DEFAULT_OPERATORS, Budget, Candidate, check_operators
from physinf.symbolic.errors import BackendUnavailableError
from physinf.symbolic.operators import PYSR_BINARY, PYSR_UNARY

__all__ = ["ENABLE_HINT", "PYSR_BINARY", "PYSR_UNARY", "PySRBackend", "parse_hall_of_fame"]

ENABLE_HINT = (
    "The PySR backend needs the optional extra and a Julia runtime: `pip install 'physinf[pysr]'` then "
    "`python -c 'import pysr'` once with network access (it installs Julia and SymbolicRegression.jl). "
    "Offline, point JULIA_DEPOT_PATH at a populated depot and set PYTHON_JULIAPKG_EXE=<julia> and "
    "PYTHON_JULIAPKG_OFFLINE=yes. Or use backend='operon' (the embedded default)."
)


def parse_hall_of_fame(rows: list[dict]) -> list[Candidate]:
    """Candidates from a PySR hall-of-fame table (``model.equations_`` rows or ``hall_of_fame.csv``).

    Each row needs ``equation`` and ``complexity``; the loss is ``loss`` (or ``Loss``).
    PySR writes powers as ``^``; our parser accepts both.
    """
    out = []
    for row in rows:
        loss = row.get("loss", row.get("Loss"))
        expr = row.get("equation", row.get("Equation"))
        comp = row.get("complexity", row.get("Complexity"))
        if expr is None or comp is None or loss is None:
            raise BackendUnavailableError(f"hall-of-fame row lacks equation/complexity/loss: {row!r}")
        out.append(Candidate(expression=str(expr), complexity=int(comp), loss=float(loss)))
    return out


class PySRBackend:
    """Symbolic search with PySR (Julia). Deterministic mode (serial) when ``n_threads == 1``."""

    name = "pysr"

    def options(self, budget: Budget, seed: int, operators: tuple[str, ...]) -> dict:
        """Map our budget and operator names onto ``PySRRegressor`` keyword arguments."""
        ops = check_operators(operators)
        opts = dict(
            binary_operators=[PYSR_BINARY[o] for o in ops if o in PYSR_BINARY],
            unary_operators=[PYSR_UNARY[o] for o in ops if o in PYSR_UNARY],
            niterations=budget.generations,
            population_size=budget.population_size,
            maxsize=budget.max_length,
            max_evals=budget.max_evaluations,
            random_state=int(seed),
            model_selection="accuracy",
            progress=False,
            verbosity=0,
            temp_equation_file=True,
        )
        if budget.max_time is not None:
            opts["timeout_in_seconds"] = float(budget.max_time)
        if budget.n_threads == 1:
            opts.update(deterministic=True, parallelism="serial")
        return opts

    def search(
        self,
        X: np.ndarray,
        y: np.ndarray,
        names: list[str],
        budget: Budget,
        seed: int,
        weights: np.ndarray | None = None,
        operators: tuple[str, ...] = DEFAULT_OPERATORS,
    ) -> list[Candidate]:
        """Run PySR; raises :class:`BackendUnavailableError` with instructions when Julia is absent."""
        opts = self.options(budget, seed, operators)
        try:
            from pysr import PySRRegressor  # starts Julia
        except Exception as exc:  # ImportError, or juliacall failing to install/start Julia
            raise BackendUnavailableError(f"PySR is not available ({type(exc).__name__}: {exc}). {ENABLE_HINT}") from exc
        model = PySRRegressor(**opts)
        model.fit(np.asarray(X, float), np.asarray(y, float), weights=weights, variable_names=list(names))
        return parse_hall_of_fame(model.equations_.to_dict("records"))
