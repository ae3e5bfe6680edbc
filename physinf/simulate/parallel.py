"""Running the passes of a generation run: in this process, in local worker processes, or on a
dask.distributed cluster.

The unit of work is one pass over the adapted vegas grid. Pass k draws its random numbers from
the stream (seed, k + 1) only (``generator._stream``), its inputs are the adapted grid and the
config, and the results are put together in pass order: a run gives the same bits whatever the
number of workers or the order in which they finish. The kernel backend (numba or numpy) of the
calling process is imposed on the workers, since the two round differently.

Local workers are ``spawn``-ed interpreters (a script that runs ``generate(n_workers=...)`` needs
the usual ``if __name__ == "__main__":`` guard) and are kept for later runs of the session
(:func:`shutdown_pools` stops them).

Failures: a worker that dies (killed, out of memory) loses its pass; the pass is run again once on
a fresh worker, and a second loss raises :class:`WorkerError` naming the pass. With ``out=`` the
file is only renamed into place when every pass is in, so a failed run leaves no file.
"""

from __future__ import annotations

import atexit
import os
import pickle
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from physinf._io import require
from physinf.errors import InvalidParameterError, PhysinfError

__all__ = ["PassStats", "WorkerError", "dask_client", "make_executor", "map_on_cluster", "shutdown_pools"]

_RETRIES = 1


class WorkerError(PhysinfError):
    """A worker died or failed while running a pass (after the retry)."""


@dataclass(frozen=True)
class PassStats:
    """What the error estimate needs from a pass whose events went to a file."""

    index: int
    n_points: int
    sum_ref: float
    var_stratified: float


def make_executor(n_workers: int = 1, scheduler: Any = None) -> _Executor:
    """The executor for ``generate(n_workers=..., scheduler=...)`` (checked before any work)."""
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise InvalidParameterError(f"n_workers must be an integer >= 1, got {n_workers!r}")
    if scheduler is not None:
        if n_workers != 1:
            raise InvalidParameterError("give either n_workers (local processes) or scheduler (a dask cluster), not both")
        return _DaskExecutor(scheduler)
    return _Executor() if n_workers == 1 else _PoolExecutor(n_workers)


# ---------------------------------------------------------------------------- the task
def _payload(integrand: Any, integrator: Any, config: Any) -> bytes:
    """What a worker needs to run any pass: the config, the component model (or, for a registered
    process, its compiled kernels, so no worker rebuilds the SymPy expressions), the adapted grid
    and the kernel backend."""
    from physinf.simulate.generator import freeze_integrator
    from theory.processes._compile import kernel_backend
    from theory.processes.registry import get_process

    proc = integrand.process
    model = None
    compiled = None
    if config.model == "exact":
        prepare = getattr(proc, "prepare_kernels", None)
        if prepare is not None:
            prepare(integrand.representatives)  # the passes' kernel travels, built once here
        compiled = dict(getattr(proc, "_compiled_cache", None) or get_process(config.process)._compiled_cache)
    else:
        model = proc
    return pickle.dumps({"config": config, "model": model, "compiled": compiled, "integrator": freeze_integrator(integrator),
                         "backend": kernel_backend()}, protocol=pickle.HIGHEST_PROTOCOL)


_WORKER_CACHE: dict[bytes, Any] = {}
_WORKER_LOCK = threading.Lock()


def _worker_state(payload: bytes) -> tuple[Any, Any, Any]:
    import hashlib

    key = hashlib.sha256(payload).digest()
    with _WORKER_LOCK:
        if key not in _WORKER_CACHE:
            from physinf.simulate.generator import build_integrand
            from theory.processes.registry import get_process

            data = pickle.loads(payload)
            os.environ["PHYSINF_KERNEL_BACKEND"] = data["backend"]  # same rounding as the caller
            config = data["config"]
            if data["compiled"]:
                proc = get_process(config.process)
                for k, v in data["compiled"].items():
                    proc._compiled_cache.setdefault(k, v)
            integrand = build_integrand(config, data["model"])
            _WORKER_CACHE.clear()  # one run at a time per worker
            _WORKER_CACHE[key] = (integrand, data["integrator"], config)
        return _WORKER_CACHE[key]


def _run_pass_task(payload: bytes, index: int) -> Any:
    from physinf.simulate.generator import run_pass

    integrand, integrator, config = _worker_state(payload)
    return run_pass(integrand, integrator, config, index)


# ---------------------------------------------------------------------------- executors
class _Executor:
    """Passes in this process, one after the other."""

    n_workers = 1

    def describe(self) -> dict[str, Any]:
        from theory.processes._compile import kernel_backend

        return {"n_workers": self.n_workers, "executor": type(self).__name__.strip("_"), "kernel_backend": kernel_backend()}

    def close(self) -> None:
        pass

    def run_passes(self, integrand: Any, integrator: Any, config: Any, bar: Any = None) -> list[Any]:
        from physinf.simulate.generator import run_pass

        out = []
        for k in range(config.n_passes):
            out.append(run_pass(integrand, integrator, config, k))
            if bar is not None:
                bar.update(1)
        return out

    def stream_passes(self, integrand: Any, integrator: Any, config: Any, sink: Any, bar: Any = None) -> list[PassStats]:
        from physinf.simulate.generator import iter_pass

        stats = []
        for k in range(config.n_passes):
            n = s = v = 0.0
            for batch in iter_pass(integrand, integrator, config, k):
                sink.write(batch)
                n, s, v = n + batch.n_points, s + batch.sum_ref, v + batch.var_stratified
            stats.append(PassStats(k, int(n), float(s), float(v)))
            if bar is not None:
                bar.update(1)
        return stats

    # parallel executors: results of whole passes, written in pass order
    def _ordered(self, integrand: Any, integrator: Any, config: Any, bar: Any):
        raise NotImplementedError


class _ParallelExecutor(_Executor):
    def run_passes(self, integrand: Any, integrator: Any, config: Any, bar: Any = None) -> list[Any]:
        return list(self._ordered(integrand, integrator, config, bar))

    def stream_passes(self, integrand: Any, integrator: Any, config: Any, sink: Any, bar: Any = None) -> list[PassStats]:
        from physinf.simulate.generator import Batch

        stats = []
        for r in self._ordered(integrand, integrator, config, bar):
            sink.write(Batch(r.momenta, r.weights, r.variations, r.pdg, r.n_points, r.sum_ref, r.var_stratified))
            stats.append(PassStats(r.index, r.n_points, r.sum_ref, r.var_stratified))
        return stats

    def _ordered(self, integrand: Any, integrator: Any, config: Any, bar: Any):
        """Yield PassResults in pass order as they complete (out-of-order ones wait)."""
        payload = _payload(integrand, integrator, config)
        pending = {k: self._submit(payload, k) for k in range(config.n_passes)}
        tries = dict.fromkeys(pending, 0)
        done: dict[int, Any] = {}
        nxt = 0
        while nxt < config.n_passes:
            if nxt in done:
                yield done.pop(nxt)
                nxt += 1
                continue
            finished = self._wait_any(list(pending.values()))
            for k in [k for k, f in pending.items() if f in finished]:
                fut = pending.pop(k)
                try:
                    done[k] = self._result(fut)
                    if bar is not None:
                        bar.update(1)
                except _WorkerLostError as err:
                    tries[k] += 1
                    if tries[k] > _RETRIES:
                        raise WorkerError(
                            f"pass {k} of the {config.process} run failed twice on a worker ({err}); no events were "
                            "written. Check the workers' memory and logs, or run with n_workers=1"
                        ) from err
                    self._recover()
                    pending[k] = self._submit(payload, k)

    # hooks
    def _submit(self, payload: bytes, index: int) -> Any:
        raise NotImplementedError

    def _wait_any(self, futures: list[Any]) -> set[Any]:
        raise NotImplementedError

    def _result(self, fut: Any) -> Any:
        raise NotImplementedError

    def _recover(self) -> None:
        pass


class _WorkerLostError(Exception):
    pass


class _PoolExecutor(_ParallelExecutor):
    """Local worker processes (``multiprocessing`` spawn context: a clean interpreter each)."""

    def __init__(self, n_workers: int) -> None:
        self.n_workers = n_workers
        self._pool: ProcessPoolExecutor | None = _POOLS.get(n_workers)

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            # kept for later runs of this session (starting interpreters costs seconds); shut down at exit
            self._pool = _POOLS[self.n_workers] = ProcessPoolExecutor(
                self.n_workers, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def _submit(self, payload: bytes, index: int) -> Future:
        try:
            return self._get_pool().submit(_run_pass_task, payload, index)
        except BrokenProcessPool:
            self._recover()
            return self._get_pool().submit(_run_pass_task, payload, index)

    def _wait_any(self, futures: list[Future]) -> set[Future]:
        finished, _ = wait(futures, return_when=FIRST_COMPLETED)
        return finished

    def _result(self, fut: Future) -> Any:
        try:
            return fut.result()
        except BrokenProcessPool as err:
            raise _WorkerLostError(f"a worker process died: {err}") from err

    def _recover(self) -> None:
        # a dead worker breaks the whole pool: start a fresh one (other lost passes are resubmitted too)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        _POOLS.pop(self.n_workers, None)
        self._pool = None

    def _ordered(self, integrand: Any, integrator: Any, config: Any, bar: Any):
        # the pool is broken for every pending pass when one worker dies; resubmit them all
        payload = _payload(integrand, integrator, config)
        tries = dict.fromkeys(range(config.n_passes), 0)
        pending = {k: self._submit(payload, k) for k in range(config.n_passes)}
        done: dict[int, Any] = {}
        nxt = 0
        while nxt < config.n_passes:
            if nxt in done:
                yield done.pop(nxt)
                nxt += 1
                continue
            finished = self._wait_any(list(pending.values()))
            lost = []
            for k in [k for k, f in pending.items() if f in finished]:
                fut = pending.pop(k)
                try:
                    done[k] = self._result(fut)
                    if bar is not None:
                        bar.update(1)
                except _WorkerLostError as err:
                    lost.append((k, err))
            if lost:
                # every pass still pending died with the pool; the ones that were running count as tries
                lost += [(k, None) for k in pending]
                pending.clear()
                self._recover()
                for k, err in lost:
                    if err is not None:
                        tries[k] += 1
                        if tries[k] > _RETRIES:
                            raise WorkerError(
                                f"pass {k} of the {config.process} run was lost twice with a dying worker process "
                                f"({err}); no events were written. Check the machine's memory, or run with n_workers=1"
                            ) from err
                    pending[k] = self._submit(payload, k)

    def close(self) -> None:
        self._pool = None  # the pool stays for the next run (see _POOLS)


_POOLS: dict[int, ProcessPoolExecutor] = {}


def shutdown_pools() -> None:
    """Stop the local worker processes kept between runs (also done at interpreter exit)."""
    for pool in list(_POOLS.values()):
        pool.shutdown(wait=True, cancel_futures=True)
    _POOLS.clear()


atexit.register(shutdown_pools)


def dask_client(scheduler: Any, purpose: str) -> tuple[Any, bool]:
    """(client, owned): the given ``dask.distributed.Client``, or a new one connected to a scheduler
    address (owned: the caller closes it)."""
    distributed = require("distributed", "dist", purpose)
    if isinstance(scheduler, distributed.Client):
        return scheduler, False
    if not isinstance(scheduler, str):
        raise InvalidParameterError(
            f"scheduler must be a dask.distributed.Client or a scheduler address like 'tcp://host:8786', "
            f"got {type(scheduler).__name__}"
        )
    try:
        return distributed.Client(scheduler, timeout="20s"), True
    except OSError as err:
        raise InvalidParameterError(f"cannot reach the dask scheduler at {scheduler!r}: {err}") from err


def map_on_cluster(function: Any, items: list[Any], scheduler: Any, *, shared: Any = None, purpose: str) -> list[Any]:
    """[function(shared, item) for item in items] as tasks on a dask cluster, in the items' order.
    ``shared`` (e.g. training data) is sent to the workers once; ``function`` must be importable
    (a module-level function) and deterministic for the results to equal the serial run's."""
    client, owned = dask_client(scheduler, purpose)
    try:
        handle = client.scatter(shared, broadcast=True) if shared is not None else None
        futures = [client.submit(function, handle, item, pure=False) for item in items]
        return client.gather(futures)
    finally:
        if owned:
            client.close()


class _DaskExecutor(_ParallelExecutor):
    """A dask.distributed cluster: a ``Client``, or a scheduler address to connect to."""

    def __init__(self, scheduler: Any) -> None:
        self.client, self._own = dask_client(scheduler, "running passes on a dask cluster")
        self._distributed = require("distributed", "dist", "running passes on a dask cluster")
        self.n_workers = max(len(self.client.scheduler_info().get("workers", {})), 1)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["scheduler"] = str(self.client.scheduler.address)
        return out

    def _submit(self, payload: bytes, index: int) -> Any:
        return self.client.submit(_run_pass_task, payload, index, pure=False)

    def _wait_any(self, futures: list[Any]) -> set[Any]:
        finished = self._distributed.wait(futures, return_when="FIRST_COMPLETED").done
        return set(finished)

    def _result(self, fut: Any) -> Any:
        try:
            return fut.result()
        except self._distributed.KilledWorker as err:
            raise _WorkerLostError(f"dask lost the workers running it: {err}") from err

    def close(self) -> None:
        if self._own:
            self.client.close()
