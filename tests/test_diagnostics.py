"""Diagnostics checked against values computed by hand on tiny networks."""

import math

import numpy as np
import pytest

from corinfo_sim.diagnostics import (
    correlation_from_lateral,
    correlative_information,
    layer_activity,
    layer_angles,
    n_layers,
    running_correlation,
    silent_units,
    weight_angle,
)


# --- weight angle ---------------------------------------------------------------------------


def test_angle_zero_when_feedback_is_forward_transposed():
    rng = np.random.default_rng(0)
    W_ff = rng.normal(size=(3, 5))  # layer k+1 (3) from layer k (5)
    assert weight_angle(W_ff, W_ff.T) == pytest.approx(0.0, abs=1e-6)
    # a positive scale does not change the angle
    assert weight_angle(W_ff, 7.0 * W_ff.T) == pytest.approx(0.0, abs=1e-6)


def test_angle_uses_the_transpose_of_the_feedback():
    W_ff = np.array([[1.0, 2.0], [0.0, 1.0]])  # not symmetric
    assert weight_angle(W_ff, W_ff.T) == pytest.approx(0.0, abs=1e-6)
    assert weight_angle(W_ff, W_ff) > 1.0


def test_angle_90_for_orthogonal_and_180_for_negated():
    W_ff = np.array([[1.0, 0.0], [0.0, 0.0]])
    W_fb = np.array([[0.0, 0.0], [1.0, 0.0]])  # W_fb.T = [[0, 1], [0, 0]], orthogonal to W_ff
    assert weight_angle(W_ff, W_fb) == pytest.approx(90.0)
    rng = np.random.default_rng(1)
    W = rng.normal(size=(4, 6))
    assert weight_angle(W, -W.T) == pytest.approx(180.0)


def test_angle_hand_computed_2x2():
    # A = [[1, 0], [0, 0]], B = W_fb.T = [[1, 1], [0, 0]]: tr(A B^T) = 1, |A|^2 = 1, |B|^2 = 2,
    # cos = 1/sqrt(2), angle = 45 degrees
    A = np.array([[1.0, 0.0], [0.0, 0.0]])
    W_fb = np.array([[1.0, 0.0], [1.0, 0.0]])
    assert weight_angle(A, W_fb) == pytest.approx(45.0)
    # A = [[1, 2], [3, 4]], B = I: tr(A) = 5, |A|^2 = 30, |I|^2 = 2, cos = 5/sqrt(60)
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    expected = math.degrees(math.acos(5.0 / math.sqrt(60.0)))
    assert expected == pytest.approx(49.797, abs=1e-3)
    assert weight_angle(A, np.eye(2)) == pytest.approx(expected)


def test_angle_rejects_mismatched_shapes_and_zero_matrices():
    with pytest.raises(ValueError, match="transposed shape"):
        weight_angle(np.ones((3, 5)), np.ones((3, 5)))
    with pytest.raises(ValueError, match="all zeros"):
        weight_angle(np.zeros((2, 3)), np.ones((3, 2)))


def _weights(arch, seed=0):
    rng = np.random.default_rng(seed)
    L = len(arch) - 1
    w = {f"Wff{k}": rng.normal(size=(arch[k], arch[k - 1])) for k in range(1, L + 1)}
    w.update({f"Wfb{k}": rng.normal(size=(arch[k], arch[k + 1])) for k in range(1, L)})
    for k in range(1, L + 1):
        A = rng.normal(size=(arch[k], arch[k]))
        w[f"B{k}"] = A @ A.T + arch[k] * np.eye(arch[k])
    return w


def test_layer_angles_and_n_layers():
    w = _weights([6, 5, 4, 3])
    assert n_layers(w) == 3
    w["Wfb2"] = w["Wff3"].T.copy()  # aligned pair
    w["Wfb1"] = -w["Wff2"].T  # anti-aligned pair
    angles = layer_angles(w)
    assert sorted(angles) == [1, 2]
    assert angles[1] == pytest.approx(180.0)
    assert angles[2] == pytest.approx(0.0, abs=1e-6)
    assert layer_angles(_weights([4, 2])) == {}


def test_n_layers_rejects_gaps_and_missing_feedback():
    with pytest.raises(ValueError, match="Wff1..WffL"):
        n_layers({"Wff1": np.ones((2, 2)), "Wff3": np.ones((2, 2))})
    with pytest.raises(ValueError, match="no feedforward"):
        n_layers({"B1": np.eye(2)})
    w = _weights([4, 3, 2])
    del w["Wfb1"]
    with pytest.raises(ValueError, match="Wfb1"):
        layer_angles(w)


# --- correlative information ----------------------------------------------------------------


def _two_neuron_network():
    """2-2-2 network, two time steps: hand-computed values in the test below."""
    weights = {
        "Wff1": np.array([[0.5, 0.0], [0.0, 1.0]]),
        "Wff2": np.array([[1.0, 1.0], [0.0, 1.0]]),
        "Wfb1": np.array([[1.0, 0.0], [0.0, 0.0]]),
        "B1": np.diag([2.0, 4.0]),  # R1 = diag(0.5, 0.25)
        "B2": np.eye(2),  # R2 = I
    }
    rates = [
        np.array([[1.0, 0.0], [0.0, 0.0]]),  # r0 at steps 0, 1
        np.array([[1.0, 1.0], [0.0, 0.0]]),  # r1
        np.array([[0.2, 0.4], [0.0, 0.0]]),  # r2
    ]
    return rates, weights


def test_correlative_information_hand_computed():
    rates, weights = _two_neuron_network()
    eps = 0.5
    out = correlative_information(rates, weights, eps)
    assert sorted(out) == ["I_bwd_L1", "I_fwd_L1", "I_fwd_L2"]
    for v in out.values():
        assert v.shape == (2,)
    # layer 1: log det(diag(0.5, 0.25) + 0.5 I) = log(1.0 * 0.75); n_1 log eps = 2 log 0.5
    c1 = math.log(0.75) + 2 * math.log(0.5)  # = log 0.1875
    # forward, step 0: r1 - Wff1 r0 = [1, 1] - [0.5, 0] = [0.5, 1], |.|^2 = 1.25, / eps = 2.5
    assert out["I_fwd_L1"][0] == pytest.approx(math.log(0.1875) - 2.5)
    assert c1 == pytest.approx(math.log(0.1875))
    # backward, step 0: r1 - Wfb1 r2 = [1, 1] - [0.2, 0] = [0.8, 1], |.|^2 = 1.64, / eps = 3.28
    assert out["I_bwd_L1"][0] == pytest.approx(c1 - 3.28)
    # layer 2: log det(1.5 I) = 2 log 1.5; r2 - Wff2 r1 = [0.2, 0.4] - [2, 1] = [-1.8, -0.6],
    # |.|^2 = 3.6, / eps = 7.2
    c2 = 2 * math.log(1.5) + 2 * math.log(0.5)
    assert out["I_fwd_L2"][0] == pytest.approx(c2 - 7.2)
    # step 1: all rates zero, no prediction error: only the log-determinant terms remain
    assert out["I_fwd_L1"][1] == pytest.approx(c1)
    assert out["I_bwd_L1"][1] == pytest.approx(c1)
    assert out["I_fwd_L2"][1] == pytest.approx(c2)


def test_default_correlation_is_inverse_of_lateral_weights():
    rng = np.random.default_rng(3)
    arch = [5, 4, 3]
    w = _weights(arch, seed=3)
    rates = [rng.uniform(size=(7, n)) for n in arch]
    default = correlative_information(rates, w, 0.15)
    explicit = correlative_information(rates, w, 0.15, R=[np.linalg.inv(w["B1"]), np.linalg.inv(w["B2"])])
    for key in default:
        np.testing.assert_allclose(default[key], explicit[key], rtol=1e-12)
    np.testing.assert_allclose(correlation_from_lateral(w["B1"]) @ w["B1"], np.eye(4), atol=1e-12)


def test_lateral_rule_tracks_inverse_running_correlation():
    # B <- (B - gamma z z^T)/lam with z = B r is the Sherman-Morrison update of R <- lam R + (1-lam) r r^T
    # to first order in gamma = (1 - lam)/lam, so inv(B) stays close to R.
    rng = np.random.default_rng(4)
    lam = 0.999
    gamma = (1 - lam) / lam
    A = rng.normal(size=(3, 3))
    B = A @ A.T + 3 * np.eye(3)
    R = np.linalg.inv(B)
    for _ in range(200):
        r = rng.uniform(size=3)
        z = B @ r
        B = (B - gamma * np.outer(z, z)) / lam
        R = running_correlation(R, r, lam)
    np.testing.assert_allclose(np.linalg.inv(B), R, rtol=2e-2, atol=1e-3)


def test_running_correlation_single_and_batch():
    R = np.eye(2)
    r = np.array([1.0, 2.0])
    np.testing.assert_allclose(running_correlation(R, r, 0.9), 0.9 * np.eye(2) + 0.1 * np.outer(r, r))
    batch = np.array([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(running_correlation(R, batch, 0.5), 0.5 * np.eye(2) + 0.5 * 0.5 * np.eye(2))
    with pytest.raises(ValueError, match="neurons"):
        running_correlation(np.eye(3), r, 0.9)


def test_correlative_information_rejects_bad_inputs():
    rates, weights = _two_neuron_network()
    with pytest.raises(ValueError, match="L \\+ 1"):
        correlative_information(rates[:2], weights, 0.5)
    with pytest.raises(ValueError, match="steps"):
        correlative_information([rates[0], rates[1], rates[2][:1]], weights, 0.5)
    with pytest.raises(ValueError, match="epsilon"):
        correlative_information(rates, weights, 0.0)
    with pytest.raises(ValueError, match="R_1"):
        correlative_information(rates, weights, 0.5, R=[np.eye(3), np.eye(2)])


def test_correlative_information_not_positive_definite_gives_nan():
    rates, weights = _two_neuron_network()
    with pytest.warns(RuntimeWarning, match="positive definite"):
        out = correlative_information(rates, weights, 0.5, R=[-np.eye(2), np.eye(2)])
    assert np.all(np.isnan(out["I_fwd_L1"]))
    assert np.all(np.isfinite(out["I_fwd_L2"]))


def test_silent_units_are_counted_and_named():
    """A unit whose rate is 0 on every sample is silent (an output class never predicted)."""
    free = np.array([[0.0, 0.2, 0.0, 1.0], [0.0, 0.0, 0.0, 0.5], [0.0, 0.3, 0.1, 0.0]])
    rates = {1: (np.ones((3, 2)), np.ones((3, 2))), 2: (free, free)}
    activity = layer_activity(rates)
    assert activity["silent_L1"] == 0 and activity["silent_L2"] == 1
    assert activity["active_L2"] == pytest.approx(5 / 12)
    assert silent_units(rates, 2) == [0] and silent_units(rates, 1) == []
