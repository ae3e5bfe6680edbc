"""Parton-level event generation: PDF convolution, vegas adaptation, weighted events.

The integrand at a phase-space point sums every parton channel of the process:

    dsigma_c = jac / (2 s_hat) * sum_ch S_ch f_a(x1, mu) f_b(x2, mu) A_c,ch(z) * (hbar c)^2,

for each morphing component c (S_ch the identical-particle factor). Channels that share the
same couplings are evaluated once. A run has four stages, each a function of its own:

    adapt_grid  vegas trains its grid on the weight at theta_ref;
    passes  independent passes over the adapted grid, pass k seeded from (seed, k) only;
    error   sigma is the sum of the passes' estimates, its MC error the larger of vegas'
            stratified estimate and the spread of the passes;
    assemble  the EventSample: kept events, flavours, observables, config and provenance.

``generate`` runs them in order (the one-call entry point).
"""

from __future__ import annotations

import math
import platform
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from physinf._version import __version__
from physinf.simulate.config import GenerationConfig
from physinf.simulate.events import EventSample
from physinf.simulate.model import ComponentModel
from physinf.simulate.phasespace import phase_space_for
from theory.cuts import Cuts
from theory.errors import InvalidParameterError, KinematicsError
from theory.morphing import monomial_values
from theory.sm import SMInputs
from theory.units import GEV2_TO_PB

__all__ = ["generate", "generate_from_config", "Integrand", "MCError", "PassResult", "adapt_grid", "run_pass",
           "estimate_error", "assemble", "build_integrand", "resolve_model"]

_CHUNK = 8192  # phase-space points per call of a compiled amplitude
_ADAPT_STREAM = 0  # seed-sequence child of the adaptation; pass k uses child k + 1


class Integrand:
    """Vectorised integrand of one process at one collider energy (no vegas inside)."""

    def __init__(self, process: ComponentModel, sqrt_s: float, cuts: Cuts, pdf: Any = None, scale: float | None = None,
                 scale_factors: tuple[float, ...] = ()) -> None:
        self.process, self.sqrt_s, self.cuts = process, float(sqrt_s), cuts
        self.scale_factors = tuple(float(f) for f in scale_factors)
        self.ps = phase_space_for(process, sqrt_s, cuts)
        self.pdf = pdf
        self.fixed_scale = scale
        self.visible = list(process.visible)
        # channels with identical couplings share one evaluation of |M|^2: lists of (index, Channel)
        groups: dict[tuple, list] = {}
        for i, ch in enumerate(process.channels):
            groups.setdefault(tuple(sorted(ch.couplings.items())), []).append((i, ch))
        self.groups = list(groups.values())
        if process.collider == "pp":
            if pdf is None:
                raise InvalidParameterError("a hadron-collider process needs a PDF set")
            self.partons = sorted({p for ch in process.channels for p in ch.incoming})

    def _luminosities(self, x1: np.ndarray, x2: np.ndarray, mu: np.ndarray) -> np.ndarray:
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

    def _channel_components(self, p: np.ndarray, x1: np.ndarray, x2: np.ndarray):
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
    def _sum_channels(lum: np.ndarray, groups: list, comps: np.ndarray) -> np.ndarray:
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


# ---------------------------------------------------------------------------- stages
def _stream(seed: int, index: int) -> np.random.Generator:
    """The random stream ``index`` of a run: a function of (seed, index) only, never of the order
    or the worker the stage runs on."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


def resolve_model(config: GenerationConfig, model: ComponentModel | None = None) -> ComponentModel:
    """The component model a resolved config asks for: the registered process with the config's SM
    inputs, or ``model`` (e.g. a surrogate) after checking that it is the one the config names."""
    from theory.processes.registry import get_process

    if model is None:
        if config.model != "exact":
            raise InvalidParameterError(
                f"the config asks for component model {config.model!r}; pass that model object (model=...)"
            )
        proc = get_process(config.process)
        return proc if config.sm in (None, proc.sm) else proc.with_sm(config.sm)
    if not isinstance(model, ComponentModel):
        raise InvalidParameterError(f"model must satisfy physinf.simulate.ComponentModel, got {type(model).__name__}")
    if model.name != config.process or model.model_id != config.model:
        raise InvalidParameterError(
            f"model {model.name!r} ({model.model_id}) does not match the config's process {config.process!r} ({config.model})"
        )
    return model


def build_integrand(config: GenerationConfig, model: ComponentModel | None = None, *, variations: bool = True) -> Integrand:
    """The integrand a resolved config describes (PDF set loaded, cuts and scale set)."""
    proc = resolve_model(config, model)
    pdf = None
    if proc.collider == "pp":
        from theory.pdf import load_pdf

        pdf = load_pdf(config.pdf)
    return Integrand(proc, config.sqrt_s, config.cuts, pdf, config.scale_gev,
                     config.scale_factors if variations else ())


def adapt_grid(integrand: Integrand, config: GenerationConfig):
    """Stage 1: a vegas integrator over the integrand's unit hypercube, its grid adapted to the
    weight at theta_ref (unless ``config.adapt`` is False). Returns (integrator, adaptation summary)."""
    import vegas

    mono_ref = monomial_values(integrand.process.powers, np.asarray(config.theta_ref))

    @vegas.lbatchintegrand
    def f_ref(u):
        _, dens, _, _, _, _ = integrand.evaluate(np.asarray(u), None, variations=False)
        return dens @ mono_ref

    integ = vegas.Integrator(integrand.ps.dims * [[0.0, 1.0]])
    integ.set(ran_array_generator=_stream(config.seed, _ADAPT_STREAM).random)
    info = None
    if config.adapt:
        result = integ(f_ref, nitn=config.n_iterations, neval=config.n_adapt)
        info = {"sigma_pb": result.mean, "error_pb": result.sdev, "chi2_dof": result.chi2 / max(result.dof, 1)}
    return integ, info


@dataclass(frozen=True)
class PassResult:
    """One independent pass over the adapted grid: every point, kept or not (weights 0 if cut).

    Weights are those of a complete estimate of sigma from this pass alone (not yet divided by
    the number of passes)."""

    index: int
    momenta: np.ndarray
    weights: np.ndarray  # (N, C) pb
    variations: np.ndarray  # (N, F, C) pb
    pdg: np.ndarray  # (N, P), flavours drawn with the SM weight of each channel
    hcube: np.ndarray  # vegas hypercube of each point


def run_pass(integrand: Integrand, integrator: Any, config: GenerationConfig, index: int) -> PassResult:
    """Stage 2: pass ``index`` (0-based) over the adapted grid, ~n_points/n_passes points, seeded from
    (config.seed, index) only, so any worker produces the same pass."""
    rng = _stream(config.seed, index + 1)
    integrator.set(neval=max(config.n_points // config.n_passes, 2), adapt=False, ran_array_generator=rng.random)
    parts: dict[str, list] = {k: [] for k in ("p", "w", "varied", "pdg", "hcube")}
    for u, wgt, hcube in integrator.random_batch(yield_hcube=True):
        p, dens, chan, _, _, varied = integrand.evaluate(np.array(u), rng)
        wgt = np.asarray(wgt)
        parts["p"].append(p)
        parts["w"].append(dens * wgt[:, None])
        parts["varied"].append(varied * wgt[:, None, None])
        parts["pdg"].append(_draw_flavours(integrand.process, chan, rng))
        parts["hcube"].append(np.array(hcube))
    return PassResult(index, *(np.concatenate(parts[k]) for k in ("p", "w", "varied", "pdg", "hcube")))


@dataclass(frozen=True)
class MCError:
    """sigma(theta_ref) and its Monte Carlo error from several passes (pb)."""

    sigma: float
    error: float
    error_stratified: float
    error_passes: float


def estimate_error(passes: list[PassResult], theta_ref: np.ndarray, powers: np.ndarray) -> MCError:
    """Stage 3: sigma = mean of the passes' estimates; error = max(vegas' stratified error, spread of
    the passes), since the stratified estimate misses rare large weights when hypercubes hold
    few points."""
    mono = monomial_values(powers, theta_ref)
    n = len(passes)
    sums = np.array([float(np.sum(r.weights @ mono)) for r in passes])
    sigma = float(sums.mean())
    strat = math.sqrt(sum(_stratified_error(r.weights @ mono, r.hcube) ** 2 for r in passes)) / n
    spread = float(np.std(sums, ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    return MCError(sigma, max(strat, spread), strat, spread)


def assemble(config: GenerationConfig, model: ComponentModel, passes: list[PassResult], error: MCError,
             adapt_info: dict | None, timings: dict[str, float]) -> EventSample:
    """Stage 4: the EventSample of the events that passed the cuts, weights averaged over passes."""
    n = len(passes)
    p = np.concatenate([r.momenta for r in passes])
    w = np.concatenate([r.weights for r in passes]) / n
    varied = np.concatenate([r.variations for r in passes]) / n
    pdg = np.concatenate([r.pdg for r in passes])
    keep = (w @ monomial_values(model.powers, np.asarray(config.theta_ref))) != 0
    if not np.any(keep):
        raise KinematicsError(
            f"no phase-space point of {config.process} at sqrt(s) = {config.sqrt_s} GeV passed the cuts {config.cuts}; "
            "loosen the cuts"
        )
    p, w, varied, pdg = p[keep], w[keep], varied[keep], pdg[keep]
    provenance = {
        "cross_section_pb": error.sigma,
        "cross_section_error_pb": error.error,
        "cross_section_error_stratified_pb": error.error_stratified,
        "cross_section_error_passes_pb": error.error_passes,
        "adaptation": adapt_info,
        "n_points": int(len(keep)),
        "n_events": int(keep.sum()),
        "n_passes": n,
        "config_hash": config.config_hash,
        **{f"time_{k}_s": v for k, v in timings.items()},
        "versions": {"physinf": __version__, "numpy": np.__version__, "python": platform.python_version()},
    }
    return EventSample(
        process=model.name, coefficients=model.coefficients, powers=model.powers, labels=model.labels,
        momenta=p, pdg=pdg, weight_components=w, observables=model.observables(p),
        theta_ref=np.asarray(config.theta_ref), provenance=provenance,
        variations={f"muF_x{f:g}": varied[:, j] for j, f in enumerate(config.scale_factors)},
        config=config, mc_rel_error=error.error / abs(error.sigma) if error.sigma else None,
        cutflow={"phase-space points": int(len(keep)), "generator cuts": int(keep.sum())},
    )


def generate(
    process: str | ComponentModel = "wbf",
    n_points: int = 10000,
    *,
    sqrt_s: float = 13000.0,
    theta_ref: Any = None,
    seed: int = 0,
    pdf: str | None = None,
    cuts: Cuts | None = None,
    scale: float | None = None,
    adapt: bool = True,
    n_adapt: int = 20000,
    n_iterations: int = 8,
    n_passes: int = 8,
    sm: SMInputs | None = None,
    scale_factors: tuple[float, ...] = (0.5, 2.0),
    progress: bool = False,
) -> EventSample:
    """Weighted parton-level events of ``process`` with exact morphing components.

    Args:
      process: a registered process name (``theory.processes.available_processes()``), or a
        component model standing in for one (a process with other SM inputs, a surrogate).
      n_points: phase-space points evaluated after adaptation. Points that fail the cuts are
        dropped, so the sample holds at most ``n_points`` events (``len(sample)``).
      sqrt_s: collider energy in GeV. theta_ref: reference Wilson coefficients (default SM);
        vegas adapts to the weight there and the stored joint score refers to it.
      seed: integer seed (runs are reproducible). pdf: LHAPDF set name or path to a .dat file
        (default NNPDF31_lo_as_0118). cuts: generator cuts (default: the process's
        ``default_cuts``). scale: a fixed factorisation scale in GeV, or None for the process's
        dynamic scale. adapt: train the vegas grid first (n_iterations x n_adapt
        evaluations); False gives plain importance sampling on the process's phase-space map.
        n_passes: independent passes over the grid. sm: SM inputs (default theory.sm.SM).
      scale_factors: factorisation-scale multipliers whose morphing weights are stored as
        variations "muF_x<factor>" (for theory-uncertainty templates); () for none.
    The settings become ``sample.config`` (a GenerationConfig, hashed); see
    :func:`generate_from_config` to run a config directly.
    """
    model = None if isinstance(process, str) else process
    if model is not None:
        if not isinstance(model, ComponentModel):
            raise InvalidParameterError(f"process must be a process name or a ComponentModel, got {type(process).__name__}")
        sm = sm if sm is not None else model.sm
    config = GenerationConfig(
        process=process if isinstance(process, str) else model.name, n_points=n_points, sqrt_s=sqrt_s,
        theta_ref=None if theta_ref is None else tuple(np.atleast_1d(np.asarray(theta_ref, dtype=float)).tolist()),
        seed=seed, pdf=pdf, cuts=cuts, scale_gev=scale, scale_factors=tuple(scale_factors), adapt=adapt,
        n_adapt=n_adapt, n_iterations=n_iterations, n_passes=n_passes, sm=sm,
        model="exact" if model is None else model.model_id,
    )
    return generate_from_config(config, model=model, progress=progress)


def generate_from_config(config: GenerationConfig, *, model: ComponentModel | None = None,
                         progress: bool = False) -> EventSample:
    """Run the four stages for a config (resolved first); ``model`` for a non-exact component model."""
    config = config.resolved()
    t0 = time.perf_counter()
    proc = resolve_model(config, model)
    integrand = build_integrand(config, proc)
    integ, adapt_info = adapt_grid(integrand, config)
    t_adapt = time.perf_counter() - t0
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.n_passes, desc=f"generating {config.process}", unit="pass")
    passes = []
    for k in range(config.n_passes):
        passes.append(run_pass(integrand, integ, config, k))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    error = estimate_error(passes, np.asarray(config.theta_ref), proc.powers)
    t_gen = time.perf_counter() - t0 - t_adapt
    return assemble(config, proc, passes, error, adapt_info, {"adapt": t_adapt, "generate": t_gen})


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


def _draw_flavours(proc: ComponentModel, chan: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = chan.shape[0]
    pdg = np.zeros((n, proc.n_particles), dtype=np.int32)
    total = chan.sum(axis=1)
    cdf = np.cumsum(chan, axis=1) / np.where(total > 0, total, 1.0)[:, None]
    pick = np.minimum((cdf < rng.uniform(size=n)[:, None]).sum(axis=1), chan.shape[1] - 1)
    table = np.array([list(ch.incoming) + list(ch.outgoing) for ch in proc.channels], dtype=np.int32)
    pdg[:] = table[pick][:, : proc.n_particles]
    return pdg
