"""Physics presets for distilling a score: inputs, a declared factor, a derived closed form.

WBF_CP_ODD (p p -> j j H, cHWtil at the SM): the only pseudoscalar of a 2 -> 3 event is
eps(pa, pb, p1, p2) = (s_hat/2) pT1 pT2 sin(Δφ), so the CP-odd score is x_p1 x_p2 sin(Δφ) times a
CP-even function g of the invariants of theory.observables.wbf_invariants. The preset
declares that prefactor and lets the search find g over (r_s, r_u, kappa_u, r_cross). Its
derived form is LO W fusion with both assignments of the jets to the quark lines: quark-quark
lines give eps (s_hat + m_jj²), quark-antiquark lines eps (u_a + u_b) (rho = their PDF-weighted
ratio, tests/theory/test_wbf.py); the crossed assignment enters with -eps, t <-> u and the
propagator weight r_cross.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from physinf.symbolic.restarts import Restarts
from physinf.symbolic.symmetry import Symmetry

__all__ = ["WBF_CP_ODD", "ScorePreset"]


@dataclass(frozen=True)
class ScorePreset:
    """What physics fixes about a score before a search: ``inputs`` (observable names, in the
    column order of X), keyword arguments for :func:`distill`, and a derived closed form with
    starting values for :func:`fit_formula` (a cross-check, not a search)."""

    inputs: tuple[str, ...]
    factor: str | None
    search_names: tuple[str, ...]
    operators: tuple[str, ...]
    symmetry: Symmetry | None = None
    snap: bool | str = True
    derived_form: str | None = None
    derived_start: dict = field(default_factory=dict)
    restarts: Restarts = field(default_factory=Restarts.single)

    def distill_kwargs(self) -> dict:
        return {"factor": self.factor, "search_names": list(self.search_names), "operators": self.operators,
                "symmetry": self.symmetry, "snap": self.snap, "restarts": self.restarts}


WBF_CP_ODD = ScorePreset(
    inputs=("x_p1", "x_p2", "delta_phi_jj", "r_s", "r_u", "r_t", "kappa_u", "kappa_t", "r_cross"),
    factor="x_p1*x_p2*sin(delta_phi_jj)",
    search_names=("r_s", "r_u", "kappa_u", "r_cross"),
    operators=("add", "sub", "mul", "div", "square"),
    symmetry=Symmetry("delta_phi_jj", "odd", "enforce"),
    # the constants are couplings and PDF averages: pi or sqrt(2) would be numerology
    snap="rational",
    derived_form=("c*x_p1*x_p2*sin(delta_phi_jj)*((1 + r_s + rho*r_u) - r_cross*(1 + r_s + rho*r_t))"
                  "/((1 + rho*kappa_u) + r_cross*(1 + rho*kappa_t))"),
    derived_start={"c": -0.3, "rho": 0.8},
    # one search with the preset's operators: a score is not an exact formula, so restarts that
    # stop at an exact one do not apply, and the benchmark's information fractions were measured so
    restarts=Restarts.single(),
)
