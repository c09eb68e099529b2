"""Weight statistics: histograms of forward, feedback and lateral weights, per layer.

Four panels: W_ff,k (k = 1..L), W_fb,k (k = 1..L−1), the diagonal of B_k and its off-diagonal
entries (k = 1..L), each layer one step histogram (density, so layers of different sizes compare).
Reads ``weights.npz``. Weights are dimensionless.
"""

import re

import numpy as np
from matplotlib.lines import Line2D

from corinfo_sim.diagnostics import n_layers
from corinfo_sim.errors import CorInfoError

from . import style
from .results import read_npz, save_figure

__all__ = ["PANELS", "weight_groups", "plot_weight_histograms", "load", "make"]

#: Panels of the figure: (name, title).
PANELS = [
    ("ff", "forward $W_{ff,k}$"),
    ("fb", "feedback $W_{fb,k}$"),
    ("B_diag", "lateral $B_k$, diagonal"),
    ("B_offdiag", "lateral $B_k$, off-diagonal"),
]


def load(run_dir):
    """The arrays of ``run_dir/weights.npz`` as a dict (the other rules' ``W{k}`` as ``Wff{k}``, feedback
    alignment's ``F{k}`` as ``Wfb{k}``; biases left out)."""
    weights = read_npz(run_dir, "weights.npz")
    if "Wff1" not in weights and "W1" in weights:  # the other rules: forward W_k, FA's feedback F_k
        weights = {re.sub(r"^W(\d)", r"Wff\1", re.sub(r"^F(\d)", r"Wfb\1", key)): value
                   for key, value in weights.items() if key[0] in "WF"}
    try:
        n_layers(weights)
    except ValueError as err:
        raise CorInfoError(f"weights.npz in {run_dir}: {err}; re-run the training that writes it") from None
    return weights


def weight_groups(weights):
    """The entries of each panel per layer: ``{panel: {k: 1-D array}}`` (panels without entries left out)."""
    L = n_layers(weights)
    groups = {name: {} for name, _ in PANELS}
    for k in range(1, L + 1):
        groups["ff"][k] = np.ravel(weights[f"Wff{k}"])
        if f"Wfb{k}" in weights:
            groups["fb"][k] = np.ravel(weights[f"Wfb{k}"])
        if f"B{k}" in weights:
            B = np.asarray(weights[f"B{k}"])
            groups["B_diag"][k] = np.diag(B).copy()
            if B.shape[0] > 1:
                groups["B_offdiag"][k] = B[~np.eye(B.shape[0], dtype=bool)]
    return {name: g for name, g in groups.items() if g}


@style.styled
def plot_weight_histograms(weights, bins=40, axes=None):
    """Histograms of the weights, one step histogram per layer in each panel.

    Parameters
    ----------
    weights : mapping
        Weights in the public format (keys ``Wff{k}``, ``Wfb{k}``, ``B{k}``).
    bins : int
        Largest number of bins per histogram (fewer, √n but at least 5, for small matrices).
    axes : sequence of Axes, optional
        One per panel present (see `PANELS`; W_fb is absent without hidden layers). A new
        single-column 2 × 2 figure when None.

    Returns
    -------
    ndarray of Axes
        The panels, in the order of `PANELS`.
    """
    groups = weight_groups(weights)
    titles = dict(PANELS)
    own_figure = axes is None
    if own_figure:
        ncols = 2
        nrows = int(np.ceil(len(groups) / ncols))
        _, grid = style.new_figure("single", height=1.55 * nrows + 0.2, nrows=nrows, ncols=ncols, squeeze=False)
        for ax in grid.flat[len(groups):]:
            ax.set_visible(False)
        axes = grid.flat[: len(groups)]
    axes = np.asarray(list(np.ravel(axes)), dtype=object)
    if axes.size != len(groups):
        raise ValueError(f"plot_weight_histograms needs {len(groups)} Axes, got {axes.size}")
    for ax, (name, by_layer) in zip(axes, groups.items()):
        values = np.concatenate(list(by_layer.values()))
        lo, hi = np.min(values), np.max(values)
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        n_bins = int(np.clip(np.sqrt(max(v.size for v in by_layer.values())), 5, bins))
        edges = np.linspace(lo, hi, n_bins + 1)
        for k, v in by_layer.items():
            ax.hist(v, bins=edges, density=True, histtype="step", lw=1.0, color=style.layer_color(k),
                    label=f"layer {k}")
        ax.set_title(titles[name], loc="left")
        ax.set_xlabel("weight (dimensionless)")
        ax.set_ylabel("density")
        ax.ticklabel_format(axis="both", style="sci", scilimits=(-3, 4))
    handles = [Line2D([], [], color=style.layer_color(k), lw=1.0, label=f"layer {k}")
               for k in sorted(groups["ff"])]
    if own_figure:
        axes[0].figure.legend(handles=handles, loc="outside upper center", ncol=len(handles))
    else:
        axes[0].legend(handles=handles, loc="best")
    return axes


def make(run_dir, out, traces=None, **options):
    """Draw the weight histograms of a run folder and write ``out`` (PNG and PDF)."""
    weights = load(run_dir)
    with style.use():
        axes = plot_weight_histograms(weights, **options)
        return save_figure(axes[0].figure, out)
