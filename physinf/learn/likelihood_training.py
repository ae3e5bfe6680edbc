"""NLE trained on the morphing weights: every event of the sample at freshly drawn θ in every epoch.

sbi's NLE trains a flow q(x|θ) on fixed pairs (θ_i, x_i), one simulated event per θ. For N i.i.d.
events the learned log likelihood is summed N times, so any error in its θ-dependence adds up
coherently, and one event per θ pins that dependence down poorly: on WBF (60k pairs, N = 50) the
posteriors were over-confident (68 % coverage 0.43, docs/benchmarks.md §8). The sample already
knows the θ-dependence of every event exactly (p_n(θ) = w_n(θ)/Σ_m w_m(θ)), so here the loss is
the expected negative log likelihood over the prior,

    L = E_{θ~π} Σ_n p_n(θ) [−log q(x_n|θ)],

estimated without rejection: each epoch draws new θ_i from the prior and one candidate event per θ_i
from the simulator's θ-independent envelope, weighted by p_n(θ_i) over the candidate's probability
(:meth:`EventSimulator.weighted_draw`; weights in [0, 1/acceptance], mean one). Over the epochs each
event is seen at many θ, and an unbiased estimate of L replaces the accept/reject coin. Optionally
(``score_weight`` α > 0) the loss adds α |t(z_n|θ) − ∇_θ log q(x_n|θ)|², the joint score regression
of SCANDAL (Brehmer, Louppe, Pavez, Cranmer, arXiv:1805.12244): its minimum is at the true score
∇_θ log p(x|θ) = E[t | x, θ], which ties the θ-dependence of the flow to the exact per-event
derivative of the weights.

Validation: a part of the sample's events (``validation_fraction``) is held out of training, so
early stopping sees events the flow never trained on (re-drawing θ every epoch would otherwise hide
over-fitting to the training events); the validation pairs (``validation_fraction`` of the pairs
per epoch, at least 10,000) are drawn once and kept fixed.
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

__all__ = ["train_likelihood_on_weights"]

_CLIP_NORM = 5.0  # sbi's default gradient clipping for its trainers
_MIN_VALIDATION = 10_000


class _WeightedPairs:
    """(θ, x, importance weight, joint score) rows drawn from one part of the sample."""

    def __init__(self, simulator: EventSimulator, x_events: np.ndarray, with_score: bool) -> None:
        self.simulator, self.x_events, self.with_score = simulator, x_events, with_score

    def draw(self, prior: BoxPrior, n: int, rng: np.random.Generator, device: Any) -> dict[str, torch.Tensor]:
        import torch

        theta = prior.sample(n, rng)
        idx, weight = self.simulator.weighted_draw(theta, rng)
        rows = {"theta": theta, "x": self.x_events[idx], "weight": weight}
        if self.with_score:
            score = self.simulator.joint_score(theta, idx)
            # a zero weight (w_n(θ) = 0 at a touching point) makes the score infinite; the row counts nothing
            bad = ~np.all(np.isfinite(score), axis=1)
            score[bad], rows["weight"][bad] = 0.0, 0.0
            rows["score"] = score
        return {k: torch.as_tensor(v, dtype=torch.float32, device=device) for k, v in rows.items()}


def _loss(network: Any, batch: Mapping[str, torch.Tensor], score_weight: float) -> torch.Tensor:
    import torch

    theta = batch["theta"]
    if score_weight > 0:
        theta = theta.detach().requires_grad_(True)
    nll = network.loss(batch["x"], condition=theta)  # −log q(x|θ), (B,)
    per_row = nll
    if score_weight > 0:
        (grad,) = torch.autograd.grad(nll.sum(), theta, create_graph=network.training)
        per_row = nll + score_weight * ((batch["score"] + grad) ** 2).sum(dim=1)  # ∇ log q = −∇ nll
    return (batch["weight"] * per_row).mean()


def train_likelihood_on_weights(network: Any, sample: EventSample, features: Sequence[str], prior: BoxPrior,
                                fixed: Mapping[str, float], *, n_pairs: int, batch_size: int, learning_rate: float,
                                validation_fraction: float, stop_after_epochs: int, max_epochs: int,
                                score_weight: float, rng: np.random.Generator, progress: bool = False
                                ) -> tuple[Any, dict[str, Any]]:
    """Train ``network`` (an sbi flow q(x|θ), built and z-scored by sbi's ``likelihood_nn``) on the
    expected log likelihood over the prior (module docstring); ``n_pairs`` (θ, event) rows per epoch.
    Returns the network at its best validation loss and a history dict (losses, epochs, converged)."""
    import torch

    device = next(network.parameters()).device
    train_part, val_part = sample.split([1.0 - validation_fraction, validation_fraction], rng)
    parts = [_WeightedPairs(EventSimulator(p, prior, fixed=fixed), feature_matrix(p, features), score_weight > 0)
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

        bar = tqdm(total=max_epochs, desc="NLE on weights", unit="epoch")
    converged = False
    for _ in range(max_epochs):
        network.train()
        pairs = parts[0].draw(prior, n_train, rng, device)
        order = torch.as_tensor(rng.permutation(n_train), device=device)
        total = 0.0
        for lo in range(0, n_train, batch_size):
            sel = order[lo : lo + batch_size]
            optimiser.zero_grad()
            loss = _loss(network, {k: v[sel] for k, v in pairs.items()}, score_weight)
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
                val += float(_loss(network, rows, score_weight).detach()) * len(rows["x"])
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
