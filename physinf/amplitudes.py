"""Torch versions of a process's squared-amplitude components (same SymPy source as numpy).

theory stays free of torch; this module lambdifies the very same expressions for torch, so
|M|^2 components can sit inside a network's loss or be evaluated on a GPU.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

__all__ = ["torch_components"]


@lru_cache(maxsize=16)
def _compiled(process_name: str):
    from theory.processes.registry import get_process

    proc = get_process(process_name)
    args = [s for label in proc.labels for s in proc.momenta[label]] + list(proc.coupling_symbols)
    # torch.pow rejects (float, int): fold powers of pure numbers (e.g. (4 pi alpha_s)^2) into floats
    exprs = [e.replace(lambda x: x.is_Pow and x.base.is_number, lambda x: sp.Float(x.evalf(17))) for e in proc.component_expressions]
    return proc, sp.lambdify(args, exprs, modules="torch", cse=True)


def torch_components(process_name: str, momenta, channel=None):
    """A_c(z) as a torch tensor (n_events, n_components) from momenta (n_events, P, 4).

    momenta: a torch tensor (any device, float64 recommended); channel: a Channel of the
    process (default: its first channel).
    """
    import torch

    proc, fn = _compiled(process_name)
    channel = channel if channel is not None else proc.channels[0]
    cols = [momenta[:, i, j] for i in range(proc.n_particles) for j in range(4)]
    couplings = [torch.tensor(channel.couplings.get(s.name, 0.0), dtype=momenta.dtype, device=momenta.device)
                 for s in proc.coupling_symbols]
    values = fn(*cols, *couplings)
    n = momenta.shape[0]
    return torch.stack([torch.as_tensor(v, dtype=momenta.dtype, device=momenta.device).expand(n) for v in values], dim=-1)
