"""One compiled network for every run of a network structure: run-time values, the build cache."""
import os
import subprocess
import sys

import numpy as np
import pytest

from corinfo_sim.errors import CorInfoError
from corinfo_sim.spec import UNITS
from corinfo_sim import buildcache
from corinfo_sim.datasets import load_dataset
from corinfo_sim.models import VARIANTS, get_variant
from corinfo_sim.network import Plan, structure
from corinfo_sim.params import make_params
from corinfo_sim.session import Session
from corinfo_sim.weights import init_weights

EXE = os.path.join(os.path.dirname(sys.executable), "corinfo-sim")
#: Values of run-time parameters other than the defaults (every one of them changed at once).
OTHER_VALUES = dict(g_leak=0.3, epsilon=0.2, lam=0.9999, eta=0.07, beta=0.5, lr_ff=(0.2, 0.1), lr_fb=(0.05,), seed=3)


def _changed(parameter, value, arch):
    """Another valid value of ``parameter``."""
    kind = parameter.kind
    if parameter.name == "arch":
        return (arch[0], arch[1] + 1) + tuple(arch[2:])
    if parameter.name == "sparse_layers":
        return (len(arch) - 1,)
    if value is None and parameter.optional:  # unset (another parameter applies): set it
        return 0.5
    if parameter.name == "settle_tol" and float(value) == 0:  # off -> on: the settling monitor is built
        return 1e-3 * UNITS[parameter.unit] if kind == "quantity" else 1e-3
    if parameter.name in ("dt", "t_free", "t_nudged", "t_window"):
        return value * 2 if parameter.name != "t_window" else value / 2
    return {"float": lambda: value * 0.9, "floats": lambda: tuple(v * 0.9 for v in value),
            "quantity": lambda: value * 0.9 if float(value) else value + 1 * UNITS[parameter.unit], "int": lambda: value + 1, "bool": lambda: not value,
            "choice": lambda: next(c for c in parameter.choices if c != value),
            "schedule": lambda: ((0, 0.5),)}[kind]()


@pytest.mark.parametrize("model", VARIANTS)
def test_run_time_parameters_are_exactly_those_that_keep_the_structure(model):
    """A parameter declared ``runtime`` leaves the compiled code as it is; every other one changes it."""
    if get_variant(model).network is None:
        pytest.skip(f"model {model} is a reference without a Brian2 network: nothing is compiled")
    base = make_params(model, "digits")
    for parameter in get_variant(model).parameters:
        # how failures are drawn matters only where synapses fail
        reference = base.replace(release_prob=0.5) if parameter.name == "release_noise" else base
        value = _changed(parameter, getattr(reference, parameter.name), reference.arch)
        try:
            other = reference.replace(**{parameter.name: value})
        except CorInfoError:  # e.g. a doubled step too long for the time constants: halve it
            other = reference.replace(**{parameter.name: getattr(reference, parameter.name) / 2})
        same = structure(other) == structure(reference)
        assert same == parameter.runtime, (parameter.name, "run-time" if same else "compiled in")


@pytest.mark.standalone
@pytest.mark.parametrize("model", VARIANTS)
def test_run_time_values_generate_the_same_code(generated, model):
    if get_variant(model).network is None:
        pytest.skip(f"model {model} is a reference without a Brian2 network: nothing is compiled")
    base = make_params(model, "digits")
    values = {k: v for k, v in OTHER_VALUES.items() if k in base.variant.parameters_by_name}
    if model == "spiking":
        values.pop("eta", None)
    assert generated(base, "a") == generated(base.replace(**values), "b")
    assert generated(base, "c") != generated(base.replace(arch=(64, 30, 10)), "d")


def _run(params, build_dir, digits, build_cache=True):
    n = 30
    s = Session(params, digits.X_train[:n], digits.y_train[:n], {"train": 20, "test": 10, "probe": 0},
                str(build_dir), build_cache=build_cache)
    try:
        plan = Plan.make(digits.y_train[:n], train=np.arange(20), test=20 + np.arange(10))
        result = s.run(plan, init_weights(params.arch, np.random.default_rng(params.seed)), lr_factor=0.9)
        return s.from_cache, result
    finally:
        s.close()


@pytest.mark.standalone
def test_the_cached_binary_runs_other_values_exactly(tmp_path, monkeypatch):
    """A network built for g_L = 0.5, ... runs g_L = 0.3, ... from the cache exactly as a network
    compiled for those values; the cache is keyed by the generated code."""
    monkeypatch.setenv(buildcache.CACHE_ENV, str(tmp_path / "cache"))
    digits = load_dataset("digits")
    base = make_params("antisparse", "digits", arch=(64, 20, 10))
    other = base.replace(**OTHER_VALUES)
    hit_a, _ = _run(base, tmp_path / "a", digits)
    hit_b, cached = _run(other, tmp_path / "b", digits)
    hit_c, fresh = _run(other, tmp_path / "c", digits, build_cache=False)
    assert (hit_a, hit_b, hit_c) == (False, True, False)
    for key in fresh.weights:
        assert np.array_equal(cached.weights[key], fresh.weights[key]), key
    assert np.array_equal(cached.outputs, fresh.outputs)
    _, first = _run(base, tmp_path / "d", digits)
    assert not np.allclose(first.outputs, cached.outputs), "the values did change the run"
    entries = os.listdir(tmp_path / "cache" / "builds")
    assert len([e for e in entries if not e.endswith(".lock")]) == 1


@pytest.mark.standalone
def test_a_broken_cache_entry_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv(buildcache.CACHE_ENV, str(tmp_path / "cache"))
    digits = load_dataset("digits")
    params = make_params("antisparse", "digits", arch=(64, 21, 10))
    _, good = _run(params, tmp_path / "a", digits)
    builds = tmp_path / "cache" / "builds"
    entry = next(builds / e for e in os.listdir(builds) if not e.endswith(".lock"))
    (entry / "main").write_bytes(b"not a program")
    hit, rebuilt = _run(params, tmp_path / "b", digits)
    assert not hit, "a corrupt binary must not be used"
    assert np.array_equal(good.outputs, rebuilt.outputs)
    assert _run(params, tmp_path / "c", digits)[0], "the rebuilt entry is used again"


@pytest.mark.standalone
def test_concurrent_processes_compile_a_network_once(tmp_path):
    env = dict(os.environ, **{buildcache.CACHE_ENV: str(tmp_path / "cache")})
    args = ["train", "--dataset", "digits", "--arch", "64,22,10", "--epochs", "1", "--max-train-samples", "20",
            "--max-test-samples", "10"]
    procs = [subprocess.Popen([EXE, *args, "--out", str(tmp_path / f"run{n}")], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n in range(2)]
    outputs = [p.communicate(timeout=900) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outputs]
    hits = [("from the build cache" in out) for out, _ in outputs]
    assert sorted(hits) == [False, True], [o[0] for o in outputs]


@pytest.mark.standalone
def test_no_build_cache_leaves_the_cache_alone(tmp_path):
    env = dict(os.environ, **{buildcache.CACHE_ENV: str(tmp_path / "cache")})
    proc = subprocess.run([EXE, "train", "--dataset", "digits", "--arch", "64,23,10", "--epochs", "1",
                           "--max-train-samples", "20", "--max-test-samples", "10", "--out", str(tmp_path / "run"),
                           "--no-build-cache"], env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "cache").exists()
