"""Passes on several workers: bit-identical to the serial run, and workers that die (issue 10).

A run's pass k draws its random numbers from (seed, k) only and starts from the adapted vegas grid
exactly as it was (frozen as plain data; vegas' own pickling would move the grid's nodes), so the
same seed gives the same bits whatever the number of workers: compared with ``np.array_equal``,
no tolerance. Workers are killed with ``os._exit`` from inside the matrix-element call of a pass.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import numpy as np
import pytest

from physinf.errors import InvalidParameterError
from physinf.simulate import generate
from physinf.simulate.parallel import WorkerError
from theory.processes.registry import get_process

SMALL = dict(n_adapt=2000, n_iterations=3, n_passes=4)


def _assert_identical(a, b) -> None:
    for x, y in ((a.momenta, b.momenta), (a.pdg, b.pdg), (a.weight_components, b.weight_components)):
        assert np.array_equal(x, y)
    assert set(a.variations) == set(b.variations) and all(np.array_equal(a.variations[k], b.variations[k]) for k in a.variations)
    assert all(np.array_equal(a.observables[k], b.observables[k]) for k in a.observables)
    assert a.mc_rel_error == b.mc_rel_error and a.cross_section() == b.cross_section()
    assert a.config == b.config


def test_two_local_workers_give_the_serial_run_bit_for_bit():
    serial = generate("drell_yan", 6000, seed=21, **SMALL)
    parallel = generate("drell_yan", 6000, seed=21, n_workers=2, **SMALL)
    _assert_identical(serial, parallel)
    assert parallel.provenance["execution"]["n_workers"] == 2 and serial.provenance["execution"]["n_workers"] == 1


@pytest.mark.slow
def test_dask_local_cluster_gives_the_serial_run_bit_for_bit():
    distributed = pytest.importorskip("distributed", reason="the dask test needs the dist extra (dask[distributed])")
    # (the generation benchmark runs the same check on WBF: dask_identical in docs/results/generation.json)
    serial = generate("drell_yan", 4000, seed=22, **SMALL)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        dist = generate("drell_yan", 4000, seed=22, scheduler=client, **SMALL)
        assert len(client.scheduler_info()["workers"]) == 2
    _assert_identical(serial, dist)


class DyingModel:
    """Drell-Yan whose matrix element kills the worker process evaluating it: once (the first worker
    to remove the marker file) or always. The parent process (adaptation) is never killed."""

    name = "drell_yan"
    model_id = "exact+dying-worker"

    def __init__(self, marker: Path | None) -> None:
        self.marker = None if marker is None else str(marker)
        self._process = get_process("drell_yan")

    def __getattr__(self, name):  # delegate the rest of the ComponentModel contract
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._process, name)

    def components_for_channels(self, p, channels):
        if multiprocessing.parent_process() is not None:
            if self.marker is None:
                os._exit(3)
            try:
                os.remove(self.marker)
                os._exit(3)
            except FileNotFoundError:
                pass
        return self._process.components_for_channels(p, channels)


def test_a_killed_worker_has_its_pass_run_again(tmp_path):
    marker = tmp_path / "kill-once"
    marker.write_text("")
    model = DyingModel(marker)
    serial = generate(model, 4000, seed=23, **SMALL)
    marker.write_text("")
    retried = generate(model, 4000, seed=23, n_workers=2, **SMALL)
    assert not marker.exists()  # a worker did die
    _assert_identical(serial, retried)


def test_workers_that_keep_dying_fail_clearly_and_leave_no_file(tmp_path):
    out = tmp_path / "events.h5"
    with pytest.raises(WorkerError, match="failed|lost twice"):
        generate(DyingModel(None), 4000, seed=24, n_workers=2, out=out, **SMALL)
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary one


def test_bad_execution_settings_are_refused_before_any_work():
    with pytest.raises(InvalidParameterError, match="n_workers must be an integer >= 1"):
        generate("drell_yan", 1000, n_workers=0)
    with pytest.raises(InvalidParameterError, match="either n_workers"):
        generate("drell_yan", 1000, n_workers=2, scheduler="tcp://127.0.0.1:1")
    pytest.importorskip("distributed", reason="needs the dist extra")
    with pytest.raises(InvalidParameterError, match="scheduler must be a dask.distributed.Client or a scheduler address"):
        generate("drell_yan", 1000, scheduler=42)


def test_workers_receive_the_kernel_of_the_passes_ready_built():
    # the payload carries the compiled kernel the passes use, so a worker evaluates without the
    # SymPy expressions (it would otherwise rebuild them: seconds per worker for WBF)
    import pickle

    from physinf.simulate import GenerationConfig
    from physinf.simulate.generator import adapt_grid, build_integrand
    from physinf.simulate.parallel import _payload

    config = GenerationConfig(process="drell_yan", n_points=2000, seed=3, **SMALL).resolved()
    integrand = build_integrand(config)
    grid, _ = adapt_grid(integrand, config)
    data = pickle.loads(_payload(integrand, grid, config))
    (shipped,) = data["compiled"].values()
    assert shipped._expressions is None  # no SymPy travelled
    p = np.ascontiguousarray(generate("drell_yan", 3000, seed=4, **SMALL).momenta[:50])
    expected = integrand.process.components_for_channels(p, integrand.representatives)
    np.testing.assert_array_equal(shipped.evaluate(p, integrand.representatives), expected)
