"""Processes: each a module with one Process subclass; look them up by name."""

from theory.processes.registry import PROCESSES, available_processes, get_process

__all__ = ["PROCESSES", "available_processes", "get_process"]


def __dir__() -> list[str]:
    return sorted(__all__)
