"""Batched evaluation: the dense free phase on many samples at once gives the compiled network's test results.

For the variants whose dense oracle is exactly their mathematics (antisparse, sparse), the test
split is evaluated by :func:`corinfo_sim.dense.free_rates` instead of the compiled network's test
segment; spiking variants keep the network.
"""
import numpy as np
import pytest

from corinfo_sim import dense, training
from corinfo_sim.cli import main, parse_args
from corinfo_sim.datasets import load_dataset
from corinfo_sim.errors import CorInfoError
from corinfo_sim.params import make_params
from corinfo_sim.training import (batched_evaluation, epoch_plan, evaluate, evaluation_path, make_session,
                                  training_data, train)
from corinfo_sim.weights import init_weights, save_weights

N_TRAIN = 300


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def quiet(line):
    pass


@pytest.mark.standalone
@pytest.mark.parametrize("model, switches", [
    ("antisparse", {}),
    ("antisparse", dict(update_order="layered", eta_schedule="free")),
    ("sparse", dict(eta_s=(0.01, 0.05))),
], ids=["antisparse", "layered-free", "sparse"])
def test_batched_free_phase_is_the_networks(tmp_path, digits, model, switches):
    """One compiled epoch (training and test segment); the batched path on its new weights gives
    the network's predictions exactly and its free rates of every layer to 1e-9."""
    p = make_params(model, dataset="digits", **switches)
    session = make_session(p, digits, str(tmp_path / "build"), max_train=N_TRAIN, evaluation="network", probe=())
    try:
        _, labels, n_train, n_test = training_data(digits, N_TRAIN)
        assert session.segments["test"] == n_test > 0
        plan, _ = epoch_plan(p, n_train, n_test, labels, 0, probe=())
        result = session.run(plan, init_weights(p.arch, np.random.default_rng(p.seed)))
    finally:
        session.close()
    W = result.weights
    rates, seconds = batched_evaluation(W, digits.X_test, p)
    assert seconds > 0 and set(rates) == set(result.rates) == {1, 2}
    network_out = result.outputs[n_train:n_train + n_test]
    np.testing.assert_array_equal(np.argmax(rates[2][0], axis=1), np.argmax(network_out, axis=1))
    for k, (free, nudged) in rates.items():
        assert free is nudged and free.dtype == np.float64
        np.testing.assert_allclose(free, result.rates[k][0], rtol=0, atol=1e-9)
    assert np.mean(np.argmax(network_out, axis=1) == digits.y_test) > 0.2, "the epoch taught nothing (chance: 0.1)"
    # the batched mathematics is the one-sample path's; the block size changes nothing but rounding
    dp = p.variant.oracle(p)
    one = [dense.run_phase(W, x, np.zeros(10), 0.0, dp.n_free, dp).r for x in digits.X_test]
    small = dense.free_rates(W, digits.X_test, dp, batch=7)
    for k in (1, 2):
        np.testing.assert_allclose(rates[k][0], [r[k] for r in one], rtol=0, atol=1e-12)
        np.testing.assert_allclose(small[k], rates[k][0], rtol=0, atol=1e-12)
    if model == "sparse":
        state = dense.run_phase(W, digits.X_test.T, np.zeros((10, 1)), 0.0, dp.n_free, dp)
        assert state.s[2].shape == (n_test,) and state.s[2].max() > 0, "no multiplier acted: the test proves less"


def test_free_rates_in_float32_follow_float64(digits):
    p = make_params("sparse", dataset="digits", update_order="layered", eta_s=(0.01, 0.05))
    W = init_weights(p.arch, np.random.default_rng(0))
    dp = p.variant.oracle(p)
    r64 = dense.free_rates(W, digits.X_test[:50], dp)
    r32 = dense.free_rates(W, digits.X_test[:50], dp, batch=16, dtype=np.float32)
    for k in (1, 2):
        assert r32[k].dtype == np.float32 and r32[k].shape == r64[k].shape
        np.testing.assert_allclose(r32[k], r64[k], rtol=0, atol=1e-5)


@pytest.mark.standalone
def test_train_batched_equals_network_evaluation(tmp_path, digits, monkeypatch):
    p = make_params("antisparse", dataset="digits")
    runs = {}
    for evaluation in ("batched", "network"):
        out = tmp_path / evaluation
        metrics = train(p, digits, 2, str(out), max_train=N_TRAIN, progress=quiet,
                        evaluation=None if evaluation == "batched" else evaluation)
        assert metrics["evaluation"] == evaluation and all(s > 0 for s in metrics["eval_s"])
        with np.load(out / "representations.npz") as r:
            reps = {key: r[key] for key in r.files}
        with np.load(out / "diagnostics.npz") as d:
            activity = {key: d[key] for key in d.files if key.startswith(("active_L", "sum_r_L"))}
        runs[evaluation] = metrics, reps, activity, out
    (batched, reps_b, act_b, out_b), (network, reps_n, act_n, _) = runs["batched"], runs["network"]
    for key in ("test_acc", "test_top5", "train_acc", "train_top5"):
        assert batched[key] == network[key], key
    assert set(reps_b) == set(reps_n) == {"labels", "h_L1", "h_L2"}
    for key in reps_b:
        assert reps_b[key].shape == reps_n[key].shape
        np.testing.assert_allclose(reps_b[key], reps_n[key], rtol=0, atol=1e-6)
    for key in act_n:
        np.testing.assert_allclose(act_b[key], act_n[key], rtol=1e-9, equal_nan=True)
    # evaluate() agrees, and needs no network
    monkeypatch.setattr(training, "Session", None)
    with np.load(out_b / "weights.npz") as f:
        weights = {key: f[key] for key in f.files}
    acc, result = evaluate(weights, digits, p)
    assert acc == batched["test_acc"][-1] and result.outputs.shape == (len(digits.X_test), 10)


def test_spiking_is_evaluated_in_the_network(tmp_path, digits):
    p = make_params("spiking", arch=(64, 10, 10))
    assert evaluation_path(p) == "network"
    assert evaluation_path(make_params("antisparse")) == evaluation_path(make_params("sparse")) == "batched"
    session = make_session(p, digits, str(tmp_path / "b"), max_train=5, device="runtime", probe=())
    assert session.segments["test"] == len(digits.X_test)
    antisparse = make_session(make_params("antisparse"), digits, str(tmp_path / "c"), max_train=5,
                              device="runtime", probe=())
    assert antisparse.segments["test"] == 0
    refused = "model spiking only approximates its rate network: use --evaluation network"
    with pytest.raises(CorInfoError, match=refused):
        evaluate(init_weights(p.arch, np.random.default_rng(0)), digits, p, evaluation="batched")
    with pytest.raises(CorInfoError, match=refused):
        train(p, digits, 1, str(tmp_path / "run"), evaluation="batched")
    assert not (tmp_path / "run").exists(), "a refused run writes nothing"
    with pytest.raises(CorInfoError, match="evaluation must be one of batched, network"):
        evaluation_path(make_params("antisparse"), "dense")


def test_command_line_option(tmp_path, capsys):
    args = parse_args(["train", "--epochs", "1", "--out", str(tmp_path / "o"), "--evaluation", "network"])
    assert args.evaluation == "network"
    assert parse_args(["train", "--epochs", "1", "--out", str(tmp_path / "o")]).evaluation is None
    weights = tmp_path / "w.npz"
    save_weights(weights, init_weights((64, 20, 10), np.random.default_rng(0)))
    assert parse_args(["evaluate", "--weights", str(weights), "--evaluation", "batched"]).evaluation == "batched"
    assert main(["train", "--epochs", "1", "--out", str(tmp_path / "o"), "--evaluation", "fast"]) == 2
    assert "fast" in capsys.readouterr().err
    # batched evaluation of a weights file: no build
    assert main(["evaluate", "--weights", str(weights), "--max-test-samples", "40"]) == 0
    assert "test accuracy" in capsys.readouterr().out
    code = main(["evaluate", "--weights", str(weights), "--model", "spiking", "--evaluation", "batched"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--evaluation network" in err
    for command in ("train", "evaluate"):
        with pytest.raises(SystemExit):
            parse_args([command, "--help"])
        helptext = " ".join(capsys.readouterr().out.split())
        assert "--evaluation {batched,network}" in helptext
        assert "default batched for the models antisparse, bp, ep, fa, sparse, network for conductance, conductance_spiking, spiking" in helptext
