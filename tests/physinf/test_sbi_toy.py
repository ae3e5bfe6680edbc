"""A two-coefficient toy with a closed-form observable density, shared by the sbi tests.

Events: x = (x1, x2) ~ N(0, 1)² under the SM, a latent label z = ±1 (probability 1/2 each) the
observer does not see, and an "amplitude" M = 1 + a α + b β with α = x1/2 + z/4, β = x2/2, so
the event weight |M|² = 1 + 2aα + 2bβ + a²α² + 2abαβ + b²β² is a degree-2 polynomial in (a, b),
non-negative for every θ, with labelled components W = (1, 2α, 2β, α², 2αβ, β²)/n.
Averaging over z gives the observable components in closed form,

    U(x) = (1, x1, x2, x1²/4 + 1/16, x1 x2/2, x2²/4)/n,   σ(a, b) = 1 + 5a²/16 + b²/4,

so p(x|a, b) = φ(x) U(x)·f(a, b)/σ(a, b) exactly. Per event, the score at the SM is t = (x1, x2)
and the Fisher information the identity: N events give posterior widths ≈ 1/sqrt(N).
The tests in this file check the closed forms the other sbi tests rely on.
"""

from __future__ import annotations

import numpy as np

from physinf.simulate import EventSample
from theory.morphing import monomial_values, monomials


def toy_sample(n: int = 20000, seed: int = 0) -> EventSample:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    z = rng.choice([-1.0, 1.0], n)
    return EventSample(process="toy2", coefficients=("a", "b"), powers=monomials(2, 2), labels=("p",),
                       momenta=np.zeros((n, 1, 4)), pdg=np.zeros((n, 1)), weight_components=labelled(x, z) / n,
                       observables={"x1": x[:, 0], "x2": x[:, 1], "z": z})


def labelled(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    al, be = 0.5 * x[:, 0] + 0.25 * z, 0.5 * x[:, 1]
    return np.stack([np.ones(len(x)), 2 * al, 2 * be, al**2, 2 * al * be, be**2], axis=1)


def toy_components(sample: EventSample) -> np.ndarray:
    """U(x) of every event (in the sample's weight units)."""
    x1, x2 = sample.observables["x1"], sample.observables["x2"]
    return np.stack([np.ones_like(x1), x1, x2, 0.25 * x1**2 + 1 / 16, 0.5 * x1 * x2, 0.25 * x2**2], axis=1) / len(x1)


TOY_SIGMA_COMPONENTS = np.array([1.0, 0.0, 0.0, 5 / 16, 0.0, 0.25])


def test_observable_components_are_the_average_over_the_hidden_label():
    x = np.random.default_rng(1).normal(size=(50, 2))
    average = 0.5 * (labelled(x, np.ones(50)) + labelled(x, -np.ones(50)))
    s = EventSample(process="toy2", coefficients=("a", "b"), powers=monomials(2, 2), labels=("p",),
                    momenta=np.zeros((50, 1, 4)), pdg=np.zeros((50, 1)), weight_components=average,
                    observables={"x1": x[:, 0], "x2": x[:, 1]})
    np.testing.assert_allclose(toy_components(s) * 50, average, rtol=0, atol=1e-14)


def test_the_weights_are_squares_and_the_cross_section_is_the_closed_form():
    s = toy_sample(200000, seed=2)
    for theta in ([0.7, -0.4], [-1.0, 1.0], [3.0, 2.0]):
        amplitude = 1 + theta[0] * (0.5 * s.observables["x1"] + 0.25 * s.observables["z"]) + theta[1] * 0.5 * s.observables["x2"]
        np.testing.assert_allclose(s.weights(theta) * len(s), amplitude**2, rtol=1e-12, atol=1e-12)
        # the MC estimate of σ(θ) agrees with 1 + 5a²/16 + b²/4 within its own error (checked at 5 sigma)
        exact = monomial_values(s.powers, np.array(theta)) @ TOY_SIGMA_COMPONENTS
        assert abs(s.cross_section(theta) - exact) < 5 * s.cross_section_error(theta), (theta, s.cross_section(theta), exact)
