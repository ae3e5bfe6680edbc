"""Event files in and out of physinf: Les Houches Event files (read, with MadGraph reweighting
weights turned into morphing components by :func:`theory.morphing.components_from_benchmarks`;
write, with ``<rwgt>`` weights at benchmark points), so any shower program reads physinf's events
and physinf reads MadGraph's."""

__all__: list[str] = []


def __dir__() -> list[str]:
    return sorted(__all__)
