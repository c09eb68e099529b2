"""Training runs end to end (compiled): run folder, accuracy, resume after SIGKILL, divergence."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from corinfo_sim.datasets import load_dataset
from corinfo_sim.params import Params
from corinfo_sim.training import train

EXE = os.path.join(os.path.dirname(sys.executable), "corinfo-sim")


def cli(*args, **kwargs):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, timeout=900, **kwargs)


def epochs_done(folder):
    """Epochs committed by a run folder's checkpoint (0 before the first)."""
    path = folder / "checkpoint.json"
    try:
        return json.loads(path.read_text())["epochs_done"]
    except (OSError, ValueError):
        return 0


def load_weights(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.mark.standalone
def test_run_folder_contents(tmp_path, digits):
    out = tmp_path / "run"
    metrics = train(Params(), digits, 2, str(out), max_train=300, progress=lambda line: None)
    for name in ("config.json", "metrics.json", "weights.npz", "diagnostics.npz", "corinfo.npz", "traces.npz",
                 "representations.npz", "snapshots/weights_e000.npz", "snapshots/weights_e002.npz"):
        assert (out / name).exists(), name
    assert not (out / "build").exists(), "the build folder is removed after a finished run"
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["epochs_done"] == 2 and saved == json.loads(json.dumps(metrics))
    for key in ("train_acc", "test_acc", "train_s", "eval_s"):
        assert len(saved[key]) == 2
    assert saved["build_s"] > 0 and saved["brian2_version"] and saved["device"] == "cpp_standalone"
    assert saved["threads"] == 1 and saved["seed"] == 0 and saved["params"]["g_leak"] == 0.5
    assert all(0 <= a <= 1 for a in saved["test_acc"])
    with np.load(out / "diagnostics.npz") as d:
        assert d["angle_L1"].shape == (3,) and np.all((d["angle_L1"] > 0) & (d["angle_L1"] < 180))
        np.testing.assert_array_equal(d["samples_seen"], [0, 300, 600])
    with np.load(out / "corinfo.npz") as c:
        assert c["I_fwd_L2"].shape == (2, 2, 40) and np.all(np.isfinite(c["I_fwd_L1"]))
    with np.load(out / "representations.npz") as r:
        assert r["h_L1"].shape == (360, 100) and r["h_L2"].shape == (360, 10) and r["labels"].shape == (360,)
        # the saved output representations give the reported test accuracy
        assert np.mean(np.argmax(r["h_L2"], 1) == r["labels"]) == pytest.approx(saved["test_acc"][-1])
    w = load_weights(out / "weights.npz")
    assert set(w) == {"Wff1", "Wff2", "Wfb1", "B1", "B2"} and all(v.dtype == np.float64 for v in w.values())


@pytest.mark.standalone
@pytest.mark.long
def test_digits_accuracy_target(tmp_path, digits):
    """The digits defaults reach ≥ 97 % test accuracy within 20 epochs for seed 0."""
    metrics = train(Params(), digits, 20, str(tmp_path / "run"), progress=lambda line: None)
    assert max(metrics["test_acc"]) >= 0.97, metrics["test_acc"]
    assert metrics["test_acc"][-1] >= 0.965, metrics["test_acc"]


@pytest.mark.standalone
@pytest.mark.long
def test_sparse_digits_accuracy_target(tmp_path, digits):
    """The sparse model's digits defaults reach ≥ 96 % test accuracy within 20 epochs for seed 0,
    the global inhibition keeping the output layer's summed rate at most about 1."""
    from corinfo_sim.params import make_params
    metrics = train(make_params("sparse", dataset="digits"), digits, 20, str(tmp_path / "run"),
                    progress=lambda line: None)
    assert max(metrics["test_acc"]) >= 0.96, metrics["test_acc"]
    with np.load(tmp_path / "run" / "diagnostics.npz") as d:
        assert 0.5 < d["sum_r_L2"][-1] < 1.1, d["sum_r_L2"]


@pytest.mark.standalone
@pytest.mark.long
@pytest.mark.parametrize("model", ["antisparse", "spiking"])
def test_resume_after_sigkill_equals_uninterrupted_run(tmp_path, model):
    common = ["--model", model, "--dataset", "digits", "--max-train-samples", "1437", "--epochs", "3"]
    ref = cli("train", *common, "--out", tmp_path / "ref")
    assert ref.returncode == 0, ref.stderr
    # the same run, killed with SIGKILL in the middle of its second epoch
    killed = tmp_path / "killed"
    proc = subprocess.Popen([EXE, "train", *common, "--out", str(killed)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 600
    while time.time() < deadline and epochs_done(killed) < 1:
        time.sleep(0.05)
    time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = epochs_done(killed)
    assert done >= 1, proc.stderr.read()
    assert done < 3, "the run finished before it could be killed: the test proves nothing"
    resumed = cli("train", *common, "--out", killed, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stdout
    a, b = load_weights(tmp_path / "ref" / "weights.npz"), load_weights(killed / "weights.npz")
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    ma, mb = (json.loads((p / "metrics.json").read_text()) for p in (tmp_path / "ref", killed))
    assert ma["train_acc"] == mb["train_acc"] and ma["test_acc"] == mb["test_acc"]
    # resuming a finished run changes nothing
    again = cli("train", *common, "--out", killed, "--resume")
    assert again.returncode == 0 and "nothing to do" in again.stdout


@pytest.mark.standalone
def test_divergence_keeps_last_good_weights(tmp_path):
    out = tmp_path / "div"
    # λ = 1e-12 makes B grow by 1e12 per sample: inf, then NaN, within the first epoch
    proc = cli("train", "--dataset", "digits", "--max-train-samples", "100", "--epochs", "2", "--lambda", "1e-12",
               "--out", out)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.count("\n") == 1 and "diverged" in proc.stderr and "Traceback" not in proc.stderr
    kept, initial = load_weights(out / "weights.npz"), load_weights(out / "snapshots" / "weights_e000.npz")
    assert all(np.all(np.isfinite(v)) for v in kept.values())
    for key in kept:
        np.testing.assert_array_equal(kept[key], initial[key])


@pytest.mark.standalone
@pytest.mark.long
def test_two_runs_at_once_do_not_disturb_each_other(tmp_path):
    args = ["train", "--dataset", "digits", "--max-train-samples", "200", "--epochs", "1"]
    procs = [subprocess.Popen([EXE, *args, "--seed", str(s), "--out", str(tmp_path / f"r{s}")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for s in (0, 1)]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    alone = cli(*args, "--seed", "1", "--out", tmp_path / "alone")
    assert alone.returncode == 0
    a, b = load_weights(tmp_path / "r1" / "weights.npz"), load_weights(tmp_path / "alone" / "weights.npz")
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


@pytest.mark.standalone
@pytest.mark.long
def test_ctrl_c_keeps_finished_epochs(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([EXE, "train", "--dataset", "digits", "--epochs", "50", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 600
    while time.time() < deadline and epochs_done(out) < 1:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends to the foreground group
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "--resume" in err and "Traceback" not in err
    done = json.loads((out / "metrics.json").read_text())["epochs_done"]
    assert 1 <= done < 50
    with np.load(out / "weights.npz") as w:
        assert all(np.all(np.isfinite(w[k])) for k in w.files)
    resumed = cli("train", "--dataset", "digits", "--epochs", done + 1, "--out", out, "--resume")
    assert resumed.returncode == 0 and json.loads((out / "metrics.json").read_text())["epochs_done"] == done + 1


@pytest.mark.standalone
def test_resume_checks_the_parameters_as_values(tmp_path):
    """A resume with other parameters is refused in one line; parameters saved in another
    spelling of the same values ("1. ms", as older run folders wrote them) resume."""
    out = tmp_path / "run"
    common = ["--model", "spiking", "--dataset", "digits", "--max-train-samples", "30", "--max-test-samples", "20",
              "--t-free", "350", "--t-window", "25"]
    assert cli("train", *common, "--epochs", "1", "--out", out).returncode == 0
    other = cli("train", *common, "--epochs", "2", "--g-leak", "0.4", "--out", out, "--resume")
    assert other.returncode == 2 and other.stderr.count("\n") == 1
    assert "other parameters (g_leak 0.5, now 0.4)" in other.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["params"]["t_free"] == "350.0 ms"
    config["params"].update(t_free="0.35 s", dt="500. us", nu_max="0.8 kHz")
    (out / "config.json").write_text(json.dumps(config))
    again = cli("train", *common, "--epochs", "2", "--out", out, "--resume")
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "metrics.json").read_text())["epochs_done"] == 2
