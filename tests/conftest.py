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


@pytest.fixture(scope="session")
def wbf_sample():
    """20k weighted SM WBF events at 13 TeV (pT_j > 20 GeV, |eta_j| < 5), seed fixed."""
    from physinf.simulate import generate

    return generate("wbf", 20000, seed=11, n_adapt=8000, n_iterations=5)


@pytest.fixture()
def rng():
    return np.random.default_rng(1234)
