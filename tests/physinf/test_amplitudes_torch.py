"""The torch lambdification of |M|^2 components equals the numpy one (same SymPy source)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from physinf.amplitudes import torch_components
from theory.processes.registry import get_process


@pytest.mark.parametrize("name", ["ee_mumu", "drell_yan", "gg_gg", "wbf"])
def test_torch_equals_numpy(name, wbf_sample):
    proc = get_process(name)
    if name == "wbf":
        p = wbf_sample.momenta[:50]
    else:
        from physinf.simulate.phasespace import phase_space_for

        ps = phase_space_for(proc, 13000.0 if proc.collider == "pp" else 91.0, proc.default_cuts)
        p = ps.map(np.random.default_rng(3).uniform(size=(50, ps.dims)))[0]
    ch = proc.channels[-1]
    ref = proc.components(p, ch)
    got = torch_components(proc, torch.tensor(p, dtype=torch.float64), ch).numpy()
    # identical expression trees in float64: agreement to rounding
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12 * np.abs(ref).max())


@pytest.mark.gpu
def test_torch_components_on_cuda(wbf_sample):
    p = torch.tensor(wbf_sample.momenta[:100], dtype=torch.float64, device="cuda")
    got = torch_components(get_process("wbf"), p).cpu().numpy()
    np.testing.assert_allclose(got, get_process("wbf").components(wbf_sample.momenta[:100]), rtol=1e-10)
