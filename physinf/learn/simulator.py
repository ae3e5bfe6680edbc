"""A simulator for simulation-based inference: unweighted events at any θ from one weighted sample.

Nothing is regenerated per θ. An EventSample carries every event's exact morphing components, so
its weight at any θ is w_n(θ) = Σ_c f_c(θ) W_nc and the sample at θ is the discrete distribution
p_n(θ) = w_n(θ)/σ(θ) over its events (its weighted histograms are exactly these probabilities).
A simulation at θ draws event indices from p_n(θ), i.i.d.:

* by rejection from one θ-independent envelope M_n = Σ_c |W_nc| max_box |f_c(θ)| ≥ w_n(θ): a
  candidate n is drawn with probability M_n/ΣM (one cumulative table for all θ) and kept with
  probability w_n(θ)/M_n, which leaves exactly p_n(θ). The expected acceptance σ(θ)/ΣM is known,
  so each θ gets enough candidates in one or two vectorised passes; cost ∝ events drawn, not N;
* every weight must be ≥ 0 everywhere in the prior box (checked exactly at construction for
  polynomials of degree ≤ 2 in the free coefficients — the minimum of a quadratic over a box,
  on every face — and on a grid of the box otherwise).

The events are as many draws from the continuous distribution as the sample's effective size
allows: draws repeat events (a sample of N weighted events with Kish size N_eff holds about
N_eff distinct ones at θ_ref). Keep the observed pseudo-data in a part of the sample the
networks never see (``EventSample.split``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from functools import cached_property
from typing import Any

import numpy as np

from physinf.errors import InvalidParameterError
from physinf.learn.prior import BoxPrior
from physinf.simulate.events import EventSample
from theory.morphing import monomial_gradients, monomial_values

__all__ = ["EventSimulator"]

_CANDIDATES_PER_BLOCK = 2_000_000


def _cumulative(probabilities: np.ndarray) -> np.ndarray:
    """The normalised cumulative table of non-negative ``probabilities`` (its last entry exactly 1)."""
    cdf = np.cumsum(probabilities) / probabilities.sum()
    cdf[-1] = 1.0
    return cdf


def _pick(cdf: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """n indices drawn from the table ``cdf`` (inverse transform of n uniforms)."""
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1)


def _check_rng(rng: Any) -> None:
    if not isinstance(rng, np.random.Generator):
        raise InvalidParameterError("rng must be a numpy Generator (np.random.default_rng(seed))")


class EventSimulator:
    """Draws unweighted events at θ (in the prior box) from the morphing weights of ``sample``.

    ``fixed``: values of the coefficients the prior does not cover (default: the sample's
    reference point). ``draw(theta, n_events, rng)`` returns event indices (M, n_events)."""

    def __init__(self, sample: EventSample, prior: BoxPrior, *, fixed: Mapping[str, float] | None = None) -> None:
        if not isinstance(sample, EventSample):
            raise InvalidParameterError(f"EventSimulator needs an EventSample, got {type(sample).__name__}")
        if not isinstance(prior, BoxPrior):
            raise InvalidParameterError(f"prior must be a physinf.learn.BoxPrior, got {type(prior).__name__}")
        if len(sample) == 0:
            raise InvalidParameterError("the sample has no events; generate (or select) some before simulating from it")
        if len(sample.coefficients) == 0:
            raise InvalidParameterError(
                f"the sample's process {sample.process!r} has no Wilson coefficients: its weights do not depend on θ, "
                "so there is nothing to infer"
            )
        W = sample.weight_components
        if not np.all(np.isfinite(W)):
            raise InvalidParameterError(f"{int(np.sum(~np.isfinite(W).all(axis=1)))} events have non-finite weight components")
        self.sample, self.prior = sample, prior
        self.coefficients = tuple(sample.coefficients)
        self.index = prior.coefficient_index(self.coefficients, f"the process {sample.process!r}")
        base = np.array(sample.theta_ref, dtype=np.float64)
        for name, value in dict(fixed or {}).items():
            if name not in self.coefficients:
                from physinf.errors import UnknownNameError, did_you_mean

                raise UnknownNameError(f"fixed names {name!r}, not a coefficient of {sample.process!r} {list(self.coefficients)}.{did_you_mean(name, self.coefficients)}")
            if name in self.labels:
                raise InvalidParameterError(f"{name!r} is both in the prior and fixed; leave it to the prior")
            base[self.coefficients.index(name)] = float(value)
        self.base_theta = base
        self._powers = np.asarray(sample.powers)
        self._W = W
        self._W_total = W.sum(axis=0)  # Σ_n W_nc: the normalisation of p_n(θ)
        self._envelope = self._W_abs_envelope()
        self._check_positive()
        self._cdf = _cumulative(self._envelope)
        self._envelope_total = float(self._envelope.sum())

    # ------------------------------------------------------------------ θ
    @property
    def labels(self) -> tuple[str, ...]:
        """The free coefficients (the prior's dimensions)."""
        return tuple(self.coefficients[i] for i in self.index)

    def full_theta(self, theta: Any) -> np.ndarray:
        """(M, n_coefficients): the prior's θ placed among the fixed values of the others."""
        th = self.prior.check(theta)
        full = np.repeat(self.base_theta[None, :], len(th), axis=0)
        full[:, self.index] = th
        return full

    def monomials(self, theta: Any) -> np.ndarray:
        """f_c(θ), shape (M, C)."""
        return monomial_values(self._powers, self.full_theta(theta))

    def cross_section(self, theta: Any) -> np.ndarray:
        """σ(θ) in pb, shape (M,) (the sample's estimate, exact polynomial in θ)."""
        return self.monomials(theta) @ self.sample.sigma_components

    def probabilities(self, theta: Any) -> np.ndarray:
        """p_n(θ) = w_n(θ)/σ(θ) for one θ, shape (N,): the distribution every draw at θ follows."""
        f = self.monomials(theta)
        if len(f) != 1:
            raise InvalidParameterError("probabilities() takes one θ")
        w = self._W @ f[0]
        return w / w.sum()

    # ------------------------------------------------------------------ drawing
    def draw(self, theta: Any, n_events: int, rng: np.random.Generator, *, progress: bool = False) -> np.ndarray:
        """Event indices (M, n_events): n_events i.i.d. draws from p_n(θ_m) for each θ_m."""
        if isinstance(n_events, bool) or not isinstance(n_events, (int, np.integer)) or n_events < 1:
            raise InvalidParameterError(f"n_events must be a positive integer, got {n_events!r}")
        _check_rng(rng)
        F = self.monomials(theta)
        n_events = int(n_events)
        accept = (F @ self.sample.sigma_components) / self._envelope_total
        out = np.empty((len(F), n_events), dtype=np.int64)
        per_row = n_events / max(float(accept.min()), 1e-12) * 1.2 + 8
        block = max(1, int(_CANDIDATES_PER_BLOCK // per_row))
        starts = range(0, len(F), block)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="simulating", unit="block")
        for lo in starts:
            out[lo : lo + block] = self._draw_block(F[lo : lo + block], accept[lo : lo + block], n_events, rng)
        return out

    def _draw_block(self, F: np.ndarray, accept: np.ndarray, n_events: int, rng: np.random.Generator) -> np.ndarray:
        rows = len(F)
        out = np.full((rows, n_events), -1, dtype=np.int64)
        filled = np.zeros(rows, dtype=np.int64)
        while True:
            need = n_events - filled
            if not need.any():
                return out
            n_cand = np.where(need > 0, np.ceil(need / accept * 1.2).astype(np.int64) + 8, 0)
            row_of = np.repeat(np.arange(rows), n_cand)
            cand = _pick(self._cdf, rng, len(row_of))
            w = self._event_weights(cand, F[row_of])
            ok = rng.random(len(row_of)) * self._envelope[cand] < w
            acc_rows, acc_idx = row_of[ok], cand[ok]
            first = np.searchsorted(acc_rows, np.arange(rows))  # acc_rows is sorted (np.repeat)
            rank = np.arange(len(acc_rows)) - first[acc_rows]
            keep = rank < need[acc_rows]
            out[acc_rows[keep], filled[acc_rows[keep]] + rank[keep]] = acc_idx[keep]
            filled += np.minimum(np.bincount(acc_rows, minlength=rows), need)

    def weighted_draw(self, theta: Any, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One event per θ row with an importance weight instead of the accept step: indices (M,) and
        weights (M,) with E[weight · g(x_n)] = Σ_n p_n(θ) g(x_n) for any g.

        The candidate is drawn from the envelope (probability M_n/ΣM, as in ``draw``) and weighted by
        p_n(θ) / (M_n/ΣM) = (w_n(θ)/M_n) / a(θ), a(θ) = Σ_n w_n(θ)/ΣM the acceptance: weights lie in
        [0, 1/a(θ)] and average to one. Used by NLE's training, where it keeps every candidate."""
        _check_rng(rng)
        F = self.monomials(theta)
        cand = _pick(self._cdf, rng, len(F))
        w = self._event_weights(cand, F)
        acceptance = (F @ self._W_total) / self._envelope_total
        return cand, w / (self._envelope[cand] * acceptance)

    def marginal_probabilities(self) -> np.ndarray:
        """p̄_n = E_π[p_n(θ)], shape (N,): the probability of event n under the prior predictive.

        p_n(θ) = Σ_c W_nc f_c(θ)/σ(θ) is linear in the rows of W, so p̄ = W v with
        v_c = E_π[f_c(θ)/σ(θ)], one k-dimensional integral of a smooth ratio over the box, done by
        product Gauss-Legendre quadrature (64 nodes per axis in 1-d and 2-d, fewer above, ~10⁴
        nodes). Σ_n p̄_n = E_π[σ/σ] = 1 holds for any nodes; p̄_n ≥ 0 since every p_n(θ) ≥ 0."""
        return self._marginal_table[0]

    @cached_property
    def _marginal_table(self) -> tuple[np.ndarray, np.ndarray]:
        """(p̄_n, its cumulative table), computed once, when first needed."""
        k = self.prior.dim
        n_axis = int(min(64, max(6, np.floor(2 ** (14 / k)))))
        x, w = np.polynomial.legendre.leggauss(n_axis)
        low, high = np.asarray(self.prior.low), np.asarray(self.prior.high)
        nodes = np.array(list(itertools.product(x, repeat=k)))
        weights = np.prod(np.array(list(itertools.product(w, repeat=k))), axis=1) / 2.0**k
        F = self.monomials(low + (nodes + 1.0) / 2.0 * (high - low))
        v = (weights / (F @ self._W_total)) @ F
        marginal = np.clip(self._W @ v, 0.0, None)  # round-off below zero where p_n vanishes
        return marginal, _cumulative(marginal)

    def ratio_draw(self, theta: Any, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One event per θ row from the marginal p̄ (not from θ) and its exact likelihood ratio:
        indices (M,) and r_n(θ) = p_n(θ)/p̄_n (M,). With θ from the prior, the rows are the
        "marginal" class of a ratio classifier, and r reweights them into the "joint" class:
        E[r · g(θ, x_n)] = E_θ Σ_n p_n(θ) g(θ, x_n) for any g. Used by NRE's training."""
        _check_rng(rng)
        F = self.monomials(theta)
        marginal, cdf = self._marginal_table
        idx = _pick(cdf, rng, len(F))
        return idx, self._event_weights(idx, F) / (F @ self._W_total) / marginal[idx]

    def _event_weights(self, indices: np.ndarray, F: np.ndarray) -> np.ndarray:
        """w_n(θ) of event ``indices[i]`` at the monomials F[i] of its θ row, (M,)."""
        return np.einsum("tc,tc->t", self._W[indices], F)

    def joint_score(self, theta: Any, indices: np.ndarray) -> np.ndarray:
        """t(z_n|θ) = ∇_θ log w_n(θ) − ∇_θ log Σ_m w_m(θ) for event ``indices[i]`` at θ row i, (M, k),
        the derivatives with respect to the prior's coefficients (the score of the discrete p_n(θ))."""
        full = self.full_theta(theta)
        idx = np.asarray(indices, dtype=np.int64)
        if idx.shape != (len(full),):
            raise InvalidParameterError(f"indices must hold one event per θ row ({len(full)}), got shape {idx.shape}")
        F = monomial_values(self._powers, full)
        G = monomial_gradients(self._powers, full)[..., self.index]  # (M, C, k)
        w = self._event_weights(idx, F)
        dw = np.einsum("mc,mck->mk", self._W[idx], G)
        total = F @ self._W_total
        d_total = np.einsum("c,mck->mk", self._W_total, G)
        with np.errstate(divide="ignore", invalid="ignore"):
            return dw / w[:, None] - d_total / total[:, None]

    # ------------------------------------------------------------------ checks at construction
    def _free_parts(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per monomial: (constant factor from the fixed coefficients, exponents of the free ones)."""
        fixed_mask = np.ones(len(self.coefficients), dtype=bool)
        fixed_mask[self.index] = False
        parts = []
        for k in self._powers:
            const = float(np.prod(self.base_theta[fixed_mask] ** k[fixed_mask]))
            parts.append((const, k[self.index]))
        return parts

    def _W_abs_envelope(self) -> np.ndarray:
        bound = np.maximum(np.abs(self.prior.low), np.abs(self.prior.high))
        scale = np.array([abs(const) * float(np.prod(bound**free)) for const, free in self._free_parts()])
        return np.abs(self._W) @ scale

    def _check_positive(self) -> None:
        mins = self._box_minimum(self._W)
        total = self._box_minimum(self._W.sum(axis=0, keepdims=True))[0]
        low, high = list(self.prior.low), list(self.prior.high)
        # round-off: a weight that touches zero (|M|^2 = 0 at some θ) may come out at -1e-20
        negative = mins < -1e-9 * self._envelope
        if negative.any():
            bad = int(negative.sum())
            raise InvalidParameterError(
                f"{bad} event weights become negative inside the prior box low={low}, high={high} (smallest "
                f"{mins.min():.3g} pb): the morphing polynomial is not a density there; narrow the box"
            )
        if not total > 0:
            raise InvalidParameterError(
                f"the sample's cross section vanishes (or all weights are zero) somewhere in the prior box low={low}, "
                f"high={high}: no events can be drawn there"
            )

    def _box_minimum(self, W: np.ndarray) -> np.ndarray:
        """min over the prior box of Σ_c W_nc f_c(θ) for each row n (exact for degree ≤ 2)."""
        parts = self._free_parts()
        k = self.prior.dim
        degrees = [int(free.sum()) for _, free in parts]
        low, high = np.asarray(self.prior.low), np.asarray(self.prior.high)
        if max(degrees) > 2:
            axes = [np.linspace(lo, hi, 9) for lo, hi in zip(low, high)]
            grid = np.array(list(itertools.product(*axes)))
            return np.min(W @ monomial_values(self._powers, self.full_theta(grid)).T, axis=1)
        a = np.zeros(len(W))
        b = np.zeros((len(W), k))
        Q = np.zeros((len(W), k, k))
        for c, ((const, free), deg) in enumerate(zip(parts, degrees)):
            coef = W[:, c] * const
            nz = np.flatnonzero(free)
            if deg == 0:
                a += coef
            elif deg == 1:
                b[:, nz[0]] += coef
            elif len(nz) == 1:
                Q[:, nz[0], nz[0]] += coef
            else:
                Q[:, nz[0], nz[1]] += 0.5 * coef
                Q[:, nz[1], nz[0]] += 0.5 * coef
        best = np.full(len(W), np.inf)
        # every face of the box: each coordinate free, at its low edge, or at its high edge
        for choice in itertools.product((0, 1, 2), repeat=k):
            free = np.array([c == 0 for c in choice])
            theta = np.where(np.array(choice) == 1, low, high) * np.ones((len(W), k))
            if free.any():
                Qf = Q[:, free][:, :, free]
                rhs = -0.5 * (b[:, free] + 2 * np.einsum("nij,nj->ni", Q[:, free][:, :, ~free], theta[:, ~free]))
                det_ok = np.linalg.det(Qf) > 1e-300
                pd = det_ok & np.all(np.linalg.eigvalsh(Qf) > 0, axis=1)
                if not pd.any():
                    continue
                sol = np.zeros((len(W), int(free.sum())))
                sol[pd] = np.linalg.solve(Qf[pd], rhs[pd][..., None])[..., 0]
                inside = pd & np.all((sol >= low[free]) & (sol <= high[free]), axis=1)
                theta[:, free] = np.where(inside[:, None], sol, theta[:, free])
                value = a + np.einsum("ni,ni->n", b, theta) + np.einsum("ni,nij,nj->n", theta, Q, theta)
                best = np.where(inside, np.minimum(best, value), best)
            else:
                value = a + np.einsum("ni,ni->n", b, theta) + np.einsum("ni,nij,nj->n", theta, Q, theta)
                best = np.minimum(best, value)
        return best
