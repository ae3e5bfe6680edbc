"""Torch versions of a process's squared-amplitude components (same SymPy source as numpy).

theory stays free of torch; this module compiles the very same expressions for torch (through
``physinf._sympy.lambdify_torch``, the one SymPy -> torch path), so |M|^2 components can sit
inside a network's loss or be evaluated on a GPU.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from physinf._sympy import lambdify_torch
from theory.processes.base import Channel, Process

__all__ = ["torch_components"]

_COMPILED: dict[int, tuple[Process, Callable[..., Any]]] = {}


def _compiled(process: Process) -> Callable[..., Any]:
    """The torch function of a process's components, compiled once per expression set (processes
    made with ``with_sm`` share their expressions, hence their compiled function)."""
    key = id(process.component_expressions)
    if key not in _COMPILED:
        args = [s for label in process.labels for s in process.momenta[label]] + list(process.coupling_symbols)
        _COMPILED[key] = (process, lambdify_torch(args, process.component_expressions))
    return _COMPILED[key][1]


def torch_components(process: Process, momenta: Any, channel: Channel | None = None) -> Any:
    """A_c(z) as a torch tensor (n_events, n_components) from momenta (n_events, P, 4).

    process: a theory Process object (``theory.get_process(name)``, or one with other SM inputs);
    momenta: a torch tensor (any device, float64 recommended); channel: a Channel of the
    process (default: its first channel).
    """
    import torch

    if not isinstance(process, Process):
        raise TypeError(f"process must be a theory Process object (theory.get_process(name)), got {type(process).__name__}")
    fn = _compiled(process)
    channel = channel if channel is not None else process.channels[0]
    cols = [momenta[:, i, j] for i in range(process.n_particles) for j in range(4)]
    couplings = [torch.tensor(channel.couplings.get(s.name, 0.0), dtype=momenta.dtype, device=momenta.device)
                 for s in process.coupling_symbols]
    values = fn(*cols, *couplings)
    n = momenta.shape[0]
    return torch.stack([torch.as_tensor(v, dtype=momenta.dtype, device=momenta.device).expand(n) for v in values], dim=-1)
