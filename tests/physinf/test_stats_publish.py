"""Export to a standard background-only workspace + patchset, Fisher information, binning, plots."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _stats_helpers import restore_pyhf_backend, toy_events, toy_templates  # noqa: F401

from physinf.stats import (
    Background,
    ShapeSystematic,
    Systematics,
    WorkspaceError,
    binned_fisher_information,
    build_likelihood,
    expected_width,
    export_patchset,
    fisher_optimal_edges,
    histogram_templates,
    profile_scan,
    profile_scan_2d,
    quantile_edges,
    rate_fisher_information,
    score_fisher_information,
    unbinned_fisher_information,
    verify_export,
)


def _lh(mc_stat: bool = False):
    t = toy_templates(n_bins=4, lumi=10.0)
    return build_likelihood(
        t,
        [Background("bkg", np.full(4, 20.0), np.full(4, 1.0), 0.05)],
        Systematics(lumi=0.02, mc_stat=mc_stat, shapes=(ShapeSystematic("scale", np.full(4, 0.05), np.full(4, -0.04)),)),
        bounds={"ca": (-1, 1)},
        data=[300, 250, 400, 380],
    )


def test_patchset_export_refits_like_the_eft_model(tmp_path: Path):
    lh = _lh()
    grid = np.linspace(-0.5, 0.5, 5)[:, None]
    files = export_patchset(lh, grid, tmp_path)
    refit = verify_export(files)
    exported = np.array([refit[(v,)] for v in grid[:, 0]])
    scan = profile_scan(lh, "ca", grid[:, 0])
    np.testing.assert_allclose(exported - exported.min(), scan.delta - scan.delta.min(), atol=1e-4)
    pyhf_cli = Path(sys.executable).with_name("pyhf")
    if not pyhf_cli.exists():
        pytest.skip("pyhf command line not installed next to this interpreter")
    res = subprocess.run([str(pyhf_cli), "patchset", "verify", str(files.background_only), str(files.patchset)], capture_output=True, text=True)
    assert res.returncode == 0 and "All good" in res.stdout


def test_export_writes_nothing_on_failure(tmp_path: Path):
    lh = _lh(mc_stat=True)
    with pytest.raises(WorkspaceError, match="schema"):
        export_patchset(lh, [[0.1]], tmp_path, hepdata="not-an-id")
    assert os.listdir(tmp_path) == []
    files = export_patchset(lh, [[0.1], [0.2]], tmp_path)
    files.patchset.write_text(files.patchset.read_text().replace('"sha256": "', '"sha256": "0'))
    with pytest.raises(WorkspaceError):
        verify_export(files)
    shutil.rmtree(tmp_path)


def test_binned_fisher_information_is_the_asimov_curvature():
    lh = build_likelihood(toy_templates(n_bins=6, lumi=30.0), [Background("bkg", np.full(6, 100.0))], Systematics(mc_stat=False), bounds={"ca": (-1, 1)})
    info = binned_fisher_information(lh.templates, [0.0], np.full(6, 100.0))[0, 0]
    scan = profile_scan(lh, "ca", np.array([-1e-3, 0.0, 1e-3]))
    curvature = (scan.delta[0] + scan.delta[2] - 2 * scan.delta[1]) / 1e-6 / 2  # ½ d²Δ(−2 ln L)/dc² = I
    assert curvature == pytest.approx(info, rel=1e-3)
    assert expected_width(np.array([[info]])) == pytest.approx(2 * 1.959964 / np.sqrt(info), rel=1e-6)
    assert rate_fisher_information(lh.templates, [0.0])[0, 0] < 1e-3 * info  # CP-odd-like: rate carries ~nothing


def test_unbinned_and_optimal_binning():
    x, w, p, names = toy_events()
    from theory.scores import truth_fisher_information

    truth = unbinned_fisher_information(w, p, [0.2], 300.0)
    np.testing.assert_allclose(truth, truth_fisher_information(p, w, [0.2], 300.0 * 1000.0), rtol=1e-12)
    infos = {}
    for n in (3, 6):
        for kind, edges in (("opt", fisher_optimal_edges(x, w, p, [0.0], n)), ("quant", quantile_edges(x, n, w[:, 0]))):
            t = histogram_templates(x, w, p, names, edges, 300.0)
            infos[kind, n] = binned_fisher_information(t, [0.0])[0, 0]
        assert infos["opt", n] >= infos["quant", n] - 1e-9
    assert infos["opt", 6] <= unbinned_fisher_information(w, p, [0.0], 300.0)[0, 0]


def test_plots_smoke(tmp_path: Path):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from physinf._io import save_figure
    from physinf.stats.plots import plot_contours, plot_scans

    lh = build_likelihood(toy_templates(n_bins=3, lumi=1.0, two=True), systematics=Systematics(mc_stat=False), bounds={"ca": (-2, 2), "cb": (-2, 2)})
    s1 = profile_scan(lh, "ca", np.linspace(-1, 1, 5))
    ax = plot_scans({"3 bins": s1, "again": s1})
    s2 = profile_scan_2d(lh, ("ca", "cb"), np.linspace(-1, 1, 4), np.linspace(-1, 1, 4))
    ax2 = plot_contours({"toy": s2})
    save_figure(ax.figure, tmp_path / "scan.png")
    assert (tmp_path / "scan.png").stat().st_size > 0
    assert ax.get_xlabel() == "ca" and ax2.get_ylabel() == "cb"
    assert isinstance(ax.figure, Figure) and ax.figure is not ax2.figure


def test_score_fisher_information_of_the_joint_score_is_the_truth():
    # identity: w_n (t_n + d log sigma) = d w_n / d theta for the joint score, so the two formulas agree
    # to rounding, with and without a background
    from theory.scores import joint_score

    x, w, p, names = toy_events()
    theta = np.array([0.2])
    t = joint_score(p, w, w.sum(axis=0), theta)
    wt = w @ np.prod(theta[None, :] ** p, axis=1)
    d_log_sigma = (w.sum(axis=0) @ (p[:, 0] * theta[0] ** np.maximum(p[:, 0] - 1, 0))) / wt.sum()
    bkg = 0.5 * w[:, 0]
    for b in (None, bkg):
        np.testing.assert_allclose(score_fisher_information(wt, t, [d_log_sigma], 300.0, b),
                                   unbinned_fisher_information(w, p, theta, 300.0, background_weights=b), rtol=1e-10)
