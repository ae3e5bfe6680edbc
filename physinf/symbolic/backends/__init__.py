"""Symbolic-regression backends and their registry."""

from __future__ import annotations

from physinf.errors import UnknownNameError, did_you_mean
from physinf.symbolic.backends.base import DEFAULT_OPERATORS, OPERATORS, Backend, Budget, Candidate
from physinf.symbolic.backends.operon import OperonBackend
from physinf.symbolic.backends.pysr import PySRBackend

__all__ = ["BACKENDS", "DEFAULT_OPERATORS", "OPERATORS", "Backend", "Budget", "Candidate", "get_backend"]

BACKENDS = {"operon": OperonBackend, "pysr": PySRBackend}


def get_backend(backend: str | Backend) -> Backend:
    """A backend instance from its name ('operon', 'pysr') or an object with ``search``."""
    if not isinstance(backend, str):
        if not hasattr(backend, "search"):
            raise UnknownNameError(f"{backend!r} is not a backend (it has no .search)")
        return backend
    if backend not in BACKENDS:
        raise UnknownNameError(f"unknown backend {backend!r}.{did_you_mean(backend, list(BACKENDS))} "
                                   f"Known: {', '.join(BACKENDS)}")
    return BACKENDS[backend]()
