"""Dirac algebra with explicit matrices in SymPy: traces derived, not typed.

Dirac representation, metric (+,-,-,-), gamma5 = i g^0 g^1 g^2 g^3,
P_L = (1 - gamma5)/2, P_R = (1 + gamma5)/2, Levi-Civita epsilon^{0123} = +1.

The spin-summed current tensor of a massless fermion line with a chiral coupling,

    L^{mu alpha}_lambda(p_out, p_in) = Tr[pslash_out gamma^mu pslash_in gamma^alpha P_lambda],

is what |u-bar(p_out) gamma^mu P_lambda u(p_in)|^2 summed over spins gives (mu: amplitude
index, alpha: conjugate-amplitude index). For an antifermion line (v-bar(p_in) ... v(p_out))
the same function is called with the two momenta swapped.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import permutations
from typing import Sequence

import sympy as sp

__all__ = [
    "GAMMA",
    "GAMMA5",
    "METRIC",
    "PL",
    "PR",
    "contract",
    "current_tensor",
    "levi_civita_upper",
    "lower",
    "slash",
]

I = sp.I
_s0 = sp.Matrix([[1, 0], [0, 1]])
_sig = [sp.Matrix([[0, 1], [1, 0]]), sp.Matrix([[0, -I], [I, 0]]), sp.Matrix([[1, 0], [0, -1]])]
_z = sp.zeros(2)


def _block(a, b, c, d):
    return sp.Matrix(sp.BlockMatrix([[a, b], [c, d]]))


GAMMA = [_block(_s0, _z, _z, -_s0)] + [_block(_z, s, -s, _z) for s in _sig]
GAMMA5 = sp.simplify(I * GAMMA[0] * GAMMA[1] * GAMMA[2] * GAMMA[3])
PL = (sp.eye(4) - GAMMA5) / 2
PR = (sp.eye(4) + GAMMA5) / 2
METRIC = sp.diag(1, -1, -1, -1)


@lru_cache(maxsize=1)
def levi_civita_upper() -> dict[tuple[int, int, int, int], int]:
    """Non-zero entries of epsilon^{mu nu rho sigma}, with epsilon^{0123} = +1."""
    out = {}
    for perm in permutations(range(4)):
        sign = 1
        p = list(perm)
        for i in range(4):
            for j in range(i + 1, 4):
                if p[i] > p[j]:
                    sign = -sign
        out[perm] = sign
    return out


def slash(p: Sequence[sp.Expr]) -> sp.Matrix:
    """pslash = gamma^mu p_mu = g^0 p^0 - g^i p^i for contravariant components p."""
    return GAMMA[0] * p[0] - GAMMA[1] * p[1] - GAMMA[2] * p[2] - GAMMA[3] * p[3]


def current_tensor(p_out: Sequence[sp.Expr], p_in: Sequence[sp.Expr], chirality: str) -> sp.Matrix:
    """L^{mu alpha} = Tr[pslash_out gamma^mu pslash_in gamma^alpha P], contravariant indices.

    chirality: "L" or "R" (the projector P_L or P_R on the line).
    """
    proj = {"L": PL, "R": PR}[chirality]
    a, b = slash(p_out), slash(p_in)
    rows = [[sp.expand((a * GAMMA[m] * b * GAMMA[n] * proj).trace()) for n in range(4)] for m in range(4)]
    return sp.Matrix(rows)


def lower(t: sp.Matrix) -> sp.Matrix:
    """Lower both indices of a rank-2 tensor: t_{mu nu} = g t^{..} g."""
    return METRIC * t * METRIC


def contract(a_upper: sp.Matrix, b_upper: sp.Matrix) -> sp.Expr:
    """Full contraction a^{mu nu} b_{mu nu}."""
    bl = lower(b_upper)
    return sum(a_upper[m, n] * bl[m, n] for m in range(4) for n in range(4))
