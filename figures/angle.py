"""Angle between forward and backward weights during learning.

For every hidden layer k the angle (degrees) between W_ff,k+1 and W_fb,kᵀ against training epochs,
with a dashed line at 90° (unrelated random matrices). Angles well below 90° mean the feedback path
aligns with the forward path although no weights are transported. Reads ``diagnostics.npz``.

Given several folders (run or sweep folders, one per learning rule) it draws the rules side by
side (`plot_rules`): CorInfoMax's learned feedback, feedback alignment's fixed one, and
equilibrium propagation and backprop at 0° by construction (their feedback is W_{k+1}ᵀ itself).
"""

import numpy as np

from corinfo_sim.errors import CorInfoError

from . import style
from .results import HOW_TO_MAKE, read_json, read_npz, require_keys, layer_numbers, run_folder, save_figure

__all__ = ["load", "plot_angles", "make", "load_rule", "plot_rules"]


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
    """Draw the forward/backward weight angle of a run folder and write ``out`` (PNG and PDF); given
    several folders (a list; run or sweep folders, e.g. one per learning rule), the rules side by
    side (:func:`plot_rules`)."""
    if not isinstance(run_dir, (list, tuple)) and _model_of(_run_folders(run_folder(run_dir))) in ("ep", "bp"):
        run_dir = [run_dir]  # their feedback is W_{k+1}ᵀ itself: drawn at 0° by construction
    if isinstance(run_dir, (list, tuple)):
        with style.use():
            ax = plot_rules([load_rule(folder) for folder in run_dir], **options)
            return save_figure(ax.figure, out)
    epoch, angles = load(run_dir)
    with style.use():
        ax = plot_angles(epoch, angles, **options)
        return save_figure(ax.figure, out)


# ---- several learning rules ------------------------------------------------------------------------
def _run_folders(folder):
    points = folder / "points"
    return sorted(p for p in points.iterdir() if p.is_dir()) if points.is_dir() else [folder]


def _model_of(folders):
    for folder in folders:
        for name in ("config.json", "metrics.json"):
            if (folder / name).is_file():
                return read_json(folder, name).get("model", "antisparse")
    return "antisparse"


def load_rule(run_dir):
    """The angles of every seed of a run or sweep folder.

    Returns
    -------
    model : str
    epoch : ndarray (S,)
        The longest run's epochs.
    angles : dict
        ``{k: (seeds, S) array}`` (nan where a seed has fewer epochs); empty for the rules whose
        feedback is W_{k+1}ᵀ itself (``ep``, ``bp``).
    """
    folders = _run_folders(run_folder(run_dir))
    model = _model_of(folders)
    epoch, per_seed = np.zeros(0), []
    for folder in folders:
        if not (folder / "diagnostics.npz").is_file():
            continue
        data = read_npz(folder, "diagnostics.npz")
        if len(data["epoch"]) > len(epoch):
            epoch = np.asarray(data["epoch"], dtype=float)
        per_seed.append({k: np.asarray(data[f"angle_L{k}"], dtype=float) for k in layer_numbers(data, "angle_L")})
    if not per_seed:
        raise CorInfoError(f"{run_dir} holds no diagnostics.npz: {HOW_TO_MAKE['diagnostics.npz']}")
    angles = {}
    for k in sorted({k for seed in per_seed for k in seed}):
        table = np.full((len(per_seed), len(epoch)), np.nan)
        for row, seed in enumerate(per_seed):
            if k in seed:
                table[row, :len(seed[k])] = seed[k]
        angles[k] = table
    return model, epoch, angles


@style.styled
def plot_rules(rules, axes=None):
    """Feedback against forward weights of several rules, mean ± std over seeds.

    CorInfoMax: W_ff,k+1 against W_fb,kᵀ (learned feedback); feedback alignment: W_{k+1} against
    its fixed F_kᵀ; equilibrium propagation and backprop send the feedback through W_{k+1}ᵀ itself,
    so their angle is 0° by construction (a line at 0°).

    Parameters
    ----------
    rules : list
        ``(model, epoch, angles)`` of :func:`load_rule`, one per folder.
    axes : Axes, optional

    Returns
    -------
    Axes
        Angle lines are labelled by model and layer; the 0° lines have ``gid="by-construction"``.
    """
    from .learning_curves import RULE_COLORS
    if axes is None:
        _, axes = style.new_figure("single", height=2.6)
    top = 90.0
    for n, (model, epoch, angles) in enumerate(rules):
        color = RULE_COLORS.get(model, style.layer_color(n + 1))
        if not angles:
            line = axes.axhline(0.0, color=color, lw=1.4, ls=(0, (4, 2 + n)),
                                label=f"{model}: feedback $W_{{k+1}}^T$ itself (0° by construction)")
            line.set_gid("by-construction")
            continue
        for k, table in sorted(angles.items()):
            mean, std = np.nanmean(table, axis=0), np.nanstd(table, axis=0)
            feedback = f"$F_{{{k}}}$" if model == "fa" else f"$W_{{fb,{k}}}$"
            axes.plot(epoch, mean, color=color, marker="o" if epoch.size <= 30 else None, ms=2.5,
                      ls="-" if k == 1 else "--", label=f"{model}, layer {k}: forward vs {feedback}$^T$ "
                                                        f"({table.shape[0]} seed{'s' * (table.shape[0] > 1)})")
            axes.fill_between(epoch, mean - std, mean + std, color=color, alpha=0.2, lw=0).set_gid("std")
            if np.isfinite(mean).any():
                top = max(top, np.nanmax(mean + std))
    axes.axhline(90.0, color="0.4", ls="--", lw=0.8, label="90° (unaligned)").set_gid("reference-90")
    axes.set_ylim(-4.0, min(180.0, top + 8.0))
    axes.set_yticks([t for t in (0, 30, 60, 90, 120, 150, 180) if t <= axes.get_ylim()[1]])
    axes.set_xlabel("epoch")
    style.integer_ticks(axes.xaxis)
    axes.set_ylabel("angle (°)")
    axes.legend(loc="center right", fontsize="x-small")
    return axes
