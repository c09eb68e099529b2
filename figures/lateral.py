"""The lateral matrices over training: the spectrum of every B_k after each epoch.

B_k, held by the interneurons of layer k, estimates the inverse correlation matrix of the layer's
rates: it should stay symmetric positive definite. Top: its largest and smallest eigenvalue (on a
scale linear near 0, so that a smallest eigenvalue dipping below 0 shows), with the health
check's limit for the smallest (dotted, ``corinfo_sim.training.check_lateral``). Bottom: its condition number. A B that runs away (the
lateral rule forgetting too fast, ``--lambda-batch``) shows as a largest eigenvalue growing
exponentially and a smallest one turning negative. From ``diagnostics.npz`` (``B_min_L{k}``,
``B_max_L{k}``, ``B_cond_L{k}``).
"""

import numpy as np

from corinfo_sim.errors import CorInfoError
from corinfo_sim.diagnostics import B_NEGATIVE_LIMIT

from . import style
from .results import layer_numbers, read_npz, require_keys, save_figure

__all__ = ["load", "plot_spectrum", "make"]


def load(run_dir):
    """The per-epoch diagnostics of a run folder, with the spectra of its lateral matrices."""
    diag = read_npz(run_dir, "diagnostics.npz")
    require_keys(diag, ["epoch"], f"diagnostics.npz in {run_dir}")
    if not layer_numbers(diag, "B_max_L"):
        raise CorInfoError(f"diagnostics.npz in {run_dir} has no spectrum of the lateral matrices (B_max_L{{k}}): "
                           "train the run again with this version")
    return diag


@style.styled
def plot_spectrum(diagnostics, axes=None):
    """Largest and smallest eigenvalue (top) and condition number (bottom) of every B_k per epoch.

    Parameters
    ----------
    diagnostics : dict
        ``epoch`` and, per layer k, ``B_min_L{k}``, ``B_max_L{k}``, ``B_cond_L{k}``.
    axes : sequence of two Axes, optional

    Returns
    -------
    ndarray of two Axes
    """
    if axes is None:
        _, axes = style.new_figure("single", height=3.4, nrows=2, sharex=True)
    axes = np.asarray(axes, dtype=object).ravel()
    epoch = np.asarray(diagnostics["epoch"], dtype=float)
    marker = "o" if epoch.size <= 30 else None
    for k in layer_numbers(diagnostics, "B_max_L"):
        color = style.layer_color(k)
        axes[0].plot(epoch, diagnostics[f"B_max_L{k}"], color=color, marker=marker, ms=3,
                     label=f"B{k} largest")
        axes[0].plot(epoch, diagnostics[f"B_min_L{k}"], color=color, ls="--", marker=marker, ms=3,
                     label=f"B{k} smallest")
        axes[1].plot(epoch, diagnostics[f"B_cond_L{k}"], color=color, marker=marker, ms=3, label=f"B{k}")
    axes[0].set_yscale("symlog", linthresh=1e-3)
    axes[0].axhline(-B_NEGATIVE_LIMIT, color="0.4", ls=":", lw=0.8, label="health limit")
    axes[0].axhline(0.0, color="0.7", lw=0.5)
    axes[0].set_ylabel("eigenvalue of B")
    axes[1].set_yscale("log")
    axes[1].set_ylabel("condition number")
    axes[1].set_xlabel("epoch")
    for ax in axes:
        style.integer_ticks(ax.xaxis)
    axes[0].legend(loc="best", ncol=2)
    return axes


def make(run_dir, out, traces=None, **options):
    """Draw the lateral-spectrum figure of a run folder and write ``out`` (PNG and PDF)."""
    diag = load(run_dir)
    with style.use():
        axes = plot_spectrum(diag, **options)
        return save_figure(axes[0].figure, out)
