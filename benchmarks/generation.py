"""Benchmark: WBF parton-level generation speed, Pythia 8 reference, and MC error vs N.

Prints, and with --json FILE writes:
  * physinf WBF weighted events per second (after vegas adaptation, PDFs and all 6 morphing
    components included) and the adaptation time;
  * Pythia 8's hard-process-only generation of the same process (events per second), the ratio,
    and both cross sections with couplings matched (validation.pythia);
  * the relative MC error on sigma versus the number of events, with and without vegas adaptation.
A figure of the last item is written next to the JSON file (or to ./generation_mc_error.png).

Usage: python benchmarks/generation.py [--json FILE] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path



def measure(quick: bool) -> dict:
    from physinf.simulate import Cuts, generate
    from validation.pythia import matched_sm_inputs, pythia_wbf

    n_speed = 20000 if quick else 100000
    out: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    generate("wbf", 1000, seed=0, n_adapt=2000, n_iterations=2)  # build and compile the amplitude once
    t0 = time.perf_counter()
    s = generate("wbf", n_speed, seed=1, n_adapt=20000, n_iterations=8)
    total = time.perf_counter() - t0
    out["physinf"] = {
        "n_points": s.provenance["n_points"],
        "n_events_after_cuts": len(s),
        "time_adapt_s": s.provenance["time_adapt_s"],
        "time_generate_s": s.provenance["time_generate_s"],
        "events_per_second": s.provenance["n_points"] / s.provenance["time_generate_s"],
        "events_per_second_incl_adaptation": s.provenance["n_points"] / total,
        "sigma_pb": s.cross_section(),
        "sigma_error_pb": s.cross_section_error(),
        "cuts": s.config.cuts.to_dict(),
    }
    # same process, couplings and scale in both programs, no cuts
    matched = generate("wbf", n_speed, seed=2, sm=matched_sm_inputs(), scale=125.0, cuts=Cuts(), n_adapt=20000, n_iterations=8)
    ref = pythia_wbf(n_speed, seed=2, fixed_scale=125.0)
    out["pythia"] = {
        "events_per_second": ref["events_per_second"],
        "sigma_pb": ref["sigma_pb"],
        "sigma_error_pb": ref["sigma_error_pb"],
        "physinf_matched_sigma_pb": matched.cross_section(),
        "physinf_matched_sigma_error_pb": matched.cross_section_error(),
        "sigma_ratio_physinf_over_pythia": matched.cross_section() / ref["sigma_pb"],
        "physinf_matched_events_per_second": matched.provenance["n_points"] / matched.provenance["time_generate_s"],
    }
    out["speed_ratio_physinf_over_pythia"] = out["physinf"]["events_per_second"] / ref["events_per_second"]
    sizes = [2000, 8000, 32000] if quick else [2000, 8000, 32000, 128000]
    rows = []
    for adapt in (True, False):
        for n in sizes:
            g = generate("wbf", n, seed=100 + n, adapt=adapt, n_adapt=20000, n_iterations=8)
            rows.append({"adapt": adapt, "n_points": g.provenance["n_points"], "sigma_pb": g.cross_section(),
                         "rel_error": g.cross_section_error() / g.cross_section()})
    out["mc_error_vs_n"] = rows
    return out


def report(res: dict) -> str:
    p, y = res["physinf"], res["pythia"]
    lines = [
        f"physinf WBF: {p['events_per_second']:.0f} weighted events/s after adaptation "
        f"({p['time_adapt_s']:.1f} s adaptation), sigma = {p['sigma_pb']:.4f} +- {p['sigma_error_pb']:.4f} pb (pT_j > 20, |eta_j| < 5)",
        f"Pythia 8 hard process: {y['events_per_second']:.0f} events/s; speed ratio physinf/Pythia = {res['speed_ratio_physinf_over_pythia']:.3f}",
        f"inclusive sigma, matched couplings: physinf {y['physinf_matched_sigma_pb']:.4f} +- {y['physinf_matched_sigma_error_pb']:.4f} pb, "
        f"Pythia {y['sigma_pb']:.4f} +- {y['sigma_error_pb']:.4f} pb, ratio {y['sigma_ratio_physinf_over_pythia']:.4f}",
        "relative MC error on sigma:",
    ]
    for r in res["mc_error_vs_n"]:
        lines.append(f"  adapt={str(r['adapt']):5s} N={r['n_points']:7d}  rel. error {r['rel_error']:.4%}")
    return "\n".join(lines)


def plot(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.6))
    for adapt, style in ((True, "o-"), (False, "s--")):
        rows = [r for r in res["mc_error_vs_n"] if r["adapt"] == adapt]
        ax.loglog([r["n_points"] for r in rows], [r["rel_error"] for r in rows], style, label="vegas adapted" if adapt else "no adaptation")
    ax.set_xlabel("phase-space points N")
    ax.set_ylabel("relative MC error on $\\sigma$")
    ax.set_title("WBF, 13 TeV, $p_T^j>20$ GeV, $|\\eta_j|<5$")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="WBF generation benchmark")
    ap.add_argument("--json", type=Path, default=None, help="write the figures as JSON here")
    ap.add_argument("--quick", action="store_true", help="smaller samples (about 2 minutes)")
    args = ap.parse_args(argv)
    res = measure(args.quick)
    print(report(res))
    target = args.json if args.json else Path("generation.json")
    if args.json:
        tmp = args.json.with_suffix(args.json.suffix + ".tmp")
        tmp.write_text(json.dumps(res, indent=2, default=float))
        os.replace(tmp, args.json)
    plot(res, target.with_name(target.stem + "_mc_error.png"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
