"""The project's figure style, figure sizes and the marks shared by figures with time on an axis.

>>> from corinfo_sim.figures import style
>>> with style.use():
...     fig, ax = style.new_figure("single", height=2.0)

Everything drawn inside ``style.use()`` gets the project style (``corinfo.mplstyle``): journal
column widths, 7–8 pt fonts, no top/right spines, a colour-blind-safe colour cycle. The plotting
functions of the figure modules apply it themselves when they create their own figure
(``axes=None``); when you pass your own Axes, your rcParams stay in charge.
"""

import contextlib
import functools
import inspect
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import matplotlib.transforms as mtransforms
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

__all__ = [
    "STYLE_FILE",
    "WIDTHS",
    "NUDGED_COLOR",
    "use",
    "styled",
    "new_figure",
    "shade_phases",
    "mark_samples",
    "phase_legend_handles",
    "layer_color",
    "integer_ticks",
]

#: The project style file, shipped with the package.
STYLE_FILE = Path(__file__).with_name("corinfo.mplstyle")

#: Figure widths in inches: one journal column, one and a half, two columns.
WIDTHS = {"single": 3.5, "onehalf": 5.5, "double": 7.0}

#: Fill colour of the nudged phase (β ≠ 0); the free phase is left unshaded.
NUDGED_COLOR = "0.85"

#: Colour of the lines that mark the onset of a new sample.
SAMPLE_COLOR = "0.35"


@contextlib.contextmanager
def use():
    """Context manager that applies the project style (``corinfo.mplstyle``) to what is drawn inside."""
    with mpl.style.context(STYLE_FILE):
        yield


def styled(func):
    """Decorator: run a plotting function inside `use` when it creates its own figure (``axes=None``)."""
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        bound = signature.bind_partial(*args, **kwargs)
        if bound.arguments.get("axes") is None:
            with use():
                return func(*args, **kwargs)
        return func(*args, **kwargs)

    return wrapper


def new_figure(width="single", height=None, nrows=1, ncols=1, **subplots_kw):
    """A new figure of journal size with a grid of Axes.

    Parameters
    ----------
    width : {"single", "onehalf", "double"} or float
        Figure width: one journal column (3.5 in), 1.5 columns (5.5 in), two columns (7 in), or a width
        in inches.
    height : float, optional
        Height in inches; by default 0.75 × the width of one column per row of panels, capped at 9 in.
    nrows, ncols : int
        Grid of panels.
    **subplots_kw
        Passed on to `matplotlib.pyplot.subplots` (e.g. ``sharex=True``, ``squeeze=False``).

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : Axes or ndarray of Axes
        As returned by `matplotlib.pyplot.subplots`.
    """
    if isinstance(width, str):
        if width not in WIDTHS:
            raise ValueError(f"width must be one of {sorted(WIDTHS)} or a number of inches, got {width!r}")
        width = WIDTHS[width]
    if height is None:
        height = min(9.0, 0.75 * WIDTHS["single"] * nrows)
    subplots_kw.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, figsize=(float(width), float(height)), **subplots_kw)


def _phase_segments(t, phase, value):
    """(start, stop) times of the runs of ``phase == value``; a step lasts until the next one."""
    t = np.asarray(t, dtype=float)
    on = np.asarray(phase) == value
    if t.shape != on.shape:
        raise ValueError(f"t has shape {t.shape} but phase has shape {on.shape}")
    if t.size == 0:
        return []
    dt = float(np.median(np.diff(t))) if t.size > 1 else 1.0
    edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)  # exclusive
    return [(t[a], t[b - 1] + dt) for a, b in zip(starts, stops)]


def shade_phases(ax, t, phase, label="nudged phase"):
    """Shade the nudged phase (``phase == 1``) of a time axis in light grey.

    Parameters
    ----------
    ax : Axes
    t : array_like, shape (steps,)
        Time of each step, in the unit of the x axis.
    phase : array_like, shape (steps,)
        0 in the free phase, 1 in the nudged phase.
    label : str or None
        Legend label of the first shaded span.

    Returns
    -------
    list of matplotlib.patches.Patch
        One span per nudged period (``gid="phase-nudged"``), drawn below the data.
    """
    spans = []
    for start, stop in _phase_segments(t, phase, 1):
        span = ax.axvspan(start, stop, color=NUDGED_COLOR, lw=0, zorder=0,
                          label=label if not spans else None)
        span.set_gid("phase-nudged")
        spans.append(span)
    return spans


def mark_samples(ax, t, sample, label="sample onset", annotate=False):
    """Mark where a new sample starts (where ``sample`` changes) with thin dotted lines.

    Parameters
    ----------
    ax : Axes
    t : array_like, shape (steps,)
    sample : array_like, shape (steps,)
        Sample index at each step.
    label : str or None
        Legend label of the first line.
    annotate : bool
        Also write "sample s" above the axes at the onset of each sample.

    Returns
    -------
    list of matplotlib.lines.Line2D
    """
    t = np.asarray(t, dtype=float)
    sample = np.asarray(sample)
    onsets = np.flatnonzero(sample[1:] != sample[:-1]) + 1
    lines = []
    for i in onsets:
        line = ax.axvline(t[i], color=SAMPLE_COLOR, lw=0.6, ls=":", zorder=1,
                          label=label if not lines else None)
        line.set_gid("sample-onset")
        lines.append(line)
    if annotate and sample.size:
        trans = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
        for i in np.concatenate([[0], onsets]):
            ax.text(t[i], 1.0, f" sample {sample[i]}", transform=trans, ha="left", va="bottom",
                    fontsize="small", color=SAMPLE_COLOR, clip_on=False)
    return lines


def phase_legend_handles(samples=False):
    """Legend handles for the nudged-phase shading (and the sample-onset lines when ``samples``)."""
    handles = [Patch(color=NUDGED_COLOR, label="nudged phase (β ≠ 0)"),
               Patch(facecolor="white", edgecolor="0.6", lw=0.5, label="free phase (β = 0)")]
    if samples:
        handles.append(Line2D([], [], color=SAMPLE_COLOR, lw=0.6, ls=":", label="sample onset"))
    return handles


def layer_color(k):
    """The colour of layer k (1-based) in every figure: the k-th colour of the style's cycle."""
    colors = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
    return colors[(k - 1) % len(colors)]


def integer_ticks(axis, nbins="auto"):
    """Put the major ticks of ``axis`` (e.g. ``ax.xaxis``) at whole numbers only, such as epochs.

    At most ``nbins`` intervals, in steps of 1, 2 or 5 times a power of ten; a view that holds a single
    whole number gets that one tick (where `matplotlib.ticker.MaxNLocator` would fall back to fractions).
    """
    axis.set_major_locator(MaxNLocator(nbins=nbins, integer=True, steps=[1, 2, 5, 10], min_n_ticks=1))
