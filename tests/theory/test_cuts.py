"""theory.cuts.Cuts: each cut on hand-made momenta, including the Delta R cut across phi = +-pi."""

from __future__ import annotations

import math

import numpy as np
import pytest

from theory.cuts import Cuts
from theory.errors import InvalidParameterError


def _massless(pt, eta, phi):
    return np.array([pt * math.cosh(eta), pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(eta)])


def _events(*pairs):
    beams = np.zeros((2, 4))
    return np.array([np.vstack([beams, np.array([_massless(*a), _massless(*b)])]) for a, b in pairs])


def test_pt_eta_mass_and_delta_r():
    p = _events(
        ((60, 0.1, 0.0), (60, -0.1, math.pi)),  # back to back: passes everything
        ((60, 0.0, 3.1), (60, 0.1, -3.1)),  # Delta phi = 2 pi - 6.2 = 0.083 across +-pi: Delta R = 0.13
        ((10, 0.0, 0.0), (60, 0.0, 2.0)),  # soft
        ((60, 3.0, 0.0), (60, 0.0, 2.0)),  # forward
    )
    cuts = Cuts(pt_min=20, abs_eta_max=2.5, dr_min=0.4)
    assert cuts.mask(p, (2, 3)).tolist() == [True, False, False, False]
    assert Cuts(dr_min=0.1).mask(p, (2, 3))[1]  # Delta R = 0.13 passes a 0.1 cut
    m = np.sqrt(2 * 60 * 60 * (np.cosh(0.2) + 1))  # back-to-back pair mass
    assert Cuts(m_min=m - 1, m_max=m + 1).mask(p[:1], (2, 3)).all()
    assert not Cuts(m_min=m + 1).mask(p[:1], (2, 3)).any()


def test_round_trip_and_bad_values():
    cuts = Cuts(pt_min=20, abs_eta_max=5.0, dr_min=0.4)
    assert Cuts.from_dict(cuts.to_dict()) == cuts
    assert Cuts().to_dict()["abs_eta_max"] is None  # inf is stored as null (JSON)
    with pytest.raises(InvalidParameterError, match="non-negative"):
        Cuts(dr_min=-0.1)
    with pytest.raises(InvalidParameterError, match="m_max"):
        Cuts(m_min=100, m_max=50)
    with pytest.raises(InvalidParameterError, match="Did you mean 'dr_min'"):
        Cuts.from_dict({"dR_min": 0.4})
