"""The spiking variant: the same learning rule as the rate model, estimated from spikes.

- one neuron by hand: a synaptic trace's window average is W times the presynaptic trace's,
  and both estimate W x;
- the one-sample weight update converges to the dense rate oracle's (run to its fixed point) as
  ν_max·t_window grows, at the rate the encoder promises: ≈ 1/(ν T) for the deterministic
  encoder, ≈ 1/√(ν T) for Poisson; with one hidden layer and with two;
- the network offers what Session and the training protocol use (window-averaged rates,
  traces, spike trains, run_args), compiled and in runtime mode;
- bad parameter values raise CorInfoError with a one-line message.
"""
import json

import brian2
import numpy as np
import pytest

from corinfo_sim import dense
from corinfo_sim.datasets import load_dataset
from corinfo_sim.errors import CorInfoError
from corinfo_sim.network import Plan
from corinfo_sim.params import Params, make_params as _make_params
from corinfo_sim.session import Session
from corinfo_sim.spiking import mean_update_error, uniform_hash
from corinfo_sim.weights import init_weights

ms, Hz = brian2.ms, brian2.Hz


def make_params(**values):
    return _make_params("spiking", **values)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def run(tmp_path, p, images, labels, plan, W, lr_factor=1.0, **kwargs):
    session = Session(p, images, labels, plan.segments, str(tmp_path / "b"), device="runtime", variant="spiking",
                      **kwargs)
    return session, session.run(plan, W, lr_factor=lr_factor)


# ---- one neuron ---------------------------------------------------------------------------------
def chain(w1=0.6, w2=1.5):
    """1-1-1 network without lateral and feedback weights."""
    return {"Wff1": np.array([[w1]]), "Wff2": np.array([[w2]]), "Wfb1": np.array([[0.0]]),
            "B1": np.array([[0.0]]), "B2": np.array([[0.0]])}


def test_trace_mean_is_W_times_rate(tmp_path):
    """Basal trace average = W_ff,1 × the input's trace average ≈ W_ff,1 x; soma at v_B/2."""
    p = make_params(arch=(1, 1, 1), nu_max=200 * Hz, nu_input=200 * Hz, t_free=250 * ms, t_nudged=225 * ms,
                    t_window=200 * ms, beta_sign="positive", lam=0.99)
    x, W = 0.5, chain()
    plan = Plan.make([0], train=[0], beta=[1.0], record=[1.0])
    session, res = run(tmp_path, p, np.array([[x]]), np.array([0]), plan, W, record_rates=True)
    net = session.net
    x_bar = net.inp.rate_free[0]  # window average of the input's spike trace
    v_basal = net.pyr[1].r_free[0] - net.pyr[1].e_ff_free[0]  # window average of v_B / V0
    assert v_basal == pytest.approx(W["Wff1"][0, 0] * x_bar, rel=1e-12)  # the same spikes, the same kernel
    spikes = float(p.nu_input * p.t_window) * x  # 20 spikes in the window
    assert x_bar == pytest.approx(x, abs=1.5 / spikes * x)  # the encoder's promise: ≤ one spike off
    # hidden soma: u* = v_B/2 (no feedback, no lateral input), up to the spike noise of the trace
    assert res.rates[1][0][0, 0] == pytest.approx(W["Wff1"][0, 0] * x / 2, rel=0.05)
    # the free and nudged input windows saw the same spikes
    assert net.inp.acc_x[0] == 0  # reset at the closing slot's onset
    assert res.rates[1][1][0, 0] == pytest.approx(res.rates[1][0][0, 0], abs=1e-6)


def test_spike_count_and_spike_trains(tmp_path):
    """A traced neuron fires ν_max r spikes per second; spike times lie on the traces' time axis."""
    p = make_params(arch=(1, 1, 1), nu_max=200 * Hz, beta_sign="positive")
    W = chain()
    plan = Plan.make([0], probe=[0], record=[1.0], trace=[1.0])
    session, res = run(tmp_path, p, np.array([[1.0]]), np.array([0]), plan, W, record_rates=True,
                       trace_neurons={1: [0], 2: [0]})
    trains = session.net.spike_trains()
    t_ms, neuron = trains[1]
    assert set(neuron) == {0}
    T_ms = float(p.sample_duration / ms)
    assert np.all((t_ms >= 0) & (t_ms < T_ms)) and np.all(np.diff(t_ms) > 0)
    r = res.traces["rate_L1"][:, 0]
    expected = float(p.nu_max * p.dt) * r[:-1].sum()  # spikes promised by the rate, step by step
    assert len(t_ms) == pytest.approx(expected, abs=2)
    for key in ("v_soma_L1", "v_basal_L1", "v_apical_L1", "z_L1", "teacher_L2"):
        assert res.traces[key].shape == (p.steps_per_sample, 1)


# ---- the learning rule: convergence to the rate oracle ----------------------------------------------
def one_sample_errors(tmp_path, digits, encoder, scales, seeds, arch=(64, 30, 10)):
    """Relative error of the one-sample update against the dense oracle at its fixed point."""
    x, y = digits.X_train[:1], digits.y_train[:1]
    W0 = init_weights(arch, np.random.default_rng(7))
    base = make_params(arch=arch, beta_sign="positive", encoder=encoder, lam=0.99, gate_clipped=False)
    dp = dense.DenseParams(epsilon=base.epsilon, lam=base.lam, g_leak=base.g_leak, n_free=3000, n_nudged=3000)
    W = {k: v.copy() for k, v in W0.items()}
    dense.train_sample(W, x[0], np.eye(arch[-1])[y[0]], 1.0, base.lr_ff, base.lr_fb, dp)

    def change(Wn, key):  # the lateral rule's data term γ z zᵀ/λ (B/λ − B is exact anyway)
        d = Wn[key] - W0[key]
        return d - (W0[key] / base.lam - W0[key]) if key.startswith("B") else d

    errors = {}
    for c in scales:
        s = np.sqrt(c)  # ν_max and t_window each grow by √c
        t_window = round(50 * s) / 2 * ms
        p = base.replace(nu_max=200 * s * Hz, nu_input=200 * s * Hz, t_window=t_window, t_free=50 * ms + t_window,
                         t_nudged=50 * ms + t_window)
        errs = []
        for seed in seeds:
            plan = Plan.make(y, train=[0], beta=[1.0])
            _, res = run(tmp_path, p.replace(seed=seed), x, y, plan, W0)
            num = sum(np.sum((change(res.weights, k) - change(W, k)) ** 2) for k in W0)
            errs.append(np.sqrt(num / sum(np.sum(change(W, k) ** 2) for k in W0)))
        errors[c] = float(np.sqrt(np.mean(np.square(errs))))
    return errors


@pytest.fixture(scope="module")
def convergence(tmp_path_factory, digits):
    """One-sample errors at ν_max·t_window × 1, 10, 100 for both encoders (measured here, these
    3 seeds: deterministic 1.4, 0.26, 0.028; Poisson 64, 17, 2.5)."""
    tmp = tmp_path_factory.mktemp("convergence")
    return {enc: one_sample_errors(tmp, digits, enc, (1, 10, 100), seeds=(0, 1, 2))
            for enc in ("deterministic", "poisson")}


def test_update_converges_to_rate_oracle_deterministic(convergence):
    err = convergence["deterministic"]
    assert err[100] < 0.06
    # ≈ 1/(ν T): a factor ≈ 10 per decade (√10 would be the Poisson rate)
    assert err[1] / err[10] > 4 and err[10] / err[100] > 5


def test_two_hidden_layers_converge_to_rate_oracle(tmp_path, digits):
    """Hidden-to-hidden spikes (ff_2, fb_2) and two lateral pathways: the same convergence
    (measured here, 3 seeds: 6.0, 0.47, 0.052)."""
    err = one_sample_errors(tmp_path, digits, "deterministic", (1, 10, 100), seeds=(0, 1, 2), arch=(64, 20, 16, 10))
    assert err[100] < 0.1
    assert err[1] / err[10] > 4 and err[10] / err[100] > 5


def test_update_converges_to_rate_oracle_poisson(convergence):
    err, det = convergence["poisson"], convergence["deterministic"]
    assert err[1] > err[10] > err[100]
    # ≈ 1/√(ν T): ≈ 10 over two decades, where the deterministic encoder gains ≈ 100
    assert 4 < err[1] / err[100] < 40
    assert det[1] / det[100] > 1.5 * err[1] / err[100]
    assert det[1] / det[10] > 1.3 * err[1] / err[10]


@pytest.mark.standalone
def test_mean_update_is_unbiased_at_the_defaults(tmp_path, digits):
    """At the default rates and windows, the sum of 400 one-sample updates (learning rates × 1e-3,
    so that the weights barely move) is the dense oracle's sum: the spike noise of each update
    averages out. Measured here: relative errors 0.060, 0.041, 0.051, cosines ≥ 0.998 (with two
    hidden layers the same measurement gives 0.44 for W_ff,1: see the README)."""
    arch, n = (64, 100, 10), 400
    errors = mean_update_error(make_params(arch=arch), digits.X_train[:n], digits.y_train[:n],
                               init_weights(arch, np.random.default_rng(0)), str(tmp_path / "b"))
    assert set(errors) == {"Wff1", "Wff2", "Wfb1"}
    for key, e in errors.items():
        assert e["rel_error"] < 0.1 and e["cosine"] > 0.99 and 0.9 < e["norm_ratio"] < 1.1, (key, e)


def test_mean_update_error_sees_a_biased_estimate(tmp_path, digits):
    """The measurement can fail: 5 ms windows right after the phase onsets (nothing settled)
    give an average update far from the oracle's (runtime mode, 20 samples)."""
    arch = (64, 12, 10)
    p = make_params(arch=arch, t_free=5 * ms, t_nudged=5 * ms, t_window=5 * ms)
    errors = mean_update_error(p, digits.X_train[:20], digits.y_train[:20], init_weights(arch, np.random.default_rng(0)),
                               str(tmp_path / "b"), device="runtime", oracle_steps=500)
    assert max(e["rel_error"] for e in errors.values()) > 0.5
    with pytest.raises(CorInfoError, match="factor must be positive"):
        mean_update_error(p, digits.X_train[:2], digits.y_train[:2], init_weights(arch, np.random.default_rng(0)),
                          str(tmp_path / "c"), factor=0)


def test_uniform_hash_is_uniform_and_keyed():
    """The Poisson encoder's counter-based uniform numbers: mean 1/2, variance 1/12, no
    correlation between neighbouring neurons, steps, streams or keys."""
    n = np.arange(200_000)
    u = uniform_hash(np.float64(2 ** 40 + 3), 1, 17, n)
    assert u.shape == n.shape and 0 <= u.min() and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01
    for other in (uniform_hash(np.float64(2 ** 40 + 3), 1, 18, n), uniform_hash(np.float64(2 ** 40 + 3), 2, 17, n),
                  uniform_hash(np.float64(2 ** 40 + 4), 1, 17, n)):
        assert abs(np.corrcoef(u, other)[0, 1]) < 0.01
    np.testing.assert_array_equal(u, uniform_hash(np.float64(2 ** 40 + 3), 1, 17, n))


# ---- the network's interface --------------------------------------------------------------------
@pytest.mark.standalone
@pytest.mark.parametrize("encoder", ["deterministic", "poisson"])
def test_compiled_matches_runtime_and_reruns(tmp_path, digits, encoder):
    """One build, two runs through run_args (weights, plan, phases or noise keys): equal to
    runtime mode, spike for spike."""
    arch = (64, 12, 10)
    p = make_params(arch=arch, lam=0.99, t_free=40 * ms, t_nudged=30 * ms, t_window=20 * ms, encoder=encoder)
    X = np.concatenate([digits.X_train[:4], digits.X_test[:2]])
    y = np.concatenate([digits.y_train[:4], digits.y_test[:2]])

    def plan(order, betas):
        return Plan.make(y, train=order, test=[4], probe=[5], beta=betas, record=np.ones(6), trace=np.ones(6))

    plans = [plan([0, 1, 2, 3], [1.0, -1.0, 1.0, 1.0]), plan([3, 2, 1, 0], [-1.0, 1.0, 1.0, -1.0])]
    weights = [init_weights(arch, np.random.default_rng(s)) for s in (1, 2)]
    session = Session(p, X, y, plans[0].segments, str(tmp_path / "b"), variant="spiking", record_rates=True,
                      trace_neurons={1: [0, 3], 2: np.arange(10)})
    compiled = []
    try:
        for pl, W in zip(plans, weights):
            compiled.append((session.run(pl, W, lr_factor=0.5), session.net.spike_trains()))
    finally:
        session.close()
    for (res, trains), pl, W in zip(compiled, plans, weights):
        ref, r = run(tmp_path, p, X, y, pl, W, record_rates=True, trace_neurons={1: [0, 3], 2: np.arange(10)},
                     lr_factor=0.5)
        for key in W:
            np.testing.assert_allclose(res.weights[key], r.weights[key], rtol=0, atol=1e-12)
            assert np.abs(res.weights[key] - W[key]).max() > 0
        np.testing.assert_allclose(res.outputs, r.outputs, rtol=0, atol=1e-12)
        for k in (1, 2):
            np.testing.assert_allclose(res.rates[k][0], r.rates[k][0], rtol=0, atol=1e-12)
            np.testing.assert_allclose(res.rates[k][1], r.rates[k][1], rtol=0, atol=1e-12)
            np.testing.assert_array_equal(trains[k][1], ref.net.spike_trains()[k][1])
            np.testing.assert_allclose(trains[k][0], ref.net.spike_trains()[k][0], rtol=0, atol=1e-9)
        np.testing.assert_allclose(res.traces["v_soma_L1"], r.traces["v_soma_L1"], rtol=0, atol=1e-9)


@pytest.mark.parametrize("encoder", ["deterministic", "poisson"])
def test_phases_are_reproducible(tmp_path, digits, encoder):
    """The encoders' starting phases and Poisson draws come from the seed and the plan: same
    inputs, same result; another seed, another result."""
    arch = (64, 12, 10)
    p = make_params(arch=arch, t_free=40 * ms, t_nudged=30 * ms, t_window=20 * ms, encoder=encoder)
    X, y = digits.X_train[:2], digits.y_train[:2]
    W = init_weights(arch, np.random.default_rng(3))
    plan = Plan.make(y, train=[0, 1], beta=[1.0, -1.0])
    a = run(tmp_path, p, X, y, plan, W)[1].weights
    b = run(tmp_path, p, X, y, plan, W)[1].weights
    c = run(tmp_path, p.replace(seed=1), X, y, plan, W)[1].weights
    for key in W:
        np.testing.assert_array_equal(a[key], b[key])
    assert any(np.abs(a[key] - c[key]).max() > 0 for key in W)


def test_network_needs_spiking_params(tmp_path, digits):
    p = Params(arch=(64, 12, 10))
    plan = Plan.make(digits.y_train[:1], train=[0])
    with pytest.raises(CorInfoError, match="parameters are for model 'antisparse' but the session is for 'spiking'"):
        run(tmp_path, p, digits.X_train[:1], digits.y_train[:1], plan, init_weights(p.arch, np.random.default_rng(0)))


def test_images_must_be_rates(tmp_path):
    p = make_params(arch=(1, 1, 1))
    plan = Plan.make([0], train=[0])
    with pytest.raises(CorInfoError, match=r"\[0, 1\]"):
        run(tmp_path, p, np.array([[2.0]]), np.array([0]), plan, chain())


# ---- parameters ---------------------------------------------------------------------------------
def test_defaults_and_derived_steps():
    p = make_params()
    assert p.dt == 0.5 * ms and p.nu_max == 800 * Hz and p.nu_input == 400 * Hz and p.encoder == "deterministic"
    assert p.free_steps == 200 and p.steps_per_sample == 350 and p.window_steps == 100
    assert p.sample_duration == 175 * ms and p.tau == p.tau_soma
    assert Params.from_dict(p.to_dict()) == p
    # values whose printed unit is not a Brian2 name ("0.35 s", "1.6 kHz", "250. us") read back too
    other = make_params(t_free=350 * ms, t_nudged=1 * brian2.second, nu_max=1600 * Hz, nu_input=2000 * Hz,
                        dt=0.25 * ms, tau_s=4.25 * ms)
    assert Params.from_dict(json.loads(json.dumps(other.to_dict()))) == other
    with pytest.raises(CorInfoError, match="cannot read the quantity 'ten ms'"):
        Params.from_dict(dict(other.to_dict(), t_free="ten ms"))
    with pytest.raises(CorInfoError, match="cannot read the quantity '10 parsecs'"):
        Params.from_dict(dict(other.to_dict(), t_free="10 parsecs"))
    rate = Params()
    assert rate.to_dict()["model"] == "antisparse" and rate.free_steps == rate.n_free and rate.window_steps == 1


@pytest.mark.parametrize("changes, message", [
    (dict(nu_max=-5 * Hz), "nu_max must be a positive rate"),
    (dict(nu_max=5 * ms), "nu_max must be a positive rate"),
    (dict(nu_max=3000 * Hz), "exceeds 1 spike per step"),
    (dict(nu_input=3000 * Hz), "nu_input \\* dt"),
    (dict(tau_s=0.5 * ms), "tau_s"),
    (dict(tau_soma=0.1 * ms), "tau_soma"),
    (dict(t_free=50.2 * ms), "whole number of steps"),
    (dict(t_window=80 * ms), "must fit into both phases"),
    (dict(t_window=0 * ms), "t_window must be a positive time"),
    (dict(encoder="regular"), "encoder must be one of"),
    (dict(eta_schedule=True), "eta_schedule is not a parameter of model spiking: it belongs to model antisparse"),
])
def test_bad_parameters_raise_one_line(changes, message):
    with pytest.raises(CorInfoError, match=message) as err:
        make_params(**changes)
    assert "\n" not in str(err.value)
    with pytest.raises(CorInfoError, match="unknown model 'spikey'"):
        Params("spikey")


def test_spiking_fields_need_the_spiking_model():
    with pytest.raises(CorInfoError, match="nu_max is not a parameter of model antisparse: it belongs to model "
                                           "spiking [(]--model spiking[)]") as err:
        Params(nu_max=200 * Hz)
    assert "\n" not in str(err.value)


@pytest.mark.long
@pytest.mark.parametrize("encoder, coincident", [("poisson_paired", (0.8, 1.0)), ("poisson", (0.0, 0.5))])
def test_paired_poisson_spikes_are_irregular_and_shared_by_both_windows(tmp_path, digits, encoder, coincident):
    """``poisson_paired``: within a window the spike trains are Poisson (interspike-interval CV ≥ 0.8,
    measured on the traced spikes), and with a weak nudge, which leaves the hidden rates almost as
    they were, most spikes of the nudged window fall on the same steps of the window as in the free
    one (common random numbers); plain Poisson spikes coincide only by chance."""
    arch = (64, 20, 10)
    p = make_params(arch=arch, t_free=250 * ms, t_nudged=200 * ms, t_window=150 * ms, encoder=encoder, beta=0.05)
    X, y = digits.X_test[:1], digits.y_test[:1]
    W = init_weights(arch, np.random.default_rng(5))
    plan = Plan.make(y, probe=[0], probe_beta=0.05, trace=np.ones(1))
    session, _ = run(tmp_path, p, X, y, plan, W, trace_neurons={1: np.arange(20)})
    t_ms, neuron = session.net.spike_trains()[1]
    free_start, nudged_start = 100.0, 250.0 + 50.0  # the windows: 100-250 ms and 300-450 ms
    cvs, same, total = [], 0, 0
    for n in range(20):
        t = t_ms[neuron == n]
        free = t[(t >= free_start) & (t < 250.0)] - free_start
        nudged = t[t >= nudged_start] - nudged_start
        for window in (free, nudged):
            isi = np.diff(window)
            if len(isi) >= 10:
                cvs.append(isi.std() / isi.mean())
        same += len(np.intersect1d(np.round(free, 6), np.round(nudged, 6)))
        total += max(len(free), 1)
    assert len(cvs) >= 5, "too few active neurons: the test would prove nothing"
    assert np.median(cvs) >= 0.8, cvs
    assert coincident[0] <= same / total <= coincident[1], same / total


def synthetic_spike_traces(regular_rate=200.0, poisson_rate=200.0, seed=0):
    """Traces of two samples × two phases of 100 ms (dt 0.5 ms): neuron 0 fires regularly, neuron 1
    as a Poisson process (layer 1)."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, 400, 0.5)
    times, neurons = [], []
    for start in (0.0, 100.0, 200.0, 300.0):
        regular = start + 1.0 + np.arange(0, 99, 1000 / regular_rate)
        poisson = start + np.sort(rng.uniform(0, 100, rng.poisson(poisson_rate / 10)))
        times += [regular, poisson]
        neurons += [np.zeros(len(regular), int), np.ones(len(poisson), int)]
    return {"t": t, "sample": (t // 200).astype(int), "phase": ((t // 100) % 2).astype(int),
            "neurons_L1": np.arange(2), "spikes_t_L1": np.concatenate(times), "spikes_i_L1": np.concatenate(neurons)}


def test_isi_cv_tells_regular_from_poisson_spikes():
    from corinfo_sim.spiking import isi_cv
    traces = synthetic_spike_traces()

    def only(neuron):
        keep = traces["spikes_i_L1"] == neuron
        return {**traces, "spikes_t_L1": traces["spikes_t_L1"][keep], "spikes_i_L1": traces["spikes_i_L1"][keep]}

    regular = isi_cv(only(0), 1)
    assert len(regular) == 4 and np.allclose(regular, 0, atol=1e-9)  # one CV per phase of each sample
    poisson = isi_cv(only(1), 1)
    assert len(poisson) == 4 and 0.6 <= np.median(poisson) <= 1.4  # Poisson: CV ≈ 1 (20 spikes per phase)
    assert len(isi_cv(traces, 1)) == 8
    with pytest.raises(CorInfoError, match="no spikes of layer 2"):
        isi_cv(traces, 2)
    with pytest.raises(CorInfoError, match="min_spikes must be at least 3"):
        isi_cv(traces, 1, min_spikes=2)


def test_gate_freezes_the_weights_of_a_silent_neuron(tmp_path, digits):
    """``gate_clipped``: a hidden neuron held below threshold (σ(u) = 0 through both windows) keeps
    its forward and feedback weights; without the gate its rows change (e = −W r_pre is not zero);
    the other neurons learn either way. On by default with two hidden layers."""
    arch = (64, 6, 4, 10)
    X, y = digits.X_train[:2], digits.y_train[:2]
    W0 = init_weights(arch, np.random.default_rng(3))
    W0["Wff1"][0] = -1.0  # neuron 0 of layer 1 never leaves 0
    plan = Plan.make(y, train=np.arange(2), beta=np.ones(2))
    learned = {}
    for gate in (False, True):
        p = make_params(arch=arch, beta_sign="positive", shuffle=False, gate_clipped=gate)
        learned[gate] = run(tmp_path / str(gate), p, X, y, plan, W0)[1].weights
    for key in ("Wff1", "Wfb1"):
        assert np.array_equal(learned[True][key][0], W0[key][0]), key
        assert not np.array_equal(learned[False][key][0], W0[key][0]), key
        assert not np.array_equal(learned[True][key][1:], W0[key][1:]), key
    assert make_params(arch=arch).gate_clipped and not make_params(arch=(64, 6, 10)).gate_clipped
