"""Sparse rational regression: a deterministic, fast proposer of rational formulas.

Most closed-form physics laws are ratios of sums of monomials, y = P(x)/Q(x), often after a
transform of y (``m0/sqrt(1 - v²/c²)`` squared; see :mod:`physinf.symbolic.restarts`). Such a
law is linear in its coefficients once multiplied out: ``y·m_a(x) = Σ a_k m_k(x) − Σ b_j y·m_j(x)``
with m the monomials Π x_i^e_i and m_a a fixed "anchor" monomial of the denominator. This
backend builds a library of monomials (exponents −2..2 on up to three inputs, ±1 on more),
selects a sparse set of columns for each anchor by forward selection with a small beam
(orthogonal least squares: at each step the column that lowers the residual most), and returns
``P/Q`` for each sparsity level as candidates. Noise-free data give a residual at round-off
when the support is right; noisy data give candidates whose constants the shared
post-processing re-fits on y itself (this backend's linearised loss weights points by Q², so it
only proposes).

It needs ``mul`` and ``div`` among the operators (``add``/``sub`` for several terms); integer
powers are written as products. The budget is ignored: the cost is fixed by the library size
(a fraction of a second for six inputs). Related: AI Feynman's polynomial fits (Udrescu and
Tegmark, arXiv:1905.11481), FFX (McConaghy 2011), SINDy (Brunton et al., arXiv:1509.03580).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from physinf.symbolic.backends.base import DEFAULT_OPERATORS, Budget, Candidate, check_operators

__all__ = ["RationalBackend"]


def _tdot(A: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Aᵀv without BLAS: these products are small and many, and a threaded BLAS on a loaded
    machine makes them ten times slower (no global thread setting is needed this way)."""
    return np.einsum("ij,i->j", A, v)


@dataclass(frozen=True)
class RationalBackend:
    """Sparse rational regression (see the module docstring). ``max_exponent`` bounds each
    input's power on monomials of up to ``max_active`` inputs (monomials of more inputs take
    powers ±1), lowered until the library has at most ``max_monomials`` members;
    ``max_terms``: the most columns selected (numerator and denominator terms besides the
    anchor); ``beam``: supports kept per step; ``picks``: numerator and denominator columns
    tried per kept support and step; ``anchor_exponent``: denominators are anchored on 1 and on
    single inputs to powers up to this (0: on 1 only, one selection instead of 1 + 2·E·n)."""

    name: str = "rational"
    max_exponent: int = 4
    max_active: int = 3
    max_terms: int = 6
    beam: int = 6
    picks: int = 3
    max_monomials: int = 1200
    anchor_exponent: int = 2

    # ------------------------------------------------------------------ library
    def exponents(self, n: int) -> list[tuple[int, ...]]:
        """Exponent vectors of the monomial library (the constant first): powers up to the
        largest ``E <= max_exponent`` that keeps the library within ``max_monomials`` (4 for up
        to three inputs, 2 for six), on up to ``max_active`` inputs; ±1 on more inputs."""
        for top in range(self.max_exponent, 0, -1):
            out = self._exponents(n, top)
            if len(out) <= self.max_monomials or top == 1:
                return out
        return out  # pragma: no cover

    def _exponents(self, n: int, top: int) -> list[tuple[int, ...]]:
        out: list[tuple[int, ...]] = [(0,) * n]
        powers = [e for e in range(-top, top + 1) if e != 0]
        for k in range(1, n + 1):
            choices = powers if k <= self.max_active else [-1, 1]
            for idx in itertools.combinations(range(n), k):
                for pw in itertools.product(choices, repeat=k):
                    e = [0] * n
                    for i, p in zip(idx, pw):
                        e[i] = p
                    out.append(tuple(e))
        return out

    @staticmethod
    def _monomial_values(X: np.ndarray, exps: list[tuple[int, ...]]) -> np.ndarray:
        with np.errstate(all="ignore"):
            cols = [np.prod([X[:, i] ** e for i, e in enumerate(ex) if e], axis=0) if any(ex) else np.ones(len(X))
                    for ex in exps]
        return np.stack(cols, axis=1)

    @staticmethod
    def _monomial_text(ex: tuple[int, ...], names: list[str]) -> str:
        """``x0*x1**2/(x2)``-style text of one monomial (``1`` for the constant)."""
        num = [names[i] if e == 1 else f"{names[i]}**{e}" for i, e in enumerate(ex) if e > 0]
        den = [names[i] if e == -1 else f"{names[i]}**{-e}" for i, e in enumerate(ex) if e < 0]
        text = "*".join(num) or "1"
        return text + ("/(" + "*".join(den) + ")" if den else "")

    # ------------------------------------------------------------------ selection
    def _forward(self, A: np.ndarray, t: np.ndarray, is_q: np.ndarray,
                 loss: Callable[[list[int], np.ndarray], float]) -> list[tuple[float, list[int]]]:
        """Beam forward selection: the best support of each size 1..max_terms, with its loss.

        Expansions are scored by the linearised residual (orthogonal least squares on the
        unit-norm columns ``A``, target ``t``): a state keeps its orthonormal basis Q with the
        triangular R of its columns, its residual r (⊥ Q) and per column |Qᵀa_j|², so the gain
        of column j is (a_jᵀ r)² / (1 − |Qᵀa_j|²). The ``picks`` best numerator and the ``picks``
        best denominator columns of each state are tried, and states are ranked by
        ``loss(support, coefficients)`` (the loss of P/Q on the target itself), so that a
        denominator that nearly vanishes, which the linearised residual favours, does not crowd
        out the right support."""
        # state: (loss, support, Q columns, R, Qᵀt, residual, |Qᵀa_j|² per column)
        beams: list[tuple] = [(np.inf, [], [], np.zeros((0, 0)), np.zeros(0), t, np.zeros(A.shape[1]))]
        best: list[tuple[float, list[int]]] = []
        for _ in range(min(self.max_terms, A.shape[1])):
            expanded: dict[frozenset, tuple] = {}
            for _, support, Q, R, Qt, r, proj2 in beams:
                rest = 1.0 - proj2
                gain = np.where(rest > 1e-10, _tdot(A, r) ** 2 / np.maximum(rest, 1e-300), -np.inf)
                gain[support] = -np.inf
                picks: list[int] = []
                for side in (~is_q, is_q):
                    idx = np.flatnonzero(side & np.isfinite(gain))
                    picks += idx[np.argsort(-gain[idx])[: self.picks]].tolist()
                Qm = np.array(Q).T if Q else np.zeros((len(t), 0))
                for j in picks:
                    key = frozenset([*support, j])
                    if key in expanded:
                        continue
                    h = _tdot(Qm, A[:, j])
                    v = A[:, j] - np.einsum("ik,k->i", Qm, h)
                    norm = float(np.linalg.norm(v))
                    if norm <= 1e-12:
                        continue
                    q = v / norm
                    k = len(support)
                    R_new = np.zeros((k + 1, k + 1))
                    R_new[:k, :k], R_new[:k, k], R_new[k, k] = R, h, norm
                    Qt_new = np.append(Qt, q @ t)
                    coef = np.linalg.solve(R_new, Qt_new)
                    new = [*support, j]
                    expanded[key] = (loss(new, coef), new, [*Q, q], R_new, Qt_new, r - q * (q @ r), (proj2, q))
            if not expanded:
                break
            # the projections of all columns are updated only for the states kept
            kept = sorted(expanded.values(), key=lambda s_: s_[0])[: self.beam]
            beams = [(*state[:6], parent + _tdot(A, q) ** 2) for *state, (parent, q) in kept]
            best.append((beams[0][0], beams[0][1]))
            if beams[0][0] <= 1e-28:  # exact: more terms cannot help
                break
        return best

    # ------------------------------------------------------------------ backend contract
    def search(
        self,
        X: np.ndarray,
        y: np.ndarray,
        names: list[str],
        budget: Budget,
        seed: int,
        weights: np.ndarray | None = None,
        operators: tuple[str, ...] = DEFAULT_OPERATORS,
    ) -> list[Candidate]:
        """Candidates P/Q (P alone without ``div``), in the given ``names``."""
        ops = set(check_operators(operators))
        if "mul" not in ops:
            return []
        X, y = np.asarray(X, float), np.asarray(y, float)
        n = X.shape[1]
        exps = self.exponents(n)
        if "div" not in ops:  # polynomials only
            exps = [e for e in exps if min(e) >= 0]
        M = self._monomial_values(X, exps)
        ok = np.all(np.isfinite(M), axis=0) & (np.max(np.abs(M), axis=0) > 0)
        exps = [e for e, k in zip(exps, ok) if k]
        M = M[:, ok]
        texts = [self._monomial_text(e, names) for e in exps]
        n_mono = len(exps)
        if "log" in ops:  # log(x_i) as numerator terms: a log-transformed target becomes a sum
            for i in range(n):
                if np.all(X[:, i] > 0):
                    M = np.concatenate([M, np.log(X[:, i])[:, None]], axis=1)
                    texts.append(f"log({names[i]})")
        sw = np.ones(len(y)) if weights is None else np.sqrt(np.asarray(weights, float) / np.mean(weights))
        # anchors: the denominator's fixed term, 1 or a single input to a power (1 without div)
        anchors = [k for k, e in enumerate(exps)
                   if sum(1 for v in e if v) <= 1 and max(map(abs, e)) <= self.anchor_exponent] if "div" in ops else [0]
        q_range = [k for k in range(n_mono)]  # denominators are sums of monomials
        candidates: list[tuple[float, int, str]] = []
        var_y = float(np.var(y)) or 1.0
        for a in anchors:
            target = sw * y * M[:, a]
            cols = [M * sw[:, None]]
            labels = [("P", k) for k in range(M.shape[1])]
            if "div" in ops:
                q_idx = [k for k in q_range if k != a]
                cols.append(-(sw * y)[:, None] * M[:, q_idx])
                labels += [("Q", k) for k in q_idx]
            A = np.concatenate(cols, axis=1)
            scale = np.linalg.norm(A, axis=0)
            good = scale > 0
            A, labels, scale = A[:, good] / scale[good], [lab for lab, g in zip(labels, good) if g], scale[good]
            tn = float(np.linalg.norm(target))
            if tn == 0 or not np.isfinite(tn):
                continue
            t = target / tn
            is_q = np.array([side == "Q" for side, _ in labels])

            cols_of = np.array([k for _, k in labels])
            unscale = tn / scale

            def loss(support: list[int], coef: np.ndarray, a=a, is_q=is_q, cols_of=cols_of, unscale=unscale) -> float:
                c = coef * unscale[support]
                q_side = is_q[support]
                Mk = M[:, cols_of[support]]
                with np.errstate(all="ignore"):
                    pred = (Mk[:, ~q_side] @ c[~q_side]) / (M[:, a] + Mk[:, q_side] @ c[q_side])
                    value = float(np.mean((pred - y) ** 2)) / var_y
                return value if np.isfinite(value) else np.inf

            for _, support in self._forward(A, t, is_q, loss):
                support, coef = self._prune(A, t, support)
                coef = coef * tn / scale[support]
                text = self._text(support, coef, labels, texts, a)
                if text is None:
                    continue
                pred = self._predict(M, a, [labels[j] for j in support], coef, len(y))
                value = float(np.mean((pred - y) ** 2))
                if np.isfinite(value):
                    candidates.append((value, len(support), text))
        return self._front(candidates)

    @staticmethod
    def _predict(M: np.ndarray, anchor: int, chosen: list[tuple[str, int]], coef: np.ndarray, n: int) -> np.ndarray:
        """P/Q on the data for the chosen (side, column) terms with their coefficients."""
        with np.errstate(all="ignore"):
            P = sum((c * M[:, k] for c, (side, k) in zip(coef, chosen) if side == "P"), np.zeros(n))
            Q = M[:, anchor] + sum((c * M[:, k] for c, (side, k) in zip(coef, chosen) if side == "Q"), np.zeros(n))
            return P / Q

    @staticmethod
    def _prune(A: np.ndarray, t: np.ndarray, support: list[int]) -> tuple[list[int], np.ndarray]:
        """Drop columns whose removal leaves the residual unchanged (exact fits keep no
        round-off terms); return the support and its least-squares coefficients."""
        support = list(support)
        coef, *_ = np.linalg.lstsq(A[:, support], t, rcond=None)
        res = float(np.sum((A[:, support] @ coef - t) ** 2))
        changed = True
        while changed and len(support) > 1:
            changed = False
            for j in sorted(range(len(support)), key=lambda k: abs(coef[k])):
                trial = support[:j] + support[j + 1:]
                c, *_ = np.linalg.lstsq(A[:, trial], t, rcond=None)
                r = float(np.sum((A[:, trial] @ c - t) ** 2))
                if r <= max(res * (1 + 1e-9), 1e-28):
                    support, coef, res, changed = trial, c, r, True
                    break
        return support, coef

    @staticmethod
    def _text(support, coef, labels, texts, anchor) -> str | None:
        terms = [(side, f"({float(c)!r})*{texts[k]}") for c, (side, k) in zip(coef, [labels[j] for j in support])]
        num = [t for side, t in terms if side == "P"]
        den = [t for side, t in terms if side == "Q"]
        if not num:
            return None
        if not den and texts[anchor] == "1":
            return " + ".join(num)
        return f"({' + '.join(num)})/({' + '.join([texts[anchor], *den])})"

    @staticmethod
    def _front(candidates: list[tuple[float, int, str]]) -> list[Candidate]:
        """The non-dominated candidates in (number of terms, loss on the given target)."""
        out, best = [], np.inf
        for loss, terms, text in sorted(set(candidates), key=lambda c: (c[1], c[0])):
            if loss < best * (1 - 1e-9):
                out.append(Candidate(expression=text, complexity=terms, loss=loss))
                best = loss
        return out
