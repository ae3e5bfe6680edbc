"""Typed, frozen settings of an amplitude surrogate: the network and its preprocessing
(:class:`SurrogateConfig`) and the optimisation (:class:`TrainConfig`).

Defaults follow the Heidelberg amplitude recipe (docs/notes/ml.md §1): Adam with learning rate
1e-3 and betas (0.99, 0.999), batch 1024, ReduceLROnPlateau (factor 0.3, patience 10), early
stopping after 20 epochs without improvement, gradient-norm clip 5, N(0, 1) prior.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, get_args

from physinf.errors import InvalidParameterError, did_you_mean

__all__ = ["SurrogateConfig", "TrainConfig"]

Inputs = Literal["invariants", "momenta"]
Backbone = Literal["mlp", "lgatr"]
Activation = Literal["silu", "gelu", "tanh", "relu"]
Symmetry = Literal["auto", "none"]
Schedule = Literal["plateau", "cosine"]
Targets = Literal["auto", "ratios"]


def _check_choice(owner: str, name: str, value: Any, kind: Any) -> None:
    choices = get_args(kind)
    if value not in choices:
        raise InvalidParameterError(
            f"{owner}.{name} must be one of {list(choices)}, got {value!r}.{did_you_mean(str(value), list(choices))}"
        )


def _check_positive(owner: str, **values: float) -> None:
    for name, value in values.items():
        if not (isinstance(value, (int, float)) and value > 0):
            raise InvalidParameterError(f"{owner}.{name} must be a positive number, got {value!r}")


class _Config:
    """Construction from a dict with unknown keys refused (and a suggestion)."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]):  # type: ignore[no-untyped-def]
        known = [f.name for f in fields(cls)]  # type: ignore[arg-type]
        for key in data:
            if key not in known:
                raise InvalidParameterError(f"{cls.__name__} has no field {key!r}.{did_you_mean(key, known)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class SurrogateConfig(_Config):
    """The network and how phase-space points and amplitudes are presented to it.

    Attributes:
      inputs: "invariants" (log(|2 p_i.p_j| / s_hat) for every pair but the beams, plus log s_hat,
        each standardised; Lorentz invariant by construction) or "momenta" (standardised
        components of the momenta divided by sqrt(s_hat), plus log s_hat).
      backbone: "mlp" (default) or "lgatr" (the Lorentz-equivariant transformer of the optional
        ``lgatr`` package on the momenta; its last layer is the Bayesian one).
      hidden, layers: width and number of hidden layers of the MLP (for "lgatr": scalar
        channels and transformer blocks).
      activation: non-linearity between layers.
      bayesian: variational weights (sigma_stat from weight samples); False gives a
        deterministic heteroscedastic network (sigma_syst only, sigma_stat from an ensemble).
      ensemble: independently initialised members; with more than one, the spread of their
        predictions is a second estimate of sigma_stat.
      prior_precision: precision of the N(0, 1/p) weight prior.
      n_draws: weight samples per prediction (the relative precision of a sampled sigma_stat
        is about 1/sqrt(2 (n_draws - 1)): 50 draws give 10 %).
      symmetry: "auto" puts identical final-state particles in a canonical order (descending
        energy), and identical beams too, when the exact amplitude is checked to be symmetric
        under their exchange; "none" keeps the labels.
      targets: how the morphing components beyond the SM are presented (see
        physinf.learn.surrogate.preprocess): "auto" regresses the quadratic and SM pieces as logs
        and the interference pieces as their Cauchy-Schwarz-bounded correlations when the
        components form a quadratic form in the Wilson coefficients (ratios otherwise);
        "ratios" always regresses A_c / A_SM.
    """

    inputs: Inputs = "invariants"
    backbone: Backbone = "mlp"
    hidden: int = 128
    layers: int = 4
    activation: Activation = "silu"
    bayesian: bool = True
    ensemble: int = 1
    prior_precision: float = 1.0
    n_draws: int = 50
    symmetry: Symmetry = "auto"
    targets: Targets = "auto"

    def __post_init__(self) -> None:
        owner = "SurrogateConfig"
        _check_choice(owner, "targets", self.targets, Targets)
        _check_choice(owner, "inputs", self.inputs, Inputs)
        _check_choice(owner, "backbone", self.backbone, Backbone)
        _check_choice(owner, "activation", self.activation, Activation)
        _check_choice(owner, "symmetry", self.symmetry, Symmetry)
        _check_positive(owner, hidden=self.hidden, layers=self.layers, ensemble=self.ensemble,
                        prior_precision=self.prior_precision)
        for name in ("hidden", "layers", "ensemble", "n_draws"):
            if not isinstance(getattr(self, name), int) or isinstance(getattr(self, name), bool):
                raise InvalidParameterError(f"{owner}.{name} must be an integer, got {getattr(self, name)!r}")
        if self.n_draws < 2:
            raise InvalidParameterError(f"{owner}.n_draws must be at least 2 (a spread needs two draws), got {self.n_draws}")
        if not self.bayesian and self.ensemble < 2:
            raise InvalidParameterError(
                f"{owner}: a deterministic network (bayesian=False) has no sigma_stat of its own; "
                "use ensemble >= 2 (the spread of the members is sigma_stat) or bayesian=True"
            )


@dataclass(frozen=True)
class TrainConfig(_Config):
    """How the network is fitted.

    Attributes:
      epochs: most passes over the training set; early stopping ends sooner.
      batch_size, learning_rate, betas: Adam settings.
      schedule: "plateau" (ReduceLROnPlateau on the validation loss, factor 0.3, patience
        ``lr_patience``) or "cosine" (cosine decay to 1 % over ``epochs``: better for a fixed budget).
      patience: epochs without validation improvement before stopping (the best weights are kept).
      validation_fraction: share of the training points held out for early stopping.
      grad_clip: gradient-norm clip.
      recalibrate: after training, scale sigma_stat and sigma_syst of each component by one
        factor so that its pulls on the validation points have unit width (the factors are stored
        as ``sigma_scale``, one per component; 1 = no change). Mean-field variational networks
        trained on few points spread their weight draws far wider than the error of their mean,
        and the heteroscedastic head absorbs the weight noise seen in training; the factors
        correct both, measured on held-out data.
        Before that, the mean-weight network's log |M|^2 outputs (the SM, and the quadratic
        pieces with quadratic-form targets) are shifted by their inverse-variance weighted mean
        residual on the validation points (``mean_shift``, standardised units; ratio and
        correlation outputs, bounded or heavy-tailed, are left as trained): the Gaussian loss sees
        the mean and the log-variance outputs with correlated weight noise, which moves the
        optimum of the mean by their covariance, a nearly constant offset (g g -> g g g: -0.11 %
        of A at 4e5 points, pulls -0.3 to -0.6 in every bin of log A; docs/benchmarks.md §4).
      seed: initialisation, batching and the training/validation split.
      progress: show a tqdm bar over epochs.
      threads: torch CPU threads while training (see physinf.learn.training.cpu_threads).
    """

    epochs: int = 200
    batch_size: int = 1024
    learning_rate: float = 1e-3
    betas: tuple[float, float] = (0.99, 0.999)
    schedule: Schedule = "plateau"
    lr_patience: int = 10
    patience: int = 20
    validation_fraction: float = 0.1
    grad_clip: float = 5.0
    recalibrate: bool = True
    seed: int = 0
    progress: bool = False
    threads: int = 1

    def __post_init__(self) -> None:
        owner = "TrainConfig"
        _check_choice(owner, "schedule", self.schedule, Schedule)
        _check_positive(owner, epochs=self.epochs, batch_size=self.batch_size, learning_rate=self.learning_rate,
                        lr_patience=self.lr_patience, patience=self.patience, grad_clip=self.grad_clip,
                        threads=self.threads)
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise InvalidParameterError(f"{owner}.betas must be two numbers in [0, 1), got {self.betas}")
        if not 0 < self.validation_fraction < 1:
            raise InvalidParameterError(f"{owner}.validation_fraction must be in (0, 1), got {self.validation_fraction}")
