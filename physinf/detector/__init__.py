"""Detector level: the Detector contract and its implementations (Gaussian jet smearing so far)."""

from __future__ import annotations

from physinf.detector.base import Detector
from physinf.detector.smearing import JetSmearing, jet_energy_resolution, smear_jets

__all__ = ["Detector", "JetSmearing", "smear_jets", "jet_energy_resolution"]


def __dir__() -> list[str]:
    return sorted(__all__)
