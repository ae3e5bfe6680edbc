"""GenerationConfig (typed, serialisable, hashed) and the immutable EventSample operations.

Checks: the config round-trips through JSON with the same hash; the hash changes with any
setting and not with how a default is spelled; unknown keys and newer schema versions are refused;
a sample is immutable (read-only arrays and columns) and every derived sample is re-validated;
concatenation of independent runs averages cross sections, of disjoint pieces adds them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from physinf.simulate import EventSample, GenerationConfig
from physinf.simulate.events import frozen
from theory.cuts import Cuts
from theory.errors import InvalidParameterError, UnknownNameError


def test_config_round_trip_and_hash():
    cfg = GenerationConfig("wbf", 1000, seed=3)
    again = GenerationConfig.from_dict(cfg.to_dict())
    assert again == cfg and again.config_hash == cfg.config_hash
    # spelling out a default gives the same run, hence the same hash
    explicit = GenerationConfig("wbf", 1000, seed=3, theta_ref=(0.0, 0.0), cuts=Cuts(pt_min=20.0, abs_eta_max=5.0))
    assert explicit.config_hash == cfg.config_hash
    for change in ({"seed": 4}, {"n_points": 1001}, {"sqrt_s": 14000.0}, {"scale_gev": 125.0}, {"theta_ref": (0.0, 0.1)}):
        assert dataclasses.replace(cfg, **change).config_hash != cfg.config_hash, change
    resolved = cfg.resolved()
    assert resolved.pdf == "NNPDF31_lo_as_0118" and resolved.sm is not None
    assert GenerationConfig("ee_mumu", 1000, sqrt_s=91.0).resolved().pdf is None  # no PDFs at a lepton collider


def test_config_bad_input():
    with pytest.raises(InvalidParameterError, match="Did you mean 'n_points'"):
        GenerationConfig.from_dict({"process": "wbf", "n_point": 10})
    with pytest.raises(InvalidParameterError, match="newer than this physinf"):
        GenerationConfig("wbf", 1000, schema_version=99)
    with pytest.raises(InvalidParameterError, match="n_points"):
        GenerationConfig("wbf", 5)
    with pytest.raises(InvalidParameterError, match="2 Wilson coefficients"):
        GenerationConfig("wbf", 1000, theta_ref=(0.1,)).resolved()
    with pytest.raises(UnknownNameError, match="Did you mean 'wbf'"):
        GenerationConfig("wbff", 1000).resolved()


def test_sample_is_immutable(wbf_sample):
    with pytest.raises(dataclasses.FrozenInstanceError):
        wbf_sample.process = "other"  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        wbf_sample.weight_components[0, 0] = 1.0
    with pytest.raises(TypeError, match="read-only"):
        wbf_sample.observables["new"] = np.zeros(len(wbf_sample))  # type: ignore[index]
    more = wbf_sample.with_observables({"twice_m_jj": 2 * wbf_sample.observables["m_jj"]})
    assert "twice_m_jj" in more.observables and "twice_m_jj" not in wbf_sample.observables
    with pytest.raises(InvalidParameterError, match="observable 'bad'"):
        wbf_sample.with_observables({"bad": np.zeros(3)})  # derived samples are re-validated


def test_sample_copies_what_others_can_change(wbf_sample):
    """A sample keeps (does not copy) only arrays nobody can change: frozen new arrays and views of
    its own arrays; a writeable array, or a read-only view of a writeable one, is copied."""
    n = len(wbf_sample)
    new = frozen(2 * wbf_sample.observables["m_jj"])
    writeable = np.ones(n)
    view = writeable[:]
    view.flags.writeable = False
    sample = wbf_sample.with_observables({"frozen": new, "writeable": writeable, "view": view})
    assert sample.observables["frozen"] is new and sample.momenta is wbf_sample.momenta
    writeable[:] = 5.0
    assert np.all(sample.observables["writeable"] == 1.0) and np.all(sample.observables["view"] == 1.0)


def test_rows_of_a_valid_sample_are_trusted_once(wbf_sample):
    """A subset's rows come from a validated sample, so their values are not checked again; the
    trust is not inherited: a later replace() with damaged values is refused."""
    part = wbf_sample.subset(np.arange(len(wbf_sample)) % 2 == 0)
    assert part._checked == frozenset()  # emptied once the subset was built
    damaged = np.array(part.momenta)
    damaged[3, 2, 1] = np.nan
    with pytest.raises(InvalidParameterError, match="momenta holds 1 non-finite values.*event 3"):
        dataclasses.replace(part, momenta=damaged)
    bad = np.array(part.weight_components)
    bad[1, 0] = np.inf
    with pytest.raises(InvalidParameterError, match="weight_components.*event 1"):
        dataclasses.replace(part, weight_components=bad)


def test_concatenate_averages_runs_and_adds_pieces(wbf_sample, rng):
    a, b = wbf_sample.split([0.5, 0.5], rng)  # two independent estimates of the same sigma
    both = EventSample.concatenate([a, b], weights="average")
    assert len(both) == len(wbf_sample)
    assert both.cross_section() == pytest.approx(wbf_sample.cross_section(), rel=1e-12)
    lo = wbf_sample.subset(wbf_sample.observables["m_jj"] < 500)
    hi = wbf_sample.subset(wbf_sample.observables["m_jj"] >= 500)
    pieces = EventSample.concatenate([lo, hi], weights="keep")
    assert pieces.cross_section([0.3, 0.2]) == pytest.approx(wbf_sample.cross_section([0.3, 0.2]), rel=1e-12)
    assert pieces.config is None and pieces.mc_rel_error is None
    with pytest.raises(InvalidParameterError, match="'average' or 'keep'"):
        EventSample.concatenate([a, b], weights="sum")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="observables"):
        EventSample.concatenate([a, b.with_observables({"m_jj": b.observables["m_jj"]}, replace_all=True)], weights="keep")


def test_subset_records_the_cutflow(wbf_sample):
    part = wbf_sample.subset(wbf_sample.observables["m_jj"] > 500, reason="m_jj > 500 GeV")
    assert part.cutflow["m_jj > 500 GeV"] == len(part)
    assert part.cutflow["generator cuts"] == len(wbf_sample)
