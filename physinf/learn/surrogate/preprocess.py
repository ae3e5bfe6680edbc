"""Phase-space points and amplitudes as network inputs and targets, in float64.

Inputs (``SurrogateConfig.inputs``):
  "invariants": x_ij = log(|2 p_i.p_j| / s_hat) for every particle pair except the two beams,
  and log(s_hat / GeV^2); Lorentz invariant, and the soft/collinear poles of |M|^2 become
  straight lines in these variables;
  "momenta": the components of p_i / sqrt(s_hat) and log(s_hat / GeV^2).
Identical final-state particles under whose exchange |M|^2 is symmetric are first put in a
canonical order (descending energy in the partonic centre-of-mass frame, a Lorentz-invariant
key), so the network learns the function on one sector only.

Targets: |M|^2 of 2 -> n scattering has mass dimension 2 (2 - n) and so A * s_hat^(n-2) is
dimensionless. The first morphing component (the SM) is regressed as y = log(A_0 s_hat^(n-2)),
so an error in y is a relative error in A_0; every further component c (interference and
quadratic pieces, which may change sign) as the ratio r_c = A_c / A_0. Each column is then
standardised with means and widths fitted on the training set (kept in the saved surrogate).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from physinf.errors import InvalidParameterError, KinematicsError

__all__ = ["MOMENTUM_TOLERANCE", "Preprocessing", "canonical_order", "check_amplitudes", "check_momenta"]

MOMENTUM_TOLERANCE = 1e-6  # relative violation of momentum conservation accepted (float64 round-off is ~1e-13)


def check_momenta(p: Any, labels: tuple[str, ...], tolerance: float = MOMENTUM_TOLERANCE) -> np.ndarray:
    """Momenta (N, P, 4) in GeV, incoming first, finite and conserving momentum.

    Raises KinematicsError naming what is wrong: the shape (P must equal the process's
    particle count), non-finite entries, or sum p_in != sum p_out beyond ``tolerance`` times
    the incoming energy."""
    p = np.asarray(p, dtype=float)
    n_particles = len(labels)
    if p.ndim != 3 or p.shape[1:] != (n_particles, 4) or p.shape[0] == 0:
        raise KinematicsError(
            f"momenta must have shape (n_points, {n_particles}, 4) ordered as {list(labels)} "
            f"(incoming first, E, px, py, pz in GeV), got {p.shape}"
        )
    if not np.all(np.isfinite(p)):
        bad = int(np.sum(~np.all(np.isfinite(p), axis=(1, 2))))
        raise KinematicsError(f"{bad} of {len(p)} phase-space points have non-finite momenta; remove them")
    balance = p[:, 0] + p[:, 1] - p[:, 2:].sum(axis=1)
    energy = p[:, 0, 0] + p[:, 1, 0]
    if np.any(energy <= 0):
        raise KinematicsError("the incoming energies must be positive (momenta ordered incoming first, E first)")
    violation = np.max(np.abs(balance), axis=1) / energy
    bad = violation > tolerance
    if np.any(bad):
        worst = int(np.argmax(violation))
        raise KinematicsError(
            f"{int(bad.sum())} of {len(p)} phase-space points violate momentum conservation by more than "
            f"{tolerance:g} of the incoming energy (worst: point {worst}, {violation[worst]:.3g}); momenta must be "
            f"ordered as {list(labels)} with the incoming ones flowing in"
        )
    return p


def check_amplitudes(a: Any, n_points: int, n_components: int) -> np.ndarray:
    """Training targets (N, C): finite, with a positive first (SM) component."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 1 and n_components == 1:
        a = a[:, None]
    if a.shape != (n_points, n_components):
        raise InvalidParameterError(
            f"amplitudes must have shape ({n_points}, {n_components}) (one |M|^2 component per column), got {a.shape}"
        )
    if not np.all(np.isfinite(a)):
        raise InvalidParameterError(
            f"{int(np.sum(~np.all(np.isfinite(a), axis=1)))} training amplitudes are not finite; remove those points"
        )
    if np.any(a[:, 0] <= 0):
        raise InvalidParameterError(
            f"{int(np.sum(a[:, 0] <= 0))} training points have |M|^2 <= 0 in the SM component; a squared amplitude "
            "must be positive (check the momenta and cuts, or drop those points)"
        )
    return a


def canonical_order(p: np.ndarray, symmetric: tuple[int, ...]) -> np.ndarray:
    """Momenta with the particles ``symmetric`` sorted by descending energy in the partonic centre-of-mass
    frame, (p_a + p_b).p_i / sqrt(s_hat): a Lorentz-invariant key, so the order (and the invariant
    inputs) do not depend on the frame (others untouched)."""
    if len(symmetric) < 2:
        return p
    idx = np.asarray(symmetric)
    total = p[:, 0] + p[:, 1]
    key = _minkowski(total[:, None, :], p[:, idx])
    order = np.argsort(-key, axis=1, kind="stable")
    out = p.copy()
    out[:, idx] = np.take_along_axis(p[:, idx], order[..., None], axis=1)
    return out


def _minkowski(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[..., 0] * b[..., 0] - np.sum(a[..., 1:] * b[..., 1:], axis=-1)


def _shat(p: np.ndarray) -> np.ndarray:
    total = p[:, 0] + p[:, 1]
    return _minkowski(total, total)


def raw_features(p: np.ndarray, inputs: str) -> np.ndarray:
    """Unstandardised input features (N, F) of canonically ordered momenta (float64)."""
    shat = _shat(p)
    if np.any(shat <= 0):
        raise KinematicsError("the incoming momenta must have a positive invariant mass s_hat")
    log_shat = np.log(shat)[:, None]
    if inputs == "momenta":
        return np.concatenate([(p / np.sqrt(shat)[:, None, None]).reshape(len(p), -1), log_shat], axis=1)
    pairs = [(i, j) for i, j in itertools.combinations(range(p.shape[1]), 2) if (i, j) != (0, 1)]
    cols = [np.log(np.abs(2.0 * _minkowski(p[:, i], p[:, j])) / shat) for i, j in pairs]
    return np.stack(cols + [log_shat[:, 0]], axis=1)


@dataclass(frozen=True)
class Preprocessing:
    """Fitted float64 transformations between physics and network units (saved as JSON)."""

    labels: tuple[str, ...]
    inputs: str
    symmetric: tuple[int, ...]
    scale_power: int
    feature_mean: np.ndarray
    feature_std: np.ndarray
    target_mean: np.ndarray
    target_std: np.ndarray

    @classmethod
    def fit(cls, p: np.ndarray, a: np.ndarray, labels: tuple[str, ...], inputs: str,
            symmetric: tuple[int, ...], covariant: bool = False) -> Preprocessing:
        """Scalers from training points. ``covariant``: leave the momentum columns as p / sqrt(s_hat)
        (a per-component standardisation would break Lorentz covariance for an equivariant backbone)."""
        scale_power = len(labels) - 4  # n_final - 2
        ordered = canonical_order(p, symmetric)
        f = raw_features(ordered, inputs)
        y = cls._raw_targets(a, _shat(ordered), scale_power)
        fstd = f.std(axis=0)
        ystd = y.std(axis=0)
        fmean = f.mean(axis=0)
        if covariant:
            fmean[:-1], fstd[:-1] = 0.0, 1.0
        # a constant column (e.g. fixed s_hat at a lepton collider) is left centred but unscaled
        return cls(tuple(labels), inputs, tuple(int(i) for i in symmetric), scale_power, fmean,
                   np.where(fstd > 1e-12, fstd, 1.0), y.mean(axis=0), np.where(ystd > 1e-12, ystd, 1.0))

    @staticmethod
    def _raw_targets(a: np.ndarray, shat: np.ndarray, scale_power: int) -> np.ndarray:
        y0 = np.log(a[:, 0]) + scale_power * np.log(shat)
        ratios = a[:, 1:] / a[:, :1]
        return np.concatenate([y0[:, None], ratios], axis=1)

    @property
    def n_features(self) -> int:
        return len(self.feature_mean)

    def features(self, p: np.ndarray) -> np.ndarray:
        ordered = canonical_order(p, self.symmetric)
        return (raw_features(ordered, self.inputs) - self.feature_mean) / self.feature_std

    def targets(self, p: np.ndarray, a: np.ndarray) -> np.ndarray:
        y = self._raw_targets(a, _shat(canonical_order(p, self.symmetric)), self.scale_power)
        return (y - self.target_mean) / self.target_std

    def to_physics(self, p: np.ndarray, mean: np.ndarray, var_stat: np.ndarray, var_syst: np.ndarray):
        """Amplitude components and their absolute sigma_stat, sigma_syst from network units.

        mean, var_*: (N, C) in standardised target units. Component 0: A_0 = exp(y) s_hat^-(n-2)
        and sigma_A0 = A_0 std_0 sigma_y (a relative error in y is linear for sigma << 1);
        components c >= 1: A_c = r_c A_0, sigma_Ac^2 = (A_0 sigma_r)^2 + (r_c sigma_A0)^2."""
        shat = _shat(canonical_order(p, self.symmetric))
        y = mean * self.target_std + self.target_mean
        a0 = np.exp(y[:, 0] - self.scale_power * np.log(shat))
        out = np.empty_like(y)
        out[:, 0] = a0
        out[:, 1:] = y[:, 1:] * a0[:, None]
        sig = []
        for var in (var_stat, var_syst):
            s = np.sqrt(np.maximum(var, 0.0)) * self.target_std
            s_abs = np.empty_like(s)
            s_abs[:, 0] = a0 * s[:, 0]
            s_abs[:, 1:] = np.sqrt((a0[:, None] * s[:, 1:]) ** 2 + (y[:, 1:] * s_abs[:, :1]) ** 2)
            sig.append(s_abs)
        return out, sig[0], sig[1]

    def to_json(self) -> dict[str, Any]:
        return {"labels": list(self.labels), "inputs": self.inputs, "symmetric": list(self.symmetric),
                "scale_power": self.scale_power, "feature_mean": self.feature_mean.tolist(),
                "feature_std": self.feature_std.tolist(), "target_mean": self.target_mean.tolist(),
                "target_std": self.target_std.tolist()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Preprocessing:
        arrays = {k: np.asarray(data[k], dtype=float) for k in ("feature_mean", "feature_std", "target_mean", "target_std")}
        return cls(tuple(data["labels"]), str(data["inputs"]), tuple(int(i) for i in data["symmetric"]),
                   int(data["scale_power"]), **arrays)
