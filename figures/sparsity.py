"""Layer sparsity: how many units are active and how much they fire, over the phases and over training.

Left column, over the steps of the probe samples (``traces.npz``): the summed rate Σ_i r_i of every
layer (of the recorded neurons) and the fraction of active units (r > 0), with the nudged phase
shaded. Right column, over training (``diagnostics.npz``): the same two quantities on the test
samples' free-phase rates after every epoch. The sparse network's global interneurons keep the
summed rate near 1 (dotted line); the antisparse network has no such constraint.
"""

import numpy as np

from corinfo_sim.errors import CorInfoError

from . import style
from .results import layer_numbers, read_npz, require_keys, save_figure

__all__ = ["load", "plot_phases", "plot_training", "plot_sparsity", "make"]


def load(run_dir, traces=None):
    """``(traces, diagnostics)`` of a run folder: the probe samples' steps and the per-epoch activity."""
    tr = read_npz(path=traces) if traces else read_npz(run_dir, "traces.npz")
    require_keys(tr, ["t", "phase"], "traces")
    diag = read_npz(run_dir, "diagnostics.npz")
    require_keys(diag, ["epoch"], f"diagnostics.npz in {run_dir}")
    if not layer_numbers(diag, "sum_r_L"):
        raise CorInfoError(f"diagnostics.npz in {run_dir} has no activity per epoch (sum_r_L{{k}}): train the "
                           "run again with this version")
    return tr, diag


@style.styled
def plot_phases(traces, axes=None):
    """Σ_i r_i and the fraction of active units of every recorded layer over the traced steps.

    Parameters
    ----------
    traces : dict
        ``rate_L{k}`` (steps, neurons), ``t`` (ms), ``phase``.
    axes : sequence of two Axes, optional

    Returns
    -------
    ndarray of two Axes
    """
    if axes is None:
        _, axes = style.new_figure("single", height=3.2, nrows=2, sharex=True)
    axes = np.asarray(axes, dtype=object).ravel()
    t, phase = np.asarray(traces["t"], dtype=float), np.asarray(traces["phase"])
    for k in layer_numbers(traces, "rate_L"):
        r = np.asarray(traces[f"rate_L{k}"], dtype=float)
        axes[0].plot(t, r.sum(axis=1), color=style.layer_color(k), lw=0.9, label=f"layer {k}")
        axes[1].plot(t, np.mean(r > 0, axis=1), color=style.layer_color(k), lw=0.9)
    _summed_rate_axis(axes[0])
    for ax in axes:
        style.shade_phases(ax, t, phase)
        ax.margins(x=0)
    axes[0].set_ylabel(r"$\sum_i r_i$ (recorded)")
    axes[1].set_ylabel("active fraction")
    axes[1].set_ylim(-0.02, 1.02)
    axes[1].set_xlabel("time (ms)")
    axes[0].legend(loc="best")
    return axes


@style.styled
def plot_training(diagnostics, axes=None):
    """Mean Σ_i r_i and the fraction of active units of every layer (test samples) against epochs.

    Returns
    -------
    ndarray of two Axes
    """
    if axes is None:
        _, axes = style.new_figure("single", height=3.2, nrows=2, sharex=True)
    axes = np.asarray(axes, dtype=object).ravel()
    epoch = np.asarray(diagnostics["epoch"], dtype=float)
    for k in layer_numbers(diagnostics, "sum_r_L"):
        marker = "o" if epoch.size <= 30 else None
        axes[0].plot(epoch, diagnostics[f"sum_r_L{k}"], color=style.layer_color(k), marker=marker,
                     label=f"layer {k}")
        axes[1].plot(epoch, diagnostics[f"active_L{k}"], color=style.layer_color(k), marker=marker)
    _summed_rate_axis(axes[0])
    axes[0].set_ylabel(r"mean $\sum_i r_i$")
    axes[1].set_ylabel("active fraction")
    axes[1].set_ylim(-0.02, 1.02)
    axes[1].set_xlabel("epoch")
    for ax in axes:
        style.integer_ticks(ax.xaxis)
    axes[0].legend(loc="best")
    return axes


def _summed_rate_axis(ax):
    """Σ r on a scale that shows a layer near 1 beside one near 30 (linear below 1), with the line at 1."""
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylim(bottom=0)
    ax.axhline(1.0, color="0.4", ls=":", lw=0.8)


@style.styled
def plot_sparsity(traces, diagnostics, axes=None):
    """Both columns: over the phases (left) and over training (right). Returns the (2, 2) Axes."""
    if axes is None:
        _, axes = style.new_figure("double", height=3.4, nrows=2, ncols=2)
    axes = np.asarray(axes, dtype=object).reshape(2, 2)
    plot_phases(traces, axes=axes[:, 0])
    plot_training(diagnostics, axes=axes[:, 1])
    axes[0, 0].set_title("over the phases (probe samples)", loc="left")
    axes[0, 1].set_title("over training (test samples)", loc="left")
    return axes


def make(run_dir, out, traces=None, **options):
    """Draw the sparsity figure of a run folder and write ``out`` (PNG and PDF)."""
    tr, diag = load(run_dir, traces)
    with style.use():
        axes = plot_sparsity(tr, diag, **options)
        return save_figure(axes[0, 0].figure, out)
