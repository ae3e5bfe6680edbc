"""Comparisons with other programs (Pythia 8), used by tests and benchmarks.

Not part of the installed packages: it lives at the repository root beside ``tests/`` and
``benchmarks/`` (pytest puts the root on ``sys.path``; benchmark scripts insert it).

* ``validation.hard_process``: one Pythia hard-process loop (events in physinf's label order, sigma,
  the couplings, masses and widths Pythia really used, read back after initialisation).
* ``validation.pythia_dy``: Drell-Yan (``WeakSingleBoson:ffbar2gmZ``) in dilepton-mass windows.
* ``validation.pythia_wbf``: WBF (``HiggsSM:ff2Hff``) and the reweighting of physinf's exact events
  to Pythia's approximate numerators, so the comparison is like with like.
* ``validation.compare``: chi^2 of normalised weighted/unweighted histograms, dilepton observables
  (Collins-Soper angle), forward-backward asymmetries.
* ``validation.pythia``: the matched-coupling WBF reference and the Pythia rates of the generation
  benchmark.

The conventions each side uses: docs/conventions.md; the numbers: docs/benchmarks.md.
"""
