"""WBF against Pythia 8's ``HiggsSM:ff2Hff(t:WW)`` + ``(t:ZZ)``, like with like.

Pythia's cross sections (Sigma3ff2HfftWW, Sigma3ff2HfftZZ in SigmaHiggs.cc) approximate the
numerators of |M|^2. With pp12 = pa.pb, pp45 = p1.p2, pp15 = pa.p2, pp24 = pb.p1:

* W fusion: pp12 pp45 for every flavour pair. Exact for quark-quark and antiquark-antiquark
  lines; a quark-antiquark pair needs pp15 pp24 instead.
* Z fusion: (l1^2 l2^2 + r1^2 r2^2) pp12 pp45 + (l1^2 r2^2 + r1^2 l2^2) pp15 pp24 for every pair,
  i.e. the quark-quark chirality structure; for a quark-antiquark pair the two numerators swap.

So Pythia's |M|^2 is the exact one with every line treated as a quark: in physinf's WBF process
that is the same channel with the couplings ``quark_a = quark_b = 1``
(:class:`PythiaNumerators`). The difference matters where pa.p2 pb.p1 and pa.pb p1.p2 differ
most, at small jet separation: Pythia's form suppresses collinear jets in q qbar events
(docs/benchmarks.md, validation section). :func:`pythia_numerator_factors` gives each
physinf event the factor sum_ch L_ch |M_P|^2_ch / sum_ch L_ch |M|^2_ch (same PDFs, scale and
couplings), which turns physinf's exact SM weights into Pythia's approximation, so comparisons
test everything else (phase space, PDFs, couplings, flavour sums) at any statistics.

Couplings: Pythia's defaults (``SMInputs.preset("pythia8")``: alpha_em, sin^2 theta_W = 0.2312
for the W and Z normalisation, sin^2 theta_eff = 0.2315 in the Z vector couplings, m_W = 80.385,
m_Z = 91.1876 GeV) except alpha_em, fixed at ``alphaEMmZ`` on both sides
(``SigmaProcess:alphaEMorder = -1``; physinf's WBF has no per-event alpha_em), and a fixed
factorisation scale. Remaining differences, each well below the statistical precision of a
10^6-event run: Pythia's outgoing quark masses (0.33-4.8 GeV), its full CKM matrix (physinf:
diagonal, b lines dropped from W fusion) and its Higgs Breit-Wigner (4 MeV).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from physinf.simulate import EventSample
from physinf.simulate.generator import Integrand
from theory.errors import InvalidParameterError
from theory.processes.base import Channel, Process
from theory.sm import PYTHIA8, SMInputs
from validation.hard_process import PythiaRun, run_hard_process

__all__ = ["WBF_SM", "PythiaNumerators", "pythia_numerator_factors", "pythia_wbf_events", "wbf_process", "wbf_settings"]

# Pythia 8.317 defaults with alpha_em fixed at alphaEMmZ (SigmaProcess:alphaEMorder = -1)
WBF_SM: SMInputs = PYTHIA8.with_(alpha_running="fixed")


def wbf_process(sm: SMInputs = WBF_SM) -> Process:
    """The registered WBF process with ``sm``, its compiled components shared with the registry's
    instance (``with_sm`` copies share them only once that instance has built them; build first)."""
    from theory.processes.registry import get_process

    base = get_process("wbf")
    base.compiled()
    return base if sm == base.sm else base.with_sm(sm)


class PythiaNumerators:
    """The WBF component model with Pythia's numerators: every channel of ``process`` with both
    lines treated as quarks (``quark_a = quark_b = 1``). Everything else is the process's own."""

    def __init__(self, process: Process) -> None:
        if process.name != "wbf":
            raise InvalidParameterError(f"Pythia's numerator approximation is defined for WBF, not {process.name!r}")
        self._process = process
        self.channels: tuple[Channel, ...] = tuple(
            replace(ch, couplings={**ch.couplings, "quark_a": 1.0, "quark_b": 1.0}) for ch in process.channels)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._process, name)

    @property
    def model_id(self) -> str:
        return "pythia8-numerators"

    def components_for_channels(self, p: np.ndarray, channels: Sequence[Channel]) -> np.ndarray:
        return self._process.components_for_channels(p, channels)


def pythia_numerator_factors(sample: EventSample, process: Process | None = None) -> np.ndarray:
    """Per-event factor |M_Pythia|^2 / |M|^2 at the SM (PDF-weighted sums over the event's
    channels, the sample's own PDFs, scale and couplings from ``sample.config``): multiply the
    SM weights by it to get Pythia's approximation. ``process``: the WBF process with the sample's
    SM inputs (default: rebuilt from the config)."""
    config = sample.config
    if config is None or config.process != "wbf":
        raise InvalidParameterError("pythia_numerator_factors needs a WBF sample made by physinf.simulate.generate")
    config = config.resolved()
    if process is None:
        process = wbf_process(config.sm)
    elif process.name != "wbf" or process.sm != config.sm:
        raise InvalidParameterError("process must be the WBF process with the sample's SM inputs (sample.config.sm)")
    from theory.pdf import load_pdf

    pdf = load_pdf(config.pdf)
    p = sample.momenta
    x1 = (p[:, 0, 0] + p[:, 0, 3]) / config.sqrt_s
    x2 = (p[:, 1, 0] - p[:, 1, 3]) / config.sqrt_s
    exact = Integrand(process, config.sqrt_s, config.cuts, pdf, config.scale_gev).matrix_weights(p, x1, x2)[:, 0]
    approx = Integrand(PythiaNumerators(process), config.sqrt_s, config.cuts, pdf,
                       config.scale_gev).matrix_weights(p, x1, x2)[:, 0]
    return approx / exact


def wbf_settings(fixed_scale: float = 125.0, currents: Sequence[str] = ("WW", "ZZ")) -> list[str]:
    """Pythia settings of hard-process WBF with Pythia's default couplings, alpha_em fixed at
    alphaEMmZ and a fixed factorisation scale (GeV)."""
    return ["ProcessLevel:resonanceDecays = off", "SigmaProcess:alphaEMorder = -1",
            "SigmaProcess:factorScale3VV = 6", f"SigmaProcess:factorFixScale = {float(fixed_scale) ** 2}",
            *[f"HiggsSM:ff2Hff(t:{c}) = on" for c in currents]]


def _rows(process: Any) -> list:
    incoming, outgoing, higgs = [], [], None
    for i in range(process.size()):
        part = process[i]
        if part.status() == -21:
            incoming.append(part)
        elif part.status() == 23:
            if part.id() == 25:
                higgs = part
            else:
                outgoing.append(part)
    pa, pb = sorted(incoming, key=lambda q: -q.pz())
    # physinf's p1 comes from line a: Pythia lists the outgoing quarks in line order (3 -> 6, 4 -> 7)
    if pa is not incoming[0]:
        outgoing = outgoing[::-1]
    return [pa, pb, outgoing[0], outgoing[1], higgs]


def pythia_wbf_events(n_events: int, *, fixed_scale: float = 125.0, sqrt_s: float = 13000.0,
                      pdf_file: str | None = None, seed: int = 1, currents: Sequence[str] = ("WW", "ZZ"),
                      progress: bool = False) -> PythiaRun:
    """``n_events`` hard-process WBF events from Pythia 8 (momenta (pa, pb, p1, p2, pH), p1 from the
    beam along +z), with the settings of :func:`wbf_settings`."""
    return run_hard_process(wbf_settings(fixed_scale, currents), n_events, _rows, sqrt_s=sqrt_s,
                            pdf_file=pdf_file, seed=seed, progress=progress)
