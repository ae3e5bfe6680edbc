"""EventSample: the one record that flows between stages, in memory and on disk (HDF5).

Per event: momenta z (lab frame, ordered as the process labels; at detector level still the
parton record), parton flavours, the morphing components w_c of the event weight (pb), so that
w(theta) = sum_c f_c(theta) w_c exactly, and named observables x. Per sample: the generation
config that produced it (typed, hashed), provenance (facts about the run: versions, timings,
cross-section estimate), the relative MC error of sigma(theta_ref) where it is known, and a
cut-flow (events counted by the step that removed them).

A sample is immutable: its arrays are read-only and every operation (subset, split,
unweighting, concatenation, new observables) returns a new, re-validated sample. The file is
written to a temporary name (created with the user's umask) and renamed, so a crash never leaves
half a file; reading checks the format name, version and shapes. Files larger than memory:
``generate(..., out=path)`` streams them, ``EventSample.open(path)`` reads them lazily
(``physinf.simulate.eventfile``).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from physinf._io import atomic_path
from physinf.simulate.config import GenerationConfig
from theory.errors import EventFileError, InvalidParameterError, PhysinfError, UnknownNameError, did_you_mean
from theory.morphing import monomial_gradients, monomial_values, monomials
from theory.scores import joint_ratio as _joint_ratio
from theory.scores import joint_score as _joint_score
from theory.scores import truth_fisher_information
from theory.units import PB_PER_FB

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "EventSample"]

FORMAT_NAME = "physinf.EventSample"
FORMAT_VERSION = 2
_ARRAYS = ("powers", "momenta", "pdg", "weight_components", "theta_ref")


class FrozenDict(dict):  # type: ignore[type-arg]
    """A dict that refuses changes (columns of an immutable EventSample); picklable."""

    def _read_only(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("EventSample columns are read-only; make a new sample (e.g. sample.with_observables(...))")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _read_only  # type: ignore[assignment]

    def __reduce__(self) -> tuple[type, tuple[dict[str, Any]]]:
        return (FrozenDict, (dict(self),))


def _integers(name: str, values: Any) -> np.ndarray:
    """Integer data (PDG codes, exponents) given as any numbers: refused unless integral."""
    arr = np.asarray(values)
    if arr.dtype.kind in "fc":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            bad = ~np.isfinite(arr) | (arr != np.round(np.nan_to_num(arr)))
            raise InvalidParameterError(f"{name} must hold integers; entry {np.argwhere(bad)[0].tolist()} is {arr[bad][0]!r}")
    elif arr.dtype.kind not in "iub":
        raise InvalidParameterError(f"{name} must hold integers, got dtype {arr.dtype}")
    return arr


def _immutable(array: np.ndarray) -> bool:
    """True when nobody can change the array's values: it and every array it views are read-only,
    down to one that owns its memory (or to immutable bytes)."""
    base: Any = array
    while isinstance(base, np.ndarray):
        if base.flags.writeable:
            return False
        if base.base is None:
            return True
        base = base.base
    return isinstance(base, bytes)


def _read_only(array: Any, dtype: Any) -> np.ndarray:
    if isinstance(array, np.ndarray) and array.dtype == dtype and array.flags.c_contiguous and _immutable(array):
        return array  # shared safely (e.g. the events a detector kept, handed over frozen)
    out = np.array(array, dtype=dtype)  # a private copy: nobody else can change it
    out.flags.writeable = False
    return out


def frozen(array: np.ndarray) -> np.ndarray:
    """The array itself, made read-only: for a new array handed to an EventSample, which then keeps
    it instead of copying it (only for arrays nobody else holds)."""
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class EventSample:
    """Weighted (or unweighted) events with exact morphing components.

    Attributes:
      process: process name; coefficients: Wilson-coefficient names; powers: (C, n) monomial
      exponents, row 0 the SM; labels: momentum labels; momenta: (N, P, 4) GeV; pdg: (N, P);
      weight_components: (N, C) pb; observables: name -> (N,); theta_ref: (n,);
      provenance: facts about the run (versions, timings, cross-section estimate);
      variations: name -> (N, C) morphing weights under a systematic variation, e.g.
      "muF_x2" (factorisation scale doubled), same events, same morphing structure;
      config: the GenerationConfig that produced the sample (None for samples from elsewhere);
      mc_rel_error: relative MC error of sigma(theta_ref) valid for exactly these events (the
      generator's estimate; None after slicing); cutflow: events remaining after each step.
    """

    process: str
    coefficients: tuple[str, ...]
    powers: np.ndarray
    labels: tuple[str, ...]
    momenta: np.ndarray
    pdg: np.ndarray
    weight_components: np.ndarray
    observables: Mapping[str, np.ndarray] = field(default_factory=dict)
    theta_ref: np.ndarray | None = None
    provenance: Mapping[str, Any] = field(default_factory=dict)
    variations: Mapping[str, np.ndarray] = field(default_factory=dict)
    config: GenerationConfig | None = None
    mc_rel_error: float | None = None
    cutflow: Mapping[str, int] = field(default_factory=dict)
    # internal: arrays ("momenta", "weight_components", "variations", "observables") whose values are known
    # good (rows of a validated sample, columns checked as they were made): not checked again (which
    # cost a detector a tenth of its time). Emptied once validated, so a later replace() checks everything.
    _checked: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        put("powers", _read_only(_integers("powers", self.powers), int))
        put("momenta", _read_only(self.momenta, float))
        put("pdg", _read_only(_integers("pdg", self.pdg), np.int32))
        put("weight_components", _read_only(self.weight_components, float))
        put("coefficients", tuple(str(c) for c in self.coefficients))
        put("labels", tuple(str(c) for c in self.labels))
        theta = np.zeros(len(self.coefficients)) if self.theta_ref is None else self.theta_ref
        put("theta_ref", _read_only(theta, float))
        put("observables", FrozenDict({str(k): _read_only(v, float) for k, v in self.observables.items()}))
        put("variations", FrozenDict({str(k): _read_only(v, float) for k, v in self.variations.items()}))
        put("provenance", FrozenDict(self.provenance))
        put("cutflow", FrozenDict({str(k): int(v) for k, v in self.cutflow.items()}))
        if self.mc_rel_error is not None:
            put("mc_rel_error", float(self.mc_rel_error))
        self._validate()
        put("_checked", frozenset())

    def _validate(self) -> None:
        n = self.momenta.shape[0] if self.momenta.ndim else -1
        problems = []
        if self.momenta.ndim != 3 or self.momenta.shape[1:] != (len(self.labels), 4):
            problems.append(f"momenta shape {self.momenta.shape} != (N, {len(self.labels)}, 4)")
        if self.pdg.shape != self.momenta.shape[:2]:
            problems.append(f"pdg shape {self.pdg.shape} != {self.momenta.shape[:2]}")
        if self.powers.ndim != 2 or self.powers.shape[1] != len(self.coefficients):
            problems.append(f"powers shape {self.powers.shape} does not match {len(self.coefficients)} coefficients")
        elif self.weight_components.shape != (n, self.powers.shape[0]):
            problems.append(f"weight_components shape {self.weight_components.shape} != ({n}, {self.powers.shape[0]})")
        for name, col in self.observables.items():
            if col.shape != (n,):
                problems.append(f"observable {name!r} has shape {col.shape}, expected ({n},)")
        for name, var in self.variations.items():
            if var.shape != self.weight_components.shape:
                problems.append(f"variation {name!r} has shape {var.shape}, expected {self.weight_components.shape}")
        if self.theta_ref.shape != (len(self.coefficients),):
            problems.append(f"theta_ref shape {self.theta_ref.shape} != ({len(self.coefficients)},)")
        if self.config is not None and not isinstance(self.config, GenerationConfig):
            problems.append(f"config must be a GenerationConfig, got {type(self.config).__name__}")
        if self.mc_rel_error is not None and not (np.isfinite(self.mc_rel_error) and self.mc_rel_error >= 0):
            problems.append(f"mc_rel_error must be a non-negative number, got {self.mc_rel_error}")
        if problems:
            raise InvalidParameterError("inconsistent EventSample: " + "; ".join(problems))
        self._validate_values()

    def _validate_values(self) -> None:
        """Every number usable: finite arrays (the first bad event named), the monomials of the
        declared coefficients, non-negative cut-flow counts, and momentum conservation for events
        physinf generated (their records are complete 2 -> n processes)."""
        arrays = [("weight_components", self.weight_components), ("momenta", self.momenta), ("theta_ref", self.theta_ref)]
        arrays += [(f"observables/{k}", v) for k, v in self.observables.items()]
        arrays += [(f"variations/{k}", v) for k, v in self.variations.items()]
        for name, values in arrays:
            if name.split("/")[0] in self._checked:
                continue
            if np.isfinite(values.sum()):  # one pass, no temporary: NaN or inf anywhere makes the sum NaN or inf
                continue
            bad = ~np.isfinite(values)  # (or finite values summing past 1.8e308)
            if bad.any():
                first = int(np.argwhere(bad)[0][0])
                where = "entry" if name == "theta_ref" else "event"
                raise InvalidParameterError(
                    f"{name} holds {int(bad.sum())} non-finite values (NaN or inf), the first at {where} {first}; "
                    "the sample is damaged: regenerate it, or drop those events with sample.subset(...) before saving"
                )
        if self.powers.size or self.powers.shape[0] != 1:
            degree = int(self.powers.sum(axis=1).max()) if self.powers.size else 0
            expected = monomials(len(self.coefficients), degree)
            if self.powers.shape != expected.shape or not np.array_equal(self.powers, expected):
                raise InvalidParameterError(
                    f"powers {self.powers.tolist()} are not the monomials of the coefficients {list(self.coefficients)} up to "
                    f"degree {degree} (expected {expected.tolist()}, theory.morphing.monomials); the file is damaged"
                )
        negative = [k for k, v in self.cutflow.items() if v < 0]
        if negative:
            raise InvalidParameterError(f"cut-flow entries {negative} are negative")
        if self.config is not None and len(self) and "momenta" not in self._checked:
            p = self.momenta
            balance = p[:, 0] + p[:, 1] - p[:, 2:].sum(axis=1)
            scale = np.abs(p[:, :2, 0]).sum(axis=1)
            off = np.abs(balance).max(axis=1) > 1e-6 * np.maximum(scale, 1.0)
            if off.any():
                raise InvalidParameterError(
                    f"momenta violate momentum conservation (beyond 1e-6 of the incoming energy) in {int(off.sum())} events, "
                    f"the first at event {int(np.argmax(off))}; the parton record is damaged: regenerate the sample"
                )

    # ------------------------------------------------------------------ physics
    def __len__(self) -> int:
        return self.momenta.shape[0]

    def _theta(self, theta: Any) -> np.ndarray:
        theta = np.asarray(theta if theta is not None else self.theta_ref, dtype=float)
        if theta.shape != (len(self.coefficients),):
            raise InvalidParameterError(
                f"theta must have one value per coefficient {list(self.coefficients)}, got shape {theta.shape}"
            )
        return theta

    def weights(self, theta: Any = None) -> np.ndarray:
        """Per-event weights (pb) at theta: sum_c f_c(theta) w_c."""
        return self.weight_components @ monomial_values(self.powers, self._theta(theta))

    def weight_gradients(self, theta: Any = None) -> np.ndarray:
        """d w_n / d theta_i, shape (N, n)."""
        return self.weight_components @ monomial_gradients(self.powers, self._theta(theta))

    @property
    def sigma_components(self) -> np.ndarray:
        """Integrated components S_c = sum_n w_nc (pb)."""
        return self.weight_components.sum(axis=0)

    def cross_section(self, theta: Any = None) -> float:
        """sigma(theta) in pb (an exact polynomial in theta for this sample)."""
        return float(self.sigma_components @ monomial_values(self.powers, self._theta(theta)))

    def cross_section_error(self, theta: Any = None) -> float:
        """Monte Carlo error of sigma(theta) in pb.

        At the reference point of a freshly generated sample: the generator's estimate (the larger of
        vegas' stratified error and the spread of independent passes). Elsewhere, or for a subset:
        the spread of the reweighted event weights (conservative for a stratified sample)."""
        if self.mc_rel_error is not None and np.allclose(self._theta(theta), self.theta_ref):
            return self.mc_rel_error * abs(self.cross_section(theta))
        w = self.weights(theta)
        return float(np.sqrt(np.sum((w - w.mean()) ** 2) * len(w) / max(len(w) - 1, 1)))

    def joint_score(self, theta: Any = None) -> np.ndarray:
        """Exact joint score t(z|theta) (N, n), rate term included, from theory.scores."""
        return _joint_score(self.powers, self.weight_components, self.sigma_components, self._theta(theta))

    def joint_ratio(self, theta0: Any, theta1: Any) -> np.ndarray:
        """Joint likelihood ratio r(z|theta0, theta1) = p(z|theta0)/p(z|theta1)."""
        return _joint_ratio(self.powers, self.weight_components, self.sigma_components, self._theta(theta0), self._theta(theta1))

    def fisher_information(self, theta: Any = None, luminosity_fb: float = 300.0) -> np.ndarray:
        """Truth-level Fisher information at theta for a luminosity in fb^-1."""
        return truth_fisher_information(self.powers, self.weight_components, self._theta(theta), luminosity_fb * PB_PER_FB)

    def variation_weights(self, name: str, theta: Any = None) -> np.ndarray:
        """Per-event weights at theta under a stored variation (e.g. "muF_x2")."""
        if name not in self.variations:
            raise UnknownNameError(f"no variation {name!r}; stored: {sorted(self.variations)}.{did_you_mean(name, sorted(self.variations))}")
        return self.variations[name] @ monomial_values(self.powers, self._theta(theta))

    def effective_size(self, theta: Any = None) -> float:
        """Kish effective sample size (sum w)^2 / sum w^2 at theta."""
        w = self.weights(theta)
        return float(w.sum() ** 2 / np.sum(w**2))

    # ------------------------------------------------------------------ new samples
    def with_observables(self, observables: Mapping[str, np.ndarray], *, replace_all: bool = False) -> EventSample:
        """A copy with observables added (or, with ``replace_all``, only these observables)."""
        merged = dict(observables) if replace_all else {**self.observables, **observables}
        return replace(self, observables=merged)

    def restricted(self, coefficients: Sequence[str]) -> EventSample:
        """The sample as a function of ``coefficients`` only, the others fixed at 0: monomials of the
        others are dropped (they vanish there), so weights, scores and ratios at any theta of the
        kept coefficients are unchanged. The reference point of the dropped coefficients must be 0."""
        keep = [str(c) for c in coefficients]
        unknown = [c for c in keep if c not in self.coefficients]
        if unknown or not keep or len(set(keep)) != len(keep):
            raise InvalidParameterError(f"restrict to distinct coefficients of {list(self.coefficients)}, got {keep}")
        cols = [self.coefficients.index(c) for c in keep]
        others = [i for i in range(len(self.coefficients)) if i not in cols]
        if np.any(self.theta_ref[others] != 0):
            raise InvalidParameterError("the coefficients dropped must be 0 at the reference point")
        rows = np.flatnonzero(np.all(self.powers[:, others] == 0, axis=1)) if others else np.arange(len(self.powers))
        return replace(self, coefficients=tuple(keep), powers=self.powers[np.ix_(rows, cols)],
                       weight_components=self.weight_components[:, rows], theta_ref=self.theta_ref[cols],
                       variations={k: v[:, rows] for k, v in self.variations.items()}, config=None)

    def _scaled(self, index: Any, factor: np.ndarray | float, **changes: Any) -> EventSample:
        """Events ``index`` with weights (and variations) multiplied by ``factor``."""
        f = np.asarray(factor, dtype=float)
        fw = f[:, None] if f.ndim == 1 else f
        # new arrays (or views of immutable ones) handed over frozen: kept without another copy
        return replace(
            self,
            momenta=frozen(self.momenta[index]), pdg=frozen(self.pdg[index]),
            weight_components=frozen(self.weight_components[index] * fw),
            observables={k: frozen(v[index]) for k, v in self.observables.items()},
            variations={k: frozen(v[index] * fw) for k, v in self.variations.items()},
            _checked=frozenset({"momenta", "observables"}), **changes,
        )

    def subset(self, index: Any, *, reason: str | None = None) -> EventSample:
        """Events selected by a boolean mask or an index array. Weights are kept as they are
        (a mask defines a fiducial subset); use ``split`` for statistically equivalent parts.
        ``reason``: a cut-flow entry recording how many events the selection kept."""
        index = np.asarray(index)
        cutflow = dict(self.cutflow)
        n_kept = int(index.sum()) if index.dtype == bool else len(index)
        if reason is not None:
            cutflow[reason] = n_kept
        # the generator's error estimate belongs to the full sample, not to a part of it
        return self._scaled(index, 1.0, mc_rel_error=None, cutflow=cutflow)

    def split(self, fractions: Sequence[float], rng: np.random.Generator) -> list[EventSample]:
        """Random disjoint parts, each reweighted to the full cross section (train/validation/test)."""
        fractions = np.asarray(fractions, dtype=float)
        if np.any(fractions <= 0) or not np.isclose(fractions.sum(), 1.0):
            raise InvalidParameterError(f"split fractions must be positive and sum to 1, got {fractions}")
        order = rng.permutation(len(self))
        edges = np.concatenate([[0], np.round(np.cumsum(fractions) * len(self)).astype(int)])
        if np.any(np.diff(edges) == 0):
            raise InvalidParameterError(f"a split of {len(self)} events into fractions {fractions.tolist()} leaves a part empty")
        # each part is scaled by N / n_part (its actual share), so averaging the parts back is exact
        return [self._scaled(order[lo:hi], len(self) / (hi - lo), mc_rel_error=None)
                for lo, hi in zip(edges[:-1], edges[1:])]

    def unweighted(self, rng: np.random.Generator, theta: Any = None) -> EventSample:
        """Hit-or-miss unweighting at theta (weights must be positive there). Accepted events all
        carry weight sigma/N_accepted at theta; their components keep their ratios to it."""
        th = self._theta(theta)
        w = self.weights(th)
        if np.any(w <= 0):
            raise InvalidParameterError("unweighting needs positive weights at theta; choose a theta where |M|^2 > 0")
        keep = np.flatnonzero(rng.uniform(0, w.max(), len(w)) < w)
        if keep.size == 0:
            raise InvalidParameterError("no event survived the unweighting; use a larger sample")
        sigma = float(w.sum())
        at_ref = np.allclose(th, self.theta_ref)
        # sigma(theta) is carried over exactly, so at the reference point is its Monte Carlo error
        provenance = {**self.provenance, "unweighting_efficiency": keep.size / len(w), "unweighted_at": th.tolist()}
        return self._scaled(keep, sigma / keep.size / w[keep], provenance=provenance,
                            mc_rel_error=self.mc_rel_error if at_ref else None,
                            cutflow={**self.cutflow, "unweighting": int(keep.size)})

    @classmethod
    def concatenate(cls, samples: Sequence[EventSample], *, weights: Literal["average", "keep"]) -> EventSample:
        """One sample from several of the same process, coefficients and columns.

        weights="average": the samples are independent estimates of the same cross section (e.g.
        runs with different seeds): each is scaled by its share of the events, so the result
        estimates sigma once, with the combined statistics. weights="keep": the samples are
        disjoint pieces of one estimate (chunks of a run, slices of phase space): weights add up.
        The result has no generation config (no single run made it) and no MC error estimate."""
        if weights not in ("average", "keep"):
            raise InvalidParameterError(f"weights must be 'average' or 'keep', got {weights!r}")
        samples = list(samples)
        if not samples:
            raise InvalidParameterError("concatenate needs at least one sample")
        first = samples[0]
        for s in samples[1:]:
            for what in ("process", "coefficients", "labels"):
                if getattr(s, what) != getattr(first, what):
                    raise InvalidParameterError(f"cannot concatenate samples with different {what}: {getattr(first, what)} vs {getattr(s, what)}")
            if not np.array_equal(s.powers, first.powers) or not np.allclose(s.theta_ref, first.theta_ref):
                raise InvalidParameterError("cannot concatenate samples with different monomials or reference points")
            for what in ("observables", "variations"):
                if set(getattr(s, what)) != set(getattr(first, what)):
                    raise InvalidParameterError(f"cannot concatenate samples with different {what}: {sorted(getattr(first, what))} vs {sorted(getattr(s, what))}")
        total = sum(len(s) for s in samples)
        scales = [len(s) / total if weights == "average" else 1.0 for s in samples]
        return replace(
            first,
            momenta=np.concatenate([s.momenta for s in samples]),
            pdg=np.concatenate([s.pdg for s in samples]),
            weight_components=np.concatenate([s.weight_components * f for s, f in zip(samples, scales)]),
            observables={k: np.concatenate([s.observables[k] for s in samples]) for k in first.observables},
            variations={k: np.concatenate([s.variations[k] * f for s, f in zip(samples, scales)]) for k in first.variations},
            config=first.config if len(samples) == 1 else None,  # no one config made several runs' events
            mc_rel_error=None,
            provenance={"concatenated": [dict(s.provenance) for s in samples], "weights": weights},
            cutflow={},
        )

    # ------------------------------------------------------------------ I/O
    def save(self, path: str | os.PathLike) -> Path:
        """Write HDF5 atomically (temporary file in the same folder, then rename)."""
        import h5py

        path = Path(path)
        with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT_NAME
            f.attrs["format_version"] = FORMAT_VERSION
            f.attrs["process"] = self.process
            f.attrs["coefficients"] = json.dumps(list(self.coefficients))
            f.attrs["labels"] = json.dumps(list(self.labels))
            f.attrs["provenance"] = json.dumps(dict(self.provenance), default=str)
            f.attrs["config"] = self.config.to_json() if self.config is not None else ""
            f.attrs["mc_rel_error"] = -1.0 if self.mc_rel_error is None else self.mc_rel_error
            f.attrs["cutflow"] = json.dumps(dict(self.cutflow))
            for name in _ARRAYS:
                f.create_dataset(name, data=getattr(self, name), compression="gzip" if name == "momenta" else None)
            # derived, for readers outside physinf: t(z|theta_ref), exact, rate term included
            f.create_dataset("joint_score_ref", data=self.joint_score(self.theta_ref))
            grp = f.create_group("observables")
            for name, col in self.observables.items():
                grp.create_dataset(name, data=col)
            var = f.create_group("variations")
            for name, col in self.variations.items():
                var.create_dataset(name, data=col)
        return path

    @classmethod
    def open(cls, path: str | os.PathLike) -> Any:
        """A lazy, read-only view of an event file (``physinf.simulate.eventfile.EventFile``): a
        column, a slice or chunks are read on demand, never the whole file."""
        from physinf.simulate.eventfile import EventFile

        return EventFile(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> EventSample:
        """Read and validate a file written by ``save``."""
        import h5py

        path = Path(path)
        if not path.exists():
            raise EventFileError(f"event file {path} does not exist; generate one with physinf.simulate.generate(...).save(path)")
        try:
            f = h5py.File(path, "r")
        except OSError as err:
            raise EventFileError(f"{path} is not a readable HDF5 file ({err}); it may be truncated or not an event file") from err
        with f:
            fmt = f.attrs.get("format")
            if fmt != FORMAT_NAME:
                raise EventFileError(f"{path} is not a physinf EventSample file (format attribute {fmt!r})")
            version = int(f.attrs.get("format_version", -1))
            if version != FORMAT_VERSION:
                hint = ("upgrade physinf to read it" if version > FORMAT_VERSION
                        else "regenerate the events with this physinf version")
                raise EventFileError(
                    f"{path} was written with EventSample format version {version}, this physinf reads version "
                    f"{FORMAT_VERSION}; {hint}"
                )
            try:
                data = {name: f[name][()] for name in _ARRAYS}
                observables = {k: v[()] for k, v in f["observables"].items()}
                variations = {k: v[()] for k, v in f["variations"].items()}
                attrs = {k: f.attrs[k] for k in ("process", "coefficients", "labels", "provenance", "config",
                                                 "mc_rel_error", "cutflow")}
            except KeyError as err:
                raise EventFileError(f"{path} is missing dataset or attribute {err}; the file is incomplete or corrupt") from err
            except (OSError, ValueError, TypeError) as err:  # h5py: damaged chunks, unreadable types
                raise EventFileError(f"{path} has a damaged dataset ({err}); the file is corrupt: regenerate it") from err
        try:
            config = GenerationConfig.from_dict(json.loads(attrs["config"])) if attrs["config"] else None
            mc = float(attrs["mc_rel_error"])
            if not (mc == -1.0 or (math.isfinite(mc) and mc >= 0)):
                raise InvalidParameterError(f"attribute mc_rel_error = {mc} is neither -1 (unknown) nor a non-negative number")
            return cls(
                process=str(attrs["process"]), coefficients=tuple(json.loads(attrs["coefficients"])),
                labels=tuple(json.loads(attrs["labels"])), observables=observables,
                provenance=json.loads(attrs["provenance"]), variations=variations, config=config,
                mc_rel_error=None if mc < 0 else mc, cutflow=json.loads(attrs["cutflow"]), **data,
            )
        except (PhysinfError, json.JSONDecodeError, TypeError, ValueError, AttributeError, KeyError) as err:
            raise EventFileError(f"{path}: {err}") from err

    def __repr__(self) -> str:
        return (f"<EventSample {self.process}: {len(self)} events, sigma(theta_ref) = {self.cross_section():.6g} pb, "
                f"coefficients {list(self.coefficients)}>")
