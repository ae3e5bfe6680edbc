"""Saving and loading estimators without executing anything from the file.

One file per estimator: a torch archive holding only tensors and plain values —
``{"format", "version", "kind", "metadata" (a JSON string), "state" (nested state dicts)}`` —
written atomically and read with ``torch.load(weights_only=True)``, which refuses any pickled
object that is not a tensor or a primitive, so a crafted file cannot run code on load.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import torch

from physinf._io import atomic_path
from physinf.learn.errors import EstimatorFileError

__all__ = ["FORMAT", "VERSION", "load_estimator", "save_estimator"]

FORMAT = "physinf.estimator"
VERSION = 1


def save_estimator(path: str | os.PathLike, kind: str, metadata: dict[str, Any], state: dict[str, Any]) -> Path:
    """Write an estimator: its kind (class name), JSON-serialisable metadata and tensors."""
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "kind": kind,
        "metadata": json.dumps(metadata, default=float),
        "state": _to_cpu(state),
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_estimator(path: str | os.PathLike, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metadata, state) of a file written by :func:`save_estimator` for an estimator of ``kind``."""
    path = Path(path)
    if not path.is_file():
        raise EstimatorFileError(f"estimator file {path} does not exist")
    try:
        with warnings.catch_warnings():  # torch warns about foreign pickle protocols before refusing them
            warnings.simplefilter("ignore", UserWarning)
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a damaged archive fails in many ways inside torch; each is a refusal here
        first_line = (str(err).splitlines() or [type(err).__name__])[0][:300]
        raise EstimatorFileError(
            f"{path} is not a readable physinf estimator file (it may be corrupt, or contain objects other than "
            f"tensors and plain values, which are never loaded): {first_line}"
        ) from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise EstimatorFileError(f"{path} is not a physinf estimator file")
    if payload.get("version") != VERSION:
        raise EstimatorFileError(f"{path} has estimator file version {payload.get('version')}, this physinf reads {VERSION}")
    if payload.get("kind") != kind:
        raise EstimatorFileError(f"{path} holds a {payload.get('kind')!r}, not a {kind!r}; load it with that class")
    try:
        metadata = json.loads(payload["metadata"])
        state = payload["state"]
    except (KeyError, TypeError, json.JSONDecodeError) as err:
        raise EstimatorFileError(f"{path} has damaged metadata: {err}") from err
    return metadata, state


def _to_cpu(state: Any) -> Any:
    if isinstance(state, torch.Tensor):
        return state.detach().cpu()
    if isinstance(state, dict):
        return {str(k): _to_cpu(v) for k, v in state.items()}
    return state
