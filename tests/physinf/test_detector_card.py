"""Detector cards: the shipped presets reproduce the Delphes card values, and bad cards fail clearly.

Reference values are the ones quoted in docs/notes/physics.md §8, computed there from the Delphes
3.5 ATLAS and CMS cards independently of this code: the jet resolution at E = 20/50/100/500 GeV
(η = 0), the b-tagging efficiency at p_T = 30/50/100/200/500 GeV. They are quoted to 3 digits, so
the tolerance is half a unit of the last digit.
"""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from physinf.detector import available_presets, load_card, preset_path
from physinf.errors import InvalidParameterError, UnknownNameError

ENERGIES = np.array([20.0, 50.0, 100.0, 500.0])
BTAG_PT = np.array([30.0, 50.0, 100.0, 200.0, 500.0])


@pytest.mark.parametrize(
    "preset, jet_resolution, btag",
    [
        ("atlas-like", [0.144, 0.086, 0.062, 0.038], [0.60, 0.67, 0.73, 0.71, 0.49]),
        ("cms-like", [0.339, 0.218, 0.158, 0.084], [0.55, 0.64, 0.71, 0.72, 0.56]),
    ],
)
def test_presets_reproduce_the_delphes_cards(preset, jet_resolution, btag):
    card = load_card(preset)
    sigma = card.jets.energy_resolution.sigma(ENERGIES, np.zeros(4)) / ENERGIES
    np.testing.assert_allclose(sigma, jet_resolution, atol=0.0006)
    np.testing.assert_allclose(card.btag.b(BTAG_PT), btag, atol=0.006)
    # photon efficiency: 0 at pT <= 10 GeV, 0.95 central, 0.85 endcap, 0 beyond |eta| = 2.5
    eff = card.photons.efficiency(np.array([9.0, 30.0, 30.0, 30.0]), np.array([0.0, 1.0, -2.0, 2.6]))
    np.testing.assert_array_equal(eff, [0.0, 0.95, 0.85, 0.0])
    # ECAL about 1.0% (ATLAS) / 1.4% (CMS) at 100 GeV, eta = 0 (physics.md §8)
    ecal = card.photons.energy_resolution.sigma(np.array([100.0]), np.zeros(1))[0] / 100.0
    assert abs(ecal - (0.0103 if preset == "atlas-like" else 0.0142)) < 0.0005
    # muon track resolution sqrt(0.01^2 + (1e-4 pT)^2) at pT = 100, |eta| < 0.5
    np.testing.assert_allclose(card.muons.momentum_resolution.relative(np.array([100.0]), np.zeros(1)), [np.hypot(0.01, 0.01)])
    assert card.jets.radius == 0.4


def test_cms_muon_acceptance_and_high_pt_rolloff():
    muons = load_card("cms-like").muons.efficiency
    np.testing.assert_allclose(muons(np.array([50.0, 50.0, 2000.0]), np.array([2.3, 2.45, 0.0])),
                               [0.95, 0.0, 0.95 * np.exp(0.5 - 2000 * 5e-4)])


def test_available_presets_and_paths():
    presets = available_presets()
    assert set(presets) == {"atlas-like", "cms-like"} and all(presets.values())
    assert preset_path("atlas-like").is_file()
    with pytest.raises(UnknownNameError, match="Did you mean 'atlas-like'"):
        load_card("atlas_like")


def _edited(tmp_path, old, new):
    path = tmp_path / "card.toml"
    text = preset_path("atlas-like").read_text()
    assert re.search(old, text, flags=re.M), old
    path.write_text(re.sub(old, new, text, count=1, flags=re.M))
    return path


def test_a_copied_and_edited_card_is_used(tmp_path):
    path = _edited(tmp_path, r"^radius = 0\.4", "radius = 0.6")
    card = load_card(path)
    assert card.jets.radius == 0.6 and card.path == str(path)
    shutil.copy(preset_path("cms-like"), tmp_path / "cms.toml")
    assert load_card(tmp_path / "cms.toml").name == "cms-like"


@pytest.mark.parametrize(
    "old, new, message",
    [
        (r"^radius = 0\.4", "radus = 0.4", r"unknown key 'jets.radus'.*Did you mean 'radius'"),
        (r"^pt_min = 20\.0.*$", "", r"missing key 'jets.pt_min'"),
        (r"^radius = 0\.4", "radius = -0.4", r"jets.radius = -0.4 is out of range; allowed: \(0.0, 2.0\]"),
        (r"values = \[\[0\.95\], \[0\.85\]\] }\nenergy_resolution",
         "values = [[1.95], [0.85]] }\nenergy_resolution", r"photons.efficiency.values\[0\]\[0\] = 1.95 is out of range"),
        (r'form = "linear", a = 0\.002', 'form = "linear", a = 2.0', r"btag.light gives a tagging probability 2"),
        (r'form = "linear"', 'form = "lin"', r"btag.light.form = 'lin'.*Did you mean 'linear'"),
        (r"abs_eta_edges = \[0\.0, 1\.7, 3\.2, 4\.9\]", "abs_eta_edges = [0.0, 3.2, 1.7, 4.9]", r"must be strictly increasing"),
        (r"^radius = 0\.4", 'radius = "wide"', r"jets.radius = 'wide' must be a finite number"),
        (r"^format_version = 1", "format_version = 2", r"format_version = 2; this physinf reads version 1"),
    ],
)
def test_bad_cards_name_the_key(tmp_path, old, new, message):
    with pytest.raises(InvalidParameterError, match=message):
        load_card(_edited(tmp_path, old, new))


def test_unreadable_cards(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[jets\nradius = 0.4\n")
    with pytest.raises(InvalidParameterError, match="not valid TOML"):
        load_card(bad)
    with pytest.raises(InvalidParameterError, match="does not exist"):
        load_card(tmp_path / "missing.toml")
