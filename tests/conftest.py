"""Shared fixtures: small WBF samples generated once per test session."""

from __future__ import annotations

import numpy as np
import pytest


def pytest_collection_modifyitems(config, items):
    """gpu tests skip, with the reason shown, when no CUDA device is present."""
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        has_cuda = False
    if has_cuda:
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (none found: torch.cuda.is_available() is False)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def restore_torch_default_dtype():
    """Tests that switch pyhf to its 64-bit torch backend set torch's default dtype process-wide;
    restore it so that no test depends on which tests ran before it."""
    import sys

    torch = sys.modules.get("torch")
    before = torch.get_default_dtype() if torch is not None else None
    yield
    torch = sys.modules.get("torch")
    if torch is not None:
        before = before or torch.float32  # torch's own default, if it was first imported by this test
        if torch.get_default_dtype() != before:
            torch.set_default_dtype(before)


@pytest.fixture(scope="session")
def wbf_sample():
    """20k weighted SM WBF events at 13 TeV (pT_j > 20 GeV, |eta_j| < 5), seed fixed."""
    from physinf.simulate import generate

    return generate("wbf", 20000, seed=11, n_adapt=8000, n_iterations=5)


@pytest.fixture()
def rng():
    return np.random.default_rng(1234)
