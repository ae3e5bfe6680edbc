"""Templates, the eftpoly modifier and likelihood building (physinf.stats)."""

from __future__ import annotations

import numpy as np
import pyhf
import pytest
from _stats_helpers import restore_pyhf_backend, toy_events, toy_templates  # noqa: F401

from physinf.errors import PhysinfError
from physinf.stats import (
    Background,
    InvalidModelError,
    ShapeSystematic,
    Systematics,
    UnknownCoefficientError,
    WorkspaceError,
    build_likelihood,
    histogram_templates,
    load_likelihood,
    relative_variation,
)
from physinf.stats.modifier import eft_modifier_set


def test_templates_match_direct_histograms():
    x, w, p, names = toy_events(two=True)
    edges = np.linspace(-np.pi, np.pi, 5)
    t = histogram_templates(x, w, p, names, edges, 100.0)
    theta = np.array([0.4, -0.7])
    f = np.prod(theta[None, :] ** p, axis=1)
    wn = w @ f
    direct, _ = np.histogram(x, edges, weights=wn * 1e5)
    err, _ = np.histogram(x, edges, weights=(wn * 1e5) ** 2)
    np.testing.assert_allclose(t.yields_at(theta), direct, rtol=1e-12)
    np.testing.assert_allclose(t.stat_error_at(theta), np.sqrt(err), rtol=1e-10)
    assert t.labels == ["sm", "ca", "cb", "ca_ca", "ca_cb", "cb_cb"]


def test_model_yields_are_exact_polynomials_with_cross_terms():
    t = toy_templates(two=True)
    lh = build_likelihood(t, [Background("bkg", np.full(t.n_bins, 50.0))], Systematics(mc_stat=False), bounds={"ca": (-3, 3), "cb": (-3, 3)})
    for theta in ({"ca": 0.0, "cb": 0.0}, {"ca": 1.3, "cb": -0.6}, {"ca": -2.5, "cb": 2.9}):
        np.testing.assert_allclose(lh.expected_yields(theta), t.yields_at(theta) + 50.0, rtol=1e-12)
    # batched evaluation gives the same
    model = pyhf.Model(lh.workspace, modifier_set=eft_modifier_set(), validate=False, batch_size=2, poi_name="ca")
    pars = np.stack([lh.pars({"ca": 1.3, "cb": -0.6}), lh.pars({"ca": -2.5, "cb": 2.9})])
    np.testing.assert_allclose(model.expected_actualdata(pars)[1], t.yields_at([-2.5, 2.9]) + 50.0, rtol=1e-12)


def test_polynomial_terms_and_torch_autodiff():
    torch = pytest.importorskip("torch")
    spec = {
        "channels": [
            {
                "name": "ch",
                "samples": [
                    {"name": "a", "data": [5.0, 7.0], "modifiers": [
                        {"name": "eft", "type": "eftpoly", "data": {"terms": [{"scale": 1.0, "powers": {}}, {"scale": -1.0, "powers": {"c": 1}}]}}]},
                    {"name": "b", "data": [2.0, 3.0], "modifiers": [
                        {"name": "eft", "type": "eftpoly", "data": {"terms": [{"scale": 1.0, "powers": {"c": 2}}, {"scale": -1.0, "powers": {"c": 1}}]}}]},
                ],
            }
        ]
    }
    model = pyhf.Model(spec, modifier_set=eft_modifier_set(), validate=False, poi_name="c")
    c = 0.7
    expect = np.array([5.0, 7.0]) * (1 - c) + np.array([2.0, 3.0]) * (c * c - c)
    np.testing.assert_allclose(model.expected_actualdata([c]), expect)
    pyhf.set_backend("pytorch", precision="64b")
    par = torch.tensor([c], dtype=torch.float64, requires_grad=True)
    model.expected_actualdata(par).sum().backward()
    np.testing.assert_allclose(par.grad.numpy(), [-12.0 + 5.0 * (2 * c - 1)])


def test_systematics_in_workspace():
    t = toy_templates()
    up = relative_variation(*toy_events()[:1], np.ones(20000), np.full(20000, 1.1), t.edges)
    np.testing.assert_allclose(up, 0.1)
    lh = build_likelihood(
        t,
        [Background("bkg", np.full(6, 30.0), np.full(6, 2.0), 0.1)],
        Systematics(lumi=0.02, shapes=(ShapeSystematic("scale", np.full(6, 0.05), np.full(6, -0.05)),)),
        bounds={"ca": (-2, 2)},
    )
    assert set(lh.model.config.parameters) == {"ca", "lumi", "norm_bkg", "scale", "staterror_SR"}
    types = {m["type"] for s in lh.workspace["channels"][0]["samples"] for m in s["modifiers"]}
    assert types == {"eftpoly", "normsys", "histosys", "staterror"}


def test_bad_inputs_give_clear_errors():
    t = toy_templates()
    with pytest.raises(InvalidModelError, match="zero total expected"):
        x, w, p, names = toy_events()
        build_likelihood(histogram_templates(x, w, p, names, np.linspace(-5, 5, 9), 10.0))
    with pytest.raises(InvalidModelError, match="inconsistent binning"):
        build_likelihood(t, [Background("bkg", np.ones(5))])
    with pytest.raises(InvalidModelError, match="edges"):
        build_likelihood(t, [Background("bkg", np.ones(6), edges=np.linspace(0, 1, 7))])
    with pytest.raises(InvalidModelError, match="non-finite"):
        build_likelihood(t, [Background("bkg", np.array([1, 1, np.nan, 1, 1, 1.0]))])
    w_bad = toy_events()[1].copy()
    w_bad[3, 1] = np.inf
    with pytest.raises(InvalidModelError, match="NaN/inf"):
        histogram_templates(toy_events()[0], w_bad, toy_events()[2], ("ca",), t.edges, 1.0)
    with pytest.raises(UnknownCoefficientError, match="Did you mean 'ca'"):
        build_likelihood(t, bounds={"cz": (-1, 1)})
    with pytest.raises(InvalidModelError, match="powers"):
        histogram_templates(np.zeros(3), np.zeros((3, 2)), np.array([[1], [0]]), ("ca",), [0.0, 1.0], 1.0)
    with pytest.raises(WorkspaceError, match="schema"):
        load_likelihood({"channels": [{"name": "SR", "samples": [{"name": "s", "data": "oops", "modifiers": []}]}]})
    with pytest.raises(PhysinfError):
        load_likelihood({"channels": [], "observations": [], "measurements": [], "version": "1.0.0"})


def test_negative_total_yield_inside_bounds_is_refused():
    # interference without enough quadratic term: SM + c·INT goes negative for c < -1
    edges = np.array([0.0, 1.0, 2.0])
    x = np.array([0.5, 1.5])
    w = np.array([[1.0, 1.0], [1.0, -0.5]]) * 1e-3
    t = histogram_templates(x, w, np.array([[0], [1]]), ("c",), edges, 10.0)
    with pytest.raises(InvalidModelError, match=r"reaches .* <= 0 at c=-"):
        build_likelihood(t, bounds={"c": (-2, 1)})
    lh = build_likelihood(t, bounds={"c": (-0.99, 1.99)})  # inside the positive range: fine
    assert lh.expected_yields({"c": -0.99}).min() > 0


def test_scale_systematic_from_sample_variations(wbf_sample):
    # muF x 2 / x 1/2 envelopes become per-bin relative shifts equal to the direct histogram ratios
    from physinf.stats import scale_systematic

    edges = np.linspace(-np.pi, np.pi, 7)
    shape = scale_systematic(wbf_sample, "delta_phi_jj", edges)
    x = wbf_sample.observables["delta_phi_jj"]
    nom, _ = np.histogram(x, edges, weights=wbf_sample.weights())
    up, _ = np.histogram(x, edges, weights=wbf_sample.variation_weights("muF_x2"))
    np.testing.assert_allclose(shape.rel_up, up / nom - 1, rtol=1e-12)
    assert np.all(np.abs(shape.rel_down) < 0.2) and np.all(shape.rel_up * shape.rel_down < 0)
    lh = build_likelihood(histogram_templates(x, wbf_sample.weight_components, wbf_sample.powers,
                                              wbf_sample.coefficients, edges, 300.0),
                          systematics=Systematics(lumi=0.02, shapes=(shape,)))
    assert "muF" in lh.model.config.parameters
