"""The component-model contract: what the generator evaluates at phase-space points.

A :class:`theory.processes.base.Process` is one (its SymPy amplitudes, ``model_id ==
"exact"``); a trained amplitude surrogate wrapping a process is another: it keeps the process's
channels, phase space, cuts and observables and replaces ``components_for_channels`` by a
network, with its own ``model_id`` (which the generation config records).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from theory.cuts import Cuts
from theory.processes.base import Channel, PhaseSpaceHint
from theory.sm import SMInputs

__all__ = ["ComponentModel"]


@runtime_checkable
class ComponentModel(Protocol):
    """Everything ``physinf.simulate.generate`` needs from a process or its stand-in."""

    name: str
    labels: tuple[str, ...]
    coefficients: tuple[str, ...]
    collider: Literal["ee", "pp"]
    unlabelled_jets: tuple[int, ...]
    default_cuts: Cuts
    sm: SMInputs

    @property
    def powers(self) -> np.ndarray: ...

    @property
    def n_components(self) -> int: ...

    @property
    def n_particles(self) -> int: ...

    @property
    def channels(self) -> tuple[Channel, ...]: ...

    @property
    def phase_space(self) -> PhaseSpaceHint: ...

    @property
    def visible(self) -> tuple[int, ...]: ...

    @property
    def model_id(self) -> str: ...

    def scale(self, p: np.ndarray) -> np.ndarray: ...

    def components_for_channels(self, p: np.ndarray, channels: Sequence[Channel]) -> np.ndarray: ...

    def observables(self, p: np.ndarray) -> dict[str, np.ndarray]: ...
