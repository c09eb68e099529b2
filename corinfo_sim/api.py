"""The public Python interface: parameters, data, weights, training, run folders and sweeps.

Everything here is exported from ``corinfo_sim`` (``import corinfo_sim as cim``). The layers
below it, each owning one thing:

====================================  ===============================================================
module                                owns
====================================  ===============================================================
``models/`` (``corinfo_sim.models``)  each variant's parameters, equations and network spec
:mod:`corinfo_sim.params`             resolved, validated parameters of one run (:class:`~corinfo_sim.params.Params`)
:mod:`corinfo_sim.network`            turning a spec into named Brian2 objects, and the Plan
:mod:`corinfo_sim.interactive`        a built network in runtime mode that a user drives
                                      (:class:`~corinfo_sim.interactive.Network`)
:mod:`corinfo_sim.session`            a compiled network, built once and run for many plans
:mod:`corinfo_sim.training`           the epochs of a run: plans, test evaluation, health checks
:mod:`corinfo_sim.runrecord`          a run folder's files: what an epoch writes, what a resume reads
:mod:`corinfo_sim.sweep`              many runs on Dask workers; each point runs :func:`~corinfo_sim.train`
:mod:`corinfo_sim.plotting`           figures from run folders or arrays, on the caller's Axes
:mod:`corinfo_sim.cli`                the ``corinfo-sim`` command line: options → these functions
====================================  ===============================================================

The command line is a thin layer over this module: every command parses its options and calls
one function here. Bad arguments raise :class:`~corinfo_sim.errors.CorInfoError` with a
one-line message. Brian2's device and preferences are as the caller had them after every call
(:mod:`corinfo_sim.brian2state`).
"""
import json
import os
import tempfile

import numpy as np

from .brian2state import preserved
from .errors import CorInfoError

__all__ = ["variants", "parameters", "params", "load_dataset", "init_weights", "load_weights", "save_weights",
           "train", "TrainResult", "evaluate", "run_samples", "SampleResult", "record_traces", "save_traces",
           "load_run", "Run", "run_sweep", "SweepResult", "benchmark"]

DEVICES = ("cpp_standalone", "runtime")


# ---- variants and parameters -------------------------------------------------------------------
def variants():
    """The model variants and what each simulates.

    Returns
    -------
    dict
        ``{name: summary}``, the default variant (``"antisparse"``) first.

    Examples
    --------
    >>> import corinfo_sim as cim
    >>> list(cim.variants())[:2]
    ['antisparse', 'sparse']
    """
    from .models import VARIANTS, get_variant
    return {name: get_variant(name).summary for name in VARIANTS}


def parameters(model="antisparse"):
    """The parameters of a model variant: name, default, unit and meaning.

    Parameters
    ----------
    model : str
        A name of :func:`variants`.

    Returns
    -------
    list of dict
        One per parameter, in declaration order: ``name`` (the keyword of :func:`params`),
        ``default`` (the value, or ``"per layer"`` when it follows the architecture), ``unit``
        (Brian2 unit of a quantity, else None), ``option`` (the command-line option, or None),
        ``help`` (what it is).

    Raises
    ------
    CorInfoError
        An unknown model.
    """
    from .models import get_variant
    out = []
    for p in get_variant(_model_name(model)).parameters:
        default = "per layer" if callable(p.default) else p.default
        out.append({"name": p.name, "default": default, "unit": p.unit, "option": p.cli, "help": p.help})
    return out


def params(model="antisparse", dataset=None, **overrides):
    """Validated parameters of a variant: its defaults (for ``dataset``), replaced by ``overrides``.

    Parameters
    ----------
    model : str
        A name of :func:`variants`.
    dataset : str, optional
        A data set name (``"digits"``, ``"fashion-mnist"``, ...): its settings (architecture,
        learning rates, ...) are the defaults.
    **overrides
        Parameter values by name (see :func:`parameters`), quantities with their Brian2 unit
        (``dt=0.5*ms``); an ``arch`` of another depth refits the per-layer values.

    Returns
    -------
    corinfo_sim.params.Params
        Immutable; every value is an attribute (``p.g_leak``); ``p.replace(...)`` changes some.

    Raises
    ------
    CorInfoError
        An unknown model, data set or parameter, or a value out of range (one line naming it).

    Examples
    --------
    >>> import corinfo_sim as cim
    >>> p = cim.params("antisparse", dataset="digits", g_leak=0.3)
    >>> p.arch, p.g_leak
    ((64, 100, 10), 0.3)
    """
    from .params import make_params
    if dataset is not None:
        from .datasets import canonical_name
        if not isinstance(dataset, str):
            dataset = getattr(dataset, "name", dataset)
        dataset = canonical_name(dataset)
    return make_params(_model_name(model), dataset=dataset, **overrides)


def _model_name(model):
    from .models import VARIANTS
    if not isinstance(model, str) or model not in VARIANTS:
        raise CorInfoError(f"unknown model {model!r}: choose one of {', '.join(VARIANTS)}")
    return model


def _check_params(p):
    from .params import Params
    if not isinstance(p, Params):
        raise CorInfoError(f"expected parameters made by corinfo_sim.params(...), got {type(p).__name__}")
    return p


def from_option(parameter, value):
    """A value as the command line and sweep files give it (numbers in the option's unit, a
    decay factor for a schedule) → the value :func:`params` takes."""
    from .spec import UNITS
    if parameter.kind == "quantity" and not hasattr(value, "dim"):
        return value * UNITS[parameter.unit]
    if parameter.kind == "schedule" and not isinstance(value, (tuple, list)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            raise CorInfoError(f"--lr-decay must lie in (0, 1] (1 disables the schedule), got {value}")
        return ((0, float(value)),)
    return value


# ---- data and weights ---------------------------------------------------------------------------
def load_dataset(name="digits", data_dir=None, max_train=None, max_test=None):
    """A data set, split into training and test samples.

    Parameters
    ----------
    name : str
        ``"digits"`` (embedded, 64 pixels), ``"fashion-mnist"``, ``"mnist"``, ``"cifar10"`` or
        ``"cifar100"``.
    data_dir : str, optional
        Folder with the data set's files (not for digits).
    max_train, max_test : int, optional
        Keep only the first samples of each split.

    Returns
    -------
    corinfo_sim.datasets.Dataset
        ``X_train``, ``y_train``, ``X_test``, ``y_test`` (float64 rows, int64 labels),
        ``n_classes``, ``image_shape``.

    Raises
    ------
    CorInfoError
        An unknown name, or missing or damaged files (the message says how to get them).
    """
    from .datasets import load_dataset as _load
    if not isinstance(name, str):
        raise CorInfoError(f"the data set's name must be a string, got {name!r}")
    dataset = _load(name, data_dir)
    return dataset.subset(max_train=max_train, max_test=max_test) if (max_train or max_test) else dataset


def _dataset(dataset, max_test=None):
    from .datasets import Dataset
    if isinstance(dataset, str):
        return load_dataset(dataset, max_test=max_test)
    if not isinstance(dataset, Dataset):
        raise CorInfoError(f"expected a data set name or corinfo_sim.load_dataset(...), got {type(dataset).__name__}")
    return dataset.subset(max_test=max_test) if max_test else dataset


def init_weights(p, seed=None):
    """The initial weights of the network of ``p`` (the paper's initialisation).

    Parameters
    ----------
    p : corinfo_sim.params.Params
    seed : int, optional
        Default ``p.seed``.

    Returns
    -------
    dict
        ``{name: ndarray}``: ``Wff{k}`` (n_k × n_{k-1}), ``Wfb{k}`` (n_k × n_{k+1}), ``B{k}`` (n_k × n_k)
        for the CorInfoMax variants; the other rules' own matrices for ``ep``, ``fa``, ``bp``.
    """
    from .weights import init_weights as _init
    p = _check_params(p)
    return _init(p.arch, np.random.default_rng(p.seed if seed is None else seed), p.model)


def weights_source(path):
    """``(weights file, run folder or None)`` of a weights file or a run folder."""
    if not isinstance(path, (str, os.PathLike)):
        raise CorInfoError(f"expected a weights file or a run folder, got {type(path).__name__}")
    path = os.path.abspath(path)
    if os.path.isdir(path):
        if not os.path.exists(os.path.join(path, "weights.npz")):
            raise CorInfoError(f"{path} holds no weights.npz: give a weights file or a run folder of "
                               f"'corinfo-sim train'")
        return os.path.join(path, "weights.npz"), path
    folder = os.path.dirname(path)
    for run in (folder, os.path.dirname(folder)):  # weights.npz, or snapshots/weights_eN.npz
        if os.path.exists(os.path.join(run, "config.json")):
            return path, run
    return path, None


def run_config(run):
    """The ``config.json`` of a run folder as a dict (empty when there is none)."""
    if run is None:
        return {}
    try:
        with open(os.path.join(run, "config.json")) as f:
            config = json.load(f)
        return config if isinstance(config, dict) else {}
    except (OSError, ValueError):
        return {}


def load_weights(path, model=None):
    """Weights from a weights file (NPZ) or a run folder (its ``weights.npz``).

    Parameters
    ----------
    path : str
        A file written by training or :func:`save_weights`, or a run folder.
    model : str, optional
        The variant that will use them (default: the run folder's, else a CorInfoMax variant);
        weights of another learning rule are refused.

    Returns
    -------
    dict
        ``{name: ndarray}`` (see :func:`init_weights`).

    Raises
    ------
    CorInfoError
        A missing or unreadable file, or weights of another rule.
    """
    from .weights import load_weights as _load
    weights_file, run = weights_source(path)
    model = model or run_config(run).get("model")
    return _load(weights_file, model=model)[0]


def save_weights(path, weights, model=None):
    """Write weights to an NPZ file (atomically) that :func:`load_weights` and the command line read.

    Parameters
    ----------
    path : str
    weights : dict
    model : str, optional
        The variant they belong to (recorded for the other learning rules).
    """
    from .weights import save_weights as _save
    _save(os.fspath(path), weights, model)


def weights_inputs(path, model=None, dataset=None, data_dir=None, max_test=None, overrides=None, arch=None):
    """Weights, data set and parameters for evaluating or recording a weights file or run folder.

    The run folder's model, data set and parameters are the defaults; ``overrides`` replace its
    parameters (what ``evaluate`` and ``traces`` on the command line do).

    Returns
    -------
    weights : dict
    dataset : corinfo_sim.datasets.Dataset
    params : corinfo_sim.params.Params
    """
    from .models import DEFAULT
    from .params import Params
    from .weights import load_weights as _load
    weights_file, run = weights_source(path)
    config = run_config(run)
    run_model = config.get("model")
    if model and run_model and model != run_model:
        raise CorInfoError(f"the weights belong to a {run_model!r} run ({run}/config.json), not to {model!r}: "
                           f"drop --model, or pass --model {run_model}")
    model = _model_name(model or run_model or DEFAULT)
    weights, file_arch = _load(weights_file, model=model)
    dataset = dataset or config.get("dataset") or "digits"
    dataset = load_dataset(dataset, data_dir, max_test=max_test) if isinstance(dataset, str) else _dataset(dataset, max_test)
    if arch and tuple(arch) != file_arch:
        raise CorInfoError(f"--arch {','.join(map(str, arch))} differs from the weights file's "
                           f"{','.join(map(str, file_arch))}: drop --arch")
    if dataset.X_test.shape[1] != file_arch[0] or dataset.n_classes != file_arch[-1]:
        raise CorInfoError(f"weights for {','.join(map(str, file_arch))} do not fit data set {dataset.name} "
                           f"({dataset.X_test.shape[1]} inputs, {dataset.n_classes} classes)")
    given = dict(overrides or {}, arch=file_arch)
    saved = None
    if config.get("params"):
        try:
            saved = Params.from_dict(dict(config["params"], model=model))
        except (CorInfoError, TypeError, ValueError):
            saved = None
    p = saved.replace(**given) if saved is not None else params(model, dataset=dataset.name, **given)
    return weights, dataset, p


# ---- training -------------------------------------------------------------------------------------
class TrainResult:
    """What :func:`train` returns: the run folder and its per-epoch metrics.

    Parameters
    ----------
    out : str
    metrics : dict

    Attributes
    ----------
    out : str
        The run folder (open it with :func:`~corinfo_sim.load_run`, or :attr:`~corinfo_sim.TrainResult.run`).
    metrics : dict
        As in its ``metrics.json``: ``train_acc``, ``test_acc``, ``train_s``, ``eval_s``, ... (lists
        per epoch), ``epochs_done``, ``build_s``, ``params``.
    test_acc, train_acc : ndarray
        Accuracy (fraction) after each epoch.
    epochs_done : int
    """

    def __init__(self, out, metrics):
        self.out, self.metrics = out, metrics
        self.test_acc = np.asarray(metrics.get("test_acc", []), dtype=float)
        self.train_acc = np.asarray(metrics.get("train_acc", []), dtype=float)
        self.epochs_done = int(metrics.get("epochs_done", len(self.test_acc)))

    @property
    def run(self):
        """The run folder as a :class:`~corinfo_sim.Run`."""
        return load_run(self.out)

    def __repr__(self):
        last = f", test accuracy {100 * self.test_acc[-1]:.2f} %" if len(self.test_acc) else ""
        return f"TrainResult({self.out!r}, {self.epochs_done} epochs{last})"


def train(p, dataset, epochs, out, *, init_weights=None, resume=False, max_train=None, max_test=None, probe=None,
          device="cpp_standalone", threads=1, collapse_check=True, build_cache=True, evaluation=None,
          keep_build=False, progress=None, session=None):
    """Train a network on a data set, writing a run folder (what ``corinfo-sim train`` does).

    The run folder is locked while this runs, brought up to date after every epoch (weights,
    metrics, diagnostics, traces of probe samples, a checkpoint written last) and checked for
    divergence and collapse after every epoch; ``resume=True`` continues it exactly.

    Parameters
    ----------
    p : corinfo_sim.params.Params
        From :func:`params`.
    dataset : str or corinfo_sim.datasets.Dataset
        A data set name or :func:`load_dataset`'s result.
    epochs : int
        Epochs in all (with ``resume``, including those done).
    out : str
        Run folder (created).
    init_weights : str, optional
        Start from this weights file or run folder (default: the paper's initialisation).
    resume : bool
        Continue the run in ``out``.
    max_train, max_test : int, optional
        Use only the first samples of each split.
    probe : sequence of int, optional
        Test samples recorded at every step each epoch (default 0, 1).
    device : {"cpp_standalone", "runtime"}
        Compiled C++ (default) or Brian2's runtime mode (small networks, no compiler).
    threads : int
        OpenMP threads of the compiled run, BLAS threads of the batched evaluation.
    collapse_check : bool
        Stop when the network collapses (NaN and inf always stop a run).
    build_cache : bool
        Take a compiled network from the build cache, and store new builds there.
    evaluation : {"batched", "network"}, optional
        How the test split is evaluated (default: batched where the dense model is exact).
    keep_build : bool
        Keep the generated C++ in ``out/build``.
    progress : callable, optional
        Receives a line of text per event (build, epoch); :class:`corinfo_sim.progress.Reporter`
        also draws progress within an epoch. Default: silent.
    session : corinfo_sim.session.Session, optional
        A compiled network to run on (sweep workers keep one between points).

    Returns
    -------
    TrainResult

    Raises
    ------
    CorInfoError
        Bad arguments, a locked or non-empty run folder (without ``resume``), data that does not fit.
    corinfo_sim.training.Diverged
        The run diverged or collapsed (:class:`~corinfo_sim.training.Collapsed`); the run folder
        keeps the last good epoch.
    """
    from .training import train as _train
    p = _check_params(p)
    if device not in DEVICES:
        raise CorInfoError(f"unknown device {device!r}: choose one of {', '.join(DEVICES)}")
    if not isinstance(out, (str, os.PathLike)) or not os.fspath(out):
        raise CorInfoError(f"out must be the path of a run folder, got {out!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise CorInfoError(f"epochs must be a positive integer, got {epochs!r}")
    dataset = _dataset(dataset, max_test)
    init = weights_source(init_weights)[0] if init_weights else None
    with preserved():
        metrics = _train(p, dataset, epochs, os.fspath(out), init_weights_file=init, resume=resume,
                         max_train=max_train, device=device, threads=threads, keep_build=keep_build,
                         probe=probe, progress=progress or (lambda line: None), collapse_check=collapse_check,
                         build_cache=build_cache, session=session, evaluation=evaluation)
    return TrainResult(os.fspath(out), metrics)


def evaluate(weights, dataset=None, p=None, *, max_test=None, device="cpp_standalone", threads=1,
             evaluation=None, build_cache=True, progress=None):
    """Test accuracy of weights (free phase, argmax of the output rates).

    Parameters
    ----------
    weights : str or dict
        A weights file or run folder (its model, data set and parameters are the defaults), or a
        weights dict (then ``p`` is required).
    dataset : str or corinfo_sim.datasets.Dataset, optional
        Default: the run's, else digits.
    p : corinfo_sim.params.Params, optional
        Parameters (default: the run folder's); with a path, its values replace the run's.
    max_test : int, optional
        Evaluate on the first samples only.
    device, threads, evaluation, build_cache, progress
        As for :func:`train`.

    Returns
    -------
    float
        Accuracy in [0, 1].
    """
    from .training import evaluate as _evaluate
    if isinstance(weights, dict):
        if p is None:
            raise CorInfoError("evaluate(weights_dict, ...) needs the parameters: pass p=corinfo_sim.params(...)")
        p = _check_params(p)
        dataset = _dataset(dataset or "digits", max_test)
    else:
        overrides = _check_params(p).values() if p is not None else None
        model = p.model if p is not None else None
        weights, dataset, p = weights_inputs(weights, model=model, dataset=dataset, max_test=max_test,
                                             overrides=overrides)
    if device not in DEVICES:
        raise CorInfoError(f"unknown device {device!r}: choose one of {', '.join(DEVICES)}")
    with preserved():
        accuracy, _ = _evaluate(weights, dataset, p, device=device, threads=threads, progress=progress,
                                build_cache=build_cache, evaluation=evaluation)
    return accuracy


# ---- samples through a built network -------------------------------------------------------------
class SampleResult:
    """What :func:`run_samples` returns.

    Parameters
    ----------
    result : corinfo_sim.session.RunResult
        The run's recordings.

    Attributes
    ----------
    outputs : ndarray (n_samples, n_L)
        Free-phase output rates of every sample.
    rates : dict
        ``{k: (r_free, r_nudged)}``, each (n_samples, n_k): rates of layer k at the end of each
        sample's free and nudged phase.
    weights : dict
        The weights after the samples (changed only with ``plastic``).
    traces : dict or None
        Every step of the traced neurons (layout of :mod:`corinfo_sim.traces`, potentials in mV).
    seconds : float
    """

    def __init__(self, result):
        self.outputs, self.rates, self.weights = result.outputs, result.rates, result.weights
        self.traces, self.seconds = result.traces, result.seconds

    @property
    def predictions(self):
        """The class each sample's free-phase output votes for."""
        return np.argmax(self.outputs, axis=1)


def run_samples(p, weights, images, labels=None, *, plastic=False, trace=None, device="cpp_standalone",
                threads=1, build_cache=True, progress=None):
    """Show samples to a network one after the other, compiled (default) or in runtime mode.

    Each sample runs its free phase and, when it has a label, its nudged phase (β of ``p``);
    the durations are those of ``p`` (``n_free``, ``n_nudged`` steps of ``dt``, or the
    variant's ``t_free``, ``t_nudged``). For interactive work with monitors of your own use
    :class:`corinfo_sim.Network` instead.

    Parameters
    ----------
    p : corinfo_sim.params.Params
    weights : dict
        From :func:`init_weights` or :func:`load_weights`.
    images : ndarray (n_samples, n_0)
    labels : array of int, optional
        The samples' classes; without labels the samples run their free phase only.
    plastic : bool
        Learn from every sample (needs ``labels``).
    trace : dict, optional
        ``{k: neuron indices}`` recorded at every step (``{1: range(10)}``).
    device : {"cpp_standalone", "runtime"}
    threads, build_cache, progress
        As for :func:`train`.

    Returns
    -------
    SampleResult

    Notes
    -----
    ``cpp_standalone`` generates and compiles the network (the build cache makes a second
    build of the same network fast), runs it, and hands the process back in the device it
    was in; Brian2's standalone device is reset (``device.reinit()``) on the way.
    """
    from .network import Plan
    from .session import Session
    from .weights import check_weights
    p = _check_params(p)
    if p.variant.network is None:
        raise CorInfoError(f"model {p.model} is a feed-forward reference, not a Brian2 network: it has no samples "
                           "to run; choose another model")
    if device not in DEVICES:
        raise CorInfoError(f"unknown device {device!r}: choose one of {', '.join(DEVICES)}")
    images = np.atleast_2d(np.asarray(images, dtype=float))
    n = len(images)
    if n == 0:
        raise CorInfoError("images is empty: give at least one image")
    check_weights(weights, p.arch, model=p.model)
    if labels is None:
        if plastic:
            raise CorInfoError("plastic=True needs labels: learning contrasts the nudged phase with the free one")
        labels = np.zeros(n, dtype=np.int64)
        betas = np.zeros(n)
    else:
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
        if labels.shape != (n,) or labels.min() < 0 or labels.max() >= p.arch[-1]:
            raise CorInfoError(f"labels must be {n} classes in 0..{p.arch[-1] - 1}, one per image")
        betas = np.full(n, float(p.values().get("beta", 1.0)))
    trace = {int(k): np.asarray(list(v), dtype=int) for k, v in (trace or {}).items()}
    slots = np.arange(n)
    flags = np.ones(n) if trace else np.zeros(n)
    if plastic:
        plan = Plan.make(labels, train=slots, beta=betas, record=np.ones(n), trace=flags)
    else:
        plan = Plan.make(labels, probe=slots, probe_beta=0.0, record=np.ones(n), trace=flags)
        plan.beta[:n] = betas
    with preserved(), tempfile.TemporaryDirectory(prefix="corinfo_samples_") as tmp:
        session = Session(p, images, labels, plan.segments, os.path.join(tmp, "build"), device=device,
                          trace_neurons=trace or None, record_rates=True, threads=threads, progress=progress,
                          build_cache=build_cache)
        try:
            result = session.run(plan, weights)
        finally:
            session.close()
    return SampleResult(result)


def record_traces(weights, samples, *, dataset=None, p=None, split="test", layers=None, neurons=None,
                  plastic=False, device="runtime", build_cache=True):
    """Membrane traces of chosen samples of a data set (what ``corinfo-sim traces`` records).

    Parameters
    ----------
    weights : str or dict
        A weights file or run folder, or a weights dict (then ``p`` is required).
    samples : sequence of int
        Indices into the split, shown in this order.
    dataset : str or Dataset, optional
        Default: the run's, else digits.
    p : corinfo_sim.params.Params, optional
    split : {"test", "train"}
    layers : sequence of int, optional
        Layers to record (default all).
    neurons : sequence of int, optional
        Neurons recorded in every layer (default the first 10).
    plastic : bool
        Learn from the samples (the result then holds ``weights_after``).
    device : {"runtime", "cpp_standalone"}
    build_cache : bool

    Returns
    -------
    dict
        The traces layout of :mod:`corinfo_sim.traces` (``v_soma_L1`` in mV, ``t`` in ms, ...).
    """
    from .traces import record
    if isinstance(weights, dict):
        if p is None:
            raise CorInfoError("record_traces(weights_dict, ...) needs the parameters: pass p=corinfo_sim.params(...)")
        dataset = _dataset(dataset or "digits")
    else:
        overrides = _check_params(p).values() if p is not None else None
        weights, dataset, p = weights_inputs(weights, model=p.model if p is not None else None, dataset=dataset,
                                             overrides=overrides)
    p = _check_params(p)
    if p.variant.network is None:
        raise CorInfoError(f"model {p.model} is a feed-forward reference, not a Brian2 network: it has no membrane "
                           "traces; choose another model")
    with preserved():
        return record(weights, dataset, samples, p, split=split, layers=layers, neurons=neurons, plastic=plastic,
                      device=device, build_cache=build_cache)


def save_traces(path, traces, dataset=None, split="test", description=None):
    """Write traces to ``.npz`` (numpy) or ``.nwb`` (Neurodata Without Borders) by the file's ending.

    Parameters
    ----------
    path : str
    traces : dict
        From :func:`record_traces` or :attr:`~corinfo_sim.Run.traces`.
    dataset : corinfo_sim.datasets.Dataset, optional
        For NWB: the images shown are stored with the traces.
    split : {"test", "train"}
    description : str, optional
    """
    from .traces import save_npz, save_nwb
    path = os.fspath(path)
    traces = {k: v for k, v in traces.items() if k != "weights_after"}
    if path.lower().endswith(".npz"):
        save_npz(path, traces)
    elif path.lower().endswith(".nwb"):
        from .datasets import CLASS_NAMES
        images = None if dataset is None else (dataset.X_test if split == "test" else dataset.X_train)
        save_nwb(path, traces, images=images, image_shape=getattr(dataset, "image_shape", None),
                 class_names=CLASS_NAMES.get(getattr(dataset, "name", None)),
                 description=description or "corinfo_sim membrane traces")
    else:
        raise CorInfoError(f"{path}: the traces file must end in .npz or .nwb")


# ---- run folders ----------------------------------------------------------------------------------
#: Per-epoch entries of ``metrics.json``.
EPOCH_METRICS = ("train_acc", "test_acc", "train_top5", "test_top5", "train_s", "eval_s", "epoch_s", "lr_factor")


class Run:
    """A run folder written by :func:`train` or ``corinfo-sim train``, opened for reading (:func:`load_run`).

    Parameters
    ----------
    path : str

    Attributes
    ----------
    path : str
    config : dict
        ``config.json``: data set, architecture, model, resolved parameters, versions, device.
    metrics : dict of ndarray
        Per-epoch arrays (``EPOCH_METRICS``, e.g. ``metrics["test_acc"]``) and ``epoch``
        (1, 2, ...).
    status : str
        ``running``, ``done``, ``interrupted``, ``diverged``, ``collapsed`` or ``unknown``.
    """

    def __init__(self, path):
        self.path = os.path.abspath(os.fspath(path))
        self.config = run_config(self.path)
        if not self.config:
            raise CorInfoError(f"{self.path} is not a run folder (no readable config.json): give a folder "
                               "written by corinfo_sim.train or 'corinfo-sim train'")
        raw = self._json("metrics.json")
        n = int(raw.get("epochs_done", 0))
        self.metrics = {key: np.asarray(raw.get(key, [])[:n], dtype=float) for key in EPOCH_METRICS}
        self.metrics["epoch"] = np.arange(1, n + 1)
        self.status = self._json("status.json").get("status", "unknown")
        self._raw_metrics = raw

    def _json(self, name):
        try:
            with open(os.path.join(self.path, name)) as f:
                data = json.load(f)
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _npz(self, name):
        path = os.path.join(self.path, name)
        if not os.path.exists(path):
            return None
        with np.load(path, allow_pickle=False) as f:
            return {key: f[key] for key in f.files}

    @property
    def model(self):
        """The model variant."""
        return self.config.get("model")

    @property
    def dataset(self):
        """The data set's name."""
        return self.config.get("dataset")

    @property
    def params(self):
        """The resolved parameters (:class:`~corinfo_sim.params.Params`)."""
        from .params import Params
        return Params.from_dict(dict(self.config.get("params", {}), model=self.model))

    @property
    def epochs_done(self):
        """Epochs the run folder committed."""
        return len(self.metrics["epoch"])

    def metrics_frame(self):
        """The per-epoch metrics as a pandas DataFrame indexed by epoch.

        Raises
        ------
        CorInfoError
            pandas is not installed (``pip install pandas``; ``metrics`` needs numpy only).
        """
        try:
            import pandas
        except ImportError:
            raise CorInfoError("metrics_frame() needs pandas: pip install pandas (Run.metrics holds the same "
                               "numbers as numpy arrays)") from None
        columns = {key: values for key, values in self.metrics.items() if key != "epoch" and len(values)}
        return pandas.DataFrame(columns, index=pandas.Index(self.metrics["epoch"], name="epoch"))

    @property
    def weights(self):
        """The weights after the last finished epoch (dict)."""
        return load_weights(self.path, model=self.model)

    def weights_at(self, epoch):
        """The weights after ``epoch`` epochs (0: the initial weights), from ``snapshots/``.

        Parameters
        ----------
        epoch : int

        Returns
        -------
        dict
        """
        path = os.path.join(self.path, "snapshots", f"weights_e{int(epoch):03d}.npz")
        if not os.path.exists(path):
            raise CorInfoError(f"{self.path} has no weights after epoch {epoch}: it holds epochs 0..{self.epochs_done}")
        return load_weights(path, model=self.model)

    @property
    def traces(self):
        """Membrane traces of the probe samples in the last epoch (dict), or None."""
        return self._npz("traces.npz")

    @property
    def diagnostics(self):
        """Per-epoch diagnostics (weight angles, activity, spectra of B_k; dict of arrays), or None."""
        return self._npz("diagnostics.npz")

    @property
    def representations(self):
        """Free-phase rates of every layer for the test samples (``h_L{k}``, ``labels``), or None."""
        return self._npz("representations.npz")

    @property
    def corinfo(self):
        """Layerwise correlative information over the steps of the probe samples, or None."""
        return self._npz("corinfo.npz")

    def __repr__(self):
        return f"Run({self.path!r}, model={self.model!r}, dataset={self.dataset!r}, {self.epochs_done} epochs)"


def load_run(path):
    """Open a run folder.

    Parameters
    ----------
    path : str
        Written by :func:`train` or ``corinfo-sim train`` (also a sweep's ``points/<id>``).

    Returns
    -------
    Run

    Raises
    ------
    CorInfoError
        ``path`` is no run folder.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise CorInfoError(f"expected the path of a run folder, got {type(path).__name__}")
    return Run(path)


# ---- sweeps ---------------------------------------------------------------------------------------
class SweepResult(list):
    """The rows of a sweep's ``results.csv`` (one dict per point), with the sweep folder.

    Parameters
    ----------
    rows : list of dict
    out : str

    Attributes
    ----------
    out : str
        The sweep folder.
    """

    def __init__(self, rows, out):
        super().__init__(rows)
        self.out = out

    def frame(self):
        """The rows as a pandas DataFrame (needs pandas)."""
        try:
            import pandas
        except ImportError:
            raise CorInfoError("frame() needs pandas: pip install pandas") from None
        return pandas.DataFrame(list(self))


def run_sweep(spec, out, *, workers=None, scheduler=None, resume=False, build_cache=True, worker_timeout=600.0,
              progress=None):
    """Run a sweep (seeds × parameters) on Dask workers; return its results table.

    Parameters
    ----------
    spec : str or dict
        A sweep file (TOML) or the same as a dict: ``epochs`` (required), ``model``, ``dataset``,
        ``seeds``, ``fixed``, ``grid``, ``points`` (see :mod:`corinfo_sim.sweep`); keys are the
        options of ``corinfo-sim train`` with underscores, values in their units.
    out : str
        Sweep folder (created; locked while the sweep runs); every point is a run folder
        ``out/points/<id>`` that :func:`load_run` opens.
    workers : int, optional
        Worker processes of a local Dask cluster (default: the cores).
    scheduler : str, optional
        Address of a running Dask scheduler instead.
    resume : bool
        Continue the sweep in ``out``.
    build_cache : bool
    worker_timeout : float
        Seconds without any worker before the sweep stops.
    progress : callable, optional
        Receives a line per event. Default: silent.

    Returns
    -------
    SweepResult
        One dict per point: parameters, ``seed``, ``status``, ``final_test_acc``, ``best_test_acc``, ...

    Raises
    ------
    CorInfoError
        A bad spec (one line naming the key).
    corinfo_sim.errors.SweepStopped
        The Dask cluster went away (``resume=True`` continues).
    """
    from .sweep import run_sweep as _run
    rows = _run(spec, os.fspath(out), workers=workers, scheduler=scheduler, resume=resume,
                progress=progress or (lambda line: None), build_cache=build_cache, worker_timeout=worker_timeout)
    return SweepResult(rows, os.fspath(out))


# ---- benchmark -------------------------------------------------------------------------------------
def benchmark(model="antisparse", arch=(784, 500, 10), samples=1000, *, threads=1, dense_samples=200, dataset=None,
              build_cache=True, progress=None, **overrides):
    """Time compiled training and evaluation per sample (what ``corinfo-sim bench`` reports).

    Parameters
    ----------
    model : str
    arch : sequence of int
    samples : int
        Training samples timed, and as many evaluation samples.
    threads : int
    dense_samples : int
        Samples of the dense numpy baseline (0 skips it).
    dataset : str or Dataset, optional
        Time on its first samples (default: random inputs).
    build_cache : bool
    progress : callable, optional
    **overrides
        Parameter values, as for :func:`params`.

    Returns
    -------
    dict
        Milliseconds per sample of each part, build seconds, versions.
    """
    from .bench import bench
    from .models import get_variant
    model = _model_name(model)
    if get_variant(model).network is None:
        raise CorInfoError(f"model {model} is a feed-forward reference, not a Brian2 network: it has nothing to "
                           "benchmark (its training time per sample is in its run folder's metrics.json, train_s)")
    if dataset is not None and isinstance(dataset, str):
        dataset = load_dataset(dataset)
    with preserved():
        return bench(tuple(arch), samples, threads, dense_samples=dense_samples, variant=model, options=overrides,
                     dataset=dataset, progress=progress or (lambda line: None), build_cache=build_cache)
