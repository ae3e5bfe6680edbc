"""The stages of a run: each reads its inputs from the run folder and writes its artifacts there.

A stage is a function ``stage(run) -> metrics`` that writes artifacts through ``run.path(...)`` with
physinf's atomic writers, and returns JSON-serialisable metrics (kept in the manifest and shown in
the report). Which config sections and which upstream stages a stage depends on is declared in
``DEPENDS``; the runner (:mod:`physinf.pipeline.run`) turns that into the stage's cache key.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from physinf._io import atomic_path, save_figure, write_json

if TYPE_CHECKING:
    from physinf.pipeline.run import Run

__all__ = ["DEPENDS", "STAGE_FUNCTIONS", "enabled_stages", "stage_seed"]

log = logging.getLogger("physinf.pipeline")

# stage -> (config sections, upstream stages) its result depends on
DEPENDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "surrogate": (("process", "surrogate", "seed"), ()),
    "events": (("process", "events", "seed"), ("surrogate",)),
    "detect": (("detector", "seed"), ("events",)),
    "train": (("train", "seed"), ("detect",)),
    "distill": (("distill", "seed"), ("train",)),
    "sbi": (("sbi", "fit", "seed"), ("detect", "train")),
    "fit": (("fit",), ("detect", "train", "distill")),
    "report": (("report", "name"), ("surrogate", "events", "detect", "train", "distill", "sbi", "fit")),
}


def stage_seed(seed: int, stage: str) -> int:
    """A stage's own seed, a function of the master seed and the stage name only."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{stage}".encode()).digest()[:4], "little")


def enabled_stages(cfg: dict[str, Any]) -> list[str]:
    """The stages a config runs, in order."""
    stages = []
    if cfg["surrogate"]["enabled"]:
        stages.append("surrogate")
    stages += ["events", "detect"]
    if cfg["train"]["enabled"]:
        stages.append("train")
        if cfg["distill"]["enabled"]:
            stages.append("distill")
    if cfg["sbi"]["enabled"]:
        stages.append("sbi")
    stages += ["fit", "report"]
    return stages


def _process(run: Run) -> Any:
    from theory.processes.registry import get_process

    return get_process(run.cfg["process"]["name"])


def studied_coefficient(run: Run, coefficients: tuple[str, ...]) -> str:
    return run.cfg["fit"]["coefficient"] or coefficients[-1]


# ---------------------------------------------------------------------------- surrogate
def surrogate(run: Run) -> dict[str, Any]:
    """Train a Bayesian amplitude surrogate of the process's SM component (first channel)."""
    from physinf.learn.surrogate import AmplitudeSurrogate, TrainConfig, accuracy, amplitude_dataset, pulls

    cfg = run.cfg["surrogate"]
    proc = _process(run)
    seed = stage_seed(run.cfg["seed"], "surrogate")
    sqrt_s = run.cfg["process"]["sqrt_s_gev"]
    momenta, amplitudes = amplitude_dataset(proc.name, cfg["n_train"], seed=seed, sqrt_s=sqrt_s)
    test_p, test_a = amplitude_dataset(proc.name, max(2000, cfg["n_train"] // 4), seed=seed + 1, sqrt_s=sqrt_s)
    est = AmplitudeSurrogate(proc.name, train=TrainConfig(epochs=cfg["epochs"], seed=seed, progress=run.progress))
    est.fit_arrays(momenta, amplitudes)
    est.save(run.path("surrogate", "model"))
    pred = est.predict_uncertainty(test_p)
    acc, pu = accuracy(pred.amplitude, test_a[:, 0]), pulls(pred, test_a)
    return {"model_id": est.model_id, "n_train": cfg["n_train"], "n_test": len(test_p), "median_abs_delta": acc.median_abs,
            "pull_mean": pu.mean, "pull_width": pu.width, "mean_sigma_syst_over_a": float(pred.relative("syst").mean()),
            "mean_sigma_stat_over_a": float(pred.relative("stat").mean())}


# ---------------------------------------------------------------------------- events
def events(run: Run) -> dict[str, Any]:
    """Generate parton-level events (or import an LHE file) into ``events/events.h5``."""
    from theory.cuts import Cuts
    from theory.morphing import monomial_names

    cfg, pcfg = run.cfg["events"], run.cfg["process"]
    if cfg["source"] == "lhe":
        from physinf.io import read_lhe

        sample = read_lhe(cfg["lhe_path"], max_degree=cfg["lhe_max_degree"])
    else:
        from physinf.simulate import GenerationConfig, generate_from_config

        gen = GenerationConfig(
            process=pcfg["name"], n_points=cfg["n_points"], sqrt_s=pcfg["sqrt_s_gev"],
            theta_ref=None if pcfg["theta_ref"] is None else tuple(pcfg["theta_ref"]),
            seed=stage_seed(run.cfg["seed"], "events"), pdf=cfg["pdf"],
            cuts=None if cfg["cuts"] is None else Cuts.from_dict(cfg["cuts"]),
            scale_factors=tuple(cfg["scale_factors"]), sm=_sm_inputs(pcfg),
        )
        model = None
        if cfg["use_surrogate"]:
            from physinf.learn.surrogate import AmplitudeSurrogate, SurrogateModel, with_surrogate_uncertainty

            model = SurrogateModel(AmplitudeSurrogate.load(run.path("surrogate", "model", create=False), pcfg["name"]))
            gen = replace(gen, model=model.model_id)
        sample = generate_from_config(gen, model=model, progress=run.progress, n_workers=run.cfg["n_workers"],
                                      scheduler=run.cfg["scheduler"])
        if model is not None:  # the surrogate's per-event uncertainty travels as weight variations
            sample = with_surrogate_uncertainty(sample, model)
    sample.save(run.path("events", "events.h5"))
    names = monomial_names(sample.powers, sample.coefficients)
    extra: dict[str, Any] = {}
    if cfg["use_surrogate"]:
        # the same events with the exact amplitude: the surrogate's error on sigma, against its stated band
        surrogate_a = model.components_for_channels(sample.momenta, model.channels[:1])[:, 0, 0]
        exact_a = model.process.components(sample.momenta, model.channels[0])[:, 0]
        w = sample.weights()
        extra = {"sigma_exact_amplitude_same_events_pb": float(np.sum(w * exact_a / surrogate_a)),
                 "sigma_surrogate_band_pb": float(np.sum(sample.variation_weights("surrogate_up") - w))}
    return extra | {"n_events": len(sample), "sigma_pb": sample.cross_section(), "sigma_error_pb": sample.cross_section_error(),
            "sigma_components_pb": dict(zip(names, sample.sigma_components.tolist())),
            "coefficients": list(sample.coefficients), "config_hash": sample.config.config_hash if sample.config else None}


def _sm_inputs(pcfg: dict[str, Any]) -> Any:
    preset = pcfg.get("sm_preset")
    if preset is None:
        return None
    from theory.sm import SMInputs

    return SMInputs.preset(preset)


# ---------------------------------------------------------------------------- detector
def detect(run: Run) -> dict[str, Any]:
    """Observed events (``detect/observed.h5``) and, for the fast detector, the reconstructed momenta."""
    from physinf.simulate import EventSample

    cfg = run.cfg["detector"]
    sample = EventSample.load(run.path("events", "events.h5"))
    rng = np.random.default_rng(stage_seed(run.cfg["seed"], "detect"))
    reco = None
    if cfg["kind"] == "none":
        observed = sample
    elif cfg["kind"] == "smearing":
        from physinf.detector import JetSmearing

        observed = JetSmearing().apply(sample, rng)
    elif cfg["kind"] == "shower":
        from physinf.detector import ShowerConfig, ShowerDetector

        if run.cfg["scheduler"] is None:  # chunks are fixed by their size: the workers do not change the events
            shower = ShowerConfig(n_workers=run.cfg["n_workers"])
            observed = ShowerDetector.from_preset(cfg["preset"], shower=shower).apply(sample, rng)
        else:
            from physinf.simulate.parallel import dask_client

            client, owned = dask_client(run.cfg["scheduler"], "showering on a dask cluster")
            try:
                with client.as_current():
                    n = max(len(client.scheduler_info().get("workers", {})), 1)
                    shower = ShowerConfig(n_workers=n, executor="dask")
                    observed = ShowerDetector.from_preset(cfg["preset"], shower=shower).apply(sample, rng)
            finally:
                if owned:
                    client.close()
    else:
        from physinf.detector import FastDetector

        rec = FastDetector.from_preset(cfg["preset"]).reconstruct(sample, rng)
        observed, reco = rec.sample, rec.momenta
    observed.save(run.path("detect", "observed.h5"))
    if reco is not None:
        with atomic_path(run.path("detect", "reconstructed.npy")) as tmp, open(tmp, "wb") as fh:
            np.save(fh, reco)
    return {"kind": cfg["kind"], "preset": cfg["preset"] if cfg["kind"] in ("fast", "shower") else None,
            "n_events": len(observed), "acceptance": len(observed) / max(len(sample), 1), "cutflow": dict(observed.cutflow),
            "sigma_observed_pb": observed.cross_section(), "higgs_decay": observed.provenance.get("detector", {}).get("higgs_decay")}


def observed_sample(run: Run) -> Any:
    from physinf.simulate import EventSample

    return EventSample.load(run.path("detect", "observed.h5"))


def parton_truth_score(sample: Any, index: int) -> np.ndarray | None:
    """The exact score of the parton-level observables for the observed events (their z is attached),
    or None where it cannot be computed (samples without a generation config, e.g. LHE imports)."""
    if sample.config is None:
        return None
    from physinf.simulate import marginal_score

    return marginal_score(sample)[:, index]


def best_detector_score(run: Run, sample: Any, index: int) -> np.ndarray | None:
    """The exact parton-level score formula evaluated on the reconstructed objects (fast detector)."""
    path = run.path("detect", "reconstructed.npy", create=False)
    if sample.config is None or not path.exists():
        return None
    from physinf.simulate import marginal_score

    reco = np.load(path)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = marginal_score(sample, momenta=reco)[:, index]
    return np.where(np.isfinite(t), t, 0.0)  # rebuilt partons outside the PDF range carry no density


# ---------------------------------------------------------------------------- learned score
def _features(run: Run, sample: Any) -> list[str]:
    features = run.cfg["train"]["features"]
    if features:
        return list(features)
    if sample.config is not None:
        return list(_process(run).features)
    return sorted(sample.observables)


def train(run: Run) -> dict[str, Any]:
    """The local score (SALLY) on the observed events: ``train/score.pt``, scores of every event."""
    from physinf.information import information_fraction
    from physinf.learn import LocalScoreEstimator, TrainingConfig

    cfg = run.cfg["train"]
    sample = observed_sample(run)
    seed = stage_seed(run.cfg["seed"], "train")
    order = np.random.default_rng(seed).permutation(len(sample))
    n_train = int(round(cfg["train_fraction"] * len(sample)))
    train_idx, test_idx = np.sort(order[:n_train]), np.sort(order[n_train:])
    features = _features(run, sample)
    est = LocalScoreEstimator(features, hidden=cfg["hidden"], n_members=cfg["n_members"],
                              training=TrainingConfig(epochs=cfg["epochs"], seed=seed, progress=run.progress))
    est.fit(sample.subset(train_idx), scheduler=run.cfg["scheduler"])
    est.save(run.path("train", "score.pt"))
    scores = est.predict_sample(sample)
    with atomic_path(run.path("train", "scores.npz")) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, scores=scores, train=train_idx, test=test_idx)
    coefficient = studied_coefficient(run, sample.coefficients)
    k = sample.coefficients.index(coefficient)
    metrics: dict[str, Any] = {"features": features, "n_train": int(len(train_idx)), "n_test": int(len(test_idx)),
                               "coefficient": coefficient, "seconds": sum(h.seconds for h in est.histories_)}
    t_obs = parton_truth_score(sample, k)
    if t_obs is not None:
        w = sample.weights()[test_idx]
        metrics["information_fraction_of_parton_observables"] = information_fraction(scores[test_idx, k], t_obs[test_idx], weights=w)
        metrics["relative_mse"] = float(np.average((scores[test_idx, k] - t_obs[test_idx]) ** 2, weights=w)
                                        / np.average(t_obs[test_idx] ** 2, weights=w))
        best = best_detector_score(run, sample, k)
        if best is not None:
            metrics["best_detector_observable_fraction"] = information_fraction(best[test_idx], t_obs[test_idx], weights=w)
        _score_figure(scores[test_idx, k], t_obs[test_idx], coefficient, run.path("train", "learned_vs_exact.png"))
    return metrics


def _score_figure(learned: np.ndarray, exact: np.ndarray, coefficient: str, path: Any) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.6, 4.2))
    ax = fig.add_subplot()
    n = min(len(exact), 4000)
    ax.scatter(exact[:n], learned[:n], s=3, alpha=0.4)
    lim = float(np.percentile(np.abs(np.r_[exact, learned]), 99.5))
    ax.plot([-lim, lim], [-lim, lim], color="k", lw=0.8)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel(f"exact score of the parton-level observables, {coefficient}")
    ax.set_ylabel("learned score (detector level)")
    fig.tight_layout()
    save_figure(fig, path)


# ---------------------------------------------------------------------------- formula
PRESETS = {"wbf_cp_odd": "WBF_CP_ODD"}


def distill_stage(run: Run) -> dict[str, Any]:
    """Distil the learned score of the studied coefficient into a formula: ``distill/formula.json``."""
    import physinf.symbolic as symbolic
    from physinf.information import information_fraction
    from physinf.symbolic.plots import plot_pareto

    cfg = run.cfg["distill"]
    sample = observed_sample(run)
    stored = np.load(run.path("train", "scores.npz", create=False))
    coefficient = studied_coefficient(run, sample.coefficients)
    k = sample.coefficients.index(coefficient)
    kwargs: dict[str, Any] = {}
    if cfg["preset"] is not None:
        if cfg["preset"] not in PRESETS:
            from physinf.pipeline.config import ConfigError

            raise ConfigError(f"distill.preset = {cfg['preset']!r} is unknown; known presets: {list(PRESETS)}")
        preset = getattr(symbolic, PRESETS[cfg["preset"]])
        inputs, kwargs = list(preset.inputs), preset.distill_kwargs()
    else:
        inputs = list(cfg["inputs"] or _features(run, sample))
    train_idx, test_idx = stored["train"], stored["test"]
    X = np.stack([sample.observables[name] for name in inputs], axis=1)
    budget = symbolic.Budget(generations=cfg["generations"], population_size=cfg["population_size"], max_time=cfg["max_time_s"])
    w = sample.weights()
    formula = symbolic.distill(X[train_idx], stored["scores"][train_idx, k], inputs, weights=w[train_idx], budget=budget,
                               seed=stage_seed(run.cfg["seed"], "distill"), scheduler=run.cfg["scheduler"], **kwargs)
    formula.to_json(run.path("distill", "formula.json"))
    save_figure(plot_pareto(formula).figure, run.path("distill", "pareto.png"))
    values = formula(X)
    learned = stored["scores"][:, k]
    metrics = {"expression": str(formula.expr), "latex": formula.latex(), "inputs": inputs,
               "constants": formula.constants, "coefficient": coefficient,
               "information_over_learned": None}
    t_obs = parton_truth_score(sample, k)
    reference = t_obs if t_obs is not None else learned
    f_formula = information_fraction(values[test_idx], reference[test_idx], weights=w[test_idx])
    f_learned = information_fraction(learned[test_idx], reference[test_idx], weights=w[test_idx])
    metrics["information_over_learned"] = f_formula / f_learned
    metrics["information_fraction_of_parton_observables"] = f_formula if t_obs is not None else None
    return metrics


# ---------------------------------------------------------------------------- sbi
def sbi(run: Run) -> dict[str, Any]:
    """The posterior of the studied coefficient from pseudo-data of ``n_observed`` events at the SM,
    with sbi (NPE, NLE or NRE), trained on simulations drawn from the training events (the train
    stage's split) and observed from the held-out ones. With no detector the exact posterior of the
    same events is the reference (C2ST, widths); the Fisher width 1/sqrt(N I) is given for scale."""
    from physinf.learn import BoxPrior, EventSimulator, PosteriorConfig, PosteriorEstimator, ReferencePosterior, c2st
    from physinf.learn.data import feature_matrix

    cfg = run.cfg["sbi"]
    sample = observed_sample(run)
    coefficient = studied_coefficient(run, sample.coefficients)
    features = _features(run, sample)
    stored = run.path("train", "scores.npz", create=False)
    seed = stage_seed(run.cfg["seed"], "sbi")
    if stored.exists():
        split = np.load(stored)
        train, held_out = sample.subset(split["train"], reason="sbi training"), sample.subset(split["test"], reason="sbi pseudo-data")
    else:
        train, held_out = sample.split([0.7, 0.3], np.random.default_rng(seed))
    bound = run.cfg["fit"]["bound"]
    prior = BoxPrior([-bound], [bound], names=[coefficient])
    fixed = {name: 0.0 for name in sample.coefficients if name != coefficient}
    truth = [0.0]
    observed_from = EventSimulator(held_out, prior, fixed=fixed)
    events = observed_from.draw([truth], cfg["n_observed"], np.random.default_rng(seed + 1))[0]
    t0 = time.perf_counter()
    estimator = PosteriorEstimator(cfg["method"], prior, features, n_events=cfg["n_observed"], fixed=fixed,
                                   config=PosteriorConfig(n_simulations=cfg["n_simulations"], seed=seed, progress=run.progress))
    estimator.fit(train)
    estimator.save(run.path("sbi", "posterior.pt"))
    posterior = estimator.posterior(feature_matrix(held_out, features)[events])
    metrics: dict[str, Any] = {
        "method": cfg["method"], "coefficient": coefficient, "features": features, "n_simulations": cfg["n_simulations"],
        "n_observed": cfg["n_observed"], "truth": truth[0], "prior": [-bound, bound], "seconds": time.perf_counter() - t0,
        "mean": float(posterior.mean()[0]), "std": float(posterior.std()[0]),
        "interval_68": list(posterior.credible_interval(0.68)), "interval_95": list(posterior.credible_interval(0.95)),
    }
    if cfg["calibration_experiments"]:  # expected coverage and SBC on experiments from the held-out events
        from physinf.learn import calibrate

        cal = calibrate(estimator, held_out, n_experiments=cfg["calibration_experiments"], seed=seed + 3,
                        progress=run.progress)
        metrics |= {"coverage_levels": list(cal.levels), "coverage": list(cal.coverage),
                    "coverage_sigma": list(cal.coverage_sigma), "coverage_abs_error": cal.abs_error,
                    "sbc_ks_pvalues": list(cal.sbc_ks_pvalues), "calibration_experiments": cal.n_experiments}
    draws = posterior.sample(2000, seed=seed)
    exact = None
    if run.cfg["detector"]["kind"] == "none" and held_out.config is not None:  # observables are the parton record's
        reference = ReferencePosterior.exact(observed_from)
        exact = reference.posterior(events)
        exact_draws = exact.sample(2000, np.random.default_rng(seed + 2))
        metrics |= {"exact_mean": float(exact.mean()[0]), "exact_std": float(exact.std()[0]),
                    "exact_interval_68": list(exact.credible_interval(0.68)),
                    "exact_interval_95": list(exact.credible_interval(0.95)),
                    "c2st_against_exact": c2st(draws, exact_draws, seed=seed),
                    "fisher_width": float(1 / np.sqrt(cfg["n_observed"] * reference.fisher_information([truth])[0, 0]))}
    _posterior_figure(posterior, exact, coefficient, truth[0], cfg["method"], run.path("sbi", "posterior.png"))
    return metrics


def _posterior_figure(posterior: Any, exact: Any, coefficient: str, truth: float, method: str, path: Any) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.0, 3.8))
    ax = fig.add_subplot()
    for post, label, style in ((exact, "exact", dict(color="0.5", lw=3)), (posterior, method.upper(), dict(lw=1.6))):
        if post is None:
            continue
        x, p = post.grid.marginal(0) if hasattr(post, "grid") else post.marginal(0)
        ax.plot(x, p, label=label, **style)
    ax.axvline(truth, color="k", ls=":", label="truth")
    ax.set_xlabel(coefficient)
    ax.set_ylabel("posterior density")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path)


# ---------------------------------------------------------------------------- likelihood and limits
def _observable_values(run: Run, sample: Any, name: str, k: int) -> np.ndarray:
    """The per-event values of a fit observable: an observable name, ``learned_score``, ``formula``, or
    ``a&b`` — the two-dimensional histogram of a and b as one index (quantile bins of each)."""
    if "&" in name:
        a, b = name.split("&", 1)
        n = run.cfg["fit"]["n_bins"]
        w = sample.weights()
        index = np.zeros(len(sample), dtype=int)
        for values in (_observable_values(run, sample, a, k), _observable_values(run, sample, b, k)):
            from physinf.stats import quantile_edges

            edges = quantile_edges(values, n, np.clip(w, 0, None), strict=False)
            index = index * (len(edges) - 1) + np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
        return index.astype(float)
    if name == "learned_score":
        return np.load(run.path("train", "scores.npz", create=False))["scores"][:, k]
    if name == "formula":
        from physinf.symbolic import Formula

        formula = Formula.from_json(run.path("distill", "formula.json", create=False))
        return formula(np.stack([sample.observables[n] for n in formula.names], axis=1))
    if name not in sample.observables:
        from physinf.pipeline.config import ConfigError

        raise ConfigError(f"fit.observables names {name!r}, which the observed sample does not have; it has "
                          f"{sorted(sample.observables)} (plus learned_score, formula, and a&b for two-dimensional histograms)")
    return sample.observables[name]


def _bins(run: Run, sample: Any, name: str, x: np.ndarray, theta: np.ndarray, direction: np.ndarray) -> np.ndarray:
    from physinf.stats import fisher_optimal_edges

    if "&" in name:  # a 2D histogram flattened: one bin per cell
        return np.arange(int(x.max()) + 2) - 0.5
    edges = fisher_optimal_edges(x, sample.weight_components, sample.powers, theta, run.cfg["fit"]["n_bins"], direction=direction)
    edges[0], edges[-1] = min(edges[0], x.min()) - 1e-9, max(edges[-1], x.max()) + 1e-9
    return edges


def _effective_luminosity(run: Run, sample: Any) -> tuple[float, float]:
    """L, and the branching ratio of a Higgs decay the detector performed without weighting the events
    (1 when the events hold no Higgs boson)."""
    detector = sample.provenance.get("detector")
    decay = detector.get("higgs_decay") if isinstance(detector, dict) else None
    has_higgs = bool(np.any(sample.pdg == 25))
    br = float(decay["branching_ratio"]) if has_higgs and decay and not decay.get("applied_to_weights", True) else 1.0
    return run.cfg["fit"]["luminosity_fb"] * br, br


def fit(run: Run) -> dict[str, Any]:
    """pyhf likelihoods per observable, expected limits (Asimov, SM), information table, publication."""
    from physinf.stats import (
        Background,
        Channel,
        Systematics,
        build_likelihood,
        export_patchset,
        histogram_templates,
        information_table,
        profile_scan,
        profile_scan_2d,
        scale_systematic,
    )
    from physinf.stats.plots import plot_contours, plot_scans

    cfg = run.cfg["fit"]
    full = observed_sample(run)
    if not full.coefficients:
        return _histograms_without_coefficients(run, full)
    coefficient = studied_coefficient(run, full.coefficients)
    k_full = full.coefficients.index(coefficient)
    names = list(cfg["coefficients"] or [coefficient])
    if coefficient not in names:
        from physinf.pipeline.config import ConfigError

        raise ConfigError(f"fit.coefficient = {coefficient!r} must be one of fit.coefficients = {names}")
    # the likelihood depends on the fitted coefficients only; the others stay at their reference value 0
    sample = full.restricted(names) if len(names) < len(full.coefficients) else full
    k = sample.coefficients.index(coefficient)
    theta = np.asarray(sample.theta_ref)
    lum, br = _effective_luminosity(run, full)
    direction = np.zeros(len(names))
    direction[k] = 1.0
    bound = cfg["bound"]
    grid = np.linspace(-bound, bound, cfg["scan_points"])
    limits, scans, likelihoods = {}, {}, {}
    has_scale = {"muF_x2", "muF_x0.5"} <= set(sample.variations)
    values = {name: _observable_values(run, full, name, k_full) for name in cfg["observables"]}
    for obs_name, x in values.items():
        edges = _bins(run, sample, obs_name, x, theta, direction)
        templates = histogram_templates(x, sample.weight_components, sample.powers, sample.coefficients, edges, lum,
                                        channel=_channel_name(obs_name))
        shapes = (scale_systematic(sample, x, edges),) if cfg["scale_systematic"] and has_scale else ()
        if {"surrogate_up", "surrogate_down"} <= set(sample.variations):
            from physinf.learn.surrogate import surrogate_systematic

            shapes = (*shapes, surrogate_systematic(sample, x, edges))
        # a theta-independent background with the SM kinematics (a stand-in for the analysis' own)
        background = Background("background", templates.yields[0].copy(), stat_errors=np.sqrt(templates.sumw2[0, 0]))
        systematics = Systematics(lumi=cfg["lumi_uncertainty"], mc_stat=cfg["mc_stat"], shapes=shapes)
        lh = build_likelihood(Channel(templates, (background,), systematics), bounds={c: (-bound, bound) for c in names})
        likelihoods[obs_name] = lh
        scan = profile_scan(lh, coefficient, grid, data=lh.asimov_data(), profile=True)  # other fitted coefficients profiled
        scans[obs_name] = scan
        limits[obs_name] = {f"{round(100 * level)}": {"segments": [list(s) for s in scan.interval(level).segments],
                                                      "width": scan.interval(level).width,
                                                      "open": bool(scan.interval(level).open_low or scan.interval(level).open_high)}
                            for level in (0.68, 0.95)}
    ax = plot_scans(scans)
    ax.set_xlabel(coefficient + r" [TeV$^{-2}$]")
    save_figure(ax.figure, run.path("fit", "scans.png"))
    headline = cfg["observables"][-1]
    if len(names) == 2:
        grid2 = np.linspace(-bound, bound, cfg["contour_points"])
        scan2d = profile_scan_2d(likelihoods[headline], (names[0], names[1]), grid2, grid2, data=likelihoods[headline].asimov_data())
        ax = plot_contours({headline: scan2d})
        save_figure(ax.figure, run.path("fit", "contour.png"))
    # information of every observable (histograms: valid lower bounds), and the unbinned optimum of
    # the parton-level observables where the parton record allows it (the exact score's information)
    binned = {name: x for name, x in values.items() if "&" not in name}
    exact, reference = {}, None
    t_obs = parton_truth_score(full, k_full)
    if t_obs is not None:
        reference = "optimum of the parton observables (unbinned)"
        exact[reference] = t_obs
        best = best_detector_score(run, full, k_full)
        if best is not None:  # not the true score of the reconstructed event: histogrammed, not unbinned
            binned["exact parton formula on reconstructed objects (binned)"] = best
    table = information_table(sample.weight_components, sample.powers, sample.coefficients, theta, coefficient, lum,
                              binned=binned, scores=exact, reference=reference, n_bins=cfg["n_bins"])
    _information_figure(table, run.path("fit", "information.png"))
    # publish the likelihood of the last (headline) observable: background-only workspace + patchset
    points = np.linspace(-bound, bound, cfg["patchset_points"])
    mesh = np.stack(np.meshgrid(*[points] * len(names), indexing="ij"), -1).reshape(-1, len(names))
    exported = export_patchset(likelihoods[headline], mesh, run.path("fit", "publish"))
    write_json(run.path("fit", "workspace.json"), likelihoods[headline].workspace)
    return {"coefficient": coefficient, "coefficients": names, "luminosity_fb": cfg["luminosity_fb"], "branching_ratio": br,
            "limits": limits, "information": {name: row.to_dict() for name, row in table.items()},
            "published": {"background_only": str(exported.background_only), "patchset": str(exported.patchset),
                          "observable": headline, "grid_points": len(mesh)}}


def _histograms_without_coefficients(run: Run, sample: Any) -> dict[str, Any]:
    """A process without Wilson coefficients (e.g. g g -> g g g) has no EFT likelihood to build: report
    the histograms and the shape systematics (scale, surrogate) a likelihood of it would carry."""
    from physinf.stats import quantile_edges, relative_variation

    cfg = run.cfg["fit"]
    lum, _ = _effective_luminosity(run, sample)
    w = sample.weights()
    out: dict[str, Any] = {"coefficient": None, "histograms": {}}
    for name in cfg["observables"]:
        x = _observable_values(run, sample, name, 0)
        edges = quantile_edges(x, cfg["n_bins"], w, strict=False)
        edges[0], edges[-1] = x.min() - 1e-9, x.max() + 1e-9
        sigma, _ = np.histogram(x, edges, weights=w)
        sumw2, _ = np.histogram(x, edges, weights=w**2)
        row = {"edges": edges.tolist(), "sigma_pb": sigma.tolist(), "mc_error_pb": np.sqrt(sumw2).tolist(),
               "events": (sigma * lum * 1000.0).tolist()}
        for var in ("surrogate", "muF"):
            up, down = {"surrogate": ("surrogate_up", "surrogate_down"), "muF": ("muF_x2", "muF_x0.5")}[var]
            if {up, down} <= set(sample.variations):
                row[f"{var}_rel_up"] = relative_variation(x, w, sample.variation_weights(up), edges).tolist()
                row[f"{var}_rel_down"] = relative_variation(x, w, sample.variation_weights(down), edges).tolist()
        out["histograms"][name] = row
    return out


def _channel_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)


def _information_figure(table: dict[str, Any], path: Any) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.0, 0.9 + 0.45 * len(table)))
    ax = fig.add_subplot()
    names = list(table)
    ax.barh(names, [table[n].fraction_of_reference for n in names])
    ax.set_xlabel("fraction of the reference Fisher information")
    ax.invert_yaxis()
    fig.tight_layout()
    save_figure(fig, path, bbox_inches="tight")  # long observable names must not push the labels off the page


def report(run: Run) -> dict[str, Any]:
    from physinf.pipeline.report import write_report

    path = write_report(run)
    return {"report": str(path)}


STAGE_FUNCTIONS = {
    "surrogate": surrogate, "events": events, "detect": detect, "train": train, "distill": distill_stage,
    "sbi": sbi, "fit": fit, "report": report,
}
