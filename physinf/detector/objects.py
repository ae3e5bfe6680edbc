"""Physics objects as padded per-kind arrays, and the parton-level steps before a detector measures them.

The objects of N events are held per kind (jets, photons, electrons, muons) as a
:class:`Collection`: padded arrays (N, K) of p_T, η, φ and mass, a validity mask, the electric
charge (leptons) and the truth flavour (jets: 5 b, 4 c, 0 light), and after a measurement the
b-tag. Detector steps work in (p_T, η, φ, m), where smearing, isolation and acceptance need no
trigonometry; four-vectors are built only for the observables that need them. Everything is
vectorised over events; loops run over the few slots.

Parton-level steps (used by :class:`physinf.detector.FastDetector`):

* :func:`truth_objects`: the final-state particles of the parton record by PDG id (quarks and
  gluons -> jets, photons, electrons, muons; neutrinos are invisible); each Higgs boson decays to
  two photons, isotropically in its rest frame (:func:`decay_to_two_photons`: a scalar decays
  isotropically);
* :func:`cluster_antikt`: anti-kT clustering of the jet partons (exact for the few per event);
* :func:`isolation_sum`: the Delphes isolation sum around photons and leptons.

Branching ratio: the H -> γγ decay is imposed, not sampled; :data:`HIGGS_TO_GAMMA_GAMMA_BR` =
2.27e-3 (LHC Higgs Cross Section Working Group, m_H = 125 GeV, CERN Yellow Report 4,
arXiv:1610.07922) is recorded in the provenance of the observed sample and is **not** applied to the
event weights: they stay the production weights, so joint scores and morphing stay exact; multiply
rates by it where a yield is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from physinf.errors import InvalidParameterError

__all__ = [
    "ELECTRON",
    "HIGGS_TO_GAMMA_GAMMA_BR",
    "JET",
    "KINDS",
    "KIND_NAMES",
    "MUON",
    "PHOTON",
    "Collection",
    "check_observable",
    "cluster_antikt",
    "decay_to_two_photons",
    "delta_r2",
    "four_vectors",
    "isolation_sum",
    "kind_of_pdg",
    "pt_eta_phi_m",
    "truth_objects",
]

JET, PHOTON, ELECTRON, MUON = 1, 2, 3, 4
KINDS = (JET, PHOTON, ELECTRON, MUON)
KIND_NAMES = {JET: "jets", PHOTON: "photons", ELECTRON: "electrons", MUON: "muons"}
HIGGS_TO_GAMMA_GAMMA_BR = 2.27e-3

_NEUTRINOS = (12, 14, 16)


@dataclass(frozen=True)
class Collection:
    """Objects of one kind in N events, padded to K slots: p_T, η, φ, m (N, K) float, valid (N, K)
    bool, charge and flavour (N, K) int8, btag (N, K) bool (False before a measurement); p4: the
    four-vectors (N, K, 4), zero in invalid slots, when a measurement already made them (None:
    built from p_T, η, φ, m when asked for)."""

    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    m: np.ndarray
    valid: np.ndarray
    charge: np.ndarray
    flavour: np.ndarray
    btag: np.ndarray
    p4: np.ndarray | None = None

    @classmethod
    def empty(cls, n: int, k: int) -> Collection:
        z = np.zeros((n, k))
        return cls(z, z.copy(), z.copy(), z.copy(), np.zeros((n, k), bool), np.zeros((n, k), np.int8),
                   np.zeros((n, k), np.int8), np.zeros((n, k), bool))

    @property
    def size(self) -> int:
        return self.pt.shape[1]

    def take(self, rows: np.ndarray | slice) -> Collection:
        return Collection(*(getattr(self, f)[rows] for f in _FIELDS), p4=None if self.p4 is None else self.p4[rows])

    def sorted(self) -> Collection:
        """Slots reordered by decreasing p_T, invalid slots last."""
        if self.size < 2:
            return self
        key = np.where(self.valid, -self.pt, np.inf)
        if self.size == 2:
            swap = key[:, 1] < key[:, 0]
            if not np.any(swap):
                return self
            return Collection(*(np.where(swap[:, None], getattr(self, f)[:, ::-1], getattr(self, f)) for f in _FIELDS))
        order = np.argsort(key, axis=1, kind="stable")
        return Collection(*(np.take_along_axis(getattr(self, f), order, axis=1) for f in _FIELDS))

    def vectors(self, slot: int) -> np.ndarray:
        """Four-vectors (N, 4) of one slot (zeros where invalid)."""
        if self.p4 is not None:
            return self.p4[:, slot]
        return four_vectors(self.pt[:, slot], self.eta[:, slot], self.phi[:, slot], self.m[:, slot]) * self.valid[:, slot, None]


_FIELDS = ("pt", "eta", "phi", "m", "valid", "charge", "flavour", "btag")


# ----------------------------------------------------------------------------- kinematics
def pt_eta_phi_m(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """p_T, η, φ, m of four-vectors (..., 4) in (E, px, py, pz); η of a vector along the beam or of
    a zero vector is ±inf or 0 (such objects never pass a detector acceptance)."""
    px, py, pz = p[..., 1], p[..., 2], p[..., 3]
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.where(pt > 0, np.arcsinh(pz / pt), np.where(pz == 0, 0.0, np.sign(pz) * np.inf))
    m = np.sqrt(np.maximum(p[..., 0] ** 2 - px**2 - py**2 - pz**2, 0.0))
    return pt, eta, np.arctan2(py, px), m


def four_vectors(pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, m: np.ndarray | float = 0.0) -> np.ndarray:
    """Four-vectors (..., 4) from p_T, η, φ and mass."""
    pz = pt * np.sinh(eta)
    out = np.empty(np.shape(pt) + (4,))
    out[..., 1] = pt * np.cos(phi)
    out[..., 2] = pt * np.sin(phi)
    out[..., 3] = pz
    out[..., 0] = np.sqrt(pt * pt + pz * pz + np.square(m))
    return out


def delta_r2(eta1: np.ndarray, phi1: np.ndarray, eta2: np.ndarray, phi2: np.ndarray) -> np.ndarray:
    """ΔR² = Δη² + Δφ² with Δφ wrapped to [0, π]."""
    dphi = np.abs(phi1 - phi2)
    dphi = np.where(dphi > np.pi, 2 * np.pi - dphi, dphi)
    return (eta1 - eta2) ** 2 + dphi**2


# ----------------------------------------------------------------------------- Higgs decay
def decay_to_two_photons(parent: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two massless photons from the decay of ``parent`` (N, 4), isotropic in its rest frame.

    Each photon carries m/2 in the rest frame along a direction with cos θ* uniform in [-1, 1]
    and φ* uniform; both are boosted back with β = p/E. Their sum equals the parent (to rounding)
    and their invariant mass is the parent's mass."""
    parent = np.asarray(parent, dtype=float)
    m2 = parent[:, 0] ** 2 - np.sum(parent[:, 1:] ** 2, axis=1)
    if np.any(m2 <= 0):
        raise InvalidParameterError("a decaying particle has a non-positive mass squared; its momentum is not time-like")
    m = np.sqrt(m2)
    cos_t = rng.uniform(-1.0, 1.0, len(m))
    phi = rng.uniform(-np.pi, np.pi, len(m))
    sin_t = np.sqrt(1.0 - cos_t**2)
    half = m / 2
    k = np.stack([half * sin_t * np.cos(phi), half * sin_t * np.sin(phi), half * cos_t], axis=1)
    # boost (m/2, ±k) by beta = p/E: E' = gamma (m/2 ± beta.k), k' = ±k + ((gamma-1)(±beta.k)/beta^2 + gamma m/2) beta
    beta = parent[:, 1:] / parent[:, :1]
    gamma = parent[:, 0] / m
    b2 = np.sum(beta**2, axis=1)
    bk = np.sum(beta * k, axis=1)
    c1 = (gamma - 1) * bk / np.where(b2 > 0, b2, 1.0)
    g1 = np.empty_like(parent)
    g2 = np.empty_like(parent)
    g1[:, 0] = gamma * (half + bk)
    g2[:, 0] = gamma * (half - bk)
    g1[:, 1:] = k + (c1 + gamma * half)[:, None] * beta
    g2[:, 1:] = -k + (-c1 + gamma * half)[:, None] * beta
    return g1, g2


# ----------------------------------------------------------------------------- parton record -> objects
def kind_of_pdg(pdg: np.ndarray) -> np.ndarray:
    """Kind per particle: 1 jet (quarks 1-5, gluons), 2 photon, 3 electron, 4 muon, -1 invisible
    (neutrino), -25 Higgs (decayed to photons), 0 padding (PDG 0), -99 not supported."""
    # |PDG| >= 99 reads the last entry, -99 (no supported particle has an id from 99 up)
    return _KIND_TABLE[np.minimum(np.abs(np.asarray(pdg, dtype=np.int64)), _KIND_TABLE.size - 1)]


def _kind_table() -> np.ndarray:
    """kind_of_pdg by table lookup (one gather instead of a pass per kind), |PDG| < 99."""
    table = np.full(100, -99, dtype=np.int16)
    table[[1, 2, 3, 4, 5, 21]] = JET
    table[22], table[11], table[13], table[25], table[0] = PHOTON, ELECTRON, MUON, -25, 0
    table[list(_NEUTRINOS)] = -1
    return table


_KIND_TABLE = _kind_table()


def check_observable(kinds: np.ndarray, pdg: np.ndarray, final: list[int]) -> None:
    """Raise InvalidParameterError naming the first particle a fast detector cannot handle
    (kinds: :func:`kind_of_pdg` of the final slots ``final`` of ``pdg``)."""
    bad = kinds == -99
    if np.any(bad):
        event, slot = np.argwhere(bad)[0]
        raise InvalidParameterError(
            f"the fast detector cannot observe particle {int(pdg[event, final[slot]])} (event {int(event)}, slot "
            f"{final[slot]}): it reconstructs quarks, gluons, photons, electrons and muons, sees neutrinos as missing "
            "momentum and decays Higgs bosons to two photons; shower the events (physinf.detector.ShowerDetector) "
            "to decay other unstable particles"
        )


def truth_objects(momenta: np.ndarray, pdg: np.ndarray, final: list[int] | tuple[int, ...], rng: np.random.Generator,
                  parton_pt_min: float = 1.0, parton_abs_eta_max: float = 2.5) -> dict[int, Collection]:
    """Visible truth objects of parton-level events, per kind.

    momenta (N, P, 4), pdg (N, P); final: indices of the final-state slots. Each slot holding a
    given kind in some event becomes a column of that kind's collection (valid where it does).
    Higgs bosons (PDG 25) are decayed to two photons. Jets whose parton is a c or b quark with
    p_T > parton_pt_min and |η| < parton_abs_eta_max carry flavour 4 or 5 (the Delphes flavour
    association). Particles a fast detector cannot handle (taus, W, Z, top, hadrons) raise
    InvalidParameterError: shower such events (physinf.detector.ShowerDetector) instead."""
    final = list(final)
    kinds = kind_of_pdg(pdg[:, final])
    check_observable(kinds, pdg, final)
    n = len(momenta)
    columns: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]] = {k: [] for k in KINDS}
    # (mask, four-vectors or None, pdg column, slot) per column of each kind
    for j, i in enumerate(final):
        k = kinds[:, j]
        uniform = bool(np.all(k == k[0])) if n else True
        for code in (JET, PHOTON, ELECTRON, MUON):
            mask = np.full(n, k[0] == code) if uniform else k == code
            if mask.any():
                columns[code].append((mask, momenta[:, i], pdg[:, i]))
        higgs = np.full(n, k[0] == -25) if uniform else k == -25
        if higgs.any():
            g1 = np.zeros((n, 4))
            g2 = np.zeros((n, 4))
            g1[higgs], g2[higgs] = decay_to_two_photons(momenta[higgs, i], rng)
            zeros = np.zeros(n, dtype=pdg.dtype)
            columns[PHOTON].append((higgs, g1, zeros))
            columns[PHOTON].append((higgs, g2, zeros))
    out = {}
    for code, cols in columns.items():
        if not cols:
            out[code] = Collection.empty(n, 0)
            continue
        p = np.stack([c[1] for c in cols], axis=1)
        valid = np.stack([c[0] for c in cols], axis=1)
        ids = np.stack([c[2] for c in cols], axis=1)
        pt, eta, phi, m = pt_eta_phi_m(p)
        charge = np.zeros(valid.shape, np.int8)
        flavour = np.zeros(valid.shape, np.int8)
        if code in (ELECTRON, MUON):
            charge = (-np.sign(ids) * valid).astype(np.int8)
        elif code == JET:
            a = np.abs(ids)
            heavy = valid & ((a == 4) | (a == 5)) & (pt > parton_pt_min) & (np.abs(eta) < parton_abs_eta_max)
            flavour = np.where(heavy, a, 0).astype(np.int8)
        out[code] = Collection(pt, eta, phi, m, valid, charge, flavour, np.zeros(valid.shape, bool))
    return out


# ----------------------------------------------------------------------------- clustering, isolation
def cluster_antikt(jets: Collection, radius: float) -> tuple[Collection, int]:
    """Exact anti-kT clustering (E-scheme) of each event's jet partons. Returns the clustered
    collection (a merged jet in the slot of one constituent, the other slot invalid) and the
    number of merges. Anti-kT merges nothing when every pair is at least R apart, so only events
    with a closer pair are clustered, by the full algorithm: repeatedly take the smallest of
    d_iB = 1/p_T,i² and d_ij = min(1/p_T,i², 1/p_T,j²) ΔR_ij²/R²; merge a pair or declare a jet final."""
    k = jets.size
    if k < 2:
        return jets, 0
    r2 = radius**2
    close = np.zeros(len(jets.pt), dtype=bool)
    for i in range(k):
        for j in range(i + 1, k):
            close |= jets.valid[:, i] & jets.valid[:, j] & (delta_r2(jets.eta[:, i], jets.phi[:, i], jets.eta[:, j], jets.phi[:, j]) < r2)
    rows = np.flatnonzero(close)
    if rows.size == 0:
        return jets, 0
    sub = jets.take(rows)
    p = np.stack([sub.vectors(i) for i in range(k)], axis=1)
    active = sub.valid.copy()
    valid = sub.valid.copy()
    flavour = sub.flavour.copy()
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    local = np.arange(rows.size)
    merges = 0
    while np.any(active.sum(axis=1) >= 2):
        pt, eta, phi, _ = pt_eta_phi_m(p)
        inv = np.where(active, 1.0 / np.maximum(pt * pt, 1e-300), np.inf)
        cand = [inv[:, i] for i in range(k)]
        for i, j in pairs:
            dij = np.minimum(inv[:, i], inv[:, j]) * delta_r2(eta[:, i], phi[:, i], eta[:, j], phi[:, j]) / r2
            cand.append(np.where(active[:, i] & active[:, j], dij, np.inf))
        best = np.argmin(np.stack(cand, axis=1), axis=1)
        beam = best < k
        active[local[beam], best[beam]] = False
        for c, (i, j) in enumerate(pairs):
            m = best == k + c
            if np.any(m):
                merges += int(m.sum())
                p[m, i] += p[m, j]
                p[m, j] = 0.0
                flavour[m, i] = np.maximum(flavour[m, i], flavour[m, j])
                flavour[m, j] = 0
                valid[m, j] = active[m, j] = False
    pt, eta, phi, m = pt_eta_phi_m(p)
    fields = {"pt": jets.pt.copy(), "eta": jets.eta.copy(), "phi": jets.phi.copy(), "m": jets.m.copy(),
              "valid": jets.valid.copy(), "flavour": jets.flavour.copy()}
    for name, value in (("pt", pt), ("eta", eta), ("phi", phi), ("m", m), ("valid", valid), ("flavour", flavour)):
        fields[name][rows] = value
    return replace(jets, **fields), merges


def isolation_sum(candidates: Collection, others: list[Collection], delta_r: float, pt_min: float,
                  self_in_others: bool) -> np.ndarray:
    """Σ p_T of the visible objects with p_T > pt_min within ΔR < delta_r of each candidate (N, K).
    ``self_in_others``: the candidates' own collection is among ``others`` (a slot never counts itself)."""
    total = np.zeros(candidates.pt.shape)
    r2 = delta_r**2
    for other in others:
        same = self_in_others and other is candidates
        counted = other.valid & (other.pt > pt_min)
        for j in range(other.size):
            if not np.any(counted[:, j]):
                continue
            for i in range(candidates.size):
                if same and i == j:
                    continue
                near = counted[:, j] & (delta_r2(candidates.eta[:, i], candidates.phi[:, i], other.eta[:, j], other.phi[:, j]) < r2)
                total[:, i] += np.where(near, other.pt[:, j], 0.0)
    return total
