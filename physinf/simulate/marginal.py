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

from itertools import permutations

import numpy as np

from physinf.errors import InvalidParameterError
from physinf.simulate.cuts import Cuts
from physinf.simulate.events import EventSample
from physinf.simulate.generator import DEFAULT_CUTS, Integrand
from theory.scores import joint_score

__all__ = ["unlabelled_components", "marginal_score"]


def _integrand(sample: EventSample, process, pdf) -> Integrand:
    from theory.processes.registry import get_process

    proc = process if process is not None else get_process(sample.process)
    if proc.name != sample.process:
        raise InvalidParameterError(f"process {proc.name!r} does not match the sample's {sample.process!r}")
    pdf_obj = None
    if proc.collider == "pp":
        from theory.pdf import load_pdf

        name = pdf if pdf is not None else sample.provenance.get("pdf")
        if name is None:
            raise InvalidParameterError("the sample does not record its PDF set; pass pdf='<LHAPDF set name>'")
        pdf_obj = load_pdf(name)
    sqrt_s = sample.provenance.get("sqrt_s")
    if sqrt_s is None:
        raise InvalidParameterError("the sample does not record sqrt_s (provenance['sqrt_s']); it was not made by generate()")
    # the generator's cuts define its phase-space map; the weights here do not depend on them
    cuts = Cuts.from_dict(sample.provenance["cuts"]) if "cuts" in sample.provenance else DEFAULT_CUTS.get(proc.name, Cuts())
    return Integrand(proc, float(sqrt_s), cuts, pdf_obj, _fixed_scale(sample.provenance), ())


def _fixed_scale(provenance: dict) -> float | None:
    """The generator's fixed scale in GeV, None for the process's dynamic scale (older files
    record it only as the text "fixed <value> GeV")."""
    if provenance.get("scale_gev") is not None:
        return float(provenance["scale_gev"])
    text = str(provenance.get("scale", ""))
    return float(text.split()[1]) if text.startswith("fixed ") else None


def unlabelled_components(sample: EventSample, *, process=None, pdf: str | None = None) -> np.ndarray:
    """Per-event morphing components (N, C) summed over the permutations of the process's
    unlabelled jets, in matrix-element units (flux and phase-space Jacobian left out: they are
    common to all permutations of one event).

    process: the theory.processes object the sample was made with, if not the registered default
    (e.g. custom SM inputs); pdf: the PDF set, if the sample does not record it.
    """
    integrand = _integrand(sample, process, pdf)
    p = sample.momenta
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


def marginal_score(sample: EventSample, theta=None, *, process=None, pdf: str | None = None) -> np.ndarray:
    """Score of the observable (unlabelled) event at theta, (N, n): E[t(x, z|theta) | x].

    Equals sample.joint_score(theta) for processes without unlabelled jets. Costs one evaluation
    of the matrix elements per permutation (two for WBF)."""
    theta = sample._theta(theta)
    comps = unlabelled_components(sample, process=process, pdf=pdf)
    return joint_score(sample.powers, comps, sample.sigma_components, theta)
