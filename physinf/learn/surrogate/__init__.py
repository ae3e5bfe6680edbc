"""Bayesian amplitude surrogates with calibrated uncertainties (issue 12).

A network that replaces an expensive squared amplitude and says how far to trust itself:
sigma_syst from a heteroscedastic Gaussian head, sigma_stat from variational weights (and, as a
second estimate, from ensembles), calibrated with pulls, noise injection and out-of-distribution
checks, and usable in ``physinf.generate`` through :class:`SurrogateModel`, its uncertainty
carried as weight variations and turned into a pyhf shape systematic.

Recipe: docs/notes/ml.md §1. References: arXiv:2412.12069, arXiv:2206.14831, arXiv:2405.14806.
"""

from physinf.learn.surrogate.calibration import (
    AccuracyReport,
    NoiseInjectionResult,
    PullReport,
    accuracy,
    noise_injection,
    pulls,
)
from physinf.learn.surrogate.config import SurrogateConfig, TrainConfig
from physinf.learn.surrogate.data import amplitude_dataset
from physinf.learn.surrogate.errors import SurrogateFileError, SurrogateMismatchError
from physinf.learn.surrogate.generation import SurrogateModel, surrogate_systematic, with_surrogate_uncertainty
from physinf.learn.surrogate.layers import VBLinear
from physinf.learn.surrogate.plots import plot_accuracy_vs_size, plot_pulls
from physinf.learn.surrogate.prediction import SurrogatePrediction
from physinf.learn.surrogate.surrogate import AmplitudeSurrogate

__all__ = [
    "AccuracyReport",
    "AmplitudeSurrogate",
    "NoiseInjectionResult",
    "PullReport",
    "SurrogateConfig",
    "SurrogateFileError",
    "SurrogateMismatchError",
    "SurrogateModel",
    "SurrogatePrediction",
    "TrainConfig",
    "VBLinear",
    "accuracy",
    "amplitude_dataset",
    "noise_injection",
    "plot_accuracy_vs_size",
    "plot_pulls",
    "pulls",
    "surrogate_systematic",
    "with_surrogate_uncertainty",
]


def __dir__() -> list[str]:
    return sorted(__all__)
