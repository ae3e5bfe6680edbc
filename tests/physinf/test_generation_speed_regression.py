"""Exactness of the matrix-element evaluation on stored points (issue 10).

``tests/data/regression/components.npz`` holds, for every registered process and every one of its
channels, the morphing components |M|^2_c the code gave before the evaluation was rewritten for
speed (numpy ``lambdify``), and the exact values of the same SymPy expressions (40-digit mpmath),
at the same stored momenta (see SOURCES.md there).

Tolerance: components are compared at each point and channel to 1e-12 of the largest component
there, max_c |A_c| (all components carry the same units; a weight at |theta| ~ 1 is their sum).
Element-wise relative agreement is not a meaningful target: the pre-change float64 values
themselves differ from the exact ones by up to 1e-12 element-wise where a component passes
through zero, but by at most 3.7e-13 of max_c |A_c| (WBF), so any correct float64 evaluation of the
same expressions agrees with them to better than 1e-12 on that scale.
"""

from __future__ import annotations

from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp

from theory.processes.registry import available_processes, get_process

DATA = Path(__file__).resolve().parents[1] / "data" / "regression" / "components.npz"
TOL = 1e-12


@pytest.fixture(scope="module")
def stored():
    with np.load(DATA) as f:
        return {k: f[k] for k in f.files}


def _assert_close(new: np.ndarray, ref: np.ndarray, what: str) -> None:
    scale = np.abs(ref).max(axis=-1, keepdims=True)
    err = np.abs(new - ref)
    bad = err > TOL * scale
    assert not bad.any(), f"{what}: max error / max_c|A_c| = {(err / np.where(scale > 0, scale, 1)).max():.3g}"


def test_stored_file_covers_every_process_and_channel(stored):
    for name in available_processes():
        proc = get_process(name)
        assert list(stored[f"{name}/channels"]) == [ch.name for ch in proc.channels], name
        assert stored[f"{name}/components"].shape == (len(proc.channels), 12, proc.n_components)


@pytest.mark.parametrize("name", available_processes())
def test_components_equal_the_stored_values_for_every_channel(stored, name):
    # one channel at a time (Process.components) and all channels at once (components_for_channels)
    proc = get_process(name)
    p, old, exact = stored[f"{name}/momenta"], stored[f"{name}/components"], stored[f"{name}/exact"]
    for k, ch in enumerate(proc.channels):
        new = proc.components(p, ch)
        _assert_close(new, old[k], f"{name} channel {ch.name} vs pre-change values")
        _assert_close(new, exact[k], f"{name} channel {ch.name} vs exact values")
    together = proc.components_for_channels(p, proc.channels)  # (N, n_channels, C)
    _assert_close(np.moveaxis(together, 1, 0), old, f"{name} all channels at once")


@pytest.mark.parametrize("name", available_processes())
def test_sympy_expressions_still_give_the_exact_values(stored, name):
    # the physics itself (the SymPy expressions of the process modules) is unchanged: 40-digit
    # evaluation at three stored points of every channel with distinct couplings reproduces the
    # stored exact values to rounding of the float64 result (1e-15 of the point's scale)
    proc = get_process(name)
    mpmath.mp.dps = 40
    args = [s for label in proc.labels for s in proc.momenta[label]] + list(proc.coupling_symbols)
    f = sp.lambdify(args, proc.component_expressions, modules="mpmath", cse=True)
    p, exact = stored[f"{name}/momenta"], stored[f"{name}/exact"]
    seen = set()
    for k, ch in enumerate(proc.channels):
        key = tuple(sorted(ch.couplings.items()))
        if key in seen:
            continue
        seen.add(key)
        couplings = [mpmath.mpf(ch.couplings.get(s.name, 0.0)) for s in proc.coupling_symbols]
        for n in (0, 5, 11):
            vals = np.array([float(v) for v in f(*[mpmath.mpf(float(v)) for v in p[n].reshape(-1)], *couplings)])
            scale = np.abs(exact[k, n]).max()
            np.testing.assert_allclose(vals, exact[k, n], rtol=0, atol=1e-15 * scale, err_msg=f"{name} {ch.name}")
