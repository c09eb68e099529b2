"""The conductance-based network with integrate-and-fire somata (``models/conductance_spiking.py``):
its somata spike, reset and rest as declared, its frozen membrane fluctuation makes the two
windows' spike trains agree where the drive does, and bad values give one line."""
import brian2
import numpy as np
import pytest
from brian2 import mV, ms

import corinfo_sim as cim
from corinfo_sim.errors import CorInfoError
from corinfo_sim.params import make_params

#: Short phases for runtime mode: 60 ms free (settled after 40 ms), 40 ms nudged, 20 ms windows.
SHORT = dict(t_free=60 * ms, t_nudged=40 * ms, t_window=20 * ms)


@pytest.fixture(scope="module")
def presented():
    """One digits test image presented without its label (β = 0 in the nudged phase) to a network
    whose first-layer weights are scaled up so that most hidden neurons fire."""
    p = make_params("conductance_spiking", dataset="digits", seed=0, **SHORT)
    weights = cim.init_weights(p, seed=0)
    weights["Wff1"] = 3 * weights["Wff1"]
    data = cim.load_dataset("digits")
    net = cim.Network(p, weights)
    spikes = brian2.SpikeMonitor(net["pyr_1"])
    net.add(spikes)
    shown = net.present(data.X_test[0])
    t = np.asarray((spikes.t - shown.start) / ms)
    return p, np.asarray(spikes.i), t


def test_somata_spike_and_are_refractory(presented):
    p, i, t = presented
    assert len(np.unique(i)) > 20, "too few hidden neurons fire to test anything"
    for neuron in np.unique(i):
        intervals = np.diff(np.sort(t[i == neuron]))
        assert np.all(intervals >= float(p.t_ref / ms) - 1e-6), (neuron, intervals.min())


def test_the_two_windows_fire_alike_without_a_teacher(presented):
    """Frozen noise: without a teacher the nudged phase continues the settled free state, so the
    spikes of its window should fall where those of the free window do (within 0.2 ms); with
    independent fluctuations, at the hidden neurons' rates (about 100 Hz), fewer than a fifth would."""
    p, i, t = presented
    free_start = float((p.t_free - p.t_window) / ms)
    nudged_start = float((p.t_free + p.t_nudged - p.t_window) / ms)
    window = float(p.t_window / ms)
    free = (t >= free_start) & (t < free_start + window)
    nudged = (t >= nudged_start) & (t < nudged_start + window)
    matched = total = 0
    for neuron in np.unique(i[free]):
        a = t[free & (i == neuron)] - free_start
        b = t[nudged & (i == neuron)] - nudged_start
        total += len(a)
        matched += sum(bool(len(b)) and np.min(np.abs(b - s)) <= 0.2 + 1e-9 for s in a)
    rate = total / (len(np.unique(i)) * window / 1000)
    assert total > 50
    assert matched / total > 0.6, (matched, total, rate)  # measured: 57 of 65 (0.88)
    assert rate * 0.4e-3 < 0.2  # the chance level of a match within ±0.2 ms at these rates


@pytest.mark.parametrize("changes, message", [
    (dict(theta=-1 * mV), "theta must be a positive potential"),
    (dict(sigma_escape=-1 * mV), "sigma_escape must not be negative"),
    (dict(theta_reset=4 * mV), "theta_reset = 4 mV must lie below the threshold theta = 3.5 mV"),
    (dict(t_window=200 * ms), "the averaging window t_window = .* must fit into both phases"),
    (dict(t_ref=0.05 * ms), "t_ref = .* must be at least one step"),
    (dict(nu_input=20000 * brian2.Hz), "nu_input \\* dt = 2 exceeds 1 spike per step"),
    (dict(E_inh=-60 * mV), "E_inh = -60 mV must lie below the resting potential"),
])
def test_bad_values_give_one_line(changes, message):
    with pytest.raises(CorInfoError, match=message) as err:
        make_params("conductance_spiking", **changes)
    assert "\n" not in str(err.value)


def test_the_soma_fluctuates_with_the_declared_sd_at_rest():
    """Without synaptic input (every weight 0) the somata fluctuate around rest with the SD that
    ``sigma_escape`` declares (a stationary SD, whatever the step)."""
    p = make_params("conductance_spiking", dataset="digits", seed=0, sigma_escape=0.8 * mV, **SHORT)
    weights = {key: np.zeros_like(w) for key, w in cim.init_weights(p, seed=0).items()}
    net = cim.Network(p, weights)
    monitor = brian2.StateMonitor(net["pyr_1"], "v_soma", record=np.arange(50))
    net.add(monitor)
    shown = net.present(cim.load_dataset("digits").X_test[0])
    settled = np.asarray(monitor.t >= shown.start + 5 * ms)
    deviation = np.asarray((monitor.v_soma[:, settled] - p.E_L) / mV)
    assert abs(deviation.mean()) < 0.05
    assert deviation.std() == pytest.approx(0.8, rel=0.05)
