"""Event files in and out of physinf: Les Houches Event files (read with pylhe, MadGraph reweighting
weights turned into morphing components by :func:`theory.morphing.components_from_benchmarks`;
written with ``<rwgt>`` weights at benchmark points, so any shower program reads physinf's events
and physinf reads MadGraph's). See :mod:`physinf.io.lhe`."""

from __future__ import annotations

from physinf.io.lhe import LHEFit, default_benchmarks, iter_lhe, lhe_benchmarks, read_lhe, write_lhe

__all__ = ["LHEFit", "default_benchmarks", "iter_lhe", "lhe_benchmarks", "read_lhe", "write_lhe"]


def __dir__() -> list[str]:
    return sorted(__all__)
