"""Benchmark: physinf against Pythia 8 (WBF, Drell-Yan) and against closed forms (e+ e- -> mu+ mu-).

WBF (p p -> j j H, inclusive, 13 TeV, mu_F = 125 GeV, Pythia's default couplings with alpha_em fixed at
alphaEMmZ on both sides): sigma ratio physinf/Pythia with physinf's exact matrix elements (raw) and
reweighted to Pythia's approximate numerators (validation.pythia_wbf); chi^2/ndf of the Delta eta_jj,
signed Delta phi_jj, m_jj and pT_j1 shapes before and after; the ratio in the first Delta eta_jj bin.

Drell-Yan (q qbar -> gamma*/Z -> e+ e-) in four m_ll windows: sigma ratio physinf/Pythia with the
Pythia preset (theory.sm.SMInputs.preset("pythia8")) and with physinf's defaults; m_ll, y_ll and
Collins-Soper cos(theta*) chi^2/ndf; A_FB in 200-500 GeV.

Pythia's quoted sigma error against the spread of independent seeds (WBF and Drell-Yan), and e+ e- ->
mu+ mu- sigma and A_FB at 10, 35, 91.19 and 200 GeV in each input scheme against the closed form.

    python benchmarks/validation.py --json docs/results/validation.json [--quick]

Full run: 1e6 Pythia events and 1e6 physinf phase-space points per point (about 15 minutes of CPU on 2
cores); ``--quick``: the same code with 2e4 (under a minute of CPU; 2-3 minutes wall on a loaded machine).
Figures (full run): docs/figures/validation_*.png; ``--replot`` redraws them from the JSON.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from physinf._io import save_figure, write_json

WBF_BINS = {
    "delta_eta_jj": np.linspace(0.0, 9.0, 37),
    "delta_phi_jj": np.linspace(-np.pi, np.pi, 25),
    "m_jj": np.array([0, 25, 50, 75, 100, 150, 200, 300, 400, 500, 600, 800, 1000, 1250, 1500, 2000, 2500, 3000, 4000,
                      6000.0]),
    "pt_j1": np.array([0, 10, 20, 30, 40, 50, 60, 80, 100, 120, 140, 160, 200, 250, 300, 400, 500, 700, 1000, 3000.0]),
}


def machine() -> dict:
    import numpy
    import scipy

    try:
        import pythia8mc  # noqa: F401

        pythia = "8.317 (pythia8mc)"
    except ImportError:
        pythia = None
    return {"cores": os.cpu_count(), "gpu": None, "python": platform.python_version(), "numpy": numpy.__version__,
            "scipy": scipy.__version__, "pythia": pythia, "platform": platform.platform(),
            "load_average_start": os.getloadavg()[0]}


# ------------------------------------------------------------------------------------------------ WBF
def wbf(n_pythia: int, n_points: int, n_adapt: int) -> dict:
    from physinf.simulate import Cuts, generate
    from theory.observables import wbf_observables
    from validation.compare import ratio_error, shape_chi2
    from validation.pythia_wbf import WBF_SM, pythia_numerator_factors, pythia_wbf_events, wbf_process

    t0 = time.perf_counter()
    proc = wbf_process()
    ours = generate(proc, n_points, seed=21, scale=125.0, cuts=Cuts(), n_adapt=n_adapt, n_iterations=8,
                    scale_factors=(), progress=True)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    factors = pythia_numerator_factors(ours, proc)
    t_rw = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = pythia_wbf_events(n_pythia, seed=21, fixed_scale=125.0, progress=True)
    t_ref = time.perf_counter() - t0
    w = ours.weights()
    mean_factor = float(np.sum(w * factors) / np.sum(w))
    # the factor's MC error: spread of w f / w over the sample (ratio estimator)
    mean_factor_err = float(np.sqrt(np.sum(w**2 * (factors - mean_factor) ** 2)) / np.sum(w))
    raw, raw_err = ratio_error(ours.cross_section(), ours.cross_section_error(), ref.sigma_pb, ref.sigma_error_pb)
    rw, rw_err = ratio_error(ours.cross_section() * mean_factor, ours.cross_section_error() * mean_factor,
                             ref.sigma_pb, ref.sigma_error_pb)
    x_o, x_r = ours.observables, wbf_observables(ref.momenta, WBF_SM.mH, WBF_SM.mW)
    shapes, hists = {}, {}
    for name, bins in WBF_BINS.items():
        c_raw, ndf, p_raw = shape_chi2(x_o[name], w, x_r[name], None, bins)
        c_rw, _, p_rw = shape_chi2(x_o[name], w * factors, x_r[name], None, bins)
        shapes[name] = {"raw": c_raw / ndf, "reweighted": c_rw / ndf, "ndf": ndf, "p_raw": p_raw, "p_reweighted": p_rw}
        hists[name] = {"bins": bins.tolist(), "ours": np.histogram(x_o[name], bins, weights=w)[0].tolist(),
                       "ours_rw": np.histogram(x_o[name], bins, weights=w * factors)[0].tolist(),
                       "ours_w2": np.histogram(x_o[name], bins, weights=w**2)[0].tolist(),
                       "pythia": np.histogram(x_r[name], bins)[0].tolist()}
    # physinf/Pythia in the most collinear Delta eta_jj bin (normalised shapes), raw and reweighted
    edge = 0.25
    frac_o = np.sum(w[x_o["delta_eta_jj"] < edge]) / np.sum(w)
    frac_rw = np.sum((w * factors)[x_o["delta_eta_jj"] < edge]) / np.sum(w * factors)
    frac_r = np.mean(x_r["delta_eta_jj"] < edge)
    return {
        "wbf_sigma_ratio_raw": raw, "wbf_sigma_ratio_raw_error": raw_err,
        "wbf_sigma_ratio_reweighted": rw, "wbf_sigma_ratio_reweighted_error": rw_err,
        "wbf_shape_chi2_ndf": shapes,
        "wbf_details": {
            "physinf_sigma_pb": ours.cross_section(), "physinf_sigma_error_pb": ours.cross_section_error(),
            "physinf_points": int(ours.provenance["n_points"]), "physinf_events": len(ours),
            "pythia_sigma_pb": ref.sigma_pb, "pythia_sigma_error_pb": ref.sigma_error_pb, "pythia_events": ref.n_events,
            "mean_numerator_factor": mean_factor, "mean_numerator_factor_error": mean_factor_err,
            "delta_eta_below_0.25_ratio_raw": float(frac_o / frac_r),
            "delta_eta_below_0.25_ratio_reweighted": float(frac_rw / frac_r),
            "delta_eta_below_0.25_pythia_events": int(np.sum(x_r["delta_eta_jj"] < edge)),
            "pythia_couplings": ref.couplings, "seconds": {"physinf": t_ours, "reweighting": t_rw, "pythia": t_ref},
        },
        "_hists": hists,
    }


# ------------------------------------------------------------------------------------------------ Drell-Yan
def drell_yan(n_pythia: int, n_points: int, n_adapt: int) -> dict:
    from physinf.simulate import Cuts, generate
    from theory.sm import PYTHIA8
    from validation.compare import asymmetry, dilepton_observables, ratio_error, shape_chi2
    from validation.pythia_dy import MASS_WINDOWS, pythia_drell_yan

    ratios, errors, defaults, shapes, details, afb = {}, {}, {}, {}, {}, {}
    for k, (lo, hi) in enumerate(MASS_WINDOWS):
        key = f"{lo:g}-{hi:g}"
        t0 = time.perf_counter()
        ours = generate("drell_yan", n_points, seed=31 + k, sm=PYTHIA8, cuts=Cuts(m_min=lo, m_max=hi),
                        n_adapt=n_adapt, n_iterations=8, scale_factors=())
        plain = generate("drell_yan", max(n_points // 4, 20000), seed=41 + k, cuts=Cuts(m_min=lo, m_max=hi),
                         n_adapt=n_adapt, n_iterations=8, scale_factors=())
        t_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        ref = pythia_drell_yan(n_pythia, (lo, hi), seed=31 + k, progress=True)
        t_ref = time.perf_counter() - t0
        r, dr = ratio_error(ours.cross_section(), ours.cross_section_error(), ref.sigma_pb, ref.sigma_error_pb)
        rd, drd = ratio_error(plain.cross_section(), plain.cross_section_error(), ref.sigma_pb, ref.sigma_error_pb)
        ratios[key], errors[key] = r, dr
        defaults[key] = {"value": rd, "error": drd}
        x_o, x_r = dilepton_observables(ours.momenta), dilepton_observables(ref.momenta)
        bins = {"m_ll": np.linspace(lo, hi, 21), "y_ll": np.linspace(-2.5, 2.5, 21), "cos_theta_cs": np.linspace(-1, 1, 21)}
        shapes[key] = {}
        for name, b in bins.items():
            chi2, ndf, p = shape_chi2(x_o[name], ours.weights(), x_r[name], None, b)
            shapes[key][name] = {"chi2_ndf": chi2 / ndf, "ndf": ndf, "p": p}
        a, da = asymmetry(x_o["cos_theta_cs"], ours.weights())
        b_, db = asymmetry(x_r["cos_theta_cs"])
        afb[key] = {"physinf": a, "physinf_error": da, "pythia": b_, "pythia_error": db}
        details[key] = {"physinf_sigma_pb": ours.cross_section(), "physinf_sigma_error_pb": ours.cross_section_error(),
                        "physinf_defaults_sigma_pb": plain.cross_section(),
                        "physinf_defaults_sigma_error_pb": plain.cross_section_error(),
                        "pythia_sigma_pb": ref.sigma_pb, "pythia_sigma_error_pb": ref.sigma_error_pb,
                        "pythia_events": ref.n_events, "physinf_points": int(ours.provenance["n_points"]),
                        "seconds": {"physinf": t_ours, "pythia": t_ref}}
        print(f"  DY {key}: preset {r:.4f} +- {dr:.4f}, defaults {rd:.4f} +- {drd:.4f}, A_FB {a:.4f}/{b_:.4f}", flush=True)
        details[key]["pythia_couplings"] = ref.couplings
    return {"dy_sigma_ratio": ratios, "dy_sigma_ratio_error": errors, "dy_sigma_ratio_defaults": defaults,
            "dy_shape_chi2_ndf": shapes,
            "dy_afb_cs": afb, "dy_details": details}


# ------------------------------------------------------------------------------------------------ Pythia's error
def pythia_error_study(sizes: dict[str, list[tuple[int, int]]]) -> dict:
    """Quoted sigmaErr against the spread of independent seeds: {process: [(n_events, n_seeds)]}."""
    import pythia8mc

    from validation.hard_process import default_pdf_file
    from validation.pythia_dy import dy_settings
    from validation.pythia_wbf import wbf_settings

    process_settings = {"wbf": wbf_settings(), "drell_yan_60-120": dy_settings((60.0, 120.0))}
    pdf = default_pdf_file()
    out = {}
    for proc, runs in sizes.items():
        out[proc] = []
        for n_events, n_seeds in runs:
            sig, err = [], []
            for seed in range(1, n_seeds + 1):
                py = pythia8mc.Pythia("", False)
                for line in ["Beams:eCM = 13000", f"PDF:pSet = LHAGrid1:{pdf}", "PartonLevel:all = off",
                             "HadronLevel:all = off", "Print:quiet = on", "Next:numberCount = 0", "Random:setSeed = on",
                             f"Random:seed = {1000 + seed}", *process_settings[proc]]:
                    py.readString(line)
                py.init()
                n = 0
                while n < n_events:
                    n += bool(py.next())
                info = py.infoPython()
                sig.append(info.sigmaGen())
                err.append(info.sigmaErr())
            sig_a, err_a = np.array(sig), np.array(err)
            spread = float(np.std(sig_a, ddof=1))
            out[proc].append({"n_events": n_events, "n_seeds": n_seeds, "mean_sigma_pb": float(sig_a.mean() * 1e9),
                              "spread_rel": spread / float(sig_a.mean()), "quoted_rel": float(err_a.mean() / sig_a.mean()),
                              "spread_over_quoted": spread / float(err_a.mean()),
                              "spread_over_quoted_uncertainty": spread / float(err_a.mean()) / math.sqrt(2 * (n_seeds - 1))})
            row = out[proc][-1]
            print(f"  Pythia error {proc} N={n_events}: spread/quoted {row['spread_over_quoted']:.2f} "
                  f"+- {row['spread_over_quoted_uncertainty']:.2f}", flush=True)
    return out


# ------------------------------------------------------------------------------------------------ e+ e-
def ee_closed_forms() -> dict:
    """sigma and A_FB from physinf's components (exact Gauss-Legendre quadrature) against the closed
    form with the same conventions (as tests/theory/test_schemes_processes.py)."""
    from theory.processes.registry import get_process
    from theory.sm import PYTHIA8, SM, SMInputs

    schemes = {"Gmu": SM, "alphaMZ": SMInputs(scheme="alphaMZ"), "alpha0": SMInputs(scheme="alpha0"),
               "pythia8": PYTHIA8, "madgraph_sm": SMInputs.preset("madgraph_sm"),
               "Gmu+sin2_theta_eff": SMInputs(sw2_eff=0.23153)}
    base = get_process("ee_mumu")
    base.compiled()
    x, wq = np.polynomial.legendre.leggauss(6)
    pb = 3.89379e8
    out = {}
    for name, sm in schemes.items():
        proc = base.with_sm(sm)
        out[name] = {}
        for sqrt_s in (10.0, 35.0, 91.19, 200.0):
            def part(lo, hi, sqrt_s=sqrt_s, proc=proc):
                c = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
                e = sqrt_s / 2
                p = np.zeros((c.size, 4, 4))
                p[:, 0] = [e, 0, 0, e]
                p[:, 1] = [e, 0, 0, -e]
                p[:, 2] = np.stack([np.full(c.size, e), e * np.sqrt(1 - c**2), np.zeros(c.size), e * c], -1)
                p[:, 3] = p[:, 0] + p[:, 1] - p[:, 2]
                return 0.5 * (hi - lo) * np.sum(wq * proc.components(p)[:, 0]) / (32 * math.pi * sqrt_s**2) * pb

            f, b = part(0.0, 1.0), part(-1.0, 0.0)
            s = sqrt_s**2
            width = s * sm.wZ / sm.mZ if sm.width_running else sm.mZ * sm.wZ
            chi = s / (4 * sm.sw2 * sm.cw2 * (s - sm.mZ**2 + 1j * width))
            v, a = -0.5 + 2 * sm.sw2_vector, -0.5
            a0 = 1 + 2 * v * v * chi.real + (v * v + a * a) ** 2 * abs(chi) ** 2
            a1 = 4 * a * a * chi.real + 8 * v * a * v * a * abs(chi) ** 2
            sigma_ref = 4 * math.pi * sm.alpha_em(s) ** 2 / (3 * s) * a0 * pb
            out[name][f"{sqrt_s:g}"] = {"sigma_pb": f + b, "sigma_closed_form_pb": sigma_ref,
                                        "afb": (f - b) / (f + b), "afb_closed_form": 3 * a1 / (8 * a0)}
    worst = max(abs(r["sigma_pb"] / r["sigma_closed_form_pb"] - 1) for d in out.values() for r in d.values())
    worst_afb = max(abs(r["afb"] - r["afb_closed_form"]) for d in out.values() for r in d.values())
    return {"ee_closed_form": out, "ee_max_rel_sigma_deviation": worst, "ee_max_afb_deviation": worst_afb,
            "ee_z_pole_afb_sin2_theta_eff": out["Gmu+sin2_theta_eff"]["91.19"]["afb"],
            "ee_z_pole_afb_measured": {"value": 0.0171, "error": 0.0010, "source": "LEP/SLD, Phys. Rept. 427 (2006) 257"}}


# ------------------------------------------------------------------------------------------------ figures
def figures(res: dict, folder: Path) -> list[str]:
    from matplotlib.figure import Figure

    written = []
    hists = res.get("_hists") or res.get("wbf_histograms", {})
    if hists:
        fig = Figure(figsize=(12, 3.6))
        axes = fig.subplots(1, len(hists))
        for ax, (name, h) in zip(axes, hists.items()):
            bins = np.array(h["bins"])
            centres = 0.5 * (bins[1:] + bins[:-1])
            py = np.array(h["pythia"], float)
            for key, label, colour in (("ours", "exact |M|$^2$", "C1"), ("ours_rw", "Pythia numerators", "C0")):
                o = np.array(h[key], float)
                ok = (py > 0) & (o > 0)
                r = np.where(ok, (o / o.sum()) / np.where(ok, py / py.sum(), 1.0), np.nan)
                err = r * np.sqrt(np.array(h["ours_w2"]) / np.maximum(o, 1e-300) ** 2 + 1 / np.maximum(py, 1))
                ax.errorbar(centres[ok], r[ok], yerr=err[ok], fmt="o", ms=3, color=colour, label=label)
            ax.axhline(1.0, color="k", lw=0.8)
            ax.set_xlabel(name)
            ax.set_ylim(0.65 if name == "delta_eta_jj" else 0.85, 1.15)
            if name in ("m_jj", "pt_j1"):
                ax.set_xscale("log")
        axes[0].set_ylabel("physinf / Pythia (normalised)")
        axes[0].legend(fontsize=8)
        fig.suptitle(f"WBF, 13 TeV, {res['wbf_details']['pythia_events']:.0e} Pythia events: exact vs Pythia's numerators")
        fig.tight_layout()
        written.append(str(save_figure(fig, folder / "validation_wbf_shapes.png")))
    fig = Figure(figsize=(6.5, 4))
    ax = fig.subplots()
    keys = list(res["dy_sigma_ratio"])
    xs = np.arange(len(keys))
    preset = {k: {"value": res["dy_sigma_ratio"][k], "error": res["dy_sigma_ratio_error"][k]} for k in keys}
    for data, label, colour, dx in ((res["dy_sigma_ratio_defaults"], "physinf defaults (G$_\\mu$, fixed width)", "C1", -0.08),
                                    (preset, "Pythia preset", "C0", 0.08)):
        ax.errorbar(xs + dx, [data[k]["value"] for k in keys], yerr=[data[k]["error"] for k in keys], fmt="o",
                    color=colour, label=label)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks(xs, [f"{k} GeV" for k in keys])
    ax.set_ylabel(r"$\sigma$(physinf) / $\sigma$(Pythia 8)")
    ax.set_title("p p $\\to \\gamma^*/Z \\to e^+e^-$, 13 TeV")
    ax.legend(fontsize=8)
    fig.tight_layout()
    written.append(str(save_figure(fig, folder / "validation_dy_ratios.png")))
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", type=Path, required=True, help="where to write the figures file (JSON)")
    ap.add_argument("--quick", action="store_true", help="same code, small sizes (under 3 minutes)")
    ap.add_argument("--figures", type=Path, default=None, help="folder for the figures (default: docs/figures on a full run)")
    ap.add_argument("--replot", action="store_true", help="only redraw the figures from an existing --json file")
    args = ap.parse_args()
    from physinf._io import check_writable

    if args.replot:
        import json

        res = json.loads(args.json.read_text())
        print("\n".join(figures(res, args.figures or Path("docs/figures"))))
        return

    check_writable(args.json)
    t_start = time.perf_counter()
    quick = args.quick
    res: dict = {"quick": quick, "machine": machine()}
    n_wbf, n_dy, n_adapt = (20000, 20000, 6000) if quick else (1_000_000, 1_000_000, 50000)
    print(f"WBF: {n_wbf} Pythia events, {n_wbf} physinf points", flush=True)
    res.update(wbf(n_wbf, n_wbf, n_adapt))
    print(f"  raw {res['wbf_sigma_ratio_raw']:.4f}, reweighted {res['wbf_sigma_ratio_reweighted']:.4f}", flush=True)
    print(f"Drell-Yan: {n_dy} Pythia events per window", flush=True)
    res.update(drell_yan(n_dy, n_dy, n_adapt))
    sizes = ({"wbf": [(3000, 4)], "drell_yan_60-120": [(10000, 4)]} if quick else
             {"wbf": [(3000, 20), (30000, 10), (300000, 5)], "drell_yan_60-120": [(10000, 20), (100000, 10)]})
    print("Pythia's quoted error against the spread of seeds", flush=True)
    res["pythia_sigma_error_study"] = pythia_error_study(sizes)
    res.update(ee_closed_forms())
    res["total_seconds"] = time.perf_counter() - t_start
    folder = args.figures if args.figures is not None else (None if quick else Path("docs/figures"))
    if folder is not None:
        res["figures"] = figures(res, folder)
    res["wbf_histograms"] = res.pop("_hists", {})
    write_json(args.json, res)
    print(f"wrote {args.json} ({res['total_seconds']:.0f} s)")
    print(f"WBF sigma ratio raw {res['wbf_sigma_ratio_raw']:.4f} +- {res['wbf_sigma_ratio_raw_error']:.4f}, "
          f"reweighted {res['wbf_sigma_ratio_reweighted']:.4f} +- {res['wbf_sigma_ratio_reweighted_error']:.4f}")
    for name, row in res["wbf_shape_chi2_ndf"].items():
        print(f"  {name}: chi2/ndf {row['raw']:.2f} -> {row['reweighted']:.2f} (ndf {row['ndf']})")
    for key, value in res["dy_sigma_ratio"].items():
        print(f"DY {key}: preset {value:.4f} +- {res['dy_sigma_ratio_error'][key]:.4f}; defaults "
              f"{res['dy_sigma_ratio_defaults'][key]['value']:.4f}")


if __name__ == "__main__":
    main()
