"""Optimal observables derived from the morphing polynomial.

With dsigma(z|theta) = sum_c f_c(theta) A_c(z) and sigma(theta) = sum_c f_c(theta) S_c
(S_c the integrated components), SymPy differentiates

    log p(z|theta) = log dsigma(z|theta) - log sigma(theta)

to give the joint score t(z|theta) (rate term included) and the joint likelihood ratio
r(z|theta0, theta1) = [dsigma(z|theta0)/dsigma(z|theta1)] [sigma(theta1)/sigma(theta0)].
Nothing here is typed by hand: change the monomials and the formulas follow.

References: Brehmer, Cranmer, Louppe, Pavez, arXiv:1805.00013, arXiv:1805.00020;
MadMiner, arXiv:1907.10621 (truth-level Fisher information).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np
import sympy as sp

from theory.errors import InvalidParameterError

__all__ = [
    "joint_ratio",
    "joint_ratio_expression",
    "joint_score",
    "joint_score_expressions",
    "morphing_symbols",
    "truth_fisher_information",
]


def morphing_symbols(powers: np.ndarray) -> tuple[list[sp.Symbol], list[sp.Symbol], list[sp.Symbol], sp.Expr, sp.Expr]:
    """theta_i, A_c, S_c symbols and the polynomials dsigma(theta), sigma(theta)."""
    n_comp, n_coef = powers.shape
    theta = list(sp.symbols(f"theta0:{n_coef}", real=True))
    A = list(sp.symbols(f"A0:{n_comp}", real=True))
    S = list(sp.symbols(f"S0:{n_comp}", real=True))
    mono = [sp.Mul(*[t ** int(k) for t, k in zip(theta, row)]) for row in powers]
    dsigma = sum(m * a for m, a in zip(mono, A))
    sigma = sum(m * s for m, s in zip(mono, S))
    return theta, A, S, dsigma, sigma


def joint_score_expressions(powers: np.ndarray) -> list[sp.Expr]:
    """t_i = d/dtheta_i [log dsigma(z|theta) - log sigma(theta)], as SymPy expressions."""
    theta, _, _, dsigma, sigma = morphing_symbols(powers)
    return [sp.diff(sp.log(dsigma), t) - sp.diff(sp.log(sigma), t) for t in theta]


def joint_ratio_expression(powers: np.ndarray) -> sp.Expr:
    """r(z|theta0, theta1) in terms of theta0_i, theta1_i (symbols thetaA*, thetaB*)."""
    theta, A, S, dsigma, sigma = morphing_symbols(powers)
    t0 = sp.symbols(f"thetaA0:{len(theta)}", real=True)
    t1 = sp.symbols(f"thetaB0:{len(theta)}", real=True)
    sub0, sub1 = dict(zip(theta, t0)), dict(zip(theta, t1))
    return (dsigma.subs(sub0) / dsigma.subs(sub1)) * (sigma.subs(sub1) / sigma.subs(sub0))


@lru_cache(maxsize=32)
def _score_function(powers_key: tuple) -> Callable:
    powers = np.array(powers_key, dtype=int)
    theta, A, S, _, _ = morphing_symbols(powers)
    return sp.lambdify([theta, A, S], joint_score_expressions(powers), modules="numpy", cse=True)


@lru_cache(maxsize=32)
def _ratio_function(powers_key: tuple) -> Callable:
    powers = np.array(powers_key, dtype=int)
    n_comp, n_coef = powers.shape
    A = list(sp.symbols(f"A0:{n_comp}", real=True))
    S = list(sp.symbols(f"S0:{n_comp}", real=True))
    t0 = list(sp.symbols(f"thetaA0:{n_coef}", real=True))
    t1 = list(sp.symbols(f"thetaB0:{n_coef}", real=True))
    return sp.lambdify([t0, t1, A, S], joint_ratio_expression(powers), modules="numpy", cse=True)


def _check(powers: np.ndarray, components: np.ndarray, sigma_components: np.ndarray, *thetas: np.ndarray):
    powers = np.asarray(powers, dtype=int)
    components = np.atleast_2d(np.asarray(components, dtype=float))
    sigma_components = np.asarray(sigma_components, dtype=float)
    if components.shape[-1] != powers.shape[0] or sigma_components.shape != (powers.shape[0],):
        raise InvalidParameterError(
            f"need {powers.shape[0]} morphing components per event and in sigma; got "
            f"components {components.shape}, sigma components {sigma_components.shape}"
        )
    out = []
    for th in thetas:
        th = np.asarray(th, dtype=float)
        if th.shape != (powers.shape[1],):
            raise InvalidParameterError(f"theta must have {powers.shape[1]} entries, got shape {th.shape}")
        out.append(th)
    return powers, components, sigma_components, out


def joint_score(powers: np.ndarray, components: np.ndarray, sigma_components: np.ndarray, theta) -> np.ndarray:
    """Joint score t(z|theta), shape (n_events, n_coefficients).

    components: per-event A_c (any common normalisation, e.g. event weights w_c);
    sigma_components: the integrated S_c in the same normalisation as the totals.
    """
    powers, components, sigma_components, (theta,) = _check(powers, components, sigma_components, theta)
    if powers.shape[1] == 0:  # a process without Wilson coefficients has an empty score
        return np.zeros((components.shape[0], 0))
    f = _score_function(tuple(map(tuple, powers)))
    cols = f(list(theta), list(components.T), list(sigma_components))
    return np.stack([np.broadcast_to(np.asarray(c, dtype=float), components.shape[:1]) for c in cols], axis=-1)


def joint_ratio(powers, components, sigma_components, theta0, theta1) -> np.ndarray:
    """Joint likelihood ratio r(z|theta0, theta1) = p(z|theta0)/p(z|theta1)."""
    powers, components, sigma_components, (t0, t1) = _check(powers, components, sigma_components, theta0, theta1)
    f = _ratio_function(tuple(map(tuple, powers)))
    return np.broadcast_to(np.asarray(f(list(t0), list(t1), list(components.T), list(sigma_components)), dtype=float), components.shape[:1]).copy()


def truth_fisher_information(powers, weight_components, theta, luminosity_pb: float, background_weights=None) -> np.ndarray:
    """I_ij = L sum_n d_i sigma_n d_j sigma_n / (sigma_n + b_n) (unbinned, parton level, rate included).

    weight_components: per-event morphing weights w_nc in pb, so sigma_n(theta) = sum_c f_c w_nc;
    luminosity_pb: integrated luminosity in pb^-1 (1 fb^-1 = 1000 pb^-1, theory.units.PB_PER_FB); background_weights: optional per-event b_n in pb
    (a theta-independent background with the same kinematics dilutes the information).
    """
    from theory.morphing import monomial_gradients, monomial_values

    powers = np.asarray(powers, dtype=int)
    theta = np.asarray(theta, dtype=float)
    w = np.asarray(weight_components, dtype=float)
    sigma_n = w @ monomial_values(powers, theta)
    if background_weights is not None:
        sigma_n = sigma_n + np.asarray(background_weights, dtype=float)
    grad_n = w @ monomial_gradients(powers, theta)  # (n_events, n_coef)
    if np.any(sigma_n <= 0):
        raise InvalidParameterError(
            "event weights at theta must be positive to compute the Fisher information; "
            f"{int(np.sum(sigma_n <= 0))} events have weight <= 0 at theta={theta}"
        )
    return luminosity_pb * np.einsum("ni,nj->ij", grad_n / sigma_n[:, None], grad_n)
