"""Figure smoke tests."""

from __future__ import annotations

import numpy as np

from physinf.symbolic import Budget, distill
from physinf.symbolic.plots import plot_formula_vs_target, plot_pareto


def test_figures(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    X = rng.uniform(1, 2, (200, 2))
    y = X[:, 0] * X[:, 1]
    f = distill(X, y, ["a", "b"], budget=Budget(generations=5, population_size=100), seed=0,
                operators=("add", "mul"))
    ax = plot_pareto(f)
    ax.figure.savefig(tmp_path / "pareto.png")
    ax = plot_formula_vs_target(f, X, y)
    ax.figure.savefig(tmp_path / "fvt.png")
    plt.close("all")
    assert (tmp_path / "pareto.png").stat().st_size > 0
