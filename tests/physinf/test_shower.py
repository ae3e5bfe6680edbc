"""Pythia 8 shower + FastJet + detector card: physics after the shower, reproducibility, parallel
workers, failures counted.

Statistics: the WBF checks use 1000 weighted SM events (Kish effective size ~200); the CP-odd
asymmetry is the linear (interference) one, a = Σ w_cHWtil sgn(Δφ_jj) / Σ w_SM over the parton
events (an event the selection loses contributes 0), so it needs no reweighting and has no
CP-even part. Its parton- and shower-level values come from the same events, so their difference
has the small paired error sqrt(Σ (x_parton − x_shower)²) per event (measured: 7 sigma at this size, so 3 sigma is asserted).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pythia8mc", reason="the shower chain needs the shower extra (pythia8mc)")
pytest.importorskip("fastjet", reason="the shower chain needs the shower extra (fastjet)")

from physinf.detector import load_card
from physinf.detector.shower import ShowerConfig, ShowerDetector, shower_lhe
from physinf.errors import InvalidParameterError
from physinf.io import read_lhe, write_lhe
from physinf.simulate import generate

WBF_EVENTS = 1000


def _rows(parton, observed):
    index = {row.tobytes(): i for i, row in enumerate(parton.momenta.reshape(len(parton), -1))}
    return np.array([index[row.tobytes()] for row in observed.momenta.reshape(len(observed), -1)])


@pytest.fixture(scope="module")
def wbf_showered(wbf_sample):
    parton = wbf_sample.subset(np.arange(WBF_EVENTS))
    detector = ShowerDetector.from_preset("atlas-like", shower=ShowerConfig(chunk_size=250), requirements={"jets": 2})
    return parton, detector.apply(parton, np.random.default_rng(11))


def test_wbf_tagging_jets_and_multiplicity(wbf_showered):
    parton, showered = wbf_showered
    assert showered.cutflow["atlas-like+pythia: showered"] == WBF_EVENTS  # no Pythia failure on physinf's events
    # two tagging jets (pT > 20 GeV, |eta| < 4.9) in ~95% of events: the partons pass pT > 20 by construction;
    # out-of-cone radiation moves some below threshold; 5 binomial sigma (0.035) below 0.95 is above 0.85
    frac = len(showered) / WBF_EVENTS
    assert 0.85 < frac < 0.99
    w = showered.weights()
    n_jets = showered.observables["n_jets"]
    mean = np.average(n_jets, weights=w)
    third = np.average(n_jets >= 3, weights=w)
    assert 2.2 < mean < 3.0 and 0.2 < third < 0.5  # ISR/FSR and MPI add jets in a third of the events
    # the tagging jets are the parton jets: |delta phi_jj| moves by more than 0.5 rad in a minority of events
    rows = _rows(parton, showered)
    shift = np.abs(np.angle(np.exp(1j * (showered.observables["delta_phi_jj"] - parton.observables["delta_phi_jj"][rows]))))
    assert np.average(shift > 0.5, weights=showered.weight_components[:, 0]) < 0.3


def test_cp_odd_asymmetry_survives_reduced(wbf_showered):
    parton, showered = wbf_showered
    k = parton.coefficients.index("cHWtil")
    linear = 1 + k  # component of the cHWtil monomial (SM first, then the linear ones)
    assert parton.powers[linear].tolist() == [0, 1]
    norm = parton.weight_components[:, 0].sum()
    a_parton = np.sum(parton.weight_components[:, linear] * np.sign(parton.observables["delta_phi_jj"])) / norm
    rows = _rows(parton, showered)
    x_parton = np.zeros(len(parton))
    x_parton = parton.weight_components[:, linear] * np.sign(parton.observables["delta_phi_jj"]) / norm
    x_shower = np.zeros(len(parton))
    x_shower[rows] = showered.weight_components[:, linear] * np.sign(showered.observables["delta_phi_jj"]) / norm
    a_shower = x_shower.sum()
    error = np.sqrt(np.sum(x_shower**2))
    paired = np.sqrt(np.sum((x_parton - x_shower) ** 2))
    assert a_parton < 0 and a_shower < 0  # same sign (with these conventions, negative for cHWtil > 0)
    assert abs(a_shower) > 5 * error
    assert abs(a_parton) - abs(a_shower) > 3 * paired  # reduced by the shower (and the acceptance)
    assert 0.6 < a_shower / a_parton < 0.95


@pytest.fixture(scope="module")
def drell_yan():
    return generate("drell_yan", 1000, seed=3, n_adapt=1000, n_iterations=3)


def test_drell_yan_peak_matches_the_preset_resolution(drell_yan):
    """Dressed electrons after shower and detector: the shower recoils the lepton pair (ISR) but
    keeps its mass, so m_reco/m_true, with m_true from the parton record, peaks at 1 with the core
    width the preset gives for the reconstructed electrons, ½ sqrt(σ1² + σ2²) of the combined
    track and ECAL resolutions. FSR outside the dressing cone only adds a low tail, which the core
    (|log r| < 3 σ) excludes. Electrons with p_T > 15 GeV and |eta| < 2.3 (away from the card's edges)."""
    parton = drell_yan.subset(np.arange(800))
    rec = ShowerDetector.from_preset("atlas-like", shower=ShowerConfig(chunk_size=400)).reconstruct(parton, np.random.default_rng(4))
    obs = rec.sample
    o = obs.observables
    pt = np.stack([o["pt_e1"], o["pt_e2"]], axis=1)
    eta = np.stack([o["eta_e1"], o["eta_e2"]], axis=1)
    good = np.all((pt > 15) & (np.abs(eta) < 2.3), axis=1)
    card = load_card("atlas-like").electrons
    energy = pt * np.cosh(eta)
    track = card.momentum_resolution.relative(pt, eta)
    ecal = card.energy_resolution.sigma(energy, eta) / energy
    sigma = 0.5 * np.sqrt(np.sum(1.0 / (1.0 / track**2 + 1.0 / ecal**2), axis=1))
    truth = obs.momenta
    m_true = np.sqrt(2 * (truth[:, 2, 0] * truth[:, 3, 0] - np.sum(truth[:, 2, 1:] * truth[:, 3, 1:], axis=1)))
    z = (np.log(o["m_ll"] / m_true) / sigma)[good]
    core = z[np.abs(z) < 3]
    assert good.sum() > 150 and core.size > 0.75 * good.sum()
    n = core.size
    assert abs(np.median(core)) < 4 * 1.25 / np.sqrt(n) + 0.1  # median of a unit Gaussian: error 1.25/sqrt(n)
    # the core's spread: 1 for the preset's resolution (0.986 truncated at 3 sigma), within 5/sqrt(2n)
    # plus 0.15 for the FSR that dressing leaves inside the core
    assert abs(core.std() - 0.986) < 5 / np.sqrt(2 * n) + 0.15


def test_reproducible_and_parallel_identical(wbf_sample):
    parton = wbf_sample.subset(np.arange(2000, 2060))
    config = ShowerConfig(chunk_size=20)
    serial = ShowerDetector.from_preset("cms-like", shower=config).apply(parton, np.random.default_rng(5))
    again = ShowerDetector.from_preset("cms-like", shower=config).apply(parton, np.random.default_rng(5))
    parallel = ShowerDetector.from_preset("cms-like", shower=ShowerConfig(chunk_size=20, n_workers=2)).apply(
        parton, np.random.default_rng(5))
    assert len(serial) > 15
    for other in (again, parallel):
        assert other.cutflow == serial.cutflow
        for name in ("pt_j1", "eta_j2", "delta_phi_jj", "n_jets", "m_aa"):
            np.testing.assert_array_equal(other.observables[name], serial.observables[name])


@pytest.mark.slow
def test_dask_workers_give_the_same_events(wbf_sample):
    distributed = pytest.importorskip("distributed", reason="dask workers need the dist extra")
    parton = wbf_sample.subset(np.arange(3000, 3040))
    config = ShowerConfig(chunk_size=10, n_workers=2, executor="dask")
    serial = ShowerDetector.from_preset("atlas-like", shower=ShowerConfig(chunk_size=10)).apply(parton, np.random.default_rng(2))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        on_dask = ShowerDetector.from_preset("atlas-like", shower=config).apply(parton, np.random.default_rng(2))
    np.testing.assert_array_equal(on_dask.observables["delta_phi_jj"], serial.observables["delta_phi_jj"])


def test_pythia_failures_are_counted_not_fatal(wbf_sample, tmp_path):
    """An event with a broken colour flow: Pythia refuses it, the run goes on, the event is reported."""
    parton = wbf_sample.subset(np.arange(40))
    path = write_lhe(parton, tmp_path / "w.lhe", benchmarks={}, decay_higgs=True)
    text = path.read_text().split("<event>")
    lines = text[6].split("\n")
    fields = lines[4].split()  # the first outgoing quark of the 6th event: give it an unmatched colour
    fields[4], fields[5] = "777", "0"
    lines[4] = " ".join(fields)
    text[6] = "\n".join(lines)
    path.write_text("<event>".join(text))
    result = shower_lhe(path, len(parton), card=load_card("atlas-like"), config=ShowerConfig(chunk_size=20), seed=1, wbf=True)
    assert np.flatnonzero(result.failed).tolist() == [5]
    assert result.objects[1].valid[5].sum() == 0 and result.objects[1].valid[4].sum() >= 1


def test_lhe_samples_are_showered_from_their_file(tmp_path):
    from pathlib import Path

    source = Path(__file__).resolve().parents[1] / "data" / "lhe" / "pylhe-testfile-madgraph-2.0.0-wbj.lhe"
    sample = read_lhe(source)
    observed = ShowerDetector.from_preset("atlas-like").apply(sample, np.random.default_rng(1))
    assert observed.process == sample.process and 0 < len(observed) <= len(sample)
    assert observed.cutflow["atlas-like+pythia: showered"] == len(sample)
    assert observed.provenance["detector"]["requirements"] == [["jets", 2]]
    with pytest.raises(InvalidParameterError, match="selection of its file's events"):
        ShowerDetector.from_preset("atlas-like").apply(sample.subset(np.arange(10), reason="first ten"), np.random.default_rng(1))


def test_bad_shower_settings():
    with pytest.raises(InvalidParameterError, match="chunk_size"):
        ShowerConfig(chunk_size=0)
    with pytest.raises(InvalidParameterError, match="dipole_recoil"):
        ShowerConfig(dipole_recoil="yes")
    with pytest.raises(InvalidParameterError, match="ShowerConfig"):
        ShowerDetector(load_card("atlas-like"), shower={"mpi": False})


@pytest.mark.parametrize("process, kwargs", [("gg_gg", {}), ("ee_mumu", {"sqrt_s": 250.0, "pdf": None})])
def test_every_process_showers(process, kwargs):
    sample = generate(process, 300, seed=1, n_adapt=500, n_iterations=2, **kwargs).subset(np.arange(40))
    observed = ShowerDetector.from_preset("cms-like", shower=ShowerConfig(chunk_size=40)).apply(sample, np.random.default_rng(3))
    assert observed.cutflow["cms-like+pythia: showered"] == 40  # Pythia accepts the colour flows and beams
    assert 20 < len(observed) <= 40
    assert {"n_jets", "met"} <= set(observed.observables)
    assert ("pt_j3" in observed.observables) == (process == "gg_gg")  # third-jet columns wherever jets are required
