"""Scores of what a detector can label: the joint score averaged over unlabelled jet assignments.

A parton-level event is generated with labelled momenta: in WBF, p1 comes from quark line a and
p2 from line b. A detector sees two jets, not which line each came from, so the density of the
observable x sums the labelled density over the permutations of those jets,

    p(x|theta) ∝ sum_perm A(perm(x)|theta),    t(x|theta) = E[t(x, z|theta) | x],

with z the assignment. The labelled joint score carries information about z that no observable
has (4.9 % of E[t²] for the CP-odd WBF score at the SM, docs/benchmarks.md); the score of x is the right
reference for the information an observable or a formula can capture at parton level.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import permutations

import numpy as np

from physinf.errors import InvalidParameterError
from physinf.simulate.config import GenerationConfig
from physinf.simulate.events import EventSample
from physinf.simulate.generator import Integrand, build_integrand
from physinf.simulate.model import ComponentModel
from theory.morphing import monomial_values
from theory.scores import joint_score

__all__ = ["marginal_log_ratio", "marginal_score", "unlabelled_components"]


def _integrand(sample: EventSample, process: ComponentModel | None, config: GenerationConfig | None) -> Integrand:
    """The generator's integrand (PDFs, scale, couplings) for the sample's events."""
    config = config if config is not None else sample.config
    if config is None:
        raise InvalidParameterError(
            "the sample carries no generation config (it was not made by physinf.simulate.generate); pass "
            "config=GenerationConfig(process=..., n_points=len(sample), sqrt_s=..., pdf=..., scale_gev=...) "
            "describing how its weights were computed"
        )
    if config.process != sample.process:
        raise InvalidParameterError(f"the config's process {config.process!r} does not match the sample's {sample.process!r}")
    return build_integrand(replace(config.resolved(), scale_factors=()), process)


def unlabelled_components(sample: EventSample, *, process: ComponentModel | None = None,
                          config: GenerationConfig | None = None, momenta: np.ndarray | None = None) -> np.ndarray:
    """Per-event morphing components (N, C) summed over the permutations of the process's
    unlabelled jets, in matrix-element units (flux and phase-space Jacobian left out: they are
    common to all permutations of one event).

    The PDFs, scale and SM inputs are those of ``sample.config`` (or ``config`` for a sample made
    elsewhere); process: a component model standing in for the registered process (a surrogate);
    momenta: (N, n, 4) momenta evaluated in place of the parton record (e.g. reconstructed objects
    in the record's order; they need not conserve momentum).
    """
    integrand = _integrand(sample, process, config)
    p = sample.momenta if momenta is None else np.asarray(momenta, dtype=float)
    if p.shape != sample.momenta.shape:
        raise InvalidParameterError(f"momenta must have the record's shape {sample.momenta.shape}, got {p.shape}")
    sqrt_s = integrand.sqrt_s
    if integrand.process.collider == "pp":
        x1 = (p[:, 0, 0] + p[:, 0, 3]) / sqrt_s
        x2 = (p[:, 1, 0] - p[:, 1, 3]) / sqrt_s
    else:
        x1 = x2 = np.ones(len(p))
    jets = tuple(integrand.process.unlabelled_jets)
    total = np.zeros_like(sample.weight_components)
    for perm in permutations(jets):
        order = list(range(p.shape[1]))
        for src, dst in zip(jets, perm):
            order[dst] = src
        total += integrand.matrix_weights(p[:, order], x1, x2)
    return total


def marginal_score(sample: EventSample, theta=None, *, process: ComponentModel | None = None,
                   config: GenerationConfig | None = None, momenta: np.ndarray | None = None) -> np.ndarray:
    """Score of the observable (unlabelled) event at theta, (N, n): E[t(x, z|theta) | x].

    Equals sample.joint_score(theta) for processes without unlabelled jets. Costs one evaluation
    of the matrix elements per permutation (two for WBF). momenta: see :func:`unlabelled_components`."""
    theta = sample._theta(theta)
    comps = unlabelled_components(sample, process=process, config=config, momenta=momenta)
    return joint_score(sample.powers, comps, sample.sigma_components, theta)


def marginal_log_ratio(sample: EventSample, theta0, theta1=None, *, process: ComponentModel | None = None,
                       config: GenerationConfig | None = None, components: np.ndarray | None = None) -> np.ndarray:
    """Exact log r(x|theta0, theta1) of the observable event at parton level, (N,):
    log[U(x)·f(theta0) / U(x)·f(theta1)] + log[sigma(theta1)/sigma(theta0)] with U the unlabelled
    components. theta1 defaults to the sample's reference point; pass ``components`` (from
    :func:`unlabelled_components`) to evaluate many theta without re-evaluating matrix elements."""
    t0 = sample._theta(theta0)
    t1 = sample._theta(theta1)
    U = unlabelled_components(sample, process=process, config=config) if components is None else components
    f0, f1 = monomial_values(sample.powers, t0), monomial_values(sample.powers, t1)
    S = sample.sigma_components
    return np.log(U @ f0) - np.log(U @ f1) + np.log(S @ f1) - np.log(S @ f0)
