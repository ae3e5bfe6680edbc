"""EFT morphing: a rate that is a polynomial in the Wilson coefficients θ.

For dimension-6 operators at O(1/Λ⁴) every differential rate is

    w(z|θ) = Σ_c f_c(θ) w_c(z),   f_c(θ) = Π_i θ_i^{k_ci},

with one *morphing component* w_c per monomial k_c (SM, c_i, c_i c_j). This module is the one
home of the monomials, their values and gradients, and the basis inversion that turns weights
known at K benchmark points θ_k (MadGraph reweighting, Pythia runs at several θ) into the
components: w_k = Σ_c F_kc w_c with F_kc = f_c(θ_k), solved by least squares. The inversion is
refused when the benchmarks do not determine every component (rank(F) < C): it names the
monomials left undetermined instead of returning a silently wrong fit.

References: Brehmer, Cranmer, Kling, Plehn, arXiv:1612.05261 (morphing); MadMiner,
arXiv:1907.10621 §2.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from theory.errors import InvalidParameterError

__all__ = [
    "MorphingFit",
    "components_from_benchmarks",
    "monomial_gradients",
    "monomial_names",
    "monomial_values",
    "monomials",
    "morphing_matrix",
]


def monomials(n_coefficients: int, max_degree: int) -> np.ndarray:
    """All exponent vectors k with sum(k) <= max_degree, SM (all zeros) first.

    Ordered by total degree, then lexicographically descending, e.g. for two
    coefficients: 1, c1, c2, c1^2, c1 c2, c2^2. Count: C(n + d, d).

    >>> monomials(2, 2).tolist()
    [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]
    """
    rows = []
    for degree in range(max_degree + 1):
        for combo in itertools.combinations_with_replacement(range(n_coefficients), degree):
            k = [0] * n_coefficients
            for i in combo:
                k[i] += 1
            rows.append(k)
    return np.array(rows, dtype=int).reshape(len(rows), n_coefficients)


def monomial_values(powers: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """f_c(theta) for each monomial row of ``powers``; theta may be (n,) or (m, n).

    >>> monomial_values(monomials(2, 2), [2.0, 3.0]).tolist()   # 1, c1, c2, c1², c1 c2, c2²
    [1.0, 2.0, 3.0, 4.0, 6.0, 9.0]
    """
    theta = np.asarray(theta, dtype=float)
    return np.prod(theta[..., None, :] ** powers, axis=-1)


def monomial_gradients(powers: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """d f_c / d theta_i, shape (..., n_components, n_coefficients)."""
    theta = np.asarray(theta, dtype=float)
    n = powers.shape[1]
    out = np.zeros(theta.shape[:-1] + powers.shape)
    for i in range(n):
        lowered = powers.copy()
        lowered[:, i] = np.maximum(lowered[:, i] - 1, 0)
        out[..., i] = powers[:, i] * np.prod(theta[..., None, :] ** lowered, axis=-1)
    return out


def monomial_names(powers: np.ndarray, coefficients: tuple[str, ...] | list[str]) -> list[str]:
    """Readable names of the monomials: "SM", "cHW", "cHW^2", "cHW*cHWtil"."""
    out = []
    for row in np.asarray(powers, dtype=int):
        factors = [c if k == 1 else f"{c}^{k}" for c, k in zip(coefficients, row) if k > 0]
        out.append("*".join(factors) if factors else "SM")
    return out


def morphing_matrix(powers: np.ndarray, thetas: np.ndarray) -> np.ndarray:
    """F_kc = f_c(θ_k) for benchmark points ``thetas`` (K, n): weights at θ_k are F @ components."""
    thetas = np.atleast_2d(np.asarray(thetas, dtype=float))
    powers = np.asarray(powers, dtype=int)
    if thetas.shape[1] != powers.shape[1]:
        raise InvalidParameterError(
            f"benchmark points have {thetas.shape[1]} coefficients, the monomials {powers.shape[1]}"
        )
    return monomial_values(powers, thetas)


@dataclass(frozen=True)
class MorphingFit:
    """Components fitted from benchmark weights, with the quality of the inversion.

    components: (N, C); condition: condition number of F (large = benchmark points close to
    degenerate, errors amplified by up to this factor); max_rel_residual: the largest
    |F w_c − w_k| / max_k |w_k| over events and benchmarks (≈ 0 when K = C, a consistency
    check of the polynomial when K > C).
    """

    components: np.ndarray
    condition: float
    max_rel_residual: float


def components_from_benchmarks(
    powers: np.ndarray,
    thetas: np.ndarray,
    weights: np.ndarray,
    *,
    coefficients: tuple[str, ...] | list[str] | None = None,
    rcond: float = 1e-10,
) -> MorphingFit:
    """Solve w_k(z) = Σ_c f_c(θ_k) w_c(z) for the components w_c (least squares over k).

    thetas: (K, n) benchmark points; weights: (N, K) event weights at them. Refuses with an
    InvalidParameterError that names the undetermined monomials when rank(F) < C (e.g. one
    benchmark per operator fixes the linear but not the quadratic terms): pass ``powers`` of a
    lower degree to fit a truncated polynomial on purpose.
    """
    powers = np.asarray(powers, dtype=int)
    F = morphing_matrix(powers, thetas)
    weights = np.asarray(weights, dtype=float)
    if weights.ndim != 2 or weights.shape[1] != F.shape[0]:
        raise InvalidParameterError(f"weights must have shape (N, {F.shape[0]}) (one column per benchmark), got {weights.shape}")
    if not np.all(np.isfinite(weights)):
        raise InvalidParameterError("benchmark weights contain NaN or inf")
    u, s, vt = np.linalg.svd(F, full_matrices=True)
    rank = int(np.sum(s > rcond * s[0])) if s.size else 0
    if rank < powers.shape[0]:
        names = monomial_names(powers, coefficients or [f"theta{i}" for i in range(powers.shape[1])])
        null = vt[rank:]
        undetermined = [names[c] for c in range(powers.shape[0]) if np.max(np.abs(null[:, c])) > 1e-8]
        raise InvalidParameterError(
            f"{F.shape[0]} benchmark points determine only {rank} of the {powers.shape[0]} morphing components; "
            f"undetermined: {', '.join(undetermined)}. Add benchmark points that vary these monomials "
            f"independently, or fit a lower-degree polynomial (fewer monomials) on purpose."
        )
    components = np.linalg.lstsq(F, weights.T, rcond=None)[0].T
    scale = np.max(np.abs(weights), axis=1, keepdims=True)
    scale = np.where(scale > 0, scale, 1.0)
    residual = float(np.max(np.abs(components @ F.T - weights) / scale, initial=0.0))
    return MorphingFit(components, float(s[0] / s[rank - 1]), residual)
