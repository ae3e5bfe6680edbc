"""Pythia 8 as an independent reference for WBF: hard-process-only generation.

Pythia's built-in HiggsSM:ff2Hff(t:WW) and (t:ZZ) run on the same LHAPDF grid file with
couplings matched to physinf's: alpha_em fixed at StandardModel:alphaEMmZ (Pythia cannot
take the G_mu value, outside its allowed range), one sin^2 theta_W for masses and vector
couplings, Pythia's m_W and m_Z, and a fixed factorisation scale. ``matched_sm_inputs``
returns the physinf SMInputs that reproduce those couplings.

Known remaining differences (physics-wise small): Pythia gives outgoing quarks constituent
masses (0.33 GeV for d, u) while physinf's are massless; Pythia uses the full CKM matrix
(including b -> u, c) and physinf a diagonal one; Pythia samples the Higgs mass from its
(4 MeV wide) Breit-Wigner.
"""

from __future__ import annotations

import os
import time

import numpy as np

from physinf._io import require
from theory.errors import PDFError, PhysinfError
from theory.sm import SMInputs

__all__ = [
    "PYTHIA_ALPHA_EM_MZ",
    "PYTHIA_SW2",
    "RATE_PROCESSES",
    "matched_sm_inputs",
    "pythia_rate",
    "pythia_time_to_error",
    "pythia_wbf",
]

PYTHIA_ALPHA_EM_MZ = 0.00781751
PYTHIA_SW2 = 0.2312


def _import_pythia():
    return require("pythia8mc", "shower", "the Pythia 8 reference")


def matched_sm_inputs(m_h: float = 125.0) -> SMInputs:
    """SM inputs with Pythia 8.317's default masses and the couplings pythia_wbf sets."""
    return SMInputs(mW=80.385, mZ=91.1876, mH=m_h, alpha_fixed=PYTHIA_ALPHA_EM_MZ, sw2_fixed=PYTHIA_SW2)


def pythia_wbf(
    n_events: int,
    *,
    sqrt_s: float = 13000.0,
    pdf_file: str | None = None,
    fixed_scale: float = 125.0,
    seed: int = 1,
    currents: tuple[str, ...] = ("WW", "ZZ"),
    m_h: float = 125.0,
) -> dict:
    """Generate hard-process WBF events with Pythia 8 and return sigma and momenta.

    Returns a dict with sigma_pb, sigma_error_pb, events_per_second, and momenta (N, 5, 4)
    ordered (pa, pb, p1, p2, pH) as in physinf (p1 from the beam moving along +z).
    """
    pythia8mc = _import_pythia()
    if pdf_file is None:
        from theory.pdf import load_pdf

        pdf_file = str(load_pdf("NNPDF31_lo_as_0118").path)
    if not os.path.exists(pdf_file):
        raise PDFError(f"PDF grid file {pdf_file} not found; pass pdf_file= the path of an LHAPDF .dat member file")
    py = pythia8mc.Pythia("", False)
    settings = [
        f"Beams:eCM = {sqrt_s}",
        f"PDF:pSet = LHAGrid1:{pdf_file}",
        "PartonLevel:all = off",
        "HadronLevel:all = off",
        "ProcessLevel:resonanceDecays = off",
        "SigmaProcess:alphaEMorder = -1",
        f"StandardModel:alphaEMmZ = {PYTHIA_ALPHA_EM_MZ}",
        f"StandardModel:sin2thetaW = {PYTHIA_SW2}",
        f"StandardModel:sin2thetaWbar = {PYTHIA_SW2}",
        "SigmaProcess:factorScale3VV = 6",
        f"SigmaProcess:factorFixScale = {fixed_scale**2}",
        f"25:m0 = {m_h}",
        "Random:setSeed = on",
        f"Random:seed = {seed}",
        "Next:numberCount = 0",
        "Print:quiet = on",
    ] + [f"HiggsSM:ff2Hff(t:{c}) = on" for c in currents]
    for line in settings:
        if not py.readString(line):
            raise PhysinfError(f"Pythia rejected the setting {line!r}")
    if not py.init():
        raise PhysinfError("Pythia failed to initialise the WBF processes")
    out = np.zeros((n_events, 5, 4))
    t0 = time.perf_counter()
    n = 0
    while n < n_events:
        if not py.next():
            continue
        ev = py.process
        rows = {}
        for i in range(ev.size()):
            part = ev[i]
            if part.status() == -21:
                rows.setdefault("in", []).append(part)
            elif part.status() == 23:
                rows.setdefault("h" if part.id() == 25 else "out", []).append(part)
        pa, pb = sorted(rows["in"], key=lambda q: -q.pz())
        # physinf's p1 comes from line a: Pythia lists outgoing quarks in line order (3 -> 6, 4 -> 7)
        q1, q2 = rows["out"]
        for k, part in enumerate((pa, pb, q1, q2, rows["h"][0])):
            out[n, k] = (part.e(), part.px(), part.py(), part.pz())
        n += 1
    elapsed = time.perf_counter() - t0
    info = py.infoPython()
    return {
        "sigma_pb": info.sigmaGen() * 1e9,
        "sigma_error_pb": info.sigmaErr() * 1e9,
        "events_per_second": n_events / elapsed,
        "momenta": out,
        "settings": settings,
    }


# ---------------------------------------------------------------------------- rates (issue 10)
# Hard-process-only settings of the processes the generation benchmark times against physinf.
# Separate from pythia_wbf (the cross-section reference): these only need Pythia's speed and its
# running sigma estimate, with cuts close to physinf's default generator cuts.
RATE_PROCESSES: dict[str, list[str]] = {
    # WBF exactly as pythia_wbf (inclusive, fixed scale 125 GeV)
    "wbf": ["HiggsSM:ff2Hff(t:WW) = on", "HiggsSM:ff2Hff(t:ZZ) = on", "SigmaProcess:factorScale3VV = 6",
            "SigmaProcess:factorFixScale = 15625", "25:m0 = 125.0"],
    # q qbar -> gamma*/Z -> e+ e-, m_ll > 50 GeV (physinf's drell_yan default cut)
    "drell_yan": ["WeakSingleBoson:ffbar2gmZ = on", "PhaseSpace:mHatMin = 50", "23:onMode = off", "23:onIfAny = 11"],
    # g g -> g g g with pT > 50 GeV for all three and Delta R > 0.4 (physinf's gg_ggg cuts, without |eta| < 2.5)
    "gg_ggg": ["HardQCD:gg2ggg = on", "PhaseSpace:pTHatMin = 50", "PhaseSpace:pTHat3Min = 50", "PhaseSpace:RsepMin = 0.4"],
}


def _rate_pythia(process: str, seed: int, sqrt_s: float, pdf_file: str | None):
    pythia8mc = _import_pythia()
    if process not in RATE_PROCESSES:
        raise PhysinfError(f"no Pythia rate settings for {process!r}; known: {', '.join(RATE_PROCESSES)}")
    if pdf_file is None:
        from theory.pdf import load_pdf

        pdf_file = str(load_pdf("NNPDF31_lo_as_0118").path)
    py = pythia8mc.Pythia("", False)
    settings = [f"Beams:eCM = {sqrt_s}", f"PDF:pSet = LHAGrid1:{pdf_file}", "PartonLevel:all = off",
                "HadronLevel:all = off", "Random:setSeed = on", f"Random:seed = {seed}", "Next:numberCount = 0",
                "Print:quiet = on", *RATE_PROCESSES[process]]
    if process == "wbf":
        settings += ["ProcessLevel:resonanceDecays = off", "SigmaProcess:alphaEMorder = -1",
                     f"StandardModel:alphaEMmZ = {PYTHIA_ALPHA_EM_MZ}", f"StandardModel:sin2thetaW = {PYTHIA_SW2}",
                     f"StandardModel:sin2thetaWbar = {PYTHIA_SW2}"]
    for line in settings:
        if not py.readString(line):
            raise PhysinfError(f"Pythia rejected the setting {line!r}")
    return py, settings


def pythia_rate(process: str, n_events: int, *, seed: int = 1, sqrt_s: float = 13000.0, pdf_file: str | None = None) -> dict:
    """Hard-process events per second of Pythia 8 for ``process`` (a key of RATE_PROCESSES), after
    initialisation (per wall-clock second and per CPU second of this process), with its cross
    section and error after ``n_events`` events."""
    py, settings = _rate_pythia(process, seed, sqrt_s, pdf_file)
    t0 = time.perf_counter()
    if not py.init():
        raise PhysinfError(f"Pythia failed to initialise {process}")
    t_init = time.perf_counter() - t0
    n = 0
    t0, c0 = time.perf_counter(), time.process_time()
    while n < n_events:
        if py.next():
            n += 1
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    info = py.infoPython()
    return {"events_per_second": n_events / elapsed, "events_per_cpu_second": n_events / cpu, "time_init_s": t_init,
            "sigma_pb": info.sigmaGen() * 1e9, "sigma_error_pb": info.sigmaErr() * 1e9, "n_events": n_events,
            "settings": settings}


def pythia_time_to_error(process: str, rel_error: float = 0.01, *, seed: int = 1, sqrt_s: float = 13000.0,
                         pdf_file: str | None = None, max_events: int = 10_000_000) -> dict:
    """Wall and CPU time (initialisation included) until Pythia's own sigmaErr/sigmaGen falls to
    ``rel_error`` (checked every 100 events)."""
    py, _ = _rate_pythia(process, seed, sqrt_s, pdf_file)
    t0, c0 = time.perf_counter(), time.process_time()
    if not py.init():
        raise PhysinfError(f"Pythia failed to initialise {process}")
    n = 0
    while n < max_events:
        if py.next():
            n += 1
            if n % 100 == 0:
                info = py.infoPython()  # a snapshot: fetch it again to see the running estimate
                if info.sigmaGen() > 0 and info.sigmaErr() <= rel_error * info.sigmaGen():
                    break
    info = py.infoPython()
    return {"time_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "n_events": n, "sigma_pb": info.sigmaGen() * 1e9,
            "sigma_error_pb": info.sigmaErr() * 1e9}
