"""Angle between forward and backward weights during learning.

For every hidden layer k the angle (degrees) between W_ff,k+1 and W_fb,kᵀ against training epochs,
with a dashed line at 90° (unrelated random matrices). Angles well below 90° mean the feedback path
aligns with the forward path although no weights are transported. Reads ``diagnostics.npz``.
"""

import numpy as np

from corinfo_sim.errors import CorInfoError

from . import style
from .results import read_npz, require_keys, layer_numbers, save_figure

__all__ = ["load", "plot_angles", "make"]


def load(run_dir):
    """Epochs and angles from ``run_dir/diagnostics.npz``: ``(epoch, {k: angle_L{k}})``."""
    data = read_npz(run_dir, "diagnostics.npz")
    where = f"diagnostics.npz in {run_dir}"
    require_keys(data, ["epoch"], where)
    ks = layer_numbers(data, "angle_L")
    if not ks:
        raise CorInfoError(f"{where} has no angle_L{{k}} arrays: the network has no hidden layer, "
                           "so there is no forward/backward pair to compare")
    epoch = np.asarray(data["epoch"], dtype=float)
    angles = {k: np.asarray(data[f"angle_L{k}"], dtype=float) for k in ks}
    for k, values in angles.items():
        if values.shape != epoch.shape:
            raise CorInfoError(f"{where}: angle_L{k} has shape {values.shape} but epoch has shape {epoch.shape}; "
                               "re-record the diagnostics")
    return epoch, angles


@style.styled
def plot_angles(epoch, angles, axes=None):
    """Angle (degrees) between W_ff,k+1 and W_fb,kᵀ against epochs, one line per hidden layer k.

    Parameters
    ----------
    epoch : array_like, shape (S,)
        Training epochs completed at each measurement (may be fractional); the ticks are whole epochs.
    angles : dict of int to array_like
        ``{k: angles in degrees, shape (S,)}``.
    axes : Axes, optional
        A new single-column figure when None.

    Returns
    -------
    Axes
        Layer lines are labelled ``"layer k: W_ff,k+1 vs W_fb,kᵀ"``; the 90° line has ``gid="reference-90"``.
    """
    if axes is None:
        _, axes = style.new_figure("single", height=2.3)
    epoch = np.asarray(epoch, dtype=float)
    top = 90.0
    for k, values in sorted(angles.items()):
        values = np.asarray(values, dtype=float)
        if values.shape != epoch.shape:
            raise ValueError(f"angle_L{k} has shape {values.shape} but epoch has shape {epoch.shape}")
        axes.plot(epoch, values, color=style.layer_color(k), marker="o" if epoch.size <= 30 else None,
                  label=f"layer {k}: $W_{{ff,{k + 1}}}$ vs $W_{{fb,{k}}}^T$")
        if np.isfinite(values).any():
            top = max(top, np.nanmax(values))
    reference = axes.axhline(90.0, color="0.4", ls="--", lw=0.8, label="90° (unaligned)")
    reference.set_gid("reference-90")
    axes.set_ylim(0.0, min(180.0, top + 8.0))
    axes.set_yticks([t for t in (0, 30, 60, 90, 120, 150, 180) if t <= axes.get_ylim()[1]])
    axes.set_xlabel("epoch")
    style.integer_ticks(axes.xaxis)  # epochs are whole numbers, also on a short run's axis
    axes.set_ylabel("angle (°)")
    axes.legend(loc="lower left")
    return axes


def make(run_dir, out, traces=None, **options):
    """Draw the forward/backward weight angle of a run folder and write ``out`` (PNG and PDF)."""
    epoch, angles = load(run_dir)
    with style.use():
        ax = plot_angles(epoch, angles, **options)
        return save_figure(ax.figure, out)
