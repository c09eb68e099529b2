"""Membrane traces: recordings of every time step of chosen samples, and their files.

A traces dict (and the ``traces.npz`` file, readable with numpy alone) holds, for each
recorded layer k, arrays of shape (steps, neurons):

======================  ======  ===============================================================
key                     unit    content
======================  ======  ===============================================================
``v_soma_L{k}``         mV      somatic potential
``v_basal_L{k}``        mV      basal dendritic potential (W_ff,k r_{k-1} V0)
``v_apical_L{k}``       mV      apical dendritic potential
``rate_L{k}``           1       rate r = clip(v_soma / V0, 0, 1)
``z_L{k}``              1       activity of the neurons' interneurons (z = B r)
``neurons_L{k}``        —       indices of the recorded neurons
``teacher_L{L}``        mV      teacher input −β (r − y) V0 at the output's apical dendrite
``t``                   ms      time since the first recorded sample onset
``beta``                1       nudging strength at each step
``phase``               —       0 free, 1 nudged
``sample``              —       index of the sample shown at each step
``units``               —       JSON string: key → unit
``spikes_t_L{k}``       ms      spiking model only: spike times of the recorded neurons
``spikes_i_L{k}``       —       spiking model only: the neuron index of each spike
``s_L{k}``, ``q_L{k}``  1       sparse model only: the global inhibitory interneuron of layer k
``label``               —       class label of the sample shown at each step
======================  ======  ===============================================================

Each row is the state at the start of a step (after the onset reset at a sample's first
step): the somatic potential of row s+1 is the Euler update of row s.
"""
import json
import os

import numpy as np

from .weights import atomic_savez


def save_npz(path, traces):
    """Write a traces dict to ``path`` atomically."""
    atomic_savez(path, **{k: np.asarray(v) for k, v in traces.items()})


def record(weights, dataset, samples, params, split="test", layers=None, neurons=None, plastic=False,
           device="runtime", variant=None, build_dir=None, build_cache=True):
    """Run chosen samples through a network and record every step.

    Parameters
    ----------
    weights : dict
        Weights in the public format.
    dataset : Dataset
    samples : sequence of int
        Indices into the chosen split, shown in this order.
    params : Params
    split : {"test", "train"}
    layers : sequence of int, optional
        Layers to record (default: all, 1..L).
    neurons : sequence of int, optional
        Neuron indices recorded in every chosen layer (default: the first 10, or all if fewer).
    plastic : bool
        Learn from the samples (β = +β₀ in the nudged phase either way).
    device : {"runtime", "cpp_standalone"}

    Returns
    -------
    traces : dict
        The traces layout of this module; with ``plastic``, also ``weights_after`` (dict).
    """
    import tempfile

    from .errors import CorInfoError
    from .network import Plan
    from .session import Session

    L = params.n_layers
    if split not in ("test", "train"):
        raise CorInfoError(f"unknown split {split!r}: choose test or train")
    X, y = (dataset.X_test, dataset.y_test) if split == "test" else (dataset.X_train, dataset.y_train)
    samples = np.asarray(samples, dtype=int)
    if samples.size == 0 or samples.min() < 0 or samples.max() >= len(X):
        raise CorInfoError(f"sample indices must lie in 0..{len(X) - 1} for the {split} split of {dataset.name}")
    layers = list(range(1, L + 1)) if layers is None else [int(k) for k in layers]
    for k in layers:
        if not 1 <= k <= L:
            raise CorInfoError(f"layer {k} does not exist: the network has layers 1..{L}")
    trace_neurons = {}
    for k in layers:
        idx = np.arange(min(10, params.arch[k])) if neurons is None else np.asarray(neurons, dtype=int)
        if idx.size == 0 or idx.min() < 0 or idx.max() >= params.arch[k]:
            raise CorInfoError(f"neuron indices must lie in 0..{params.arch[k] - 1} for layer {k} "
                               f"(it has {params.arch[k]} neurons): change --neurons or --layers")
        trace_neurons[k] = idx
    n = len(samples)
    if plastic:
        plan = Plan.make(y, train=samples, beta=np.full(n, params.beta), trace=np.ones(n), record=np.zeros(n))
    else:
        plan = Plan.make(y, probe=samples, probe_beta=params.beta, trace=np.ones(n), record=np.zeros(n))
    with tempfile.TemporaryDirectory(prefix="corinfo_traces_") as tmp:
        session = Session(params, X, y, plan.segments, build_dir or os.path.join(tmp, "build"), device=device,
                          variant=variant, trace_neurons=trace_neurons, build_cache=build_cache)
        try:
            result = session.run(plan, weights)
        finally:
            session.close()
    traces = result.traces
    traces["label"] = np.asarray(y)[traces["sample"]]
    traces["units"] = json.dumps(dict(json.loads(traces["units"]), label=""))
    if plastic:
        traces["weights_after"] = result.weights
    return traces


def save_nwb(path, traces, images=None, image_shape=None, class_names=None,
             description="corinfo_sim membrane traces", identifier=None, metadata=None):
    """Write traces to an NWB file: see :func:`corinfo_sim.nwb.save_nwb`, to which this delegates."""
    from .nwb import save_nwb as _save_nwb

    return _save_nwb(path, traces, images=images, image_shape=image_shape, class_names=class_names,
                     description=description, identifier=identifier, metadata=metadata)
