"""The lateral rule over whole protocols: B stays positive definite and bounded with every data
set's defaults, and runs away with the paper's λ applied once per sample (the mechanism that made
the 50-epoch Fashion-MNIST protocol diverge). Also the health check that stops such a run.

The rates visit one direction (e1) with random amplitude and never the other (e2): along e2,
B grows like λ_B^(−t). The trajectory runs the dense oracle's update (``dense.lateral_update``)
for its first samples, and then the same update written out for the 2 × 2 case, so that 50 epochs
of 60 000 samples take seconds.
"""
import functools

import numpy as np
import pytest

from corinfo_sim import dense
from corinfo_sim.diagnostics import lateral_spectrum
from corinfo_sim.params import make_params
from corinfo_sim.training import Collapsed, check_lateral

#: Training samples per epoch of each data set (digits: the 80 % split of 1 797 images).
TRAIN_SAMPLES = {"digits": 1437, "fashion-mnist": 60000, "mnist": 60000, "cifar10": 50000, "cifar100": 50000}
EPOCHS = 50
SETTINGS = [("antisparse", d) for d in TRAIN_SAMPLES] + [("sparse", d) for d in ("digits", "fashion-mnist", "mnist",
                                                                                 "cifar10")]
B0 = np.array([[0.8, 0.3], [0.3, 0.5]])  # positive definite, as B = AAᵀ starts


def amplitudes(n, seed=0):
    """Rates along e1: uniform in [0, 1], as hard-sigmoid rates are."""
    return np.random.default_rng(seed).uniform(0.0, 1.0, n)


def oracle_trajectory(lam_B, n):
    """B after ``n`` updates by the dense oracle's lateral rule (λ_B per update)."""
    p = dense.DenseParams(lam=lam_B)
    rates = np.zeros((2, n))
    rates[0] = amplitudes(n)
    return dense.lateral_update(B0.copy(), rates, p)


@functools.lru_cache(maxsize=None)
def trajectory(lam_B, gamma_B, n):
    """B after ``n`` updates (B ← (B − γ_B z zᵀ)/λ_B, z = B r, r = a e1), written out for 2 × 2."""
    b00, b01, b11 = B0[0, 0], B0[0, 1], B0[1, 1]
    inv = 1.0 / lam_B
    for a in amplitudes(n).tolist():
        g = gamma_B * a * a
        b00, b01, b11 = (b00 - g * b00 * b00) * inv, (b01 - g * b00 * b01) * inv, (b11 - g * b01 * b01) * inv
    return np.array([[b00, b01], [b01, b11]])


def test_written_out_update_is_the_oracle():
    B = trajectory(0.999, (1 - 0.999) / 0.999, 2000)
    np.testing.assert_allclose(B, oracle_trajectory(0.999, 2000), rtol=1e-12)


def test_lambda_update_keeps_the_memory_of_a_batch():
    p = dense.DenseParams(lam=0.99999, lambda_batch=20)
    assert p.lam_update ** 20 == pytest.approx(0.99999, rel=1e-14)
    assert p.gamma_update == pytest.approx((1 - p.lam_update) / p.lam_update)
    assert p.gamma == pytest.approx(1e-5 / 0.99999)  # the dynamics keep γ
    # m updates of the online rule equal the paper's batch update to first order in γ
    rng = np.random.default_rng(1)
    A = rng.uniform(-1, 1, (5, 5))
    B = A @ A.T
    r = rng.uniform(0, 1, (5, 20))
    online = dense.lateral_update(B, r, p)
    batch = (B - p.gamma * np.mean([np.outer(B @ c, B @ c) for c in r.T], axis=0)) / p.lam
    assert np.max(np.abs(online - batch)) < 1e-9 * np.max(np.abs(B))
    assert np.max(np.abs(online - batch)) > 0  # not the same formula


@pytest.mark.parametrize("model, dataset", SETTINGS)
def test_defaults_keep_b_positive_definite_and_bounded(model, dataset):
    """50 epochs of updates with the data set's defaults: B along the unvisited direction grows by
    less than 5 (the paper's rule per batch of 20: e^1.5 over 50 Fashion-MNIST epochs)."""
    p = make_params(model, dataset=dataset)
    B = trajectory(p.lam_update, p.gamma_update, EPOCHS * TRAIN_SAMPLES[dataset])
    eig = np.linalg.eigvalsh(B)
    assert eig[0] > 0
    assert B[1, 1] / B0[1, 1] < 5.0


def test_lambda_per_sample_runs_away_on_fashion_mnist():
    """The paper's λ once per sample: B grows by λ^(−t), e^30 over 50 epochs of 60 000 samples."""
    p = make_params("antisparse", dataset="fashion-mnist", lambda_batch=1)
    B = trajectory(p.lam_update, p.gamma_update, EPOCHS * TRAIN_SAMPLES["fashion-mnist"])
    assert B[1, 1] / B0[1, 1] > 1e12


def test_spectrum_and_health_check(tmp_path):
    p = make_params("antisparse", dataset="fashion-mnist")
    healthy = {"B1": np.diag([15.0, 1.0, -0.003]), "B2": np.diag([17.0, 10.0])}
    spectrum = lateral_spectrum(healthy)
    assert spectrum["B_min_L1"] == -0.003 and spectrum["B_max_L1"] == 15.0
    assert spectrum["B_cond_L1"] == pytest.approx(15.0 / 0.003)
    check_lateral(spectrum, p, 3, str(tmp_path))  # a healthy run's dip below 0 passes
    not_definite = lateral_spectrum({"B1": np.diag([1.74e5, 1.0, -0.145]), "B2": np.eye(2)})
    with pytest.raises(Collapsed, match=r"epoch 26: the lateral matrix B1 is no longer positive definite "
                                        r"\(eigenvalues -0.145 to 1.74e\+05"):
        check_lateral(not_definite, p, 25, str(tmp_path))
    # the lateral loop: γ λ_max(B) beyond half the soma's coupling 1/ε + 1 at the output
    gain = 0.6 * (1 / p.epsilon + 1) / p.gamma
    with pytest.raises(Collapsed, match=r"B2 ran away .*loop gain γ·λ_max = 0.60"):
        check_lateral(lateral_spectrum({"B1": np.eye(3), "B2": np.diag([gain, 1.0])}), p, 0, str(tmp_path))
    check_lateral(lateral_spectrum({"B1": np.eye(3), "B2": np.diag([0.4 * gain, 1.0])}), p, 0, str(tmp_path))
