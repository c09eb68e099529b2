"""Hand-computed checks on one or two neurons.

A network 1-1-1 with no lateral weights (B = 0) and no feedback (W_fb = 0):

- hidden neuron: τ du/dt = −g_L u + (v_B − u)/ε + (ε g_L u − u)/ε, so u* = v_B / 2 for 0 < u* < 1
  (g_L cancels), with v_B = W_ff,1 x;
- output neuron: τ du/dt = −g_L u + (v_B − u)/ε + (g_L u − β(u − y) − u), so
  u* = (v_B/ε + β y) / (1/ε + 1 + β), with v_B = W_ff,2 r_1.
"""
import brian2
import numpy as np
import pytest

from corinfo_sim.network import Plan
from corinfo_sim.params import Params
from corinfo_sim.session import Session

W_FF1, W_FF2, X = 0.6, 1.5, 1.0


def run_pair(tmp_path, beta=1.0, B=0.0, lr_ff=(0.1, 0.2), trace=False):
    p = Params(arch=(1, 1, 1), n_free=120, n_nudged=120, lr_ff=lr_ff, lr_fb=(0.05,), beta_sign="positive",
               lam=0.99)
    W = {"Wff1": np.array([[W_FF1]]), "Wff2": np.array([[W_FF2]]), "Wfb1": np.array([[0.0]]),
         "B1": np.array([[B]]), "B2": np.array([[B]])}
    images, labels = np.array([[X]]), np.array([0])  # label 0: y = 1 for the single output
    plan = Plan.make(labels, train=[0], beta=[beta], record=[1.0], trace=[1.0 if trace else 0.0])
    session = Session(p, images, labels, plan.segments, str(tmp_path / "b"), device="runtime",
                      record_rates=True, trace_neurons={1: [0], 2: [0]} if trace else None)
    return p, W, session.run(plan, W)


def test_steady_state_somatic_potentials(tmp_path):
    p, W, res = run_pair(tmp_path, beta=1.0)
    eps = p.epsilon
    u1 = W_FF1 * X / 2
    u2_free = (W_FF2 * u1 / eps) / (1 / eps + 1)
    u2_nudged = (W_FF2 * u1 / eps + 1.0) / (1 / eps + 1 + 1.0)
    r1_free, r1_nudged = res.rates[1]
    r2_free, r2_nudged = res.rates[2]
    assert r1_free[0, 0] == pytest.approx(u1, abs=1e-9)
    assert r1_nudged[0, 0] == pytest.approx(u1, abs=1e-9)  # no feedback: the teacher does not reach layer 1
    assert r2_free[0, 0] == pytest.approx(u2_free, abs=1e-9)
    assert r2_nudged[0, 0] == pytest.approx(u2_nudged, abs=1e-9)


def test_traces_show_steady_state_in_millivolts(tmp_path):
    p, W, res = run_pair(tmp_path, trace=True)
    v = res.traces["v_soma_L1"][:, 0]
    assert v[p.n_free - 1] == pytest.approx(1e3 * float(p.V0) * W_FF1 * X / 2, rel=1e-8)
    assert res.traces["v_basal_L1"][5, 0] == pytest.approx(1e3 * float(p.V0) * W_FF1 * X)


def test_one_weight_update_by_hand(tmp_path):
    """ΔW_ff,2 = (η/β)(e^n r_1 − e^f r_1) with e = r_2 − W_ff,2 r_1, and r_1 the same in both phases."""
    beta = 1.0
    p, W, res = run_pair(tmp_path, beta=beta)
    eps = p.epsilon
    r1 = W_FF1 * X / 2
    r2_f = (W_FF2 * r1 / eps) / (1 / eps + 1)
    r2_n = (W_FF2 * r1 / eps + beta) / (1 / eps + 1 + beta)
    e_f, e_n = r2_f - W_FF2 * r1, r2_n - W_FF2 * r1
    expected = 0.2 / beta * (e_n * r1 - e_f * r1)
    change = res.weights["Wff2"][0, 0] - W_FF2
    assert expected > 0  # the teacher (y = 1) pulls the output up, so W_ff,2 grows
    assert change == pytest.approx(expected, rel=1e-8)
    # layer 1's rate is the same in both phases and its basal error too: W_ff,1 does not change
    assert res.weights["Wff1"][0, 0] == pytest.approx(W_FF1, abs=1e-12)


def test_lateral_update_by_hand(tmp_path):
    """B ← (B − γ z²)/λ with z = B r^n for a single neuron."""
    b = 0.8
    p, W, res = run_pair(tmp_path, B=b)
    r_n = res.rates[2][1][0, 0]
    z = b * r_n
    assert res.weights["B2"][0, 0] == pytest.approx((b - p.gamma * z * z) / p.lam, rel=1e-12)
    assert res.weights["B2"][0, 0] > b  # 1/λ growth beats γ z² here


def test_parameters_reach_the_equations():
    """τ = dt/η and the potential scale: what the network is built with."""
    p = Params(arch=(1, 1, 1), eta=0.1, dt=0.5 * brian2.ms)
    assert float(p.tau / brian2.ms) == pytest.approx(5.0)
    assert p.gamma == pytest.approx((1 - p.lam) / p.lam)
