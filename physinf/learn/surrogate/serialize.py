"""Saving and loading surrogates without executing anything from the files.

A saved surrogate is a folder with two files:

* ``weights.pt``: a flat ``{name: tensor}`` dict written by ``torch.save`` and read back with
  ``torch.load(weights_only=True)``, which unpickles tensors and plain containers only: a file
  carrying any other object (e.g. a pickle whose ``__reduce__`` would run code) is refused;
* ``surrogate.json``: everything else (format name and version, process, channel and its
  couplings, input convention, scalers, configs, training history, the weights' digest).

Both are written together atomically (``physinf._io.atomic_paths``). On reading, the digest of
the loaded tensors must equal the one in the JSON file, so weights and metadata belong together.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from physinf._io import atomic_paths
from physinf.learn.surrogate.errors import SurrogateFileError

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "read_surrogate", "weights_digest", "write_surrogate"]

FORMAT_NAME = "physinf.AmplitudeSurrogate"
FORMAT_VERSION = 1
WEIGHTS_FILE = "weights.pt"
META_FILE = "surrogate.json"


def weights_digest(tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, Any]) -> str:
    """sha256 over the tensors (sorted by name, float64 little-endian bytes) and the JSON of what
    changes predictions (scalers, configs, process, channel): the surrogate's identity."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        h.update(name.encode())
        h.update(np.ascontiguousarray(tensors[name].detach().cpu().double().numpy()).astype("<f8").tobytes())
    h.update(json.dumps(metadata, sort_keys=True, default=float).encode())
    return h.hexdigest()


def write_surrogate(path: str | Path, tensors: Mapping[str, torch.Tensor], metadata: dict[str, Any]) -> Path:
    """Write the folder ``path`` (weights and JSON, all-or-nothing)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise SurrogateFileError(f"{path} exists and is not a folder; a surrogate is saved as a folder")
    path.mkdir(parents=True, exist_ok=True)
    cpu = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    with atomic_paths([path / WEIGHTS_FILE, path / META_FILE]) as (w_tmp, m_tmp):
        torch.save(cpu, w_tmp)
        m_tmp.write_text(json.dumps(metadata, indent=2, default=float) + "\n", encoding="utf-8")
    return path


def read_surrogate(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors and metadata of a saved surrogate, checked; SurrogateFileError otherwise."""
    path = Path(path)
    meta_path, weights_path = path / META_FILE, path / WEIGHTS_FILE
    if not meta_path.is_file() or not weights_path.is_file():
        raise SurrogateFileError(
            f"{path} is not a saved surrogate: it needs {META_FILE} and {WEIGHTS_FILE} (write one with surrogate.save(path))"
        )
    try:
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SurrogateFileError(f"{meta_path} is not valid JSON ({err})") from err
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise SurrogateFileError(f"{meta_path} is not a {FORMAT_NAME} file")
    if metadata.get("version") != FORMAT_VERSION:
        raise SurrogateFileError(
            f"{meta_path} has format version {metadata.get('version')!r}; this physinf reads version {FORMAT_VERSION}"
        )
    try:
        with warnings.catch_warnings():
            # torch warns before unpickling a protocol other than the one torch.save writes: such a
            # file was not written by save(); refuse it rather than read on
            warnings.simplefilter("error", UserWarning)
            tensors = torch.load(weights_path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, AttributeError, UserWarning) as err:
        raise SurrogateFileError(
            f"{weights_path} was refused: it is not a plain weights file readable with weights_only=True "
            f"(nothing from it was executed). Details: {str(err).splitlines()[0] if str(err) else type(err).__name__}"
        ) from err
    if not isinstance(tensors, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in tensors.items()):
        raise SurrogateFileError(f"{weights_path} must hold a flat {{name: tensor}} dict")
    digest = weights_digest(tensors, metadata.get("identity", {}))
    if digest != metadata.get("digest"):
        raise SurrogateFileError(
            f"the weights in {weights_path} do not belong to {meta_path} (digest {digest[:12]} != "
            f"{str(metadata.get('digest'))[:12]}); the folder was changed after saving"
        )
    return tensors, metadata
