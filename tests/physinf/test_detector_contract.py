"""One contract test over every Detector implementation (physinf.detector.base).

For each detector and a parton-level sample: the output is an EventSample of the same process;
every kept event keeps its parton record (momenta, flavours) and its morphing weights exactly; the
observables are the process's own names; the cut-flow accounts for every input event (kept + lost
= generated); the same seed gives the same result; a different seed changes the observables.
"""

from __future__ import annotations

import numpy as np
import pytest

from physinf.detector import Detector, FastDetector, JetSmearing, ShowerConfig, ShowerDetector
from physinf.simulate import EventSample
from theory.processes.registry import get_process

# (detector, events it is tried on): the shower chain costs ~10 ms per event, so it gets fewer
DETECTORS = [
    (JetSmearing(), 3000),
    (JetSmearing(resolution_scale=2.0, eta_resolution=0.05, phi_resolution=0.05), 3000),
    (FastDetector.from_preset("atlas-like"), 3000),
    (FastDetector.from_preset("cms-like"), 3000),
    (ShowerDetector.from_preset("atlas-like", shower=ShowerConfig(chunk_size=40)), 80),
]


@pytest.mark.parametrize("detector, n_events", DETECTORS, ids=lambda d: getattr(d, "name", str(d)))
def test_detector_contract(detector, n_events, wbf_sample):
    if isinstance(detector, ShowerDetector):
        pytest.importorskip("pythia8mc", reason="the shower chain needs the shower extra")
    assert isinstance(detector, Detector)
    sample = wbf_sample.subset(np.arange(n_events))
    out = detector.apply(sample, np.random.default_rng(7))
    assert isinstance(out, EventSample) and out.process == sample.process
    assert len(out) <= len(sample)
    # match kept events to inputs through their (unique) parton momenta
    index = {row.tobytes(): i for i, row in enumerate(sample.momenta.reshape(len(sample), -1))}
    rows = np.array([index[row.tobytes()] for row in out.momenta.reshape(len(out), -1)])
    np.testing.assert_array_equal(out.pdg, sample.pdg[rows])
    np.testing.assert_array_equal(out.weight_components, sample.weight_components[rows])
    assert set(out.observables) >= set(get_process(sample.process).observables(sample.momenta[:3]))
    last = list(out.cutflow.values())[-1]
    assert last == len(out) and list(out.cutflow.values()) == sorted(out.cutflow.values(), reverse=True)
    again = detector.apply(sample, np.random.default_rng(7))
    np.testing.assert_array_equal(again.observables["pt_j1"], out.observables["pt_j1"])
    other = detector.apply(sample, np.random.default_rng(8))
    assert not np.array_equal(other.observables["pt_j1"], out.observables["pt_j1"])
