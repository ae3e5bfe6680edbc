"""Networks with a heteroscedastic Gaussian head: for each target column, a mean and log sigma^2.

* :class:`SurrogateMLP`: an MLP on the preprocessed features, every layer variational
  (:class:`~physinf.learn.surrogate.layers.VBLinear`) for a Bayesian network, or plain linear
  layers for an ensemble member.
* :class:`SurrogateLGATr`: the Lorentz-equivariant geometric-algebra transformer (package
  ``lgatr``, Spinner et al., arXiv:2405.14806, arXiv:2411.00446) on the momenta, one token per
  particle (its momentum as a vector multivector; its position as one-hot scalars; log s_hat as a
  scalar), mean-pooled scalar outputs, and a variational (or plain) final layer: the Bayesian
  part of this backbone is the last layer.

Both map a float tensor (N, F) to (N, 2 C): columns [0, C) are the means and [C, 2C) log sigma^2
in standardised target units.
"""

from __future__ import annotations

import torch
from torch import nn

from physinf._io import require
from physinf.learn.surrogate.layers import VBLinear

__all__ = ["SurrogateLGATr", "SurrogateMLP", "build_network"]

_ACTIVATIONS = {"silu": nn.SiLU, "gelu": nn.GELU, "tanh": nn.Tanh, "relu": nn.ReLU}
LOGVAR_RANGE = (-30.0, 10.0)  # sigma_y between 3e-7 and 150 standard deviations of the target


def _linear(n_in: int, n_out: int, bayesian: bool, prior_precision: float) -> nn.Module:
    return VBLinear(n_in, n_out, prior_precision) if bayesian else nn.Linear(n_in, n_out)


class SurrogateMLP(nn.Module):
    """features (N, F) -> (mean, log sigma^2) per target column."""

    def __init__(self, n_features: int, n_targets: int, hidden: int = 128, layers: int = 4,
                 activation: str = "silu", bayesian: bool = True, prior_precision: float = 1.0) -> None:
        super().__init__()
        self.n_targets = n_targets
        blocks: list[nn.Module] = []
        width = n_features
        for _ in range(layers):
            blocks += [_linear(width, hidden, bayesian, prior_precision), _ACTIVATIONS[activation]()]
            width = hidden
        blocks.append(_linear(width, 2 * n_targets, bayesian, prior_precision))
        self.net = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        mean, logvar = out[:, : self.n_targets], out[:, self.n_targets :]
        return torch.cat([mean, logvar.clamp(*LOGVAR_RANGE)], dim=1)


class SurrogateLGATr(nn.Module):
    """(N, 4 P + 1) = [p_i / sqrt(s_hat) flattened, standardised log s_hat] -> (mean, log sigma^2)."""

    def __init__(self, n_particles: int, n_targets: int, hidden: int = 32, layers: int = 2,
                 bayesian: bool = True, prior_precision: float = 1.0) -> None:
        super().__init__()
        lgatr = require("lgatr", "lgatr", "the Lorentz-equivariant surrogate backbone")
        self.n_particles, self.n_targets = n_particles, n_targets
        self.net = lgatr.LGATr(
            num_blocks=layers, in_mv_channels=1, out_mv_channels=1, hidden_mv_channels=max(hidden // 4, 4),
            in_s_channels=n_particles + 1, out_s_channels=hidden, hidden_s_channels=hidden,
            attention={"num_heads": 4}, mlp={},
        )
        self._embed = lgatr.embed_vector
        self.activation = nn.SiLU()
        self.head = _linear(hidden, 2 * n_targets, bayesian, prior_precision)
        self.register_buffer("onehot", torch.eye(n_particles))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        momenta = x[:, : 4 * self.n_particles].reshape(n, self.n_particles, 1, 4)
        mv = self._embed(momenta)
        log_shat = x[:, -1:].unsqueeze(1).expand(n, self.n_particles, 1)
        scalars = torch.cat([self.onehot.to(x.dtype).expand(n, -1, -1), log_shat], dim=-1)
        _, s = self.net(mv, scalars=scalars)
        out = self.head(self.activation(s.mean(dim=1)))
        mean, logvar = out[:, : self.n_targets], out[:, self.n_targets :]
        return torch.cat([mean, logvar.clamp(*LOGVAR_RANGE)], dim=1)


def build_network(config, n_features: int, n_particles: int, n_targets: int) -> nn.Module:  # type: ignore[no-untyped-def]
    """The network a SurrogateConfig describes (one ensemble member), in float32 whatever torch's
    default dtype (pyhf's 64-bit torch backend, for one, sets it to float64 process-wide)."""
    if config.backbone == "lgatr":
        net: nn.Module = SurrogateLGATr(n_particles, n_targets, config.hidden, config.layers, config.bayesian,
                                        config.prior_precision)
    else:
        net = SurrogateMLP(n_features, n_targets, config.hidden, config.layers, config.activation, config.bayesian,
                           config.prior_precision)
    return net.float()
