"""The local score (SALLY): regress the joint score on observables; the minimiser is the score of x.

E_w |g(x) − t(x, z|θ₀)|² is minimised by g(x) = E[t(x, z|θ₀)|x] = t(x|θ₀) (docs/notes/physics.md §4):
the joint score, known exactly per event, is an unbiased noisy label of the score of what the
detector sees. Near θ₀ the score is a sufficient statistic (p(x|θ) ≈ p(x|θ₀) exp[(θ−θ₀)·t(x|θ₀)]).
An ensemble of independently initialised networks gives the mean and its spread as an
uncertainty. Network outputs are scaled by the standard deviation of the training labels.

References: Brehmer, Cranmer, Louppe, Pavez, arXiv:1805.00013, arXiv:1805.00020; MadMiner arXiv:1907.10621.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from physinf.errors import InvalidParameterError
from physinf.learn._common import base_metadata, check_fitted, check_loaded, check_sample, load_state
from physinf.learn.base import resolve_device
from physinf.learn.data import check_inputs, score_data
from physinf.learn.files import load_estimator, save_estimator
from physinf.learn.networks import Standardizer, mlp
from physinf.learn.training import TrainingConfig, TrainingHistory, fit_model, seeded
from physinf.simulate.events import EventSample

__all__ = ["LocalScoreEstimator"]


class _ScoreNet(torch.nn.Module):
    def __init__(self, n_in: int, n_out: int, hidden: Sequence[int], activation: str, mean: np.ndarray,
                 std: np.ndarray, t_scale: np.ndarray) -> None:
        super().__init__()
        self.standardize = Standardizer(mean, std)
        self.body = mlp(n_in, n_out, hidden, activation)
        self.register_buffer("t_scale", torch.tensor(np.asarray(t_scale, np.float64), dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.standardize(x)) * self.t_scale


def _score_loss(net: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.mean(batch["w"] * torch.sum((net(batch["x"]) - batch["t"]) ** 2, dim=1))


@dataclass(frozen=True)
class _MemberSpec:
    """What one ensemble member's training needs besides the data (picklable, for cluster tasks)."""

    n_in: int
    n_out: int
    hidden: tuple[int, ...]
    activation: str
    mean: np.ndarray
    std: np.ndarray
    t_scale: np.ndarray
    training: TrainingConfig
    n_members: int


def _train_member(shared: tuple[dict[str, np.ndarray], _MemberSpec], m: int, device: Any) -> tuple[_ScoreNet, TrainingHistory]:
    """Member m: initialised and trained from its own seed (training.seed + 1000 m) only."""
    data, spec = shared
    seed = spec.training.seed + 1000 * m
    with seeded(seed):
        net = _ScoreNet(spec.n_in, spec.n_out, spec.hidden, spec.activation, spec.mean, spec.std, spec.t_scale)
    config = TrainingConfig(**{**asdict(spec.training), "seed": seed})
    history = fit_model(net, _score_loss, data, config, device, description=f"SALLY member {m + 1}/{spec.n_members}")
    return net, history


def _train_member_task(shared: tuple[dict[str, np.ndarray], _MemberSpec], m: int) -> tuple[dict, TrainingHistory]:
    """A cluster task: member m on the worker's CPU, returned as a state dict (plain tensors)."""
    training = replace(shared[1].training, progress=False)
    net, history = _train_member((shared[0], replace(shared[1], training=training)), m, torch.device("cpu"))
    return {k: v.cpu() for k, v in net.state_dict().items()}, history


def _load_member(spec: _MemberSpec, state: dict) -> _ScoreNet:
    net = _ScoreNet(spec.n_in, spec.n_out, spec.hidden, spec.activation, spec.mean, spec.std, spec.t_scale)
    net.load_state_dict(state)
    return net.eval()


class LocalScoreEstimator:
    """SALLY: t̂(x|θ_ref) from observables ``features``; ``n_members`` networks averaged.

    ``fit(sample)`` trains on the sample's joint scores at ``theta_ref`` (default: the sample's
    reference point) with the event weights there; ``predict(x)`` returns (N, n_coefficients);
    ``predict_with_uncertainty(x)`` also returns the ensemble spread (standard deviation of the
    members, the uncertainty of one member's prediction; that of the mean is smaller by sqrt(n))."""

    kind = "LocalScoreEstimator"

    def __init__(self, features: Sequence[str], *, theta_ref: Sequence[float] | None = None,
                 hidden: Sequence[int] = (100, 100), activation: str = "tanh", n_members: int = 1,
                 training: TrainingConfig = TrainingConfig(), device: str = "auto") -> None:  # noqa: B008
        self.features = tuple(str(f) for f in features)
        if not self.features:
            raise InvalidParameterError("features must name at least one observable")
        if isinstance(n_members, bool) or not isinstance(n_members, int) or n_members < 1:
            raise InvalidParameterError(f"n_members must be a positive integer, got {n_members!r}")
        self.theta_ref = None if theta_ref is None else tuple(float(t) for t in theta_ref)
        self.hidden, self.activation, self.n_members = tuple(int(h) for h in hidden), activation, n_members
        self.training, self.device = training, device
        self.networks_: list[_ScoreNet] | None = None
        self.process_: str | None = None
        self.coefficients_: tuple[str, ...] = ()
        self.histories_: list[TrainingHistory] = []

    # ------------------------------------------------------------------ training
    def fit(self, sample: EventSample, *, scheduler: Any = None) -> LocalScoreEstimator:
        """Train the members in turn, or, with ``scheduler`` (a dask.distributed Client or scheduler
        address), as parallel tasks on that cluster (the same networks: each member's seed fixes it)."""
        data = score_data(sample, self.features, None if self.theta_ref is None else np.asarray(self.theta_ref))
        mean = np.average(data["x"], axis=0, weights=data["w"])
        std = np.sqrt(np.average((data["x"] - mean) ** 2, axis=0, weights=data["w"]))
        t_scale = np.sqrt(np.average(data["t"] ** 2, axis=0, weights=data["w"]))
        spec = _MemberSpec(len(self.features), data["t"].shape[1], self.hidden, self.activation, mean,
                           np.where(std > 0, std, 1.0), np.where(t_scale > 0, t_scale, 1.0), self.training, self.n_members)
        if scheduler is None:
            device = resolve_device(self.device)
            trained = [_train_member((data, spec), m, device) for m in range(self.n_members)]
        else:
            from physinf.simulate.parallel import map_on_cluster

            trained = map_on_cluster(_train_member_task, list(range(self.n_members)), scheduler, shared=(data, spec),
                                     purpose="training ensemble members on a dask cluster")
            trained = [(_load_member(spec, state), history) for state, history in trained]
        self.networks_ = [net.to(resolve_device(self.device)) for net, _ in trained]
        self.histories_ = [history for _, history in trained]
        self.process_, self.coefficients_ = sample.process, tuple(sample.coefficients)
        if self.theta_ref is None:
            self.theta_ref = tuple(float(t) for t in sample.theta_ref)
        return self

    # ------------------------------------------------------------------ prediction
    def predict_members(self, x: np.ndarray) -> np.ndarray:
        """Each member's score, shape (n_members, N, n_coefficients)."""
        check_fitted(self)
        x = check_inputs(x, self.features)
        out = []
        with torch.no_grad():
            for net in self.networks_:
                dev = next(net.parameters()).device
                parts = [net(torch.tensor(x[lo : lo + 65536], dtype=torch.float32, device=dev)).cpu().numpy()
                         for lo in range(0, len(x), 65536)]
                out.append(np.concatenate(parts) if parts else np.zeros((0, len(self.coefficients_))))
        return np.stack(out).astype(np.float64)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The estimated score t̂(x|θ_ref), shape (N, n_coefficients) (ensemble mean)."""
        return self.predict_members(x).mean(axis=0)

    def predict_with_uncertainty(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean, spread) over the ensemble; the spread is 0 for a single member."""
        members = self.predict_members(x)
        spread = members.std(axis=0, ddof=1) if len(members) > 1 else np.zeros_like(members[0])
        return members.mean(axis=0), spread

    def predict_sample(self, sample: EventSample) -> np.ndarray:
        """predict() on a sample's observables, after checking process and features."""
        check_fitted(self)
        check_sample(self, sample)
        return self.predict(np.stack([sample.observables[f] for f in self.features], axis=1))

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> Path:
        check_fitted(self)
        metadata = base_metadata(self) | {
            "theta_ref": list(self.theta_ref), "hidden": list(self.hidden), "activation": self.activation,
            "n_members": self.n_members, "training": asdict(self.training),
            "histories": [h.to_dict() for h in self.histories_],
        }
        state = {f"member{m}": net.state_dict() for m, net in enumerate(self.networks_)}
        return save_estimator(path, self.kind, metadata, state)

    @classmethod
    def load(cls, path: str | os.PathLike, *, features: Sequence[str] | None = None, process: str | None = None,
             device: str = "auto") -> LocalScoreEstimator:
        """Rebuild a saved estimator; ``features``/``process`` (optional) must match the file's."""
        metadata, state = load_estimator(path, cls.kind)
        check_loaded(path, metadata, features, process)
        est = cls(metadata["features"], theta_ref=metadata["theta_ref"], hidden=metadata["hidden"],
                  activation=metadata["activation"], n_members=metadata["n_members"],
                  training=TrainingConfig(**metadata["training"]), device=device)
        dev = resolve_device(device)
        n_out = len(metadata["coefficients"])
        nets = []
        for m in range(est.n_members):
            net = _ScoreNet(len(est.features), n_out, est.hidden, est.activation, np.zeros(len(est.features)),
                            np.ones(len(est.features)), np.ones(n_out))
            load_state(net, state.get(f"member{m}"), path)
            nets.append(net.to(dev).eval())
        est.networks_, est.process_, est.coefficients_ = nets, metadata["process"], tuple(metadata["coefficients"])
        est.histories_ = [TrainingHistory(**h) for h in metadata.get("histories", [])]
        return est
