"""Generator-level cuts on visible final-state particles (everything but the Higgs)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from theory.errors import InvalidParameterError
from theory.kinematics import mandelstam, pseudorapidity, pt

__all__ = ["Cuts"]


@dataclass(frozen=True)
class Cuts:
    """Cuts applied to the visible final-state particles of every event.

    pt_min: minimum pT of each visible particle (GeV); abs_eta_max: maximum |eta|;
    m_min / m_max: range of the invariant mass of the first two visible particles;
    delta_eta_min: minimum |eta_1 - eta_2| of the first two visible particles.
    """

    pt_min: float = 0.0
    abs_eta_max: float = math.inf
    m_min: float = 0.0
    m_max: float = math.inf
    delta_eta_min: float = 0.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, (int, float)) or math.isnan(value) or value < 0:
                raise InvalidParameterError(f"cut {name} must be a non-negative number, got {value!r}")
        if self.m_max <= self.m_min:
            raise InvalidParameterError(f"cut m_max = {self.m_max} must exceed m_min = {self.m_min}")

    def mask(self, momenta: np.ndarray, visible: list[int]) -> np.ndarray:
        """Boolean mask over events (momenta (N, P, 4); visible: indices of visible particles)."""
        keep = np.ones(momenta.shape[0], dtype=bool)
        for i in visible:
            p = momenta[:, i]
            if self.pt_min > 0:
                keep &= pt(p) > self.pt_min
            if math.isfinite(self.abs_eta_max):
                with np.errstate(divide="ignore", invalid="ignore"):
                    keep &= np.abs(pseudorapidity(p)) < self.abs_eta_max
        if len(visible) >= 2 and (self.m_min > 0 or math.isfinite(self.m_max) or self.delta_eta_min > 0):
            a, b = momenta[:, visible[0]], momenta[:, visible[1]]
            m = np.sqrt(np.maximum(mandelstam(a, b), 0.0))
            keep &= (m > self.m_min) & (m < self.m_max)
            if self.delta_eta_min > 0:
                with np.errstate(divide="ignore", invalid="ignore"):
                    keep &= np.abs(pseudorapidity(a) - pseudorapidity(b)) > self.delta_eta_min
        return keep

    def to_dict(self) -> dict:
        return {k: (v if math.isfinite(v) else None) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "Cuts":
        return cls(**{k: (math.inf if v is None else v) for k, v in d.items()})
