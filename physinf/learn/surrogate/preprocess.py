"""Phase-space points and amplitudes as network inputs and targets, in float64.

Inputs (``SurrogateConfig.inputs``):
  "invariants": x_ij = log(|2 p_i.p_j| / s_hat) for every particle pair except the two beams,
  and log(s_hat / GeV^2); Lorentz invariant, and the soft/collinear poles of |M|^2 become
  straight lines in these variables. The s_ij are parity even: a parity-odd amplitude piece
  (the interference of a CP-odd operator such as cHWtil, proportional to
  eps_{mu nu rho sigma} p_a^mu p_b^nu p_1^rho p_2^sigma) is not a function of them, only its
  square is (through the Gram determinant). When the exact amplitude is found to be parity odd
  (``pseudoscalar``), eps(p_a, p_b, p_1, p_2) / s_hat^2 is a further input: with momentum
  conservation every other such contraction follows from it and the s_ij;
  "momenta": the components of p_i / sqrt(s_hat) and log(s_hat / GeV^2).
Identical final-state particles under whose exchange |M|^2 is symmetric are first put in a
canonical order (descending energy in the partonic centre-of-mass frame, a Lorentz-invariant
key), and identical incoming particles likewise (the beam that makes the smaller invariant with
the first final-state particle first), so the network learns the function on one sector only:
for g g -> g g g, one of 2 x 3! = 12 copies of it.

Targets: |M|^2 of 2 -> n scattering has mass dimension 2 (2 - n) and so A * s_hat^(n-2) is
dimensionless. The first morphing component (the SM) is regressed as y = log(A_0 s_hat^(n-2)),
so an error in y is a relative error in A_0. The further components (``targets``):

  "quadratic_form" (chosen by "auto" when the components are every monomial of degree <= 2 in the
  Wilson coefficients, as for one insertion of dimension-6 operators): then
  A(theta) = |M_0 + sum_i c_i M_i|^2 summed over helicities and colours is a positive
  semi-definite quadratic form Q in (1, c_1, ..., c_k), Q_aa = A_aa (the SM and the quadratic
  pieces, positive) and Q_ab = A_ab / 2 (interference and cross terms). The diagonal pieces are
  regressed like the SM, as logs (relative precision wherever they are, though they span twelve
  decades in WBF), and each off-diagonal piece as its correlation
  rho_ab = A_ab / (2 sqrt(A_aa A_bb)), which Cauchy-Schwarz bounds to [-1, 1]. Predicted rho are
  clipped to that range, so every 2 x 2 minor of the predicted form is positive semi-definite:
  |M|^2(theta) is non-negative whenever one Wilson coefficient is switched on (with several at
  once the whole form is not constrained: bounded pairwise correlations do not make a 3 x 3
  correlation matrix positive semi-definite).
  "ratios": every further component as r_c = A_c / A_0 (any polynomial; but with heavy tails
  where the SM is suppressed: in WBF A_quad / A_SM reaches 3e6).

Each column is then standardised with means and widths fitted on the training set (kept in the
saved surrogate).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from physinf.errors import InvalidParameterError, KinematicsError

__all__ = ["MOMENTUM_TOLERANCE", "Preprocessing", "canonical_order", "check_amplitudes", "check_momenta",
           "levi_civita", "quadratic_form_pairs"]

MOMENTUM_TOLERANCE = 1e-6  # relative violation of momentum conservation accepted (float64 round-off is ~1e-13)
RHO_TOLERANCE = 1e-6  # |rho| may exceed 1 by float64 round-off of the exact components, not more


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


def quadratic_form_pairs(powers: np.ndarray) -> tuple[tuple[int, int], ...] | None:
    """For each component, the entry (a, b), a <= b, of the quadratic form in (1, c_1, ..., c_k)
    it belongs to (0 = the SM, i = c_i); None unless the components are exactly the monomials of
    degree <= 2 with the SM first."""
    powers = np.asarray(powers, dtype=int)
    if powers.ndim != 2 or len(powers) == 0 or np.any(powers < 0):
        return None
    pairs: list[tuple[int, int]] = []
    for row in powers:
        idx = [0, 0] + [i + 1 for i, e in enumerate(row) for _ in range(e)]
        if len(idx) > 4:
            return None
        pairs.append((idx[-2], idx[-1]))
    k = powers.shape[1]
    expected = {(a, b) for a in range(k + 1) for b in range(a, k + 1)}
    if pairs[0] != (0, 0) or set(pairs) != expected or len(pairs) != len(expected):
        return None
    return tuple(pairs)


def canonical_order(p: np.ndarray, symmetric: tuple[int, ...]) -> np.ndarray:
    """Momenta with the final-state particles among ``symmetric`` (indices >= 2) sorted by descending
    energy in the partonic centre-of-mass frame, (p_a + p_b).p_i / sqrt(s_hat), and then, when
    ``symmetric`` holds both beams (0 and 1), the beams ordered by ascending p_beam.p_2 (p_2 the
    first final-state particle after that ordering). Both keys are Lorentz invariant, so the order
    (and the invariant inputs) do not depend on the frame; other particles are untouched."""
    final = np.asarray([i for i in symmetric if i >= 2])
    beams = 0 in symmetric and 1 in symmetric
    if len(final) < 2 and not beams:
        return p
    out = p.copy()
    if len(final) >= 2:
        total = p[:, 0] + p[:, 1]
        key = _minkowski(total[:, None, :], p[:, final])
        order = np.argsort(-key, axis=1, kind="stable")
        out[:, final] = np.take_along_axis(p[:, final], order[..., None], axis=1)
    if beams:
        swap = _minkowski(out[:, 0], out[:, 2]) > _minkowski(out[:, 1], out[:, 2])
        out[swap, 0], out[swap, 1] = p[swap, 1], p[swap, 0]
    return out


def _minkowski(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[..., 0] * b[..., 0] - np.sum(a[..., 1:] * b[..., 1:], axis=-1)


def _shat(p: np.ndarray) -> np.ndarray:
    total = p[:, 0] + p[:, 1]
    return _minkowski(total, total)


def levi_civita(p: np.ndarray) -> np.ndarray:
    """The determinant of the contravariant components (E, px, py, pz) of the first four momenta (N,):
    eps_{mu nu rho sigma} p_0^mu p_1^nu p_2^rho p_3^sigma with eps_{0123} = +1, which is minus that
    contraction in the project's convention eps^{0123} = +1 (README, Conventions); odd under
    parity. As a network input only its being a pseudoscalar matters, not the sign convention."""
    return np.linalg.det(p[:, :4, :])


def raw_features(p: np.ndarray, inputs: str, pseudoscalar: bool = False) -> np.ndarray:
    """Unstandardised input features (N, F) of canonically ordered momenta (float64);
    ``pseudoscalar`` appends eps(p_a, p_b, p_1, p_2) / s_hat^2 to the invariants."""
    shat = _shat(p)
    if np.any(shat <= 0):
        raise KinematicsError("the incoming momenta must have a positive invariant mass s_hat")
    log_shat = np.log(shat)[:, None]
    if inputs == "momenta":
        return np.concatenate([(p / np.sqrt(shat)[:, None, None]).reshape(len(p), -1), log_shat], axis=1)
    pairs = [(i, j) for i, j in itertools.combinations(range(p.shape[1]), 2) if (i, j) != (0, 1)]
    cols = [np.log(np.abs(2.0 * _minkowski(p[:, i], p[:, j])) / shat) for i, j in pairs]
    if pseudoscalar:
        cols.append(levi_civita(p) / shat**2)
    return np.stack(cols[: len(pairs)] + [log_shat[:, 0]] + cols[len(pairs):], axis=1)


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
    pairs: tuple[tuple[int, int], ...] | None = None  # the quadratic-form targets; None: ratios
    pseudoscalar: bool = False  # eps(p_a, p_b, p_1, p_2) / s_hat^2 among the invariant inputs

    @classmethod
    def fit(cls, p: np.ndarray, a: np.ndarray, labels: tuple[str, ...], inputs: str,
            symmetric: tuple[int, ...], covariant: bool = False,
            pairs: tuple[tuple[int, int], ...] | None = None, pseudoscalar: bool = False) -> Preprocessing:
        """Scalers from training points. ``covariant``: leave the momentum columns as p / sqrt(s_hat)
        (a per-component standardisation would break Lorentz covariance for an equivariant backbone).
        ``pairs``: quadratic-form targets (see :func:`quadratic_form_pairs`); None: ratios.
        ``pseudoscalar``: the parity-odd input (invariants with at least five momenta only)."""
        scale_power = len(labels) - 4  # n_final - 2
        pseudoscalar = bool(pseudoscalar) and inputs == "invariants" and len(labels) >= 5
        ordered = canonical_order(p, symmetric)
        f = raw_features(ordered, inputs, pseudoscalar)
        y = _raw_targets(a, _shat(ordered), scale_power, pairs)
        fstd = f.std(axis=0)
        ystd = y.std(axis=0)
        fmean = f.mean(axis=0)
        if covariant:
            fmean[:-1], fstd[:-1] = 0.0, 1.0
        # a constant column (e.g. fixed s_hat at a lepton collider) is left centred but unscaled
        return cls(tuple(labels), inputs, tuple(int(i) for i in symmetric), scale_power, fmean,
                   np.where(fstd > 1e-12, fstd, 1.0), y.mean(axis=0), np.where(ystd > 1e-12, ystd, 1.0),
                   _int_pairs(pairs), pseudoscalar)

    @property
    def log_columns(self) -> np.ndarray:
        """The target columns that are log |M|^2 pieces (the SM, and the quadratic pieces)."""
        return np.array(_log_columns(self.pairs))

    @property
    def n_features(self) -> int:
        return len(self.feature_mean)

    def features(self, p: np.ndarray) -> np.ndarray:
        ordered = canonical_order(p, self.symmetric)
        return (raw_features(ordered, self.inputs, self.pseudoscalar) - self.feature_mean) / self.feature_std

    def targets(self, p: np.ndarray, a: np.ndarray) -> np.ndarray:
        y = _raw_targets(a, _shat(canonical_order(p, self.symmetric)), self.scale_power, self.pairs)
        return (y - self.target_mean) / self.target_std

    def to_physics(self, p: np.ndarray, mean: np.ndarray, var_stat: np.ndarray, var_syst: np.ndarray):
        """Amplitude components and their absolute sigma_stat, sigma_syst from network units.

        mean, var_*: (N, C) in standardised target units. A log column y: A = exp(y) s_hat^-(n-2)
        and sigma_A = A sigma_y (a relative error in y is linear for sigma << 1). Ratios:
        A_c = r_c A_0, sigma_Ac^2 = (A_0 sigma_r)^2 + (r_c sigma_A0)^2. Correlations:
        A_ab = 2 rho sqrt(A_aa A_bb), sigma^2 = (2 sqrt(A_aa A_bb) sigma_rho)^2
        + (A_ab / 2)^2 (sigma_aa^2 / A_aa^2 + sigma_bb^2 / A_bb^2), the errors of the columns
        taken as independent."""
        log_shat = np.log(_shat(canonical_order(p, self.symmetric)))
        y = mean * self.target_std + self.target_mean
        logs = self.log_columns
        out = np.empty_like(y)
        out[:, logs] = np.exp(y[:, logs] - self.scale_power * log_shat[:, None])
        rest = np.setdiff1d(np.arange(y.shape[1]), logs)
        scale = self._scales(out)  # A_0 for ratios, 2 sqrt(A_aa A_bb) for correlations
        out[:, rest] = np.clip(y[:, rest], -1.0, 1.0) * scale if self.pairs is not None else y[:, rest] * scale
        sig = []
        for var in (var_stat, var_syst):
            s = np.sqrt(np.maximum(var, 0.0)) * self.target_std
            s_abs = np.empty_like(s)
            s_abs[:, logs] = out[:, logs] * s[:, logs]
            if self.pairs is None:
                s_abs[:, rest] = np.sqrt((scale * s[:, rest]) ** 2 + (y[:, rest] * s_abs[:, :1]) ** 2)
            else:
                diag = _diagonal(self.pairs)
                for k, c in enumerate(rest):
                    i, j = self.pairs[c]
                    rel2 = s[:, diag[i]] ** 2 + s[:, diag[j]] ** 2
                    s_abs[:, c] = np.sqrt((scale[:, k] * s[:, c]) ** 2 + 0.25 * out[:, c] ** 2 * rel2)
            sig.append(s_abs)
        return out, sig[0], sig[1]

    def _scales(self, a: np.ndarray) -> np.ndarray:
        """(N, C - len(log_columns)): what multiplies the non-log targets, from the log components."""
        if self.pairs is None:
            return np.repeat(a[:, :1], a.shape[1] - 1, axis=1)
        return _pair_scales(a, self.pairs)

    def to_json(self) -> dict[str, Any]:
        return {"labels": list(self.labels), "inputs": self.inputs, "symmetric": list(self.symmetric),
                "scale_power": self.scale_power, "feature_mean": self.feature_mean.tolist(),
                "feature_std": self.feature_std.tolist(), "target_mean": self.target_mean.tolist(),
                "target_std": self.target_std.tolist(),
                "pairs": None if self.pairs is None else [list(ab) for ab in self.pairs],
                "pseudoscalar": self.pseudoscalar}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Preprocessing:
        arrays = {k: np.asarray(data[k], dtype=float) for k in ("feature_mean", "feature_std", "target_mean", "target_std")}
        pairs = data.get("pairs")  # absent in surrogates saved before the quadratic-form targets: ratios
        return cls(tuple(data["labels"]), str(data["inputs"]), tuple(int(i) for i in data["symmetric"]),
                   int(data["scale_power"]), **arrays,
                   pairs=_int_pairs(pairs),
                   pseudoscalar=bool(data.get("pseudoscalar", False)))


def _int_pairs(pairs: Any) -> tuple[tuple[int, int], ...] | None:
    return None if pairs is None else tuple((int(a), int(b)) for a, b in pairs)


def _diagonal(pairs: tuple[tuple[int, int], ...]) -> dict[int, int]:
    """Basis index a (0 = the SM, i = c_i) -> the component holding the diagonal entry A_aa."""
    return {i: c for c, (i, j) in enumerate(pairs) if i == j}


def _log_columns(pairs: tuple[tuple[int, int], ...] | None) -> list[int]:
    """The components regressed as log |M|^2: the SM alone for ratios, every diagonal entry otherwise."""
    return [0] if pairs is None else sorted(_diagonal(pairs).values())


def _pair_scales(a: np.ndarray, pairs: tuple[tuple[int, int], ...]) -> np.ndarray:
    """2 sqrt(A_aa A_bb) for every off-diagonal component (a != b), in component order."""
    diag = _diagonal(pairs)
    cols = [2.0 * np.sqrt(a[:, diag[i]] * a[:, diag[j]]) for i, j in pairs if i != j]
    return np.stack(cols, axis=1) if cols else np.empty((len(a), 0))


def _check_quadratic_form(a: np.ndarray, pairs: tuple[tuple[int, int], ...]) -> None:
    """Quadratic-form targets need positive diagonal pieces and |rho| <= 1 (up to round-off)."""
    for c, (i, j) in enumerate(pairs):
        if i == j and np.any(a[:, c] <= 0):
            raise InvalidParameterError(
                f"{int(np.sum(a[:, c] <= 0))} training points have component {c} (a squared amplitude, the "
                "diagonal of the quadratic form in the Wilson coefficients) <= 0; it must be positive. If these "
                "components are not |M_0 + sum c_i M_i|^2 pieces, use SurrogateConfig(targets='ratios')"
            )
    off = [c for c, (i, j) in enumerate(pairs) if i != j]
    if off:
        rho = a[:, off] / _pair_scales(a, pairs)
        if np.any(np.abs(rho) > 1.0 + RHO_TOLERANCE):
            worst = float(np.max(np.abs(rho)))
            raise InvalidParameterError(
                f"the interference components exceed the Cauchy-Schwarz bound |A_ab| <= 2 sqrt(A_aa A_bb) "
                f"(largest |rho| = {worst:.6g}): the components are not a positive semi-definite quadratic form "
                "in the Wilson coefficients; use SurrogateConfig(targets='ratios')"
            )


def _raw_targets(a: np.ndarray, shat: np.ndarray, scale_power: int,
                 pairs: tuple[tuple[int, int], ...] | None) -> np.ndarray:
    """Unstandardised targets: log(A s_hat^(n-2)) for the log columns; ratios or correlations rho
    (quadratic-form amplitudes are checked first)."""
    if pairs is not None:
        _check_quadratic_form(a, pairs)
    y = np.empty_like(a)
    logs = _log_columns(pairs)
    rest = [c for c in range(a.shape[1]) if c not in logs]
    y[:, logs] = np.log(a[:, logs]) + scale_power * np.log(shat)[:, None]
    if pairs is None:
        y[:, rest] = a[:, rest] / a[:, :1]
    elif rest:
        y[:, rest] = np.clip(a[:, rest] / _pair_scales(a, pairs), -1.0, 1.0)
    return y
