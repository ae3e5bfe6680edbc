"""What a surrogate says at phase-space points: amplitudes and how far to trust them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SurrogatePrediction"]


@dataclass(frozen=True)
class SurrogatePrediction:
    """Amplitude components and their uncertainties, each (N, C) in the units of |M|^2.

    Attributes:
      mean: the prediction: the network with its mean weights (averaged over ensemble members).
      sigma_stat: from the limited training data: the spread of the predictions over weight draws
        (and over ensemble members).
      sigma_syst: what the network cannot express: the heteroscedastic width, averaged over draws.
      sigma_stat_ensemble: the spread of the ensemble members' predictions alone (a second estimate
        of sigma_stat), or None for a single network.
    """

    mean: np.ndarray
    sigma_stat: np.ndarray
    sigma_syst: np.ndarray
    sigma_stat_ensemble: np.ndarray | None = None

    @property
    def sigma_tot(self) -> np.ndarray:
        """sqrt(sigma_stat^2 + sigma_syst^2)."""
        return np.hypot(self.sigma_stat, self.sigma_syst)

    @property
    def amplitude(self) -> np.ndarray:
        """The SM (first) component, (N,)."""
        return self.mean[:, 0]

    def relative(self, which: str = "tot") -> np.ndarray:
        """sigma / A of the first (SM) component for ``which`` in "tot", "stat", "syst", (N,)."""
        sigma = {"tot": self.sigma_tot, "stat": self.sigma_stat, "syst": self.sigma_syst}[which]
        return sigma[:, 0] / self.mean[:, 0]

    def __len__(self) -> int:
        return self.mean.shape[0]
