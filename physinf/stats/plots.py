"""Figures: likelihood-scan curves of several observables on one plot, and 2D contours.

The functions draw on the axes they are given, or on a new :class:`matplotlib.figure.Figure`
(reach it as ``ax.figure``; save it with :func:`physinf._io.save_figure`). They never touch
pyplot's global state: no backend choice, no current figure, nothing to close.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from physinf.stats.inference import Scan1D, Scan2D, threshold

__all__ = ["plot_contours", "plot_scans"]


def _new_axes(figsize: tuple[float, float]) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=figsize).add_subplot()


def plot_scans(scans: Mapping[str, Scan1D], ax: Any = None, levels: Sequence[float] = (0.68, 0.95), ymax: float = 6.0) -> Any:
    """Δ(−2 ln L) curves, one per label, with horizontal lines at the CL thresholds. Returns the axes."""
    if ax is None:
        ax = _new_axes((5, 4))
    for label, scan in scans.items():
        ax.plot(scan.values, scan.delta, label=label)
    for level in levels:
        t = threshold(level)
        ax.axhline(t, color="grey", lw=0.8, ls="--")
        # x in axes coordinates: the label stays at the right edge whatever limits are set later
        ax.text(1.0, t, f" {level:.0%}", va="center", ha="left", fontsize=8, color="grey", transform=ax.get_yaxis_transform())
    name = next(iter(scans.values())).name if scans else ""
    ax.set_xlabel(name)
    ax.set_ylabel(r"$-2\,\Delta\ln L$")
    ax.set_ylim(0, ymax)
    ax.legend(frameon=False)
    return ax


def plot_contours(scans: Mapping[str, Scan2D], ax: Any = None, levels: Sequence[float] = (0.68, 0.95)) -> Any:
    """2D confidence contours (Δ(−2 ln L) = 2.30, 5.99 for 68 %, 95 %) of one or several scans. Returns the axes."""
    if ax is None:
        ax = _new_axes((5, 4.5))
    styles = ["-", "--", ":", "-."]
    for i, (label, scan) in enumerate(scans.items()):
        xx, yy = np.meshgrid(scan.x, scan.y)
        ax.contour(xx, yy, scan.delta, levels=[threshold(lv, 2) for lv in levels], colors=f"C{i}", linestyles=styles[: len(levels)])
        ax.plot([scan.best.bestfit[scan.names[0]]], [scan.best.bestfit[scan.names[1]]], marker="+", color=f"C{i}")
        ax.plot([], [], color=f"C{i}", label=label)
    names = next(iter(scans.values())).names if scans else ("", "")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.legend(frameon=False)
    return ax
