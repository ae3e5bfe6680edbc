"""Parton-level event generation: PDF convolution, vegas adaptation, weighted events.

The integrand at a phase-space point sums every parton channel of the process:

    dsigma_c = jac / (2 s_hat) * sum_ch S_ch f_a(x1, mu) f_b(x2, mu) A_c,ch(z) * (hbar c)^2,

for each morphing component c (S_ch the identical-particle factor). Channels that share the
same couplings are evaluated once. A run has four stages, each a function of its own:

    adapt_grid  vegas trains its grid on the weight at theta_ref;
    passes  independent passes over the adapted grid, pass k seeded from (seed, k) only, so a
            pass gives the same bits on any worker (``physinf.simulate.parallel`` spreads them
            over local processes or a dask cluster);
    error   sigma is the mean of the passes' estimates, its MC error the larger of vegas'
            stratified estimate and the spread of the passes;
    assemble  the EventSample: kept events, flavours, observables, config and provenance.

``generate`` runs them in order (the one-call entry point); with ``out=`` the events go to an
HDF5 file batch by batch (bounded memory) and a lazy :class:`~physinf.simulate.EventFile` comes
back instead of an in-memory sample.
"""

from __future__ import annotations

import math
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from physinf._version import __version__
from physinf.simulate._fast import draw_channels, group_densities
from physinf.simulate.config import GenerationConfig
from physinf.simulate.events import EventSample
from physinf.simulate.model import ComponentModel
from physinf.simulate.phasespace import phase_space_for
from theory.cuts import Cuts
from theory.errors import InvalidParameterError, KinematicsError
from theory.morphing import monomial_values
from theory.sm import SMInputs
from theory.units import GEV2_TO_PB

__all__ = [
    "Batch",
    "Integrand",
    "MCError",
    "PassResult",
    "adapt_grid",
    "assemble",
    "build_integrand",
    "estimate_error",
    "freeze_integrator",
    "generate",
    "generate_from_config",
    "iter_pass",
    "resolve_model",
    "run_pass",
    "thaw_integrator",
]

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
        channels = process.channels
        # channels with identical couplings share one evaluation of |M|^2: lists of (index, Channel)
        groups: dict[tuple, list] = {}
        for i, ch in enumerate(channels):
            groups.setdefault(tuple(sorted(ch.couplings.items())), []).append((i, ch))
        self.groups = list(groups.values())
        self.group_of = np.empty(len(channels), dtype=int)
        for k, group in enumerate(self.groups):
            self.group_of[[i for i, _ in group]] = k
        self.representatives = [g[0][1] for g in self.groups]
        self.symmetry = np.array([ch.symmetry_factor for ch in channels])
        # parton index of each channel's beams in the PDF rows (unused at a lepton collider)
        self.a_index = self.b_index = np.zeros(len(channels), dtype=int)
        if process.collider == "pp":
            if pdf is None:
                raise InvalidParameterError("a hadron-collider process needs a PDF set")
            self.partons = sorted({p for ch in channels for p in ch.incoming})
            index = {p: k for k, p in enumerate(self.partons)}
            self.a_index = np.array([index[ch.incoming[0]] for ch in channels])
            self.b_index = np.array([index[ch.incoming[1]] for ch in channels])
        # members of each group, padded with -1: the second stage of the flavour draw
        width = max(len(g) for g in self.groups)
        self.members = np.full((len(self.groups), width), -1)
        for k, group in enumerate(self.groups):
            self.members[k, : len(group)] = [i for i, _ in group]
        self.flavour_table = np.array([list(ch.incoming) + list(ch.outgoing) for ch in channels],
                                      dtype=np.int32)[:, : process.n_particles]

    # ------------------------------------------------------------------ parton luminosities
    def _pdfs(self, x: np.ndarray, mus: list[np.ndarray]) -> np.ndarray:
        """Number densities f(x, mu) of every parton at each scale in mus, (n_partons, n_scales, N):
        one interpolation call for all scales."""
        n = x.shape[0]
        xs = np.tile(x, len(mus))
        return (self.pdf.xfxQ_all(xs, np.concatenate(mus), pids=self.partons) / xs).reshape(-1, len(mus), n)

    def _luminosities(self, x1: np.ndarray, x2: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """f_a(x1) f_b(x2) S_ch per channel, (N, n_channels); zero outside 0 < x < 1."""
        n_ch = len(self.process.channels)
        if self.process.collider == "ee":
            return np.ones((x1.shape[0], n_ch)) * self.symmetry
        ok = (x1 > 0) & (x1 < 1) & (x2 > 0) & (x2 < 1)
        xa, xb = np.where(ok, x1, 0.5), np.where(ok, x2, 0.5)
        fa, fb = self._pdfs(xa, [mu])[:, 0], self._pdfs(xb, [mu])[:, 0]
        lum = (fa[self.a_index] * fb[self.b_index]).T * self.symmetry
        return np.where(ok[:, None], lum, 0.0)

    def _components(self, p: np.ndarray) -> np.ndarray:
        """Components of every coupling group, (N, n_groups, C). The whole batch goes to the model:
        models bound their own memory (compiled kernels work in chunks, surrogates in batches)."""
        return self.process.components_for_channels(p, self.representatives)

    def reference_density(self, u: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """sum_c weights_c dsigma_c (N,) in pb at points u: what vegas adapts to (weights = the
        monomials at theta_ref). Processes evaluate only the components with non-zero weight."""
        p, x1, x2, jac = self.ps.map(u, None)
        keep = (x1 > 0) & (x1 <= 1) & (x2 > 0) & (x2 <= 1) & np.isfinite(jac) & self.cuts.mask(p, self.visible)
        if self.process.collider == "pp":
            keep &= (x1 < 1) & (x2 < 1)
        out = np.zeros(u.shape[0])
        if not np.any(keep):
            return out
        pk, x1k, x2k = p[keep], x1[keep], x2[keep]
        combined = getattr(self.process, "combined_components", None)
        if combined is not None:
            comb = combined(pk, self.representatives, weights)
        else:
            comb = self._components(pk) @ weights
        if self.process.collider == "pp":
            mu = [self._scale(pk)]
            _, dens = group_densities(self._pdfs(x1k, mu), self._pdfs(x2k, mu), self.a_index, self.b_index,
                                      self.group_of, self.symmetry, comb[:, :, None])
            total = dens[:, 0, 0]
        else:
            total = comb @ np.bincount(self.group_of, self.symmetry)
        pref = jac[keep] / (2.0 * x1k * x2k * self.sqrt_s**2) * GEV2_TO_PB
        out[keep] = total * pref
        return out

    def _scale(self, p: np.ndarray) -> np.ndarray:
        return np.full(p.shape[0], self.fixed_scale) if self.fixed_scale else self.process.scale(p)

    def matrix_weights(self, p: np.ndarray, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        """sum_ch S_ch f_a(x1) f_b(x2) A_c,ch at given momenta, (N, C): the event density per
        component without flux factor and phase-space Jacobian."""
        lum = self._luminosities(x1, x2, self._scale(p))
        lum_groups = np.zeros((p.shape[0], len(self.groups)))
        np.add.at(lum_groups.T, self.group_of, lum.T)
        return np.einsum("ng,ngc->nc", lum_groups, self._components(p))

    def evaluate(self, u: np.ndarray, rng: np.random.Generator | None = None, variations: bool = True):
        """Momenta, per-component weight densities (N, C) in pb, parton flavours (N, P) drawn with the
        SM weight of each channel (zeros without ``rng`` or where the point fails the cuts), x1, x2
        and the densities with the factorisation scale multiplied by each of ``scale_factors``
        (N, F, C)."""
        p, x1, x2, jac = self.ps.map(u, rng)
        n, n_comp = u.shape[0], self.process.n_components
        keep = (x1 > 0) & (x1 <= 1) & (x2 > 0) & (x2 <= 1) & np.isfinite(jac)
        keep &= self.cuts.mask(p, self.visible)
        if self.process.collider == "pp":
            keep &= (x1 < 1) & (x2 < 1)
        dens = np.zeros((n, n_comp))
        factors = self.scale_factors if variations else ()
        varied = np.zeros((n, len(factors), n_comp))
        pdg = np.zeros((n, self.process.n_particles), dtype=np.int32)
        if not np.any(keep):
            return p, dens, pdg, x1, x2, varied
        pk, x1k, x2k = p[keep], x1[keep], x2[keep]
        comps = self._components(pk)
        shat = x1k * x2k * self.sqrt_s**2
        pref = jac[keep] / (2.0 * shat) * GEV2_TO_PB
        if self.process.collider == "pp":
            # only the PDFs depend on mu_F here (alpha_s-free processes; QCD processes use a fixed alpha_s)
            mu = self._scale(pk)
            mus = [mu] + [mu * f for f in factors]
            fas, fbs = self._pdfs(x1k, mus), self._pdfs(x2k, mus)
            lum0, per_scale = group_densities(fas, fbs, self.a_index, self.b_index, self.group_of, self.symmetry, comps)
            lum0 = lum0.T
        else:
            fas = fbs = None
            lum0 = np.tile(np.bincount(self.group_of, self.symmetry), (pk.shape[0], 1))
            per_scale = np.repeat(np.einsum("ng,ngc->nc", lum0, comps)[:, None], 1 + len(factors), axis=1)
        dens[keep] = per_scale[:, 0] * pref[:, None]
        varied[keep] = per_scale[:, 1:] * pref[:, None, None]
        if rng is not None:
            pdg[keep] = self._draw_flavours(lum0 * comps[:, :, 0], None if fas is None else fas[:, 0],
                                            None if fbs is None else fbs[:, 0], rng)
        return p, dens, pdg, x1, x2, varied

    def _draw_flavours(self, group_weights: np.ndarray, fa: np.ndarray | None, fb: np.ndarray | None,
                       rng: np.random.Generator) -> np.ndarray:
        """Flavours of each event's channel, drawn with probability proportional to its SM weight: first
        the coupling group (weights lum_g A_0,g), then a channel of that group (weights S f_a f_b; parton
        densities (n_partons, N))."""
        n = group_weights.shape[0]
        u1, u2 = rng.uniform(size=n), rng.uniform(size=n)
        return self.flavour_table[draw_channels(group_weights, u1, u2, self.members, self.a_index, self.b_index,
                                                self.symmetry, fa, fb)]


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
        return integrand.reference_density(np.asarray(u), mono_ref)

    integ = vegas.Integrator(integrand.ps.dims * [[0.0, 1.0]])
    integ.set(ran_array_generator=_stream(config.seed, _ADAPT_STREAM).random)
    info = None
    if config.adapt:
        result = integ(f_ref, nitn=config.n_iterations, neval=config.n_adapt)
        info = {"sigma_pb": result.mean, "error_pb": result.sdev, "chi2_dof": result.chi2 / max(result.dof, 1)}
    return integ, info


def freeze_integrator(integrator: Any) -> tuple[list, dict]:
    """The adapted vegas state as plain data: grid nodes per axis and the integrator settings
    (stratification, sigf). vegas' own pickling rebuilds the AdaptiveMap from other nodes, which
    changes the grid; this keeps it bit for bit."""
    if isinstance(integrator, tuple):
        return integrator
    _, _, state = integrator.__reduce__()
    state = {k: v for k, v in dict(state).items() if k != "ran_array_generator"}
    return [np.asarray(g, dtype=float).copy() for g in integrator.map.extract_grid()], state


def thaw_integrator(frozen: tuple[list, dict]) -> Any:
    """A vegas Integrator in exactly the frozen state."""
    import vegas

    grid, state = frozen
    return vegas.Integrator(vegas.AdaptiveMap([np.array(g) for g in grid]), **state)


@dataclass(frozen=True)
class Batch:
    """The events of one vegas batch of a pass that passed the cuts, with the batch's share of the
    pass statistics. Weights are those of a complete estimate of sigma from this pass alone (not
    yet divided by the number of passes)."""

    momenta: np.ndarray
    weights: np.ndarray  # (n, C) pb
    variations: np.ndarray  # (n, F, C) pb
    pdg: np.ndarray  # (n, P)
    n_points: int  # phase-space points evaluated, kept or not
    sum_ref: float  # sum of weights at theta_ref over the batch
    var_stratified: float  # vegas' stratified variance of that sum


@dataclass(frozen=True)
class PassResult:
    """One independent pass over the adapted grid: its events that passed the cuts and its
    statistics (sigma estimate and vegas' stratified variance at theta_ref)."""

    index: int
    momenta: np.ndarray
    weights: np.ndarray  # (N, C) pb
    variations: np.ndarray  # (N, F, C) pb
    pdg: np.ndarray  # (N, P), flavours drawn with the SM weight of each channel
    n_points: int
    sum_ref: float
    var_stratified: float


def iter_pass(integrand: Integrand, integrator: Any, config: GenerationConfig, index: int) -> Iterator[Batch]:
    """Stage 2, batch by batch: pass ``index`` (0-based) over the adapted grid, seeded from
    (config.seed, index) only, so any worker produces the same pass. Vegas distributes the pass's
    ~n_points/n_passes points over whole hypercubes (at least two each), so a pass holds about,
    not exactly, that many points."""
    rng = _stream(config.seed, index + 1)
    mono = monomial_values(integrand.process.powers, np.asarray(config.theta_ref))
    # every pass starts from the adapted grid exactly as a worker receives it, never from the state
    # an earlier pass left behind
    integrator = thaw_integrator(freeze_integrator(integrator))
    integrator.set(neval=max(config.n_points // config.n_passes, 2), adapt=False, ran_array_generator=rng.random)
    for u, wgt, hcube in integrator.random_batch(yield_hcube=True):
        p, dens, pdg, _, _, varied = integrand.evaluate(np.array(u), rng)
        wgt = np.asarray(wgt)
        w = dens * wgt[:, None]
        ref = w @ mono
        keep = ref != 0
        yield Batch(p[keep], w[keep], varied[keep] * wgt[keep, None, None], pdg[keep], int(len(wgt)),
                    float(ref.sum()), _stratified_error(ref, np.asarray(hcube)) ** 2)


def run_pass(integrand: Integrand, integrator: Any, config: GenerationConfig, index: int) -> PassResult:
    """Stage 2: pass ``index`` in memory (see :func:`iter_pass`)."""
    batches = list(iter_pass(integrand, integrator, config, index))
    return PassResult(index, *(np.concatenate([getattr(b, k) for b in batches])
                               for k in ("momenta", "weights", "variations", "pdg")),
                      n_points=sum(b.n_points for b in batches), sum_ref=float(sum(b.sum_ref for b in batches)),
                      var_stratified=float(sum(b.var_stratified for b in batches)))


@dataclass(frozen=True)
class MCError:
    """sigma(theta_ref) and its Monte Carlo error from several passes (pb)."""

    sigma: float
    error: float
    error_stratified: float
    error_passes: float


def estimate_error(passes: list[PassResult]) -> MCError:
    """Stage 3: sigma = mean of the passes' estimates; error = max(vegas' stratified error, spread of
    the passes), since the stratified estimate misses rare large weights when hypercubes hold
    few points."""
    n = len(passes)
    sums = np.array([r.sum_ref for r in passes])
    sigma = float(sums.mean())
    strat = math.sqrt(sum(r.var_stratified for r in passes)) / n
    spread = float(np.std(sums, ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    return MCError(sigma, max(strat, spread), strat, spread)


def _provenance(config: GenerationConfig, error: MCError, adapt_info: dict | None, n_points: int, n_events: int,
                n_passes: int, timings: dict[str, float], execution: dict[str, Any]) -> dict[str, Any]:
    return {
        "cross_section_pb": error.sigma,
        "cross_section_error_pb": error.error,
        "cross_section_error_stratified_pb": error.error_stratified,
        "cross_section_error_passes_pb": error.error_passes,
        "adaptation": adapt_info,
        "n_points": int(n_points),
        "n_events": int(n_events),
        "n_passes": n_passes,
        "config_hash": config.config_hash,
        **{f"time_{k}_s": v for k, v in timings.items()},
        "execution": execution,
        "versions": {"physinf": __version__, "numpy": np.__version__, "python": platform.python_version()},
    }


def _no_events(config: GenerationConfig) -> KinematicsError:
    return KinematicsError(
        f"no phase-space point of {config.process} at sqrt(s) = {config.sqrt_s} GeV passed the cuts {config.cuts}; "
        "loosen the cuts"
    )


def assemble(config: GenerationConfig, model: ComponentModel, passes: list[PassResult], error: MCError,
             adapt_info: dict | None, timings: dict[str, float], execution: dict[str, Any] | None = None,
             generate_started: float | None = None) -> EventSample:
    """Stage 4: the EventSample of the events that passed the cuts, weights averaged over passes.
    ``generate_started``: the ``time.perf_counter()`` at which the passes began; the time to here,
    observables included, becomes ``time_generate_s``."""
    n = len(passes)
    p = np.concatenate([r.momenta for r in passes])
    if not len(p):
        raise _no_events(config)
    w = np.concatenate([r.weights for r in passes]) / n
    varied = np.concatenate([r.variations for r in passes]) / n
    pdg = np.concatenate([r.pdg for r in passes])
    n_points = sum(r.n_points for r in passes)
    observables = model.observables(p)
    if generate_started is not None:
        timings = {**timings, "generate": time.perf_counter() - generate_started}
    provenance = _provenance(config, error, adapt_info, n_points, len(p), n, timings, execution or {"n_workers": 1})
    return EventSample(
        process=model.name, coefficients=model.coefficients, powers=model.powers, labels=model.labels,
        momenta=p, pdg=pdg, weight_components=w, observables=observables,
        theta_ref=np.asarray(config.theta_ref), provenance=provenance,
        variations={f"muF_x{f:g}": varied[:, j] for j, f in enumerate(config.scale_factors)},
        config=config, mc_rel_error=error.error / abs(error.sigma) if error.sigma else None,
        cutflow={"phase-space points": int(n_points), "generator cuts": int(len(p))},
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
    out: str | Path | None = None,
    n_workers: int = 1,
    scheduler: Any = None,
) -> Any:
    """Weighted parton-level events of ``process`` with exact morphing components.

    Args:
      process: a registered process name (``theory.processes.available_processes()``), or a
        component model standing in for one (a process with other SM inputs, a surrogate).
      n_points: phase-space points to evaluate after adaptation (the size of the run, not of the
        sample). Vegas gives every hypercube of its grid a whole number of points (at least two)
        in each of the n_passes passes and rounds down, so the run evaluates at most n_points:
        ~7 % fewer at 1e5 points, up to ~15 % fewer for passes of a few thousand points (the
        number is ``sample.provenance["n_points"]``). Points that fail the cuts are dropped, so
        the sample holds fewer events still (``len(sample)``; ``sample.cutflow`` records both).
      sqrt_s: collider energy in GeV. theta_ref: reference Wilson coefficients (default SM);
        vegas adapts to the weight there and the stored joint score refers to it.
      seed: integer seed (runs are reproducible, bit for bit, whatever n_workers). pdf: LHAPDF
        set name or path to a .dat file (default NNPDF31_lo_as_0118). cuts: generator cuts
        (default: the process's ``default_cuts``). scale: a fixed factorisation scale in GeV, or
        None for the process's dynamic scale. adapt: train the vegas grid first (n_iterations x
        n_adapt evaluations); False gives plain importance sampling on the process's phase-space
        map. n_passes: independent passes over the grid (also the unit of work of a worker). sm:
        SM inputs (default theory.sm.SM).
      scale_factors: factorisation-scale multipliers whose morphing weights are stored as
        variations "muF_x<factor>" (for theory-uncertainty templates); () for none.
      out: an HDF5 path: the events are written there batch by batch (memory bounded by a batch of
        ~1e5 points per pass in flight, not by the run) and an :class:`EventFile` (a lazy view of the
        file) is returned instead of an in-memory EventSample. The path is checked before any work;
        the file appears only when the run has finished (nothing half-written is ever left).
      n_workers: local worker processes that run the passes (1: in this process).
      scheduler: a dask.distributed ``Client`` or scheduler address running the passes instead
        (needs the ``dist`` extra).
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
    return generate_from_config(config, model=model, progress=progress, out=out, n_workers=n_workers,
                                scheduler=scheduler)


def generate_from_config(config: GenerationConfig, *, model: ComponentModel | None = None, progress: bool = False,
                         out: str | Path | None = None, n_workers: int = 1, scheduler: Any = None) -> Any:
    """Run the four stages for a config (resolved first); ``model`` for a non-exact component model.
    ``out``, ``n_workers``, ``scheduler``: as in :func:`generate` (how the run executes, not which
    events it makes: they are not part of the config)."""
    from physinf.simulate import parallel

    executor = parallel.make_executor(n_workers, scheduler)
    writer = None
    if out is not None:
        from physinf.simulate.eventfile import EventWriter

        writer = EventWriter.check(out)  # before any long work
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
    try:
        if writer is None:
            passes = executor.run_passes(integrand, integ, config, bar)
            error = estimate_error(passes)
            # the generation time includes putting the sample together (observables): measured in assemble
            return assemble(config, proc, passes, error, adapt_info, {"adapt": t_adapt}, executor.describe(),
                            generate_started=t0 + t_adapt)
        with writer.open(proc, config) as sink:
            stats = executor.stream_passes(integrand, integ, config, sink, bar)
            error = estimate_error(stats)
            if sink.n_events == 0:
                raise _no_events(config)
            t_gen = time.perf_counter() - t0 - t_adapt
            n_points = sum(s.n_points for s in stats)
            sink.finish(_provenance(config, error, adapt_info, n_points, sink.n_events, len(stats),
                                    {"adapt": t_adapt, "generate": t_gen}, executor.describe()),
                        mc_rel_error=error.error / abs(error.sigma) if error.sigma else None,
                        cutflow={"phase-space points": int(n_points), "generator cuts": int(sink.n_events)},
                        n_passes=len(stats))
        return writer.result()
    finally:
        if bar is not None:
            bar.close()
        executor.close()


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
