"""pyoperon backend (embedded default): NSGA-II over (R², length) with Levenberg–Marquardt constants.

pyoperon 0.6.2 has no ``sample_weight``: weighted data are unweighted by resampling first.
References: Burlacu, Kronberger, Kommenda, "Operon C++", GECCO 2020, doi:10.1145/3377929.3398099.
"""

from __future__ import annotations

import numpy as np

from physinf.symbolic.backends.base import DEFAULT_OPERATORS, Budget, Candidate, check_operators, resample_weighted
from physinf.symbolic.operators import OPERON_SYMBOLS

__all__ = ["OPERON_SYMBOLS", "OperonBackend"]


class OperonBackend:
    """Symbolic search with pyoperon's ``SymbolicRegressor`` (constant optimisation on)."""

    name = "operon"

    def options(self, budget: Budget, seed: int, operators: tuple[str, ...]) -> dict:
        """The pyoperon keyword arguments used for a search (exposed for inspection and tests)."""
        symbols = ",".join([OPERON_SYMBOLS[o] for o in check_operators(operators)] + ["constant", "variable"])
        opts = dict(
            objectives=["r2", "length"],
            optimizer="lm",
            optimizer_iterations=budget.optimizer_iterations,
            allowed_symbols=symbols,
            max_length=budget.max_length,
            population_size=budget.population_size,
            pool_size=budget.population_size,
            generations=budget.generations,
            max_evaluations=budget.max_evaluations,
            n_threads=budget.n_threads,
            random_state=int(seed),
        )
        if budget.max_time is not None:
            opts["max_time"] = int(budget.max_time)
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
        """Run one NSGA-II search and return the whole Pareto front as candidates."""
        from pyoperon.sklearn import SymbolicRegressor

        if weights is not None:
            X, y = resample_weighted(X, y, weights, seed)
        reg = SymbolicRegressor(**self.options(budget, seed, operators))
        reg.fit(np.asarray(X, dtype=float), np.asarray(y, dtype=float))
        out = []
        for member in reg.pareto_front_:
            expr = reg.get_model_string(member["tree"], 12, list(names))
            out.append(
                Candidate(expression=expr, complexity=int(member["length"]),
                          loss=float(member["mean_squared_error"]))
            )
        return out
