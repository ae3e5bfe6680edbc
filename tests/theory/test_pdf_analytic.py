"""Tests of the analytic PDF family a0 x^a1 (1-x)^a2 exp(a3 x + a4 x^2) and its grid fit (docs/notes/pdfs.md §10)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import quad

from theory.errors import InvalidParameterError, PDFError
from theory.pdf import AnalyticPDF, analytic_xf_expr, fit_analytic, load_pdf


@pytest.fixture(scope="module")
def nnpdf():
    return load_pdf()


def test_expression_form():
    # The SymPy expression is the source of truth: check its exact form symbolically.
    x = sp.Symbol("x", positive=True)
    a0, a1, a2, a3, a4 = sp.symbols("a0:5", real=True)
    expected = a0 * x**a1 * (1 - x) ** a2 * sp.exp(a3 * x + a4 * x**2)
    assert sp.simplify(analytic_xf_expr() - expected) == 0


@pytest.mark.parametrize(("a1", "a2"), [(sp.Rational(1, 2), 3), (sp.Rational(-1, 3) + 1, 4), (2, 5)])
def test_beta_normalisation_symbolic(a1, a2):
    # For a3 = a4 = 0: int f dx = a0 B(a1, a2+1) and int x f dx = a0 B(a1+1, a2+1), checked by exact
    # SymPy integration at rational parameters (exact equality, no tolerance).
    x = sp.Symbol("x", positive=True)
    xf = analytic_xf_expr().subs({sp.Symbol("a0", real=True): 3, sp.Symbol("a1", real=True): a1,
                                  sp.Symbol("a2", real=True): a2, sp.Symbol("a3", real=True): 0,
                                  sp.Symbol("a4", real=True): 0})
    n_form, m_form = AnalyticPDF.closed_form_integrals()
    subs = {sp.Symbol("a0", real=True): 3, sp.Symbol("a1", real=True): a1, sp.Symbol("a2", real=True): a2}
    number = sp.integrate(sp.expand(xf / x), (x, 0, 1))
    momentum = sp.integrate(sp.expand(xf), (x, 0, 1))
    assert sp.simplify(sp.gammasimp(number - sp.expand_func(n_form.subs(subs)))) == 0
    assert sp.simplify(sp.gammasimp(momentum - sp.expand_func(m_form.subs(subs)))) == 0


def test_numeric_normalisations():
    # Closed-form (Beta) and quadrature branches agree with direct scipy quadrature to 1e-8
    # (quad's own accuracy on these smooth integrands after the x = u^(1/s) substitution).
    a = AnalyticPDF(1.7, 0.6, 3.5)
    assert a.number_integral() == pytest.approx(quad(lambda x: a.xf(x) / x, 0, 1, limit=200)[0], rel=1e-8)
    assert a.momentum_integral() == pytest.approx(quad(a.xf, 0, 1)[0], rel=1e-8)
    b = AnalyticPDF(1.7, 0.6, 3.5, 0.8, -1.2)
    assert b.number_integral() == pytest.approx(quad(lambda x: b.xf(x) / x, 0, 1, limit=200)[0], rel=1e-8)
    assert b.momentum_integral() == pytest.approx(quad(b.xf, 0, 1)[0], rel=1e-8)
    # lambdified numpy and the SymPy expression agree
    assert float(b.sympy().subs(sp.Symbol("x", positive=True), sp.Rational(3, 10)).evalf()) == pytest.approx(
        float(b.xf(0.3)), rel=1e-12
    )
    with pytest.raises(InvalidParameterError):
        AnalyticPDF(1.0, -0.2, 3.0).number_integral()  # divergent at x -> 0


class _Exact:
    """A fake PDF whose x f is exactly a family member (fit must recover it)."""

    def __init__(self, model):
        self.model = model

    def xfxQ(self, pid, x, Q):
        return self.model.xf(x)


def test_fit_recovers_exact_member():
    # Fitting an exact member: parameters recovered to 1e-6 and chi2 ~ 0 (no noise added).
    truth = AnalyticPDF(2.1, -0.15, 5.0, 1.3, -0.7)
    fit = fit_analytic(_Exact(truth), 21, 10.0, x_range=(1e-5, 0.9))
    np.testing.assert_allclose(fit.params, truth.params, rtol=1e-6, atol=1e-6)
    assert fit.chi2 < 1e-10 and fit.ndof == 55 and fit.covariance.shape == (5, 5)


@pytest.mark.parametrize(("pid", "x_range", "a1_range"), [(21, (1e-4, 0.7), (-0.7, -0.1)), ("uv", (1e-3, 0.7), (0.2, 0.8))])
def test_fit_to_nnpdf_at_10_gev(nnpdf, pid, x_range, a1_range):
    # Fit to the NNPDF3.1 LO gluon and u-valence at Q = 10 GeV with a 5 % tolerance per point: the
    # 5-parameter toy family describes the grid to ~10-15 % at worst (measured chi2/ndof 2.5 and 1.15),
    # so chi2/ndof < 4 and max deviation < 20 %; the small-x power is Regge-like: negative for the
    # gluon, ~0.3-0.4 for u-valence. The fitted momentum fractions match the grid's to a few % (5 % asserted).
    # (u-valence from x = 1e-4 lets a2 wander below -1 in a flat a2-a3-a4 valley, hence 1e-3.)
    fit = fit_analytic(nnpdf, pid, 10.0, x_range=x_range, rel_tol=0.05)
    assert fit.success and fit.chi2_ndof < 4.0 and fit.max_rel_dev < 0.2
    assert a1_range[0] < fit.params[1] < a1_range[1]
    assert np.all(np.isfinite(fit.errors)) and np.all(fit.errors > 0)
    lx = np.linspace(np.log(1e-9), 0.0, 4001)
    x = np.exp(lx)
    xf = nnpdf.xfxQ(21, x, 10.0) if pid == 21 else nnpdf.xfxQ(2, x, 10.0) - nnpdf.xfxQ(-2, x, 10.0)
    assert fit.pdf.momentum_integral() == pytest.approx(np.trapezoid(xf * x, lx), rel=0.05)


def test_fit_rejects_bad_input(nnpdf):
    # Non-positive data (raw d at tiny x) and bad ranges fail loudly instead of fitting garbage.
    raw = load_pdf(force_positive=0)
    with pytest.raises(PDFError, match="not positive"):
        fit_analytic(raw, 1, 1.65, x_range=(1e-9, 1e-7))
    with pytest.raises(InvalidParameterError):
        fit_analytic(nnpdf, 21, 10.0, x_range=(0.5, 0.1))
    with pytest.raises(InvalidParameterError):
        fit_analytic(nnpdf, "gv", 10.0)
