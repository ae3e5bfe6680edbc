"""The house rules as tests, so that the README's one test command checks them: ruff (rule
families E, F, B, N, ARG, RUF, I with the exceptions in pyproject.toml, each with its reason) over
every Python file, and mypy over both packages (modules with recorded typing debt are listed in
pyproject.toml; every other module must be clean)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    exe = Path(sys.executable).parent / name
    found = str(exe) if exe.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: install the test extra (pip install -e '.[test]')")
    return found


def test_ruff_is_clean():
    out = subprocess.run([_tool("ruff"), "check", "--output-format", "concise", "physinf", "theory", "tests", "benchmarks",
                          "examples", "validation"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.slow
def test_mypy_is_clean():
    out = subprocess.run([_tool("mypy"), "--no-error-summary", "--cache-dir", str(ROOT / ".mypy_cache")], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
