"""Every file physinf reads either loads valid data or is refused with a PhysinfError: fuzzed.

For each reader a valid file is written, damaged at random by hypothesis (truncation, flipped
bytes, deleted or reshaped datasets, NaN/inf injected, versions and types changed, keys removed),
and read back. The property: the reader returns an object that passes its own validation (and
whose numbers are finite), or raises a PhysinfError subclass naming the problem — never another
exception type, never a silently non-finite result. The default run keeps the example budget small
(the whole file takes seconds); the ``slow`` variants run more examples.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from physinf.errors import PhysinfError

FAST = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
SLOW = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def _bytes_damage(data: bytes, draw_kind: int, position: float, value: int) -> bytes:
    """Truncate, flip one byte, zero a block, or duplicate a block of the file."""
    n = len(data)
    at = min(int(position * n), n - 1)
    if draw_kind == 0:
        return data[:at]
    if draw_kind == 1:
        return data[:at] + bytes([(data[at] ^ (value or 1)) & 0xFF]) + data[at + 1:]
    if draw_kind == 2:
        return data[:at] + bytes(min(64, n - at)) + data[at + 64:]
    return data[:at] + data[at:at + 128] + data[at:]


byte_damage = st.tuples(st.integers(0, 3), st.floats(0, 1, allow_nan=False), st.integers(0, 255))


# ------------------------------------------------------------------------------ EventSample (HDF5)
@pytest.fixture(scope="module")
def event_file(tmp_path_factory):
    from physinf.simulate import generate

    sample = generate("ee_mumu", 400, sqrt_s=91.0, seed=1, n_adapt=500, n_iterations=2)
    return sample.save(tmp_path_factory.mktemp("events") / "ok.h5")


def _check_sample(sample) -> None:
    assert math.isfinite(sample.cross_section())
    assert np.all(np.isfinite(sample.weights()))
    assert np.all(np.isfinite(sample.momenta))
    for col in sample.observables.values():
        assert np.all(np.isfinite(col))


DATASETS = ["powers", "momenta", "pdg", "weight_components", "theta_ref", "observables/m_ll", "observables/cos_theta"]


@st.composite
def h5_damage(draw):
    kind = draw(st.sampled_from(["delete", "reshape", "nan", "inf", "version", "attribute", "dtype", "bytes"]))
    return kind, draw(st.sampled_from(DATASETS)), draw(byte_damage), draw(st.integers(0, 10**6))


def _damage_h5(src: Path, dst: Path, damage) -> None:
    import shutil

    import h5py

    kind, name, raw, seed = damage
    if kind == "bytes":
        dst.write_bytes(_bytes_damage(src.read_bytes(), *raw))
        return
    shutil.copy(src, dst)
    rng = np.random.default_rng(seed)
    with h5py.File(dst, "a") as f:
        if kind == "version":
            f.attrs["format_version"] = int(rng.integers(-3, 10))
        elif kind == "attribute":
            key = ["process", "coefficients", "labels", "provenance", "config", "mc_rel_error", "cutflow"][seed % 7]
            f.attrs[key] = ["{", "[1, 2", "", "null", "nan", "-1"][seed % 6]
        else:
            data = f[name][()]
            del f[name]
            if kind == "reshape":
                data = data.reshape(-1)[: max(1, data.size - 1 - seed % 5)]
            elif kind in ("nan", "inf"):
                data = np.array(data, dtype=float)
                data.flat[seed % data.size] = np.nan if kind == "nan" else np.inf
            elif kind == "dtype":
                data = np.full(data.shape, b"x")
            if kind != "delete":
                f.create_dataset(name, data=data)


def _load_event_file(path: Path) -> None:
    from physinf.simulate import EventSample

    try:
        sample = EventSample.load(path)
    except PhysinfError:
        return
    _check_sample(sample)


@FAST
@given(damage=h5_damage())
def test_event_files_load_valid_or_are_refused(event_file, tmp_path_factory, damage):
    dst = tmp_path_factory.mktemp("damaged") / "bad.h5"
    _damage_h5(event_file, dst, damage)
    _load_event_file(dst)


@pytest.mark.slow
@SLOW
@given(damage=h5_damage())
def test_event_files_load_valid_or_are_refused_many(event_file, tmp_path_factory, damage):
    dst = tmp_path_factory.mktemp("damaged") / "bad.h5"
    _damage_h5(event_file, dst, damage)
    _load_event_file(dst)


def test_nan_in_each_dataset_is_named(event_file, tmp_path):
    from physinf.simulate import EventSample

    for name in ["momenta", "weight_components", "theta_ref", "observables/m_ll"]:
        dst = tmp_path / f"{name.replace('/', '_')}.h5"
        _damage_h5(event_file, dst, ("nan", name, (0, 0.0, 0), 3))
        with pytest.raises(PhysinfError, match=f"{name} holds 1 non-finite"):
            EventSample.load(dst)


# ------------------------------------------------------------------------------ Formula JSON
@pytest.fixture(scope="module")
def formula_text():
    from physinf.symbolic import fit_formula

    rng = np.random.default_rng(0)
    X = rng.uniform(1, 2, size=(200, 2))
    y = 1.5 * X[:, 0] * np.sin(X[:, 1]) + 0.3
    return json.dumps(fit_formula("a*x*sin(z) + b", X, y, ["x", "z"], constants={"a": 1.0, "b": 0.0}).to_dict())


def _mutate_json(value, rng: np.random.Generator, depth: int = 0):
    if isinstance(value, dict) and value:
        key = list(value)[int(rng.integers(len(value)))]
        out = dict(value)
        choice = int(rng.integers(4))
        if choice == 0:
            del out[key]
        elif choice == 1:
            out[key] = [None, "x", float("nan"), -1, {"a": 1}, [], "__import__('os')"][int(rng.integers(7))]
        else:
            out[key] = _mutate_json(value[key], rng, depth + 1)
        return out
    if isinstance(value, list) and value:
        out = list(value)
        i = int(rng.integers(len(out)))
        out[i] = _mutate_json(out[i], rng, depth + 1) if rng.random() < 0.5 else None
        return out
    if isinstance(value, str):
        return value[: int(rng.integers(len(value) + 1))] + ["", ")", "Symbol('y')", "Function('f')(x)"][int(rng.integers(4))]
    if isinstance(value, (int, float)):
        return [float("inf"), float("nan"), -value, 10**400 if isinstance(value, int) else 1e308][int(rng.integers(4))]
    return value


@FAST
@given(seed=st.integers(0, 10**6), times=st.integers(1, 3))
def test_formula_files_load_valid_or_are_refused(formula_text, tmp_path_factory, seed, times):
    from physinf.symbolic import Formula

    rng = np.random.default_rng(seed)
    data = json.loads(formula_text)
    for _ in range(times):
        data = _mutate_json(data, rng)
    path = tmp_path_factory.mktemp("formula") / "f.json"
    path.write_text(json.dumps(data))
    try:
        formula = Formula.from_json(path)
    except PhysinfError:
        return
    out = formula(np.array([[1.2, 1.7], [1.5, 1.1]]))
    assert out.shape == (2,)


# ------------------------------------------------------------------------------ estimator files
@pytest.fixture(scope="module")
def estimator_file(tmp_path_factory):
    from physinf.learn import LocalScoreEstimator, TrainingConfig
    from physinf.simulate import EventSample
    from theory.morphing import monomials

    rng = np.random.default_rng(0)
    n = 300
    x = rng.uniform(0, 1, n)
    comps = np.stack([np.ones(n), x, 0.5 * np.ones(n)], axis=1) / n
    sample = EventSample(process="toy", coefficients=("c",), powers=monomials(1, 2), labels=("p",),
                         momenta=np.zeros((n, 1, 4)), pdg=np.zeros((n, 1)), weight_components=comps, observables={"x": x})
    est = LocalScoreEstimator(["x"], training=TrainingConfig(epochs=2)).fit(sample)
    return est.save(tmp_path_factory.mktemp("est") / "est.pt")


@FAST
@given(damage=byte_damage)
def test_estimator_files_load_valid_or_are_refused(estimator_file, tmp_path_factory, damage):
    from physinf.learn import LocalScoreEstimator

    dst = tmp_path_factory.mktemp("bad") / "est.pt"
    dst.write_bytes(_bytes_damage(estimator_file.read_bytes(), *damage))
    try:
        est = LocalScoreEstimator.load(dst)
    except PhysinfError:
        return
    assert np.all(np.isfinite(est.predict(np.array([[0.3]]))))


# ------------------------------------------------------------------------------ run configs
CONFIG = {"name": "t", "process": {"name": "wbf"}, "events": {"n_points": 1000}, "fit": {"coefficient": "cHWtil", "n_bins": 4}}


@FAST
@given(seed=st.integers(0, 10**6), times=st.integers(1, 3))
def test_run_configs_validate_or_are_refused(seed, times):
    from physinf.pipeline.config import validate_config

    rng = np.random.default_rng(seed)
    data = CONFIG
    for _ in range(times):
        data = _mutate_json(data, rng)
    try:
        cfg = validate_config(data)
    except PhysinfError:
        return
    assert cfg["events"]["n_points"] >= 10 and cfg["fit"]["luminosity_fb"] > 0


# ------------------------------------------------------------------------------ detector cards
@FAST
@given(seed=st.integers(0, 10**6), position=st.floats(0, 1, allow_nan=False))
def test_detector_cards_load_valid_or_are_refused(tmp_path_factory, seed, position):
    from physinf.detector import load_card, preset_path

    text = preset_path("atlas-like").read_text()
    lines = text.splitlines()
    rng = np.random.default_rng(seed)
    i = min(int(position * len(lines)), len(lines) - 1)
    kind = seed % 4
    if kind == 0:
        del lines[i]
    elif kind == 1:
        lines[i] = lines[i].replace("=", "= -") if "=" in lines[i] else lines[i] + " ]"
    elif kind == 2:
        lines[i] = lines[i].replace("_", "", 1)
    else:
        lines[i] = lines[i][: int(rng.integers(len(lines[i]) + 1))]
    dst = tmp_path_factory.mktemp("card") / "card.toml"
    dst.write_text("\n".join(lines))
    try:
        load_card(dst)
    except PhysinfError:
        return


# ------------------------------------------------------------------------------ LHE files
@FAST
@given(damage=byte_damage)
def test_lhe_files_load_valid_or_are_refused(tmp_path_factory, damage):
    from physinf.io import read_lhe

    src = Path(__file__).parents[1] / "data" / "lhe" / "pylhe-testfile-powheg-box-v2-hvq.lhe"
    dst = tmp_path_factory.mktemp("lhe") / "bad.lhe"
    dst.write_bytes(_bytes_damage(src.read_bytes(), *damage))
    try:
        sample = read_lhe(dst)
    except PhysinfError:
        return
    _check_sample(sample)


# ------------------------------------------------------------------------------ lazy EventFile
@FAST
@given(damage=h5_damage())
def test_lazy_event_files_read_valid_or_are_refused(event_file, tmp_path_factory, damage):
    """EventFile reads nothing on open; what it then reads (a column, a slice) is checked the same way."""
    from physinf.simulate import EventFile

    dst = tmp_path_factory.mktemp("damaged") / "bad.h5"
    _damage_h5(event_file, dst, damage)
    try:
        with EventFile(dst) as f:
            n = len(f)
            column = f.column(f.observable_names[0]) if f.observable_names else None
            part = f[0:min(n, 50)]
    except PhysinfError:
        return
    if column is not None:
        assert np.all(np.isfinite(column))
    _check_sample(part)


# ------------------------------------------------------------------------------ sbi estimator files
@pytest.fixture(scope="module")
def posterior_file(tmp_path_factory):
    from test_sbi_toy import toy_sample

    from physinf.learn import BoxPrior, PosteriorConfig, PosteriorEstimator

    est = PosteriorEstimator("nre", BoxPrior([-1], [1], names=["a"]), ["x1", "x2"], n_events=5, device="cpu",
                             config=PosteriorConfig(n_simulations=300, max_epochs=2, hidden_features=8,
                                                    normalisation_events=200))
    return est.fit(toy_sample(2000, seed=2)).save(tmp_path_factory.mktemp("post") / "post.pt")


@FAST
@given(damage=byte_damage)
def test_posterior_estimator_files_load_valid_or_are_refused(posterior_file, tmp_path_factory, damage):
    from physinf.learn import PosteriorEstimator

    dst = tmp_path_factory.mktemp("bad") / "post.pt"
    dst.write_bytes(_bytes_damage(posterior_file.read_bytes(), *damage))
    try:
        est = PosteriorEstimator.load(dst, device="cpu")
    except PhysinfError:
        return
    potential = est.posterior(np.zeros((5, 2))).potential(np.array([[0.0], [0.5]]))
    assert np.all(np.isfinite(potential))


# ------------------------------------------------------------------------------ surrogate folders
@pytest.fixture(scope="module")
def surrogate_folder(tmp_path_factory):
    from physinf.learn.surrogate import AmplitudeSurrogate, SurrogateConfig, TrainConfig, amplitude_dataset

    p, a = amplitude_dataset("gg_gg", 600, seed=1, n_adapt=1000)
    sur = AmplitudeSurrogate("gg_gg", config=SurrogateConfig(hidden=8, layers=2, n_draws=4),
                             train=TrainConfig(epochs=2, validation_fraction=0.25, batch_size=128, seed=0, progress=False))
    sur.fit_arrays(p, a)
    folder = sur.save(tmp_path_factory.mktemp("sur") / "surrogate")
    return folder, p[:20]


@FAST
@given(which=st.sampled_from(["weights.pt", "surrogate.json"]), damage=byte_damage)
def test_surrogate_folders_load_valid_or_are_refused(surrogate_folder, tmp_path_factory, which, damage):
    import shutil

    from physinf.learn.surrogate import AmplitudeSurrogate

    folder, points = surrogate_folder
    dst = tmp_path_factory.mktemp("bad") / "surrogate"
    shutil.copytree(folder, dst)
    (dst / which).write_bytes(_bytes_damage((folder / which).read_bytes(), *damage))
    try:
        sur = AmplitudeSurrogate.load(dst, device="cpu")
    except PhysinfError:
        return
    assert np.all(np.isfinite(sur.predict(points)))
