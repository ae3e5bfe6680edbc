"""Benchmark: simulation-based inference of Wilson coefficients (NPE, NLE, NRE with sbi) against the exact posterior.

WBF (p p -> j j H) at parton level. One weighted sample is generated and split: the simulator of
the training part (EventSimulator: unweighted events at any θ from the morphing weights) feeds
the networks; pseudo-experiments of N events come from the held-out part, whose unlabelled
components give the exact posterior (ReferencePosterior.exact) on a θ grid. For one coefficient
(cHWtil, cHW fixed at 0) and two (cHW, cHWtil), box prior [-1, 1] per coefficient, for NPE (flow
on the experiment's mean learned score and its second moments), NLE and NRE (on the events'
observables, combined over the N events):

* C2ST of posterior draws against exact draws (sbi.utils.metrics.c2st; the null spread of two
  exact samples is reported next to it), on ``--observations`` pseudo-experiments;
* posterior mean and width against the exact ones, and the width against the Fisher width
  1/sqrt(N I(θ_true)) of the observed events;
* expected coverage at 68 % and 95 % and SBC (sbi.diagnostics via physinf.learn.calibrate) on
  held-out experiments with θ from the prior; the same for the exact posterior (the reference's
  own calibration against the resampling simulator);
* the MCMC cross-check of the grid sampler for NLE and NRE (C2ST of slice-sampling draws against
  grid draws);
* simulation budget and wall time of each stage.

At detector level (FastDetector "atlas-like", H -> γγ, one coefficient) no exact density exists:
the reference there is the unbinned likelihood of a learned QuadraticRatioEstimator
(ReferencePosterior.from_quadratic_ratio), said as such in the output.

Writes the figure docs/figures/sbi_posteriors.png (or --figures DIR; --quick writes it only with
--figures): posterior contours (2-d) and
densities (1-d) of the three methods over the exact one, and the coverage curves.

Usage: python benchmarks/sbi.py [--json FILE] [--quick] [--figures DIR] [--no-detector]
       python benchmarks/sbi.py --dims 1 --json A.json & python benchmarks/sbi.py --dims 2 --no-detector --json B.json
       python benchmarks/sbi.py --merge A.json B.json --json docs/results/sbi.json   (the same run on two cores)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

# this file is named sbi.py: drop its own folder from the path so that ``import sbi`` finds the package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._machine import machine as _machine  # noqa: E402
from physinf._io import save_figure, write_json  # noqa: E402

METHODS = ("npe", "nle", "nre")
FEATURES = ["log_x_p1", "log_x_p2", "eta_j1", "eta_j2", "delta_phi_jj", "y_h"]
NAMES = {1: ["cHWtil"], 2: ["cHW", "cHWtil"]}
THETA_TRUE = {1: [[0.3], [-0.5], [0.0]], 2: [[0.3, -0.2], [-0.4, 0.5], [0.0, 0.0]]}


@dataclass(frozen=True)
class Sizes:
    """Full-run sizes, chosen to finish in about an hour on one CPU core: NLE's calibration costs
    experiments x events x grid points flow evaluations, which bounds the experiment count."""

    n_points: int = 300_000  # generated phase-space points (events pass the cuts with ~75 %)
    n_events: int = 50  # events per experiment
    npe_simulations: int = 20_000  # experiments
    event_simulations: int = 60_000  # single events for NLE and NRE
    batch_size: int = 512
    learning_rate: float = 1e-3
    hidden: int = 64
    transforms: int = 5
    max_epochs: int = 150
    n_observations: int = 3
    n_c2st: int = 2000  # posterior draws per C2ST sample
    n_calibration: int = 400  # experiments for coverage and SBC (binomial error 0.023 at 68 %)
    n_calibration_2d: int = 400  # 150 gave a binomial error of 0.038 at 68 %: too coarse for a ±0.03 target
    n_posterior_samples: int = 300
    detector_points: int = 200_000
    detector_event_simulations: int = 40_000
    detector_npe_simulations: int = 15_000
    grid_2d: tuple[int, int] = (20, 48)  # NLE/NRE posterior grid for two coefficients (calibration cost ~ its size)
    grid_1d: tuple[int, int] | None = None  # the same for one coefficient (None: physinf's default, (64, 400))
    n_mcmc: int = 500  # MCMC draws of the cross-check against the grid sampler
    mcmc_warmup: int = 200  # slice-sampling warm-up steps per chain (most of the cross-check's cost)
    mcmc_chains: int = 20
    c2st_folds: int = 5  # cross-validation folds of each C2ST (sbi's default)


QUICK = Sizes(n_points=12_000, n_events=10, npe_simulations=1000, event_simulations=3000, batch_size=256,
              learning_rate=1e-3, hidden=32, transforms=3, max_epochs=15, n_observations=1, n_c2st=300,
              n_calibration=100, n_calibration_2d=100, n_posterior_samples=100, detector_points=10_000,
              detector_event_simulations=3000, detector_npe_simulations=1000,
              grid_2d=(10, 24), grid_1d=(32, 100), n_mcmc=60, mcmc_warmup=20, mcmc_chains=5, c2st_folds=2)


def machine() -> dict:
    return _machine(torch_threads=1)  # sbi runs with PosteriorConfig.threads = 1


def with_log_pt(sample):
    return sample.with_observables({"log_x_p1": np.log(sample.observables["x_p1"]),
                                    "log_x_p2": np.log(sample.observables["x_p2"])})


def config_for(method: str, sizes: Sizes, seed: int, grid=None):
    from physinf.learn import PosteriorConfig

    n = sizes.npe_simulations if method == "npe" else sizes.event_simulations
    return PosteriorConfig(n_simulations=n, hidden_features=sizes.hidden, num_transforms=sizes.transforms,
                           batch_size=sizes.batch_size, learning_rate=sizes.learning_rate, max_epochs=sizes.max_epochs,
                           seed=seed, grid_resolution=grid, mcmc_warmup=sizes.mcmc_warmup, mcmc_chains=sizes.mcmc_chains)


def run_level(train, test, reference_factory, sizes: Sizes, dims: tuple[int, ...], seed: int, label: str,
              event_simulations: int | None = None, npe_simulations: int | None = None,
              methods: tuple[str, ...] = METHODS) -> dict:
    """All three methods for each prior dimension on one (train, test) pair; reference_factory(sim) -> ReferencePosterior."""
    from physinf.learn import BoxPrior, EventSimulator, PosteriorEstimator, c2st, c2st_null_sigma, calibrate
    from physinf.learn.data import feature_matrix

    sizes = replace(sizes, event_simulations=event_simulations or sizes.event_simulations,
                    npe_simulations=npe_simulations or sizes.npe_simulations)
    out = {}
    x_test = feature_matrix(test, FEATURES)
    for dim in dims:
        prior = BoxPrior([-1.0] * dim, [1.0] * dim, names=NAMES[dim])
        grid = sizes.grid_1d if dim == 1 else sizes.grid_2d
        sim_test = EventSimulator(test, prior)
        t0 = time.perf_counter()
        ref = reference_factory(sim_test)
        reference_seconds = time.perf_counter() - t0
        rng = np.random.default_rng(seed + 100 * dim)
        observations = []
        for theta in THETA_TRUE[dim][: sizes.n_observations]:
            idx = sim_test.draw([theta], sizes.n_events, rng)[0]
            exact = ref.posterior(idx, resolution=grid)
            fisher = ref.fisher_information([theta])
            observations.append({
                "theta_true": theta, "indices": idx, "exact": exact,
                "exact_draws": exact.sample(sizes.n_c2st, np.random.default_rng(seed + 1)),
                "null_c2st": c2st(exact.sample(sizes.n_c2st, np.random.default_rng(seed + 2)),
                                  exact.sample(sizes.n_c2st, np.random.default_rng(seed + 3)), n_folds=sizes.c2st_folds),
                "fisher_width": np.sqrt(np.diag(np.linalg.inv(sizes.n_events * fisher))).tolist(),
            })
        print(f"[{label} {dim}-d] reference ({ref.kind}) in {reference_seconds:.1f} s; exact widths "
              f"{[np.round(o['exact'].std(), 3).tolist() for o in observations]}, Fisher widths "
              f"{[np.round(o['fisher_width'], 3).tolist() for o in observations]}", flush=True)
        t0 = time.perf_counter()
        ref_cal = calibrate(ref, n_events=sizes.n_events, n_experiments=sizes.n_calibration if dim == 1 else sizes.n_calibration_2d,
                            n_posterior_samples=sizes.n_posterior_samples, seed=seed)
        print(f"[{label} {dim}-d] reference coverage {ref_cal.coverage} ({time.perf_counter() - t0:.0f} s)", flush=True)
        level = {"reference": ref.kind, "n_events": sizes.n_events, "prior": {"names": NAMES[dim], "low": -1.0, "high": 1.0},
                 "reference_calibration": ref_cal.to_dict(),
                 "reference_credibility": ref_cal.credibility.tolist(),
                 "observations": [{"theta_true": o["theta_true"], "exact_mean": o["exact"].mean().tolist(),
                                   "exact_std": o["exact"].std().tolist(), "fisher_width": o["fisher_width"],
                                   "null_c2st": o["null_c2st"]} for o in observations],
                 "c2st_null_sigma": c2st_null_sigma(sizes.n_c2st), "methods": {}}
        for method in methods:
            t0 = time.perf_counter()
            est = PosteriorEstimator(method, prior, FEATURES, n_events=sizes.n_events, device="cpu",
                                     config=config_for(method, sizes, seed, grid)).fit(train)
            fit_seconds = time.perf_counter() - t0
            rows = []
            for o in observations:
                t1 = time.perf_counter()
                post = est.posterior(x_test[o["indices"]])
                draws = post.sample(sizes.n_c2st)
                row = {"c2st": c2st(draws, o["exact_draws"], n_folds=sizes.c2st_folds), "mean": post.mean().tolist(), "std": post.std().tolist(),
                       "mean_shift_in_exact_widths": ((post.mean() - o["exact"].mean()) / o["exact"].std()).tolist(),
                       "std_over_exact": (post.std() / o["exact"].std()).tolist(),
                       "std_over_fisher": (post.std() / np.asarray(o["fisher_width"])).tolist(),
                       "interval_68": [list(post.credible_interval(0.68, i)) for i in range(dim)],
                       "posterior_seconds": time.perf_counter() - t1, "draws": draws}
                rows.append(row)
            mcmc = None
            if method != "npe":
                t1 = time.perf_counter()
                post = est.posterior(x_test[observations[0]["indices"]])
                n_mcmc = min(sizes.n_mcmc, sizes.n_c2st)
                mcmc_draws = post.sample(n_mcmc, sampler="mcmc")
                mcmc = {"c2st_mcmc_vs_grid": c2st(mcmc_draws, post.sample(n_mcmc, sampler="grid"), n_folds=sizes.c2st_folds),
                        "n_draws": n_mcmc, "seconds": time.perf_counter() - t1}
            t1 = time.perf_counter()
            cal = calibrate(est, test, n_experiments=sizes.n_calibration if dim == 1 else sizes.n_calibration_2d,
                            n_posterior_samples=sizes.n_posterior_samples, seed=seed)
            calibration_seconds = time.perf_counter() - t1
            h = est.history_
            level["methods"][method] = {
                "c2st": [r["c2st"] for r in rows], "c2st_mean": float(np.mean([r["c2st"] for r in rows])),
                "observations": [{k: v for k, v in r.items() if k != "draws"} for r in rows],
                "calibration": cal.to_dict(), "credibility": cal.credibility.tolist(), "mcmc_check": mcmc,
                "simulations": est.config.n_simulations,
                "events_simulated": est.config.n_simulations * (sizes.n_events if method == "npe" else 1),
                # on the weights, NLE and NRE draw n_simulations fresh (θ, event) pairs from the training events every epoch
                "training": "morphing weights, fresh θ each epoch" if est.config.training_for(method) == "weights"
                else "sbi trainer, fixed simulations",
                "epochs": h.epochs, "converged": h.converged,
                "wall_s": {"fit": fit_seconds, "summary": h.summary_seconds, "simulation": h.simulation_seconds,
                           "training": h.training_seconds, "calibration": calibration_seconds},
                "draws_first_observation": rows[0]["draws"][:2000].tolist(),
            }
            print(f"[{label} {dim}-d] {method}: C2ST {[round(r['c2st'], 3) for r in rows]} (null {[round(o['null_c2st'], 3) for o in observations]}), "
                  f"std/exact {[np.round(r['std_over_exact'], 2).tolist() for r in rows]}, coverage {np.round(cal.coverage, 3).tolist()} "
                  f"+- {np.round(cal.coverage_sigma, 3).tolist()}, {h.epochs} epochs, fit {fit_seconds:.0f} s, "
                  f"calibration {calibration_seconds:.0f} s" + (f", MCMC vs grid C2ST {mcmc['c2st_mcmc_vs_grid']:.3f}" if mcmc else ""),
                  flush=True)
        level["exact_draws_first_observation"] = observations[0]["exact_draws"][:2000].tolist()
        out[f"{dim}d"] = level
    return out


def figure(results: dict, path: Path) -> Path:
    from matplotlib.figure import Figure

    colours = {"npe": "tab:blue", "nle": "tab:orange", "nre": "tab:green"}
    fig = Figure(figsize=(15, 4.6))
    axes = fig.subplots(1, 3)
    one, two = results["parton"]["1d"], results["parton"]["2d"]
    bins = np.linspace(-1, 1, 41)
    ax = axes[0]
    ax.hist(np.asarray(one["exact_draws_first_observation"])[:, 0], bins, density=True, histtype="stepfilled",
            color="0.8", label="exact")
    for m in METHODS:
        d = np.asarray(one["methods"][m]["draws_first_observation"])[:, 0]
        ax.hist(d, bins, density=True, histtype="step", color=colours[m], lw=1.6,
                label=f"{m.upper()} (C2ST {one['methods'][m]['c2st'][0]:.3f})")
    t = one["observations"][0]["theta_true"][0]
    ax.axvline(t, color="k", ls=":", lw=1)
    ax.set_xlabel("cHWtil")
    ax.set_ylabel("posterior density")
    ax.set_title(f"1 coefficient, N = {one['n_events']} events (θ_true = {t})")
    ax.legend(fontsize=8)
    ax = axes[1]
    grid = np.linspace(-1, 1, 31)

    def contour(draws, colour, style, label):
        from scipy.ndimage import gaussian_filter

        h, xe, ye = np.histogram2d(draws[:, 0], draws[:, 1], bins=[grid, grid], density=True)
        h = gaussian_filter(h, 1.0, mode="nearest")  # 2000 draws: smooth over ~1 bin before drawing regions
        flat = np.sort(h.ravel())[::-1]
        cum = np.cumsum(flat) / flat.sum()
        levels = sorted({flat[min(np.searchsorted(cum, q), len(flat) - 1)] for q in (0.68, 0.95)})
        xc, yc = 0.5 * (xe[1:] + xe[:-1]), 0.5 * (ye[1:] + ye[:-1])
        ax.contour(xc, yc, h.T, levels=levels, colors=colour, linestyles=style, linewidths=1.5)
        ax.plot([], [], color=colour, ls=style, label=label)

    contour(np.asarray(two["exact_draws_first_observation"]), "k", "solid", "exact")
    for m in METHODS:
        contour(np.asarray(two["methods"][m]["draws_first_observation"]), colours[m], "dashed",
                f"{m.upper()} (C2ST {two['methods'][m]['c2st'][0]:.3f})")
    tt = two["observations"][0]["theta_true"]
    ax.plot([tt[0]], [tt[1]], "k*", ms=9)
    ax.set_xlabel("cHW")
    ax.set_ylabel("cHWtil")
    ax.set_title("2 coefficients: 68 % and 95 % regions")
    ax.legend(fontsize=8)
    ax = axes[2]
    alpha = np.linspace(0, 1, 101)
    for key, level, style in (("1d", one, "-"), ("2d", two, "--")):
        for m in METHODS:
            cred = np.asarray(level["methods"][m]["credibility"])
            ax.plot(alpha, [np.mean(cred < a) for a in alpha], color=colours[m], ls=style, lw=1.2,
                    label=f"{m.upper()} {key}")
        cred = np.asarray(level["reference_credibility"])
        ax.plot(alpha, [np.mean(cred < a) for a in alpha], color="k", ls=style, lw=0.8, label=f"exact {key}")
    ax.plot([0, 1], [0, 1], color="0.5", lw=0.6)
    ax.set_xlabel("credibility level")
    ax.set_ylabel("expected coverage")
    ax.set_title("expected coverage (held-out experiments)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)


def summarise(res: dict) -> dict:
    """The issue's summary keys from the parton-level results (both prior dimensions needed)."""
    parton = res["parton"]
    dims = ("1d", "2d")
    res["sbi_c2st"] = {m: parton["1d"]["methods"][m]["c2st_mean"] for m in METHODS}
    res["sbi_c2st_2d"] = {m: parton["2d"]["methods"][m]["c2st_mean"] for m in METHODS}
    res["sbi_coverage_abs_error"] = max(parton[d]["methods"][m]["calibration"]["abs_error"] for d in dims for m in METHODS)
    res["sbi_coverage_abs_error_by_method"] = {m: {d: parton[d]["methods"][m]["calibration"]["abs_error"] for d in dims}
                                               for m in METHODS}
    res["wall_s"] = {m: {d: parton[d]["methods"][m]["wall_s"] for d in dims} | {
        "total": sum(parton[d]["methods"][m]["wall_s"]["fit"] + parton[d]["methods"][m]["wall_s"]["calibration"] for d in dims)}
        for m in METHODS}
    res["targets"] = {"c2st_max": 0.55, "coverage_abs_error_max": 0.03,
                      "c2st_met": {d: {m: parton[d]["methods"][m]["c2st_mean"] <= 0.55 for m in METHODS} for d in dims},
                      "coverage_met": {d: {m: parton[d]["methods"][m]["calibration"]["abs_error"] <= 0.03 for m in METHODS}
                                       for d in dims}}
    print(f"sbi_c2st {res['sbi_c2st']}\nsbi_c2st_2d {res['sbi_c2st_2d']}\ncoverage abs error {res['sbi_coverage_abs_error']:.3f}",
          flush=True)
    return res


def merge(paths: list[Path]) -> dict:
    """One result from partial runs of the same sizes and seed (e.g. ``--dims 1`` and ``--dims 2
    --no-detector``, run side by side on two cores): their parton levels joined, the detector level
    from the run that has it, wall times kept per part."""
    parts = [json.loads(path.read_text()) for path in paths]
    for path, part in zip(paths, parts):
        if part.get("methods", list(METHODS)) != list(METHODS):
            raise SystemExit(f"{path} ran only {part['methods']}: the summary needs all of {list(METHODS)}")
    first = parts[0]

    def shared_sizes(part: dict) -> dict:  # the 2-d experiment count matters only to the part that ran 2-d
        return {k: v for k, v in part["sizes"].items() if k != "n_calibration_2d"}

    for path, part in zip(paths[1:], parts[1:]):
        for key in ("quick", "features", "seed", "sample"):
            if part.get(key) != first.get(key):
                raise SystemExit(f"{path} differs from {paths[0]} in {key!r}: not parts of one run")
        if shared_sizes(part) != shared_sizes(first):
            raise SystemExit(f"{path} differs from {paths[0]} in 'sizes': not parts of one run")
    res = {k: first[k] for k in ("machine", "quick", "features", "seed", "sample")}
    two_d = [part for part in parts if "2d" in part["parton"]]
    res["sizes"] = (two_d or parts)[0]["sizes"]
    res["parton"] = {d: level for part in parts for d, level in part["parton"].items()}
    detector = [part["detector"] for part in parts if "detector" in part]
    if detector:
        res["detector"] = detector[0]
    res["parts"] = [{"file": path.name, "dims": sorted(part["parton"]), "detector": "detector" in part,
                     "total_wall_s": part["total_wall_s"]} for path, part in zip(paths, parts)]
    res["total_wall_s"] = max(part["total_wall_s"] for part in parts)  # the parts ran at the same time
    return res


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--figure-from", type=Path, default=None, help="redraw the figure from a results JSON and stop")
    p.add_argument("--quick", action="store_true", help="the same code on small sizes (< 3 minutes)")
    p.add_argument("--figures", type=Path, default=None,
                   help="folder for sbi_posteriors.png (default: docs/figures for a full run, none for --quick, "
                        "whose small-size figure must not replace the full run's)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-detector", action="store_true")
    p.add_argument("--dims", default="1,2", choices=["1", "2", "1,2"],
                   help="parton-level prior dimensions to run (a part of the run; join the parts with --merge)")
    p.add_argument("--methods", default=",".join(METHODS),
                   help="a comma-separated subset of npe,nle,nre (a check of one method; the summary needs all three)")
    p.add_argument("--calibration-2d", type=int, default=None,
                   help="held-out experiments of the 2-d coverage (default 400: binomial error 0.023 at 68 %%)")
    p.add_argument("--merge", type=Path, nargs="+", default=None,
                   help="join the JSON files of partial runs (--dims) into one with the summary keys and the figure")
    a = p.parse_args()
    if a.figures is None and not a.quick:
        a.figures = Path(__file__).resolve().parents[1] / "docs" / "figures"
    if a.figure_from is not None:
        if a.figures is None:
            p.error("--figure-from with --quick needs --figures DIR")
        print(f"figure {figure(json.loads(a.figure_from.read_text()), a.figures / 'sbi_posteriors.png')}")
        return
    if a.merge is not None:
        res = summarise(merge(a.merge))
        complete(res, None if res["quick"] else a.figures, a.json)
        return
    import torch

    torch.set_num_threads(1)
    from physinf.learn import ReferencePosterior
    from physinf.simulate import generate, unlabelled_components

    sizes = QUICK if a.quick else Sizes()
    if a.calibration_2d is not None:
        sizes = replace(sizes, n_calibration_2d=a.calibration_2d)
    methods = tuple(m.strip() for m in a.methods.split(","))
    if not methods or any(m not in METHODS for m in methods):
        p.error(f"--methods takes a comma-separated subset of {','.join(METHODS)}, got {a.methods!r}")
    dims = tuple(int(d) for d in a.dims.split(","))
    t_start = time.perf_counter()
    res = {"machine": machine(), "quick": a.quick, "sizes": sizes.__dict__, "features": FEATURES, "seed": a.seed}
    t0 = time.perf_counter()
    sample = with_log_pt(generate("wbf", sizes.n_points, seed=a.seed, n_adapt=min(20000, sizes.n_points // 2)))
    train, test = sample.split([0.75, 0.25], np.random.default_rng(a.seed))
    res["sample"] = {"events": len(sample), "train": len(train), "test": len(test),
                     "effective_size_train": train.effective_size(), "effective_size_test": test.effective_size()}
    res["generation_s"] = time.perf_counter() - t0
    print(f"WBF sample: {len(sample)} events ({res['generation_s']:.0f} s); Kish sizes train "
          f"{train.effective_size():.0f}, test {test.effective_size():.0f}", flush=True)
    t0 = time.perf_counter()
    u_test = unlabelled_components(test)
    res["unlabelled_components_s"] = time.perf_counter() - t0
    res["methods"] = list(methods)
    res["parton"] = run_level(train, test, lambda sim: ReferencePosterior.exact(sim, components=u_test), sizes, dims,
                              a.seed, "parton", methods=methods)
    if not a.no_detector:
        res["detector"] = detector_level(sizes, a.seed, methods)
    res["total_wall_s"] = time.perf_counter() - t_start
    if len(dims) == 2 and methods == METHODS:
        summarise(res)
        complete(res, a.figures, a.json)
    elif a.json is not None:  # a part: no summary keys, no figure (--merge makes them)
        write_json(a.json, res, indent=1)
        print(f"part written to {a.json}; join the parts with --merge", flush=True)


def complete(res: dict, figures: Path | None, json_path: Path | None) -> None:
    fig_path = None if figures is None else figure(res, figures / "sbi_posteriors.png")
    res["figure"] = None if fig_path is None else str(fig_path)
    print(f"total {res['total_wall_s']:.0f} s; figure {fig_path}", flush=True)
    if json_path is not None:
        write_json(json_path, res, indent=1)


def detector_level(sizes: Sizes, seed: int, methods: tuple[str, ...] = METHODS) -> dict:
    """One coefficient at detector level: the reference is the unbinned likelihood of a learned quadratic ratio."""
    from physinf.detector import FastDetector
    from physinf.learn import QuadraticRatioEstimator, ReferencePosterior, TrainingConfig
    from physinf.simulate import generate

    t0 = time.perf_counter()
    parton = generate("wbf", sizes.detector_points, seed=seed + 7, n_adapt=min(20000, sizes.detector_points // 2))
    observed = with_log_pt(FastDetector.from_preset("atlas-like").apply(parton, np.random.default_rng(seed + 8)))
    train, test = observed.split([0.75, 0.25], np.random.default_rng(seed + 9))
    t_sample = time.perf_counter() - t0
    t0 = time.perf_counter()
    quad = QuadraticRatioEstimator(FEATURES, training=TrainingConfig(epochs=15 if sizes is QUICK else 60, seed=seed),
                                   device="cpu").fit(train)
    t_quad = time.perf_counter() - t0
    print(f"[detector] {len(observed)} observed events of {len(parton)} ({t_sample:.0f} s); quadratic ratio trained in {t_quad:.0f} s",
          flush=True)
    out = run_level(train, test, lambda sim: ReferencePosterior.from_quadratic_ratio(sim, quad), sizes, (1,), seed, "detector",
                    event_simulations=sizes.detector_event_simulations, npe_simulations=sizes.detector_npe_simulations,
                    methods=methods)
    out["reference"] = ("unbinned likelihood of a learned QuadraticRatioEstimator (no exact density exists after the "
                        "detector): C2ST here measures agreement between learned posteriors, not accuracy")
    out["sample"] = {"parton_events": len(parton), "observed_events": len(observed), "seconds": t_sample,
                     "quadratic_ratio_training_s": t_quad, "cutflow": dict(observed.cutflow)}
    return out


if __name__ == "__main__":
    main()
