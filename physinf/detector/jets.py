"""Particle-level objects from showered events: dressed and isolated leptons, isolated photons,
anti-kT jets (FastJet) with their truth flavour; vectorised over a batch of events.

Input: the awkward record of ``pythia8mc.Pythia.nextBatch`` (one entry per event; None for an event
Pythia failed). The particles are flattened into numpy arrays with an event index, and every
"objects near objects" step runs over the candidate-particle pairs of the same event, so a batch
costs a few numpy passes over its particles. For the final-state particles (status > 0) except
neutrinos:

1. leptons (e, μ) with p_T above half the card's lowest efficiency edge are *dressed*: the photons
   within ``dressing_delta_r`` of the bare lepton are added to it (collinear final-state radiation
   stays with the lepton, as an electromagnetic cluster collects it);
2. isolation, as in the Delphes cards: a candidate is isolated when the summed p_T of the other
   visible particles with p_T > ``pt_min`` within ``delta_r`` (its own dressing photons excluded)
   is at most ``max_ratio`` times its p_T; only isolated leptons and photons become objects;
3. photons not used for dressing, above half the card's lowest photon efficiency edge, are
   candidates and are isolated the same way;
4. jets: FastJet anti-kT with the card's R on every other visible particle (isolated objects and
   their dressing photons removed, as Delphes' unique-object finder removes the jets they make),
   p_T > ``jet_pt_min``; up to ``max_jets`` per event, by decreasing p_T;
5. truth flavour of a jet: the heaviest of the b and c quarks anywhere in the event record with
   p_T > parton_pt_min and |η| < parton_abs_eta_max within the card's ``btag.delta_r`` (Delphes'
   flavour association), else light.

The result is a :class:`physinf.detector.objects.Collection` per kind, rows aligned with the input
events (failed events have no objects).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, Iterator

import numpy as np

from physinf._io import require
from physinf.detector.card import DetectorCard
from physinf.detector.objects import ELECTRON, JET, MUON, PHOTON, Collection

__all__ = ["particle_objects", "quiet_stdout"]

_BANNER_SHOWN = False


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence C++ output to the process's stdout (FastJet's banner, Pythia's notices) for a block."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no real file descriptor: nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


class _Particles:
    """Flat arrays of particles with the index of their event (events in order)."""

    def __init__(self, event: np.ndarray, n_events: int, px: np.ndarray, py: np.ndarray, pz: np.ndarray, e: np.ndarray,
                 pid: np.ndarray) -> None:
        self.event, self.px, self.py, self.pz, self.e, self.pid = event, px, py, pz, e, pid
        self.pt = np.hypot(px, py)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.eta = np.where(self.pt > 0, np.arcsinh(pz / np.where(self.pt > 0, self.pt, 1.0)), np.sign(pz) * 50.0)
        self.phi = np.arctan2(py, px)
        self.counts = np.bincount(event, minlength=n_events)
        self.offsets = np.concatenate([[0], np.cumsum(self.counts)[:-1]])

    def take(self, mask: np.ndarray, n_events: int) -> _Particles:
        return _Particles(self.event[mask], n_events, self.px[mask], self.py[mask], self.pz[mask], self.e[mask], self.pid[mask])


def _pairs(cand_event: np.ndarray, particles: _Particles) -> tuple[np.ndarray, np.ndarray]:
    """All (candidate, particle) index pairs of the same event."""
    reps = particles.counts[cand_event]
    total = int(reps.sum())
    cand = np.repeat(np.arange(len(cand_event)), reps)
    first = np.repeat(particles.offsets[cand_event] - (np.cumsum(reps) - reps), reps)
    return cand, first + np.arange(total)


def _dr2(eta1: np.ndarray, phi1: np.ndarray, eta2: np.ndarray, phi2: np.ndarray) -> np.ndarray:
    dphi = np.abs(phi1 - phi2)
    dphi = np.where(dphi > np.pi, 2 * np.pi - dphi, dphi)
    return (eta1 - eta2) ** 2 + dphi**2


def _padded(n: int, k: int, event: np.ndarray, pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, m: np.ndarray,
            charge: np.ndarray | None = None, flavour: np.ndarray | None = None) -> Collection:
    """A collection of the k highest-p_T objects per event from flat arrays."""
    col = Collection.empty(n, k)
    if len(pt) == 0:
        return col
    order = np.lexsort((-pt, event))
    ev = event[order]
    start = np.searchsorted(ev, ev, side="left")
    rank = np.arange(len(ev)) - start
    keep = rank < k
    rows, slots, src = ev[keep], rank[keep], order[keep]
    col.pt[rows, slots], col.eta[rows, slots], col.phi[rows, slots], col.m[rows, slots] = pt[src], eta[src], phi[src], m[src]
    col.valid[rows, slots] = True
    if charge is not None:
        col.charge[rows, slots] = charge[src]
    if flavour is not None:
        col.flavour[rows, slots] = flavour[src]
    return col


def particle_objects(batch: Any, card: DetectorCard, *, jet_pt_min: float, max_jets: int, max_objects: int = 4
                     ) -> tuple[dict[int, Collection], np.ndarray]:
    """Objects per kind for the events of ``batch`` and a mask of the events Pythia failed."""
    global _BANNER_SHOWN
    ak = require("awkward", "shower", "the shower chain")
    fastjet = require("fastjet", "shower", "jet clustering")
    n_all = len(batch)
    failed = ak.to_numpy(ak.is_none(batch, axis=0)).astype(bool) if n_all else np.zeros(0, bool)
    prt = ak.drop_none(batch, axis=0).prt
    n = int(np.count_nonzero(~failed))

    def flat(array: Any) -> np.ndarray:
        return ak.to_numpy(ak.flatten(array, axis=1))

    counts = ak.to_numpy(ak.num(prt, axis=1))
    event_all = np.repeat(np.arange(n), counts)
    status, pid = flat(prt.status), flat(prt.id)
    px, py, pz, e = flat(prt.p.px), flat(prt.p.py), flat(prt.p.pz), flat(prt.p.e)
    aid = np.abs(pid)
    visible = (status > 0) & (aid != 12) & (aid != 14) & (aid != 16)
    vis = _Particles(event_all[visible], n, px[visible], py[visible], pz[visible], e[visible], pid[visible])
    is_photon = vis.pid == 22
    used = np.zeros(len(vis.pt), dtype=bool)
    out: dict[int, Collection] = {}

    # 1-2. leptons: dressing and isolation
    for kind, code, lep in ((ELECTRON, 11, card.electrons), (MUON, 13, card.muons)):
        cand = np.flatnonzero((np.abs(vis.pid) == code) & (vis.pt > 0.5 * lep.efficiency.pt_edges[0]))
        c_ev = vis.event[cand]
        ci, pj = _pairs(c_ev, vis)
        near_bare = _dr2(vis.eta[cand][ci], vis.phi[cand][ci], vis.eta[pj], vis.phi[pj])
        dressing = is_photon[pj] & (near_bare < lep.dressing_delta_r**2)
        sums = [vis.px[cand] + np.bincount(ci, np.where(dressing, vis.px[pj], 0.0), len(cand)),
                vis.py[cand] + np.bincount(ci, np.where(dressing, vis.py[pj], 0.0), len(cand)),
                vis.pz[cand] + np.bincount(ci, np.where(dressing, vis.pz[pj], 0.0), len(cand)),
                vis.e[cand] + np.bincount(ci, np.where(dressing, vis.e[pj], 0.0), len(cand))]
        lpx, lpy, lpz, le = sums
        lpt = np.hypot(lpx, lpy)
        leta = np.arcsinh(lpz / np.where(lpt > 0, lpt, 1e-9))
        lphi = np.arctan2(lpy, lpx)
        iso = lep.isolation
        mine = dressing | (pj == cand[ci])
        cone = (_dr2(leta[ci], lphi[ci], vis.eta[pj], vis.phi[pj]) < iso.delta_r**2) & (vis.pt[pj] > iso.pt_min) & ~mine
        isolated = np.bincount(ci, np.where(cone, vis.pt[pj], 0.0), len(cand)) <= iso.max_ratio * lpt
        used[pj[mine & isolated[ci]]] = True
        m = np.sqrt(np.maximum(le**2 - lpx**2 - lpy**2 - lpz**2, 0.0))
        out[kind] = _padded(n, max_objects, c_ev[isolated], lpt[isolated], leta[isolated], lphi[isolated], m[isolated],
                            charge=-np.sign(vis.pid[cand][isolated]).astype(np.int8))

    # 3. photons not used for dressing
    cand = np.flatnonzero(is_photon & ~used & (vis.pt > 0.5 * card.photons.efficiency.pt_edges[0]))
    c_ev = vis.event[cand]
    ci, pj = _pairs(c_ev, vis)
    iso = card.photons.isolation
    cone = ((_dr2(vis.eta[cand][ci], vis.phi[cand][ci], vis.eta[pj], vis.phi[pj]) < iso.delta_r**2)
            & (vis.pt[pj] > iso.pt_min) & (pj != cand[ci]))
    isolated = np.bincount(ci, np.where(cone, vis.pt[pj], 0.0), len(cand)) <= iso.max_ratio * vis.pt[cand]
    used[cand[isolated]] = True
    g = cand[isolated]
    out[PHOTON] = _padded(n, max_objects, vis.event[g], vis.pt[g], vis.eta[g], vis.phi[g], np.zeros(len(g)))

    # 4. jets from everything else
    rest = vis.take(~used, n)
    records = ak.zip({"px": rest.px, "py": rest.py, "pz": rest.pz, "E": rest.e})
    particles = ak.unflatten(records, rest.counts)
    definition = fastjet.JetDefinition(fastjet.antikt_algorithm, card.jets.radius)
    if _BANNER_SHOWN:
        jets = fastjet.ClusterSequence(particles, definition).inclusive_jets(min_pt=jet_pt_min)
    else:
        with quiet_stdout():
            jets = fastjet.ClusterSequence(particles, definition).inclusive_jets(min_pt=jet_pt_min)
        _BANNER_SHOWN = True
    j_ev = np.repeat(np.arange(n), ak.to_numpy(ak.num(jets, axis=1)))
    jpx, jpy, jpz, je = (flat(jets[c]) for c in ("px", "py", "pz", "E"))
    jpt = np.hypot(jpx, jpy)
    jeta = np.arcsinh(jpz / np.where(jpt > 0, jpt, 1e-9))
    jphi = np.arctan2(jpy, jpx)
    jm = np.sqrt(np.maximum(je**2 - jpt**2 - jpz**2, 0.0))

    # 5. truth flavour from b and c quarks anywhere in the record
    bt = card.btag
    hpt = np.hypot(px, py)
    heavy = ((aid == 4) | (aid == 5)) & (hpt > bt.parton_pt_min)
    heavy &= np.abs(np.arcsinh(pz / np.where(hpt > 0, hpt, 1e-9))) < bt.parton_abs_eta_max
    flavour = np.zeros(len(jpt), dtype=np.int8)
    if np.any(heavy):
        partons = _Particles(event_all[heavy], n, px[heavy], py[heavy], pz[heavy], e[heavy], pid[heavy])
        ji, hk = _pairs(j_ev, partons)
        match = _dr2(jeta[ji], jphi[ji], partons.eta[hk], partons.phi[hk]) < bt.delta_r**2
        np.maximum.at(flavour, ji[match], np.abs(partons.pid[hk][match]).astype(np.int8))
    out[JET] = _padded(n, max_jets, j_ev, jpt, jeta, jphi, jm, flavour=flavour)
    if failed.any():
        out = {k: _expand(c, failed) for k, c in out.items()}
    return out, failed


def _expand(col: Collection, failed: np.ndarray) -> Collection:
    """Rows for every input event (failed ones empty)."""
    rows = np.flatnonzero(~failed)
    full = Collection.empty(len(failed), col.size)
    for name in ("pt", "eta", "phi", "m", "valid", "charge", "flavour", "btag"):
        getattr(full, name)[rows] = getattr(col, name)
    return full
