"""Detector effects: a simple Gaussian jet smearing."""

from __future__ import annotations

from physinf.detector.smearing import jet_energy_resolution, smear_jets

__all__ = ["smear_jets", "jet_energy_resolution"]
