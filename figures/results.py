"""Reading saved results for the figures, and writing the figure files.

Figures never re-run a simulation: they read what a run wrote into its folder. A missing folder or
file raises `corinfo_sim.errors.CorInfoError` with one line naming the file and how to produce it.

Files of a run folder ``DIR/`` (all written by the simulator):

``metrics.json``         accuracies per epoch (fractions), timings, seed, dataset, arch, params
``config.json``          arch, dataset, image_shape, resolved parameters
``weights.npz``          ``Wff{k}``, ``Wfb{k}``, ``B{k}`` (dimensionless)
``diagnostics.npz``      ``samples_seen``, ``epoch``, ``angle_L{k}`` (degrees), ``active_L{k}``, ``sum_r_L{k}``
``corinfo.npz``          ``t`` (ms), ``phase``, ``epoch``, ``I_fwd_L{k}``, ``I_bwd_L{k}`` (nats)
``representations.npz``  ``h_L{k}`` free-phase rates of test samples, ``labels``
``traces.npz``           membrane potentials (mV), rates, interneuron activity, teacher, phases
"""

import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from corinfo_sim.datasets import CLASS_NAMES
from corinfo_sim.errors import CorInfoError

__all__ = [
    "HOW_TO_MAKE",
    "run_folder",
    "read_json",
    "read_npz",
    "require_keys",
    "layer_numbers",
    "seed_folders",
    "read_architecture",
    "read_dataset",
    "dataset_class_names",
    "save_figure",
]

#: How to produce each result file, for the error messages.
HOW_TO_MAKE = {
    "metrics.json": "train a network into that folder with `corinfo-sim train ... --out DIR`",
    "config.json": "train a network into that folder with `corinfo-sim train ... --out DIR`",
    "weights.npz": "train a network into that folder with `corinfo-sim train ... --out DIR`",
    "diagnostics.npz": "train with diagnostics recorded (`corinfo-sim train ... --out DIR`)",
    "corinfo.npz": "record correlative information while training (`corinfo-sim train ... --out DIR`)",
    "representations.npz": "train a network into that folder with `corinfo-sim train ... --out DIR` (it saves the test-set representations)",
    "traces.npz": "run `corinfo-sim traces ... --out DIR/traces.npz` or pass --traces T.npz",
}

FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def run_folder(run_dir):
    """The run folder as a Path; CorInfoError if it does not exist."""
    if run_dir is None:
        raise CorInfoError("no run folder given: pass the folder a run wrote its results to")
    path = Path(run_dir)
    if not path.is_dir():
        raise CorInfoError(
            f"run folder {path} does not exist: pass the folder a run wrote its results to "
            f"(`corinfo-sim train ... --out DIR`)"
        )
    return path


def _missing(path, name):
    how = HOW_TO_MAKE.get(name, "re-run the protocol that writes it")
    seeds = seed_folders(path.parent)
    if seeds:
        how += f", or pass one seed's folder of this protocol folder, e.g. {seeds[min(seeds)]}"
    return CorInfoError(f"run folder {path.parent} has no {name}: {how}")


def read_json(run_dir, name):
    """Load ``run_dir/name`` as JSON; CorInfoError if the folder or file is missing or unreadable."""
    path = run_folder(run_dir) / name
    if not path.is_file():
        raise _missing(path, name)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise CorInfoError(f"{path} is not valid JSON ({err}): re-write it or re-run the protocol") from None


def read_npz(run_dir=None, name=None, path=None):
    """Load an ``.npz`` file into a dict of arrays.

    Either ``run_dir`` and ``name`` (the file ``run_dir/name``) or an explicit ``path``.
    CorInfoError if the folder or file is missing or unreadable.
    """
    if path is None:
        path = run_folder(run_dir) / name
        if not path.is_file():
            raise _missing(path, name)
    else:
        path = Path(path)
        if not path.is_file():
            raise CorInfoError(f"{path} does not exist: check the path, or produce it: "
                               f"{HOW_TO_MAKE.get(name or path.name, 're-run the protocol that writes it')}")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError) as err:
        raise CorInfoError(f"{path} is not a readable .npz file ({err}): re-run the protocol that writes it") from None


def require_keys(data, keys, where):
    """CorInfoError naming the first of ``keys`` missing from ``data`` (loaded from ``where``)."""
    missing = [key for key in keys if key not in data]
    if missing:
        raise CorInfoError(
            f"{where} has no {', '.join(missing)}: it was written by an incompatible version; re-run the protocol"
        )


def layer_numbers(data, prefix):
    """Sorted layer numbers k of the keys ``{prefix}{k}`` (e.g. prefix ``"angle_L"``)."""
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)$")
    return sorted(int(m.group(1)) for m in map(pattern.match, data) if m)


def seed_folders(run_dir):
    """``{seed: folder}`` of the ``seed_{s}`` subfolders of a protocol folder (empty if none)."""
    folders = {}
    for sub in run_folder(run_dir).glob("seed_*"):
        m = re.fullmatch(r"seed_(\d+)", sub.name)
        if m and sub.is_dir():
            folders[int(m.group(1))] = sub
    return dict(sorted(folders.items()))


def read_architecture(run_dir):
    """Layer sizes [n_0, ..., n_L] from config.json or metrics.json (of the run or of its first seed)."""
    path = run_folder(run_dir)
    candidates = [path] + list(seed_folders(path).values())[:1]
    for folder in candidates:
        for name in ("config.json", "metrics.json"):
            if (folder / name).is_file():
                arch = read_json(folder, name).get("arch")
                if arch:
                    arch = [int(n) for n in arch]
                    if len(arch) < 2 or min(arch) < 1:
                        raise CorInfoError(f"{folder / name} has an invalid arch {arch}: it needs at least "
                                           "two positive layer sizes")
                    return arch
    raise CorInfoError(
        f"run folder {path} has no config.json or metrics.json with an 'arch' entry: "
        f"{HOW_TO_MAKE['config.json']}"
    )


def read_dataset(run_dir):
    """The data set named in config.json or metrics.json (of the run or of its first seed); None if none."""
    path = run_folder(run_dir)
    for folder in [path] + list(seed_folders(path).values())[:1]:
        for name in ("config.json", "metrics.json"):
            if (folder / name).is_file():
                dataset = read_json(folder, name).get("dataset")
                if dataset:
                    return str(dataset)
    return None


def dataset_class_names(dataset):
    """Names of the classes of ``dataset`` by label (`corinfo_sim.datasets.CLASS_NAMES`).

    None for data sets whose classes are shown as numbers (digits, mnist, cifar100) and for None.
    """
    if not dataset:
        return None
    return CLASS_NAMES.get(str(dataset).strip().lower().replace("_", "-"))


def save_figure(fig, out, close=True):
    """Write ``fig`` to ``out`` and its PNG/PDF sibling; return the written paths.

    ``out`` ending in ``.png`` also writes ``.pdf`` next to it, ``.pdf`` also writes ``.png``, ``.svg``
    writes both; without a suffix both ``out.png`` and ``out.pdf`` are written. Parent folders are
    created. The figure is closed afterwards unless ``close=False``.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix and suffix not in FIGURE_SUFFIXES:
        raise CorInfoError(f"cannot write a figure to {out}: the output name must end in .png, .pdf or .svg")
    paths = [out] if suffix else []
    paths += [out.with_suffix(s) for s in (".png", ".pdf") if s != suffix]
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        for path in paths:
            fig.savefig(path)
    finally:
        if close:
            plt.close(fig)
    return paths
