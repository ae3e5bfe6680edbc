"""Parton-level event generation: PDF convolution, vegas adaptation, weighted events.

The integrand at a phase-space point sums every parton channel of the process:

    dsigma_c = jac / (2 s_hat) * sum_ch S_ch f_a(x1, mu) f_b(x2, mu) A_c,ch(z) * (hbar c)^2,

for each morphing component c (S_ch the identical-particle factor). Channels that share the
same couplings are evaluated once. Vegas adapts its grid to the weight at theta_ref; events
are then drawn in several independent passes over the adapted grid; sigma is their mean and
its Monte Carlo error the larger of vegas' stratified estimate and the spread of the passes.
"""

from __future__ import annotations

import math
import platform
import time
from collections import defaultdict

import numpy as np

from physinf.observables import observables_for
from physinf.simulate.cuts import Cuts
from physinf.simulate.events import EventSample
from physinf.simulate.phasespace import phase_space_for
from theory.errors import InvalidParameterError, KinematicsError
from theory.morphing import monomial_values

__all__ = ["generate", "Integrand", "GEV2_TO_PB", "DEFAULT_CUTS"]

GEV2_TO_PB = 0.3893793721e9  # (hbar c)^2 in pb GeV^2
_CHUNK = 8192  # phase-space points per call of a compiled amplitude
_N_PASSES = 8  # independent passes over the vegas grid (for the batch-means error check)

DEFAULT_CUTS = {
    "wbf": Cuts(pt_min=20.0, abs_eta_max=5.0),
    "drell_yan": Cuts(pt_min=10.0, abs_eta_max=2.5, m_min=60.0, m_max=120.0),
    "gg_gg": Cuts(pt_min=50.0, abs_eta_max=2.5),
    "gg_ggg": Cuts(pt_min=50.0, abs_eta_max=2.5),
    "ee_mumu": Cuts(),
}


class Integrand:
    """Vectorised integrand of one process at one collider energy (no vegas inside)."""

    def __init__(self, process, sqrt_s: float, cuts: Cuts, pdf=None, scale: float | None = None,
                 scale_factors: tuple[float, ...] = ()) -> None:
        self.process, self.sqrt_s, self.cuts = process, float(sqrt_s), cuts
        self.scale_factors = tuple(float(f) for f in scale_factors)
        self.ps = phase_space_for(process, sqrt_s, cuts)
        self.pdf = pdf
        self.fixed_scale = scale
        self.visible = [i for i, label in enumerate(process.labels[2:], start=2) if label != "pH"]
        # channels with identical couplings share one evaluation of |M|^2: lists of (index, Channel)
        groups: dict[tuple, list] = {}
        for i, ch in enumerate(process.channels):
            groups.setdefault(tuple(sorted(ch.couplings.items())), []).append((i, ch))
        self.groups = list(groups.values())
        if process.collider == "pp":
            if pdf is None:
                raise InvalidParameterError("a hadron-collider process needs a PDF set")
            self.partons = sorted({p for ch in process.channels for p in ch.incoming})

    def _luminosities(self, x1, x2, mu):
        """f_a(x1) f_b(x2) per channel, (N, n_channels); zero outside 0 < x < 1."""
        n_ch = len(self.process.channels)
        if self.process.collider == "ee":
            return np.ones((x1.shape[0], n_ch))
        ok = (x1 > 0) & (x1 < 1) & (x2 > 0) & (x2 < 1)
        xa, xb = np.where(ok, x1, 0.5), np.where(ok, x2, 0.5)
        fa = self.pdf.xfxQ_all(xa, mu, pids=self.partons) / xa
        fb = self.pdf.xfxQ_all(xb, mu, pids=self.partons) / xb
        index = {p: k for k, p in enumerate(self.partons)}
        lum = np.empty((x1.shape[0], n_ch))
        for i, ch in enumerate(self.process.channels):
            a, b = ch.incoming
            lum[:, i] = fa[index[a]] * fb[index[b]] * ch.symmetry_factor
        return np.where(ok[:, None], lum, 0.0)

    def _channel_components(self, p, x1, x2):
        """Scale, luminosities (N, n_channels), the coupling groups with non-zero luminosity and
        their components (N, n_groups, C) at momenta p (all points inside the cuts)."""
        mu = np.full(p.shape[0], self.fixed_scale) if self.fixed_scale else self.process.scale(p)
        lum = self._luminosities(x1, x2, mu)
        groups = [g for g in self.groups if np.any(lum[:, [i for i, _ in g]])]
        comps = np.zeros((p.shape[0], len(groups), self.process.n_components))
        for lo in range(0, p.shape[0], _CHUNK):  # bounded memory for the compiled expression's temporaries
            comps[lo : lo + _CHUNK] = self.process.components_for_channels(p[lo : lo + _CHUNK], [g[0][1] for g in groups])
        return mu, lum, groups, comps

    @staticmethod
    def _sum_channels(lum, groups, comps):
        acc = np.zeros((comps.shape[0], comps.shape[2]))
        for k, group in enumerate(groups):
            acc += lum[:, [i for i, _ in group]].sum(axis=1)[:, None] * comps[:, k]
        return acc

    def matrix_weights(self, p: np.ndarray, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        """sum_ch S_ch f_a(x1) f_b(x2) A_c,ch at given momenta, (N, C): the event density per
        component without flux factor and phase-space Jacobian."""
        _, lum, groups, comps = self._channel_components(p, x1, x2)
        return self._sum_channels(lum, groups, comps)

    def evaluate(self, u: np.ndarray, rng: np.random.Generator | None = None, variations: bool = True):
        """Momenta, per-component weight densities (N, C) in pb, per-channel SM densities and the
        densities with the factorisation scale multiplied by each of ``scale_factors`` (N, F, C)."""
        p, x1, x2, jac = self.ps.map(u, rng)
        n, n_comp = u.shape[0], self.process.n_components
        keep = (x1 > 0) & (x1 <= 1) & (x2 > 0) & (x2 <= 1) & np.isfinite(jac)
        keep &= self.cuts.mask(p, self.visible)
        dens = np.zeros((n, n_comp))
        varied = np.zeros((n, len(self.scale_factors), n_comp))
        chan = np.zeros((n, len(self.process.channels)))
        if np.any(keep):
            pk = p[keep]
            mu, lum, groups, comps = self._channel_components(pk, x1[keep], x2[keep])
            shat = x1[keep] * x2[keep] * self.sqrt_s**2
            pref = jac[keep] / (2.0 * shat) * GEV2_TO_PB
            rows = np.flatnonzero(keep)[:, None]
            for k, group in enumerate(groups):
                idx = [i for i, _ in group]
                chan[rows, idx] = lum[:, idx] * comps[:, k, :1] * pref[:, None]
            dens[keep] = self._sum_channels(lum, groups, comps) * pref[:, None]
            for j, factor in enumerate(self.scale_factors if variations else ()):
                # only the PDFs depend on mu_F here (alpha_s-free processes; QCD processes use a fixed alpha_s)
                lum_v = self._luminosities(x1[keep], x2[keep], mu * factor)
                varied[keep, j] = self._sum_channels(lum_v, groups, comps) * pref[:, None]
        return p, dens, chan, x1, x2, varied


def _stratified_error(values: np.ndarray, hcube: np.ndarray) -> float:
    """Vegas' variance of sum(values) with values grouped by hypercube (each with >= 2 points)."""
    order = np.argsort(hcube, kind="stable")
    h, v = hcube[order], values[order]
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    counts = np.diff(np.r_[starts, len(h)])
    sums = np.add.reduceat(v, starts)
    sq = np.add.reduceat(v**2, starts)
    good = counts > 1
    var = np.where(good, (sq - sums**2 / np.maximum(counts, 1)) * counts / np.maximum(counts - 1, 1), 0.0)
    return float(math.sqrt(max(var.sum(), 0.0)))


def generate(
    process: str = "wbf",
    n_events: int = 10000,
    *,
    sqrt_s: float = 13000.0,
    theta_ref=None,
    seed: int | np.random.Generator = 0,
    pdf: str = "NNPDF31_lo_as_0118",
    cuts: Cuts | None = None,
    scale: float | None = None,
    adapt: bool = True,
    n_adapt: int = 20000,
    n_iterations: int = 8,
    progress: bool = False,
    sm=None,
    scale_factors: tuple[float, ...] = (0.5, 2.0),
) -> EventSample:
    """Weighted parton-level events of ``process`` with exact morphing components.

    Args:
      process: a registered process name (``theory.processes.available_processes()``).
      n_events: number of phase-space points to keep as events (before cuts remove any).
      sqrt_s: collider energy in GeV. theta_ref: reference Wilson coefficients (default SM);
      vegas adapts to the weight there and the stored joint score refers to it.
      seed: integer seed or numpy Generator (runs are reproducible). pdf: LHAPDF set name or
      path to a .dat file. cuts: generator cuts (default: DEFAULT_CUTS[process]).
      scale: a fixed factorisation scale in GeV, or None for the process's dynamic scale.
      adapt: train the vegas grid first (n_iterations x n_adapt evaluations); False gives plain
      importance sampling on the process's phase-space map.
      sm: SM inputs (theory.sm.SMInputs) for processes that accept them.
      scale_factors: factorisation-scale multipliers whose morphing weights are stored as
      variations "muF_x<factor>" (for theory-uncertainty templates); () for none.
    """
    import vegas

    from theory.processes.registry import get_process

    if not isinstance(n_events, (int, np.integer)) or n_events < 10:
        raise InvalidParameterError(f"n_events must be an integer >= 10, got {n_events!r}")
    if not (isinstance(sqrt_s, (int, float)) and math.isfinite(sqrt_s) and sqrt_s > 0):
        raise KinematicsError(f"sqrt_s must be a positive energy in GeV, got {sqrt_s!r}")
    proc = get_process(process)
    if sm is not None:
        if not hasattr(proc, "with_sm"):
            raise InvalidParameterError(f"process {process!r} does not take SM inputs (sm=...)")
        proc = proc.with_sm(sm)
    theta_ref = proc.check_theta(np.zeros(len(proc.coefficients)) if theta_ref is None else theta_ref)
    cuts = cuts if cuts is not None else DEFAULT_CUTS.get(process, Cuts())
    pdf_obj = None
    if proc.collider == "pp":
        from theory.pdf import load_pdf

        pdf_obj = load_pdf(pdf)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    scale_factors = tuple(scale_factors) if proc.collider == "pp" else ()
    if any(not (isinstance(f, (int, float)) and 0 < f < 100) for f in scale_factors):
        raise InvalidParameterError(f"scale_factors must be positive numbers (e.g. (0.5, 2.0)), got {scale_factors}")
    integrand = Integrand(proc, sqrt_s, cuts, pdf_obj, scale, scale_factors)
    mono_ref = monomial_values(proc.powers, theta_ref)
    t0 = time.perf_counter()

    @vegas.lbatchintegrand
    def f_ref(u):
        _, dens, _, _, _, _ = integrand.evaluate(np.asarray(u), None, variations=False)
        return dens @ mono_ref

    integ = vegas.Integrator(integrand.ps.dims * [[0.0, 1.0]])
    vegas_seed = int(rng.integers(2**31))
    integ.set(ran_array_generator=np.random.default_rng(vegas_seed).random)
    adapt_info = None
    if adapt:
        result = integ(f_ref, nitn=n_iterations, neval=n_adapt)
        adapt_info = {"sigma": result.mean, "error": result.sdev, "chi2_dof": result.chi2 / max(result.dof, 1)}
    t_adapt = time.perf_counter() - t0

    # n_passes independent passes over the adapted grid, ~n_events points in all: each pass is a
    # complete estimate of sigma, so their spread checks vega's stratified error (which misses
    # rare large weights when hypercubes hold few points)
    n_passes = _N_PASSES if n_events >= 100 * _N_PASSES else 1
    integ.set(neval=max(n_events // n_passes, 2), adapt=False)
    chunks = defaultdict(list)
    progress_bar = None
    if progress:
        from tqdm.auto import tqdm

        progress_bar = tqdm(total=n_passes, desc=f"generating {process}", unit="pass")
    for k in range(n_passes):
        for u, wgt, hcube in integ.random_batch(yield_hcube=True):
            u = np.array(u)
            p, dens, chan, x1, x2, varied = integrand.evaluate(u, rng)
            chunks["p"].append(p)
            chunks["w"].append(dens * np.asarray(wgt)[:, None] / n_passes)
            chunks["varied"].append(varied * np.asarray(wgt)[:, None, None] / n_passes)
            chunks["chan"].append(chan)
            chunks["hcube"].append(np.array(hcube) + k * integ.nhcube)  # distinct ids per pass
            chunks["pass"].append(np.full(len(u), k))
        if progress_bar is not None:
            progress_bar.update(1)
    if progress_bar is not None:
        progress_bar.close()
    p = np.concatenate(chunks["p"])
    w = np.concatenate(chunks["w"])
    chan = np.concatenate(chunks["chan"])
    varied = np.concatenate(chunks["varied"])
    hcube = np.concatenate(chunks["hcube"])
    passes = np.concatenate(chunks["pass"])
    t_gen = time.perf_counter() - t0 - t_adapt
    w_ref = w @ mono_ref
    sigma = float(w_ref.sum())
    error_stratified = _stratified_error(w_ref, hcube)
    pass_sums = np.bincount(passes, weights=w_ref * n_passes, minlength=n_passes)
    error_passes = float(np.std(pass_sums, ddof=1) / math.sqrt(n_passes)) if n_passes > 1 else 0.0
    # the larger of the two: the stratified estimate can miss rare large weights
    error = max(error_stratified, error_passes)
    n_points = len(w_ref)
    keep = w_ref != 0
    if not np.any(keep):
        raise KinematicsError(
            f"no phase-space point of {process} at sqrt(s) = {sqrt_s} GeV passed the cuts {cuts}; loosen the cuts"
        )
    p, w, chan, varied = p[keep], w[keep], chan[keep], varied[keep]
    # flavours for the event record, drawn with the SM weight of each channel
    pdg = _draw_flavours(proc, chan, rng)
    import physinf

    provenance = {
        "process": process,
        "sqrt_s": sqrt_s,
        "theta_ref": theta_ref.tolist(),
        "seed": seed if isinstance(seed, (int, np.integer)) else "Generator",
        "pdf": pdf if proc.collider == "pp" else None,
        "cuts": cuts.to_dict(),
        "scale": "fixed %.6g GeV" % scale if scale else "process default",
        "scale_gev": scale,
        "adapt": adapt_info,
        "n_points": n_points,
        "n_events": int(keep.sum()),
        "cross_section_pb": sigma,
        "cross_section_error_pb": error,
        "cross_section_error_stratified_pb": error_stratified,
        "cross_section_error_passes_pb": error_passes,
        "n_passes": n_passes,
        "cross_section_rel_error": error / sigma if sigma else None,
        "time_adapt_s": t_adapt,
        "time_generate_s": t_gen,
        "versions": {"physinf": physinf.__version__, "numpy": np.__version__, "python": platform.python_version()},
    }
    return EventSample(
        process=process, coefficients=proc.coefficients, powers=proc.powers, labels=proc.labels,
        momenta=p, pdg=pdg, weight_components=w, observables=observables_for(process, p),
        theta_ref=theta_ref, provenance=provenance,
        variations={f"muF_x{f:g}": varied[:, j] for j, f in enumerate(scale_factors)},
    )


def _draw_flavours(proc, chan: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = chan.shape[0]
    pdg = np.zeros((n, proc.n_particles), dtype=np.int32)
    total = chan.sum(axis=1)
    cdf = np.cumsum(chan, axis=1) / np.where(total > 0, total, 1.0)[:, None]
    pick = np.minimum((cdf < rng.uniform(size=n)[:, None]).sum(axis=1), chan.shape[1] - 1)
    table = np.array([list(ch.incoming) + list(ch.outgoing) for ch in proc.channels], dtype=np.int32)
    pdg[:] = table[pick][:, : proc.n_particles]
    return pdg
