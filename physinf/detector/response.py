"""The detector response applied to truth objects: isolation, efficiency, resolution, acceptance, b-tagging.

Order, as in the Delphes cards (docs/notes/physics.md §8):

1. (parton level only) anti-kT clustering of the jet partons, and the isolation of photons and
   leptons against all other visible objects (the shower chain does both on particles instead);
2. lepton tracking efficiency on the true kinematics;
3. smearing: log-normal with mean 1 and the card's relative width, applied to the four-momentum
   (direction and m/E kept): calorimeter σ(E)/E for jets and photons, track σ(p_T)/p_T for
   muons, both combined with 1/σ² weights for electrons; then η and φ get Gaussian smearing of
   the card's ``angular_resolution`` at fixed energy and momentum (the calorimeter measures the
   energy; the position only changes the direction);
4. identification efficiency (photons, electrons, muons) on the smeared kinematics; zero outside
   the card's |η| and p_T bins, so it is also the acceptance;
5. jets: p_T > pt_min and |η| < abs_eta_max after smearing;
6. b-tagging: tagged with the card's probability for the jet's truth flavour at its smeared p_T.

Lost objects are counted by kind and reason. Random numbers are drawn kind by kind in a fixed order
(one array per step, for every slot), so a seed reproduces a result exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from physinf.detector.card import DetectorCard
from physinf.detector.objects import ELECTRON, JET, KIND_NAMES, KINDS, MUON, PHOTON, Collection, cluster_antikt, isolation_sum

__all__ = ["Measured", "lognormal_factor", "loss_reason", "measure"]


@dataclass(frozen=True)
class Measured:
    """Reconstructed objects per kind, sorted by decreasing p_T (lost slots invalid), and the
    number of objects lost per reason."""

    objects: dict[int, Collection]
    lost: dict[str, int]


def lognormal_factor(relative: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """Factors with mean 1 and standard deviation ``relative`` from standard normal draws
    (log-normal, as Delphes smears energies: always positive, exact mean and width)."""
    s2 = np.log1p(np.square(relative))
    return np.exp(np.sqrt(s2) * normal - 0.5 * s2)


def _resolution(code: int, col: Collection, card: DetectorCard) -> np.ndarray:
    """Relative resolution per slot (NaN outside the instrumented region)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if code in (JET, PHOTON):
            energy = np.sqrt(col.m**2 + (col.pt * np.cosh(col.eta)) ** 2)
            calo = (card.jets if code == JET else card.photons).energy_resolution
            return calo.sigma(energy, col.eta) / energy
        lep = card.electrons if code == ELECTRON else card.muons
        track = lep.momentum_resolution.relative(col.pt, col.eta)
        if lep.energy_resolution is None:
            return track
        energy = np.sqrt(col.m**2 + (col.pt * np.cosh(col.eta)) ** 2)
        ecal = lep.energy_resolution.sigma(energy, col.eta) / energy
        both = np.isfinite(track) & np.isfinite(ecal)
        combined = 1.0 / np.sqrt(1.0 / np.where(both, track, 1.0) ** 2 + 1.0 / np.where(both, ecal, 1.0) ** 2)
        return np.where(both, combined, np.where(np.isfinite(track), track, ecal))


MERGED, ISOLATION, NO_TRACK, OUTSIDE, REJECTED = "merged", "isolation", "no_track", "outside", "rejected"


def loss_reason(code: int, reason: str, card: DetectorCard) -> str:
    """The name under which objects of kind ``code`` lost for ``reason`` are counted."""
    what = KIND_NAMES[code]
    if reason == MERGED:
        return f"{what}: merged with another jet (anti-kT)"
    if reason == ISOLATION:
        return f"{what}: not isolated"
    if reason == NO_TRACK:
        return f"{what}: no track (tracking efficiency)"
    if reason == OUTSIDE:
        return f"{what}: outside the calorimeter or tracker"
    if code == JET:
        return f"jets: pT <= {card.jets.pt_min:g} GeV or |eta| >= {card.jets.abs_eta_max:g}"
    return f"{what}: identification efficiency and acceptance"


def _count(lost: dict[str, int], what: str, mask: np.ndarray) -> None:
    n = int(np.count_nonzero(mask))
    if n:
        lost[what] = lost.get(what, 0) + n


def measure(objects: dict[int, Collection], card: DetectorCard, rng: np.random.Generator, *, parton_level: bool) -> Measured:
    """Apply the detector response to truth objects (see the module docstring for the steps)."""
    lost: dict[str, int] = {}
    objects = dict(objects)
    if parton_level:
        objects[JET], merges = cluster_antikt(objects[JET], card.jets.radius)
        if merges:
            lost[loss_reason(JET, MERGED, card)] = merges
        others = [objects[k] for k in KINDS if objects[k].size]
        isolated = {}
        for code, iso in ((PHOTON, card.photons.isolation), (ELECTRON, card.electrons.isolation), (MUON, card.muons.isolation)):
            col = objects[code]
            if col.size:
                total = isolation_sum(col, others, iso.delta_r, iso.pt_min, self_in_others=True)
                fail = col.valid & (total > iso.max_ratio * col.pt)
                _count(lost, loss_reason(code, ISOLATION, card), fail)
                isolated[code] = replace(col, valid=col.valid & ~fail)
        objects.update(isolated)

    out: dict[int, Collection] = {}
    for code in KINDS:
        col = objects[code]
        if col.size == 0:
            out[code] = col
            continue
        valid = col.valid.copy()
        if code in (ELECTRON, MUON):
            lep = card.electrons if code == ELECTRON else card.muons
            tracked = rng.random(valid.shape) < lep.tracking_efficiency(col.pt, col.eta)
            _count(lost, loss_reason(code, NO_TRACK, card), valid & ~tracked)
            valid &= tracked
            angular = lep.angular_resolution
        else:
            angular = (card.jets if code == JET else card.photons).angular_resolution
        relative = _resolution(code, col, card)
        outside = ~np.isfinite(relative)
        _count(lost, loss_reason(code, OUTSIDE, card), valid & outside)
        valid &= ~outside
        f = lognormal_factor(np.where(valid, relative, 0.0), rng.standard_normal(valid.shape))
        pt, m, eta, phi = col.pt * f, col.m * f, col.eta, col.phi
        if angular > 0:  # the measured energy is kept: |p| = p_T cosh(eta) fixed while eta moves
            smeared_eta = eta + angular * rng.standard_normal(valid.shape)
            pt = pt * np.cosh(eta) / np.cosh(smeared_eta)
            eta = smeared_eta
            phi = phi + angular * rng.standard_normal(valid.shape)
            phi = np.where(phi > np.pi, phi - 2 * np.pi, np.where(phi <= -np.pi, phi + 2 * np.pi, phi))
        btag = col.btag
        if code == JET:
            accepted = (pt > card.jets.pt_min) & (np.abs(eta) < card.jets.abs_eta_max)
            _count(lost, loss_reason(JET, REJECTED, card), valid & ~accepted)
            valid &= accepted
            btag = valid & (rng.random(valid.shape) < card.btag.probability(col.flavour, pt))
        else:
            table = card.photons.efficiency if code == PHOTON else (card.electrons if code == ELECTRON else card.muons).efficiency
            accepted = rng.random(valid.shape) < table(pt, eta)
            _count(lost, loss_reason(code, REJECTED, card), valid & ~accepted)
            valid &= accepted
        out[code] = Collection(pt, eta, phi, m, valid, col.charge, col.flavour, btag).sorted()
    return Measured(out, lost)
