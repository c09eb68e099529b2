"""Protocol scripts end to end: real Fashion-MNIST files, and small MNIST/CIFAR files in the real formats."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from test_datasets import write_cifar10_dir, write_cifar100_dir, write_mnist_dir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FASHION = "/usr/share/datasets/fashion-mnist"


def protocol(name, *args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "protocols", f"{name}.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=1200)


def check_summary(out, seeds, epochs):
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seeds"] == seeds and summary["epochs"] == epochs
    assert len(summary["per_epoch"]) == epochs
    final = summary["final"]
    for key in ("train_acc_mean", "train_acc_std", "test_acc_mean", "test_acc_std"):
        assert 0 <= final[key] <= 100
    per_seed = [json.loads((out / f"seed_{s}" / "metrics.json").read_text())["test_acc"][-1] for s in seeds]
    assert final["test_acc_mean"] == pytest.approx(100 * sum(per_seed) / len(per_seed))
    csv_lines = (out / "summary.csv").read_text().strip().splitlines()
    assert csv_lines[0].startswith("epoch,") and len(csv_lines) == epochs + 1
    md = (out / "summary.md").read_text()
    assert "| epoch | train accuracy (%) | test accuracy (%) |" in md and "±" in md
    return summary


@pytest.mark.standalone
def test_mnist_protocol_two_seeds_one_build(tmp_path):
    write_mnist_dir(tmp_path / "mnist", n_train=40, n_test=12)
    out = tmp_path / "out"
    proc = protocol("mnist", "--data-dir", tmp_path / "mnist", "--epochs", 2, "--seeds", "0,1", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("building the network 784,500,10") == 1, "seeds must share one compiled network"
    summary = check_summary(out, [0, 1], 2)
    assert summary["build_s"] > 0
    # seeds differ, and a finished protocol resumes to nothing new
    m0, m1 = (json.loads((out / f"seed_{s}" / "metrics.json").read_text()) for s in (0, 1))
    assert m0["seed"] == 0 and m1["seed"] == 1 and m0["params"]["g_leak"] == 0.5
    again = protocol("mnist", "--data-dir", tmp_path / "mnist", "--epochs", 2, "--seeds", "0,1", "--out", out,
                     "--resume")
    assert again.returncode == 0 and again.stdout.count("nothing to do") == 2
    refused = protocol("mnist", "--data-dir", tmp_path / "mnist", "--epochs", 2, "--seeds", "0", "--out", out)
    assert refused.returncode == 2 and "--resume" in refused.stderr


def test_protocol_bad_input(tmp_path):
    proc = protocol("mnist", "--data-dir", tmp_path, "--out", tmp_path / "o")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "t10k-labels-idx1-ubyte" in proc.stderr
    proc = protocol("cifar10", "--data-dir", tmp_path, "--out", tmp_path / "o", "--seeds", "1,x")
    assert proc.returncode == 2 and "1,x" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.standalone
@pytest.mark.long
def test_cifar10_protocol(tmp_path):
    write_cifar10_dir(tmp_path / "c10", sizes=(6, 6, 6, 6, 6), n_test=10)
    out = tmp_path / "out"
    proc = protocol("cifar10", "--data-dir", tmp_path / "c10", "--epochs", 1, "--out", out)
    assert proc.returncode == 0, proc.stderr
    check_summary(out, [0], 1)
    config = json.loads((out / "seed_0" / "config.json").read_text())
    assert config["arch"] == [3072, 1000, 10] and config["image_shape"] == [3, 32, 32]


@pytest.mark.standalone
@pytest.mark.long
def test_cifar100_protocol_reports_top5(tmp_path):
    write_cifar100_dir(tmp_path / "c100", n_train=12, n_test=8)
    out = tmp_path / "out"
    proc = protocol("cifar100", "--data-dir", tmp_path / "c100", "--epochs", 1, "--out", out)
    assert proc.returncode == 0, proc.stderr
    summary = check_summary(out, [0], 1)
    metrics = json.loads((out / "seed_0" / "metrics.json").read_text())
    assert metrics["arch"] == [3072, 2000, 1000, 100] and metrics["params"]["n_free"] == 50
    assert metrics["test_top5"][0] >= metrics["test_acc"][0]
    assert "test_top5_mean" in summary["final"]


@pytest.mark.standalone
@pytest.mark.long
@pytest.mark.skipif(not os.path.isdir(FASHION), reason="Debian package dataset-fashion-mnist not installed")
def test_fashion_mnist_protocol_on_real_files(tmp_path):
    out = tmp_path / "out"
    proc = protocol("fashion_mnist", "--epochs", 1, "--max-train-samples", 1000, "--max-test-samples", 200,
                    "--out", out)
    assert proc.returncode == 0, proc.stderr
    check_summary(out, [0], 1)
    metrics = json.loads((out / "seed_0" / "metrics.json").read_text())
    assert metrics["params"]["eta_schedule"] == "free" and metrics["params"]["g_leak"] == 0.3
    assert metrics["test_acc"][0] > 0.2  # 1000 online samples already learn something (chance: 0.1)


@pytest.mark.standalone
@pytest.mark.long
def test_mnist_3layer_protocol(tmp_path):
    write_mnist_dir(tmp_path / "mnist", n_train=20, n_test=6)
    out = tmp_path / "out"
    proc = protocol("mnist_3layer", "--data-dir", tmp_path / "mnist", "--epochs", 1, "--out", out)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((out / "seed_0" / "metrics.json").read_text())
    assert metrics["arch"] == [784, 500, 500, 10]


@pytest.mark.standalone
def test_spiking_update_error_protocol(tmp_path):
    out = tmp_path / "errors.json"
    proc = protocol("spiking_update_error", "--arch", "64,12,10", "--samples", "20", "--t-free", "40",
                    "--t-nudged", "30", "--t-window", "20", "--json", out)
    assert proc.returncode == 0, proc.stderr
    saved = json.loads(out.read_text())
    assert saved["arch"] == [64, 12, 10] and saved["params"]["t_free"] == "40.0 ms"
    assert set(saved["errors"]) == {"Wff1", "Wff2", "Wfb1"}
    for key, e in saved["errors"].items():
        assert e["rel_error"] > 0 and -1 <= e["cosine"] <= 1
        assert f"{e['rel_error']:.3f}" in proc.stdout
    bad = protocol("spiking_update_error", "--arch", "64,12,10", "--nu-max", "-3")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "nu_max" in bad.stderr
    # another variant's options come with --model
    bad = protocol("spiking_update_error", "--model", "conductance_spiking", "--theta", "-1")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "theta" in bad.stderr


@pytest.mark.standalone
def test_sparse_protocol_with_the_authors_discretisation(tmp_path):
    write_mnist_dir(tmp_path / "mnist", n_train=40, n_test=12)
    out = tmp_path / "out"
    proc = protocol("mnist_sparse", "--data-dir", tmp_path / "mnist", "--epochs", 1, "--out", out,
                    "--authors-discretisation")
    assert proc.returncode == 0, proc.stderr
    check_summary(out, [0], 1)
    params = json.loads((out / "seed_0" / "config.json").read_text())["params"]
    assert params["model"] == "sparse" and params["sparse_layers"] == [1, 2]
    assert (params["update_order"], params["nudged_start"], params["eta_schedule"]) == ("layered", "rates", "both")
    assert "authors' discretisation" in proc.stdout
    with np.load(out / "seed_0" / "traces.npz") as tr:
        assert "s_L2" in tr.files and np.all(tr["s_L2"] >= 0)


def _rate_run_folder(path, **overrides):
    """A run folder as training leaves it after epoch 0: config.json and the initial snapshot."""
    from corinfo_sim.params import make_params
    from corinfo_sim.weights import init_weights, save_weights
    params = make_params("antisparse", arch=(64, 12, 10), **overrides)
    (path / "snapshots").mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"dataset": "digits", "params": params.to_dict()}))
    save_weights(path / "snapshots" / "weights_e000.npz", init_weights((64, 12, 10), np.random.default_rng(0)))
    return params


def test_dense_trace_protocol(tmp_path):
    _rate_run_folder(tmp_path / "run", lr_ff=(1e-3, 1e-3), lr_fb=(1e-3,))
    lines = {}
    for factor in (1, 2):
        out = tmp_path / f"trace{factor}.json"
        proc = protocol("dense_trace", tmp_path / "run", "--samples", "12", "--every", "5", "--probe", "30",
                        "--lr-factor", factor, "--json", out)
        assert proc.returncode == 0, proc.stderr
        lines[factor] = json.loads(out.read_text())["lines"]
        assert [line["sample"] for line in lines[factor]] == [0, 5, 10, 12]
        assert all(len(line["sum_r"]) == 2 and 0 <= line["test_acc"] <= 1 for line in lines[factor])
        assert set(lines[factor][0]["change"].values()) == {0.0}
        assert f"{100 * lines[factor][-1]['test_acc']:6.1f}" in proc.stdout
    # the same samples in the same order: twice the rates move the weights about twice as far
    for key in ("Wff1", "Wff2", "Wfb1"):
        first, second = lines[1][-1]["change"][key], lines[2][-1]["change"][key]
        assert first > 0 and 1.8 < second / first < 2.2, (key, first, second)
    # gating the clipped neurons (the output's silent units) changes how far the output weights move
    out = tmp_path / "gated.json"
    proc = protocol("dense_trace", tmp_path / "run", "--samples", "12", "--every", "5", "--probe", "30",
                    "--lr-factor", 1, "--gate-clipped", "--json", out)
    assert proc.returncode == 0, proc.stderr
    gated = json.loads(out.read_text())
    assert gated["gate_clipped"] is True
    assert gated["lines"][-1]["change"]["Wff2"] < lines[1][-1]["change"]["Wff2"]
    # --samples 0: only where the trace starts, the free rates of the snapshot's weights
    from corinfo_sim.datasets import load_dataset
    from corinfo_sim.dense import free_rates, run_phase
    from corinfo_sim.params import Params
    from corinfo_sim.weights import init_weights
    out = tmp_path / "start.json"
    proc = protocol("dense_trace", tmp_path / "run", "--samples", "0", "--probe", "30", "--json", out)
    assert proc.returncode == 0, proc.stderr
    start, = json.loads(out.read_text())["lines"]
    params = Params.from_dict(json.loads((tmp_path / "run" / "config.json").read_text())["params"])
    rates = free_rates(init_weights((64, 12, 10), np.random.default_rng(0)), load_dataset("digits").X_test[:30],
                       params.variant.oracle(params))
    assert start["sample"] == 0 and start["sum_r"] == pytest.approx([rates[k].sum(axis=1).mean() for k in (1, 2)])
    assert start == lines[1][0]
    # --contrast: per layer, the rates' contrast between the states the rule compares, measured
    # without touching the weights (the trace is the one without it)
    out = tmp_path / "contrast.json"
    proc = protocol("dense_trace", tmp_path / "run", "--samples", "12", "--every", "5", "--probe", "30",
                    "--lr-factor", 1, "--contrast", 4, "--json", out)
    assert proc.returncode == 0, proc.stderr
    measured = json.loads(out.read_text())["lines"]
    assert all(len(line["contrast"]) == 2 and all(c > 0 for c in line["contrast"]) for line in measured)
    assert [{k: v for k, v in line.items() if k != "contrast"} for line in measured] == lines[1]
    assert f"{measured[-1]['contrast'][0]:.2e}" in proc.stdout
    # at the start: the mean |r^nudged − r^free|/β of the first 4 probe samples (two phases here)
    oracle, data = params.variant.oracle(params), load_dataset("digits")
    W0, expected = init_weights((64, 12, 10), np.random.default_rng(0)), np.zeros(2)
    for x, label in zip(data.X_test[:4], data.y_test[:4]):
        free = run_phase(W0, x, np.eye(10)[label], 0.0, oracle.n_free, oracle)
        nudged = run_phase(W0, x, np.eye(10)[label], params.beta, oracle.n_nudged, oracle, prev=free)
        expected += [np.mean(np.abs(nudged.r[k] - free.r[k])) / params.beta / 4 for k in (1, 2)]
    assert not oracle.three_phase and measured[0]["contrast"] == pytest.approx(expected, rel=1e-9)
    bad = protocol("dense_trace", tmp_path, "--samples", "3")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "config.json" in bad.stderr
    bad = protocol("dense_trace", tmp_path / "run", "--epoch", "4")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "weights_e004.npz" in bad.stderr


def test_spike_statistics_protocol(tmp_path):
    from test_spiking import synthetic_spike_traces
    np.savez(tmp_path / "traces.npz", **synthetic_spike_traces())
    out = tmp_path / "stats.json"
    proc = protocol("spike_statistics", tmp_path, "--json", out)
    assert proc.returncode == 0, proc.stderr
    layer = json.loads(out.read_text())["layers"]["1"]
    assert layer["neurons"] == 2 and layer["n_cv"] == 8 and f"{layer['median_cv']:.3f}" in proc.stdout
    assert layer["rate_hz"] > 0
    np.savez(tmp_path / "rate.npz", t=np.arange(3.0), v_soma_L1=np.zeros((3, 2)))
    bad = protocol("spike_statistics", tmp_path / "rate.npz")
    assert bad.returncode != 0 and bad.stderr.count("\n") == 1 and "holds no spikes" in bad.stderr
