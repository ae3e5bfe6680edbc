"""The workspace JSON of an EFT measurement: channels of templates, backgrounds and systematics.

One signal sample per morphing component (SM, c_i, c_i², c_i c_j) in every channel, each multiplied
by its monomial through the ``eftpoly`` modifier (:mod:`physinf.stats.modifier`), so the total signal
is SM + Σ c_i·int_i + Σ c_i c_j·quad_ij bin by bin. Backgrounds are further samples; systematics
are described in :mod:`physinf.stats.systematics`. All channels share the coefficients (one
parameter each), the ``lumi`` parameter and shape systematics of the same name; MC-statistics
parameters are per channel (``staterror_<channel>``).

Everything is validated here, before pyhf sees it: binning, finiteness, non-negative backgrounds
and data, a non-empty SM expectation in every bin, and positivity of the total yield everywhere
inside the coefficient bounds, channel by channel (:mod:`physinf.stats.positivity`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyhf

from physinf.stats._backend import validate_schema
from physinf.stats.errors import InvalidModelError, WorkspaceError
from physinf.stats.modifier import DEFAULT_BOUND, EFT_MODIFIER_TYPE
from physinf.stats.positivity import check_positive_yields
from physinf.stats.systematics import Systematics
from physinf.stats.templates import Templates, check_coefficient_names

__all__ = ["Background", "Channel", "as_channels", "build_workspace", "coefficient_bounds", "validate_workspace"]

_EFTPOLY_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "type": {"const": EFT_MODIFIER_TYPE},
        "data": {
            "type": "object",
            "properties": {
                "terms": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "properties": {
                            "scale": {"type": "number"},
                            "powers": {
                                "type": "object",
                                "additionalProperties": {"type": "integer", "minimum": 0},
                            },
                        },
                        "required": ["powers"],
                        "additionalProperties": False,
                    },
                }
            },
            "required": ["terms"],
            "additionalProperties": False,
        },
    },
    "required": ["name", "type", "data"],
    "additionalProperties": False,
}

@dataclass(frozen=True)
class Background:
    """A background sample: expected events per bin (independent of the coefficients)."""

    name: str
    yields: np.ndarray
    stat_errors: np.ndarray | None = None  # absolute MC error per bin (events)
    norm_uncertainty: float = 0.0  # relative normalisation uncertainty (normsys)
    edges: np.ndarray | None = None  # if given, must equal the signal binning


@dataclass(frozen=True)
class Channel:
    """One region of the measurement (signal or control region) named by its templates' ``channel``.

    ``data`` are the observed counts per bin; the default is the Asimov data at the SM."""

    templates: Templates
    backgrounds: tuple[Background, ...] = ()
    systematics: Systematics = Systematics()  # noqa: RUF009 (frozen dataclass, immutable default)
    data: np.ndarray | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.templates, Templates):
            raise InvalidModelError(f"a Channel needs Templates, got {type(self.templates).__name__}")
        object.__setattr__(self, "backgrounds", tuple(self.backgrounds))
        for bkg in self.backgrounds:
            if not isinstance(bkg, Background):
                raise InvalidModelError(f"channel {self.name!r}: backgrounds must be Background objects, got {type(bkg).__name__}")
        if not isinstance(self.systematics, Systematics):
            raise InvalidModelError(f"channel {self.name!r}: systematics must be a Systematics, got {type(self.systematics).__name__}")

    @property
    def name(self) -> str:
        return self.templates.channel


def as_channels(
    channels: Templates | Channel | Sequence[Channel],
    backgrounds: Sequence[Background] = (),
    systematics: Systematics = Systematics(),  # noqa: B008 (frozen dataclass, immutable default)
    data: np.ndarray | None = None,
) -> tuple[Channel, ...]:
    """The channels of a measurement: one from templates (+ backgrounds, systematics, data), or those given.

    With :class:`Channel` objects, backgrounds, systematics and data belong to each channel, and
    passing them separately is an error. Channel names must be distinct and every channel must
    have the same coefficients (in the same order)."""
    if isinstance(channels, Templates):
        return (Channel(channels, tuple(backgrounds), systematics, data),)
    out = (channels,) if isinstance(channels, Channel) else tuple(channels)
    if len(backgrounds) or data is not None or systematics != Systematics():
        raise InvalidModelError("with Channel objects, give backgrounds, systematics and data per Channel, not separately")
    if not out or not all(isinstance(ch, Channel) for ch in out):
        raise InvalidModelError("channels must be Templates, a Channel, or a non-empty sequence of Channel objects")
    names = [ch.name for ch in out]
    if len(set(names)) != len(names):
        raise InvalidModelError(f"channel names must be distinct, got {names}; set them with histogram_templates(..., channel=...)")
    coefficients = out[0].templates.coefficients
    for ch in out[1:]:
        if ch.templates.coefficients != coefficients:
            raise InvalidModelError(
                f"channel {ch.name!r} has coefficients {ch.templates.coefficients} but channel {out[0].name!r} has "
                f"{coefficients}; all channels must share the same coefficients in the same order"
            )
    return out


def coefficient_bounds(names: Sequence[str], bounds: Mapping[str, tuple[float, float]] | None) -> dict[str, tuple[float, float]]:
    """Bounds for every coefficient (default ±DEFAULT_BOUND); each finite and containing the SM point 0."""
    bounds = dict(bounds or {})
    check_coefficient_names(bounds, names)
    out = {}
    for c in names:
        pair = np.asarray(bounds.get(c, (-DEFAULT_BOUND, DEFAULT_BOUND)), dtype=float)
        if not (pair.shape == (2,) and np.all(np.isfinite(pair)) and pair[0] < 0 < pair[1]):
            raise InvalidModelError(f"bounds for {c!r} must be a finite (low, high) pair containing the SM point 0, got {bounds[c]}")
        out[c] = (float(pair[0]), float(pair[1]))
    return out


def _as_bins(values: np.ndarray, n_bins: int, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.shape != (n_bins,):
        raise InvalidModelError(f"{what} has shape {arr.shape} but the binning has {n_bins} bins (inconsistent binning)")
    if not np.all(np.isfinite(arr)):
        raise InvalidModelError(f"{what} contains non-finite values")
    return arr


def _background_total(ch: Channel) -> np.ndarray:
    """Σ backgrounds per bin, after checking each one's binning and sign."""
    t = ch.templates
    total = np.zeros(t.n_bins)
    for bkg in ch.backgrounds:
        if bkg.edges is not None and (len(bkg.edges) != len(t.edges) or not np.allclose(bkg.edges, t.edges, rtol=1e-12, atol=0)):
            raise InvalidModelError(
                f"background {bkg.name!r} in channel {ch.name!r} uses bin edges {bkg.edges} but the signal uses {t.edges}"
            )
        y = _as_bins(bkg.yields, t.n_bins, f"background {bkg.name!r}")
        if np.any(y < 0):
            raise InvalidModelError(f"background {bkg.name!r} in channel {ch.name!r} has negative yields {y}")
        total += y
    empty = np.flatnonzero(~(t.yields[0] + total > 0))
    if empty.size:
        raise InvalidModelError(
            f"bins {empty.tolist()} of channel {ch.name!r} have zero total expected events at the SM (signal + background); "
            "merge them into neighbours or choose other bin edges"
        )
    return total


def _signal_samples(ch: Channel, lumi_mod: list[dict]) -> list[dict]:
    t, syst = ch.templates, ch.systematics
    shapes = [
        (s.name, _as_bins(s.rel_up, t.n_bins, f"shape systematic {s.name!r} (up)"), _as_bins(s.rel_down, t.n_bins, f"shape systematic {s.name!r} (down)"))
        for s in syst.shapes
    ]
    samples = []
    for k, label in enumerate(t.labels):
        y = t.yields[k]
        mods: list[dict] = []
        if k > 0:
            powers = {c: int(p) for c, p in zip(t.coefficients, t.powers[k], strict=True) if p}
            mods.append({"name": "eft", "type": EFT_MODIFIER_TYPE, "data": {"terms": [{"scale": 1.0, "powers": powers}]}})
        mods += copy.deepcopy(lumi_mod)
        for name, up, down in shapes:
            mods.append({"name": name, "type": "histosys", "data": {"hi_data": (y * (1 + up)).tolist(), "lo_data": (y * (1 + down)).tolist()}})
        if k == 0 and syst.mc_stat:
            mods.append({"name": f"staterror_{ch.name}", "type": "staterror", "data": np.sqrt(t.sumw2[0, 0]).tolist()})
        samples.append({"name": f"signal_{label}", "data": y.tolist(), "modifiers": mods})
    return samples


def _background_samples(ch: Channel, lumi_mod: list[dict]) -> list[dict]:
    samples = []
    for bkg in ch.backgrounds:
        mods = copy.deepcopy(lumi_mod)
        if bkg.norm_uncertainty > 0:
            u = bkg.norm_uncertainty
            mods.append({"name": f"norm_{bkg.name}", "type": "normsys", "data": {"hi": 1 + u, "lo": 1 - u}})
        if ch.systematics.mc_stat and bkg.stat_errors is not None:
            err = _as_bins(bkg.stat_errors, ch.templates.n_bins, f"background {bkg.name!r} stat errors")
            mods.append({"name": f"staterror_{ch.name}", "type": "staterror", "data": err.tolist()})
        samples.append({"name": bkg.name, "data": np.asarray(bkg.yields, dtype=float).tolist(), "modifiers": mods})
    return samples


def _observed(ch: Channel, background: np.ndarray) -> list[float]:
    if ch.data is None:
        return (ch.templates.yields[0] + background).tolist()
    obs = _as_bins(ch.data, ch.templates.n_bins, f"data of channel {ch.name!r}")
    if np.any(obs < 0):
        raise InvalidModelError(f"observed counts in channel {ch.name!r} must be non-negative")
    return obs.tolist()


def build_workspace(
    channels: Templates | Channel | Sequence[Channel],
    backgrounds: Sequence[Background] = (),
    systematics: Systematics = Systematics(),  # noqa: B008 (frozen dataclass, immutable default)
    *,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    data: np.ndarray | None = None,
    poi: str | None = None,
) -> dict:
    """The workspace JSON (with ``eftpoly`` modifiers) of one or several channels.

    Args:
        channels: :class:`Templates` for one channel (with ``backgrounds``, ``systematics`` and
            ``data``), or :class:`Channel` objects, each with its own.
        bounds: coefficient bounds, shared by all channels (default ±10).
        data: observed counts per bin of a one-channel measurement; default the Asimov data at the SM.
        poi: the parameter of interest (default the first coefficient).

    Validates everything (binning, finiteness, positivity over the bounds in every channel) before returning.
    """
    chans = as_channels(channels, backgrounds, systematics, data)
    names = chans[0].templates.coefficients
    bounds = coefficient_bounds(names, bounds)
    if poi is not None:
        check_coefficient_names([poi], names)
    spec_channels, observations = [], []
    for ch in chans:
        background = _background_total(ch)
        check_positive_yields(ch.templates, background, bounds)
        lumi = ch.systematics.lumi
        lumi_mod = [{"name": "lumi", "type": "normsys", "data": {"hi": 1.0 + lumi, "lo": 1.0 - lumi}}] if lumi > 0 else []
        spec_channels.append({"name": ch.name, "samples": _signal_samples(ch, lumi_mod) + _background_samples(ch, lumi_mod)})
        observations.append({"name": ch.name, "data": _observed(ch, background)})
    spec = {
        "channels": spec_channels,
        "observations": observations,
        "measurements": [
            {
                "name": "eft",
                "config": {
                    "poi": poi or names[0],
                    "parameters": [{"name": c, "bounds": [list(bounds[c])], "inits": [0.0]} for c in names],
                },
            }
        ],
        "version": "1.0.0",
        "metadata": {
            "physinf": {
                "coefficients": list(names),
                "channels": [
                    {"name": ch.name, "edges": ch.templates.edges.tolist(), "luminosity_fb": ch.templates.luminosity_fb}
                    for ch in chans
                ],
            }
        },
    }
    validate_workspace(spec)
    return spec


def validate_workspace(spec: dict) -> None:
    """Check a workspace against the pyhf 1.0.0 schema; ``eftpoly`` modifiers against our own schema."""
    import jsonschema

    if not isinstance(spec, dict):
        raise WorkspaceError(f"a workspace must be a JSON object, got {type(spec).__name__}")
    std = copy.deepcopy(spec)
    std.pop("metadata", None)
    try:
        for ch in std.get("channels", []):
            for s in ch.get("samples", []):
                for m in [m for m in s.get("modifiers", []) if isinstance(m, dict) and m.get("type") == EFT_MODIFIER_TYPE]:
                    jsonschema.validate(m, _EFTPOLY_SCHEMA)
                s["modifiers"] = [m for m in s.get("modifiers", []) if not (isinstance(m, dict) and m.get("type") == EFT_MODIFIER_TYPE)]
        validate_schema(std, "workspace.json")
    except (jsonschema.ValidationError, pyhf.exceptions.InvalidSpecification, AttributeError, TypeError) as err:
        raise WorkspaceError(f"workspace fails the schema: {getattr(err, 'message', err)}") from err
