"""Electroweak input schemes, the running alpha_em and the presets of theory.sm.

Checks, each against something computed independently of the code under test:
* the G_mu value 1/alpha = 132.18 (docs/notes/physics.md §3.1) and the tree-level relations that
  tie (alpha, G_F, m_W, s_W^2, v) together in every scheme (exact up to rounding: 1e-14);
* MadGraph's derived m_W = 80.419002 and G_F = 1.16639e-5 of the sm model (its param_card prints
  m_W to 8 digits, so 5e-7 GeV; G_F is an input there, so the tree-level relation returns it to 1e-12);
* Pythia 8's running alpha_em: numbers read back from Pythia 8.317 (15 digits) and, when pythia8mc
  is installed, Pythia itself at 60 scales across every threshold (1e-13: the same formula,
  rounding only);
* the SymPy form of the running (1/alpha piecewise linear in ln Q^2, written with |.|) against the
  numeric one (1e-14), and exactly 1 for a fixed alpha_em;
* every preset value against Pythia's own read-back when pythia8mc is installed (1e-12);
* validation: bad names and values raise PhysinfError subclasses with a suggestion.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy as sp

from physinf.simulate.config import GenerationConfig
from theory.errors import InvalidParameterError, PhysinfError, UnknownNameError
from theory.sm import (
    MADGRAPH_SM,
    PYTHIA8,
    SM,
    SMInputs,
    alpha_em_ratio_symbolic,
    alpha_em_running,
    running_couplings,
)


def test_gmu_scheme_reproduces_the_notes_and_its_tree_relations():
    sm = SMInputs(mW=80.379)
    assert 1 / sm.alpha == pytest.approx(132.18, abs=0.01)  # docs/notes/physics.md §3.1
    assert sm.GF_derived == pytest.approx(sm.GF, rel=1e-14)  # G_mu: alpha is defined from G_F
    assert sm.vev == pytest.approx(2 * sm.mW * math.sqrt(sm.sw2) / sm.e, rel=1e-14)
    assert sm.g == pytest.approx(2 * sm.mW / sm.vev, rel=1e-14)


@pytest.mark.parametrize("scheme, alpha", [("alphaMZ", 1 / 127.951), ("alpha0", 1 / 137.035999084)])
def test_alpha_schemes_take_alpha_as_input_and_derive_gf(scheme, alpha):
    sm = SMInputs(scheme=scheme)
    assert sm.alpha == pytest.approx(alpha, rel=1e-15)
    assert sm.sw2 == pytest.approx(1 - sm.mW**2 / sm.mZ**2, rel=1e-15)  # on-shell in every scheme
    # tree level: G_F = pi alpha / (sqrt 2 m_W^2 s_W^2) and v = (sqrt 2 G_F)^-1/2 = 2 m_W s_W / e
    assert sm.GF_derived == pytest.approx(math.pi * alpha / (math.sqrt(2) * sm.mW**2 * sm.sw2), rel=1e-14)
    assert sm.vev == pytest.approx((math.sqrt(2) * sm.GF_derived) ** -0.5, rel=1e-14)
    # alpha(0) = 1/137 < alpha_Gmu = 1/132 < alpha(m_Z) = 1/128: the derived G_F brackets the measured one
    assert SMInputs(scheme="alpha0").GF_derived < SM.GF < SMInputs(scheme="alphaMZ").GF_derived


def test_madgraph_preset_reproduces_the_sm_model_parameters():
    mg = SMInputs.preset("madgraph_sm")
    assert mg is MADGRAPH_SM
    assert 1 / mg.alpha == pytest.approx(132.507, rel=1e-12)
    assert mg.mW == pytest.approx(80.419002, abs=5e-7)  # MG's param_card: "24 80.419002 # w+ : sqrt(MZ^2/2 + ...)"
    assert mg.GF_derived == pytest.approx(1.16639e-5, rel=1e-12)
    assert (mg.mZ, mg.mH, mg.mt, mg.wZ, mg.wW, mg.wH) == (91.188, 125.0, 173.0, 2.441404, 2.0476, 6.382339e-3)
    assert (mg.alpha_running, mg.width_running, mg.sw2_eff) == ("fixed", False, None)


def test_pythia_preset_separates_the_two_mixing_angles():
    py = SMInputs.preset("pythia8")
    assert py is PYTHIA8
    assert (py.sw2, py.sw2_vector) == (0.2312, 0.2315)
    assert py.alpha == 0.00781751 and py.alpha_running == "pythia8" and py.width_running
    assert SMInputs.preset("physinf") == SM


# alpha_em(Q^2) read back from Pythia 8.317 (CoupSM::alphaEM, default settings)
PYTHIA_ALPHA = [(1e-08, 0.00729735), (1e-3, 0.007344289496352184), (1.0, 0.007445305194808631),
                (10.0, 0.0075336715893983275), (2500.0, 0.007764621752597041), (1e4, 0.00782569296931154),
                (1e6, 0.008035648553514668), (9e6, 0.008139844177597147)]


def test_pythia_running_alpha_matches_read_back_values():
    q2, expected = np.array(PYTHIA_ALPHA).T
    np.testing.assert_allclose(PYTHIA8.alpha_em(q2), expected, rtol=1e-13)
    # anchored at 91.188 GeV (Pythia's AlphaEM::MZ, not the particle-data m_Z)
    assert alpha_em_running(91.188**2, PYTHIA8.alpha_0, PYTHIA8.alpha_mZ) == pytest.approx(0.00781751, rel=1e-15)
    # fixed: the scheme's alpha at every scale
    assert np.all(SM.alpha_em(q2) == SM.alpha)


def test_pythia_running_alpha_matches_pythia_itself():
    pytest.importorskip("pythia8mc", reason="needs the shower extra (pythia8mc)")
    from validation.hard_process import initialised

    py = initialised(["WeakSingleBoson:ffbar2gmZ = on"])
    q2 = np.logspace(-9, 8, 60)
    ours = PYTHIA8.alpha_em(q2)
    theirs = np.array([py.coupSM.alphaEM(float(q)) for q in q2])
    np.testing.assert_allclose(ours, theirs, rtol=1e-13)


@pytest.mark.parametrize("sm", [PYTHIA8, SM, PYTHIA8.with_(alpha_0=0.0073, alpha_mZ=0.0079)])
def test_symbolic_running_equals_the_numeric_one(sm):
    # the processes' SymPy form: 1/alpha piecewise linear in ln Q^2 with kinks written as (y + |y|)/2
    s = sp.Symbol("s", positive=True)
    couplings = running_couplings(sm)
    f = sp.lambdify([s, *[sp.Symbol(k, real=True) for k in couplings]], alpha_em_ratio_symbolic(s), "numpy")
    q2 = np.concatenate([np.logspace(-9, 8, 200), [0.26e-6, 0.011, 0.25, 3.5, 90.0]])  # thresholds included
    ratio = f(q2, *couplings.values())
    if sm.alpha_running == "fixed":
        assert np.all(ratio == 1.0)  # exactly: the fixed convention leaves the amplitudes untouched
    else:
        np.testing.assert_allclose(ratio * sm.alpha, sm.alpha_em(q2), rtol=1e-14)


def test_running_alpha_is_continuous_across_the_thresholds():
    for q in (0.26e-6, 0.011, 0.25, 3.5, 90.0):
        below, above = PYTHIA8.alpha_em(np.array([q * (1 - 1e-12), q * (1 + 1e-12)]))
        assert above == pytest.approx(below, rel=1e-12)


def test_preset_values_are_pythias_own():
    pytest.importorskip("pythia8mc", reason="needs the shower extra (pythia8mc)")
    from validation.hard_process import initialised, readback

    r = readback(initialised(["WeakSingleBoson:ffbar2gmZ = on"]))
    expect = {"alphaEM0": PYTHIA8.alpha_0, "alphaEMmZ": PYTHIA8.alpha_mZ, "sin2thetaW": PYTHIA8.sw2,
              "sin2thetaWbar": PYTHIA8.sw2_vector, "GF": PYTHIA8.GF, "alphaSvalue": PYTHIA8.alpha_s_mZ,
              "mZ": PYTHIA8.mZ, "mW": PYTHIA8.mW, "mH": PYTHIA8.mH, "mt": PYTHIA8.mt,
              "wZ": PYTHIA8.wZ, "wW": PYTHIA8.wW, "wH": PYTHIA8.wH}
    for key, value in expect.items():
        assert r[key] == pytest.approx(value, rel=1e-12), key
    assert r["alphaEMorder"] == 1.0  # running alpha_em is Pythia's default


def test_bad_inputs_are_refused_with_a_suggestion():
    with pytest.raises(UnknownNameError, match="Did you mean 'Gmu'"):
        SMInputs(scheme="gmu")
    with pytest.raises(UnknownNameError, match="'pythia8'"):
        SMInputs(alpha_running="pythia")
    with pytest.raises(UnknownNameError, match="'madgraph_sm'"):
        SMInputs.preset("madgraph")
    with pytest.raises(UnknownNameError, match="'sw2_eff'"):
        SM.with_(sw2eff=0.23)
    with pytest.raises(InvalidParameterError, match="width_running"):
        SMInputs(width_running=1)
    with pytest.raises(InvalidParameterError, match="sw2_eff"):
        SMInputs(sw2_eff=1.2)
    with pytest.raises(InvalidParameterError, match="alpha_mZ"):
        SMInputs(alpha_running="pythia8", alpha_mZ=0.007)  # below alpha(0)
    with pytest.raises(PhysinfError):
        SMInputs(mW=95.0)


@pytest.mark.parametrize("sm", [PYTHIA8, MADGRAPH_SM, SMInputs(scheme="alpha0", width_running=True)])
def test_configs_record_the_conventions_and_round_trip(sm):
    cfg = GenerationConfig(process="drell_yan", n_points=100, sm=sm)
    again = GenerationConfig.from_dict(json.loads(cfg.to_json()))
    assert again.sm == sm and again.config_hash == cfg.config_hash
    # a different convention is a different run
    assert GenerationConfig(process="drell_yan", n_points=100, sm=sm.with_(width_running=not sm.width_running)
                            ).config_hash != cfg.config_hash
