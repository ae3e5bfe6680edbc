"""FastDetector physics: Higgs decay, anti-kT, resolutions, efficiencies, b-tagging, isolation, and
observables recomputed from reconstructed objects, for every process.

Tolerances are statistical: a mean of N draws with spread s is checked to 5 s/sqrt(N), a standard
deviation to 5 s/sqrt(2N), a binomial fraction p to 5 sqrt(p(1-p)/N) (a false alarm once in ~10^6).
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from physinf.detector import FastDetector, decay_to_two_photons, load_card, preset_path
from physinf.detector.card import card_from_dict
from physinf.detector.objects import ELECTRON, JET, MUON, PHOTON, Collection, cluster_antikt, four_vectors, kind_of_pdg
from physinf.detector.response import measure
from physinf.errors import InvalidParameterError
from physinf.simulate import EventSample, generate
from theory.processes.registry import get_process

ATLAS = load_card("atlas-like")


def _collection(pt, eta, phi, flavour=None, charge=None):
    pt, eta, phi = (np.atleast_2d(np.asarray(x, float)) for x in (pt, eta, phi))
    shape = pt.shape
    return Collection(pt, eta, phi, np.zeros(shape), np.ones(shape, bool),
                      np.zeros(shape, np.int8) if charge is None else np.asarray(charge, np.int8).reshape(shape),
                      np.zeros(shape, np.int8) if flavour is None else np.asarray(flavour, np.int8).reshape(shape),
                      np.zeros(shape, bool))


def _objects(n, **kinds):
    out = {k: Collection.empty(n, 0) for k in (JET, PHOTON, ELECTRON, MUON)}
    out.update(kinds)
    return out


def _perfect_card():
    """A card with negligible resolution and unit efficiency everywhere (a consistency probe)."""
    data = tomllib.loads(preset_path("atlas-like").read_text())
    d = copy.deepcopy(data)
    tiny = {"a": [1e-12], "b": [0.0], "c": [0.0], "abs_eta_edges": [0.0, 10.0]}
    d["jets"].update(energy_resolution=tiny, angular_resolution=0.0, pt_min=0.0, abs_eta_max=10.0)
    for kind in ("photons", "electrons", "muons"):
        d[kind]["efficiency"] = {"abs_eta_edges": [0.0, 10.0], "pt_edges": [0.0, float("inf")], "values": [[1.0]]}
        d[kind]["angular_resolution"] = 0.0
        d[kind]["isolation"] = {"delta_r": 0.01, "pt_min": 1e9, "max_ratio": 1.0}
        if kind != "photons":
            d[kind]["tracking_efficiency"] = d[kind]["efficiency"]
            d[kind]["momentum_resolution"] = {"abs_eta_edges": [0.0, 10.0], "a": [1e-12], "b": [0.0]}
    d["photons"]["energy_resolution"] = tiny
    d["electrons"]["energy_resolution"] = tiny
    return card_from_dict(d)


# ----------------------------------------------------------------------------- Higgs decay
def test_higgs_decay_conserves_momentum_and_is_isotropic(rng):
    n = 40000
    p = np.abs(rng.normal(0, 300, (n, 3))) * rng.choice([-1, 1], (n, 3))
    higgs = np.concatenate([np.sqrt(125.0**2 + np.sum(p**2, axis=1))[:, None], p], axis=1)
    g1, g2 = decay_to_two_photons(higgs, rng)
    np.testing.assert_allclose(g1 + g2, higgs, rtol=0, atol=1e-9 * higgs[:, :1].max())
    for g in (g1, g2):
        np.testing.assert_allclose(g[:, 0] ** 2 - np.sum(g[:, 1:] ** 2, axis=1), 0, atol=1e-6 * g[:, 0].max() ** 2)
    m = np.sqrt((g1[:, 0] + g2[:, 0]) ** 2 - np.sum((g1[:, 1:] + g2[:, 1:]) ** 2, axis=1))
    np.testing.assert_allclose(m, 125.0, rtol=1e-9)
    # isotropy: in the Higgs rest frame, cos of the photon angle to the Higgs flight direction is uniform
    beta = higgs[:, 1:] / higgs[:, :1]
    gamma = higgs[:, 0] / 125.0
    bhat = beta / np.linalg.norm(beta, axis=1, keepdims=True)
    e_par = np.sum(g1[:, 1:] * bhat, axis=1)
    b = np.linalg.norm(beta, axis=1)
    e_rest = gamma * (g1[:, 0] - b * e_par)
    cos_rest = gamma * (e_par - b * g1[:, 0]) / e_rest
    np.testing.assert_allclose(e_rest, 62.5, rtol=1e-8)
    assert stats.kstest(cos_rest, "uniform", args=(-1, 2)).pvalue > 1e-4


# ----------------------------------------------------------------------------- anti-kT
def test_parton_antikt_is_the_full_algorithm(rng):
    """Three partons, often closer than R: our clustering agrees with FastJet's anti-kT jet by jet."""
    fastjet = pytest.importorskip("fastjet")
    n = 300
    pt = rng.uniform(20, 200, (n, 3))
    eta = rng.normal(0, 0.3, (n, 3))
    phi = rng.normal(0, 0.3, (n, 3))
    jets = _collection(pt, eta, phi)
    clustered, merges = cluster_antikt(jets, 0.4)
    assert merges > n // 3  # the configurations do exercise merging
    definition = fastjet.JetDefinition(fastjet.antikt_algorithm, 0.4)
    for i in range(n):
        ours = sorted(clustered.pt[i, clustered.valid[i]], reverse=True)
        p = four_vectors(pt[i], eta[i], phi[i])
        particles = [fastjet.PseudoJet(*p[k, 1:], p[k, 0]) for k in range(3)]
        ref = sorted((j.pt() for j in fastjet.ClusterSequence(particles, definition).inclusive_jets()), reverse=True)
        np.testing.assert_allclose(ours, ref, rtol=1e-9)


# ----------------------------------------------------------------------------- object response
def test_photon_energy_resolution_and_efficiency(rng):
    n = 40000
    eta = np.where(rng.random(n) < 0.5, 0.5, 2.0)  # barrel (eff 0.95) and endcap (eff 0.85)
    pt = 100.0 / np.cosh(eta)  # E = 100 GeV
    photons = _collection(pt.reshape(n, 1), eta.reshape(n, 1), np.zeros((n, 1)))
    measured = measure(_objects(n) | {PHOTON: photons}, ATLAS, rng, parton_level=False).objects[PHOTON]
    energy = measured.pt[:, 0] * np.cosh(measured.eta[:, 0])
    sigma = ATLAS.photons.energy_resolution.sigma(np.array([100.0]), np.array([0.5]))[0]  # |eta| < 3.2: same formula
    kept = measured.valid[:, 0]
    e = energy[kept]
    assert abs(e.mean() - 100.0) < 5 * sigma / np.sqrt(e.size)
    assert abs(e.std() / sigma - 1) < 5 / np.sqrt(2 * e.size)
    for value, expected in ((0.5, 0.95), (2.0, 0.85)):
        sel = eta == value
        frac = kept[sel].mean()
        assert abs(frac - expected) < 5 * np.sqrt(expected * (1 - expected) / sel.sum())


def test_electron_resolution_combines_track_and_ecal(rng):
    n = 40000
    electrons = _collection(np.full((n, 1), 50.0), np.zeros((n, 1)), np.zeros((n, 1)), charge=-np.ones(n))
    measured = measure(_objects(n) | {ELECTRON: electrons}, ATLAS, rng, parton_level=False).objects[ELECTRON]
    track = np.hypot(0.03, 1.3e-3 * 50.0)
    ecal = ATLAS.electrons.energy_resolution.sigma(np.array([50.0]), np.zeros(1))[0] / 50.0
    expected = 1 / np.sqrt(1 / track**2 + 1 / ecal**2)
    r = measured.pt[measured.valid[:, 0], 0] / 50.0
    assert abs(r.std() / expected - 1) < 5 / np.sqrt(2 * r.size)
    eff = 0.95 * 0.95  # tracking (1 < pT <= 100 GeV, |eta| <= 1.5) x identification
    assert abs(r.size / n - eff) < 5 * np.sqrt(eff * (1 - eff) / n)
    assert np.all(measured.charge[measured.valid] == -1)


def test_btag_rates_follow_the_card(rng):
    n = 30000
    flavour = rng.choice([0, 4, 5], n)
    jets = _collection(np.full((n, 1), 100.0), np.zeros((n, 1)), np.zeros((n, 1)), flavour=flavour)
    measured = measure(_objects(n) | {JET: jets}, ATLAS, rng, parton_level=False).objects[JET]
    smeared_pt = measured.pt[:, 0]
    for f in (0, 4, 5):
        sel = (measured.flavour[:, 0] == f) & measured.valid[:, 0]
        expected = ATLAS.btag.probability(np.full(sel.sum(), f), smeared_pt[sel]).mean()
        frac = measured.btag[sel, 0].mean()
        assert abs(frac - expected) < 5 * np.sqrt(expected * (1 - expected) / sel.sum()) + 1e-4


def test_photon_next_to_a_hard_jet_is_not_isolated(rng):
    photons = _collection([[60.0, 60.0]], [[0.0, 1.0]], [[0.0, 2.5]])
    jets = _collection([[80.0]], [[0.3]], [[0.0]])
    lost = measure(_objects(1) | {PHOTON: photons, JET: jets}, ATLAS, rng, parton_level=True).lost
    assert lost.get("photons: not isolated") == 1


# ----------------------------------------------------------------------------- processes
@pytest.fixture(scope="module")
def drell_yan():
    return generate("drell_yan", 12000, seed=3, n_adapt=4000, n_iterations=4)


def test_drell_yan_mass_resolution_is_the_presets(drell_yan):
    """m_reco/m_true = sqrt(f1 f2) exactly (electrons: pure scaling, no angular smearing), with
    log f_i ~ N(-s_i^2/2, s_i^2), s_i^2 = log(1 + sigma_i^2) and sigma_i the card's combined
    resolution: the standardised log-ratio must be N(0, 1)."""
    rec = FastDetector.from_preset("atlas-like").reconstruct(drell_yan, np.random.default_rng(5))
    obs = rec.sample
    assert obs.cutflow["atlas-like: 1 electrons-"] >= obs.cutflow["atlas-like: 1 electrons+"] == len(obs)
    truth = obs.momenta
    pt_true = np.hypot(truth[:, 2:, 1], truth[:, 2:, 2])
    eta_true = np.arcsinh(truth[:, 2:, 3] / pt_true)
    inside = np.all((pt_true > 15) & (np.abs(eta_true) < 2.3), axis=1)
    m_true = np.sqrt(2 * (truth[:, 2, 0] * truth[:, 3, 0] - np.sum(truth[:, 2, 1:] * truth[:, 3, 1:], axis=1)))
    ratio = obs.observables["m_ll"] / m_true
    card = ATLAS.electrons

    def combined(pt, eta):
        track = card.momentum_resolution.relative(pt, eta)
        ecal = card.energy_resolution.sigma(pt * np.cosh(eta), eta) / (pt * np.cosh(eta))
        return 1 / np.sqrt(1 / track**2 + 1 / ecal**2)

    s2 = np.log1p(combined(pt_true, eta_true) ** 2).sum(axis=1)
    z = (np.log(ratio) + s2 / 4) / np.sqrt(s2 / 4)
    z = z[inside]
    assert z.size > 2000
    assert abs(z.mean()) < 5 / np.sqrt(z.size)
    assert abs(z.std() - 1) < 5 / np.sqrt(2 * z.size)
    # the physical peak: Z pole position kept; Gaussian width = m_Z x the mean predicted resolution
    peak = inside & (np.abs(m_true - 91.19) < 3)
    sigma_m = 91.19 * np.sqrt(s2[peak] / 4).mean()
    assert 0.5 < sigma_m < 1.5  # ~1% electrons at 45 GeV
    w = obs.weights()[peak]
    shift = obs.observables["m_ll"][peak] - m_true[peak]
    assert abs(np.average(shift, weights=w)) < 5 * sigma_m / np.sqrt(peak.sum()) + 0.02


def test_perfect_detector_reproduces_the_parton_observables(wbf_sample, rng):
    """With negligible resolution and unit efficiency, every WBF observable recomputed from the
    reconstructed jets and photons equals the parton-level one (the incoming partons rebuilt from
    the visible final state are the true ones at LO), except for events where jets merge."""
    sample = wbf_sample.subset(np.arange(4000))
    rec = FastDetector(_perfect_card()).reconstruct(sample, rng)
    obs = rec.sample
    assert len(obs) > 0.98 * len(sample)
    index = {row.tobytes(): i for i, row in enumerate(sample.momenta.reshape(len(sample), -1))}
    rows = np.array([index[row.tobytes()] for row in obs.momenta.reshape(len(obs), -1)])
    parton = get_process("wbf").observables(sample.momenta[rows])
    for name, values in parton.items():
        np.testing.assert_allclose(obs.observables[name], values, rtol=1e-6, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(obs.observables["m_aa"], 125.0, rtol=1e-6)
    np.testing.assert_allclose(rec.momenta[:, :2], sample.momenta[rows][:, :2], rtol=1e-6, atol=1e-6)


def test_wbf_columns_and_provenance(wbf_sample, rng):
    sample = wbf_sample.subset(np.arange(3000))
    rec = FastDetector.from_preset("cms-like").reconstruct(sample, rng)
    obs = rec.sample
    o = obs.observables
    np.testing.assert_allclose(o["x_p1"], o["pt_j1"] / 125.0)
    np.testing.assert_allclose(o["pt_h"], np.hypot(rec.momenta[:, 4, 1], rec.momenta[:, 4, 2]))
    assert np.all(o["pt_j1"] >= o["pt_j2"]) and np.all(o["pt_a1"] >= o["pt_a2"])
    # m_gamma gamma: the CMS ECAL resolution (~1-2%) around m_H
    assert abs(np.median(o["m_aa"]) - 125.0) < 1.0 and 0.5 < np.std(o["m_aa"]) < 6
    det = obs.provenance["detector"]
    assert det["higgs_decay"]["branching_ratio"] == pytest.approx(2.27e-3) and not det["higgs_decay"]["applied_to_weights"]
    assert det["requirements"] == [["jets", 2], ["photons", 2]]
    assert det["lost_objects"]["photons: identification efficiency and acceptance"] > 0
    # about half the events lose a photon (|eta| < 2.5, efficiencies 0.95/0.85, isolation)
    assert 0.4 < len(obs) / len(sample) < 0.75


def test_assembly_writes_chunks_in_order_and_refuses_bad_columns(wbf_sample):
    """The observed sample is built chunk by chunk into arrays sized for the whole input: the kept
    rows land in event order with their parton record, the cut-flow adds up, and a non-finite
    column value is still found and named (the columns are only trusted when every chunk was finite)."""
    from physinf.detector.observe import Assembly, Observed

    sample = wbf_sample.subset(np.arange(10))
    keeps = [np.array([True, False, True, True]), np.array([False, False, True]), np.array([True, True, False])]
    values = [np.array([1.0, 2.0, 3.0]), np.array([4.0]), np.array([5.0, 6.0])]

    def build(bad: bool) -> EventSample:
        assembly = Assembly(sample)
        for i, (keep, x) in enumerate(zip(keeps, values)):
            x = x.copy()
            if bad and i == 1:
                x[0] = np.nan
            assembly.add(Observed(keep, (int(keep.sum()),), {"x": x}, None))
        return assembly.finish(name="d", requirements=(("jets", 2),), provenance={})[0]

    observed = build(bad=False)
    rows = np.flatnonzero(np.concatenate(keeps))
    np.testing.assert_array_equal(observed.observables["x"], np.arange(1.0, 7.0))
    np.testing.assert_array_equal(observed.momenta, sample.momenta[rows])
    np.testing.assert_array_equal(observed.weight_components, sample.weight_components[rows])
    assert observed.cutflow["d: 2 jets"] == 6
    with pytest.raises(InvalidParameterError, match="observables/x holds 1 non-finite.*event 3"):
        build(bad=True)


def test_kind_of_pdg():
    pdg = np.array([[1, -2, 3, -4, 5, 21, 22, 11, -11, 13, -13, 12, -14, 16, 25, 0, 6, -15, 24, 2212, -2147483647]])
    expected = [JET] * 6 + [PHOTON, ELECTRON, ELECTRON, MUON, MUON, -1, -1, -1, -25, 0, -99, -99, -99, -99, -99]
    assert kind_of_pdg(pdg).tolist() == [expected]


def test_absent_objects_have_zero_columns():
    """Columns of objects the selection does not require (a third jet, more photons) are zero in
    events where the object is absent, whatever the detector did to it before losing it."""
    sample = generate("gg_ggg", 3000, seed=5, n_adapt=2000, n_iterations=3)
    data = tomllib.loads(preset_path("atlas-like").read_text())
    data["jets"]["pt_min"] = 60.0  # loses the third jet in many events
    detector = FastDetector(card_from_dict(data), requirements={"jets": 2})
    obs = detector.apply(sample, np.random.default_rng(2)).observables
    absent = obs["n_jets"] < 3
    assert 0 < absent.sum() < len(absent)
    for name in ("pt_j3", "eta_j3", "phi_j3", "m_j3", "btag_j3"):
        assert np.all(obs[name][absent] == 0.0), name
    assert np.all(obs["pt_j3"][~absent] > 60.0)


@pytest.mark.parametrize("process, kwargs, required", [
    ("ee_mumu", {"sqrt_s": 250.0, "pdf": None}, {"muons-", "muons+"}),
    ("gg_gg", {}, {"jets"}),
    ("gg_ggg", {}, {"jets"}),
])
def test_every_process_is_observed(process, kwargs, required):
    sample = generate(process, 2000, seed=2, n_adapt=2000, n_iterations=3, **kwargs)
    for preset in ("atlas-like", "cms-like"):
        obs = FastDetector.from_preset(preset).apply(sample, np.random.default_rng(1))
        assert 0.5 * len(sample) < len(obs) <= len(sample)
        assert {r[0] for r in obs.provenance["detector"]["requirements"]} == required
        assert set(obs.observables) >= set(get_process(process).observables(sample.momenta[:2]))
        values = list(obs.cutflow.values())
        assert values == sorted(values, reverse=True) and values[-1] == len(obs)


def test_bad_input(wbf_sample):
    detector = FastDetector.from_preset("atlas-like")
    with pytest.raises(InvalidParameterError, match="numpy.random.Generator"):
        detector.apply(wbf_sample, 3)
    with pytest.raises(InvalidParameterError, match="unknown requirement 'jet'.*Did you mean 'jets'"):
        FastDetector.from_preset("atlas-like", requirements={"jet": 2})
    with pytest.raises(InvalidParameterError, match="DetectorCard"):
        FastDetector("atlas-like")
    with pytest.raises(InvalidParameterError, match="no events"):
        detector.apply(wbf_sample.subset(np.arange(0)), np.random.default_rng(1))
    small = wbf_sample.subset(np.arange(5))
    w_boson = replace(small, pdg=np.where(np.arange(5) == 4, 24, small.pdg), process="lhe:test")
    with pytest.raises(InvalidParameterError, match="cannot observe particle 24.*shower"):
        detector.apply(w_boson, np.random.default_rng(1))


def test_requirements_can_be_chosen(wbf_sample, rng):
    sample = wbf_sample.subset(np.arange(2000))
    loose = FastDetector.from_preset("atlas-like", requirements={"jets": 2}).apply(sample, rng)
    assert list(loose.cutflow)[-1] == "atlas-like: 2 jets" and "pt_a1" not in loose.observables
    assert isinstance(loose, EventSample)
