"""Layerwise correlative information within one sample, across the free and nudged phases.

Forward (layer k predicted from layer k−1 through W_ff,k) and backward (layer k predicted from
layer k+1 through W_fb,k) correlative information against time within a sample (ms), one line per
layer, mean ± std over the probe samples at one recorded epoch (the last by default). The nudged
phase is shaded. Reads ``corinfo.npz``; the quantities are those of
`corinfo_sim.diagnostics.correlative_information`.
"""

import numpy as np

from corinfo_sim.errors import CorInfoError

from . import style
from .results import read_npz, require_keys, layer_numbers, save_figure

__all__ = ["load", "plot_corinfo", "make"]


def load(run_dir):
    """The arrays of ``run_dir/corinfo.npz`` as a dict (checked for ``t``, ``phase``, ``epoch``, ``I_fwd_L{k}``)."""
    data = read_npz(run_dir, "corinfo.npz")
    where = f"corinfo.npz in {run_dir}"
    require_keys(data, ["t", "phase", "epoch"], where)
    if not layer_numbers(data, "I_fwd_L"):
        raise CorInfoError(f"{where} has no I_fwd_L{{k}} arrays: re-record the correlative information")
    steps, n_epochs = np.size(data["t"]), np.size(data["epoch"])
    if np.size(data["phase"]) != steps:
        raise CorInfoError(f"{where}: phase has {np.size(data['phase'])} steps but t has {steps}; re-record it")
    for prefix in ("I_fwd_L", "I_bwd_L"):
        for k in layer_numbers(data, prefix):
            shape = np.shape(data[f"{prefix}{k}"])
            if len(shape) != 3 or shape[0] != n_epochs or shape[2] != steps:
                raise CorInfoError(f"{where}: {prefix}{k} has shape {shape}, expected (epochs={n_epochs}, "
                                   f"probes, steps={steps}); re-record the correlative information")
    return data


def _select(data, epoch):
    """Index into the recorded epochs: the last one when ``epoch`` is None, else the given epoch."""
    epochs = np.asarray(data["epoch"]).ravel()
    if epoch is None:
        return len(epochs) - 1
    hits = np.flatnonzero(epochs == epoch)
    if not hits.size:
        raise ValueError(f"epoch {epoch} was not recorded; recorded epochs: {epochs.tolist()}")
    return int(hits[-1])


@style.styled
def plot_corinfo(data, epoch=None, axes=None):
    """Forward and backward correlative information (nats) against time within a sample (ms).

    Parameters
    ----------
    data : dict
        ``t`` (steps,) ms, ``phase`` (steps,) 0 free / 1 nudged, ``epoch`` (E,),
        ``I_fwd_L{k}`` (E, n_probe, steps) for k = 1..L, ``I_bwd_L{k}`` (E, n_probe, steps) for k = 1..L−1.
    epoch : int, optional
        Which recorded epoch to show (default: the last).
    axes : sequence of Axes, optional
        (forward, backward), or one Axes if there is no backward information (L = 1).
        A new figure when None.

    Returns
    -------
    ndarray of Axes
        One line per layer and panel, labelled ``"layer k"``; bands are ± std over probe samples.
    """
    t = np.asarray(data["t"], dtype=float)
    e = _select(data, epoch)
    panels = [("I_fwd_L", "forward", "$I^{fwd}_k$: layer k−1 → k")]
    if layer_numbers(data, "I_bwd_L"):
        panels.append(("I_bwd_L", "backward", "$I^{bwd}_k$: layer k+1 → k"))
    own_figure = axes is None
    if own_figure:
        _, axes = style.new_figure("double" if len(panels) > 1 else "single", height=2.4, ncols=len(panels))
    axes = np.atleast_1d(np.asarray(axes, dtype=object)).ravel()
    if axes.size != len(panels):
        raise ValueError(f"plot_corinfo needs {len(panels)} Axes, got {axes.size}")
    for ax, (prefix, name, title) in zip(axes, panels):
        for k in layer_numbers(data, prefix):
            values = np.asarray(data[f"{prefix}{k}"], dtype=float)
            if values.ndim != 3 or values.shape[2] != t.size:
                raise ValueError(f"{prefix}{k} must have shape (epochs, probes, {t.size}), got {values.shape}")
            mean = values[e].mean(axis=0)
            std = values[e].std(axis=0)
            color = style.layer_color(k)
            ax.plot(t, mean, color=color, label=f"layer {k}")
            if values.shape[1] > 1:
                ax.fill_between(t, mean - std, mean + std, color=color, alpha=0.2, lw=0)
        style.shade_phases(ax, t, data["phase"])
        ax.margins(x=0)
        ax.set_title(f"{name}, {title}", loc="left")
        ax.set_xlabel("time within sample (ms)")
        ax.set_ylabel(f"{name} corr. information (nats)")
        ax.legend(loc="best")
    if own_figure:
        n_probe = np.shape(data[f"I_fwd_L{layer_numbers(data, 'I_fwd_L')[0]}"])[1]
        axes[0].figure.suptitle(f"after epoch {int(np.ravel(data['epoch'])[e])}, "
                                f"mean ± std over {n_probe} probe samples", fontsize="medium")
    return axes


def make(run_dir, out, traces=None, **options):
    """Draw the correlative information of a run folder and write ``out`` (PNG and PDF)."""
    data = load(run_dir)
    with style.use():
        axes = plot_corinfo(data, **options)
        return save_figure(axes[0].figure, out)
