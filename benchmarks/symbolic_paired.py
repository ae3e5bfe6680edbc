"""Paired comparison of two runs of the WBF symbolic rows: information of both formulas on the same events.

Two runs of ``benchmarks/symbolic.py --part wbf`` select different formulas (the genetic search is
stochastic, and issue 9 changed the post-processing and the preset's selection rule). Their rows
are compared here on one sample (20,000 points, seed 1, as the benchmark), with a paired bootstrap
over the events (200 resamples) for the standard error of each difference.

Usage: python benchmarks/symbolic_paired.py --before REV_OR_FILE --after FILE [--json OUT]
(``--before`` is a results JSON, or a git revision whose docs/results/symbolic_wbf.json is read.)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from physinf._io import check_writable, write_json  # noqa: E402
from physinf.information import information_fraction  # noqa: E402
from physinf.symbolic import WBF_CP_ODD  # noqa: E402
from physinf.symbolic.parse import to_sympy  # noqa: E402


def _evaluate(formula: str, names: list[str], X: np.ndarray) -> np.ndarray:
    """A formula string of a results file (parsed against the input names, never executed) at X."""
    import sympy as sp

    table = {n: sp.Symbol(n, real=True) for n in names}
    f = sp.lambdify([table[n] for n in names], to_sympy(formula, table), "numpy")
    return np.broadcast_to(np.asarray(f(*X.T), dtype=float), (len(X),))


def _load(ref: str) -> dict:
    path = Path(ref)
    if path.is_file():
        return json.loads(path.read_text())["wbf"]
    text = subprocess.check_output(["git", "-C", str(ROOT), "show", f"{ref}:docs/results/symbolic_wbf.json"])
    return json.loads(text)["wbf"]


def _rows(run: dict) -> dict[str, tuple[str, str]]:
    """Row name -> (formula string, level) for the preset rows of one run."""
    out = {"parton, preset, seed 1": (run["parton_invariants"]["formula"], "parton")}
    for r in run["parton_invariants_other_seeds"]:
        out[f"parton, preset, seed {r['seed']}"] = (r["formula"], "parton")
    out["smeared, preset, joint labels"] = (run["smeared_joint_labels"]["formula"], "smeared")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--resamples", type=int, default=200)
    args = ap.parse_args(argv)
    if args.json is not None:
        check_writable(args.json)
    import symbolic as bench  # benchmarks/symbolic.py: the same sample and smearing as the rows

    from physinf.detector import smear_jets
    from theory.observables import wbf_observables

    before, after = _rows(_load(args.before)), _rows(_load(args.after))
    sample, _, t_marg, w = bench._wbf_sample(20000, 1)
    levels = {"parton": sample.observables,
              "smeared": wbf_observables(smear_jets(sample.momenta, np.random.default_rng(2)))}
    names = list(WBF_CP_ODD.inputs)
    rng = np.random.default_rng(7)
    resamples = [np.arange(len(w))] + [rng.integers(0, len(w), len(w)) for _ in range(args.resamples)]

    def fractions(values: np.ndarray) -> np.ndarray:
        return np.array([information_fraction(values[i], t_marg[i], reference=float(np.average(t_marg[i] ** 2, weights=w[i])),
                                              weights=w[i]) for i in resamples])

    out: dict = {"before": args.before, "after": args.after, "n_events": int(len(w)), "resamples": args.resamples,
                 "fraction": "E[t^2]-normalised information of the formula about cHWtil (absolute, also for smeared rows)",
                 "rows": {}}
    for row in sorted(before.keys() & after.keys()):
        (f_old, level), (f_new, _) = before[row], after[row]
        X = np.stack([levels[level][n] for n in names], axis=1)
        old = fractions(_evaluate(f_old, names, X))
        new = fractions(_evaluate(f_new, names, X))
        diff = new - old
        sigma = float(diff[1:].std(ddof=1))
        out["rows"][row] = {"before": float(old[0]), "after": float(new[0]), "difference": float(diff[0]),
                            "bootstrap_sigma": sigma, "pull": float(diff[0] / sigma)}
        print(f"{row}: before {old[0]:.4f}, after {new[0]:.4f}, difference {diff[0]:+.4f} +- {sigma:.4f} "
              f"({diff[0] / sigma:+.1f} sigma)", flush=True)
    if args.json is not None:
        write_json(args.json, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
