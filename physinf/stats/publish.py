"""Export in the standard form HEPData and the ``pyhf`` command line read.

A model with ``eftpoly`` modifiers is not HistFactory JSON. For publication we write
- a background-only workspace (every channel with its backgrounds and their systematics, the
  observed data, a measurement whose POI ``mu_SIG`` is a signal-strength normfactor added by the
  patches), and
- a patchset: one JSON-Patch per point of a coefficient grid, adding to every channel the signal
  sample with its yields n(θ) = Σ f_k(θ) T_k at that point, its MC-statistical error at θ,
  luminosity and shape systematics (as ATLAS publishes signal grids on HEPData).

Both files are schema-validated and written all-or-nothing (:func:`physinf._io.atomic_paths`).
:func:`verify_export` reads them back, checks the patchset digest (``pyhf patchset verify`` does
the same) and refits every grid point.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyhf

from physinf._io import atomic_paths
from physinf.stats._backend import minimize, numpy_backend, quiet_schema, scipy_optimizer, validate_schema
from physinf.stats.errors import InvalidModelError, WorkspaceError
from physinf.stats.likelihood import Likelihood
from physinf.stats.workspace import Channel

__all__ = ["POI_NAME", "ExportedFiles", "export_patchset", "verify_export"]

POI_NAME = "mu_SIG"


@dataclass(frozen=True)
class ExportedFiles:
    background_only: Path
    patchset: Path


def _point_name(names: Sequence[str], values: Sequence[float]) -> str:
    def fmt(v: float) -> str:
        return f"{v:+.6g}".replace("+", "p").replace("-", "m").replace(".", "d").replace("e", "E")

    return "_".join(f"{n}_{fmt(v)}" for n, v in zip(names, values, strict=True))


def _signal_names(ch: Channel) -> set[str]:
    return {f"signal_{label}" for label in ch.templates.labels}


def _signal_sample(spec: dict, ch: Channel, point: np.ndarray) -> dict:
    """The signal sample of one channel at one grid point, with the systematics of the SM signal sample."""
    t = ch.templates
    sm_sample = next(s for s in spec["samples"] if s["name"] == "signal_sm")
    sm = np.asarray(sm_sample["data"], dtype=float)
    n = t.yields_at(point)
    mods: list[dict] = [{"name": POI_NAME, "type": "normfactor", "data": None}]
    mods += [m for m in sm_sample["modifiers"] if m["name"] == "lumi"]
    for m in sm_sample["modifiers"]:
        if m["type"] == "histosys":  # the same relative shift as the SM sample
            up = np.asarray(m["data"]["hi_data"]) / sm - 1.0
            down = np.asarray(m["data"]["lo_data"]) / sm - 1.0
            mods.append({"name": m["name"], "type": "histosys", "data": {"hi_data": (n * (1 + up)).tolist(), "lo_data": (n * (1 + down)).tolist()}})
    if any(m["type"] == "staterror" for m in sm_sample["modifiers"]):
        mods.append({"name": f"staterror_{ch.name}", "type": "staterror", "data": t.stat_error_at(point).tolist()})
    return {"name": "signal", "data": n.tolist(), "modifiers": mods}


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
    if not lh.channels:
        raise InvalidModelError("export needs a Likelihood built from templates (build_likelihood)")
    for ch in lh.channels:
        if not ch.backgrounds:
            raise InvalidModelError(f"channel {ch.name!r} has no background sample; a background-only workspace needs one per channel")
    names = lh.coefficients
    grid = np.atleast_2d(np.asarray(grid, dtype=float))
    if grid.shape[1] != len(names) or not np.all(np.isfinite(grid)) or len(grid) == 0:
        raise InvalidModelError(f"grid must be a finite (n_points, {len(names)}) array of {names} values")
    for j, c in enumerate(names):
        lo, hi = lh.bounds[c]
        if grid[:, j].min() < lo or grid[:, j].max() > hi:
            raise InvalidModelError(f"grid values of {c!r} leave the validated bounds {lh.bounds[c]}")
    by_name = {ch.name: ch for ch in lh.channels}
    spec_channels = [(spec, by_name[spec["name"]]) for spec in lh.workspace["channels"]]
    bkg_only = {
        "channels": [
            {"name": spec["name"], "samples": [s for s in spec["samples"] if s["name"] not in _signal_names(ch)]}
            for spec, ch in spec_channels
        ],
        "observations": lh.workspace["observations"],
        "measurements": [
            {
                "name": "eft_grid",
                "config": {"poi": POI_NAME, "parameters": [{"name": POI_NAME, "bounds": [[0.0, 10.0]], "inits": [1.0]}]},
            }
        ],
        "version": "1.0.0",
    }
    patches = [
        {
            "metadata": {"name": _point_name(names, point), "values": [float(v) for v in point]},
            "patch": [
                {"op": "add", "path": f"/channels/{i}/samples/0", "value": _signal_sample(spec, ch, point)}
                for i, (spec, ch) in enumerate(spec_channels)
            ],
        }
        for point in grid
    ]
    patchset = {
        "metadata": {
            "name": name,
            "description": description,
            "digests": {"sha256": pyhf.utils.digest(bkg_only)},
            "labels": list(names),
            "references": {"hepdata": hepdata},
        },
        "patches": patches,
        "version": "1.0.0",
    }
    try:
        validate_schema(bkg_only, "workspace.json")
        validate_schema(patchset, "patchset.json")
    except pyhf.exceptions.InvalidSpecification as err:
        raise WorkspaceError(f"export fails the pyhf schema: {err}") from err
    directory = Path(directory)
    files = ExportedFiles(directory / f"{name}_bkgonly.json", directory / f"{name}_patchset.json")
    with atomic_paths([files.background_only, files.patchset]) as temporary:
        for path, obj in zip(temporary, (bkg_only, patchset), strict=True):
            path.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n", encoding="utf-8")
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
    optimizer = scipy_optimizer()
    with numpy_backend():
        for patch in patchset.patches:
            with quiet_schema():
                pws = patchset.apply(ws, patch.values)
                model = pws.model()
            data = pws.data(model)
            init = model.config.suggested_init()
            fixed = model.config.suggested_fixed()
            init[model.config.poi_index], fixed[model.config.poi_index] = 1.0, True  # what pyhf's fixed_poi_fit does
            _, val = minimize(model, data, init, model.config.suggested_bounds(), fixed, optimizer, return_fitted_val=True)
            out[tuple(float(v) for v in patch.values)] = float(val)
    return out
