"""EventSample: the one record that flows between stages, in memory and on disk (HDF5).

Per event: momenta z (lab frame, ordered as the process labels), parton flavours, the
morphing components w_c of the event weight (pb), so that w(theta) = sum_c f_c(theta) w_c
exactly, named observables x, and the joint score at the reference point. The file is
written to a temporary name and renamed, so a crash never leaves half a file; reading
checks the format name, version and shapes.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from theory.errors import EventFileError, InvalidParameterError
from theory.morphing import monomial_gradients, monomial_values
from theory.scores import joint_ratio as _joint_ratio
from theory.scores import joint_score as _joint_score
from theory.scores import truth_fisher_information

__all__ = ["EventSample", "FORMAT_NAME", "FORMAT_VERSION"]

FORMAT_NAME = "physinf.EventSample"
FORMAT_VERSION = 1


@dataclass
class EventSample:
    """Weighted (or unweighted) events with exact morphing components.

    Attributes:
      process: process name; coefficients: Wilson-coefficient names; powers: (C, n) monomial
      exponents, row 0 the SM; labels: momentum labels; momenta: (N, P, 4) GeV; pdg: (N, P);
      weight_components: (N, C) pb; observables: name -> (N,); theta_ref: (n,);
      provenance: process, theta, seed, versions, cuts, sqrt_s, PDF, cross-section estimate;
      variations: name -> (N, C) morphing weights under a systematic variation, e.g.
      "muF_x2" (factorisation scale doubled), same events, same morphing structure.
    """

    process: str
    coefficients: tuple[str, ...]
    powers: np.ndarray
    labels: tuple[str, ...]
    momenta: np.ndarray
    pdg: np.ndarray
    weight_components: np.ndarray
    observables: dict[str, np.ndarray] = field(default_factory=dict)
    theta_ref: np.ndarray | None = None
    provenance: dict = field(default_factory=dict)
    variations: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.powers = np.asarray(self.powers, dtype=int)
        self.momenta = np.asarray(self.momenta, dtype=float)
        self.pdg = np.asarray(self.pdg, dtype=np.int32)
        self.weight_components = np.asarray(self.weight_components, dtype=float)
        self.coefficients = tuple(self.coefficients)
        self.labels = tuple(self.labels)
        n = self.momenta.shape[0]
        if self.theta_ref is None:
            self.theta_ref = np.zeros(len(self.coefficients))
        self.theta_ref = np.asarray(self.theta_ref, dtype=float)
        problems = []
        if self.momenta.ndim != 3 or self.momenta.shape[1:] != (len(self.labels), 4):
            problems.append(f"momenta shape {self.momenta.shape} != (N, {len(self.labels)}, 4)")
        if self.pdg.shape != self.momenta.shape[:2]:
            problems.append(f"pdg shape {self.pdg.shape} != {self.momenta.shape[:2]}")
        if self.powers.shape != (self.powers.shape[0], len(self.coefficients)):
            problems.append(f"powers shape {self.powers.shape} does not match {len(self.coefficients)} coefficients")
        if self.weight_components.shape != (n, self.powers.shape[0]):
            problems.append(f"weight_components shape {self.weight_components.shape} != ({n}, {self.powers.shape[0]})")
        for name, col in self.observables.items():
            if np.shape(col) != (n,):
                problems.append(f"observable {name!r} has shape {np.shape(col)}, expected ({n},)")
        for name, var in self.variations.items():
            if np.shape(var) != self.weight_components.shape:
                problems.append(f"variation {name!r} has shape {np.shape(var)}, expected {self.weight_components.shape}")
        if self.theta_ref.shape != (len(self.coefficients),):
            problems.append(f"theta_ref shape {self.theta_ref.shape} != ({len(self.coefficients)},)")
        if problems:
            raise InvalidParameterError("inconsistent EventSample: " + "; ".join(problems))

    # ------------------------------------------------------------------ physics
    def __len__(self) -> int:
        return self.momenta.shape[0]

    def _theta(self, theta) -> np.ndarray:
        theta = np.asarray(theta if theta is not None else self.theta_ref, dtype=float)
        if theta.shape != (len(self.coefficients),):
            raise InvalidParameterError(
                f"theta must have one value per coefficient {list(self.coefficients)}, got shape {theta.shape}"
            )
        return theta

    def weights(self, theta=None) -> np.ndarray:
        """Per-event weights (pb) at theta: sum_c f_c(theta) w_c."""
        return self.weight_components @ monomial_values(self.powers, self._theta(theta))

    def weight_gradients(self, theta=None) -> np.ndarray:
        """d w_n / d theta_i, shape (N, n)."""
        return self.weight_components @ monomial_gradients(self.powers, self._theta(theta))

    @property
    def sigma_components(self) -> np.ndarray:
        """Integrated components S_c = sum_n w_nc (pb)."""
        return self.weight_components.sum(axis=0)

    def cross_section(self, theta=None) -> float:
        """sigma(theta) in pb (an exact polynomial in theta for this sample)."""
        return float(self.sigma_components @ monomial_values(self.powers, self._theta(theta)))

    def cross_section_error(self, theta=None) -> float:
        """Monte Carlo error of sigma(theta) in pb.

        At the reference point of a freshly generated sample: the generator's estimate (the larger of
        vegas' stratified error and the spread of independent passes). Elsewhere, or for a subset:
        the spread of the reweighted event weights (conservative for a stratified sample)."""
        rel_ref = self.provenance.get("cross_section_rel_error")
        if rel_ref is not None and np.allclose(self._theta(theta), self.theta_ref):
            return float(rel_ref) * self.cross_section(theta)
        w = self.weights(theta)
        return float(np.sqrt(np.sum((w - w.mean()) ** 2) * len(w) / max(len(w) - 1, 1)))

    def joint_score(self, theta=None) -> np.ndarray:
        """Exact joint score t(z|theta) (N, n), rate term included, from theory.scores."""
        return _joint_score(self.powers, self.weight_components, self.sigma_components, self._theta(theta))

    def joint_ratio(self, theta0, theta1) -> np.ndarray:
        """Joint likelihood ratio r(z|theta0, theta1) = p(z|theta0)/p(z|theta1)."""
        return _joint_ratio(self.powers, self.weight_components, self.sigma_components, self._theta(theta0), self._theta(theta1))

    def fisher_information(self, theta=None, luminosity_fb: float = 300.0) -> np.ndarray:
        """Truth-level Fisher information at theta for a luminosity in fb^-1."""
        return truth_fisher_information(self.powers, self.weight_components, self._theta(theta), luminosity_fb * 1000.0)

    def variation_weights(self, name: str, theta=None) -> np.ndarray:
        """Per-event weights at theta under a stored variation (e.g. "muF_x2")."""
        if name not in self.variations:
            from theory.errors import UnknownNameError, did_you_mean

            raise UnknownNameError(f"no variation {name!r}; stored: {sorted(self.variations)}.{did_you_mean(name, sorted(self.variations))}")
        return self.variations[name] @ monomial_values(self.powers, self._theta(theta))

    def effective_size(self, theta=None) -> float:
        """Kish effective sample size (sum w)^2 / sum w^2 at theta."""
        w = self.weights(theta)
        return float(w.sum() ** 2 / np.sum(w**2))

    # ------------------------------------------------------------------ slicing
    def subset(self, index) -> "EventSample":
        """Events selected by a boolean mask or an index array. Weights are kept as they are
        (a mask defines a fiducial subset); use ``split`` for statistically equivalent parts."""
        index = np.asarray(index)
        return EventSample(
            process=self.process, coefficients=self.coefficients, powers=self.powers, labels=self.labels,
            momenta=self.momenta[index], pdg=self.pdg[index], weight_components=self.weight_components[index],
            observables={k: v[index] for k, v in self.observables.items()}, theta_ref=self.theta_ref,
            # the generator's error estimate belongs to the full sample, not to a part of it
            provenance={k: v for k, v in self.provenance.items() if k != "cross_section_rel_error"},
            variations={k: v[index] for k, v in self.variations.items()},
        )

    def split(self, fractions, rng: np.random.Generator) -> list["EventSample"]:
        """Random disjoint parts, each reweighted to the full cross section (train/validation/test)."""
        fractions = np.asarray(fractions, dtype=float)
        if np.any(fractions <= 0) or not np.isclose(fractions.sum(), 1.0):
            raise InvalidParameterError(f"split fractions must be positive and sum to 1, got {fractions}")
        order = rng.permutation(len(self))
        edges = np.concatenate([[0], np.round(np.cumsum(fractions) * len(self)).astype(int)])
        parts = []
        for lo, hi, frac in zip(edges[:-1], edges[1:], fractions):
            part = self.subset(order[lo:hi])
            part.weight_components = part.weight_components / frac
            part.variations = {k: v / frac for k, v in part.variations.items()}
            parts.append(part)
        return parts

    def unweighted(self, rng: np.random.Generator, theta=None) -> "EventSample":
        """Hit-or-miss unweighting at theta (weights must be positive there). Accepted events all
        carry weight sigma/N_accepted at theta; their components keep their ratios to it."""
        w = self.weights(theta)
        if np.any(w <= 0):
            raise InvalidParameterError("unweighting needs positive weights at theta; choose a theta where |M|^2 > 0")
        keep = rng.uniform(0, w.max(), len(w)) < w
        out = self.subset(np.flatnonzero(keep))
        sigma = float(w.sum())
        factor = (sigma / keep.sum() / w[keep])[:, None]
        out.weight_components = out.weight_components * factor
        out.variations = {k: v * factor for k, v in out.variations.items()}
        if np.allclose(self._theta(theta), self.theta_ref) and "cross_section_rel_error" in self.provenance:
            # sigma(theta_ref) is carried over exactly, so is its Monte Carlo error
            out.provenance["cross_section_rel_error"] = self.provenance["cross_section_rel_error"]
        out.provenance["unweighting_efficiency"] = float(keep.mean())
        out.provenance["unweighted_at"] = self._theta(theta).tolist()
        return out

    # ------------------------------------------------------------------ I/O
    def save(self, path: str | os.PathLike) -> Path:
        """Write HDF5 atomically (temporary file in the same folder, then rename)."""
        import h5py

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            with h5py.File(tmp, "w") as f:
                f.attrs["format"] = FORMAT_NAME
                f.attrs["format_version"] = FORMAT_VERSION
                f.attrs["process"] = self.process
                f.attrs["coefficients"] = json.dumps(list(self.coefficients))
                f.attrs["labels"] = json.dumps(list(self.labels))
                f.attrs["provenance"] = json.dumps(self.provenance, default=str)
                for name in ("powers", "momenta", "pdg", "weight_components", "theta_ref"):
                    f.create_dataset(name, data=getattr(self, name), compression="gzip" if name == "momenta" else None)
                # derived, for readers outside physinf: t(z|theta_ref), exact, rate term included
                f.create_dataset("joint_score_ref", data=self.joint_score(self.theta_ref))
                grp = f.create_group("observables")
                for name, col in self.observables.items():
                    grp.create_dataset(name, data=col)
                var = f.create_group("variations")
                for name, col in self.variations.items():
                    var.create_dataset(name, data=col)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "EventSample":
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
                raise EventFileError(
                    f"{path} was written with EventSample format version {version}, this physinf reads version "
                    f"{FORMAT_VERSION}; regenerate the events or install the physinf version that wrote them "
                    f"(provenance: {f.attrs.get('provenance', '')[:200]})"
                )
            try:
                data = {name: f[name][()] for name in ("powers", "momenta", "pdg", "weight_components", "theta_ref")}
                observables = {k: v[()] for k, v in f["observables"].items()}
                variations = {k: v[()] for k, v in f["variations"].items()} if "variations" in f else {}
                attrs = {k: f.attrs[k] for k in ("process", "coefficients", "labels", "provenance")}
            except KeyError as err:
                raise EventFileError(f"{path} is missing dataset or attribute {err}; the file is incomplete or corrupt") from err
        try:
            return cls(
                process=str(attrs["process"]), coefficients=tuple(json.loads(attrs["coefficients"])),
                labels=tuple(json.loads(attrs["labels"])), observables=observables,
                provenance=json.loads(attrs["provenance"]), variations=variations, **data,
            )
        except InvalidParameterError as err:
            raise EventFileError(f"{path}: {err}") from err

    def __repr__(self) -> str:
        return (f"<EventSample {self.process}: {len(self)} events, sigma(theta_ref) = {self.cross_section():.6g} pb, "
                f"coefficients {list(self.coefficients)}>")
