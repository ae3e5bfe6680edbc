"""Training and test points: phase-space points from the generator and exact amplitudes there."""

from __future__ import annotations

from typing import Any

import numpy as np

from physinf.errors import InvalidParameterError

__all__ = ["amplitude_dataset"]


def amplitude_dataset(process: str, n_points: int, *, seed: int = 0, channel: str | None = None,
                      **generate_options: Any) -> tuple[np.ndarray, np.ndarray]:
    """``n_points`` phase-space points inside the process's default cuts and the exact components there.

    The points are events of ``physinf.generate`` (vegas-adapted to the SM weight, so they are
    distributed as the generator will later ask for them); the amplitudes are the process's
    components for ``channel`` (default: the first), shape (n_points, C). Extra keyword arguments
    go to ``generate`` (e.g. ``n_adapt``, ``sqrt_s``)."""
    from physinf.simulate import generate
    from theory.processes.registry import get_process

    if not isinstance(n_points, int) or n_points < 1:
        raise InvalidParameterError(f"n_points must be a positive integer, got {n_points!r}")
    proc = get_process(process)
    ch = proc.channels[0] if channel is None else proc.channel(channel)
    generate_options.setdefault("n_adapt", 10000)
    generate_options.setdefault("n_iterations", 5)
    generate_options.setdefault("scale_factors", ())
    asked = int(n_points * 1.6) + 64
    for attempt in range(4):
        sample = generate(process, asked, seed=seed + 7919 * attempt, **generate_options)
        if len(sample) >= n_points:
            break
        asked = int(asked * 2 * n_points / max(len(sample), 1))
    else:
        raise InvalidParameterError(f"could not find {n_points} points of {process} inside its cuts")
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(sample), size=n_points, replace=False))
    p = np.array(sample.momenta[pick])
    return p, proc.components(p, ch)
