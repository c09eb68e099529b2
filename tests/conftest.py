"""Shared fixtures: Agg plotting, the dense oracle's parameters, clean Brian2 devices, and a
build cache of the test session's own."""
import matplotlib

matplotlib.use("Agg")

import os  # noqa: E402

import brian2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


def dense_params(p):
    """The dense oracle's parameters for simulator Params ``p`` (its variant's oracle: phases,
    settling and step schedule included)."""
    return p.variant.oracle(p)


@pytest.fixture(scope="session", autouse=True)
def build_cache(tmp_path_factory):
    """The tests' compiled networks go to a cache of their own (shared by the whole session and the
    processes it starts), not to the user's."""
    from corinfo_sim.buildcache import CACHE_ENV
    old = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("build_cache"))
    yield os.environ[CACHE_ENV]
    if old is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = old


@pytest.fixture(autouse=True)
def runtime_device():
    """Every test starts and ends in Brian2's runtime mode with the numpy target."""
    brian2.set_device("runtime")
    brian2.prefs.codegen.target = "numpy"
    yield
    brian2.device.reinit()
    brian2.set_device("runtime")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def generated(tmp_path, monkeypatch):
    """``generate(params, name)``: the build key (a hash of the generated code) of a network,
    generated without compiling."""
    from corinfo_sim import buildcache, session as session_module
    from corinfo_sim.datasets import load_dataset
    from corinfo_sim.session import Session
    keys = []
    monkeypatch.setattr(session_module, "compile_cached",
                        lambda build_dir, compile, enabled=True: keys.append(buildcache.build_key(build_dir)))

    def generate(params, name):
        digits = load_dataset("digits")
        s = Session(params, digits.X_test[:20], digits.y_test[:20], {"train": 10, "test": 10, "probe": 0},
                    str(tmp_path / name))
        s.close()
        return keys[-1]
    return generate
