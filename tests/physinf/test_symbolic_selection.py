"""Selection rules on a hand-made Pareto front."""

from __future__ import annotations

import numpy as np
import pytest

from physinf.errors import InvalidParameterError
from physinf.symbolic import front_scores, pareto_indices, select

# complexity, loss: a big drop at 5 (the "true" law), small gains after, one dominated member
C = np.array([1, 3, 5, 7, 9, 11, 6])
L = np.array([1.0, 0.5, 1e-3, 9e-4, 8.5e-4, 8.4e-4, 2e-3])


def test_pareto_drops_dominated():
    assert list(pareto_indices(C, L)) == [0, 1, 2, 3, 4, 5]


def test_scores():
    s = front_scores(C[:6], L[:6])
    np.testing.assert_allclose(s[2], -np.log(1e-3 / 0.5) / 2)
    assert s[0] == 0.0


def test_rules():
    assert select(C, L, "accuracy") == 5
    assert select(C, L, "best") == 2  # highest score among loss < 1.5 × min
    assert select(C, L, "knee") == 2


def test_best_respects_loss_window():
    c = np.array([1, 2, 10])
    loss = np.array([1.0, 0.01, 0.001])
    assert select(c, loss, "best") == 2  # member 1 scores higher but is 10× the minimum loss


def test_bad_rule():
    with pytest.raises(InvalidParameterError, match="did you mean|Did you mean"):
        select(C, L, "bset")


def test_parsimonious_rule_follows_the_noise():
    # N = 1000 points; the true law (complexity 9, 2 constants) has loss 1.0 (= sigma^2); an
    # overfit with 6 constants gains 0.5 % (chi^2_4/N ~ 0.4 %); an approximation with one
    # constant (complexity 5) is 30 % worse
    c = np.array([3, 5, 9, 15])
    loss = np.array([2.0, 1.3, 1.0, 0.995])
    k = np.array([1, 1, 2, 6])
    assert select(c, loss, "parsimonious", n_params=k, n_points=1000) == 2
    assert select(c, loss, "best") == 1  # PySR's 1.5 window admits the approximation
    # with 100 points the overfit's gain is still inside the bound ((d + 4 sqrt(2d))/N = 15 %
    # for d = 4) and the approximation outside it (d = 1: 6.7 %)
    assert select(c, loss, "parsimonious", n_params=k, n_points=100) == 2
    with pytest.raises(InvalidParameterError, match="n_params"):
        select(c, loss, "parsimonious")
