"""NLE and NRE trained on the morphing weights: every event of the sample at fresh θ in every epoch.

sbi trains its networks on fixed pairs (θ_i, x_i), one simulated event per θ. For N i.i.d. events
the learned per-event log likelihood (NLE) or log ratio (NRE) is summed N times, so any error in
its θ-dependence adds up coherently, and one event per θ pins that dependence down poorly: on WBF
(60k pairs, N = 50) NLE's posteriors were over-confident (68 % coverage 0.43) and NRE's 2-d ones
too (0.59 over 400 experiments, docs/benchmarks.md §8). The sample already knows the θ-dependence
of every event exactly, p_n(θ) = w_n(θ)/Σ_m w_m(θ), so the losses below are expectations over the
prior computed with those probabilities, re-drawn at new θ in every epoch (each event is seen at
many θ), without an accept/reject coin:

* NLE, a flow q(x|θ): the expected negative log likelihood L = E_{θ~π} Σ_n p_n(θ) [−log q(x_n|θ)].
  Each epoch draws θ_i from the prior and one candidate event per θ_i from the simulator's
  θ-independent envelope, weighted by p_n(θ_i) over the candidate's probability
  (:meth:`EventSimulator.weighted_draw`; weights in [0, 1/acceptance], mean one).
* NRE, a classifier with logit ℓ(x, θ): the binary cross-entropy between the joint p_n(θ)π(θ) and
  the product of the marginals p̄_n π(θ) (p̄_n = E_π p_n, :meth:`EventSimulator.marginal_probabilities`),
  L = E_{θ~π} Σ_n [p_n(θ) softplus(−ℓ) + p̄_n softplus(ℓ)]. Each epoch draws θ_i from the prior and
  one event per θ_i from p̄, which carries the exact ratio r_n(θ_i) = p_n(θ_i)/p̄_n as the weight of
  its "joint" term (:meth:`EventSimulator.ratio_draw`): every pair is in both classes at once with
  known weights (the ALICE loss of Brehmer et al. arXiv:1808.00973 with its exact target), instead
  of sbi's contrastive classes from shuffled pairs. Pointwise minimum: ℓ = log r_n(θ), the log
  ratio sbi's ratio potential sums, normalised over the marginal by construction.

Optionally (``score_weight`` α > 0) both add the joint-score regression α |t(z_n|θ) − ∇_θ log m|²,
m = q(x_n|θ) or r̂(x_n, θ), weighted as the joint term (SCANDAL and ALICES, Brehmer, Louppe, Pavez,
Cranmer, arXiv:1805.12244 and arXiv:1808.00973): its minimum is at the true score
∇_θ log p(x|θ) = E[t | x, θ], which ties the θ-dependence of the network to the exact per-event
derivative of the weights (∇_θ log r = ∇_θ log p, since p̄ does not depend on θ).

Validation: a part of the sample's events (``validation_fraction``) is held out of training, so
early stopping sees events the network never trained on (re-drawing θ every epoch would otherwise
hide over-fitting to the training events); the validation pairs (``validation_fraction`` of the
pairs per epoch, at least 10,000) are drawn once and kept fixed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from physinf.learn.data import feature_matrix
from physinf.learn.prior import BoxPrior
from physinf.learn.simulator import EventSimulator
from physinf.simulate.events import EventSample

if TYPE_CHECKING:
    import torch

__all__ = ["train_likelihood_on_weights", "train_ratio_on_weights"]

_CLIP_NORM = 5.0  # sbi's default gradient clipping for its trainers
_MIN_VALIDATION = 10_000
Batch = Mapping[str, "torch.Tensor"]


class _WeightedPairs:
    """(θ, x, weight, joint score) rows drawn from one part of the sample: "weight" is the importance
    weight of an envelope candidate (NLE) or the exact ratio r_n(θ) of a marginal draw (NRE)."""

    def __init__(self, simulator: EventSimulator, x_events: np.ndarray, kind: str, with_score: bool) -> None:
        self.simulator, self.x_events, self.kind, self.with_score = simulator, x_events, kind, with_score

    def draw(self, prior: BoxPrior, n: int, rng: np.random.Generator, device: Any) -> dict[str, torch.Tensor]:
        import torch

        theta = prior.sample(n, rng)
        draw = self.simulator.weighted_draw if self.kind == "likelihood" else self.simulator.ratio_draw
        idx, weight = draw(theta, rng)
        rows = {"theta": theta, "x": self.x_events[idx], "weight": weight}
        if self.with_score:
            score = self.simulator.joint_score(theta, idx)
            # a zero weight (w_n(θ) = 0 at a touching point) makes the score infinite; its term counts nothing
            bad = ~np.all(np.isfinite(score), axis=1)
            score[bad], rows["weight"][bad] = 0.0, 0.0
            rows["score"] = score
        return {k: torch.as_tensor(v, dtype=torch.float32, device=device) for k, v in rows.items()}


def _score_residual(log_m: torch.Tensor, theta: torch.Tensor, score: torch.Tensor, training: bool) -> torch.Tensor:
    """|t − ∇_θ log m|² per row (the joint-score regression), differentiable while training."""
    import torch

    (grad,) = torch.autograd.grad(log_m.sum(), theta, create_graph=training)
    return ((score - grad) ** 2).sum(dim=1)


def _theta(batch: Batch, score_weight: float) -> torch.Tensor:
    return batch["theta"].detach().requires_grad_(True) if score_weight > 0 else batch["theta"]


def _likelihood_loss(network: Any, batch: Batch, score_weight: float) -> torch.Tensor:
    theta = _theta(batch, score_weight)
    nll = network.loss(batch["x"], condition=theta)  # −log q(x|θ), (B,)
    per_row = nll
    if score_weight > 0:
        per_row = nll + score_weight * _score_residual(-nll, theta, batch["score"], network.training)
    return (batch["weight"] * per_row).mean()


def _ratio_loss(network: Any, batch: Batch, score_weight: float) -> torch.Tensor:
    from torch.nn.functional import softplus

    theta = _theta(batch, score_weight)
    logit = network(theta, batch["x"]).reshape(-1)  # log r̂(x, θ), (B,), called as sbi's potential calls it
    joint = softplus(-logit)
    if score_weight > 0:
        joint = joint + score_weight * _score_residual(logit, theta, batch["score"], network.training)
    return (batch["weight"] * joint + softplus(logit)).mean()


_LOSSES = {"likelihood": _likelihood_loss, "ratio": _ratio_loss}


def train_likelihood_on_weights(network: Any, sample: EventSample, features: Sequence[str], prior: BoxPrior,
                                fixed: Mapping[str, float], **settings: Any) -> tuple[Any, dict[str, Any]]:
    """Train ``network`` (an sbi flow q(x|θ), built and z-scored by sbi's ``likelihood_nn``) on the
    expected log likelihood over the prior (module docstring); settings as in :func:`_train`."""
    return _train("likelihood", network, sample, features, prior, fixed, **settings)


def train_ratio_on_weights(network: Any, sample: EventSample, features: Sequence[str], prior: BoxPrior,
                           fixed: Mapping[str, float], **settings: Any) -> tuple[Any, dict[str, Any]]:
    """Train ``network`` (an sbi classifier, called as network(θ, x) -> log r̂, built and z-scored by
    sbi's ``classifier_nn``) on the joint-against-marginal cross-entropy with exact ratios (module
    docstring); settings as in :func:`_train`."""
    return _train("ratio", network, sample, features, prior, fixed, **settings)


def _train(kind: str, network: Any, sample: EventSample, features: Sequence[str], prior: BoxPrior,
           fixed: Mapping[str, float], *, n_pairs: int, batch_size: int, learning_rate: float,
           validation_fraction: float, stop_after_epochs: int, max_epochs: int, score_weight: float,
           rng: np.random.Generator, progress: bool = False) -> tuple[Any, dict[str, Any]]:
    """``n_pairs`` (θ, event) rows per epoch, Adam, early stopping on held-out events. Returns the
    network at its best validation loss and a history dict (losses, epochs, converged)."""
    import torch

    loss_of = _LOSSES[kind]
    device = next(network.parameters()).device
    train_part, val_part = sample.split([1.0 - validation_fraction, validation_fraction], rng)
    parts = [_WeightedPairs(EventSimulator(p, prior, fixed=fixed), feature_matrix(p, features), kind, score_weight > 0)
             for p in (train_part, val_part)]
    # validation pairs cost no simulation, only a forward pass: at least _MIN_VALIDATION of them, so
    # that early stopping compares networks on a loss estimate whose noise (~1/sqrt(n) nats) is
    # below the per-epoch gains (300 pairs stopped a toy training at a state 0.4 widths off)
    n_held = int(round(validation_fraction * n_pairs))  # the share of the pairs sbi's trainer would hold out
    n_val = max(_MIN_VALIDATION, n_held)
    validation = parts[1].draw(prior, n_val, rng, device)
    n_train = max(1, n_pairs - n_held)
    optimiser = torch.optim.Adam(network.parameters(), lr=learning_rate)
    best, best_state, since_best = np.inf, copy.deepcopy(network.state_dict()), 0
    train_losses: list[float] = []
    val_losses: list[float] = []
    bar: Any = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=max_epochs, desc=f"{'NLE' if kind == 'likelihood' else 'NRE'} on weights", unit="epoch")
    converged = False
    for _ in range(max_epochs):
        network.train()
        pairs = parts[0].draw(prior, n_train, rng, device)
        order = torch.as_tensor(rng.permutation(n_train), device=device)
        total = 0.0
        for lo in range(0, n_train, batch_size):
            sel = order[lo : lo + batch_size]
            optimiser.zero_grad()
            loss = loss_of(network, {k: v[sel] for k, v in pairs.items()}, score_weight)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(network.parameters(), _CLIP_NORM)
            optimiser.step()
            total += float(loss.detach()) * len(sel)
        train_losses.append(total / n_train)
        network.eval()
        val = 0.0
        with torch.set_grad_enabled(score_weight > 0):
            for lo in range(0, n_val, 4096):
                rows = {k: v[lo : lo + 4096] for k, v in validation.items()}
                val += float(loss_of(network, rows, score_weight).detach()) * len(rows["x"])
        val_losses.append(val / n_val)
        if val_losses[-1] < best:
            best, best_state, since_best = val_losses[-1], copy.deepcopy(network.state_dict()), 0
        else:
            since_best += 1
        if bar is not None:
            bar.update()
            bar.set_postfix(validation=f"{val_losses[-1]:.4f}", best=f"{best:.4f}")
        if since_best >= stop_after_epochs:
            converged = True
            break
    if bar is not None:
        bar.close()
    network.load_state_dict(best_state)
    network.eval()
    return network, {"training_loss": train_losses, "validation_loss": val_losses, "epochs": len(val_losses),
                     "converged": converged}
