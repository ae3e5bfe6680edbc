"""Fitting one network: heteroscedastic Gaussian likelihood plus the KL term of its variational weights.

Loss per batch (docs/notes/ml.md §1):

    L = mean_batch sum_c [ (y_c - mu_c)^2 / (2 sigma_c^2) + log sigma_c ] + KL(q || prior) / N_train,

with one draw of the weights per example (local reparameterisation). The KL term is divided by
the number of training points, so that summed over an epoch it is counted once: the ELBO of the
whole training set. Validation: the same likelihood with the mean weights, for early stopping
and the learning-rate schedule; the weights with the best validation loss are kept.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from physinf.learn.surrogate.config import TrainConfig
from physinf.learn.surrogate.layers import kl_divergence, set_map_mode

__all__ = ["TrainHistory", "gaussian_nll", "train_network"]


@dataclass
class TrainHistory:
    """Per-epoch training and validation losses, the epoch kept and the wall time."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {"train_loss": self.train_loss, "val_loss": self.val_loss, "best_epoch": self.best_epoch,
                "seconds": self.seconds}


def gaussian_nll(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example heteroscedastic NLL summed over target columns (log 2 pi dropped)."""
    c = y.shape[1]
    mean, logvar = out[:, :c], out[:, c:]
    return (0.5 * (y - mean) ** 2 * torch.exp(-logvar) + 0.5 * logvar).sum(dim=1)


def _validation_loss(net: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int) -> float:
    net.eval()
    set_map_mode(net, True)
    total = 0.0
    with torch.no_grad():
        for lo in range(0, len(x), batch):
            total += float(gaussian_nll(net(x[lo : lo + batch]), y[lo : lo + batch]).sum())
    set_map_mode(net, False)
    return total / len(x)


def train_network(net: nn.Module, x_train: torch.Tensor, y_train: torch.Tensor, x_val: torch.Tensor,
                  y_val: torch.Tensor, config: TrainConfig, generator: torch.Generator,
                  desc: str = "training surrogate") -> TrainHistory:
    """Fit ``net`` in place (tensors already on the network's device); returns the history."""
    from physinf.learn.training import cpu_threads

    with cpu_threads(config.threads, x_train.device):
        return _train_network(net, x_train, y_train, x_val, y_val, config, generator, desc)


def _train_network(net: nn.Module, x_train: torch.Tensor, y_train: torch.Tensor, x_val: torch.Tensor,
                   y_val: torch.Tensor, config: TrainConfig, generator: torch.Generator, desc: str) -> TrainHistory:
    t0 = time.perf_counter()
    n_train = len(x_train)
    opt = torch.optim.Adam(net.parameters(), lr=config.learning_rate, betas=config.betas)
    if config.schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs, eta_min=0.01 * config.learning_rate)
    else:
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.3, patience=config.lr_patience)
    history = TrainHistory()
    best, best_state, stale = math.inf, copy.deepcopy(net.state_dict()), 0
    bar = None
    if config.progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.epochs, desc=desc, unit="epoch")
    for epoch in range(config.epochs):
        net.train()
        order = torch.randperm(n_train, generator=generator).to(x_train.device)
        running = 0.0
        for lo in range(0, n_train, config.batch_size):
            idx = order[lo : lo + config.batch_size]
            loss = gaussian_nll(net(x_train[idx]), y_train[idx]).mean() + kl_divergence(net).to(x_train.device) / n_train
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), config.grad_clip)
            opt.step()
            running += float(loss.detach()) * len(idx)
        val = _validation_loss(net, x_val, y_val, 8 * config.batch_size)
        history.train_loss.append(running / n_train)
        history.val_loss.append(val)
        if config.schedule == "cosine":
            sched.step()
        else:
            sched.step(val)
        improved = not np.isfinite(best) or val < best - 1e-6 * abs(best)
        if improved:
            best, best_state, stale, history.best_epoch = val, copy.deepcopy(net.state_dict()), 0, epoch
        else:
            stale += 1
        if bar is not None:
            bar.update(1)
            bar.set_postfix(val=f"{val:.3f}", lr=f"{opt.param_groups[0]['lr']:.1e}")
        if stale >= config.patience:
            break
    if bar is not None:
        bar.close()
    net.load_state_dict(best_state)
    net.eval()
    history.seconds = time.perf_counter() - t0
    return history
