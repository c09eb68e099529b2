"""A training run's folder: the files each epoch writes, in which order, and what a resume reads.

:class:`RunRecord` owns the files of one run folder and the record they hold (metrics,
diagnostics, correlative information, the weights of the last finished epoch). It knows
nothing of networks or data: :func:`corinfo_sim.training.train` runs the epochs and hands
each finished one to :meth:`RunRecord.commit`. After every epoch the folder holds:

=========================  ===================================================================
file                       content
=========================  ===================================================================
``config.json``            resolved parameters, data set, code and Brian2 versions, device
``metrics.json``           per-epoch ``train_acc``, ``test_acc``, ``train_s``, ``eval_s``, ...
``weights.npz``            weights after the last finished epoch (public format)
``snapshots/``             ``weights_e{E}.npz`` after E epochs (E = 0: the initial weights)
``diagnostics.npz``        per epoch: forward/backward weight angle per hidden layer; fraction of
                           active units and mean Σ r per layer (test samples, free phase);
                           smallest and largest eigenvalue and condition number of every B_k;
                           with ``settle_tol``, the distribution of the steps each phase took
                           (``steps_free_*``, ``steps_nudged_*``, ``steps_test_*``: mean, p10, p50,
                           p90, max over the samples)
``corinfo.npz``            layerwise correlative information over the steps of the probe samples
``traces.npz``             membrane traces of the probe samples in the last epoch
``representations.npz``    free-phase rates of every layer for the test samples (last epoch)
``checkpoint.json``        the commit point: epochs done and the snapshot that holds their weights
``status.json``            ``running``, ``done``, ``interrupted``, ``diverged`` or ``collapsed``
=========================  ===================================================================

``checkpoint.json`` is written last, atomically, after every other file of the epoch: a resume
reads only it, the snapshot it names (snapshots are never rewritten) and the first entries of
the cumulative files, so a process killed at any point of the save resumes from a consistent
state. The folder's lock is :func:`corinfo_sim.runfolder.locked_folder`'s, taken by the caller.
"""
import json
import os

import brian2
import numpy as np

from .errors import CorInfoError
from .params import Params
from .runfolder import write_json
from .traces import save_npz as save_traces
from .weights import atomic_savez, load_weights, save_weights

#: The files of a run folder (``snapshots`` is a folder of them).
FILES = ("config.json", "metrics.json", "weights.npz", "diagnostics.npz", "corinfo.npz", "traces.npz",
         "representations.npz", "snapshots", "checkpoint.json", "status.json")
#: The per-epoch lists of ``metrics.json``.
EPOCH_METRICS = ("train_acc", "test_acc", "train_top5", "test_top5", "train_s", "eval_s", "epoch_s", "lr_factor")


def has_run(folder):
    """Whether ``folder`` holds a training run (finished or not)."""
    return any(os.path.exists(os.path.join(folder, name)) for name in ("checkpoint.json", "metrics.json"))


def epochs_done(folder):
    """Epochs committed by the checkpoint of the run in ``folder`` (0 if there is none)."""
    try:
        with open(os.path.join(folder, "checkpoint.json")) as f:
            return int(json.load(f)["epochs_done"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:  # run folders written before checkpoint.json existed
        with open(os.path.join(folder, "metrics.json")) as f:
            return int(json.load(f)["epochs_done"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def _after_write(name, epochs_done):
    """Called after each file of a checkpoint is written (tests replace it to inject a kill)."""


class RunRecord:
    """The record of one training run and the files that hold it.

    Made by :meth:`start` (a new run) or :meth:`resume` (the last checkpoint of a run);
    :meth:`commit` adds a finished epoch and writes it, the checkpoint last.

    Attributes
    ----------
    folder : str
    metrics : dict
        As in ``metrics.json``.
    weights : dict
        After the last committed epoch.
    diag : dict
        ``samples_seen``, ``angles`` and ``activity``: one entry per committed epoch, and one
        for the initial weights.
    corinfo : dict
        ``{epoch: {key: (n_probe, steps)}}``.
    """

    def __init__(self, folder, metrics, weights, diag, corinfo, n_train):
        self.folder = folder
        self.paths = {name: os.path.join(folder, name) for name in FILES}
        self.metrics, self.weights, self.diag, self.corinfo = metrics, weights, diag, corinfo
        self.n_train = n_train

    @property
    def epochs_done(self):
        return self.metrics["epochs_done"]

    @classmethod
    def start(cls, folder, config, metrics, weights, diag):
        """A new run: ``config.json``, the initial weights and the checkpoint of epoch 0.

        ``metrics`` holds the run's constant entries (the per-epoch lists are added empty);
        ``diag`` the diagnostics of the initial weights (one entry each).
        """
        metrics = {**{key: [] for key in EPOCH_METRICS}, "epochs_done": 0, "build_s": None, **metrics}
        diag = {"samples_seen": [0], "angles": [diag["angles"]], "activity": [diag["activity"]]}
        record = cls(folder, metrics, weights, diag, {}, config["n_train"])
        write_json(record.paths["config.json"], config)
        os.makedirs(record.paths["snapshots"], exist_ok=True)
        save_weights(record._snapshot(0), weights, metrics.get("model"))
        save_weights(record.paths["weights.npz"], weights, metrics.get("model"))
        record._save_diagnostics()
        write_json(record.paths["metrics.json"], metrics)
        record._write_checkpoint()
        return record

    @classmethod
    def resume(cls, folder, config, params):
        """The record of the last checkpoint of the run in ``folder``, made with ``config``.

        Raises
        ------
        CorInfoError
            The folder was made with other parameters or data, or its files are unreadable.
        """
        record = cls(folder, None, None, None, {}, config["n_train"])
        paths = record.paths
        try:
            with open(paths["config.json"]) as f:
                old = json.load(f)
            with open(paths["metrics.json"]) as f:
                metrics = json.load(f)
        except (OSError, ValueError) as e:
            raise CorInfoError(f"cannot resume: {paths['metrics.json']} or config.json is unreadable ({e}); "
                               f"start a new run with another --out") from None
        now = config["params"]
        try:  # compared as values: "1. ms" (older run folders) is "1.0 ms"
            saved = old["params"]
            changed = params.differences(Params.from_dict(saved))
        except (AttributeError, KeyError, TypeError, ValueError):
            raise CorInfoError(f"cannot resume: {paths['config.json']} holds no readable parameters; "
                               f"start a new run with another --out") from None
        if changed:
            raise CorInfoError(
                "cannot resume: the run folder was made with other parameters ("
                + ", ".join(f"{name} {saved.get(name)!r}, now {now.get(name)!r}" for name in changed)
                + "); use the same options or another --out")
        for key in ("dataset", "model", "arch", "n_train", "n_test", "init_weights", "probe_samples"):
            if old.get(key) != config.get(key):
                raise CorInfoError(
                    f"cannot resume: the run folder was made with a different {key} "
                    f"({old.get(key)!r} vs {config.get(key)!r}); use the same options or another --out")
        record.metrics = metrics
        if os.path.exists(paths["checkpoint.json"]):
            done = epochs_done(folder)
            weights_file = record._snapshot(done)
        else:  # a run folder written before checkpoint.json existed
            done, weights_file = metrics["epochs_done"], paths["weights.npz"]
        record.weights, _ = load_weights(weights_file, params.arch, params.model)
        if len(metrics.get("test_acc", [])) < done:
            raise CorInfoError(f"cannot resume: {paths['metrics.json']} holds fewer epochs than the checkpoint; "
                               f"start a new run with another --out")
        # drop whatever a killed epoch may have written after the last checkpoint
        metrics["epochs_done"] = done
        for key in EPOCH_METRICS:
            metrics[key] = metrics.get(key, [])[:done]
        with np.load(paths["diagnostics.npz"]) as d:
            diag = {"samples_seen": [int(s) for s in d["samples_seen"][:done + 1]]}
            keys = sorted(k for k in d.files if k.startswith("angle_L"))
            diag["angles"] = [{int(key[7:]): float(d[key][e]) for key in keys} for e in range(done + 1)]
            keys = [k for k in d.files if k.startswith(("active_L", "sum_r_L", "silent_L", "B_"))]
            diag["activity"] = [{key: float(d[key][e]) for key in keys if np.isfinite(d[key][e])}
                                for e in range(done + 1)]
        record.diag = diag
        if os.path.exists(paths["corinfo.npz"]):
            with np.load(paths["corinfo.npz"]) as c:
                for n, e in enumerate(c["epoch"]):
                    if e <= done:
                        record.corinfo[int(e)] = {k: c[k][n] for k in c.files if k.startswith("I_")}
        return record

    def commit(self, weights, scores, angles, activity, corinfo=None, traces=None, representations=None):
        """Add a finished epoch to the record and write its files, the checkpoint last.

        Parameters
        ----------
        weights : dict
            After the epoch.
        scores : dict
            The epoch's entry of every list in :data:`EPOCH_METRICS`.
        angles, activity : dict
            The epoch's diagnostics (:func:`corinfo_sim.diagnostics.layer_angles`, the activity
            and spectrum entries).
        corinfo : dict, optional
            Correlative information of the probe samples.
        traces : dict, optional
            Traces of the probe samples (``sample`` indexes the test split).
        representations : dict, optional
            Arrays of ``representations.npz``.
        """
        done = self.epochs_done + 1
        for key in EPOCH_METRICS:
            self.metrics[key].append(scores[key])
        self.metrics["epochs_done"] = done
        self.weights = weights
        self.diag["samples_seen"].append(done * self.n_train)
        self.diag["angles"].append(angles)
        self.diag["activity"].append(activity)
        if corinfo is not None:
            self.corinfo[done] = corinfo
        model = self.metrics.get("model")
        save_weights(self._snapshot(done), weights, model)
        _after_write("snapshot", done)
        self._save_diagnostics()
        _after_write("diagnostics.npz", done)
        if self.corinfo:
            epochs = sorted(self.corinfo)
            arrays = {key: np.stack([self.corinfo[e][key] for e in epochs]) for key in self.corinfo[epochs[0]]}
            steps = arrays[next(iter(arrays))].shape[-1]
            p = Params.from_dict(self.metrics["params"])
            atomic_savez(self.paths["corinfo.npz"], epoch=np.array(epochs), t=np.arange(steps) * float(p.dt / brian2.ms),
                         phase=(np.arange(steps) >= p.free_steps).astype(np.int8), **arrays)
            _after_write("corinfo.npz", done)
        if traces is not None:
            save_traces(self.paths["traces.npz"], traces)
            _after_write("traces.npz", done)
        if representations is not None:
            atomic_savez(self.paths["representations.npz"], **representations)
            _after_write("representations.npz", done)
        save_weights(self.paths["weights.npz"], weights, model)
        _after_write("weights.npz", done)
        write_json(self.paths["metrics.json"], self.metrics)
        _after_write("metrics.json", done)
        self._write_checkpoint()
        _after_write("checkpoint.json", done)

    def set_status(self, status, **fields):
        """Write ``status.json``: ``running``, ``done``, ``interrupted``, ``diverged`` or ``collapsed``."""
        write_json(self.paths["status.json"], {"status": status, "pid": os.getpid(), **fields})

    def _snapshot(self, done):
        return os.path.join(self.paths["snapshots"], f"weights_e{done:03d}.npz")

    def _save_diagnostics(self):
        diag = self.diag
        angles = {}
        if diag["angles"][0]:
            for k in diag["angles"][0]:
                angles[f"angle_L{k}"] = np.array([a[k] for a in diag["angles"]])
        names = sorted({key for entry in diag["activity"] for key in entry})
        activity = {key: np.array([entry.get(key, np.nan) for entry in diag["activity"]]) for key in names}
        samples = np.array(diag["samples_seen"], dtype=np.int64)
        atomic_savez(self.paths["diagnostics.npz"], samples_seen=samples, epoch=samples / max(self.n_train, 1),
                     **angles, **activity)

    def _write_checkpoint(self):
        """The commit point of an epoch: written last, atomically."""
        snapshot = os.path.relpath(self._snapshot(self.epochs_done), self.folder)
        write_json(self.paths["checkpoint.json"], {"epochs_done": self.epochs_done, "weights": snapshot})
