"""Phase-space maps from the unit hypercube to momenta, with their Jacobians.

Each map returns lab-frame momenta (N, P, 4) ordered as the process labels (incoming first,
pa along +z), the momentum fractions x1, x2 and the density ``jac`` such that

    sigma = int d^d u  sum_channels f_a(x1) f_b(x2) |M|^2 / (2 s_hat) * jac(u),

i.e. ``jac`` holds dx1 dx2 dPhi_n with all (2 pi) factors. Vegas adapts on top of these maps.
"""

from __future__ import annotations

import math

import numpy as np

from theory.errors import KinematicsError

__all__ = ["Hadronic22", "Lepton22", "TChannel23", "phase_space_for"]

TWO_PI = 2.0 * math.pi


def _two_body(sqrt_shat: np.ndarray, cos_t: np.ndarray, phi: np.ndarray, m1: float, m2: float):
    """Back-to-back momenta in the partonic c.m. frame and beta factor of 2-body phase space."""
    s = sqrt_shat**2
    lam = (s - (m1 + m2) ** 2) * (s - (m1 - m2) ** 2)
    pabs = np.sqrt(np.maximum(lam, 0.0)) / (2.0 * sqrt_shat)
    sin_t = np.sqrt(np.maximum(1.0 - cos_t**2, 0.0))
    vec = pabs[:, None] * np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], axis=-1)
    e1 = np.sqrt(pabs**2 + m1**2)
    e2 = np.sqrt(pabs**2 + m2**2)
    p1 = np.concatenate([e1[:, None], vec], axis=-1)
    p2 = np.concatenate([e2[:, None], -vec], axis=-1)
    return p1, p2, 2.0 * pabs / sqrt_shat


def _beams(x1: np.ndarray, x2: np.ndarray, e_beam: float) -> tuple[np.ndarray, np.ndarray]:
    n = x1.shape[0]
    pa = np.zeros((n, 4))
    pb = np.zeros((n, 4))
    pa[:, 0] = pa[:, 3] = x1 * e_beam
    pb[:, 0] = x2 * e_beam
    pb[:, 3] = -x2 * e_beam
    return pa, pb


class TChannel23:
    """2 -> 3 with two massless jets from t-channel exchange plus a particle of mass m3.

    Variables: log(pT_i^2 + M^2) for both jets (flat in it = the 1/(pT^2 + M^2) shape of a
    t-channel propagator of mass M), rapidities y1, y2, y3 and the azimuthal difference of
    the jets; the overall azimuth is integrated analytically and drawn uniformly per event.
    Measure: dx1 dx2 dPhi_3 = (2 pi)^-5 / (16 S) dpT1^2 dpT2^2 dphi1 dphi2 dy1 dy2 dy3.
    """

    dims = 6

    def __init__(self, sqrt_s: float, m3: float, t_mass: float, pt_min: float = 0.0, y_max: float = 7.0) -> None:
        self.sqrt_s, self.m3, self.M2 = float(sqrt_s), float(m3), float(t_mass) ** 2
        self.pt_min = float(pt_min)
        self.y_max = float(y_max)
        self.y3_max = math.log(self.sqrt_s / max(self.m3, 1e-3)) if self.m3 > 0 else self.y_max
        if self.m3 >= self.sqrt_s:
            raise KinematicsError(f"sqrt(s) = {sqrt_s} GeV is below the threshold m3 = {m3} GeV; raise sqrt_s")
        if self.M2 <= 0 and self.pt_min <= 0:
            raise KinematicsError("a massless t-channel mapping needs pt_min > 0 (the cross section diverges otherwise)")
        self.L = (math.log(self.pt_min**2 + self.M2), math.log((self.sqrt_s / 2) ** 2 + self.M2))

    def map(self, u: np.ndarray, rng: np.random.Generator | None = None):
        n = u.shape[0]
        L0, L1 = self.L
        jac = np.full(n, (L1 - L0) ** 2 * (2 * self.y_max) ** 2 * TWO_PI * TWO_PI * 2 * self.y3_max)
        pts = []
        for k in (0, 1):
            ell = L0 + (L1 - L0) * u[:, k]
            pt2 = np.maximum(np.exp(ell) - self.M2, 0.0)
            jac = jac * (pt2 + self.M2)
            pts.append(np.sqrt(pt2))
        y1 = self.y_max * (2 * u[:, 2] - 1)
        y2 = self.y_max * (2 * u[:, 3] - 1)
        dphi = TWO_PI * u[:, 4]
        y3 = self.y3_max * (2 * u[:, 5] - 1)
        phi1 = rng.uniform(0, TWO_PI, n) if rng is not None else np.zeros(n)
        phi2 = phi1 + dphi
        p1 = np.stack([pts[0] * np.cosh(y1), pts[0] * np.cos(phi1), pts[0] * np.sin(phi1), pts[0] * np.sinh(y1)], -1)
        p2 = np.stack([pts[1] * np.cosh(y2), pts[1] * np.cos(phi2), pts[1] * np.sin(phi2), pts[1] * np.sinh(y2)], -1)
        pT3 = -(p1[:, 1:3] + p2[:, 1:3])
        mt3 = np.sqrt(self.m3**2 + np.sum(pT3**2, axis=-1))
        p3 = np.concatenate([(mt3 * np.cosh(y3))[:, None], pT3, (mt3 * np.sinh(y3))[:, None]], axis=-1)
        e_plus = p1[:, 0] + p1[:, 3] + p2[:, 0] + p2[:, 3] + p3[:, 0] + p3[:, 3]
        e_minus = p1[:, 0] - p1[:, 3] + p2[:, 0] - p2[:, 3] + p3[:, 0] - p3[:, 3]
        x1, x2 = e_plus / self.sqrt_s, e_minus / self.sqrt_s
        pa, pb = _beams(x1, x2, self.sqrt_s / 2)
        jac = jac * (TWO_PI**-5) / (16.0 * self.sqrt_s**2)
        return np.stack([pa, pb, p1, p2, p3], axis=1), x1, x2, jac


class Hadronic22:
    """2 -> 2 in hadron collisions: (m^2 or tau), rapidity of the pair, cos(theta), phi.

    With a resonance (mass, width) m^2 is mapped with a Breit-Wigner (arctan) map, otherwise
    flat in log m^2. Measure: dx1 dx2 dPhi_2 = dm^2/S dy * beta/(32 pi^2) dcos dphi.
    """

    dims = 3

    def __init__(self, sqrt_s: float, m_min: float, m_max: float, masses=(0.0, 0.0), resonance=None) -> None:
        self.sqrt_s = float(sqrt_s)
        self.S = self.sqrt_s**2
        self.m1, self.m2 = masses
        m_min = max(m_min, self.m1 + self.m2)
        m_max = min(m_max, self.sqrt_s)
        if not (0 < m_min < m_max):
            raise KinematicsError(
                f"empty invariant-mass range [{m_min}, {m_max}] GeV at sqrt(s) = {sqrt_s}: set a positive m_min "
                "below sqrt(s) in the cuts (a 2 -> 2 cross section needs a lower mass cut)"
            )
        self.m2_range = (m_min**2, m_max**2)
        self.resonance = resonance
        if resonance is not None:
            M, G = resonance
            self.rho = tuple(math.atan((m2 - M**2) / (M * G)) for m2 in self.m2_range)

    def map(self, u: np.ndarray, rng: np.random.Generator | None = None):
        n = u.shape[0]
        lo, hi = self.m2_range
        if self.resonance is not None:
            M, G = self.resonance
            rho = self.rho[0] + (self.rho[1] - self.rho[0]) * u[:, 0]
            m2 = M * G * np.tan(rho) + M**2
            jac = (self.rho[1] - self.rho[0]) * ((m2 - M**2) ** 2 + (M * G) ** 2) / (M * G)
        else:
            m2 = lo * (hi / lo) ** u[:, 0]
            jac = m2 * math.log(hi / lo)
        tau = m2 / self.S
        ymax = -0.5 * np.log(tau)
        y = ymax * (2 * u[:, 1] - 1)
        jac = jac * 2 * ymax / self.S
        cos_t = 2 * u[:, 2] - 1
        phi = rng.uniform(0, TWO_PI, n) if rng is not None else np.zeros(n)
        sqrt_shat = np.sqrt(m2)
        p1, p2, beta = _two_body(sqrt_shat, cos_t, phi, self.m1, self.m2)
        jac = jac * 2.0 * TWO_PI * beta / (32 * math.pi**2)
        x1, x2 = np.sqrt(tau) * np.exp(y), np.sqrt(tau) * np.exp(-y)
        from theory.kinematics import boost_z

        p1, p2 = boost_z(p1, y), boost_z(p2, y)
        pa, pb = _beams(x1, x2, self.sqrt_s / 2)
        return np.stack([pa, pb, p1, p2], axis=1), x1, x2, jac


class Lepton22:
    """2 -> 2 at a lepton collider with fixed sqrt(s): cos(theta) (and a uniform phi)."""

    dims = 1

    def __init__(self, sqrt_s: float, masses=(0.0, 0.0)) -> None:
        self.sqrt_s = float(sqrt_s)
        self.m1, self.m2 = masses
        if self.sqrt_s <= self.m1 + self.m2:
            raise KinematicsError(f"sqrt(s) = {sqrt_s} GeV is below the production threshold {self.m1 + self.m2} GeV")

    def map(self, u: np.ndarray, rng: np.random.Generator | None = None):
        n = u.shape[0]
        cos_t = 2 * u[:, 0] - 1
        phi = rng.uniform(0, TWO_PI, n) if rng is not None else np.zeros(n)
        sq = np.full(n, self.sqrt_s)
        p1, p2, beta = _two_body(sq, cos_t, phi, self.m1, self.m2)
        one = np.ones(n)
        pa, pb = _beams(one, one, self.sqrt_s / 2)
        jac = 2.0 * TWO_PI * beta / (32 * math.pi**2)
        return np.stack([pa, pb, p1, p2], axis=1), one, one, jac


def phase_space_for(process, sqrt_s: float, cuts) -> object:
    """Pick the map that suits a process's PhaseSpaceHint and the cuts."""
    hint = process.phase_space
    if process.collider == "ee":
        return Lepton22(sqrt_s, hint.masses[:2])
    if hint.kind in ("2to3_tchannel", "2to3"):
        t_mass = hint.tchannel_mass or 0.0
        pt_min = cuts.pt_min if cuts is not None else 0.0
        # kinematic limit |y| < acosh(sqrt(s)/(2 pT)) ~ log(sqrt(s)/pT); below 0.5 GeV the
        # t-channel propagator leaves a negligible cross section
        y_max = math.log(sqrt_s / max(pt_min, 0.5))
        if cuts is not None:
            y_max = min(y_max, cuts.abs_eta_max)
        return TChannel23(sqrt_s, hint.masses[2], t_mass, pt_min=pt_min, y_max=y_max)
    m_min = cuts.m_min if cuts is not None else 0.0
    if cuts is not None and cuts.pt_min > 0:
        m_min = max(m_min, 2 * cuts.pt_min)
    m_max = cuts.m_max if cuts is not None else math.inf
    return Hadronic22(sqrt_s, m_min, m_max, hint.masses[:2], hint.resonance)
