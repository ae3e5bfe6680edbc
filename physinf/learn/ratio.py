"""Likelihood-ratio estimators r̂(x|θ₀, θ₁) = p(x|θ₀)/p(x|θ₁) for Wilson coefficients.

Parameterised in θ₀ (one network g(x, θ); log r̂(x|θ₀, θ_ref) = g(x, θ₀) − g(x, θ_ref), so the ratio
is exactly 1 at the reference point and r̂(x|θ₀, θ₁) = r̂(x|θ₀, θ_ref)/r̂(x|θ₁, θ_ref)), trained with
one of the losses of docs/notes/physics.md §6 on the rows of :func:`physinf.learn.data.ratio_data`
(θ₀ drawn in a box, θ₁ = θ_ref; every event weighted exactly under both hypotheses):

* ``carl``: the classic classifier. Events are resampled from their weights into two unweighted
  classes (θ₀: y = 0, θ₁: y = 1) with hard labels; cross entropy of ŝ = 1/(1 + r̂).
* ``alices``: the improved cross entropy with the soft target s(x, z) = 1/(1 + r(x, z)) from the exact
  joint ratio (with exact weights for both classes this is the weighted mixture
  p₀ softplus(−log r̂) + p₁ softplus(log r̂)), plus α × the MSE of the score
  t̂(x|θ₀) = ∇_θ₀ log r̂ against the joint score t(x, z|θ₀) on θ₀ events.
* ``rascal``: regression of r̂ on the joint ratio (θ₀ events) and of 1/r̂ on 1/r (θ₁ events), plus
  the same score term. Squared errors in r are dominated by the rare events with huge joint ratios
  (WBF, θ₀ in [−1, 1]²: |log r| > 5 for 0.15 % of the θ₀-weighted rows, up to |log r| ≈ 12), so
  log r and log r̂ are clipped at ±``log_r_clip`` (default 5) in that loss, as MadMiner clips at ±10.

:class:`QuadraticRatioEstimator` is polynomial in θ by construction (Chen, Glioti, Panico, Wulzer,
arXiv:2007.10356): dσ(x|θ)/dσ(x|SM) = vᵀ L(x) L(x)ᵀ v with v = (1, θ) and L lower triangular with
L₀₀ = 1 (a sum of squares: positive for every θ), one network output per morphing component beyond
the SM; trained from the morphing weights without drawing θ: the per-event component ratios
w_c/w_SM are unbiased labels of their conditional means given x (regressed with the SM weights).

References: Cranmer, Pavez, Louppe arXiv:1506.02169 (CARL); Brehmer et al. arXiv:1805.00013,
arXiv:1805.12244 (ALICES, RASCAL); Chen et al. arXiv:2007.10356; MadMiner arXiv:1907.10621.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from physinf.errors import InvalidParameterError
from physinf.learn._common import base_metadata, check_fitted, check_loaded, check_sample, load_state
from physinf.learn.base import resolve_device
from physinf.learn.data import check_inputs, feature_matrix, ratio_data
from physinf.learn.files import load_estimator, save_estimator
from physinf.learn.networks import Standardizer, mlp
from physinf.learn.training import TrainingConfig, TrainingHistory, fit_model, seeded
from physinf.simulate.events import EventSample
from theory.morphing import monomial_values, monomials

__all__ = ["RATIO_METHODS", "ParameterizedRatioEstimator", "QuadraticRatioEstimator"]

RATIO_METHODS = ("carl", "alices", "rascal")


def _as_theta_rows(theta: Any, n_rows: int, n_coef: int) -> np.ndarray:
    th = np.asarray(theta, dtype=np.float64)
    if th.shape == (n_coef,):
        return np.broadcast_to(th, (n_rows, n_coef))
    if th.shape == (n_rows, n_coef):
        return th
    raise InvalidParameterError(f"theta must have shape ({n_coef},) or ({n_rows}, {n_coef}), got {th.shape}")


def _rows_to_tensors(x: np.ndarray, theta: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    return (torch.tensor(x, dtype=torch.float32, device=device), torch.tensor(theta, dtype=torch.float32, device=device))


# ---------------------------------------------------------------------------- parameterised ratio
class _ParamNet(torch.nn.Module):
    """g(x, θ) on standardised x and θ; log r̂(x|θ, θ_ref) = g(x, θ) − g(x, θ_ref)."""

    def __init__(self, n_x: int, n_theta: int, hidden: Sequence[int], activation: str, mean: np.ndarray,
                 std: np.ndarray, theta_center: np.ndarray, theta_scale: np.ndarray, theta_ref: np.ndarray) -> None:
        super().__init__()
        self.standardize = Standardizer(mean, std)
        self.theta_standardize = Standardizer(theta_center, theta_scale)
        self.body = mlp(n_x + n_theta, 1, hidden, activation)
        self.register_buffer("theta_ref", torch.tensor(theta_ref, dtype=torch.float32))

    def g(self, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([self.standardize(x), self.theta_standardize(theta)], dim=1))[:, 0]

    def forward(self, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        return self.g(x, theta) - self.g(x, self.theta_ref.expand_as(theta))


def _score_term(net: _ParamNet, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """log r̂ and the squared error of its θ-gradient against the joint score t(x, z|θ₀)."""
    theta = batch["theta0"].detach().requires_grad_(True)
    f = net(batch["x"], theta)
    (grad,) = torch.autograd.grad(f.sum(), theta, create_graph=True)
    return f, torch.sum((grad - batch["t0"]) ** 2, dim=1)


class ParameterizedRatioEstimator:
    """log r̂(x|θ₀, θ₁) for θ₀ in the box [theta_low, theta_high]; method "carl", "alices" or "rascal"."""

    kind = "ParameterizedRatioEstimator"

    def __init__(self, features: Sequence[str], *, theta_low: Sequence[float], theta_high: Sequence[float],
                 method: str = "alices", n_theta: int = 10, alpha: float = 1.0, log_r_clip: float = 5.0,
                 hidden: Sequence[int] = (100, 100),
                 activation: str = "tanh", training: TrainingConfig = TrainingConfig(),  # noqa: B008
                 device: str = "auto") -> None:
        if method not in RATIO_METHODS:
            from physinf.errors import did_you_mean

            raise InvalidParameterError(f"unknown ratio method {method!r}; choose one of {RATIO_METHODS}.{did_you_mean(method, RATIO_METHODS)}")
        self.features = tuple(str(f) for f in features)
        self.theta_low = np.asarray(theta_low, dtype=np.float64)
        self.theta_high = np.asarray(theta_high, dtype=np.float64)
        if self.theta_low.shape != self.theta_high.shape or self.theta_low.ndim != 1 or np.any(self.theta_high < self.theta_low):
            raise InvalidParameterError(f"theta_low {self.theta_low} and theta_high {self.theta_high} must be equal-length with low <= high")
        if isinstance(n_theta, bool) or not isinstance(n_theta, int) or n_theta < 1:
            raise InvalidParameterError(f"n_theta must be a positive integer, got {n_theta!r}")
        if alpha < 0:
            raise InvalidParameterError(f"alpha (weight of the score term) must be >= 0, got {alpha}")
        if not log_r_clip > 0:
            raise InvalidParameterError(f"log_r_clip must be positive, got {log_r_clip}")
        self.method, self.n_theta, self.alpha, self.log_r_clip = method, n_theta, float(alpha), float(log_r_clip)
        self.hidden, self.activation, self.training, self.device = tuple(int(h) for h in hidden), activation, training, device
        self.networks_: list[_ParamNet] | None = None
        self.process_: str | None = None
        self.coefficients_: tuple[str, ...] = ()
        self.theta_ref_: np.ndarray | None = None
        self.histories_: list[TrainingHistory] = []

    # ------------------------------------------------------------------ training
    def _loss(self, net: _ParamNet, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        if self.method == "carl":
            f = net(batch["x"], batch["theta0"])
            y = batch["y"]
            return torch.mean(y * torch.nn.functional.softplus(f) + (1 - y) * torch.nn.functional.softplus(-f))
        f, score_sq = _score_term(net, batch)
        p0, p1 = batch["p0"], batch["p1"]
        if self.method == "alices":
            main = 0.5 * (p0 * torch.nn.functional.softplus(-f) + p1 * torch.nn.functional.softplus(f))
        else:  # rascal
            f_c = torch.clamp(f, -self.log_r_clip, self.log_r_clip)
            log_r = torch.clamp(torch.log(batch["r"]), -self.log_r_clip, self.log_r_clip)
            main = 0.5 * (p0 * (torch.exp(f_c) - torch.exp(log_r)) ** 2 + p1 * (torch.exp(-f_c) - torch.exp(-log_r)) ** 2)
        return torch.mean(main + self.alpha * p0 * score_sq)

    def _rows(self, sample: EventSample, rng: np.random.Generator) -> dict[str, np.ndarray]:
        data = ratio_data(sample, self.features, sample.theta_ref, self.theta_low, self.theta_high, self.n_theta, rng).arrays()
        if self.method != "carl":
            return data
        # unweighted classes with hard labels: rows resampled from their weights under each hypothesis
        n = len(data["p0"])
        idx0 = rng.choice(n, size=n, p=data["p0"] / data["p0"].sum())
        idx1 = rng.choice(n, size=n, p=data["p1"] / data["p1"].sum())
        both = np.concatenate([idx0, idx1])
        return {"x": data["x"][both], "theta0": data["theta0"][both], "y": np.r_[np.zeros(n), np.ones(n)]}

    def fit(self, sample: EventSample) -> ParameterizedRatioEstimator:
        if self.theta_low.shape != (len(sample.coefficients),):
            raise InvalidParameterError(
                f"the theta box has {len(self.theta_low)} dimensions, the sample's process has coefficients {list(sample.coefficients)}"
            )
        rng = np.random.default_rng(self.training.seed)
        rows = self._rows(sample, rng)
        device = resolve_device(self.device)
        x = feature_matrix(sample, self.features)
        w = sample.weights()
        mean = np.average(x, axis=0, weights=w)
        std = np.sqrt(np.average((x - mean) ** 2, axis=0, weights=w))
        center = 0.5 * (self.theta_low + self.theta_high)
        half = np.maximum(0.5 * (self.theta_high - self.theta_low), 1e-12)
        with seeded(self.training.seed):
            net = _ParamNet(len(self.features), len(center), self.hidden, self.activation, mean, np.where(std > 0, std, 1.0),
                            center, np.where(half > 1e-12, half, 1.0), np.asarray(sample.theta_ref))
        history = fit_model(net, self._loss, rows, self.training, device, description=f"ratio ({self.method})")
        self.networks_, self.histories_ = [net], [history]
        self.process_, self.coefficients_ = sample.process, tuple(sample.coefficients)
        self.theta_ref_ = np.asarray(sample.theta_ref, dtype=np.float64)
        return self

    # ------------------------------------------------------------------ prediction
    def _f(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
        net = self.networks_[0]
        dev = next(net.parameters()).device
        with torch.no_grad():
            out = [net(*_rows_to_tensors(x[lo : lo + 65536], theta[lo : lo + 65536], dev)).cpu().numpy()
                   for lo in range(0, len(x), 65536)]
        return np.concatenate(out).astype(np.float64) if out else np.zeros(0)

    def log_ratio(self, x: np.ndarray, theta0: Any, theta1: Any = None) -> np.ndarray:
        """log r̂(x|θ₀, θ₁) for each event; θ₁ defaults to the reference point; θ of shape (n,) or (N, n)."""
        check_fitted(self)
        x = check_inputs(x, self.features)
        n_coef = len(self.coefficients_)
        out = self._f(x, _as_theta_rows(theta0, len(x), n_coef))
        if theta1 is not None:
            out = out - self._f(x, _as_theta_rows(theta1, len(x), n_coef))
        return out

    def predict(self, x: np.ndarray, theta0: Any) -> np.ndarray:
        """log r̂(x|θ₀, θ_ref) (the Estimator protocol's predict)."""
        return self.log_ratio(x, theta0)

    def score(self, x: np.ndarray, theta: Any = None) -> np.ndarray:
        """t̂(x|θ) = ∇_θ log r̂(x|θ, θ_ref), shape (N, n); θ defaults to the reference point."""
        check_fitted(self)
        x = check_inputs(x, self.features)
        theta = _as_theta_rows(self.theta_ref_ if theta is None else theta, len(x), len(self.coefficients_))
        net = self.networks_[0]
        dev = next(net.parameters()).device
        out = []
        for lo in range(0, len(x), 65536):
            xt, tt = _rows_to_tensors(x[lo : lo + 65536], theta[lo : lo + 65536], dev)
            tt.requires_grad_(True)
            (grad,) = torch.autograd.grad(net(xt, tt).sum(), tt)
            out.append(grad.cpu().numpy())
        return np.concatenate(out).astype(np.float64)

    def predict_sample(self, sample: EventSample, theta0: Any) -> np.ndarray:
        check_fitted(self)
        check_sample(self, sample)
        return self.log_ratio(np.stack([sample.observables[f] for f in self.features], axis=1), theta0)

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> Path:
        check_fitted(self)
        metadata = base_metadata(self) | {
            "method": self.method, "theta_low": self.theta_low.tolist(), "theta_high": self.theta_high.tolist(),
            "theta_ref": self.theta_ref_.tolist(), "n_theta": self.n_theta, "alpha": self.alpha, "log_r_clip": self.log_r_clip, "hidden": list(self.hidden),
            "activation": self.activation, "training": asdict(self.training),
            "histories": [h.to_dict() for h in self.histories_],
        }
        return save_estimator(path, self.kind, metadata, {"net": self.networks_[0].state_dict()})

    @classmethod
    def load(cls, path: str | os.PathLike, *, features: Sequence[str] | None = None, process: str | None = None,
             device: str = "auto") -> ParameterizedRatioEstimator:
        metadata, state = load_estimator(path, cls.kind)
        check_loaded(path, metadata, features, process)
        est = cls(metadata["features"], theta_low=metadata["theta_low"], theta_high=metadata["theta_high"],
                  method=metadata["method"], n_theta=metadata["n_theta"], alpha=metadata["alpha"],
                  log_r_clip=metadata["log_r_clip"],
                  hidden=metadata["hidden"], activation=metadata["activation"],
                  training=TrainingConfig(**metadata["training"]), device=device)
        n_x, n_t = len(est.features), len(est.theta_low)
        net = _ParamNet(n_x, n_t, est.hidden, est.activation, np.zeros(n_x), np.ones(n_x), np.zeros(n_t), np.ones(n_t),
                        np.asarray(metadata["theta_ref"]))
        load_state(net, state.get("net"), path)
        est.networks_ = [net.to(resolve_device(device)).eval()]
        est.process_, est.coefficients_ = metadata["process"], tuple(metadata["coefficients"])
        est.theta_ref_ = np.asarray(metadata["theta_ref"], dtype=np.float64)
        est.histories_ = [TrainingHistory(**h) for h in metadata.get("histories", [])]
        return est


# ---------------------------------------------------------------------------- quadratic (EFT-structured)
def _quadratic_index(powers: np.ndarray) -> list[tuple[int, int, float]]:
    """For each monomial beyond the SM: (a, b, factor) with ρ_c = factor × Q_ab, Q = L Lᵀ over v = (1, θ)."""
    out = []
    for k in powers[1:]:
        idx = [i + 1 for i, e in enumerate(k) for _ in range(int(e))]
        a, b = (0, idx[0]) if len(idx) == 1 else (idx[0], idx[1])
        out.append((a, b, 1.0 if a == b else 2.0))
    return out


class _QuadNet(torch.nn.Module):
    """x -> L(x), lower triangular (n+1)x(n+1) with L₀₀ = 1; R(x, θ) = |Lᵀ v|², v = (1, θ)."""

    def __init__(self, n_x: int, n_coef: int, hidden: Sequence[int], activation: str, mean: np.ndarray, std: np.ndarray) -> None:
        super().__init__()
        self.n = n_coef + 1
        self.standardize = Standardizer(mean, std)
        rows, cols = np.tril_indices(self.n)
        keep = ~((rows == 0) & (cols == 0))
        self.register_buffer("rows", torch.tensor(rows[keep]))
        self.register_buffer("cols", torch.tensor(cols[keep]))
        self.body = mlp(n_x, int(keep.sum()), hidden, activation)

    def lower(self, x: torch.Tensor) -> torch.Tensor:
        entries = self.body(self.standardize(x))
        L = torch.zeros(x.shape[0], self.n, self.n, dtype=entries.dtype, device=entries.device)
        L[:, 0, 0] = 1.0
        L[:, self.rows, self.cols] = entries
        return L

    def quadratic_form(self, x: torch.Tensor) -> torch.Tensor:
        L = self.lower(x)
        return L @ L.transpose(1, 2)

    def forward(self, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """R(x, θ) = dσ(x|θ)/dσ(x|SM), positive by construction."""
        v = torch.cat([torch.ones_like(theta[:, :1]), theta], dim=1)
        return torch.einsum("ni,nij,nj->n", v, self.quadratic_form(x), v)


class QuadraticRatioEstimator:
    """The EFT-structured ratio: dσ(x|θ)/dσ(x|SM) as a positive quadratic form in θ (dimension 6)."""

    kind = "QuadraticRatioEstimator"

    def __init__(self, features: Sequence[str], *, hidden: Sequence[int] = (100, 100), activation: str = "tanh",
                 training: TrainingConfig = TrainingConfig(), device: str = "auto") -> None:  # noqa: B008
        self.features = tuple(str(f) for f in features)
        self.hidden, self.activation, self.training, self.device = tuple(int(h) for h in hidden), activation, training, device
        self.networks_: list[_QuadNet] | None = None
        self.process_: str | None = None
        self.coefficients_: tuple[str, ...] = ()
        self.sigma_components_: np.ndarray | None = None
        self.histories_: list[TrainingHistory] = []

    def fit(self, sample: EventSample) -> QuadraticRatioEstimator:
        n_coef = len(sample.coefficients)
        if n_coef == 0 or sample.powers.shape != monomials(n_coef, 2).shape or not np.array_equal(sample.powers, monomials(n_coef, 2)):
            raise InvalidParameterError(
                "the quadratic ratio estimator needs a sample whose weights are full degree-2 polynomials in its "
                f"coefficients (dimension-6 squared); this one has monomials {sample.powers.tolist()}"
            )
        w_sm = sample.weight_components[:, 0]
        if np.any(w_sm <= 0):
            raise InvalidParameterError(f"{int(np.sum(w_sm <= 0))} events have SM weight <= 0; the SM rate must be positive")
        x = feature_matrix(sample, self.features)
        rho = sample.weight_components[:, 1:] / w_sm[:, None]
        w = w_sm / w_sm.mean()
        scale = np.sqrt(np.average(rho**2, axis=0, weights=w))
        mean = np.average(x, axis=0, weights=w)
        std = np.sqrt(np.average((x - mean) ** 2, axis=0, weights=w))
        index = _quadratic_index(sample.powers)
        a = torch.tensor([i for i, _, _ in index])
        b = torch.tensor([j for _, j, _ in index])
        factor = torch.tensor([f for _, _, f in index], dtype=torch.float32)
        inv_scale = torch.tensor(1.0 / np.where(scale > 0, scale, 1.0), dtype=torch.float32)
        device = resolve_device(self.device)

        def loss(net: _QuadNet, batch: dict[str, torch.Tensor]) -> torch.Tensor:
            Q = net.quadratic_form(batch["x"])
            rho_hat = Q[:, a.to(Q.device), b.to(Q.device)] * factor.to(Q.device)
            return torch.mean(batch["w"] * torch.sum(((rho_hat - batch["rho"]) * inv_scale.to(Q.device)) ** 2, dim=1))

        with seeded(self.training.seed):
            net = _QuadNet(len(self.features), n_coef, self.hidden, self.activation, mean, np.where(std > 0, std, 1.0))
        history = fit_model(net, loss, {"x": x, "rho": rho, "w": w}, self.training, device, description="quadratic ratio")
        self.networks_, self.histories_ = [net], [history]
        self.process_, self.coefficients_ = sample.process, tuple(sample.coefficients)
        self.sigma_components_ = np.asarray(sample.sigma_components, dtype=np.float64)
        return self

    def _log_R(self, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
        net = self.networks_[0]
        dev = next(net.parameters()).device
        with torch.no_grad():
            out = [torch.log(net(*_rows_to_tensors(x[lo : lo + 65536], theta[lo : lo + 65536], dev))).cpu().numpy()
                   for lo in range(0, len(x), 65536)]
        return np.concatenate(out).astype(np.float64)

    def _log_sigma(self, theta: np.ndarray) -> np.ndarray:
        powers = monomials(len(self.coefficients_), 2)
        return np.log(monomial_values(powers, theta) @ self.sigma_components_)

    def log_ratio(self, x: np.ndarray, theta0: Any, theta1: Any = None) -> np.ndarray:
        """log r̂(x|θ₀, θ₁) = log R(x, θ₀) − log R(x, θ₁) − log σ(θ₀) + log σ(θ₁) (θ₁ default: the SM)."""
        check_fitted(self)
        x = check_inputs(x, self.features)
        n = len(self.coefficients_)
        t0 = _as_theta_rows(theta0, len(x), n)
        t1 = _as_theta_rows(np.zeros(n) if theta1 is None else theta1, len(x), n)
        return self._log_R(x, t0) - self._log_R(x, t1) - self._log_sigma(t0) + self._log_sigma(t1)

    def predict(self, x: np.ndarray, theta0: Any) -> np.ndarray:
        """log r̂(x|θ₀, SM)."""
        return self.log_ratio(x, theta0)

    def component_ratios(self, x: np.ndarray) -> np.ndarray:
        """ρ̂_c(x) = E[w_c/w_SM | x] for every monomial beyond the SM, (N, C − 1)."""
        check_fitted(self)
        x = check_inputs(x, self.features)
        net = self.networks_[0]
        index = _quadratic_index(monomials(len(self.coefficients_), 2))
        with torch.no_grad():
            Q = net.quadratic_form(torch.tensor(x, dtype=torch.float32, device=next(net.parameters()).device)).cpu().numpy()
        return np.stack([f * Q[:, i, j] for i, j, f in index], axis=1).astype(np.float64)

    def score(self, x: np.ndarray, theta: Any = None) -> np.ndarray:
        """t̂(x|θ) = ∇_θ log R(x, θ) − ∇_θ log σ(θ), exact for the quadratic form."""
        check_fitted(self)
        x = check_inputs(x, self.features)
        n = len(self.coefficients_)
        th = _as_theta_rows(np.zeros(n) if theta is None else theta, len(x), n)
        net = self.networks_[0]
        xt, tt = _rows_to_tensors(x, th, next(net.parameters()).device)
        tt.requires_grad_(True)
        (grad,) = torch.autograd.grad(torch.log(net(xt, tt)).sum(), tt)
        from theory.morphing import monomial_gradients

        powers = monomials(n, 2)
        sig = monomial_values(powers, th) @ self.sigma_components_
        dsig = np.einsum("nci,c->ni", monomial_gradients(powers, th), self.sigma_components_)
        return grad.cpu().numpy().astype(np.float64) - dsig / sig[:, None]

    def predict_sample(self, sample: EventSample, theta0: Any) -> np.ndarray:
        check_fitted(self)
        check_sample(self, sample)
        return self.log_ratio(np.stack([sample.observables[f] for f in self.features], axis=1), theta0)

    def save(self, path: str | os.PathLike) -> Path:
        check_fitted(self)
        metadata = base_metadata(self) | {
            "hidden": list(self.hidden), "activation": self.activation, "training": asdict(self.training),
            "sigma_components": self.sigma_components_.tolist(), "histories": [h.to_dict() for h in self.histories_],
        }
        return save_estimator(path, self.kind, metadata, {"net": self.networks_[0].state_dict()})

    @classmethod
    def load(cls, path: str | os.PathLike, *, features: Sequence[str] | None = None, process: str | None = None,
             device: str = "auto") -> QuadraticRatioEstimator:
        metadata, state = load_estimator(path, cls.kind)
        check_loaded(path, metadata, features, process)
        est = cls(metadata["features"], hidden=metadata["hidden"], activation=metadata["activation"],
                  training=TrainingConfig(**metadata["training"]), device=device)
        n_x = len(est.features)
        net = _QuadNet(n_x, len(metadata["coefficients"]), est.hidden, est.activation, np.zeros(n_x), np.ones(n_x))
        load_state(net, state.get("net"), path)
        est.networks_ = [net.to(resolve_device(device)).eval()]
        est.process_, est.coefficients_ = metadata["process"], tuple(metadata["coefficients"])
        est.sigma_components_ = np.asarray(metadata["sigma_components"], dtype=np.float64)
        est.histories_ = [TrainingHistory(**h) for h in metadata.get("histories", [])]
        return est
