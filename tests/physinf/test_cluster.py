"""Scale-out of the learning stages on a dask.distributed cluster (issue 16): ensemble members and
symbolic-regression restarts as cluster tasks give exactly what the serial run gives for the same
seeds (each member and each search is fixed by its own seed). The pipeline hands its
``scheduler`` key (or ``physinf run --scheduler``) to these and to generation, which is tested on a
cluster in test_generation_parallel.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch

distributed = pytest.importorskip("distributed", reason="the cluster tests need the dist extra (dask[distributed])")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as c:
        yield c


@pytest.mark.slow
def test_ensemble_members_on_a_cluster_equal_the_serial_ones(wbf_sample, cluster):
    from physinf.learn import LocalScoreEstimator, TrainingConfig

    features = ["delta_phi_jj", "eta_j1", "eta_j2", "x_p1", "x_p2"]
    sample = wbf_sample.subset(np.arange(6000))

    def fit(scheduler):
        return LocalScoreEstimator(features, n_members=2, hidden=(16, 16), device="cpu",
                                   training=TrainingConfig(epochs=3, seed=4, progress=False)).fit(sample, scheduler=scheduler)

    serial, dist = fit(None), fit(cluster.scheduler_address)
    for a, b in zip(serial.networks_, dist.networks_):
        for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
            torch.testing.assert_close(x, y, rtol=0, atol=0, msg=name)
    assert [h.train_loss for h in serial.histories_] == [h.train_loss for h in dist.histories_]
    np.testing.assert_array_equal(serial.predict_sample(sample), dist.predict_sample(sample))


@pytest.mark.slow
def test_symbolic_restarts_on_a_cluster_equal_the_serial_search(cluster):
    from physinf.symbolic import Budget, Restarts, distill

    rng = np.random.default_rng(3)
    X = rng.uniform(1, 3, (300, 2))
    y = X[:, 0] * np.sin(X[:, 1]) + 0.5
    kwargs = dict(budget=Budget(generations=6, population_size=60), seed=2, operators=("add", "sub", "mul", "div", "sin"),
                  restarts=Restarts(seeds=1, stop_when_exact=False))
    serial = distill(X, y, ["a", "b"], **kwargs)
    with distributed.Client(cluster) as client:
        dist = distill(X, y, ["a", "b"], scheduler=client, **kwargs)
    assert str(serial.expr) == str(dist.expr)
    assert [m.loss for m in serial.front] == [m.loss for m in dist.front]
    assert [r["restart"] for r in serial.metrics["restarts"]] == [r["restart"] for r in dist.metrics["restarts"]]
