"""Learning what the detector hides: local scores, likelihood ratios, posteriors, amplitude surrogates.

Every estimator follows :class:`physinf.learn.base.Estimator` (``fit(sample)``, ``predict(x, ...)``,
``save``/``load`` without executing code from the file, ``device="auto"``). Training data come
straight from an EventSample with weighted losses (:mod:`physinf.learn.data`); one seeded,
early-stopped training loop (:mod:`physinf.learn.training`) serves them all.

* :class:`LocalScoreEstimator` — SALLY, the local score t̂(x|θ_ref) (ensembles).
* :class:`ParameterizedRatioEstimator` — CARL, ALICES, RASCAL: log r̂(x|θ₀, θ₁).
* :class:`QuadraticRatioEstimator` — the ratio as a positive quadratic form in θ (dimension 6).
"""

from physinf.learn.base import Estimator, resolve_device
from physinf.learn.errors import EstimatorError, EstimatorFileError, NotFittedError
from physinf.learn.ratio import RATIO_METHODS, ParameterizedRatioEstimator, QuadraticRatioEstimator
from physinf.learn.score import LocalScoreEstimator
from physinf.learn.training import TrainingConfig, TrainingHistory

__all__ = [
    "Estimator",
    "EstimatorError",
    "EstimatorFileError",
    "LocalScoreEstimator",
    "NotFittedError",
    "ParameterizedRatioEstimator",
    "QuadraticRatioEstimator",
    "RATIO_METHODS",
    "TrainingConfig",
    "TrainingHistory",
    "resolve_device",
]


def __dir__() -> list[str]:
    return sorted(__all__)
