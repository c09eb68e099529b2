"""Membrane noise, synaptic failures and delays (``corinfo_sim/biophysics.py``): off they change
nothing; on, each does what its definition says.

Small networks in Brian2's runtime mode, a few seconds each; the generated-code check generates
(without compiling) the code of every Brian2 variant.
"""
import os
import subprocess
import sys

import brian2
import numpy as np
import pytest
from brian2 import mV, ms

from corinfo_sim import biophysics
from corinfo_sim.datasets import load_dataset
from corinfo_sim.errors import CorInfoError
from corinfo_sim.models import VARIANTS, get_variant
from corinfo_sim.network import CorInfoNetwork, Plan, network_spec, structure
from corinfo_sim.params import make_params
from corinfo_sim.weights import init_weights, weight_shapes

EXE = os.path.join(os.path.dirname(sys.executable), "corinfo-sim")
#: The Brian2 variants with the options (equilibrium propagation, a rule compared with, has none).
BRIAN2_VARIANTS = [m for m in VARIANTS if get_variant(m).network is not None
                   and "noise_soma" in get_variant(m).parameters_by_name]
#: Every option on, in each variant's step (the spiking model's dt is 0.5 ms).
ALL_ON = dict(noise_soma=1 * mV, noise_dendrite=1 * mV, release_prob=0.5, delay_ff=2 * ms, delay_fb=2 * ms,
              delay_lateral=1 * ms)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def _zero_weights(params):
    return {key: np.zeros(shape) for key, shape in weight_shapes(params.arch, params.model).items()}


def _probe(params, digits, weights, n, trace_layers=(1, 2)):
    """Run ``n`` probe samples (β = 0: free phase throughout) in runtime mode; their traces."""
    images = digits.X_train[:n]
    plan = Plan.make(digits.y_train[:n], probe=np.arange(n), probe_beta=0.0)
    trace = {k: np.arange(params.arch[k]) for k in trace_layers}
    net = CorInfoNetwork(params, images, plan, weights, trace_neurons=trace)
    net.schedule_run()
    return net.traces(), net


def _steady(table, params, skip):
    """Rows of a traces table (steps × neurons) after the first ``skip`` steps of every sample."""
    steps = params.steps_per_sample
    keep = (np.arange(len(table)) % steps) >= skip
    return table[keep]


# ---- off: today's network -----------------------------------------------------------------------
@pytest.mark.parametrize("model", BRIAN2_VARIANTS)
def test_off_leaves_the_spec_and_structure_as_they_are(model):
    """Every option off (noise 0, p = 1, no delay): the variant's own spec, object for object."""
    params = make_params(model, "digits")
    assert not biophysics.active(params)
    spec = params.variant.network(params)
    assert biophysics.apply(spec, params) is spec
    assert structure(params.replace(**ALL_ON)) != structure(params)


@pytest.mark.standalone
@pytest.mark.parametrize("model", BRIAN2_VARIANTS)
def test_off_generates_the_code_of_a_network_without_the_options(generated, model, monkeypatch):
    """With the options off the generated code is that of the builder without corinfo_sim.biophysics
    (so the compiled runs are the same to the bit); with them on it is other code."""
    params = make_params(model, "digits", arch=(64, 12, 10))
    with_options = generated(params, "with")
    switched_on = generated(params.replace(**ALL_ON), "on")
    monkeypatch.setattr(biophysics, "apply", lambda spec, p: spec)
    without = generated(params, "without")
    assert with_options == without
    assert switched_on != without


@pytest.mark.parametrize("model", ["antisparse", "spiking"])
def test_off_runs_bit_for_bit_as_without_the_options(model, digits, monkeypatch):
    """A short run with every option explicitly off equals one of the builder without them."""
    params = make_params(model, "digits", arch=(64, 12, 10), noise_soma=0 * mV, noise_dendrite=0 * mV,
                         release_prob=1.0, release_scale=False, delay_ff=0 * ms, delay_fb=0 * ms,
                         delay_lateral=0 * ms)
    weights = init_weights(params.arch, np.random.default_rng(0))
    plan = Plan.make(digits.y_train[:4], train=np.arange(3), test=[3])
    first = CorInfoNetwork(params, digits.X_train[:4], plan, weights)
    first.schedule_run()
    brian2.device.reinit()
    brian2.set_device("runtime")
    monkeypatch.setattr(biophysics, "apply", lambda spec, p: spec)
    second = CorInfoNetwork(params, digits.X_train[:4], plan, weights)
    second.schedule_run()
    assert np.array_equal(first.free_outputs(), second.free_outputs())
    for key, W in first.get_weights().items():
        assert np.array_equal(W, second.get_weights()[key]), key


# ---- membrane noise -------------------------------------------------------------------------------
#: (model, options, compartments whose SD is the noise's σ, steps skipped at each sample onset).
#: Weights are 0 and there is no nudging, so every compartment sits at rest with the noise alone;
#: a tiny g_L removes the rate models' own-rate term from the apical dendrite (it would couple the
#: soma to its rate, a nonlinearity at rest).
NOISE_CASES = [
    ("antisparse", dict(g_leak=1e-6), "soma", ["v_soma"], 10),
    ("antisparse", dict(g_leak=1e-6), "dendrite", ["v_basal", "v_apical"], 0),
    ("spiking", dict(g_leak=1e-6), "soma", ["v_soma"], 20),
    ("conductance", {}, "soma", ["v_soma"], 10),
    ("conductance", {}, "dendrite", ["v_basal", "v_apical"], 60),
]


def _sd_tolerance(n, rho):
    """Relative tolerance of a measured SD: 5 standard errors of an AR(1) series of ``n`` values
    with lag-1 correlation ``rho`` (SE of the variance ≈ σ² √(2/n · (1 + ρ²)/(1 − ρ²)); half of it
    for the SD)."""
    return 5 * 0.5 * np.sqrt(2 / n * (1 + rho ** 2) / (1 - rho ** 2))


@pytest.mark.parametrize("model, options, kind, variables, skip", NOISE_CASES)
def test_membrane_noise_has_the_ornstein_uhlenbeck_variance(model, options, kind, variables, skip, digits):
    """At rest (weights 0, no input reaching the compartments) the measured standard deviation of
    each compartment potential is the σ of its option: the stationary SD of the Ornstein–Uhlenbeck
    process of the compartment's resting time constant (white noise of SD σ per step for a
    compartment without one), within the sampling error of the recorded steps."""
    sigma = 1.5
    params = make_params(model, "digits", arch=(64, 60, 10), **{f"noise_{kind}": sigma * mV}, **options)
    traces, _ = _probe(params, digits, _zero_weights(params), 3)
    for k in (1, 2):
        for variable in variables:
            table = traces[f"{variable}_L{k}"]
            values = _steady(table, params, skip)
            rest = float(params.E_L / mV) if model == "conductance" else 0.0
            deviation = values - rest
            lag = np.mean(deviation[1:] * deviation[:-1]) / np.mean(deviation ** 2)
            measured = np.sqrt(np.mean(deviation ** 2))
            tolerance = _sd_tolerance(values.size, min(max(lag, 0.0), 0.95))
            assert abs(measured / sigma - 1) < tolerance, (variable, k, measured, tolerance)


def test_spiking_dendrite_noise_has_the_ornstein_uhlenbeck_variance(digits):
    """The spiking model's basal dendrite (its synaptic trace, τ_s) fluctuates with SD σ at rest."""
    sigma = 1.5
    params = make_params("spiking", "digits", arch=(64, 60, 10), g_leak=1e-6, noise_dendrite=sigma * mV)
    traces, _ = _probe(params, digits, _zero_weights(params), 2)
    rho = 1 - float(params.dt / params.tau_s)
    for k in (1, 2):
        values = _steady(traces[f"v_basal_L{k}"], params, 40)
        measured = np.sqrt(np.mean(values ** 2))
        assert abs(measured / sigma - 1) < _sd_tolerance(values.size, rho), (k, measured)


def test_noise_is_reproducible_and_new_in_every_plan(digits):
    """The same plan draws the same noise (a resumed run draws what the uninterrupted one drew);
    another seed draws other noise."""
    params = make_params("antisparse", "digits", arch=(64, 12, 10), noise_soma=1 * mV)
    weights = init_weights(params.arch, np.random.default_rng(0))
    first, _ = _probe(params, digits, weights, 2)
    brian2.device.reinit()
    brian2.set_device("runtime")
    again, _ = _probe(params, digits, weights, 2)
    brian2.device.reinit()
    brian2.set_device("runtime")
    other, _ = _probe(params.replace(seed=1), digits, weights, 2)
    assert np.array_equal(first["v_soma_L1"], again["v_soma_L1"])
    assert not np.allclose(first["v_soma_L1"], other["v_soma_L1"])


# ---- synaptic failures ------------------------------------------------------------------------------
def _one_to_one_output(params, rng):
    """Weights whose second feedforward matrix connects hidden neuron j to output neuron j with
    weight 1 (the rest 0, feedback and lateral weights 0): each output's basal dendrite reads one
    synapse."""
    weights = _zero_weights(params)
    weights["Wff1"] = rng.uniform(0, 0.3, size=weights["Wff1"].shape)
    weights["Wff2"][np.arange(params.arch[2]), np.arange(params.arch[2])] = 1.0
    return weights


@pytest.mark.parametrize("scale", [True, False])
def test_rate_failures_transmit_a_fraction_p(scale, digits):
    """Rate networks: each synapse transmits its contribution w r with probability p at every step.
    The measured fraction of transmitted steps is p, and the mean basal drive is W r (scaled by
    1/p) or p W r (not scaled)."""
    p = 0.3
    params = make_params("antisparse", "digits", arch=(64, 12, 10), release_prob=p, release_scale=scale)
    traces, _ = _probe(params, digits, _one_to_one_output(params, np.random.default_rng(0)), 40)
    r_pre = traces["rate_L1"][:, :10]
    basal = traces["v_basal_L2"] / float(params.V0 / mV)
    active = r_pre > 1e-3
    ratio = basal[active] / r_pre[active]  # 0, or 1 (1/p scaled), per step and synapse
    transmitted = ratio > 0.5 * (1 / p if scale else 1.0)
    n = active.sum()
    assert n > 2000
    assert abs(transmitted.mean() - p) < 4 * np.sqrt(p * (1 - p) / n)
    assert np.allclose(ratio[transmitted], 1 / p if scale else 1.0)
    assert np.all(ratio[~transmitted] == 0)
    mean_drive = basal[active].sum() / r_pre[active].sum()
    expected = 1.0 if scale else p
    assert abs(mean_drive / expected - 1) < 5 * np.sqrt((1 - p) / (p * n))


def test_spike_failures_transmit_a_fraction_p_of_the_spikes(digits):
    """Spiking networks: each presynaptic spike reaches each synapse with probability p; a
    transmitted spike adds w/(ν_max τ_s) V0 / p to the basal trace (scaled)."""
    p = 0.4
    params = make_params("spiking", "digits", arch=(64, 12, 10), release_prob=p)
    traces, net = _probe(params, digits, _one_to_one_output(params, np.random.default_rng(0)), 4)
    decay = 1 - float(params.dt / params.tau_s)
    basal = traces["v_basal_L2"] / float(params.V0 / mV)
    increment = basal[1:] - basal[:-1] * decay  # what the spikes of each step added
    increment[(np.arange(len(increment)) + 1) % params.steps_per_sample == 0] = 0  # onset resets
    kick = float(1 / (params.nu_max * params.tau_s)) / p
    t_ms, neuron = net.spike_trains()[1]
    step = np.rint(t_ms / float(params.dt / ms)).astype(int)
    spikes, sent = 0, 0
    for j in range(params.arch[2]):
        at = step[neuron == j]
        at = at[at < len(increment)]
        received = np.flatnonzero(increment[:, j] > 0.5 * kick)
        assert set(received) <= set(at), "an increment without a presynaptic spike"
        assert np.allclose(increment[received, j], kick)
        spikes, sent = spikes + len(at), sent + len(received)
    assert spikes > 1000
    assert abs(sent / spikes - p) < 4 * np.sqrt(p * (1 - p) / spikes)


@pytest.mark.parametrize("scale", [True, False])
def test_gaussian_rate_failures_have_the_moments_of_the_bernoulli_sum(scale, digits):
    """``release_noise="gaussian"``: the output layer's basal drive of each step is normal with the
    mean m W r and the variance v Σ_j w_j² r_j² of the Bernoulli sum (scaled: m = 1, v = (1 − p)/p;
    not scaled: m = p, v = p(1 − p)), independently for each neuron."""
    p = 0.3
    params = make_params("antisparse", "digits", arch=(64, 12, 10), release_prob=p, release_scale=scale,
                         release_noise="gaussian")
    rng = np.random.default_rng(0)
    weights = _one_to_one_output(params, rng)
    weights["Wff2"] = rng.uniform(-0.5, 1.0, size=weights["Wff2"].shape)
    traces, _ = _probe(params, digits, weights, 40)
    r_pre = traces["rate_L1"]
    basal = traces["v_basal_L2"] / float(params.V0 / mV)
    m, v = (1.0, (1 - p) / p) if scale else (p, p * (1 - p))
    variance = v * (r_pre ** 2) @ (weights["Wff2"] ** 2).T
    moving = variance > 1e-6
    z = (basal - m * r_pre @ weights["Wff2"].T)[moving] / np.sqrt(variance[moving])
    n = z.size
    assert n > 10000
    assert abs(z.mean()) < 4 / np.sqrt(n)
    assert abs(z.var() - 1) < 4 * np.sqrt(1.7 / n)  # the normal numbers' kurtosis is 2.7
    both = moving[:, 0] & moving[:, 1]
    pair = (basal - m * r_pre @ weights["Wff2"].T)[both][:, :2] / np.sqrt(variance[both][:, :2])
    assert abs(np.corrcoef(pair.T)[0, 1]) < 4 / np.sqrt(both.sum())


@pytest.mark.parametrize("model", ["antisparse", "spiking"])
def test_a_kind_of_pathway_fails_with_its_own_probability(model):
    """``release_prob_fb`` alone gates the feedback pathways and no other; with ``release_prob``
    set for all, a kind given 1 keeps all its synapses."""
    params = make_params(model, "digits", arch=(64, 12, 12, 10), release_prob_fb=0.4)
    assert biophysics.failing(params) == ["fb"]
    gated = {p.name for p in network_spec(params).pathways if "release_" in p.model + (p.on_pre or "")}
    kinds = {p.name: biophysics.pathway_kind(p.name) for p in network_spec(params).pathways}
    assert gated and {kinds[name] for name in gated} == {"fb"}
    assert gated == {name for name, kind in kinds.items() if kind == "fb"}
    both = make_params(model, "digits", arch=(64, 12, 10), release_prob=0.5, release_prob_lateral=1.0)
    assert [biophysics.release_p(both, kind) for kind in ("ff", "fb", "lateral")] == [0.5, 0.5, 1.0]
    assert biophysics.failing(both) == ["ff", "fb"]
    assert both.replace(release_prob=0.2).release_prob_ff is None  # unset stays unset: follows --release-prob
    assert biophysics.release_p(both.replace(release_prob=0.2), "ff") == 0.2


def _output_drive_ratio(params, digits):
    """The output layer's basal drive over the presynaptic rate, per step and synapse (one-to-one
    weights 1): 0 where the term failed, 1 (or 1/p scaled) where it was transmitted."""
    traces, _ = _probe(params, digits, _one_to_one_output(params, np.random.default_rng(0)), 20)
    r_pre = traces["rate_L1"][:, :10]
    return (traces["v_basal_L2"] / float(params.V0 / mV))[r_pre > 1e-3] / r_pre[r_pre > 1e-3]


def test_one_kind_failing_leaves_the_other_pathways_exact(digits):
    """Rate network, forward pathways alone at p = 0.3: the output layer's basal drive transmits a
    fraction p of its terms, scaled by 1/p; feedback pathways alone at p = 0.3: it is exact."""
    p = 0.3
    ratio = _output_drive_ratio(make_params("antisparse", "digits", arch=(64, 12, 10), release_prob_ff=p), digits)
    transmitted = ratio > 0.5 / p
    assert abs(transmitted.mean() - p) < 4 * np.sqrt(p * (1 - p) / len(ratio))
    assert np.allclose(ratio[transmitted], 1 / p) and np.all(ratio[~transmitted] == 0)
    ratio = _output_drive_ratio(make_params("antisparse", "digits", arch=(64, 12, 10), release_prob_fb=p), digits)
    assert np.allclose(ratio, 1.0)  # the forward pathway transmits every term


# ---- delays ----------------------------------------------------------------------------------------------
def test_rate_delay_line_delivers_the_rate_of_d_steps_before(digits):
    """The basal input of layer 2 at step t is W_ff,2 r_1(t − d/dt), exactly (0 before)."""
    params = make_params("antisparse", "digits", arch=(64, 12, 10), delay_ff=3 * ms)
    weights = init_weights(params.arch, np.random.default_rng(0))
    traces, _ = _probe(params, digits, weights, 2)
    D, steps = 3, params.steps_per_sample
    r1, basal = traces["rate_L1"], traces["v_basal_L2"] / float(params.V0 / mV)
    for sample in range(2):
        rows = sample * steps + np.arange(steps)
        expected = np.zeros((steps, params.arch[2]))
        expected[D:] = r1[rows[:-D]] @ weights["Wff2"].T
        assert np.allclose(basal[rows], expected, atol=1e-12)
        assert np.any(r1[rows[D - 1]] > 0), "the rate was already on when it arrived: the check would be void"


def test_spike_delay_arrives_d_later(digits):
    """A spike at step s reaches its synapse's trace at step s + d/dt, not earlier, not later (a
    spike that would arrive after its sample's end is dropped)."""
    params = make_params("spiking", "digits", arch=(64, 12, 10), delay_ff=2 * ms)
    traces, net = _probe(params, digits, _one_to_one_output(params, np.random.default_rng(0)), 2)
    D, steps = int(round(float(2 * ms / params.dt))), params.steps_per_sample
    decay = 1 - float(params.dt / params.tau_s)
    basal = traces["v_basal_L2"] / float(params.V0 / mV)
    increment = basal[1:] - basal[:-1] * decay  # what the spikes delivered at each step added
    kick = float(1 / (params.nu_max * params.tau_s))  # one spike through a synapse of weight 1
    within = (np.arange(len(increment)) + 1) % steps != 0  # not across a sample's onset reset
    t_ms, neuron = net.spike_trains()[1]
    step = np.rint(t_ms / float(params.dt / ms)).astype(int)
    arrivals = 0
    for j in range(params.arch[2]):
        sent = {s + D for s in step[neuron == j] if s % steps + D < steps - 1}
        received = set(np.flatnonzero((increment[:, j] > 0.5 * kick) & within))
        assert received == sent, j
        arrivals += len(sent)
    assert arrivals > 50


def test_rate_fixed_points_do_not_move_with_delays(digits):
    """Free phases run to their fixed points give the same rates with and without delays (the
    antisparse network; the sparse network's hidden multipliers, η_s = 1e-6, do not settle within
    a phase, so its end-of-phase state is not a fixed point)."""
    base = make_params("antisparse", "digits", arch=(64, 12, 10), n_free=400, n_nudged=4)
    weights = init_weights(base.arch, np.random.default_rng(0))
    plan = Plan.make(digits.y_train[:3], test=np.arange(3))
    outputs = []
    for params in (base, base.replace(delay_ff=2 * ms, delay_fb=3 * ms, delay_lateral=1 * ms)):
        brian2.device.reinit()
        brian2.set_device("runtime")
        net = CorInfoNetwork(params, digits.X_train[:3], plan, weights, record_rates=True)
        net.schedule_run()
        outputs.append(net.recorded_rates())
    for k in (1, 2):
        assert np.allclose(outputs[0][k][0], outputs[1][k][0], atol=1e-8), k


# ---- bad input ----------------------------------------------------------------------------------------
BAD = [
    (dict(noise_soma=-1 * mV), "--noise-soma must not be negative"),
    (dict(noise_dendrite=-0.5 * mV), "--noise-dendrite must not be negative"),
    (dict(release_prob=0.0), "--release-prob must lie in (0, 1]"),
    (dict(release_prob=1.5), "--release-prob must lie in (0, 1]"),
    (dict(release_prob_fb=0.0), "--release-prob-fb must lie in (0, 1]"),
    (dict(release_prob_lateral=float("nan")), "--release-prob-lateral must"),
    (dict(delay_ff=-1 * ms), "--delay-ff must not be negative"),
    (dict(delay_fb=1.5 * ms), "--delay-fb 1.5 ms is not a whole number of steps dt = 1 ms"),
    (dict(delay_lateral=11 * ms), "--delay-lateral 11 ms is longer than the shortest phase of a sample (10 ms)"),
    (dict(delay_ff=2 * ms, update_order="layered"), "--delay-ff needs the simultaneous update order"),
    (dict(delay_ff=2 * ms, settle_tol=1e-3), "--delay-ff needs fixed step counts"),
]


@pytest.mark.parametrize("values, message", BAD)
def test_bad_values_are_refused_with_the_option_and_its_bound(values, message):
    with pytest.raises(CorInfoError) as error:
        make_params("antisparse", "digits", **values)
    assert str(error.value).startswith(message), str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("option, value, message", [
    ("--noise-soma", "-2", "--noise-soma must not be negative"),
    ("--release-prob", "0", "--release-prob must lie in (0, 1]"),
    ("--release-prob-ff", "2", "--release-prob-ff must lie in (0, 1]"),
    ("--delay-ff", "0.3", "--delay-ff 0.3 ms is not a whole number of steps dt = 1 ms"),
    ("--delay-fb", "40", "--delay-fb 40 ms is longer than the shortest phase of a sample (10 ms)"),
])
def test_bad_options_give_one_line_and_exit_status_2(option, value, message, tmp_path):
    out = subprocess.run([EXE, "train", "--dataset", "digits", "--epochs", "1", "--out", str(tmp_path / "run"),
                          option, value], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in out.stderr, out.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.standalone
def test_delays_alone_train_compiled(tmp_path):
    """Delays draw no random numbers: the compiled network, which then has no per-sample key,
    runs (a delay line is all the options add)."""
    proc = subprocess.run([EXE, "train", "--dataset", "digits", "--epochs", "1", "--max-train-samples", "20",
                           "--max-test-samples", "20", "--delay-ff", "1", "--delay-lateral", "1",
                           "--out", str(tmp_path / "run")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "final test accuracy" in proc.stdout


@pytest.mark.standalone
@pytest.mark.parametrize("model, release_noise", [("antisparse", "bernoulli"), ("antisparse", "gaussian"),
                                                  ("spiking", "bernoulli")])
def test_compiled_runs_with_every_option_equal_runtime_ones(tmp_path, digits, model, release_noise):
    """Every option on (noise, failures, delays): the compiled network draws the same numbers as
    runtime mode (the C++ hashes and their numpy twins), sums a Gaussian pathway's terms and their
    squares in one loop, delivers delayed spikes from its own ring of past spikes instead of
    Brian2's spike queue, and learns the same weights."""
    from corinfo_sim.session import Session
    arch = (64, 12, 10)
    params = make_params(model, "digits", arch=arch, release_noise=release_noise, **ALL_ON)
    X, y = digits.X_train[:6], digits.y_train[:6]
    plan = Plan.make(y, train=[0, 1, 2, 3], test=[4], probe=[5], beta=[1.0, -1.0, 1.0, 1.0], trace=np.ones(6))
    weights = init_weights(arch, np.random.default_rng(1))
    results = {}
    for device in ("cpp_standalone", "runtime"):
        session = Session(params, X, y, plan.segments, str(tmp_path / device), device=device,
                          trace_neurons={1: np.arange(12), 2: np.arange(10)})
        try:
            results[device] = session.run(plan, weights)
        finally:
            session.close()
    compiled, runtime = results["cpp_standalone"], results["runtime"]
    for key in weights:
        np.testing.assert_allclose(compiled.weights[key], runtime.weights[key], rtol=0, atol=1e-9)
        assert np.abs(compiled.weights[key] - weights[key]).max() > 0
    for variable in ("v_basal_L1", "v_apical_L1", "v_basal_L2"):
        np.testing.assert_allclose(compiled.traces[variable], runtime.traces[variable], rtol=0, atol=1e-9)
