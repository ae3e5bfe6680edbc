"""FastDetector: a vectorised, Delphes-like detector acting directly on the parton record.

For each event: the final-state partons become truth objects (quarks and gluons jets, leptons,
photons; a Higgs decays to two photons, see :mod:`physinf.detector.objects`), jet partons closer
than R are clustered (anti-kT), photons and leptons are isolated, and the card's response is
applied (:mod:`physinf.detector.response`); events with the objects the process needs are kept,
with named columns and the process's observables from reconstructed objects
(:mod:`physinf.detector.observe`). The parton record and the weights of kept events are untouched
(:class:`physinf.detector.Detector` contract).

With numba (a dependency) the truth objects, the response and the selection run in compiled loops
(:mod:`physinf.detector._fused`, 2.2x faster than the numpy steps); they draw the same random
numbers in the same order, so a seed gives the same observed sample either way, to rounding.

Example::

    from physinf.detector import FastDetector
    observed = FastDetector.from_preset("atlas-like").apply(sample, np.random.default_rng(1))
    observed.cutflow      # events kept after each requirement
    observed.provenance["detector"]["lost_objects"]   # objects lost, by reason
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from physinf.detector._fused import available as fused_available
from physinf.detector._fused import fused_measure, pack_card
from physinf.detector.card import DetectorCard, load_card
from physinf.detector.objects import HIGGS_TO_GAMMA_GAMMA_BR, truth_objects
from physinf.detector.observe import (
    REQUIREMENT_KEYS,
    Assembly,
    Layout,
    Observed,
    default_requirements,
    observe_kept,
    observe_objects,
    process_layout,
)
from physinf.detector.response import measure
from physinf.errors import InvalidParameterError, did_you_mean
from physinf.simulate.events import EventSample

__all__ = ["CHUNK", "FastDetector", "Reconstruction", "layout_for", "requirements_for"]

CHUNK = 16384


@dataclass(frozen=True)
class Reconstruction:
    """What a detector returns besides the observed sample: the reconstructed momenta of the kept
    events in the process's layout (None for samples of unregistered processes, e.g. LHE files)."""

    sample: EventSample
    momenta: np.ndarray | None


def _check_requirements(requirements: Mapping[str, int] | None) -> tuple[tuple[str, int], ...] | None:
    if requirements is None:
        return None
    out = []
    for key, count in dict(requirements).items():
        if key not in REQUIREMENT_KEYS:
            raise InvalidParameterError(f"unknown requirement {key!r}; allowed: {', '.join(REQUIREMENT_KEYS)}."
                                        f"{did_you_mean(key, list(REQUIREMENT_KEYS))}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidParameterError(f"requirement {key!r} must be a non-negative integer, got {count!r}")
        out.append((key, count))
    return tuple(out)


def layout_for(sample: EventSample) -> Layout | None:
    """The process layout of a sample of a registered process (None otherwise)."""
    from theory.processes.registry import PROCESSES

    if sample.process not in PROCESSES:
        return None
    return process_layout(sample.labels, sample.pdg)


def requirements_for(sample: EventSample, layout: Layout | None, requirements: tuple[tuple[str, int], ...] | None
                     ) -> tuple[tuple[str, int], ...]:
    """The given requirements, else those of the process layout, else the LHE default."""
    if requirements is not None:
        return requirements
    return layout.requirements() if layout is not None else default_requirements(sample.pdg, final_slots(sample))


def covers(requirements: tuple[tuple[str, int], ...], layout: Layout | None) -> bool:
    """True when every kept event is sure to hold the objects of the process layout (otherwise the
    process's own observables are not computed: some of their objects may be missing)."""
    if layout is None:
        return False
    need = dict(requirements)
    return all(need.get(key, 0) >= count for key, count in layout.requirements())


def merge_lost(parts: list[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for part in parts:
        for key, value in part.items():
            total[key] = total.get(key, 0) + value
    return total


def final_slots(sample: EventSample) -> list[int]:
    """Indices of the final-state particles of the parton record (all but the two incoming)."""
    return list(range(2, len(sample.labels)))


def detector_provenance(name: str, card: DetectorCard, level: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "level": level, "card": card.summary(),
            "higgs_decay": {"channel": "H -> gamma gamma, isotropic in the Higgs rest frame",
                            "branching_ratio": HIGGS_TO_GAMMA_GAMMA_BR, "applied_to_weights": False},
            **extra}


@dataclass(frozen=True)
class FastDetector:
    """A :class:`physinf.detector.Detector` reconstructing parton-level events with a card's response.

    card: the detector description (``FastDetector.from_preset("atlas-like")`` or a card file);
    requirements: objects an event must show to be kept, e.g. ``{"jets": 2, "photons": 2}``
    (keys: jets, photons, electrons, muons, leptons, and electrons+/- , muons+/- by charge);
    default: what the process's final state holds (WBF: 2 jets and the 2 photons of H -> γγ;
    Drell-Yan: one e- and one e+; LHE samples: the parton record's least populated event);
    name: the prefix of the cut-flow entries (default: the card's name).
    """

    card: DetectorCard
    requirements: Mapping[str, int] | None = field(default=None, hash=False)
    name: str = ""
    _requirements: tuple[tuple[str, int], ...] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.card, DetectorCard):
            raise InvalidParameterError(f"card must be a DetectorCard (use FastDetector.from_preset(name_or_path)), "
                                        f"got {type(self.card).__name__}")
        object.__setattr__(self, "_requirements", _check_requirements(self.requirements))
        if not self.name:
            object.__setattr__(self, "name", self.card.name)

    @classmethod
    def from_preset(cls, preset: str | os.PathLike = "atlas-like", **options: Any) -> FastDetector:
        """A detector from a preset name (``atlas-like``, ``cms-like``) or a TOML card path."""
        return cls(load_card(preset), **options)

    def reconstruct(self, sample: EventSample, rng: np.random.Generator) -> Reconstruction:
        """The observed sample and the reconstructed momenta in the process's layout."""
        if not isinstance(sample, EventSample):
            raise InvalidParameterError(f"sample must be an EventSample, got {type(sample).__name__}")
        if not isinstance(rng, np.random.Generator):
            raise InvalidParameterError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
        if len(sample) == 0:
            raise InvalidParameterError("the sample holds no events: there is nothing to observe (check the cuts or the "
                                        "selection that made it)")
        layout = layout_for(sample)
        requirements = requirements_for(sample, layout, self._requirements)
        layout = layout if covers(requirements, layout) else None
        final = final_slots(sample)
        assembly, lost = Assembly(sample), []
        packed = pack_card(self.card) if fused_available() else None
        # chunks of CHUNK events keep the working arrays in cache (about twice as fast as whole arrays)
        for start in range(0, max(len(sample), 1), CHUNK):
            rows = slice(start, start + CHUNK)
            if packed is not None:  # compiled loops, same random numbers and results (physinf.detector._fused)
                objects, chunk_lost, keep, passed, summary = fused_measure(sample.momenta[rows], sample.pdg[rows], final, rng,
                                                                           self.card, packed, requirements)
                lost.append(chunk_lost)
                assembly.add(Observed(keep, passed, *observe_kept(objects, requirements=requirements, layout=layout,
                                                                  process=sample.process, summary=summary)))
                continue
            truth = truth_objects(sample.momenta[rows], sample.pdg[rows], final, rng,
                                  self.card.btag.parton_pt_min, self.card.btag.parton_abs_eta_max)
            measured = measure(truth, self.card, rng, parton_level=True)
            lost.append(measured.lost)
            assembly.add(observe_objects(measured.objects, requirements=requirements, layout=layout, process=sample.process))
        provenance = detector_provenance(self.name, self.card, "parton", lost_objects=merge_lost(lost))
        observed, momenta = assembly.finish(name=self.name, requirements=requirements, provenance=provenance)
        return Reconstruction(observed, momenta)

    def apply(self, sample: EventSample, rng: np.random.Generator) -> EventSample:
        """Observed events (see the class docstring); the cut-flow counts what each requirement kept."""
        return self.reconstruct(sample, rng).sample
