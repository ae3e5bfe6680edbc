"""Generator-level cuts on the visible final-state particles of a process.

A process declares its default cuts (``Process.default_cuts``) and which of its particles are
visible (``Process.visible``: jets and leptons, not an undecayed Higgs); the generator applies
the cuts to those particles. Cuts that regulate a divergence (a p_T or ΔR cut for massless
partons, a mass cut below a photon pole) are part of the process's physics, not a detail of
the generator.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from theory.errors import InvalidParameterError, did_you_mean
from theory.kinematics import delta_phi, mandelstam, phi, pseudorapidity, pt

__all__ = ["Cuts"]


@dataclass(frozen=True)
class Cuts:
    """Cuts applied to the visible final-state particles of every event.

    pt_min: minimum p_T of each visible particle (GeV); abs_eta_max: maximum |η|;
    m_min / m_max: range of the invariant mass of the first two visible particles (GeV);
    delta_eta_min: minimum |η_1 − η_2| of the first two visible particles;
    dr_min: minimum ΔR = √(Δη² + Δφ²) between every pair of visible particles (collinear
    safety for massless partons).
    """

    pt_min: float = 0.0
    abs_eta_max: float = math.inf
    m_min: float = 0.0
    m_max: float = math.inf
    delta_eta_min: float = 0.0
    dr_min: float = 0.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or value < 0:
                raise InvalidParameterError(f"cut {name} must be a non-negative number, got {value!r}")
        if self.m_max <= self.m_min:
            raise InvalidParameterError(f"cut m_max = {self.m_max} must exceed m_min = {self.m_min}")
        if self.abs_eta_max == 0:
            raise InvalidParameterError("cut abs_eta_max = 0 removes every event; give a positive |eta| range")

    def mask(self, momenta: np.ndarray, visible: tuple[int, ...] | list[int]) -> np.ndarray:
        """Boolean mask over events (momenta (N, P, 4); visible: indices of visible particles)."""
        keep = np.ones(momenta.shape[0], dtype=bool)
        eta: dict[int, np.ndarray] = {}
        with np.errstate(divide="ignore", invalid="ignore"):
            for i in visible:
                p = momenta[:, i]
                eta[i] = pseudorapidity(p)
                if self.pt_min > 0:
                    keep &= pt(p) > self.pt_min
                if math.isfinite(self.abs_eta_max):
                    keep &= np.abs(eta[i]) < self.abs_eta_max
            if len(visible) >= 2 and (self.m_min > 0 or math.isfinite(self.m_max) or self.delta_eta_min > 0):
                a, b = momenta[:, visible[0]], momenta[:, visible[1]]
                m = np.sqrt(np.maximum(mandelstam(a, b), 0.0))
                keep &= (m > self.m_min) & (m < self.m_max)
                if self.delta_eta_min > 0:
                    keep &= np.abs(eta[visible[0]] - eta[visible[1]]) > self.delta_eta_min
            if self.dr_min > 0:
                for i, j in itertools.combinations(visible, 2):
                    dphi = delta_phi(phi(momenta[:, i]), phi(momenta[:, j]))
                    keep &= np.hypot(eta[i] - eta[j], dphi) > self.dr_min
        return keep

    def to_dict(self) -> dict[str, float | None]:
        """JSON-safe: infinite values become None."""
        return {k: (v if math.isfinite(v) else None) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Cuts:
        """Inverse of :meth:`to_dict`; unknown keys are refused with a suggestion."""
        known = [f.name for f in fields(cls)]
        for key in d:
            if key not in known:
                raise InvalidParameterError(f"unknown cut {key!r}; known cuts: {', '.join(known)}.{did_you_mean(key, known)}")
        return cls(**{k: (math.inf if v is None else v) for k, v in d.items()})
