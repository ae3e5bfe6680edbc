"""Figures: the Pareto front and formula-vs-target."""

from __future__ import annotations

import numpy as np

from physinf.symbolic.formula import Formula

__all__ = ["plot_pareto", "plot_formula_vs_target"]


def plot_pareto(formula: Formula, ax=None):
    """Loss vs complexity of the post-processed front, the selected member highlighted."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    c = np.array([m.complexity for m in formula.front])
    loss = np.array([m.loss for m in formula.front])
    floor = max(np.min(loss[loss > 0]) * 1e-2, 1e-300) if np.any(loss > 0) else 1e-300
    ax.step(c, np.maximum(loss, floor), where="post", color="0.6")
    ax.plot(c, np.maximum(loss, floor), "o", color="C0", label="front")
    if 0 <= formula.selected < len(c):
        ax.plot(c[formula.selected], max(loss[formula.selected], floor), "*", ms=14, color="C3",
                label=f"selected ({formula.metrics.get('selection', '')})")
    ax.set_yscale("log")
    ax.set_xlabel("complexity (tree nodes)")
    ax.set_ylabel("MSE")
    ax.legend(frameon=False)
    return ax


def plot_formula_vs_target(formula: Formula, X: np.ndarray, y: np.ndarray, ax=None, max_points: int = 5000):
    """Scatter of the formula's prediction against the target, with the diagonal."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    X, y = np.asarray(X, float)[:max_points], np.asarray(y, float)[:max_points]
    pred = formula(X)
    ax.plot(y, pred, ".", ms=2, alpha=0.4)
    lo, hi = float(np.min(y)), float(np.max(y))
    ax.plot([lo, hi], [lo, hi], "k--", lw=1)
    ax.set_xlabel("target")
    ax.set_ylabel("formula")
    ax.set_title(f"${formula.latex()}$" if len(formula.latex()) < 80 else "formula vs target", fontsize=8)
    return ax
