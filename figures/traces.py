"""Membrane traces of the pyramidal compartments across the free and nudged phases.

One column per recorded layer; rows: somatic, basal and apical potential (mV) of a few neurons, the
interneuron activity z, the teacher signal at the output layer, and (sparse model) the multiplier s
of the layer's global inhibitory interneuron; for equilibrium propagation (``--model ep``) the state s
of each layer, its total input and the output's teacher term. The nudged phase is shaded and
the onset of each new sample is marked; at the output layer each sample's label neuron is highlighted
over that sample and named at its onset. Reads ``traces.npz`` (from the run folder or ``--traces``),
and the data set from the run folder's ``config.json`` to name the classes (Fashion-MNIST, CIFAR-10).

`plot_state` is the reusable building block: one variable of a few neurons over time, with units
on the axes and the phases marked.
"""

import json
from pathlib import Path

import matplotlib.transforms as mtransforms
import numpy as np
from matplotlib.lines import Line2D

from corinfo_sim.errors import CorInfoError

from . import style
from .results import (read_npz, require_keys, layer_numbers, save_figure, run_folder, read_dataset,
                      dataset_class_names, HOW_TO_MAKE)

__all__ = ["ROWS", "plot_state", "plot_traces", "load", "make"]

#: Rows of the traces figure: (key prefix in traces.npz, axis label, default unit).
ROWS = [
    ("v_soma", "soma", "mV"),
    ("v_basal", "basal", "mV"),
    ("v_apical", "apical", "mV"),
    ("z", "interneuron z", ""),
    ("teacher", "teacher", "mV"),
    ("s", "global inhibition s", ""),
    ("g_", "conductance", "nS"),
    ("I_", "current", "pA"),
    ("state", "state s", ""),
    ("input", "total input", ""),
]
#: The key of each layer's first row: the soma (CorInfoMax models) or the state (equilibrium propagation).
LAYER_KEYS = ("v_soma", "state")
#: Rows that show several quantities of one neuron (the first shown) instead of one quantity of
#: several neurons: the conductance-based model's synaptic conductances and currents.
SYNAPTIC_ROWS = {
    "g_": [("g_ff_e", "ff exc."), ("g_ff_i", "ff inh."), ("g_lat_e", "lateral exc."), ("g_lat_i", "lateral inh.")],
    "I_": [("I_ff", "feedforward"), ("I_fb", "feedback"), ("I_lat", "lateral")],
}
SYNAPTIC_STYLES = ["-", "--", ":", "-."]
#: Rows of a layer's single global inhibitory interneuron (sparse model), not of its neurons.
GLOBAL_ROWS = {"s"}

DIMENSIONLESS = {"", "1", "dimensionless", "none", "a.u."}

#: How the label neuron of a sample is highlighted over that sample's steps (below the traces).
LABEL_HIGHLIGHT = dict(lw=4.0, alpha=0.3, solid_capstyle="butt", zorder=1.5)


def _axis_label(name, unit):
    return f"{name} ({'a.u.' if unit in DIMENSIONLESS else unit})"


@style.styled
def plot_state(t, values, var_name=None, var_unit=None, time_unit="ms", labels=None, phase=None,
               sample=None, axes=None, **kwds):
    """Plot one recorded variable of one or several neurons over time.

    Parameters
    ----------
    t : array_like, shape (steps,)
        Times, in ``time_unit``.
    values : array_like, shape (steps,) or (steps, neurons)
        Recorded values, in ``var_unit``.
    var_name : str, optional
        Name of the variable, for the y label.
    var_unit : str, optional
        Unit of the values (e.g. ``"mV"``); empty or ``"1"`` for dimensionless values (shown as a.u.).
    time_unit : str
        Unit of ``t`` (default ms).
    labels : sequence of str, optional
        One legend label per neuron.
    phase : array_like, shape (steps,), optional
        0 free / 1 nudged: the nudged phase is shaded.
    sample : array_like, shape (steps,), optional
        Sample index at each step: the onset of each new sample is marked.
    axes : Axes, optional
        Where to draw; a new single-column figure when None.
    **kwds
        Passed on to `matplotlib.axes.Axes.plot`.

    Returns
    -------
    Axes
    """
    if axes is None:
        _, axes = style.new_figure("single", height=2.0)
    t = np.asarray(t, dtype=float)
    values = np.asarray(values, dtype=float)
    if values.shape[0] != t.shape[0]:
        raise ValueError(f"values have {values.shape[0]} steps but t has {t.shape[0]}")
    lines = axes.plot(t, values.reshape(len(t), -1), **kwds)
    if labels is not None:
        for line, label in zip(lines, labels):
            line.set_label(label)
    if phase is not None:
        style.shade_phases(axes, t, phase)
    if sample is not None:
        style.mark_samples(axes, t, sample)
    axes.margins(x=0)
    axes.set_xlabel(f"time ({time_unit})")
    if var_name is not None or var_unit is not None:
        axes.set_ylabel(_axis_label(var_name or "value", var_unit or ""))
    return axes


def load(run_dir=None, traces=None):
    """Load the traces: the file ``traces`` if given, else ``run_dir/traces.npz``.

    Returns the arrays as a dict, with ``units`` decoded into a dict (key → unit).
    """
    if traces is not None:
        if not Path(traces).is_file():
            raise CorInfoError(f"traces file {traces} does not exist: check the path given with --traces, "
                               f"or record traces with `corinfo-sim traces ... --out {traces}`")
        data = read_npz(path=Path(traces), name="traces.npz")
        where = str(traces)
    else:
        folder = run_folder(run_dir)
        if not (folder / "traces.npz").is_file():
            raise CorInfoError(f"run folder {folder} has no traces.npz: {HOW_TO_MAKE['traces.npz']}")
        data = read_npz(folder, "traces.npz")
        where = str(folder / "traces.npz")
    require_keys(data, ["t", "phase"], where)
    if not _layer_key(data):
        raise CorInfoError(f"{where} has no v_soma_L{{k}} (or state_L{{k}}) arrays: record at least one layer "
                           f"(`corinfo-sim traces ... --out FILE`)")
    steps = np.size(data["t"])
    for key, value in data.items():
        if key in ("phase", "sample", "beta", "label") or (np.ndim(value) == 2 and not key.startswith("neurons_")):
            if np.shape(value)[0] != steps:
                raise CorInfoError(f"{where}: {key} has {np.shape(value)[0]} steps but t has {steps}; "
                                   "re-record the traces")
    units = data.get("units")
    try:
        data["units"] = json.loads(str(units)) if units is not None else {}
    except ValueError:
        raise CorInfoError(f"{where}: 'units' is not a JSON string mapping key to unit; re-record the traces") from None
    return data


def _layer_key(data):
    """The key whose layers were recorded: ``v_soma`` or ``state`` (None if neither)."""
    return next((key for key in LAYER_KEYS if layer_numbers(data, f"{key}_L")), None)


def _output_layer(data):
    teachers = layer_numbers(data, "teacher_L")
    return teachers[-1] if teachers else None


def _sample_labels(sample, label):
    """``{sample: label}`` of the shown steps, in the order the samples are shown (empty without labels)."""
    if label is None or not sample.size:
        return {}
    _, first = np.unique(sample, return_index=True)
    return {int(sample[i]): int(label[i]) for i in np.sort(first)}


def _shown_columns(recorded_ids, label_ids, n):
    """Columns of the recorded neurons to draw: the label neurons (of the shown samples) first."""
    first = [int(np.flatnonzero(recorded_ids == c)[0]) for c in dict.fromkeys(label_ids) if c in recorded_ids]
    return (first + [c for c in range(len(recorded_ids)) if c not in first])[:n]


def _highlight_labels(ax, t, values, ids, colors, sample, sample_labels):
    """Underlay the trace of each sample's label neuron, over that sample's steps, in the neuron's colour."""
    ids = list(ids)
    for s, c in sample_labels.items():
        if c in ids:
            steps = sample == s
            col = ids.index(c)
            ax.plot(t[steps], values[steps, col], color=colors[col], gid="label-highlight", **LABEL_HIGHLIGHT)


def _annotate_labels(ax, t, ids, colors, sample, sample_labels, names=None):
    """Write "label c (name)" at each sample's onset, inside the top of ``ax``, in the label neuron's colour."""
    ids = list(ids)
    trans = mtransforms.blended_transform_factory(ax.transData, ax.transAxes) + mtransforms.ScaledTranslation(
        2 / 72, -1 / 72, ax.figure.dpi_scale_trans)
    for s, c in sample_labels.items():
        name = f" ({names[c]})" if names is not None and 0 <= c < len(names) else ""
        note = ax.text(t[np.argmax(sample == s)], 1.0, f"label {c}{name}", transform=trans, ha="left", va="top",
                       fontsize="small", color=colors[ids.index(c)] if c in ids else style.SAMPLE_COLOR,
                       zorder=3, bbox=dict(facecolor="white", edgecolor="none", alpha=0.7, pad=0.5))
        note.set_gid("label-annotation")


@style.styled
def plot_traces(data, layers=None, neurons_per_layer=3, samples=None, legend=True, class_names=None, axes=None):
    """Somatic, basal and apical potentials, interneuron activity and teacher signal over time.

    Parameters
    ----------
    data : dict
        Traces as returned by `load` (keys ``v_soma_L{k}``, ``v_basal_L{k}``, ``v_apical_L{k}``,
        ``z_L{k}``, ``teacher_L{L}``, ``neurons_L{k}``, ``t``, ``phase``, ``sample``, ``units``).
    layers : sequence of int, optional
        Layers to show (default: every recorded layer).
    neurons_per_layer : int
        At most this many neurons per layer: the first recorded ones, except at the output, where
        the label neurons of the shown samples (``label`` in the traces) come first.
    samples : sequence of int, optional
        Only the steps of these samples (default: all).
    legend : bool
        Add the phase legend below the panels.
    class_names : sequence of str, optional
        Name of each class by label (e.g. ``corinfo_sim.datasets.CLASS_NAMES[name]``), added to the
        label written at each sample's onset.
    axes : 2-D array of Axes, optional
        Shape (rows, layers), rows in the order of `ROWS` restricted to the quantities present.
        A new double-column figure when None.

    Returns
    -------
    ndarray of Axes, shape (rows, layers)
        Panels without data (the teacher row of hidden layers) are made invisible. At the output
        layer, when the traces have a ``label`` per step, the label neurons are named
        ``"neuron i (label)"`` in the legend; in every panel each sample's label neuron is
        underlaid over that sample's steps with a broad line of its colour (``gid="label-highlight"``),
        and the top panel names each sample's label at its onset (Text ``"label c"`` or
        ``"label c (name)"``, ``gid="label-annotation"``). Spiking variants' spikes of the shown
        neurons are marked above their soma traces (``gid="spikes"``).
    """
    first = _layer_key(data)
    recorded = layer_numbers(data, f"{first}_L")
    layers = recorded if layers is None else list(layers)
    for k in layers:
        if k not in recorded:
            raise ValueError(f"layer {k} was not recorded; recorded layers: {recorded}")
    def present(prefix, k):
        keys = [key for key, _ in SYNAPTIC_ROWS[prefix]] if prefix in SYNAPTIC_ROWS else [prefix]
        return any(f"{key}_L{k}" in data for key in keys)
    rows = [row for row in ROWS if any(present(row[0], k) for k in layers)]
    t = np.asarray(data["t"], dtype=float)
    phase = np.asarray(data["phase"])
    sample = np.asarray(data["sample"]) if "sample" in data else None
    keep = np.ones(t.shape, dtype=bool) if samples is None or sample is None else np.isin(sample, samples)
    if not keep.any():
        raise ValueError(f"none of the samples {list(samples)} is in the traces")
    units = data.get("units", {})
    output = _output_layer(data)
    shown_sample = sample[keep] if sample is not None else np.zeros(int(keep.sum()), dtype=int)
    label = np.asarray(data["label"]).ravel()[keep] if "label" in data else None
    sample_labels = _sample_labels(shown_sample, label)
    highlighted = False

    if axes is None:
        _, axes = style.new_figure("double", height=min(9.0, 0.35 + 1.15 * len(rows)), nrows=len(rows),
                                   ncols=len(layers), sharex=True, squeeze=False)
    axes = np.asarray(axes, dtype=object).reshape(len(rows), len(layers))

    colors = [f"C{i}" for i in range(neurons_per_layer)]
    for j, k in enumerate(layers):
        n = np.shape(data[f"{first}_L{k}"])[1] if np.ndim(data[f"{first}_L{k}"]) == 2 else 1
        recorded_ids = np.asarray(data.get(f"neurons_L{k}", np.arange(n)))
        label_ids = list(sample_labels.values()) if k == output else []
        columns = _shown_columns(recorded_ids, label_ids, min(n, neurons_per_layer))
        n = len(columns)
        ids = recorded_ids[columns]
        labels = [f"neuron {i}" + (" (label)" if i in label_ids else "") for i in ids]
        visible, handles = [], []
        for i, (prefix, name, default_unit) in enumerate(rows):
            ax = axes[i, j]
            key = f"{prefix}_L{k}"
            if prefix in SYNAPTIC_ROWS:
                if present(prefix, k):
                    _plot_synaptic(ax, data, prefix, k, columns[0], ids[0], t, keep, phase, units, name, default_unit)
                    visible.append(ax)
                    handles.append([])
                else:
                    ax.set_visible(False)
                continue
            if key not in data:
                ax.set_visible(False)
                continue
            values = np.asarray(data[key], dtype=float).reshape(len(t), -1)[keep]
            if prefix in GLOBAL_ROWS:  # the layer's one global interneuron
                ax.plot(t[keep], values[:, 0], color="0.2", lw=0.9)
                style.shade_phases(ax, t[keep], phase[keep])
                ax.margins(x=0)
                ax.set_ylabel(_axis_label(name, units.get(key, default_unit)))
                continue
            values = values[:, columns]
            lines = [ax.plot(t[keep], values[:, line_index], color=color, lw=0.9,
                             label=labels[line_index] if line_index < len(labels) else None)[0]
                     for line_index, color in enumerate(colors[: values.shape[1]])]
            if label_ids:
                _highlight_labels(ax, t[keep], values, ids, colors, shown_sample, sample_labels)
                highlighted = highlighted or any(c in ids for c in label_ids)
            if prefix in LAYER_KEYS:
                _mark_spikes(ax, data, k, ids, colors, t[keep])
            style.shade_phases(ax, t[keep], phase[keep])
            if sample is not None:
                style.mark_samples(ax, t[keep], sample[keep])
            ax.margins(x=0)
            ax.set_ylabel(_axis_label(name, units.get(key, default_unit)))
            visible.append(ax)
            handles.append(lines)
        title = f"layer {k}"
        if output is not None and k <= output:
            title += " (output)" if k == output else " (hidden)"
        visible[0].set_title(title, loc="left", pad=13)
        visible[0].legend(handles=handles[0][:n], loc="lower left", bbox_to_anchor=(0.0, 1.0),
                          ncol=n, borderaxespad=0.1, handlelength=1.2, columnspacing=1.0)
        if label_ids:
            _annotate_labels(visible[0], t[keep], ids, colors, shown_sample, sample_labels, class_names)
        for ax in visible[:-1]:
            ax.tick_params(labelbottom=False)
        visible[-1].set_xlabel("time (ms)")
        visible[-1].tick_params(labelbottom=True)
    if legend:
        fig = axes.flat[0].figure
        handles = style.phase_legend_handles(samples=sample is not None)
        texts = [handle.get_label() for handle in handles]
        if highlighted:  # its handle: a trace over its highlight
            highlight = {key: value for key, value in LABEL_HIGHLIGHT.items() if key != "zorder"}
            handles.append((Line2D([], [], color="0.35", **highlight), Line2D([], [], color="0.35", lw=0.9)))
            texts.append("label neuron of the sample")
        fig.legend(handles, texts, loc="outside lower center", ncol=len(handles))
    return axes


def _mark_spikes(ax, data, k, ids, colors, t):
    """The spikes of the shown neurons of layer k (spiking variants: ``spikes_t_L{k}``,
    ``spikes_i_L{k}``), one row of strokes per neuron in its colour, in a band above the soma
    traces (``gid="spikes"``), so that the subthreshold potential keeps its scale."""
    if f"spikes_t_L{k}" not in data:
        return
    times = np.asarray(data[f"spikes_t_L{k}"], dtype=float)
    index = np.asarray(data[f"spikes_i_L{k}"], dtype=int)
    inside = (times >= t[0]) & (times <= t[-1])
    bottom, top = ax.get_ylim()
    row = 0.12 * (top - bottom)
    for n, (neuron, color) in enumerate(zip(ids, colors)):
        ax.plot(times[inside & (index == neuron)], np.full(int(np.sum(inside & (index == neuron))), top + (n + 0.5) * row),
                ls="none", marker="|", ms=4, mew=0.7, color=color, gid="spikes")
    ax.set_ylim(bottom, top + len(ids) * row)


def _plot_synaptic(ax, data, prefix, k, column, neuron, t, keep, phase, units, name, default_unit):
    """One neuron's synaptic conductances or currents of layer k, one line style per pathway."""
    unit = default_unit
    for (key, label), ls in zip(SYNAPTIC_ROWS[prefix], SYNAPTIC_STYLES):
        if f"{key}_L{k}" in data:
            values = np.asarray(data[f"{key}_L{k}"], dtype=float).reshape(len(t), -1)[keep]
            ax.plot(t[keep], values[:, column], color="0.25", ls=ls, lw=0.9, label=label)
            unit = units.get(f"{key}_L{k}", unit)
    style.shade_phases(ax, t[keep], phase[keep], label=None)
    ax.margins(x=0)
    ax.set_ylabel(_axis_label(name, unit))
    ax.legend(loc="best", fontsize="x-small", handlelength=1.6, title=f"synapses of neuron {neuron}",
              title_fontsize="x-small")


def make(run_dir, out, traces=None, **options):
    """Draw the traces figure from ``traces`` (or ``run_dir/traces.npz``) and write ``out`` (PNG and PDF).

    ``options`` are passed on to `plot_traces`; the classes are named after the data set of the run
    folder's ``config.json`` (`results.dataset_class_names`). Returns the written paths.
    """
    data = load(run_dir, traces)
    if run_dir is not None and Path(run_dir).is_dir():
        options.setdefault("class_names", dataset_class_names(read_dataset(run_dir)))
    with style.use():
        axes = plot_traces(data, **options)
        return save_figure(axes.flat[0].figure, out)
