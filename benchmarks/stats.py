"""Benchmark: expected 95% CL intervals on the CP-odd WBF coefficient cHWtil at 300 fb⁻¹.

Rows: rate only, a Δφ_jj histogram, a histogram of the exact score of the parton-level observables
(physinf.simulate.marginal_score: the joint score with the jet-line labels summed), each from an
Asimov profile-likelihood scan at the SM (cHW fixed at 0), compared with the unbinned optimum
2·1.96/√I_truth implied by the truth-level (labelled joint) Fisher information, and with the
unbinned information of the observables themselves. Also the Fisher-implied
width of each binned observable and the time to build and fit.

Simple background: B = f_bkg × SM with the SM kinematics (f_bkg = 1 by default), so the per-event
background weight is f_bkg·w_SM and the truth information uses σ_n + b_n in the denominator.
Systematics: 2% luminosity (normsys) and MC statistics (staterror).

    python benchmarks/stats.py --json stats.json [--n-events 20000] [--plots DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from physinf._io import save_figure, write_json
from physinf.stats import (
    Background,
    Systematics,
    binned_fisher_information,
    build_likelihood,
    expected_width,
    fisher_optimal_edges,
    fit,
    histogram_templates,
    profile_scan,
    quantile_edges,
    scale_systematic,
    score_fisher_information,
    unbinned_fisher_information,
)

COEF = "cHWtil"


def _scan_width(lh, half_range: float, n_points: int) -> tuple[float, list, float]:
    t0 = time.perf_counter()
    scan = profile_scan(lh, COEF, np.linspace(-half_range, half_range, n_points), data=lh.asimov_data(), profile=False)
    seconds = time.perf_counter() - t0
    iv = scan.interval(0.95)
    if iv.open_low or iv.open_high:
        raise RuntimeError(f"scan range ±{half_range} too small for {iv}")
    return iv.width, [list(s) for s in iv.segments], seconds


def run(n_events: int, seed: int, luminosity_fb: float, n_bins: int, bkg_fraction: float, n_points: int, plots: Path | None) -> dict:
    from physinf.simulate import generate, marginal_score

    t0 = time.perf_counter()
    sample = generate("wbf", n_events, seed=seed)
    t_gen = time.perf_counter() - t0
    names = tuple(sample.coefficients)
    j = names.index(COEF)
    w = np.asarray(sample.weight_components)
    powers = np.asarray(sample.powers)
    theta0 = np.zeros(len(names))
    bkg_w = bkg_fraction * w[:, 0]
    info_truth = unbinned_fisher_information(w, powers, theta0, luminosity_fb, background_weights=bkg_w)
    width_truth = expected_width(info_truth[j : j + 1, j : j + 1])
    score = np.asarray(marginal_score(sample, theta0))[:, j]
    w0 = sample.weights(theta0)
    d_log_sigma = sample.weight_gradients(theta0)[:, j].sum() / w0.sum()
    info_observable = float(score_fisher_information(w0, score, [d_log_sigma], luminosity_fb, background_weights=bkg_w)[0, 0])
    dphi = np.asarray(sample.observables["delta_phi_jj"])
    observables = {
        "rate only": (dphi, np.array([-np.pi, np.pi])),
        f"delta_phi_jj ({n_bins} uniform bins)": (dphi, np.linspace(-np.pi, np.pi, n_bins + 1)),
        f"delta_phi_jj ({n_bins} Fisher-optimal bins)": (dphi, fisher_optimal_edges(dphi, w, powers, theta0, n_bins, direction=np.eye(len(names))[j], background_weights=bkg_w)),
        f"exact score ({n_bins} quantile bins)": (score, quantile_edges(score, n_bins, w[:, 0])),
        f"exact score ({n_bins} Fisher-optimal bins)": (score, fisher_optimal_edges(score, w, powers, theta0, n_bins, direction=np.eye(len(names))[j], background_weights=bkg_w)),
    }
    rows = []
    scans = {}
    for label, (x, edges) in observables.items():
        t = histogram_templates(x, w, powers, names, edges, luminosity_fb)
        bkg = bkg_fraction * t.yields[0]
        bkg_err = bkg_fraction * np.sqrt(t.sumw2[0, 0])
        # range: rate-only intervals come from the quadratic term and are much wider
        half = 4 * width_truth if label != "rate only" else 12 * width_truth
        results = {}
        # systematics: 2% luminosity, MC statistics, factorisation scale (muF x 2, x 1/2) as histosys
        scale = scale_systematic(sample, x, edges, theta0)
        for variant, syst in (("stat_only", Systematics(mc_stat=False)), ("syst", Systematics(lumi=0.02, shapes=(scale,)))):
            h = half
            while True:
                t0 = time.perf_counter()
                lh = build_likelihood(t, [Background("bkg", bkg, bkg_err)], syst, bounds={c: (-2 * h, 2 * h) for c in names})
                t_build = time.perf_counter() - t0
                t0 = time.perf_counter()
                fit(lh, data=lh.asimov_data(), fixed={c: 0.0 for c in names if c != COEF})
                t_fit = time.perf_counter() - t0
                try:
                    results[variant] = (*_scan_width(lh, h, n_points), t_build, t_fit, h, lh)
                    break
                except RuntimeError:
                    h *= 2
        width, segments, t_scan, t_build, t_fit, half, lh = results["syst"]
        info = binned_fisher_information(t, theta0, bkg)
        w_fisher = expected_width(info[j : j + 1, j : j + 1])
        rows.append(
            {
                "observable": label,
                "n_bins": int(t.n_bins),
                "width95_scan": width,
                "width95_scan_stat_only": results["stat_only"][0],
                "ratio_to_truth_optimum_stat_only": results["stat_only"][0] / width_truth,
                "segments95": segments,
                "width95_fisher": w_fisher,
                "ratio_to_truth_optimum": width / width_truth,
                "fisher_information": float(info[j, j]),
                "information_fraction": float(info[j, j] / info_truth[j, j]),
                "time_build_s": t_build,
                "time_fit_s": t_fit,
                "time_scan_s": t_scan,
                "scan_points": n_points,
            }
        )
        if plots is not None:
            scans[label] = profile_scan(lh, COEF, np.linspace(-half, half, n_points), data=lh.asimov_data(), profile=False)
    if plots is not None:
        from physinf.stats.plots import plot_scans

        ax = plot_scans(scans)
        # show every shape observable's 95% interval (the rate-only curve is far wider)
        lim = 0.7 * max(r["width95_scan"] for r in rows if r["n_bins"] > 1)
        ax.set_xlim(-lim, lim)
        ax.set_title(f"WBF {COEF}, {luminosity_fb:g} fb$^{{-1}}$, Asimov at the SM, with systematics", fontsize=9)
        save_figure(ax.figure, plots / "stats_scans.png", bbox_inches="tight")
    return {
        "process": "wbf",
        "coefficient": COEF,
        "luminosity_fb": luminosity_fb,
        "n_events": len(sample),
        "seed": seed,
        "sigma_sm_pb": float(sample.cross_section(theta0)),
        "background": f"{bkg_fraction} x SM (same kinematics)",
        "systematics": "lumi 2% normsys, MC stat staterror, muF x2 and x1/2 histosys (from the sample's scale-varied weights)",
        "truth_fisher_information": float(info_truth[j, j]),
        "width95_truth_optimum": width_truth,
        "observable_fisher_information": info_observable,
        "observable_information_fraction": info_observable / float(info_truth[j, j]),
        "width95_observable_optimum": expected_width(np.array([[info_observable]])),
        "time_generate_s": t_gen,
        "rows": rows,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--n-events", type=int, default=20000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--luminosity-fb", type=float, default=300.0, help="integrated luminosity in fb^-1")
    p.add_argument("--bins", type=int, default=10)
    p.add_argument("--bkg-fraction", type=float, default=1.0)
    p.add_argument("--scan-points", type=int, default=81)
    p.add_argument("--plots", type=Path, default=None)
    a = p.parse_args()
    res = run(a.n_events, a.seed, a.luminosity_fb, a.bins, a.bkg_fraction, a.scan_points, a.plots)
    print(f"WBF {COEF}, {a.luminosity_fb:g} fb^-1, {res['n_events']} events; truth-optimum 95% width {res['width95_truth_optimum']:.4g}; "
          f"observables (jet labels summed) {res['width95_observable_optimum']:.4g} (I/I_truth {res['observable_information_fraction']:.3f})")
    print(f"{'observable':45s} {'w95 stat':>9s} {'ratio':>7s} {'w95 syst':>9s} {'ratio':>7s} {'w95 Fisher':>10s} {'I/I_truth':>9s} {'build+fit+scan s':>17s}")
    for r in res["rows"]:
        tt = r["time_build_s"] + r["time_fit_s"] + r["time_scan_s"]
        print(f"{r['observable']:45s} {r['width95_scan_stat_only']:9.4g} {r['ratio_to_truth_optimum_stat_only']:7.3f} {r['width95_scan']:9.4g} {r['ratio_to_truth_optimum']:7.3f} {r['width95_fisher']:10.4g} {r['information_fraction']:9.3f} {tt:17.2f}")
    if a.json is not None:
        write_json(a.json, res, indent=1)


if __name__ == "__main__":
    main()
