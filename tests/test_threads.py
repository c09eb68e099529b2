"""Threads: one binary runs on any number of threads with the same results, and a run uses no
more threads than there are idle cores."""
import numpy as np
import pytest

from corinfo_sim import session as session_module
from corinfo_sim.datasets import load_dataset
from corinfo_sim.network import Plan
from corinfo_sim.params import make_params
from corinfo_sim.session import Session
from corinfo_sim.weights import init_weights

#: Its lateral pathway (300 × 300 synapses) is large enough to be split over threads.
ARCH = (64, 300, 10)


@pytest.mark.standalone
def test_two_threads_give_the_results_of_one_to_the_bit(tmp_path, monkeypatch):
    digits = load_dataset("digits")
    X, y = digits.X_train[:30], digits.y_train[:30]
    plan = Plan.make(y, train=np.arange(20), test=20 + np.arange(10), beta=np.ones(20))
    p = make_params("antisparse", arch=ARCH, seed=0)
    lines = []
    session = Session(p, X, y, plan.segments, str(tmp_path / "b"), threads=2, progress=lines.append)
    try:
        monkeypatch.setattr(session_module, "idle_cores", lambda: 2.0)
        two = session.run(plan, init_weights(ARCH, np.random.default_rng(0)))
        session.threads = 1
        one = session.run(plan, init_weights(ARCH, np.random.default_rng(0)))
        session.threads = 2
        monkeypatch.setattr(session_module, "idle_cores", lambda: 1.2)  # the other core is busy
        busy = session.run(plan, init_weights(ARCH, np.random.default_rng(0)))
    finally:
        session.close()
    assert (two.threads, one.threads, busy.threads) == (2, 1, 1)
    assert "1.2 of" in lines[-1] and "uses 1 of the 2 threads" in lines[-1]
    for key, w in one.weights.items():
        assert np.array_equal(two.weights[key], w) and np.array_equal(busy.weights[key], w), key
    assert np.array_equal(two.outputs, one.outputs)
    assert np.abs(one.weights["B1"] - init_weights(ARCH, np.random.default_rng(0))["B1"]).max() > 0
