"""The likelihood: a pyhf model with Wilson-coefficient yields, its data, and where it came from.

:func:`build_likelihood` builds one from templates (one or several channels, see
:mod:`physinf.stats.workspace`); :func:`load_likelihood` reads any workspace JSON, standard
HistFactory or with ``eftpoly`` modifiers. pyhf runs on its numpy backend inside
:mod:`physinf.stats._backend` sections, which are safe to use from several threads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyhf

from physinf.stats._backend import numpy_backend, quiet_schema
from physinf.stats.errors import InvalidModelError, WorkspaceError
from physinf.stats.modifier import EFT_MODIFIER_TYPE, eft_modifier_set
from physinf.stats.systematics import Systematics
from physinf.stats.templates import Templates, check_coefficient_names
from physinf.stats.workspace import Background, Channel, as_channels, build_workspace, validate_workspace

__all__ = ["Likelihood", "build_likelihood", "load_likelihood"]

_PYHF_ERRORS = (
    pyhf.exceptions.InvalidModel,
    pyhf.exceptions.InvalidMeasurement,
    pyhf.exceptions.InvalidModifier,
    pyhf.exceptions.InvalidSpecification,
    pyhf.exceptions.InvalidNameReuse,
    pyhf.exceptions.InvalidPdfData,
    pyhf.exceptions.UnspecifiedPOI,
)


@dataclass(frozen=True)
class Likelihood:
    """A pyhf model with EFT yields, its data and where it came from.

    Main bins (in ``data``, :meth:`expected_yields`, :meth:`with_data`) follow pyhf's channel
    order, ``model.config.channels`` (sorted by name), with ``model.config.channel_slices``."""

    model: pyhf.Model
    data: np.ndarray  # main data followed by auxdata
    workspace: dict
    coefficients: tuple[str, ...]
    bounds: dict[str, tuple[float, float]]
    channels: tuple[Channel, ...] = ()  # the inputs it was built from (empty when loaded from JSON)

    @property
    def templates(self) -> Templates | None:
        """The signal templates of a one-channel likelihood built from templates (None when loaded from JSON)."""
        return self._only_channel().templates if self.channels else None

    @property
    def backgrounds(self) -> tuple[Background, ...]:
        """The backgrounds of a one-channel likelihood built from templates (empty when loaded from JSON)."""
        return self._only_channel().backgrounds if self.channels else ()

    def _only_channel(self) -> Channel:
        if len(self.channels) != 1:
            raise InvalidModelError(
                f"this likelihood has {len(self.channels)} channels {[c.name for c in self.channels]}; use .channels"
            )
        return self.channels[0]

    def pars(self, theta: Mapping[str, float] | None = None) -> np.ndarray:
        """Suggested initial parameters with the coefficients set from ``theta`` (others 0)."""
        pars = np.asarray(self.model.config.suggested_init(), dtype=float)
        theta = dict(theta or {})
        check_coefficient_names(theta, self.coefficients)
        for c in self.coefficients:
            pars[self.model.config.par_slice(c)] = theta.get(c, 0.0)
        return pars

    def asimov_data(self, theta: Mapping[str, float] | None = None) -> np.ndarray:
        """Expected data (main + auxdata) at θ with nuisance parameters at nominal: the Asimov set."""
        with numpy_backend():
            return np.asarray(self.model.expected_data(self.pars(theta)), dtype=float)

    def expected_yields(self, theta: Mapping[str, float] | None = None) -> np.ndarray:
        """Total expected events per main bin at θ (nuisances nominal), all channels in pyhf's order."""
        with numpy_backend():
            return np.asarray(self.model.expected_actualdata(self.pars(theta)), dtype=float)

    def with_data(self, data: np.ndarray) -> Likelihood:
        """The same model with other data (main bins only, or main + aux)."""
        data = np.asarray(data, dtype=float)
        n_main = self.model.config.nmaindata
        aux = np.asarray(self.model.config.auxdata, dtype=float)
        if data.shape == (n_main,):
            data = np.concatenate([data, aux])
        if data.shape != (n_main + len(aux),) or not np.all(np.isfinite(data)) or np.any(data[:n_main] < 0):
            raise InvalidModelError(
                f"data must be {n_main} finite non-negative bin counts (optionally followed by the auxdata), got shape {data.shape}"
            )
        return Likelihood(self.model, data, self.workspace, self.coefficients, self.bounds, self.channels)


def _eft_coefficients(spec: dict) -> tuple[str, ...]:
    """The coefficient names: from physinf's metadata, else every coefficient an ``eftpoly`` modifier uses."""
    names = spec.get("metadata", {}).get("physinf", {}).get("coefficients", [])
    if not names:
        used = {
            c
            for ch in spec["channels"]
            for s in ch["samples"]
            for m in s["modifiers"]
            if m["type"] == EFT_MODIFIER_TYPE
            for t in m["data"]["terms"]
            for c in t["powers"]
        }
        names = sorted(used)
    return tuple(dict.fromkeys(names))


def load_likelihood(spec: dict, measurement: str | None = None) -> Likelihood:
    """A :class:`Likelihood` from a workspace JSON (standard or with ``eftpoly`` modifiers)."""
    validate_workspace(spec)
    try:
        with quiet_schema(), numpy_backend():
            ws = pyhf.Workspace(spec, validate=False)
            model = ws.model(measurement_name=measurement, modifier_set=eft_modifier_set(), validate=False)
            data = np.asarray(ws.data(model), dtype=float)
    except _PYHF_ERRORS as err:
        raise WorkspaceError(f"pyhf cannot build a model from this workspace: {err}") from err
    names = _eft_coefficients(spec)
    bounds = {c: tuple(model.config.suggested_bounds()[model.config.par_slice(c)][0]) for c in names}
    return Likelihood(model, data, spec, names, bounds)


def build_likelihood(
    channels: Templates | Channel | Sequence[Channel],
    backgrounds: Sequence[Background] = (),
    systematics: Systematics = Systematics(),  # noqa: B008 (frozen dataclass, immutable default)
    *,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    data: np.ndarray | None = None,
    poi: str | None = None,
) -> Likelihood:
    """Templates (+ backgrounds, systematics), or several :class:`Channel`, to a :class:`Likelihood`.

    See :func:`build_workspace` for the arguments."""
    chans = as_channels(channels, backgrounds, systematics, data)
    spec = build_workspace(chans, bounds=bounds, poi=poi)
    lh = load_likelihood(spec)
    return Likelihood(lh.model, lh.data, spec, chans[0].templates.coefficients, lh.bounds, chans)
