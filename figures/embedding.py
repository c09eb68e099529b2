"""Two-dimensional embedding of the last hidden layer's test representations, coloured by class.

PCA (numpy SVD of the centred representations) by default; t-SNE (`sklearn.manifold.TSNE`) with
``method="tsne"``. Reads ``representations.npz`` (free-phase rates ``h_L{k}`` of the test samples and
their ``labels``), and the data set from ``config.json`` to name the classes (Fashion-MNIST, CIFAR-10).
"""

import matplotlib
import numpy as np

from corinfo_sim.errors import CorInfoError

from . import style
from .results import read_npz, require_keys, layer_numbers, read_dataset, dataset_class_names, save_figure

__all__ = ["METHODS", "pca", "tsne", "embed", "plot_embedding", "load", "make"]

METHODS = ("pca", "tsne")


def pca(h, n_components=2):
    """Principal components of ``h`` (n, d) by SVD.

    Returns
    -------
    coords : ndarray, shape (n, n_components)
    explained : ndarray, shape (n_components,)
        Fraction of the total variance of each component.
    """
    h = np.asarray(h, dtype=float)
    centred = h - h.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    var = s ** 2
    total = var.sum()
    k = min(n_components, vt.shape[0])
    coords = centred @ vt[:k].T
    explained = var[:k] / total if total > 0 else np.zeros(k)
    if k < n_components:  # fewer dimensions than components: pad with zeros
        coords = np.hstack([coords, np.zeros((h.shape[0], n_components - k))])
        explained = np.concatenate([explained, np.zeros(n_components - k)])
    return coords, explained


def tsne(h, seed=0, perplexity=30.0):
    """t-SNE embedding in 2-D (`sklearn.manifold.TSNE`, PCA initialisation); perplexity capped at (n−1)/3."""
    from sklearn.manifold import TSNE

    h = np.asarray(h, dtype=float)
    perplexity = float(min(perplexity, max(1.0, (h.shape[0] - 1) / 3.0)))
    return TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(h)


def embed(h, method="pca", seed=0):
    """2-D coordinates and axis labels: ``(coords (n, 2), (xlabel, ylabel))``."""
    if method == "pca":
        coords, explained = pca(h)
        return coords, tuple(f"PC {i + 1} ({100 * e:.0f} % of variance)" for i, e in enumerate(explained))
    if method == "tsne":
        return tsne(h, seed=seed), ("t-SNE 1 (a.u.)", "t-SNE 2 (a.u.)")
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def load(run_dir, layer=None):
    """``(h, labels, k)``: representations of layer ``k`` (default: the last hidden layer) and labels."""
    data = read_npz(run_dir, "representations.npz")
    where = f"representations.npz in {run_dir}"
    require_keys(data, ["labels"], where)
    ks = layer_numbers(data, "h_L")
    if not ks:
        raise CorInfoError(f"{where} has no h_L{{k}} arrays: re-run the probe that writes it")
    if layer is None:
        layer = ks[-2] if len(ks) > 1 else ks[-1]
    if layer not in ks:
        raise CorInfoError(f"{where} has no h_L{layer}: recorded layers are {ks}")
    h = np.asarray(data[f"h_L{layer}"], dtype=float)
    labels = np.asarray(data["labels"]).ravel()
    if h.shape[0] != labels.shape[0]:
        raise CorInfoError(f"{where}: h_L{layer} has {h.shape[0]} rows but labels has {labels.shape[0]}; "
                           "re-run the probe")
    return h, labels, layer


@style.styled
def plot_embedding(h, labels, method="pca", layer=None, class_names=None, max_points=5000, seed=0, axes=None):
    """Scatter of a 2-D embedding of representations, one colour per class.

    Parameters
    ----------
    h : array_like, shape (n, n_k)
        Representations (rates) of n samples.
    labels : array_like of int, shape (n,)
        Class of each sample.
    method : {"pca", "tsne"}
    layer : int, optional
        Layer number, for the title.
    class_names : sequence of str, optional
        Legend label of each class, indexed by label (e.g. ``corinfo_sim.datasets.CLASS_NAMES[name]``);
        default, and for labels beyond it: the class number.
    max_points : int
        Embed a random subset of at most this many samples (t-SNE is slow on large sets).
    seed : int
        Seed of the subset and of t-SNE.
    axes : Axes, optional
        A new single-column figure when None.

    Returns
    -------
    Axes
        One scatter collection per class, labelled with the class.
    """
    h = np.asarray(h, dtype=float)
    labels = np.asarray(labels).ravel()
    if h.ndim != 2 or h.shape[0] != labels.shape[0]:
        raise ValueError(f"h must have shape (n, n_k) with n = {labels.shape[0]} labels, got {h.shape}")
    if h.shape[0] > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(h.shape[0], max_points, replace=False))
        h, labels = h[keep], labels[keep]
    coords, (xlabel, ylabel) = embed(h, method=method, seed=seed)
    if axes is None:
        _, axes = style.new_figure("single", height=2.8)
    classes = np.unique(labels)
    cmap = "tab10" if classes.size <= 10 else "tab20"
    colors = matplotlib.colormaps[cmap]
    size = 6 if h.shape[0] <= 2000 else 2
    for i, c in enumerate(classes):
        mask = labels == c
        name = class_names[int(c)] if class_names is not None and 0 <= int(c) < len(class_names) else str(c)
        axes.scatter(coords[mask, 0], coords[mask, 1], s=size, color=colors(i % colors.N), lw=0, alpha=0.8,
                     label=name, rasterized=h.shape[0] > 2000)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    where = f"layer {layer}" if layer is not None else "representations"
    axes.set_title(f"{where}, {'PCA' if method == 'pca' else 't-SNE'}, {h.shape[0]} test samples", loc="left")
    axes.legend(title="class", loc="center left", bbox_to_anchor=(1.0, 0.5), markerscale=2.0,
                handletextpad=0.2, borderaxespad=0.2)
    return axes


def make(run_dir, out, traces=None, method="pca", layer=None, **options):
    """Draw the embedding of a run folder's test representations and write ``out`` (PNG and PDF).

    The classes are named after the data set of the run's ``config.json`` (`results.dataset_class_names`).
    """
    h, labels, k = load(run_dir, layer)
    options.setdefault("class_names", dataset_class_names(read_dataset(run_dir)))
    with style.use():
        ax = plot_embedding(h, labels, method=method, layer=k, **options)
        return save_figure(ax.figure, out)
