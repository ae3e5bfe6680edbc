"""The positivity check: the total expected yield must stay positive inside the coefficient bounds.

Interference templates have negative bins, so the total expected yield can go negative for large
|c|, where the Poisson log-likelihood is undefined (pyhf returns NaN). No clipping is applied (it
biases). Instead the workspace builder checks, channel by channel, that every bin's total nominal
yield is positive everywhere inside the coefficient bounds and raises :class:`InvalidModelError`
otherwise, naming the channel, the bin and the offending point. Fits and scans stay inside the
bounds; outside them the model is not defined.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np

from physinf.stats.errors import InvalidModelError
from physinf.stats.templates import Templates

__all__ = ["check_positive_yields"]


def _grid(lo: np.ndarray, hi: np.ndarray, n_grid: int) -> np.ndarray:
    """Points covering the bounds box: a dense grid (with 0 and the corners) up to 3 dimensions, else random."""
    n = len(lo)
    if n == 0:
        return np.zeros((1, 0))
    if n <= 3:
        per_axis = {1: 20 * n_grid + 1, 2: 2 * n_grid + 1, 3: 41}[n]
        axes = [
            np.unique(np.concatenate([np.linspace(a, b, per_axis), [0.0] if a <= 0 <= b else []]))
            for a, b in zip(lo, hi, strict=True)
        ]
        return np.array(list(itertools.product(*axes)))
    rng = np.random.default_rng(0)
    corners = np.array(list(itertools.product(*zip(lo, hi, strict=True))))
    return np.concatenate([lo + (hi - lo) * rng.random((20000, n)), corners])


def check_positive_yields(
    templates: Templates, background: np.ndarray, bounds: Mapping[str, tuple[float, float]], n_grid: int = 100
) -> None:
    """Raise InvalidModelError unless SM + Σ f_k(c) T_k + background > 0 in every bin for all c in the bounds box.

    The minimum over the box is found per bin from a grid (plus the box corners) refined by L-BFGS-B.
    """
    from scipy.optimize import minimize

    names = templates.coefficients
    lo = np.array([bounds[c][0] for c in names])
    hi = np.array([bounds[c][1] for c in names])
    grid = _grid(lo, hi, n_grid)
    f = np.prod(grid[:, None, :] ** templates.powers[None, :, :], axis=2)  # (n_pts, n_comp)
    totals = f @ templates.yields + background[None, :]
    for b in range(templates.n_bins):
        i = int(np.argmin(totals[:, b]))
        res = minimize(
            lambda c, b=b: float(templates.yields_at(c)[b] + background[b]),
            grid[i],
            bounds=list(zip(lo, hi, strict=True)),
            method="L-BFGS-B",
        )
        low, at = (res.fun, res.x) if res.fun < totals[i, b] else (totals[i, b], grid[i])
        if not low > 0:
            point = ", ".join(f"{c}={v:.4g}" for c, v in zip(names, at, strict=True))
            raise InvalidModelError(
                f"the total expected yield in channel {templates.channel!r} bin {b} "
                f"[{templates.edges[b]:.4g}, {templates.edges[b + 1]:.4g}) reaches {low:.4g} <= 0 at {point} inside "
                "the coefficient bounds; the Poisson likelihood is undefined there. "
                "Narrow the bounds (or use templates with a positive quadratic term); yields are never clipped."
            )
