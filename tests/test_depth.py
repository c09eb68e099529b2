"""Deep networks (two or more hidden layers): their defaults, and that they learn."""
import json

import numpy as np
import pytest

from corinfo_sim.datasets import load_dataset
from corinfo_sim.params import make_params
from corinfo_sim.training import train


@pytest.mark.parametrize("model", ["antisparse", "sparse"])
def test_deep_defaults_follow_the_depth(model):
    """One hidden layer keeps the data set's settings; deeper networks settle to a tolerance with
    three phases, and their learning rates fall with depth (η_ff,1/k, η_fb,1 (2/3)^k); with four
    hidden layers the plasticity of clipped neurons is gated."""
    shallow = make_params(model, "digits")
    assert (shallow.three_phase, shallow.settle_tol, shallow.n_free, shallow.n_nudged) == (False, 0.0, 30, 10)
    assert shallow.lr_ff == (0.5, 0.35) and shallow.lr_fb == (0.075,)
    two = make_params(model, "digits", arch=(64, 100, 100, 10))
    assert (two.three_phase, two.settle_tol, two.n_free, two.n_nudged) == (True, 1e-3, 200, 100)
    assert not shallow.gate_clipped and not two.gate_clipped
    np.testing.assert_allclose(two.lr_ff, [0.5, 0.25, 0.5 / 3])
    np.testing.assert_allclose(two.lr_fb, [0.05, 0.075 * 4 / 9])
    four = make_params(model, "digits", arch=(64, 100, 100, 100, 100, 10))
    assert four.settle_tol == 1e-4 and four.three_phase and four.gate_clipped
    np.testing.assert_allclose(four.lr_ff, [0.5 / k for k in range(1, 6)])
    # a data set's rates fall the same way (Fashion-MNIST: 0.3/20 for layer 1)
    fashion = make_params(model, "fashion-mnist", arch=(784, 500, 500, 10))
    assert fashion.lr_ff[0] == make_params(model, "fashion-mnist").lr_ff[0] and fashion.lr_ff[2] < fashion.lr_ff[1]
    # every one of them can be given, and the options replace the depth's defaults
    given = make_params(model, "digits", arch=(64, 100, 100, 10), three_phase=False, settle_tol=0.0, n_free=30)
    assert (given.three_phase, given.settle_tol, given.n_free) == (False, 0.0, 30)


@pytest.mark.standalone
@pytest.mark.long
def test_two_hidden_layers_learn_with_the_deep_defaults(tmp_path):
    """64-100-100-10 on digits with the deep defaults: ≥ 94 % within 6 epochs, settled phases
    shorter than their caps, and config.json recording the defaults the run used."""
    digits = load_dataset("digits")
    params = make_params("antisparse", "digits", arch=(64, 100, 100, 10))
    metrics = train(params, digits, 6, str(tmp_path / "run"), progress=lambda line: None)
    assert max(metrics["test_acc"]) >= 0.94, metrics["test_acc"]
    with np.load(tmp_path / "run" / "diagnostics.npz") as d:
        assert 0 < d["steps_free_mean"][-1] < params.n_free and 0 < d["steps_nudged_mean"][-1] < 2 * params.n_nudged
        assert d["steps_test_max"][-1] <= params.n_free
    with open(tmp_path / "run" / "config.json") as f:
        saved = json.load(f)["params"]
    assert saved["three_phase"] is True and saved["settle_tol"] == 1e-3 and saved["n_free"] == 200
