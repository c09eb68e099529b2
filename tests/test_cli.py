"""Command line: bad input ends with exit status 2 and one line on stderr, before any compilation."""
import os
import subprocess
import sys

import numpy as np
import pytest

from corinfo_sim.cli import main
from corinfo_sim.weights import init_weights, save_weights


def run_cli(capsys, *argv):
    code = main(list(argv))
    err = capsys.readouterr().err
    return code, err


def assert_one_line_error(code, err, *words):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    for word in words:
        assert word.lower() in lines[0].lower(), lines[0]


@pytest.fixture
def weights_file(tmp_path):
    path = tmp_path / "w.npz"
    save_weights(path, init_weights((64, 100, 10), np.random.default_rng(0)))
    return path


@pytest.mark.parametrize("argv, words", [
    (["train", "--dataset", "nope", "--epochs", "1", "--out", "{tmp}/o"], ["unknown", "nope"]),
    (["train", "--arch", "64,x,10", "--epochs", "1", "--out", "{tmp}/o"], ["64,x,10"]),
    (["train", "--arch", "64,10", "--epochs", "1", "--out", "{tmp}/o"], ["architecture"]),
    (["train", "--arch", "64,0,10", "--epochs", "1", "--out", "{tmp}/o"], ["architecture"]),
    (["train", "--arch", "10,100,10", "--epochs", "1", "--out", "{tmp}/o"], ["does not fit"]),
    (["train", "--epochs", "0", "--out", "{tmp}/o"], ["epochs", "positive"]),
    (["train", "--epochs", "-3", "--out", "{tmp}/o"], ["epochs"]),
    (["train", "--epochs", "1", "--max-train-samples", "0", "--out", "{tmp}/o"], ["max-train-samples"]),
    (["train", "--epochs", "1", "--lr-ff", "0.5,-1", "--out", "{tmp}/o"], ["--lr-ff", "positive"]),
    (["train", "--epochs", "1", "--lr-ff", "0.5", "--out", "{tmp}/o"], ["--lr-ff", "2 rates"]),
    (["train", "--epochs", "1", "--lr-fb", "0", "--out", "{tmp}/o"], ["--lr-fb"]),
    (["train", "--epochs", "1", "--lr-ff", "nan,0.3", "--out", "{tmp}/o"], ["finite"]),
    (["train", "--epochs", "1", "--epsilon", "1.5", "--out", "{tmp}/o"], ["epsilon", "(0, 1)"]),
    (["train", "--epochs", "1", "--epsilon", "0", "--out", "{tmp}/o"], ["epsilon"]),
    (["train", "--epochs", "1", "--lambda", "1", "--out", "{tmp}/o"], ["lambda", "(0, 1)"]),
    (["train", "--epochs", "1", "--lambda", "-0.1", "--out", "{tmp}/o"], ["lambda"]),
    (["train", "--epochs", "1", "--g-leak", "-1", "--out", "{tmp}/o"], ["g_leak"]),
    (["train", "--epochs", "1", "--eta", "2", "--out", "{tmp}/o"], ["eta"]),
    (["train", "--epochs", "1", "--n-free", "0", "--out", "{tmp}/o"], ["n-free"]),
    (["train", "--epochs", "1", "--lr-decay", "1.5", "--out", "{tmp}/o"], ["decay"]),
    (["train", "--epochs", "1", "--beta", "0", "--out", "{tmp}/o"], ["beta"]),
    (["train", "--epochs", "1", "--seed", "-1", "--out", "{tmp}/o"], ["seed"]),
    (["train", "--epochs", "1", "--init-weights", "{tmp}/missing.npz", "--out", "{tmp}/o"], ["does not exist"]),
    (["evaluate", "--weights", "{tmp}/missing.npz"], ["does not exist"]),
    (["figure", "nope", "--run", "{tmp}", "--out", "{tmp}/f.png"], ["nope"]),
    (["train", "--epochs", "1", "--nu-max", "100", "--out", "{tmp}/o"], ["--nu-max", "--model spiking"]),
    (["bench", "--t-window", "10"], ["--t-window", "--model spiking"]),
    (["bench", "--model", "spiking", "--n-free", "50"], ["--n-free", "model antisparse"]),
    (["bench", "--dataset", "digits", "--arch", "784,500,10"], ["does not fit", "digits"]),
    (["bench", "--dataset", "digits", "--arch", "64,100,10", "--samples", "5000"], ["lower --samples"]),
    (["train", "--model", "spiking", "--epochs", "1", "--nu-max", "-5", "--out", "{tmp}/o"], ["nu_max", "positive"]),
    (["train", "--model", "spiking", "--epochs", "1", "--tau-s", "nan", "--out", "{tmp}/o"], ["tau_s"]),
    (["train", "--model", "spiking", "--epochs", "1", "--nu-max", "5000", "--out", "{tmp}/o"], ["1 spike per step"]),
    (["train", "--model", "spiking", "--epochs", "1", "--t-window", "90", "--out", "{tmp}/o"], ["window", "fit"]),
    (["train", "--model", "spiking", "--epochs", "1", "--t-free", "10.2", "--out", "{tmp}/o"], ["whole number"]),
    (["train", "--model", "spiking", "--epochs", "1", "--encoder", "magic", "--out", "{tmp}/o"], ["encoder"]),
    (["frobnicate"], ["frobnicate"]),
])
def test_bad_arguments(capsys, tmp_path, argv, words):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert_one_line_error(*run_cli(capsys, *argv), *words)
    assert not os.path.exists(tmp_path / "o" / "build"), "nothing may be compiled for bad input"


def bad_weight_files(tmp_path):
    good = init_weights((64, 100, 10), np.random.default_rng(0))
    files = {}
    (tmp_path / "garbage.npz").write_bytes(b"this is not a zip file")
    files["garbage"] = (tmp_path / "garbage.npz", "cannot be read")
    missing = dict(good)
    del missing["B2"]
    np.savez(tmp_path / "nokey.npz", **missing)
    files["missing key"] = (tmp_path / "nokey.npz", "lacks B2")
    shape = dict(good, Wfb1=np.zeros((100, 11)))
    np.savez(tmp_path / "shape.npz", **shape)
    files["shape"] = (tmp_path / "shape.npz", "shape")
    nan = dict(good)
    nan["Wff1"] = good["Wff1"].copy()
    nan["Wff1"][3, 3] = np.nan
    np.savez(tmp_path / "nan.npz", **nan)
    files["nan"] = (tmp_path / "nan.npz", "nan")
    inf = dict(good, B1=np.full((100, 100), np.inf))
    np.savez(tmp_path / "inf.npz", **inf)
    files["inf"] = (tmp_path / "inf.npz", "inf")
    obj = dict(good, Wff1=np.array([["a"] * 64] * 100))
    np.savez(tmp_path / "strings.npz", **obj)
    files["strings"] = (tmp_path / "strings.npz", "non-numbers")
    return files


@pytest.mark.parametrize("case", ["garbage", "missing key", "shape", "nan", "inf", "strings"])
@pytest.mark.parametrize("command", ["train", "evaluate", "traces"])
def test_bad_weight_files(capsys, tmp_path, case, command):
    path, word = bad_weight_files(tmp_path)[case]
    if command == "train":
        argv = ["train", "--epochs", "1", "--init-weights", str(path), "--out", str(tmp_path / "o")]
    elif command == "evaluate":
        argv = ["evaluate", "--weights", str(path)]
    else:
        argv = ["traces", "--weights", str(path), "--samples", "0", "--out", str(tmp_path / "t.npz")]
    assert_one_line_error(*run_cli(capsys, *argv), word)


def test_traces_bad_indices(capsys, tmp_path, weights_file):
    base = ["traces", "--weights", str(weights_file), "--out", str(tmp_path / "t.npz")]
    assert_one_line_error(*run_cli(capsys, *base, "--samples", "0", "--neurons", "0:200"), "neuron", "0..")
    assert_one_line_error(*run_cli(capsys, *base, "--samples", "5000"), "sample")
    assert_one_line_error(*run_cli(capsys, *base, "--samples", "0", "--layers", "3"), "layer 3")
    assert_one_line_error(*run_cli(capsys, *base, "--samples", "a,b"), "a,b")


def test_existing_run_is_not_overwritten(capsys, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.json").write_text("{}")
    assert_one_line_error(*run_cli(capsys, "train", "--epochs", "1", "--out", str(out)), "--resume")
    assert (out / "metrics.json").read_text() == "{}"


def test_console_script_exits_2_without_traceback(tmp_path):
    """The installed entry point, as a user runs it."""
    exe = os.path.join(os.path.dirname(sys.executable), "corinfo-sim")
    proc = subprocess.run([exe, "train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--epochs", "1",
                           "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "train-images-idx3-ubyte" in proc.stderr


@pytest.mark.standalone
def test_spiking_options_reach_the_run(capsys, tmp_path):
    out = tmp_path / "run"
    code = main(["train", "--model", "spiking", "--epochs", "1", "--out", str(out), "--arch", "64,20,10",
                 "--max-train-samples", "10", "--max-test-samples", "10", "--nu-max", "400", "--nu-input", "300",
                 "--tau-s", "3", "--tau-soma", "25", "--t-free", "20", "--t-nudged", "15", "--t-window", "10",
                 "--dt", "0.25", "--encoder", "poisson", "--no-collapse-check"])  # 10 ms Poisson windows run away
    assert code == 0
    import json
    from brian2 import Hz, ms
    from corinfo_sim.params import Params
    p = Params.from_dict(json.loads((out / "metrics.json").read_text())["params"])
    assert p.encoder == "poisson"
    expected = dict(nu_max=400 * Hz, nu_input=300 * Hz, tau_s=3 * ms, tau_soma=25 * ms, dt=0.25 * ms,
                    t_free=20 * ms, t_nudged=15 * ms, t_window=10 * ms)
    for name, value in expected.items():
        assert abs(float(getattr(p, name) / value) - 1) < 1e-12, name
    assert p.steps_per_sample == 140


@pytest.mark.standalone
def test_bench_prints_its_figures(capsys):
    import json
    code = main(["bench", "--arch", "64,20,10", "--samples", "30", "--dense-samples", "10", "--dataset", "digits",
                 "--n-free", "20", "--n-nudged", "5"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["inputs"] == "digits" and out["samples"] == 30 and out["steps_per_sample"] == 25
    assert out["us_per_step"] == pytest.approx(1e3 * out["ms_per_sample"] / 25)
    for key in ("ms_per_sample", "eval_ms_per_sample", "network_eval_ms_per_sample", "compile_s",
                "dense_ms_per_sample"):
        assert out[key] > 0, key
    assert out["evaluation"] == "batched"
    assert out["ratio_to_dense"] == pytest.approx(out["ms_per_sample"] / out["dense_ms_per_sample"])
    assert out["device"] == "cpp_standalone" and out["threads"] == 1 and out["brian2_version"]
