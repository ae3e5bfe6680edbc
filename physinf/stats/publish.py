"""Export in the standard form HEPData and the ``pyhf`` command line read.

A model with ``eftpoly`` modifiers is not HistFactory JSON. For publication we write
- a background-only workspace (backgrounds, their systematics, the observed data, a measurement
  whose POI ``mu_SIG`` is a signal-strength normfactor added by the patches), and
- a patchset: one JSON-Patch per point of a coefficient grid, adding the signal sample with its
  yields n(θ) = Σ f_k(θ) T_k at that point, its MC-statistical error at θ, luminosity and shape
  systematics (as ATLAS publishes signal grids on HEPData).

Both files are schema-validated, written to temporary files in the target directory and moved into
place with ``os.replace`` only when both are complete. :func:`verify_export` reads them back,
checks the patchset digest (``pyhf patchset verify`` does the same) and refits every grid point.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyhf

from physinf.stats.errors import InvalidModelError, WorkspaceError
from physinf.stats.model import Likelihood, _numpy, _pyhf_validate, quiet_schema

__all__ = ["ExportedFiles", "export_patchset", "verify_export", "write_json_atomic", "POI_NAME"]

POI_NAME = "mu_SIG"


@dataclass(frozen=True)
class ExportedFiles:
    background_only: Path
    patchset: Path


def write_json_atomic(objects: dict[Path, dict]) -> None:
    """Write several JSON files all-or-nothing: temp files in the same directories, then os.replace."""
    temps: list[tuple[str, Path]] = []
    try:
        for path, obj in objects.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            temps.append((tmp, path))
            with os.fdopen(fd, "w") as fh:
                json.dump(obj, fh, indent=1, sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
        for tmp, path in temps:
            os.replace(tmp, path)
        temps = []
    finally:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _point_name(names: Sequence[str], values: Sequence[float]) -> str:
    def fmt(v: float) -> str:
        return f"{v:+.6g}".replace("+", "p").replace("-", "m").replace(".", "d").replace("e", "E")

    return "_".join(f"{n}_{fmt(v)}" for n, v in zip(names, values, strict=True))


def export_patchset(
    lh: Likelihood,
    grid: np.ndarray | Sequence[Sequence[float]],
    directory: str | os.PathLike,
    name: str = "physinf_eft",
    hepdata: str = "ins0000000",
    description: str = "Signal yields at a grid of Wilson-coefficient values (physinf)",
) -> ExportedFiles:
    """Write ``<name>_bkgonly.json`` and ``<name>_patchset.json`` for the grid points (n_points, n_coef).

    ``hepdata`` must look like ``ins1234567`` (the schema requires a reference); the default is a
    placeholder to replace with the analysis' INSPIRE id.
    """
    if lh.templates is None:
        raise InvalidModelError("export needs a Likelihood built from templates (build_likelihood)")
    if not lh.backgrounds:
        raise InvalidModelError("a background-only workspace needs at least one background sample")
    t = lh.templates
    grid = np.atleast_2d(np.asarray(grid, dtype=float))
    if grid.shape[1] != len(t.coefficients) or not np.all(np.isfinite(grid)) or len(grid) == 0:
        raise InvalidModelError(f"grid must be a finite (n_points, {len(t.coefficients)}) array of {t.coefficients} values")
    for j, c in enumerate(t.coefficients):
        lo, hi = lh.bounds[c]
        if grid[:, j].min() < lo or grid[:, j].max() > hi:
            raise InvalidModelError(f"grid values of {c!r} leave the validated bounds {lh.bounds[c]}")
    ws = lh.workspace
    channel = ws["channels"][0]["name"]
    signal_names = {s["name"] for s in ws["channels"][0]["samples"] if s["name"].startswith("signal_")}
    bkg_samples = [s for s in ws["channels"][0]["samples"] if s["name"] not in signal_names]
    sm_sample = next(s for s in ws["channels"][0]["samples"] if s["name"] == "signal_sm")
    lumi = [m for m in sm_sample["modifiers"] if m["name"] == "lumi"]
    shapes = [m for m in sm_sample["modifiers"] if m["type"] == "histosys"]
    has_stat = any(m["type"] == "staterror" for m in sm_sample["modifiers"])
    bkg_only = {
        "channels": [{"name": channel, "samples": bkg_samples}],
        "observations": ws["observations"],
        "measurements": [
            {
                "name": "eft_grid",
                "config": {"poi": POI_NAME, "parameters": [{"name": POI_NAME, "bounds": [[0.0, 10.0]], "inits": [1.0]}]},
            }
        ],
        "version": "1.0.0",
    }
    sm = np.asarray(sm_sample["data"], dtype=float)
    patches = []
    for point in grid:
        n = t.yields_at(point)
        mods: list[dict] = [{"name": POI_NAME, "type": "normfactor", "data": None}, *lumi]
        for m in shapes:  # same relative shift as the SM sample
            up = np.asarray(m["data"]["hi_data"]) / sm - 1.0
            down = np.asarray(m["data"]["lo_data"]) / sm - 1.0
            mods.append({"name": m["name"], "type": "histosys", "data": {"hi_data": (n * (1 + up)).tolist(), "lo_data": (n * (1 + down)).tolist()}})
        if has_stat:
            mods.append({"name": f"staterror_{channel}", "type": "staterror", "data": t.stat_error_at(point).tolist()})
        sample = {"name": "signal", "data": n.tolist(), "modifiers": mods}
        patches.append(
            {
                "metadata": {"name": _point_name(t.coefficients, point), "values": [float(v) for v in point]},
                "patch": [{"op": "add", "path": "/channels/0/samples/0", "value": sample}],
            }
        )
    patchset = {
        "metadata": {
            "name": name,
            "description": description,
            "digests": {"sha256": pyhf.utils.digest(bkg_only)},
            "labels": list(t.coefficients),
            "references": {"hepdata": hepdata},
        },
        "patches": patches,
        "version": "1.0.0",
    }
    try:
        _pyhf_validate(bkg_only, "workspace.json")
        _pyhf_validate(patchset, "patchset.json")
    except pyhf.exceptions.InvalidSpecification as err:
        raise WorkspaceError(f"export fails the pyhf schema: {err}") from err
    directory = Path(directory)
    files = ExportedFiles(directory / f"{name}_bkgonly.json", directory / f"{name}_patchset.json")
    write_json_atomic({files.background_only: bkg_only, files.patchset: patchset})
    return files


def verify_export(files: ExportedFiles) -> dict[tuple[float, ...], float]:
    """Read the files back, verify the digest, and refit: −2 ln L at mu_SIG = 1 (nuisances profiled) per grid point."""
    try:
        bkg = json.loads(Path(files.background_only).read_text())
        ps_spec = json.loads(Path(files.patchset).read_text())
        with quiet_schema():
            ws = pyhf.Workspace(bkg)
            patchset = pyhf.PatchSet(ps_spec)
            patchset.verify(ws)
    except (OSError, json.JSONDecodeError, pyhf.exceptions.InvalidSpecification, pyhf.exceptions.PatchSetVerificationError) as err:
        raise WorkspaceError(f"exported files cannot be read back or verified: {err}") from err
    out = {}
    with quiet_schema(), _numpy(pyhf.optimize.scipy_optimizer(tolerance=1e-12)):
        for patch in patchset.patches:
            pws = patchset.apply(ws, patch.values)
            model = pws.model()
            data = pws.data(model)
            _, val = pyhf.infer.mle.fixed_poi_fit(1.0, data, model, return_fitted_val=True)
            out[tuple(float(v) for v in patch.values)] = float(val)
    return out
