"""Figures from run folders, sweeps or arrays, drawn on the caller's Axes.

Every function takes what it draws — a :class:`~corinfo_sim.api.Run` (or the path of a run
folder) or plain arrays — and ``axes=None``; it draws on the given Axes or on a new figure in the
project's style, and returns the Axes (an array of them for figures with several panels), as
brian2tools' ``plot_state`` does. Labels carry units. Nothing is simulated: they read saved
results.

This module owns the link between the public objects and the figure modules of
``corinfo_sim.figures`` (one module per figure, also drawn by ``corinfo-sim figure``), which
own the drawing. :func:`make_figure` writes a figure of a run folder to a file (PNG and PDF).
"""
import os

import numpy as np

from .errors import CorInfoError

__all__ = ["plot_state", "plot_learning_curves", "plot_traces", "plot_angles", "plot_weights", "plot_sweep",
           "make_figure"]


def _folder(run):
    """The folder of a Run, TrainResult or path."""
    for attribute in ("path", "out"):
        if hasattr(run, attribute) and not isinstance(run, (str, os.PathLike)):
            return getattr(run, attribute)
    if isinstance(run, (str, os.PathLike)):
        return os.fspath(run)
    raise CorInfoError(f"expected a run (corinfo_sim.load_run) or the path of a run folder, got {type(run).__name__}")


def plot_state(t, values, var_name=None, var_unit=None, time_unit="ms", labels=None, phase=None, axes=None,
               **kwds):
    """One recorded variable of one or several neurons over time (e.g. from your own StateMonitor).

    Parameters
    ----------
    t : array or brian2.Quantity, shape (steps,)
        Times (a Quantity is shown in ``time_unit``).
    values : array or brian2.Quantity, shape (steps,) or (steps, neurons)
        Values; a Quantity is shown in ``var_unit`` (e.g. ``"mV"``).
    var_name, var_unit : str, optional
        For the y label.
    time_unit : str
    labels : list of str, optional
        One per neuron (legend).
    phase : array of int, optional
        0 free, 1 nudged, per step: the nudged phase is shaded.
    axes : matplotlib Axes, optional
    **kwds
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib Axes
    """
    import brian2
    from .figures.traces import plot_state as _plot
    if isinstance(t, brian2.Quantity):
        t = np.asarray(t / getattr(brian2, time_unit))
    if isinstance(values, brian2.Quantity):
        if var_unit is None:
            raise CorInfoError("values with a unit need var_unit, e.g. var_unit='mV'")
        values = np.asarray(values / getattr(brian2, var_unit))
    return _plot(np.asarray(t), np.asarray(values), var_name=var_name, var_unit=var_unit, time_unit=time_unit,
                 labels=labels, phase=phase, axes=axes, **kwds)


def plot_learning_curves(runs, references=True, axes=None):
    """Train and test accuracy per epoch of one run, or of several side by side (mean ± std).

    Parameters
    ----------
    runs : Run, str or list
        A run, protocol or sweep folder (or :class:`~corinfo_sim.api.Run`); a list draws one line
        and band per folder (e.g. one per learning rule).
    references : bool
        Draw the paper's reference accuracies where it has them.
    axes : sequence of two matplotlib Axes, optional
        (train, test).

    Returns
    -------
    ndarray of Axes
    """
    from .figures import learning_curves as lc
    if isinstance(runs, (list, tuple)):
        groups, dataset = lc.load_groups([_folder(r) for r in runs])
        return lc.plot_rules(groups, dataset=dataset, references=references, axes=axes)
    data, dataset = lc.load(_folder(runs))
    return lc.plot_learning_curves(data, dataset=dataset, references=references,
                                   zoom=False if axes is not None and len(axes) == 2 else None, axes=axes)


def plot_traces(traces, layers=None, neurons_per_layer=3, axes=None):
    """Membrane traces (soma, basal, apical, interneuron, teacher; nudged phase shaded).

    Parameters
    ----------
    traces : Run, str or dict
        A run (its probe samples' ``traces.npz``) or a traces dict from
        :func:`corinfo_sim.record_traces`.
    layers : list of int, optional
    neurons_per_layer : int
    axes : array of Axes, optional
        One row per layer, one column per variable.

    Returns
    -------
    ndarray of Axes
    """
    import json

    from .figures import traces as figure
    if isinstance(traces, dict):
        data = dict(traces)
        if isinstance(data.get("units"), (str, np.ndarray)):
            data["units"] = json.loads(str(data["units"]))
    else:
        data = figure.load(_folder(traces))
    return figure.plot_traces(data, layers=layers, neurons_per_layer=neurons_per_layer, axes=axes)


def plot_angles(run, axes=None):
    """Angle between the forward weights W_ff,k+1 and the feedback weights W_fb,kᵀ per epoch.

    Parameters
    ----------
    run : Run or str
    axes : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    from .figures import angle
    epoch, angles = angle.load(_folder(run))
    return angle.plot_angles(epoch, angles, axes=axes)


def plot_weights(weights, bins=40, axes=None):
    """Histograms of the forward, feedback and lateral weights per layer.

    Parameters
    ----------
    weights : Run, str or dict
        A run (its last weights) or a weights dict.
    bins : int
    axes : array of Axes, optional

    Returns
    -------
    ndarray of Axes
    """
    from .figures import weights as figure
    data = dict(weights) if isinstance(weights, dict) else figure.load(_folder(weights))
    return figure.plot_weight_histograms(data, bins=bins, axes=axes)


def plot_sweep(results, x, y=None, axes=None):
    """Final test accuracy of a sweep against one parameter (mean ± std over seeds), or a heatmap over two.

    Parameters
    ----------
    results : SweepResult or str, or a list of them
        From :func:`corinfo_sim.run_sweep`, or a sweep folder or a copy of its ``results.csv``; a
        list: parts of one sweep (e.g. its seeds run one after the other), drawn together.
    x : str
        The parameter on the x axis (a key of the sweep).
    y : str, optional
        A second parameter: a heatmap over both.
    axes : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    from .figures import sweep as figure
    several = isinstance(results, (list, tuple)) and not hasattr(results, "out")  # a SweepResult is a list of rows
    rows = figure.load([_folder(r) for r in results] if several else _folder(results))
    if y is None:
        return figure.plot_accuracy(rows, x, axes=axes)
    return figure.plot_heatmap(rows, x, y, axes=axes)


def make_figure(name, run, out, **options):
    """Draw figure ``name`` (``corinfo-sim figure``'s names) of a run folder and write ``out`` and its PNG/PDF sibling.

    Parameters
    ----------
    name : str
        ``learning-curves``, ``traces``, ``angle``, ``corinfo``, ``weights``, ``receptive-fields``,
        ``embedding``, ``schematic``, ``raster``, ``sparsity``, ``lateral`` or ``sweep``.
    run : Run, str or list
    out : str
        ``.png`` or ``.pdf``.
    **options
        The figure's own (``x``, ``y`` of the sweep figure, ``traces`` file).

    Returns
    -------
    list of str
        The files written.
    """
    from .figures import make_figure as _make
    folder = [_folder(r) for r in run] if isinstance(run, (list, tuple)) else _folder(run)
    return _make(name, folder, os.fspath(out), **options)
