"""A self-contained HTML report of a run: figures embedded as data URIs, opens offline.

Sections follow the chain: process and settings, cross sections, detector cut-flow, learned-score
quality against the exact parton-level score, the formula (rendered with matplotlib's mathtext,
plus its LaTeX source and constants with errors), the information each observable captures,
likelihood scans and the limits table, the sbi posterior when configured, and the files to publish.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from physinf._io import write_text
from physinf._version import __version__

if TYPE_CHECKING:
    from physinf.pipeline.run import Run

__all__ = ["write_report"]

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em;border-bottom:2px solid #345}h2{font-size:1.25em;margin-top:1.6em;color:#234}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;font-size:.92em}
th{background:#eef2f6}code,pre{background:#f5f5f5;padding:.1em .3em;font-size:.9em}pre{padding:.6em;overflow-x:auto}
img{max-width:100%;border:1px solid #ddd;margin:.4em 0}.note{color:#555;font-size:.9em}
"""


def _img(path: Path, alt: str) -> str:
    if not path.exists():
        return ""
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(rows: list[list[Any]], head: list[str]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.5g}"
        return html.escape(str(v))

    out = "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"
    for row in rows:
        out += "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>"
    return out + "</table>"


def _formula_image(latex: str, path: Path) -> Path | None:
    """The formula rendered by matplotlib's mathtext (no TeX installation, no network)."""
    from matplotlib.figure import Figure

    from physinf._io import save_figure

    fig = Figure(figsize=(9, 0.9))
    fig.text(0.01, 0.5, f"${latex}$", fontsize=13, va="center")
    try:
        save_figure(fig, path)
    except ValueError:  # mathtext cannot lay out every LaTeX construct; the source is shown anyway
        return None
    return path


def write_report(run: Run) -> Path:
    cfg = run.cfg
    m = {stage: run.metrics(stage) for stage in ("surrogate", "events", "detect", "train", "distill", "sbi", "fit")}
    title = cfg["report"]["title"] or f"physinf run: {cfg['name']}"
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{_STYLE}</style></head><body>", f"<h1>{html.escape(title)}</h1>",
             f"<p class='note'>physinf {__version__}; run folder <code>{html.escape(str(run.folder))}</code>; "
             f"config <code>{html.escape(str(cfg.get('config_file', '')))}</code></p>"]
    parts.append("<h2>Process and settings</h2>")
    pc = cfg["process"]
    parts.append(_table([["process", pc["name"]], ["√s [GeV]", pc["sqrt_s_gev"]], ["events", cfg["events"]["source"]],
                         ["detector", f"{cfg['detector']['kind']} ({cfg['detector']['preset']})"],
                         ["luminosity [fb⁻¹]", cfg["fit"]["luminosity_fb"]], ["seed", cfg["seed"]]], ["setting", "value"]))
    parts.append(f"<details><summary>resolved config</summary><pre>{html.escape(json.dumps(cfg, indent=1))}</pre></details>")
    if m["surrogate"]:
        parts.append("<h2>Amplitude surrogate</h2>" + _table([[k, v] for k, v in m["surrogate"].items()], ["quantity", "value"]))
    ev = m["events"]
    if ev:
        parts.append("<h2>Cross sections</h2>")
        parts.append(f"<p>σ(θ_ref) = {ev['sigma_pb']:.6g} ± {ev['sigma_error_pb']:.2g} pb (Monte Carlo error), "
                     f"{ev['n_events']} events.</p>")
        parts.append(_table([[k, v] for k, v in ev["sigma_components_pb"].items()], ["morphing component", "σ_c [pb]"]))
    det = m["detect"]
    if det:
        parts.append("<h2>Detector and cut-flow</h2>")
        parts.append(_table([[k, v] for k, v in det["cutflow"].items()], ["step", "events remaining"]))
        if det.get("higgs_decay"):
            hd = det["higgs_decay"]
            parts.append(f"<p class='note'>{html.escape(hd.get('channel', ''))}; branching ratio {hd.get('branching_ratio')} "
                         "applied to the rates of the likelihood.</p>")
    tr = m["train"]
    if tr:
        parts.append("<h2>Learned score</h2>")
        rows = [["features", ", ".join(tr["features"])], ["training / test events", f"{tr['n_train']} / {tr['n_test']}"]]
        if "information_fraction_of_parton_observables" in tr:
            rows.append(["information kept (vs exact parton-level score of the observables)", tr["information_fraction_of_parton_observables"]])
            rows.append(["relative MSE", tr["relative_mse"]])
        if "best_detector_observable_fraction" in tr:
            rows.append(["best detector observable (exact formula on reconstructed objects)", tr["best_detector_observable_fraction"]])
        parts.append(_table(rows, ["quantity", "value"]))
        parts.append(_img(run.path("train", "learned_vs_exact.png", create=False), "learned vs exact score"))
    di = m["distill"]
    if di:
        parts.append("<h2>Back to the formula</h2>")
        img = _formula_image(di["latex"], run.path("report", "formula.png"))
        if img is not None:
            parts.append(_img(img, "selected formula"))
        parts.append(f"<p>LaTeX: <code>{html.escape(di['latex'])}</code></p>")
        parts.append(_table([[k, v[0], v[1]] for k, v in di["constants"].items()], ["constant", "value", "error"]))
        parts.append(f"<p>The formula keeps {di['information_over_learned']:.1%} of the learned score's information.</p>")
        parts.append(_img(run.path("distill", "pareto.png", create=False), "Pareto front"))
    if m["sbi"]:
        parts.append("<h2>Simulation-based inference</h2>")
        sb = m["sbi"]
        parts.append(_table([[k, v] for k, v in sb.items() if not isinstance(v, (dict, list))], ["quantity", "value"]))
        rows = [["learned", *sb["interval_68"], *sb["interval_95"]]]
        if "exact_interval_68" in sb:
            rows.append(["exact", *sb["exact_interval_68"], *sb["exact_interval_95"]])
        parts.append(_table(rows, ["posterior", "68 % low", "68 % high", "95 % low", "95 % high"]))
        if "coverage" in sb:
            parts.append("<p>Expected coverage over " + str(sb["calibration_experiments"]) + " pseudo-experiments:</p>")
            parts.append(_table([[f"{a:.0%}", c, s] for a, c, s in zip(sb["coverage_levels"], sb["coverage"], sb["coverage_sigma"])],
                                ["credibility", "empirical coverage", "binomial error"]))
        parts.append(_img(run.path("sbi", "posterior.png", create=False), "posterior"))
    fit = m["fit"]
    if fit and fit.get("histograms"):
        parts.append("<h2>Histograms and their shape systematics</h2>")
        parts.append("<p class='note'>The process has no Wilson coefficients: no EFT likelihood is built; these are the "
                     "per-bin cross sections and the relative shifts a likelihood would carry as histosys.</p>")
        for name, row in fit["histograms"].items():
            keys = [k for k in row if k.endswith("_rel_up") or k.endswith("_rel_down")]
            rows = [[f"[{row['edges'][i]:.4g}, {row['edges'][i + 1]:.4g})", row["sigma_pb"][i], row["mc_error_pb"][i],
                     *[row[k][i] for k in keys]] for i in range(len(row["sigma_pb"]))]
            parts.append(f"<h3>{html.escape(name)}</h3>" + _table(rows, ["bin", "σ [pb]", "MC error [pb]", *keys]))
    if fit and fit.get("limits"):
        parts.append("<h2>Information each observable captures</h2>")
        parts.append(_table([[name, row["information"], row["width95"], row["fraction_of_reference"]] for name, row in fit["information"].items()],
                            ["observable", "Fisher information", "expected 95% CL width [TeV⁻²]", "fraction of the best"]))
        parts.append(_img(run.path("fit", "information.png", create=False), "information per observable"))
        parts.append("<h2>Likelihood scans and limits</h2>")
        parts.append(f"<p class='note'>Expected limits (Asimov data at the SM) on {html.escape(fit['coefficient'])} at "
                     f"{fit['luminosity_fb']} fb⁻¹ (× branching ratio {fit['branching_ratio']:.4g}); systematics: luminosity, "
                     "MC statistics, factorisation scale; the background is a θ-independent stand-in with the SM kinematics.</p>")
        rows = []
        for name, lim in fit["limits"].items():
            for level in ("68", "95"):
                segs = ", ".join(f"[{a:+.4f}, {b:+.4f}]" for a, b in lim[level]["segments"])
                rows.append([name, f"{level}%", segs + (" (open: widen fit.bound)" if lim[level]["open"] else ""), lim[level]["width"]])
        parts.append(_table(rows, ["observable", "CL", "interval [TeV⁻²]", "width"]))
        parts.append(_img(run.path("fit", "scans.png", create=False), "likelihood scans"))
        parts.append(_img(run.path("fit", "contour.png", create=False), "2D contour"))
        pub = fit["published"]
        parts.append("<h2>Files to publish</h2>")
        parts.append(_table([["background-only workspace", pub["background_only"]], ["patchset (signal at a grid of coefficients)", pub["patchset"]],
                             ["EFT workspace (physinf eftpoly modifiers)", str(run.path("fit", "workspace.json", create=False))]],
                            ["file", "path"]))
        parts.append(f"<p class='note'>Published observable: {html.escape(pub['observable'])}. Check with "
                     "<code>pyhf patchset verify</code>.</p>")
    parts.append("</body></html>")
    path = run.path("report", "report.html")
    write_text(path, "\n".join(p for p in parts if p))
    return path
