"""pyhf's global state, handled in one place so that fits from several threads do not race.

pyhf keeps its tensor backend and its optimizer in one process-wide slot (``pyhf.set_backend``),
and switching the tensor backend rebuilds every live model's tensors through an event. The stats
layer therefore

- never switches the optimizer for its own fits: :func:`minimize` hands the optimizer to pyhf
  explicitly (what ``pyhf.infer.mle.fit`` does with the global one);
- switches the tensor backend to numpy (64 bit) only when it is not numpy already, once, on entry
  of the first concurrent :func:`numpy_backend` section, and restores it when the last one leaves
  (a reference count under a lock), so no thread ever sees the backend change in mid-fit;
- serialises the few pyhf calls that read the global optimizer (:func:`global_optimizer`) among
  themselves, and the schema validations that silence a warning (``warnings.catch_warnings`` is
  not thread-safe) among themselves.

Other code that calls ``pyhf.set_backend`` while a fit runs in another thread is outside this
module's control: pyhf offers no per-thread backend.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyhf

__all__ = ["global_optimizer", "minimize", "minuit_optimizer", "numpy_backend", "quiet_schema", "scipy_optimizer", "validate_schema"]

#: tolerance of the scipy (SLSQP) optimizer used by every fit and scan
SCIPY_TOLERANCE = 1e-12


class _NumpySections:
    """Reference count of the open numpy sections, and the backend to restore when the last closes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = 0
        self.restore: tuple[Any, Any] | None = None


_SECTIONS = _NumpySections()
_OPTIMIZER_LOCK = threading.RLock()
_SCHEMA_LOCK = threading.RLock()


def _is_numpy64(tensorlib: Any) -> bool:
    return tensorlib.name == "numpy" and tensorlib.precision == "64b"


@contextlib.contextmanager
def numpy_backend() -> Iterator[None]:
    """Run the block with pyhf's numpy (64 bit) tensor backend; safe to nest and to use from many threads.

    The backend is switched (keeping the caller's optimizer) only if it is not numpy already, by
    the first of the concurrent sections, and switched back by the last one to leave."""
    with _SECTIONS.lock:
        if _SECTIONS.open == 0:
            tensorlib, optimizer = pyhf.get_backend()
            if not _is_numpy64(tensorlib):
                pyhf.set_backend("numpy", optimizer, precision="64b")
                _SECTIONS.restore = (tensorlib, optimizer)
        _SECTIONS.open += 1
    try:
        yield
    finally:
        with _SECTIONS.lock:
            _SECTIONS.open -= 1
            if _SECTIONS.open == 0 and _SECTIONS.restore is not None:
                tensorlib, _ = _SECTIONS.restore
                _SECTIONS.restore = None
                pyhf.set_backend(tensorlib, pyhf.get_backend()[1])


@contextlib.contextmanager
def global_optimizer(optimizer: Any) -> Iterator[None]:
    """Numpy backend with ``optimizer`` as pyhf's global optimizer, for pyhf calls that read it.

    (``pyhf.infer.intervals.upper_limits.upper_limit`` and the hypothesis tests take no optimizer
    argument.) Such sections run one at a time; fits through :func:`minimize` in other threads
    are unaffected because they never read the global optimizer."""
    with numpy_backend(), _OPTIMIZER_LOCK:
        tensorlib, previous = pyhf.get_backend()
        pyhf.set_backend(tensorlib, optimizer)
        try:
            yield
        finally:
            pyhf.set_backend(pyhf.get_backend()[0], previous)


def scipy_optimizer() -> Any:
    """A fresh scipy (SLSQP) optimizer with the stats layer's tight tolerance."""
    return pyhf.optimize.scipy_optimizer(tolerance=SCIPY_TOLERANCE)


def minuit_optimizer() -> Any:
    """A fresh minuit optimizer (HESSE uncertainties)."""
    return pyhf.optimize.minuit_optimizer(tolerance=1e-6)


def minimize(
    model: pyhf.Model,
    data: np.ndarray,
    init: Sequence[float] | np.ndarray,
    bounds: Sequence[Sequence[float]],
    fixed: Sequence[bool],
    optimizer: Any,
    **options: Any,
) -> Any:
    """Minimise −2 ln L with this ``optimizer``: ``pyhf.infer.mle.fit`` without the global optimizer.

    ``options`` go to the optimizer (``return_fitted_val``, ``return_uncertainties``, …). Runs in a
    :func:`numpy_backend` section."""
    init = [float(v) for v in init]
    fixed_vals = [(i, v) for i, (v, is_fixed) in enumerate(zip(init, fixed, strict=True)) if is_fixed]
    with numpy_backend():
        return optimizer.minimize(pyhf.infer.mle.twice_nll, data, model, init, [list(b) for b in bounds], fixed_vals, **options)


@contextlib.contextmanager
def quiet_schema() -> Iterator[None]:
    """Silence only pyhf 0.7.6's use of ``jsonschema.RefResolver`` (deprecated in jsonschema >= 4.18; harmless).

    ``warnings.catch_warnings`` swaps the process-wide filter list, so these sections run one at a time."""
    with _SCHEMA_LOCK, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*RefResolver is deprecated", category=DeprecationWarning)
        yield


def validate_schema(spec: dict, schema: str) -> None:
    """``pyhf.schema.validate`` (raises ``pyhf.exceptions.InvalidSpecification``) without the RefResolver warning."""
    with quiet_schema():
        pyhf.schema.validate(spec, schema)
