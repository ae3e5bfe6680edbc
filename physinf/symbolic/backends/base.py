"""The backend contract: ``search(X, y, names, budget, seed, weights) -> list[Candidate]``.

A backend only proposes expressions (infix strings in the input ``names``). Parsing,
simplification, constant re-fitting, snapping and selection are shared post-processing
(``physinf.symbolic.parse`` / ``refit`` / ``selection``), identical for every backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from physinf.errors import did_you_mean
from physinf.symbolic.errors import InvalidTargetError, UnknownOperatorError
from physinf.symbolic.operators import DEFAULT_OPERATORS, OPERATORS

__all__ = ["DEFAULT_OPERATORS", "OPERATORS", "Backend", "Budget", "Candidate", "check_operators", "resample_weighted"]


def check_operators(operators: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Validate operator names; raise :class:`UnknownOperatorError` with a suggestion."""
    ops = tuple(operators)
    if not ops:
        raise UnknownOperatorError("operators is empty; give at least one of " + ", ".join(OPERATORS))
    for op in ops:
        if op not in OPERATORS:
            raise UnknownOperatorError(
                f"unknown operator {op!r}.{did_you_mean(op, list(OPERATORS))} Known: {', '.join(OPERATORS)}"
            )
    return ops


@dataclass(frozen=True)
class Budget:
    """How long a search may run.

    ``generations`` (deterministic, use it in tests) and/or ``max_time`` in whole seconds
    (load dependent, for benchmarks). ``population_size`` and ``max_length`` bound the search.
    :func:`physinf.symbolic.distill` treats ``generations`` and ``max_time`` as the total of all
    its restarts and gives each restart an equal share (at least 1 generation, 1 second); a
    backend's ``search`` runs one restart with the budget it is given.
    """

    generations: int = 100
    max_time: int | None = None
    population_size: int = 500
    max_length: int = 30
    optimizer_iterations: int = 10
    n_threads: int = 1
    max_evaluations: int = 10**8

    def __post_init__(self) -> None:
        from physinf.errors import InvalidParameterError

        for name in ("generations", "population_size", "max_length", "optimizer_iterations", "n_threads"):
            if int(getattr(self, name)) < 1:
                raise InvalidParameterError(f"Budget.{name} must be >= 1, got {getattr(self, name)!r}")
        if self.max_time is not None and (not isinstance(self.max_time, int) or self.max_time < 1):
            raise InvalidParameterError(f"Budget.max_time must be a positive int (seconds), got {self.max_time!r}")


@dataclass(frozen=True)
class Candidate:
    """One raw proposal of a backend: infix expression in the input names, its size and loss."""

    expression: str
    complexity: int
    loss: float
    extra: dict = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """Anything with ``name`` and ``search(X, y, names, budget, seed, weights, operators)``."""

    name: str

    def search(
        self,
        X: np.ndarray,
        y: np.ndarray,
        names: list[str],
        budget: Budget,
        seed: int,
        weights: np.ndarray | None = None,
        operators: tuple[str, ...] = DEFAULT_OPERATORS,
    ) -> list[Candidate]: ...


def resample_weighted(
    X: np.ndarray, y: np.ndarray, weights: np.ndarray, seed: int, n: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Unweight by resampling with replacement, probability ∝ weight (for backends without weights)."""
    w = np.asarray(weights, dtype=float)
    if np.any(w < 0) or not np.all(np.isfinite(w)) or w.sum() <= 0:
        raise InvalidTargetError("weights must be finite, non-negative and not all zero")
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(y), size=n or len(y), replace=True, p=w / w.sum())
    return X[idx], y[idx]
