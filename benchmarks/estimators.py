"""Benchmark of physinf.learn: learned scores and likelihood ratios for WBF, and back to the formula.

Usage: python benchmarks/estimators.py [--json FILE] [--quick] [--figures DIR]

WBF p p -> j j H at 13 TeV (default cuts), coefficients (cHW, cHWtil), SM reference; one sample split
into training (70 %) and test (30 %) events; every number is measured on the test events.

* Parton level. SALLY (ensemble of 5) on (x_p1, x_p2, eta_j1, eta_j2, sin Δφ, cos Δφ, y_h); its
  Fisher efficiency for cHWtil is I(t̂)/I(t_obs): the information of the learned score as an
  observable (physinf.information, bias-corrected conditional mean in 50 quantile bins) relative
  to that of the exact score of the observables t_obs = marginal_score (jet labels summed).
* Ratios: CARL, ALICES, RASCAL (θ₀ in [−1, 1]², θ₁ = SM) and the quadratic EFT estimator, at three
  training sizes: mean |log r̂ − log r| over a grid of θ₀ (two coefficients: the 8 non-SM points of
  {−1, 0, 1}²·0.8; one coefficient: cHWtil in {−0.8, −0.4, 0.4, 0.8} with cHW = 0), weighted by the
  test events' SM weights, against the exact log r of the observables (marginal_log_ratio); and the
  information their score ∇θ log r̂ at the SM holds about cHWtil.
* Detector level (FastDetector atlas-like: H -> γγ, jets and photons measured; BR(H -> γγ) = 2.27e-3
  applied to the rates of the widths table). The best observable available there is the exact
  parton-level score formula evaluated on the reconstructed objects; SALLY is trained on the
  reconstructed observables and compared with it (both measured against t_obs of the same events).
* Back to the formula: the detector-level learned score distilled with physinf.symbolic (the WBF
  preset: declared x_p1 x_p2 sin Δφ, search over invariants; and the seed-talk inputs), and the
  information the formula keeps relative to the learned score.
* Widths (cHWtil, 300 fb⁻¹, detector-accepted events, 12 Fisher-optimal bins): Δφ_jj histogram,
  learned score (binned), distilled formula (binned), best detector observable (binned), and the
  unbinned optimum of the parton-level observables (the reference).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from physinf._io import save_figure, write_json  # noqa: E402
from physinf.information import information_fraction  # noqa: E402
from physinf.learn import LocalScoreEstimator, ParameterizedRatioEstimator, QuadraticRatioEstimator, TrainingConfig  # noqa: E402

FEATURES = ["log_x_p1", "log_x_p2", "eta_j1", "eta_j2", "sin_dphi", "cos_dphi", "y_h"]
# SALLY: log p_T inputs and three hidden layers trained long (a 2 x 100 tanh network with linear p_T
# inputs stopped at 0.974 of the parton-level information: the score grows with p_T^2 in the tails,
# which carry most of E[t^2]); ratio estimators keep the defaults
SALLY_HIDDEN = (128, 128, 128)
SALLY_MEMBERS = 3
GRID_2D = [np.array([a, b]) * 0.8 for a in (-1, 0, 1) for b in (-1, 0, 1) if (a, b) != (0, 0)]
GRID_1D = [np.array([0.0, c]) for c in (-0.8, -0.4, 0.4, 0.8)]
LUMINOSITY_FB = 300.0


def _with_angles(sample):
    dphi = sample.observables["delta_phi_jj"]
    return sample.with_observables({"sin_dphi": np.sin(dphi), "cos_dphi": np.cos(dphi),
                                    "log_x_p1": np.log(sample.observables["x_p1"]),
                                    "log_x_p2": np.log(sample.observables["x_p2"])})


def _sally(quick: bool) -> LocalScoreEstimator:
    return LocalScoreEstimator(FEATURES, hidden=(64, 64) if quick else SALLY_HIDDEN, n_members=2 if quick else SALLY_MEMBERS,
                               training=TrainingConfig(epochs=15 if quick else 150, patience=20, final_learning_rate=1e-5,
                                                       progress=not quick))


def _x(sample):
    return np.stack([sample.observables[f] for f in FEATURES], axis=1)


def parton_level(sample, quick: bool, ratio_rows: list[dict] | None = None) -> dict:
    from physinf.simulate import marginal_log_ratio, marginal_score, unlabelled_components

    train, test = sample.split([0.7, 0.3], np.random.default_rng(11))
    w = test.weights()
    t_obs = marginal_score(test)[:, 1]
    out: dict = {"n_train": len(train), "n_test": len(test), "effective_train": train.effective_size()}
    t0 = time.perf_counter()
    sally = _sally(quick).fit(train)
    members = sally.predict_members(_x(test))[:, :, 1]
    t_hat = members.mean(axis=0)
    out["sally"] = {
        "train_s": time.perf_counter() - t0,
        "efficiency": information_fraction(t_hat, t_obs, weights=w),
        "efficiency_members": [information_fraction(m, t_obs, weights=w) for m in members],
        "relative_mse": float(np.average((t_hat - t_obs) ** 2, weights=w) / np.average(t_obs**2, weights=w)),
        "epochs": [len(h.train_loss) for h in sally.histories_],
    }
    print(f"  SALLY parton: efficiency {out['sally']['efficiency']:.4f} (members {np.round(out['sally']['efficiency_members'], 4).tolist()}), "
          f"rel. MSE {out['sally']['relative_mse']:.4f}, {out['sally']['train_s']:.0f} s", flush=True)
    U = unlabelled_components(test)
    exact_2d = [marginal_log_ratio(test, th, components=U) for th in GRID_2D]
    exact_1d = [marginal_log_ratio(test, th, components=U) for th in GRID_1D]
    x = _x(test)
    sizes = [4000, 16000] if quick else [10000, 40000, len(train)]
    rows = []
    if ratio_rows is not None:  # measured by an earlier run of this code on the same sample (see --ratio-rows)
        sizes, rows = [], ratio_rows
    for size in sizes:
        part = train.subset(np.arange(min(size, len(train))))
        part = replace(part, weight_components=part.weight_components * (len(train) / len(part)))
        for method in ("carl", "alices", "rascal", "quadratic"):
            cfg = TrainingConfig(epochs=8 if quick else 40, patience=8, progress=False)
            if method == "quadratic":
                est = QuadraticRatioEstimator(FEATURES, training=cfg)
            else:
                est = ParameterizedRatioEstimator(FEATURES, theta_low=[-1, -1], theta_high=[1, 1], method=method,
                                                  n_theta=5, training=cfg)
            t0 = time.perf_counter()
            est.fit(part)
            seconds = time.perf_counter() - t0
            err2 = [np.average(np.abs(est.log_ratio(x, th) - ex), weights=w) for th, ex in zip(GRID_2D, exact_2d)]
            err1 = [np.average(np.abs(est.log_ratio(x, th) - ex), weights=w) for th, ex in zip(GRID_1D, exact_1d)]
            info = information_fraction(est.score(x)[:, 1], t_obs, weights=w)
            rows.append({"method": method, "n_train": len(part), "mean_abs_log_error_2d": float(np.mean(err2)),
                         "mean_abs_log_error_1d": float(np.mean(err1)), "score_information_fraction": info, "train_s": seconds})
            print(f"  ratio {method:9s} n={len(part):7d}: |dlog r| 2D {np.mean(err2):.4f} 1D {np.mean(err1):.4f}, "
                  f"score info {info:.3f}, {seconds:.0f} s", flush=True)
    out["ratio_rows"] = rows
    out["exact_mean_abs_log_r_2d"] = float(np.mean([np.average(np.abs(e), weights=w) for e in exact_2d]))
    return out


def _best_detector_score(reconstruction, parton_sample):
    """The exact parton-level score of the observables evaluated at the reconstructed momenta."""
    from physinf.simulate import marginal_score

    observed = replace(reconstruction.sample, config=parton_sample.config)
    with np.errstate(divide="ignore", invalid="ignore"):  # reconstructed objects need not conserve momentum
        t = marginal_score(observed, momenta=reconstruction.momenta)[:, 1]
    # a reconstructed event whose rebuilt partons fall outside the PDF range (x > 1) has no density there
    return np.where(np.isfinite(t), t, 0.0), int(np.sum(~np.isfinite(t)))


def detector_level(sample, quick: bool) -> dict:
    from physinf.detector import HIGGS_TO_GAMMA_GAMMA_BR, FastDetector
    from physinf.simulate import marginal_score
    from physinf.stats import information_table
    from physinf.symbolic import WBF_CP_ODD, Budget, Symmetry, distill

    rec = FastDetector.from_preset("atlas-like").reconstruct(sample, np.random.default_rng(5))
    det = _with_angles(rec.sample)
    t_obs = marginal_score(det)[:, 1]  # parton-level truth of the accepted events (their z is attached)
    best, n_undefined = _best_detector_score(rec, sample)
    idx = np.random.default_rng(12).permutation(len(det))
    n_tr = int(0.7 * len(det))
    train = det.subset(idx[:n_tr])
    test_idx = idx[n_tr:]
    test = det.subset(test_idx)
    w = test.weights()
    t0 = time.perf_counter()
    sally = _sally(quick).fit(train)
    train_s = time.perf_counter() - t0
    t_hat = sally.predict_sample(test)[:, 1]
    f_learned = information_fraction(t_hat, t_obs[test_idx], weights=w)
    f_best = information_fraction(best[test_idx], t_obs[test_idx], weights=w)
    out = {"n_events": len(det), "acceptance": len(det) / len(sample), "sally_train_s": train_s,
           "best_observable_undefined_events": n_undefined,
           "sally_fraction_of_parton_observables": f_learned, "best_observable_fraction_of_parton_observables": f_best,
           "sally_efficiency": f_learned / f_best}
    print(f"  detector: {len(det)} events ({out['acceptance']:.3f} of the parton sample); SALLY {f_learned:.4f}, "
          f"best available {f_best:.4f} of the parton observables' information -> efficiency {out['sally_efficiency']:.4f}", flush=True)
    # back to the formula: distil the learned detector-level score (on the test events)
    budget = Budget(generations=20 if quick else 100, population_size=300 if quick else 500)
    formulas = {}
    t_hat_all = sally.predict_sample(det)[:, 1]
    for name, inputs, kwargs in (
        ("preset", list(WBF_CP_ODD.inputs), WBF_CP_ODD.distill_kwargs()),
        ("seed_talk", ["x_p1", "x_p2", "delta_eta_jj", "delta_phi_jj"],
         {"symmetry": Symmetry("delta_phi_jj", "odd", "enforce"), "operators": ("add", "sub", "mul", "sin", "cos", "square"),
          "snap": "rational"}),
    ):
        X_train = np.stack([train.observables[n] for n in inputs], axis=1)
        t0 = time.perf_counter()
        formula = distill(X_train, sally.predict_sample(train)[:, 1], inputs, weights=train.weights(), budget=budget, seed=1, **kwargs)
        X_all = np.stack([det.observables[n] for n in inputs], axis=1)
        values = formula(X_all)
        f_formula = information_fraction(values[test_idx], t_obs[test_idx], weights=w)
        formulas[name] = {"expression": str(formula.expr), "fraction_of_parton_observables": f_formula,
                          "over_learned": f_formula / f_learned, "distill_s": time.perf_counter() - t0, "values": values}
        print(f"  formula ({name}): {formula.expr}\n    keeps {f_formula / f_learned:.4f} of the learned score's information", flush=True)
    out["formulas"] = {k: {kk: vv for kk, vv in v.items() if kk != "values"} for k, v in formulas.items()}
    lum = LUMINOSITY_FB * HIGGS_TO_GAMMA_GAMMA_BR
    table = information_table(
        det.weight_components, det.powers, det.coefficients, np.zeros(2), "cHWtil", lum,
        binned={"delta_phi_jj histogram": det.observables["delta_phi_jj"], "learned score (binned)": t_hat_all,
                "distilled formula (binned)": formulas["preset"]["values"],
                # the exact parton formula at reconstructed momenta is not the score of the observed event,
                # so its unbinned "information" would not be a valid bound: histogrammed like the others
                "best detector observable (binned)": best},
        scores={"optimum of the parton observables (unbinned)": t_obs},
        reference="optimum of the parton observables (unbinned)",
    )
    out["widths"] = {name: {"width95": row.width95, "ratio_to_optimum": row.width95 / table["optimum of the parton observables (unbinned)"].width95,
                            "information_fraction": row.fraction_of_reference} for name, row in table.items()}
    for name, row in out["widths"].items():
        print(f"  width {name:46s} {row['width95']:.4f} TeV^-2  ({row['ratio_to_optimum']:.3f} x optimum)")
    return out


def _figure(rows: list[dict], path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 3.8))
    ax = fig.add_subplot()
    for method in ("carl", "alices", "rascal", "quadratic"):
        pts = [(r["n_train"], r["mean_abs_log_error_2d"]) for r in rows if r["method"] == method]
        ax.plot(*zip(*pts), marker="o", label=method)
    ax.set_xscale("log")
    ax.set_xlabel("training events")
    ax.set_ylabel(r"mean $|\log\hat r - \log r|$ (2D grid)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--figures", type=Path, default=ROOT / "docs" / "figures")
    parser.add_argument("--points", type=int, default=None, help="WBF phase-space points (default 400k, quick 40k)")
    parser.add_argument("--ratio-rows", type=Path, default=None,
                        help="JSON with the ratio rows of an earlier run of this code on the same sample (skips retraining them)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from physinf.simulate import generate

    n_points = args.points or (40000 if args.quick else 400000)
    t0 = time.perf_counter()
    sample = _with_angles(generate("wbf", n_points, seed=21, progress=not args.quick))
    print(f"WBF sample: {len(sample)} events, sigma = {sample.cross_section():.4f} pb ({time.perf_counter() - t0:.0f} s)", flush=True)
    reused = json.loads(args.ratio_rows.read_text()) if args.ratio_rows else None
    parton = parton_level(sample, args.quick, None if reused is None else reused["rows"])
    detector = detector_level(sample, args.quick)
    largest = max(r["n_train"] for r in parton["ratio_rows"])
    results = {
        "sally_efficiency_parton": parton["sally"]["efficiency"],
        "sally_efficiency_detector": detector["sally_efficiency"],
        "ratio_mean_abs_log_error": {r["method"]: r["mean_abs_log_error_2d"] for r in parton["ratio_rows"] if r["n_train"] == largest},
        "ratio_mean_abs_log_error_1d": {r["method"]: r["mean_abs_log_error_1d"] for r in parton["ratio_rows"] if r["n_train"] == largest},
        "formula_over_learned_info_detector": detector["formulas"]["preset"]["over_learned"],
        "widths": detector["widths"],
        "parton": parton,
        "detector": detector,
        "n_points": n_points,
        "quick": args.quick,
        "machine": {"cpus": os.cpu_count(), "gpu": None, "python": platform.python_version(), "torch": torch.__version__,
                    "torch_threads": torch.get_num_threads(), "load_average": os.getloadavg()},
        "wall_s": time.perf_counter() - t0,
        "ratio_rows_source": None if reused is None else reused["source"],
    }
    _figure(parton["ratio_rows"], args.figures / f"estimators_ratio_error{'_quick' if args.quick else ''}.png")
    if args.json:
        write_json(args.json, results)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
