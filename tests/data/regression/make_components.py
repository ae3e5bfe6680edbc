"""Write ``components.npz``: every process's |M|^2 components on stored momenta, every channel.

Run once from the repository root, with the code whose values are to be pinned:

    python tests/data/regression/make_components.py

Momenta: physical phase-space points of each process drawn from the generator's own maps with a
fixed seed (13 TeV for pp processes, 91 and 500 GeV for e+e-), kept only where they pass the
process's default cuts; plus, for WBF, points with one jet below the p_T cut (a softer region
of the same expressions). Components: ``Process.components(p, channel)`` for every channel
(one call per channel, scalar couplings), the evaluation path before issue 10 (numpy
``lambdify`` of the SymPy expressions with common-subexpression elimination). Exact values: the same
SymPy expressions evaluated with 40-digit mpmath arithmetic at the same (binary64) momenta and
couplings, rounded to float64; they measure the rounding error of any float64 evaluation.

Keys: ``<process>/momenta`` (N, P, 4), ``<process>/channels`` (names), ``<process>/components``
(n_channels, N, C) float64 values of the pre-change code, ``<process>/exact`` (n_channels, N, C),
``<process>/sqrt_s``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import mpmath
import numpy as np
import sympy as sp

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from physinf.simulate.phasespace import phase_space_for  # noqa: E402
from theory.cuts import Cuts  # noqa: E402
from theory.processes.registry import available_processes, get_process  # noqa: E402

N_POINTS = 12


def points(name: str, rng: np.random.Generator) -> tuple[np.ndarray, list[float]]:
    proc = get_process(name)
    energies = [91.0, 500.0] if proc.collider == "ee" else [13000.0]
    out = []
    for sqrt_s in energies:
        cut_sets = [proc.default_cuts]
        if name == "wbf":
            cut_sets.append(Cuts(pt_min=2.0, abs_eta_max=5.0))
        for cuts in cut_sets:
            ps = phase_space_for(proc, sqrt_s, cuts)
            kept: list[np.ndarray] = []
            while sum(len(k) for k in kept) < N_POINTS // len(cut_sets) // len(energies):
                u = rng.uniform(size=(4096, ps.dims))
                p, x1, x2, jac = ps.map(u, rng)
                ok = (x1 > 0) & (x1 <= 1) & (x2 > 0) & (x2 <= 1) & np.isfinite(jac) & cuts.mask(p, proc.visible)
                kept.append(p[ok][:N_POINTS])
            out.append(np.concatenate(kept)[: N_POINTS // len(cut_sets) // len(energies)])
    return np.concatenate(out), energies


def exact_components(proc, p: np.ndarray) -> np.ndarray:
    """Components of every channel at momenta p with 40-digit arithmetic (n_channels, N, C)."""
    mpmath.mp.dps = 40
    args = [s for label in proc.labels for s in proc.momenta[label]] + list(proc.coupling_symbols)
    f = sp.lambdify(args, proc.component_expressions, modules="mpmath", cse=True)
    out = np.empty((len(proc.channels), p.shape[0], proc.n_components))
    for k, ch in enumerate(proc.channels):
        couplings = [mpmath.mpf(ch.couplings.get(s.name, 0.0)) for s in proc.coupling_symbols]
        for n in range(p.shape[0]):
            momenta = [mpmath.mpf(float(v)) for v in p[n].reshape(-1)]
            out[k, n] = [float(v) for v in f(*momenta, *couplings)]
    return out


def main() -> None:
    rng = np.random.default_rng(20261201)
    data: dict[str, np.ndarray] = {}
    for name in available_processes():
        proc = get_process(name)
        p, energies = points(name, rng)
        comps = np.stack([proc.components(p, ch) for ch in proc.channels])
        data[f"{name}/momenta"] = p
        data[f"{name}/channels"] = np.array([ch.name for ch in proc.channels])
        data[f"{name}/components"] = comps
        data[f"{name}/exact"] = exact_components(proc, p)
        data[f"{name}/sqrt_s"] = np.array(energies)
        print(f"{name}: {p.shape[0]} points, {len(proc.channels)} channels, {comps.shape[-1]} components")
    np.savez_compressed(Path(__file__).with_name("components.npz"), **data)


if __name__ == "__main__":
    main()
