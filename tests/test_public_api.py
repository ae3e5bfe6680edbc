"""The public API is pinned: a change here must be deliberate (style.md habit 3).

Also the layering: ``theory`` (physics) never imports ``physinf`` (the toolkit) or torch, for
every process module, and ``import physinf`` stays light (no torch, pyhf, sbi, pythia).
"""

import importlib
import subprocess
import sys

import pytest

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
    "physinf.detector": [
        "Detector", "DetectorCard", "FastDetector", "HIGGS_TO_GAMMA_GAMMA_BR", "JetSmearing", "Reconstruction",
        "ShowerConfig", "ShowerDetector", "ShowerResult", "available_presets", "decay_to_two_photons",
        "jet_energy_resolution", "load_card", "preset_path", "pythia_alone", "shower_lhe", "smear_jets",
    ],
    "physinf.io": [
        "LHEFit", "default_benchmarks", "iter_lhe", "lhe_benchmarks", "read_lhe", "write_lhe",
    ],
    "physinf.learn": [
        "BoxPrior", "Calibration", "Estimator", "EstimatorError", "EstimatorFileError", "EventSimulator",
        "GridPosterior", "HistogramSummary", "LearnedPosterior", "LocalScoreEstimator", "NotFittedError",
        "POSTERIOR_METHODS", "ParameterizedRatioEstimator", "PosteriorConfig", "PosteriorEstimator",
        "QuadraticRatioEstimator", "RATIO_METHODS", "ReferencePosterior", "ScoreSummary", "TrainingConfig",
        "TrainingHistory", "c2st", "c2st_null_sigma", "calibrate", "resolve_device",
    ],
    "physinf.learn.surrogate": [
        "AccuracyReport", "AmplitudeSurrogate", "NoiseInjectionResult", "PullReport", "SurrogateConfig",
        "SurrogateFileError", "SurrogateMismatchError", "SurrogateModel", "SurrogatePrediction", "TrainConfig",
        "VBLinear", "accuracy", "amplitude_dataset", "noise_injection", "plot_accuracy_vs_size", "plot_pulls",
        "pulls", "surrogate_systematic", "with_surrogate_uncertainty",
    ],
    "physinf.stats": [
        "Background", "CLsLimit", "Channel", "CoverageResult", "ExportedFiles", "FitError", "FitResult", "Interval",
        "InvalidModelError", "Likelihood", "ObservableInformation", "Scan1D", "Scan2D", "ShapeSystematic",
        "StatsError", "Systematics", "Templates", "UnknownCoefficientError", "WorkspaceError",
        "binned_fisher_information", "build_likelihood", "build_workspace", "cls_upper_limit", "coverage",
        "eft_modifier_set", "expected_width", "export_patchset", "fisher_optimal_edges", "fit",
        "histogram_templates", "information_table", "intervals_from_scan", "load_likelihood",
        "observable_information", "profile_scan", "profile_scan_2d", "quantile_edges", "rate_fisher_information",
        "relative_variation", "scale_systematic", "score_fisher_information", "templates_from_sample", "threshold",
        "unbinned_fisher_information", "validate_workspace", "verify_export",
    ],
    "physinf.symbolic": [
        "BACKENDS", "Backend", "BackendUnavailableError", "Budget", "Candidate", "DEFAULT_OPERATORS", "Formula",
        "FormulaFileError", "FrontMember", "InvalidTargetError", "OPERATORS", "Restarts", "ScorePreset",
        "SymbolicError", "Symmetry", "TooFewPointsError", "UnknownOperatorError", "WBF_CP_ODD", "distill",
        "fit_formula", "front_scores", "get_backend", "pareto_indices", "select",
    ],
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
