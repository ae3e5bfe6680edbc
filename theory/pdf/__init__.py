"""Parton distribution functions: LHAPDF6 grids read natively, and a toy analytic family.

>>> from theory.pdf import load_pdf
>>> pdf = load_pdf()                     # NNPDF31_lo_as_0118, member 0   # doctest: +SKIP
>>> pdf.xfxQ(21, [1e-3, 1e-2], 100.0)    # x g(x, Q = 100 GeV)             # doctest: +SKIP
>>> pdf.alpha_s(91.2)                                                     # doctest: +SKIP

Grids: ``LHAPDF_DATA_PATH`` first, then the grids installed by the pythia8mc wheel
(``<prefix>/share/Pythia8/pdfdata``), whose metadata physinf supplies in
``theory/pdf/metadata.json`` (derived, not LHAPDF ``.info`` files).

Evaluation follows LHAPDF 6.2.3: log-bicubic interpolation, ``continuation``
extrapolation, ForcePositive clamp (see docs/notes/pdfs.md §2-§6). The default
NNPDF LO sets use ForcePositive 2 because the grids contain negative entries.

References:
    LHAPDF6: A. Buckley et al., Eur. Phys. J. C75 (2015) 132, arXiv:1412.7420.
    NNPDF3.1: NNPDF Collaboration, Eur. Phys. J. C77 (2017) 663, arXiv:1706.00428.
"""

from __future__ import annotations

from ._analytic import AnalyticFit, AnalyticPDF, analytic_xf_expr, fit_analytic
from ._gridpdf import EXTRAPOLATORS, GridPDF
from ._lhagrid import parse_info_text
from ._sets import DEFAULT_SET, available_sets, data_paths, load_pdf

__all__ = [
    "DEFAULT_SET",
    "EXTRAPOLATORS",
    "AnalyticFit",
    "AnalyticPDF",
    "GridPDF",
    "analytic_xf_expr",
    "available_sets",
    "data_paths",
    "fit_analytic",
    "load_pdf",
    "parse_info_text",
]


def __dir__() -> list[str]:
    return list(__all__)
