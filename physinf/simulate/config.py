"""The generation config: every setting that decides which events a run produces.

A :class:`GenerationConfig` is frozen, serialisable (``to_dict``/``from_dict``, JSON-safe),
versioned (``SCHEMA_VERSION``) and hashed (``config_hash``: SHA-256 of its canonical JSON), and
travels with the EventSample it produced. Two runs with the same hash produce the same events
(same seed, same settings, same physinf major version), so a stage's output can be reused
exactly when the hash matches. What a run *observed* (σ, timings, versions) is provenance, not
configuration.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from theory.cuts import Cuts
from theory.errors import InvalidParameterError, did_you_mean
from theory.sm import SM, SMInputs

__all__ = ["DEFAULT_PDF", "SCHEMA_VERSION", "GenerationConfig"]

SCHEMA_VERSION = 1
DEFAULT_PDF = "NNPDF31_lo_as_0118"


def _positive_int(name: str, value: Any, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")


@dataclass(frozen=True)
class GenerationConfig:
    """Settings of one parton-level generation run.

    process: registered process name; n_points: phase-space points evaluated after adaptation
    (events that fail the cuts are dropped, so a sample holds at most n_points events);
    sqrt_s: collider energy (GeV); theta_ref: reference Wilson coefficients (vegas adapts to the
    weight there; None = SM); seed: integer seed of the run; pdf: LHAPDF set name or path (None
    for lepton colliders); cuts: generator cuts (None = the process's ``default_cuts``);
    scale_gev: a fixed factorisation scale (None = the process's dynamic scale); scale_factors:
    factorisation-scale multipliers stored as weight variations; adapt, n_adapt, n_iterations:
    vegas adaptation (n_iterations passes of n_adapt points); n_passes: independent passes over
    the adapted grid (their spread checks the MC error); sm: SM inputs (None = theory.sm.SM);
    model: what evaluates the matrix elements ("exact" SymPy amplitudes, or a surrogate's id).
    Call :meth:`resolved` to fill the process-dependent defaults before hashing.
    """

    process: str
    n_points: int
    sqrt_s: float = 13000.0
    theta_ref: tuple[float, ...] | None = None
    seed: int = 0
    pdf: str | None = DEFAULT_PDF
    cuts: Cuts | None = None
    scale_gev: float | None = None
    scale_factors: tuple[float, ...] = (0.5, 2.0)
    adapt: bool = True
    n_adapt: int = 20000
    n_iterations: int = 8
    n_passes: int = 8
    sm: SMInputs | None = None
    model: str = "exact"
    schema_version: int = field(default=SCHEMA_VERSION)

    def __post_init__(self) -> None:
        if not isinstance(self.process, str) or not self.process:
            raise InvalidParameterError(f"process must be a registered process name, got {self.process!r}")
        _positive_int("n_points", self.n_points, 10)
        _positive_int("n_adapt", self.n_adapt, 10)
        _positive_int("n_iterations", self.n_iterations)
        _positive_int("n_passes", self.n_passes)
        _positive_int("seed", self.seed, 0)
        if isinstance(self.sqrt_s, bool) or not isinstance(self.sqrt_s, (int, float)) or not (
            math.isfinite(self.sqrt_s) and self.sqrt_s > 0
        ):
            raise InvalidParameterError(f"sqrt_s must be a positive energy in GeV, got {self.sqrt_s!r}")
        object.__setattr__(self, "sqrt_s", float(self.sqrt_s))
        if self.theta_ref is not None:
            theta = tuple(float(t) for t in self.theta_ref)
            if not all(math.isfinite(t) for t in theta):
                raise InvalidParameterError(f"theta_ref must be finite, got {self.theta_ref}")
            object.__setattr__(self, "theta_ref", theta)
        if self.scale_gev is not None and not (math.isfinite(self.scale_gev) and self.scale_gev > 0):
            raise InvalidParameterError(f"scale_gev must be a positive scale in GeV or None, got {self.scale_gev!r}")
        factors = tuple(self.scale_factors)
        if any(isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f < 100 for f in factors):
            raise InvalidParameterError(f"scale_factors must be positive numbers (e.g. (0.5, 2.0)), got {self.scale_factors}")
        object.__setattr__(self, "scale_factors", tuple(float(f) for f in factors))
        if not isinstance(self.model, str) or not self.model:
            raise InvalidParameterError(f"model must be a non-empty identifier string, got {self.model!r}")
        if self.cuts is not None and not isinstance(self.cuts, Cuts):
            raise InvalidParameterError(f"cuts must be a theory.cuts.Cuts, got {type(self.cuts).__name__}")
        if self.sm is not None and not isinstance(self.sm, SMInputs):
            raise InvalidParameterError(f"sm must be a theory.sm.SMInputs, got {type(self.sm).__name__}")
        if self.schema_version > SCHEMA_VERSION:
            raise InvalidParameterError(
                f"generation config schema version {self.schema_version} is newer than this physinf knows "
                f"({SCHEMA_VERSION}); upgrade physinf to read it"
            )

    # ------------------------------------------------------------------ defaults
    def resolved(self) -> GenerationConfig:
        """The config with every process-dependent default filled in (what actually runs)."""
        from theory.processes.registry import get_process

        proc = get_process(self.process)
        n_coef = len(proc.coefficients)
        theta = self.theta_ref if self.theta_ref is not None else (0.0,) * n_coef
        if len(theta) != n_coef:
            raise InvalidParameterError(
                f"process {self.process!r} has {n_coef} Wilson coefficients {list(proc.coefficients)}, "
                f"but theta_ref has {len(theta)} values"
            )
        hadronic = proc.collider == "pp"
        return replace(
            self,
            theta_ref=tuple(theta),
            cuts=self.cuts if self.cuts is not None else proc.default_cuts,
            pdf=(self.pdf or DEFAULT_PDF) if hadronic else None,
            scale_factors=self.scale_factors if hadronic else (),
            sm=self.sm if self.sm is not None else SM,
            n_passes=self.n_passes if self.n_points >= 100 * self.n_passes else 1,
        )

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (cuts and SM inputs as nested dictionaries)."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["cuts"] = self.cuts.to_dict() if self.cuts is not None else None
        d["sm"] = asdict(self.sm) if self.sm is not None else None
        d["theta_ref"] = list(self.theta_ref) if self.theta_ref is not None else None
        d["scale_factors"] = list(self.scale_factors)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GenerationConfig:
        """Inverse of :meth:`to_dict`; unknown keys are refused with a suggestion."""
        if not isinstance(d, dict):
            raise InvalidParameterError(f"a generation config must be a mapping, got {type(d).__name__}")
        known = [f.name for f in fields(cls)]
        for key in d:
            if key not in known:
                raise InvalidParameterError(
                    f"unknown generation setting {key!r}; known: {', '.join(known)}.{did_you_mean(key, known)}"
                )
        d = dict(d)
        if d.get("cuts") is not None:
            d["cuts"] = Cuts.from_dict(d["cuts"])
        if d.get("sm") is not None:
            sm_known = [f.name for f in fields(SMInputs)]
            bad = [k for k in d["sm"] if k not in sm_known]
            if bad:
                raise InvalidParameterError(f"unknown SM inputs {bad}; known: {', '.join(sm_known)}")
            d["sm"] = SMInputs(**d["sm"])
        if d.get("theta_ref") is not None:
            d["theta_ref"] = tuple(d["theta_ref"])
        if "scale_factors" in d:
            d["scale_factors"] = tuple(d["scale_factors"])
        return cls(**d)

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no whitespace): the text the hash is taken of."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False, default=_json_default)

    @property
    def config_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON of the resolved config."""
        return hashlib.sha256(self.resolved().to_json().encode()).hexdigest()


def _json_default(value: Any) -> Any:
    raise InvalidParameterError(f"generation config holds a value that is not JSON-serialisable: {value!r}")
