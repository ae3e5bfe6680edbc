"""The estimator contract: networks that learn what the detector hides, torch inside, numpy outside.

Every estimator (local score, likelihood ratio, posterior, amplitude surrogate):

* ``fit(sample) -> self`` learns from an EventSample (its observables, weights, joint scores and
  ratios); ``predict(x)`` maps observables (N, d) as a numpy array to numpy outputs;
* ``save(path)`` writes everything needed to rebuild it (feature names, scalers, theta
  convention, process) as weights plus JSON metadata; ``load(path)`` rebuilds it without
  executing anything from the file (no unpickling of arbitrary objects);
* ``device="auto"`` picks CUDA when present (:func:`resolve_device`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np

from physinf.errors import InvalidParameterError
from physinf.simulate.events import EventSample

__all__ = ["Estimator", "resolve_device"]

EstimatorT = TypeVar("EstimatorT", bound="Estimator")


@runtime_checkable
class Estimator(Protocol):
    """The interface every learned estimator offers."""

    device: str

    def fit(self: EstimatorT, sample: EventSample) -> EstimatorT: ...

    def predict(self, x: np.ndarray) -> np.ndarray: ...

    def save(self, path: str | os.PathLike) -> Path: ...

    @classmethod
    def load(cls: type[EstimatorT], path: str | os.PathLike) -> EstimatorT: ...


def resolve_device(device: str = "auto") -> Any:
    """A ``torch.device``: "auto" is CUDA when available, else the CPU; "cpu", "cuda", "cuda:1" as given.

    Asking for CUDA on a machine without it is refused with a clear message."""
    import torch

    if not isinstance(device, str):
        raise InvalidParameterError(f"device must be a string ('auto', 'cpu', 'cuda', 'cuda:N'), got {device!r}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise InvalidParameterError(f"unknown device {device!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'") from err
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise InvalidParameterError(f"device {device!r} asked for, but torch sees no CUDA device; use device='auto' or 'cpu'")
    return resolved
