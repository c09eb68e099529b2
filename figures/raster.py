"""Spike raster and population rate of the spiking model across the free and nudged phases.

One column per recorded layer: the spike times of the recorded neurons (top) and their
population rate in Hz (bottom, in bins of ``bin_ms``), with the nudged phase shaded and sample
onsets marked. Reads the spike keys of a traces file from the spiking model:
``spikes_t_L{k}`` (ms) and ``spikes_i_L{k}`` (neuron index) beside ``neurons_L{k}``.
"""
import numpy as np

from corinfo_sim.errors import CorInfoError

from . import style
from .results import layer_numbers, save_figure
from .traces import load

__all__ = ["plot_raster", "make"]


@style.styled
def plot_raster(data, layers=None, bin_ms=5.0, axes=None):
    """Raster and population rate per layer.

    Parameters
    ----------
    data : dict
        Traces with ``spikes_t_L{k}``, ``spikes_i_L{k}``, ``neurons_L{k}``, ``t``, ``phase``.
    layers : sequence of int, optional
        Layers to draw (default: every layer with spikes recorded).
    bin_ms : float
        Bin width of the population rate.
    axes : 2-D array of Axes, optional
        Shape (2, layers). A new double-column figure when None.

    Returns
    -------
    ndarray of Axes, shape (2, layers)
    """
    recorded = layer_numbers(data, "spikes_t_L")
    layers = recorded if layers is None else list(layers)
    if not layers or any(k not in recorded for k in layers):
        raise ValueError(f"no spikes recorded for layers {layers}; recorded: {recorded} (use --model spiking)")
    t = np.asarray(data["t"], dtype=float)
    phase = np.asarray(data["phase"])
    dt = t[1] - t[0] if len(t) > 1 else 1.0
    if axes is None:
        _, axes = style.new_figure("double", height=3.2, nrows=2, ncols=len(layers), sharex=True,
                                   squeeze=False, gridspec_kw={"height_ratios": [2, 1]})
    axes = np.asarray(axes, dtype=object).reshape(2, len(layers))
    edges = np.arange(t[0], t[-1] + dt + bin_ms, bin_ms)
    for j, k in enumerate(layers):
        spikes_t = np.asarray(data[f"spikes_t_L{k}"], dtype=float)
        spikes_i = np.asarray(data[f"spikes_i_L{k}"], dtype=int)
        neurons = np.asarray(data[f"neurons_L{k}"])
        row = np.searchsorted(neurons, spikes_i) if len(neurons) else spikes_i
        top, bottom = axes[0, j], axes[1, j]
        top.scatter(spikes_t, row, s=1.5, marker="|", color="k", linewidths=0.6)
        top.set_ylabel("neuron")
        top.set_ylim(-0.5, max(len(neurons), 1) - 0.5)
        top.set_title(f"layer {k}", loc="left")
        counts, _ = np.histogram(spikes_t, bins=edges)
        rate = counts / max(len(neurons), 1) / (bin_ms * 1e-3)
        bottom.step(edges[:-1], rate, where="post", color="C0", lw=0.9)
        bottom.set_ylabel("population rate (Hz)")
        bottom.set_xlabel("time (ms)")
        for ax in (top, bottom):
            style.shade_phases(ax, t, phase)
            if "sample" in data:
                style.mark_samples(ax, t, np.asarray(data["sample"]))
            ax.margins(x=0)
    fig = axes.flat[0].figure
    fig.legend(handles=style.phase_legend_handles(samples="sample" in data), loc="outside lower center", ncol=3)
    return axes


def make(run_dir, out, traces=None, **options):
    """Draw the raster from ``traces`` (or ``run_dir/traces.npz``) and write ``out`` (PNG and PDF)."""
    data = load(run_dir, traces)
    if not layer_numbers(data, "spikes_t_L"):
        raise CorInfoError("these traces hold no spikes (spikes_t_L{k}): record them from a spiking run, "
                           "`corinfo-sim traces --model spiking ...` or `corinfo-sim train --model spiking ...`")
    with style.use():
        axes = plot_raster(data, **options)
        return save_figure(axes.flat[0].figure, out)
