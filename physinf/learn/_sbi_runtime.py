"""How physinf runs sbi: seeded, thread-limited, writing nothing behind the user's back.

* sbi's trainers log to TensorBoard under ``./sbi-logs`` by default; :class:`MemoryTracker`
  implements sbi's ``Tracker`` protocol and keeps the metrics in memory instead (log_dir None).
* :func:`controlled` seeds torch's and numpy's global generators from one seed (sbi's network
  initialisation, batch order and flow sampling use torch's; slice-sampling MCMC uses numpy's)
  and sets torch's thread count, restoring all three on exit, so a library call leaves the
  caller's state as it found it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["MemoryTracker", "controlled", "sbi_seed"]


class MemoryTracker:
    """sbi's Tracker protocol, kept in memory: metrics[name] = [(step, value), ...]."""

    log_dir = None

    def __init__(self) -> None:
        self.metrics: dict[str, list[tuple[int | None, float]]] = {}

    def log_metric(self, name: str, value: float, step: int | None = None) -> None:
        self.metrics.setdefault(name, []).append((step, float(value)))

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        for name, value in metrics.items():
            self.log_metric(name, value, step)

    def log_params(self, params: dict[str, Any]) -> None:
        pass

    def add_figure(self, name: str, figure: Any, step: int | None = None) -> None:
        pass

    def flush(self) -> None:
        pass


def sbi_seed(seed: int, stream: int) -> int:
    """An independent 32-bit seed for one use (``stream``) of the user's seed."""
    return int(np.random.SeedSequence(seed, spawn_key=(stream,)).generate_state(1)[0])


@contextlib.contextmanager
def controlled(seed: int, threads: int) -> Iterator[None]:
    """torch and numpy global RNGs seeded from ``seed`` and torch limited to ``threads`` inside."""
    import torch

    from physinf.learn.training import cpu_threads

    np_state = np.random.get_state()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices), cpu_threads(threads):
        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)
        try:
            yield
        finally:
            np.random.set_state(np_state)
