"""How much a set of observables knows about one Wilson coefficient: a table of Fisher informations
and expected 95 % CL widths, binned (Fisher-optimal bins) or unbinned (an exact per-event score).

One function for every place that compares observables (the demo, the benchmarks, the pipeline
report), so the rows are computed the same way everywhere. Widths are the asymptotic
2 × 1.96/√I for the chosen coefficient with the others fixed at θ (local, single-parameter).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from physinf.stats.binning import fisher_optimal_edges
from physinf.stats.errors import InvalidModelError
from physinf.stats.fisher import binned_fisher_information, expected_width, score_fisher_information
from physinf.stats.templates import histogram_templates
from theory.morphing import monomial_gradients, monomial_values

__all__ = ["ObservableInformation", "information_table", "observable_information"]


@dataclass(frozen=True)
class ObservableInformation:
    """One row: Fisher information about the coefficient (events × TeV⁴), the width it implies
    (TeV⁻²), the fraction of the reference row's information, and the bin edges (None: unbinned)."""

    name: str
    information: float
    width95: float
    fraction_of_reference: float
    edges: np.ndarray | None

    def to_dict(self) -> dict[str, object]:
        return {"information": self.information, "width95": self.width95,
                "fraction_of_reference": self.fraction_of_reference,
                "n_bins": None if self.edges is None else len(self.edges) - 1}


def observable_information(values: np.ndarray, weight_components: np.ndarray, powers: np.ndarray,
                           coefficients: Sequence[str], theta: Sequence[float], index: int, luminosity_fb: float,
                           n_bins: int = 12) -> tuple[float, np.ndarray]:
    """Binned information I_index,index of a histogram of ``values`` with ``n_bins`` Fisher-optimal
    bins (along the coefficient ``index``), and the edges (outer edges just outside the data).
    ``n_bins = 1``, or a constant observable, gives the rate-only information."""
    values = np.asarray(values, dtype=float)
    if values.shape != (len(weight_components),) or not np.all(np.isfinite(values)):
        raise InvalidModelError(f"observable values must be finite with shape ({len(weight_components)},), got {values.shape}")
    direction = np.zeros(len(coefficients))
    direction[index] = 1.0
    lo, hi = float(values.min()), float(values.max())
    pad = 1e-9 * max(1.0, abs(lo), abs(hi))
    if n_bins == 1 or hi == lo:
        edges = np.array([lo - pad, hi + pad])
    else:
        edges = fisher_optimal_edges(values, weight_components, powers, theta, n_bins, direction=direction)
        edges[0], edges[-1] = min(edges[0], lo) - pad, max(edges[-1], hi) + pad
    templates = histogram_templates(values, weight_components, powers, tuple(coefficients), edges, luminosity_fb)
    info = binned_fisher_information(templates, np.asarray(theta, dtype=float))
    return float(info[index, index]), edges


def information_table(weight_components: np.ndarray, powers: np.ndarray, coefficients: Sequence[str],
                      theta: Sequence[float], coefficient: str, luminosity_fb: float, *,
                      binned: Mapping[str, np.ndarray] | None = None, scores: Mapping[str, np.ndarray] | None = None,
                      reference: str | None = None, n_bins: int = 12) -> dict[str, ObservableInformation]:
    """Rows for histograms of ``binned`` observables and for unbinned exact ``scores`` (per-event
    score of ``coefficient`` with the rate term removed, as ``marginal_score`` returns it), all on the
    same events; ``reference`` names the row the fractions refer to (default: the largest).

    An unbinned row is the information of the observable only if the values are its exact score
    (L Σ w s² is the Fisher information of the score's own distribution); anything else (a learned
    score, a formula, the parton formula at reconstructed momenta) belongs in ``binned``, whose
    histograms give valid lower bounds."""
    coefficients = tuple(coefficients)
    if coefficient not in coefficients:
        raise InvalidModelError(f"unknown coefficient {coefficient!r}; the sample has {list(coefficients)}")
    index = coefficients.index(coefficient)
    theta = np.asarray(theta, dtype=float)
    w = np.asarray(weight_components, dtype=float)
    rows: dict[str, tuple[float, np.ndarray | None]] = {}
    for name, values in (binned or {}).items():
        rows[name] = observable_information(values, w, powers, coefficients, theta, index, luminosity_fb, n_bins)
    if scores:
        weights = w @ monomial_values(powers, theta)
        d_log_sigma = float((w @ monomial_gradients(powers, theta))[:, index].sum() / weights.sum())
        for name, t in scores.items():
            info = score_fisher_information(weights, np.asarray(t, dtype=float), [d_log_sigma], luminosity_fb)
            rows[name] = (float(info[0, 0]), None)
    if not rows:
        raise InvalidModelError("give at least one binned observable or one score")
    ref_name = reference if reference is not None else max(rows, key=lambda k: rows[k][0])
    if ref_name not in rows:
        raise InvalidModelError(f"reference {ref_name!r} is not one of the rows {list(rows)}")
    ref = rows[ref_name][0]
    return {name: ObservableInformation(name, info, expected_width(np.array([[info]]), 0), info / ref if ref > 0 else float("nan"), edges)
            for name, (info, edges) in rows.items()}
