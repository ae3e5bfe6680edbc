"""Per-monomial histogram templates of an observable, with Monte-Carlo statistical errors.

The yield in bin b at coefficients θ is n_b(θ) = Σ_k f_k(θ) T_kb with f_k(θ) = Π_j θ_j^{p_kj}
(``powers`` row k; row 0 the SM). Templates are in expected events: T_kb = L Σ_{n in b} w_nk,
with w in pb and L in fb⁻¹ (1 fb⁻¹ = 1000 pb⁻¹, :data:`theory.units.PB_PER_FB`). The MC variance
at any θ is f(θ)ᵀ S_b f(θ) with S_klb = L² Σ_{n in b} w_nk w_nl, so errors stay right when
components are correlated (they come from the same events).

Templates belong to one channel (a signal or control region, named by ``channel``); a
likelihood combines channels that share the coefficients (:mod:`physinf.stats.workspace`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from physinf.stats.errors import InvalidModelError, UnknownCoefficientError
from theory.morphing import monomial_gradients, monomial_values
from theory.units import PB_PER_FB

__all__ = [
    "DEFAULT_CHANNEL",
    "Templates",
    "check_channel_name",
    "check_coefficient_names",
    "component_label",
    "histogram_templates",
    "templates_from_sample",
]

#: channel name of templates that do not say otherwise (the signal region)
DEFAULT_CHANNEL = "SR"
_CHANNEL_NAME = re.compile(r"[A-Za-z0-9_.\-]+")


def check_coefficient_names(names: Iterable[str], known: Sequence[str], owner: str = "the model") -> None:
    """Raise UnknownCoefficientError (with a "did you mean") for the first name not in ``known``."""
    for name in names:
        if name not in known:
            from physinf.errors import did_you_mean

            raise UnknownCoefficientError(
                f"unknown coefficient {name!r}; {owner} has {list(known)}." + did_you_mean(name, list(known))
            )


def check_channel_name(name: object) -> str:
    """A channel name: letters, digits, ``_``, ``.`` and ``-`` (it ends up in parameter names)."""
    if not (isinstance(name, str) and _CHANNEL_NAME.fullmatch(name)):
        raise InvalidModelError(f"a channel name must be a non-empty string of letters, digits, '_', '.' or '-', got {name!r}")
    return name


def component_label(powers_row: Sequence[int], names: Sequence[str]) -> str:
    """'sm', 'cHW', 'cHW_cHW', 'cHW_cHWtil': a name-safe label of one monomial."""
    parts = [n for n, k in zip(names, powers_row, strict=True) for _ in range(int(k))]
    return "_".join(parts) if parts else "sm"


def _check_powers(powers: np.ndarray, names: Sequence[str]) -> np.ndarray:
    powers = np.asarray(powers)
    if powers.ndim != 2 or not np.issubdtype(powers.dtype, np.integer) or np.any(powers < 0):
        raise InvalidModelError(f"powers must be a (n_comp, n_coef) array of non-negative integers, got {powers!r}")
    if powers.shape[1] != len(names):
        raise InvalidModelError(f"powers has {powers.shape[1]} columns but {len(names)} coefficient names were given")
    if np.any(powers[0] != 0):
        raise InvalidModelError("row 0 of powers must be the SM (all exponents zero)")
    if len({tuple(r) for r in powers}) != len(powers):
        raise InvalidModelError("powers has repeated rows: each monomial must appear once")
    if len(set(names)) != len(names) or not all(isinstance(n, str) and n.isidentifier() for n in names):
        raise InvalidModelError(f"coefficient names must be distinct identifiers, got {list(names)}")
    return powers.astype(int)


def _check_edges(edges: np.ndarray) -> np.ndarray:
    edges = np.asarray(edges, dtype=float)
    if edges.ndim != 1 or len(edges) < 2 or not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0):
        raise InvalidModelError(f"bin edges must be a finite, strictly increasing 1D array of length >= 2, got {edges!r}")
    return edges


@dataclass(frozen=True)
class Templates:
    """Binned per-monomial yields (events) and their MC second moments, in one channel."""

    edges: np.ndarray  # (n_bins + 1,)
    powers: np.ndarray  # (n_comp, n_coef), row 0 SM
    coefficients: tuple[str, ...]
    yields: np.ndarray  # (n_comp, n_bins) expected events
    sumw2: np.ndarray  # (n_comp, n_comp, n_bins) events²
    luminosity_fb: float  # fb⁻¹
    channel: str = DEFAULT_CHANNEL

    def __post_init__(self) -> None:
        _check_powers(self.powers, self.coefficients)
        _check_edges(self.edges)
        check_channel_name(self.channel)
        n_comp, n_bins = len(self.powers), len(self.edges) - 1
        if self.yields.shape != (n_comp, n_bins) or self.sumw2.shape != (n_comp, n_comp, n_bins):
            raise InvalidModelError(
                f"template shapes {self.yields.shape}, {self.sumw2.shape} do not match {n_comp} components x {n_bins} bins"
            )
        if not (np.all(np.isfinite(self.yields)) and np.all(np.isfinite(self.sumw2))):
            raise InvalidModelError("templates contain non-finite yields; check the event weights")

    @property
    def n_bins(self) -> int:
        return len(self.edges) - 1

    @property
    def labels(self) -> list[str]:
        return [component_label(r, self.coefficients) for r in self.powers]

    def theta_vector(self, theta: dict[str, float] | Sequence[float] | np.ndarray) -> np.ndarray:
        """θ as an array in coefficient order; a dict may omit coefficients (they are 0)."""
        if isinstance(theta, dict):
            check_coefficient_names(sorted(theta), self.coefficients, "the templates")
            return np.array([float(theta.get(c, 0.0)) for c in self.coefficients])
        arr = np.atleast_1d(np.asarray(theta, dtype=float))
        if arr.shape != (len(self.coefficients),):
            raise InvalidModelError(f"theta must have {len(self.coefficients)} entries {self.coefficients}, got {arr.shape}")
        return arr

    def yields_at(self, theta: dict[str, float] | Sequence[float] | np.ndarray) -> np.ndarray:
        """Expected signal events per bin at θ."""
        return monomial_values(self.powers, self.theta_vector(theta)) @ self.yields

    def stat_error_at(self, theta: dict[str, float] | Sequence[float] | np.ndarray) -> np.ndarray:
        """MC statistical error (events) per bin at θ."""
        f = monomial_values(self.powers, self.theta_vector(theta))
        return np.sqrt(np.maximum(np.einsum("k,klb,l->b", f, self.sumw2, f), 0.0))

    def gradient_at(self, theta: dict[str, float] | Sequence[float] | np.ndarray) -> np.ndarray:
        """∂n_b/∂θ_i, shape (n_coef, n_bins)."""
        return monomial_gradients(self.powers, self.theta_vector(theta)).T @ self.yields


def histogram_templates(
    observable: np.ndarray,
    weight_components: np.ndarray,
    powers: np.ndarray,
    coefficients: Sequence[str],
    edges: np.ndarray,
    luminosity_fb: float,
    channel: str = DEFAULT_CHANNEL,
) -> Templates:
    """Histogram each weight component of N events into per-monomial templates.

    Args:
        observable: (N,) values; events outside [edges[0], edges[-1]] are dropped (choose edges
            that cover the range if that is not wanted).
        weight_components: (N, n_comp) morphing weights in pb.
        powers: (n_comp, n_coef) exponents, row 0 the SM.
        coefficients: the n_coef coefficient names.
        edges: bin edges.
        luminosity_fb: integrated luminosity in fb⁻¹.
        channel: the name of the channel (region) these templates describe.
    """
    coefficients = tuple(coefficients)
    powers = _check_powers(powers, coefficients)
    edges = _check_edges(edges)
    x = np.asarray(observable, dtype=float)
    w = np.asarray(weight_components, dtype=float)
    if x.ndim != 1 or w.ndim != 2 or w.shape != (len(x), len(powers)):
        raise InvalidModelError(
            f"observable must be (N,) and weight_components (N, {len(powers)}); got {x.shape} and {w.shape}"
        )
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(w))):
        raise InvalidModelError("observable or weights contain NaN/inf; remove or fix those events first")
    if not (np.isfinite(luminosity_fb) and luminosity_fb > 0):
        raise InvalidModelError(f"luminosity_fb must be a positive number of fb^-1, got {luminosity_fb}")
    check_channel_name(channel)
    scale = luminosity_fb * PB_PER_FB
    idx = np.searchsorted(edges, x, side="right") - 1
    idx[x == edges[-1]] = len(edges) - 2
    keep = (idx >= 0) & (idx < len(edges) - 1)
    idx, w = idx[keep], w[keep]
    n_bins, n_comp = len(edges) - 1, len(powers)
    yields = np.zeros((n_comp, n_bins))
    sumw2 = np.zeros((n_comp, n_comp, n_bins))
    for k in range(n_comp):
        yields[k] = np.bincount(idx, weights=w[:, k], minlength=n_bins) * scale
        for m in range(k, n_comp):
            s = np.bincount(idx, weights=w[:, k] * w[:, m], minlength=n_bins) * scale**2
            sumw2[k, m] = sumw2[m, k] = s
    return Templates(edges, powers, coefficients, yields, sumw2, float(luminosity_fb), channel)


def templates_from_sample(
    sample: object, observable: str, edges: np.ndarray, luminosity_fb: float, channel: str = DEFAULT_CHANNEL
) -> Templates:
    """:func:`histogram_templates` for a ``physinf.simulate.EventSample``."""
    obs = getattr(sample, "observables", {})
    if observable not in obs:
        from physinf.errors import UnknownNameError, did_you_mean

        raise UnknownNameError(
            f"the sample has no observable {observable!r}; it has {sorted(obs)}." + did_you_mean(observable, sorted(obs))
        )
    return histogram_templates(
        obs[observable], sample.weight_components, sample.powers, tuple(sample.coefficients), edges, luminosity_fb, channel
    )
