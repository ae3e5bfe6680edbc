"""Bad input gives clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from physinf.errors import PhysinfError, UnknownNameError
from physinf.symbolic import (
    BackendUnavailableError,
    Budget,
    InvalidTargetError,
    Restarts,
    TooFewPointsError,
    UnknownOperatorError,
    distill,
)

X = np.random.default_rng(0).uniform(1, 2, (50, 2))
SMALL = Budget(generations=2, population_size=20)


def test_constant_target():
    with pytest.raises(InvalidTargetError, match="constant"):
        distill(X, np.full(50, 3.0), ["a", "b"], budget=SMALL)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_target(bad):
    y = X[:, 0].copy()
    y[3] = bad
    with pytest.raises(InvalidTargetError, match="non-finite"):
        distill(X, y, ["a", "b"], budget=SMALL)


def test_too_few_points():
    with pytest.raises(TooFewPointsError):
        distill(X[:2], X[:2, 0], ["a", "b"], budget=SMALL)


def test_unknown_operator():
    with pytest.raises(UnknownOperatorError, match="Did you mean 'sin'"):
        distill(X, X[:, 0], ["a", "b"], budget=SMALL, operators=("add", "sinn"))


def test_unknown_backend():
    with pytest.raises(UnknownNameError, match="Did you mean 'pysr'"):
        distill(X, X[:, 0], ["a", "b"], budget=SMALL, backend="pysrr")


def test_bad_names_and_budget():
    with pytest.raises(PhysinfError, match="names"):
        distill(X, X[:, 0], ["a"], budget=SMALL)
    with pytest.raises(PhysinfError, match="max_time"):
        Budget(max_time=2.5)


def test_pysr_without_julia_says_how_to_enable(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "pysr" or name.startswith("pysr."):
            raise ImportError("No module named 'pysr'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(BackendUnavailableError, match=r"pip install 'physinf\[pysr\]'"):
        # without the rational regression, which would find y = a exactly and never call PySR
        distill(X, X[:, 0], ["a", "b"], budget=SMALL, backend="pysr", restarts=Restarts(rational=False))


def test_bad_factor_search_names_and_snap():
    with pytest.raises(PhysinfError, match="factor"):
        distill(X, X[:, 0], ["a", "b"], budget=SMALL, factor="a*c")  # c is not an input
    with pytest.raises(InvalidTargetError, match="vanishes"):
        distill(X, X[:, 0], ["a", "b"], budget=SMALL, factor="a - a")
    with pytest.raises(PhysinfError, match="search_names"):
        distill(X, X[:, 0], ["a", "b"], budget=SMALL, search_names=["z"])
    with pytest.raises(PhysinfError, match="snap"):
        distill(X, X[:, 0], ["a", "b"], budget=SMALL, snap="pi")
