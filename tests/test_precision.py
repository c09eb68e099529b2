"""The float32 network: float32 state and weights, and the float64 network's results at the
float32 level (the float64 network is the one the oracle tests hold to 1e-9)."""
import numpy as np
import pytest

from corinfo_sim.datasets import load_dataset
from corinfo_sim.network import Plan, structure
from corinfo_sim.params import make_params
from corinfo_sim.session import Session
from corinfo_sim.weights import init_weights


@pytest.mark.standalone
def test_float32_network_agrees_with_float64_after_20_samples(tmp_path):
    digits = load_dataset("digits")
    X, y = digits.X_train[:20], digits.y_train[:20]
    plan = Plan.make(y, train=np.arange(20), test=np.arange(20), beta=np.ones(20))
    results = {}
    for precision in ("float64", "float32"):
        p = make_params("antisparse", arch=(64, 100, 10), precision=precision, seed=0)
        session = Session(p, X, y, plan.segments, str(tmp_path / precision))
        try:
            results[precision] = session.run(plan, init_weights(p.arch, np.random.default_rng(0)))
            assert session.net.synapses["pyr_to_inh_1"].w[:].dtype == np.dtype(precision)
        finally:
            session.close()
    double, single = results["float64"], results["float32"]
    for key, w in double.weights.items():
        change = w - init_weights((64, 100, 10), np.random.default_rng(0))[key]
        error = np.abs(single.weights[key] - w).max()
        # float32 rounding (ε ≈ 6e-8 relative) accumulated over 20 samples of 40 steps
        assert error <= 2e-5 * np.abs(w).max(), key
        assert error <= 1e-2 * np.abs(change).max(), key  # far below what learning changed
    np.testing.assert_allclose(single.outputs, double.outputs, atol=1e-5)
    assert np.array_equal(single.outputs.argmax(axis=1), double.outputs.argmax(axis=1))


def test_precision_is_compiled_in():
    double = make_params("antisparse", precision="float64")
    assert structure(double) != structure(double.replace(precision="float32"))
