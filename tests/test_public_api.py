"""The public API is pinned: a change here must be deliberate (style.md habit 3).

Also the layering: ``theory`` (physics) never imports ``physinf`` (the toolkit) or torch, for
every process module, and ``import physinf`` stays light (no torch, pyhf, sbi, pythia).
"""

import importlib
import subprocess
import sys

import pytest

import physinf
import theory
from theory.processes.registry import PROCESSES

PUBLIC = {
    "theory": [
        "kinematics", "morphing", "units", "SM", "SMInputs", "alpha_s_running", "Process", "Channel", "PhaseSpaceHint",
        "monomials", "available_processes", "get_process", "joint_score", "joint_ratio", "truth_fisher_information",
        "PhysinfError", "UnknownNameError", "InvalidParameterError", "KinematicsError", "PDFError", "EventFileError",
        "MissingDependencyError",
    ],
    "theory.processes": ["PROCESSES", "available_processes", "get_process"],
    "theory.pdf": [
        "DEFAULT_SET", "EXTRAPOLATORS", "AnalyticFit", "AnalyticPDF", "GridPDF", "analytic_xf_expr", "available_sets",
        "data_paths", "fit_analytic", "load_pdf", "parse_info_text",
    ],
    "physinf": [
        "__version__", "generate", "EventSample", "GenerationConfig", "Cuts", "PhysinfError", "UnknownNameError",
        "InvalidParameterError", "KinematicsError", "PDFError", "EventFileError", "MissingDependencyError",
    ],
    "physinf.simulate": [
        "Cuts", "ComponentModel", "EventFile", "EventSample", "GenerationConfig", "generate", "generate_from_config",
        "marginal_log_ratio", "marginal_score", "unlabelled_components",
    ],
    "physinf.detector": ["Detector", "JetSmearing", "smear_jets", "jet_energy_resolution"],
    "physinf.learn": [
        "Estimator", "EstimatorError", "EstimatorFileError", "LocalScoreEstimator", "NotFittedError",
        "ParameterizedRatioEstimator", "QuadraticRatioEstimator", "RATIO_METHODS", "TrainingConfig", "TrainingHistory",
        "resolve_device",
    ],
    "physinf.io": [],
    "physinf.pipeline": [],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names(module):
    assert sorted(dir(importlib.import_module(module))) == sorted(PUBLIC[module])


def test_every_public_name_exists():
    for module, names in PUBLIC.items():
        mod = importlib.import_module(module)
        for name in names:
            assert hasattr(mod, name), f"{module}.{name}"


def _imports(code: str) -> list[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()


def test_theory_does_not_import_physinf_or_torch():
    modules = ", ".join(["theory", "theory.pdf", "theory.cuts", "theory.observables", "theory.morphing", "theory.units"]
                        + sorted({spec.split(":")[0] for spec in PROCESSES.values()}))
    code = f"import sys, {modules}; print('physinf' in sys.modules, 'torch' in sys.modules)"
    assert _imports(code) == ["False", "False"]


def test_import_physinf_is_light():
    code = "import sys, physinf; print(*[m in sys.modules for m in ('torch', 'pyhf', 'sbi', 'pythia8mc', 'pysr')])"
    assert _imports(code) == ["False"] * 5
