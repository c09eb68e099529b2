"""Dense numpy implementation of the CorInfoMax rate network (the paper's mathematics).

This is the reference the Brian2 simulation must match: the tests use it as their
oracle, and ``corinfo-sim bench`` times it as the baseline. It follows DESIGN §2 of the
project literally, in the paper's dimensionless units, with online updates (one sample per
update) and the input drive ``W_ff,1 x`` computed once per sample.

Notation: ``W["Wff{k}"]`` is n_k × n_{k-1} (k = 1..L), ``W["Wfb{k}"]`` is n_k × n_{k+1}
(k = 1..L-1), ``W["B{k}"]`` is n_k × n_k (k = 1..L); rates ``r[0] = x``, ``r[k] = clip(u[k], 0, 1)``.
"""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DenseParams:
    """Dimensionless parameters of the rate network (DESIGN §2)."""

    epsilon: float = 0.15
    lam: float = 0.99999
    g_leak: float = 0.5
    eta: float = 0.05
    n_free: int = 30
    n_nudged: int = 10
    eta_schedule: bool = False  # free phase: eta_t = max(eta / (1 + 0.01 t), 0.001)

    @property
    def gamma(self):
        return (1 - self.lam) / self.lam


def n_layers(W):
    """Number L of weight layers in a weights dict."""
    return sum(1 for key in W if key.startswith("Wff"))


def relax(W, x, y, beta, n_steps, p, u=None, drive=None, first_step=None):
    """Run ``n_steps`` forward-Euler steps of the somatic dynamics, all layers at once.

    Parameters
    ----------
    W : dict
        Weights in the public format.
    x : ndarray (n_0,)
        Input rates.
    y : ndarray (n_L,)
        One-hot label (only used when ``beta != 0``).
    beta : float
        Nudging strength (0 in the free phase).
    n_steps : int
        Number of Euler steps.
    p : DenseParams
    u : list of ndarray, optional
        Somatic potentials of layers 1..L (index 0 unused); zeros when None.
    drive : ndarray, optional
        ``W_ff,1 x``, computed when None.
    first_step : int, optional
        Index of the first step within the free phase, for the neural step schedule
        (None: the steps belong to the nudged phase, or there is no schedule).

    Returns
    -------
    u : list of ndarray
        Potentials after the steps (``u[0]`` is None).
    """
    L = n_layers(W)
    if u is None:
        u = [None] + [np.zeros(W[f"B{k}"].shape[0]) for k in range(1, L + 1)]
    if drive is None:
        drive = W["Wff1"] @ x
    eps, gamma, gl = p.epsilon, p.gamma, p.g_leak
    for step in range(n_steps):
        eta = p.eta
        if p.eta_schedule and first_step is not None:
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


def rates(x, u):
    """Rates ``[x, r_1, ..., r_L]`` from potentials."""
    return [x] + [np.clip(uk, 0.0, 1.0) for uk in u[1:]]


def train_sample(W, x, y, beta, lr_ff, lr_fb, p):
    """One online training sample: free phase, nudged phase, plasticity (in place).

    Returns
    -------
    r_free, r_nudged : list of ndarray
        Rates of every layer (index 0 = input) at the end of each phase.
    """
    L = n_layers(W)
    drive = W["Wff1"] @ x
    u = relax(W, x, y, 0.0, p.n_free, p, drive=drive, first_step=0)
    r_f = rates(x, u)
    u = relax(W, x, y, beta, p.n_nudged, p, u=u, drive=drive)
    r_n = rates(x, u)
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


def predict(W, X, p):
    """Free-phase output rates for each row of ``X`` (shape (n, n_L))."""
    L = n_layers(W)
    out = np.empty((len(X), W[f"B{L}"].shape[0]))
    zero = np.zeros(out.shape[1])
    for s, x in enumerate(X):
        out[s] = np.clip(relax(W, x, zero, 0.0, p.n_free, p, first_step=0)[L], 0.0, 1.0)
    return out
