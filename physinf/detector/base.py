"""The detector contract: ``apply(sample, rng) -> EventSample``.

A detector turns parton-level events into observed ones. The parton record z (``momenta``,
``pdg``) and the morphing weights stay attached to every event that survives, so joint scores
and weights remain exact per event; the observables are replaced by those of the reconstructed
objects; events lost to acceptance or reconstruction are counted in ``cutflow`` by the step that
removed them, never silently dropped.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from physinf.simulate.events import EventSample

__all__ = ["Detector"]


@runtime_checkable
class Detector(Protocol):
    """Anything with a ``name`` and ``apply(sample, rng) -> EventSample`` honouring the contract above."""

    name: str

    def apply(self, sample: EventSample, rng: np.random.Generator) -> EventSample: ...
