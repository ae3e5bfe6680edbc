"""Detector cards: the numbers of a fast detector, read from TOML presets and checked key by key.

A card holds what a Delphes card holds for the objects physinf reconstructs (docs/notes/physics.md
§8): per object the efficiency (binned in |η| and p_T), the energy or momentum resolution (per |η|
region), the isolation, and for jets the anti-kT radius, thresholds and b-tagging rates. Two
presets ship with the package (``atlas-like``, ``cms-like``, files in ``physinf/detector/presets``);
a user copies one (``physinf presets atlas-like > my.toml``), edits it and passes its path.

Every key is required unless documented as optional; an unknown (e.g. misspelled) key, a missing one
or a value out of range raises :class:`physinf.errors.InvalidParameterError` naming the key
(``photons.efficiency.values``) and what is allowed.

Formulas (the preset files repeat them):

* calorimeter (absolute, GeV): σ(E) = (f0 + f2 (|η| − η0)²) √((a E)² + b² E + c²);
* tracks (relative): σ(p_T)/p_T = √(a² + (b p_T)²), capped at 1;
* b-tagging: "tanh-rational" a tanh(b p_T) c / (1 + d p_T), "linear" a + b p_T.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np

from physinf.errors import InvalidParameterError, UnknownNameError, did_you_mean

__all__ = [
    "CARD_FORMAT_VERSION",
    "DetectorCard",
    "available_presets",
    "load_card",
    "preset_path",
]

CARD_FORMAT_VERSION = 1
_PRESETS = ("atlas-like", "cms-like")


# ----------------------------------------------------------------------------- small value types
def _bin_index(edges: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the (lower, upper] bin holding x (the first bin includes its lower edge) and a mask
    of values inside the edges."""
    idx = np.searchsorted(edges, x, side="left") - 1
    idx = np.where(x == edges[0], 0, idx)
    inside = (idx >= 0) & (idx < len(edges) - 1)
    return np.clip(idx, 0, len(edges) - 2), inside


@dataclass(frozen=True)
class BinnedTable:
    """A value per (|η|, p_T) bin, zero outside the edges; optional exponential roll-off at high p_T."""

    abs_eta_edges: tuple[float, ...]
    pt_edges: tuple[float, ...]
    values: tuple[tuple[float, ...], ...]
    rolloff_pt: float = math.inf
    rolloff_slope: float = 0.0

    def __call__(self, pt: np.ndarray, eta: np.ndarray) -> np.ndarray:
        ie, in_eta = _bin_index(np.asarray(self.abs_eta_edges), np.abs(eta))
        ip, in_pt = _bin_index(np.asarray(self.pt_edges), pt)
        out = np.asarray(self.values)[ie, ip] * (in_eta & in_pt)
        if self.rolloff_slope > 0:
            out = out * np.exp(-self.rolloff_slope * np.maximum(pt - self.rolloff_pt, 0.0))
        return out


@dataclass(frozen=True)
class CaloResolution:
    """σ(E) in GeV per |η| region (NaN outside the edges: no measurement there)."""

    abs_eta_edges: tuple[float, ...]
    a: tuple[float, ...]
    b: tuple[float, ...]
    c: tuple[float, ...]
    f0: tuple[float, ...]
    f2: tuple[float, ...]
    eta0: tuple[float, ...]

    def sigma(self, energy: np.ndarray, eta: np.ndarray) -> np.ndarray:
        abs_eta = np.abs(eta)
        i, inside = _bin_index(np.asarray(self.abs_eta_edges), abs_eta)
        a, b, c = (np.asarray(v)[i] for v in (self.a, self.b, self.c))
        f0, f2, eta0 = (np.asarray(v)[i] for v in (self.f0, self.f2, self.eta0))
        e = np.maximum(energy, 0.0)
        s = (f0 + f2 * (abs_eta - eta0) ** 2) * np.sqrt((a * e) ** 2 + b**2 * e + c**2)
        return np.where(inside, s, np.nan)


@dataclass(frozen=True)
class TrackResolution:
    """σ(p_T)/p_T = √(a² + (b p_T)²) per |η| region, capped at 1 (NaN outside the tracker)."""

    abs_eta_edges: tuple[float, ...]
    a: tuple[float, ...]
    b: tuple[float, ...]

    def relative(self, pt: np.ndarray, eta: np.ndarray) -> np.ndarray:
        i, inside = _bin_index(np.asarray(self.abs_eta_edges), np.abs(eta))
        a, b = np.asarray(self.a)[i], np.asarray(self.b)[i]
        return np.where(inside, np.minimum(np.sqrt(a**2 + (b * pt) ** 2), 1.0), np.nan)


@dataclass(frozen=True)
class Isolation:
    """Delphes isolation: candidate isolated if Σ p_T (other objects with p_T > pt_min within
    ΔR < delta_r) / p_T(candidate) ≤ max_ratio."""

    delta_r: float
    pt_min: float
    max_ratio: float


@dataclass(frozen=True)
class TagRate:
    """Tagging probability versus jet p_T (GeV)."""

    form: Literal["tanh-rational", "linear"]
    a: float
    b: float
    c: float = 1.0
    d: float = 0.0

    def __call__(self, pt: np.ndarray) -> np.ndarray:
        pt = np.asarray(pt, float)
        if self.form == "linear":
            return self.a + self.b * pt
        return self.a * np.tanh(self.b * pt) * self.c / (1.0 + self.d * pt)


@dataclass(frozen=True)
class JetCard:
    radius: float
    pt_min: float
    abs_eta_max: float
    angular_resolution: float
    energy_resolution: CaloResolution


@dataclass(frozen=True)
class PhotonCard:
    efficiency: BinnedTable
    energy_resolution: CaloResolution
    angular_resolution: float
    isolation: Isolation


@dataclass(frozen=True)
class LeptonCard:
    """Electrons (with ``energy_resolution``: track and ECAL combined) or muons (tracks only)."""

    tracking_efficiency: BinnedTable
    efficiency: BinnedTable
    momentum_resolution: TrackResolution
    angular_resolution: float
    isolation: Isolation
    dressing_delta_r: float
    energy_resolution: CaloResolution | None = None


@dataclass(frozen=True)
class BTagCard:
    delta_r: float
    parton_pt_min: float
    parton_abs_eta_max: float
    b: TagRate
    c: TagRate
    light: TagRate

    def probability(self, flavour: np.ndarray, pt: np.ndarray) -> np.ndarray:
        """Tagging probability of jets with truth flavour 5 (b), 4 (c) or other (light), clipped to [0, 1]."""
        p = np.where(flavour == 5, self.b(pt), np.where(flavour == 4, self.c(pt), self.light(pt)))
        return np.clip(p, 0.0, 1.0)


@dataclass(frozen=True)
class DetectorCard:
    """A complete fast-detector description (see the module docstring); build it with :func:`load_card`."""

    name: str
    description: str
    source: str
    jets: JetCard
    photons: PhotonCard
    electrons: LeptonCard
    muons: LeptonCard
    btag: BTagCard
    path: str = ""

    def summary(self) -> dict[str, Any]:
        """JSON-safe facts recorded in the provenance of every sample this card reconstructs."""
        return {"name": self.name, "source": self.source, "path": self.path, "jet_radius": self.jets.radius,
                "jet_pt_min": self.jets.pt_min, "jet_abs_eta_max": self.jets.abs_eta_max}


# ----------------------------------------------------------------------------- validation helpers
class _Table:
    """Checks one TOML table: every required key present, no unknown key, values converted."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise InvalidParameterError(f"{where} must be a table (key = value pairs), got {type(data).__name__}")
        self.data, self.where, self.used = data, where, set()

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def get(self, name: str, check: Callable[[Any, str], Any], what: str, default: Any = ...) -> Any:
        self.used.add(name)
        if name not in self.data:
            import difflib

            close = difflib.get_close_matches(name, [k for k in self.data if isinstance(k, str)], n=1, cutoff=0.75)
            if close and close[0] != name:
                raise InvalidParameterError(f"detector card: unknown key {self.key(close[0])!r}. Did you mean {name!r}? "
                                            f"(key {self.key(name)!r} is missing: {what})")
            if default is not ...:
                return default
            raise InvalidParameterError(f"detector card: missing key {self.key(name)!r} ({what})")
        return check(self.data[name], self.key(name))

    def done(self) -> None:
        unknown = [k for k in self.data if k not in self.used]
        if unknown:
            key = unknown[0]
            raise InvalidParameterError(
                f"detector card: unknown key {self.key(key)!r}; allowed keys here: {', '.join(sorted(self.used))}."
                f"{did_you_mean(key, sorted(self.used))}"
            )


def _number(lo: float = 0.0, hi: float = math.inf, *, lo_open: bool = False, finite: bool = True) -> Callable[[Any, str], float]:
    def check(v: Any, key: str) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v) or (finite and math.isinf(v)):
            raise InvalidParameterError(f"detector card: {key} = {v!r} must be a {'finite ' if finite else ''}number")
        if v < lo or v > hi or (lo_open and v == lo):
            interval = f"{'(' if lo_open else '['}{lo}, {hi}]"
            raise InvalidParameterError(f"detector card: {key} = {v!r} is out of range; allowed: {interval}")
        return float(v)
    return check


def _string(v: Any, key: str) -> str:
    if not isinstance(v, str):
        raise InvalidParameterError(f"detector card: {key} = {v!r} must be a string")
    return v


def _edges(v: Any, key: str, *, start: float | None = 0.0) -> tuple[float, ...]:
    if not isinstance(v, list) or len(v) < 2:
        raise InvalidParameterError(f"detector card: {key} must be a list of at least two increasing bin edges, got {v!r}")
    out = tuple(_number(0.0, math.inf, finite=False)(x, f"{key}[{i}]") for i, x in enumerate(v))
    if start is not None and out[0] != start:
        raise InvalidParameterError(f"detector card: {key} must start at {start} (|eta| bins start at the beam axis); "
                                    f"the first edge is {out[0]}")
    if any(b <= a for a, b in zip(out, out[1:])):
        raise InvalidParameterError(f"detector card: {key} = {list(out)} must be strictly increasing")
    return out


def _per_bin(v: Any, key: str, n: int, lo: float = 0.0, hi: float = math.inf) -> tuple[float, ...]:
    if not isinstance(v, list) or len(v) != n:
        raise InvalidParameterError(f"detector card: {key} must be a list of {n} numbers (one per |eta| bin), got {v!r}")
    return tuple(_number(lo, hi)(x, f"{key}[{i}]") for i, x in enumerate(v))


def _binned(v: Any, key: str) -> BinnedTable:
    t = _Table(v, key)
    eta = t.get("abs_eta_edges", _edges, "|eta| bin edges starting at 0")
    pt = t.get("pt_edges", lambda x, k: _edges(x, k, start=None), "pT bin edges in GeV")

    def values(x: Any, k: str) -> tuple[tuple[float, ...], ...]:
        if not isinstance(x, list) or len(x) != len(eta) - 1:
            raise InvalidParameterError(f"detector card: {k} must have one row per |eta| bin ({len(eta) - 1} rows), got {x!r}")
        return tuple(_per_bin(row, f"{k}[{i}]", len(pt) - 1, 0.0, 1.0) for i, row in enumerate(x))

    vals = t.get("values", values, "efficiencies in [0, 1], one row per |eta| bin and one column per pT bin")
    rolloff_pt = t.get("rolloff_pt", _number(), "pT above which the efficiency falls exponentially", math.inf)
    rolloff_slope = t.get("rolloff_slope", _number(), "slope of that fall (1/GeV)", 0.0)
    t.done()
    return BinnedTable(eta, pt, vals, rolloff_pt, rolloff_slope)


def _calo(v: Any, key: str) -> CaloResolution:
    t = _Table(v, key)
    eta = t.get("abs_eta_edges", _edges, "|eta| bin edges starting at 0")
    n = len(eta) - 1
    coeff = {name: t.get(name, lambda x, k: _per_bin(x, k, n), f"resolution coefficient {name}, one per |eta| bin")
             for name in ("a", "b", "c")}
    f0 = t.get("f0", lambda x, k: _per_bin(x, k, n), "eta-dependent prefactor f0", (1.0,) * n)
    f2 = t.get("f2", lambda x, k: _per_bin(x, k, n), "eta-dependent prefactor f2", (0.0,) * n)
    eta0 = t.get("eta0", lambda x, k: _per_bin(x, k, n), "eta-dependent prefactor eta0", (0.0,) * n)
    t.done()
    if any(f <= 0 for f in f0):
        raise InvalidParameterError(f"detector card: {key}.f0 must be positive in every |eta| bin, got {list(f0)}")
    if any(a == b == c == 0 for a, b, c in zip(coeff["a"], coeff["b"], coeff["c"])):
        raise InvalidParameterError(f"detector card: {key}: a, b and c are all zero in one |eta| bin (a perfect "
                                    "calorimeter); give a resolution or narrow abs_eta_edges")
    return CaloResolution(eta, coeff["a"], coeff["b"], coeff["c"], f0, f2, eta0)


def _track(v: Any, key: str) -> TrackResolution:
    t = _Table(v, key)
    eta = t.get("abs_eta_edges", _edges, "|eta| bin edges starting at 0")
    n = len(eta) - 1
    a = t.get("a", lambda x, k: _per_bin(x, k, n, 0.0, 1.0), "constant term of sigma(pT)/pT, one per |eta| bin")
    b = t.get("b", lambda x, k: _per_bin(x, k, n, 0.0, 1.0), "pT term of sigma(pT)/pT in 1/GeV, one per |eta| bin")
    t.done()
    return TrackResolution(eta, a, b)


def _isolation(v: Any, key: str) -> Isolation:
    t = _Table(v, key)
    out = Isolation(t.get("delta_r", _number(0.0, 2.0, lo_open=True), "isolation cone size"),
                    t.get("pt_min", _number(), "minimum pT of objects counted in the cone (GeV)"),
                    t.get("max_ratio", _number(0.0, lo_open=True), "maximum summed pT over candidate pT"))
    t.done()
    return out


def _tag_rate(v: Any, key: str) -> TagRate:
    t = _Table(v, key)
    form = t.get("form", _string, 'the form of the rate: "tanh-rational" or "linear"')
    if form not in ("tanh-rational", "linear"):
        raise InvalidParameterError(f"detector card: {key}.form = {form!r}; allowed: 'tanh-rational', 'linear'."
                                    f"{did_you_mean(form, ['tanh-rational', 'linear'])}")
    a = t.get("a", _number(-1.0, 1e6), "coefficient a")
    b = t.get("b", _number(-1.0, 1e6), "coefficient b")
    if form == "tanh-rational":
        rate = TagRate(form, a, b, t.get("c", _number(0.0, 1e6), "coefficient c"), t.get("d", _number(0.0, 1e6), "coefficient d"))
    else:
        rate = TagRate(form, a, b)
    t.done()
    pts = np.concatenate([[0.0], np.geomspace(1.0, 1e4, 200)])
    values = rate(pts)
    if np.any(values < -1e-12) or np.any(values > 1 + 1e-12):
        bad = pts[np.argmax((values < 0) | (values > 1))]
        raise InvalidParameterError(f"detector card: {key} gives a tagging probability {rate(np.array([bad]))[0]:.3g} at "
                                    f"pT = {bad:.4g} GeV; it must stay within [0, 1] for 0 <= pT <= 10 TeV")
    return rate


def _jets(v: Any) -> JetCard:
    t = _Table(v, "jets")
    out = JetCard(
        radius=t.get("radius", _number(0.0, 2.0, lo_open=True), "anti-kT radius R"),
        pt_min=t.get("pt_min", _number(), "minimum jet pT in GeV"),
        abs_eta_max=t.get("abs_eta_max", _number(0.0, 10.0, lo_open=True), "maximum jet |eta|"),
        angular_resolution=t.get("angular_resolution", _number(0.0, 1.0), "Gaussian width of the jet eta and phi smearing"),
        energy_resolution=t.get("energy_resolution", _calo, "calorimeter energy resolution table"),
    )
    t.done()
    return out


def _photons(v: Any) -> PhotonCard:
    t = _Table(v, "photons")
    out = PhotonCard(
        efficiency=t.get("efficiency", _binned, "efficiency table"),
        energy_resolution=t.get("energy_resolution", _calo, "ECAL energy resolution table"),
        angular_resolution=t.get("angular_resolution", _number(0.0, 1.0), "Gaussian width of the eta and phi smearing"),
        isolation=t.get("isolation", _isolation, "isolation criterion"),
    )
    t.done()
    return out


def _leptons(v: Any, where: str) -> LeptonCard:
    t = _Table(v, where)
    out = LeptonCard(
        tracking_efficiency=t.get("tracking_efficiency", _binned, "tracking efficiency table"),
        efficiency=t.get("efficiency", _binned, "identification efficiency table"),
        momentum_resolution=t.get("momentum_resolution", _track, "track momentum resolution table"),
        angular_resolution=t.get("angular_resolution", _number(0.0, 1.0), "Gaussian width of the eta and phi smearing"),
        isolation=t.get("isolation", _isolation, "isolation criterion"),
        dressing_delta_r=t.get("dressing_delta_r", _number(0.0, 1.0), "photons within this Delta R are added to the lepton"),
        energy_resolution=(t.get("energy_resolution", _calo, "ECAL energy resolution table (combined with the track)")
                           if where == "electrons" else None),
    )
    t.done()
    return out


def _btag(v: Any) -> BTagCard:
    t = _Table(v, "btag")
    out = BTagCard(
        delta_r=t.get("delta_r", _number(0.0, 2.0, lo_open=True), "flavour-association cone"),
        parton_pt_min=t.get("parton_pt_min", _number(), "minimum pT of flavour-defining partons"),
        parton_abs_eta_max=t.get("parton_abs_eta_max", _number(0.0, 10.0, lo_open=True), "maximum |eta| of flavour-defining partons"),
        b=t.get("b", _tag_rate, "b-jet tagging efficiency"),
        c=t.get("c", _tag_rate, "c-jet mistag rate"),
        light=t.get("light", _tag_rate, "light-jet mistag rate"),
    )
    t.done()
    return out


def card_from_dict(data: dict[str, Any], *, path: str = "") -> DetectorCard:
    """Build and check a card from the parsed TOML (the structure of the preset files)."""
    t = _Table(data, "")
    version = t.get("format_version", _number(1, 1e9), "card format version (this physinf reads 1)")
    if version != CARD_FORMAT_VERSION:
        raise InvalidParameterError(f"detector card: format_version = {version:g}; this physinf reads version {CARD_FORMAT_VERSION}")
    card = DetectorCard(
        name=t.get("name", _string, "preset name"),
        description=t.get("description", _string, "one-line description"),
        source=t.get("source", _string, "where the numbers come from"),
        jets=t.get("jets", lambda x, k: _jets(x), "[jets] table"),
        photons=t.get("photons", lambda x, k: _photons(x), "[photons] table"),
        electrons=t.get("electrons", lambda x, k: _leptons(x, "electrons"), "[electrons] table"),
        muons=t.get("muons", lambda x, k: _leptons(x, "muons"), "[muons] table"),
        btag=t.get("btag", lambda x, k: _btag(x), "[btag] table"),
        path=path,
    )
    t.done()
    return card


# ----------------------------------------------------------------------------- presets
def available_presets() -> dict[str, str]:
    """Preset name -> one-line description, for the presets shipped with physinf."""
    return {name: load_card(name).description for name in _PRESETS}


def preset_path(name: str) -> Path:
    """Path of a shipped preset file; UnknownNameError (with suggestions) for an unknown name."""
    if name not in _PRESETS:
        raise UnknownNameError(f"unknown detector preset {name!r}; presets: {', '.join(_PRESETS)} "
                               f"(or pass the path of a .toml card).{did_you_mean(name, list(_PRESETS))}")
    return Path(str(resources.files("physinf.detector") / "presets" / f"{name}.toml"))


def load_card(preset: str | os.PathLike) -> DetectorCard:
    """A detector card from a preset name (``"atlas-like"``) or the path of a TOML card file."""
    text_name = os.fspath(preset)
    if isinstance(preset, str) and preset in _PRESETS:
        path = preset_path(preset)
    else:
        path = Path(text_name)
        if not path.exists():
            if path.suffix != ".toml" and os.sep not in text_name:
                preset_path(text_name)  # raises UnknownNameError with suggestions
            raise InvalidParameterError(f"detector card file {path} does not exist; pass a preset name "
                                        f"({', '.join(_PRESETS)}) or the path of a .toml card")
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as err:
        raise InvalidParameterError(f"detector card {path} is not valid TOML: {err}") from err
    except OSError as err:
        raise InvalidParameterError(f"cannot read detector card {path}: {err.strerror or err}") from err
    try:
        return card_from_dict(data, path=str(path))
    except InvalidParameterError as err:
        raise InvalidParameterError(f"{path}: {err}") from err
