"""Relativistic kinematics, written once for numpy arrays and SymPy symbols.

A four-vector is ``(E, px, py, pz)``: a numpy array whose last axis has length 4,
or any length-4 sequence of SymPy expressions. Every function below dispatches
on the input type through ``_lib``, so the same formula gives numbers or symbols.

Conventions: metric (+,-,-,-); Levi-Civita epsilon^{0123} = +1, hence
epsilon_{0123} = -1 and ``eps(a, b, c, d) = epsilon_{mu nu rho sigma} a^mu b^nu c^rho d^sigma
= -det[a; b; c; d]`` with rows (E, px, py, pz). With beams along +-z this gives
``eps(pa, pb, p1, p2) = -(s/2) pT1 pT2 sin(phi1 - phi2)`` (docs/notes/physics.md §0).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import sympy as sp

from theory.errors import InvalidParameterError

__all__ = [
    "METRIC",
    "boost",
    "boost_z",
    "component",
    "component_major",
    "delta_phi",
    "delta_phi_jj_signed",
    "eps",
    "mandelstam",
    "mass2",
    "minkowski",
    "phi",
    "pseudorapidity",
    "pt",
    "random_lorentz",
    "rapidity",
    "rotate",
]

METRIC = (1.0, -1.0, -1.0, -1.0)

_NUMPY = SimpleNamespace(sqrt=np.sqrt, atan2=np.arctan2, log=np.log, abs=np.abs, pi=np.pi)
_SYMPY = SimpleNamespace(sqrt=sp.sqrt, atan2=sp.atan2, log=sp.log, abs=sp.Abs, pi=sp.pi)


def _is_symbolic(*vectors: Any) -> bool:
    return any(not isinstance(v, np.ndarray) for v in vectors)


def _lib(*vectors: Any) -> SimpleNamespace:
    return _SYMPY if _is_symbolic(*vectors) else _NUMPY


def component(p: Any, i: int) -> Any:
    """Component i of a four-vector (numpy: last axis; SymPy: sequence index)."""
    return p[..., i] if isinstance(p, np.ndarray) else p[i]


def component_major(p: np.ndarray) -> np.ndarray:
    """The same momenta (N, ..., 4) as a view whose components are each contiguous in memory
    (one copy): p[:, i, k] is then a contiguous array, which makes the column arithmetic of the
    observables about 1.3x faster than on the event-major layout, with the same values."""
    order = tuple(range(1, p.ndim)) + (0,)
    back = (p.ndim - 1,) + tuple(range(p.ndim - 1))
    return np.ascontiguousarray(p.transpose(order)).transpose(back)


def minkowski(a: Any, b: Any) -> Any:
    """a.b = a0 b0 - a1 b1 - a2 b2 - a3 b3."""
    c = component
    return c(a, 0) * c(b, 0) - c(a, 1) * c(b, 1) - c(a, 2) * c(b, 2) - c(a, 3) * c(b, 3)


def mass2(p: Any) -> Any:
    """Invariant mass squared p.p."""
    return minkowski(p, p)


def mandelstam(p1: Any, p2: Any) -> Any:
    """s_12 = (p1 + p2)^2 (for incoming-incoming or outgoing-outgoing pairs)."""
    if isinstance(p1, np.ndarray):
        return mass2(p1 + p2)
    return mass2([component(p1, i) + component(p2, i) for i in range(4)])


def eps(a: Any, b: Any, c: Any, d: Any) -> Any:
    """epsilon_{mu nu rho sigma} a^mu b^nu c^rho d^sigma with epsilon^{0123} = +1 (= -det[a;b;c;d])."""
    if not _is_symbolic(a, b, c, d):
        m = np.stack(np.broadcast_arrays(a, b, c, d), axis=-2)
        return -np.linalg.det(m)
    rows = [[component(v, i) for i in range(4)] for v in (a, b, c, d)]
    return -sp.Matrix(rows).det()


def pt(p: Any) -> Any:
    """Transverse momentum sqrt(px^2 + py^2)."""
    return _lib(p).sqrt(component(p, 1) ** 2 + component(p, 2) ** 2)


def phi(p: Any) -> Any:
    """Azimuth atan2(py, px) in (-pi, pi]."""
    return _lib(p).atan2(component(p, 2), component(p, 1))


def rapidity(p: Any) -> Any:
    """y = 1/2 log((E + pz)/(E - pz))."""
    E, pz = component(p, 0), component(p, 3)
    return _lib(p).log((E + pz) / (E - pz)) / 2


def pseudorapidity(p: Any) -> Any:
    """eta = asinh(pz/pT) = -log tan(theta/2)."""
    lib = _lib(p)
    pabs = lib.sqrt(component(p, 1) ** 2 + component(p, 2) ** 2 + component(p, 3) ** 2)
    pz = component(p, 3)
    return lib.log((pabs + pz) / (pabs - pz)) / 2


def delta_phi(phi1: Any, phi2: Any) -> Any:
    """phi1 - phi2 wrapped to (-pi, pi] (numpy only: wrapping is not polynomial)."""
    d = np.asarray(phi1) - np.asarray(phi2)
    return np.pi - np.mod(np.pi - d, 2 * np.pi)


def delta_phi_jj_signed(j1: np.ndarray, j2: np.ndarray) -> np.ndarray:
    """Signed azimuthal difference of two tagging jets, ordered in rapidity.

    Delta phi_jj = phi(jet with the larger rapidity) - phi(the other), wrapped to (-pi, pi].
    This ordering makes the sign meaningful for symmetric pp beams (Hankele, Kl"amke,
    Zeppenfeld, Figy, hep-ph/0609075); a CP-odd HVV coupling makes its distribution asymmetric.
    """
    forward_first = rapidity(j1) >= rapidity(j2)
    fwd = np.where(forward_first[..., None], j1, j2)
    bwd = np.where(forward_first[..., None], j2, j1)
    return delta_phi(phi(fwd), phi(bwd))


def boost(p: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Active Lorentz boost of four-vectors p (..., 4) by velocity beta (..., 3), |beta| < 1."""
    beta = np.asarray(beta, dtype=float)
    b2 = np.sum(beta**2, axis=-1)
    if np.any(b2 >= 1.0):
        raise InvalidParameterError(f"boost velocity |beta| must be < 1, got max {np.sqrt(b2.max()):.6g}")
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = np.sum(beta * p[..., 1:], axis=-1)
    # (gamma - 1)/b2 written as gamma^2/(1 + gamma) to stay finite at beta = 0
    g2 = gamma**2 / (1.0 + gamma)
    e = gamma * (p[..., 0] + bp)
    vec = p[..., 1:] + (g2 * bp + gamma * p[..., 0])[..., None] * beta
    return np.concatenate([e[..., None], vec], axis=-1)


def boost_z(p: np.ndarray, rapidity_shift: np.ndarray) -> np.ndarray:
    """Boost along z that adds ``rapidity_shift`` to every rapidity."""
    ch, sh = np.cosh(rapidity_shift), np.sinh(rapidity_shift)
    out = np.array(p, dtype=float, copy=True)
    out[..., 0] = ch * p[..., 0] + sh * p[..., 3]
    out[..., 3] = sh * p[..., 0] + ch * p[..., 3]
    return out


def rotate(p: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Apply a 3x3 rotation matrix to the spatial part of four-vectors."""
    out = np.array(p, dtype=float, copy=True)
    out[..., 1:] = p[..., 1:] @ np.asarray(rotation).T
    return out


def random_lorentz(rng: np.random.Generator, max_beta: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """A random rotation matrix and boost velocity (for invariance tests)."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    direction = rng.normal(size=3)
    direction /= np.linalg.norm(direction)
    return q, direction * rng.uniform(0.0, max_beta)
