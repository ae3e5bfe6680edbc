"""Surrogates inside event generation, and their uncertainty as a systematic.

:class:`SurrogateModel` satisfies ``physinf.simulate.ComponentModel``: it keeps the process's
phase space, cuts, scale and observables and evaluates the amplitude components through trained
surrogates (batched, on the surrogate's device: CUDA when present). A surrogate serves every
channel whose couplings equal those it was trained with; the model offers exactly those channels
(train one surrogate per coupling group to cover a process completely). Its ``model_id``
identifies the networks and is recorded in ``sample.config.model``.

:func:`with_surrogate_uncertainty` re-evaluates the surrogate at a generated sample's events and
stores the weights with every amplitude shifted up and down by its sigma (``"surrogate_up"``,
``"surrogate_down"``), fully correlated across events: one nuisance parameter.
:func:`surrogate_systematic` turns them into a ``physinf.stats`` ShapeSystematic (histosys).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from physinf.errors import InvalidParameterError
from physinf.learn.surrogate.errors import SurrogateMismatchError
from physinf.learn.surrogate.surrogate import AmplitudeSurrogate
from theory.processes.base import Channel, Process

__all__ = ["SurrogateModel", "surrogate_systematic", "with_surrogate_uncertainty"]


def _key(channel: Channel) -> tuple:
    return tuple(sorted((k, float(v)) for k, v in channel.couplings.items()))


class SurrogateModel:
    """A process whose amplitude components come from trained surrogates.

    Args:
      surrogates: one fitted AmplitudeSurrogate, or several for different coupling groups.
      process: the process to stand in for (default: the surrogates'); its channel couplings
        must equal those the surrogates were trained with.
    The components are the surrogates' central values (``AmplitudeSurrogate.predict``: the
    networks with their mean weights), the same as in the calibration.
    """

    def __init__(self, surrogates: AmplitudeSurrogate | Sequence[AmplitudeSurrogate], process: Process | None = None) -> None:
        surrogates = [surrogates] if isinstance(surrogates, AmplitudeSurrogate) else list(surrogates)
        if not surrogates or not all(isinstance(s, AmplitudeSurrogate) for s in surrogates):
            raise InvalidParameterError("SurrogateModel needs one or more fitted AmplitudeSurrogate objects")
        self.process = surrogates[0].process if process is None else process
        self._groups: dict[tuple, AmplitudeSurrogate] = {}
        for s in surrogates:
            s._check_fitted()
            if s.process.name != self.process.name:
                raise SurrogateMismatchError(f"a surrogate for {s.process.name!r} cannot stand in for {self.process.name!r}")
            key = _key(s.channel)
            if key in self._groups:
                raise InvalidParameterError(f"two surrogates for the couplings of channel {s.channel.name!r}; give one")
            self._groups[key] = s
        self._channels = tuple(ch for ch in self.process.channels if _key(ch) in self._groups)
        if not self._channels:
            names = [s.channel.name for s in surrogates]
            raise SurrogateMismatchError(
                f"no channel of {self.process.name!r} has the couplings the surrogates were trained with ({names}); "
                "were they trained with other SM inputs?"
            )

    # ---- the ComponentModel contract, delegated to the process
    name = property(lambda self: self.process.name)
    labels = property(lambda self: self.process.labels)
    coefficients = property(lambda self: self.process.coefficients)
    collider = property(lambda self: self.process.collider)
    unlabelled_jets = property(lambda self: self.process.unlabelled_jets)
    default_cuts = property(lambda self: self.process.default_cuts)
    sm = property(lambda self: self.process.sm)
    powers = property(lambda self: self.process.powers)
    n_components = property(lambda self: self.process.n_components)
    n_particles = property(lambda self: self.process.n_particles)
    phase_space = property(lambda self: self.process.phase_space)
    visible = property(lambda self: self.process.visible)

    @property
    def channels(self) -> tuple[Channel, ...]:
        """The process's channels whose couplings a surrogate was trained with."""
        return self._channels

    @property
    def surrogates(self) -> tuple[AmplitudeSurrogate, ...]:
        return tuple(self._groups.values())

    @property
    def model_id(self) -> str:
        """The surrogate's id ("surrogate:<digest>"); for several, a digest of their ids."""
        ids = sorted(s.model_id for s in self._groups.values())
        if len(ids) == 1:
            return ids[0]
        return "surrogate:" + hashlib.sha256(",".join(ids).encode()).hexdigest()[:12]

    def scale(self, p: np.ndarray) -> np.ndarray:
        return self.process.scale(p)

    def observables(self, p: np.ndarray) -> dict[str, np.ndarray]:
        return self.process.observables(p)

    def surrogate_for(self, channel: Channel) -> AmplitudeSurrogate:
        try:
            return self._groups[_key(channel)]
        except KeyError:
            raise SurrogateMismatchError(
                f"no surrogate was trained with the couplings of channel {channel.name!r} of {self.process.name!r}"
            ) from None

    def components_for_channels(self, p: np.ndarray, channels: Sequence[Channel]) -> np.ndarray:
        """A_c(z) for each channel, (N, n_channels, C), one surrogate call per coupling group."""
        out = np.empty((len(p), len(channels), self.n_components))
        done: dict[tuple, np.ndarray] = {}
        for k, ch in enumerate(channels):
            key = _key(ch)
            if key not in done:
                done[key] = self.surrogate_for(ch).predict(p)
            out[:, k] = done[key]
        return out

    def __repr__(self) -> str:
        return f"<SurrogateModel {self.name}: {len(self._channels)} channels, {self.model_id}>"


def with_surrogate_uncertainty(sample: Any, model: SurrogateModel, *, sigma: str = "tot",
                               n_draws: int | None = None) -> Any:
    """The sample with weight variations "surrogate_up" / "surrogate_down": every component's
    weight shifted by +- its surrogate sigma ("tot", "stat" or "syst") at each event.

    The sample must have been generated with this model (``sample.config.model == model.model_id``).
    For an event, w_c = K A_c with K (flux, PDFs, Jacobian) common to all components, so the
    shifted weight is w_c +- w_0 sigma_c / A_0. With several coupling groups an event's sigma is
    that of the group of its drawn flavours (``sample.pdg``)."""
    if sigma not in ("tot", "stat", "syst"):
        raise InvalidParameterError(f"sigma must be 'tot', 'stat' or 'syst', got {sigma!r}")
    if sample.config is not None and sample.config.model != model.model_id:
        raise SurrogateMismatchError(
            f"the sample was generated with component model {sample.config.model!r}, not with {model.model_id!r}"
        )
    if sample.process != model.name:
        raise SurrogateMismatchError(f"the sample is of process {sample.process!r}, the model of {model.name!r}")
    table = {(tuple(ch.incoming), tuple(ch.outgoing[: model.n_particles - 2])): ch for ch in model.channels}
    keys = [(tuple(row[:2]), tuple(row[2:])) for row in np.asarray(sample.pdg).tolist()]
    groups: dict[int, list[int]] = {}
    surrogates = list(model._groups.values())
    for i, key in enumerate(keys):
        ch = table.get(key, model.channels[0]) if len(surrogates) > 1 else model.channels[0]
        groups.setdefault(id(model.surrogate_for(ch)), []).append(i)
    w = np.asarray(sample.weight_components)
    shift = np.zeros_like(w)
    for s in surrogates:
        index = np.asarray(groups.get(id(s), []), dtype=int)
        if len(index) == 0:
            continue
        p = np.asarray(sample.momenta[index])
        pred = s.predict_uncertainty(p, n_draws)
        sig = {"tot": pred.sigma_tot, "stat": pred.sigma_stat, "syst": pred.sigma_syst}[sigma]
        shift[index] = w[index, :1] * sig / pred.mean[:, :1]
    return replace(sample, variations={**sample.variations, "surrogate_up": w + shift, "surrogate_down": w - shift})


def surrogate_systematic(sample: Any, observable: Any, edges: Any, theta: Any = None, name: str = "surrogate") -> Any:
    """A ``physinf.stats.ShapeSystematic`` from the sample's surrogate variations: per-bin relative
    shifts of the weights at theta (default: the sample's reference point), up and down."""
    from physinf.stats import ShapeSystematic, relative_variation

    if not {"surrogate_up", "surrogate_down"} <= set(sample.variations):
        raise InvalidParameterError(
            "the sample has no surrogate_up / surrogate_down variations; add them with with_surrogate_uncertainty(sample, model)"
        )
    x = sample.observables[observable] if isinstance(observable, str) else np.asarray(observable, dtype=float)
    edges = np.asarray(edges, dtype=float)
    nominal = sample.weights(theta)
    up = relative_variation(x, nominal, sample.variation_weights("surrogate_up", theta), edges)
    down = relative_variation(x, nominal, sample.variation_weights("surrogate_down", theta), edges)
    return ShapeSystematic(name, up, down)
