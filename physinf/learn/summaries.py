"""Per-experiment summaries for neural posterior estimation: means of per-event statistics.

An experiment is N i.i.d. events; NPE learns p(θ|s) for a fixed-length summary s of the set. Every
summary here is the mean over the events of a per-event statistic φ(x), s = (1/N) Σ_n φ(x_n): the
form of the sufficient statistics of i.i.d. data, invariant under permutations of the events, and
cheap (φ is evaluated once per event of the sample, the summaries of simulated experiments are
means of rows).

* :class:`ScoreSummary` — φ = t̂(x|θ_ref), the learned local score (SALLY): near θ_ref,
  p(x|θ) ≈ p(x|θ_ref) exp[(θ−θ_ref)·t(x)] and Σ_n t(x_n) is sufficient (physics.md §4). With
  ``second_order`` also the products t̂_i t̂_j, whose mean is the observed Fisher information of
  the experiment (how sharp its likelihood is): it lets NPE follow the event-to-event spread of
  the posterior width, which the first-order summary averages away.
* :class:`HistogramSummary` — φ = one-hot bin of a statistic (an observable, or a distilled
  formula given as a function of the observables): s is the normalised histogram.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from physinf.errors import InvalidParameterError, UnknownNameError, did_you_mean
from physinf.simulate.events import EventSample

__all__ = ["HistogramSummary", "ScoreSummary"]


def _columns(x: np.ndarray, features: Sequence[str], wanted: Sequence[str]) -> np.ndarray:
    features = list(features)
    missing = [f for f in wanted if f not in features]
    if missing:
        raise UnknownNameError(f"the summary needs the observables {missing}, the estimator's features are {features}."
                               f"{did_you_mean(missing[0], features)}")
    return x[:, [features.index(f) for f in wanted]]


class ScoreSummary:
    """φ(x) = t̂(x|θ_ref) from a LocalScoreEstimator (trained in ``fit`` unless given trained),
    for the ``coefficients`` named (default: all of the process), plus t̂_i t̂_j with ``second_order``."""

    kind = "score"

    def __init__(self, features: Sequence[str] | None = None, *, coefficients: Sequence[str] | None = None,
                 second_order: bool = True, estimator: Any = None, training: Any = None,
                 hidden: Sequence[int] = (100, 100)) -> None:
        self.features = None if features is None else tuple(features)
        self.coefficients = None if coefficients is None else tuple(coefficients)
        self.second_order = bool(second_order)
        self.estimator, self.training, self.hidden = estimator, training, tuple(hidden)
        self.columns_: np.ndarray | None = None

    def fit(self, sample: EventSample, features: Sequence[str] | None = None) -> ScoreSummary:
        from physinf.learn.score import LocalScoreEstimator
        from physinf.learn.training import TrainingConfig

        if self.features is None:
            if features is None:
                raise InvalidParameterError("ScoreSummary needs the observables its score is learned from (features=[...])")
            self.features = tuple(features)
        if self.estimator is None:
            self.estimator = LocalScoreEstimator(self.features, hidden=self.hidden,
                                                 training=self.training or TrainingConfig(), device="cpu").fit(sample)
        elif getattr(self.estimator, "networks_", None) is None:
            self.estimator.fit(sample)
        names = tuple(self.estimator.coefficients_)
        wanted = names if self.coefficients is None else self.coefficients
        for name in wanted:
            if name not in names:
                raise UnknownNameError(f"the score has no coefficient {name!r}; it has {list(names)}.{did_you_mean(name, names)}")
        self.columns_ = np.array([names.index(n) for n in wanted])
        return self

    @property
    def names(self) -> tuple[str, ...]:
        if self.columns_ is None:
            return ()
        coef = [self.estimator.coefficients_[i] for i in self.columns_]
        out = [f"t_{c}" for c in coef]
        if self.second_order:
            out += [f"t_{a}*t_{b}" for i, a in enumerate(coef) for b in coef[i:]]
        return tuple(out)

    def per_event(self, x: np.ndarray, features: Sequence[str]) -> np.ndarray:
        """φ for each event, (N, k)."""
        if self.columns_ is None:
            raise InvalidParameterError("the summary is not fitted yet: call fit(sample) first")
        t = self.estimator.predict(_columns(x, features, self.estimator.features))[:, self.columns_]
        if not self.second_order:
            return t
        i, j = np.triu_indices(t.shape[1])
        return np.concatenate([t, t[:, i] * t[:, j]], axis=1)


class HistogramSummary:
    """φ(x) = one-hot bin of ``statistic`` (an observable name, or a function of the observables
    {name: column} such as a distilled formula) in ``edges``; values outside fall in the end bins."""

    kind = "histogram"

    def __init__(self, statistic: str | Callable[[Mapping[str, np.ndarray]], np.ndarray], edges: Sequence[float]) -> None:
        edges = np.asarray(edges, dtype=np.float64)
        if edges.ndim != 1 or len(edges) < 3 or not np.all(np.diff(edges) > 0) or not np.all(np.isfinite(edges)):
            raise InvalidParameterError(f"edges must be at least 3 finite, increasing values (2 bins), got {edges.tolist()}")
        if not (isinstance(statistic, str) or callable(statistic)):
            raise InvalidParameterError(f"statistic must be an observable name or a function of the observables, got {statistic!r}")
        self.statistic, self.edges = statistic, edges
        self.columns_ = np.arange(len(edges) - 1)

    def fit(self, sample: EventSample, features: Sequence[str] | None = None) -> HistogramSummary:
        return self

    @property
    def names(self) -> tuple[str, ...]:
        label = self.statistic if isinstance(self.statistic, str) else getattr(self.statistic, "__name__", "statistic")
        return tuple(f"{label}[{a:.3g},{b:.3g})" for a, b in zip(self.edges[:-1], self.edges[1:]))

    def per_event(self, x: np.ndarray, features: Sequence[str]) -> np.ndarray:
        if isinstance(self.statistic, str):
            values = _columns(x, features, [self.statistic])[:, 0]
        else:
            values = np.asarray(self.statistic({f: x[:, i] for i, f in enumerate(features)}), dtype=np.float64)
            if values.shape != (len(x),) or not np.all(np.isfinite(values)):
                raise InvalidParameterError(f"the statistic must return one finite value per event ({len(x)}), got shape {values.shape}")
        bins = np.clip(np.searchsorted(self.edges, values, side="right") - 1, 0, len(self.edges) - 2)
        out = np.zeros((len(x), len(self.edges) - 1))
        out[np.arange(len(x)), bins] = 1.0
        return out
