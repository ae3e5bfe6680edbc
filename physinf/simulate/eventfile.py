"""Event files larger than memory: streamed writing and lazy reading.

``generate(..., out=path)`` writes its events batch by batch with :class:`EventWriter` into the
same HDF5 layout as :meth:`EventSample.save` (format version 2; datasets chunked and resizable),
and returns an :class:`EventFile`: a read-only, lazy view that reads a column, a slice or chunks
without loading the file. ``EventSample.open(path)`` opens any EventSample file that way;
``EventSample.load`` still reads a whole file into memory.

Safety: the path is checked before any work (``physinf._io.check_writable``); events go to a
hidden temporary file in the destination folder, created with the user's umask, which is renamed
over the target only after the last batch and the attributes are written. A failed run (a worker
lost twice, a full disk, Ctrl-C) removes it: a file at the target is always one complete run.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from physinf._io import atomic_path, check_writable
from physinf.errors import EventFileError, InvalidParameterError, UnknownNameError, did_you_mean
from physinf.simulate.config import GenerationConfig
from physinf.simulate.events import _ARRAYS, FORMAT_NAME, FORMAT_VERSION, EventSample
from theory.morphing import monomial_values
from theory.scores import joint_score

__all__ = ["EventFile", "EventWriter"]

_ROWS = 65536  # HDF5 chunk (events) of the streamed datasets, and the default read chunk


class _Sink:
    """Appends the kept events of each batch to resizable datasets (weights / n_passes)."""

    def __init__(self, f: Any, model: Any, config: GenerationConfig) -> None:
        self.f, self.model, self.config = f, model, config
        self.n_events = 0
        n_c, n_p = model.n_components, model.n_particles
        self.scale = 1.0 / config.n_passes

        def make(name: str, shape: tuple[int, ...], dtype: Any) -> Any:
            return f.create_dataset(name, shape=(0, *shape), maxshape=(None, *shape), dtype=dtype,
                                    chunks=(min(_ROWS, max(1, 2**22 // (8 * max(1, int(np.prod(shape)))))), *shape))

        self.sets = {"momenta": make("momenta", (n_p, 4), float), "pdg": make("pdg", (n_p,), np.int32),
                     "weight_components": make("weight_components", (n_c,), float)}
        self.obs_group = f.create_group("observables")
        self.var_group = f.create_group("variations")
        self.var_names = [f"muF_x{x:g}" for x in config.scale_factors]
        for name in self.var_names:
            self.sets["variations/" + name] = make("variations/" + name, (n_c,), float)
        self.obs_names: list[str] | None = None

    def _append(self, name: str, values: np.ndarray) -> None:
        ds = self.sets[name]
        n0 = ds.shape[0]
        ds.resize(n0 + len(values), axis=0)
        ds[n0:] = values

    def write(self, batch: Any) -> None:
        n = len(batch.momenta)
        if n == 0:
            return
        self._append("momenta", batch.momenta)
        self._append("pdg", batch.pdg)
        self._append("weight_components", batch.weights * self.scale)
        for j, name in enumerate(self.var_names):
            self._append("variations/" + name, batch.variations[:, j] * self.scale)
        obs = self.model.observables(batch.momenta)
        if self.obs_names is None:
            self.obs_names = list(obs)
            for name in self.obs_names:
                self.sets["observables/" + name] = self.obs_group.create_dataset(
                    name, shape=(0,), maxshape=(None,), dtype=float, chunks=(_ROWS,))
        for name in self.obs_names:
            self._append("observables/" + name, np.asarray(obs[name], dtype=float))
        self.n_events += n

    def finish(self, provenance: dict, *, mc_rel_error: float | None, cutflow: dict, n_passes: int) -> None:
        f, model, config = self.f, self.model, self.config
        f.create_dataset("powers", data=np.asarray(model.powers, dtype=int))
        theta_ref = np.asarray(config.theta_ref, dtype=float)
        f.create_dataset("theta_ref", data=theta_ref)
        # joint score at theta_ref needs the total sigma components: a second sweep over the weights
        w = self.sets["weight_components"]
        sigma = np.zeros(w.shape[1])
        for lo in range(0, w.shape[0], _ROWS):
            sigma += w[lo : lo + _ROWS].sum(axis=0)
        score = f.create_dataset("joint_score_ref", shape=(w.shape[0], len(theta_ref)), dtype=float,
                                 chunks=(max(1, min(_ROWS, w.shape[0])), len(theta_ref)) if len(theta_ref) and w.shape[0] else None)
        if len(theta_ref):
            for lo in range(0, w.shape[0], _ROWS):
                score[lo : lo + _ROWS] = joint_score(model.powers, w[lo : lo + _ROWS], sigma, theta_ref)
        f.attrs["format"] = FORMAT_NAME
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["process"] = model.name
        f.attrs["coefficients"] = json.dumps(list(model.coefficients))
        f.attrs["labels"] = json.dumps(list(model.labels))
        f.attrs["provenance"] = json.dumps(provenance, default=str)
        f.attrs["config"] = config.to_json()
        f.attrs["mc_rel_error"] = -1.0 if mc_rel_error is None else float(mc_rel_error)
        f.attrs["cutflow"] = json.dumps(cutflow)
        self.finished = True


class EventWriter:
    """Writes one run's events into ``path`` (see the module docstring); used by ``generate(out=...)``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def check(cls, path: str | os.PathLike) -> EventWriter:
        """Fail now, before any work, if ``path`` cannot be written."""
        if not isinstance(path, (str, os.PathLike)):
            raise InvalidParameterError(f"out must be a file path, got {type(path).__name__}")
        return cls(check_writable(path))

    @contextlib.contextmanager
    def open(self, model: Any, config: GenerationConfig) -> Iterator[_Sink]:
        import h5py

        with atomic_path(self.path) as tmp:
            try:
                with h5py.File(tmp, "w") as f:
                    sink = _Sink(f, model, config)
                    yield sink
                    if not getattr(sink, "finished", False):
                        raise RuntimeError("the event stream was not finished")  # never renamed into place
            except OSError as err:
                raise EventFileError(f"writing {self.path} failed ({err}); no file was left there") from err

    def result(self) -> EventFile:
        return EventFile(self.path)


class EventFile:
    """A lazy, read-only view of an EventSample file: nothing is read until asked for.

    ``len(f)``, ``f.process``, ``f.coefficients``, ``f.config``, ``f.provenance``,
    ``f.mc_rel_error``, ``f.cutflow``; ``f.column(name)`` reads one observable or one array
    ("momenta", "pdg", "weight_components", "variations/<name>", "joint_score_ref");
    ``f[a:b]`` (or an index array) is an in-memory EventSample of those events;
    ``f.chunks(size)`` iterates over the file in such pieces; ``f.cross_section(theta)`` sums the
    weights chunk by chunk; ``f.load()`` reads everything (``EventSample.load``)."""

    def __init__(self, path: str | os.PathLike) -> None:
        import h5py

        self.path = Path(path)
        if not self.path.exists():
            raise EventFileError(f"event file {self.path} does not exist; generate one with physinf.simulate.generate(..., out=path)")
        try:
            self._f = h5py.File(self.path, "r")
        except OSError as err:
            raise EventFileError(f"{self.path} is not a readable HDF5 file ({err}); it may be truncated or not an event file") from err
        try:
            _check_format(self._f, self.path)
            attrs = self._f.attrs
            self.process = str(attrs["process"])
            self.coefficients = tuple(json.loads(attrs["coefficients"]))
            self.labels = tuple(json.loads(attrs["labels"]))
            self.provenance = json.loads(attrs["provenance"])
            self.config = GenerationConfig.from_dict(json.loads(attrs["config"])) if attrs["config"] else None
            mc = float(attrs["mc_rel_error"])
            self.mc_rel_error = None if mc < 0 else mc
            self.cutflow = json.loads(attrs["cutflow"])
            self.powers = self._f["powers"][()]
            self.theta_ref = self._f["theta_ref"][()]
            self.observable_names = tuple(self._f["observables"])
            self.variation_names = tuple(self._f["variations"])
            self._n = int(self._f["momenta"].shape[0])
            self._sample(self._f, slice(0, 0), 0)  # the header checked as EventSample checks it (no events read)
        except (KeyError, ValueError, TypeError, AttributeError, OSError, InvalidParameterError) as err:
            self._f.close()
            raise EventFileError(f"{self.path} is missing or has a bad dataset or attribute ({err}); the file is incomplete or corrupt") from err

    # ---------------------------------------------------------------- access
    def __len__(self) -> int:
        return self._n

    def __enter__(self) -> EventFile:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._f.close()

    @contextlib.contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        """h5py's errors on a damaged dataset (bad chunks, wrong shapes or types) as EventFileError."""
        try:
            yield
        except (OSError, KeyError, ValueError, TypeError) as err:
            raise EventFileError(f"{self.path}: reading {what} failed ({err}); the file is damaged: regenerate it") from err

    def _finite(self, name: str, values: np.ndarray) -> np.ndarray:
        if values.dtype.kind not in "fiu":
            raise EventFileError(f"{self.path}: {name} holds {values.dtype} values, not numbers; the file is damaged")
        bad = ~np.isfinite(values)
        if bad.any():
            raise EventFileError(f"{self.path}: {name} holds {int(bad.sum())} non-finite values, the first at event "
                                 f"{int(np.argwhere(bad)[0][0])}; the file is damaged: regenerate it")
        return values

    def column(self, name: str) -> np.ndarray:
        """One observable (by name) or one stored array, read in full (only that one); refused if it
        holds non-finite values."""
        if name in self.observable_names:
            with self._reading(f"observables/{name}"):
                return self._finite(f"observables/{name}", self._f["observables"][name][()])
        if name in self._f and not hasattr(self._f[name], "keys"):
            with self._reading(name):
                return self._finite(name, self._f[name][()])
        known = list(self.observable_names) + [k for k in self._f if not hasattr(self._f[k], "keys")] + [
            f"variations/{v}" for v in self.variation_names]
        raise UnknownNameError(f"{self.path} has no column {name!r}.{did_you_mean(name, known)} Known: {', '.join(known)}")

    def __getitem__(self, index: Any) -> EventSample:
        """Events ``index`` (a slice, or sorted integer indices) as an in-memory EventSample; weights
        as stored (a part of the run, so no MC-error estimate is attached)."""
        if isinstance(index, (int, np.integer)):
            index = slice(int(index), int(index) + 1)
        if not isinstance(index, slice):
            index = np.asarray(index)
            if index.dtype == bool:
                index = np.flatnonzero(index)
            if index.size and (np.any(np.diff(index) <= 0) or index[0] < 0 or index[-1] >= self._n):
                raise InvalidParameterError("index arrays into an EventFile must be increasing and within range")
        f = self._f
        n_sel = len(range(*index.indices(self._n))) if isinstance(index, slice) else len(index)
        with self._reading(f"events {index}"):
            return self._sample(f, index, n_sel)

    def _sample(self, f: Any, index: Any, n_sel: int) -> EventSample:
        return EventSample(
            process=self.process, coefficients=self.coefficients, powers=self.powers, labels=self.labels,
            momenta=f["momenta"][index], pdg=f["pdg"][index], weight_components=f["weight_components"][index],
            observables={k: f["observables"][k][index] for k in self.observable_names}, theta_ref=self.theta_ref,
            provenance={**self.provenance, "read_from": str(self.path)},
            variations={k: f["variations"][k][index] for k in self.variation_names}, config=self.config,
            mc_rel_error=self.mc_rel_error if n_sel == self._n else None,
            cutflow=self.cutflow if n_sel == self._n else {},
        )

    def chunks(self, size: int = _ROWS) -> Iterator[EventSample]:
        """Consecutive in-memory pieces of at most ``size`` events."""
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise InvalidParameterError(f"chunk size must be a positive integer, got {size!r}")
        for lo in range(0, self._n, size):
            yield self[lo : lo + size]

    def cross_section(self, theta: Any = None) -> float:
        """sigma(theta) in pb, summed chunk by chunk."""
        theta = np.asarray(self.theta_ref if theta is None else theta, dtype=float)
        if theta.shape != (len(self.coefficients),):
            raise InvalidParameterError(f"theta must have one value per coefficient {list(self.coefficients)}, got shape {theta.shape}")
        w = self._f["weight_components"]
        with self._reading("weight_components"):
            total = np.zeros(w.shape[1])
            for lo in range(0, self._n, _ROWS):
                total += self._finite("weight_components", w[lo : lo + _ROWS]).sum(axis=0)
        return float(total @ monomial_values(self.powers, theta))

    def load(self) -> EventSample:
        """The whole file in memory (``EventSample.load``)."""
        return EventSample.load(self.path)

    def __repr__(self) -> str:
        return f"<EventFile {self.path}: {self.process}, {self._n} events, coefficients {list(self.coefficients)}>"


def _check_format(f: Any, path: Path) -> None:
    fmt = f.attrs.get("format")
    if fmt != FORMAT_NAME:
        raise EventFileError(f"{path} is not a physinf EventSample file (format attribute {fmt!r})")
    version = int(f.attrs.get("format_version", -1))
    if version != FORMAT_VERSION:
        hint = "upgrade physinf to read it" if version > FORMAT_VERSION else "regenerate the events with this physinf version"
        raise EventFileError(f"{path} was written with EventSample format version {version}, this physinf reads version "
                             f"{FORMAT_VERSION}; {hint}")
    missing = [k for k in _ARRAYS if k not in f]
    if missing:
        raise EventFileError(f"{path} is missing datasets {missing}; the file is incomplete or corrupt")
