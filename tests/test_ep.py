"""Equilibrium propagation (models/ep.py): the Brian2 network against its dense oracle, the
oracle against a hand computation, its weights files."""
import numpy as np
import pytest

from corinfo_sim import dense
from corinfo_sim.datasets import load_dataset
from corinfo_sim.errors import CorInfoError
from corinfo_sim.network import Plan
from corinfo_sim.params import make_params
from corinfo_sim.session import Session
from corinfo_sim.weights import init_weights, load_weights, save_weights

N_SAMPLES = 20


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def oracle_run(W0, X, y, betas, p):
    """Dense online training; the free and nudged states of every sample."""
    W = {k: v.copy() for k, v in W0.items()}
    eye = np.eye(p.arch[-1])
    states = []
    for s, beta in enumerate(betas):
        phases = {}
        dense.ep_train_sample(W, X[s], eye[y[s]], beta, p.lr, p.variant.oracle(p), states=phases)
        states.append(phases)
    return W, states


def compare(res, W0, W, states, p, n):
    for k in range(1, p.n_layers + 1):
        free, nudged = res.rates[k]
        np.testing.assert_allclose(free[:n], [s["free"]["r"][k] for s in states], rtol=0, atol=1e-9)
        np.testing.assert_allclose(nudged[:n], [s["nudged"]["r"][k] for s in states], rtol=0, atol=1e-9)
    for key in W:
        change = np.abs(W[key] - W0[key]).max()
        assert change > 0, f"{key} did not learn in the oracle: the test would prove nothing"
        err = np.abs(res.weights[key] - W[key]).max()
        assert err <= 1e-9 * change, f"{key}: error {err:.3g} vs weight change {change:.3g}"


def params(arch, **values):
    L = len(arch) - 1
    return make_params("ep", arch=arch, shuffle=False, lr=(0.1,) + (0.05,) * (L - 1), **values)


@pytest.mark.parametrize("arch", [(64, 8, 10), (64, 8, 6, 10)])
def test_runtime_network_matches_the_oracle(tmp_path, digits, arch):
    """Runtime mode, two and three layers, β of both signs: states of both phases and weights."""
    p = params(arch, n_free=8, n_nudged=4)
    n = 4
    X, y = digits.X_train[:n], digits.y_train[:n]
    W0 = init_weights(arch, np.random.default_rng(4), "ep")
    betas = np.array([1.0, -1.0, -1.0, 1.0])
    plan = Plan.make(y, train=np.arange(n), beta=betas, record=np.ones(n))
    res = Session(p, X, y, plan.segments, str(tmp_path / "b"), device="runtime", record_rates=True).run(plan, W0)
    compare(res, W0, *oracle_run(W0, X, y, betas, p), p, n)


@pytest.mark.standalone
@pytest.mark.parametrize("arch", [(64, 30, 10), (64, 24, 16, 10)])
def test_compiled_network_matches_the_oracle(tmp_path, digits, arch):
    """Compiled: 20 samples with random β signs, states and weights to 1e-9; the test segment's
    outputs; the traces of a probe sample hold the oracle's free state at the end of its free phase."""
    p = params(arch)
    n_test = 5
    X = np.concatenate([digits.X_train[:N_SAMPLES], digits.X_test[:n_test]])
    y = np.concatenate([digits.y_train[:N_SAMPLES], digits.y_test[:n_test]])
    W0 = init_weights(arch, np.random.default_rng(7), "ep")
    betas = np.random.default_rng(1).choice([-1.0, 1.0], size=N_SAMPLES)
    plan = Plan.make(y, train=np.arange(N_SAMPLES), test=N_SAMPLES + np.arange(n_test), probe=[N_SAMPLES],
                     beta=betas, record=np.ones(N_SAMPLES + n_test + 1))
    L = len(arch) - 1
    session = Session(p, X, y, plan.segments, str(tmp_path / "build"), record_rates=True,
                      trace_neurons={k: np.arange(arch[k]) for k in range(1, L + 1)})
    try:
        res = session.run(plan, W0)
    finally:
        session.close()
    W, states = oracle_run(W0, X, y, betas, p)
    compare(res, W0, W, states, p, N_SAMPLES)
    expected = dense.ep_free_rates(W, X[N_SAMPLES:], p.variant.oracle(p))[L]
    np.testing.assert_allclose(res.outputs[N_SAMPLES:N_SAMPLES + n_test], expected, rtol=0, atol=1e-9)
    tr = res.traces
    for k in range(1, L + 1):
        np.testing.assert_allclose(tr[f"rate_L{k}"][p.n_free], expected[0] if k == L else
                                   dense.ep_free_rates(W, X[N_SAMPLES:N_SAMPLES + 1], p.variant.oracle(p))[k][0],
                                   rtol=0, atol=1e-9)
    assert np.all(tr["teacher_L%d" % L][:p.n_free] == 0) and np.any(tr["teacher_L%d" % L][p.n_free:] != 0)


def test_oracle_by_hand():
    """One step and one update of a 1-1-1 network, computed by hand."""
    W = {"W1": np.array([[0.5]]), "b1": np.array([0.1]), "W2": np.array([[0.4]]), "b2": np.array([0.2])}
    p = dense.EPParams(eta=0.5, n_free=1, n_nudged=1)
    x, y = np.array([1.0]), np.array([1.0])
    # free step from s = 0: s1 = 0.5*(0.5*1 + 0.1 + 0.4*0) = 0.3, s2 = 0.5*(0.4*0 + 0.2) = 0.1
    free = dense.ep_relax(W, x, y, 0.0, 1, p)
    assert free[1][0] == pytest.approx(0.3) and free[2][0] == pytest.approx(0.1)
    # nudged step (β = 1): s1 = 0.5*0.3 + 0.5*(0.6 + 0.4*0.1) = 0.47,
    # s2 = 0.5*0.1 + 0.5*(0.4*0.3 + 0.2) + 2*0.5*1*(1 - 0.1) = 1.11 → clipped to 1
    nudged = dense.ep_relax(W, x, y, 1.0, 1, p, s=free)
    assert nudged[1][0] == pytest.approx(0.47) and nudged[2][0] == 1.0
    before = {k: v.copy() for k, v in W.items()}
    dense.ep_train_sample(W, x, y, 1.0, (0.1, 0.2), p)
    assert W["W1"][0, 0] - before["W1"][0, 0] == pytest.approx(0.1 * (0.47 * 1 - 0.3 * 1))
    assert W["b2"][0] - before["b2"][0] == pytest.approx(0.2 * (1.0 - 0.1))
    assert W["W2"][0, 0] - before["W2"][0, 0] == pytest.approx(0.2 * (1.0 * 0.47 - 0.1 * 0.3))


def test_weights_files_name_their_rule(tmp_path):
    arch = (64, 8, 10)
    W = init_weights(arch, np.random.default_rng(0), "ep")
    assert set(W) == {"W1", "b1", "W2", "b2"} and not W["b1"].any()
    save_weights(tmp_path / "ep.npz", W, "ep")
    loaded, found = load_weights(tmp_path / "ep.npz", model="ep")
    assert found == arch and all(np.array_equal(loaded[k], W[k]) for k in W)
    with pytest.raises(CorInfoError, match="holds weights of the ep rule .*not of the corinfomax rule.*--model ep"):
        load_weights(tmp_path / "ep.npz")
    save_weights(tmp_path / "corinfo.npz", init_weights(arch, np.random.default_rng(0)))
    with pytest.raises(CorInfoError, match="corinfomax rule .*not of the ep rule that model ep"):
        load_weights(tmp_path / "corinfo.npz", model="ep")


@pytest.mark.standalone
@pytest.mark.long
def test_digits_accuracy_target(tmp_path, digits):
    """EP's digits defaults (64-100-10) reach ≥ 96 % test accuracy after 20 epochs, seed 0."""
    from corinfo_sim.training import train
    metrics = train(make_params("ep", dataset="digits"), digits, 20, str(tmp_path / "run"),
                    progress=lambda line: None)
    assert metrics["test_acc"][-1] >= 0.96, metrics["test_acc"]
