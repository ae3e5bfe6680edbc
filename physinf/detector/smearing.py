"""A simple Gaussian jet smearing (a stand-in for a detector simulation).

Jet energy resolution from the ATLAS Delphes HCAL card (docs/notes/physics.md §8):
σ(E)/E = √(0.0302² + 0.5205²/E + 1.59²/E²) for |η| ≤ 1.7, √(0.05² + 0.706²/E) for 1.7 < |η| ≤ 3.2,
√(0.0942² + 1.00²/E) beyond (E in GeV), applied as the relative p_T resolution. η and φ get
Gaussian smearing with fixed widths (default 0.01 each). The jet mass is kept. Only the
particles listed in ``indices`` are smeared (default: the two jets of (pa, pb, p1, p2, pH)).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from physinf.errors import InvalidParameterError
from physinf.simulate.events import EventSample

__all__ = ["JetSmearing", "jet_energy_resolution", "smear_jets"]


def jet_energy_resolution(energy: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """Relative resolution σ(E)/E of the ATLAS Delphes HCAL parametrisation."""
    e = np.maximum(np.asarray(energy, float), 1e-9)
    a = np.abs(np.asarray(eta, float))
    central = np.sqrt(0.0302**2 + 0.5205**2 / e + 1.59**2 / e**2)
    endcap = np.sqrt(0.05**2 + 0.706**2 / e)
    forward = np.sqrt(0.0942**2 + 1.00**2 / e)
    return np.where(a <= 1.7, central, np.where(a <= 3.2, endcap, forward))


def smear_jets(
    momenta: np.ndarray,
    rng: np.random.Generator,
    *,
    indices: tuple[int, ...] = (2, 3),
    eta_resolution: float = 0.01,
    phi_resolution: float = 0.01,
    resolution_scale: float = 1.0,
) -> np.ndarray:
    """Smeared copy of ``momenta`` (N, P, 4) in (E, px, py, pz); p_T stays positive."""
    p = np.asarray(momenta, dtype=float)
    if p.ndim != 3 or p.shape[2] != 4:
        raise InvalidParameterError(f"momenta must have shape (N, P, 4), got {p.shape}")
    if not isinstance(rng, np.random.Generator):
        raise InvalidParameterError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
    if min(eta_resolution, phi_resolution, resolution_scale) < 0:
        raise InvalidParameterError("resolutions must be non-negative")
    out = p.copy()
    for i in indices:
        if not -p.shape[1] <= i < p.shape[1]:
            raise InvalidParameterError(f"particle index {i} out of range for {p.shape[1]} particles")
        E, px, py, pz = (p[:, i, k] for k in range(4))
        pt = np.hypot(px, py)
        eta = np.arcsinh(pz / np.maximum(pt, 1e-12))
        phi = np.arctan2(py, px)
        m2 = np.maximum(E**2 - px**2 - py**2 - pz**2, 0.0)
        sigma = resolution_scale * jet_energy_resolution(E, eta)
        pt_s = pt * np.abs(1.0 + sigma * rng.standard_normal(len(pt)))
        eta_s = eta + eta_resolution * rng.standard_normal(len(pt))
        phi_s = phi + phi_resolution * rng.standard_normal(len(pt))
        px_s, py_s, pz_s = pt_s * np.cos(phi_s), pt_s * np.sin(phi_s), pt_s * np.sinh(eta_s)
        out[:, i, 0] = np.sqrt(m2 + px_s**2 + py_s**2 + pz_s**2)
        out[:, i, 1], out[:, i, 2], out[:, i, 3] = px_s, py_s, pz_s
    return out


@dataclass(frozen=True)
class JetSmearing:
    """A :class:`physinf.detector.Detector`: Gaussian smearing of the process's visible particles.

    The observed observables are the process's own (``Process.observables``) evaluated on the
    smeared momenta; the parton record and the weights are kept; no event is lost (the smearing
    has no acceptance), which the cut-flow records."""

    eta_resolution: float = 0.01
    phi_resolution: float = 0.01
    resolution_scale: float = 1.0
    name: str = "jet-smearing"

    def apply(self, sample: EventSample, rng: np.random.Generator) -> EventSample:
        from theory.processes.registry import get_process

        proc = get_process(sample.process)
        smeared = smear_jets(sample.momenta, rng, indices=proc.visible, eta_resolution=self.eta_resolution,
                             phi_resolution=self.phi_resolution, resolution_scale=self.resolution_scale)
        provenance = {**sample.provenance, "detector": {"name": self.name, "eta_resolution": self.eta_resolution,
                                                        "phi_resolution": self.phi_resolution,
                                                        "resolution_scale": self.resolution_scale}}
        return replace(sample.with_observables(proc.observables(smeared), replace_all=True), provenance=provenance,
                       cutflow={**sample.cutflow, f"{self.name}: reconstructed": len(sample)})
