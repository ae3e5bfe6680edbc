"""Is the surrogate right, and is it right about how wrong it is?

* :func:`accuracy`: Delta = (A_NN - A_true) / A_true: mean, width, median |Delta|, and the
  fractions below 0.1 %, 1 % and 10 % (the L-GATr metrics, arXiv:2405.14806);
* :func:`pulls`: t = (A_NN - A_true) / sigma overall, in bins of log A and in the top 1 % of A,
  where surrogates degrade. Calibrated uncertainties give t ~ N(0, 1): for n independent points
  the pull mean has a standard error 1/sqrt(n) and the width 1/sqrt(2 n);
* :func:`noise_injection`: train on targets with a known relative Gaussian noise eps added and
  check that sigma_syst / A recovers eps and that pulls against the noisy labels have unit width;
* :func:`stat_growth`: sigma_stat outside the training region over sigma_stat inside (> 1 for a
  network that knows where it has not seen data).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from physinf.errors import InvalidParameterError
from physinf.learn.surrogate.prediction import SurrogatePrediction

__all__ = [
    "AccuracyReport",
    "NoiseInjectionResult",
    "PullReport",
    "accuracy",
    "noise_injection",
    "pulls",
    "stat_growth",
]

THRESHOLDS = (1e-3, 1e-2, 1e-1)


def _pair(pred: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred, truth = np.asarray(pred, dtype=float), np.asarray(truth, dtype=float)
    if pred.shape != truth.shape or pred.ndim != 1 or len(pred) == 0:
        raise InvalidParameterError(f"predictions and truth must be equal-length 1-d arrays, got {pred.shape} and {truth.shape}")
    return pred, truth


@dataclass(frozen=True)
class AccuracyReport:
    """Statistics of Delta = (A_NN - A_true) / A_true over n points."""

    n: int
    mean: float
    width: float
    median_abs: float
    below: dict[float, float]  # threshold -> fraction of points with |Delta| below it

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "mean": self.mean, "width": self.width, "median_abs": self.median_abs,
                **{f"fraction_below_{t:g}": f for t, f in self.below.items()}}


def accuracy(pred: Any, truth: Any, reference: Any = None) -> AccuracyReport:
    """Delta statistics; ``reference`` (default: the truth) is the denominator, e.g. A_SM for an
    interference component that changes sign."""
    pred, truth = _pair(pred, truth)
    ref = truth if reference is None else np.asarray(reference, dtype=float)
    delta = (pred - truth) / ref
    return AccuracyReport(len(delta), float(delta.mean()), float(delta.std(ddof=1)) if len(delta) > 1 else 0.0,
                          float(np.median(np.abs(delta))), {t: float(np.mean(np.abs(delta) < t)) for t in THRESHOLDS})


@dataclass(frozen=True)
class PullReport:
    """Pull statistics overall, in bins of log A (equal counts) and in the top 1 % of A."""

    n: int
    mean: float
    width: float
    width_68: float  # half the 16-84 % range: a width that heavy tails do not inflate
    within_1: float
    within_2: float
    bins: list[dict[str, float]]
    top_1pc: dict[str, float]
    values: np.ndarray

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "mean": self.mean, "width": self.width, "width_68": self.width_68,
                "within_1": self.within_1, "within_2": self.within_2, "bins": self.bins, "top_1pc": self.top_1pc}


def _stats(t: np.ndarray) -> dict[str, float]:
    return {"n": int(len(t)), "mean": float(t.mean()), "width": float(t.std(ddof=1)) if len(t) > 1 else 0.0}


def pulls(prediction: SurrogatePrediction, truth: Any, *, component: int = 0, sigma: str = "tot",
          n_bins: int = 5) -> PullReport:
    """(A_NN - A_true) / sigma for one component; ``sigma`` in "tot", "stat", "syst"."""
    if sigma not in ("tot", "stat", "syst"):
        raise InvalidParameterError(f"sigma must be 'tot', 'stat' or 'syst', got {sigma!r}")
    truth = np.asarray(truth, dtype=float)
    truth = truth[:, component] if truth.ndim == 2 else truth
    pred, truth = _pair(prediction.mean[:, component], truth)
    s = {"tot": prediction.sigma_tot, "stat": prediction.sigma_stat, "syst": prediction.sigma_syst}[sigma][:, component]
    if np.any(s <= 0):
        raise InvalidParameterError("some predicted uncertainties are zero; pulls are undefined there")
    t = (pred - truth) / s
    q16, q84 = np.percentile(t, [16, 84])
    # bins of log |A_true| with equal counts
    key = np.log(np.abs(truth) + 1e-300)
    edges = np.quantile(key, np.linspace(0, 1, n_bins + 1))
    bins = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (key >= lo) & (key <= hi)
        if sel.sum() > 1:
            bins.append({"log_a_lo": float(lo), "log_a_hi": float(hi), **_stats(t[sel])})
    top = key >= np.quantile(key, 0.99)
    return PullReport(len(t), float(t.mean()), float(t.std(ddof=1)), float(0.5 * (q84 - q16)),
                      float(np.mean(np.abs(t) < 1)), float(np.mean(np.abs(t) < 2)), bins, _stats(t[top]), t)


@dataclass(frozen=True)
class NoiseInjectionResult:
    """Injected relative noise and what the surrogate trained on the noisy labels learned."""

    injected: float
    sigma_syst_over_a_median: float
    sigma_syst_over_a_mean: float
    sigma_stat_over_a_median: float
    pull_mean_noisy: float
    pull_width_noisy: float
    n_test: int

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def noise_injection(surrogate: Any, momenta: Any, amplitudes: Any, noise: float, test_momenta: Any,
                    test_amplitudes: Any, *, seed: int = 0) -> NoiseInjectionResult:
    """Train a copy of ``surrogate`` (same process, channel and configs; unfitted) on amplitudes
    multiplied by (1 + noise g), g ~ N(0, 1), and test it on test amplitudes with fresh noise of
    the same size. sigma_syst / A should come out near ``noise`` wherever noise dominates the
    network's own error, and the pulls against the noisy test labels should have unit width."""
    if not (np.isfinite(noise) and 0 < noise < 0.5):
        raise InvalidParameterError(f"the injected relative noise must be in (0, 0.5), got {noise}")
    rng = np.random.default_rng(seed)
    a = np.array(amplitudes, dtype=float, copy=True)
    a = a[:, None] if a.ndim == 1 else a
    noisy = a * (1.0 + noise * rng.standard_normal(len(a)))[:, None]
    fresh = copy.copy(surrogate)
    fresh.members_, fresh.history_, fresh.preprocessing_, fresh._model_id = [], [], None, None
    fresh.fit_arrays(momenta, noisy)
    pred = fresh.predict_uncertainty(test_momenta)
    ta = np.asarray(test_amplitudes, dtype=float)
    ta = ta[:, 0] if ta.ndim == 2 else ta
    noisy_test = ta * (1.0 + noise * rng.standard_normal(len(ta)))
    t = (pred.amplitude - noisy_test) / pred.sigma_tot[:, 0]
    rel_syst = pred.relative("syst")
    return NoiseInjectionResult(float(noise), float(np.median(rel_syst)), float(rel_syst.mean()),
                                float(np.median(pred.relative("stat"))), float(t.mean()), float(t.std(ddof=1)), len(t))


def stat_growth(surrogate: Any, inside: Any, outside: Any) -> float:
    """median sigma_stat / A at points ``outside`` the training region over that ``inside`` it."""
    rin = surrogate.predict_uncertainty(inside).relative("stat")
    rout = surrogate.predict_uncertainty(outside).relative("stat")
    return float(np.median(rout) / np.median(rin))
