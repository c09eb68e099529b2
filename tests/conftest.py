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
