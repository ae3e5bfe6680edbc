"""A box prior on Wilson coefficients: the parameter space of simulation-based inference.

``BoxPrior(low, high, names)`` is uniform on [low, high] for the coefficients ``names`` (a subset
of a process's coefficients, in any order); the others stay fixed where the simulator puts them.
Without names the box must cover every coefficient of the process, in the process's order.
Every entry point checks θ here: the right shape, finite, inside the box (edges included).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from physinf.errors import InvalidParameterError, UnknownNameError, did_you_mean

__all__ = ["BoxPrior"]


@dataclass(frozen=True)
class BoxPrior:
    """Uniform prior on the box [low, high] of the coefficients ``names`` (None: all, in order)."""

    low: tuple[float, ...]
    high: tuple[float, ...]
    names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        low = np.atleast_1d(np.asarray(self.low, dtype=np.float64))
        high = np.atleast_1d(np.asarray(self.high, dtype=np.float64))
        if low.ndim != 1 or low.shape != high.shape or low.size == 0:
            raise InvalidParameterError(f"the prior box needs equal-length 1-D low and high, got {low.tolist()} and {high.tolist()}")
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))) or np.any(high <= low):
            raise InvalidParameterError(f"the prior box needs finite bounds with low < high, got low={low.tolist()}, high={high.tolist()}")
        object.__setattr__(self, "low", tuple(float(v) for v in low))
        object.__setattr__(self, "high", tuple(float(v) for v in high))
        if self.names is not None:
            names = (self.names,) if isinstance(self.names, str) else tuple(str(n) for n in self.names)
            if len(names) != low.size or len(set(names)) != len(names):
                raise InvalidParameterError(f"the prior needs one distinct name per dimension ({low.size}), got {list(names)}")
            object.__setattr__(self, "names", names)

    @property
    def dim(self) -> int:
        return len(self.low)

    @property
    def volume(self) -> float:
        return float(np.prod(np.subtract(self.high, self.low)))

    def coefficient_index(self, coefficients: Sequence[str], process: str = "the process") -> np.ndarray:
        """Positions of the prior's coefficients among a process's ``coefficients``, or a clear error."""
        coefficients = tuple(coefficients)
        if self.names is None:
            if self.dim != len(coefficients):
                raise InvalidParameterError(
                    f"the prior box has {self.dim} dimension(s) but {process} has the coefficients {list(coefficients)}; "
                    f"give one range per coefficient, or name the ones the prior covers (BoxPrior(low, high, names=[...]))"
                )
            return np.arange(self.dim)
        index = []
        for name in self.names:
            if name not in coefficients:
                raise UnknownNameError(
                    f"the prior names the coefficient {name!r}, which {process} does not have; its coefficients are "
                    f"{list(coefficients)}.{did_you_mean(name, coefficients)}"
                )
            index.append(coefficients.index(name))
        return np.asarray(index)

    def labels(self, coefficients: Sequence[str] | None = None) -> tuple[str, ...]:
        """Names of the dimensions (the prior's own, or the process's coefficients)."""
        if self.names is not None:
            return self.names
        return tuple(coefficients) if coefficients is not None else tuple(f"theta{i}" for i in range(self.dim))

    def check(self, theta: Any, what: str = "theta") -> np.ndarray:
        """θ as an (M, dim) float64 array, finite and inside the box, or a clear error."""
        th = np.asarray(theta, dtype=np.float64)
        if th.ndim == 1 and th.shape == (self.dim,):
            th = th[None, :]
        elif th.ndim == 1 and self.dim == 1:
            th = th[:, None]
        if th.ndim != 2 or th.shape[1] != self.dim:
            raise InvalidParameterError(f"{what} must have shape ({self.dim},) or (M, {self.dim}) for the prior on {list(self.labels())}, got {th.shape}")
        if not np.all(np.isfinite(th)):
            raise InvalidParameterError(f"{what} has non-finite values (NaN/inf)")
        outside = ~self.contains(th)
        if outside.any():
            first = th[np.argmax(outside)]
            raise InvalidParameterError(
                f"{int(outside.sum())} value(s) of {what} lie outside the prior box low={list(self.low)}, high={list(self.high)} "
                f"(e.g. {first.tolist()}); the simulator and the posterior are defined only inside it: widen the prior"
            )
        return th

    def contains(self, theta: np.ndarray) -> np.ndarray:
        """Boolean (M,): inside the closed box."""
        th = np.asarray(theta, dtype=np.float64).reshape(-1, self.dim)
        return np.all((th >= np.asarray(self.low)) & (th <= np.asarray(self.high)), axis=1)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n draws, shape (n, dim)."""
        return rng.uniform(self.low, self.high, size=(int(n), self.dim))

    def log_prob(self, theta: np.ndarray) -> np.ndarray:
        """−log(volume) inside the box, −inf outside, shape (M,)."""
        inside = self.contains(theta)
        return np.where(inside, -np.log(self.volume), -np.inf)

    def to_torch(self, device: Any = "cpu") -> Any:
        """The same prior as sbi's BoxUniform (a torch distribution) on ``device``."""
        import torch
        from sbi.utils import BoxUniform

        return BoxUniform(torch.tensor(self.low, dtype=torch.float32), torch.tensor(self.high, dtype=torch.float32),
                          device=str(device))
