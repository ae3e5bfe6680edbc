"""Simulation-based inference of Wilson coefficients with sbi: NPE, NLE and NRE behind one estimator.

``PosteriorEstimator(method, prior, features, n_events=N)`` learns the posterior of the
coefficients in ``prior`` (a :class:`BoxPrior`) from an experiment of N i.i.d. events, with the
simulator :class:`physinf.learn.EventSimulator` (unweighted events at any θ from the morphing
weights of one EventSample; nothing regenerated):

* ``"npe"`` — neural posterior estimation (sbi NPE, a neural spline flow q(θ|s)) on a fixed-length
  summary s of the whole experiment (default: the mean learned score and its second moments,
  :class:`ScoreSummary`); each training row is one simulated experiment of N events. Amortised:
  one network serves every observation of N events (and only N).
* ``"nle"`` — neural likelihood estimation (sbi NLE, a flow q(x|θ) for one event), combined over
  the events of an experiment as Σ_n log q(x_n|θ); any number of events.
* ``"nre"`` — neural ratio estimation (an sbi classifier giving log r(x, θ)), combined as
  Σ_n [log r(x_n, θ) − log Z(θ)] (normalised, below); any number of events.

By default NLE and NRE train on the sample's morphing weights (``nle_training`` /
``nre_training="weights"``, :mod:`physinf.learn.weighted_training`): every epoch draws fresh θ and
uses each event's exact probability at θ (NLE) or exact ratio (NRE), instead of sbi's trainers on
fixed pairs of one event per θ (``"simulations"``; NRE with sbi's ``nre_variant`` loss), whose
errors in the θ-dependence add up over the N events (on WBF, N = 50: NLE's 68 % coverage 0.43 the
sbi way, 0.68 on the weights; NRE's in 2-d 0.59 with sbi's NRE_C, 0.70 on the weights,
docs/benchmarks.md §8).

The rate is not used (shape of N events only), as in :class:`ReferencePosterior`.

NRE's normalisation. On i.i.d. events any small error of the learned log ratio that depends on θ
alone adds up N times over an experiment, while one event carries too little information for the
training loss to pin it down. The exact ratio r(x, θ) = p(x|θ)/p(x) integrates to one over the
marginal, E_{p(x)}[r(x, θ)] = 1 at every θ, so after training physinf estimates
Z(θ) = mean_j r̂(x_j, θ) over ``normalisation_events`` marginal draws (θ_j from the prior, x_j one
event at θ_j) on a θ grid and combines log r̂ − log Z(θ) (``normalise_ratio``, on by default). This
needs a classifier whose optimum is the ratio itself: the cross-entropy on the weights, sbi's NRE_C
(contrastive, Miller et al. arXiv:2210.06170; the default ``nre_variant``) or NRE_A; NRE_B's
optimum is the ratio times an arbitrary function of x, which the per-θ average would mix in. Measured on WBF (N = 100, 5·10⁴
simulations, six pseudo-experiments): NRE_B posteriors were pulled by up to 2.3 exact widths towards
cHWtil ≈ 0.3 (mean C2ST 0.64); NRE_C 0.59 raw, 0.55 normalised. NLE's flows are normalised in x for
every θ and need no such step.

Posteriors (:class:`LearnedPosterior`) give samples, normalised densities and credible intervals.
For one or two coefficients the learned log posterior is evaluated on a θ grid
(:class:`GridPosterior`), which gives densities, intervals and samples without Markov chains;
``sampler="mcmc"`` (sbi slice sampling) or ``"rejection"`` sample the same potential the sbi way,
``"direct"`` samples NPE's flow. No variational posteriors: docs/notes/ml.md §2 measured sbi's VI
2.7x too wide on ten i.i.d. trials while its own quality check passed.

Runtime: all randomness (simulations, network initialisation and batches, flow sampling, MCMC)
derives from ``config.seed``; torch runs with ``config.threads`` threads (default 1: these small
networks gain nothing from a second thread, and oversubscribing a shared 2-core machine made
training 17x slower, docs/notes/ml.md §2), restored afterwards; sbi's TensorBoard logs are kept in
memory (``history_``), nothing is written to the working directory.

References: Papamakarios & Murray arXiv:1605.06376, Greenberg et al. arXiv:1905.07488 (NPE);
Papamakarios et al. arXiv:1805.07226 (NLE); Hermans et al. arXiv:1903.04057, Durkan et al.
arXiv:2002.03712, Miller et al. arXiv:2210.06170 (NRE A, B, C); Tejero-Cantero et al. JOSS 5
(2020) 2505 (sbi).
"""

from __future__ import annotations

import contextlib
import io
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from physinf.errors import InvalidParameterError, did_you_mean
from physinf.learn._sbi_runtime import MemoryTracker, controlled, sbi_seed
from physinf.learn.data import check_inputs, feature_matrix
from physinf.learn.errors import EstimatorFileError, NotFittedError
from physinf.learn.grid import GridPosterior
from physinf.learn.prior import BoxPrior
from physinf.learn.simulator import EventSimulator
from physinf.learn.summaries import HistogramSummary, ScoreSummary
from physinf.simulate.events import EventSample

__all__ = ["METHODS", "SAMPLERS", "LearnedPosterior", "PosteriorConfig", "PosteriorEstimator", "SBIHistory"]

METHODS = ("npe", "nle", "nre")
SAMPLERS = ("auto", "grid", "direct", "mcmc", "rejection")
_FLOWS = ("nsf", "maf")
_CLASSIFIERS = ("resnet", "mlp")
_ROWS_PER_CALL = 1 << 17  # network rows per potential evaluation (θ points x events)


@dataclass(frozen=True)
class PosteriorConfig:
    """Settings of one sbi training and of the posteriors it gives (sbi's trainer defaults where
    they exist). ``n_simulations``: experiments for NPE, single events for NLE and NRE (for NLE on
    the weights: the (θ, event) pairs drawn afresh in every epoch). ``nle_training`` and
    ``nre_training``: "weights" (default, :mod:`physinf.learn.weighted_training`) or "simulations"
    (sbi's trainer; for NRE the loss of ``nre_variant``). ``score_weight`` α > 0 adds the joint-score
    regression α |t − ∇_θ log m|² to the loss on the weights (SCANDAL / ALICES; for NLE about 2.4x the
    training time, for posteriors indistinguishable from the exact ones on WBF in 1-d); None
    (default) is 1 on the weights; with sbi's trainer there is no score to regress (0).
    ``density_estimator``: "auto" is a neural spline flow ("nsf") for NPE and NLE and a residual
    classifier ("resnet") for NRE."""

    n_simulations: int = 20_000
    density_estimator: str = "auto"
    hidden_features: int = 64
    num_transforms: int = 5
    batch_size: int = 200
    learning_rate: float = 5e-4
    validation_fraction: float = 0.1
    stop_after_epochs: int = 20
    max_epochs: int = 1000
    seed: int = 0
    threads: int = 1
    progress: bool = False
    grid_resolution: tuple[int, int] | None = None
    mcmc_chains: int = 20
    mcmc_warmup: int = 200
    mcmc_thin: int = 2
    nre_variant: str = "c"
    normalise_ratio: bool = True
    normalisation_events: int = 20_000
    nle_training: str = "weights"
    nre_training: str = "weights"
    score_weight: float | None = None

    def __post_init__(self) -> None:
        for name in ("n_simulations", "hidden_features", "num_transforms", "batch_size", "stop_after_epochs",
                     "max_epochs", "threads", "mcmc_chains", "mcmc_warmup", "mcmc_thin", "normalisation_events"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidParameterError(f"PosteriorConfig.{name} must be a positive integer, got {value!r}")
        if self.max_epochs < 2:
            raise InvalidParameterError(f"PosteriorConfig.max_epochs must be at least 2, got {self.max_epochs}")
        if self.n_simulations < 20:
            raise InvalidParameterError(f"PosteriorConfig.n_simulations must be at least 20 (a validation split needs rows), got {self.n_simulations}")
        if not 0 < self.validation_fraction < 1:
            raise InvalidParameterError(f"validation_fraction must lie in (0, 1), got {self.validation_fraction}")
        if not self.learning_rate > 0:
            raise InvalidParameterError(f"learning_rate must be positive, got {self.learning_rate}")
        known = ("auto",) + _FLOWS + _CLASSIFIERS
        if self.density_estimator not in known:
            raise InvalidParameterError(f"unknown density_estimator {self.density_estimator!r}; choose one of {known}."
                                        f"{did_you_mean(self.density_estimator, known)}")
        if self.nre_variant not in ("a", "b", "c"):
            raise InvalidParameterError(f"nre_variant must be 'a', 'b' or 'c' (sbi's NRE_A, NRE_B, NRE_C), got {self.nre_variant!r}")
        if self.nre_variant == "b" and self.normalise_ratio:
            raise InvalidParameterError(
                "NRE_B's log ratio is defined only up to a function of x, so it cannot be normalised per θ; use "
                "nre_variant='c' (or 'a'), whose optimum is the ratio itself, or set normalise_ratio=False"
            )
        for name in ("nle_training", "nre_training"):
            if getattr(self, name) not in ("weights", "simulations"):
                raise InvalidParameterError(f"{name} must be 'weights' (the sample's morphing weights at fresh θ every epoch) "
                                            f"or 'simulations' (sbi's trainer on fixed simulated pairs), got {getattr(self, name)!r}")
        if self.nre_training == "weights" and self.nre_variant != "c":
            raise InvalidParameterError(
                f"nre_variant={self.nre_variant!r} picks the loss of sbi's trainer; NRE on the weights has its own "
                "(cross-entropy with exact ratios); set nre_training='simulations' to use sbi's NRE_A or NRE_B"
            )
        if self.score_weight is not None and (isinstance(self.score_weight, bool) or not isinstance(self.score_weight, (int, float))
                                              or not (np.isfinite(self.score_weight) and self.score_weight >= 0)):
            raise InvalidParameterError(f"score_weight must be a finite number >= 0, got {self.score_weight!r}")
        if self.grid_resolution is not None:
            res = tuple(self.grid_resolution)
            if len(res) != 2 or any(isinstance(r, bool) or not isinstance(r, int) or r < 2 for r in res):
                raise InvalidParameterError(f"grid_resolution must be (coarse, fine) point counts >= 2, got {self.grid_resolution!r}")
            object.__setattr__(self, "grid_resolution", res)

    def training_for(self, method: str) -> str:
        """How ``method`` trains: "weights" or "simulations" (NPE always trains on simulated experiments)."""
        return {"nle": self.nle_training, "nre": self.nre_training}.get(method, "simulations")

    def score_weight_for(self, method: str) -> float:
        """α of the joint-score regression for ``method``: ``score_weight`` (None: 1) on the weights, else 0."""
        if self.training_for(method) != "weights":
            return 0.0
        return 1.0 if self.score_weight is None else float(self.score_weight)


@dataclass
class SBIHistory:
    """What sbi's trainer reported: losses per epoch, epochs, whether it stopped early, wall times."""

    training_loss: list[float] = field(default_factory=list)
    validation_loss: list[float] = field(default_factory=list)
    epochs: int = 0
    converged: bool = True
    simulation_seconds: float = 0.0
    summary_seconds: float = 0.0
    training_seconds: float = 0.0
    normalisation_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _history(tracker: MemoryTracker, summary: Mapping[str, Any], converged: bool) -> SBIHistory:
    train = [v for _, v in tracker.metrics.get("training_loss", [])] or list(summary.get("training_loss", []))
    val = [v for _, v in tracker.metrics.get("validation_loss", [])] or list(summary.get("validation_loss", []))
    epochs = summary.get("epochs_trained", [len(val)])
    return SBIHistory([float(v) for v in train], [float(v) for v in val], int(epochs[-1]) if epochs else len(val), converged)


class PosteriorEstimator:
    """NPE, NLE or NRE (sbi) for the coefficients of ``prior`` from experiments of ``n_events`` events.

    ``features``: the observables each event is described by (NLE and NRE model them; NPE's summary
    is computed from them). ``summary``: NPE's per-experiment summary (default :class:`ScoreSummary`
    on ``features`` for the prior's coefficients, trained in ``fit``). ``fixed``: values of the
    coefficients the prior does not cover (default: the sample's reference point)."""

    kind = "PosteriorEstimator"

    def __init__(self, method: Literal["npe", "nle", "nre"], prior: BoxPrior, features: Sequence[str], *, n_events: int,
                 summary: ScoreSummary | HistogramSummary | None = None, config: PosteriorConfig = PosteriorConfig(),
                 fixed: Mapping[str, float] | None = None, device: str = "auto") -> None:
        if method not in METHODS:
            raise InvalidParameterError(f"unknown method {method!r}; choose one of {METHODS}.{did_you_mean(str(method), METHODS)}")
        if not isinstance(prior, BoxPrior):
            raise InvalidParameterError(f"prior must be a physinf.learn.BoxPrior, got {type(prior).__name__}")
        if not isinstance(config, PosteriorConfig):
            raise InvalidParameterError(f"config must be a PosteriorConfig, got {type(config).__name__}")
        if isinstance(n_events, bool) or not isinstance(n_events, (int, np.integer)) or n_events < 1:
            raise InvalidParameterError(f"n_events (events per experiment) must be a positive integer, got {n_events!r}")
        self.features = tuple(str(f) for f in features)
        if not self.features or len(set(self.features)) != len(self.features):
            raise InvalidParameterError(f"features must be a non-empty list of distinct observable names, got {list(features)}")
        if summary is not None and method != "npe":
            raise InvalidParameterError(f"a summary is NPE's; {method.upper()} models single events and combines them, it takes none")
        estimator = config.density_estimator
        if estimator != "auto" and (estimator in _CLASSIFIERS) != (method == "nre"):
            allowed = _CLASSIFIERS if method == "nre" else _FLOWS
            raise InvalidParameterError(f"{method.upper()} takes density_estimator in {('auto',) + allowed}, got {estimator!r}")
        if method != "npe" and config.training_for(method) != "weights" and config.score_weight:
            raise InvalidParameterError(f"score_weight regresses the joint score inside {method.upper()}'s training on the "
                                        f"weights; set {method}_training='weights' or score_weight=0")
        self.method, self.prior, self.n_events, self.summary = method, prior, int(n_events), summary
        self.config, self.fixed, self.device = config, dict(fixed or {}), device
        self.network_: Any = None
        self.simulator_: EventSimulator | None = None
        self.history_: SBIHistory | None = None
        self.process_: str | None = None
        self.coefficients_: tuple[str, ...] = ()
        self.x_shape_: tuple[int, ...] = ()
        self.log_normaliser_: tuple[list[np.ndarray], np.ndarray] | None = None

    # ------------------------------------------------------------------ names
    @property
    def model(self) -> str:
        if self.config.density_estimator != "auto":
            return self.config.density_estimator
        return "resnet" if self.method == "nre" else "nsf"

    @property
    def labels(self) -> tuple[str, ...]:
        return self.simulator_.labels if self.simulator_ is not None else self.prior.labels()

    # ------------------------------------------------------------------ training
    def simulate(self, simulator: EventSimulator, x_all: np.ndarray, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Training inputs for θ rows: per-event observables (NLE, NRE) or experiment summaries (NPE)."""
        if self.method != "npe":
            return x_all[simulator.draw(theta, 1, rng, progress=self.config.progress)[:, 0]]
        out = []
        block = max(1, 4_000_000 // (self.n_events * max(x_all.shape[1], 1)))
        for lo in range(0, len(theta), block):
            idx = simulator.draw(theta[lo : lo + block], self.n_events, rng)
            out.append(x_all[idx].mean(axis=1))
        return np.concatenate(out)

    def fit(self, sample: EventSample) -> PosteriorEstimator:
        """Simulate from ``sample`` (θ from the prior) and train the sbi network."""
        simulator = EventSimulator(sample, self.prior, fixed=self.fixed)
        x_events = feature_matrix(sample, self.features)
        cfg = self.config
        rng = np.random.default_rng(sbi_seed(cfg.seed, 0))
        history = SBIHistory()
        with controlled(sbi_seed(cfg.seed, 1), cfg.threads):
            t0 = time.perf_counter()
            if self.method == "npe":
                if self.summary is None:
                    from physinf.learn.training import TrainingConfig

                    self.summary = ScoreSummary(self.features, coefficients=simulator.labels,
                                                training=TrainingConfig(seed=cfg.seed, progress=cfg.progress))
                self.summary.fit(sample, self.features)
                x_events = self.summary.per_event(x_events, self.features)
            summary_seconds = time.perf_counter() - t0
            theta = self.prior.sample(cfg.n_simulations, rng)
            t0 = time.perf_counter()
            x = self.simulate(simulator, x_events, theta, rng)
            simulation_seconds = time.perf_counter() - t0
            t0 = time.perf_counter()
            if cfg.training_for(self.method) == "weights":
                network, history = self._train_on_weights(sample, theta, x, rng)
            else:
                network, history = self._train(theta, x)
            history.training_seconds = time.perf_counter() - t0
            self.network_ = network
            t0 = time.perf_counter()
            self.log_normaliser_ = (self._ratio_normaliser(simulator, x_events, rng)
                                    if self.method == "nre" and cfg.normalise_ratio else None)
            history.normalisation_seconds = time.perf_counter() - t0
        history.simulation_seconds, history.summary_seconds = simulation_seconds, summary_seconds
        self.network_, self.history_, self.simulator_ = network, history, simulator
        self.process_, self.coefficients_, self.x_shape_ = sample.process, tuple(sample.coefficients), tuple(x.shape[1:])
        return self

    def _builder(self) -> Any:
        """sbi's network builder for this method: build(batch_theta, batch_x) -> network."""
        from sbi.neural_nets import classifier_nn, likelihood_nn, posterior_nn

        cfg = self.config
        if self.method == "nre":
            return classifier_nn(model=self.model, hidden_features=cfg.hidden_features)
        make = posterior_nn if self.method == "npe" else likelihood_nn
        return make(model=self.model, hidden_features=cfg.hidden_features, num_transforms=cfg.num_transforms)

    def _trainer(self, prior: Any, device: Any, tracker: MemoryTracker) -> Any:
        from sbi.inference import NLE, NPE, NRE_A, NRE_B, NRE_C

        common = dict(prior=prior, device=str(device), show_progress_bars=self.config.progress, tracker=tracker)
        if self.method == "nre":
            return {"a": NRE_A, "b": NRE_B, "c": NRE_C}[self.config.nre_variant](classifier=self._builder(), **common)
        return (NPE if self.method == "npe" else NLE)(density_estimator=self._builder(), **common)

    def _train(self, theta: np.ndarray, x: np.ndarray) -> tuple[Any, SBIHistory]:
        import torch

        from physinf.learn.base import resolve_device

        cfg = self.config
        device = resolve_device(self.device)
        tracker = MemoryTracker()
        trainer = self._trainer(self.prior.to_torch(device), device, tracker)
        trainer.append_simulations(torch.as_tensor(theta, dtype=torch.float32), torch.as_tensor(x, dtype=torch.float32),
                                   data_device="cpu")
        out = contextlib.nullcontext() if cfg.progress else contextlib.redirect_stdout(io.StringIO())
        with warnings.catch_warnings(record=True) as caught, out:
            warnings.filterwarnings("always", message="Maximum number of epochs")
            network = trainer.train(training_batch_size=cfg.batch_size, learning_rate=cfg.learning_rate,
                                    validation_fraction=cfg.validation_fraction, stop_after_epochs=cfg.stop_after_epochs,
                                    max_num_epochs=cfg.max_epochs - 1, show_train_summary=False)  # sbi runs max_num_epochs + 1
        converged = True
        for w in caught:
            if "Maximum number of epochs" in str(w.message):
                converged = False
            else:  # anything else is the user's to see
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        network.eval()
        return network, _history(tracker, trainer.summary, converged)

    def _train_on_weights(self, sample: EventSample, theta: np.ndarray, x: np.ndarray,
                          rng: np.random.Generator) -> tuple[Any, SBIHistory]:
        """NLE or NRE on the sample's morphing weights (physinf.learn.weighted_training); the simulated
        pairs (θ, x) only build the network and fix its z-scoring, as sbi's trainer does."""
        import torch

        from physinf.learn.base import resolve_device
        from physinf.learn.weighted_training import train_likelihood_on_weights, train_ratio_on_weights

        cfg = self.config
        network = self._builder()(torch.as_tensor(theta, dtype=torch.float32), torch.as_tensor(x, dtype=torch.float32))
        train = train_ratio_on_weights if self.method == "nre" else train_likelihood_on_weights
        network, h = train(
            network.to(resolve_device(self.device)), sample, self.features, self.prior, self.fixed,
            n_pairs=cfg.n_simulations, batch_size=cfg.batch_size, learning_rate=cfg.learning_rate,
            validation_fraction=cfg.validation_fraction, stop_after_epochs=cfg.stop_after_epochs, max_epochs=cfg.max_epochs,
            score_weight=cfg.score_weight_for(self.method), rng=rng, progress=cfg.progress)
        return network, SBIHistory(h["training_loss"], h["validation_loss"], h["epochs"], h["converged"])

    def _ratio_normaliser(self, simulator: EventSimulator, x_events: np.ndarray,
                          rng: np.random.Generator) -> tuple[list[np.ndarray], np.ndarray]:
        """log Z(θ) = log mean_j r̂(x_j, θ) over marginal draws x_j, on a θ grid (NRE's normalisation)."""
        import torch

        k, m = self.prior.dim, self.config.normalisation_events
        n_axis = {1: 33, 2: 17}.get(k, 9)
        axes = [np.linspace(lo, hi, n_axis) for lo, hi in zip(self.prior.low, self.prior.high)]
        grid = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)
        x = torch.as_tensor(x_events[simulator.draw(self.prior.sample(m, rng), 1, rng)[:, 0]], dtype=torch.float32,
                            device=self._device())
        values = np.empty(len(grid))
        with torch.no_grad():
            for g, th in enumerate(grid):
                t = torch.as_tensor(th, dtype=torch.float32, device=x.device).expand(len(x), k)
                logits = self.network_(t, x).reshape(-1).double()  # (θ, x) pairs, as sbi's potential calls it
                values[g] = float(torch.logsumexp(logits, 0)) - np.log(len(x))
        return axes, values.reshape([n_axis] * k)

    def log_normaliser(self, theta: np.ndarray) -> np.ndarray:
        """NRE: log Z(θ) interpolated (cubic) on its grid, (M,); zeros without normalisation."""
        th = np.asarray(theta, dtype=np.float64).reshape(-1, self.prior.dim)
        if self.log_normaliser_ is None:
            return np.zeros(len(th))
        from scipy.interpolate import RegularGridInterpolator

        axes, values = self.log_normaliser_
        clipped = np.clip(th, [a[0] for a in axes], [a[-1] for a in axes])
        return RegularGridInterpolator(axes, values, method="cubic" if len(axes[0]) >= 4 else "linear")(clipped)

    # ------------------------------------------------------------------ posteriors
    def _check_fitted(self) -> None:
        if self.network_ is None:
            raise NotFittedError("the posterior estimator is not trained yet: call fit(sample) or load(path) first")

    def observations(self, sample: EventSample) -> np.ndarray:
        """The estimator's features of every event of ``sample`` (N, d): an observation to pass to posterior()."""
        return feature_matrix(sample, self.features)

    def summarise(self, x: np.ndarray) -> np.ndarray:
        """NPE's summary of one experiment's events (N, d) -> (k,); refused for other sizes than n_events."""
        self._check_fitted()
        x = check_inputs(x, self.features)
        if self.method != "npe":
            raise InvalidParameterError(f"{self.method.upper()} uses the events themselves, there is no summary")
        if len(x) != self.n_events:
            raise InvalidParameterError(
                f"NPE was trained on experiments of {self.n_events} events, the observation has {len(x)}: its summary "
                f"would mean something else; retrain with n_events={len(x)} or use NLE/NRE, which take any number of events"
            )
        return self.summary.per_event(x, self.features).mean(axis=0)

    def posterior(self, x: np.ndarray) -> LearnedPosterior:
        """The posterior of one observed experiment: its events' features, shape (N, d)."""
        self._check_fitted()
        x = check_inputs(x, self.features)
        if len(x) == 0:
            raise InvalidParameterError("the observation has no events")
        observed = self.summarise(x)[None, :] if self.method == "npe" else x
        return LearnedPosterior(self, observed)

    def _device(self) -> Any:
        import torch

        return next(self.network_.parameters()).device if any(True for _ in self.network_.parameters()) else torch.device("cpu")

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> Path:
        """Write the trained network, the prior, the configuration and NPE's summary to one file."""
        from physinf.learn._common import base_metadata
        from physinf.learn.files import save_estimator

        self._check_fitted()
        summary_meta, summary_state = _summary_to_state(self.summary)
        metadata = base_metadata(self) | {
            "method": self.method, "prior": {"low": list(self.prior.low), "high": list(self.prior.high),
                                             "names": None if self.prior.names is None else list(self.prior.names)},
            "n_events": self.n_events, "config": asdict(self.config), "fixed": self.fixed, "x_shape": list(self.x_shape_),
            "theta_dim": self.prior.dim, "summary": summary_meta, "history": self.history_.to_dict(),
            "base_theta": self.simulator_.base_theta.tolist(), "labels": list(self.simulator_.labels),
            "log_normaliser": None if self.log_normaliser_ is None else
            {"axes": [a.tolist() for a in self.log_normaliser_[0]], "values": self.log_normaliser_[1].tolist()},
        }
        return save_estimator(path, self.kind, metadata, {"network": self.network_.state_dict(), "summary": summary_state})

    @classmethod
    def load(cls, path: str | os.PathLike, *, sample: EventSample | None = None, device: str = "auto") -> PosteriorEstimator:
        """Rebuild a saved estimator (its network from the stored architecture and weights).

        Posteriors need no sample; ``sample`` (the training sample or any of the same process)
        restores the simulator, for diagnostics that simulate."""
        import torch

        from physinf.learn._common import load_state
        from physinf.learn.base import resolve_device
        from physinf.learn.files import load_estimator

        metadata, state = load_estimator(path, cls.kind)
        try:
            config = PosteriorConfig(**{**metadata["config"], "grid_resolution": metadata["config"].get("grid_resolution")
                                        and tuple(metadata["config"]["grid_resolution"])})
            prior = BoxPrior(**metadata["prior"])
            summary = _summary_from_state(metadata["summary"], state.get("summary", {}))
            est = cls(metadata["method"], prior, metadata["features"], n_events=metadata["n_events"], summary=summary,
                      config=config, fixed=metadata["fixed"], device=device)
        except (KeyError, TypeError) as err:
            raise EstimatorFileError(f"{path} has damaged metadata for a posterior estimator: {err}") from err
        dev = resolve_device(device)
        # the architecture from the builder (on stand-in batches: their z-scoring statistics are
        # buffers, replaced by the stored ones with the weights)
        gen = torch.Generator().manual_seed(0)
        theta = torch.rand(64, prior.dim, generator=gen) * 2 - 1
        x = torch.randn(64, *metadata["x_shape"], generator=gen)
        with controlled(0, config.threads):  # initial weights (overwritten) drawn from a private stream
            network = est._builder()(theta, x)
        load_state(network, state.get("network"), path)
        est.network_ = network.to(dev).eval()
        est.history_ = SBIHistory(**metadata["history"])
        est.process_, est.coefficients_ = metadata["process"], tuple(metadata["coefficients"])
        est.x_shape_ = tuple(metadata["x_shape"])
        norm = metadata.get("log_normaliser")
        est.log_normaliser_ = None if norm is None else ([np.asarray(a) for a in norm["axes"]], np.asarray(norm["values"]))
        est._labels_loaded = tuple(metadata["labels"])
        if sample is not None:
            if sample.process != est.process_:
                raise EstimatorFileError(f"{path} was trained on process {est.process_!r}, the sample is {sample.process!r}")
            est.simulator_ = EventSimulator(sample, prior, fixed=est.fixed)
        return est


def _summary_to_state(summary: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    if summary is None:
        return None, {}
    if isinstance(summary, HistogramSummary):
        if not isinstance(summary.statistic, str):
            raise InvalidParameterError("a HistogramSummary of a function cannot be saved (only code could rebuild it); "
                                        "add the statistic as an observable of the sample and name it instead")
        return {"kind": "histogram", "statistic": summary.statistic, "edges": summary.edges.tolist()}, {}
    if isinstance(summary, ScoreSummary):
        sally = summary.estimator
        meta = {"kind": "score", "features": list(summary.features), "second_order": summary.second_order,
                "columns": summary.columns_.tolist(), "sally": {
                    "features": list(sally.features), "coefficients": list(sally.coefficients_), "process": sally.process_,
                    "theta_ref": list(sally.theta_ref), "hidden": list(sally.hidden), "activation": sally.activation,
                    "n_members": sally.n_members}}
        return meta, {f"member{m}": net.state_dict() for m, net in enumerate(sally.networks_)}
    raise InvalidParameterError(f"cannot save a summary of type {type(summary).__name__}")


def _summary_from_state(meta: dict[str, Any] | None, state: dict[str, Any]) -> Any:
    if meta is None:
        return None
    if meta["kind"] == "histogram":
        return HistogramSummary(meta["statistic"], meta["edges"])
    from physinf.learn._common import load_state
    from physinf.learn.score import LocalScoreEstimator, _ScoreNet

    s = meta["sally"]
    sally = LocalScoreEstimator(s["features"], theta_ref=s["theta_ref"], hidden=s["hidden"], activation=s["activation"],
                                n_members=s["n_members"], device="cpu")
    n_in, n_out = len(s["features"]), len(s["coefficients"])
    nets = []
    for m in range(s["n_members"]):
        net = _ScoreNet(n_in, n_out, sally.hidden, sally.activation, np.zeros(n_in), np.ones(n_in), np.ones(n_out))
        load_state(net, state.get(f"member{m}"), "the summary's score network")
        nets.append(net.eval())
    sally.networks_, sally.process_, sally.coefficients_ = nets, s["process"], tuple(s["coefficients"])
    summary = ScoreSummary(meta["features"], second_order=meta["second_order"], estimator=sally)
    summary.columns_ = np.asarray(meta["columns"])
    return summary


class LearnedPosterior:
    """The learned posterior of one observation: samples, densities, credible intervals.

    Densities, moments and intervals come from the learned log posterior on a θ grid (one or two
    coefficients); ``sample`` draws from that grid ("grid", the default for NLE and NRE), from NPE's
    flow ("direct", NPE's default), or through sbi's samplers ("mcmc": slice sampling; "rejection")."""

    def __init__(self, estimator: PosteriorEstimator, observed: np.ndarray) -> None:
        self.estimator, self.observed = estimator, np.asarray(observed, dtype=np.float64)
        self.method, self.prior = estimator.method, estimator.prior
        self._grid: GridPosterior | None = None
        self._potential_fn: Any = None

    @property
    def labels(self) -> tuple[str, ...]:
        return getattr(self.estimator, "_labels_loaded", None) or self.estimator.labels

    # ------------------------------------------------------------------ potential
    def _potential(self) -> Any:
        if self._potential_fn is None:
            import torch
            from sbi.inference import (
                likelihood_estimator_based_potential,
                posterior_estimator_based_potential,
                ratio_estimator_based_potential,
            )

            est = self.estimator
            dev = est._device()
            make = {"npe": posterior_estimator_based_potential, "nle": likelihood_estimator_based_potential,
                    "nre": ratio_estimator_based_potential}[self.method]
            potential_fn, transform = make(est.network_, est.prior.to_torch(dev), None)
            if est.log_normaliser_ is not None:
                potential_fn = _normalised(potential_fn, est.log_normaliser)
            x = torch.as_tensor(self.observed, dtype=torch.float32, device=dev)
            potential_fn.set_x(x, x_is_iid=self.method != "npe")
            self._potential_fn, self._transform = potential_fn, transform
        return self._potential_fn

    def potential(self, theta: Any) -> np.ndarray:
        """The learned log posterior up to a constant at θ (M, k); −inf outside the prior box."""
        import torch

        th = np.asarray(theta, dtype=np.float64).reshape(-1, self.prior.dim)
        inside = self.prior.contains(th)
        out = np.full(len(th), -np.inf)
        if not inside.any():
            return out
        rows = max(1, _ROWS_PER_CALL // max(len(self.observed), 1))
        values = []
        with controlled(sbi_seed(self.estimator.config.seed, 2), self.estimator.config.threads), torch.no_grad():
            fn = self._potential()  # sbi checks the prior by sampling it: inside the seeded block
            t = torch.as_tensor(th[inside], dtype=torch.float32, device=self.estimator._device())
            for lo in range(0, len(t), rows):
                values.append(fn(t[lo : lo + rows], track_gradients=False).double().cpu().numpy())
        out[inside] = np.concatenate(values)
        return out

    @property
    def grid(self) -> GridPosterior:
        """The posterior on a θ grid (cached)."""
        if self._grid is None:
            self._grid = GridPosterior.from_log_function(self.potential, self.prior, names=self.labels,
                                                         resolution=self.estimator.config.grid_resolution)
        return self._grid

    # ------------------------------------------------------------------ summaries of the posterior
    def log_prob(self, theta: Any) -> np.ndarray:
        """Normalised log density at θ (M, k) (normalised over the prior box on the grid)."""
        th = self.prior.check(theta) if np.size(theta) else np.zeros((0, self.prior.dim))
        return self.grid.log_prob(th)

    def mean(self) -> np.ndarray:
        return self.grid.mean()

    def std(self) -> np.ndarray:
        return self.grid.std()

    def cov(self) -> np.ndarray:
        return self.grid.cov()

    def credible_interval(self, level: float = 0.68, coefficient: int | str = 0) -> tuple[float, float]:
        """Central interval of one coefficient's marginal holding ``level`` of the probability."""
        return self.grid.credible_interval(level, coefficient)

    # ------------------------------------------------------------------ samples
    def sample(self, n: int, *, sampler: str = "auto", seed: int | None = None) -> np.ndarray:
        """n posterior draws (n, k); the same seed gives the same draws (default: the config's seed)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise InvalidParameterError(f"n must be a positive integer, got {n!r}")
        if sampler not in SAMPLERS:
            raise InvalidParameterError(f"unknown sampler {sampler!r}; choose one of {SAMPLERS}.{did_you_mean(str(sampler), SAMPLERS)}")
        if sampler == "auto":
            sampler = "direct" if self.method == "npe" else "grid" if self.prior.dim <= 2 else "mcmc"
        if sampler == "direct" and self.method != "npe":
            raise InvalidParameterError(f"sampler='direct' draws from NPE's flow; {self.method.upper()} samples with 'grid', 'mcmc' or 'rejection'")
        seed = self.estimator.config.seed if seed is None else int(seed)
        if sampler == "grid":
            return self.grid.sample(int(n), np.random.default_rng(sbi_seed(seed, 3)))
        return self._sbi_sample(int(n), sampler, seed)

    def _sbi_sample(self, n: int, sampler: str, seed: int) -> np.ndarray:
        import torch
        from sbi.inference import DirectPosterior, MCMCPosterior, RejectionPosterior

        est, cfg = self.estimator, self.estimator.config
        dev = est._device()
        prior = est.prior.to_torch(dev)
        x = torch.as_tensor(self.observed, dtype=torch.float32, device=dev)
        with controlled(sbi_seed(seed, 4), cfg.threads):
            if sampler == "direct":
                post = DirectPosterior(posterior_estimator=est.network_, prior=prior, device=str(dev))
                out = post.sample((n,), x=x, show_progress_bars=cfg.progress)
            else:
                # a fresh potential each call: sbi's posteriors keep state in it (the x they set,
                # their chains' last states), and draws must not depend on earlier calls
                self._potential_fn = None
                potential_fn = self._potential()
                if sampler == "mcmc":
                    # chains start from prior draws: sbi's default start (resampling 10⁴ prior draws per
                    # chain by the potential) costs 10⁴ x N likelihood evaluations per chain for NLE
                    post = MCMCPosterior(potential_fn, proposal=prior, theta_transform=self._transform,
                                         method="slice_np_vectorized", init_strategy="proposal", thin=cfg.mcmc_thin, warmup_steps=cfg.mcmc_warmup,
                                         num_chains=cfg.mcmc_chains, device=str(dev))
                else:
                    post = RejectionPosterior(potential_fn, proposal=prior, device=str(dev))
                post.potential_fn.set_x(x, x_is_iid=self.method != "npe")
                out = post.sample((n,), x=x, show_progress_bars=cfg.progress)
        return out.detach().double().cpu().numpy().reshape(n, self.prior.dim)


def _normalised(potential_fn: Any, log_normaliser: Any) -> Any:
    """sbi's ratio potential minus N log Z(θ) (N: the number of i.i.d. events set as x)."""
    import torch

    base = type(potential_fn)

    class NormalisedRatioPotential(base):  # type: ignore[misc, valid-type]
        def __call__(self, theta: Any, track_gradients: bool = True) -> Any:
            out = super().__call__(theta, track_gradients)
            n = self.x_o.shape[0] if self.x_is_iid else 1
            th = theta.detach().cpu().double().numpy().reshape(-1, theta.shape[-1])
            corr = torch.as_tensor(log_normaliser(th), dtype=out.dtype, device=out.device).reshape(out.shape)
            return out - n * corr

    potential_fn.__class__ = NormalisedRatioPotential
    return potential_fn
