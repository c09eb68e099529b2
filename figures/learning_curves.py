"""Train and test accuracy per epoch: one thin line per seed, mean ± std band across seeds.

Reads ``metrics.json`` of a single run folder, or ``seed_{s}/metrics.json`` of a protocol folder.
For MNIST and Fashion-MNIST the test panel carries the paper's reference accuracies (MNIST:
CorInfoMax and the other learning rules of the same study; Fashion-MNIST: CorInfoMax), and a third
panel zooms onto the last epochs, where the reference lines lie within tenths of a percent.
Up to `MARKER_EPOCHS` epochs every epoch is a marker, so that a run of one epoch shows as a point.

Given several folders (run, protocol or sweep folders, e.g. one sweep per learning rule), it
overlays them: one mean line and a ± std band over seeds per folder, labelled by its model
(`plot_rules`).
"""

import numpy as np
from matplotlib.lines import Line2D

from corinfo_sim.errors import CorInfoError

from . import style
from .results import read_json, run_folder, seed_folders, save_figure, HOW_TO_MAKE

__all__ = ["PAPER_REFERENCE", "MARKER_EPOCHS", "reference_accuracies", "load", "plot_learning_curves", "make",
           "load_groups", "plot_rules"]

#: Test accuracies (%) reported in Bozkurt, Pehlevan & Erdogan, "Correlative Information
#: Maximization: A Biologically Plausible Approach to Supervised Deep Neural Networks without Weight
#: Symmetry", NeurIPS 2023 (arXiv:2306.04810), results table: CorInfoMax and the other learning rules
#: compared there (equilibrium propagation EP, contrastive similarity matching CSM, predictive coding PC
#: and PC-Nudge) on MNIST, CorInfoMax on Fashion-MNIST.
PAPER_REFERENCE = {
    "mnist": {"CorInfoMax": 97.6, "EP": 97.6, "CSM": 98.1, "PC": 98.2, "PC-Nudge": 98.0},
    "fashion-mnist": {"CorInfoMax": 88.14},
}

#: Panels that show at most this many epochs mark every epoch (a single epoch is then a visible point).
MARKER_EPOCHS = 20

#: At most this many tick intervals on the epoch axis of the narrow zoom panel.
ZOOM_TICK_BINS = 4

_ALIASES = {"fashion_mnist": "fashion-mnist", "fashionmnist": "fashion-mnist", "fmnist": "fashion-mnist"}

_COLORS = {"train_acc": "#D55E00", "test_acc": "#0072B2"}

_REFERENCE_STYLE = {
    "CorInfoMax": dict(color="0.1", ls="--"),
    "EP": dict(color="#E69F00", ls=":"),
    "CSM": dict(color="#CC79A7", ls="-."),
    "PC": dict(color="#56B4E9", ls=(0, (5, 2))),
    "PC-Nudge": dict(color="#009E73", ls=(0, (1, 1.5))),
}


def reference_accuracies(dataset):
    """The paper's test accuracies (%) for ``dataset`` as ``{rule: accuracy}`` (empty if none)."""
    if not dataset:
        return {}
    key = str(dataset).lower()
    return dict(PAPER_REFERENCE.get(_ALIASES.get(key, key), {}))


def load(run_dir):
    """Read the metrics of a run folder or of every seed of a protocol folder.

    Returns
    -------
    runs : dict of int to dict
        ``{seed: metrics}``.
    dataset : str or None
        The data set named in the metrics.
    """
    folder = run_folder(run_dir)
    if (folder / "metrics.json").is_file():
        metrics = read_json(folder, "metrics.json")
        runs = {int(metrics.get("seed", 0)): metrics}
    else:
        seeds = {s: sub for s, sub in seed_folders(folder).items() if (sub / "metrics.json").is_file()}
        if not seeds:
            raise CorInfoError(
                f"run folder {folder} has no metrics.json and no seed_*/metrics.json: {HOW_TO_MAKE['metrics.json']}"
            )
        runs = {s: read_json(sub, "metrics.json") for s, sub in seeds.items()}
    for seed, metrics in runs.items():
        for key in ("train_acc", "test_acc"):
            if not isinstance(metrics.get(key), list):
                raise CorInfoError(f"metrics.json of seed {seed} in {folder} has no '{key}' list: "
                                   "the run did not finish an epoch; re-run it")
    if not any(len(m["test_acc"]) for m in runs.values()):
        raise CorInfoError(f"metrics.json in {folder} has no finished epoch yet: wait for the first epoch "
                           "or re-run the training")
    datasets = {m.get("dataset") for m in runs.values()} - {None}
    return runs, (sorted(datasets)[0] if datasets else None)


def _stack(curves):
    """Pad per-seed curves of different lengths with nan: array (seeds, epochs)."""
    n = max(len(c) for c in curves)
    out = np.full((len(curves), n), np.nan)
    for i, c in enumerate(curves):
        out[i, : len(c)] = c
    return out


def _draw(ax, acc, color, labels=True, markers=None):
    """Seed lines, and the mean ± std over seeds when there are several; returns legend handles.

    With ``markers`` (default: up to `MARKER_EPOCHS` epochs) every epoch is marked. The std is a band
    (``gid="std"``), or an error bar for a single epoch, over which a band has no width.
    """
    many = acc.shape[0] > 1
    n_epochs = acc.shape[1]
    epochs = np.arange(1, n_epochs + 1)
    marker = "o" if (n_epochs <= MARKER_EPOCHS if markers is None else markers) else None
    lines = [ax.plot(epochs, row, color=color, lw=0.6 if many else 1.2, alpha=0.45 if many else 1.0,
                     marker=marker, ms=2.0 if many else 3.0, label=label)[0]
             for label, row in zip(labels, acc)]
    if not many:
        return [lines[0]], [lines[0].get_label()]
    n = np.sum(~np.isnan(acc), axis=0)
    mean = np.nanmean(acc, axis=0)
    std = np.where(n > 1, np.nanstd(acc, axis=0), 0.0)
    if n_epochs > 1:
        spread = ax.fill_between(epochs, mean - std, mean + std, color=color, alpha=0.2, lw=0)
        spread.set_gid("std")
    else:
        spread = ax.errorbar(epochs, mean, yerr=std, fmt="none", ecolor=color, elinewidth=1.0, capsize=2.5)
        for artist in spread.get_children():
            artist.set_gid("std")
    (mean_line,) = ax.plot(epochs, mean, color=color, lw=1.5, marker=marker, ms=3.5, label="mean")
    seeds = Line2D([], [], color=color, lw=0.6, alpha=0.6, marker=marker, ms=2.0)
    return [seeds, (mean_line, spread)], [f"single seeds ({acc.shape[0]})", "mean ± std"]


def _draw_references(ax, refs):
    lines = []
    for rule, value in refs.items():
        line = ax.axhline(value, lw=0.9, label=f"{rule} {value:g} %",
                          **_REFERENCE_STYLE.get(rule, dict(color="0.4", ls="--")))
        line.set_gid("reference")
        lines.append(line)
    return lines


@style.styled
def plot_learning_curves(runs, dataset=None, references=True, zoom=None, axes=None):
    """Train and test accuracy (%) per epoch, with the paper's reference accuracies.

    Parameters
    ----------
    runs : dict of int to dict
        ``{seed: metrics}`` with ``train_acc`` and ``test_acc`` lists of fractions per epoch.
    dataset : str, optional
        Data set name; selects the paper's reference lines (`PAPER_REFERENCE`).
    references : bool
        Draw the reference lines (test accuracy only).
    zoom : bool, optional
        Add a third panel: the test accuracy of the last epochs, zoomed onto the reference lines
        (which lie within a few tenths of a percent of each other). Default: when there are
        references to draw.
    axes : sequence of Axes, optional
        (train, test) or, with ``zoom``, (train, test, zoom). A new double-column figure when None.

    Returns
    -------
    ndarray of Axes, shape (2,) or (3,)
        Seed lines are labelled ``"seed s"``, the mean line ``"mean"``, the std over seeds has
        ``gid="std"``; reference lines have ``gid="reference"`` and labels ``"<rule> xx.x %"``.
    """
    if not runs:
        raise ValueError("no runs to plot")
    refs = reference_accuracies(dataset) if references else {}
    zoom = bool(refs) if zoom is None else zoom
    n_panels = 3 if zoom else 2
    if axes is None:
        _, axes = style.new_figure("double", height=2.4, ncols=n_panels,
                                   gridspec_kw={"width_ratios": [1, 1, 0.75][:n_panels]})
    axes = np.asarray(axes, dtype=object).ravel()
    if axes.size != n_panels:
        raise ValueError(f"plot_learning_curves needs {n_panels} Axes, got {axes.size}")
    labels = [f"seed {seed}" for seed in runs]
    name = f" ({dataset})" if dataset else ""
    for ax, key, title in zip(axes, ("train_acc", "test_acc"), ("train", "test")):
        acc = 100.0 * _stack([np.asarray(m[key], dtype=float) for m in runs.values()])
        color = _COLORS[key]
        handles, texts = _draw(ax, acc, color, labels)
        if key == "test_acc":
            _draw_references(ax, refs)
        ax.legend(handles, texts, loc="lower right")
        ax.set_title(f"{title} accuracy{name}", loc="left")
        ax.set_xlabel("epoch")
        style.integer_ticks(ax.xaxis)
        ax.set_ylabel("accuracy (%)")
    if zoom:
        ax = axes[2]
        acc = 100.0 * _stack([np.asarray(m["test_acc"], dtype=float) for m in runs.values()])
        n_epochs = acc.shape[1]
        first = max(1, n_epochs - max(3, int(np.ceil(n_epochs / 4))) + 1)
        n_shown = n_epochs - first + 1
        _draw(ax, acc, _COLORS["test_acc"], labels, markers=n_shown <= MARKER_EPOCHS)
        ref_lines = _draw_references(ax, refs)
        shown = acc[:, first - 1:]
        values = np.concatenate([shown[np.isfinite(shown)], list(refs.values())])
        lo, hi = values.min(), values.max()
        pad = max(0.15, 0.08 * (hi - lo))
        ax.set_xlim(first - 0.2, n_epochs + 0.2)
        ax.set_ylim(lo - pad, min(hi + pad, 100.0 + pad / 2))
        ax.set_title(f"test, last {n_shown} epoch{'s' if n_shown > 1 else ''}", loc="left")
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy (%)")
        style.integer_ticks(ax.xaxis, nbins=ZOOM_TICK_BINS)  # a narrow panel: few ticks stay readable
        if ref_lines:
            ax.legend(handles=ref_lines, title=f"paper{name}", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return axes


def make(run_dir, out, traces=None, **options):
    """Draw the learning curves of a run or protocol folder and write ``out`` (PNG and PDF); given
    several folders (a list) or a sweep folder, the rules of each overlaid (:func:`plot_rules`).

    ``options`` are passed on to `plot_learning_curves` (or `plot_rules`). Returns the written paths.
    """
    if _many(run_dir):  # several rules (run, protocol or sweep folders): one line each
        groups, dataset = load_groups(run_dir if isinstance(run_dir, (list, tuple)) else [run_dir])
        with style.use():
            axes = plot_rules(groups, dataset=options.pop("dataset", dataset), **options)
            return save_figure(axes[0].figure, out)
    if isinstance(run_dir, (list, tuple)):
        run_dir = run_dir[0]
    runs, dataset = load(run_dir)
    with style.use():
        axes = plot_learning_curves(runs, dataset=options.pop("dataset", dataset), **options)
        return save_figure(axes[0].figure, out)


# ---- several learning rules, one line each ---------------------------------------------------------
#: Colour of each model's mean line and band when several rules are overlaid.
RULE_COLORS = {"antisparse": "#0072B2", "sparse": "#56B4E9", "spiking": "#000000", "ep": "#E69F00",
               "fa": "#009E73", "bp": "#CC79A7"}
#: The paper's rule names of the models (for the reference lines drawn beside them).
RULE_NAMES = {"antisparse": "CorInfoMax", "ep": "EP", "fa": "FA", "bp": "BP"}


def sweep_runs(folder):
    """``{seed: metrics}`` of the points of a sweep folder (``points/*/metrics.json``) with a finished epoch."""
    runs = {}
    for point in sorted((folder / "points").iterdir()):
        if (point / "metrics.json").is_file():
            metrics = read_json(point, "metrics.json")
            if isinstance(metrics.get("test_acc"), list) and metrics["test_acc"]:
                runs[int(metrics.get("seed", len(runs)))] = metrics
    return runs


def load_groups(run_dirs):
    """Read several run, protocol or sweep folders: one group of seeds per folder.

    Returns
    -------
    groups : dict
        ``{label: {seed: metrics}}``, labelled by the folder's model (and its name when two
        folders hold the same model).
    dataset : str or None
    """
    groups, datasets = {}, set()
    for run_dir in run_dirs:
        folder = run_folder(run_dir)
        if (folder / "points").is_dir():
            runs = sweep_runs(folder)
            if not runs:
                raise CorInfoError(f"sweep folder {folder} has no point with a finished epoch yet: wait for the "
                                   "first epoch of a point")
        else:
            runs, _ = load(folder)
        models = sorted({m.get("model", "antisparse") for m in runs.values()})
        label = ", ".join(models)
        if label in groups:
            label = f"{label} ({folder.name})"
        groups[label] = runs
        datasets |= {m.get("dataset") for m in runs.values()} - {None}
    return groups, (sorted(datasets)[0] if len(datasets) == 1 else None)


@style.styled
def plot_rules(groups, dataset=None, references=True, axes=None):
    """Train and test accuracy (%) per epoch of several groups of runs (rules), mean ± std over seeds.

    Parameters
    ----------
    groups : dict
        ``{label: {seed: metrics}}`` (:func:`load_groups`); the label starts with the model name.
    dataset : str, optional
        Selects the paper's reference lines of the rules shown (test panel).
    references : bool
    axes : sequence of two Axes, optional

    Returns
    -------
    ndarray of Axes, shape (2,)
        Mean lines are labelled ``"<label> (n seeds)"``, bands have ``gid="std"``.
    """
    if not groups:
        raise ValueError("no runs to plot")
    if axes is None:
        _, axes = style.new_figure("double", height=2.6, ncols=2)
    axes = np.asarray(axes, dtype=object).ravel()
    refs = reference_accuracies(dataset) if references else {}
    shown = {RULE_NAMES.get(label.split(" ")[0].rstrip(",")) for label in groups}
    for ax, key, title in zip(axes, ("train_acc", "test_acc"), ("train", "test")):
        for n, (label, runs) in enumerate(groups.items()):
            acc = 100.0 * _stack([np.asarray(m[key], dtype=float) for m in runs.values()])
            color = RULE_COLORS.get(label.split(" ")[0].rstrip(","), style.layer_color(n + 1))
            epochs = np.arange(1, acc.shape[1] + 1)
            mean, std = np.nanmean(acc, axis=0), np.nanstd(acc, axis=0)
            marker = "o" if acc.shape[1] <= MARKER_EPOCHS else None
            ax.plot(epochs, mean, color=color, lw=1.4, marker=marker, ms=2.5, label=f"{label} ({acc.shape[0]} seed{'s' * (acc.shape[0] > 1)})")
            band = ax.fill_between(epochs, mean - std, mean + std, color=color, alpha=0.2, lw=0)
            band.set_gid("std")
        if key == "test_acc":
            _draw_references(ax, {rule: value for rule, value in refs.items() if rule in shown})
        ax.legend(loc="lower right", fontsize="small")
        ax.set_title(f"{title} accuracy" + (f" ({dataset})" if dataset else "") + ", mean ± std", loc="left")
        ax.set_xlabel("epoch")
        style.integer_ticks(ax.xaxis)
        ax.set_ylabel("accuracy (%)")
    return axes


def _many(run_dir):
    """Whether ``run_dir`` asks for the overlay of several rules: several folders, or a sweep folder."""
    if isinstance(run_dir, (list, tuple)):
        return len(run_dir) > 1 or _many(run_dir[0])
    return (run_folder(run_dir) / "points").is_dir()
