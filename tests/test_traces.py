"""Recorded traces obey the model's equations step by step; NPZ and NWB files round-trip."""
import json

import numpy as np
import pytest

from corinfo_sim.cli import main
from corinfo_sim.datasets import load_dataset
from corinfo_sim.params import Params
from corinfo_sim.traces import record, save_npz, save_nwb
from corinfo_sim.weights import init_weights, save_weights

ARCH = (64, 20, 12, 10)


@pytest.fixture(scope="module")
def recorded():
    digits = load_dataset("digits")
    p = Params(arch=ARCH, n_free=15, n_nudged=6, three_phase=False, settle_tol=0.0)  # two fixed phases
    W = init_weights(ARCH, np.random.default_rng(11))
    W["B1"] *= 50  # a lateral term large enough to matter in the apical equation
    traces = record(W, digits, [3, 7], p, layers=[1, 2, 3], neurons=np.arange(10))
    return p, W, traces, digits


def test_trace_keys_shapes_and_units(recorded):
    p, W, tr, _ = recorded
    steps = 2 * p.steps_per_sample
    for k in (1, 2, 3):
        for name in ("v_soma", "v_basal", "v_apical", "rate", "z"):
            assert tr[f"{name}_L{k}"].shape == (steps, 10)
        np.testing.assert_array_equal(tr[f"neurons_L{k}"], np.arange(10))
    assert tr["teacher_L3"].shape == (steps, 10) and "teacher_L1" not in tr
    units = json.loads(tr["units"])
    assert units["v_soma_L1"] == "mV" and units["t"] == "ms" and units["rate_L2"] == "1"
    np.testing.assert_allclose(tr["t"], np.arange(steps) * 1.0)
    np.testing.assert_array_equal(tr["sample"], np.repeat([3, 7], p.steps_per_sample))
    np.testing.assert_array_equal(tr["phase"], np.tile(np.r_[np.zeros(15), np.ones(6)], 2))


def test_traces_obey_the_equations(recorded):
    """Basal = W_ff r_below V0; apical by its equation; soma by the Euler step; no teacher when free."""
    p, W, tr, digits = recorded
    V0 = 1e3 * float(p.V0)  # mV
    eps, gl, gamma, eta = p.epsilon, p.g_leak, p.gamma, p.eta
    T = p.steps_per_sample
    x = digits.X_test[[3, 7]]
    rows_x = np.repeat(x, T, axis=0)
    # layer sizes 20 and 12: every recorded layer has only its first 10 neurons; use layer 1's input
    np.testing.assert_allclose(tr["v_basal_L1"], (rows_x @ W["Wff1"].T)[:, :10] * V0, atol=1e-9)
    # the interneuron activity is B r (for the recorded neurons with all of a small layer's rates)
    u = tr["v_soma_L1"] / V0
    np.testing.assert_allclose(tr["rate_L1"], np.clip(u, 0, 1), atol=1e-12)
    # output layer (10 neurons, all recorded): full checks
    r3, r2 = tr["rate_L3"], tr["rate_L2"]
    np.testing.assert_allclose(tr["z_L3"], r3 @ W["B3"].T, atol=1e-9)
    beta = tr["beta"]
    label = np.asarray(tr["label"])
    y = np.eye(10)[label]
    teacher = -beta[:, None] * (r3 - y) * V0
    np.testing.assert_allclose(tr["teacher_L3"], teacher, atol=1e-9)
    assert np.all(tr["teacher_L3"][tr["phase"] == 0] == 0)
    assert np.any(tr["teacher_L3"][tr["phase"] == 1] != 0)
    np.testing.assert_allclose(tr["v_apical_L3"], (gamma * tr["z_L3"] + gl * r3) * V0 + teacher, atol=1e-9)
    # Euler step of the soma, within each sample
    v = tr["v_soma_L3"]
    dv = eta * (-gl * v + (tr["v_basal_L3"] - v) / eps + (tr["v_apical_L3"] - v))
    same_sample = (np.arange(len(v) - 1) % T) != T - 1
    np.testing.assert_allclose(v[1:][same_sample], (v[:-1] + dv[:-1])[same_sample], atol=1e-9)
    assert np.all(v[::T] == 0), "every sample starts from u = 0"
    # hidden layer 2: apical = eps (2 gamma z + g_L r) V0 + W_fb r_3 V0 for its recorded neurons
    fb = (r3 @ W["Wfb2"].T)[:, :10]
    np.testing.assert_allclose(tr["v_apical_L2"], eps * (2 * gamma * tr["z_L2"] + gl * r2) * V0 + fb * V0,
                               atol=1e-9)
    v2 = tr["v_soma_L2"]
    dv2 = eta * (-gl * v2 + (tr["v_basal_L2"] - v2) / eps + (tr["v_apical_L2"] - v2) / eps)
    np.testing.assert_allclose(v2[1:][same_sample], (v2[:-1] + dv2[:-1])[same_sample], atol=1e-9)


def test_npz_and_nwb_round_trip(recorded, tmp_path):
    from pynwb import NWBHDF5IO
    p, W, tr, _ = recorded
    save_npz(tmp_path / "t.npz", tr)
    with np.load(tmp_path / "t.npz") as f:
        for key in ("v_soma_L1", "teacher_L3", "t", "phase", "sample"):
            np.testing.assert_array_equal(f[key], tr[key])
        assert json.loads(str(f["units"]))["v_apical_L2"] == "mV"
    save_nwb(tmp_path / "t.nwb", tr)
    with NWBHDF5IO(str(tmp_path / "t.nwb"), "r") as io:
        nwb = io.read()
        ts = nwb.acquisition["v_soma_L2"]
        assert ts.unit == "volts" and ts.conversion == pytest.approx(1e-3)
        np.testing.assert_allclose(ts.data[:], tr["v_soma_L2"])
        assert ts.timestamps is None and ts.starting_time == pytest.approx(tr["t"][0] * 1e-3)
        assert ts.rate == pytest.approx(1e3 / (tr["t"][1] - tr["t"][0]))
        epochs = nwb.epochs.to_dataframe()
        assert len(epochs) == 4  # free and nudged phase of two samples
        assert [t[0] for t in epochs["tags"]] == ["free", "nudged", "free", "nudged"]
        assert epochs["stop_time"].iloc[0] == pytest.approx(p.n_free * 1e-3)


def test_traces_command_writes_files(tmp_path, capsys):
    W = init_weights((64, 100, 10), np.random.default_rng(0))
    save_weights(tmp_path / "w.npz", W)
    code = main(["traces", "--weights", str(tmp_path / "w.npz"), "--dataset", "digits", "--samples", "0:2",
                 "--layers", "2", "--neurons", "0,9", "--out", str(tmp_path / "t.npz"),
                 "--nwb", str(tmp_path / "t.nwb")])
    assert code == 0, capsys.readouterr().err
    with np.load(tmp_path / "t.npz") as f:
        assert "v_soma_L1" not in f.files and f["v_soma_L2"].shape == (80, 2)
        np.testing.assert_array_equal(f["neurons_L2"], [0, 9])
    assert (tmp_path / "t.nwb").stat().st_size > 0


def test_plastic_traces_change_the_weights(tmp_path, capsys):
    W = init_weights((64, 100, 10), np.random.default_rng(0))
    save_weights(tmp_path / "w.npz", W)
    code = main(["traces", "--weights", str(tmp_path / "w.npz"), "--samples", "0", "--plastic",
                 "--out", str(tmp_path / "t.npz")])
    assert code == 0
    with np.load(tmp_path / "t_weights_after.npz") as f:
        assert np.abs(f["Wff2"] - W["Wff2"]).max() > 0
