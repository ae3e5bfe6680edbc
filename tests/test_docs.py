"""What the documentation shows must run: the doctests of the public modules, the README's Python
tour (executed block by block), and every example (the pipeline configs shrunk to tiny sizes, the
scripts with their smallest options). The physics of the examples is asserted by the pipeline and
estimator tests; here a failure means the documentation no longer matches the code."""

from __future__ import annotations

import doctest
import importlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCTEST_MODULES = ["theory.morphing", "theory.units", "theory.pdf"]


@pytest.mark.parametrize("name", DOCTEST_MODULES)
def test_doctests(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def _readme_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


@pytest.mark.slow
def test_readme_tour_runs(tmp_path, monkeypatch):
    blocks = _readme_blocks()
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)  # the blocks continue one another
    assert namespace["formula"].expr.has(*[s for s in namespace["formula"].variables if str(s) == "delta_phi_jj"])


# every size-like key, shrunk so an example runs in seconds (None: leave the example's value)
TINY = {
    "events": {"n_points": 6000},
    "surrogate": {"n_train": 3000, "epochs": 5},
    "train": {"epochs": 3, "n_members": 1},
    "distill": {"generations": 3, "population_size": 100, "max_time_s": 30},
    "sbi": {"n_simulations": 2000, "n_observed": 20},
    "fit": {"scan_points": 11, "contour_points": 5, "patchset_points": 2, "n_bins": 3},
}


def _tiny(config: Path, out: Path) -> Path:
    data = tomllib.loads(config.read_text())
    for section, keys in TINY.items():  # every size key at most its tiny value (sections the example omits get them too)
        values = data.setdefault(section, {})
        for key, value in keys.items():
            values[key] = min(value, values.get(key, value))
    data["out"] = str(out)
    if data["events"].get("lhe_path"):
        data["events"]["lhe_path"] = str((config.parent / data["events"]["lhe_path"]).resolve())
    lines = []
    top = {k: v for k, v in data.items() if not isinstance(v, dict)}
    lines += [f"{k} = {_toml(v)}" for k, v in top.items()]
    for section, values in data.items():
        if isinstance(values, dict):
            lines.append(f"[{section}]")
            lines += [f"{k} = {_toml(v)}" for k, v in values.items()]
    path = out.parent / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


EXAMPLE_CONFIGS = sorted(p.parent.name for p in (ROOT / "examples").glob("*/config.toml"))


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLE_CONFIGS)
def test_example_config_runs(example, tmp_path):
    from physinf.pipeline.run import run_config

    config = _tiny(ROOT / "examples" / example / "config.toml", tmp_path / "run")
    result, run = run_config(config, progress=False)
    assert "report" in result.ran and result.report is not None and result.report.exists()


@pytest.mark.slow
def test_sbi_example_script_runs(tmp_path):
    script = ROOT / "examples" / "sbi_wilson" / "posterior.py"
    out = subprocess.run([sys.executable, str(script), "--n-points", "8000", "--simulations", "300", "--n-events", "20",
                          "--out", str(tmp_path)], cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert (tmp_path / "posterior.json").exists() and (tmp_path / "posterior.png").exists()
