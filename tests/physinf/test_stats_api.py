"""The public API of physinf.stats is pinned (style.md habit 3), and its modules keep to their own jobs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import physinf.stats

STATS = Path(physinf.stats.__file__).parent


def test_stats_public_names():
    assert dir(physinf.stats) == sorted([
        # likelihoods: templates per channel, systematics, workspace, model
        "Templates", "histogram_templates", "templates_from_sample",
        "ShapeSystematic", "Systematics", "relative_variation", "scale_systematic",
        "Background", "Channel", "build_workspace", "validate_workspace", "eft_modifier_set",
        "Likelihood", "build_likelihood", "load_likelihood",
        # inference
        "FitResult", "Scan1D", "Scan2D", "Interval", "CLsLimit", "CoverageResult",
        "fit", "profile_scan", "profile_scan_2d", "intervals_from_scan", "threshold", "cls_upper_limit", "coverage",
        # Fisher information and binning
        "binned_fisher_information", "rate_fisher_information", "unbinned_fisher_information", "score_fisher_information",
        "expected_width", "fisher_optimal_edges", "quantile_edges",
        "ObservableInformation", "information_table", "observable_information",
        # publication
        "ExportedFiles", "export_patchset", "verify_export",
        # errors
        "StatsError", "InvalidModelError", "UnknownCoefficientError", "WorkspaceError", "FitError",
    ])


def test_every_module_exports_what_it_defines():
    for path in sorted(STATS.glob("*.py")):
        if path.name == "__init__.py":
            continue
        module = __import__(f"physinf.stats.{path.stem}", fromlist=["__all__"])
        missing = [name for name in module.__all__ if not hasattr(module, name)]
        assert not missing, f"{path.name}: __all__ names {missing} that it does not define"


def test_no_module_imports_private_names_of_another():
    for path in sorted(STATS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("physinf"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports private {private} from {node.module}"


def test_library_sets_no_global_plotting_state():
    # drawing makes its own Figure: pyplot is never imported, so no backend is chosen and nothing leaks
    code = (
        "import sys, numpy as np\n"
        "from physinf.stats import FitResult, Scan1D\n"
        "from physinf.stats.plots import plot_scans\n"
        "best = FitResult({'c': 0.0}, np.zeros(1), 0.0)\n"
        "ax = plot_scans({'x': Scan1D('c', np.linspace(-1, 1, 5), np.linspace(-1, 1, 5) ** 2, best, True)})\n"
        "print(type(ax.figure).__name__, 'matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=STATS.parents[1]).stdout.split()
    assert out == ["Figure", "False"]
