"""Several channels (a signal and a control region) in one likelihood, sharing the coefficients."""

from __future__ import annotations

import numpy as np
import pytest
from _stats_helpers import restore_pyhf_backend, toy_templates  # noqa: F401

from physinf.stats import (
    Background,
    Channel,
    InvalidModelError,
    Systematics,
    build_likelihood,
    build_workspace,
    export_patchset,
    fit,
    histogram_templates,
    profile_scan,
    verify_export,
)

BOUNDS = {"ca": (-2, 2), "cb": (-2, 2)}


def _regions(mc_stat: bool = True, two: bool = True):
    """A signal region (4 bins, little background) and a control region (3 bins, background-dominated)."""
    sr = toy_templates(n_bins=4, lumi=30.0, two=two, channel="SR")
    cr = toy_templates(n_bins=3, lumi=30.0, two=two, channel="CR", seed=2)
    theta = [0.4, -0.3] if two else [0.4]
    b_sr = Background("bkg_sr", np.array([40.0, 60.0, 60.0, 40.0]), np.full(4, 2.0), 0.1)
    b_cr = Background("bkg_cr", np.array([900.0, 1000.0, 900.0]), np.full(3, 10.0), 0.2)
    syst = Systematics(mc_stat=mc_stat)
    return (
        Channel(sr, (b_sr,), syst, np.round(sr.yields_at(theta) + b_sr.yields)),
        Channel(cr, (b_cr,), syst, np.round(cr.yields_at(theta) + b_cr.yields)),
    )


def _alone(ch: Channel):
    return build_likelihood(ch.templates, ch.backgrounds, ch.systematics, bounds=BOUNDS, data=ch.data)


def test_two_channels_fit_like_the_sum_of_independent_channels():
    # uncorrelated channels (their own backgrounds and MC-statistics parameters): at any fixed θ the
    # profiled -2 ln L of the combination is the sum of the two single-channel ones
    sr, cr = _regions()
    lh = build_likelihood([sr, cr], bounds=BOUNDS)
    alone = [_alone(sr), _alone(cr)]

    def summed(theta: dict[str, float]) -> float:
        return sum(fit(one, fixed=theta).twice_nll for one in alone)

    for ca in (-0.8, 0.0, 0.45):
        for cb in (-0.5, 0.3):
            theta = {"ca": ca, "cb": cb}
            assert fit(lh, fixed=theta).twice_nll == pytest.approx(summed(theta), abs=1e-6)
    # the combined best fit is the minimum of the summed curve
    best = fit(lh)
    assert best.twice_nll == pytest.approx(summed(best.bestfit), abs=1e-6)
    for c in ("ca", "cb"):
        for step in (-0.02, 0.02):
            assert summed({**best.bestfit, c: best.bestfit[c] + step}) > best.twice_nll
    # and a profile scan of the combination is the summed curve minus its minimum
    grid = np.linspace(0.1, 0.7, 7)
    scan = profile_scan(lh, "ca", grid, profile=False, fixed={"cb": -0.3})
    curve = np.array([summed({"ca": c, "cb": -0.3}) for c in grid])
    ref = fit(lh, fixed={"cb": -0.3}).twice_nll
    np.testing.assert_allclose(scan.delta, curve - ref, atol=1e-6)


def test_channels_share_coefficients_and_keep_their_own_nuisances():
    sr, cr = _regions()
    lumi = Systematics(lumi=0.02)
    lh = build_likelihood([Channel(sr.templates, sr.backgrounds, lumi, sr.data), Channel(cr.templates, cr.backgrounds, lumi, cr.data)], bounds=BOUNDS)
    cfg = lh.model.config
    assert set(cfg.parameters) == {"ca", "cb", "lumi", "norm_bkg_sr", "norm_bkg_cr", "staterror_SR", "staterror_CR"}
    assert cfg.channels == ["CR", "SR"]  # pyhf sorts channels by name; bins follow that order
    assert [c.name for c in lh.channels] == ["SR", "CR"]
    theta = {"ca": 0.7, "cb": -1.1}
    yields = lh.expected_yields(theta)
    for ch in (sr, cr):
        part = cfg.channel_slices[ch.name]
        np.testing.assert_allclose(lh.data[part], ch.data)
        np.testing.assert_allclose(yields[part], ch.templates.yields_at(theta) + ch.backgrounds[0].yields, rtol=1e-12)
    meta = lh.workspace["metadata"]["physinf"]
    assert meta["coefficients"] == ["ca", "cb"]
    assert [(m["name"], len(m["edges"]) - 1, m["luminosity_fb"]) for m in meta["channels"]] == [("SR", 4, 30.0), ("CR", 3, 30.0)]
    # default data: the Asimov data at the SM, per channel
    asimov = build_likelihood([Channel(sr.templates, sr.backgrounds), Channel(cr.templates, cr.backgrounds)], bounds=BOUNDS)
    np.testing.assert_allclose(asimov.data[: cfg.nmaindata], asimov.expected_yields())
    with pytest.raises(InvalidModelError, match="2 channels"):
        _ = lh.templates


def test_one_channel_call_is_a_channel():
    sr, _ = _regions()
    one = build_workspace(sr.templates, sr.backgrounds, sr.systematics, bounds=BOUNDS, data=sr.data)
    assert one == build_workspace([sr], bounds=BOUNDS) == build_workspace(sr, bounds=BOUNDS)
    lh = _alone(sr)
    assert lh.templates is sr.templates and lh.backgrounds == sr.backgrounds


def test_channel_errors_name_the_channel():
    sr, cr = _regions()
    with pytest.raises(InvalidModelError, match="distinct"):
        build_likelihood([sr, Channel(toy_templates(n_bins=3, two=True, channel="SR"))])
    with pytest.raises(InvalidModelError, match="same coefficients"):
        build_likelihood([sr, Channel(toy_templates(n_bins=3, channel="CR"))])
    with pytest.raises(InvalidModelError, match="per Channel"):
        build_likelihood([sr, cr], [Background("extra", np.ones(4))])
    with pytest.raises(InvalidModelError, match="per Channel"):
        build_likelihood([sr, cr], systematics=Systematics(lumi=0.02))
    with pytest.raises(InvalidModelError, match="channel name"):
        toy_templates(channel="signal region")
    with pytest.raises(InvalidModelError, match="channel 'CR' have zero total"):
        build_likelihood([sr, Channel(histogram_templates(np.array([0.5]), np.array([[1e-3, 0, 0, 0, 0, 0]]),
                                                          sr.templates.powers, ("ca", "cb"), [0.0, 1.0, 2.0], 1.0, "CR"))])
    # positivity is checked per channel: a control region whose interference drives its yield negative
    negative = histogram_templates(np.array([0.5, 1.5]), np.array([[1.0, 1.0], [1.0, -0.5]]) * 1e-3, np.array([[0], [1]]),
                                   ("ca",), [0.0, 1.0, 2.0], 10.0, "CR")
    with pytest.raises(InvalidModelError, match=r"channel 'CR' bin 0 .* reaches .* <= 0 at ca=-"):
        build_likelihood([Channel(toy_templates(n_bins=3)), Channel(negative)], bounds={"ca": (-1.5, 1)})


def test_two_channel_patchset_refits_like_the_eft_model(tmp_path):
    sr, cr = _regions(mc_stat=False, two=False)
    lh = build_likelihood([sr, cr], bounds={"ca": (-1, 1)})
    grid = np.linspace(-0.2, 0.8, 5)
    refit = verify_export(export_patchset(lh, grid[:, None], tmp_path))
    exported = np.array([refit[(v,)] for v in grid])
    scan = profile_scan(lh, "ca", grid)
    np.testing.assert_allclose(exported - exported.min(), scan.delta - scan.delta.min(), atol=1e-4)
