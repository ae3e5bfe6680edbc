"""Systematic uncertainties of a channel: luminosity, MC statistics and shape variations.

- luminosity: one ``normsys`` named ``lumi`` on every sample (the same parameter in every channel);
- theory scale variations and the amplitude-surrogate uncertainty: ``histosys`` on every signal
  sample, from the per-bin relative shift of the SM (:class:`ShapeSystematic`; a shape of the same
  name in several channels is one parameter, i.e. fully correlated);
- Monte-Carlo statistics: ``staterror`` (one set of parameters per channel) on the SM signal sample
  and on the backgrounds. Interference templates carry no staterror of their own (pyhf freezes
  staterror on negative samples); their MC error at any θ is available from
  :meth:`Templates.stat_error_at` and goes into the exported patchset signal sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physinf.stats.errors import InvalidModelError

__all__ = ["ShapeSystematic", "Systematics", "relative_variation", "scale_systematic"]


@dataclass(frozen=True)
class ShapeSystematic:
    """A shape uncertainty as relative per-bin shifts of the signal, applied as ``histosys``."""

    name: str
    rel_up: np.ndarray
    rel_down: np.ndarray


@dataclass(frozen=True)
class Systematics:
    """Which systematics to include in a channel. Defaults: MC statistics only."""

    lumi: float = 0.0  # relative luminosity uncertainty, e.g. 0.017
    mc_stat: bool = True
    shapes: tuple[ShapeSystematic, ...] = ()

    def __post_init__(self) -> None:
        if not (np.isfinite(self.lumi) and 0 <= self.lumi < 1):
            raise InvalidModelError(f"the relative luminosity uncertainty must be in [0, 1), got {self.lumi}")
        object.__setattr__(self, "shapes", tuple(self.shapes))
        names = [s.name for s in self.shapes]
        if len(set(names)) != len(names):
            raise InvalidModelError(f"shape systematics need distinct names, got {names}")


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
