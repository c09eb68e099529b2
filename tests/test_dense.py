"""The dense oracle (:mod:`corinfo_sim.dense`) against independent computations.

- with default parameters it reproduces, bit for bit, a frozen copy of the oracle as it was
  before the options were added (``frozen_relax`` / ``frozen_train_sample`` below);
- every option (update order, the start of the later phases, the neural step schedule, the
  three-phase contrast, sparse layers) is compared with a slow element-by-element reference
  written here (``Reference``), itself checked against numbers worked out by hand on one neuron;
- run to convergence, the Jacobi and Gauss–Seidel orders reach the same fixed point.
"""
import dataclasses

import numpy as np
import pytest

from corinfo_sim import dense


# --------------------------------------------------------------------------------------------
# frozen copy of the oracle before eta_schedule modes, update_order, nudged_start, three_phase
# and sparse layers were added (do not edit: it pins today's numbers)
# --------------------------------------------------------------------------------------------
def frozen_relax(W, x, y, beta, n_steps, p, u=None, drive=None, first_step=None, schedule=False):
    L = dense.n_layers(W)
    if u is None:
        u = [None] + [np.zeros(W[f"B{k}"].shape[0]) for k in range(1, L + 1)]
    if drive is None:
        drive = W["Wff1"] @ x
    eps, gamma, gl = p.epsilon, p.gamma, p.g_leak
    for step in range(n_steps):
        eta = p.eta
        if schedule and first_step is not None:
            eta = max(p.eta / (1 + 0.01 * (first_step + step)), 0.001)
        r = [x] + [np.clip(u[k], 0.0, 1.0) for k in range(1, L + 1)]
        new = [None]
        for k in range(1, L + 1):
            v_b = drive if k == 1 else W[f"Wff{k}"] @ r[k - 1]
            z = W[f"B{k}"] @ r[k]
            if k < L:
                v_a = eps * (2 * gamma * z + gl * r[k]) + W[f"Wfb{k}"] @ r[k + 1]
                du = -gl * u[k] + (v_b - u[k]) / eps + (v_a - u[k]) / eps
            else:
                v_a = gamma * z + gl * r[k] - beta * (r[k] - y)
                du = -gl * u[k] + (v_b - u[k]) / eps + (v_a - u[k])
            new.append(u[k] + eta * du)
        u = new
    return u


def frozen_train_sample(W, x, y, beta, lr_ff, lr_fb, p, schedule=False):
    L = dense.n_layers(W)
    drive = W["Wff1"] @ x
    u = frozen_relax(W, x, y, 0.0, p.n_free, p, drive=drive, first_step=0, schedule=schedule)
    r_f = [x] + [np.clip(uk, 0.0, 1.0) for uk in u[1:]]
    u = frozen_relax(W, x, y, beta, p.n_nudged, p, u=u, drive=drive, schedule=schedule)
    r_n = [x] + [np.clip(uk, 0.0, 1.0) for uk in u[1:]]
    updates = {}
    for k in range(1, L + 1):
        Wff = W[f"Wff{k}"]
        e_n, e_f = r_n[k] - Wff @ r_n[k - 1], r_f[k] - Wff @ r_f[k - 1]
        updates[f"Wff{k}"] = lr_ff[k - 1] / beta * (np.outer(e_n, r_n[k - 1]) - np.outer(e_f, r_f[k - 1]))
        if k < L:
            Wfb = W[f"Wfb{k}"]
            e_n, e_f = r_n[k] - Wfb @ r_n[k + 1], r_f[k] - Wfb @ r_f[k + 1]
            updates[f"Wfb{k}"] = lr_fb[k - 1] / beta * (np.outer(e_n, r_n[k + 1]) - np.outer(e_f, r_f[k + 1]))
    for key, dW in updates.items():
        W[key] += dW
    for k in range(1, L + 1):
        z = W[f"B{k}"] @ r_n[k]
        W[f"B{k}"] = (W[f"B{k}"] - p.gamma * np.outer(z, z)) / p.lam
    return r_f, r_n


# --------------------------------------------------------------------------------------------
# an independent, element-by-element reference of the spec (tiny networks only)
# --------------------------------------------------------------------------------------------
class Reference:
    """The model of docs/model.md with every option, one neuron and one synapse at a time."""

    def __init__(self, W, p):
        self.L = dense.n_layers(W)
        self.W = {key: value.tolist() for key, value in W.items()}
        self.p = p
        self.gamma = (1 - p.lam) / p.lam

    def act(self, k, v):
        if k in self.p.sparse_layers:
            return v if v > 0 else 0.0
        return min(max(v, 0.0), 1.0)

    def step(self, x, y, beta, eta, u, r, s, q):
        """One Euler step; returns new (u, r, s, q) (lists of lists / dicts, copies)."""
        p, L, W = self.p, self.L, self.W
        eps, g, gam = p.epsilon, p.g_leak, self.gamma
        new_u = [None] + [list(uk) for uk in u[1:]]
        new_r = [list(x)] + [list(rk) for rk in r[1:]]
        for k in range(1, L + 1):
            # Gauss–Seidel: the layer below has already been replaced in new_r; Jacobi: old r
            below = new_r[k - 1] if p.update_order == "layered" else r[k - 1]
            sk = s.get(k, 0.0)
            for i in range(len(u[k])):
                v_b = sum(W[f"Wff{k}"][i][j] * below[j] for j in range(len(below)))
                z = sum(W[f"B{k}"][i][j] * r[k][j] for j in range(len(r[k])))
                if k < L:
                    fb = sum(W[f"Wfb{k}"][i][j] * r[k + 1][j] for j in range(len(r[k + 1])))
                    v_a = eps * (2 * gam * z + g * r[k][i] - sk) + fb
                    du = -g * u[k][i] + (v_b - u[k][i]) / eps + (v_a - u[k][i]) / eps
                else:
                    v_a = gam * z + g * r[k][i] - sk - beta * (r[k][i] - y[i])
                    du = -g * u[k][i] + (v_b - u[k][i]) / eps + (v_a - u[k][i])
                new_u[k][i] = u[k][i] + eta * du
            new_r[k] = [self.act(k, v) for v in new_u[k]]
        new_s, new_q = dict(s), dict(q)
        for k in p.sparse_layers:
            new_q[k] = q[k] + p.eta_s[k - 1] * (sum(new_r[k]) - 1 - q[k] + s[k])
            new_s[k] = max(new_q[k], 0.0)
        return new_u, new_r, new_s, new_q

    def phase(self, x, y, beta, n_steps, state, scheduled):
        u, r, s, q = state
        for t in range(n_steps):
            eta = max(self.p.eta / (1 + 0.01 * t), 0.001) if scheduled else self.p.eta
            u, r, s, q = self.step(x, y, beta, eta, u, r, s, q)
        return u, r, s, q

    def sample(self, x, y, beta, lr_ff, lr_fb):
        """One training sample; returns the end states of the phases and the new weights."""
        p, L = self.p, self.L
        x, y = list(x), list(y)
        sizes = [len(self.W[f"B{k}"]) for k in range(1, L + 1)]
        zero = {k: 0.0 for k in p.sparse_layers}
        state = ([None] + [[0.0] * n for n in sizes], [x] + [[0.0] * n for n in sizes], zero, dict(zero))
        states = {"free": self.phase(x, y, 0.0, p.n_free, state, p.eta_schedule != "off")}
        betas = [("nudged", beta)] + ([("minus", -beta)] if p.three_phase else [])
        prev = states["free"]
        for name, b in betas:
            u, r, s, q = prev
            if p.nudged_start == "rates":
                u = [None] + [list(rk) for rk in r[1:]]
            prev = states[name] = self.phase(x, y, b, p.n_nudged, (u, r, s, dict(s)), p.eta_schedule == "both")
        a, b, div = (states["nudged"][1], states["minus"][1], 2 * beta) if p.three_phase else \
            (states["nudged"][1], states["free"][1], beta)
        W = {key: [row[:] for row in value] for key, value in self.W.items()}
        for k in range(1, L + 1):
            for name, other, lr in [("Wff", k - 1, lr_ff[k - 1])] + ([("Wfb", k + 1, lr_fb[k - 1])] if k < L else []):
                M = self.W[f"{name}{k}"]
                for i in range(len(M)):
                    e_a = a[k][i] - sum(M[i][j] * a[other][j] for j in range(len(M[i])))
                    e_b = b[k][i] - sum(M[i][j] * b[other][j] for j in range(len(M[i])))
                    for j in range(len(M[i])):
                        W[f"{name}{k}"][i][j] += lr / div * (e_a * a[other][j] - e_b * b[other][j])
            Bk = self.W[f"B{k}"]
            z = [sum(Bk[i][j] * states["nudged"][1][k][j] for j in range(len(Bk))) for i in range(len(Bk))]
            W[f"B{k}"] = [[(Bk[i][j] - self.gamma * z[i] * z[j]) / p.lam for j in range(len(Bk))]
                          for i in range(len(Bk))]
        return states, {key: np.array(value) for key, value in W.items()}


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def random_net(arch, seed, b_scale=1.0, ff_range=(-1.0, 1.0)):
    rng = np.random.default_rng(seed)
    L = len(arch) - 1
    W = {}
    for k in range(1, L + 1):
        W[f"Wff{k}"] = rng.uniform(*ff_range, (arch[k], arch[k - 1])) * np.sqrt(3 / arch[k - 1])
        A = rng.uniform(-1, 1, (arch[k], arch[k]))
        W[f"B{k}"] = b_scale * (A @ A.T / arch[k] + np.eye(arch[k]))
        if k < L:
            W[f"Wfb{k}"] = rng.uniform(-1, 1, (arch[k], arch[k + 1])) * np.sqrt(3 / arch[k + 1])
    x = rng.uniform(0, 1, arch[0])
    y = np.eye(arch[-1])[rng.integers(arch[-1])]
    return W, x, y


def copy(W):
    return {key: value.copy() for key, value in W.items()}


# a small λ makes the lateral terms (γ = 0.25) matter in the tiny-network checks
TINY = dict(epsilon=0.2, lam=0.8, g_leak=0.5, eta=0.05, n_free=4, n_nudged=3)


def assert_states_match(ours, ref, L, sparse=(), atol=1e-13):
    u, r, s, _ = ref
    for k in range(1, L + 1):
        np.testing.assert_allclose(ours["u"][k], u[k], rtol=0, atol=atol)
        np.testing.assert_allclose(ours["r"][k], r[k], rtol=0, atol=atol)
    for k in sparse:
        assert ours["s"][k] == pytest.approx(s[k], abs=atol)


def run_both(arch, seed, lr=(0.3, 0.2, 0.1), beta=1.0, net_kw=None, **kw):
    """train_sample of the oracle and of the reference on the same random network."""
    W, x, y = random_net(arch, seed, **(net_kw or {}))
    p = dense.DenseParams(**{**TINY, **kw})
    L = len(arch) - 1
    ref_states, ref_W = Reference(W, p).sample(x, y, beta, lr, lr)
    ours_W, states = copy(W), {}
    out = dense.train_sample(ours_W, x, y, beta, lr, lr, p, states=states)
    return dict(W=W, x=x, y=y, p=p, L=L, ref_states=ref_states, ref_W=ref_W, ours_W=ours_W, states=states,
                out=out)


# --------------------------------------------------------------------------------------------
# defaults = today's oracle
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("schedule", [False, True, "free"])
@pytest.mark.parametrize("arch", [(12, 7, 4), (12, 7, 5, 3), (9, 3)])
def test_defaults_reproduce_frozen_oracle(arch, schedule):
    W0, _, _ = random_net(arch, seed=len(arch))
    rng = np.random.default_rng(1)
    p = dense.DenseParams(epsilon=0.15, lam=0.99, g_leak=0.5, eta=0.05, n_free=25, n_nudged=8, eta_schedule=schedule)
    old_W, new_W = copy(W0), copy(W0)
    lr_ff, lr_fb = [0.2, 0.1, 0.05], [0.1, 0.05]
    for _ in range(4):
        x, y = rng.uniform(0, 1, arch[0]), np.eye(arch[-1])[rng.integers(arch[-1])]
        beta = rng.choice([-1.0, 1.0])
        old = frozen_train_sample(old_W, x, y, beta, lr_ff, lr_fb, p, schedule=bool(schedule))
        new = dense.train_sample(new_W, x, y, beta, lr_ff, lr_fb, p)
        for a, b in zip(old, new):
            for ra, rb in zip(a, b):
                np.testing.assert_array_equal(ra, rb)
    for key in W0:
        np.testing.assert_array_equal(old_W[key], new_W[key])
    X = rng.uniform(0, 1, (3, arch[0]))
    L = len(arch) - 1
    zero = np.zeros(arch[-1])
    expected = [np.clip(frozen_relax(new_W, x, zero, 0.0, p.n_free, p, first_step=0, schedule=bool(schedule))[L], 0, 1)
                for x in X]
    # predict runs the samples as one batch (matrix-matrix products): equal up to rounding
    np.testing.assert_allclose(dense.predict(new_W, X, p), expected, rtol=0, atol=1e-15)


def test_relax_keeps_its_signature():
    W, x, y = random_net((6, 4, 3), seed=0)
    p = dense.DenseParams(**TINY)
    u0 = frozen_relax(W, x, y, 0.0, 5, p)
    u = dense.relax(W, x, y, 0.0, 5, p)
    assert u[0] is None and all(np.array_equal(a, b) for a, b in zip(u[1:], u0[1:]))
    u1 = dense.relax(W, x, y, 0.5, 3, p, u=u, drive=W["Wff1"] @ x, first_step=None)
    np.testing.assert_array_equal(u1[2], frozen_relax(W, x, y, 0.5, 3, p, u=u0)[2])
    # the multipliers of sparse layers: start values in, end values out (in place)
    ps = dataclasses.replace(p, sparse_layers=(2,), eta_s=(0.1, 0.2))
    s, q = {2: 0.3}, {2: 0.3}
    dense.relax(W, x, y, 0.0, 1, ps, u=u, s=s, q=q)
    r2 = np.maximum(dense.relax(W, x, y, 0.0, 1, ps, u=u, s={2: 0.3}, q={2: 0.3})[2], 0)
    assert q[2] == pytest.approx(0.3 + 0.2 * (r2.sum() - 1 - 0.3 + 0.3)) and s[2] == max(q[2], 0.0)


def test_params_normalise_and_check():
    assert dense.DenseParams(eta_schedule=True).eta_schedule == "free"
    assert dense.DenseParams(eta_schedule=False).eta_schedule == "off"
    assert dense.DenseParams(eta_schedule=np.bool_(True)).eta_schedule == "free"
    p = dense.DenseParams()
    assert (p.eta_schedule, p.update_order, p.nudged_start, p.three_phase, p.sparse_layers, p.eta_s) == \
        ("off", "simultaneous", "continue", False, (), ())
    q = dense.DenseParams(sparse_layers=[2, 1], eta_s=[0.01, 0.02])
    assert q.sparse_layers == (1, 2) and q.eta_s == (0.01, 0.02)
    assert dataclasses.replace(dense.DenseParams(eta_schedule=True), eta=0.1).eta_schedule == "free"
    for bad in (dict(eta_schedule="nudged"), dict(update_order="random"), dict(nudged_start="zero"),
                dict(sparse_layers=(0,))):
        with pytest.raises(ValueError):
            dense.DenseParams(**bad)
    W, x, y = random_net((5, 3, 2), seed=0)
    for bad in (dict(sparse_layers=(3,), eta_s=(0.1, 0.1)), dict(sparse_layers=(2,), eta_s=(0.1,))):
        with pytest.raises(ValueError):
            dense.train_sample(copy(W), x, y, 1.0, [0.1, 0.1], [0.1], dense.DenseParams(**bad))
    assert p.step_size(0) == p.eta and p.step_size(10_000) == 0.001


# --------------------------------------------------------------------------------------------
# the reference itself, against numbers worked out by hand
# --------------------------------------------------------------------------------------------
def test_reference_and_oracle_match_a_hand_computation():
    """One input, one output neuron (L = 1), two free and one nudged step, both rate functions.

    ε = 0.5, λ = 0.5 (γ = 1), g_L = 1, η = 0.1, W_ff = 2, B = 0.5, x = 1, y = 1, β = 1:
    du = −u + 2(2 − u) + (0.5 r + r − β (r − 1) − u) = 4 − 4u + 1.5 r − β (r − 1).
    free: u = 0 → du = 4, u = 0.4, r = 0.4 → du = 4 − 1.6 + 0.6 = 3, u = 0.7, r = 0.7;
    nudged: du = 4 − 2.8 + 1.05 + 0.3 = 2.55, u = 0.955.
    Schedule "both": η_0 = 0.1, η_1 = 0.1/1.01; nudged again from η_0 = 0.1.
    Sparse (η_s = 0.5): s stays 0 while Σ r < 1; q = 0.5 (0.4 − 1) = −0.3, s = 0;
    q = −0.3 + 0.5 (0.7 − 1 + 0.3 + 0) = −0.3; nudged: q = s = 0, u = 0.955, r = 0.955,
    q = 0.5 (0.955 − 1) = −0.0225, s = 0.
    """
    W = {"Wff1": np.array([[2.0]]), "B1": np.array([[0.5]])}
    x, y = np.array([1.0]), np.array([1.0])
    base = dict(epsilon=0.5, lam=0.5, g_leak=1.0, eta=0.1, n_free=2, n_nudged=1)
    lr = [0.2]
    cases = {
        "off": (dense.DenseParams(**base), 0.7, 0.955),
        "both": (dense.DenseParams(**base, eta_schedule="both"), 0.4 + 0.3 / 1.01, None),
        "sparse": (dense.DenseParams(**base, sparse_layers=(1,), eta_s=(0.5,)), 0.7, 0.955),
    }
    for name, (p, u_free, u_nudged) in cases.items():
        if u_nudged is None:  # "both": nudged step with η_0 = 0.1 from u_free
            r = u_free
            u_nudged = u_free + 0.1 * (4 - 4 * u_free + 1.5 * r - (r - 1))
        states = {}
        dense.train_sample(copy(W), x, y, 1.0, lr, [], p, states=states)
        ref, _ = Reference(W, p).sample(x, y, 1.0, lr, [])
        assert states["free"]["u"][1][0] == pytest.approx(u_free, abs=1e-15)
        assert states["nudged"]["u"][1][0] == pytest.approx(u_nudged, abs=1e-15)
        assert ref["free"][0][1][0] == pytest.approx(u_free, abs=1e-15)
        assert ref["nudged"][0][1][0] == pytest.approx(u_nudged, abs=1e-15)
    states = {}
    dense.train_sample(copy(W), x, y, 1.0, lr, [], cases["sparse"][0], states=states)
    assert states["free"]["q"][1] == pytest.approx(-0.3) and states["free"]["s"][1] == 0.0
    assert states["nudged"]["q"][1] == pytest.approx(-0.0225) and states["nudged"]["s"][1] == 0.0
    # plasticity: e^n = 0.955 − 2, e^f = 0.7 − 2; ΔW = 0.2 (e^n 1 − e^f 1) = 0.2 · 0.255
    W1 = copy(W)
    dense.train_sample(W1, x, y, 1.0, lr, [], cases["off"][0])
    assert W1["Wff1"][0, 0] == pytest.approx(2 + 0.2 * 0.255, abs=1e-14)
    z = 0.5 * 0.955
    assert W1["B1"][0, 0] == pytest.approx((0.5 - z * z) / 0.5, abs=1e-14)


# --------------------------------------------------------------------------------------------
# each option against the reference
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("arch", [(3, 2, 2), (2, 2, 2, 1), (4, 3, 3, 2)])
@pytest.mark.parametrize("order", ["simultaneous", "layered"])
def test_update_order_matches_reference(arch, order):
    res = run_both(arch, seed=11, update_order=order, n_free=3, n_nudged=2)
    for name in ("free", "nudged"):
        assert_states_match(res["states"][name], res["ref_states"][name], res["L"])
    for key in res["W"]:
        np.testing.assert_allclose(res["ours_W"][key], res["ref_W"][key], rtol=0, atol=1e-13)


def test_layered_is_gauss_seidel_and_differs_from_simultaneous():
    """Two steps of a 3-2-2 network by hand: layer 2 reads layer 1's rate of the same step."""
    W, x, y = random_net((3, 2, 2), seed=5, ff_range=(0.0, 1.0))
    p = dense.DenseParams(**TINY)
    eps, g, gam, eta = p.epsilon, p.g_leak, p.gamma, p.eta
    sig = lambda v: np.clip(v, 0, 1)  # noqa: E731
    u1, u2 = np.zeros(2), np.zeros(2)
    for _ in range(2):
        r1, r2 = sig(u1), sig(u2)
        u1 = u1 + eta * (-g * u1 + (W["Wff1"] @ x - u1) / eps
                         + (eps * (2 * gam * W["B1"] @ r1 + g * r1) + W["Wfb1"] @ r2 - u1) / eps)
        r1_new = sig(u1)  # Gauss–Seidel: the new rate of layer 1 drives layer 2; r2 is still old
        u2 = u2 + eta * (-g * u2 + (W["Wff2"] @ r1_new - u2) / eps + (gam * W["B2"] @ r2 + g * r2 - u2))
    layered = dense.relax(W, x, y, 0.0, 2, dataclasses.replace(p, update_order="layered"))
    simultaneous = dense.relax(W, x, y, 0.0, 2, p)
    np.testing.assert_allclose(layered[1], u1, rtol=0, atol=1e-14)
    np.testing.assert_allclose(layered[2], u2, rtol=0, atol=1e-14)
    assert np.abs(simultaneous[2] - layered[2]).max() > 1e-3
    # after one step only the layers above the first differ
    one = {o: dense.relax(W, x, y, 0.0, 1, dataclasses.replace(p, update_order=o)) for o in dense.UPDATE_ORDERS}
    np.testing.assert_array_equal(one["simultaneous"][1], one["layered"][1])
    assert np.abs(one["simultaneous"][2] - one["layered"][2]).max() > 1e-3


@pytest.mark.parametrize("order", ["simultaneous", "layered"])
def test_rates_start_matches_reference_and_matters(order):
    # a negative drive sends some free potentials below 0, where u and σ(u) differ
    kw = dict(update_order=order, n_free=6, n_nudged=3, eta=0.1)
    res = run_both((4, 3, 2), seed=2, nudged_start="rates", net_kw=dict(ff_range=(-1.5, 1.0)), **kw)
    free_u = np.concatenate(res["states"]["free"]["u"][1:])
    assert free_u.min() < 0 or free_u.max() > 1
    for name in ("free", "nudged"):
        assert_states_match(res["states"][name], res["ref_states"][name], res["L"])
    for key in res["W"]:
        np.testing.assert_allclose(res["ours_W"][key], res["ref_W"][key], rtol=0, atol=1e-13)
    # "rates" = the nudged phase started by hand from u = σ(u_free)
    p, W, x, y = res["p"], res["W"], res["x"], res["y"]
    u_start = [None] + [np.clip(uk, 0, 1) for uk in res["states"]["free"]["u"][1:]]
    u_nudged = dense.relax(W, x, y, 1.0, p.n_nudged, p, u=u_start)
    for k in (1, 2):
        np.testing.assert_array_equal(res["states"]["nudged"]["u"][k], u_nudged[k])
    cont = run_both((4, 3, 2), seed=2, nudged_start="continue", net_kw=dict(ff_range=(-1.5, 1.0)), **kw)
    assert_states_match(cont["states"]["nudged"], cont["ref_states"]["nudged"], cont["L"])
    diff = max(np.abs(cont["states"]["nudged"]["u"][k] - res["states"]["nudged"]["u"][k]).max() for k in (1, 2))
    assert diff > 1e-5


@pytest.mark.parametrize("schedule", ["off", "free", "both"])
def test_schedules_match_reference(schedule):
    # a small η with many steps reaches the floor 0.001 of the schedule (from t = 21 on)
    res = run_both((3, 2, 2), seed=4, eta_schedule=schedule, eta=0.00121, n_free=24, n_nudged=24,
                   three_phase=True)
    for name in ("free", "nudged", "minus"):
        assert_states_match(res["states"][name], res["ref_states"][name], res["L"])


def test_schedule_both_restarts_in_each_phase():
    W, x, y = random_net((3, 2, 2), seed=6)
    states = {}
    for schedule in ("off", "free", "both"):
        states[schedule] = {}
        p = dense.DenseParams(**{**TINY, "n_nudged": 5}, eta_schedule=schedule)
        dense.train_sample(copy(W), x, y, 1.0, [0.1, 0.1], [0.1], p, states=states[schedule])
    # by hand: the nudged phase of "both" is a free-phase-like scheduled run from the free state
    p = dense.DenseParams(**{**TINY, "n_nudged": 5}, eta_schedule="both")
    free_u = states["both"]["free"]["u"]
    expected = dense.relax(W, x, y, 1.0, 5, p, u=free_u, first_step=0)
    u = list(free_u)
    for t in range(5):  # the same with the step sizes written out
        u = dense.relax(W, x, y, 1.0, 1, dataclasses.replace(p, eta=max(0.05 / (1 + 0.01 * t), 0.001),
                                                               eta_schedule="off"), u=u)
    for k in (1, 2):
        np.testing.assert_array_equal(states["both"]["nudged"]["u"][k], expected[k])
        np.testing.assert_allclose(u[k], expected[k], rtol=0, atol=1e-15)
        np.testing.assert_array_equal(states["both"]["free"]["u"][k], states["free"]["free"]["u"][k])
    assert np.abs(states["both"]["nudged"]["u"][2] - states["free"]["nudged"]["u"][2]).max() > 1e-6
    assert np.abs(states["free"]["free"]["u"][2] - states["off"]["free"]["u"][2]).max() > 1e-6


@pytest.mark.parametrize("start", ["continue", "rates"])
def test_three_phase_matches_reference_and_formula(start):
    res = run_both((4, 3, 3, 2), seed=8, three_phase=True, nudged_start=start, beta=0.7)
    for name in ("free", "nudged", "minus"):
        assert_states_match(res["states"][name], res["ref_states"][name], res["L"])
    for key in res["W"]:
        np.testing.assert_allclose(res["ours_W"][key], res["ref_W"][key], rtol=0, atol=1e-13)
    # returns (r_free, r_plus)
    r_free, r_plus = res["out"]
    for k in range(4):
        np.testing.assert_array_equal(r_free[k], res["states"]["free"]["r"][k])
        np.testing.assert_array_equal(r_plus[k], res["states"]["nudged"]["r"][k])
    # the formula from the stored states, with numpy
    W, new, lr, beta, p = res["W"], res["ours_W"], (0.3, 0.2, 0.1), 0.7, res["p"]
    rp, rm = res["states"]["nudged"]["r"], res["states"]["minus"]["r"]
    for k in (1, 2, 3):
        A = W[f"Wff{k}"]
        dW = lr[k - 1] / (2 * beta) * (np.outer(rp[k] - A @ rp[k - 1], rp[k - 1])
                                       - np.outer(rm[k] - A @ rm[k - 1], rm[k - 1]))
        np.testing.assert_allclose(new[f"Wff{k}"], A + dW, rtol=0, atol=1e-15)
        if k < 3:
            A = W[f"Wfb{k}"]
            dW = lr[k - 1] / (2 * beta) * (np.outer(rp[k] - A @ rp[k + 1], rp[k + 1])
                                           - np.outer(rm[k] - A @ rm[k + 1], rm[k + 1]))
            np.testing.assert_allclose(new[f"Wfb{k}"], A + dW, rtol=0, atol=1e-15)
        z = W[f"B{k}"] @ rp[k]
        np.testing.assert_allclose(new[f"B{k}"], (W[f"B{k}"] - p.gamma * np.outer(z, z)) / p.lam, rtol=0, atol=1e-15)
    # the −β phase continues from the +β state
    u_start = rp if start == "rates" else res["states"]["nudged"]["u"]
    u_minus = dense.relax(W, res["x"], res["y"], -beta, p.n_nudged, p, u=[None] + list(u_start[1:]))
    for k in (1, 2, 3):
        np.testing.assert_array_equal(res["states"]["minus"]["u"][k], u_minus[k])


# --------------------------------------------------------------------------------------------
# sparse layers
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sparse", [(2,), (1, 2), (1,)])
@pytest.mark.parametrize("order", ["simultaneous", "layered"])
@pytest.mark.parametrize("three", [False, True])
def test_sparse_matches_reference(sparse, order, three):
    # large positive weights: rates beyond 1 and active multipliers within a few steps
    res = run_both((4, 3, 3), seed=3, sparse_layers=sparse, eta_s=(0.4, 0.3), update_order=order,
                   three_phase=three, nudged_start="rates" if three else "continue", eta=0.08, n_free=8,
                   n_nudged=4, net_kw=dict(ff_range=(0.2, 2.0)))
    names = ("free", "nudged", "minus") if three else ("free", "nudged")
    for name in names:
        assert_states_match(res["states"][name], res["ref_states"][name], res["L"], sparse)
        assert all(res["states"][name]["s"][k] >= 0 for k in sparse)
        assert set(res["states"][name]["s"]) == set(sparse)
    for key in res["W"]:
        np.testing.assert_allclose(res["ours_W"][key], res["ref_W"][key], rtol=0, atol=1e-13)
    # ReLU rates, not clipped at 1 (here the output goes beyond 1), and the multipliers were active
    for name in names:
        for k in sparse:
            np.testing.assert_array_equal(res["states"][name]["r"][k], np.maximum(res["states"][name]["u"][k], 0))
    if 2 in sparse:
        assert res["states"]["free"]["r"][2].max() > 1
    assert max(res["states"]["free"]["s"][k] for k in sparse) > 0


def test_sparse_multiplier_update_by_hand():
    """One step of a sparse output: q, s follow the new rates; the soma used the old s."""
    W, x, y = random_net((3, 2, 3), seed=9, ff_range=(0.5, 2.0))
    p = dense.DenseParams(**TINY, sparse_layers=(2,), eta_s=(0.0, 0.25))
    u = [None, np.array([0.3, 0.8]), np.array([0.9, 1.4, 0.2])]
    s, q = {2: 0.6}, {2: 0.6}
    new = dense.relax(W, x, y, 0.0, 1, p, u=u, s=s, q=q)
    r1, r2 = np.clip(u[1], 0, 1), np.maximum(u[2], 0)
    eps, g, gam = p.epsilon, p.g_leak, p.gamma
    v_a = gam * W["B2"] @ r2 + g * r2 - 0.6
    u2 = u[2] + p.eta * (-g * u[2] + (W["Wff2"] @ r1 - u[2]) / eps + (v_a - u[2]))
    np.testing.assert_allclose(new[2], u2, rtol=0, atol=1e-14)
    q_new = 0.6 + 0.25 * (np.maximum(u2, 0).sum() - 1 - 0.6 + 0.6)
    assert q[2] == pytest.approx(q_new, abs=1e-14) and s[2] == pytest.approx(max(q_new, 0), abs=1e-14)
    # a sparse hidden layer: v_A = ε (2γ z + g_L r − s) + W_fb r_2
    p1 = dense.DenseParams(**TINY, sparse_layers=(1,), eta_s=(0.25, 0.0))
    new1 = dense.relax(W, x, y, 0.0, 1, p1, u=u, s={1: 0.4}, q={1: 0.4})
    r1s, r2c = np.maximum(u[1], 0), np.clip(u[2], 0, 1)
    v_a1 = eps * (2 * gam * W["B1"] @ r1s + g * r1s - 0.4) + W["Wfb1"] @ r2c
    u1 = u[1] + p.eta * (-g * u[1] + (W["Wff1"] @ x - u[1]) / eps + (v_a1 - u[1]) / eps)
    np.testing.assert_allclose(new1[1], u1, rtol=0, atol=1e-14)


@pytest.mark.parametrize("ff_range, active", [((0.2, 2.0), True), ((-0.5, 0.3), False)])
def test_sparse_phase_start_carries_s_and_resets_q(ff_range, active):
    """The nudged phase starts with s = s_free and q = s_free (not q_free)."""
    res = run_both((4, 3, 3), seed=3, sparse_layers=(2,), eta_s=(0.0, 0.4), eta=0.08, n_free=8, n_nudged=2,
                   net_kw=dict(ff_range=ff_range))
    free, nudged = res["states"]["free"], res["states"]["nudged"]
    assert_states_match(nudged, res["ref_states"]["nudged"], 2, (2,))
    if active:  # the multiplier is on at the end of the free phase: it carries over
        assert free["s"][2] > 0.1
    else:  # it is off with q < 0: q restarts at s = 0
        assert free["s"][2] == 0 and free["q"][2] < -0.05
    s, q = {2: free["s"][2]}, {2: free["s"][2]}
    dense.relax(res["W"], res["x"], res["y"], 1.0, 2, res["p"], u=free["u"], s=s, q=q)
    assert nudged["s"][2] == s[2] and nudged["q"][2] == q[2]
    s2, q2 = {2: free["s"][2]}, {2: free["q"][2]}  # continuing q instead would differ
    dense.relax(res["W"], res["x"], res["y"], 1.0, 2, res["p"], u=free["u"], s=s2, q=q2)
    assert (q2[2] != q[2]) == (not active)


def test_sparse_output_sums_to_one_at_equilibrium():
    """A trained-looking network (positive, strong output drive): unconstrained, the output rates
    saturate (Σ r = 5); with the sparse output and η_s = 0.01 the sum settles near 1."""
    rng = np.random.default_rng(3)
    W = {"Wff1": rng.uniform(-0.2, 0.5, (10, 20)), "Wff2": rng.uniform(0.0, 0.6, (5, 10)),
         "Wfb1": rng.uniform(-0.2, 0.2, (10, 5)), "B1": np.eye(10), "B2": np.eye(5)}
    x, zero = rng.uniform(0, 1, 20), np.zeros(5)
    plain = dense.run_phase(W, x, zero, 0.0, 3000, dense.DenseParams())
    assert plain.r[2].sum() > 4
    p = dense.DenseParams(n_free=3000, sparse_layers=(2,), eta_s=(0.0, 0.01))
    sparse = dense.run_phase(W, x, zero, 0.0, p.n_free, p)
    assert sparse.r[2].sum() == pytest.approx(1.0, abs=1e-3)
    assert sparse.s[2] > 0 and (sparse.r[2] > 0).sum() >= 2
    np.testing.assert_array_equal(dense.predict(W, x[None], p)[0], sparse.r[2])


# --------------------------------------------------------------------------------------------
# fixed points, states, predict
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sparse", [(), (2,), (1, 2)])
def test_orders_reach_the_same_fixed_point(sparse):
    rng = np.random.default_rng(0)
    W = {"Wff1": rng.uniform(-0.3, 0.5, (6, 8)), "Wff2": rng.uniform(-0.2, 0.4, (4, 6)),
         "Wfb1": rng.uniform(-0.2, 0.2, (6, 4)), "B1": np.eye(6), "B2": np.eye(4)}
    x, y = rng.uniform(0, 1, 8), np.eye(4)[1]
    fixed = {}
    for order in ("simultaneous", "layered"):
        p = dense.DenseParams(lam=0.9, eta=0.02, n_free=4000, n_nudged=4000, update_order=order,
                              sparse_layers=sparse, eta_s=(0.05, 0.05))
        states = {}
        dense.train_sample(copy(W), x, y, 0.5, [0.1, 0.1], [0.1], p, states=states)
        fixed[order] = states
    for name in ("free", "nudged"):
        a, b = fixed["simultaneous"][name], fixed["layered"][name]
        for k in (1, 2):
            np.testing.assert_allclose(a["r"][k], b["r"][k], rtol=0, atol=1e-10)
            assert 0 < a["r"][k].max() and (sparse or a["r"][k].min() < 1)
        for k in sparse:
            assert a["s"][k] == pytest.approx(b["s"][k], abs=1e-9)
    # the short runs of the other tests do differ between the orders
    short = {o: dense.relax(W, x, y, 0.0, 5, dense.DenseParams(update_order=o))[2] for o in fixed}
    assert np.abs(short["simultaneous"] - short["layered"]).max() > 1e-6


def test_states_and_predict():
    W, x, y = random_net((5, 4, 3), seed=1)
    p = dense.DenseParams(**TINY, three_phase=True, sparse_layers=(1,), eta_s=(0.1, 0.1))
    states = {}
    W1 = copy(W)
    r_f, r_n = dense.train_sample(W1, x, y, 1.0, [0.1, 0.1], [0.1], p, states=states)
    assert set(states) == {"free", "nudged", "minus"}
    for st in states.values():
        assert set(st) >= {"u", "r", "s"} and st["u"][0] is None and st["r"][0] is x
        assert set(st["s"]) == {1}
    np.testing.assert_array_equal(dense.predict(W, x[None], p)[0], r_f[2])
    two = {}
    dense.train_sample(copy(W), x, y, 1.0, [0.1, 0.1], [0.1], dataclasses.replace(p, three_phase=False), states=two)
    assert set(two) == {"free", "nudged"}
