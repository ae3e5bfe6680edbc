"""Drell-Yan p p -> gamma*/Z -> e+ e- against Pythia 8's ``WeakSingleBoson:ffbar2gmZ``.

Pythia's process (Sigma1ffbar2gmZ, SigmaEW.cc) is the LO q qbar -> gamma*/Z -> e+ e- cross
section with every convention of its defaults: alpha_em(s_hat) from its first-order running, the
s-dependent Z width 1/(s - m_Z^2 + i s Gamma_Z/m_Z), the Z normalisation 1/(16 sin^2 theta_W
cos^2 theta_W) with ``sin2thetaW`` = 0.2312 and vector couplings v_f = a_f - 4 e_f ``sin2thetaWbar``
(0.2315), the Z width Pythia recomputes from its partial widths (2.50419 GeV), m_Z = 91.1876 GeV,
factorisation scale Q^2 = s_hat. ``theory.sm.SMInputs.preset("pythia8")`` reproduces each of
them (docs/conventions.md); the remaining differences are the electron mass (0.511 MeV, O(m_e^2/s))
and Pythia's own LHAGrid1 interpolation of the same PDF grid file.

Labels as physinf's ``drell_yan``: pa (parton along +z), pb, p1 = e-, p2 = e+.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from theory.errors import InvalidParameterError
from validation.hard_process import PythiaRun, run_hard_process

__all__ = ["MASS_WINDOWS", "dy_settings", "pythia_drell_yan"]

# the four dilepton-mass windows of the comparison (GeV)
MASS_WINDOWS: tuple[tuple[float, float], ...] = ((60.0, 120.0), (200.0, 500.0), (500.0, 1000.0), (1000.0, 3000.0))


def dy_settings(m_range: tuple[float, float], extra: Sequence[str] = ()) -> list[str]:
    """Pythia settings of q qbar -> gamma*/Z -> e+ e- with m_ll in ``m_range`` (Pythia defaults otherwise)."""
    lo, hi = (float(v) for v in m_range)
    if not (0 < lo < hi and math.isfinite(hi)):
        raise InvalidParameterError(f"m_range must be (m_min, m_max) with 0 < m_min < m_max finite, got {m_range}")
    return ["WeakSingleBoson:ffbar2gmZ = on", "23:onMode = off", "23:onIfAny = 11",
            f"PhaseSpace:mHatMin = {lo}", f"PhaseSpace:mHatMax = {hi}", f"23:mMin = {min(lo, 10.0)}", "23:mMax = 0",
            *extra]


def _rows(process: Any) -> list:
    pa = pb = lm = lp = None
    for i in range(process.size()):
        part = process[i]
        status = part.status()
        if status == -21:
            if part.pz() > 0:
                pa = part
            else:
                pb = part
        elif status == 23:
            if part.id() == 11:
                lm = part
            elif part.id() == -11:
                lp = part
    return [pa, pb, lm, lp]


def pythia_drell_yan(n_events: int, m_range: tuple[float, float], *, sqrt_s: float = 13000.0,
                     pdf_file: str | None = None, seed: int = 1, extra_settings: Sequence[str] = (),
                     progress: bool = False) -> PythiaRun:
    """``n_events`` Pythia events of q qbar -> gamma*/Z -> e+ e- with m_ll in ``m_range`` (GeV), hard
    process only, on the given LHAPDF grid file (default: physinf's default PDF set). Momenta are
    ordered (pa, pb, e-, e+) as in physinf."""
    return run_hard_process(dy_settings(m_range, extra_settings), n_events, _rows, sqrt_s=sqrt_s,
                            pdf_file=pdf_file, seed=seed, progress=progress)
