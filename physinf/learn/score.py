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
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from physinf.learn._common import base_metadata, check_fitted, check_loaded, check_sample, load_state
from physinf.learn.base import resolve_device
from physinf.learn.data import check_inputs, score_data
from physinf.learn.files import load_estimator, save_estimator
from physinf.learn.networks import Standardizer, mlp
from physinf.learn.training import TrainingConfig, TrainingHistory, fit_model, seeded
from physinf.errors import InvalidParameterError
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
    def fit(self, sample: EventSample) -> LocalScoreEstimator:
        data = score_data(sample, self.features, None if self.theta_ref is None else np.asarray(self.theta_ref))
        device = resolve_device(self.device)
        mean = np.average(data["x"], axis=0, weights=data["w"])
        std = np.sqrt(np.average((data["x"] - mean) ** 2, axis=0, weights=data["w"]))
        t_scale = np.sqrt(np.average(data["t"] ** 2, axis=0, weights=data["w"]))
        nets, histories = [], []
        for m in range(self.n_members):
            seed = self.training.seed + 1000 * m
            with seeded(seed):
                net = _ScoreNet(len(self.features), data["t"].shape[1], self.hidden, self.activation, mean,
                                np.where(std > 0, std, 1.0), np.where(t_scale > 0, t_scale, 1.0))
            config = TrainingConfig(**{**asdict(self.training), "seed": seed})
            histories.append(fit_model(net, _score_loss, data, config, device, description=f"SALLY member {m + 1}/{self.n_members}"))
            nets.append(net)
        self.networks_, self.histories_ = nets, histories
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
