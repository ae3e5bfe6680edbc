"""Pieces every estimator class shares: metadata checks on load, compatibility with a sample."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from physinf._version import __version__
from physinf.learn.errors import EstimatorFileError, NotFittedError
from physinf.simulate.events import EventSample

__all__ = ["base_metadata", "check_fitted", "check_loaded", "check_sample", "load_state"]


def check_fitted(estimator: Any) -> None:
    if getattr(estimator, "networks_", None) is None:
        raise NotFittedError(f"{type(estimator).__name__} is not trained yet: call fit(sample) or load(path) first")


def check_sample(estimator: Any, sample: EventSample) -> None:
    """The sample must come from the process and carry the features the estimator was trained on."""
    process = getattr(estimator, "process_", None)
    if process is not None and sample.process != process:
        raise EstimatorFileError(f"the estimator was trained on process {process!r}, the sample is {sample.process!r}")
    missing = [f for f in estimator.features if f not in sample.observables]
    if missing:
        raise EstimatorFileError(f"the sample lacks the estimator's features {missing}; it was trained on {list(estimator.features)}")


def base_metadata(estimator: Any) -> dict[str, Any]:
    return {"features": list(estimator.features), "process": estimator.process_,
            "coefficients": list(estimator.coefficients_), "physinf_version": __version__}


def check_loaded(path: Any, metadata: dict[str, Any], features: Sequence[str] | None, process: str | None) -> None:
    """Refuse a file whose features or process differ from what the caller expects."""
    if features is not None and list(features) != list(metadata.get("features", [])):
        raise EstimatorFileError(f"{path} was trained on features {metadata.get('features')}, not {list(features)}")
    if process is not None and process != metadata.get("process"):
        raise EstimatorFileError(f"{path} was trained on process {metadata.get('process')!r}, not {process!r}")


def load_state(net: Any, state: Any, path: Any) -> None:
    """Load stored weights into a network built from the file's metadata, or refuse clearly."""
    try:
        net.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as err:
        raise EstimatorFileError(f"{path}: the stored weights do not fit the network described in its metadata ({err})") from err
