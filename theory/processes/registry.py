"""Process registry: a name -> "module:Class" table, imported lazily, one cached instance each.

Building a process's SymPy expressions takes seconds, so ``get_process`` returns a shared
singleton (its expressions and lambdified functions are cached on first use).
"""

from __future__ import annotations

import importlib
import threading

from theory.errors import UnknownNameError, did_you_mean
from theory.processes.base import Process

__all__ = ["PROCESSES", "available_processes", "get_process"]

PROCESSES: dict[str, str] = {
    "ee_mumu": "theory.processes.ee_mumu:EEMuMu",
    "drell_yan": "theory.processes.drell_yan:DrellYan",
    "drell_yan_full": "theory.processes.drell_yan:DrellYanFull",
    "gg_gg": "theory.processes.gluons:GGtoGG",
    "gg_ggg": "theory.processes.gluons:GGtoGGG",
    "wbf": "theory.processes.wbf:WBF",
}

_instances: dict[str, Process] = {}
_lock = threading.Lock()


def available_processes() -> tuple[str, ...]:
    """Names of every registered process."""
    return tuple(PROCESSES)


def get_process(name: str) -> Process:
    """The (cached, shared) process called ``name``; raises UnknownNameError with suggestions."""
    if name not in PROCESSES:
        raise UnknownNameError(
            f"unknown process {name!r}; known processes: {', '.join(PROCESSES)}.{did_you_mean(name, list(PROCESSES))}"
        )
    with _lock:
        if name not in _instances:
            module_name, class_name = PROCESSES[name].split(":")
            cls = getattr(importlib.import_module(module_name), class_name)
            _instances[name] = cls()
        return _instances[name]
