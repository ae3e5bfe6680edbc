"""Learning what the detector hides: local scores, likelihood ratios, posteriors, amplitude surrogates.

Every estimator follows :class:`physinf.learn.base.Estimator` (``fit(sample)``, ``predict(x)``,
``save``/``load``, ``device="auto"``). Implementations arrive module by module: ``data``
(training data from an EventSample), ``score`` (SALLY), ``ratio`` (CARL, ALICES, RASCAL, the
quadratic EFT estimator), ``posterior`` (sbi), ``surrogate`` (Bayesian amplitude networks).
"""

from physinf.learn.base import Estimator, resolve_device

__all__ = ["Estimator", "resolve_device"]


def __dir__() -> list[str]:
    return sorted(__all__)
