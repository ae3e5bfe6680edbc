"""Cross-check of theory.pdf against Pythia 8's own LHAGrid1 reader on the same grid file (docs/notes/pdfs.md §7).

What Pythia 8.317 does differently (so the comparison is restricted to where both should agree):
- its interpolation is a cubic in ln x and ln Q2 built from neighbouring knots, not LHAPDF's Hermite
  with finite-difference slopes; both reproduce the knots exactly (checked below) but differ between
  knots by their interpolation errors (measured median ~1e-5, but up to a few % where xf varies fast:
  b just above its 4.92 GeV threshold, d crossing zero at tiny x, sea quarks at x > 0.5);
- it freezes the PDFs outside [Qmin, Qmax] and at x > xmax, and at x < xmin unless PDF:extrapolate = on
  (LHAPDF's continuation extrapolates instead);
- it clamps negative values to 0 (like ForcePositive 1), and xf(2) is the full u (valence + sea).
- near x = 0.09 the NNPDF x grid switches from log spacing (step 0.247 in ln x) to a finer one (0.124):
  LHAPDF's plain average of left and right differences is least accurate there and the two readers
  differ by up to 1.5e-3 for the gluon (measured), so 0.05 < x < 0.12 is left out.
Hence: points inside the grid, away from the seam, x in [1e-5, 0.3] without (0.05, 0.12), Q in
[10, 3000] GeV, light flavours and the gluon, relative 1e-3 where xf > 1e-3 (docs/notes/pdfs.md §7). The measured
median deviation there is ~1e-5 and the maximum ~6e-4.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from theory.pdf import load_pdf

pythia8mc = pytest.importorskip("pythia8mc", reason="pythia8mc (extra 'shower') is not installed")


@pytest.fixture(scope="module")
def pair():
    ours = load_pdf(force_positive=0)
    xmldoc = Path(ours.path).parent.parent / "xmldoc"
    if not xmldoc.is_dir():
        pytest.skip(f"Pythia xmldoc not found next to the grid ({xmldoc})")
    py = pythia8mc.Pythia(str(xmldoc), False)
    py.readString(f"PDF:pSet = LHAGrid1:{ours.path}")
    return ours, py.getPDFPtr(2212)


def test_agrees_with_pythia_inside_grid(pair):
    ours, theirs = pair
    rng = np.random.default_rng(20240611)
    x = 10 ** rng.uniform(-5, np.log10(0.3), 60)
    Q = 10 ** rng.uniform(1, np.log10(3000), 60)
    keep = (x < 0.05) | (x > 0.12)
    x, Q = x[keep], Q[keep]
    n = 0
    worst = 0.0
    for xi, Qi in zip(x, Q):
        for pid in (21, 1, 2, -1, -2):
            a = ours.xfxQ(pid, xi, Qi)
            b = theirs.xf(pid, xi, Qi * Qi)
            if a > 1e-3:
                n += 1
                worst = max(worst, abs(a / b - 1))
    assert n >= 100  # well over the 20 points asked for
    assert worst < 1e-3


def test_knots_identical_to_pythia(pair):
    # At grid knots both readers return the tabulated number: equality to rounding (1e-12).
    ours, theirs = pair
    sg = ours._data.subgrids[1]
    for ix, iq in [(20, 3), (60, 10), (100, 20), (130, 30)]:
        for pid in (21, 2, -1, 4):
            a = ours.xfxQ2(pid, sg.xs[ix], sg.q2s[iq])
            if a <= 0:
                continue  # Pythia clamps negative entries to 0
            assert a == pytest.approx(theirs.xf(pid, sg.xs[ix], sg.q2s[iq]), rel=1e-12)


def test_pythia_freezes_where_we_extrapolate(pair):
    # Documented difference: below Qmin Pythia freezes (within its own tiny offset), LHAPDF continuation
    # falls off (anomalous-dimension ansatz); we must be below Pythia's frozen value at Q = 1 GeV.
    ours, theirs = pair
    frozen = theirs.xf(21, 1e-3, 1.0)
    assert frozen == pytest.approx(ours.xfxQ(21, 1e-3, ours.qmin), rel=1e-4)
    assert ours.xfxQ(21, 1e-3, 1.0) < 0.5 * frozen
