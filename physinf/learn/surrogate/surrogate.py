"""The Bayesian amplitude surrogate: a network for |M|^2 that says how far to trust itself.

``AmplitudeSurrogate(process, channel)`` learns the morphing components A_c(z) of one parton
channel of a process from phase-space points and exact amplitudes, and predicts them with

* sigma_syst: the heteroscedastic Gaussian width (what the network cannot express);
* sigma_stat: the spread over weight draws of the variational network (the limited training
  data), and, with ``ensemble > 1``, over independently trained members;
* sigma_tot^2 = sigma_stat^2 + sigma_syst^2.

It follows the Estimator contract (``fit(sample)``, ``predict(x)``, ``save``/``load``,
``device="auto"``), with x the momenta (N, P, 4). Trained surrogates stand in for the process in
``physinf.generate`` through :class:`physinf.learn.surrogate.SurrogateModel`.

References: Bahl, Elmer, Favaro, Haussmann, Plehn, Winterhalder, arXiv:2412.12069;
Badger, Bullock, arXiv:2002.07516; Spinner et al. (L-GATr), arXiv:2405.14806.
"""

from __future__ import annotations

import itertools
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch

from physinf._version import __version__
from physinf.errors import InvalidParameterError
from physinf.learn.base import resolve_device
from physinf.learn.surrogate.config import SurrogateConfig, TrainConfig
from physinf.learn.surrogate.errors import SurrogateMismatchError
from physinf.learn.surrogate.layers import resample, set_map_mode
from physinf.learn.surrogate.networks import build_network
from physinf.learn.surrogate.prediction import SurrogatePrediction
from physinf.learn.surrogate.preprocess import Preprocessing, check_amplitudes, check_momenta, quadratic_form_pairs
from physinf.learn.surrogate.serialize import FORMAT_NAME, FORMAT_VERSION, read_surrogate, weights_digest, write_surrogate
from physinf.learn.surrogate.train import TrainHistory, train_network
from theory.processes.base import Channel, Process

__all__ = ["AmplitudeSurrogate"]

_BATCH = 65536  # points per network call at prediction time


def _resolve_process(process: str | Process) -> Process:
    from theory.processes.registry import get_process

    if isinstance(process, Process):
        return process
    if isinstance(process, str):
        return get_process(process)
    raise InvalidParameterError(f"process must be a registered process name or a theory Process, got {type(process).__name__}")


def _symmetric_particles(process: Process, channel: Channel, p: np.ndarray) -> tuple[int, ...]:
    """Particles of equal flavour under whose exchange the exact |M|^2 is invariant, checked
    numerically (relative 1e-9) at up to 32 of the given points: the largest such group of
    final-state particles, and the two beams when they qualify."""
    probe = p[: min(len(p), 32)]
    reference = process.components(probe, channel)

    def invariant(group: list[int]) -> bool:
        for i, j in itertools.combinations(group, 2):
            swapped = probe.copy()
            swapped[:, [i, j]] = probe[:, [j, i]]
            if not np.allclose(process.components(swapped, channel), reference, rtol=1e-9, atol=1e-300):
                return False
        return True

    flavours: dict[int, list[int]] = {}
    for k, pdg in enumerate(channel.outgoing):
        flavours.setdefault(pdg, []).append(2 + k)
    best: tuple[int, ...] = ()
    for group in flavours.values():
        if len(group) >= 2 and len(group) > len(best) and invariant(group):
            best = tuple(group)
    beams = channel.incoming[0] == channel.incoming[1] and invariant([0, 1])
    return ((0, 1) if beams else ()) + best


def _parity_odd(process: Process, channel: Channel, p: np.ndarray) -> bool:
    """Whether some component of the exact |M|^2 changes under parity (every 3-momentum reversed)
    by more than 1e-6 of its size, at up to 32 of the given points (float64 round-off is ~1e-13;
    a parity-odd piece changes by twice its size)."""
    probe = p[: min(len(p), 32)]
    mirrored = probe.copy()
    mirrored[..., 1:] *= -1.0
    reference = process.components(probe, channel)
    other = process.components(mirrored, channel)
    return bool(np.any(np.abs(other - reference) > 1e-6 * (np.abs(other) + np.abs(reference)) + 1e-300))


class AmplitudeSurrogate:
    """A Bayesian network (or ensemble) for the |M|^2 components of one channel of a process.

    Args:
      process: a registered process name or a theory Process (its SM inputs fix the couplings).
      channel: the parton channel whose amplitudes are learned (default: the process's first);
        in generation the surrogate serves every channel with the same couplings.
      config: network and preprocessing (:class:`SurrogateConfig`).
      train: optimisation (:class:`TrainConfig`).
      device: "auto" (CUDA when present), "cpu", "cuda", "cuda:N".

    Fitted attributes: ``preprocessing_``, ``members_`` (the networks), ``history_``
    (one TrainHistory per member), ``sigma_scale_`` (per component, the recalibration factor of
    both sigmas, see TrainConfig.recalibrate), ``raw_validation_pull_width_`` (the SM
    component's validation pull width before it) and ``mean_shift_`` (per component, in
    standardised units: the inverse-variance weighted mean validation residual of the mean-weight
    network in the log |M|^2 components, zero for the others, added to its output; see
    TrainConfig.recalibrate).
    """

    def __init__(self, process: str | Process, channel: str | None = None, config: SurrogateConfig | None = None,
                 train: TrainConfig | None = None, device: str = "auto") -> None:
        self.process = _resolve_process(process)
        self.channel = self.process.channels[0] if channel is None else self.process.channel(channel)
        self.config = SurrogateConfig() if config is None else config
        self.train = TrainConfig() if train is None else train
        if not isinstance(self.config, SurrogateConfig) or not isinstance(self.train, TrainConfig):
            raise InvalidParameterError("config must be a SurrogateConfig and train a TrainConfig")
        if self.config.backbone == "lgatr" and self.config.inputs != "momenta":
            raise InvalidParameterError("the L-GATr backbone reads momenta: use SurrogateConfig(inputs='momenta', backbone='lgatr')")
        self.device = str(resolve_device(device))
        self.preprocessing_: Preprocessing | None = None
        self.members_: list[torch.nn.Module] = []
        self.history_: list[TrainHistory] = []
        self.sigma_scale_ = np.ones(self.n_components)
        self.raw_validation_pull_width_ = float("nan")
        self.mean_shift_ = np.zeros(self.n_components)
        self._model_id: str | None = None

    # ------------------------------------------------------------------ facts
    @property
    def n_components(self) -> int:
        return self.process.n_components

    @property
    def model_id(self) -> str:
        """"surrogate:<first 12 hex digits of the sha256 of weights and scalers>"."""
        self._check_fitted()
        if self._model_id is None:
            self._model_id = "surrogate:" + weights_digest(self._tensors(), self._identity())[:12]
        return self._model_id

    def __repr__(self) -> str:
        state = self.model_id if self.members_ else "not fitted"
        return f"<AmplitudeSurrogate {self.process.name}/{self.channel.name} {self.config.backbone} ({state})>"

    def _check_fitted(self) -> None:
        if not self.members_ or self.preprocessing_ is None:
            raise InvalidParameterError("the surrogate is not fitted yet: call fit(sample) or fit_arrays(momenta, amplitudes)")

    # ------------------------------------------------------------------ fitting
    def fit(self, sample: Any) -> AmplitudeSurrogate:
        """Learn the exact amplitudes of this channel at the momenta of an EventSample of the process."""
        from physinf.simulate.events import EventSample

        if not isinstance(sample, EventSample):
            raise InvalidParameterError(f"fit takes an EventSample, got {type(sample).__name__}; for arrays use fit_arrays")
        if sample.process != self.process.name:
            raise SurrogateMismatchError(
                f"the sample is of process {sample.process!r}, this surrogate learns {self.process.name!r}"
            )
        p = check_momenta(sample.momenta, self.process.labels)
        return self.fit_arrays(p, self.process.components(p, self.channel))

    def fit_arrays(self, momenta: Any, amplitudes: Any) -> AmplitudeSurrogate:
        """Learn amplitude components (N, C) (or (N,) for one component) at momenta (N, P, 4).

        A share ``train.validation_fraction`` of the points is held out for early stopping."""
        p = check_momenta(momenta, self.process.labels)
        a = check_amplitudes(amplitudes, len(p), self.n_components)
        n_val = int(round(self.train.validation_fraction * len(p)))
        if n_val < 1 or len(p) - n_val < 2:
            raise InvalidParameterError(f"{len(p)} training points are too few to hold out a validation set; give more")
        order = np.random.default_rng(self.train.seed).permutation(len(p))
        val, fit = order[:n_val], order[n_val:]
        symmetric = _symmetric_particles(self.process, self.channel, p[fit]) if self.config.symmetry == "auto" else ()
        pairs = quadratic_form_pairs(self.process.powers) if self.config.targets == "auto" else None
        odd = self.config.inputs == "invariants" and _parity_odd(self.process, self.channel, p[fit])
        pre = Preprocessing.fit(p[fit], a[fit], self.process.labels, self.config.inputs, symmetric,
                                covariant=self.config.backbone == "lgatr", pairs=pairs, pseudoscalar=odd)
        device = torch.device(self.device)

        def tensors(index: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
            x = torch.as_tensor(pre.features(p[index]), dtype=torch.float32, device=device)
            y = torch.as_tensor(pre.targets(p[index], a[index]), dtype=torch.float32, device=device)
            return x, y

        x_fit, y_fit = tensors(fit)
        x_val, y_val = tensors(val)
        members, histories = [], []
        for k in range(self.config.ensemble):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.train.seed * 1009 + k)
                net = build_network(self.config, pre.n_features, self.process.n_particles, self.n_components).to(device)
            generator = torch.Generator().manual_seed(self.train.seed * 1009 + k)
            desc = f"surrogate {self.process.name} member {k + 1}/{self.config.ensemble}"
            with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
                torch.manual_seed(self.train.seed * 7919 + k)
                histories.append(train_network(net, x_fit, y_fit, x_val, y_val, self.train, generator, desc))
            members.append(net)
        self.preprocessing_, self.members_, self.history_, self._model_id = pre, members, histories, None
        self.sigma_scale_ = np.ones(self.n_components)
        self.raw_validation_pull_width_ = float("nan")
        self.mean_shift_ = np.zeros(self.n_components)
        if len(val) > 1:
            moments = self._moments(x_val, self.config.n_draws)  # one set of weight draws serves both steps
            if self.train.recalibrate:
                # the log |M|^2 columns only, where the offset is a common relative error; ratio
                # targets are heavy-tailed and their mean residual is set by the tails (WBF, 1e4
                # points: shifting them took the cHW interference's median error from 6 % to 520 %
                # of A_SM), and correlations are bounded to [-1, 1]. The shift is the maximum-
                # likelihood common offset, residuals weighted by their inverse variance (a plain
                # mean lets the imprecise points set it; the precise ones, where an offset weighs
                # most in units of sigma, kept pull means of 0.13 in the 5000-point tests)
                logs = pre.log_columns
                _, central, var_stat, var_syst = moments
                weight = 1.0 / (var_stat + var_syst)[:, logs]
                residual = y_val[:, logs].double().cpu().numpy() - central[:, logs]
                self.mean_shift_[logs] = np.sum(weight * residual, axis=0) / np.sum(weight, axis=0)
            pred = self._prediction(p[val], *moments)
            width = np.std((pred.mean - a[val]) / pred.sigma_tot, axis=0, ddof=1)
            self.raw_validation_pull_width_ = float(width[0])
            if self.train.recalibrate:
                # each component its own factor: the interference and quadratic pieces come from
                # other outputs (and, with quadratic-form targets, from several at once)
                self.sigma_scale_ = np.where(np.isfinite(width) & (width > 0), width, 1.0)
        return self

    # ------------------------------------------------------------------ prediction
    def _map_outputs(self, x: torch.Tensor) -> np.ndarray:
        """Each member's output with its mean weights, (members, N, 2 C), float64."""
        outs = []
        with torch.no_grad():
            for net in self.members_:
                net.eval()
                set_map_mode(net, True)
                outs.append(torch.cat([net(x[lo : lo + _BATCH]) for lo in range(0, len(x), _BATCH)]).double().cpu().numpy())
                set_map_mode(net, False)
        return np.stack(outs)

    def _draws(self, x: torch.Tensor, n_draws: int) -> tuple[np.ndarray, np.ndarray]:
        """Means and variances (members, draws, N, C) of weight draws, in standardised units."""
        c = self.n_components
        means, variances = [], []
        with torch.no_grad(), torch.random.fork_rng(devices=[x.device] if x.device.type == "cuda" else []):
            torch.manual_seed(12345)  # the same draws for the same surrogate: predictions are reproducible
            for net in self.members_:
                net.eval()
                m_list, v_list = [], []
                for _ in range(n_draws):
                    resample(net)
                    out = torch.cat([net(x[lo : lo + _BATCH]) for lo in range(0, len(x), _BATCH)]).double().cpu().numpy()
                    m_list.append(out[:, :c])
                    v_list.append(np.exp(out[:, c:]))
                resample(net)
                means.append(np.stack(m_list))
                variances.append(np.stack(v_list))
        return np.stack(means), np.stack(variances)

    def _inputs(self, momenta: Any) -> tuple[np.ndarray, torch.Tensor]:
        self._check_fitted()
        p = check_momenta(momenta, self.process.labels)
        x = torch.as_tensor(self.preprocessing_.features(p), dtype=torch.float32, device=torch.device(self.device))
        return p, x

    def predict_uncertainty(self, momenta: Any, n_draws: int | None = None) -> SurrogatePrediction:
        """Components with sigma_stat, sigma_syst (and the ensemble spread) at momenta (N, P, 4).

        The central value is the network with its mean weights (averaged over members, plus the
        validation ``mean_shift_``): the mean
        of a finite number of weight draws carries a Monte Carlo offset common to all points (each
        draw is one function), of size sigma_stat / sqrt(n_draws). sigma_stat is the spread of the
        draws (pooled over members) and sigma_syst the mean heteroscedastic width of the draws."""
        n_draws = self.config.n_draws if n_draws is None else int(n_draws)
        if n_draws < 2:
            raise InvalidParameterError(f"n_draws must be at least 2, got {n_draws}")
        p, x = self._inputs(momenta)
        return self._prediction(p, *self._moments(x, n_draws))

    def _prediction(self, p: np.ndarray, maps: np.ndarray, mean: np.ndarray, var_stat: np.ndarray,
                    var_syst: np.ndarray) -> SurrogatePrediction:
        """Moments (:meth:`_moments`) at momenta p in physics units, with the mean shift and the
        recalibration factors applied."""
        mean = mean + self.mean_shift_
        k = self.sigma_scale_  # per component, on the physical sigmas (linear in the network's)
        a, s_stat, s_syst = self.preprocessing_.to_physics(p, mean, var_stat, var_syst)
        s_ens = None
        if len(self.members_) > 1:
            c = self.n_components
            _, s_ens, _ = self.preprocessing_.to_physics(p, mean, maps[..., :c].var(axis=0, ddof=1), var_syst)
            s_ens = k * s_ens
        return SurrogatePrediction(a, k * s_stat, k * s_syst, s_ens)

    def _moments(self, x: torch.Tensor, n_draws: int) -> tuple[np.ndarray, ...]:
        """In standardised target units, without mean shift and recalibration: the members'
        mean-weight outputs (K, N, 2 C), their average (N, C), var_stat and var_syst (N, C)."""
        c = self.n_components
        maps = self._map_outputs(x)
        if self.config.bayesian:
            means, variances = self._draws(x, n_draws)  # (K, M, N, C)
            var_stat = means.reshape(-1, *means.shape[2:]).var(axis=0, ddof=1)
            var_syst = variances.reshape(-1, *variances.shape[2:]).mean(axis=0)
        else:
            var_stat = maps[..., :c].var(axis=0, ddof=1)
            var_syst = np.exp(maps[..., c:]).mean(axis=0)
        return maps, maps[..., :c].mean(axis=0), var_stat, var_syst

    def predict(self, momenta: Any) -> np.ndarray:
        """Components (N, C) from the mean weights (averaged over ensemble members): one network
        call per member, the fast path used inside event generation."""
        p, x = self._inputs(momenta)
        mean = self._map_outputs(x)[..., : self.n_components].mean(axis=0) + self.mean_shift_
        zero = np.zeros_like(mean)
        return self.preprocessing_.to_physics(p, mean, zero, zero)[0]

    # ------------------------------------------------------------------ saving
    def _tensors(self) -> dict[str, torch.Tensor]:
        return {f"member{k}.{name}": t for k, net in enumerate(self.members_) for name, t in net.state_dict().items()}

    def _identity(self) -> dict[str, Any]:
        return {
            "process": self.process.name, "channel": self.channel.name,
            "couplings": {k: float(v) for k, v in sorted(self.channel.couplings.items())},
            "labels": list(self.process.labels), "n_components": self.n_components,
            "config": self.config.to_dict(), "preprocessing": self.preprocessing_.to_json(),
            "sigma_scale": [float(v) for v in self.sigma_scale_],
            "raw_validation_pull_width": self.raw_validation_pull_width_,
            "mean_shift": [float(v) for v in self.mean_shift_],
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write the folder ``path``: weights.pt (tensors only) and surrogate.json (everything else)."""
        self._check_fitted()
        tensors, identity = self._tensors(), self._identity()
        metadata = {
            "format": FORMAT_NAME, "version": FORMAT_VERSION, "identity": identity,
            "digest": weights_digest(tensors, identity), "model_id": self.model_id,
            "train": {**self.train.to_dict(), "betas": list(self.train.betas)},
            "history": [h.to_json() for h in self.history_],
            "versions": {"physinf": __version__, "torch": torch.__version__, "python": platform.python_version()},
        }
        return write_surrogate(path, tensors, metadata)

    @classmethod
    def load(cls, path: str | os.PathLike, process: str | Process | None = None, *, inputs: str | None = None,
             device: str = "auto") -> AmplitudeSurrogate:
        """Rebuild a saved surrogate. ``process`` (default: the registered one of the saved name) must
        be the process it was trained for, and ``inputs``, if given, its input convention;
        otherwise SurrogateMismatchError. Nothing from the files is executed."""
        tensors, meta = read_surrogate(path)
        ident = meta["identity"]
        if process is not None:
            name = process.name if isinstance(process, Process) else str(process)
            if name != ident["process"]:
                raise SurrogateMismatchError(
                    f"{path} is a surrogate for process {ident['process']!r}, not {name!r}; train one for {name!r}"
                )
        if inputs is not None and inputs != ident["config"]["inputs"]:
            raise SurrogateMismatchError(
                f"{path} reads inputs {ident['config']['inputs']!r}, not {inputs!r}"
            )
        config = SurrogateConfig.from_dict(ident["config"])
        train = TrainConfig.from_dict({**meta["train"], "betas": tuple(meta["train"]["betas"])})
        new = cls(ident["process"] if process is None else process, ident["channel"], config, train, device)
        if list(new.process.labels) != ident["labels"]:
            raise SurrogateMismatchError(f"{path} was trained with momenta {ident['labels']}, the process has {list(new.process.labels)}")
        new.preprocessing_ = Preprocessing.from_json(ident["preprocessing"])
        # one common factor in surrogates saved before the per-component recalibration
        new.sigma_scale_ = np.broadcast_to(np.asarray(ident["sigma_scale"], dtype=float), (new.n_components,)).copy()
        # surrogates saved before the mean recalibration existed carry none: their outputs stay as trained
        new.mean_shift_ = np.asarray(ident.get("mean_shift", [0.0] * new.n_components), dtype=float)
        new.raw_validation_pull_width_ = float(ident["raw_validation_pull_width"])
        members = []
        for k in range(config.ensemble):
            net = build_network(config, new.preprocessing_.n_features, new.process.n_particles, new.n_components)
            prefix = f"member{k}."
            state = {name[len(prefix):]: t for name, t in tensors.items() if name.startswith(prefix)}
            try:
                net.load_state_dict(state)
            except RuntimeError as err:
                from physinf.learn.surrogate.errors import SurrogateFileError

                raise SurrogateFileError(f"the weights in {path} do not fit the saved network: {err}") from err
            members.append(net.to(torch.device(new.device)).eval())
        new.members_ = members
        new.history_ = [TrainHistory(**h) for h in meta.get("history", [])]
        new._model_id = meta["model_id"]
        saved_couplings = ident["couplings"]
        if {k: float(v) for k, v in sorted(new.channel.couplings.items())} != saved_couplings:
            raise SurrogateMismatchError(
                f"{path} was trained with the couplings {saved_couplings} of channel {ident['channel']!r}; the process "
                f"given has {dict(new.channel.couplings)} (other SM inputs?)"
            )
        return new
