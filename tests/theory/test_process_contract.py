"""One contract test battery, parametrised over every registered process.

Each check holds for any correct process, so a new process gets it for free:
Lorentz invariance of every component, positivity, the morphing-polynomial structure in
theta, the joint score against a finite difference of log p(z|theta), channel metadata and
the base-class input validation. Phase-space points come from a generic sequential
two-body generator below (physical momenta, incoming flowing in), in a z-boosted frame.
"""

from __future__ import annotations

import importlib.util
import zlib

import numpy as np
import pytest

from theory.errors import InvalidParameterError, KinematicsError, UnknownNameError
from theory.kinematics import boost, boost_z, random_lorentz, rotate
from theory.morphing import monomial_values
from theory.processes import registry
from theory.scores import joint_score

N_EVENTS = 12


def _module_present(name: str) -> bool:
    return importlib.util.find_spec(registry.PROCESSES[name].split(":")[0]) is not None


NAMES = [
    pytest.param(n, marks=pytest.mark.skipif(not _module_present(n), reason=f"module for {n!r} not written yet"))
    for n in registry.available_processes()
]


def random_momenta(process, rng: np.random.Generator, n: int = N_EVENTS) -> np.ndarray:
    """Physical momenta (n, n_particles, 4): beams along +-z, final state by sequential 2-body decays."""
    masses = list(process.phase_space.masses)
    sqrt_s = sum(masses) + rng.uniform(150.0, 1500.0, n)
    out = np.zeros((n, process.n_particles, 4))
    out[:, 0, 0] = out[:, 0, 3] = sqrt_s / 2
    out[:, 1, 0], out[:, 1, 3] = sqrt_s / 2, -sqrt_s / 2
    parent = out[:, 0] + out[:, 1]
    for k, m in enumerate(masses[:-1]):
        m_parent = np.sqrt(parent[:, 0] ** 2 - np.sum(parent[:, 1:] ** 2, axis=-1))
        rest = sum(masses[k + 1 :])
        last = len(masses) - k == 2  # the rest is a single particle
        m_rest = masses[-1] if last else rest + (m_parent - m - rest) * rng.uniform(0.05, 0.95, n)
        q = np.sqrt((m_parent**2 - (m + m_rest) ** 2) * (m_parent**2 - (m - m_rest) ** 2)) / (2 * m_parent)
        direction = rng.normal(size=(n, 3))
        direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
        daughter = np.concatenate([np.sqrt(q**2 + m**2)[:, None], q[:, None] * direction], axis=-1)
        daughter = boost(daughter, parent[:, 1:] / parent[:, :1])
        out[:, 2 + k] = daughter
        parent = parent - daughter
    out[:, -1] = parent
    return boost_z(out, rng.uniform(-1.0, 1.0, n)[:, None])


@pytest.fixture(scope="module", params=NAMES)
def setup(request):
    process = registry.get_process(request.param)
    rng = np.random.default_rng(zlib.crc32(request.param.encode()))
    p = random_momenta(process, rng)
    return process, p, rng


def test_momenta_generator_is_physical(setup):
    # sanity of the helper: momentum conservation and on-shell masses (rounding-level)
    process, p, _ = setup
    np.testing.assert_allclose(p[:, 0] + p[:, 1], p[:, 2:].sum(axis=1), rtol=0, atol=1e-9)
    m2 = p[..., 0] ** 2 - np.sum(p[..., 1:] ** 2, axis=-1)
    expected = np.array([0.0, 0.0, *process.phase_space.masses]) ** 2
    np.testing.assert_allclose(m2, np.broadcast_to(expected, m2.shape), atol=1e-6 * np.max(p[..., 0]) ** 2 / 1e3)


def test_metadata(setup):
    # class attributes consistent with the contract; channels well formed; scale positive per event
    process, p, _ = setup
    assert process.collider in ("ee", "pp")
    assert len(process.labels) == len(process.phase_space.masses) + 2
    assert process.powers.shape == (process.n_components, len(process.coefficients))
    for ch in process.channels:
        assert len(ch.incoming) == 2 and len(ch.outgoing) == process.n_particles - 2
        assert 0 < ch.symmetry_factor <= 1
    assert {s.name for s in process.coupling_symbols} >= set().union(*(ch.couplings for ch in process.channels))
    scale = process.scale(p)
    assert scale.shape == (p.shape[0],) and np.all(np.isfinite(scale)) and np.all(scale > 0)
    assert process.cuts(p).shape == (p.shape[0],)
    assert process.name in repr(process)


def test_lorentz_invariance(setup):
    # every component, every channel, under a random rotation + boost (|beta| < 0.9): relative 1e-10
    # (double rounding amplified by gamma^2 ~ 5 and by cancellations in dot products).
    process, p, rng = setup
    for ch in process.channels:
        rot, beta = random_lorentz(rng)
        a = process.components(p, ch)
        b = process.components(boost(rotate(p, rot), beta), ch)
        # relative per entry; entries that vanish identically (e.g. chirality-forbidden cross terms)
        # are compared with an absolute floor of 1e-12 of the largest |entry| in their column
        floor = 1e-12 * np.max(np.abs(a), axis=0, keepdims=True)
        np.testing.assert_array_less(np.abs(b - a), 1e-10 * np.abs(a) + floor + 1e-300)


def test_positivity(setup):
    # the SM piece is a modulus squared: > 0 everywhere; with the quadratic terms so is |M|^2 at any theta
    process, p, rng = setup
    for ch in process.channels:
        comps = process.components(p, ch)
        assert np.all(comps[:, 0] > 0), ch.name
        if process.max_degree >= 2 and process.coefficients:
            for theta in rng.normal(0.0, 5.0, size=(4, len(process.coefficients))):
                assert np.all(process.amplitude2(p, theta, ch) >= -1e-12 * comps[:, 0]), (ch.name, theta)


def test_polynomial_structure(setup):
    # amplitude2 equals sum_c f_c A_c; along each theta_i it is a polynomial
    # of degree <= max_degree (a cubic fit has no cubic term; 1e-8 of the largest fitted coefficient).
    process, p, rng = setup
    ch = process.channels[0]
    comps = process.components(p, ch)
    if not process.coefficients:
        np.testing.assert_allclose(process.amplitude2(p, (), ch), comps[:, 0], rtol=1e-14)
        return
    theta0 = rng.normal(0.0, 2.0, len(process.coefficients))
    np.testing.assert_allclose(process.amplitude2(p, theta0, ch), comps @ monomial_values(process.powers, theta0), rtol=1e-13)
    grid = np.linspace(-3.0, 3.0, 7)
    for i in range(len(process.coefficients)):
        thetas = np.repeat(theta0[None], grid.size, axis=0)
        thetas[:, i] = grid
        values = np.stack([process.amplitude2(p, t, ch) for t in thetas])  # (7, n_events)
        coef = np.polynomial.polynomial.polyfit(grid, values, 3)  # (4, n_events)
        big = np.max(np.abs(coef), axis=0)
        assert np.all(np.abs(coef[3]) <= 1e-8 * big)
        if process.max_degree < 2:
            assert np.all(np.abs(coef[2]) <= 1e-8 * big)


def test_joint_score_is_finite_difference(setup):
    # t(z|theta) from theory.scores vs central differences of log p(z|theta) = log dsigma - log sigma,
    # with sigma(theta) the polynomial of the mean components (fixed). Five-point stencil: rel 1e-6 is ample.
    process, p, rng = setup
    if not process.coefficients:
        pytest.skip("no Wilson coefficients: the score is empty")
    ch = process.channels[0]
    comps = process.components(p, ch)
    sigma_c = comps.mean(axis=0)
    theta = rng.normal(0.0, 1.0, len(process.coefficients))

    def logp(th):
        f = monomial_values(process.powers, th)
        return np.log(comps @ f) - np.log(sigma_c @ f)

    h = 1e-3  # five-point stencil: truncation O(h^4), rounding O(1e-16/h)
    fd = np.stack(
        [
            (8 * (logp(theta + h * e) - logp(theta - h * e)) - (logp(theta + 2 * h * e) - logp(theta - 2 * h * e))) / (12 * h)
            for e in np.eye(len(theta))
        ],
        axis=-1,
    )
    t = joint_score(process.powers, comps, sigma_c, theta)
    np.testing.assert_allclose(t, fd, rtol=1e-6, atol=1e-8 * np.max(np.abs(fd)))


def test_bad_input(setup):
    # wrong-shape momenta and theta of the wrong length are refused with clear errors
    process, p, _ = setup
    with pytest.raises(KinematicsError, match="shape"):
        process.components(p[:, :-1])
    with pytest.raises(KinematicsError):
        process.components(p[0])
    with pytest.raises(InvalidParameterError, match="coefficients"):
        process.amplitude2(p, np.zeros(len(process.coefficients) + 1))
    with pytest.raises(UnknownNameError):
        process.channel("no_such_channel")


def test_registry():
    # lazy, cached singletons; unknown names suggest the closest ones
    assert set(registry.available_processes()) >= {"ee_mumu", "drell_yan", "gg_gg", "gg_ggg", "wbf"}
    assert registry.get_process("gg_gg") is registry.get_process("gg_gg")
    with pytest.raises(UnknownNameError, match="Did you mean 'drell_yan'"):
        registry.get_process("drel_yan")
    with pytest.raises(UnknownNameError, match="known processes"):
        registry.get_process("ttbar")
