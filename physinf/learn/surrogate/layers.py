"""The variational linear layer: mean-field Gaussian weights with local reparameterisation.

Each weight has q(w) = N(mu, sigma^2) (parameters mu and log sigma^2); biases are deterministic;
the prior is N(0, 1/p) with precision p (1 by default: inputs and targets are standardised).

* training: local reparameterisation (Kingma, Salimans, Welling, arXiv:1506.02557): the
  pre-activation of each example is Gaussian with mean x mu^T + b and variance x^2 sigma^2^T,
  and one draw per example gives low-variance gradients;
* evaluation: one weight sample per layer, kept until :meth:`VBLinear.resample` (so each Monte
  Carlo draw of the network is one consistent function); ``map_mode`` uses mu only.

The KL divergence to the prior is in closed form (:meth:`VBLinear.kl`); the training loss divides
it by the number of training points, never by the batch size (docs/notes/ml.md §1).

References: Blundell et al., arXiv:1505.05424; Kingma et al., arXiv:1506.02557;
Bahl et al., arXiv:2412.12069 (amplitude surrogates).
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["VBLinear", "kl_divergence", "resample", "set_map_mode"]

LOGSIG2_INIT = -9.0  # sigma ~ 0.011: training starts near-deterministic
LOGSIG2_RANGE = (-11.0, 11.0)


class VBLinear(nn.Module):
    """y = x W^T + b with W ~ N(mu, sigma^2) per weight and a deterministic bias b."""

    def __init__(self, n_in: int, n_out: int, prior_precision: float = 1.0) -> None:
        super().__init__()
        self.n_in, self.n_out = int(n_in), int(n_out)
        self.prior_precision = float(prior_precision)
        self.mu = nn.Parameter(torch.randn(n_out, n_in) / math.sqrt(n_in))
        self.logsig2 = nn.Parameter(torch.full((n_out, n_in), LOGSIG2_INIT))
        self.bias = nn.Parameter(torch.zeros(n_out))
        self.map_mode = False
        self._weight: torch.Tensor | None = None  # the frozen evaluation sample

    def _logsig2(self) -> torch.Tensor:
        return self.logsig2.clamp(*LOGSIG2_RANGE)

    def resample(self) -> None:
        """Forget the frozen evaluation weights; the next evaluation call draws new ones."""
        self._weight = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.map_mode:
            return nn.functional.linear(x, self.mu, self.bias)
        if self.training:
            mean = nn.functional.linear(x, self.mu, self.bias)
            var = nn.functional.linear(x * x, self._logsig2().exp())
            return mean + var.clamp_min(1e-16).sqrt() * torch.randn_like(mean)
        if self._weight is None or self._weight.device != x.device or self._weight.dtype != x.dtype:
            with torch.no_grad():
                eps = torch.randn_like(self.mu)
                self._weight = (self.mu + (0.5 * self._logsig2()).exp() * eps).detach().to(dtype=x.dtype)
        return nn.functional.linear(x, self._weight, self.bias)

    def kl(self) -> torch.Tensor:
        """KL(q || N(0, 1/p)) = 1/2 sum [p (mu^2 + sigma^2) - log sigma^2 - 1 - log p]."""
        p = self.prior_precision
        logsig2 = self._logsig2()
        return 0.5 * torch.sum(p * (self.mu**2 + logsig2.exp()) - logsig2 - 1.0 - math.log(p))

    def extra_repr(self) -> str:
        return f"n_in={self.n_in}, n_out={self.n_out}, prior_precision={self.prior_precision}"


def _layers(module: nn.Module) -> list[VBLinear]:
    return [m for m in module.modules() if isinstance(m, VBLinear)]


def kl_divergence(module: nn.Module) -> torch.Tensor:
    """Sum of the KL terms of every variational layer inside ``module`` (0 if there is none)."""
    layers = _layers(module)
    if not layers:
        return torch.zeros(())
    return torch.stack([layer.kl() for layer in layers]).sum()


def resample(module: nn.Module) -> None:
    """New frozen weight samples for every variational layer (the next Monte Carlo draw)."""
    for layer in _layers(module):
        layer.resample()


def set_map_mode(module: nn.Module, on: bool) -> None:
    """Evaluate every variational layer with its mean weights (on) or with weight samples (off)."""
    for layer in _layers(module):
        layer.map_mode = bool(on)
        layer.resample()
