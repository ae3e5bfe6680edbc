"""Detector level: the Detector contract and its implementations.

* :class:`FastDetector`: a vectorised, Delphes-like detector on the parton record, configured by a
  :class:`DetectorCard` (presets ``atlas-like`` and ``cms-like``, or a TOML card of your own);
* :class:`ShowerDetector`: Pythia 8 shower and hadronisation, FastJet anti-kT jets, then the same
  card's response (extra ``shower``);
* :class:`JetSmearing`: the original Gaussian jet smearing (kept for comparison).

All keep the parton record and the weights of every observed event and count lost events by reason
in ``sample.cutflow``.
"""

from __future__ import annotations

from physinf.detector.base import Detector
from physinf.detector.card import DetectorCard, available_presets, load_card, preset_path
from physinf.detector.fast import FastDetector, Reconstruction
from physinf.detector.objects import HIGGS_TO_GAMMA_GAMMA_BR, decay_to_two_photons
from physinf.detector.shower import ShowerConfig, ShowerDetector, ShowerResult, pythia_alone, shower_lhe
from physinf.detector.smearing import JetSmearing, jet_energy_resolution, smear_jets

__all__ = [
    "HIGGS_TO_GAMMA_GAMMA_BR",
    "Detector",
    "DetectorCard",
    "FastDetector",
    "JetSmearing",
    "Reconstruction",
    "ShowerConfig",
    "ShowerDetector",
    "ShowerResult",
    "available_presets",
    "decay_to_two_photons",
    "jet_energy_resolution",
    "load_card",
    "preset_path",
    "pythia_alone",
    "shower_lhe",
    "smear_jets",
]


def __dir__() -> list[str]:
    return sorted(__all__)
