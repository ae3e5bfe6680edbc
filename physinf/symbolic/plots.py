"""Figures: the Pareto front and formula-vs-target.

Library code keeps no pyplot state: without ``ax`` a new :class:`matplotlib.figure.Figure` is
created (``ax.figure``); save it with :func:`physinf._io.save_figure`.
"""

from __future__ import annotations

import numpy as np

from physinf.symbolic.formula import Formula

__all__ = ["plot_formula_vs_target", "plot_pareto"]


def _axes(ax, figsize: tuple[float, float]):
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="tight").subplots()


def plot_pareto(formula: Formula, ax=None):
    """Loss vs complexity of the post-processed front, the selected member highlighted, the
    backends' own losses (before post-processing) as open markers."""
    ax = _axes(ax, (5, 3.5))
    c = np.array([m.complexity for m in formula.front])
    loss = np.array([m.loss for m in formula.front])
    raw = np.array([m.raw_loss for m in formula.front])
    floor = max(np.min(loss[loss > 0]) * 1e-2, 1e-300) if np.any(loss > 0) else 1e-300
    ax.step(c, np.maximum(loss, floor), where="post", color="0.6")
    ax.plot(c, np.maximum(loss, floor), "o", color="C0", label="front (re-fitted)")
    if np.any(np.isfinite(raw)):
        ax.plot(c, np.maximum(raw, floor), "o", mfc="none", color="C1", label="backend's expression")
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
    ax = _axes(ax, (4, 4))
    X, y = np.asarray(X, float)[:max_points], np.asarray(y, float)[:max_points]
    pred = formula(X)
    ax.plot(y, pred, ".", ms=2, alpha=0.4)
    lo, hi = float(np.min(y)), float(np.max(y))
    ax.plot([lo, hi], [lo, hi], "k--", lw=1)
    ax.set_xlabel("target")
    ax.set_ylabel("formula")
    tex = formula.latex()
    ax.set_title(f"${tex}$" if len(tex) < 80 else "formula vs target", fontsize=8)
    return ax
