"""Les Houches Event files: physinf's events out (LHEF 3, with MadGraph-style reweighting weights) and
any generator's events in (through pylhe), with reweighting weights turned into morphing components.

Writing (:func:`write_lhe`). Events of a registered process are written as MadGraph writes them: an
``<init>`` block (beams, σ, IDWTUP = -4 for weighted and 3 for unweighted events), one ``<event>``
per event with colour flows (``physinf.io._colour``) and the process's scale as SCALUP, and, at a
set of benchmark points θ_k, ``<rwgt>`` weights declared in an ``<initrwgt>`` block of
``<weightgroup name='mg_reweighting'>`` whose ``<weight>`` elements hold ``set param_card physinf
<i> <value>`` lines, with the matching ``<slha>`` card (``BLOCK PHYSINF``, one entry per Wilson
coefficient named in its comment) in the header. Normalisation (MadGraph's ``event_norm =
average``, the LHA rule for IDWTUP = ±3, ±4): the mean of the event weights is σ in pb, so a
weighted event n carries N w_n(θ) and an unweighted one σ; the ``<rwgt>`` weights use the same
normalisation. A ``<physinf>`` header element (JSON) records the process, labels, monomials and
generation config, so :func:`read_lhe` restores the same EventSample. The default benchmarks
(:func:`default_benchmarks`) determine the full polynomial.

Reading (:func:`read_lhe`, :func:`iter_lhe` in bounded-memory chunks). Any LHE file becomes an
EventSample: process ``"lhe:<file stem>"`` (or the original physinf process for files physinf
wrote), momenta ``(pa, pb, p1, ..., pK)``: the two incoming particles (the one moving along +z
first) and the final-state particles (status 1) in file order, padded with zero momenta and PDG 0
to the largest multiplicity; labels ``pa, pb, p1, ...``; columns ``scale``, ``aqcd``, ``aqed``,
``process_id``, ``n_final``; no generation config. Weights: per event w_n = XWGTUP/N (the LHA
average normalisation; ``event_norm = sum`` in a MadGraph run card is honoured), or σ/N with
σ = ΣXSECUP for unweighted files (IDWTUP = ±3). Reweighting weights (benchmarks, parsed by
``physinf.io._reweight``) are fitted to morphing components with
:func:`theory.morphing.components_from_benchmarks`: ``max_degree`` (default 2) sets the polynomial;
benchmarks that do not determine it are refused with the undetermined monomials named (one point
per operator fixes only the linear term: pass ``max_degree=1`` to fit that truncation, whose
"linear" component then contains Δθ times the quadratic term; this is recorded in the provenance).
A fit whose residual at the benchmarks exceeds ``tolerance`` (default 1e-5 of the event's largest
weight: the files carry 7 to 11 significant digits) is refused as well. Other weights (scale and PDF
variations) become ``variations``: the components scaled by w_var/w_nominal per event (exact when
the variation factorises from the EFT dependence, as PDF and scale variations do at LO).

Malformed files raise :class:`physinf.errors.EventFileError` naming the event (1-based) or the line:
a missing ``</event>`` or truncated file, a particle count that differs from NUP, non-numeric
fields, weights missing in some events, weight ids not declared in ``<initrwgt>``.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from physinf._io import atomic_path, require
from physinf.errors import EventFileError, InvalidParameterError
from physinf.io._colour import colour_flow
from physinf.io._reweight import Benchmarks, is_reweighting_weight, parse_benchmarks
from physinf.simulate.config import GenerationConfig
from physinf.simulate.events import EventSample
from theory.morphing import MorphingFit, components_from_benchmarks, monomial_names, monomial_values, monomials

__all__ = ["LHEFit", "default_benchmarks", "iter_lhe", "lhe_benchmarks", "read_lhe", "write_lhe"]

_PYLHE = ("pylhe", "io", "reading Les Houches Event files")


# ============================================================================ writing
def default_benchmarks(coefficients: Sequence[str], powers: np.ndarray, step: float = 1.0) -> dict[str, tuple[float, ...]]:
    """Benchmark points that determine a polynomial of degree ≤ 2 exactly: the SM, each coefficient at
    ±step, and each pair at (+step, +step). Count: 1 + 2n + n(n-1)/2 = C(n+2, 2) (degree 2), or
    1 + n (SM and +step) for a linear polynomial."""
    n = len(coefficients)
    degree = int(np.max(np.sum(powers, axis=1), initial=0)) if len(powers) else 0
    points: dict[str, tuple[float, ...]] = {"SM": (0.0,) * n}

    def label(value: float) -> str:
        return ("p" if value > 0 else "m") + f"{abs(value):g}".replace(".", "p")

    for i, name in enumerate(coefficients):
        for sign in ((1, -1) if degree >= 2 else (1,)):
            theta = [0.0] * n
            theta[i] = sign * step
            points[f"{name}_{label(sign * step)}"] = tuple(theta)
    if degree >= 2:
        for i in range(n):
            for j in range(i + 1, n):
                theta = [0.0] * n
                theta[i] = theta[j] = step
                points[f"{coefficients[i]}_{label(step)}_{coefficients[j]}_{label(step)}"] = tuple(theta)
    return points


def _check_benchmarks(sample: EventSample, benchmarks: Mapping[str, Sequence[float]]) -> dict[str, np.ndarray]:
    out = {}
    for wid, theta in benchmarks.items():
        if not re.fullmatch(r"[A-Za-z0-9_.+-]+", str(wid)):
            raise InvalidParameterError(f"benchmark id {wid!r} must be letters, digits and _ . + - (it becomes an XML attribute)")
        t = np.asarray(theta, dtype=float)
        if t.shape != (len(sample.coefficients),) or not np.all(np.isfinite(t)):
            raise InvalidParameterError(f"benchmark {wid!r} must give one finite value per coefficient "
                                        f"{list(sample.coefficients)}, got {theta!r}")
        out[str(wid)] = t
    return out


def _header(sample: EventSample, benchmarks: dict[str, np.ndarray]) -> str:
    lines = ["<header>"]
    meta = {
        "process": sample.process, "labels": list(sample.labels), "coefficients": list(sample.coefficients),
        "powers": sample.powers.tolist(), "theta_ref": sample.theta_ref.tolist(),
        "config": sample.config.to_dict() if sample.config is not None else None,
    }
    lines.append("<physinf><![CDATA[" + json.dumps(meta) + "]]></physinf>")
    if benchmarks:
        lines.append("<slha>")
        lines.append("BLOCK PHYSINF # Wilson coefficients c/Lambda^2, TeV^-2")
        for i, (name, value) in enumerate(zip(sample.coefficients, sample.theta_ref), start=1):
            lines.append(f"  {i} {value:.10e} # {name}")
        lines.append("</slha>")
        lines.append("<initrwgt>")
        lines.append("<weightgroup name='mg_reweighting' weight_name_strategy='includeIdInWeightName'>")
        for wid, theta in benchmarks.items():
            sets = "".join(f"set param_card physinf {i} {v:.10e} # orig: {r:.10e}\n"
                           for i, (v, r) in enumerate(zip(theta, sample.theta_ref), start=1) if v != r)
            lines.append(f"<weight id='{wid}'>{sets}</weight>")
        lines.append("</weightgroup>")
        lines.append("</initrwgt>")
    lines.append("</header>")
    return "\n".join(lines) + "\n"


def write_lhe(
    sample: EventSample,
    path: str | os.PathLike,
    *,
    benchmarks: Mapping[str, Sequence[float]] | None = None,
    unweighted: bool = False,
    seed: int | np.random.Generator = 0,
    decay_higgs: bool = False,
    sqrt_s: float | None = None,
) -> Path:
    """Write ``sample`` as an LHEF 3 file (gzip-compressed when ``path`` ends in .gz), atomically.

    benchmarks: weight id -> θ at which ``<rwgt>`` weights are written (default:
    :func:`default_benchmarks`, which determine the polynomial; ``{}`` for none); unweighted:
    hit-or-miss unweighting at the sample's θ_ref first (IDWTUP = 3); seed: for the unweighting,
    the gluon colour flows and the Higgs decay; decay_higgs: decay each Higgs to two photons
    (isotropic, as :class:`physinf.detector.FastDetector` does) and write them as its daughters
    (status 2 Higgs), so a shower program keeps them; sqrt_s: collider energy (default: the
    sample's generation config)."""
    if not isinstance(sample, EventSample):
        raise InvalidParameterError(f"sample must be an EventSample, got {type(sample).__name__}")
    from theory.processes.registry import PROCESSES, get_process

    if sample.process not in PROCESSES:
        raise InvalidParameterError(f"cannot write events of {sample.process!r}: physinf writes LHE files for its own "
                                    "processes (a sample read from an LHE file is already one: use that file)")
    if sqrt_s is None:
        if sample.config is None:
            raise InvalidParameterError("the sample has no generation config; pass sqrt_s= (GeV)")
        sqrt_s = sample.config.sqrt_s
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if benchmarks is None:
        benchmarks = default_benchmarks(sample.coefficients, sample.powers)
    points = _check_benchmarks(sample, benchmarks)
    if unweighted:
        sample = sample.unweighted(rng)
    text_parts = _event_blocks(sample, points, rng, decay_higgs=decay_higgs, unweighted=unweighted)
    process = get_process(sample.process)
    sigma = sample.cross_section()
    error = sample.cross_section_error() if len(sample) > 1 else 0.0
    beams = (2212, 2212) if process.collider == "pp" else (11, -11)
    n = len(sample)
    xmax = sigma if unweighted else float(np.max(np.abs(sample.weights()) * n, initial=0.0))
    init = (f"<init>\n{beams[0]} {beams[1]} {sqrt_s / 2:.10e} {sqrt_s / 2:.10e} 0 0 -1 -1 {3 if unweighted else -4} 1\n"
            f"{sigma:.10e} {error:.10e} {xmax:.10e} 1\n"
            f"<generator name='physinf' version='{_version()}'>physinf.io.write_lhe</generator>\n</init>\n")
    path = Path(path)
    with atomic_path(path) as tmp:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(tmp, "wt", encoding="utf-8") as f:
            f.write('<LesHouchesEvents version="3.0">\n')
            f.write(_header(sample, points))
            f.write(init)
            for part in text_parts:
                f.write(part)
            f.write("</LesHouchesEvents>\n")
    return path


def _version() -> str:
    from physinf import __version__

    return __version__


def _event_blocks(sample: EventSample, points: dict[str, np.ndarray], rng: np.random.Generator, *,
                  decay_higgs: bool, unweighted: bool, chunk: int = 5000) -> Iterator[str]:
    """The ``<event>`` blocks, formatted a chunk at a time (one % per event)."""
    from theory.processes.registry import get_process
    from theory.sm import alpha_s_running

    process = get_process(sample.process)
    n, p = sample.pdg.shape
    col, acol = colour_flow(sample.process, sample.pdg, sample.momenta, rng)
    scale = process.scale(sample.momenta)
    aqcd = alpha_s_running(np.maximum(scale, 1.0), process.sm.alpha_s_mZ, process.sm.mZ)
    aqed = process.sm.alpha
    higgs = [i for i in range(2, p) if np.all(sample.pdg[:, i] == 25)] if decay_higgs else []
    photons = []
    for i in higgs:
        g1, g2 = _decay(sample.momenta[:, i], rng)
        photons.append((i, g1, g2))
    weights = sample.weights() * n if not unweighted else np.full(n, sample.cross_section())
    reference = sample.weights()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(reference != 0, weights / reference, 0.0)
    rw = [sample.weights(theta) * ratio for theta in points.values()]
    n_particles = p + 2 * len(photons)
    status = [-1, -1] + [2 if i in higgs else 1 for i in range(2, p)]
    mothers = [(0, 0), (0, 0)] + [(1, 2)] * (p - 2)
    mass = np.sqrt(np.maximum(sample.momenta[..., 0] ** 2 - np.sum(sample.momenta[..., 1:] ** 2, axis=-1), 0.0))
    mass = np.where(mass < 1e-6 * np.maximum(sample.momenta[..., 0], 1.0), 0.0, mass)  # massless partons: exactly 0
    # one template per event and one row of numbers per event: formatting is a single % per event
    template = [f"<event>\n{n_particles:d} 1 %+.10e %.10e {aqed:.10e} %.10e\n"]
    values = [weights, scale, aqcd]
    for i in range(p):
        template.append(f"%9d {status[i]:>2d} {mothers[i][0]:>4d} {mothers[i][1]:>4d} %4d %4d %+.10e %+.10e %+.10e %.10e %.10e "
                        "0.0000e+00 9.0000e+00\n")
        q = sample.momenta[:, i]
        values += [sample.pdg[:, i], col[:, i], acol[:, i], q[:, 1], q[:, 2], q[:, 3], q[:, 0], mass[:, i]]
    for i, g1, g2 in photons:
        for g in (g1, g2):
            template.append(f"       22  1 {i + 1:>4d} {i + 1:>4d}    0    0 %+.10e %+.10e %+.10e %.10e 0.0000000000e+00 "
                            "0.0000e+00 9.0000e+00\n")
            values += [g[:, 1], g[:, 2], g[:, 3], g[:, 0]]
    if points:
        template.append("<rwgt>\n" + "".join(f"<wgt id='{wid}'> %+.10e </wgt>\n" for wid in points) + "</rwgt>\n")
        values += rw
    template.append("</event>\n")
    fmt = "".join(template)
    table = np.column_stack([np.asarray(v, dtype=float) for v in values])
    for start in range(0, n, chunk):
        yield "".join(fmt % tuple(row) for row in table[start:start + chunk].tolist())


def _decay(parent: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    from physinf.detector.objects import decay_to_two_photons

    return decay_to_two_photons(parent, rng)


# ============================================================================ reading
@dataclass(frozen=True)
class LHEFit:
    """How the reweighting weights of a file became morphing components.

    benchmarks: the parsed benchmark points; monomials: names of the fitted components;
    max_rel_residual: largest |F w_c − w_k| / max_k |w_k| over the events read (≈ rounding of the
    file when K = C); condition: condition number of the benchmark matrix; assumptions: what was
    assumed (parsing defaults, truncations)."""

    benchmarks: Benchmarks
    monomials: tuple[str, ...]
    max_rel_residual: float
    condition: float
    assumptions: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        b = self.benchmarks
        return {"weight_ids": list(b.ids), "coefficients": list(b.coefficients), "thetas": b.thetas.tolist(),
                "theta_ref": b.theta_ref.tolist(), "monomials": list(self.monomials),
                "max_rel_residual": self.max_rel_residual, "condition": self.condition,
                "assumptions": list(self.assumptions)}


@dataclass
class _FileInfo:
    path: Path
    sigma: float
    sigma_error: float
    idwtup: int
    normalisation: Literal["average", "sum", "unweighted"]
    benchmark_ids: list[str]
    variation_ids: list[str]
    declared: set[str]
    benchmarks: Benchmarks | None
    physinf: dict[str, Any] | None
    generator: str
    weight_texts: dict[str, str]


def _open(path: Path) -> Any:
    pylhe = require(*_PYLHE)
    if not path.exists():
        raise EventFileError(f"LHE file {path} does not exist")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lhe = pylhe.LHEFile.fromfile(str(path))
    except (ValueError, AttributeError, OSError, EOFError) as err:
        raise EventFileError(f"{path}: cannot read the LHE header or <init> block ({err})") from err
    _raise_parse_warnings(path, caught, 0)
    return lhe


def _raise_parse_warnings(path: Path, caught: list[warnings.WarningMessage], events_read: int) -> None:
    for w in caught:
        text = str(w.message)
        if "Parse Error" in text:
            unclosed = _unclosed_event(path)
            if unclosed is not None:
                raise EventFileError(f"{path}: {unclosed}")
            line = re.search(r"line (\d+)", text)
            where = f"line {line.group(1)}" if line else "unknown line"
            raise EventFileError(
                f"{path}: malformed XML at {where} after {events_read} complete event(s), i.e. in or after event "
                f"{events_read + 1} ({text.replace('Parse Error: ', '')}): a tag is broken or the file is truncated"
            )


def _unclosed_event(path: Path) -> str | None:
    """After an XML error: the first <event> block that is not closed, by event number and line
    (XML itself only notices at the end of the file, since events then nest)."""
    opener = gzip.open if path.read_bytes()[:2] == b"\x1f\x8b" else open
    number, open_line = 0, None
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as f:
            for line_number, line in enumerate(f, start=1):
                stripped = line.lstrip()
                if stripped.startswith("<event"):
                    if open_line is not None:
                        return (f"event {number} (opened at line {open_line}) is not closed: event {number + 1} starts "
                                f"at line {line_number} before its </event>")
                    number += 1
                    open_line = line_number
                if "</event>" in line:
                    open_line = None
    except (EOFError, OSError):
        pass
    if open_line is not None:
        return f"event {number} (opened at line {open_line}) is not closed: the file ends first (truncated)"
    return None


def _text_of(element: Any) -> str:
    return "".join(element.itertext()) if element is not None else ""


def _file_info(path: Path, lhe: Any, normalisation: str) -> _FileInfo:
    init = lhe.init
    sigma = float(sum(p.xSection for p in init.procInfo))
    sigma_error = float(math.sqrt(sum(p.error**2 for p in init.procInfo)))
    idwtup = int(init.initInfo.weightingStrategy)
    header = lhe.header
    extra = {e.tag: e for e in header.extra_elements} if header is not None else {}
    meta = None
    if "physinf" in extra:
        try:
            meta = json.loads(_text_of(extra["physinf"]))
        except json.JSONDecodeError as err:
            raise EventFileError(f"{path}: the <physinf> header element is not valid JSON ({err})") from err
    if normalisation == "auto":
        if abs(idwtup) == 3:
            normalisation = "unweighted"
        else:
            run_card = _text_of(extra.get("MGRunCard"))
            m = re.search(r"^\s*(\w+)\s*=\s*event_norm", run_card, flags=re.M)
            normalisation = "sum" if m and m.group(1).lower() == "sum" else "average"
    elif normalisation not in ("average", "sum", "unweighted"):
        raise InvalidParameterError(f"normalisation must be 'auto', 'average', 'sum' or 'unweighted', got {normalisation!r}")
    benchmark_pairs, variation_ids, declared, texts = [], [], set(), {}
    if header is not None:
        for entry in header.initrwgt.entries:
            group = getattr(entry, "weights", None)
            name = entry.attributes.get("name", entry.attributes.get("type", "")) if group is not None else ""
            for w in (group if group is not None else [entry]):
                declared.add(w.id)
                texts[w.id] = w.name
                if is_reweighting_weight(name, w.name):
                    benchmark_pairs.append((w.id, w.name))
                else:
                    variation_ids.append(w.id)
    benchmarks = None
    if benchmark_pairs:
        benchmarks = parse_benchmarks(benchmark_pairs, _text_of(extra.get("slha")))
    generator = ", ".join(f"{g.name} {g.version}".strip() for g in init.generators) or "unknown"
    return _FileInfo(path, sigma, sigma_error, idwtup, normalisation, [w for w, _ in benchmark_pairs], variation_ids,
                     declared, benchmarks, meta, generator, texts)


def lhe_benchmarks(path: str | os.PathLike) -> Benchmarks | None:
    """The benchmark points of a file's reweighting weights (None when it has none)."""
    path = Path(path)
    lhe = _open(path)
    try:
        return _file_info(path, lhe, "auto").benchmarks
    finally:
        _close(lhe)


def _close(lhe: Any) -> None:
    close = getattr(lhe.events, "close", None)
    if close is not None:
        close()  # closes the file pylhe opened


def _events(path: Path, lhe: Any, chunk_size: int) -> Iterator[list[Any]]:
    """Lists of pylhe events, at most ``chunk_size`` each; parse problems become EventFileError."""
    yield from _batches(path, lhe.events, chunk_size)


def _batches(path: Path, events: Iterator[Any], chunk_size: int) -> Iterator[list[Any]]:
    read = 0
    while True:
        batch = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                for _ in range(chunk_size):
                    batch.append(next(events))
            except StopIteration:
                pass
            except (ValueError, IndexError, KeyError, TypeError) as err:
                raise EventFileError(f"{path}: event {read + len(batch) + 1}: cannot parse it ({err}); a field is "
                                     "missing or not a number") from err
            except (EOFError, OSError, gzip.BadGzipFile) as err:
                raise EventFileError(f"{path}: the file ends unexpectedly in or after event {read + len(batch) + 1} "
                                     f"({err}); it is truncated") from err
        _raise_parse_warnings(path, caught, read + len(batch))
        if not batch:
            return
        read += len(batch)
        yield batch
        if len(batch) < chunk_size:
            return


def _chunk_arrays(info: _FileInfo, batch: list[Any], first: int, n_final: int | None) -> dict[str, Any]:
    n = len(batch)
    finals, incoming = [], []
    ids = info.benchmark_ids + info.variation_ids
    rw = np.empty((n, len(ids)))
    nominal = np.empty(n)
    columns = {k: np.empty(n) for k in ("scale", "aqcd", "aqed", "process_id", "n_final")}
    restore = info.physinf is not None
    for e, ev in enumerate(batch):
        number = first + e + 1
        head = ev.eventinfo
        if int(head.nparticles) != len(ev.particles):
            raise EventFileError(f"{info.path}: event {number} declares {int(head.nparticles)} particles (NUP) but lists "
                                 f"{len(ev.particles)}")
        rows = [(int(q.id), int(q.status), q.e, q.px, q.py, q.pz) for q in ev.particles]
        if restore:
            n_labels = len(info.physinf["labels"])
            if len(rows) < n_labels:
                raise EventFileError(f"{info.path}: event {number} has {len(rows)} particles, the physinf header declares "
                                     f"{n_labels} labels")
            incoming.append(rows[:2])
            finals.append(rows[2:n_labels])
        else:
            inc = [r for r in rows if r[1] == -1]
            if len(inc) != 2:
                raise EventFileError(f"{info.path}: event {number} has {len(inc)} incoming particles (status -1); "
                                     "physinf reads 2 -> n events")
            incoming.append(sorted(inc, key=lambda r: -r[5]))
            finals.append([r for r in rows if r[1] == 1])
        nominal[e] = head.weight
        columns["scale"][e], columns["aqcd"][e], columns["aqed"][e] = head.scale, head.aqcd, head.aqed
        columns["process_id"][e] = head.pid
        columns["n_final"][e] = len(finals[-1])
        weights = ev.weights
        if ids or weights:
            missing = [w for w in ids if w not in weights]
            if missing:
                raise EventFileError(f"{info.path}: event {number} lacks the weight(s) {', '.join(missing[:5])}"
                                     f"{', ...' if len(missing) > 5 else ''} declared in <initrwgt> "
                                     f"({len(weights)} of {len(ids)} present)")
            unknown = [w for w in weights if w not in info.declared]
            if unknown:
                raise EventFileError(f"{info.path}: event {number} has weight id(s) {', '.join(map(repr, unknown[:5]))} "
                                     "that <initrwgt> does not declare")
            rw[e] = [weights[w] for w in ids]
    width = max((len(f) for f in finals), default=0) if n_final is None else n_final
    if n_final is not None and any(len(f) > n_final for f in finals):
        raise EventFileError(f"{info.path}: an event in events {first + 1}-{first + n} has more than {n_final} "
                             "final-state particles; pass a larger n_final")
    momenta = np.zeros((n, 2 + width, 4))
    pdg = np.zeros((n, 2 + width), dtype=np.int64)
    for e in range(n):
        for i, r in enumerate(incoming[e] + finals[e]):
            pdg[e, i] = r[0]
            momenta[e, i] = r[2:]
    if not np.all(np.isfinite(momenta)) or not np.all(np.isfinite(nominal)) or not np.all(np.isfinite(rw)):
        bad = first + 1 + int(np.argmax(~np.isfinite(momenta).all(axis=(1, 2)) | ~np.isfinite(nominal) | ~np.isfinite(rw).all(axis=1)))
        raise EventFileError(f"{info.path}: event {bad} has a momentum or weight that is not a finite number")
    return {"momenta": momenta, "pdg": pdg, "nominal": nominal, "rw": rw, "columns": columns}


def _normalised(info: _FileInfo, nominal: np.ndarray) -> np.ndarray:
    """Per-event weights in pb (the chunk is a self-normalised estimate for 'average' and 'unweighted')."""
    n = len(nominal)
    if info.normalisation == "unweighted":
        return np.sign(nominal) * info.sigma / n
    if info.normalisation == "average":
        return nominal / n
    return nominal.astype(float)


def _fit(info: _FileInfo, weights: np.ndarray, max_degree: int, powers: np.ndarray | None, tolerance: float,
         first: int) -> tuple[np.ndarray, np.ndarray, LHEFit]:
    b = info.benchmarks
    assert b is not None
    n_coef = len(b.coefficients)
    powers = monomials(n_coef, max_degree) if powers is None else np.asarray(powers, dtype=int)
    if powers.ndim != 2 or powers.shape[1] != n_coef:
        raise InvalidParameterError(f"powers must have shape (C, {n_coef}) for the coefficients {list(b.coefficients)}")
    names = monomial_names(powers, b.coefficients)
    varied = np.abs(b.thetas - b.theta_ref) > 0
    single = bool(np.all(varied.sum(axis=1) <= 1))
    values = [np.unique(b.thetas[varied[:, i], i]).size for i in range(n_coef)]
    design = (f"{len(b.ids)} benchmark weights varying {n_coef} coefficient(s)"
              + (f", each alone, at {', '.join(sorted(set(map(str, values))))} value(s) besides the reference" if single else ""))
    try:
        fit: MorphingFit = components_from_benchmarks(powers, b.thetas, weights, coefficients=b.coefficients)
    except InvalidParameterError as err:
        text = str(err)
        if len(text) > 600:
            text = text[:600] + " ..."
        hint = (" One point per operator fixes only the linear term: pass max_degree=1 to fit the linear "
                "truncation (the fitted linear component then contains the step times the quadratic term)."
                if single and max(values, default=0) <= 1 else "")
        raise InvalidParameterError(f"{info.path}: {design} cannot determine the degree-{int(powers.sum(axis=1).max())} "
                                    f"polynomial: {text}{hint}") from err
    if fit.max_rel_residual > tolerance:
        raise InvalidParameterError(
            f"{info.path}: the benchmark weights of events {first + 1}-{first + len(weights)} are not described by the "
            f"fitted polynomial (largest residual {fit.max_rel_residual:.2e} of the event's largest weight, tolerance "
            f"{tolerance:g}): the dependence on the coefficients is of higher degree than the monomials "
            f"{names[:8]}{' ...' if len(names) > 8 else ''}; raise max_degree"
        )
    assumptions = list(b.assumptions)
    degree = int(powers.sum(axis=1).max(initial=0))
    if degree == 1 and single:
        assumptions.append("linear truncation fitted from one point per coefficient: the 'linear' component of "
                           "coefficient i is (w(theta_i) - w(ref))/step_i, which includes step_i times its quadratic term")
    return powers, fit.components, LHEFit(b, tuple(names), fit.max_rel_residual, fit.condition, tuple(assumptions))


def iter_lhe(
    path: str | os.PathLike,
    *,
    chunk_size: int = 10000,
    name: str | None = None,
    max_degree: int = 2,
    powers: np.ndarray | None = None,
    normalisation: Literal["auto", "average", "sum", "unweighted"] = "auto",
    tolerance: float = 1e-5,
    n_final: int | None = None,
) -> Iterator[EventSample]:
    """EventSamples of at most ``chunk_size`` events, read in order with bounded memory.

    Each chunk is a self-contained sample: with the average normalisation (the LHA rule) its
    weights estimate σ on their own, and ``EventSample.concatenate(chunks, weights="average")``
    equals reading the whole file (``provenance["lhe"]["combine"]`` names the mode: "keep" for
    files normalised as a sum). n_final: pad every chunk to this many final-state particles
    (default: the chunk's largest multiplicity). Other options: see :func:`read_lhe`."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InvalidParameterError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    if isinstance(max_degree, bool) or not isinstance(max_degree, int) or max_degree < 0:
        raise InvalidParameterError(f"max_degree must be a non-negative integer, got {max_degree!r}")
    path = Path(path)
    lhe = _open(path)
    try:
        yield from _iter_chunks(path, lhe, chunk_size=chunk_size, name=name, max_degree=max_degree, powers=powers,
                                normalisation=normalisation, tolerance=tolerance, n_final=n_final)
    finally:
        _close(lhe)


def _iter_chunks(path: Path, lhe: Any, *, chunk_size: int, name: str | None, max_degree: int, powers: np.ndarray | None,
                 normalisation: str, tolerance: float, n_final: int | None) -> Iterator[EventSample]:
    info = _file_info(path, lhe, normalisation)
    meta = info.physinf
    stem = re.sub(r"(\.lhe)?(\.gz)?$", "", path.name)
    process = name or (meta["process"] if meta else f"lhe:{stem}")
    config = None
    if meta and meta.get("config"):
        try:
            config = GenerationConfig.from_dict(meta["config"])
        except (InvalidParameterError, TypeError, KeyError) as err:
            raise EventFileError(f"{path}: the generation config in the <physinf> header is invalid ({err})") from err
    first = 0
    for batch in _events(path, lhe, chunk_size):
        arrays = _chunk_arrays(info, batch, first, n_final)
        w = _normalised(info, arrays["nominal"])
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(arrays["nominal"] != 0, w / arrays["nominal"], 0.0)
        rw = arrays["rw"] * scale[:, None]
        n_bench = len(info.benchmark_ids)
        lhe_info: dict[str, Any] = {"file": str(path), "generator": info.generator, "xsecup_pb": info.sigma,
                                    "xerrup_pb": info.sigma_error, "idwtup": info.idwtup,
                                    "normalisation": info.normalisation,
                                    "combine": "keep" if info.normalisation == "sum" else "average",
                                    "first_event": first + 1, "weights": info.weight_texts}
        if info.benchmarks is not None:
            powers_used, components, fit = _fit(info, rw[:, :n_bench], max_degree, powers, tolerance, first)
            coefficients, theta_ref = info.benchmarks.coefficients, info.benchmarks.theta_ref
            lhe_info["fit"] = fit.to_dict()
        else:
            powers_used = np.zeros((1, 0), dtype=int) if not meta else np.asarray(meta["powers"], dtype=int)
            coefficients = () if not meta else tuple(meta["coefficients"])
            theta_ref = np.zeros(len(coefficients)) if not meta else np.asarray(meta["theta_ref"])
            if meta and len(powers_used) > 1:
                raise EventFileError(f"{path}: a physinf file with {len(coefficients)} coefficients but no reweighting "
                                     "weights: its EFT dependence cannot be restored")
            components = w[:, None]
        if meta and info.benchmarks is not None:
            # a physinf file: restore its own coefficient names and monomial order exactly
            components, powers_used, coefficients, theta_ref = _restore(meta, info.benchmarks, components, powers_used)
        nominal_fit = components @ monomial_values(powers_used, theta_ref)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(nominal_fit != 0, 1.0 / nominal_fit, 0.0)
        variations = {vid: components * (rw[:, n_bench + k] * factor)[:, None] for k, vid in enumerate(info.variation_ids)}
        momenta, pdg = arrays["momenta"], arrays["pdg"]
        labels = tuple(meta["labels"]) if meta else ("pa", "pb", *(f"p{i}" for i in range(1, momenta.shape[1] - 1)))
        if meta:
            from theory.processes.registry import get_process

            observables = get_process(process).observables(momenta)
        else:
            observables = arrays["columns"]
        yield EventSample(
            process=process, coefficients=coefficients, powers=powers_used, labels=labels, momenta=momenta, pdg=pdg,
            weight_components=components, observables=observables, theta_ref=theta_ref,
            provenance={"lhe": lhe_info}, variations=variations, config=config,
            cutflow={"lhe events": len(batch)},
        )
        first += len(batch)


def _restore(meta: dict[str, Any], bench: Benchmarks, components: np.ndarray, powers: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], np.ndarray]:
    """Reorder components fitted in the file's coefficient order into the physinf sample's order."""
    names = tuple(meta["coefficients"])
    target = np.asarray(meta["powers"], dtype=int)
    if set(bench.coefficients) != set(names):
        return components, powers, bench.coefficients, bench.theta_ref
    perm = [bench.coefficients.index(c) for c in names]
    mapped = powers[:, perm]
    index = {tuple(row): i for i, row in enumerate(mapped.tolist())}
    if not all(tuple(row) in index for row in target.tolist()) or len(target) != len(mapped):
        return components, mapped, names, bench.theta_ref[perm]
    order = [index[tuple(row)] for row in target.tolist()]
    return components[:, order], target, names, bench.theta_ref[perm]


def read_lhe(
    path: str | os.PathLike,
    *,
    name: str | None = None,
    max_degree: int = 2,
    powers: np.ndarray | None = None,
    normalisation: Literal["auto", "average", "sum", "unweighted"] = "auto",
    tolerance: float = 1e-5,
    chunk_size: int = 50000,
) -> EventSample:
    """The whole file as one EventSample (see the module docstring for the layout and the weights).

    name: process name (default ``"lhe:<file stem>"``, or the original process for files physinf
    wrote); max_degree / powers: the morphing polynomial fitted to reweighting weights;
    normalisation: "auto" (IDWTUP ±3: unweighted, σ = ΣXSECUP; otherwise the LHA average unless a
    MadGraph run card says event_norm = sum), or forced; tolerance: largest accepted residual of the
    fit at the benchmarks, relative to each event's largest weight."""
    chunks = list(iter_lhe(path, chunk_size=chunk_size, name=name, max_degree=max_degree, powers=powers,
                           normalisation=normalisation, tolerance=tolerance))
    if not chunks:
        raise EventFileError(f"{path}: the file holds no <event>")
    width = max(c.momenta.shape[1] for c in chunks)
    chunks = [_pad(c, width) for c in chunks]
    combined = EventSample.concatenate(chunks, weights=chunks[0].provenance["lhe"]["combine"])
    provenance = {"lhe": {**chunks[0].provenance["lhe"], "first_event": 1, "n_events": len(combined)}}
    if "fit" in provenance["lhe"]:
        provenance["lhe"]["fit"]["max_rel_residual"] = max(c.provenance["lhe"]["fit"]["max_rel_residual"] for c in chunks)
    from dataclasses import replace

    return replace(combined, provenance=provenance, config=chunks[0].config, cutflow={"lhe events": len(combined)})


def _pad(sample: EventSample, width: int) -> EventSample:
    extra = width - sample.momenta.shape[1]
    if extra == 0:
        return sample
    from dataclasses import replace

    labels = ("pa", "pb", *(f"p{i}" for i in range(1, width - 1)))
    return replace(sample, labels=labels, momenta=np.pad(sample.momenta, ((0, 0), (0, extra), (0, 0))),
                   pdg=np.pad(sample.pdg, ((0, 0), (0, extra))))
