"""Build a pyhf likelihood whose yields depend on Wilson coefficients exactly as the theory says.

One signal sample per morphing component (SM, c_i, c_i², c_i c_j), each multiplied by its
monomial through the ``eftpoly`` modifier (:mod:`physinf.stats.modifier`), so the total signal is
SM + Σ c_i·int_i + Σ c_i c_j·quad_ij bin by bin. Backgrounds are further samples. Systematics:

- luminosity: one ``normsys`` named ``lumi`` on every sample;
- theory scale variations and the amplitude-surrogate uncertainty: ``histosys`` on every signal
  sample, from the per-bin relative shift of the SM (:class:`ShapeSystematic`);
- Monte-Carlo statistics: ``staterror`` on the SM signal sample and on the backgrounds. Interference
  templates carry no staterror of their own (pyhf freezes staterror on negative samples); their MC
  error at any θ is available from :meth:`Templates.stat_error_at` and goes into the exported
  patchset signal sample.

Positivity. Interference templates have negative bins, so the total expected yield can go negative
for large |c|, where the Poisson log-likelihood is undefined (pyhf returns NaN). No clipping is
applied (it biases). Instead :func:`build_likelihood` checks that every bin's total nominal yield is
positive everywhere inside the coefficient bounds and raises :class:`InvalidModelError` otherwise,
naming the bin and the offending point. Fits and scans stay inside the bounds; outside them the
model is not defined.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyhf

from physinf.stats.errors import InvalidModelError, UnknownCoefficientError, WorkspaceError
from physinf.stats.modifier import DEFAULT_BOUND, EFT_MODIFIER_TYPE, eft_modifier_set
from physinf.stats.templates import Templates

__all__ = [
    "Background",
    "ShapeSystematic",
    "Systematics",
    "Likelihood",
    "build_likelihood",
    "build_workspace",
    "load_likelihood",
    "validate_workspace",
    "relative_variation",
    "check_positive_yields",
]

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
class ShapeSystematic:
    """A shape uncertainty as relative per-bin shifts of the signal, applied as ``histosys``."""

    name: str
    rel_up: np.ndarray
    rel_down: np.ndarray


@dataclass(frozen=True)
class Systematics:
    """Which systematics to include. Defaults: MC statistics only."""

    lumi: float = 0.0  # relative luminosity uncertainty, e.g. 0.017
    mc_stat: bool = True
    shapes: tuple[ShapeSystematic, ...] = ()


@dataclass(frozen=True)
class Likelihood:
    """A pyhf model with EFT yields, its data and where it came from."""

    model: pyhf.Model
    data: np.ndarray  # main data followed by auxdata
    workspace: dict
    coefficients: tuple[str, ...]
    bounds: dict[str, tuple[float, float]]
    templates: Templates | None = None
    backgrounds: tuple[Background, ...] = field(default=())

    def pars(self, theta: Mapping[str, float] | None = None) -> np.ndarray:
        """Suggested initial parameters with the coefficients set from ``theta`` (others 0)."""
        pars = np.asarray(self.model.config.suggested_init(), dtype=float)
        theta = dict(theta or {})
        _check_names(theta, self.coefficients)
        for c in self.coefficients:
            pars[self.model.config.par_slice(c)] = theta.get(c, 0.0)
        return pars

    def asimov_data(self, theta: Mapping[str, float] | None = None) -> np.ndarray:
        """Expected data (main + auxdata) at θ with nuisance parameters at nominal: the Asimov set."""
        with _numpy():
            return np.asarray(self.model.expected_data(self.pars(theta)), dtype=float)

    def expected_yields(self, theta: Mapping[str, float] | None = None) -> np.ndarray:
        """Total expected events per bin at θ (nuisances nominal)."""
        with _numpy():
            return np.asarray(self.model.expected_actualdata(self.pars(theta)), dtype=float)

    def with_data(self, data: np.ndarray) -> Likelihood:
        """The same model with other data (main bins only, or main + aux)."""
        return _replace_data(self, data)


class _numpy:
    """Context manager: pyhf numpy backend (with the current optimizer kept) and restore afterwards."""

    def __init__(self, optimizer: object | None = None) -> None:
        self.optimizer = optimizer

    def __enter__(self) -> _numpy:
        self._prev = pyhf.get_backend()
        if self._prev[0].name != "numpy" or (self.optimizer is not None and self._prev[1] is not self.optimizer):
            pyhf.set_backend("numpy", self.optimizer or self._prev[1])
        return self

    def __exit__(self, *exc: object) -> None:
        tensorlib, optimizer = pyhf.get_backend()
        if tensorlib is not self._prev[0] or optimizer is not self._prev[1]:
            pyhf.set_backend(*self._prev)


def _check_names(theta: Mapping[str, float], names: Sequence[str]) -> None:
    from physinf.errors import did_you_mean

    for name in theta:
        if name not in names:
            raise UnknownCoefficientError(
                f"unknown coefficient {name!r}; the model has {list(names)}." + did_you_mean(name, list(names))
            )


def _replace_data(lh: Likelihood, data: np.ndarray) -> Likelihood:
    data = np.asarray(data, dtype=float)
    n_main = lh.model.config.nmaindata
    if data.shape == (n_main,):
        data = np.concatenate([data, np.asarray(lh.model.config.auxdata, dtype=float)])
    if data.shape != (n_main + len(lh.model.config.auxdata),) or not np.all(np.isfinite(data)) or np.any(data[:n_main] < 0):
        raise InvalidModelError(
            f"data must be {n_main} finite non-negative bin counts (optionally followed by the auxdata), got shape {data.shape}"
        )
    return Likelihood(lh.model, data, lh.workspace, lh.coefficients, lh.bounds, lh.templates, lh.backgrounds)


def relative_variation(observable: np.ndarray, nominal: np.ndarray, varied: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Per-bin relative shift Σ varied / Σ nominal − 1 (e.g. scale-varied weights or w·(1 ± u))."""
    x = np.asarray(observable, dtype=float)
    nom, _ = np.histogram(x, bins=edges, weights=np.asarray(nominal, dtype=float))
    var, _ = np.histogram(x, bins=edges, weights=np.asarray(varied, dtype=float))
    if np.any(nom <= 0) or not np.all(np.isfinite(var)):
        raise InvalidModelError("nominal histogram has empty or negative bins; the relative variation is undefined there")
    return var / nom - 1.0


def scale_systematic(sample: object, observable, edges: np.ndarray, theta=None, name: str = "muF") -> ShapeSystematic:
    """histosys from an EventSample's factorisation-scale variations (muF x 2 up, x 1/2 down).

    The relative per-bin shifts are evaluated at theta (default: the sample's reference point);
    they include the normalisation change, as scale uncertainties usually do. ``observable`` is
    the name of one of the sample's observables or an array of values (N,) (e.g. a score)."""
    variations = getattr(sample, "variations", {})
    if not {"muF_x2", "muF_x0.5"} <= set(variations):
        raise InvalidModelError(
            "the sample has no muF_x2 / muF_x0.5 variations; generate it with scale_factors=(0.5, 2.0)"
        )
    x = sample.observables[observable] if isinstance(observable, str) else np.asarray(observable, dtype=float)
    nominal = sample.weights(theta)
    up = relative_variation(x, nominal, sample.variation_weights("muF_x2", theta), edges)
    down = relative_variation(x, nominal, sample.variation_weights("muF_x0.5", theta), edges)
    return ShapeSystematic(name, up, down)


def check_positive_yields(
    templates: Templates, background: np.ndarray, bounds: Mapping[str, tuple[float, float]], n_grid: int = 100
) -> None:
    """Raise InvalidModelError unless SM + Σ f_k(c) T_k + background > 0 in every bin for all c in the bounds box.

    The minimum over the box is found per bin from a grid (plus the box corners) refined by L-BFGS-B.
    """
    from scipy.optimize import minimize

    names = templates.coefficients
    lo = np.array([bounds[c][0] for c in names])
    hi = np.array([bounds[c][1] for c in names])
    n = len(names)
    per_axis = {1: 20 * n_grid + 1, 2: 2 * n_grid + 1, 3: 41}.get(n, 0)
    if n <= 3:
        axes = [np.unique(np.concatenate([np.linspace(a, b, per_axis), [0.0] if a <= 0 <= b else []])) for a, b in zip(lo, hi, strict=True)]
        grid = np.array(list(itertools.product(*axes)))
    else:
        rng = np.random.default_rng(0)
        grid = np.concatenate([lo + (hi - lo) * rng.random((20000, n)), np.array(list(itertools.product(*zip(lo, hi, strict=True))))])
    f = np.prod(grid[:, None, :] ** templates.powers[None, :, :], axis=2)  # (n_pts, n_comp)
    totals = f @ templates.yields + background[None, :]
    for b in range(templates.n_bins):
        i = int(np.argmin(totals[:, b]))
        res = minimize(
            lambda c, b=b: float(templates.yields_at(c)[b] + background[b]),
            grid[i],
            bounds=list(zip(lo, hi, strict=True)),
            method="L-BFGS-B",
        )
        low, at = (res.fun, res.x) if res.fun < totals[i, b] else (totals[i, b], grid[i])
        if not low > 0:
            point = ", ".join(f"{c}={v:.4g}" for c, v in zip(names, at, strict=True))
            raise InvalidModelError(
                f"the total expected yield in bin {b} [{templates.edges[b]:.4g}, {templates.edges[b + 1]:.4g}) reaches "
                f"{low:.4g} <= 0 at {point} inside the coefficient bounds; the Poisson likelihood is undefined there. "
                "Narrow the bounds (or use templates with a positive quadratic term); yields are never clipped."
            )


def _as_bins(values: np.ndarray, n_bins: int, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.shape != (n_bins,):
        raise InvalidModelError(f"{what} has shape {arr.shape} but the binning has {n_bins} bins (inconsistent binning)")
    if not np.all(np.isfinite(arr)):
        raise InvalidModelError(f"{what} contains non-finite values")
    return arr


def build_workspace(
    templates: Templates,
    backgrounds: Sequence[Background] = (),
    systematics: Systematics = Systematics(),  # noqa: B008 (frozen dataclass, immutable default)
    bounds: Mapping[str, tuple[float, float]] | None = None,
    data: np.ndarray | None = None,
    channel: str = "SR",
    poi: str | None = None,
) -> dict:
    """The workspace JSON (with ``eftpoly`` modifiers) for templates + backgrounds + systematics.

    ``data`` (observed counts per bin) defaults to the Asimov data at the SM. Validates
    everything (binning, finiteness, positivity over the bounds) before returning.
    """
    names = templates.coefficients
    n_bins = templates.n_bins
    bounds = dict(bounds or {})
    _check_names(bounds, names)
    bounds = {c: tuple(float(v) for v in bounds.get(c, (-DEFAULT_BOUND, DEFAULT_BOUND))) for c in names}
    for c, (a, b) in bounds.items():
        if not (np.isfinite(a) and np.isfinite(b) and a < 0 < b):
            raise InvalidModelError(f"bounds for {c!r} must be finite and contain the SM point 0, got {(a, b)}")
    if poi is not None:
        _check_names({poi: 0.0}, names)
    bkg_total = np.zeros(n_bins)
    for bkg in backgrounds:
        if bkg.edges is not None and (
            len(bkg.edges) != len(templates.edges) or not np.allclose(bkg.edges, templates.edges, rtol=1e-12, atol=0)
        ):
            raise InvalidModelError(f"background {bkg.name!r} uses bin edges {bkg.edges} but the signal uses {templates.edges}")
        y = _as_bins(bkg.yields, n_bins, f"background {bkg.name!r}")
        if np.any(y < 0):
            raise InvalidModelError(f"background {bkg.name!r} has negative yields {y}")
        bkg_total += y
    sm_total = templates.yields[0] + bkg_total
    empty = np.flatnonzero(~(sm_total > 0))
    if empty.size:
        raise InvalidModelError(
            f"bins {empty.tolist()} have zero total expected events at the SM (signal + background); "
            "merge them into neighbours or choose other bin edges"
        )
    check_positive_yields(templates, bkg_total, bounds)

    lumi_mod = (
        [{"name": "lumi", "type": "normsys", "data": {"hi": 1.0 + systematics.lumi, "lo": 1.0 - systematics.lumi}}]
        if systematics.lumi > 0
        else []
    )
    shapes = []
    for shape in systematics.shapes:
        up = _as_bins(shape.rel_up, n_bins, f"shape systematic {shape.name!r} (up)")
        down = _as_bins(shape.rel_down, n_bins, f"shape systematic {shape.name!r} (down)")
        shapes.append((shape.name, up, down))
    samples = []
    for k, label in enumerate(templates.labels):
        t = templates.yields[k]
        mods: list[dict] = []
        if k > 0:
            powers = {c: int(p) for c, p in zip(names, templates.powers[k], strict=True) if p}
            mods.append({"name": "eft", "type": EFT_MODIFIER_TYPE, "data": {"terms": [{"scale": 1.0, "powers": powers}]}})
        mods += copy.deepcopy(lumi_mod)
        for name, up, down in shapes:
            mods.append({"name": name, "type": "histosys", "data": {"hi_data": (t * (1 + up)).tolist(), "lo_data": (t * (1 + down)).tolist()}})
        if k == 0 and systematics.mc_stat:
            mods.append({"name": f"staterror_{channel}", "type": "staterror", "data": np.sqrt(templates.sumw2[0, 0]).tolist()})
        samples.append({"name": f"signal_{label}", "data": t.tolist(), "modifiers": mods})
    for bkg in backgrounds:
        mods = copy.deepcopy(lumi_mod)
        if bkg.norm_uncertainty > 0:
            u = bkg.norm_uncertainty
            mods.append({"name": f"norm_{bkg.name}", "type": "normsys", "data": {"hi": 1 + u, "lo": 1 - u}})
        if systematics.mc_stat and bkg.stat_errors is not None:
            err = _as_bins(bkg.stat_errors, n_bins, f"background {bkg.name!r} stat errors")
            mods.append({"name": f"staterror_{channel}", "type": "staterror", "data": err.tolist()})
        samples.append({"name": bkg.name, "data": np.asarray(bkg.yields, dtype=float).tolist(), "modifiers": mods})
    if data is None:
        obs = (templates.yields[0] + bkg_total).tolist()
    else:
        obs = _as_bins(data, n_bins, "data")
        if np.any(obs < 0):
            raise InvalidModelError("observed counts must be non-negative")
        obs = obs.tolist()
    poi = poi or names[0]
    spec = {
        "channels": [{"name": channel, "samples": samples}],
        "observations": [{"name": channel, "data": obs}],
        "measurements": [
            {
                "name": "eft",
                "config": {
                    "poi": poi,
                    "parameters": [{"name": c, "bounds": [list(bounds[c])], "inits": [0.0]} for c in names],
                },
            }
        ],
        "version": "1.0.0",
        "metadata": {"physinf": {"edges": templates.edges.tolist(), "coefficients": list(names), "luminosity_fb": templates.luminosity}},
    }
    validate_workspace(spec)
    return spec


_PYHF_ERRORS = (
    pyhf.exceptions.InvalidModel,
    pyhf.exceptions.InvalidMeasurement,
    pyhf.exceptions.InvalidModifier,
    pyhf.exceptions.InvalidSpecification,
    pyhf.exceptions.InvalidNameReuse,
    pyhf.exceptions.InvalidPdfData,
    pyhf.exceptions.UnspecifiedPOI,
)


@contextlib.contextmanager
def quiet_schema() -> Iterator[None]:
    """Silence only pyhf 0.7.6's use of ``jsonschema.RefResolver`` (deprecated in jsonschema >= 4.18; harmless)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*RefResolver is deprecated", category=DeprecationWarning)
        yield


def _pyhf_validate(spec: dict, schema: str) -> None:
    with quiet_schema():
        pyhf.schema.validate(spec, schema)


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
        _pyhf_validate(std, "workspace.json")
    except (jsonschema.ValidationError, pyhf.exceptions.InvalidSpecification, AttributeError, TypeError) as err:
        raise WorkspaceError(f"workspace fails the schema: {getattr(err, 'message', err)}") from err


def load_likelihood(spec: dict, measurement: str | None = None) -> Likelihood:
    """A :class:`Likelihood` from a workspace JSON (standard or with ``eftpoly`` modifiers)."""
    validate_workspace(spec)
    try:
        with quiet_schema(), _numpy():
            ws = pyhf.Workspace(spec, validate=False)
            model = ws.model(measurement_name=measurement, modifier_set=eft_modifier_set(), validate=False)
            data = np.asarray(ws.data(model), dtype=float)
    except _PYHF_ERRORS as err:
        raise WorkspaceError(f"pyhf cannot build a model from this workspace: {err}") from err
    coefs = []
    for ch in spec["channels"]:
        for s in ch["samples"]:
            for m in s["modifiers"]:
                if m["type"] == EFT_MODIFIER_TYPE:
                    coefs += [c for t in m["data"]["terms"] for c in t["powers"]]
    names = tuple(dict.fromkeys(spec.get("metadata", {}).get("physinf", {}).get("coefficients", []) or sorted(set(coefs))))
    bounds = {c: tuple(model.config.suggested_bounds()[model.config.par_slice(c)][0]) for c in names}
    return Likelihood(model, data, spec, names, bounds)


def build_likelihood(
    templates: Templates,
    backgrounds: Sequence[Background] = (),
    systematics: Systematics = Systematics(),  # noqa: B008
    bounds: Mapping[str, tuple[float, float]] | None = None,
    data: np.ndarray | None = None,
    channel: str = "SR",
    poi: str | None = None,
) -> Likelihood:
    """Templates (+ backgrounds, systematics) to a :class:`Likelihood`; see :func:`build_workspace`."""
    spec = build_workspace(templates, backgrounds, systematics, bounds, data, channel, poi)
    lh = load_likelihood(spec)
    return Likelihood(lh.model, lh.data, spec, templates.coefficients, lh.bounds, templates, tuple(backgrounds))

