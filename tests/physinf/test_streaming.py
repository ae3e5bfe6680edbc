"""Streamed event files: ``generate(..., out=path)`` and the lazy ``EventSample.open`` (issue 10).

The streamed file holds exactly the events of the in-memory run with the same seed (bit for bit:
the same passes, written batch by batch), reads back with ``EventSample.load`` (same format,
version 2), and can be read a column or a slice at a time. Bad output paths fail before any work;
a run that fails leaves no file; files get the user's umask.
"""

from __future__ import annotations

import os
import stat
import tracemalloc

import h5py
import numpy as np
import pytest

from physinf.errors import EventFileError, InvalidParameterError, UnknownNameError
from physinf.simulate import EventSample, generate
from physinf.simulate.eventfile import EventFile

SMALL = dict(n_adapt=2000, n_iterations=3, n_passes=4)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    path = tmp_path_factory.mktemp("stream") / "dy.h5"
    lazy = generate("drell_yan", 8000, seed=31, out=path, **SMALL)
    memory = generate("drell_yan", 8000, seed=31, **SMALL)
    return lazy, memory, path


def test_streamed_file_equals_the_in_memory_run(pair):
    lazy, memory, path = pair
    assert isinstance(lazy, EventFile) and len(lazy) == len(memory)
    back = EventSample.load(path)
    for name in ("momenta", "pdg", "weight_components"):
        assert np.array_equal(getattr(back, name), getattr(memory, name)), name
    assert all(np.array_equal(back.variations[k], memory.variations[k]) for k in memory.variations)
    assert all(np.array_equal(back.observables[k], memory.observables[k]) for k in memory.observables)
    assert back.mc_rel_error == memory.mc_rel_error and back.config == memory.config
    assert dict(back.cutflow) == dict(memory.cutflow)
    # the derived joint score agrees with the in-memory sample's own (summed in another order: 1e-12)
    with h5py.File(path, "r") as f:
        assert f.attrs["format_version"] == 2 and f["momenta"].chunks is not None and f["momenta"].maxshape[0] is None
        np.testing.assert_allclose(f["joint_score_ref"][()], memory.joint_score(memory.theta_ref), rtol=1e-12, atol=1e-15)


def test_lazy_reads_a_column_a_slice_and_chunks(pair):
    lazy, memory, _ = pair
    assert np.array_equal(lazy.column("m_ll"), memory.observables["m_ll"])
    assert np.array_equal(lazy.column("weight_components"), memory.weight_components)
    part = lazy[100:250]
    assert len(part) == 150 and np.array_equal(part.momenta, memory.momenta[100:250])
    assert part.mc_rel_error is None  # a part of the run carries no error estimate of the whole
    picked = lazy[np.array([3, 17, 400])]
    assert np.array_equal(picked.weight_components, memory.weight_components[[3, 17, 400]])
    total = sum(chunk.weight_components.sum(axis=0) for chunk in lazy.chunks(1000))
    np.testing.assert_allclose(total, memory.sigma_components, rtol=1e-12)
    theta = np.array([0.3, -0.2])
    assert lazy.cross_section(theta) == pytest.approx(memory.cross_section(theta), rel=1e-12)
    with pytest.raises(UnknownNameError, match="Did you mean 'm_ll'"):
        lazy.column("m_lll")


def test_streaming_memory_stays_below_the_sample_size():
    # numpy's allocations are traced: a streamed run holds one vegas batch (>= 1e5 points) at a time,
    # not the sample; 3e5 Drell-Yan points make ~90 MB of kept arrays in memory (6 components, 2
    # variations, 4 momenta, 11 observables per event), the streamed run must peak well below that
    n = 300_000
    tracemalloc.start()
    try:
        memory = generate("drell_yan", n, seed=32, n_adapt=2000, n_iterations=2, n_passes=2)
        _, peak_memory = tracemalloc.get_traced_memory()
        size = sum(a.nbytes for a in (memory.momenta, memory.weight_components, memory.pdg, *memory.variations.values(),
                                      *memory.observables.values()))
        del memory
        tracemalloc.reset_peak()
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            generate("drell_yan", n, seed=32, n_adapt=2000, n_iterations=2, n_passes=2, out=os.path.join(tmp, "e.h5")).close()
            _, peak_stream = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_stream < 0.8 * peak_memory, (peak_stream / 1e6, peak_memory / 1e6, size / 1e6)


def test_unwritable_output_fails_before_any_work(tmp_path, monkeypatch):
    import physinf.simulate.generator as gen

    def must_not_run(*args, **kwargs):
        raise AssertionError("the generator started working before checking the output path")

    monkeypatch.setattr(gen, "adapt_grid", must_not_run)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(InvalidParameterError, match="cannot write"):
        generate("drell_yan", 1000, out=blocker / "events.h5")
    with pytest.raises(InvalidParameterError, match="is a folder"):
        generate("drell_yan", 1000, out=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_full_disk_while_streaming_leaves_no_file(tmp_path, monkeypatch):
    from physinf.simulate import eventfile

    real = eventfile._Sink.write
    calls = {"n": 0}

    def write(self, batch):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        return real(self, batch)

    monkeypatch.setattr(eventfile._Sink, "write", write)
    with pytest.raises(EventFileError, match="No space left on device"):
        generate("drell_yan", 4000, seed=33, out=tmp_path / "e.h5", **SMALL)
    assert list(tmp_path.iterdir()) == []


def test_files_are_created_with_the_users_umask(tmp_path):
    old = os.umask(0o027)
    try:
        f = generate("drell_yan", 2000, seed=34, out=tmp_path / "s.h5", **SMALL)
        f.close()
        saved = f.load().save(tmp_path / "t.h5")
    finally:
        os.umask(old)
    for path in (tmp_path / "s.h5", saved):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o640, oct(os.stat(path).st_mode)


def test_bad_event_files_are_explained(tmp_path, pair):
    with pytest.raises(EventFileError, match="does not exist"):
        EventSample.open(tmp_path / "missing.h5")
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(EventFileError, match="not a readable HDF5"):
        EventSample.open(bad)
    copy = tmp_path / "v99.h5"
    copy.write_bytes(pair[2].read_bytes())
    with h5py.File(copy, "a") as f:
        f.attrs["format_version"] = 99
    with pytest.raises(EventFileError, match="format version 99"):
        EventSample.open(copy)
