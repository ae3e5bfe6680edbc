"""Restarts: one search budget spread over operator sets, target transforms and seeds.

A single genetic-programming run with every operator often misses a formula that a run with
fewer operators finds at once (the search space is smaller), and some formulas are simple only
after a transform of the target: ``m0/sqrt(1 - v²/c²)`` squared is rational, ``n0 exp(-a/b)``
is a sum after a log, ``arcsin(x)`` is ``x`` after a sine (the AI Feynman idea, Udrescu and
Tegmark, arXiv:1905.11481). :func:`plan` turns a :class:`Restarts` specification into a list of
searches; :func:`physinf.symbolic.distill` runs them, maps every candidate back to the original
target (``y = T⁻¹(g)``, only with operators the caller allowed), and merges all of them into one
front before selection.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import sympy as sp

from physinf.errors import InvalidParameterError, did_you_mean
from physinf.symbolic.operators import ALGEBRAIC, ARITHMETIC, TABLE

__all__ = ["RATIONAL_COVERS", "TRANSFORMS", "Restart", "Restarts", "Transform", "operator_levels", "plan"]

#: transforms whose genetic search is skipped when the rational regression runs on them.
RATIONAL_COVERS = ("square", "log")


@dataclass(frozen=True)
class Transform:
    """A target transform ``g = T(s·y)`` with its inverse ``y = s·T⁻¹(g)`` (s = ±1 makes the
    target positive where ``positive`` is required); ``needs``: the operator the inverse uses."""

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    inverse_numpy: Callable[[np.ndarray], np.ndarray]
    inverse_sympy: Callable[[sp.Expr], sp.Expr]
    needs: str | None
    positive: bool
    domain: Callable[[np.ndarray], bool]


def _nonzero(v: np.ndarray) -> bool:
    return bool(np.all(v > 0))


TRANSFORMS: dict[str, Transform] = {
    t.name: t
    for t in (
        Transform("identity", lambda v: v, lambda g: g, lambda g: g, None, False, lambda v: True),
        Transform("square", np.square, np.sqrt, sp.sqrt, "sqrt", True, _nonzero),
        Transform("log", np.log, np.exp, sp.exp, "exp", True, _nonzero),
        Transform("inverse", lambda v: 1.0 / v, lambda g: 1.0 / g, lambda g: 1 / g, "div", True, _nonzero),
        Transform("sin", np.sin, np.arcsin, sp.asin, "asin", False, lambda v: bool(np.max(np.abs(v)) < np.pi / 2)),
    )
}


@dataclass(frozen=True)
class Restarts:
    """How :func:`~physinf.symbolic.distill` spreads its budget.

    ``operator_sets``: ``"nested"`` searches with the arithmetic operators alone, then with the
    algebraic ones (sqrt, square, pow, ...) added, then with all allowed operators (each level
    once, duplicates skipped); ``"single"`` runs every search with all allowed operators.
    ``transforms``: target transforms tried after the identity (:data:`TRANSFORMS`), each with
    one search; a transform is skipped where the data are outside its domain (``square``,
    ``log``, ``inverse`` need a target of one sign; ``sin`` needs ``|y| < π/2``) or its inverse
    needs an operator that is not allowed. ``seeds``: the whole plan is repeated with seeds
    ``seed, seed + 1, ...`` (one per search). ``rational``: before the genetic searches, run the
    sparse rational regression (:class:`~physinf.symbolic.backends.rational.RationalBackend`,
    deterministic, a fraction of a second) on the target and on each applicable transform but
    ``inverse`` (a rational function's inverse is rational). ``stop_when_exact``: stop after
    the first search that yields a numerically exact formula (loss below 1e-22 Var(y)); the
    remaining budget is not used.
    """

    operator_sets: Literal["nested", "single"] = "nested"
    transforms: tuple[str, ...] = ("square", "log", "inverse", "sin")
    seeds: int = 1
    rational: bool = True
    stop_when_exact: bool = True

    def __post_init__(self) -> None:
        if self.operator_sets not in ("nested", "single"):
            raise InvalidParameterError(f"Restarts.operator_sets must be 'nested' or 'single', got {self.operator_sets!r}")
        for name in self.transforms:
            if name not in TRANSFORMS or name == "identity":
                known = [t for t in TRANSFORMS if t != "identity"]
                raise InvalidParameterError(f"unknown target transform {name!r}.{did_you_mean(str(name), known)} "
                                            f"Known: {', '.join(known)} (the identity always runs)")
        if not isinstance(self.seeds, int) or self.seeds < 1:
            raise InvalidParameterError(f"Restarts.seeds must be a positive int, got {self.seeds!r}")

    @classmethod
    def single(cls) -> Restarts:
        """One search with all allowed operators and the target as it is (no restarts)."""
        return cls(operator_sets="single", transforms=(), seeds=1, rational=False, stop_when_exact=False)


@dataclass(frozen=True)
class Restart:
    """One search of a plan: ``transform`` (with ``sign``), ``operators``, ``seed``, the
    ``backend`` (``"search"``: the caller's; ``"rational"``: the sparse rational regression),
    its ``weight`` in the split of the budget, and ``substitute``: ``(function, name, *names)``
    when the search sees ``function`` of the product of the named inputs in place of the first
    (``("cos", "x2")``: cos(x2); ``("cos", "x1", "x2")``: cos(x1 x2) in place of x1)."""

    transform: str
    sign: int
    operators: tuple[str, ...]
    seed: int
    backend: str = "search"
    weight: int = 1
    substitute: tuple[str, ...] | None = None

    def feature(self, columns: dict, multiply=None, function=None):
        """The substituted column: ``function(product of the named columns)`` (numpy by default;
        pass ``multiply``/``function`` for SymPy)."""
        fname, *names = self.substitute
        value = columns[names[0]]
        for n in names[1:]:
            value = (multiply or (lambda a, b: a * b))(value, columns[n])
        return (function or TABLE[fname].numpy)(value)

    @property
    def label(self) -> str:
        t = self.transform if self.sign > 0 or self.transform == "identity" else f"{self.transform}(-y)"
        what = self.backend if self.backend != "search" else ",".join(self.operators)
        if self.substitute is not None:
            what += f" in {self.substitute[0]}({'*'.join(self.substitute[1:])})"
        return f"{t} | {what} | seed {self.seed}"


def operator_levels(operators: tuple[str, ...], mode: str = "nested") -> list[tuple[str, ...]]:
    """The operator sets of the restarts: nested arithmetic ⊂ algebraic ⊂ all (in the caller's
    order, empty and repeated levels dropped), or all operators once."""
    if mode == "single":
        return [tuple(operators)]
    levels: list[tuple[str, ...]] = []
    for allowed in (ARITHMETIC, ALGEBRAIC, None):
        level = tuple(o for o in operators if allowed is None or o in allowed)
        if level and level not in levels:
            levels.append(level)
    return levels


def plan(spec: Restarts, operators: tuple[str, ...], target: np.ndarray, seed: int,
         inputs: tuple[str, ...] = ()) -> list[Restart]:
    """The searches to run, in order.

    1. If ``spec.rational``: the sparse rational regression on the target and on each
       applicable transform but ``inverse``; then, for each allowed ``cos``/``sin`` and each of
       the ``inputs`` (the backend's column names), on the target with that input replaced by
       its cosine/sine (laws rational in x and cos θ, such as n0 (1 + p E cos θ/(k T))), and
       with the first of each pair of inputs replaced by the cosine/sine of their product
       (phases such as ω t).
    2. The genetic searches: the target on every operator level (the arithmetic-only level is
       left out when the rational regression ran, which covers ratios of polynomials more
       reliably; the level with all operators has weight 2 in the budget split), then each
       applicable transform (``square`` on the algebraic level, the others on all operators;
       ``square`` and ``log`` only without the rational regression: in the 80 Feynman runs of
       docs/benchmarks.md no genetic search of a squared or logged target was selected once the
       rational regression had run on it, and the time is better spent on the target itself).
       This list is repeated ``spec.seeds`` times, and genetic search i uses the seed ``seed + i``.
    """
    levels = operator_levels(operators, spec.operator_sets)
    rational = spec.rational and "mul" in operators
    identity_levels = [lvl for lvl in levels if not (rational and len(levels) > 1 and set(lvl) <= ARITHMETIC)]
    runs: list[tuple[str, int, tuple[str, ...], int]] = [
        ("identity", 1, lvl, 2 if lvl == levels[-1] and len(identity_levels) > 1 else 1) for lvl in identity_levels
    ]
    applicable: list[tuple[str, int]] = [("identity", 1)]
    for name in spec.transforms:
        t = TRANSFORMS[name]
        if t.needs is not None and t.needs not in operators:
            continue
        sign = 1
        if t.positive:
            if np.all(target < 0):
                sign = -1
            elif not np.all(target > 0):
                continue
        if not t.domain(sign * target):
            continue
        applicable.append((name, sign))
        if rational and name in RATIONAL_COVERS:
            continue
        ops = levels[min(1, len(levels) - 1)] if name == "square" else levels[-1]
        runs.append((name, sign, ops, 1))
    out: list[Restart] = []
    if rational:
        arithmetic = tuple(o for o in operators if o in ARITHMETIC)
        for name, sign in applicable:
            if name != "inverse":
                ops = arithmetic + (("log",) if name == "log" and "log" in operators else ())
                out.append(Restart(name, sign, ops, seed, backend="rational"))
        for fname in ("cos", "sin"):
            if fname in operators:
                out += [Restart("identity", 1, arithmetic, seed, backend="rational", substitute=(fname, col))
                        for col in inputs]
        for fname in ("cos", "sin"):  # phases such as omega t, k x: products of two inputs
            if fname in operators:
                out += [Restart("identity", 1, arithmetic, seed, backend="rational", substitute=(fname, a, b))
                        for a, b in itertools.combinations(inputs, 2)]
    return out + [Restart(name, sign, ops, seed + i, weight=w) for i, (name, sign, ops, w) in enumerate(runs * spec.seeds)]
