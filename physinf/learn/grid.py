"""A posterior of one or two Wilson coefficients evaluated on a grid: densities, intervals, samples.

For a box prior of dimension k ≤ 2 the most accurate way to use any log posterior — the exact
one, or a learned likelihood or ratio summed over events — is to evaluate it on a grid. Two
passes: a coarse grid over the whole box finds where the posterior lives (cells within 25 units
of log density of the maximum, plus one cell of margin); a fine grid over that region (cell
centres, uniform spacing) carries the density. What lies outside the fine region is below
e⁻²⁵ of the peak per coarse cell and is neglected. ``log_prob`` is the function itself minus
the grid's log normaliser (quadrature error O(h²)); samples are cells drawn by probability
with a uniform position inside the cell; intervals come from the marginal CDF, piecewise
linear between cell edges.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from physinf.errors import InvalidParameterError
from physinf.learn.prior import BoxPrior

__all__ = ["DEFAULT_RESOLUTION", "GridPosterior"]

# (coarse, fine) points per dimension, by the number of dimensions
DEFAULT_RESOLUTION = {1: (64, 400), 2: (24, 64)}
_LOG_WINDOW = 25.0

LogFunction = Callable[[np.ndarray], np.ndarray]


def _centres(lo: float, hi: float, n: int) -> np.ndarray:
    h = (hi - lo) / n
    return lo + h * (np.arange(n) + 0.5)


def _mesh(axes: Sequence[np.ndarray]) -> np.ndarray:
    return np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)


class GridPosterior:
    """A normalised posterior on a fine grid over the region of the box where it lives.

    Build with :meth:`from_log_function` (any log posterior up to a constant, θ of shape
    (G, k) -> (G,), −inf allowed)."""

    def __init__(self, prior: BoxPrior, names: Sequence[str], axes: Sequence[np.ndarray], log_values: np.ndarray,
                 log_function: LogFunction | None = None) -> None:
        self.prior, self.names = prior, tuple(names)
        self.axes = [np.asarray(a, dtype=np.float64) for a in axes]
        self.widths = np.array([a[1] - a[0] if len(a) > 1 else 1.0 for a in self.axes])
        values = np.asarray(log_values, dtype=np.float64).reshape([len(a) for a in self.axes])
        if not np.isfinite(values).any():
            raise InvalidParameterError("the log posterior is -inf (or NaN) everywhere on the grid: no θ in the prior box is allowed")
        values = np.where(np.isnan(values), -np.inf, values)
        peak = values.max()
        cell = float(np.prod(self.widths))
        self.log_normaliser = float(peak + np.log(np.sum(np.exp(values - peak)) * cell))
        self.log_density = values - self.log_normaliser
        self.probabilities = np.exp(self.log_density) * cell  # mass per cell, sums to 1
        self._function = log_function

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_log_function(cls, function: LogFunction, prior: BoxPrior, *, names: Sequence[str] | None = None,
                          resolution: tuple[int, int] | None = None) -> GridPosterior:
        """Evaluate ``function`` (log posterior up to a constant) on a coarse, then a fine grid."""
        k = prior.dim
        if k > 2:
            raise InvalidParameterError(
                f"grid posteriors cover one or two coefficients, the prior has {k}; use posterior samples "
                "(sampler='mcmc') for more"
            )
        coarse, fine = resolution if resolution is not None else DEFAULT_RESOLUTION[k]
        if min(coarse, fine) < 2:
            raise InvalidParameterError(f"grid resolution must be at least 2 points per dimension, got {(coarse, fine)}")
        low, high = np.asarray(prior.low), np.asarray(prior.high)
        axes = [_centres(lo, hi, coarse) for lo, hi in zip(low, high)]
        values = np.asarray(function(_mesh(axes)), dtype=np.float64).reshape([coarse] * k)
        values = np.where(np.isnan(values), -np.inf, values)
        if not np.isfinite(values).any():
            raise InvalidParameterError("the log posterior is -inf (or NaN) everywhere on the grid: no θ in the prior box is allowed")
        alive = np.argwhere(values > values.max() - _LOG_WINDOW)
        h = (high - low) / coarse
        lo_cell = np.maximum(alive.min(axis=0) - 1, 0)
        hi_cell = np.minimum(alive.max(axis=0) + 1, coarse - 1)
        region_lo = low + h * lo_cell
        region_hi = low + h * (hi_cell + 1)
        fine_axes = [_centres(lo, hi, fine) for lo, hi in zip(region_lo, region_hi)]
        fine_values = np.asarray(function(_mesh(fine_axes)), dtype=np.float64)
        return cls(prior, names if names is not None else prior.labels(), fine_axes, fine_values, function)

    # ------------------------------------------------------------------ densities
    @property
    def dim(self) -> int:
        return len(self.axes)

    @property
    def points(self) -> np.ndarray:
        """Cell centres, (G, k)."""
        return _mesh(self.axes)

    def log_prob(self, theta: Any) -> np.ndarray:
        """Normalised log density at θ (M, k): the function minus the grid's log normaliser."""
        th = np.asarray(theta, dtype=np.float64).reshape(-1, self.dim)
        inside = self.prior.contains(th)
        out = np.full(len(th), -np.inf)
        if self._function is None:
            raise InvalidParameterError("this grid posterior keeps no function to evaluate; use log_density on its grid")
        if inside.any():
            out[inside] = np.asarray(self._function(th[inside]), dtype=np.float64) - self.log_normaliser
        return out

    def interpolated_log_density(self, theta: Any) -> np.ndarray:
        """The grid's normalised log density at θ (M, k), linear between cell centres (no new
        evaluation of the function); −inf outside the grid's region."""
        th = np.asarray(theta, dtype=np.float64).reshape(-1, self.dim)
        inside = np.ones(len(th), dtype=bool)
        pos = []
        for i, axis in enumerate(self.axes):
            h = self.widths[i]
            inside &= (th[:, i] >= axis[0] - h / 2) & (th[:, i] <= axis[-1] + h / 2)
            pos.append(np.clip((th[:, i] - axis[0]) / h, 0.0, len(axis) - 1.0))
        dens = np.exp(self.log_density)
        if self.dim == 1:
            values = np.interp(pos[0], np.arange(len(self.axes[0])), dens)
        else:
            i0 = [np.minimum(np.floor(p).astype(int), len(a) - 2) for p, a in zip(pos, self.axes)]
            f = [p - i for p, i in zip(pos, i0)]
            values = ((1 - f[0]) * (1 - f[1]) * dens[i0[0], i0[1]] + f[0] * (1 - f[1]) * dens[i0[0] + 1, i0[1]]
                      + (1 - f[0]) * f[1] * dens[i0[0], i0[1] + 1] + f[0] * f[1] * dens[i0[0] + 1, i0[1] + 1])
        with np.errstate(divide="ignore"):
            return np.where(inside & (values > 0), np.log(np.where(values > 0, values, 1.0)), -np.inf)

    def marginal(self, coefficient: int | str = 0) -> tuple[np.ndarray, np.ndarray]:
        """(cell centres, density) of one coefficient's marginal."""
        i = self._axis(coefficient)
        other = tuple(j for j in range(self.dim) if j != i)
        mass = self.probabilities.sum(axis=other) if other else self.probabilities
        return self.axes[i], mass / self.widths[i]

    def mean(self) -> np.ndarray:
        p = self.probabilities.ravel()
        return p @ self.points

    def cov(self) -> np.ndarray:
        p = self.probabilities.ravel()
        d = self.points - self.mean()
        return np.einsum("g,gi,gj->ij", p, d, d) + np.diag(self.widths**2 / 12.0)

    def std(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov()))

    def credible_interval(self, level: float = 0.68, coefficient: int | str = 0) -> tuple[float, float]:
        """The central (equal-tailed) interval of one coefficient's marginal holding ``level``."""
        if not 0 < level < 1:
            raise InvalidParameterError(f"level must lie in (0, 1), got {level}")
        i = self._axis(coefficient)
        centres, density = self.marginal(i)
        h = self.widths[i]
        edges = np.concatenate([[centres[0] - h / 2], centres + h / 2])
        cdf = np.concatenate([[0.0], np.cumsum(density * h)])
        cdf /= cdf[-1]
        tail = (1 - level) / 2
        lo = float(np.interp(tail, cdf, edges))
        hi = float(np.interp(1 - tail, cdf, edges))
        return lo, hi

    def hpd_credibility(self, theta: Any) -> np.ndarray:
        """For each θ (M, k): the posterior mass of the cells denser than θ (its HPD credibility)."""
        th = np.asarray(theta, dtype=np.float64).reshape(-1, self.dim)
        dens = np.exp(self.log_prob(th))  # normalised density at θ
        cell_density = np.exp(self.log_density).ravel()
        order = np.argsort(cell_density)
        cum_above = np.cumsum(self.probabilities.ravel()[order][::-1])[::-1]  # mass of cells >= each sorted cell
        pos = np.searchsorted(cell_density[order], dens, side="right")
        return np.where(pos < len(order), cum_above[np.minimum(pos, len(order) - 1)], 0.0)

    # ------------------------------------------------------------------ samples
    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n draws (n, k): a cell by its probability, then a uniform position inside it."""
        p = self.probabilities.ravel()
        cells = rng.choice(len(p), size=int(n), p=p / p.sum())
        centre = self.points[cells]
        return centre + (rng.random((int(n), self.dim)) - 0.5) * self.widths

    def _axis(self, coefficient: int | str) -> int:
        if isinstance(coefficient, str):
            if coefficient not in self.names:
                from physinf.errors import UnknownNameError, did_you_mean

                raise UnknownNameError(f"no coefficient {coefficient!r} in this posterior; it has {list(self.names)}.{did_you_mean(coefficient, self.names)}")
            return self.names.index(coefficient)
        if not 0 <= int(coefficient) < self.dim:
            raise InvalidParameterError(f"coefficient index {coefficient} out of range for {self.dim} dimension(s)")
        return int(coefficient)
