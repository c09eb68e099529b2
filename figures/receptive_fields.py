"""Receptive fields of the first layer: rows of W_ff,1 shown as images.

Each unit's incoming weights (a row of W_ff,1) reshaped to the input image shape from
``config.json``, tiled into one mosaic of up to 64 units. Each field is scaled by its own largest
absolute weight and drawn with a symmetric diverging colormap (red positive, blue negative, white 0).
Colour images (3 × H × W) are shown as the per-pixel mean over channels, or as RGB
(``channels="rgb"``: 0.5 + w / (2 max|w|) per channel). Reads ``weights.npz`` and ``config.json``.
"""

import matplotlib
import numpy as np

from corinfo_sim.errors import CorInfoError

from . import style
from .results import read_json, read_npz, run_folder, save_figure

__all__ = ["infer_image_shape", "mosaic", "plot_receptive_fields", "load", "make"]


def infer_image_shape(n_inputs):
    """A square image shape for ``n_inputs`` pixels: (s, s) or (3, s, s); None if there is none."""
    for channels in (1, 3):
        side = int(round(np.sqrt(n_inputs / channels)))
        if channels * side * side == n_inputs:
            return (side, side) if channels == 1 else (3, side, side)
    return None


def _fields(W, image_shape, channels):
    """Rows of W as images scaled to [-1, 1]: (units, H, W) or, for RGB, (units, H, W, 3) in [0, 1]."""
    W = np.asarray(W, dtype=float)
    shape = tuple(int(s) for s in image_shape)
    if int(np.prod(shape)) != W.shape[1]:
        raise ValueError(f"image_shape {list(shape)} has {int(np.prod(shape))} pixels but W_ff,1 has "
                         f"{W.shape[1]} inputs")
    scale = np.max(np.abs(W), axis=1)
    scale[scale == 0] = 1.0
    fields = (W / scale[:, None]).reshape((W.shape[0],) + shape)
    if len(shape) == 3:
        if shape[0] in (1, 3):  # channels first (C, H, W)
            fields = np.moveaxis(fields, 1, -1)
        if channels == "rgb" and fields.shape[-1] == 3:
            return 0.5 + 0.5 * fields
        fields = fields.mean(axis=-1)
        peak = np.max(np.abs(fields), axis=(1, 2), keepdims=True)
        peak[peak == 0] = 1.0
        fields = fields / peak
    return fields


def mosaic(fields, ncols=None, gap=1):
    """Tile images (units, H, W[, 3]) into one array with ``gap`` pixels of nan (white) between them."""
    n, h, w = fields.shape[:3]
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    tail = fields.shape[3:]
    fill = 1.0 if tail else np.nan
    out = np.full((nrows * (h + gap) - gap, ncols * (w + gap) - gap) + tail, fill)
    for i in range(n):
        r, c = divmod(i, ncols)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = fields[i]
    return out


@style.styled
def plot_receptive_fields(W_ff1, image_shape, n_units=64, channels="mean", axes=None):
    """Receptive fields (rows of W_ff,1) of the first ``n_units`` units as an image mosaic.

    Parameters
    ----------
    W_ff1 : array_like, shape (n_1, n_0)
        First-layer forward weights.
    image_shape : sequence of int
        (H, W) or (C, H, W) with n_0 = prod(image_shape).
    n_units : int
        Show the first min(n_units, n_1) units (64 by default).
    channels : {"mean", "rgb"}
        For colour images: mean over channels (symmetric colormap) or RGB.
    axes : Axes, optional
        A new single-column figure when None.

    Returns
    -------
    Axes
    """
    if channels not in ("mean", "rgb"):
        raise ValueError(f"channels must be 'mean' or 'rgb', got {channels!r}")
    W = np.asarray(W_ff1, dtype=float)
    shown = min(int(n_units), W.shape[0])
    fields = _fields(W[:shown], image_shape, channels)
    if axes is None:
        _, axes = style.new_figure("single", height=3.1)
    gap = max(1, fields.shape[1] // 8)
    image = mosaic(fields, gap=gap)
    if image.ndim == 3:
        axes.imshow(np.clip(np.nan_to_num(image, nan=1.0), 0, 1), interpolation="nearest")
    else:
        cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="white")
        im = axes.imshow(image, cmap=cmap, vmin=-1.0, vmax=1.0, interpolation="nearest")
        bar = axes.figure.colorbar(im, ax=axes, shrink=0.8, ticks=[-1, 0, 1], pad=0.02)
        bar.set_label("weight / max |weight| of unit")
        bar.outline.set_linewidth(0.5)
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_visible(False)
    axes.set_title(f"layer-1 receptive fields: units 0–{shown - 1} of {W.shape[0]}", loc="left")
    return axes


def load(run_dir):
    """``(Wff1, image_shape)`` from ``weights.npz`` and ``config.json`` of ``run_dir``.

    Without ``image_shape`` in config.json (or without config.json) a square shape is inferred
    from the number of inputs when there is one.
    """
    folder = run_folder(run_dir)
    weights = read_npz(folder, "weights.npz")
    key = "Wff1" if "Wff1" in weights else "W1"  # W1: the other rules (EP, FA, BP)
    if key not in weights:
        raise CorInfoError(f"weights.npz in {folder} has no Wff1 (or W1): re-run the training that writes it")
    W = weights[key]
    shape = None
    if (folder / "config.json").is_file():
        shape = read_json(folder, "config.json").get("image_shape")
    if shape is None:
        shape = infer_image_shape(W.shape[1])
        if shape is None:
            raise CorInfoError(f"run folder {folder} has no config.json with 'image_shape' and {W.shape[1]} "
                               "inputs are not a square image: add \"image_shape\": [H, W] to config.json")
    if int(np.prod(shape)) != W.shape[1]:
        raise CorInfoError(f"config.json in {folder} gives image_shape {list(shape)} "
                           f"({int(np.prod(shape))} pixels) but Wff1 has {W.shape[1]} inputs: fix image_shape")
    return W, tuple(int(s) for s in shape)


def make(run_dir, out, traces=None, **options):
    """Draw the first-layer receptive fields of a run folder and write ``out`` (PNG and PDF)."""
    W, shape = load(run_dir)
    with style.use():
        ax = plot_receptive_fields(W, shape, **options)
        return save_figure(ax.figure, out)
