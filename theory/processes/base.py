"""The Process contract: a squared amplitude as a polynomial in Wilson coefficients.

A process module builds, once, SymPy expressions for each *morphing component*:

    sum|M|^2(z; theta) = sum_c f_c(theta) * A_c(z),   f_c(theta) = prod_i theta_i^k_ci,

spin- and colour-averaged, as functions of the momentum-component symbols of its
particles (incoming first, all momenta physical, i.e. incoming ones flow in) and of
coupling symbols whose numbers depend on the parton channel. Numbers come from
compiled code generated from them (``theory.processes._compile``: the coupling dependence factored
out of the kinematics, common-subexpression elimination, numpy or numba); nothing is typed twice.

Identical final-state particles: the 1/n! factor belongs to the cross section and is
stored in ``Channel.symmetry_factor``, never inside |M|^2.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, Mapping, Sequence, TypeVar

import numpy as np
import sympy as sp

from theory.cuts import Cuts
from theory.errors import InvalidParameterError, KinematicsError, UnknownNameError, did_you_mean
from theory.morphing import monomial_values, monomials
from theory.observables import pair_observables
from theory.processes._compile import CompiledComponents, MissingKernelError
from theory.sm import SM, SMInputs

__all__ = [
    "Channel",
    "PhaseSpaceHint",
    "Process",
    "momentum_symbols",
]


def momentum_symbols(label: str) -> tuple[sp.Symbol, sp.Symbol, sp.Symbol, sp.Symbol]:
    """The four real component symbols (E, px, py, pz) of the momentum called ``label``."""
    return tuple(sp.Symbol(f"{label}_{i}", real=True) for i in range(4))  # type: ignore[return-value]


@dataclass(frozen=True)
class Channel:
    """One parton-level subprocess: flavours and the couplings its expressions need."""

    name: str
    incoming: tuple[int, int]
    outgoing: tuple[int, ...]
    couplings: Mapping[str, float] = field(default_factory=dict)
    symmetry_factor: float = 1.0


@dataclass(frozen=True)
class PhaseSpaceHint:
    """What the generator needs to choose a phase-space mapping.

    kind: ``"2to2"`` (two massless or massive final particles), ``"2to3_tchannel"``
    (two jets plus a heavy particle from t-channel exchange, e.g. WBF), ``"2to3"``
    (three massless particles).
    resonance: (mass, width) of an s-channel resonance to map out, if any.
    tchannel_mass: mass of the exchanged boson for t-channel mappings.
    """

    kind: Literal["2to2", "2to3_tchannel", "2to3"]
    masses: tuple[float, ...]
    resonance: tuple[float, float] | None = None
    tchannel_mass: float | None = None


ProcessT = TypeVar("ProcessT", bound="Process")
_COMPILE_LOCK = threading.RLock()


class Process:
    """Base class: subclasses set the class attributes and implement ``_build_components``.

    A process is the single source of everything about itself. Class attributes a subclass sets:
      name, coefficients (Wilson-coefficient names, in theta order), labels
      (momentum labels, incoming first), max_degree, collider ("ee" or "pp"),
      phase_space (PhaseSpaceHint), references (arXiv ids / books), unlabelled_jets,
      default_cuts (the generator cuts its physics needs), visible (which final-state
      particles a detector sees directly; the cuts act on them).
    Methods a subclass implements: ``_build_components``, ``channels``, ``scale``; it overrides
    ``observables`` when the default pair observables of its two visible particles do not fit.
    SM inputs: ``self.sm``; ``with_sm`` gives the same process with other inputs, sharing the
    SymPy expressions (they depend on coupling symbols, whose numbers come from ``channels``).
    """

    name: str = ""
    description: str = ""
    coefficients: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    max_degree: int = 2
    collider: Literal["ee", "pp"] = "pp"
    phase_space: PhaseSpaceHint
    references: tuple[str, ...] = ()
    # indices of final-state particles a detector sees as interchangeable jets whose assignment to
    # the amplitude's lines is only a label of the calculation (WBF: which jet came from which
    # quark line); the observable density sums the labelled one over their permutations. Processes
    # whose |M|^2 is already symmetric (identical gluons) leave it empty.
    unlabelled_jets: tuple[int, ...] = ()
    default_cuts: Cuts = Cuts()
    # indices of visible final-state particles; None: every final-state particle
    visible_particles: tuple[int, ...] | None = None
    # prefix of the default pair observables ("j" jets, "l" leptons)
    observable_prefix: str = "j"
    # a minimal set of observables that fixes the observable event up to its symmetries (the
    # default inputs of learned estimators); empty: all of ``observables``
    features: tuple[str, ...] = ()

    def __init__(self, sm: SMInputs = SM) -> None:
        self.sm = sm

    # cached SymPy objects are rebuilt on demand; a pickled copy (a worker process) carries the
    # compiled kernels instead
    _UNPICKLED = ("component_expressions", "momenta", "theta_symbols")

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in self._UNPICKLED}

    def with_sm(self: ProcessT, sm: SMInputs) -> ProcessT:
        """The same process with other SM inputs. Only numbers change: the SymPy expressions and
        their compiled form are shared with this instance; channels are rebuilt from ``sm``."""
        if not isinstance(sm, SMInputs):
            raise InvalidParameterError(f"sm must be a theory.sm.SMInputs, got {type(sm).__name__}")
        new = copy.copy(self)
        new.sm = sm
        new.__dict__.pop("channels", None)
        new.__dict__.pop("_varying", None)
        return new

    # ---- to implement
    def _build_components(self) -> list[sp.Expr]:
        """One SymPy expression per row of ``self.powers`` (averaged |M|^2 pieces)."""
        raise NotImplementedError

    @property
    def channels(self) -> tuple[Channel, ...]:
        raise NotImplementedError

    def scale(self, p: np.ndarray) -> np.ndarray:
        """Factorisation/renormalisation scale per event (GeV); subclasses override."""
        raise NotImplementedError

    def observables(self, p: np.ndarray) -> dict[str, np.ndarray]:
        """Named observables of events with momenta p (N, P, 4): by default the pT-ordered pair
        observables of the first two visible particles (``theory.observables.pair_observables``)."""
        p = self._check_momenta(p)
        a, b = self.visible[:2]
        return pair_observables(p[:, a], p[:, b], self.observable_prefix)

    # ---- derived
    @property
    def visible(self) -> tuple[int, ...]:
        """Indices (into ``labels``) of the final-state particles the generator cuts act on."""
        if self.visible_particles is not None:
            return tuple(self.visible_particles)
        return tuple(range(2, len(self.labels)))

    @property
    def model_id(self) -> str:
        """What evaluates the components: "exact" for the SymPy amplitudes (a surrogate differs)."""
        return "exact"

    def cuts(self, p: np.ndarray) -> np.ndarray:
        """Boolean mask of events passing the process's default generator cuts."""
        return self.default_cuts.mask(self._check_momenta(p), self.visible)

    @property
    def n_particles(self) -> int:
        return len(self.labels)

    @cached_property
    def powers(self) -> np.ndarray:
        return monomials(len(self.coefficients), self.max_degree)

    @property
    def n_components(self) -> int:
        return self.powers.shape[0]

    @cached_property
    def theta_symbols(self) -> tuple[sp.Symbol, ...]:
        return tuple(sp.Symbol(c, real=True) for c in self.coefficients)

    @cached_property
    def momenta(self) -> dict[str, tuple[sp.Symbol, ...]]:
        return {label: momentum_symbols(label) for label in self.labels}

    @cached_property
    def coupling_symbols(self) -> tuple[sp.Symbol, ...]:
        names = sorted({k for ch in self.channels for k in ch.couplings})
        return tuple(sp.Symbol(n, real=True) for n in names)

    @cached_property
    def component_expressions(self) -> list[sp.Expr]:
        exprs = self._build_components()
        if len(exprs) != self.n_components:
            raise RuntimeError(f"{self.name}: {len(exprs)} components built, {self.n_components} monomials expected")
        return exprs

    def amplitude2_symbolic(self) -> sp.Expr:
        """sum_c f_c(theta) A_c as one SymPy expression in theta and momenta."""
        total = sp.Integer(0)
        for k, expr in zip(self.powers, self.component_expressions):
            total += sp.Mul(*[t**int(e) for t, e in zip(self.theta_symbols, k)]) * expr
        return total

    @cached_property
    def _compiled_cache(self) -> dict:
        # shared with the copies ``with_sm`` makes (the expressions are the same)
        return {}

    @cached_property
    def _varying(self) -> tuple[sp.Symbol, ...]:
        chs = self.channels
        return tuple(s for s in self.coupling_symbols if len({ch.couplings.get(s.name, 0.0) for ch in chs}) > 1)

    def varying_couplings(self) -> tuple[sp.Symbol, ...]:
        """Coupling symbols whose values differ between this process's channels."""
        return self._varying

    def compiled(self) -> CompiledComponents:
        """The compiled components (built once; kernels are generated per channel pattern on first use)."""
        varying = self.varying_couplings()
        key = tuple(s.name for s in varying)
        cache = self._compiled_cache
        with _COMPILE_LOCK:
            if key not in cache:
                cache[key] = CompiledComponents(self.component_expressions,
                                                [self.momenta[label] for label in self.labels],
                                                self.coupling_symbols, varying)
            return cache[key]

    def check_theta(self, theta: Sequence[float] | np.ndarray) -> np.ndarray:
        """Validate a Wilson-coefficient vector (or a stack of them) for this process."""
        theta = np.asarray(theta, dtype=float)
        if theta.shape[-1:] != (len(self.coefficients),):
            raise InvalidParameterError(
                f"process {self.name!r} has {len(self.coefficients)} Wilson coefficients "
                f"{list(self.coefficients)}, but theta has shape {theta.shape}; pass one value per coefficient"
            )
        if not np.all(np.isfinite(theta)):
            raise InvalidParameterError(f"theta must be finite, got {theta}")
        return theta

    def _check_momenta(self, p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        if p.ndim != 3 or p.shape[1:] != (self.n_particles, 4):
            raise KinematicsError(
                f"momenta for {self.name!r} must have shape (n_events, {self.n_particles}, 4) "
                f"ordered as {list(self.labels)}, got {p.shape}"
            )
        return p

    def channel(self, name: str) -> Channel:
        for ch in self.channels:
            if ch.name == name:
                return ch
        known = [c.name for c in self.channels]
        raise UnknownNameError(f"process {self.name!r} has no channel {name!r}.{did_you_mean(name, known)}")

    def components(self, p: np.ndarray, channel: Channel | None = None) -> np.ndarray:
        """Averaged |M|^2 components A_c(z), shape (n_events, n_components)."""
        channel = channel if channel is not None else self.channels[0]
        return self.components_for_channels(p, [channel])[:, 0]

    def components_for_channels(self, p: np.ndarray, channels: Sequence[Channel]) -> np.ndarray:
        """A_c(z) for several channels at once, shape (n_events, n_channels, n_components).

        The event part of the expressions (trace contractions, propagators) is evaluated once per
        event and only the coupling-dependent rest per channel (``theory.processes._compile``);
        channels that differ in a coupling common to all of this process's own channels (e.g. a
        channel with the Z switched off) are evaluated in separate batches."""
        p = self._check_momenta(p)
        channels = list(channels)
        batches = self._batches(channels)
        comp = self.compiled()
        try:
            if len(batches) == 1:  # every channel at once: no copy
                return comp.evaluate(p, channels)
            out = np.empty((p.shape[0], len(channels), self.n_components))
            for idx in batches:
                out[:, idx] = comp.evaluate(p, [channels[j] for j in idx])
            return out
        except MissingKernelError:  # a copy shipped to a worker meets momenta of another frame
            self._compiled_cache.clear()
            return self.components_for_channels(p, channels)

    def combined_components(self, p: np.ndarray, channels: Sequence[Channel], weights: Sequence[float]) -> np.ndarray:
        """sum_c weights_c A_c(z) for several channels at once, (n_events, n_channels): e.g. |M|^2 at
        one theta with weights = monomial_values(powers, theta). Components with weight 0 are not
        evaluated at all (the generator's vegas adaptation at the SM needs the SM component only)."""
        p = self._check_momenta(p)
        channels = list(channels)
        weights = np.asarray(weights, dtype=float)
        if weights.shape != (self.n_components,):
            raise InvalidParameterError(f"weights must have one value per component ({self.n_components}), got shape {weights.shape}")
        out = np.empty((p.shape[0], len(channels)))
        comp = self.compiled()
        try:
            for idx in self._batches(channels):
                out[:, idx] = comp.evaluate_combined(p, [channels[j] for j in idx], weights)
        except MissingKernelError:
            self._compiled_cache.clear()
            return self.combined_components(p, channels, weights)
        return out

    def prepare_kernels(self, channels: Sequence[Channel], frame: str = "beam") -> None:
        """Build now the kernels that ``components_for_channels`` uses for these channels in ``frame``
        (``"beam"``: momenta along the beam axis, as generated; or ``"general"``), e.g. before the
        process is pickled to worker processes, which then evaluate without rebuilding the SymPy
        expressions."""
        channels = list(channels)
        comp = self.compiled()
        for idx in self._batches(channels):
            patterns, _, _ = comp.patterns(comp.values([channels[j] for j in idx]))
            comp.kernel(frame, patterns)

    def _batches(self, channels: list[Channel]) -> list[list[int]]:
        """Indices of the channels that agree on every coupling common to this process's channels."""
        common = self.compiled().common
        batches: dict[tuple, list[int]] = {}
        for j, ch in enumerate(channels):
            batches.setdefault(tuple(float(ch.couplings.get(s.name, 0.0)) for s in common), []).append(j)
        return list(batches.values())

    def amplitude2(self, p: np.ndarray, theta: Sequence[float], channel: Channel | None = None) -> np.ndarray:
        """Averaged |M|^2 at Wilson coefficients theta."""
        theta = self.check_theta(theta)
        return self.components(p, channel) @ monomial_values(self.powers, theta)

    def __repr__(self) -> str:
        return f"<Process {self.name}: coefficients={list(self.coefficients)}, {self.n_components} components>"
