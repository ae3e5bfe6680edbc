"""Leading-colour flows for physinf's processes, as an LHE file needs them for a parton shower.

Les Houches colour tags (ICOLUP): a colour line is a tag shared by the colour of one particle and
the anticolour of another (for outgoing particles), or by the colours (anticolours) of an incoming
and an outgoing particle (colour flows through). Rules:

* WBF (q q -> q q H, colour-singlet t-channel exchange, docs of theory.processes.wbf): the colour
  of each quark line flows from its incoming to its outgoing parton (line a: pa -> p1, line b:
  pb -> p2); antiquark lines carry anticolour the same way.
* Drell-Yan (q qbar -> l l): the quark and antiquark annihilate: one tag for the quark's colour
  and the antiquark's anticolour.
* e+ e- -> mu+ mu-: no colour.
* g g -> g g (g): a planar flow per colour ordering sigma of the all-outgoing gluons (Tr(T^s1 ... T^sn)),
  chosen with the leading-colour probability |A_n(sigma)|^2 / sum, which for MHV amplitudes is
  proportional to 1 / |s_s1s2 s_s2s3 ... s_sns1| (docs/notes/physics.md §2). In the all-outgoing
  convention gluon s_k carries colour t_k and anticolour t_(k-1); an incoming gluon swaps them.
"""

from __future__ import annotations

import itertools

import numpy as np

from physinf.errors import InvalidParameterError

__all__ = ["colour_flow"]

FIRST_TAG = 501


def _quark_line(pdg_in: np.ndarray, tag: int) -> tuple[np.ndarray, np.ndarray]:
    """(colour, anticolour) of a quark (pdg > 0) or antiquark line carrying ``tag``."""
    quark = pdg_in > 0
    return np.where(quark, tag, 0), np.where(quark, 0, tag)


def colour_flow(process: str, pdg: np.ndarray, momenta: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Colour and anticolour tags (N, P) for events of a physinf process (see the module docstring)."""
    n, p = pdg.shape
    col = np.zeros((n, p), dtype=np.int64)
    acol = np.zeros((n, p), dtype=np.int64)
    if process == "wbf":
        for incoming, outgoing, tag in ((0, 2, FIRST_TAG), (1, 3, FIRST_TAG + 1)):
            c, a = _quark_line(pdg[:, incoming], tag)
            col[:, incoming], acol[:, incoming] = c, a
            col[:, outgoing], acol[:, outgoing] = c, a
    elif process in ("drell_yan", "drell_yan_full"):
        quark_a = pdg[:, 0] > 0
        col[:, 0] = np.where(quark_a, FIRST_TAG, 0)
        acol[:, 0] = np.where(quark_a, 0, FIRST_TAG)
        col[:, 1] = np.where(quark_a, 0, FIRST_TAG)
        acol[:, 1] = np.where(quark_a, FIRST_TAG, 0)
    elif process == "ee_mumu":
        pass
    elif process in ("gg_gg", "gg_ggg"):
        _gluon_flows(momenta, col, acol, rng)
    else:
        raise InvalidParameterError(
            f"no colour-flow rule for process {process!r}: physinf writes LHE files for wbf, drell_yan, drell_yan_full, "
            "ee_mumu, gg_gg and gg_ggg; events read from an LHE file are showered from that file"
        )
    return col, acol


def _gluon_flows(momenta: np.ndarray, col: np.ndarray, acol: np.ndarray, rng: np.random.Generator) -> None:
    n, p = momenta.shape[:2]
    out = momenta.copy()
    out[:, :2] *= -1  # all-outgoing momenta
    s = {}
    for i, j in itertools.combinations(range(p), 2):
        q = out[:, i] + out[:, j]
        s[(i, j)] = s[(j, i)] = np.abs(q[:, 0] ** 2 - np.sum(q[:, 1:] ** 2, axis=1))
    orderings = [(0, *perm) for perm in itertools.permutations(range(1, p))]
    weights = np.empty((n, len(orderings)))
    for k, order in enumerate(orderings):
        ring = np.ones(n)
        for a, b in zip(order, order[1:] + order[:1]):
            ring *= s[(a, b)]
        weights[:, k] = 1.0 / ring
    cumulative = np.cumsum(weights, axis=1)
    choice = np.sum(cumulative < rng.random(n)[:, None] * cumulative[:, -1:], axis=1)
    choice = np.minimum(choice, len(orderings) - 1)
    for k, order in enumerate(orderings):
        rows = choice == k
        for position, gluon in enumerate(order):
            c, a = FIRST_TAG + position, FIRST_TAG + (position - 1) % p
            if gluon < 2:  # incoming: colour and anticolour swap
                c, a = a, c
            col[rows, gluon] = c
            acol[rows, gluon] = a
