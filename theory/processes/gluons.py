"""Pure-gluon trees gg -> gg and gg -> ggg from the Parke-Taylor formula (exact full colour).

For n gluons (all momenta outgoing) every non-vanishing tree helicity amplitude with n = 4, 5 is
MHV or anti-MHV, with colour-ordered moduli |A_n(sigma)|^2 = s_ij^4 / |s_s1s2 s_s2s3 ... s_sns1|.
Summed over helicities and colours (Tr(T^a T^b) = delta^ab, g = g_s), leading colour is exact
for n <= 5 (docs/notes/physics.md §2):

    sum|M_n|^2 = g^(2n-4) N^(n-2) (N^2 - 1) h_n [sum_{i<j} s_ij^4] sum_{sigma in S_n/Z_n} 1/|ring(sigma)|,

with h_4 = 1 (each n = 4 configuration is MHV and anti-MHV at once) and h_5 = 2. The average
over initial spins and colours divides by (2 * 8)^2 = 256. For physical momenta (incoming flowing
in) |s_ij| = 2 p_i . p_j for every pair, so the expressions need no absolute values.

Momenta: ``pa``, ``pb`` incoming gluons (beams a, b), ``p1``, ``p2`` (, ``p3``) outgoing gluons.
The coupling is the channel coupling ``alpha_s`` (default alpha_s(m_Z) = SM.alpha_s_mZ; fixed).
For a running coupling multiply |M|^2 by (alpha_s(mu)/alpha_s)^``alpha_s_power`` with mu = ``scale(p)``
or pass a channel with another ``alpha_s``. No Wilson coefficients: one (SM) component.
Identical final gluons: ``Channel.symmetry_factor`` = 1/2 (gg) and 1/6 (ggg), never inside |M|^2.

Scale: H_T/2 = (1/2) sum of final-state p_T (= p_T for 2 -> 2).
Default generator cuts: every final gluon p_T > 50 GeV, |eta| < 2.5 and pairwise Delta R > 0.4
(the tree amplitude diverges for soft or collinear gluons; the cuts keep sigma finite and stable).

References: Parke, Taylor, PRL 56 (1986) 2459; Berends, Giele, NPB 306 (1988) 759;
Mangano, Parke, Phys. Rept. 200 (1991) 301; Ellis, Stirling, Webber, Table 7.1 (gg -> gg);
Gunion, Kunszt, PLB 159 (1985) 167 (gg -> ggg).
"""

from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np
import sympy as sp

from theory.cuts import Cuts
from theory.observables import pair_observables
from theory.processes.base import Channel, PhaseSpaceHint, Process

__all__ = ["GGtoGG", "GGtoGGG", "parke_taylor_colour_summed"]

N_COLOURS = 3


def _dot(a: Sequence[sp.Expr], b: Sequence[sp.Expr]) -> sp.Expr:
    return a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3]


def parke_taylor_colour_summed(momenta: Sequence[Sequence[sp.Expr]], gs2: sp.Expr) -> sp.Expr:
    """sum over helicities and colours of |M_n|^2 for n = 4 or 5 gluons (physical momenta).

    |s_ij| = 2 p_i.p_j; orderings sigma in S_n/Z_n fix the first gluon (a and its reflection
    both appear, as in the trace decomposition).
    """
    n = len(momenta)
    if n not in (4, 5):
        raise ValueError(f"the MHV-only colour sum is the exact tree only for n = 4, 5 gluons, got n = {n}")
    s = {}
    for i, j in itertools.combinations(range(n), 2):
        s[(i, j)] = s[(j, i)] = 2 * _dot(momenta[i], momenta[j])
    numerator = sum(s[(i, j)] ** 4 for i, j in itertools.combinations(range(n), 2))
    rings = sp.Integer(0)
    for perm in itertools.permutations(range(1, n)):
        order = (0, *perm)
        rings += 1 / sp.Mul(*[s[(order[k], order[(k + 1) % n])] for k in range(n)])
    h = 1 if n == 4 else 2
    nc = N_COLOURS
    return gs2 ** (n - 2) * nc ** (n - 2) * (nc**2 - 1) * h * numerator * rings


class _MultiGluon(Process):
    coefficients: tuple[str, ...] = ()
    max_degree = 0
    collider = "pp"
    references = ("Parke-Taylor PRL 56 (1986) 2459", "Mangano-Parke Phys.Rept. 200 (1991) 301")
    default_cuts = Cuts(pt_min=50.0, abs_eta_max=2.5, dr_min=0.4)
    features = ("pt_j1", "eta_j1", "eta_j2")  # g g -> g g; g g -> g g g adds its own
    alpha_s_power: int = 2

    @property
    def channels(self) -> tuple[Channel, ...]:
        n_out = len(self.labels) - 2
        factor = 1.0 / float(np.prod(np.arange(1, n_out + 1)))
        return (Channel("g_g", (21, 21), (21,) * n_out, {"alpha_s": self.sm.alpha_s_mZ}, factor),)

    def _build_components(self) -> list[sp.Expr]:
        alpha_s = sp.Symbol("alpha_s", real=True, positive=True)
        momenta = [self.momenta[k] for k in self.labels]
        summed = parke_taylor_colour_summed(momenta, 4 * sp.pi * alpha_s)
        return [summed / 256]

    def scale(self, p: np.ndarray) -> np.ndarray:
        """H_T/2: half the scalar sum of final-state transverse momenta (GeV)."""
        p = self._check_momenta(p)
        return 0.5 * np.sum(np.hypot(p[:, 2:, 1], p[:, 2:, 2]), axis=-1)

    def observables(self, p: np.ndarray) -> dict[str, np.ndarray]:
        """Pair observables of the two leading gluon jets (and p_T of the third for g g -> g g g)."""
        p = self._check_momenta(p)
        final = p[:, 2:]
        order = np.argsort(-np.hypot(final[..., 1], final[..., 2]), axis=1)
        ranked = np.take_along_axis(final, order[..., None], axis=1)
        obs = pair_observables(ranked[:, 0], ranked[:, 1], "j")
        if ranked.shape[1] > 2:
            obs["pt_j3"] = np.hypot(ranked[:, 2, 1], ranked[:, 2, 2])
        return obs


class GGtoGG(_MultiGluon):
    """g g -> g g at tree level (exact colour; equals ESW (9/2)(3 - tu/s^2 - su/t^2 - st/u^2) g^4)."""

    name = "gg_gg"
    description = "g g -> g g, exact tree |M|^2 from Parke-Taylor"
    labels = ("pa", "pb", "p1", "p2")
    phase_space = PhaseSpaceHint("2to2", masses=(0.0, 0.0))
    alpha_s_power = 2


class GGtoGGG(_MultiGluon):
    """g g -> g g g at tree level (MHV + anti-MHV, leading colour = exact full colour for n = 5)."""

    name = "gg_ggg"
    description = "g g -> g g g, exact tree |M|^2 from Parke-Taylor"
    labels = ("pa", "pb", "p1", "p2", "p3")
    phase_space = PhaseSpaceHint("2to3", masses=(0.0, 0.0, 0.0))
    alpha_s_power = 3
    features = ("pt_j1", "pt_j2", "eta_j1", "eta_j2", "delta_phi_jj", "pt_j3")
