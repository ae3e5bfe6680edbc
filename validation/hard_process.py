"""Running Pythia 8 on a hard process only, and reading back the couplings it used.

One loop for every comparison (``validation.pythia_dy``, ``validation.pythia_wbf``): Pythia's
process record gives the incoming partons (status -21) and the outgoing particles, which a
``rows`` function puts in physinf's label order; sigma and its error come from Pythia's own
estimate after the run. ``readback`` records the couplings, masses and widths Pythia really used
(its widths are recomputed from partial widths at initialisation, so they are read, not assumed).

Pythia's quoted sigma error: ``Info::sigmaErr`` is the statistical error of its accept-reject
estimate; it is reliable only for long runs (docs/benchmarks.md, validation section, measures the
spread of independent 10^4-event runs against their quoted errors). Cross-section comparisons
therefore use long runs or the spread of several seeds, never one short run's quoted error.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from physinf._io import require
from theory.errors import InvalidParameterError, PDFError, PhysinfError

__all__ = ["PythiaRun", "default_pdf_file", "initialised", "readback", "run_hard_process"]


@dataclass(frozen=True)
class PythiaRun:
    """Events of one Pythia run: sigma (pb) with Pythia's error, momenta (N, P, 4) in physinf's label
    order, incoming flavours (N, 2), speed, the settings and the read-back couplings."""

    sigma_pb: float
    sigma_error_pb: float
    momenta: np.ndarray
    flavours: np.ndarray
    events_per_second: float
    settings: tuple[str, ...]
    couplings: dict[str, float] = field(default_factory=dict)

    @property
    def n_events(self) -> int:
        return int(self.momenta.shape[0])


def default_pdf_file(name: str = "NNPDF31_lo_as_0118") -> str:
    """Path of the LHAPDF member-0 grid file physinf uses by default (shared with Pythia's LHAGrid1)."""
    from theory.pdf import load_pdf

    return str(load_pdf(name).path)


def readback(py: Any) -> dict[str, float]:
    """Couplings, masses and widths an initialised Pythia instance uses in its hard processes."""
    c, pd, st = py.coupSM, py.particleData, py.settings
    return {
        "alphaEM0": st.parm("StandardModel:alphaEM0"), "alphaEMmZ": st.parm("StandardModel:alphaEMmZ"),
        "alphaEMorder": float(st.mode("SigmaProcess:alphaEMorder")), "alphaEM(mZ^2)": c.alphaEM(pd.m0(23) ** 2),
        "sin2thetaW": c.sin2thetaW(), "sin2thetaWbar": c.sin2thetaWbar(), "GF": c.GF(),
        "alphaSvalue": st.parm("SigmaProcess:alphaSvalue"),
        "mZ": pd.m0(23), "wZ": pd.mWidth(23), "mW": pd.m0(24), "wW": pd.mWidth(24),
        "mH": pd.m0(25), "wH": pd.mWidth(25), "mt": pd.m0(6),
    }


def _init(settings: Sequence[str]) -> Any:
    pythia8mc = require("pythia8mc", "shower", "the Pythia 8 reference")
    py = pythia8mc.Pythia("", False)
    for line in settings:
        if not py.readString(line):
            raise InvalidParameterError(f"Pythia rejected the setting {line!r}; see its manual (share/Pythia8/htmldoc) for the names")
    if not py.init():
        raise PhysinfError(f"Pythia failed to initialise with the settings {list(settings)}")
    return py


def run_hard_process(process_settings: Sequence[str], n_events: int, rows: Callable[[Any], list], *,
                     sqrt_s: float = 13000.0, pdf_file: str | None = None, seed: int = 1,
                     progress: bool = False) -> PythiaRun:
    """Generate ``n_events`` hard-process events (no shower, no hadronisation) with
    ``process_settings`` on top of the common ones (beams, PDF grid file, seed).

    ``rows(process_record)`` returns the Particle objects of one event in physinf's label order
    (incoming partons first). Pythia's event loop is in Python (about 2e4 events per second)."""
    if isinstance(n_events, bool) or not isinstance(n_events, int) or n_events < 1:
        raise InvalidParameterError(f"n_events must be a positive integer, got {n_events!r}")
    pdf_file = pdf_file or default_pdf_file()
    if not os.path.exists(pdf_file):
        raise PDFError(f"PDF grid file {pdf_file} not found; pass pdf_file= the path of an LHAPDF .dat member file")
    settings = (f"Beams:eCM = {sqrt_s}", f"PDF:pSet = LHAGrid1:{pdf_file}", "PartonLevel:all = off",
                "HadronLevel:all = off", "Random:setSeed = on", f"Random:seed = {seed}", "Next:numberCount = 0",
                "Print:quiet = on", *process_settings)
    py = _init(settings)
    momenta, flavours = None, np.zeros((n_events, 2), dtype=int)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_events, desc="pythia", unit="ev", mininterval=2.0)
    t0 = time.perf_counter()
    n = 0
    while n < n_events:
        if not py.next():
            continue
        parts = rows(py.process)
        if momenta is None:
            momenta = np.zeros((n_events, len(parts), 4))
        for k, part in enumerate(parts):
            p = part.p()
            momenta[n, k] = (p.e(), p.px(), p.py(), p.pz())
        flavours[n] = (parts[0].id(), parts[1].id())
        n += 1
        if bar is not None and n % 10000 == 0:
            bar.update(10000)
    elapsed = time.perf_counter() - t0
    if bar is not None:
        bar.update(n_events - bar.n)
        bar.close()
    info = py.infoPython()
    return PythiaRun(sigma_pb=info.sigmaGen() * 1e9, sigma_error_pb=info.sigmaErr() * 1e9, momenta=momenta,
                     flavours=flavours, events_per_second=n_events / elapsed, settings=settings, couplings=readback(py))


def initialised(process_settings: Sequence[str], *, sqrt_s: float = 13000.0, pdf_file: str | None = None) -> Any:
    """An initialised Pythia instance (no events), e.g. to read back its couplings."""
    pdf_file = pdf_file or default_pdf_file()
    return _init((f"Beams:eCM = {sqrt_s}", f"PDF:pSet = LHAGrid1:{pdf_file}", "PartonLevel:all = off",
                  "HadronLevel:all = off", "Print:quiet = on", *process_settings))
