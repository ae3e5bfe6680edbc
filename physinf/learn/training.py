"""The training loop every estimator shares: seeded, validated, early-stopped, with progress.

Optimiser AMSGrad (Adam variant, as MadMiner); the learning rate decays exponentially from
``learning_rate`` to ``final_learning_rate`` over ``epochs``; a random ``validation_fraction``
of the rows is held out and the weights of the epoch with the lowest validation loss are kept;
training stops after ``patience`` epochs without improvement. Everything random (split, batch
order, initial weights when built inside :func:`seeded`) derives from ``seed``.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from physinf.errors import InvalidParameterError

__all__ = ["TrainingConfig", "TrainingHistory", "fit_model", "seeded"]


@dataclass(frozen=True)
class TrainingConfig:
    """Settings of one training run (the defaults follow MadMiner's, with early stopping)."""

    epochs: int = 50
    batch_size: int = 256
    learning_rate: float = 1e-3
    final_learning_rate: float = 1e-4
    validation_fraction: float = 0.25
    patience: int = 10
    weight_decay: float = 0.0
    seed: int = 0
    progress: bool = False
    threads: int = 1  # torch CPU threads while training: at these batch and layer sizes one is fastest

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "patience", "threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidParameterError(f"TrainingConfig.{name} must be a positive integer, got {value!r}")
        if not (0 < self.final_learning_rate <= self.learning_rate):
            raise InvalidParameterError(
                f"learning rates must satisfy 0 < final_learning_rate <= learning_rate, got "
                f"{self.final_learning_rate} and {self.learning_rate}"
            )
        if not (0 < self.validation_fraction < 1):
            raise InvalidParameterError(f"validation_fraction must lie in (0, 1), got {self.validation_fraction}")
        if self.weight_decay < 0:
            raise InvalidParameterError(f"weight_decay must be >= 0, got {self.weight_decay}")


@dataclass
class TrainingHistory:
    """Per-epoch mean losses, the epoch whose weights were kept, and the wall time."""

    train_loss: list[float] = field(default_factory=list)
    validation_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {"train_loss": self.train_loss, "validation_loss": self.validation_loss,
                "best_epoch": self.best_epoch, "seconds": self.seconds}


@contextlib.contextmanager
def cpu_threads(n: int, device: torch.device | None = None) -> Iterator[None]:
    """torch limited to ``n`` CPU threads inside the block, restored afterwards; nothing changes when
    ``device`` is not the CPU. Small networks train fastest on one thread: at batch 256 and layers of
    ~100 units thread synchronisation costs more than it saves, and with the other core busy two
    threads were measured 26x slower than one."""
    before = torch.get_num_threads()
    if device is not None and device.type != "cpu":
        yield
        return
    if n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block (e.g. building a network) with torch's global RNG seeded, restoring it afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


LossFunction = Callable[[torch.nn.Module, Mapping[str, torch.Tensor]], torch.Tensor]


def fit_model(model: torch.nn.Module, loss_fn: LossFunction, data: Mapping[str, np.ndarray], config: TrainingConfig,
              device: torch.device, *, description: str = "training") -> TrainingHistory:
    """Minimise ``loss_fn(model, batch)`` over the rows of ``data`` (equal-length arrays).

    ``loss_fn`` returns the mean loss of a batch (weights, if any, are columns of ``data``
    normalised by the caller). Returns the history; the model ends with its best weights."""
    with cpu_threads(config.threads, device):
        return _fit_model(model, loss_fn, data, config, device, description)


def _fit_model(model: torch.nn.Module, loss_fn: LossFunction, data: Mapping[str, np.ndarray], config: TrainingConfig,
               device: torch.device, description: str) -> TrainingHistory:
    sizes = {len(v) for v in data.values()}
    if len(sizes) != 1:
        raise InvalidParameterError(f"training arrays must have equal lengths, got {({k: len(v) for k, v in data.items()})}")
    n = sizes.pop()
    n_val = max(1, int(round(config.validation_fraction * n)))
    if n - n_val < 2:
        raise InvalidParameterError(f"{n} training rows are too few for a validation split of {config.validation_fraction}")
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(n)
    tensors = {k: torch.tensor(np.asarray(v), dtype=torch.float32, device=device) for k, v in data.items()}
    train_idx = torch.tensor(order[n_val:], device=device)
    val_idx = torch.tensor(order[:n_val], device=device)
    model.to(device=device, dtype=torch.float32)  # the data are float32 whatever torch's default dtype
    opt = torch.optim.Adam(model.parameters(), lr=config.learning_rate, amsgrad=True, weight_decay=config.weight_decay)
    gamma = (config.final_learning_rate / config.learning_rate) ** (1.0 / max(config.epochs - 1, 1))
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma)
    gen = torch.Generator(device="cpu").manual_seed(config.seed)
    history = TrainingHistory()
    best_state, best_loss, stale = None, math.inf, 0
    t0 = time.perf_counter()
    epochs = range(config.epochs)
    bar = None
    if config.progress:
        from tqdm.auto import tqdm

        bar = tqdm(epochs, desc=description, unit="epoch")
        epochs = bar
    for epoch in epochs:
        model.train()
        perm = train_idx[torch.randperm(len(train_idx), generator=gen).to(device)]
        total, count = 0.0, 0
        for lo in range(0, len(perm), config.batch_size):
            rows = perm[lo : lo + config.batch_size]
            loss = loss_fn(model, {k: v[rows] for k, v in tensors.items()})
            if not torch.isfinite(loss):
                raise InvalidParameterError(
                    f"the training loss became {loss.item()} in epoch {epoch}; check the inputs for extreme values "
                    "or lower the learning rate"
                )
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(rows)
            count += len(rows)
        sched.step()
        model.eval()
        val_total = 0.0
        for lo in range(0, len(val_idx), 8192):
            rows = val_idx[lo : lo + 8192]
            val_total += loss_fn(model, {k: v[rows] for k, v in tensors.items()}).item() * len(rows)
        val_loss = val_total / len(val_idx)
        history.train_loss.append(total / count)
        history.validation_loss.append(val_loss)
        if bar is not None:
            bar.set_postfix(train=f"{total / count:.4g}", validation=f"{val_loss:.4g}")
        if val_loss < best_loss:
            best_loss, stale, history.best_epoch = val_loss, 0, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= config.patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    history.seconds = time.perf_counter() - t0
    return history
