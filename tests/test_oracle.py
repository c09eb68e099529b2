"""The Brian2 network computes the mathematics of docs/model.md: compared with the dense oracle.

From the same initial weights, the same first 20 training samples in order and β = +1, the
compiled simulation must give the same free and nudged rates of every layer (to 1e-9) and the
same weights after 20 samples (to 1e-9 relative to the size of the weight change).
"""
import numpy as np
import pytest

from conftest import dense_params
from corinfo_sim import dense
from corinfo_sim.datasets import load_dataset
from corinfo_sim.network import Plan
from corinfo_sim.params import Params
from corinfo_sim.session import Session
from corinfo_sim.weights import init_weights

N_SAMPLES = 20


def oracle_run(W0, X, y, betas, p, n_classes, n_test):
    """Dense online training on X[:len(betas)], then free-phase outputs of the next n_test rows.
    Rates at the end of the free phase and of the last nudged phase of every sample (the −β phase
    with three phases, as the network records them)."""
    W = {k: v.copy() for k, v in W0.items()}
    free, nudged = [], []
    eye = np.eye(n_classes)
    dp = dense_params(p)
    for s, beta in enumerate(betas):
        phases = {}
        dense.train_sample(W, X[s], eye[y[s]], beta, p.lr_ff, p.lr_fb, dp, states=phases)
        free.append(phases["free"]["r"])
        nudged.append(phases["minus" if dp.three_phase else "nudged"]["r"])  # the last phase, as recorded
    outputs = dense.predict(W, X[len(betas):len(betas) + n_test], dp)
    return W, free, nudged, outputs


def compare(res, W0, W, free, nudged, outputs, L, n_train, n_test):
    for k in range(1, L + 1):
        r_free, r_nudged = res.rates[k]
        np.testing.assert_allclose(r_free[:n_train], [f[k] for f in free], rtol=0, atol=1e-9)
        np.testing.assert_allclose(r_nudged[:n_train], [n[k] for n in nudged], rtol=0, atol=1e-9)
    for key in W:
        change = np.abs(W[key] - W0[key]).max()
        assert change > 0, f"{key} did not learn in the oracle: the test would prove nothing"
        err = np.abs(res.weights[key] - W[key]).max()
        assert err <= 1e-9 * change, f"{key}: error {err:.3g} vs weight change {change:.3g}"
    np.testing.assert_allclose(res.outputs[n_train:n_train + n_test], outputs, rtol=0, atol=1e-9)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.mark.standalone
@pytest.mark.parametrize("arch, lr_ff, lr_fb", [
    ((64, 30, 10), (0.5, 0.35), (0.075,)),
    ((64, 24, 16, 10), (0.5, 0.35, 0.3), (0.075, 0.05)),
])
def test_compiled_network_matches_dense_oracle(tmp_path, digits, arch, lr_ff, lr_fb):
    # a faster-forgetting λ makes the lateral rule's contribution visible within 20 samples
    p = Params(arch=arch, lr_ff=lr_ff, lr_fb=lr_fb, lam=0.999, beta_sign="positive", shuffle=False)
    n_test = 5
    X = np.concatenate([digits.X_train[:N_SAMPLES], digits.X_test[:n_test]])
    y = np.concatenate([digits.y_train[:N_SAMPLES], digits.y_test[:n_test]])
    W0 = init_weights(arch, np.random.default_rng(7))
    betas = np.ones(N_SAMPLES)
    plan = Plan.make(y, train=np.arange(N_SAMPLES), test=N_SAMPLES + np.arange(n_test), beta=betas,
                     record=np.ones(N_SAMPLES + n_test))
    session = Session(p, X, y, plan.segments, str(tmp_path / "build"), record_rates=True)
    try:
        res = session.run(plan, W0)
        expected = oracle_run(W0, X, y, betas, p, arch[-1], n_test)
        compare(res, W0, *expected, L=len(arch) - 1, n_train=N_SAMPLES, n_test=n_test)
        # the same binary, re-run with other weights, learning rates and β signs (run_args)
        W1 = init_weights(arch, np.random.default_rng(8))
        betas = np.where(np.arange(N_SAMPLES) % 3 == 0, -1.0, 1.0)
        plan2 = Plan.make(y, train=np.arange(N_SAMPLES)[::-1], test=N_SAMPLES + np.arange(n_test), beta=betas,
                          record=np.ones(N_SAMPLES + n_test))
        res2 = session.run(plan2, W1, lr_factor=0.5)
        p_half = p.replace(lr_ff=tuple(0.5 * v for v in lr_ff), lr_fb=tuple(0.5 * v for v in lr_fb))
        Xr, yr = np.concatenate([X[:N_SAMPLES][::-1], X[N_SAMPLES:]]), np.concatenate([y[:N_SAMPLES][::-1], y[N_SAMPLES:]])
        expected2 = oracle_run(W1, Xr, yr, betas, p_half, arch[-1], n_test)
        compare(res2, W1, *expected2, L=len(arch) - 1, n_train=N_SAMPLES, n_test=n_test)
    finally:
        session.close()
    assert session.build_s > 0


@pytest.mark.parametrize("eta_schedule, lambda_batch", [(False, 1), (True, 7)])
def test_runtime_mode_matches_dense_oracle(tmp_path, digits, eta_schedule, lambda_batch):
    """Runtime mode (no compilation) builds the same network; also with the neural step schedule
    and B forgetting once per 7 samples (λ_B = λ^(1/7), the dynamics keeping γ)."""
    arch = (64, 12, 10)
    p = Params(arch=arch, n_free=12, n_nudged=8, lam=0.99, beta_sign="positive", shuffle=False,
               eta_schedule=eta_schedule, lambda_batch=lambda_batch)
    n_train, n_test = 4, 2
    X = np.concatenate([digits.X_train[:n_train], digits.X_test[:n_test]])
    y = np.concatenate([digits.y_train[:n_train], digits.y_test[:n_test]])
    W0 = init_weights(arch, np.random.default_rng(3))
    plan = Plan.make(y, train=np.arange(n_train), test=n_train + np.arange(n_test), beta=np.ones(n_train),
                     record=np.ones(n_train + n_test))
    session = Session(p, X, y, plan.segments, str(tmp_path / "build"), device="runtime", record_rates=True)
    res = session.run(plan, W0)
    compare(res, W0, *oracle_run(W0, X, y, np.ones(n_train), p, 10, n_test), L=2, n_train=n_train, n_test=n_test)


def test_negative_beta_gives_symmetric_estimate(tmp_path, digits):
    """β enters as 1/β: from a settled free phase, +β and −β estimate the same update."""
    arch = (64, 12, 10)
    p = Params(arch=arch, n_free=300, n_nudged=200, beta_sign="positive", shuffle=False)
    X, y = digits.X_train[:1], digits.y_train[:1]
    W0 = init_weights(arch, np.random.default_rng(5))
    changes = {}
    for beta in (1.0, -1.0):
        plan = Plan.make(y, train=[0], beta=[beta * 1e-3])
        res = Session(p, X, y, plan.segments, str(tmp_path / "b"), device="runtime").run(plan, W0)
        changes[beta] = res.weights["Wff2"] - W0["Wff2"]
    # for small β both are finite-difference estimates of the same derivative
    np.testing.assert_allclose(changes[1.0], changes[-1.0], rtol=0.05, atol=1e-6 * np.abs(changes[1.0]).max())
    assert np.abs(changes[1.0]).max() > 0


@pytest.mark.standalone
def test_long_runs_keep_every_sample_in_step(tmp_path, digits):
    """Far into a run (slot > 1000), every sample still starts at its first step.

    With 50 + 20 steps of 1 ms, the per-sample clock (dt = 70 ms) and the step clock round their
    times differently from sample 915 on; the compiled network must still treat them as one time
    (corinfo_sim.codegen.fix_clock_comparison): the same weights as the dense oracle after 1 100
    online samples, and traces of later samples that start from the onset state.
    """
    arch = (64, 16, 10)
    p = Params(arch=arch, n_free=50, n_nudged=20, lam=0.999, beta_sign="positive", shuffle=False,
               lr_ff=(0.05, 0.035), lr_fb=(0.0075,))
    n_train, n_probe = 1100, 2
    X = np.concatenate([digits.X_train[:n_train], digits.X_test[:n_probe]])
    y = np.concatenate([digits.y_train[:n_train], digits.y_test[:n_probe]])
    W0 = init_weights(arch, np.random.default_rng(11))
    plan = Plan.make(y, train=np.arange(n_train), probe=n_train + np.arange(n_probe), beta=np.ones(n_train))
    session = Session(p, X, y, plan.segments, str(tmp_path / "build"),
                      trace_neurons={1: np.arange(4), 2: np.arange(10)})
    try:
        res = session.run(plan, W0)
    finally:
        session.close()
    W, *_ = oracle_run(W0, X, y, np.ones(n_train), p, 10, 0)
    for key in W:
        change = np.abs(W[key] - W0[key]).max()
        assert np.abs(res.weights[key] - W[key]).max() <= 1e-9 * change, key
    tr = res.traces
    for s in range(n_probe):
        first = s * p.steps_per_sample
        for k in (1, 2):
            assert np.all(tr[f"v_soma_L{k}"][first] == 0) and np.all(tr[f"rate_L{k}"][first] == 0), (s, k)
        assert np.any(tr["v_soma_L1"][first + 1] != 0)


# ---- every variant of the rate network, every discretisation switch -----------------------------------
SWITCHES = [dict(update_order=order, nudged_start=start, eta_schedule=schedule, three_phase=three)
            for order in ("simultaneous", "layered") for start in ("continue", "rates")
            for schedule in ("off", "free", "both") for three in (False, True)]


def variant_oracle(W0, X, y, betas, p):
    """Dense online training with the variant's own oracle; the end state of every phase."""
    W = {k: v.copy() for k, v in W0.items()}
    dp = p.variant.oracle(p)
    eye = np.eye(p.arch[-1])
    states = []
    for s, beta in enumerate(betas):
        phases = {}
        dense.train_sample(W, X[s], eye[y[s]], beta, p.lr_ff, p.lr_fb, dp, states=phases)
        states.append(phases)
    return W, states


def compare_variant(res, W0, W, states, p, n_train, atol=1e-9):
    for k in range(1, p.n_layers + 1):
        r_free, r_last = res.rates[k]
        np.testing.assert_allclose(r_free[:n_train], [s["free"]["r"][k] for s in states], rtol=0, atol=atol)
        last = "minus" if p.three_phase else "nudged"
        np.testing.assert_allclose(r_last[:n_train], [s[last]["r"][k] for s in states], rtol=0, atol=atol)
    for key in W:
        change = np.abs(W[key] - W0[key]).max()
        assert change > 0, f"{key} did not learn in the oracle: the test would prove nothing"
        err = np.abs(res.weights[key] - W[key]).max()
        assert err <= atol * change, f"{key}: error {err:.3g} vs weight change {change:.3g}"


@pytest.mark.parametrize("model", ["antisparse", "sparse"])
@pytest.mark.parametrize("switches", SWITCHES, ids=lambda s: "-".join(str(v) for v in s.values()))
def test_every_discretisation_matches_the_oracle(tmp_path, digits, model, switches):
    """Runtime mode, every combination of update order, nudged start, step schedule and three
    phases, for the antisparse and the sparse network."""
    from corinfo_sim.params import make_params
    arch = (64, 8, 10)
    p = make_params(model, arch=arch, n_free=8, n_nudged=5, lam=0.99, beta_sign="positive", shuffle=False,
                    eta=0.1, **switches)
    n = 3
    X, y = digits.X_train[:n], digits.y_train[:n]
    W0 = init_weights(arch, np.random.default_rng(4))
    plan = Plan.make(y, train=np.arange(n), beta=np.ones(n), record=np.ones(n))
    res = Session(p, X, y, plan.segments, str(tmp_path / "b"), device="runtime", record_rates=True).run(plan, W0)
    compare_variant(res, W0, *variant_oracle(W0, X, y, np.ones(n), p), p, n)


@pytest.mark.parametrize("model", ["antisparse", "sparse"])
@pytest.mark.parametrize("three", [False, True])
def test_gated_plasticity_matches_the_oracle(tmp_path, digits, model, three):
    """``gate_clipped``: the rows of neurons at a bound of their rate function in both contrasted
    states do not learn, in the network as in the oracle; and the gate changes the weights."""
    from corinfo_sim.params import make_params
    arch = (64, 12, 8, 10)
    p = make_params(model, arch=arch, n_free=10, n_nudged=6, lam=0.99, beta_sign="positive", shuffle=False,
                    eta=0.1, three_phase=three, gate_clipped=True)
    n = 3
    X, y = digits.X_train[:n], digits.y_train[:n]
    W0 = init_weights(arch, np.random.default_rng(4))
    plan = Plan.make(y, train=np.arange(n), beta=np.ones(n), record=np.ones(n))
    res = Session(p, X, y, plan.segments, str(tmp_path / "b"), device="runtime", record_rates=True).run(plan, W0)
    W, states = variant_oracle(W0, X, y, np.ones(n), p)
    compare_variant(res, W0, W, states, p, n)
    plain = make_params(model, arch=arch, n_free=10, n_nudged=6, lam=0.99, beta_sign="positive", shuffle=False,
                        eta=0.1, three_phase=three)
    ungated = variant_oracle(W0, X, y, np.ones(n), plain)[0]
    frozen = {key: np.all(W[key] == W0[key], axis=1) for key in W if key.startswith("W")}
    assert any(frozen[key].any() and np.abs(W[key] - ungated[key]).max() > 0 for key in frozen), \
        "no neuron was clipped in every sample: the gate was not tested"
    for key, rows in frozen.items():  # the gated rows are unchanged in the network too
        np.testing.assert_array_equal(np.all(res.weights[key] == W0[key], axis=1), rows, err_msg=key)


@pytest.mark.standalone
@pytest.mark.parametrize("model, arch, switches", [
    ("sparse", (64, 30, 10), {}),
    ("sparse", (64, 24, 16, 10), {}),
    ("sparse", (64, 24, 16, 10), dict(update_order="layered", nudged_start="rates", eta_schedule="both",
                                      three_phase=True)),
    ("antisparse", (64, 24, 16, 10), dict(update_order="layered", nudged_start="rates", eta_schedule="both",
                                          three_phase=True)),
    ("antisparse", (64, 24, 10), dict(lambda_batch=20)),
    ("antisparse", (64, 24, 16, 10), dict(three_phase=True, gate_clipped=True)),
])
def test_compiled_variants_match_the_oracle(tmp_path, digits, model, arch, switches):
    """Compiled: 20 samples, free and nudged rates, the multipliers s and the weights to 1e-9."""
    from corinfo_sim.params import make_params
    L = len(arch) - 1
    extra = dict(eta_s=(0.01,) * (L - 1) + (0.05,)) if model == "sparse" else {}
    p = make_params(model, arch=arch, lam=0.999, beta_sign="positive", shuffle=False, n_free=20, n_nudged=10,
                    lr_ff=(0.5,) + (0.35,) * (L - 1), lr_fb=(0.075,) * (L - 1), **extra, **switches)
    X, y = digits.X_train[:N_SAMPLES], digits.y_train[:N_SAMPLES]
    W0 = init_weights(arch, np.random.default_rng(7))
    plan = Plan.make(y, train=np.arange(N_SAMPLES), probe=[0], beta=np.ones(N_SAMPLES),
                     record=np.ones(N_SAMPLES + 1))
    neurons = {k: np.arange(p.arch[k]) for k in range(1, L + 1)}
    session = Session(p, X, y, plan.segments, str(tmp_path / "build"), record_rates=True, trace_neurons=neurons)
    try:
        res = session.run(plan, W0)
    finally:
        session.close()
    W, states = variant_oracle(W0, X, y, np.ones(N_SAMPLES), p)
    compare_variant(res, W0, W, states, p, N_SAMPLES)
    if model == "sparse":
        # the multipliers: the probe sample (plastic weights frozen at W) traced step by step
        probe = {}
        dense.train_sample({k: v.copy() for k, v in W.items()}, X[0], np.eye(10)[y[0]], 1.0, p.lr_ff, p.lr_fb,
                           p.variant.oracle(p), states=probe)
        tr = res.traces
        for k in range(1, L + 1):
            s_free = tr[f"s_L{k}"][p.n_free, 0]  # the state at the start of step n_free: end of the free phase
            assert s_free == pytest.approx(probe["free"]["s"][k], abs=1e-9)
        assert max(tr[f"s_L{k}"].max() for k in range(1, L + 1)) > 0, \
            "no multiplier acted: the test would prove nothing"


@pytest.mark.parametrize("device, model, arch, switches", [
    pytest.param("cpp_standalone", "antisparse", (64, 24, 16, 10), {}, marks=pytest.mark.standalone),
    pytest.param("cpp_standalone", "sparse", (64, 24, 16, 10), dict(three_phase=True, update_order="layered",
                                                                     eta_schedule="both"),
                 marks=pytest.mark.standalone),
    ("runtime", "antisparse", (64, 12, 10), dict(three_phase=True, nudged_start="rates")),
])
def test_settling_to_a_tolerance_matches_the_oracle(tmp_path, digits, device, model, arch, switches):
    """--settle-tol: every phase ends after the first step in which no potential moved by the
    tolerance (the step clock jumps to the phase's end). Rates, weights and the steps of every
    phase as the oracle's; the test samples' free phases as the batched dense evaluation's."""
    from corinfo_sim.params import make_params
    L = len(arch) - 1
    extra = dict(eta_s=(0.01,) * (L - 1) + (0.05,)) if model == "sparse" else {}
    p = make_params(model, arch=arch, lam=0.999, beta_sign="positive", shuffle=False, n_free=60, n_nudged=25,
                    settle_tol=1e-3, lr_ff=(0.5,) + (0.35,) * (L - 1), lr_fb=(0.075,) * (L - 1), **extra, **switches)
    n, n_test = 12, 6
    X = np.concatenate([digits.X_train[:n], digits.X_test[:n_test]])
    y = np.concatenate([digits.y_train[:n], digits.y_test[:n_test]])
    W0 = init_weights(arch, np.random.default_rng(7))
    plan = Plan.make(y, train=np.arange(n), test=n + np.arange(n_test), beta=np.ones(n),
                     record=np.ones(n + n_test))
    session = Session(p, X, y, plan.segments, str(tmp_path / "build"), device=device, record_rates=True)
    try:
        res = session.run(plan, W0)
    finally:
        session.close()
    W, states = variant_oracle(W0, X, y, np.ones(n), p)
    compare_variant(res, W0, W, states, p, n)
    free = [s["free"]["steps"] for s in states]
    nudged = [s["nudged"]["steps"] + (s["minus"]["steps"] if p.three_phase else 0) for s in states]
    np.testing.assert_array_equal(res.steps["free"][:n], free)
    np.testing.assert_array_equal(res.steps["nudged"][:n], nudged)
    assert min(free) < p.n_free and min(nudged) < p.n_nudged * (2 if p.three_phase else 1), \
        "no phase settled before its cap: the test would prove nothing"
    test_steps = []
    outputs = dense.free_rates(W, X[n:], p.variant.oracle(p), steps=test_steps)[L]
    np.testing.assert_allclose(res.outputs[n:n + n_test], outputs, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(res.steps["free"][n:n + n_test], test_steps[0])
