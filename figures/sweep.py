"""Sweep results: test accuracy against one swept parameter, or a heatmap over two.

Reads ``results.csv`` of a sweep folder (``corinfo-sim sweep SPEC --out DIR``), or a copy of that
file kept elsewhere (the README's study figures keep theirs beside the figure, so that a figure can be
drawn again without the run folders), one row per point:
``id``, ``seed``, one column per parameter key (the columns between ``seed`` and ``status``, as text:
``0.3``, lists such as ``0.25,0.175``, empty where a point does not set the key), ``status``
(``done``, ``diverged``, ``pending`` or ``failed: <message>``), ``epochs_done``, ``final_test_acc``
and ``best_test_acc`` (percent), ``best_epoch``, ``test_acc_per_epoch``, timings and build columns.

With one parameter (``--x``): the final test accuracy, mean ± std (population std, as in
``summary.md``) over the finished (``done``) points of every value, one line per combination of the
other parameters; the best test accuracy as a faint dashed line of the same colour; diverged points
as red crosses (at the bottom of the axis when they finished no epoch). With two (``--x`` and
``--y``): a heatmap of the mean final test accuracy, averaged over seeds and the other parameters.
Pending and failed points are left out.
"""

import csv
import math
from pathlib import Path

import matplotlib.transforms as mtransforms
import numpy as np
from matplotlib.lines import Line2D

from corinfo_sim.errors import CorInfoError

from . import style
from .results import run_folder, save_figure

__all__ = ["DIVERGED_COLOR", "load", "parameters", "plot_accuracy", "plot_heatmap", "make"]

#: Colour of the markers of diverged points.
DIVERGED_COLOR = "red"

#: Columns every results.csv has (the parameter columns lie between ``seed`` and ``status``).
REQUIRED = ("id", "seed", "status", "final_test_acc", "best_test_acc")

_INTS = ("seed", "epochs_done", "best_epoch")
_FLOATS = ("final_test_acc", "best_test_acc", "train_s_per_epoch", "epoch_s", "build_s")

_DEFAULT = "default"  # how a point that does not set a key is shown


# ---- reading ------------------------------------------------------------------------------------


def _rerun(folder):
    return f"write it again with 'corinfo-sim sweep SPEC --out {folder} --resume'"


#: The fix of a results table given as a file: it is not one a sweep wrote.
_NOT_A_TABLE = "give a sweep folder or a copy of the results.csv a sweep wrote"


def _convert(row, column, text, kind, where, fix):
    text = (text or "").strip()
    try:
        if kind is int:
            return int(float(text)) if text else None
        if kind is float:
            return float(text) if text else math.nan
        return [float(v) for v in text.split()]
    except ValueError:
        raise CorInfoError(f"{where}, point {row.get('id') or '?'}: {column} {text!r} is not a number: "
                           f"{fix}") from None


def load(run_dir):
    """The rows of ``run_dir/results.csv``, numeric columns converted.

    Parameters
    ----------
    run_dir : str or Path, or a list of them
        Sweep folder (``corinfo-sim sweep SPEC --out DIR``) or a copy of its ``results.csv``, or
        several of them that hold parts of one sweep (e.g. its seeds run one after the other): their
        rows together.

    Returns
    -------
    list of dict
        One dict per point, keys in the order of the columns. ``seed``, ``epochs_done`` and
        ``best_epoch`` are ints (``best_epoch`` None when empty), ``final_test_acc``,
        ``best_test_acc`` and the timings floats (NaN when empty), ``test_acc_per_epoch`` a list of
        floats; the parameter columns and the other columns stay text. `parameters` gives the
        parameter columns.

    Raises
    ------
    CorInfoError
        Missing folder or file, missing columns, no rows, or a value that is not a number; parts
        that vary other parameters, or that both hold a point with the same seed.
    """
    if isinstance(run_dir, (list, tuple)):
        return _load_parts(run_dir)
    path, where, fix, first = _table(run_dir)
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            columns = list(reader.fieldnames or [])
            raw = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise CorInfoError(f"{where} cannot be read ({err}): {fix}") from None
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise CorInfoError(f"{where} has no column {', '.join(missing)}: it is not a sweep's results table; "
                           f"{fix}")
    if columns.index("status") < columns.index("seed"):
        raise CorInfoError(f"{where} has its status column before seed: {fix}")
    if not raw:
        raise CorInfoError(f"{where} lists no points: {first}")
    rows = []
    for entry in raw:
        row = {c: (entry.get(c) or "").strip() for c in columns}
        for column in _INTS + _FLOATS + ("test_acc_per_epoch",):
            if column in row:
                kind = int if column in _INTS else float if column in _FLOATS else list
                row[column] = _convert(entry, column, entry.get(column), kind, where, fix)
        if row["seed"] is None:
            raise CorInfoError(f"{where}, point {row['id'] or '?'}: no seed: {fix}")
        rows.append(row)
    return rows


def _table(run_dir):
    """The results table of ``run_dir`` (a sweep folder or a copy of its results.csv): its path, its
    name in messages, how to write it again, and how to fill it when it lists no points."""
    if run_dir is not None and Path(run_dir).is_file():
        return Path(run_dir), f"results table {run_dir}", _NOT_A_TABLE, _NOT_A_TABLE
    folder = run_folder(run_dir)
    path = folder / "results.csv"
    if not path.is_file():
        raise CorInfoError(f"sweep folder {folder} holds no results.csv: run 'corinfo-sim sweep SPEC --out "
                           f"{folder}' first")
    return path, f"results.csv in {folder}", _rerun(folder), f"run 'corinfo-sim sweep SPEC --out {folder}' first"


def _load_parts(folders):
    """The rows of several sweep folders (or copies of their results.csv) that are parts of one sweep."""
    rows, seen, first = [], {}, None
    for folder in folders:
        part = load(folder)
        if first is None:
            first = (folder, parameters(part))
        elif parameters(part) != first[1]:
            raise CorInfoError(f"sweep parts {first[0]} and {folder} vary other parameters "
                               f"({', '.join(first[1])} against {', '.join(parameters(part))}): draw them one at a time")
        for row in part:
            key = tuple(row[name] for name in first[1]) + (row["seed"],)
            if key in seen:
                raise CorInfoError(f"sweep parts {seen[key]} and {folder} both hold point {row['id']} with seed "
                                   f"{row['seed']}: give each point and seed once")
            seen[key] = folder
        rows += part
    return rows


def parameters(rows):
    """The parameter columns of ``rows`` (as read by `load`): the keys between ``seed`` and ``status``."""
    if not rows:
        return []
    keys = list(rows[0])
    return keys[keys.index("seed") + 1:keys.index("status")]


# ---- checks and grouping ------------------------------------------------------------------------


def _state(row):
    return str(row["status"]).split(":")[0].strip()


def _finished(rows):
    """The done and diverged rows (pending and failed ones are left out)."""
    return [r for r in rows if _state(r) in ("done", "diverged")]


def _check(rows, x, y=None, where="the sweep"):
    """CorInfoError, one line, unless x (and y) are parameter columns and some point finished."""
    keys = parameters(rows)
    if not keys:
        raise CorInfoError(f"{where} has no parameter columns: sweep at least one parameter "
                           "([grid] or [[points]] of the sweep file)")
    choose = ", ".join(keys)
    if x is None:
        raise CorInfoError(f"no parameter for the x axis: choose --x from: {choose}")
    if x not in keys:
        raise CorInfoError(f"{where} has no parameter {x!r}: choose --x from: {choose}")
    if y is not None:
        if y not in keys:
            raise CorInfoError(f"{where} has no parameter {y!r}: choose --y from: {choose}")
        if y == x:
            raise CorInfoError(f"--x and --y are both {x!r}: choose two different parameters from: {choose}")
    finished = _finished(rows)
    if not finished:
        counts = {}
        for r in rows:
            counts[_state(r) or "?"] = counts.get(_state(r) or "?", 0) + 1
        states = ", ".join(f"{n} {s}" for s, n in counts.items())
        raise CorInfoError(f"{where} has no finished points ({states}): let 'corinfo-sim sweep' finish, or run "
                           "it again with --resume")
    return finished


def _number(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _is_numeric(values):
    """True if every non-empty value is a number (and there is one)."""
    given = [v for v in values if v != ""]
    return bool(given) and all(_number(v) is not None for v in given)


def _show(value):
    return value if value != "" else _DEFAULT


def _categories(values, numeric):
    """Distinct values in axis order: ascending when numeric (empty first), else in order of appearance."""
    seen = list(dict.fromkeys(values))
    if numeric:
        return [v for v in seen if v == ""] + sorted((v for v in seen if v != ""), key=float)
    return seen


def _mean_std(values):
    values = np.asarray([v for v in values if math.isfinite(v)], dtype=float)
    if values.size == 0:
        return math.nan, math.nan
    return float(values.mean()), float(values.std())


# ---- one parameter: accuracy against x ----------------------------------------------------------


def _follows(rows, x, k):
    """Whether parameter ``k`` has one value per value of ``x`` in ``rows`` (is varied together with it)."""
    seen = {}
    return all(seen.setdefault(r[x], r[k]) == r[k] for r in rows)


@style.styled
def plot_accuracy(rows, x, axes=None):
    """Final test accuracy (mean ± std over seeds) against parameter ``x``, one line per other setting.

    Numeric values of ``x`` go on a numeric axis (logarithmic when all are positive and span a factor
    of 20 or more; with 0 among them and the others spanning that factor, symmetric-logarithmic:
    linear from 0 to the smallest positive value, logarithmic beyond, a tick at every level; points
    without a value of ``x`` are left out), other values (lists, text) on a
    categorical axis in order of first appearance. Points that share the values of the other
    parameters form one line (a parameter varied together with ``x``, one value per value of
    ``x`` as ``noise_dendrite`` with ``noise_soma``, is not another parameter), labelled with the
    values that differ between lines (legend only when there is more than one line). The mean best test accuracy is drawn as a faint dashed line of the
    same colour. Diverged points are red crosses at their final accuracy (at the bottom of the axis
    when they finished no epoch); pending and failed points are left out. The mean and std are over
    the ``done`` points (population std).

    Parameters
    ----------
    rows : list of dict
        As returned by `load`.
    x : str
        A parameter column (see `parameters`).
    axes : Axes, optional

    Returns
    -------
    Axes

    Raises
    ------
    CorInfoError
        ``x`` is not a parameter column, or no point finished.
    """
    finished = _check(rows, x)
    ax = axes
    if ax is None:
        _, ax = style.new_figure("single")
    numeric = _is_numeric([r[x] for r in finished])
    if numeric:
        finished = [r for r in finished if r[x] != ""]
    order = _categories([r[x] for r in finished], numeric=False)  # first appearance
    position = {v: float(v) for v in order} if numeric else {v: float(i) for i, v in enumerate(order)}

    others = [k for k in parameters(rows) if k != x and not _follows(rows, x, k)]
    groups = {}
    for r in finished:
        groups.setdefault(tuple(r[k] for k in others), []).append(r)
    varying = [i for i, k in enumerate(others) if len({key[i] for key in groups}) > 1]

    lines = []
    for n, (key, group) in enumerate(groups.items()):
        label = ", ".join(f"{others[i]}={_show(key[i])}" for i in varying) or None
        values = [v for v in _categories([r[x] for r in group], numeric) if v in position]
        if not numeric:
            values.sort(key=position.get)
        done = [r for r in group if _state(r) == "done"]
        xs, final, spread, best = [], [], [], []
        for v in values:
            at = [r for r in done if r[x] == v]
            mean, std = _mean_std([r["final_test_acc"] for r in at])
            if math.isnan(mean):
                continue
            xs.append(position[v])
            final.append(mean)
            spread.append(std)
            best.append(_mean_std([r["best_test_acc"] for r in at])[0])
        if not xs:
            continue
        color = f"C{n % 10}"
        bars = ax.errorbar(xs, final, yerr=spread, color=color, marker="o", ms=3.5, lw=1.0, capsize=2,
                           elinewidth=0.7, label=label)
        bars.lines[0].set_data(np.asarray(xs, dtype=float), np.asarray(final, dtype=float))  # not object arrays
        bars.lines[0].set_gid("final")
        lines.append(bars)
        dashed, = ax.plot(xs, best, color=color, ls="--", lw=0.8, alpha=0.45, label="_best")
        dashed.set_gid("best")

    diverged = [r for r in finished if _state(r) == "diverged"]
    marks = []
    if diverged:
        at_value = [r for r in diverged if math.isfinite(r["final_test_acc"])]
        no_epoch = [r for r in diverged if not math.isfinite(r["final_test_acc"])]
        kw = dict(ls="none", marker="x", ms=5, mew=1.2, color=DIVERGED_COLOR, zorder=5)
        if at_value:
            mark, = ax.plot([position[r[x]] for r in at_value], [r["final_test_acc"] for r in at_value], **kw)
            marks.append(mark)
        if no_epoch:  # no finished epoch: at the bottom of the axis, whatever its limits
            bottom = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
            mark, = ax.plot([position[r[x]] for r in no_epoch], [0.0] * len(no_epoch), transform=bottom,
                            clip_on=False, **kw)
            marks.append(mark)
        for mark in marks:
            mark.set_gid("diverged")
            mark.set_label("_diverged")

    if numeric:
        values = np.asarray(list(position.values()), dtype=float)
        positive = values[values > 0]
        if positive.size and positive.max() / positive.min() >= 20:
            if values.min() > 0:
                ax.set_xscale("log")
            elif values.min() == 0:  # 0 (an option off) beside values over decades: linear up to the smallest
                ax.set_xscale("symlog", linthresh=positive.min(), linscale=0.5)
                ax.set_xticks(sorted(values), [f"{v:g}" for v in sorted(values)])  # one tick per level
    else:
        ax.set_xticks(list(position.values()), [_show(v) for v in order])
        if len(order) > 4 or max(len(_show(v)) for v in order) > 8:
            for label in ax.get_xticklabels():
                label.set_rotation(30)
                label.set_ha("right")
        ax.set_xlim(-0.5, len(order) - 0.5)
    ax.set_xlabel(x)
    ax.set_ylabel("test accuracy (%)")

    handles = [bars for bars in lines] if len(lines) > 1 else []
    if handles or marks:
        if lines:
            handles.append(Line2D([], [], color="0.5", ls="--", lw=0.8, alpha=0.6, label="best epoch"))
        if marks:
            handles.append(Line2D([], [], ls="none", marker="x", ms=5, mew=1.2, color=DIVERGED_COLOR,
                                  label="diverged"))
        ax.legend(handles=handles, loc="best")
    return ax


# ---- two parameters: heatmap ----------------------------------------------------------------------


def _grid(rows, x, y):
    """(x values, y values, mean final accuracy (ny, nx), all-diverged mask (ny, nx)) over the finished points."""
    finished = _finished(rows)
    xs = _categories([r[x] for r in finished], _is_numeric([r[x] for r in finished]))
    ys = _categories([r[y] for r in finished], _is_numeric([r[y] for r in finished]))
    mean = np.full((len(ys), len(xs)), np.nan)
    all_diverged = np.zeros((len(ys), len(xs)), dtype=bool)
    for i, vy in enumerate(ys):
        for j, vx in enumerate(xs):
            cell = [r for r in finished if r[x] == vx and r[y] == vy]
            mean[i, j] = _mean_std([r["final_test_acc"] for r in cell if _state(r) == "done"])[0]
            all_diverged[i, j] = bool(cell) and all(_state(r) == "diverged" for r in cell)
    return xs, ys, mean, all_diverged


@style.styled
def plot_heatmap(rows, x, y, axes=None):
    """Mean final test accuracy over parameter ``x`` (columns) × parameter ``y`` (rows).

    Every cell averages the ``done`` points of its two values over seeds and the other parameters,
    and is annotated with its value; cells whose points all diverged read "div.", cells without
    points stay empty. Numeric values are sorted (upwards for ``y``), others are in order of first
    appearance. A colour bar gives the scale.

    Parameters
    ----------
    rows : list of dict
        As returned by `load`.
    x, y : str
        Two different parameter columns (see `parameters`).
    axes : Axes, optional

    Returns
    -------
    Axes
        The heatmap's Axes; its image (``axes.images[0]``) holds the means, rows ordered as the y
        tick labels.

    Raises
    ------
    CorInfoError
        ``x`` or ``y`` is not a parameter column, they are the same, or no point finished.
    """
    _check(rows, x, y)
    ax = axes
    if ax is None:
        _, ax = style.new_figure("single", height=0.5 + 0.9 * style.WIDTHS["single"] * 0.75)
    xs, ys, mean, all_diverged = _grid(rows, x, y)
    data = np.ma.masked_invalid(mean)
    finite = mean[np.isfinite(mean)]
    vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 100.0)
    if vmin == vmax:
        vmin, vmax = vmin - 1.0, vmax + 1.0
    image = ax.imshow(data, origin="lower", aspect="auto", cmap="viridis", vmin=vmin, vmax=vmax,
                      interpolation="nearest")
    cmap = image.get_cmap()
    for i in range(len(ys)):
        for j in range(len(xs)):
            if np.isfinite(mean[i, j]):
                level = (mean[i, j] - vmin) / (vmax - vmin)
                r, g, b, _ = cmap(level)
                color = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
                ax.text(j, i, f"{mean[i, j]:.1f}", ha="center", va="center", fontsize="small", color=color)
            elif all_diverged[i, j]:
                ax.text(j, i, "div.", ha="center", va="center", fontsize="small", color=DIVERGED_COLOR)
    ax.set_xticks(range(len(xs)), [_show(v) for v in xs])
    ax.set_yticks(range(len(ys)), [_show(v) for v in ys])
    if len(xs) > 4 or max(len(_show(v)) for v in xs) > 8:
        for label in ax.get_xticklabels():
            label.set_rotation(30)
            label.set_ha("right")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    bar = ax.figure.colorbar(image, ax=ax)
    bar.set_label("final test accuracy (%)")
    bar.outline.set_linewidth(0.5)
    return ax


# ---- the figure -------------------------------------------------------------------------------------


def make(run_dir, out, traces=None, x=None, y=None):
    """Draw the sweep figure of a sweep folder and write ``out`` (PNG and PDF).

    Parameters
    ----------
    run_dir : str or Path, or a list of them
        Sweep folder holding ``results.csv`` or a copy of that file, or several of them with parts
        of one sweep.
    out : str or Path
        Output file (``.png``, ``.pdf`` or ``.svg``).
    traces : ignored
        Accepted like every figure's ``make``; the sweep figure has no traces.
    x : str
        Parameter on the x axis (required).
    y : str, optional
        A second parameter: a heatmap over ``x`` × ``y`` instead of lines.

    Returns
    -------
    list of Path
    """
    rows = load(run_dir)
    parts = run_dir if isinstance(run_dir, (list, tuple)) else [run_dir]
    _check(rows, x, y, where=", ".join(str(_table(part)[0]) for part in parts))
    with style.use():
        ax = plot_accuracy(rows, x) if y is None else plot_heatmap(rows, x, y)
        return save_figure(ax.figure, out)
