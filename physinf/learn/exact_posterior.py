"""Reference posteriors from per-event morphing components: exact at parton level.

Per event the density of the observables is a polynomial in θ over the cross section,
p(x|θ) = U(x)·f(θ)/σ(θ) × (a factor common to all θ), so N i.i.d. observed events give

    log p(θ|x_1..N) = Σ_n log[U_n·f(θ)] − N log σ(θ) + log prior(θ) + const,

evaluated on a θ grid (:class:`physinf.learn.grid.GridPosterior`: exact up to grid resolution).
The rate (the number of events) is not used: every method here infers from the shape of N
events (the Poisson term of an extended likelihood would be Σ-free and exact: add it to the log
posterior if the event count is part of the measurement).

Where U comes from:

* :meth:`ReferencePosterior.exact` — the unlabelled components of the sample
  (:func:`physinf.simulate.unlabelled_components`: the matrix element summed over the jet
  assignments a detector cannot tell apart): the exact posterior of what is observed at parton
  level;
* :meth:`ReferencePosterior.from_quadratic_ratio` — U = (1, ρ̂(x)) from a trained
  :class:`physinf.learn.QuadraticRatioEstimator` (ρ̂_c = E[w_c/w_SM | x]): the unbinned likelihood
  of the *learned* ratio, the reference at detector level, where no exact density exists;
* any (N, C) array, e.g. ``sample.weight_components``: the labelled (joint) likelihood, which is
  the exact posterior of the index-level simulator itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from physinf.errors import InvalidParameterError
from physinf.learn.grid import GridPosterior
from physinf.learn.simulator import EventSimulator

__all__ = ["ReferencePosterior"]


class ReferencePosterior:
    """Posteriors of observed events (indices into the simulator's sample) from components (N, C)."""

    def __init__(self, simulator: EventSimulator, components: np.ndarray, *, kind: str = "components",
                 sigma_components: np.ndarray | None = None) -> None:
        if not isinstance(simulator, EventSimulator):
            raise InvalidParameterError(f"simulator must be a physinf.learn.EventSimulator, got {type(simulator).__name__}")
        U = np.asarray(components, dtype=np.float64)
        shape = simulator.sample.weight_components.shape
        if U.shape != shape:
            raise InvalidParameterError(f"components must have the sample's shape {shape} (events x morphing components), got {U.shape}")
        if not np.all(np.isfinite(U)):
            raise InvalidParameterError(f"{int(np.sum(~np.isfinite(U).all(axis=1)))} events have non-finite components")
        S = simulator.sample.sigma_components if sigma_components is None else np.asarray(sigma_components, dtype=np.float64)
        if S.shape != (shape[1],):
            raise InvalidParameterError(f"sigma_components must have shape ({shape[1]},), got {S.shape}")
        self.simulator, self.components, self.sigma_components, self.kind = simulator, U, S, kind

    @classmethod
    def exact(cls, simulator: EventSimulator, *, components: np.ndarray | None = None, **options: Any) -> ReferencePosterior:
        """The exact parton-level posterior: U = unlabelled components of the simulator's sample
        (computed here unless given: one matrix-element evaluation per jet assignment)."""
        if components is None:
            from physinf.simulate import unlabelled_components

            components = unlabelled_components(simulator.sample, **options)
        return cls(simulator, components, kind="exact")

    @classmethod
    def from_quadratic_ratio(cls, simulator: EventSimulator, estimator: Any, features: Sequence[str] | None = None) -> ReferencePosterior:
        """The unbinned likelihood of a learned quadratic ratio: U_n = (1, ρ̂(x_n)) (the SM part
        factored out per event, which no θ sees)."""
        from physinf.learn.data import feature_matrix
        from physinf.learn.ratio import QuadraticRatioEstimator

        if not isinstance(estimator, QuadraticRatioEstimator):
            raise InvalidParameterError(f"estimator must be a fitted QuadraticRatioEstimator, got {type(estimator).__name__}")
        features = estimator.features if features is None else tuple(features)
        rho = estimator.component_ratios(feature_matrix(simulator.sample, features))
        U = np.concatenate([np.ones((len(rho), 1)), rho], axis=1)
        if U.shape != simulator.sample.weight_components.shape:
            raise InvalidParameterError(f"the estimator's {U.shape[1]} components do not match the sample's monomials {simulator.sample.powers.tolist()}")
        return cls(simulator, U, kind="learned quadratic ratio")

    # ------------------------------------------------------------------ likelihood and posterior
    def _check_indices(self, indices: Any) -> np.ndarray:
        idx = np.asarray(indices)
        if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
            raise InvalidParameterError(f"observed events are given as a non-empty 1-D array of event indices, got shape {idx.shape} ({idx.dtype})")
        if idx.min() < 0 or idx.max() >= len(self.components):
            raise InvalidParameterError(f"event indices must lie in [0, {len(self.components)}), got [{idx.min()}, {idx.max()}]")
        return idx

    def log_likelihood(self, indices: Any, theta: Any) -> np.ndarray:
        """Σ_n log[U_n·f(θ)] − N log σ(θ) for the events ``indices`` at each θ (M, k) -> (M,)."""
        idx = self._check_indices(indices)
        F = self.simulator.monomials(theta)
        # events repeat (draws with replacement): evaluate each distinct event once
        unique, counts = np.unique(idx, return_counts=True)
        dens = self.components[unique] @ F.T  # (n_unique, M)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_event = np.where(dens > 0, np.log(np.where(dens > 0, dens, 1.0)), -np.inf)
            sigma = F @ self.sigma_components
            return counts @ per_event - len(idx) * np.where(sigma > 0, np.log(np.where(sigma > 0, sigma, 1.0)), np.inf)

    def fisher_information(self, theta: Any) -> np.ndarray:
        """Per-event Fisher information of the free coefficients at one θ, (k, k):
        E[t tᵀ] with t = ∇_θ log[U·f(θ)] − ∇_θ log σ(θ) the score of the observed event, averaged
        over the sample's events at θ. N events carry N times this; 1/sqrt(N I) is the width a
        posterior approaches for large N (Bernstein–von Mises)."""
        from theory.morphing import monomial_gradients

        full = self.simulator.full_theta(theta)
        if len(full) != 1:
            raise InvalidParameterError("fisher_information takes one θ")
        f = self.simulator.monomials(theta)[0]
        G = monomial_gradients(self.simulator.sample.powers, full[0])[:, self.simulator.index]  # (C, k)
        dens = self.components @ f
        ok = dens > 0
        t = self.components[ok] @ G / dens[ok, None] - (self.sigma_components @ G) / (self.sigma_components @ f)
        p = self.simulator.probabilities(theta)[ok]
        return np.einsum("n,ni,nj->ij", p / p.sum(), t, t)

    def posterior(self, indices: Any, *, resolution: tuple[int, int] | None = None) -> GridPosterior:
        """The posterior of the observed events on a θ grid (uniform prior: the likelihood, normalised)."""
        idx = self._check_indices(indices)
        return GridPosterior.from_log_function(lambda th: self.log_likelihood(idx, th), self.simulator.prior,
                                               names=self.simulator.labels, resolution=resolution)
