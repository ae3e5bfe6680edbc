"""Writing files safely, and importing optional dependencies with a clear message.

Every file physinf writes goes through :func:`atomic_path`: the content is written to a hidden
temporary file in the destination folder and renamed over the target only when complete, so a
crash or a kill never leaves half a file (``os.replace`` is atomic on POSIX within one file
system). Temporary files are created with ``os.open(..., 0o666)``, so the user's umask decides
the permissions, as for any other file the user creates.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from theory.errors import InvalidParameterError, MissingDependencyError

__all__ = [
    "atomic_path",
    "atomic_paths",
    "check_writable",
    "is_temporary_name",
    "require",
    "save_figure",
    "write_json",
    "write_text",
]


def check_writable(path: str | os.PathLike) -> Path:
    """Fail early, before any long work, when ``path`` cannot be written.

    Creates the parent folder if needed and writes (then removes) a probe file there.
    Raises InvalidParameterError naming the folder and the reason."""
    path = Path(path)
    if path.is_dir():
        raise InvalidParameterError(f"output path {path} is a folder; give a file name inside it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe = path.parent / f".{path.name}.{uuid.uuid4().hex}.probe"
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        os.close(fd)
        probe.unlink()
    except OSError as err:
        raise InvalidParameterError(
            f"cannot write {path}: {err.strerror or err} (folder {path.parent}); choose a writable location"
        ) from err
    return path


_TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{32}\.tmp$")


def is_temporary_name(name: str) -> bool:
    """Whether a file name is one that :func:`_temporary_name` makes (``.NAME.<32 hex>.tmp``): what a
    writer killed before its rename leaves behind."""
    return _TEMPORARY.match(name) is not None


def _temporary_name(path: Path) -> Path:
    fd_path = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    fd = os.open(fd_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
    os.close(fd)
    return fd_path


@contextlib.contextmanager
def atomic_paths(paths: list[str | os.PathLike]) -> Iterator[list[Path]]:
    """Temporary paths to write several files all-or-nothing: each is renamed onto its target
    only after the ``with`` block completes for all of them; on an error none is replaced."""
    targets = [Path(p) for p in paths]
    temps: list[Path] = []
    try:
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            temps.append(_temporary_name(target))
        yield temps
        for tmp, target in zip(temps, targets):
            os.replace(tmp, target)
    finally:
        for tmp in temps:
            if tmp.exists():
                tmp.unlink()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path to write ``path`` through; renamed onto it only if the block succeeds."""
    with atomic_paths([path]) as (tmp,):
        yield tmp


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write a text file atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | os.PathLike, data: Mapping[str, Any] | list, **dumps_options: Any) -> Path:
    """Write JSON atomically (indent 2 unless given; numpy scalars become floats)."""
    dumps_options.setdefault("indent", 2)
    dumps_options.setdefault("default", float)
    return write_text(path, json.dumps(data, **dumps_options) + "\n")


def save_figure(figure: Any, path: str | os.PathLike, **savefig_options: Any) -> Path:
    """Save a matplotlib figure atomically; the format comes from the file suffix."""
    path = Path(path)
    fmt = path.suffix.lstrip(".") or "png"
    savefig_options.setdefault("dpi", 120)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format=fmt, **savefig_options)
    return path


def require(module: str, extra: str, feature: str | None = None) -> ModuleType:
    """Import an optional dependency or raise MissingDependencyError naming the extra to install.

    Example: ``pythia8 = require("pythia8mc", "shower", "the Pythia 8 shower")``."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        what = feature or "this feature"
        raise MissingDependencyError(
            f"{what} needs the optional package {module!r}, which is not installed ({err}); "
            f"install it with: pip install 'physinf[{extra}]'"
        ) from err
