"""Running a config: stages in order, each cached by the hash of its config and inputs, resumable.

The run folder holds the resolved config (``config.json``), one folder per stage with its
artifacts, a log file (``run.log``) and ``manifest.json``: for every finished stage its cache key,
its artifacts with their SHA-256 and its metrics. A stage counts as done only when the manifest
says so *and* every artifact still has its recorded hash; the manifest is rewritten atomically
after a stage's artifacts are in place, so a run killed at any moment (also ``kill -9``) resumes
from the last complete stage. A stage whose key changed (its config section or an upstream
result) reruns, and so does everything downstream; ``force`` reruns from a given stage.

One run at a time per folder: a run holds an exclusive lock on ``.run.lock`` in the folder (the
kernel drops it when the process ends, however it ends), and a second run on the same folder stops
with an error instead of interleaving its writes. Holding the lock, a stage about to (re)run
removes the temporary files a killed writer left in its folder (``.NAME.<hex>.tmp``: files are
written to such a name and renamed only when complete).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from physinf._io import check_writable, is_temporary_name, write_json
from physinf._version import __version__
from physinf.pipeline.config import STAGES, ConfigError, config_hash, load_config
from physinf.pipeline.stages import DEPENDS, STAGE_FUNCTIONS, enabled_stages

__all__ = ["Run", "RunResult", "run_config"]

log = logging.getLogger("physinf.pipeline")
MANIFEST_VERSION = 1


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Exclusive lock of a run folder for this process (POSIX; elsewhere no lock is taken)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".run.lock", "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"another physinf run is using {folder}; wait for it to finish, or give this run another 'out' folder"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _remove_leftovers(folder: Path, recursive: bool = True) -> None:
    """Delete temporary files that a killed run left in a folder (the caller holds the lock)."""
    if not folder.exists():
        return
    for path in (folder.rglob if recursive else folder.glob)("*.tmp"):
        if path.is_file() and is_temporary_name(path.name):
            log.info("removing %s, left by an interrupted run", path)
            path.unlink()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class Run:
    """One run folder and its resolved config; stages write through :meth:`path`."""

    cfg: dict[str, Any]
    progress: bool = True
    folder: Path = field(init=False)
    manifest: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.folder = Path(self.cfg["out"])
        check_writable(self.folder / "manifest.json")
        self.manifest = self._read_manifest()

    def path(self, stage: str, name: str, create: bool = True) -> Path:
        """Where a stage keeps an artifact (its folder is created on demand)."""
        folder = self.folder / stage
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        return folder / name

    # ------------------------------------------------------------------ manifest
    def _read_manifest(self) -> dict[str, Any]:
        path = self.folder / "manifest.json"
        if path.exists():
            try:
                data = json.loads(path.read_text())
                if data.get("manifest_version") == MANIFEST_VERSION:
                    return data
            except (json.JSONDecodeError, OSError):
                log.warning("manifest %s is unreadable; every stage reruns", path)
        return {"manifest_version": MANIFEST_VERSION, "stages": {}}

    def _write_manifest(self) -> None:
        self.manifest["physinf_version"] = __version__
        write_json(self.folder / "manifest.json", self.manifest)

    def key(self, stage: str, keys: dict[str, str]) -> str:
        sections, upstream = DEPENDS[stage]
        return config_hash(stage, __version__, {s: self.cfg.get(s) for s in sections}, {u: keys.get(u) for u in upstream})

    def is_done(self, stage: str, key: str) -> bool:
        entry = self.manifest["stages"].get(stage)
        if not entry or entry.get("key") != key:
            return False
        for rel, digest in entry.get("artifacts", {}).items():
            path = self.folder / rel
            if not path.exists() or _sha256(path) != digest:
                return False
        return True

    def record(self, stage: str, key: str, metrics: dict[str, Any], seconds: float) -> None:
        folder = self.folder / stage
        artifacts = {str(p.relative_to(self.folder)): _sha256(p) for p in sorted(folder.rglob("*"))
                     if p.is_file() and not p.name.endswith(".tmp")} if folder.exists() else {}
        self.manifest["stages"][stage] = {"key": key, "artifacts": artifacts, "metrics": metrics, "seconds": seconds,
                                          "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        self._write_manifest()

    def metrics(self, stage: str) -> dict[str, Any] | None:
        entry = self.manifest["stages"].get(stage)
        return None if entry is None else entry.get("metrics")


@dataclass(frozen=True)
class RunResult:
    """What a run did: the folder, the stages run and reused, and the report path."""

    folder: Path
    ran: tuple[str, ...]
    reused: tuple[str, ...]
    report: Path | None
    seconds: float

    def summary(self, run: Run) -> str:
        lines = [f"physinf run '{run.cfg['name']}' in {self.folder}  ({self.seconds:.0f} s)"]
        lines.append(f"  stages run: {', '.join(self.ran) or 'none'}; reused (cached): {', '.join(self.reused) or 'none'}")
        ev = run.metrics("events")
        if ev:
            lines.append(f"  sigma = {ev['sigma_pb']:.5g} +- {ev['sigma_error_pb']:.2g} pb, {ev['n_events']} events")
        det = run.metrics("detect")
        if det:
            lines.append(f"  detector {det['kind']}: {det['n_events']} events observed ({det['acceptance']:.1%})")
        tr = run.metrics("train")
        if tr and "information_fraction_of_parton_observables" in tr:
            lines.append(f"  learned score keeps {tr['information_fraction_of_parton_observables']:.1%} of the parton observables' information")
        di = run.metrics("distill")
        if di:
            lines.append(f"  formula: {di['expression']}  ({di['information_over_learned']:.1%} of the learned score's information)")
        fit = run.metrics("fit")
        if fit and fit.get("limits"):
            for name, lim in fit["limits"].items():
                segs = ", ".join(f"[{a:+.3f}, {b:+.3f}]" for a, b in lim["95"]["segments"])
                lines.append(f"  expected 95% CL on {fit['coefficient']} from {name}: {segs}")
        if self.report is not None:
            lines.append(f"  report: {self.report}")
        return "\n".join(lines)


def _attach_log(folder: Path) -> logging.Handler:
    folder.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(folder / "run.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


def run_config(config: str | os.PathLike | dict[str, Any], *, force: str | None = None, only: str | None = None,
               progress: bool = True) -> tuple[RunResult, Run]:
    """Run (or resume) a config file or a resolved config dict.

    force: rerun this stage and everything after it even if cached; only: run the stages up to and
    including this one (a stage command)."""
    cfg = load_config(config) if not isinstance(config, dict) else config
    stages = enabled_stages(cfg)
    for name, what in ((force, "force"), (only, "stage")):
        if name is not None and name not in stages:
            raise ConfigError(f"{what} {name!r} is not a stage of this run; its stages: {', '.join(stages)} (all: {', '.join(STAGES)})")
    run = Run(cfg, progress=progress)
    with _folder_lock(run.folder):
        return _run_stages(run, stages, force, only)


def _run_stages(run: Run, stages: list[str], force: str | None, only: str | None) -> tuple[RunResult, Run]:
    cfg = run.cfg
    _remove_leftovers(run.folder, recursive=False)  # the manifest's and the config's
    handler = _attach_log(run.folder)
    t0 = time.perf_counter()
    ran, reused, keys = [], [], {}
    try:
        write_json(run.folder / "config.json", cfg)
        log.info("run %s (physinf %s, python %s) in %s", cfg["name"], __version__, platform.python_version(), run.folder)
        forcing = False
        for stage in stages:
            forcing = forcing or stage == force
            key = run.key(stage, keys)
            keys[stage] = key
            if not forcing and run.is_done(stage, key):
                log.info("stage %s: cached (key %s)", stage, key[:12])
                reused.append(stage)
            else:
                log.info("stage %s: running", stage)
                _remove_leftovers(run.folder / stage)
                start = time.perf_counter()
                metrics = STAGE_FUNCTIONS[stage](run)
                run.record(stage, key, metrics, time.perf_counter() - start)
                log.info("stage %s: done in %.1f s", stage, time.perf_counter() - start)
                ran.append(stage)
            if stage == only:
                break
    except Exception:
        log.exception("run failed")
        raise
    finally:
        log.removeHandler(handler)
        handler.close()
    report_path = run.folder / "report" / "report.html"
    return RunResult(run.folder, tuple(ran), tuple(reused), report_path if report_path.exists() else None,
                     time.perf_counter() - t0), run
