"""Membrane traces of the pyramidal compartments across the free and nudged phases.

One column per recorded layer; rows: somatic, basal and apical potential (mV) of a few neurons, the
interneuron activity z, and the teacher signal at the output layer. The nudged phase is shaded and
the onset of each new sample is marked. Reads ``traces.npz`` (from the run folder or ``--traces``).

`plot_state` is the reusable building block: one variable of a few neurons over time, with units
on the axes and the phases marked.
"""

import json
from pathlib import Path

import numpy as np

from corinfo_sim.errors import CorInfoError

from . import style
from .results import read_npz, require_keys, layer_numbers, save_figure, run_folder, HOW_TO_MAKE

__all__ = ["ROWS", "plot_state", "plot_traces", "load", "make"]

#: Rows of the traces figure: (key prefix in traces.npz, axis label, default unit).
ROWS = [
    ("v_soma", "soma", "mV"),
    ("v_basal", "basal", "mV"),
    ("v_apical", "apical", "mV"),
    ("z", "interneuron z", ""),
    ("teacher", "teacher", "mV"),
]

DIMENSIONLESS = {"", "1", "dimensionless", "none", "a.u."}


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
    if not layer_numbers(data, "v_soma_L"):
        raise CorInfoError(f"{where} has no v_soma_L{{k}} arrays: record at least one layer "
                           f"(`corinfo-sim traces ... --out FILE`)")
    steps = np.size(data["t"])
    for key, value in data.items():
        if key in ("phase", "sample", "beta") or (np.ndim(value) == 2 and not key.startswith("neurons_")):
            if np.shape(value)[0] != steps:
                raise CorInfoError(f"{where}: {key} has {np.shape(value)[0]} steps but t has {steps}; "
                                   "re-record the traces")
    units = data.get("units")
    try:
        data["units"] = json.loads(str(units)) if units is not None else {}
    except ValueError:
        raise CorInfoError(f"{where}: 'units' is not a JSON string mapping key to unit; re-record the traces") from None
    return data


def _output_layer(data):
    teachers = layer_numbers(data, "teacher_L")
    return teachers[-1] if teachers else None


def _first_label(data, keep):
    if "label" not in data:
        return None
    return int(np.asarray(data["label"])[keep][0])


def _is_label(data, k, output, neuron, keep):
    return k == output and _first_label(data, keep) == neuron


def _shown_columns(data, k, output, recorded_ids, keep, n):
    """Columns of the recorded neurons to draw: the label neuron first at the output layer."""
    columns = list(range(len(recorded_ids)))
    label = _first_label(data, keep)
    if k == output and label is not None and label in recorded_ids:
        first = int(np.flatnonzero(recorded_ids == label)[0])
        columns = [first] + [c for c in columns if c != first]
    return columns[:n]


@style.styled
def plot_traces(data, layers=None, neurons_per_layer=3, samples=None, legend=True, axes=None):
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
        the neuron of the first shown sample's label (``label`` in the traces) comes first.
    samples : sequence of int, optional
        Only the steps of these samples (default: all).
    legend : bool
        Add the phase legend below the panels.
    axes : 2-D array of Axes, optional
        Shape (rows, layers), rows in the order of `ROWS` restricted to the quantities present.
        A new double-column figure when None.

    Returns
    -------
    ndarray of Axes, shape (rows, layers)
        Panels without data (the teacher row of hidden layers) are made invisible.
    """
    recorded = layer_numbers(data, "v_soma_L")
    layers = recorded if layers is None else list(layers)
    for k in layers:
        if k not in recorded:
            raise ValueError(f"layer {k} was not recorded; recorded layers: {recorded}")
    rows = [row for row in ROWS if any(f"{row[0]}_L{k}" in data for k in layers)]
    t = np.asarray(data["t"], dtype=float)
    phase = np.asarray(data["phase"])
    sample = np.asarray(data["sample"]) if "sample" in data else None
    keep = np.ones(t.shape, dtype=bool) if samples is None or sample is None else np.isin(sample, samples)
    if not keep.any():
        raise ValueError(f"none of the samples {list(samples)} is in the traces")
    units = data.get("units", {})
    output = _output_layer(data)

    if axes is None:
        _, axes = style.new_figure("double", height=min(9.0, 0.35 + 1.15 * len(rows)), nrows=len(rows),
                                   ncols=len(layers), sharex=True, squeeze=False)
    axes = np.asarray(axes, dtype=object).reshape(len(rows), len(layers))

    colors = [f"C{i}" for i in range(neurons_per_layer)]
    for j, k in enumerate(layers):
        n = np.shape(data[f"v_soma_L{k}"])[1] if np.ndim(data[f"v_soma_L{k}"]) == 2 else 1
        recorded_ids = np.asarray(data.get(f"neurons_L{k}", np.arange(n)))
        columns = _shown_columns(data, k, output, recorded_ids, keep, min(n, neurons_per_layer))
        n = len(columns)
        ids = recorded_ids[columns]
        labels = [f"neuron {i}" + (" (label)" if _is_label(data, k, output, i, keep) else "") for i in ids]
        visible = []
        for i, (prefix, name, default_unit) in enumerate(rows):
            ax = axes[i, j]
            key = f"{prefix}_L{k}"
            if key not in data:
                ax.set_visible(False)
                continue
            values = np.asarray(data[key], dtype=float).reshape(len(t), -1)[keep][:, columns]
            for line_index, color in enumerate(colors[: values.shape[1]]):
                ax.plot(t[keep], values[:, line_index], color=color, lw=0.9,
                        label=labels[line_index] if line_index < len(labels) else None)
            style.shade_phases(ax, t[keep], phase[keep])
            if sample is not None:
                style.mark_samples(ax, t[keep], sample[keep])
            ax.margins(x=0)
            ax.set_ylabel(_axis_label(name, units.get(key, default_unit)))
            visible.append(ax)
        title = f"layer {k}"
        if output is not None and k <= output:
            title += " (output)" if k == output else " (hidden)"
        visible[0].set_title(title, loc="left", pad=13)
        visible[0].legend(handles=visible[0].get_lines()[:n], loc="lower left", bbox_to_anchor=(0.0, 1.0),
                          ncol=n, borderaxespad=0.1, handlelength=1.2, columnspacing=1.0)
        for ax in visible[:-1]:
            ax.tick_params(labelbottom=False)
        visible[-1].set_xlabel("time (ms)")
        visible[-1].tick_params(labelbottom=True)
    if legend:
        fig = axes.flat[0].figure
        fig.legend(handles=style.phase_legend_handles(samples=sample is not None), loc="outside lower center",
                   ncol=3)
    return axes


def make(run_dir, out, traces=None, **options):
    """Draw the traces figure from ``traces`` (or ``run_dir/traces.npz``) and write ``out`` (PNG and PDF).

    ``options`` are passed on to `plot_traces`. Returns the written paths.
    """
    data = load(run_dir, traces)
    with style.use():
        axes = plot_traces(data, **options)
        return save_figure(axes.flat[0].figure, out)
