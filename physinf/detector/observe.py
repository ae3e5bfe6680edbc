"""From measured objects to an observed EventSample: selection with a cut-flow, named columns, and
the process's own observables recomputed from reconstructed objects.

Columns (``<p>`` = ``j`` jets, ``a`` photons, ``e`` electrons, ``mu`` muons, ``l`` leptons; objects
ranked by p_T within their kind, ``i`` = 1, 2, ... up to the number the selection requires):

* ``pt_<p>i``, ``eta_<p>i``, ``phi_<p>i``; jets also ``m_ji`` and ``btag_ji`` (0/1), leptons ``q_<p>i``;
  when jets are required, columns for a third jet are always there (zeros when it is absent);
* ``n_jets``, ``n_photons``, ``n_electrons``, ``n_muons``; ``ht`` (scalar sum of jet p_T);
  ``met``, ``met_phi`` (minus the vector sum of the reconstructed objects' p_T);
* for a kind with two or more required objects, the pair observables of the two leading ones
  (``theory.observables.pair_observables``: m, Δη, signed Δφ, rapidities), unless the process's
  own observables already hold them;
* for a registered process, its own observables (``Process.observables``) evaluated on the
  *reconstructed* momenta in the process's layout: each visible parton slot is filled with the
  reconstructed object of the same kind (jets in p_T order, leptons by charge), a Higgs slot with
  the sum of its two photons, and the incoming partons are rebuilt from the visible final state,
  pa = (E + p_z)/2 (1, 0, 0, 1), pb = (E − p_z)/2 (1, 0, 0, −1) (exact at LO, as in
  ``theory.observables.wbf_invariants``). For WBF that recomputes m_jj, Δη_jj, the signed Δφ_jj,
  x_p = p_T/m_H, p_T and y of the photon pair and the Lorentz invariants from reconstructed objects.

An event is kept when it has the required objects; each requirement is a cut-flow entry (events
remaining), in order. The parton record (momenta, flavours) and the weights of kept events are
untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from physinf.detector.objects import ELECTRON, JET, KIND_NAMES, KINDS, MUON, PHOTON, Collection, kind_of_pdg
from physinf.errors import InvalidParameterError
from physinf.simulate.events import EventSample, frozen
from theory.observables import pair_observables

__all__ = ["REQUIREMENT_KEYS", "Assembly", "Layout", "Observed", "default_requirements", "observe_kept", "observe_objects",
           "process_layout"]

_PREFIX = {JET: "j", PHOTON: "a", ELECTRON: "e", MUON: "mu"}
_KIND_OF = {"jets": JET, "photons": PHOTON, "electrons": ELECTRON, "muons": MUON}
_KEY_OF = {_PREFIX[k]: KIND_NAMES[k] for k in KINDS} | {"l": "leptons"}  # column prefix -> requirement key
REQUIREMENT_KEYS = ("jets", "photons", "electrons", "muons", "leptons", "electrons+", "electrons-", "muons+", "muons-")


@dataclass(frozen=True)
class Layout:
    """How a process's momenta are rebuilt from reconstructed objects.

    slots: one entry per process label: ("beam", 0 or 1), ("object", kind, charge, rank) (the
    rank-th object of that kind, counted among those of that charge for leptons), or ("pair",
    kind, rank1, rank2) (the sum of two objects, e.g. the photons of a Higgs decay)."""

    slots: tuple[tuple[Any, ...], ...]

    def requirements(self) -> tuple[tuple[str, int], ...]:
        need: dict[str, int] = {}
        for slot in self.slots:
            if slot[0] == "object":
                _, kind, charge, rank = slot
                key = KIND_NAMES[kind] + ("" if kind in (JET, PHOTON) else ("+" if charge > 0 else "-"))
                need[key] = max(need.get(key, 0), rank + 1)
            elif slot[0] == "pair":
                _, kind, r1, r2 = slot
                need[KIND_NAMES[kind]] = max(need.get(KIND_NAMES[kind], 0), r1 + 1, r2 + 1)
        return tuple(need.items())


def process_layout(labels: tuple[str, ...], pdg: np.ndarray) -> Layout:
    """The layout of a registered process from its flavours (N, P): incoming slots 0, 1; every
    final-state slot must hold the same kind of particle in all events (as physinf processes do)."""
    slots: list[tuple[Any, ...]] = [("beam", 0), ("beam", 1)]
    rank: dict[tuple[int, int], int] = {}
    photons = 0
    for i in range(2, len(labels)):
        # the kinds of the |PDG| ids present (counted in one pass: kind_of_pdg of every entry took three)
        ids = np.flatnonzero(np.bincount(np.minimum(np.abs(pdg[:, i], dtype=np.int64), 99), minlength=100))
        kinds = np.unique(kind_of_pdg(ids))
        if len(kinds) != 1:
            raise InvalidParameterError(f"particle {labels[i]!r} is not of one kind in all events; the detector cannot "
                                        "map reconstructed objects onto it")
        code = int(kinds[0])
        if code == -25:
            slots.append(("pair", PHOTON, photons, photons + 1))
            photons += 2
        elif code == PHOTON:
            slots.append(("object", PHOTON, 0, photons))
            photons += 1
        elif code in (JET, ELECTRON, MUON):
            charge = 0 if code == JET else int(-np.sign(pdg[0, i]))
            if code != JET and np.any(-np.sign(pdg[:, i]) != charge):
                raise InvalidParameterError(f"lepton {labels[i]!r} changes charge between events")
            r = rank.get((code, charge), 0)
            rank[(code, charge)] = r + 1
            slots.append(("object", code, charge, r))
        else:
            raise InvalidParameterError(f"particle {labels[i]!r} (PDG {int(pdg[0, i])}) cannot be reconstructed as an object")
    return Layout(tuple(slots))


def default_requirements(pdg: np.ndarray, final: list[int]) -> tuple[tuple[str, int], ...]:
    """For samples without a registered process (LHE files): every event must show as many jets,
    photons (a Higgs counts as two) and leptons as the parton record of its least populated event."""
    kinds = kind_of_pdg(pdg[:, final])
    counts = {"jets": np.sum(kinds == JET, axis=1),
              "photons": np.sum(kinds == PHOTON, axis=1) + 2 * np.sum(kinds == -25, axis=1),
              "leptons": np.sum((kinds == ELECTRON) | (kinds == MUON), axis=1)}
    return tuple((key, int(c.min())) for key, c in counts.items() if len(c) and c.min() > 0)


def _count(objects: dict[int, Collection], key: str) -> np.ndarray:
    if key == "leptons":
        return np.sum(objects[ELECTRON].valid, axis=1) + np.sum(objects[MUON].valid, axis=1)
    base, sign = key.rstrip("+-"), key[-1] if key[-1] in "+-" else ""
    col = objects[_KIND_OF[base]]
    member = col.valid
    if sign:
        member = member & (col.charge == (1 if sign == "+" else -1))
    return np.sum(member, axis=1)


def _merged_leptons(objects: dict[int, Collection]) -> Collection:
    e, mu = objects[ELECTRON], objects[MUON]
    return Collection(*(np.concatenate([getattr(e, f), getattr(mu, f)], axis=1)
                        for f in ("pt", "eta", "phi", "m", "valid", "charge", "flavour", "btag"))).sorted()


def _pick(col: Collection, rank: int, charge: int | None) -> np.ndarray:
    """Four-vectors (N, 4) of the rank-th valid object (of that charge), zero where absent."""
    if charge is None:
        return col.vectors(rank)
    member = col.valid & (col.charge == charge)
    position = np.cumsum(member, axis=1) - 1
    hit = member & (position == rank)
    slot = np.argmax(hit, axis=1)
    rows = np.arange(len(slot))
    from physinf.detector.objects import four_vectors

    p = four_vectors(col.pt[rows, slot], col.eta[rows, slot], col.phi[rows, slot], col.m[rows, slot])
    return p * hit.any(axis=1)[:, None]


@dataclass(frozen=True)
class Observed:
    """Per-chunk result of :func:`observe_objects`: which events pass (N,), the events remaining
    after each requirement, the columns and layout momenta of the passing events."""

    keep: np.ndarray
    passed: tuple[int, ...]
    columns: dict[str, np.ndarray]
    momenta: np.ndarray | None


def observe_objects(objects: dict[int, Collection], *, requirements: tuple[tuple[str, int], ...],
                    layout: Layout | None, process: str) -> Observed:
    """Selection and named columns (see the module docstring) for the measured objects of a chunk."""
    n = len(next(iter(objects.values())).pt)
    keep = np.ones(n, dtype=bool)
    passed = []
    for key, count in requirements:
        if key not in REQUIREMENT_KEYS:
            raise InvalidParameterError(f"unknown requirement {key!r}; allowed: {', '.join(REQUIREMENT_KEYS)}")
        keep &= _count(objects, key) >= count
        passed.append(int(np.count_nonzero(keep)))
    rows: np.ndarray | slice = slice(None) if keep.all() else np.flatnonzero(keep)
    columns, layout_momenta = observe_kept({k: c.take(rows) for k, c in objects.items()}, requirements=requirements,
                                           layout=layout, process=process)
    return Observed(keep, tuple(passed), columns, layout_momenta)


def observe_kept(objs: dict[int, Collection], *, requirements: tuple[tuple[str, int], ...], layout: Layout | None,
                 process: str, summary: dict[str, np.ndarray] | None = None) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """The named columns and the layout momenta of the events that met the requirements; summary:
    the :func:`summary_columns`, when the compiled detector made them already."""
    need = dict(requirements)
    per_kind = {k: 0 for k in KINDS}
    for key, count in need.items():
        if key != "leptons":
            per_kind[_KIND_OF[key.rstrip("+-")]] += count
    groups: list[tuple[str, Collection, int, bool]] = [(_PREFIX[k], objs[k], per_kind[k], k in (ELECTRON, MUON))
                                                       for k in KINDS if per_kind[k]]
    if "leptons" in need:
        groups.append(("l", _merged_leptons(objs), need["leptons"], True))

    layout_momenta = None
    process_columns: dict[str, np.ndarray] = {}
    vectors: dict[tuple[str, int], np.ndarray] = {}
    if layout is not None:
        from theory.processes.registry import get_process

        layout_momenta = _layout_momenta(objs, layout, vectors)
        process_columns = get_process(process).observables(layout_momenta)

    columns: dict[str, np.ndarray] = {}
    for prefix, col, count, charged in groups:
        paired = count >= 2
        if prefix == "j":  # a third jet (zeros when absent; n_jets tells), e.g. for a central-jet veto
            count = max(count, 3)
        for r in range(count):
            i = r + 1
            if r >= col.size:  # never present at this level (e.g. a third jet at parton level): zeros
                zero = np.zeros(len(col.pt))
                columns.update({f"pt_{prefix}{i}": zero, f"eta_{prefix}{i}": zero, f"phi_{prefix}{i}": zero})
                if prefix == "j":
                    columns.update({f"m_j{i}": zero, f"btag_j{i}": zero})
                elif charged:
                    columns[f"q_{prefix}{i}"] = zero
                continue
            present = col.valid[:, r]  # an object the selection does not require may be absent: zeros
            sure = r < need.get(_KEY_OF[prefix], 0)  # the selection guarantees this object
            for name, value in ((f"pt_{prefix}{i}", col.pt), (f"eta_{prefix}{i}", col.eta), (f"phi_{prefix}{i}", col.phi),
                                *(((f"m_j{i}", col.m), (f"btag_j{i}", col.btag)) if prefix == "j" else ()),
                                *(((f"q_{prefix}{i}", col.charge),) if charged and prefix != "j" else ())):
                v = value[:, r]
                columns[name] = (v if sure else np.where(present, v, 0)).astype(float, copy=False)
        if paired and f"m_{prefix}{prefix}" not in process_columns:
            if layout is None:
                columns.update(pair_observables(col.vectors(0), col.vectors(1), prefix))
            else:  # a registered process's own observables hold what matters; add the pair mass
                a, b = _cached(vectors, prefix, col, 0), _cached(vectors, prefix, col, 1)
                columns[f"m_{prefix}{prefix}"] = np.sqrt(np.maximum((a[:, 0] + b[:, 0]) ** 2 - np.sum((a[:, 1:] + b[:, 1:]) ** 2, axis=1), 0.0))
    columns.update(summary_columns(objs, vectors) if summary is None else summary)
    columns.update(process_columns)
    return columns, layout_momenta


def summary_columns(objs: dict[int, Collection], vectors: dict[tuple[str, int], np.ndarray] | None = None
                    ) -> dict[str, np.ndarray]:
    """Objects per kind (n_jets, ...), the scalar sum of jet p_T (ht) and the missing transverse
    momentum (met, met_phi: minus the vector sum of every object's p_T, kinds in KINDS order and
    objects in p_T order, as the compiled detector sums them)."""
    vectors = {} if vectors is None else vectors
    columns = {f"n_{KIND_NAMES[code]}": np.sum(objs[code].valid, axis=1).astype(float) for code in KINDS}
    jets = objs[JET]
    columns["ht"] = np.sum(np.where(jets.valid, jets.pt, 0.0), axis=1)
    mex = np.zeros(columns["ht"].shape)
    mey = np.zeros(columns["ht"].shape)
    for code in KINDS:
        for slot in range(objs[code].size):
            p = _cached(vectors, _PREFIX[code], objs[code], slot)
            mex -= p[:, 1]
            mey -= p[:, 2]
    columns["met"], columns["met_phi"] = np.hypot(mex, mey), np.arctan2(mey, mex)
    return columns


class Assembly:
    """One observed EventSample built from the chunk results, added in event order (:meth:`add`),
    then :meth:`finish`: the kept events with their parton record and weights, the columns, and one
    cut-flow entry per requirement.

    Each chunk's columns and layout momenta are written at once into arrays sized for the whole
    sample, and the finished sample holds their first rows (pages never written take no memory):
    concatenating the chunks at the end read and wrote every column once more, a tenth of the
    fast detector's time."""

    def __init__(self, sample: EventSample):
        self.sample = sample
        self.seen = 0  # input events added so far
        self.kept = 0
        self.keep: list[np.ndarray] = []
        self.passed = np.zeros(0, np.int64)  # events remaining after each requirement
        self.columns: dict[str, np.ndarray] = {}
        self.momenta: np.ndarray | None = None  # component-major store (P, 4, N), as _layout_momenta makes them
        self.finite = True  # every column value so far (checked while the chunk is in cache)

    def add(self, part: Observed) -> None:
        n, k = len(part.keep), int(np.count_nonzero(part.keep))
        size = len(self.sample)
        if self.seen + n > size:
            raise InvalidParameterError(f"chunks of {self.seen + n} events added to a sample of {size}")
        first = not self.keep
        if first:
            self.passed = np.zeros(len(part.passed), np.int64)
            self.columns = {key: np.empty(size, value.dtype) for key, value in part.columns.items()}
            if part.momenta is not None:
                self.momenta = np.empty(part.momenta.shape[1:] + (size,))
        elif part.columns.keys() != self.columns.keys():
            raise InvalidParameterError("chunks of one sample produced different columns")
        rows = slice(self.kept, self.kept + k)
        for key, value in part.columns.items():
            self.columns[key][rows] = value
            self.finite = self.finite and bool(np.isfinite(value.sum()))  # else the EventSample finds and names it
        if self.momenta is not None and part.momenta is not None:
            self.momenta[..., rows] = part.momenta.transpose(1, 2, 0)
        self.keep.append(part.keep)
        self.passed += np.asarray(part.passed, np.int64)
        self.seen += n
        self.kept += k

    def finish(self, *, name: str, requirements: tuple[tuple[str, int], ...], provenance: dict[str, Any]
               ) -> tuple[EventSample, np.ndarray | None]:
        """The observed sample and the reconstructed momenta (N, P, 4) in the process layout (or None)."""
        sample = self.sample
        if self.seen != len(sample):
            raise InvalidParameterError(f"{self.seen} of the sample's {len(sample)} events were added")
        keep = np.concatenate(self.keep)
        cutflow = dict(sample.cutflow)
        for i, (key, count) in enumerate(requirements):
            cutflow[f"{name}: {count} {key}"] = int(self.passed[i])
        # frozen whole, then their first rows: the EventSample keeps these views instead of copying them
        columns = {key: frozen(value)[: self.kept] for key, value in self.columns.items()}
        momenta = None if self.momenta is None else self.momenta[..., : self.kept].transpose(2, 0, 1)
        if keep.all():  # views of the (immutable) input arrays
            def take(a: np.ndarray) -> np.ndarray:
                return a
        else:
            rows = np.flatnonzero(keep)

            def take(a: np.ndarray) -> np.ndarray:
                return frozen(np.take(a, rows, axis=0))  # three times faster than a[rows] for (N, P, 4)
        observed = replace(
            sample, momenta=take(sample.momenta), pdg=take(sample.pdg), weight_components=take(sample.weight_components),
            variations={k: take(v) for k, v in sample.variations.items()}, observables=columns, cutflow=cutflow,
            provenance={**sample.provenance, "detector": {**provenance, "requirements": [list(r) for r in requirements]}},
            mc_rel_error=sample.mc_rel_error if keep.all() else None,
            _checked=frozenset({"momenta", "weight_components", "variations"} | ({"observables"} if self.finite else set())),
        )
        return observed, momenta


def _cached(cache: dict[tuple[str, int], np.ndarray], key: str, col: Collection, slot: int) -> np.ndarray:
    if (key, slot) not in cache:
        cache[(key, slot)] = col.vectors(slot)
    return cache[(key, slot)]


def _layout_momenta(objs: dict[int, Collection], layout: Layout, cache: dict[tuple[str, int], np.ndarray]) -> np.ndarray:
    """Momenta (N, P, 4) in the process layout, stored component-major (theory.kinematics.component_major:
    each p[:, i, k] contiguous, the layout the observables compute fastest on, without a copy)."""
    n = len(next(iter(objs.values())).pt)
    store = np.zeros((len(layout.slots), 4, n))
    for i, slot in enumerate(layout.slots):
        if slot[0] == "object":
            _, kind, charge, rank = slot
            if kind in (JET, PHOTON):
                store[i] = _cached(cache, _PREFIX[kind], objs[kind], rank).T
            else:
                store[i] = _pick(objs[kind], rank, charge).T
        elif slot[0] == "pair":
            _, kind, r1, r2 = slot
            np.add(_cached(cache, _PREFIX[kind], objs[kind], r1).T, _cached(cache, _PREFIX[kind], objs[kind], r2).T, out=store[i])
    visible = [i for i, s in enumerate(layout.slots) if s[0] != "beam"]
    energy, pz = store[visible, 0].sum(axis=0), store[visible, 3].sum(axis=0)
    plus, minus = (energy + pz) / 2, (energy - pz) / 2
    for i, slot in enumerate(layout.slots):
        if slot[0] == "beam":
            e = plus if slot[1] == 0 else minus
            store[i, 0] = e
            store[i, 3] = e if slot[1] == 0 else -e
    out: np.ndarray = store.transpose(2, 0, 1)
    return out
