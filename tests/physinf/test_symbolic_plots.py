"""Figure smoke tests: plots build matplotlib Figures without touching pyplot state."""

from __future__ import annotations

import numpy as np

from physinf._io import save_figure
from physinf.symbolic import Budget, Restarts, distill
from physinf.symbolic.plots import plot_formula_vs_target, plot_pareto


def test_figures(tmp_path):
    import sys

    rng = np.random.default_rng(0)
    X = rng.uniform(1, 2, (200, 2))
    y = X[:, 0] * X[:, 1]
    f = distill(X, y, ["a", "b"], budget=Budget(generations=5, population_size=100), seed=0,
                operators=("add", "mul"), restarts=Restarts.single())
    pyplot_loaded = "matplotlib.pyplot" in sys.modules
    ax = plot_pareto(f)
    save_figure(ax.figure, tmp_path / "pareto.png")
    ax = plot_formula_vs_target(f, X, y)
    save_figure(ax.figure, tmp_path / "fvt.png")
    assert (tmp_path / "pareto.png").stat().st_size > 0 and (tmp_path / "fvt.png").stat().st_size > 0
    if not pyplot_loaded:  # the library itself never imports pyplot
        assert "matplotlib.pyplot" not in sys.modules
