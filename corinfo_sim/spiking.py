"""Analyses of the spiking CorInfoMax model (``models/spiking.py``).

:func:`mean_update_error` measures how far the spiking network's average weight update is from
the rate model's; ``protocols/spiking_update_error.py`` runs it from the command line.
"""
import numpy as np

from .errors import CorInfoError
from .models.spiking import uniform_hash  # noqa: F401  (the Poisson encoder's noise, used by the tests)


def mean_update_error(params, images, labels, weights, build_dir, factor=1e-3, oracle_steps=3000,
                      device="cpp_standalone"):
    """How far the spiking network's average weight update is from the rate model's.

    Runs the samples once, online, with the learning rates scaled by ``factor`` (small, so that
    the weights barely move and the summed change is the sum of the one-sample updates at
    ``weights``), β = +1, and compares the summed change of every feedforward and feedback
    weight matrix with the dense rate oracle's (:mod:`corinfo_sim.dense`, each phase run
    ``oracle_steps`` steps to its fixed point, the same scaled rates). Spike noise that averages
    out leaves only the finite-sample error; a bias of the spike-based estimate remains.

    Parameters
    ----------
    params : Params
        Spiking-model parameters (``beta_sign`` is set to ``"positive"``).
    images : ndarray (n, n_0)
    labels : ndarray (n,)
    weights : dict
        Weights in the public format (:func:`corinfo_sim.weights.init_weights`).
    build_dir : str
        Folder for the compiled network (removed afterwards).
    factor : float
        Scale of the learning rates.
    oracle_steps : int
        Steps of each phase of the dense oracle.
    device : {"cpp_standalone", "runtime"}

    Returns
    -------
    dict
        ``{key: {"rel_error": |ΔW_spk − ΔW_oracle| / |ΔW_oracle|, "norm_ratio": |ΔW_spk| /
        |ΔW_oracle|, "cosine": cos(ΔW_spk, ΔW_oracle)}}`` for every ``Wff{k}`` and ``Wfb{k}``.
    """
    from . import dense
    from .network import Plan
    from .session import Session

    if not factor > 0 or oracle_steps < 1:
        raise CorInfoError(f"factor must be positive and oracle_steps at least 1, got {factor}, {oracle_steps}")
    p = params.replace(beta_sign="positive")
    images, labels = np.asarray(images, dtype=float), np.asarray(labels)
    n = len(images)
    session = Session(p, images, labels, {"train": n, "test": 0, "probe": 0}, build_dir, device=device)
    try:
        result = session.run(Plan.make(labels, train=np.arange(n), beta=np.ones(n)), weights, lr_factor=factor)
    finally:
        session.close()
    dp = dense.DenseParams(epsilon=p.epsilon, lam=p.lam, lambda_batch=p.lambda_batch, g_leak=p.g_leak,
                           n_free=oracle_steps, n_nudged=oracle_steps,
                           gate_clipped=bool(getattr(p, "gate_clipped", False)))
    W = {key: np.array(value, dtype=float) for key, value in weights.items()}
    eye = np.eye(p.arch[-1])
    lr_ff, lr_fb = [a * factor for a in p.lr_ff], [a * factor for a in p.lr_fb]
    for x, y in zip(images, labels):
        dense.train_sample(W, x, eye[y], 1.0, lr_ff, lr_fb, dp)
    out = {}
    for key in weights:
        if key.startswith("B"):
            continue
        spiking, oracle = result.weights[key] - weights[key], W[key] - weights[key]
        norm_s, norm_o = np.linalg.norm(spiking), np.linalg.norm(oracle)
        out[key] = {"rel_error": float(np.linalg.norm(spiking - oracle) / norm_o),
                    "norm_ratio": float(norm_s / norm_o),
                    "cosine": float(np.sum(spiking * oracle) / (norm_s * norm_o))}
    return out


def isi_cv(traces, layer, min_spikes=5):
    """Coefficient of variation of the interspike intervals of a spiking layer's recorded neurons.

    The intervals are taken within each phase of each recorded sample (the rate changes between
    phases), and a CV is computed for every neuron and phase with at least ``min_spikes`` spikes:
    about 1 for Poisson spikes, near 0 for the deterministic encoder.

    Parameters
    ----------
    traces : dict or NpzFile
        Traces of the spiking model (:mod:`corinfo_sim.traces`), with ``spikes_t_L{k}``,
        ``spikes_i_L{k}``, ``t``, ``sample`` and ``phase``.
    layer : int
    min_spikes : int

    Returns
    -------
    ndarray
        One CV per (neuron, phase) that spiked at least ``min_spikes`` times.
    """
    key = f"spikes_t_L{layer}"
    if key not in traces:
        raise CorInfoError(f"the traces have no spikes of layer {layer} ({key}): record traces of a spiking run")
    if min_spikes < 3:
        raise CorInfoError(f"min_spikes must be at least 3 (two intervals), got {min_spikes}")
    times, neurons = np.asarray(traces[key]), np.asarray(traces[f"spikes_i_L{layer}"])
    t = np.asarray(traces["t"])
    step = np.clip(np.searchsorted(t, times, side="right") - 1, 0, len(t) - 1)
    segment = np.asarray(traces["sample"])[step] * 4 + np.asarray(traces["phase"])[step]
    cvs = []
    for group in np.unique(np.stack([neurons, segment]), axis=1).T:
        isi = np.diff(np.sort(times[(neurons == group[0]) & (segment == group[1])]))
        if len(isi) >= min_spikes - 1 and isi.mean() > 0:
            cvs.append(isi.std() / isi.mean())
    return np.array(cvs)
