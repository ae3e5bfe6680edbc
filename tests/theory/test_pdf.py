"""Tests of theory.pdf: the native LHAPDF6 grid reader (docs/notes/pdfs.md §1-§9).

Most physics checks use the default grid shipped by pythia8mc (NNPDF31_lo_as_0118);
interpolation accuracy, alpha_s ipol and bad-input handling use small synthetic
lhagrid1 files written into tmp_path, whose exact values are known.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import theory.pdf as tpdf
from theory.errors import InvalidParameterError, PDFError, UnknownNameError
from theory.pdf import GridPDF, available_sets, load_pdf
from theory.sm import alpha_s_running

# ----------------------------------------------------------------------------- helpers


def smooth_xf(x, Q, pid):
    """A smooth, positive toy x f(x, Q): x^0.3 (1-x)^3 times a slow log(Q^2) rise."""
    L = np.log(np.asarray(Q, dtype=float) ** 2)
    return (1.0 + 0.1 * abs(pid)) * np.asarray(x) ** 0.3 * (1 - np.asarray(x)) ** 3 * (1.0 + 0.05 * L)


def write_grid(path: Path, blocks, flavors=(-1, 21, 1), header="PdfType: central\nFormat: lhagrid1\n", fn=smooth_xf):
    """Write an lhagrid1 file; blocks is a list of (x knots, Q knots)."""
    out = [header.rstrip("\n"), "---"]
    for block in blocks:
        xs, qs = block[:2]
        f = block[2] if len(block) > 2 else fn
        out.append(" ".join(f"{v:.12e}" for v in xs))
        out.append(" ".join(f"{v:.12e}" for v in qs))
        out.append(" ".join(str(f) for f in flavors))
        for xv in xs:
            for qv in qs:
                out.append(" ".join(f"{f(xv, qv, p):.15e}" for p in flavors))
        out.append("---")
    path.write_text("\n".join(out) + "\n")
    return path


XS = np.r_[np.geomspace(1e-6, 0.1, 40), np.linspace(0.12, 0.9, 25)[:-1], 0.9]
QS_LO = np.geomspace(1.0, 5.0, 6)
QS_HI = np.geomspace(5.0, 1000.0, 12)


@pytest.fixture(scope="module")
def nnpdf() -> GridPDF:
    return load_pdf()


@pytest.fixture(scope="module")
def raw() -> GridPDF:
    """The default grid without any positivity clamp (raw interpolated values)."""
    return load_pdf(force_positive=0)


@pytest.fixture
def toy(tmp_path) -> GridPDF:
    path = write_grid(tmp_path / "Toy_0000.dat", [(XS, QS_LO), (XS, QS_HI)])
    return load_pdf(path, force_positive=0)


# ----------------------------------------------------------------------------- API, discovery, metadata


def test_public_api_is_pinned():
    # The public names are a contract with physinf/simulate; changing them must be deliberate.
    assert sorted(tpdf.__all__) == sorted(
        [
            "DEFAULT_SET", "EXTRAPOLATORS", "AnalyticFit", "AnalyticPDF", "GridPDF", "analytic_xf_expr",
            "available_sets", "data_paths", "fit_analytic", "load_pdf", "parse_info_text",
        ]
    )
    assert sorted(dir(tpdf)) == sorted(tpdf.__all__)


def test_default_set_found_with_derived_metadata(nnpdf):
    # The pythia8mc grids ship without .info: physinf's metadata.json must fill in and say so.
    sets = available_sets()
    for name in ("NNPDF31_lo_as_0118", "NNPDF31_lo_as_0130", "NNPDF23_lo_as_0130_qed"):
        assert name in sets
    md = nnpdf.metadata
    assert nnpdf.name == "NNPDF31_lo_as_0118" and md["LHAPDF_ID"] == 315000
    assert md["AlphaS_MZ"] == 0.118 and md["OrderQCD"] == 0 and md["MBottom"] == 4.92
    assert "1706.00428" in md["Reference"]
    assert "derived metadata written by physinf" in md["MetadataSource"]
    assert nnpdf.force_positive == 2 and "12,075" in md["ForcePositive_reason"]
    assert nnpdf.flavors == (-5, -4, -3, -2, -1, 21, 1, 2, 3, 4, 5)
    assert (nnpdf.xmin, nnpdf.xmax, nnpdf.qmin, nnpdf.qmax) == (1e-9, 1.0, 1.65, 1e5)
    qed = load_pdf("NNPDF23_lo_as_0130_qed")
    assert 22 in qed.flavors and qed.metadata["AlphaS_MZ"] == 0.130 and qed.qmin == 1.0


def test_grid_has_the_documented_negative_entries(raw):
    # docs/notes/pdfs.md §8: 12,075 of 82,500 entries are < 0, the reason ForcePositive 2 is the default.
    neg = sum(int((sg.xf < 0).sum()) for sg in raw._data.subgrids)
    assert neg == 12075
    assert raw.xfxQ(1, 1e-9, 1.65) < -100  # d at the grid corner, raw
    assert load_pdf().xfxQ(1, 1e-9, 1.65) == 1e-10  # clamped


def test_path_and_lhapdf_data_path_discovery(tmp_path, monkeypatch):
    # LHAPDF layout on LHAPDF_DATA_PATH is found first and its .info is read (incl. a flow list).
    setdir = tmp_path / "MyToy"
    setdir.mkdir()
    write_grid(setdir / "MyToy_0000.dat", [(XS, QS_HI)])
    write_grid(setdir / "MyToy_0001.dat", [(XS, QS_HI)], fn=lambda x, Q, p: 2 * smooth_xf(x, Q, p))
    (setdir / "MyToy.info").write_text(
        "SetDesc: 'toy set'  # comment\nSetIndex: 900\nFlavors: [-1, 21,\n  1]\nOrderQCD: 0\n"
        "AlphaS_MZ: 0.118\nMZ: 91.1876\nForcePositive: 1\n"
    )
    monkeypatch.setenv("LHAPDF_DATA_PATH", str(tmp_path))
    assert "MyToy" in available_sets()
    assert tpdf.data_paths()[0] == tmp_path
    p0, p1 = load_pdf("MyToy"), load_pdf("MyToy", member=1)
    assert p0.metadata["SetDesc"] == "toy set" and p0.metadata["Flavors"] == [-1, 21, 1]
    assert p1.metadata["LHAPDF_ID"] == 901 and p0.force_positive == 1
    assert p1.xfxQ(21, 0.01, 20.0) == pytest.approx(2 * p0.xfxQ(21, 0.01, 20.0), rel=1e-12)
    # a direct path to the member file picks up the sibling .info too
    assert load_pdf(setdir / "MyToy_0001.dat").metadata["SetIndex"] == 900
    with pytest.raises(PDFError, match="no member 7"):
        load_pdf("MyToy", member=7)


# ----------------------------------------------------------------------------- sum rules


@pytest.mark.parametrize("Q", [1.65, 10.0, 100.0, 1000.0])
def test_sum_rules(raw, Q):
    # Momentum and valence sum rules, integrated in log x on 4001 points from 1e-9 to 1 (docs/notes/pdfs.md §9),
    # raw grid (no clamp, which would bias d - dbar at x < 1e-8). Measured: momentum 1.0015,
    # u_v 1.991-1.994, d_v 0.992-0.993, s_v -0.0009..-0.0006. NNPDF imposes the rules on the fitted
    # functions; the tabulated LO grid reproduces them to a few per mille, hence 1 % (0.005 for s_v).
    lx = np.linspace(np.log(1e-9), 0.0, 4001)
    x = np.exp(lx)
    f = dict(zip(raw.flavors, raw.xfxQ_all(x, Q)))
    momentum = np.trapezoid(sum(f.values()) * x, lx)
    assert momentum == pytest.approx(1.0, abs=0.01)
    assert np.trapezoid(f[2] - f[-2], lx) == pytest.approx(2.0, abs=0.02)
    assert np.trapezoid(f[1] - f[-1], lx) == pytest.approx(1.0, abs=0.01)
    assert np.trapezoid(f[3] - f[-3], lx) == pytest.approx(0.0, abs=0.005)


# ----------------------------------------------------------------------------- interpolation


def test_knot_values_reproduced_exactly(raw):
    # Hermite interpolation returns the knot value itself at t = 0 and t = 1 (docs/notes/pdfs.md §3.6);
    # only floating-point rounding of the basis polynomials can enter, hence rtol 1e-14.
    for sg in raw._data.subgrids:
        nx, nq = sg.xs.size, sg.q2s.size
        ix, iq = np.meshgrid(np.arange(0, nx, 7), np.arange(nq), indexing="ij")
        ix, iq = ix.ravel(), iq.ravel()
        if sg is raw._data.subgrids[0]:  # the seam knot belongs to the upper subgrid
            keep = iq < nq - 1
            ix, iq = ix[keep], iq[keep]
        got = raw.xfxQ2_all(sg.xs[ix], sg.q2s[iq])
        np.testing.assert_allclose(got.T, sg.xf[ix, iq], rtol=1e-14, atol=1e-300)


def test_seam_continuity_and_upper_subgrid(raw):
    # The two subgrids repeat the Q = 4.92 GeV knot: values must be continuous across it
    # (derivatives may jump), and Q exactly on the seam uses the upper subgrid (docs/notes/pdfs.md §2).
    x = np.geomspace(1e-7, 0.8, 50)
    at = raw.xfxQ_all(x, 4.92)
    below = raw.xfxQ_all(x, 4.92 * (1 - 1e-9))
    above = raw.xfxQ_all(x, 4.92 * (1 + 1e-9))
    # a step of 2e-9 in log Q2 times slopes d(xf)/dlogQ2 of at most O(100) (small-x gluon)
    tol = 1e-6 * (np.abs(at) + 1.0)
    assert np.all(np.abs(below - at) < tol)
    assert np.all(np.abs(above - at) < tol)
    # the file's lower subgrid ends with the same values the upper subgrid starts with
    lo, up = raw._data.subgrids
    np.testing.assert_allclose(lo.xf[:, -1], up.xf[:, 0], rtol=1e-12, atol=1e-12)
    upper = raw._data.subgrids[1]
    k = 40
    np.testing.assert_array_equal(raw.xfxQ2_all(upper.xs[k], upper.q2s[0]), upper.xf[k, 0])


def test_seam_knot_uses_upper_subgrid(tmp_path):
    # With different values in the two copies of the seam knot, Q exactly on it must give the
    # upper subgrid's value and just below it the lower one's (docs/notes/pdfs.md §2: upper subgrid on a boundary).
    path = write_grid(tmp_path / "Seam_0000.dat", [(XS, QS_LO), (XS, QS_HI, lambda x, Q, p: 2 * smooth_xf(x, Q, p))])
    pdf = load_pdf(path, force_positive=0)
    x = XS[10]
    assert pdf.xfxQ(21, x, 5.0) == pytest.approx(2 * smooth_xf(x, 5.0, 21), rel=1e-12)
    assert pdf.xfxQ(21, x, 5.0 * (1 - 1e-12)) == pytest.approx(smooth_xf(x, 5.0, 21), rel=1e-9)


def test_interpolation_accuracy_between_knots(toy):
    # On a synthetic grid of a known smooth function (65 x knots, 6+12 Q knots) the log-bicubic
    # interpolant with finite-difference slopes is accurate to O(h^2) ~ 1e-3 relative at midpoints;
    # linear interpolation would be an order of magnitude worse, so 2e-3 tests the cubic scheme.
    xm = np.sqrt(XS[1:-2] * XS[2:-1])  # log-midpoints, away from the x = 0.9 end point
    qm = np.sqrt(QS_HI[1:] * QS_HI[:-1])
    X, Q = np.meshgrid(xm, qm, indexing="ij")
    got = toy.xfxQ(21, X, Q)
    exact = smooth_xf(X, Q, 21)
    assert np.max(np.abs(got / exact - 1)) < 2e-3
    # and the cubic clearly beats linear interpolation in log x between the same knots
    lin = np.sqrt(smooth_xf(XS[1:-2], 100.0, 21) * smooth_xf(XS[2:-1], 100.0, 21))
    err_cubic = np.abs(toy.xfxQ(21, xm, 100.0) / smooth_xf(xm, 100.0, 21) - 1)
    err_lin = np.abs(lin / smooth_xf(xm, 100.0, 21) - 1)
    assert np.median(err_cubic) < 0.2 * np.median(err_lin)


def test_smooth_between_knots_c1(raw):
    # Inside a subgrid the interpolant is C1 (docs/notes/pdfs.md §3.6): at an x knot the one-sided slopes in
    # log x agree up to the O(h) finite-difference truncation of the step; second differences on a fine
    # grid stay bounded (no jumps or wiggles). Step h = 1e-6 in log x; a kink of size delta in the slope
    # would give a second difference ~ delta*h, far above the 1e-9 relative threshold used.
    sg = raw._data.subgrids[1]
    h = 1e-6
    for k in (30, 75, 120):
        xk = sg.xs[k]
        f0, fp, fm = (raw.xfxQ(21, xk * np.exp(s), 50.0) for s in (0.0, h, -h))
        right, left = (fp - f0) / h, (f0 - fm) / h
        assert abs(right - left) <= 1e-3 * abs(right) + 1e-6
    # fine log-x scan between two knots: smooth, monotone second differences of small size
    lx = np.linspace(np.log(sg.xs[60]), np.log(sg.xs[61]), 201)
    v = raw.xfxQ(21, np.exp(lx), 50.0)
    d2 = np.diff(v, 2)
    assert np.max(np.abs(d2)) < 1e-6 * np.max(np.abs(v))


# ----------------------------------------------------------------------------- extrapolation


def _lin_extrap(t, y0, y1):
    # LHAPDF _extrapolateLinear, written out independently for the test.
    if y0 > 1e-3 and y1 > 1e-3:
        return float(np.exp(np.log(y0) + t * (np.log(y1) - np.log(y0))))
    return float(y0 + t * (y1 - y0))


def test_extrapolation_low_x(raw):
    # x < xmin at in-range Q: linear in log x from the first two x knots, in log(xf) where both
    # values exceed 1e-3 (gluon), in xf otherwise (d, negative at the grid corner) (docs/notes/pdfs.md §4).
    x0, x1 = raw._xk[0], raw._xk[1]
    x = 1e-11
    t = (np.log(x) - np.log(x0)) / (np.log(x1) - np.log(x0))
    for pid, Q in ((21, 10.0), (1, 1.65)):
        y0, y1 = raw.xfxQ(pid, x0, Q), raw.xfxQ(pid, x1, Q)
        assert raw.xfxQ(pid, x, Q) == pytest.approx(_lin_extrap(t, y0, y1), rel=1e-12)
    assert raw.xfxQ(1, x, 1.65) < 0  # linear branch keeps the raw negative trend


def test_extrapolation_high_q_and_both(raw):
    # Q2 > Q2max: linear in log Q2 from the last two Q2 knots; with x < xmin too: Q2 first, then x.
    q2a, q2b = raw._q2k[-2], raw._q2k[-1]
    q2 = (3e5) ** 2
    tq = (np.log(q2) - np.log(q2a)) / (np.log(q2b) - np.log(q2a))
    x = 0.01
    y = _lin_extrap(tq, raw.xfxQ2(21, x, q2a), raw.xfxQ2(21, x, q2b))
    assert raw.xfxQ2(21, x, q2) == pytest.approx(y, rel=1e-12)
    x0, x1 = raw._xk[0], raw._xk[1]
    xs = 1e-10
    tx = (np.log(xs) - np.log(x0)) / (np.log(x1) - np.log(x0))
    g0 = _lin_extrap(tq, raw.xfxQ2(21, x0, q2a), raw.xfxQ2(21, x0, q2b))
    g1 = _lin_extrap(tq, raw.xfxQ2(21, x1, q2a), raw.xfxQ2(21, x1, q2b))
    assert raw.xfxQ2(21, xs, q2) == pytest.approx(_lin_extrap(tx, g0, g1), rel=1e-12)


def test_extrapolation_low_q_anomalous_dimension(raw):
    # Q2 < Q2min: xf = f0 (Q2/Q2min)^(anom Q2/Q2min + 1 - Q2/Q2min), anom = max(-2.5, dlog f/dlog Q2 est.)
    # with f1 at 1.01 Q2min (docs/notes/pdfs.md §4); continuous at Q2min and -> 0 as Q -> 0.
    q2min = raw._q2k[0]
    for x, pid in ((1e-3, 21), (0.3, 2), (1e-5, 1)):
        f0, f1 = raw.xfxQ2(pid, x, q2min), raw.xfxQ2(pid, x, 1.01 * q2min)
        anom = max(-2.5, (f1 - f0) / f0 / 0.01) if abs(f0) >= 1e-5 else 1.0
        for r in (0.9, 0.3, 0.01):
            expect = f0 * r ** (anom * r + 1 - r)
            assert raw.xfxQ2(pid, x, r * q2min) == pytest.approx(expect, rel=1e-12)
        assert raw.xfxQ2(pid, x, q2min * (1 - 1e-12)) == pytest.approx(f0, rel=1e-9)
        assert abs(raw.xfxQ(pid, x, 1e-4)) < 1e-4 * abs(f0)


def test_extrapolation_low_q_and_low_x(raw):
    # Q2 < Q2min and x < xmin: the f0, f1 anchors are themselves x-extrapolated first.
    q2min = raw._q2k[0]
    x = 1e-10
    f0, f1 = raw.xfxQ2(21, x, q2min), raw.xfxQ2(21, x, 1.01 * q2min)
    anom = max(-2.5, (f1 - f0) / f0 / 0.01)
    r = 0.5
    assert raw.xfxQ2(21, x, r * q2min) == pytest.approx(f0 * r ** (anom * r + 1 - r), rel=1e-12)


def test_clamp_applied_after_extrapolation():
    # ForcePositive acts on extrapolated values too (docs/notes/pdfs.md §5): d at x < xmin, Q = Qmin is
    # extrapolated linearly to a large negative value; 1 clamps it to 0, 2 to 1e-10.
    raw = load_pdf(force_positive=0).xfxQ(1, 1e-11, 1.65)
    assert raw < -100
    assert load_pdf(force_positive=1).xfxQ(1, 1e-11, 1.65) == 0.0
    assert load_pdf(force_positive=2).xfxQ(1, 1e-11, 1.65) == 1e-10
    assert load_pdf(force_positive=2).xfxQ(1, 1e-11, 0.5) == 1e-10  # low-Q branch too


def test_nearest_and_error_extrapolators():
    # 'nearest' freezes at the grid boundary; 'error' refuses points outside the grid.
    near = load_pdf(extrapolator="nearest")
    assert near.xfxQ(21, 1e-12, 0.5) == near.xfxQ(21, 1e-9, 1.65)
    assert near.xfxQ(2, 0.1, 1e6) == near.xfxQ(2, 0.1, 1e5)
    err = load_pdf(extrapolator="error")
    assert err.xfxQ(21, 1e-9, 1.65) == near.xfxQ(21, 1e-9, 1.65)  # boundary is inside
    with pytest.raises(PDFError, match="outside the grid"):
        err.xfxQ(21, [0.1, 1e-12], 10.0)


def test_large_x_beyond_xmax_and_unphysical_input(tmp_path, nnpdf):
    # x > xmax is a range error for continuation (docs/notes/pdfs.md §4); x <= 0, x > 1, Q <= 0 are unphysical.
    assert nnpdf.xfxQ(21, 1.0, 10.0) == 1e-10  # x = xmax = 1 is inside (xf = 0, clamped)
    for x, Q in ((0.0, 10.0), (-0.1, 10.0), (1.5, 10.0), (0.1, 0.0), (0.1, -3.0), (np.nan, 10.0)):
        with pytest.raises(InvalidParameterError):
            nnpdf.xfxQ(21, x, Q)
    short = load_pdf(write_grid(tmp_path / "Short_0000.dat", [(XS, QS_HI)]))
    assert short.xmax == 0.9
    with pytest.raises(PDFError, match="above the grid's xmax"):
        short.xfxQ(21, 0.95, 10.0)


# ----------------------------------------------------------------------------- flavours and shapes


def test_pid_rules_and_shapes(nnpdf):
    # Unknown PIDs give 0, 0 aliases the gluon (docs/notes/pdfs.md §5); inputs broadcast; scalars give floats.
    assert nnpdf.xfxQ(6, 0.1, 100.0) == 0.0 and nnpdf.xfxQ(22, 0.1, 100.0) == 0.0
    assert nnpdf.xfxQ(0, 0.1, 100.0) == nnpdf.xfxQ(21, 0.1, 100.0)
    assert isinstance(nnpdf.xfxQ(21, 0.1, 100.0), float)
    out = nnpdf.xfxQ(2, np.geomspace(1e-4, 0.5, 3)[:, None], np.array([[10.0, 100.0, 1e3, 1e4]]))
    assert out.shape == (3, 4)
    allv = nnpdf.xfxQ_all(np.geomspace(1e-4, 0.5, 3)[:, None], np.array([[10.0, 100.0, 1e3, 1e4]]))
    assert allv.shape == (11, 3, 4)
    np.testing.assert_allclose(allv[nnpdf.flavors.index(2)], out, rtol=1e-14)
    sel = nnpdf.xfxQ_all([1e-3, 0.2], 50.0, pids=[21, 6, -2])
    assert sel.shape == (3, 2) and np.all(sel[1] == 0)
    np.testing.assert_allclose(sel[2], nnpdf.xfxQ(-2, [1e-3, 0.2], 50.0), rtol=1e-14)
    # mixed in/out-of-grid arrays go through both code paths consistently
    xs = np.array([1e-11, 1e-3, 0.5])
    np.testing.assert_allclose(nnpdf.xfxQ(21, xs, 10.0), [nnpdf.xfxQ(21, v, 10.0) for v in xs], rtol=1e-14)
    with pytest.raises(InvalidParameterError):
        nnpdf.xfxQ(2.0, 0.1, 10.0)


# ----------------------------------------------------------------------------- alpha_s


def test_alpha_s_from_running(nnpdf):
    # No ipol table in the derived metadata: LO 1-loop running from alpha_s(MZ) = 0.118, MZ = 91.2.
    # At 10 GeV: 0.118 / (1 + b0 0.118 ln(100/91.2^2)), b0 = 23/(12 pi) -> 0.17309.
    assert nnpdf.alpha_s(91.2) == pytest.approx(0.118, rel=1e-14)
    assert nnpdf.alpha_s(10.0) == pytest.approx(0.1731, abs=5e-5)
    assert nnpdf.alpha_s(10.0) == pytest.approx(alpha_s_running(10.0, 0.118, 91.2, order=0), rel=1e-14)
    assert load_pdf("NNPDF31_lo_as_0130").alpha_s(91.2) == pytest.approx(0.130)
    np.testing.assert_allclose(nnpdf.alpha_s([10.0, 91.2]), [nnpdf.alpha_s(10.0), 0.118])


def test_alpha_s_ipol(tmp_path):
    # AlphaS_Qs/AlphaS_Vals in the .info take precedence (docs/notes/pdfs.md §6). Knots from LO running with a
    # repeated 4.92 knot: exact at knots, ~1e-5 between knots (smooth function, 12 knots per decade);
    # power law below the first knot, constant above the last.
    qs = np.r_[np.geomspace(1.0, 4.92, 8), np.geomspace(4.92, 1e4, 40)]
    vals = alpha_s_running(qs, 0.118, 91.2, order=0)
    write_grid(tmp_path / "Ipol_0000.dat", [(XS, QS_HI)])
    (tmp_path / "Ipol.info").write_text(
        f"AlphaS_MZ: 0.118\nAlphaS_Qs: [{', '.join(repr(float(v)) for v in qs)}]\n"
        f"AlphaS_Vals: [{', '.join(repr(float(v)) for v in vals)}]\n"
    )
    pdf = load_pdf(tmp_path / "Ipol_0000.dat")
    np.testing.assert_allclose(pdf.alpha_s(qs[1:-1]), vals[1:-1], rtol=1e-13)
    q = np.geomspace(1.1, 9e3, 50)
    # one-sided slopes in the first/last interval of each subgrid are O(h) accurate: 2e-3 there
    exact = alpha_s_running(q, 0.118, 91.2, order=0)
    np.testing.assert_allclose(pdf.alpha_s(q), exact, rtol=2e-3)
    inner = (q > qs[1]) & (q < qs[6]) | (q > qs[9]) & (q < qs[-2])
    np.testing.assert_allclose(pdf.alpha_s(q[inner]), exact[inner], rtol=1e-4)
    assert pdf.alpha_s(2e4) == pytest.approx(vals[-1], rel=1e-14)
    slope = np.log10(vals[1] / vals[0]) / np.log10(qs[1] ** 2 / qs[0] ** 2)
    assert pdf.alpha_s(0.5) == pytest.approx(vals[0] * (0.25) ** slope, rel=1e-12)


# ----------------------------------------------------------------------------- bad input


def test_missing_and_unknown(monkeypatch, tmp_path):
    # A missing path says so; an unknown name lists where it looked, how to set LHAPDF_DATA_PATH,
    # and suggests close names.
    with pytest.raises(PDFError, match="does not exist"):
        load_pdf(tmp_path / "nope_0000.dat")
    monkeypatch.setenv("LHAPDF_DATA_PATH", str(tmp_path))
    with pytest.raises(UnknownNameError) as exc:
        load_pdf("NNPDF31_lo_as_018")
    msg = str(exc.value)
    assert "Did you mean 'NNPDF31_lo_as_0118'" in msg and "LHAPDF_DATA_PATH" in msg and str(tmp_path) in msg
    with pytest.raises(InvalidParameterError):
        load_pdf(member=-1)
    with pytest.raises(InvalidParameterError):
        load_pdf(extrapolator="linear")


def _corrupt(tmp_path, name, edit):
    path = write_grid(tmp_path / f"{name}_0000.dat", [(XS[:10], QS_HI[:4])])
    lines = path.read_text().splitlines()
    path.write_text("\n".join(edit(lines)) + "\n")
    return path


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda L: L[:-1], "must end with a '---'"),  # truncated: no trailing ---
        (lambda L: L[:10] + L[11:], r"has 39 data rows, expected nx\*nQ = 10\*4 = 40"),  # a row lost
        (lambda L: L[:9] + ["1.0 abc 2.0"] + L[10:], "line 10: non-numeric value"),
        (lambda L: L[:9] + ["1.0 2.0"] + L[10:], "line 10: expected 3 values"),
        (lambda L: L[:3] + ["1e-3 5e-3 abc"] + L[4:], "line 4: non-numeric x knot"),
        (lambda L: [L[0], "Format: lhagrid2"] + L[2:], "Format 'lhagrid2' is not supported"),
    ],
)
def test_corrupt_files_name_the_line(tmp_path, edit, match):
    # Corrupt files raise PDFError saying what and where (line numbers are 1-based).
    path = _corrupt(tmp_path, "Bad", edit)
    with pytest.raises(PDFError, match=match):
        load_pdf(path)


def test_info_parser():
    # The minimal YAML subset used by .info files: scalars, quoted strings, flow lists, comments.
    d = tpdf.parse_info_text("A: 1\nB: 2.5e-3  # note\nC: 'x: y'\nD: [1, 2,\n 3]\nE: true\n# c\nF: text here\n")
    assert d == {"A": 1, "B": 2.5e-3, "C": "x: y", "D": [1, 2, 3], "E": True, "F": "text here"}
