"""The public names of physinf.detector and physinf.io are pinned; importing them loads no heavy
optional package; ``physinf presets`` lists and prints the cards."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

import physinf.detector
import physinf.io
from physinf.cli import app

DETECTOR = [
    "Detector", "DetectorCard", "FastDetector", "HIGGS_TO_GAMMA_GAMMA_BR", "JetSmearing", "Reconstruction", "ShowerConfig",
    "ShowerDetector", "ShowerResult", "available_presets", "decay_to_two_photons", "jet_energy_resolution", "load_card",
    "preset_path", "pythia_alone", "shower_lhe", "smear_jets",
]
IO = ["LHEFit", "default_benchmarks", "iter_lhe", "lhe_benchmarks", "read_lhe", "write_lhe"]


def test_public_names():
    assert dir(physinf.detector) == sorted(DETECTOR)
    assert dir(physinf.io) == sorted(IO)


def test_imports_stay_light():
    code = ("import sys, physinf.detector, physinf.io; "
            "print(*[m in sys.modules for m in ('pythia8mc', 'fastjet', 'pylhe', 'awkward', 'distributed', 'torch')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False"] * 6


def test_presets_command(tmp_path):
    runner = CliRunner()
    listing = runner.invoke(app, ["presets"])
    assert listing.exit_code == 0 and "atlas-like" in listing.output and "cms-like" in listing.output
    card = runner.invoke(app, ["presets", "cms-like"])
    assert card.exit_code == 0 and 'name = "cms-like"' in card.output
    (tmp_path / "mine.toml").write_text(card.output)
    assert physinf.detector.load_card(tmp_path / "mine.toml").name == "cms-like"
    unknown = runner.invoke(app, ["presets", "atlas_like"])
    assert unknown.exit_code == 2 and "Did you mean 'atlas-like'" in unknown.output
