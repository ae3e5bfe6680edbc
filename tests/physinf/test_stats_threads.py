"""Fits from several threads at once: pyhf's backend is global state, and the stats layer must not race on it.

Dask workers and thread pools fit likelihoods concurrently. Every result must equal the
single-threaded one, and the caller's global pyhf backend must be left exactly as it was.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyhf
import pytest
from _stats_helpers import restore_pyhf_backend, toy_templates  # noqa: F401

from physinf.stats import Background, Systematics, build_likelihood, fit, profile_scan

GRID = np.linspace(-0.6, 0.6, 5)


def _likelihood():
    t = toy_templates(n_bins=4, lumi=30.0)
    bkg = Background("bkg", np.full(4, 40.0), np.full(4, 2.0), 0.1)
    data = np.round(t.yields_at([0.3]) + 40.0)
    return build_likelihood(t, [bkg], Systematics(lumi=0.02), bounds={"ca": (-2, 2)}, data=data)


def _job(lh, kind: str) -> np.ndarray:
    """A fit with HESSE errors (minuit) or a profile scan (scipy): the two need different optimizers."""
    if kind == "fit":
        res = fit(lh, uncertainties=True)
        return np.array([res.twice_nll, res.bestfit["ca"], res.uncertainties["ca"]])
    return profile_scan(lh, "ca", GRID).delta


def _set_backend(name: str) -> None:
    if name == "pytorch":
        pytest.importorskip("torch")
        pyhf.set_backend("pytorch", precision="64b")
    elif name == "numpy+minuit":
        pyhf.set_backend("numpy", pyhf.optimize.minuit_optimizer())
    else:
        pyhf.set_backend("numpy")


# pyhf converts staterror data list-by-list when a model moves to torch (on leaving a numpy section)
_TORCH_LIST_WARNING = pytest.mark.filterwarnings("ignore:Creating a tensor from a list of numpy.ndarrays:UserWarning")


@pytest.mark.parametrize("backend", ["numpy", "numpy+minuit", pytest.param("pytorch", marks=_TORCH_LIST_WARNING)])
def test_two_threads_fit_like_one(backend: str):
    _set_backend(backend)
    before = pyhf.get_backend()
    lh = _likelihood()
    reference = {kind: _job(lh, kind) for kind in ("fit", "scan")}
    assert pyhf.get_backend() == before
    kinds = ["fit", "scan"] * 8
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, so that the two threads interleave inside fits
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda kind: (kind, _job(lh, kind)), kinds))
    finally:
        sys.setswitchinterval(interval)
    for kind, res in results:
        np.testing.assert_allclose(res, reference[kind], rtol=1e-10, atol=1e-10, err_msg=kind)
    after = pyhf.get_backend()
    assert after[0] is before[0] and after[1] is before[1]
