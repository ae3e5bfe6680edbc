"""Training data straight from an EventSample: features, weights, joint scores and ratios.

Choice (stated once, for every estimator): **weighted losses, no unweighting**. Every event keeps
its weight w_n(θ) = Σ_c f_c(θ) w_nc at whatever θ a loss needs; weights are normalised to mean 1
over the training rows, so the mean loss is the expectation under p(x, z|θ). Unweighting would
throw away events (efficiency ~ <w>/max w, a few per cent for WBF) and duplicate heavy ones.
The likelihood-ratio data need no θ sampling of events either: each event enters both
hypotheses with its exact normalised weights p_n(θ₀) and p_n(θ₁); only θ₀ is drawn per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from physinf.errors import InvalidParameterError, UnknownNameError, did_you_mean
from physinf.simulate.events import EventSample

__all__ = ["RatioData", "check_inputs", "feature_matrix", "positive_weights", "ratio_data", "score_data"]


def feature_matrix(sample: EventSample, features: Sequence[str]) -> np.ndarray:
    """The named observables of a sample as an (N, d) float64 array, checked finite."""
    features = list(features)
    if not features or len(set(features)) != len(features):
        raise InvalidParameterError(f"features must be a non-empty list of distinct observable names, got {features}")
    for name in features:
        if name not in sample.observables:
            known = sorted(sample.observables)
            raise UnknownNameError(f"the sample has no observable {name!r}; it has {known}.{did_you_mean(name, known)}")
    x = np.stack([sample.observables[name] for name in features], axis=1).astype(np.float64)
    return check_inputs(x, features)


def check_inputs(x: np.ndarray, features: Sequence[str]) -> np.ndarray:
    """Observables passed to predict: shape (N, len(features)) and finite, or a clear error."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1 and len(features) == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != len(features):
        raise InvalidParameterError(f"observables must have shape (N, {len(features)}) for the features {list(features)}, got {x.shape}")
    bad = ~np.isfinite(x)
    if bad.any():
        col = int(np.argmax(bad.any(axis=0)))
        raise InvalidParameterError(
            f"{int(bad.any(axis=1).sum())} events have non-finite values (NaN/inf), e.g. in feature {features[col]!r}; "
            "remove or repair them first"
        )
    return x


def positive_weights(sample: EventSample, theta: np.ndarray) -> np.ndarray:
    """Event weights at theta, normalised to mean 1; refused if any is negative or all vanish."""
    w = sample.weights(theta)
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise InvalidParameterError(
            f"event weights at theta = {np.round(theta, 6).tolist()} are negative, zero or not finite for "
            f"{int(np.sum(~(w >= 0)))} events; choose a reference point where the rate is positive everywhere"
        )
    return w / w.mean()


def _require_coefficients(sample: EventSample, method: str) -> None:
    if len(sample.coefficients) == 0:
        raise InvalidParameterError(
            f"{method} needs joint scores, but the sample's process {sample.process!r} has no Wilson coefficients "
            "(its events carry no morphing components); generate or import a sample with coefficients"
        )


def score_data(sample: EventSample, features: Sequence[str], theta: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """SALLY rows: observables x, joint score t(x, z|θ) (N, n) and normalised weights w(θ)."""
    _require_coefficients(sample, "the local score (SALLY)")
    theta = sample._theta(theta)
    t = sample.joint_score(theta)
    if not np.all(np.isfinite(t)):
        raise InvalidParameterError("the sample's joint scores are not finite at theta; check its weights")
    return {"x": feature_matrix(sample, features), "t": t, "w": positive_weights(sample, theta)}


@dataclass(frozen=True)
class RatioData:
    """Rows for parameterised ratio estimators r(x|θ₀, θ₁): each event repeated for ``n_theta``
    draws of θ₀; p0, p1 the event's normalised weights under θ₀ and θ₁ (mean 1 per θ), r the
    exact joint ratio p(x, z|θ₀)/p(x, z|θ₁), t0 the joint score at θ₀."""

    x: np.ndarray
    theta0: np.ndarray
    p0: np.ndarray
    p1: np.ndarray
    r: np.ndarray
    t0: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        return {"x": self.x, "theta0": self.theta0, "p0": self.p0, "p1": self.p1, "r": self.r, "t0": self.t0}


def ratio_data(sample: EventSample, features: Sequence[str], theta1: np.ndarray, low: np.ndarray, high: np.ndarray,
               n_theta: int, rng: np.random.Generator) -> RatioData:
    """θ₀ drawn uniformly in the box [low, high] (n_theta draws per event); θ₁ fixed (the reference)."""
    _require_coefficients(sample, "ratio estimators")
    x = feature_matrix(sample, features)
    n_events, n_coef = len(sample), len(sample.coefficients)
    theta1 = sample._theta(theta1)
    p1 = positive_weights(sample, theta1)
    thetas = rng.uniform(low, high, size=(n_theta, n_coef))
    rows = {k: [] for k in ("theta0", "p0", "r", "t0")}
    for th in thetas:
        w0 = sample.weights(th)
        if np.any(w0 < 0):
            raise InvalidParameterError(
                f"event weights are negative at theta0 = {th.tolist()} inside the box [{low}, {high}]; the polynomial "
                "is not a density there: narrow the box"
            )
        p0 = w0 / w0.mean()
        rows["theta0"].append(np.broadcast_to(th, (n_events, n_coef)))
        rows["p0"].append(p0)
        rows["r"].append(sample.joint_ratio(th, theta1))
        rows["t0"].append(sample.joint_score(th))
    return RatioData(np.tile(x, (n_theta, 1)), np.concatenate(rows["theta0"]), np.concatenate(rows["p0"]),
                     np.tile(p1, n_theta), np.concatenate(rows["r"]), np.concatenate(rows["t0"]))
