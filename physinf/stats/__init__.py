"""Statistics: pyhf likelihoods with Wilson-coefficient yields, limits, scans, Fisher information.

From per-monomial templates (:func:`histogram_templates`, one per channel) to a pyhf model
(:func:`build_likelihood`, one or several :class:`Channel`) whose yields are
SM + Σ c_i·int_i + Σ c_i c_j·quad_ij exactly, through our own ``eftpoly`` modifier; two-sided
profile-likelihood intervals (:func:`profile_scan`), CLs limits for rates, Fisher information and
expected widths; publication as a standard background-only workspace + patchset.

Modules, one job each: ``templates`` (histograms per monomial), ``systematics``, ``positivity``
(the yield must stay positive inside the bounds), ``workspace`` (the JSON, several channels),
``likelihood`` (the pyhf model), ``inference`` (fits, scans, intervals, limits, coverage),
``fisher``, ``binning``, ``publish``, ``plots`` (import it directly; it needs matplotlib) and
the private ``_backend`` (pyhf's global backend, thread-safe). Fits may run in several threads.
"""

from physinf.stats.binning import fisher_optimal_edges, quantile_edges
from physinf.stats.compare import ObservableInformation, information_table, observable_information
from physinf.stats.errors import FitError, InvalidModelError, StatsError, UnknownCoefficientError, WorkspaceError
from physinf.stats.fisher import (
    binned_fisher_information,
    expected_width,
    rate_fisher_information,
    score_fisher_information,
    unbinned_fisher_information,
)
from physinf.stats.inference import (
    CLsLimit,
    CoverageResult,
    FitResult,
    Interval,
    Scan1D,
    Scan2D,
    cls_upper_limit,
    coverage,
    fit,
    intervals_from_scan,
    profile_scan,
    profile_scan_2d,
    threshold,
)
from physinf.stats.likelihood import Likelihood, build_likelihood, load_likelihood
from physinf.stats.modifier import eft_modifier_set
from physinf.stats.publish import ExportedFiles, export_patchset, verify_export
from physinf.stats.systematics import ShapeSystematic, Systematics, relative_variation, scale_systematic
from physinf.stats.templates import Templates, histogram_templates, templates_from_sample
from physinf.stats.workspace import Background, Channel, build_workspace, validate_workspace

__all__ = [
    "Background",
    "CLsLimit",
    "Channel",
    "CoverageResult",
    "ExportedFiles",
    "FitError",
    "FitResult",
    "Interval",
    "InvalidModelError",
    "Likelihood",
    "ObservableInformation",
    "Scan1D",
    "Scan2D",
    "ShapeSystematic",
    "StatsError",
    "Systematics",
    "Templates",
    "UnknownCoefficientError",
    "WorkspaceError",
    "binned_fisher_information",
    "build_likelihood",
    "build_workspace",
    "cls_upper_limit",
    "coverage",
    "eft_modifier_set",
    "expected_width",
    "export_patchset",
    "fisher_optimal_edges",
    "fit",
    "histogram_templates",
    "information_table",
    "intervals_from_scan",
    "load_likelihood",
    "observable_information",
    "profile_scan",
    "profile_scan_2d",
    "quantile_edges",
    "rate_fisher_information",
    "relative_variation",
    "scale_systematic",
    "score_fisher_information",
    "templates_from_sample",
    "threshold",
    "unbinned_fisher_information",
    "validate_workspace",
    "verify_export",
]


def __dir__() -> list[str]:
    return __all__
