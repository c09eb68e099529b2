"""Schematic of a CorInfoMax network drawn from its architecture.

Layers from the input (bottom) to the output (top). Each pyramidal layer k is one box with n_k and
its three compartments: the basal dendrite (feedforward input W_ff,k from layer k−1), the soma, and
the apical dendrite (feedback W_fb,k from layer k+1, lateral inhibition, and the teacher at the
output). Beside each layer its interneuron population z_k = B_k r_k: pyramidal → interneuron
synapses hold B_k, and each interneuron inhibits the apical dendrite of its paired pyramidal neuron
(one to one). Reads ``arch`` from ``config.json`` (or ``metrics.json``).

Under Dale's law (``dale=True``; read from ``config.json`` for a run of ``--model conductance
--dale``) every signed matrix is drawn as its two halves: the excitatory one (W⁺, from the
pyramidal neurons or pixels) and the inhibitory one (W⁻), which leaves the presynaptic layer's
inhibitory relay interneurons ``rel_j`` (a small circle on the pathway; one population per layer,
drawn on every pathway it carries).
"""

from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Polygon
from matplotlib.path import Path

from . import style
from .results import read_architecture, read_json, run_folder, save_figure, seed_folders

__all__ = ["draw_network", "make"]

# geometry in data units (the Axes has equal aspect)
_BOX_X = (0.8, 5.4)  # pyramidal layer box
_BOX_H = 2.0  # height of a pyramidal layer box
_INPUT_H = 0.7  # height of the input box
_GAP = 0.9  # vertical gap between boxes
_COMP_X = (2.0, 3.6)  # basal and apical compartments
_SOMA_X = 2.8  # soma centre
_INT_X, _INT_R = 6.6, 0.42  # interneuron population
_FF_X = 1.45  # vertical run of feedforward arrows
_FB_X = 4.6  # vertical run of feedback / teacher arrows

_COLORS = {
    "box": "0.96", "edge": "0.55", "basal": "#CFE3F3", "soma": "#9CC3E4", "apical": "#F8D9C4",
    "interneuron": "#E9D3E3", "relay": "#D9D9D9", "ff": "#0072B2", "fb": "#D55E00", "lateral": "#7B3F8C", "teacher": "0.15",
}


def _arrow(ax, points, color, label=None, label_xy=None, inhibitory=False, ha="center", va="center"):
    """An orthogonal arrow through ``points`` (data units), with an optional label."""
    codes = [Path.MOVETO] + [Path.LINETO] * (len(points) - 1)
    style_ = "-[, widthB=2.5, lengthB=0.0" if inhibitory else "-|>, head_length=3.5, head_width=1.8"
    patch = FancyArrowPatch(path=Path(points, codes), arrowstyle=style_, color=color, lw=1.0,
                            shrinkA=0, shrinkB=0, zorder=3)
    patch.set_gid("arrow")
    ax.add_patch(patch)
    if label:
        ax.text(*label_xy, label, color=color, ha=ha, va=va, fontsize=7, zorder=4)
    return patch


def _relay(ax, x, y, j):
    """A relay interneuron population ``rel_j`` drawn on an inhibitory half-pathway."""
    ax.add_patch(Circle((x, y), 0.17, fc=_COLORS["relay"], ec=_COLORS["edge"], lw=0.6, zorder=3.5))
    ax.text(x, y, f"$\\bar{{r}}_{{{j}}}$", ha="center", va="center", fontsize=5, zorder=4)


def _compartment(ax, y, h, color, text):
    x0, x1 = _COMP_X
    ax.add_patch(FancyBboxPatch((x0, y), x1 - x0, h, boxstyle="round,pad=0,rounding_size=0.12",
                                fc=color, ec=_COLORS["edge"], lw=0.6, zorder=2))
    ax.text((x0 + x1) / 2, y + h / 2, text, ha="center", va="center", fontsize=6.5, zorder=4)


def _layer(ax, y0, k, n, output, dale=False):
    """One pyramidal layer box with its compartments and interneurons; returns anchor heights."""
    x0, x1 = _BOX_X
    ax.add_patch(FancyBboxPatch((x0, y0), x1 - x0, _BOX_H, boxstyle="round,pad=0,rounding_size=0.2",
                                fc=_COLORS["box"], ec=_COLORS["edge"], lw=0.8, zorder=1))
    name = "output" if output else "hidden"
    ax.text(x0 - 0.15, y0 + _BOX_H / 2, f"layer {k}\n({name})\n$n_{{{k}}}$ = {n}", ha="right", va="center",
            fontsize=7, linespacing=1.3)
    basal = (y0 + 0.18, 0.38)
    apical = (y0 + _BOX_H - 0.56, 0.38)
    soma_base, soma_top = y0 + 0.74, y0 + 1.26
    _compartment(ax, *basal, _COLORS["basal"], "basal $v_B$")
    _compartment(ax, *apical, _COLORS["apical"], "apical $v_A$")
    # trunk: basal → soma → apical
    ax.plot([_SOMA_X, _SOMA_X], [basal[0] + basal[1], apical[0]], color=_COLORS["edge"], lw=1.0, zorder=1.5)
    ax.add_patch(Polygon([(_SOMA_X - 0.34, soma_base), (_SOMA_X + 0.34, soma_base), (_SOMA_X, soma_top)],
                         closed=True, fc=_COLORS["soma"], ec=_COLORS["edge"], lw=0.6, zorder=2))
    ax.text(_SOMA_X - 0.42, (soma_base + soma_top) / 2, "soma $u_{%d}$" % k, ha="right", va="center",
            fontsize=6.5)
    soma_y = (soma_base + soma_top) / 2
    # interneuron population
    ax.add_patch(Circle((_INT_X, soma_y), _INT_R, fc=_COLORS["interneuron"], ec=_COLORS["edge"], lw=0.6,
                        zorder=2))
    ax.text(_INT_X, soma_y, f"$z_{{{k}}}$", ha="center", va="center", fontsize=7, zorder=4)
    ax.text(_INT_X, soma_y - _INT_R - 0.08, f"interneurons\n{n}", ha="center", va="top", fontsize=6,
            linespacing=1.2)
    # pyramidal → interneuron (B_k) and interneuron → apical (one to one, inhibitory)
    label = f"$B^+_{{{k}}}$" if dale else f"$B_{{{k}}}$"
    _arrow(ax, [(_SOMA_X + 0.2, soma_y), (_INT_X - _INT_R, soma_y)], _COLORS["lateral"],
           label, ((_BOX_X[1] + _INT_X - _INT_R) / 2 + 0.05, soma_y + 0.1), va="bottom")
    if dale:  # B⁻ from the layer's relays (which follow their pyramidal partners), below B⁺
        x_rel, y_rel = _SOMA_X + 0.9, soma_y - 0.25
        ax.plot([_SOMA_X + 0.15, x_rel], [soma_y - 0.1, y_rel], color=_COLORS["edge"], lw=0.6, zorder=1.5)
        _relay(ax, x_rel, y_rel, k)
        _arrow(ax, [(x_rel + 0.17, y_rel), (_INT_X - (_INT_R ** 2 - 0.25 ** 2) ** 0.5, y_rel)], _COLORS["lateral"],
               f"$B^-_{{{k}}}$", ((x_rel + _BOX_X[1]) / 2, y_rel - 0.05), va="top", inhibitory=True)
    y_inh = apical[0] + 0.11
    _arrow(ax, [(_INT_X, soma_y + _INT_R), (_INT_X, y_inh), (_COMP_X[1], y_inh)], _COLORS["lateral"],
           inhibitory=True)
    ax.text(_INT_X + 0.08, y_inh + 0.05, "1:1", color=_COLORS["lateral"], fontsize=6, ha="left", va="bottom")
    return {"bottom": y0, "top": y0 + _BOX_H, "basal": basal[0] + basal[1] / 2,
            "apical": apical[0] + 0.27}


@style.styled
def draw_network(arch, dale=False, axes=None):
    """Draw the network of layer sizes ``arch`` = [n_0, n_1, ..., n_L].

    Parameters
    ----------
    arch : sequence of int
        Layer sizes, input first, at least two.
    dale : bool
        Draw every signed pathway as its excitatory half and its inhibitory half from the
        presynaptic layer's relay interneurons (Dale's law, ``--dale``).
    axes : Axes, optional
        A new single-column figure when None.

    Returns
    -------
    Axes
        Arrows are `FancyArrowPatch` with ``gid="arrow"``; labels are Text artists (W_ff, W_fb, B, teacher).
    """
    arch = [int(n) for n in arch]
    if len(arch) < 2:
        raise ValueError(f"arch needs an input and at least one layer, got {arch}")
    L = len(arch) - 1
    height = _INPUT_H + L * (_BOX_H + _GAP) + _GAP + 0.6
    if axes is None:
        _, axes = style.new_figure("single", height=min(9.0, 0.42 * height + 0.2))
    ax = axes
    x0, x1 = _BOX_X
    # input
    ax.add_patch(FancyBboxPatch((x0, 0.0), x1 - x0, _INPUT_H, boxstyle="round,pad=0,rounding_size=0.2",
                                fc="white", ec=_COLORS["edge"], lw=0.8))
    ax.text((x0 + x1) / 2, _INPUT_H / 2, f"input $x = r_0$,  $n_0$ = {arch[0]}", ha="center", va="center",
            fontsize=7)
    below_top = _INPUT_H
    anchors = []
    for k in range(1, L + 1):
        y0 = below_top + _GAP
        a = _layer(ax, y0, k, arch[k], output=k == L, dale=dale)
        anchors.append(a)
        # feedforward from layer k−1 onto the basal dendrite of layer k
        _arrow(ax, [(_FF_X, below_top), (_FF_X, a["basal"]), (_COMP_X[0], a["basal"])], _COLORS["ff"],
               f"$W^+_{{ff,{k}}}$" if dale else f"$W_{{ff,{k}}}$", (_FF_X - 0.1, below_top + _GAP / 2), ha="right")
        if dale:  # the inhibitory half, from the relays of layer k−1
            x, y = _FF_X + 0.3, a["basal"] - 0.12
            _arrow(ax, [(x, below_top), (x, y), (_COMP_X[0], y)], _COLORS["ff"], f"$W^-_{{ff,{k}}}$",
                   (x + 0.24, below_top + _GAP / 2), ha="left", inhibitory=True)
            _relay(ax, x, below_top + _GAP / 2, k - 1)
        below_top = a["top"]
    # feedback from layer k+1 onto the apical dendrite of layer k
    for k in range(1, L):
        a, above = anchors[k - 1], anchors[k]
        _arrow(ax, [(_FB_X, above["bottom"]), (_FB_X, a["apical"]), (_COMP_X[1], a["apical"])],
               _COLORS["fb"], f"$W^+_{{fb,{k}}}$" if dale else f"$W_{{fb,{k}}}$",
               (_FB_X + 0.1, above["bottom"] - _GAP / 2), ha="left")
        if dale:  # the inhibitory half, from the relays of layer k+1
            x, y = _FB_X - 0.3, a["apical"] + 0.12
            _arrow(ax, [(x, above["bottom"]), (x, y), (_COMP_X[1], y)], _COLORS["fb"], f"$W^-_{{fb,{k}}}$",
                   (x - 0.24, above["bottom"] - _GAP / 2), ha="right", inhibitory=True)
            _relay(ax, x, above["bottom"] - _GAP / 2, k + 1)
    # teacher onto the apical dendrite of the output layer
    top = anchors[-1]["top"]
    t0 = top + _GAP
    ax.add_patch(FancyBboxPatch((2.6, t0), 3.2, 0.55, boxstyle="round,pad=0,rounding_size=0.15",
                                fc="white", ec=_COLORS["teacher"], lw=0.8, ls="--"))
    ax.text(4.2, t0 + 0.275, "teacher: label $y$", ha="center", va="center", fontsize=7)
    _arrow(ax, [(_FB_X, t0), (_FB_X, anchors[-1]["apical"]), (_COMP_X[1], anchors[-1]["apical"])],
           _COLORS["teacher"], r"$-\beta\,(r_L - y)$", (_FB_X + 0.1, top + _GAP / 2), ha="left")
    ax.text(_FB_X + 0.1, top + _GAP / 2 - 0.28, "nudged phase", fontsize=6, ha="left", va="center",
            color=_COLORS["teacher"])
    key = [Line2D([], [], color="0.3", lw=1.0, marker=">", markersize=3.5, label="excitatory"),
           Line2D([], [], color="0.3", lw=1.0, marker="|", markersize=5, label="inhibitory")]
    if dale:
        key.append(Line2D([], [], ls="none", marker="o", markersize=5, mfc=_COLORS["relay"], mec=_COLORS["edge"],
                          label=r"relays $\bar{r}_j$"))
    ax.legend(handles=key, loc="lower right", fontsize=6, handlelength=1.8, borderaxespad=0.0)
    ax.set_xlim(-1.0, _INT_X + _INT_R + 0.6)
    ax.set_ylim(-0.15, t0 + 0.7)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def read_dale(run_dir):
    """Whether a run (or the first seed of a protocol folder) was trained under Dale's law."""
    path = run_folder(run_dir)
    for folder in [path] + list(seed_folders(path).values())[:1]:
        if (folder / "config.json").is_file():
            return bool(read_json(folder, "config.json").get("params", {}).get("dale", False))
    return False


def make(run_dir, out, traces=None, **options):
    """Draw the network of a run folder (``arch`` from config.json or metrics.json; Dale's law
    when its parameters say ``dale``) and write ``out``."""
    arch = read_architecture(run_dir)
    options.setdefault("dale", read_dale(run_dir))
    with style.use():
        ax = draw_network(arch, **options)
        return save_figure(ax.figure, out)
