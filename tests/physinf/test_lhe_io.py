"""LHE out and in: physinf's files read back by pylhe and Pythia 8; every stored real LHE file loads;
the SMEFTsim reweighting weights become morphing components; malformed files fail clearly.

Precision: physinf writes 11 significant digits, so quantities read back agree to ~1e-10 relative
(1e-9 asserted; a few times more where a fit divides differences of weights). Real files carry 8
significant digits (MadGraph), so their weights are reproduced to ~1e-8 (1e-6 asserted, the issue's
acceptance). Data files: tests/data/lhe/SOURCES.md.
"""

from __future__ import annotations

import gzip
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from physinf.errors import EventFileError, InvalidParameterError
from physinf.io import default_benchmarks, iter_lhe, lhe_benchmarks, read_lhe, write_lhe
from physinf.simulate import EventSample, generate
from theory.morphing import components_from_benchmarks, monomial_values, monomials

pylhe = pytest.importorskip("pylhe", reason="LHE reading needs the io extra (pylhe)")

DATA = Path(__file__).resolve().parents[1] / "data" / "lhe"
SMEFTSIM = DATA / "event2vec-dy1j-first4000.lhe.gz"


@pytest.fixture(scope="module")
def wbf(wbf_sample):
    return wbf_sample.subset(np.arange(1500))


@pytest.fixture(scope="module")
def wbf_file(wbf, tmp_path_factory):
    path = tmp_path_factory.mktemp("lhe") / "wbf.lhe"
    points = default_benchmarks(wbf.coefficients, wbf.powers) | {"extra": (0.5, -0.7)}
    return write_lhe(wbf, path, benchmarks=points, sqrt_s=13000.0)


def _events(path):
    return list(pylhe.LHEFile.fromfile(str(path)).events)


# ----------------------------------------------------------------------------- out and back
def test_round_trip_restores_the_sample(wbf, wbf_file):
    back = read_lhe(wbf_file)
    assert back.process == "wbf" and back.labels == wbf.labels and back.coefficients == wbf.coefficients
    assert back.config == wbf.config
    np.testing.assert_array_equal(back.pdg, wbf.pdg)
    np.testing.assert_allclose(back.momenta, wbf.momenta, rtol=1e-9, atol=1e-9)
    # at the benchmarks (|theta| <= 1) the 11 written digits come back to ~1e-10; far outside them
    # (theta = (-2, 3)) the inversion multiplies the rounding by ~|theta|^2 x the condition number (~10)
    # (per event, relative to its largest weight at the written benchmarks: the fit mixes them)
    scale = np.max(np.abs(np.stack([wbf.weights(t) for t in ([0, 0], [1, 0], [-1, 0], [0, 1], [0, -1], [1, 1])])), axis=0)
    for theta, rtol in (([0, 0], 2e-9), ([1, 0], 2e-9), ([0, 1], 2e-9), ([0.5, -0.7], 2e-9), ([-2.0, 3.0], 1e-7)):
        assert np.all(np.abs(back.weights(theta) - wbf.weights(theta)) <= rtol * scale), theta
    np.testing.assert_allclose(back.joint_score([0, 0]), wbf.joint_score([0, 0]), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(back.observables["delta_phi_jj"], wbf.observables["delta_phi_jj"], atol=1e-8)
    fit = back.provenance["lhe"]["fit"]
    assert fit["max_rel_residual"] < 1e-9  # 7 benchmarks, 6 components: the over-determined fit is consistent


def test_pylhe_reads_what_madgraph_would_write(wbf, wbf_file):
    lhe = pylhe.LHEFile.fromfile(str(wbf_file))
    init = lhe.init
    assert init.initInfo.weightingStrategy == -4 and init.initInfo.energyA == 6500.0
    group = lhe.header.initrwgt.entries[0]
    assert group.attributes["name"] == "mg_reweighting"
    ids = [w.id for w in group.weights]
    assert ids[:2] == ["SM", "cHW_p1"] and "extra" in ids
    events = list(lhe.events)
    assert len(events) == len(wbf)
    xwgtup = np.array([e.eventinfo.weight for e in events])
    # LHA average normalisation: the mean event weight is sigma (pb)
    assert abs(xwgtup.mean() / wbf.cross_section() - 1) < 1e-9
    sm = np.array([e.weights["SM"] for e in events])
    np.testing.assert_allclose(sm, xwgtup, rtol=1e-10)
    extra = np.array([e.weights["extra"] for e in events])
    np.testing.assert_allclose(extra / len(wbf), wbf.weights([0.5, -0.7]), rtol=1e-9)
    for e in events[:50]:  # colour: each tag once as colour and once as anticolour (crossing incoming)
        tags = {}
        for p in e.particles:
            for tag, sign in ((int(p.color1), 1), (int(p.color2), -1)):
                if tag:
                    tags[tag] = tags.get(tag, 0) + (sign if p.status == 1 else -sign)
        assert all(v == 0 for v in tags.values()), tags


def test_unweighted_file(wbf, tmp_path):
    path = write_lhe(wbf, tmp_path / "u.lhe.gz", unweighted=True, seed=4, sqrt_s=13000.0)
    events = _events(path)
    xwgtup = np.array([e.eventinfo.weight for e in events])
    np.testing.assert_allclose(xwgtup, wbf.cross_section(), rtol=1e-10)
    back = read_lhe(path)
    assert back.provenance["lhe"]["normalisation"] == "unweighted" and len(back) == len(events)
    assert abs(back.cross_section() / wbf.cross_section() - 1) < 1e-9


def _pythia_process_level(path, n):
    pythia8mc = pytest.importorskip("pythia8mc", reason="needs the shower extra")
    py = pythia8mc.Pythia("", False)
    for s in ("Beams:frameType = 4", f"Beams:LHEF = {path}", "PartonLevel:all = off", "HadronLevel:all = off",
              "ProcessLevel:resonanceDecays = off", "Print:quiet = on", "Next:numberCount = 0"):
        assert py.readString(s)
    assert py.init()
    momenta, failed = [], 0
    for _ in range(n):
        if not py.next():
            if py.infoPython().atEndOfFile():
                break
            failed += 1
            continue
        ev = py.process
        momenta.append([(ev[j].e(), ev[j].px(), ev[j].py(), ev[j].pz()) for j in range(3, ev.size())])
    return py.infoPython().sigmaGen() * 1e9, np.array(momenta), failed


def test_pythia_reads_the_file_sigma_and_shape(wbf, wbf_file):
    """Pythia 8 takes the file as its hard process: same cross section (mb -> pb, 1e-9) and the
    same events; Pythia gives massless c and b quarks their masses (LesHouches:setQuarkMass) and
    reshuffles momenta in those events (up to 0.01 in delta phi_jj); elsewhere it agrees to 1e-8."""
    from theory.observables import wbf_observables

    sigma, momenta, failed = _pythia_process_level(wbf_file, len(wbf) + 1)
    assert failed == 0 and len(momenta) == len(wbf)
    assert abs(sigma / wbf.cross_section() - 1) < 1e-9
    dphi = wbf_observables(momenta[:, :5])["delta_phi_jj"]
    light = ~np.any(np.isin(np.abs(wbf.pdg[:, 2:4]), (4, 5)), axis=1)
    np.testing.assert_allclose(dphi[light], wbf.observables["delta_phi_jj"][light], atol=1e-8)
    np.testing.assert_allclose(dphi[~light], wbf.observables["delta_phi_jj"][~light], atol=0.05)


@pytest.mark.parametrize("process", ["gg_ggg", "drell_yan"])
def test_pythia_accepts_the_colour_flows(process, tmp_path):
    sample = generate(process, 1500, seed=4, n_adapt=1500, n_iterations=2)
    path = write_lhe(sample, tmp_path / f"{process}.lhe")
    sigma, momenta, failed = _pythia_process_level(path, len(sample) + 1)
    assert failed == 0 and len(momenta) == len(sample)
    assert abs(sigma / sample.cross_section() - 1) < 1e-9


# ----------------------------------------------------------------------------- real files
REAL = {
    "pylhe-testfile-madgraph-2.0.0-wbj.lhe": (59, 9),
    "pylhe-testfile-madgraph5-3.5.8-pp_to_jj-first250.lhe.gz": (250, 145),
    "pylhe-testfile-powheg-box-v2-hvq.lhe": (6, 45),
    "pylhe-testfile-pr180.lhe": (10, 0),
    "pylhe-testfile-pythia-6.413-ttbar.lhe": (100, 0),
    "pylhe-testfile-whizard-3.1.4-eeWW.lhe": (10, 0),
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_every_stored_file_loads(name):
    n, n_variations = REAL[name]
    sample = read_lhe(DATA / name)
    assert isinstance(sample, EventSample) and len(sample) == n and len(sample.variations) == n_variations
    assert sample.process.startswith("lhe:") and sample.config is None and sample.coefficients == ()
    assert sample.labels[:2] == ("pa", "pb") and np.all(sample.momenta[:, 0, 3] >= sample.momenta[:, 1, 3])
    # energy-momentum conservation of the record (intermediate resonances dropped, final state kept)
    total = sample.momenta[:, 2:].sum(axis=1) - sample.momenta[:, :2].sum(axis=1)
    assert np.abs(total).max() < 1e-3 * sample.momenta[:, :2, 0].sum(axis=1).max()
    lhe = sample.provenance["lhe"]
    if lhe["normalisation"] == "unweighted" or "madgraph" in name:
        # all events carry the same weight there: sigma is the header's XSECUP to its precision
        assert abs(sample.cross_section() / lhe["xsecup_pb"] - 1) < 1e-6
    for key, var in sample.variations.items():  # variations: the nominal components times w_var / w_nominal
        assert var.shape == sample.weight_components.shape, key


def test_smeftsim_benchmarks_refuse_the_quadratic_fit():
    with pytest.raises(InvalidParameterError, match=r"37 benchmark weights varying 22 coefficient\(s\), each alone.*"
                                                    r"undetermined.*pass max_degree=1"):
        read_lhe(SMEFTSIM)


@pytest.fixture(scope="module")
def smeftsim():
    return read_lhe(SMEFTSIM, max_degree=1)


def test_smeftsim_fit_reproduces_every_benchmark(smeftsim):
    bench = lhe_benchmarks(SMEFTSIM)
    assert len(bench.ids) == 37 and len(bench.coefficients) == 22 and bench.coefficients[:3] == ("cg", "cgtil", "chdd")
    assert np.all(bench.thetas[bench.thetas != 0] == 0.1)
    events = _events(SMEFTSIM)
    raw = np.array([[e.weights[w] for w in bench.ids] for e in events])
    nominal = np.array([e.eventinfo.weight for e in events])
    predicted = np.stack([smeftsim.weights(theta) for theta in bench.thetas], axis=1) * len(events)
    rel = np.abs(predicted - raw) / np.abs(raw).max(axis=1, keepdims=True)
    assert rel.max() < 1e-6
    np.testing.assert_allclose(smeftsim.weights() * len(events), nominal, rtol=1e-12)
    assumptions = " ".join(smeftsim.provenance["lhe"]["fit"]["assumptions"])
    assert "linear truncation" in assumptions and "set no parameter" in assumptions


def test_held_out_benchmarks_are_predicted(smeftsim, wbf, wbf_file):
    """SMEFTsim: SM + one point per operator; the only points whose removal keeps the fit determined
    are the reference-point copies (weights with no set line): held out, they are predicted to the
    file's 8 digits. physinf's own WBF file with one extra point (0.5, -0.7): the degree-2 fit from
    the six default benchmarks predicts it to the file's 11 digits; the linear fit cannot (1e-2)."""
    bench = lhe_benchmarks(SMEFTSIM)
    events = _events(SMEFTSIM)
    raw = np.array([[e.weights[w] for w in bench.ids] for e in events])
    powers = monomials(len(bench.coefficients), 1)
    copies = [k for k, wid in enumerate(bench.ids) if wid != "SM" and np.all(bench.thetas[k] == bench.theta_ref)]
    assert len(copies) == 14
    for k in copies[:3] + [bench.ids.index("SM")]:
        keep = [i for i in range(len(bench.ids)) if i != k]
        fit = components_from_benchmarks(powers, bench.thetas[keep], raw[:, keep])
        predicted = fit.components @ monomial_values(powers, bench.thetas[k])
        assert np.max(np.abs(predicted / raw[:, k] - 1)) < 1e-7
    wbf_bench = lhe_benchmarks(wbf_file)
    wbf_events = _events(wbf_file)
    w = np.array([[e.weights[i] for i in wbf_bench.ids] for e in wbf_events])
    held = wbf_bench.ids.index("extra")
    keep = [i for i in range(len(wbf_bench.ids)) if i != held]
    for degree, bound in ((2, 1e-8), (1, None)):
        p = monomials(2, degree)
        fit = components_from_benchmarks(p, wbf_bench.thetas[keep], w[:, keep])
        dev = np.abs(fit.components @ monomial_values(p, wbf_bench.thetas[held]) / w[:, held] - 1)
        if bound is not None:
            assert dev.max() < bound
        else:
            assert np.median(dev) > 1e-2  # the quadratic terms matter at theta ~ 1
    with pytest.raises(InvalidParameterError, match="not described by the fitted polynomial.*raise max_degree"):
        read_lhe(wbf_file, max_degree=1)


def test_streaming_chunks_combine_to_the_whole_file(wbf_file):
    whole = read_lhe(wbf_file)
    chunks = list(iter_lhe(wbf_file, chunk_size=400))
    assert [len(c) for c in chunks] == [400, 400, 400, 300]
    for c in chunks:  # each chunk estimates sigma on its own (average normalisation)
        assert c.provenance["lhe"]["combine"] == "average" and abs(c.cross_section() / whole.cross_section() - 1) < 0.5
    combined = EventSample.concatenate(chunks, weights="average")
    scale = np.abs(whole.weight_components).max(axis=1, keepdims=True)  # the fits of different chunks round differently
    assert np.all(np.abs(combined.weight_components - whole.weight_components) <= 1e-12 * scale)


# ----------------------------------------------------------------------------- bad input
def _corrupt(tmp_path, source, edit, name="bad.lhe"):
    text = Path(source).read_text()
    path = tmp_path / name
    path.write_text(edit(text))
    return path


def _nth_event_start(text, n):
    pos = -1
    for _ in range(n):
        pos = text.index("<event>", pos + 1)
    return pos


@pytest.mark.parametrize("edit, message", [
    (lambda t: t[:_nth_event_start(t, 3)] + t[_nth_event_start(t, 3):].replace("</event>", "", 1),
     r"event 3 \(opened at line \d+\) is not closed: event 4 starts at line \d+ before its </event>"),
    (lambda t: t[:_nth_event_start(t, 2) + 8] + "6" + t[_nth_event_start(t, 2) + 9:], r"event 2 declares 6 particles \(NUP\) but lists 5"),
    (lambda t: t[:_nth_event_start(t, 3) + 60] + t[_nth_event_start(t, 3) + 60:].replace("+", "x", 3), r"event 3: cannot parse it"),
    (lambda t: t[:_nth_event_start(t, 4)] + t[_nth_event_start(t, 4):].replace("<wgt id='extra'>", "<wgt id='extr'>", 1),
     r"event 4 lacks the weight\(s\) extra"),
    (lambda t: t[:_nth_event_start(t, 5)] + t[_nth_event_start(t, 5):].replace("</rwgt>", "<wgt id='bogus'> 1.0 </wgt>\n</rwgt>", 1),
     r"event 5 has weight id\(s\) 'bogus' that <initrwgt> does not declare"),
    (lambda t: t[: _nth_event_start(t, 7) + 200], r"event 7 \(opened at line \d+\) is not closed: the file ends first"),
])
def test_malformed_files_name_the_event(tmp_path, wbf_file, edit, message):
    path = _corrupt(tmp_path, wbf_file, edit)
    with pytest.raises(EventFileError, match=message):
        read_lhe(path)


def test_truncated_gzip_and_missing_files(tmp_path, wbf_file):
    data = gzip.compress(Path(wbf_file).read_bytes())
    path = tmp_path / "cut.lhe.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(EventFileError, match="truncated"):
        read_lhe(path)
    with pytest.raises(EventFileError, match="does not exist"):
        read_lhe(tmp_path / "none.lhe")


def test_streaming_reads_before_a_later_defect(tmp_path, wbf_file):
    path = _corrupt(tmp_path, wbf_file, lambda t: t[: _nth_event_start(t, 1201) + 100])
    chunks = iter_lhe(path, chunk_size=400)
    assert len(next(chunks)) == 400  # the first chunk arrives before the defect is reached
    with pytest.raises(EventFileError, match="event 1201 .* is not closed"):
        list(chunks)


def test_writer_refuses_what_it_cannot_write(wbf, tmp_path):
    with pytest.raises(InvalidParameterError, match="one finite value per coefficient"):
        write_lhe(wbf, tmp_path / "x.lhe", benchmarks={"a": (1.0,)})
    with pytest.raises(InvalidParameterError, match="letters, digits"):
        write_lhe(wbf, tmp_path / "x.lhe", benchmarks={"a b": (1.0, 0.0)})
    with pytest.raises(InvalidParameterError, match="physinf writes LHE files for its own processes"):
        write_lhe(replace(wbf, process="lhe:x"), tmp_path / "x.lhe", sqrt_s=13000.0)
    with pytest.raises(InvalidParameterError, match="chunk_size"):
        next(iter_lhe(tmp_path / "x.lhe", chunk_size=0))
    assert not (tmp_path / "x.lhe").exists()


def test_lhe_events_go_through_the_fast_detector(smeftsim):
    """An LHE sample (no registered process): the detector finds the objects from the PDG ids of the
    final state; default requirement: what the least populated event holds (here 2 leptons, 1 jet)."""
    from physinf.detector import FastDetector

    observed = FastDetector.from_preset("atlas-like").apply(smeftsim, np.random.default_rng(2))
    assert observed.provenance["detector"]["requirements"] == [["jets", 1], ["leptons", 2]]
    assert 0.3 * len(smeftsim) < len(observed) < len(smeftsim)
    o = observed.observables
    assert np.all(o["m_ll"] > 250)  # the MadGraph run card cut m_ll > 300 GeV, smeared by ~1-2 %
    rows = _rows(smeftsim, observed)
    theta = np.zeros(len(smeftsim.coefficients))
    theta[smeftsim.coefficients.index("clj1")] = 0.1
    np.testing.assert_array_equal(observed.weights(theta), smeftsim.weights(theta)[rows])  # weights stay exact


def _rows(parton, observed):
    index = {row.tobytes(): i for i, row in enumerate(parton.momenta.reshape(len(parton), -1))}
    return np.array([index[row.tobytes()] for row in observed.momenta.reshape(len(observed), -1)])
