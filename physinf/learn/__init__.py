"""Learning what the detector hides: local scores, likelihood ratios, posteriors, amplitude surrogates.

Every estimator follows :class:`physinf.learn.base.Estimator` (``fit(sample)``, ``predict(x, ...)``,
``save``/``load`` without executing code from the file, ``device="auto"``). Training data come
straight from an EventSample with weighted losses (:mod:`physinf.learn.data`); one seeded,
early-stopped training loop (:mod:`physinf.learn.training`) serves them all.

* :class:`LocalScoreEstimator` — SALLY, the local score t̂(x|θ_ref) (ensembles).
* :class:`ParameterizedRatioEstimator` — CARL, ALICES, RASCAL: log r̂(x|θ₀, θ₁).
* :class:`QuadraticRatioEstimator` — the ratio as a positive quadratic form in θ (dimension 6).
* :class:`PosteriorEstimator` — simulation-based inference with sbi (NPE, NLE, NRE) on a
  :class:`BoxPrior`, simulating with :class:`EventSimulator` (events at any θ from one weighted
  sample); :class:`ReferencePosterior` — the exact parton-level posterior on a θ grid;
  :func:`calibrate` — SBC and expected coverage; :func:`c2st`.
"""

from physinf.learn.base import Estimator, resolve_device
from physinf.learn.calibration import Calibration, c2st, c2st_null_sigma, calibrate
from physinf.learn.errors import EstimatorError, EstimatorFileError, NotFittedError
from physinf.learn.exact_posterior import ReferencePosterior
from physinf.learn.grid import GridPosterior
from physinf.learn.posterior import METHODS as POSTERIOR_METHODS
from physinf.learn.posterior import LearnedPosterior, PosteriorConfig, PosteriorEstimator
from physinf.learn.prior import BoxPrior
from physinf.learn.ratio import RATIO_METHODS, ParameterizedRatioEstimator, QuadraticRatioEstimator
from physinf.learn.score import LocalScoreEstimator
from physinf.learn.simulator import EventSimulator
from physinf.learn.summaries import HistogramSummary, ScoreSummary
from physinf.learn.training import TrainingConfig, TrainingHistory

__all__ = [
    "POSTERIOR_METHODS",
    "RATIO_METHODS",
    "BoxPrior",
    "Calibration",
    "Estimator",
    "EstimatorError",
    "EstimatorFileError",
    "EventSimulator",
    "GridPosterior",
    "HistogramSummary",
    "LearnedPosterior",
    "LocalScoreEstimator",
    "NotFittedError",
    "ParameterizedRatioEstimator",
    "PosteriorConfig",
    "PosteriorEstimator",
    "QuadraticRatioEstimator",
    "ReferencePosterior",
    "ScoreSummary",
    "TrainingConfig",
    "TrainingHistory",
    "c2st",
    "c2st_null_sigma",
    "calibrate",
    "resolve_device",
]


def __dir__() -> list[str]:
    return sorted(__all__)
