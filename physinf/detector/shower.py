"""Pythia 8 shower and hadronisation, FastJet jets, then a detector card: the ShowerDetector.

Chain (extra ``shower``: pythia8mc, fastjet): the events go to Pythia 8 through a Les Houches file
(:func:`physinf.io.write_lhe`; a Higgs boson is decayed to two photons first, isotropically, as the
fast detector does, and handed over as its daughters); Pythia showers (ISR, FSR, QED), adds
multi-parton interactions and hadronises (all configurable in :class:`ShowerConfig`); the
particle-level objects (dressed isolated leptons, isolated photons, anti-kT jets with truth flavour:
:mod:`physinf.detector.jets`) then get the card's detector response
(:mod:`physinf.detector.response`) and the same selection and columns as the fast detector
(:mod:`physinf.detector.observe`). Each observed event keeps its parton record and weights.

Reproducibility and parallelism. The events are cut into chunks of ``chunk_size`` (fixed); chunk c
is showered with Pythia's random generator re-seeded to a seed derived from (seed, c) and every
Pythia instance is initialised with the same seed, so the result depends only on the seed and the
chunk size, not on how chunks are spread over workers: ``n_workers`` processes (or dask workers,
``executor="dask"``) give identical events. Pythia failing on an event never stops a run: the event
is counted (cut-flow entry ``<name>: showered``) and listed by index in the provenance.

Settings (physinf choices, stated): Pythia's default tune (Monash 2013) and PDF for the shower and
MPI; long-lived particles with cτ > 10 mm are stable (``ParticleDecays:limitTau0``), the
LHC convention for generator-level particles; for WBF the space-like shower uses dipole recoil
(``SpaceShower:dipoleRecoil = on``), as recommended for VBF by Jäger, Karlberg, Plätzer, Scheller,
Zaro, arXiv:2003.12435 (global recoil over-produces central radiation there).
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from physinf._io import require
from physinf.detector.card import DetectorCard, load_card
from physinf.detector.fast import (
    Reconstruction,
    _check_requirements,
    covers,
    detector_provenance,
    layout_for,
    merge_lost,
    requirements_for,
)
from physinf.detector.objects import KINDS, Collection
from physinf.detector.observe import Assembly, observe_objects
from physinf.detector.response import measure
from physinf.errors import InvalidParameterError, PhysinfError
from physinf.simulate.events import EventSample

__all__ = ["ShowerConfig", "ShowerDetector", "ShowerResult", "pythia_alone", "pythia_settings", "shower_lhe"]


@dataclass(frozen=True)
class ShowerConfig:
    """Settings of the Pythia 8 + FastJet chain.

    mpi, isr, fsr, qed, hadronisation: switch the corresponding Pythia stages (all on by default);
    dipole_recoil: "auto" (on for WBF, off otherwise), "on" or "off"; jet_pt_min: particle-level
    jets kept above this p_T (GeV; below the card's threshold so that smearing can move jets across
    it); max_jets: jets kept per event; chunk_size: events per Pythia re-seeding (fixes the result
    for a seed); n_workers: parallel processes (1: in this process); executor: "process" (a local
    process pool) or "dask" (the current dask.distributed client, extra ``dist``); settings: extra
    Pythia setting strings, checked by Pythia (e.g. ``"Tune:pp = 14"``)."""

    mpi: bool = True
    isr: bool = True
    fsr: bool = True
    qed: bool = True
    hadronisation: bool = True
    dipole_recoil: Literal["auto", "on", "off"] = "auto"
    jet_pt_min: float = 10.0
    max_jets: int = 8
    chunk_size: int = 250
    n_workers: int = 1
    executor: Literal["process", "dask"] = "process"
    settings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("mpi", "isr", "fsr", "qed", "hadronisation"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidParameterError(f"ShowerConfig.{name} must be True or False, got {getattr(self, name)!r}")
        if self.dipole_recoil not in ("auto", "on", "off"):
            raise InvalidParameterError(f"dipole_recoil must be 'auto', 'on' or 'off', got {self.dipole_recoil!r}")
        if self.executor not in ("process", "dask"):
            raise InvalidParameterError(f"executor must be 'process' or 'dask', got {self.executor!r}")
        for name, low in (("max_jets", 1), ("chunk_size", 1), ("n_workers", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InvalidParameterError(f"ShowerConfig.{name} must be an integer >= {low}, got {value!r}")
        if not (isinstance(self.jet_pt_min, (int, float)) and 0 <= self.jet_pt_min < 1e4):
            raise InvalidParameterError(f"jet_pt_min must be a p_T in GeV (0 <= jet_pt_min < 1e4), got {self.jet_pt_min!r}")
        object.__setattr__(self, "settings", tuple(str(s) for s in self.settings))


def pythia_settings(config: ShowerConfig, lhe_path: str | os.PathLike, seed: int, *, wbf: bool) -> list[str]:
    """The Pythia setting strings of a run (see the module docstring for the choices)."""
    on = {True: "on", False: "off"}
    recoil = config.dipole_recoil == "on" or (config.dipole_recoil == "auto" and wbf)
    return [
        "Beams:frameType = 4",
        f"Beams:LHEF = {lhe_path}",
        f"PartonLevel:MPI = {on[config.mpi]}",
        f"PartonLevel:ISR = {on[config.isr]}",
        f"PartonLevel:FSR = {on[config.fsr]}",
        f"HadronLevel:all = {on[config.hadronisation]}",
        f"TimeShower:QEDshowerByQ = {on[config.qed]}",
        f"TimeShower:QEDshowerByL = {on[config.qed]}",
        f"SpaceShower:QEDshowerByQ = {on[config.qed]}",
        f"SpaceShower:QEDshowerByL = {on[config.qed]}",
        f"SpaceShower:dipoleRecoil = {on[recoil]}",
        "ParticleDecays:limitTau0 = on",
        "ParticleDecays:tau0Max = 10",
        "Random:setSeed = on",
        f"Random:seed = {seed}",
        "Next:numberCount = 0",
        "Next:numberShowEvent = 0",
        "Next:numberShowProcess = 0",
        "Next:numberShowInfo = 0",
        "Print:quiet = on",
        *config.settings,
    ]


def _pythia(settings: list[str]) -> Any:
    pythia8mc = require("pythia8mc", "shower", "the Pythia 8 shower")
    from physinf.detector.jets import quiet_stdout

    with quiet_stdout():
        py = pythia8mc.Pythia("", False)
        bad = [s for s in settings if not py.readString(s)]
        if bad:
            raise InvalidParameterError(f"Pythia rejected the setting(s) {bad}; see the Pythia 8 manual for the names")
        if not py.init():
            raise PhysinfError("Pythia failed to initialise from the LHE file (run with ShowerConfig(settings=('Print:quiet "
                               "= off',)) to see its messages)")
    return py


@dataclass(frozen=True)
class _Block:
    """Work for one worker: an LHE file with the events of consecutive chunks."""

    lhe: str
    sizes: tuple[int, ...]
    seeds: tuple[int, ...]
    init_seed: int
    config: ShowerConfig
    card: DetectorCard
    wbf: bool


def _run_block(block: _Block) -> tuple[dict[int, Collection], np.ndarray, float, float]:
    """Shower the chunks of a block; returns the particle-level objects, the failed mask, and the
    seconds spent in Pythia and in the glue (object building, clustering)."""
    from physinf.detector.jets import particle_objects, quiet_stdout

    py = _pythia(pythia_settings(block.config, block.lhe, block.init_seed, wbf=block.wbf))
    parts, failed, t_pythia, t_glue = [], [], 0.0, 0.0
    for size, seed in zip(block.sizes, block.seeds):
        py.rndm.init(seed)
        t0 = time.perf_counter()
        with quiet_stdout():
            batch = py.nextBatch(size, errorMode="none")
        t1 = time.perf_counter()
        objects, bad = particle_objects(batch, block.card, jet_pt_min=block.config.jet_pt_min, max_jets=block.config.max_jets)
        t_glue += time.perf_counter() - t1
        t_pythia += t1 - t0
        parts.append(objects)
        failed.append(bad)
    merged = {k: _concat([p[k] for p in parts]) for k in KINDS}
    return merged, np.concatenate(failed), t_pythia, t_glue


def _pythia_alone_block(block: _Block) -> tuple[int, float]:
    """The same events through Pythia only (hadron level, nothing else): failures and seconds."""
    py = _pythia(pythia_settings(block.config, block.lhe, block.init_seed, wbf=block.wbf))
    from physinf.detector.jets import quiet_stdout

    failures, seconds = 0, 0.0
    for size, seed in zip(block.sizes, block.seeds):
        py.rndm.init(seed)
        t0 = time.perf_counter()
        with quiet_stdout():
            for _ in range(size):
                failures += not py.next()
        seconds += time.perf_counter() - t0
    return failures, seconds


def _concat(cols: list[Collection]) -> Collection:
    k = max(c.size for c in cols)
    padded = []
    for c in cols:
        if c.size < k:
            extra = Collection.empty(len(c.pt), k - c.size)
            c = Collection(*(np.concatenate([getattr(c, f), getattr(extra, f)], axis=1)
                             for f in ("pt", "eta", "phi", "m", "valid", "charge", "flavour", "btag")))
        padded.append(c)
    return Collection(*(np.concatenate([getattr(c, f) for c in padded]) for f in ("pt", "eta", "phi", "m", "valid",
                                                                                   "charge", "flavour", "btag")))


@dataclass(frozen=True)
class ShowerResult:
    """Particle-level objects of showered events (rows = input events), the events Pythia failed,
    and timings: wall seconds of the whole run, and (summed over workers) seconds inside Pythia
    and inside physinf's glue (object building and FastJet)."""

    objects: dict[int, Collection]
    failed: np.ndarray
    wall_s: float
    pythia_s: float
    glue_s: float


def _chunking(n: int, config: ShowerConfig, seed: int) -> tuple[list[int], list[int], int]:
    sizes = [min(config.chunk_size, n - s) for s in range(0, n, config.chunk_size)]
    states = np.random.SeedSequence(seed).spawn(len(sizes) + 1)
    seeds = [int(s.generate_state(1)[0] % 900_000_000) + 1 for s in states[1:]]
    init_seed = int(states[0].generate_state(1)[0] % 900_000_000) + 1
    return sizes, seeds, init_seed


def _split_lhe(path: Path, sizes: list[int], n_workers: int, folder: Path) -> list[tuple[str, list[int]]]:
    """Cut an LHE file into ``n_workers`` files of consecutive chunks (header and init copied)."""
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        text = f.read()
    head, sep, rest = text.partition("<event>")
    events = [sep + block for block in rest.split("<event>")]
    events[-1] = events[-1][: events[-1].rindex("</event>") + len("</event>\n")]
    per_worker = np.array_split(np.arange(len(sizes)), n_workers)
    out = []
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    for w, chunks in enumerate(per_worker):
        if len(chunks) == 0:
            continue
        lo, hi = bounds[chunks[0]], bounds[chunks[-1] + 1]
        target = folder / f"worker{w}.lhe"
        target.write_text(head + "".join(events[lo:hi]) + "</LesHouchesEvents>\n")
        out.append((str(target), [sizes[c] for c in chunks]))
    return out


def _blocks(path: Path, n_events: int, config: ShowerConfig, seed: int, card: DetectorCard, wbf: bool,
            folder: Path) -> list[_Block]:
    sizes, seeds, init_seed = _chunking(n_events, config, seed)
    if config.n_workers == 1:
        return [_Block(str(path), tuple(sizes), tuple(seeds), init_seed, config, card, wbf)]
    blocks, used = [], 0
    for file, block_sizes in _split_lhe(path, sizes, config.n_workers, folder):
        k = len(block_sizes)
        blocks.append(_Block(file, tuple(block_sizes), tuple(seeds[used:used + k]), init_seed, config, card, wbf))
        used += k
    return blocks


def _map(function: Any, blocks: list[_Block], config: ShowerConfig) -> list[Any]:
    if len(blocks) == 1:
        return [function(blocks[0])]
    if config.executor == "dask":
        distributed = require("distributed", "dist", "dask workers")
        try:
            client = distributed.get_client()
        except ValueError as err:
            raise InvalidParameterError("executor='dask' needs a running dask.distributed Client "
                                        "(from distributed import Client; client = Client())") from err
        return client.gather(client.map(function, blocks, pure=False))
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=len(blocks), mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(function, blocks))


def shower_lhe(path: str | os.PathLike, n_events: int, *, card: DetectorCard, config: ShowerConfig = ShowerConfig(),
               seed: int = 0, wbf: bool = False) -> ShowerResult:
    """Shower and hadronise the first ``n_events`` events of an LHE file and build particle-level
    objects (see the module docstring); rows of the result follow the events of the file."""
    path = Path(path)
    if not path.exists():
        raise InvalidParameterError(f"LHE file {path} does not exist")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="physinf-shower-") as folder:
        blocks = _blocks(path, n_events, config, seed, card, wbf, Path(folder))
        results = _map(_run_block, blocks, config)
    objects = {k: _concat([r[0][k] for r in results]) for k in KINDS}
    failed = np.concatenate([r[1] for r in results])
    if len(failed) != n_events:
        raise PhysinfError(f"Pythia returned {len(failed)} events for {n_events} in {path}; the file holds fewer events")
    return ShowerResult(objects, failed, time.perf_counter() - t0, sum(r[2] for r in results), sum(r[3] for r in results))


def pythia_alone(path: str | os.PathLike, n_events: int, *, card: DetectorCard, config: ShowerConfig = ShowerConfig(),
                 seed: int = 0, wbf: bool = False) -> dict[str, float]:
    """Pythia alone on the same events and settings (hadron level, no clustering, no detector):
    wall seconds, seconds inside Pythia and failures, for the throughput comparison."""
    path = Path(path)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="physinf-shower-") as folder:
        blocks = _blocks(path, n_events, config, seed, card, wbf, Path(folder))
        results = _map(_pythia_alone_block, blocks, config)
    return {"wall_s": time.perf_counter() - t0, "pythia_s": sum(r[1] for r in results),
            "failures": int(sum(r[0] for r in results))}


@dataclass(frozen=True)
class ShowerDetector:
    """A :class:`physinf.detector.Detector`: Pythia 8 shower + hadronisation, FastJet anti-kT jets and
    the card's detector response (module docstring). ``requirements``: as for
    :class:`physinf.detector.FastDetector`. The random generator passed to ``apply`` decides the
    Higgs decay, the gluon colour flows and Pythia's seeds."""

    card: DetectorCard
    shower: ShowerConfig = ShowerConfig()
    requirements: Any = field(default=None, hash=False)
    name: str = ""
    _requirements: tuple[tuple[str, int], ...] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.card, DetectorCard):
            raise InvalidParameterError(f"card must be a DetectorCard (use ShowerDetector.from_preset(name_or_path)), "
                                        f"got {type(self.card).__name__}")
        if not isinstance(self.shower, ShowerConfig):
            raise InvalidParameterError(f"shower must be a ShowerConfig, got {type(self.shower).__name__}")
        object.__setattr__(self, "_requirements", _check_requirements(self.requirements))
        if not self.name:
            object.__setattr__(self, "name", f"{self.card.name}+pythia")

    @classmethod
    def from_preset(cls, preset: str | os.PathLike = "atlas-like", **options: Any) -> ShowerDetector:
        return cls(load_card(preset), **options)

    def reconstruct(self, sample: EventSample, rng: np.random.Generator) -> Reconstruction:
        """The observed sample and the reconstructed momenta in the process layout (None for LHE samples)."""
        if not isinstance(sample, EventSample):
            raise InvalidParameterError(f"sample must be an EventSample, got {type(sample).__name__}")
        if not isinstance(rng, np.random.Generator):
            raise InvalidParameterError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
        if len(sample) == 0:
            raise InvalidParameterError("the sample holds no events")
        layout = layout_for(sample)
        requirements = requirements_for(sample, layout, self._requirements)
        layout = layout if covers(requirements, layout) else None
        seed = int(rng.integers(1, 2**31 - 1))
        with tempfile.TemporaryDirectory(prefix="physinf-lhe-") as folder:
            path = _lhe_for(sample, Path(folder), rng)
            result = shower_lhe(path, len(sample), card=self.card, config=self.shower, seed=seed,
                                wbf=sample.process == "wbf")
        measured = measure(result.objects, self.card, rng, parton_level=False)
        showered = ~result.failed
        kept = sample.subset(showered, reason=f"{self.name}: showered")
        assembly = Assembly(kept)
        assembly.add(observe_objects({k: c.take(showered) for k, c in measured.objects.items()}, requirements=requirements,
                                     layout=layout, process=sample.process))
        provenance = detector_provenance(
            self.name, self.card, "shower", lost_objects=merge_lost([measured.lost]),
            shower={**_config_dict(self.shower), "seed": seed, "pythia_failures": int(result.failed.sum()),
                    "failed_events": np.flatnonzero(result.failed).tolist()[:1000],
                    "wall_s": result.wall_s, "pythia_s": result.pythia_s, "glue_s": result.glue_s},
        )
        observed, momenta = assembly.finish(name=self.name, requirements=requirements, provenance=provenance)
        return Reconstruction(observed, momenta)

    def apply(self, sample: EventSample, rng: np.random.Generator) -> EventSample:
        return self.reconstruct(sample, rng).sample


def _config_dict(config: ShowerConfig) -> dict[str, Any]:
    from dataclasses import asdict

    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(config).items()}


def _lhe_for(sample: EventSample, folder: Path, rng: np.random.Generator) -> Path:
    """The LHE file Pythia reads: written from the sample (Higgs decayed), or the sample's own file."""
    from theory.processes.registry import PROCESSES

    if sample.process in PROCESSES:
        from physinf.io import write_lhe

        sqrt_s = sample.config.sqrt_s if sample.config is not None else None
        if sqrt_s is None:
            raise InvalidParameterError("the sample has no generation config: the collider energy is unknown")
        return write_lhe(sample, folder / "events.lhe", benchmarks={}, seed=rng, decay_higgs=True, sqrt_s=sqrt_s)
    lhe = sample.provenance.get("lhe", {})
    source = lhe.get("file")
    first = int(lhe.get("first_event", 1))
    n_file = int(lhe.get("n_events", len(sample)))
    if not source or not Path(source).exists():
        raise InvalidParameterError(f"cannot shower {sample.process!r}: physinf showers its own processes and samples read "
                                    "from an LHE file that still exists (provenance['lhe']['file'])")
    if first != 1 or n_file != len(sample) or sample.cutflow.get("lhe events") != len(sample):
        raise InvalidParameterError("this LHE sample is a selection of its file's events; shower the whole file "
                                    "(read_lhe(path)) and select afterwards")
    return Path(source)
