"""Membrane traces: recordings of every time step of chosen samples, and their files.

A traces dict (and the ``traces.npz`` file, readable with numpy alone) holds, for each
recorded layer k, arrays of shape (steps, neurons):

==================  ======  ==============================================================
key                 unit    content
==================  ======  ==============================================================
``v_soma_L{k}``     mV      somatic potential
``v_basal_L{k}``    mV      basal dendritic potential (W_ff,k r_{k-1} V0)
``v_apical_L{k}``   mV      apical dendritic potential
``rate_L{k}``       1       rate r = clip(v_soma / V0, 0, 1)
``z_L{k}``          1       activity of the neurons' interneurons (z = B r)
``neurons_L{k}``    —       indices of the recorded neurons
``teacher_L{L}``    mV      teacher input −β (r − y) V0 at the output's apical dendrite
``t``               ms      time since the first recorded sample onset
``beta``            1       nudging strength at each step
``phase``           —       0 free, 1 nudged
``sample``          —       index of the sample shown at each step
``units``           —       JSON string: key → unit
==================  ======  ==============================================================

Each row is the state at the start of a step (after the onset reset at a sample's first
step): the somatic potential of row s+1 is the Euler update of row s.
"""
import json

import brian2
import numpy as np

from .weights import atomic_savez

UNITS = {"v_soma": "mV", "v_basal": "mV", "v_apical": "mV", "rate": "1", "z": "1", "teacher": "mV",
         "t": "ms", "beta": "1", "phase": "", "sample": "", "neurons": ""}


def collect(net, plan, sample_ids=None):
    """Traces of the samples ``plan`` marks ``trace`` in the last run of ``net``.

    Parameters
    ----------
    net : CorInfoNetwork
    plan : Plan
        The plan that was run.
    sample_ids : array, optional
        The sample index to report for each traced sample (default: the image-table row).
    """
    p = net.params
    T = p.steps_per_sample
    slots = np.flatnonzero(plan.trace)
    steps = len(slots) * T
    position = np.full(plan.n_slots, -1)
    position[slots] = np.arange(len(slots))
    out, units = {}, {}
    for k, mon in net.trace_monitors.items():
        neurons = net.trace_neurons[k]
        column = np.full(len(net.pyr[k]), -1)
        column[neurons] = np.arange(len(neurons))
        step = np.rint(np.asarray(mon.t / p.dt)).astype(int)
        row = position[step // T] * T + step % T
        col = column[np.asarray(mon.i)]
        variables = {"v_soma": "v_soma", "v_basal": "v_basal", "v_apical": "v_apical", "rate": "r",
                     "z": "z_inh"}
        if k == net.L:
            variables["teacher"] = "v_teacher"
        for key, var in variables.items():
            values = getattr(mon, var)
            if UNITS[key] == "mV":
                values = values / brian2.mV
            table = np.full((steps, len(neurons)), np.nan)
            table[row, col] = np.asarray(values)
            out[f"{key}_L{k}"] = table
            units[f"{key}_L{k}"] = UNITS[key]
        out[f"neurons_L{k}"] = neurons.astype(np.int64)
        units[f"neurons_L{k}"] = UNITS["neurons"]
    step_in_sample = np.arange(steps) % T
    slot = slots[np.arange(steps) // T]
    sample = plan.image[slot] if sample_ids is None else np.asarray(sample_ids)[np.arange(steps) // T]
    out["t"] = np.arange(steps) * float(p.dt / brian2.ms)
    out["phase"] = (step_in_sample >= p.n_free).astype(np.int8)
    out["beta"] = plan.beta[slot] * out["phase"]
    out["sample"] = np.asarray(sample, dtype=np.int64)
    for key in ("t", "beta", "phase", "sample"):
        units[key] = UNITS[key]
    out["units"] = json.dumps(units)
    return out


def save_npz(path, traces):
    """Write a traces dict to ``path`` atomically."""
    atomic_savez(path, **{k: np.asarray(v) for k, v in traces.items()})
