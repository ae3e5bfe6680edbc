"""Figures of surrogate accuracy and calibration (matplotlib Figure objects, no global state)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["plot_accuracy_vs_size", "plot_pulls"]


def plot_accuracy_vs_size(results: Mapping[str, Sequence[Mapping[str, Any]]]) -> Any:
    """median |Delta|, <sigma_syst/A> and <sigma_stat/A> against the training size, one colour per
    process. ``results``: process label -> rows with keys n_train, median_abs_delta,
    sigma_syst_over_a, sigma_stat_over_a."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    colours = ["C0", "C1", "C2", "C3"]
    for (label, rows), colour in zip(results.items(), colours):
        n = np.array([r["n_train"] for r in rows], dtype=float)
        ax.plot(n, [r["median_abs_delta"] for r in rows], "o-", color=colour, label=f"{label}: median |Δ|")
        ax.plot(n, [r["sigma_syst_over_a"] for r in rows], "s--", color=colour, alpha=0.7, label=f"{label}: ⟨σ_syst/A⟩")
        ax.plot(n, [r["sigma_stat_over_a"] for r in rows], "^:", color=colour, alpha=0.7, label=f"{label}: ⟨σ_stat/A⟩")
    ax.axhline(1e-3, color="grey", lw=0.8, ls="-.", label="0.1 % target")
    ax.set(xscale="log", yscale="log", xlabel="training points", ylabel="relative accuracy / uncertainty",
           title="Bayesian amplitude surrogate: accuracy vs training size")
    ax.legend(fontsize=7, ncol=2)
    return fig


def plot_pulls(pulls: Mapping[str, np.ndarray], bins: int = 60) -> Any:
    """Histograms of pulls (A_NN - A_true)/sigma_tot with the unit Gaussian; ``pulls``: label -> values."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    edges = np.linspace(-5, 5, bins + 1)
    for label, t in pulls.items():
        t = np.asarray(t, dtype=float)
        ax.hist(np.clip(t, -5, 5), bins=edges, density=True, histtype="step", lw=1.5,
                label=f"{label}: mean {t.mean():+.3f}, width {t.std(ddof=1):.3f}")
    grid = np.linspace(-5, 5, 400)
    ax.plot(grid, np.exp(-0.5 * grid**2) / np.sqrt(2 * np.pi), "k--", lw=1, label="N(0, 1)")
    ax.set(xlabel="pull (A_NN − A_true) / σ_tot (clipped to ±5)", ylabel="density", title="Surrogate pulls")
    ax.legend(fontsize=8)
    return fig
