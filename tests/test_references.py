"""The feed-forward references (``--model bp``, ``--model fa``; corinfo_sim/references.py): backprop
against finite differences, feedback alignment against a hand-written two-layer case, their runs
and run folders, and bad input."""
import json

import numpy as np
import pytest

from corinfo_sim import references as R
from corinfo_sim.cli import main
from corinfo_sim.datasets import load_dataset
from corinfo_sim.params import make_params
from corinfo_sim.training import train
from corinfo_sim.weights import init_weights, load_weights


def random_network(arch, seed=0):
    rng = np.random.default_rng(seed)
    W = {key: 0.3 * w for key, w in init_weights(arch, rng, "fa").items()}
    for k in range(1, len(arch)):
        W[f"b{k}"] = rng.uniform(0.4, 0.6, size=arch[k])  # units inside (0, 1), away from the kinks
    return W, rng


def test_backprop_is_the_gradient_of_its_loss():
    """Central differences of the loss, every weight and bias of a 5-4-3-2 network."""
    arch = (5, 4, 3, 2)
    W, rng = random_network(arch)
    x, y = rng.uniform(0, 1, size=5), np.array([1.0, 0.0])
    a, _ = R.forward(W, x)
    assert all(np.all((a[k] > 0.01) & (a[k] < 0.99)) for k in (1, 2)), "a hidden unit sits on a kink"
    grads, _ = R.updates(W, x, y, "bp")
    h = 1e-6
    for key, g in grads.items():
        numeric = np.zeros_like(g)
        for index in np.ndindex(g.shape):
            plus, minus = ({k: v.copy() for k, v in W.items()} for _ in range(2))
            plus[key][index] += h
            minus[key][index] -= h
            numeric[index] = (R.loss(plus, x, y) - R.loss(minus, x, y)) / (2 * h)
        assert np.abs(numeric).max() > 1e-3, key
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-9, err_msg=key)


def test_backprop_through_a_saturated_output():
    """An output driven below 0 for its own class still gets its error (the matching loss)."""
    W = {"W1": np.array([[1.0]]), "b1": np.array([0.0]), "W2": np.array([[-2.0]]), "b2": np.array([0.0])}
    x, y = np.array([0.5]), np.array([1.0])
    grads, h = R.updates(W, x, y, "bp")
    assert h[2][0] == 0.0 and grads["b2"][0] == -1.0  # descent raises its bias


def test_feedback_alignment_by_hand():
    """A 2-2-1 network: δ_2 = h_2 − y, δ_1 = (F_1 δ_2) ⊙ σ'(a_1), every number written out."""
    W = {"W1": np.array([[0.5, -0.2], [0.3, 0.8]]), "b1": np.array([0.1, -0.1]),
         "W2": np.array([[0.6, -0.4]]), "b2": np.array([0.2]), "F1": np.array([[0.7], [-0.5]])}
    x, y = np.array([1.0, 0.5]), np.array([1.0])
    # a_1 = (0.5 - 0.1 + 0.1, 0.3 + 0.4 - 0.1) = (0.5, 0.6); h_1 = a_1 (inside (0, 1))
    # a_2 = 0.6*0.5 - 0.4*0.6 + 0.2 = 0.26; h_2 = 0.26; δ_2 = 0.26 - 1 = -0.74
    # δ_1 = F_1 δ_2 = (0.7*-0.74, -0.5*-0.74) = (-0.518, 0.37)
    before = {k: v.copy() for k, v in W.items()}
    h = R.train_sample(W, x, y, (0.1, 0.2), "fa")
    assert h[2][0] == pytest.approx(0.26)
    np.testing.assert_allclose(W["W2"] - before["W2"], -0.2 * -0.74 * np.array([[0.5, 0.6]]))
    np.testing.assert_allclose(W["b2"] - before["b2"], [-0.2 * -0.74])
    np.testing.assert_allclose(W["W1"] - before["W1"], -0.1 * np.outer([-0.518, 0.37], x))
    np.testing.assert_allclose(W["b1"] - before["b1"], -0.1 * np.array([-0.518, 0.37]))
    np.testing.assert_array_equal(W["F1"], before["F1"])  # the feedback is fixed
    # backprop sends δ_2 back through W_2ᵀ instead: another update of W_1
    W_bp = {k: v for k, v in before.items() if k != "F1"}
    grads, _ = R.updates(W_bp, x, y, "bp")
    np.testing.assert_allclose(grads["b1"], np.array([0.6, -0.4]) * -0.74)


def test_the_references_share_their_initial_forward_weights():
    fa, bp = (init_weights((64, 20, 10), np.random.default_rng(3), m) for m in ("fa", "bp"))
    assert set(fa) == set(bp) | {"F1"}
    assert all(np.array_equal(fa[k], bp[k]) for k in bp)


@pytest.mark.parametrize("model", ["fa", "bp"])
def test_a_reference_writes_a_run_folder_and_resumes(tmp_path, model):
    digits = load_dataset("digits")
    p = make_params(model, dataset="digits")
    out = tmp_path / "run"
    train(p, digits, 1, str(out), progress=lambda line: None)
    metrics = train(p, digits, 2, str(out), resume=True, progress=lambda line: None)
    assert metrics["epochs_done"] == 2 and metrics["test_acc"][-1] > 0.85 and metrics["train_s"][-1] > 0
    weights, arch = load_weights(out / "weights.npz", model=model)
    assert arch == (64, 100, 10)
    initial, _ = load_weights(out / "snapshots" / "weights_e000.npz", model=model)
    if model == "fa":
        np.testing.assert_array_equal(weights["F1"], initial["F1"])
        with np.load(out / "diagnostics.npz") as d:
            assert d["angle_L1"].shape == (3,) and d["angle_L1"][-1] < d["angle_L1"][0]
    # the same two epochs in one run give the same weights (each epoch's order from (seed, epoch))
    again = tmp_path / "again"
    train(p, digits, 2, str(again), progress=lambda line: None)
    same, _ = load_weights(again / "weights.npz", model=model)
    assert all(np.array_equal(same[k], weights[k]) for k in weights)


def test_bad_input_names_both_rules(tmp_path, capsys):
    digits_out = tmp_path / "fa"
    assert main(["train", "--model", "fa", "--epochs", "1", "--max-train-samples", "50", "--out",
                 str(digits_out)]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--weights", str(digits_out / "snapshots" / "weights_e001.npz"), "--model", "bp"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'fa' run" in err[0] and "'bp'" in err[0]
    bare = tmp_path / "bare.npz"
    bare.write_bytes((digits_out / "weights.npz").read_bytes())
    for model in ("bp", "ep", "antisparse"):
        assert main(["evaluate", "--weights", str(bare), "--model", model]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "fa rule" in err[0] and f"model {model}" in err[0], err
    assert main(["evaluate", "--weights", str(bare), "--model", "fa"]) == 0
    capsys.readouterr()
    for argv in (["traces", "--weights", str(digits_out), "--samples", "0", "--out", str(tmp_path / "t.npz")],
                 ["bench", "--model", "bp", "--arch", "64,10,10"],
                 ["evaluate", "--weights", str(digits_out), "--evaluation", "network"]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "reference" in err[0], err
    assert main(["train", "--model", "nope", "--epochs", "1", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert all(name in err for name in ("antisparse", "ep", "fa", "bp"))
    with open(digits_out / "config.json") as f:
        assert json.load(f)["model"] == "fa"


@pytest.mark.long
@pytest.mark.parametrize("model", ["fa", "bp"])
def test_digits_accuracy_target(tmp_path, model):
    """The references' digits defaults reach ≥ 96 % test accuracy after 20 epochs, seed 0."""
    metrics = train(make_params(model, dataset="digits"), load_dataset("digits"), 20, str(tmp_path / "run"),
                    progress=lambda line: None)
    assert metrics["test_acc"][-1] >= 0.96, metrics["test_acc"]
