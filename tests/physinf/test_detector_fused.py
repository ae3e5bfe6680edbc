"""The compiled fast detector (physinf.detector._fused) against the numpy reference path.

Both draw the same random numbers in the same order, so for a seed they must keep the same events
with the same objects: the cut-flow, the losses by reason and the kept events must be identical,
and every column equal to rounding. The two differ only in how they evaluate the same formulas
(scalar libm and short series against numpy's vectorised functions, four-vectors turned by the
smearing angles instead of rebuilt with cos, sin, sinh), a few units in the last place of values of
order 1-1000, hence rtol 1e-9 with atol 1e-9 (columns that are zero or differences of close numbers,
e.g. an azimuth near 0). Cases cover every branch: Higgs decays, photons, jets with heavy flavour and
b-tags, anti-kT merges (a large radius forces them), isolation, electrons with track + ECAL, muons,
charge-split requirements, particles of varying kind per slot (LHE-like records) and both presets.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import replace

import numpy as np
import pytest

import physinf.detector.fast as fast
from physinf.detector import FastDetector, preset_path
from physinf.detector._fused import _loops, available
from physinf.detector.card import card_from_dict
from physinf.simulate import generate

pytestmark = pytest.mark.skipif(not available(), reason="numba switched off (PHYSINF_KERNEL_BACKEND=numpy) or missing")


def _both(detector, sample, seed, monkeypatch):
    fused = detector.reconstruct(sample, np.random.default_rng(seed))
    with monkeypatch.context() as m:
        m.setattr(fast, "fused_available", lambda: False)
        reference = detector.reconstruct(sample, np.random.default_rng(seed))
    return fused, reference


def _same(fused, reference):
    a, b = fused.sample, reference.sample
    assert len(a) > 0
    assert dict(a.cutflow) == dict(b.cutflow)
    assert a.provenance["detector"]["lost_objects"] == b.provenance["detector"]["lost_objects"]
    np.testing.assert_array_equal(a.momenta, b.momenta)  # the same events kept, in order
    np.testing.assert_array_equal(a.weight_components, b.weight_components)
    assert list(a.observables) == list(b.observables)
    for name in a.observables:
        x, y = a.observables[name], b.observables[name]
        if "phi" in name and not name.startswith(("sin_", "cos_")):  # angles: equal modulo 2 pi (±pi at LO back-to-back)
            x = y + (x - y + np.pi) % (2 * np.pi) - np.pi
        np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-9, err_msg=name)
    if fused.momenta is not None:
        np.testing.assert_allclose(fused.momenta, reference.momenta, rtol=1e-9, atol=1e-9)


def _card(radius=None, **changes):
    data = copy.deepcopy(tomllib.loads(preset_path("atlas-like").read_text()))
    if radius is not None:
        data["jets"]["radius"] = radius
    for key, value in changes.items():
        kind, field = key.split("__")
        data[kind][field] = value
    return card_from_dict(data)


@pytest.mark.parametrize("preset", ["atlas-like", "cms-like"])
def test_wbf_same_as_numpy_path(wbf_sample, preset, monkeypatch):
    sample = wbf_sample.subset(np.arange(3000))
    fused, reference = _both(FastDetector.from_preset(preset), sample, 5, monkeypatch)
    _same(fused, reference)
    assert "m_aa" in fused.sample.observables and "delta_phi_jj" in fused.sample.observables


def test_wbf_with_merges_and_heavy_flavour(wbf_sample, monkeypatch):
    """A 1.5 radius merges the two tagging jets in some events; b and c quarks get flavour and tags."""
    sample = wbf_sample.subset(np.arange(3000))
    pdg = sample.pdg.copy()
    pdg[::3, 2] = 5
    pdg[1::3, 3] = -4
    sample = replace(sample, pdg=pdg, process="lhe:flavoured")
    detector = FastDetector(_card(radius=1.5), requirements={"jets": 1})
    fused, reference = _both(detector, sample, 7, monkeypatch)
    _same(fused, reference)
    assert fused.sample.provenance["detector"]["lost_objects"]["jets: merged with another jet (anti-kT)"] > 0
    assert fused.sample.observables["btag_j1"].mean() > 0.05


@pytest.mark.parametrize("process, kwargs, requirements", [
    ("drell_yan", {}, None),
    ("ee_mumu", {"sqrt_s": 250.0, "pdf": None}, None),
    ("gg_ggg", {}, None),
    ("drell_yan", {}, {"leptons": 2, "electrons+": 1}),
])
def test_other_processes_same_as_numpy_path(process, kwargs, requirements, monkeypatch):
    sample = generate(process, 2000, seed=4, n_adapt=2000, n_iterations=3, **kwargs)
    for preset in ("atlas-like", "cms-like"):
        detector = FastDetector.from_preset(preset, requirements=requirements)
        _same(*_both(detector, sample, 11, monkeypatch))


def test_mixed_records_same_as_numpy_path(wbf_sample, monkeypatch):
    """LHE-like records whose slots hold different particles from event to event: photons, electrons,
    muons, a Higgs, a neutrino; a jet slot that is sometimes a photon. Isolation and electrons' track
    and ECAL combination all act."""
    sample = wbf_sample.subset(np.arange(3000))
    pdg = sample.pdg.copy()
    pdg[0::5, 3] = 22
    pdg[1::5, 3] = 11
    pdg[2::5, 3] = -13
    pdg[3::5, 3] = 12
    pdg[0::4, 2] = -11
    sample = replace(sample, pdg=pdg, process="lhe:mixed")
    for requirements in (None, {"leptons": 1}, {"photons": 2, "electrons-": 0}):
        detector = FastDetector(_card(radius=0.8), requirements=requirements)
        fused, reference = _both(detector, sample, 3, monkeypatch)
        _same(fused, reference)
    lost = fused.sample.provenance["detector"]["lost_objects"]
    assert any("not isolated" in key for key in lost)


def test_compiled_normals_are_numpys():
    """numba's Generator.standard_normal draws numpy's ziggurat numbers from the same stream."""
    a, b = np.random.default_rng(9), np.random.default_rng(9)
    mine = np.empty(10001)
    _loops()["normals"](a, mine)
    np.testing.assert_array_equal(mine, b.standard_normal(10001))
    assert a.random() == b.random()  # and leaves the generator where numpy leaves it
