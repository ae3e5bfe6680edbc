"""Fisher information of binned, rate-only and unbinned (truth-level) measurements, and the
expected interval widths it implies.

Extended likelihood with luminosity L (events = σ·L):

- binned: I_ij = Σ_b ∂_i n_b ∂_j n_b / (n_b + B_b), n_b the signal events, B_b the background;
- rate only: the same with one bin;
- unbinned (parton level, per event): I_ij = L Σ_n ∂_iσ_n ∂_jσ_n / (σ_n + b_n), with b_n an
  optional per-event background weight (0 reproduces ``theory.scores.truth_fisher_information``).

Cramér–Rao: the expected two-sided interval at confidence ``level`` has width 2·z/√I_ii(eff)
with z = √χ²₁(level) (1.96 at 95% CL). With several coefficients the profiled width uses
1/(I⁻¹)_ii. These are local (at θ) and asymptotic: for a CP-odd coefficient at the SM the
rate term vanishes, and when I is ~0 the width is set by the quadratic term (use scans).

References: MadMiner (arXiv:1907.10621) §Fisher information; Brehmer et al. arXiv:1612.05261.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import chi2

from physinf.stats.errors import InvalidModelError
from physinf.stats.templates import Templates
from theory.units import PB_PER_FB

__all__ = [
    "binned_fisher_information",
    "expected_width",
    "rate_fisher_information",
    "score_fisher_information",
    "unbinned_fisher_information",
]


def binned_fisher_information(
    templates: Templates, theta: Sequence[float] | dict | None = None, background: np.ndarray | None = None
) -> np.ndarray:
    """I_ij = Σ_b ∂_i n_b ∂_j n_b / (n_b + B_b) in events (templates already carry the luminosity)."""
    theta = templates.theta_vector(theta if theta is not None else {})
    n = templates.yields_at(theta) + (0.0 if background is None else np.asarray(background, dtype=float))
    grad = templates.gradient_at(theta)  # (n_coef, n_bins)
    if np.any(~(n > 0) & np.any(grad != 0, axis=0)):
        raise InvalidModelError("a bin with zero or negative total expectation has a non-zero derivative; merge bins")
    safe = np.where(n > 0, n, 1.0)
    return np.einsum("ib,jb->ij", grad / safe, grad)


def rate_fisher_information(
    templates: Templates, theta: Sequence[float] | dict | None = None, background: np.ndarray | None = None
) -> np.ndarray:
    """Fisher information of the total rate only (all bins merged)."""
    merged = Templates(
        templates.edges[[0, -1]],
        templates.powers,
        templates.coefficients,
        templates.yields.sum(axis=1, keepdims=True),
        templates.sumw2.sum(axis=2, keepdims=True),
        templates.luminosity_fb,
        templates.channel,
    )
    bkg = None if background is None else np.atleast_1d(np.sum(background))
    return binned_fisher_information(merged, theta, bkg)


def unbinned_fisher_information(
    weight_components: np.ndarray,
    powers: np.ndarray,
    theta: Sequence[float],
    luminosity_fb: float,
    background_weights: np.ndarray | None = None,
) -> np.ndarray:
    """Truth-level Fisher information, I_ij = L Σ_n ∂_iσ_n ∂_jσ_n / (σ_n + b_n); L in fb⁻¹, weights in pb."""
    from theory.errors import InvalidParameterError
    from theory.scores import truth_fisher_information

    try:
        return truth_fisher_information(powers, weight_components, np.atleast_1d(np.asarray(theta, dtype=float)),
                                        luminosity_fb * PB_PER_FB, background_weights)
    except InvalidParameterError as err:
        raise InvalidModelError(str(err)) from err


def score_fisher_information(
    weights: np.ndarray,
    score: np.ndarray,
    d_log_sigma: Sequence[float],
    luminosity_fb: float,
    background_weights: np.ndarray | None = None,
) -> np.ndarray:
    """Unbinned Fisher information of an observable whose exact per-event score is known.

    ``score`` (N, n): d log p(x|θ) with the rate term removed, as EventSample.joint_score and
    physinf.simulate.marginal_score return it; ``d_log_sigma`` (n,): d log σ/dθ. With the event
    weights w_n (pb) and per-event background b_n: I = L Σ_n w_n² s_n s_nᵀ / (w_n + b_n),
    s_n = t_n + d log σ. For the labelled joint score this is the truth-level information
    (:func:`unbinned_fisher_information`); for the score of the observables, what they hold.
    """
    w = np.asarray(weights, dtype=float)
    s = np.asarray(score, dtype=float).reshape(len(w), -1) + np.asarray(d_log_sigma, dtype=float)
    denom = w + (0.0 if background_weights is None else np.asarray(background_weights, dtype=float))
    if np.any(denom <= 0):
        raise InvalidModelError("event weights (plus background) must be positive for the Fisher information")
    ws = w[:, None] * s
    return luminosity_fb * PB_PER_FB * np.einsum("ni,nj->ij", ws / denom[:, None], ws)


def expected_width(information: np.ndarray, index: int = 0, level: float = 0.95, profiled: bool = True) -> float:
    """Expected interval width 2·z/√I_eff for coefficient ``index`` (inf when I is 0)."""
    info = np.atleast_2d(np.asarray(information, dtype=float))
    z = float(np.sqrt(chi2.ppf(level, 1)))
    if profiled and info.shape[0] > 1:
        try:
            var = float(np.linalg.inv(info)[index, index])
        except np.linalg.LinAlgError:
            return float("inf")
        return 2 * z * np.sqrt(var) if var > 0 else float("inf")
    ii = float(info[index, index])
    return 2 * z / np.sqrt(ii) if ii > 0 else float("inf")
