"""Benchmark: parton-level generation speed and scale against Pythia 8 (issue 10).

Measured in one run, one core unless said (OMP/BLAS threads 1; physinf's numba kernels are
compiled and cached before any timing, and that one-off cost is reported separately):

Rates are events per CPU second of the measuring process (what one core delivers, robust to
other jobs on a shared machine), with the wall-clock rates alongside (``*_wall``).

* WBF weighted events per second after adaptation (all 132 channels, 6 morphing components and 2
  factorisation-scale variations stored), matrix-element-only evaluations per second, and
  Pythia 8's hard-process rate of the same process: ``speed_ratio``;
* whole-run rates, adaptation included, at two sizes, and the adaptation's share of the larger
  (``adapt_fraction_1e6``);
* time to a 1 % MC error on sigma: physinf (whole run, default cuts) vs Pythia's own sigmaErr;
* unweighted events per second (physinf's unweighting at theta_ref) vs Pythia;
* the same for Drell-Yan and g g -> g g g;
* peak resident memory of ``generate(..., out=file)`` (a fresh process each) vs N, and a lazy read;
* the speed-up with 2 local worker processes, and bit-identity with a dask LocalCluster of 2.

Usage: python benchmarks/generation.py [--json docs/results/generation.json] [--figures docs/figures] [--quick]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REPEATS = 3  # alternating physinf / Pythia rate measurements per process
SIZES = {  # quick, full
    "speed": (20_000, 200_000),
    "whole": ((20_000, 100_000), (100_000, 1_000_000)),
    "rss": ((10_000, 200_000), (100_000, 1_000_000, 10_000_000)),
    "workers": (100_000, 1_000_000),
    "dask": (20_000, 100_000),
    "pythia": (5_000, 50_000),
    "pythia_ggg": (500, 3_000),
    "other": (20_000, 200_000),
}


def _size(key: str, quick: bool):
    return SIZES[key][0 if quick else 1]


def _load() -> float:
    return os.getloadavg()[0]


def _timed_generate(process: str, n: int, **kw):
    from physinf.simulate import generate

    t0 = time.perf_counter()
    s = generate(process, n, **kw)
    return s, time.perf_counter() - t0


def staged_run(process: str, n: int, seed: int, **kw) -> tuple:
    """``generate``'s four stages called one by one (the same functions, serial executor), each
    timed in wall-clock and in CPU seconds of this process (robust on a shared machine)."""
    from physinf.simulate import GenerationConfig
    from physinf.simulate.generator import adapt_grid, assemble, build_integrand, estimate_error, run_pass

    clock = {}
    w0, c0 = time.perf_counter(), time.process_time()
    cfg = GenerationConfig(process=process, n_points=n, seed=seed, **kw).resolved()
    integrand = build_integrand(cfg)
    grid, info = adapt_grid(integrand, cfg)
    w1, c1 = time.perf_counter(), time.process_time()
    passes = [run_pass(integrand, grid, cfg, k) for k in range(cfg.n_passes)]
    sample = assemble(cfg, integrand.process, passes, estimate_error(passes), info, {}, None)
    w2, c2 = time.perf_counter(), time.process_time()
    clock.update(adapt_wall_s=w1 - w0, adapt_cpu_s=c1 - c0, generate_wall_s=w2 - w1, generate_cpu_s=c2 - c1)
    return sample, clock


def warm_up(processes: list[str]) -> dict:
    """Build the SymPy expressions and compile (or load from the disk cache) every kernel once."""
    out = {}
    for name in processes:
        t0 = time.perf_counter()
        _timed_generate(name, 2000, seed=0, n_adapt=2000, n_iterations=2)
        out[name] = time.perf_counter() - t0
    return out


def me_rate(sample) -> dict:
    """Matrix-element-only evaluations per CPU second: every coupling group of the process at the
    sample's momenta (what one phase-space point costs in |M|^2: the event part once, the coupling part per group)."""
    from physinf.simulate.generator import build_integrand

    integrand = build_integrand(sample.config)
    p = np.ascontiguousarray(sample.momenta)
    reps = integrand.representatives
    integrand.process.components_for_channels(p[:100], reps)
    t0 = time.process_time()
    integrand.process.components_for_channels(p, reps)
    dt = time.process_time() - t0
    return {"points_per_second": len(p) / dt, "channel_evaluations_per_second": len(p) * len(integrand.process.channels) / dt,
            "coupling_groups": len(reps), "channels": len(integrand.process.channels)}


def time_to_error(process: str, target: float = 0.01, **kw) -> dict:
    """Wall time of the whole physinf run (integrand, adaptation, passes) whose quoted MC error
    reaches ``target``: a pilot run sizes it by 1/sqrt(N); grown by 1.5 until it does."""
    pilot, _ = _timed_generate(process, 4000, seed=91, scale_factors=(), **kw)
    rel = pilot.cross_section_error() / pilot.cross_section()
    n = max(int(4000 * (rel / (0.9 * target)) ** 2), 1000)
    for attempt in range(6):
        c0 = time.process_time()
        s, dt = _timed_generate(process, n, seed=92 + attempt, scale_factors=(), **kw)
        cpu = time.process_time() - c0
        rel = s.cross_section_error() / s.cross_section()
        if rel <= target:
            return {"time_s": dt, "cpu_s": cpu, "n_points": s.provenance["n_points"], "rel_error": rel, "settings": kw}
        n = int(n * 1.5)
    return {"time_s": math.nan, "cpu_s": math.nan, "n_points": n, "rel_error": rel, "settings": kw}


FAST_ADAPT = {"n_adapt": 4000, "n_iterations": 5}  # adaptation sized for a 1 % result


def process_figures(process: str, quick: bool, pythia_key: str | None, n_pythia: int) -> dict:
    """Weighted, whole-run and unweighted rates (per CPU second: one core; and per wall second),
    matrix element alone, time to 1 %, and Pythia's figures measured right after."""
    n = _size("speed" if process == "wbf" else "other", quick)
    # physinf and Pythia alternate REPEATS times; each rate is the median of its repeats, so a
    # burst of load from other jobs on the shared machine moves neither side alone
    rounds = []
    for r in range(REPEATS):
        run = staged_run(process, n, seed=1 + r)
        rate = run[0].provenance["n_points"] / run[1]["generate_cpu_s"]
        rounds.append({"run": run, "events_per_s": rate, "events_per_wall_s": run[0].provenance["n_points"] / run[1]["generate_wall_s"]})
        if pythia_key is not None:
            from validation.pythia import pythia_rate

            ref = pythia_rate(pythia_key, n_pythia, seed=2 + r)
            rounds[-1]["pythia"] = ref
    s, clock = rounds[0]["run"]
    n_pts = s.provenance["n_points"]
    rng = np.random.default_rng(3)
    c0 = time.process_time()
    unw = s.unweighted(rng)
    t_unw = time.process_time() - c0
    res = {
        "n_points": n_pts,
        "n_events_after_cuts": len(s),
        **clock,
        "events_per_s": float(np.median([r["events_per_s"] for r in rounds])),
        "events_per_wall_s": float(np.median([r["events_per_wall_s"] for r in rounds])),
        "repeats": [{"events_per_s": r["events_per_s"], "generate_cpu_s": r["run"][1]["generate_cpu_s"],
                     **({"pythia_events_per_cpu_second": r["pythia"]["events_per_cpu_second"]} if "pythia" in r else {})}
                    for r in rounds],
        "events_after_cuts_per_s": len(s) / clock["generate_cpu_s"],
        "events_per_s_incl_adaptation": n_pts / (clock["generate_cpu_s"] + clock["adapt_cpu_s"]),
        "sigma_pb": s.cross_section(),
        "sigma_error_pb": s.cross_section_error(),
        "unweighted_events": len(unw),
        "unweighting_efficiency": len(unw) / len(s),
        "unweighted_events_per_s": len(unw) / (clock["generate_cpu_s"] + t_unw),
        "matrix_element": me_rate(s),
        "time_to_1pct": time_to_error(process, **FAST_ADAPT),
    }
    if pythia_key is not None:
        from validation.pythia import pythia_time_to_error

        ref = dict(rounds[0]["pythia"])
        for key in ("events_per_second", "events_per_cpu_second"):
            ref[key] = float(np.median([r["pythia"][key] for r in rounds]))
        res["pythia"] = ref
        res["pythia"]["time_to_1pct"] = pythia_time_to_error(pythia_key, 0.01, seed=3)
        res["speed_ratio"] = res["events_per_s"] / ref["events_per_cpu_second"]
        res["speed_ratio_wall"] = res["events_per_wall_s"] / ref["events_per_second"]
        res["unweighted_speed_ratio"] = res["unweighted_events_per_s"] / ref["events_per_cpu_second"]
        res["time_to_1pct_ratio"] = res["time_to_1pct"]["cpu_s"] / res["pythia"]["time_to_1pct"]["cpu_s"]
        res["time_to_1pct_ratio_wall"] = res["time_to_1pct"]["time_s"] / res["pythia"]["time_to_1pct"]["time_s"]
    return res


def whole_runs(quick: bool) -> list[dict]:
    rows = []
    for n in _size("whole", quick):
        s, clock = staged_run("wbf", n, seed=5)
        cpu = clock["adapt_cpu_s"] + clock["generate_cpu_s"]
        rows.append({"n_points_requested": n, "n_points": s.provenance["n_points"], "cpu_total_s": cpu,
                     "wall_total_s": clock["adapt_wall_s"] + clock["generate_wall_s"], **clock,
                     "adapt_fraction": clock["adapt_cpu_s"] / cpu,
                     "adapt_fraction_wall": clock["adapt_wall_s"] / (clock["adapt_wall_s"] + clock["generate_wall_s"]),
                     "events_per_s_incl_adaptation": s.provenance["n_points"] / cpu,
                     "rel_error": s.cross_section_error() / s.cross_section()})
    return rows


_RSS_CHILD = r"""
import os, sys, time, resource, json
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"): os.environ.setdefault(v, "1")
sys.path.insert(0, sys.argv[3])
from physinf.simulate import generate, EventSample
t0 = time.perf_counter()
f = generate("wbf", int(sys.argv[1]), seed=7, out=sys.argv[2])
t = time.perf_counter() - t0
def hwm():
    # peak RSS of this process image (VmHWM); getrusage's ru_maxrss would include the parent's RSS at fork
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024**2
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
rss = hwm()
t1 = time.perf_counter()
lazy = EventSample.open(sys.argv[2])
col = lazy.column("delta_phi_jj"); part = lazy[1000:2000]
t_read = time.perf_counter() - t1
print(json.dumps({"n_points": f.provenance["n_points"], "n_events": len(f), "time_s": t, "peak_rss_gb": rss,
                  "file_gb": os.path.getsize(sys.argv[2]) / 1024**3, "lazy_read_s": t_read, "sigma_pb": f.cross_section(),
                  "rel_error": f.mc_rel_error, "rss_after_lazy_read_gb": hwm()}))
"""


def peak_rss(quick: bool) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("PHYSINF_BENCH_TMP")) as tmp:
        for n in _size("rss", quick):
            path = Path(tmp) / f"wbf_{n}.h5"
            out = subprocess.run([sys.executable, "-c", _RSS_CHILD, str(n), str(path), str(ROOT)], capture_output=True,
                                 text=True, check=True)
            rows.append({"n_points_requested": n, **json.loads(out.stdout.strip().splitlines()[-1])})
            path.unlink()
    return rows


def workers(quick: bool) -> dict:
    n = _size("workers", quick)
    _timed_generate("wbf", 4000, seed=8, n_workers=2)  # start the worker processes (kept between runs)
    s1, t1 = _timed_generate("wbf", n, seed=8)
    s2, t2 = _timed_generate("wbf", n, seed=8, n_workers=2)
    same = bool(np.array_equal(s1.weight_components, s2.weight_components) and np.array_equal(s1.momenta, s2.momenta))
    return {"n_points": s1.provenance["n_points"], "time_1_worker_s": t1, "time_2_workers_s": t2, "speedup": t1 / t2,
            "note": "wall clock, worker processes already started; the machine is shared (see load_average_*)",
            "passes_time_1_s": s1.provenance["time_generate_s"], "passes_time_2_s": s2.provenance["time_generate_s"],
            "passes_speedup": s1.provenance["time_generate_s"] / s2.provenance["time_generate_s"], "identical": same}


def dask_check(quick: bool) -> dict:
    from distributed import Client, LocalCluster

    n = _size("dask", quick)
    serial, t1 = _timed_generate("wbf", n, seed=9)
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        dist, t2 = _timed_generate("wbf", n, seed=9, scheduler=client)
    same = all(np.array_equal(a, b) for a, b in ((serial.momenta, dist.momenta), (serial.pdg, dist.pdg),
                                                  (serial.weight_components, dist.weight_components)))
    same = same and all(np.array_equal(serial.variations[k], dist.variations[k]) for k in serial.variations)
    return {"n_points": serial.provenance["n_points"], "identical": bool(same), "time_serial_s": t1, "time_dask_s": t2,
            "sigma_serial_pb": serial.cross_section(), "sigma_dask_pb": dist.cross_section()}


def mc_error_vs_n(quick: bool) -> list[dict]:
    from physinf.simulate import generate

    rows = []
    for adapt in (True, False):
        for n in ([2000, 8000, 32000] if quick else [2000, 8000, 32000, 128000]):
            g = generate("wbf", n, seed=100 + n, adapt=adapt)
            rows.append({"adapt": adapt, "n_points": g.provenance["n_points"], "sigma_pb": g.cross_section(),
                         "rel_error": g.cross_section_error() / g.cross_section()})
    return rows


def machine() -> dict:
    import numpy
    import vegas

    from theory.processes._compile import kernel_backend

    try:
        import torch

        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    except ImportError:
        gpu = "none"
    try:
        import numba

        numba_version = numba.__version__
    except ImportError:
        numba_version = None
    try:
        import pythia8mc  # noqa: F401

        pythia = "8.317 (pythia8mc)"
    except ImportError:
        pythia = None
    return {"cores": os.cpu_count(), "gpu": gpu, "python": platform.python_version(), "numpy": numpy.__version__,
            "vegas": vegas.__version__, "numba": numba_version, "kernel_backend": kernel_backend(), "pythia": pythia,
            "platform": platform.platform(), "threads_per_process": os.environ.get("OMP_NUM_THREADS")}


def measure(quick: bool) -> dict:
    out: dict = {"quick": quick, "machine": machine(), "load_average_start": _load()}
    out["compile_and_build_s"] = warm_up(["wbf", "drell_yan", "gg_ggg"])
    t_start = time.perf_counter()
    wbf = process_figures("wbf", quick, "wbf", _size("pythia", quick))
    out["wbf"] = wbf
    out["wbf_events_per_s"] = wbf["events_per_s"]
    out["pythia_events_per_s"] = wbf["pythia"]["events_per_cpu_second"]
    out["rates_are"] = "events per CPU second of the measuring process (one core); *_wall keys: per wall-clock second"
    out["speed_ratio"] = wbf["speed_ratio"]
    out["me_evaluations_per_s"] = wbf["matrix_element"]["points_per_second"]
    out["time_to_1pct_ratio"] = wbf["time_to_1pct_ratio"]
    out["unweighted_speed_ratio"] = wbf["unweighted_speed_ratio"]
    out["whole_runs"] = whole_runs(quick)
    out["adapt_fraction_1e6"] = out["whole_runs"][-1]["adapt_fraction"]
    out["drell_yan"] = process_figures("drell_yan", quick, "drell_yan", _size("pythia", quick))
    out["gg_ggg"] = process_figures("gg_ggg", quick, "gg_ggg", _size("pythia_ggg", quick))
    out["workers"] = workers(quick)
    out["dask"] = dask_check(quick)
    out["dask_identical"] = out["dask"]["identical"]
    out["peak_rss"] = peak_rss(quick)
    out["peak_rss_gb_1e7"] = out["peak_rss"][-1]["peak_rss_gb"]
    out["peak_rss_gb_1e7_n_points"] = out["peak_rss"][-1]["n_points"]
    out["mc_error_vs_n"] = mc_error_vs_n(quick)
    out["wall_time_s"] = time.perf_counter() - t_start
    out["load_average_end"] = _load()
    return out


def report(res: dict) -> str:
    w = res["wbf"]
    lines = [
        f"machine: {res['machine']['cores']} cores, GPU {res['machine']['gpu']}, kernels {res['machine']['kernel_backend']}; "
        f"load average {res['load_average_start']:.2f} at start, {res['load_average_end']:.2f} at end",
        f"WBF: {w['events_per_s']:,.0f} weighted events per CPU second after adaptation (Pythia 8 hard process "
        f"{w['pythia']['events_per_cpu_second']:,.0f}): ratio {res['speed_ratio']:.2f} (wall clock: "
        f"{w['events_per_wall_s']:,.0f}/s vs {w['pythia']['events_per_second']:,.0f}/s, {w['speed_ratio_wall']:.2f}); "
        f"medians of {len(w['repeats'])} alternating runs, physinf "
        + ", ".join(f"{r['events_per_s']:,.0f}" for r in w["repeats"]) + ", Pythia "
        + ", ".join(f"{r['pythia_events_per_cpu_second']:,.0f}" for r in w["repeats"]),
        f"  |M|^2 only: {w['matrix_element']['points_per_second']:,.0f} points/s ({w['matrix_element']['channels']} channels, "
        f"{w['matrix_element']['channel_evaluations_per_second']:,.0f} channel evaluations/s)",
        f"  time to 1% on sigma (CPU): physinf {w['time_to_1pct']['cpu_s']:.2f} s, Pythia {w['pythia']['time_to_1pct']['cpu_s']:.2f} s "
        f"(ratio {res['time_to_1pct_ratio']:.2f}; wall {w['time_to_1pct_ratio_wall']:.2f})",
        f"  unweighted: {w['unweighted_events_per_s']:,.0f}/s (efficiency {w['unweighting_efficiency']:.3f}), ratio to Pythia "
        f"{res['unweighted_speed_ratio']:.2f}",
    ]
    for r in res["whole_runs"]:
        lines.append(f"  whole run N={r['n_points']:,}: {r['events_per_s_incl_adaptation']:,.0f}/CPU s incl. adaptation, "
                     f"adaptation {r['adapt_fraction']:.1%} of {r['cpu_total_s']:.1f} CPU s")
    for name in ("drell_yan", "gg_ggg"):
        p = res[name]
        lines.append(f"{name}: {p['events_per_s']:,.0f}/CPU s after adaptation vs Pythia {p['pythia']['events_per_cpu_second']:,.0f} "
                     f"(ratio {p['speed_ratio']:.2f}); time to 1% {p['time_to_1pct']['cpu_s']:.2f} vs "
                     f"{p['pythia']['time_to_1pct']['cpu_s']:.2f} CPU s; unweighted {p['unweighted_events_per_s']:,.0f}/CPU s "
                     f"(ratio {p['unweighted_speed_ratio']:.2f})")
    wk = res["workers"]
    lines.append(f"2 workers, N={wk['n_points']:,}: whole run x{wk['speedup']:.2f}, passes x{wk['passes_speedup']:.2f}, "
                 f"identical {wk['identical']}")
    lines.append(f"dask LocalCluster(2): identical to serial = {res['dask_identical']}")
    for r in res["peak_rss"]:
        lines.append(f"streamed N={r['n_points']:,}: peak RSS {r['peak_rss_gb']:.2f} GB, file {r['file_gb']:.2f} GB, "
                     f"{r['time_s']:.0f} s, lazy column+slice read {r['lazy_read_s']:.2f} s")
    return "\n".join(lines)


def figures(res: dict, folder: Path) -> list[Path]:
    from matplotlib.figure import Figure

    from physinf._io import save_figure

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    fig = Figure(figsize=(6.4, 3.8))
    ax = fig.add_subplot(1, 1, 1)
    names = ["wbf", "drell_yan", "gg_ggg"]
    x = np.arange(len(names))
    ours = [res[n]["events_per_s"] for n in names]
    theirs = [res[n]["pythia"]["events_per_cpu_second"] for n in names]
    unw = [res[n]["unweighted_events_per_s"] for n in names]
    ax.bar(x - 0.27, ours, 0.27, label="physinf weighted (all components)")
    ax.bar(x, unw, 0.27, label="physinf unweighted at $\\theta_{ref}$")
    ax.bar(x + 0.27, theirs, 0.27, label="Pythia 8 hard process")
    ax.set_yscale("log")
    ax.set_xticks(x, ["WBF", "Drell-Yan", "$gg\\to ggg$"])
    ax.set_ylabel("events per CPU second (one core)")
    ax.set_title(f"13 TeV, same run (load {res['load_average_start']:.1f} on {res['machine']['cores']} cores)")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, frameon=False)
    fig.tight_layout()
    paths.append(save_figure(fig, folder / "generation_rates.png"))

    fig = Figure(figsize=(5, 3.6))
    ax = fig.add_subplot(1, 1, 1)
    rows = res["peak_rss"]
    ax.loglog([r["n_points"] for r in rows], [r["peak_rss_gb"] for r in rows], "o-", label="peak RSS")
    ax.loglog([r["n_points"] for r in rows], [r["file_gb"] for r in rows], "s--", label="file size")
    ax.axhline(2.0, color="grey", ls=":", label="2 GB")
    ax.set_xlabel("phase-space points (WBF, out=file)")
    ax.set_ylabel("GB")
    ax.legend()
    fig.tight_layout()
    paths.append(save_figure(fig, folder / "generation_memory.png"))

    fig = Figure(figsize=(5, 3.6))
    ax = fig.add_subplot(1, 1, 1)
    for adapt, style in ((True, "o-"), (False, "s--")):
        rr = [r for r in res["mc_error_vs_n"] if r["adapt"] == adapt]
        ax.loglog([r["n_points"] for r in rr], [r["rel_error"] for r in rr], style,
                  label="vegas adapted" if adapt else "no adaptation")
    ax.set_xlabel("phase-space points N")
    ax.set_ylabel("relative MC error on $\\sigma$")
    ax.set_title("WBF, 13 TeV, $p_T^j>20$ GeV, $|\\eta_j|<5$")
    ax.legend()
    fig.tight_layout()
    paths.append(save_figure(fig, folder / "generation_mc_error.png"))
    return paths


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="generation speed and scale benchmark (issue 10)")
    ap.add_argument("--json", type=Path, default=None, help="write the figures as JSON here")
    ap.add_argument("--figures", type=Path, default=None, help="folder for the PNG figures (default: next to --json's "
                    "docs/ folder as docs/figures, else the current folder)")
    ap.add_argument("--quick", action="store_true", help="the same code on small sizes (under 3 minutes)")
    ap.add_argument("--plot-only", action="store_true", help="redraw the figures from an existing --json file")
    args = ap.parse_args(argv)
    from physinf._io import check_writable, write_json

    if args.json:
        check_writable(args.json)
    folder = args.figures or (args.json.resolve().parent.parent / "figures" if args.json else Path("."))
    if args.plot_only:
        res = json.loads(args.json.read_text())
        print(report(res))
        for p in figures(res, folder):
            print("figure:", p)
        return 0
    res = measure(args.quick)
    print(report(res))
    if args.json:
        write_json(args.json, res)
    for p in figures(res, folder):
        print("figure:", p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
