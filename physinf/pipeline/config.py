"""The run config: one TOML file, validated against a versioned JSON Schema, defaults filled in.

Validation uses ``jsonschema`` (the one validation library physinf depends on; the pyhf workspace
checks use it too). Errors name the key, the bad value and what is allowed, with "did you mean"
for misspelt keys. A config from a newer schema version is refused. Units are in the key names
(``sqrt_s_gev``, ``luminosity_fb``).
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from physinf.errors import InvalidParameterError

__all__ = ["SCHEMA", "SCHEMA_VERSION", "STAGES", "ConfigError", "config_hash", "load_config", "validate_config"]

SCHEMA_VERSION = 1
STAGES = ("surrogate", "events", "detect", "train", "distill", "sbi", "fit", "report")


class ConfigError(InvalidParameterError):
    """A run config that cannot be used: the message names the key, the value and what is allowed."""


def _num(minimum: float | None = None, exclusive: bool = False, default: Any = None, description: str = "") -> dict:
    out: dict[str, Any] = {"type": "number", "description": description}
    if minimum is not None:
        out["exclusiveMinimum" if exclusive else "minimum"] = minimum
    if default is not None:
        out["default"] = default
    return out


def _int(minimum: int = 0, default: Any = None, description: str = "") -> dict:
    out: dict[str, Any] = {"type": "integer", "minimum": minimum, "description": description}
    if default is not None:
        out["default"] = default
    return out


def _obj(properties: dict, required: tuple[str, ...] = (), description: str = "") -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False,
            "description": description, "default": {}}


_STR_LIST = {"type": "array", "items": {"type": "string"}}
_NUM_LIST = {"type": "array", "items": {"type": "number"}}

SCHEMA: dict[str, Any] = _obj(
    {
        "schema_version": _int(1, SCHEMA_VERSION, "version of this config format"),
        "name": {"type": "string", "default": "run", "description": "name of the run (used in the report)"},
        "out": {"type": "string", "default": "runs/run", "description": "run folder (relative to the config file)"},
        "seed": _int(0, 1, "master seed: every stage derives its seed from it"),
        "scheduler": {"type": ["string", "null"], "default": None,
                      "description": "dask.distributed scheduler address; none = local processes"},
        "n_workers": _int(1, 1, "local worker processes when no scheduler is given"),
        "process": _obj({
            "name": {"type": "string", "description": "registered process (physinf info lists them)"},
            "sqrt_s_gev": _num(0, True, 13000.0, "collider energy in GeV"),
            "theta_ref": {**_NUM_LIST, "default": None, "description": "reference Wilson coefficients (default SM)"},
            "sm_preset": {"type": ["string", "null"], "default": None, "description": "SM-input preset (default G_mu scheme)"},
        }, ("name",), "what is simulated"),
        "events": _obj({
            "source": {"enum": ["generate", "lhe"], "default": "generate", "description": "generate, or import an LHE file"},
            "n_points": _int(10, 100000, "phase-space points (events after cuts are fewer)"),
            "pdf": {"type": "string", "default": "NNPDF31_lo_as_0118", "description": "LHAPDF set name or path"},
            "scale_factors": {**_NUM_LIST, "default": [0.5, 2.0], "description": "factorisation-scale variations stored"},
            "cuts": {"type": ["object", "null"], "default": None,
                     "description": "generator cuts (theory.cuts.Cuts keys); none = the process's default cuts"},
            "lhe_path": {"type": ["string", "null"], "default": None, "description": "LHE file for source = 'lhe'"},
            "lhe_max_degree": _int(1, 2, "degree of the morphing polynomial fitted to the LHE reweighting weights"),
            "use_surrogate": {"type": "boolean", "default": False,
                              "description": "evaluate |M|^2 with the trained surrogate (stage 'surrogate')"},
        }, (), "parton-level events"),
        "surrogate": _obj({
            "enabled": {"type": "boolean", "default": False},
            "n_train": _int(100, 20000, "training phase-space points"),
            "epochs": _int(1, 60),
        }, (), "Bayesian amplitude surrogate (optional)"),
        "detector": _obj({
            "kind": {"enum": ["none", "fast", "smearing", "shower"], "default": "fast",
                     "description": "none = parton level; fast = Delphes-like card; shower = Pythia 8 + FastJet + card"},
            "preset": {"type": "string", "default": "atlas-like", "description": "detector card (physinf presets lists them) or a TOML path"},
        }, (), "detector level"),
        "train": _obj({
            "enabled": {"type": "boolean", "default": True},
            "features": {**_STR_LIST, "default": None, "description": "observables the networks see (default: the process's preset)"},
            "n_members": _int(1, 3, "ensemble members of the local score"),
            "epochs": _int(1, 50),
            "hidden": {"type": "array", "items": {"type": "integer", "minimum": 1}, "default": [100, 100]},
            "train_fraction": _num(0, True, 0.7, "fraction of events used for training (the rest tests)"),
        }, (), "learned local score (SALLY)"),
        "distill": _obj({
            "enabled": {"type": "boolean", "default": True},
            "preset": {"type": ["string", "null"], "default": None, "description": "score preset (e.g. wbf_cp_odd)"},
            "inputs": {**_STR_LIST, "default": None, "description": "formula inputs when no preset is given"},
            "generations": _int(1, 60),
            "population_size": _int(10, 500),
            "max_time_s": _int(1, 300),
        }, (), "symbolic distillation of the learned score"),
        "sbi": _obj({
            "enabled": {"type": "boolean", "default": False},
            "method": {"enum": ["npe", "nle", "nre"], "default": "nle"},
            "n_simulations": _int(10, 2000),
            "n_observed": _int(1, 200, "events in the observed pseudo-data"),
            "calibration_experiments": {"type": "integer", "default": 200, "description":
                                        "pseudo-experiments of the expected-coverage and SBC check (0: skip; else >= 100)"},
        }, (), "simulation-based inference (optional)"),
        "fit": _obj({
            "luminosity_fb": _num(0, True, 300.0, "integrated luminosity in fb^-1"),
            "coefficients": {**_STR_LIST, "default": None, "description": "coefficients to constrain (default: the studied one)"},
            "coefficient": {"type": ["string", "null"], "default": None, "description": "the coefficient studied (default: the last)"},
            "observables": {**_STR_LIST, "default": ["delta_phi_jj", "learned_score", "formula"],
                            "description": "histogrammed: observable names, learned_score, formula"},
            "n_bins": _int(2, 10),
            "bound": _num(0, True, 1.0, "coefficient range [-bound, bound] (TeV^-2)"),
            "scan_points": _int(5, 61),
            "contour_points": _int(5, 11, "grid points per axis of the 2D profile scan (each point is a full fit)"),
            "lumi_uncertainty": _num(0, False, 0.02, "relative luminosity uncertainty"),
            "mc_stat": {"type": "boolean", "default": True},
            "scale_systematic": {"type": "boolean", "default": True},
            "patchset_points": _int(2, 5, "grid points per coefficient in the published patchset"),
        }, (), "pyhf likelihood, limits and publication"),
        "report": _obj({"title": {"type": ["string", "null"], "default": None}}, (), "HTML report"),
    },
    ("process",),
    "physinf run config",
)


def _fill_defaults(schema: Mapping[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    for key, sub in schema.get("properties", {}).items():
        if key not in out and "default" in sub:
            out[key] = copy.deepcopy(sub["default"])
        if sub.get("type") == "object" and isinstance(out.get(key), dict) and "properties" in sub:
            out[key] = _fill_defaults(sub, out[key])
    return out


def _where(path: Any) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def _explain(error: Any) -> str:
    """A jsonschema ValidationError as a sentence naming the key, the value and what is allowed."""
    where = _where(error.absolute_path)
    if error.validator == "additionalProperties":
        schema_props = list(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in schema_props]
        hints = []
        for key in extra:
            close = difflib.get_close_matches(key, schema_props, n=1, cutoff=0.6)
            hints.append(f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        section = f"in [{where}]" if error.absolute_path else "at the top level"
        return f"{'; '.join(hints)} {section}; allowed keys: {', '.join(schema_props)}"
    if error.validator == "required":
        return f"missing key {error.message.split(chr(39))[1]!r} in [{where}]"
    if error.validator == "enum":
        return f"{where} = {error.instance!r} is not allowed; choose one of {error.validator_value}"
    if error.validator in ("minimum", "exclusiveMinimum"):
        op = ">" if error.validator == "exclusiveMinimum" else ">="
        return f"{where} = {error.instance!r} is out of range: it must be {op} {error.validator_value}"
    if error.validator == "type":
        return f"{where} = {error.instance!r} has the wrong type: expected {error.validator_value}"
    return f"{where}: {error.message}"


def validate_config(data: Mapping[str, Any]) -> dict[str, Any]:
    """The resolved config (defaults filled) of a parsed config, or a ConfigError."""
    import jsonschema

    if not isinstance(data, Mapping):
        raise ConfigError(f"a run config must be a table of keys, got {type(data).__name__}")
    version = data.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise ConfigError(
            f"the config has schema_version {version}, newer than this physinf reads ({SCHEMA_VERSION}); upgrade physinf"
        )
    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(dict(data)), key=lambda e: (len(e.absolute_path), _where(e.absolute_path)))
    if errors:
        raise ConfigError("invalid run config: " + "; ".join(_explain(e) for e in errors[:5]))
    resolved = _fill_defaults(SCHEMA, dict(data))
    _check_semantics(resolved)
    return resolved


def _check_semantics(cfg: dict[str, Any]) -> None:
    """Checks a schema cannot express: names that must exist, consistent combinations."""
    from theory.processes.registry import available_processes, get_process

    name = cfg["process"]["name"]
    if cfg["events"]["source"] == "generate" and name not in available_processes():
        known = list(available_processes())
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
        raise ConfigError(f"process.name = {name!r} is not a registered process; known: {', '.join(known)}"
                          + (f" (did you mean {close[0]!r}?)" if close else ""))
    n_cal = cfg["sbi"]["calibration_experiments"]
    if n_cal != 0 and n_cal < 100:
        raise ConfigError(f"sbi.calibration_experiments = {n_cal} is out of range: 0 (skip the check) or >= 100 "
                          "(the coverage of fewer experiments is too noisy to read)")
    if cfg["events"]["source"] == "lhe" and not cfg["events"]["lhe_path"]:
        raise ConfigError("events.source = 'lhe' needs events.lhe_path (the LHE file to import)")
    if cfg["events"]["source"] == "generate":
        coefficients = get_process(name).coefficients
        for key in ("coefficient",):
            value = cfg["fit"][key]
            if value is not None and value not in coefficients:
                raise ConfigError(f"fit.{key} = {value!r} is not a coefficient of {name}; its coefficients: {list(coefficients)}")
        for value in cfg["fit"]["coefficients"] or []:
            if value not in coefficients:
                raise ConfigError(f"fit.coefficients contains {value!r}, not a coefficient of {name}; its coefficients: {list(coefficients)}")
        theta = cfg["process"]["theta_ref"]
        if theta is not None and len(theta) != len(coefficients):
            raise ConfigError(f"process.theta_ref has {len(theta)} values; {name} has coefficients {list(coefficients)}")
    if cfg["events"]["use_surrogate"] and not cfg["surrogate"]["enabled"]:
        raise ConfigError("events.use_surrogate = true needs [surrogate] enabled = true")
    if not 0 < cfg["train"]["train_fraction"] < 1:
        raise ConfigError(f"train.train_fraction = {cfg['train']['train_fraction']} must lie in (0, 1)")


def load_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read and validate a TOML run config; relative paths in it are taken relative to the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path} is not valid TOML: {err}") from err
    cfg = validate_config(data)
    base = path.resolve().parent
    cfg["out"] = str((base / cfg["out"]).resolve())
    if cfg["events"]["lhe_path"]:
        cfg["events"]["lhe_path"] = str((base / cfg["events"]["lhe_path"]).resolve())
    cfg["config_file"] = str(path.resolve())
    return cfg


def config_hash(*parts: Any) -> str:
    """SHA-256 of the canonical JSON of ``parts`` (a stage's config section and its inputs' hashes)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()
