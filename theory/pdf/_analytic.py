"""The toy analytic PDF family x f(x, Q0) = a0 x^a1 (1-x)^a2 exp(a3 x + a4 x^2) (docs/notes/pdfs.md §10).

The SymPy expression is the source of truth; the numpy function is its lambdify.
For a3 = a4 = 0 the number and momentum integrals are Beta functions:
    int_0^1 f dx   = a0 B(a1, a2 + 1),
    int_0^1 x f dx = a0 B(a1 + 1, a2 + 1).

References:
    Historic MRS/CTEQ-style parametrisations, e.g. CTEQ6: J. Pumplin et al., hep-ph/0201195.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..errors import InvalidParameterError, PDFError

__all__ = ["AnalyticFit", "AnalyticPDF", "analytic_xf_expr", "fit_analytic"]

X = sp.Symbol("x", positive=True)
A = sp.symbols("a0:5", real=True)
_PARAM_NAMES = ("a0", "a1", "a2", "a3", "a4")


def analytic_xf_expr() -> sp.Expr:
    """x f(x) = a0 x^a1 (1-x)^a2 exp(a3 x + a4 x^2) in the symbols x, a0..a4."""
    a0, a1, a2, a3, a4 = A
    return a0 * X**a1 * (1 - X) ** a2 * sp.exp(a3 * X + a4 * X**2)


@functools.cache
def _numpy_xf():
    return sp.lambdify((X, *A), analytic_xf_expr(), modules="numpy")


@dataclass(frozen=True)
class AnalyticPDF:
    """x f(x) = a0 x^a1 (1-x)^a2 exp(a3 x + a4 x^2) at one scale.

    Attributes:
        a0..a4: the parameters. The number integral needs a1 > 0, the momentum integral a1 > -1,
        and both need a2 > -1.
    """

    a0: float
    a1: float
    a2: float
    a3: float = 0.0
    a4: float = 0.0

    @property
    def params(self) -> tuple[float, float, float, float, float]:
        return (self.a0, self.a1, self.a2, self.a3, self.a4)

    def sympy(self) -> sp.Expr:
        """x f(x) as a SymPy expression in x with the parameter values substituted."""
        return analytic_xf_expr().subs(dict(zip(A, (sp.nsimplify(p) for p in self.params))))

    def xf(self, x):
        """x f(x) on numpy arrays (lambdified from the SymPy expression)."""
        return _numpy_xf()(np.asarray(x, dtype=float), *self.params)

    __call__ = xf

    def _integral(self, power: int) -> float:
        """int_0^1 x^power f(x) dx, power = 0 (number) or 1 (momentum)."""
        a0, a1, a2, a3, a4 = self.params
        if a2 <= -1 or a1 + power <= 0:
            raise InvalidParameterError(
                f"the integral of x^{power} f diverges: need a1 > {-power} and a2 > -1, got a1={a1}, a2={a2}"
            )
        if a3 == 0 and a4 == 0:
            from scipy.special import beta

            return float(a0 * beta(a1 + power, a2 + 1))
        from scipy.integrate import quad

        # substitute x = u^(1/s) to tame the endpoint power at x = 0
        s = a1 + power

        def integrand(u):
            x = u ** (1.0 / s)
            return a0 * (1 - x) ** a2 * np.exp(a3 * x + a4 * x * x) / s

        val, _ = quad(integrand, 0.0, 1.0, limit=200, epsabs=0, epsrel=1e-11)
        return float(val)

    def number_integral(self) -> float:
        """int_0^1 f dx (Beta function when a3 = a4 = 0, otherwise adaptive quadrature)."""
        return self._integral(0)

    def momentum_integral(self) -> float:
        """int_0^1 x f dx (Beta function when a3 = a4 = 0, otherwise adaptive quadrature)."""
        return self._integral(1)

    @staticmethod
    def closed_form_integrals() -> tuple[sp.Expr, sp.Expr]:
        """(number, momentum) integrals for a3 = a4 = 0 as SymPy Beta functions of a0, a1, a2."""
        a0, a1, a2 = A[:3]
        return a0 * sp.beta(a1, a2 + 1), a0 * sp.beta(a1 + 1, a2 + 1)


@dataclass(frozen=True)
class AnalyticFit:
    """Result of :func:`fit_analytic`.

    chi2 uses sigma = rel_tol * |x f_grid| per point, so chi2/ndof ~ 1 means the family
    describes the grid to about rel_tol.
    """

    pdf: AnalyticPDF
    params: np.ndarray  # (5,) a0..a4
    covariance: np.ndarray  # (5, 5), from the Jacobian at the minimum with the stated sigmas
    errors: np.ndarray  # (5,) sqrt of the covariance diagonal
    chi2: float
    ndof: int
    max_rel_dev: float  # max |model/grid - 1| on the fitted points
    x: np.ndarray
    xf_grid: np.ndarray
    pid: int | str
    Q: float
    rel_tol: float
    success: bool

    @property
    def chi2_ndof(self) -> float:
        return self.chi2 / self.ndof if self.ndof > 0 else float("nan")


_COMBOS = {"uv": (2, -2), "dv": (1, -1), "sv": (3, -3)}


def fit_analytic(
    pdf,
    pid: int | str,
    Q: float,
    *,
    x_range: tuple[float, float] = (1e-5, 0.9),
    n_points: int = 60,
    rel_tol: float = 0.02,
    p0: tuple[float, ...] | None = None,
) -> AnalyticFit:
    """Fit a0 x^a1 (1-x)^a2 exp(a3 x + a4 x^2) to x f of a grid PDF at scale Q (docs/notes/pdfs.md §10).

    Args:
        pdf: a GridPDF (anything with ``xfxQ(pid, x, Q)``).
        pid: a PDG id, or 'uv', 'dv', 'sv' for the valence combinations q - qbar.
        Q: the scale in GeV.
        x_range: log-spaced sample range; keep x >~ 1e-6 for NNPDF LO (negative d, dbar below).
        n_points: number of sample points.
        rel_tol: relative tolerance per point: weights are 1/(rel_tol * |x f|).
        p0: starting values; default from a linear least-squares fit of log(x f).

    Returns:
        AnalyticFit with parameters, covariance, chi2 and ndof.
    """
    from scipy.optimize import least_squares

    lo, hi = x_range
    if not (0 < lo < hi < 1):
        raise InvalidParameterError(f"x_range must satisfy 0 < lo < hi < 1, got {x_range!r}")
    if n_points < 6:
        raise InvalidParameterError("n_points must be at least 6 for 5 parameters")
    if rel_tol <= 0:
        raise InvalidParameterError("rel_tol must be positive")
    x = np.geomspace(lo, hi, n_points)
    if isinstance(pid, str):
        if pid not in _COMBOS:
            raise InvalidParameterError(f"pid string must be one of {sorted(_COMBOS)}, got {pid!r}")
        q, qb = _COMBOS[pid]
        y = np.asarray(pdf.xfxQ(q, x, Q)) - np.asarray(pdf.xfxQ(qb, x, Q))
    else:
        y = np.asarray(pdf.xfxQ(pid, x, Q))
    if np.any(y <= 0):
        raise PDFError(
            f"x f of {pid!r} at Q={Q} GeV is not positive everywhere on x in {x_range}; "
            "the family is positive: narrow x_range"
        )
    sigma = rel_tol * np.abs(y)
    f = _numpy_xf()
    if p0 is None:
        # log(xf) = log a0 + a1 log x + a2 log(1-x) + a3 x + a4 x^2 is linear in (log a0, a1..a4)
        M = np.column_stack([np.ones_like(x), np.log(x), np.log1p(-x), x, x * x])
        c, *_ = np.linalg.lstsq(M / rel_tol, np.log(y) / rel_tol, rcond=None)
        p0 = (float(np.exp(c[0])), *map(float, c[1:]))
    p0 = np.asarray(p0, dtype=float)

    def resid(p):
        return (f(x, *p) - y) / sigma

    res = least_squares(resid, p0, x_scale="jac", method="lm", xtol=1e-12, ftol=1e-12)
    J = res.jac
    try:
        cov = np.linalg.inv(J.T @ J)
    except np.linalg.LinAlgError:
        cov = np.full((5, 5), np.nan)
    chi2 = float(np.sum(res.fun**2))
    params = np.asarray(res.x)
    model = AnalyticPDF(*map(float, params))
    return AnalyticFit(
        pdf=model,
        params=params,
        covariance=cov,
        errors=np.sqrt(np.abs(np.diag(cov))),
        chi2=chi2,
        ndof=n_points - 5,
        max_rel_dev=float(np.max(np.abs(model.xf(x) / y - 1))),
        x=x,
        xf_grid=y,
        pid=pid,
        Q=float(Q),
        rel_tol=float(rel_tol),
        success=bool(res.success),
    )
