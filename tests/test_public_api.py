"""The public API is pinned: a change here must be deliberate (style.md habit 3)."""

import physinf
import theory


def test_theory_public_names():
    assert dir(theory) == sorted([
        "kinematics", "SM", "SMInputs", "alpha_s_running", "Process", "Channel", "PhaseSpaceHint", "monomials",
        "available_processes", "get_process", "joint_score", "joint_ratio", "truth_fisher_information",
        "PhysinfError", "UnknownNameError", "InvalidParameterError", "KinematicsError", "PDFError", "EventFileError",
    ])


def test_physinf_public_names():
    assert dir(physinf) == sorted([
        "__version__", "generate", "EventSample", "Cuts", "PhysinfError", "UnknownNameError",
        "InvalidParameterError", "KinematicsError", "PDFError", "EventFileError",
    ])


def test_theory_does_not_import_physinf_or_torch():
    import subprocess
    import sys

    code = "import sys, theory, theory.pdf, theory.processes.wbf; print('physinf' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
