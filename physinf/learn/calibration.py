"""Is a posterior right? Simulation-based calibration, expected coverage and C2ST, with sbi.diagnostics.

:func:`calibrate` draws ``n_experiments`` pairs θ_i ~ prior, x_i = N events at θ_i from a
simulator, obtains each experiment's posterior and ranks θ_i among ``n_posterior_samples``
posterior draws with :func:`sbi.diagnostics.run_sbc`:

* simulation-based calibration (Talts et al. arXiv:1804.06788): the rank of each coefficient
  among the marginal draws is uniform for a correct posterior (:func:`sbi.diagnostics.check_sbc`:
  KS p-value and C2ST of the ranks against uniform, per coefficient);
* expected coverage (Deistler et al. arXiv:2210.04815), reduce function −log p(θ|x): the fraction
  of draws denser than θ_i is θ_i's highest-density credibility; for a correct posterior the
  fraction of experiments with credibility below α is α, for every α. Reported at ``levels``
  with the binomial standard error sqrt(α(1−α)/n_experiments).

NPE posteriors are sampled in batches by sbi itself; NLE/NRE and reference posteriors go through
a small adapter (``sample_batched``/``log_prob``, what run_sbc asks of a posterior) that draws
from each experiment's grid posterior and ranks with its density interpolated on the grid.

:func:`c2st` is sbi's classifier two-sample test (random forest, 5-fold cross-validated
accuracy; 0.5 = indistinguishable). For two samples of n draws of one distribution the accuracy is
a mean of 2n fair coin flips: its spread is :func:`c2st_null_sigma` = 0.5/sqrt(2n). A mean shift of
Δ posterior widths between two Gaussians gives at best Φ(Δ/2) (0.55 ≈ 0.25 widths).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from physinf.errors import InvalidParameterError
from physinf.learn._sbi_runtime import controlled, sbi_seed
from physinf.learn.data import feature_matrix
from physinf.learn.exact_posterior import ReferencePosterior
from physinf.learn.grid import GridPosterior
from physinf.learn.posterior import PosteriorEstimator
from physinf.learn.simulator import EventSimulator
from physinf.simulate.events import EventSample

__all__ = ["Calibration", "c2st", "c2st_null_sigma", "calibrate"]


@dataclass(frozen=True)
class Calibration:
    """Expected coverage at ``levels`` and SBC checks of one posterior over many experiments."""

    levels: tuple[float, ...]
    coverage: tuple[float, ...]
    coverage_sigma: tuple[float, ...]
    sbc_ks_pvalues: tuple[float, ...]
    sbc_c2st_ranks: tuple[float, ...]
    n_experiments: int
    n_events: int
    n_posterior_samples: int
    seconds: float
    credibility: np.ndarray = field(repr=False)

    @property
    def abs_error(self) -> float:
        """max over levels of |empirical coverage − nominal|."""
        return float(max(abs(c - a) for c, a in zip(self.coverage, self.levels)))

    def to_dict(self) -> dict[str, Any]:
        return {"levels": list(self.levels), "coverage": list(self.coverage), "coverage_sigma": list(self.coverage_sigma),
                "abs_error": self.abs_error, "sbc_ks_pvalues": list(self.sbc_ks_pvalues),
                "sbc_c2st_ranks": list(self.sbc_c2st_ranks), "n_experiments": self.n_experiments,
                "n_events": self.n_events, "n_posterior_samples": self.n_posterior_samples, "seconds": self.seconds}


def c2st(samples: np.ndarray, reference: np.ndarray, *, seed: int = 0, n_folds: int = 5) -> float:
    """sbi's C2ST accuracy between two sets of draws (n, k); 0.5 means indistinguishable.

    ``n_folds``: cross-validation folds of sbi's random-forest classifier (sbi's default 5; fewer
    folds cost proportionally less and leave the accuracy's mean unchanged, its spread larger)."""
    import torch
    from sbi.utils.metrics import c2st as _c2st

    a, b = np.asarray(samples, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    a = a[:, None] if a.ndim == 1 else a
    b = b[:, None] if b.ndim == 1 else b
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 10:
        raise InvalidParameterError(f"C2ST needs two sets of at least 10 draws of the same dimension, got {a.shape} and {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise InvalidParameterError("C2ST inputs have non-finite values")
    if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)) or n_folds < 2:
        raise InvalidParameterError(f"n_folds must be an integer >= 2, got {n_folds!r}")
    return float(_c2st(torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32), seed=int(seed),
                       n_folds=int(n_folds)))


def c2st_null_sigma(n: int) -> float:
    """Spread of the C2ST accuracy of two n-draw samples of the same distribution: 0.5/sqrt(2n)."""
    return 0.5 / np.sqrt(2.0 * n)


class _GridBatch:
    """What sbi.diagnostics.run_sbc asks of a posterior, for posteriors built per experiment.

    The "observations" handed to run_sbc are experiment numbers (B, 1); each maps to a grid
    posterior made on demand."""

    def __init__(self, make: Callable[[int], GridPosterior], n: int, seed: int, progress: bool) -> None:
        self._make, self._cache, self._seed, self._progress, self._n = make, {}, seed, progress, n

    def _posterior(self, i: int) -> GridPosterior:
        if i not in self._cache:
            self._cache[i] = self._make(i)
        return self._cache[i]

    def sample_batched(self, sample_shape: Any, x: Any, show_progress_bars: bool = False, **_: Any) -> Any:
        import torch

        n = int(np.prod(tuple(sample_shape)))
        ids = [int(v) for v in x[:, 0].tolist()]
        if self._progress:
            from tqdm.auto import tqdm

            ids_iter = tqdm(ids, desc="posteriors", unit="experiment")
        else:
            ids_iter = ids
        draws = [self._posterior(i).sample(n, np.random.default_rng(sbi_seed(self._seed, 1000 + i))) for i in ids_iter]
        return torch.as_tensor(np.stack(draws, axis=1), dtype=torch.float32)

    def log_prob(self, theta: Any, x: Any = None, **_: Any) -> Any:
        import torch

        i = int(np.asarray(x.detach().cpu()).ravel()[0])
        return torch.as_tensor(self._posterior(i).interpolated_log_density(theta.detach().cpu().numpy()))


def calibrate(source: PosteriorEstimator | ReferencePosterior, sample: EventSample | None = None, *,
              n_experiments: int = 200, n_events: int | None = None, n_posterior_samples: int = 500,
              levels: Sequence[float] = (0.68, 0.95), seed: int = 0, progress: bool = False) -> Calibration:
    """SBC and expected coverage of a trained estimator's posteriors (or of a reference's).

    Experiments are simulated from ``sample`` (keep it apart from the training sample; default:
    the source's own simulator) with N = ``n_events`` events each (default: the estimator's)."""
    import torch
    from sbi.diagnostics import run_sbc
    from sbi.diagnostics.sbc import check_uniformity_c2st, check_uniformity_frequentist

    for name, value, least in (("n_experiments", n_experiments, 100), ("n_posterior_samples", n_posterior_samples, 100)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise InvalidParameterError(f"{name} must be an integer >= {least} (sbi's SBC checks need hundreds), got {value!r}")
    levels = tuple(float(a) for a in levels)
    if not levels or any(not 0 < a < 1 for a in levels):
        raise InvalidParameterError(f"coverage levels must lie in (0, 1), got {list(levels)}")
    if isinstance(source, PosteriorEstimator):
        source._check_fitted()
        prior, fixed = source.prior, source.fixed
        simulator = source.simulator_ if sample is None else EventSimulator(sample, prior, fixed=fixed)
        if simulator is None:
            raise InvalidParameterError("this estimator was loaded without a sample: pass sample= to simulate experiments from")
        n_events = source.n_events if n_events is None else n_events
        if source.method == "npe" and n_events != source.n_events:
            raise InvalidParameterError(f"NPE was trained on experiments of {source.n_events} events, not {n_events}")
    elif isinstance(source, ReferencePosterior):
        if sample is not None:
            raise InvalidParameterError("a reference posterior simulates from its own sample; do not pass another")
        simulator, prior = source.simulator, source.simulator.prior
        if n_events is None:
            raise InvalidParameterError("pass n_events (events per experiment) to calibrate a reference posterior")
    else:
        raise InvalidParameterError(f"calibrate takes a PosteriorEstimator or a ReferencePosterior, got {type(source).__name__}")
    if isinstance(n_events, bool) or not isinstance(n_events, (int, np.integer)) or n_events < 1:
        raise InvalidParameterError(f"n_events must be a positive integer, got {n_events!r}")
    t0 = time.perf_counter()
    rng = np.random.default_rng(sbi_seed(seed, 10))
    thetas = prior.sample(n_experiments, rng)
    indices = simulator.draw(thetas, int(n_events), rng)
    k = prior.dim
    if isinstance(source, PosteriorEstimator):
        x_events = feature_matrix(simulator.sample, source.features)
    config_seed = source.config.seed if isinstance(source, PosteriorEstimator) else seed
    threads = source.config.threads if isinstance(source, PosteriorEstimator) else 1
    if isinstance(source, PosteriorEstimator) and source.method == "npe":
        from sbi.inference import DirectPosterior

        phi = source.summary.per_event(x_events, source.features)
        xs = torch.as_tensor(phi[indices].mean(axis=1), dtype=torch.float32)
        with controlled(sbi_seed(config_seed, 12), threads):  # sbi samples the prior to check it
            posterior = DirectPosterior(posterior_estimator=source.network_, prior=prior.to_torch(source._device()))

        def hpd(th: Any, x: Any) -> Any:
            return -posterior.log_prob(th, x=x, norm_posterior=False)
    else:
        if isinstance(source, PosteriorEstimator):
            def make(i: int) -> GridPosterior:
                return source.posterior(x_events[indices[i]]).grid
        else:
            def make(i: int) -> GridPosterior:
                return source.posterior(indices[i])
        posterior = _GridBatch(make, n_experiments, seed, progress)
        xs = torch.arange(n_experiments, dtype=torch.float32)[:, None]

        def hpd(th: Any, x: Any) -> Any:
            return -posterior.log_prob(th, x)
    reduce_fns = [(lambda th, x, i=i: th[:, i]) for i in range(k)] + [hpd]
    with controlled(sbi_seed(config_seed, 11), threads):
        ranks, _dap = run_sbc(torch.as_tensor(thetas, dtype=torch.float32), xs, posterior,
                              num_posterior_samples=n_posterior_samples, reduce_fns=reduce_fns,
                              show_progress_bar=progress)
        # sbi's check_sbc minus its prior-vs-data-averaged-posterior C2ST, which nothing here reads
        # (half of check_sbc's time: a random-forest C2ST per coefficient)
        ks_pvals = check_uniformity_frequentist(ranks[:, :k], n_posterior_samples)
        c2st_ranks = check_uniformity_c2st(ranks[:, :k], n_posterior_samples)
    credibility = ranks[:, k].double().numpy() / n_posterior_samples
    coverage = tuple(float(np.mean(credibility < a)) for a in levels)
    sigma = tuple(float(np.sqrt(a * (1 - a) / n_experiments)) for a in levels)
    return Calibration(levels, coverage, sigma, tuple(float(v) for v in ks_pvals), tuple(float(v) for v in c2st_ranks),
                       int(n_experiments), int(n_events), int(n_posterior_samples), time.perf_counter() - t0, credibility)
