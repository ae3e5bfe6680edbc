"""Small torch building blocks shared by the estimators: input standardisation and MLPs.

Inputs are standardised with the training sample's (weighted) mean and standard deviation, kept
as buffers so that they are saved with the weights. float64 preprocessing, float32 networks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from physinf.errors import InvalidParameterError

__all__ = ["ACTIVATIONS", "Standardizer", "mlp"]

ACTIVATIONS = ("tanh", "relu", "silu", "gelu")


class Standardizer(torch.nn.Module):
    """(x - mean) / std with mean and std as buffers (saved in the state dict)."""

    def __init__(self, mean: np.ndarray, std: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(np.asarray(mean, np.float64), dtype=torch.float32))
        self.register_buffer("std", torch.tensor(np.asarray(std, np.float64), dtype=torch.float32))

    @classmethod
    def fit(cls, x: np.ndarray, weights: np.ndarray | None = None) -> Standardizer:
        """The (weighted) mean and standard deviation of the columns of x; constant columns get std 1."""
        x = np.asarray(x, dtype=np.float64)
        w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
        mean = np.average(x, axis=0, weights=w)
        std = np.sqrt(np.average((x - mean) ** 2, axis=0, weights=w))
        return cls(mean, np.where(std > 0, std, 1.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def mlp(n_in: int, n_out: int, hidden: Sequence[int] = (100, 100), activation: str = "tanh") -> torch.nn.Sequential:
    """A fully connected network n_in -> hidden... -> n_out (linear output)."""
    if activation not in ACTIVATIONS:
        raise InvalidParameterError(f"unknown activation {activation!r}; choose one of {ACTIVATIONS}")
    if not hidden or any(int(h) < 1 for h in hidden):
        raise InvalidParameterError(f"hidden must be a non-empty list of positive layer widths, got {list(hidden)}")
    act = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "silu": torch.nn.SiLU, "gelu": torch.nn.GELU}[activation]
    layers: list[torch.nn.Module] = []
    width = n_in
    for h in hidden:
        layers += [torch.nn.Linear(width, int(h)), act()]
        width = int(h)
    layers.append(torch.nn.Linear(width, n_out))
    return torch.nn.Sequential(*layers)
