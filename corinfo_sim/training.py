"""Training and evaluation protocols on a data set: epochs, metrics, health checks, resume.

This module owns the epochs of a run: the plan of each, the evaluation after it, the health
checks. It runs a compiled network of
:mod:`corinfo_sim.session` and is called through ``corinfo_sim.train`` and
``corinfo_sim.evaluate`` (:mod:`corinfo_sim.api`), by the command line, the protocols and every
point of a sweep alike.

:func:`train` compiles the network once, then runs one compiled epoch after the other. Each
epoch shows every training sample once (online learning, plasticity after each sample), then
the whole test split (free phase only), then a few probe samples whose every step is recorded.
The test split is evaluated either in the compiled network, one sample after the other, or
(``evaluation="batched"``, the default of the variants whose dense oracle is exactly their
mathematics) by the free phase of the dense network on the epoch's new weights, many samples at
once (:func:`corinfo_sim.dense.free_rates`): the same rates, much faster.
The run folder is locked while a process writes it (:mod:`corinfo_sim.runfolder`); its files,
their order and what a resume reads are :class:`~corinfo_sim.runrecord.RunRecord`'s. An
interrupted run (Ctrl-C, a crash, SIGKILL) loses at most the epoch in progress; ``resume``
continues it and ends with the same weights and accuracies as an uninterrupted run, since each
epoch's presentation order and β signs come from a generator seeded with (seed, epoch).

Who owns what along one call of :func:`train`: :mod:`corinfo_sim.session` the compiled network
(it runs a :class:`~corinfo_sim.network.Plan` on given weights and returns the new ones), this
module the epochs (the plan of each, the test evaluation, the health checks, the metrics) and
:mod:`corinfo_sim.runrecord` the files. :func:`train` reads top-down: open the record, build
the session, then for every epoch run it (``_run_epoch``), check it, commit it.

After each epoch the run is checked (:func:`check_health`): non-finite values stop it as
*diverged*, runaway weights, rates or lateral matrices (:func:`check_lateral`) and a collapse to
chance accuracy as *collapsed*; the weights of the last good epoch stay the run's weights.
"""
import os
import platform
import subprocess
import time

import brian2
import numpy as np
from threadpoolctl import threadpool_limits

from . import biophysics, dense
from .diagnostics import (B_LOOP_LIMIT, B_NEGATIVE_LIMIT, correlative_information, lateral_spectrum,
                          layer_activity, layer_angles, settle_summary, silent_units)
from .errors import CorInfoError
from .network import Plan
from .runfolder import locked_folder, remove_stale_temporaries
from .runrecord import RunRecord, epochs_done, has_run
from .session import RunResult, Session
from .weights import init_weights, load_weights

#: Probe samples (test-split indices) recorded at every step in each epoch, by default.
PROBE_SAMPLES = (0, 1)
#: Test samples whose hidden representations are saved.
N_REPRESENTATIONS = 2000
#: Largest |W_ff| or |W_fb| entry of a healthy network. Trained networks stay near 1 (digits,
#: 20 epochs: ≤ 0.9); a runaway network grows without bound. B is not bounded this way: the
#: lateral weights of a unit that never fires grow as λ^-n by design.
WEIGHT_LIMIT = 100.0
#: Largest rate of a healthy network (the hard-sigmoid rates are ≤ 1; ReLU rates are not bounded).
RATE_LIMIT = 1e3
#: Standard errors above chance within which an accuracy counts as chance.
CHANCE_SIGMAS = 3.0
#: Ways to evaluate the test split: the dense network's free phase on many samples at once, or
#: the compiled network one sample after the other.
EVALUATIONS = ("batched", "network")


class Diverged(CorInfoError):
    """The simulation produced NaN or inf; the last good weights are kept."""


class Collapsed(Diverged):
    """The network collapsed (runaway weights or rates, chance accuracy); the last good weights are kept."""


def code_version():
    """Git commit of the code, or "unknown"."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        out = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def environment(device, threads):
    """What every result is reported with."""
    return {"brian2_version": brian2.__version__, "device": device, "threads": threads,
            "numpy_version": np.__version__, "python": platform.python_version(),
            "code_version": code_version()}


def epoch_plan(params, n_train, n_test, labels, epoch, probe=PROBE_SAMPLES):
    """The plan of one epoch: training order and β signs from a generator seeded (seed, epoch).

    The image table is the training split followed by the test split.
    """
    rng = np.random.default_rng([params.seed, epoch])
    order = rng.permutation(n_train) if params.shuffle else np.arange(n_train)
    values = params.values()  # the feed-forward references have no β
    if values.get("beta_sign") == "random":
        signs = rng.choice([-1.0, 1.0], size=n_train)
    else:
        signs = np.ones(n_train)
    test = n_train + np.arange(n_test)
    beta = values.get("beta", 1.0)
    return Plan.make(labels, train=order, test=test, probe=n_train + np.asarray(probe, dtype=int),
                     beta=beta * signs, probe_beta=beta), order


def accuracy(outputs, labels, top=1):
    """Fraction of rows of ``outputs`` whose ``top`` largest entries include the label."""
    if len(labels) == 0:
        return float("nan")
    if top == 1:
        return float(np.mean(np.argmax(outputs, axis=1) == labels))
    best = np.argsort(-outputs, axis=1, kind="stable")[:, :top]
    return float(np.mean(np.any(best == np.asarray(labels)[:, None], axis=1)))


def training_data(dataset, max_train=None):
    """Image table (training split, then test split) and labels of a run."""
    X_train, y_train = dataset.X_train, dataset.y_train
    if max_train is not None:
        X_train, y_train = X_train[:max_train], y_train[:max_train]
    images = np.concatenate([X_train, dataset.X_test])
    labels = np.concatenate([y_train, dataset.y_test]).astype(np.int64)
    return images, labels, len(X_train), len(dataset.X_test)


def probe_samples(dataset, probe=None):
    """Validated test-split indices of the probe samples (default: the first two)."""
    n_test = len(dataset.X_test)
    probe = [p for p in PROBE_SAMPLES if p < n_test] if probe is None else list(probe)
    if any(not 0 <= p < n_test for p in probe):
        raise CorInfoError(f"probe samples must lie in 0..{n_test - 1} (test split of {dataset.name}), got {probe}")
    return probe


def evaluation_path(params, evaluation=None):
    """How the test split of a ``params`` network is evaluated: "batched" or "network".

    Parameters
    ----------
    params : Params
    evaluation : {"batched", "network"}, optional
        Asked for; None: "batched" when the variant's dense oracle is exactly its mathematics
        (``Variant.exact_oracle``), else "network".

    Returns
    -------
    str

    Raises
    ------
    CorInfoError
        "batched" for a variant whose dense oracle only approximates it.
    """
    # with noise, failures or delays the network is no longer its oracle's mathematics
    exact = params.variant.exact_oracle and not biophysics.active(params)
    if evaluation is None:
        return "batched" if exact else "network"
    if evaluation not in EVALUATIONS:
        raise CorInfoError(f"evaluation must be one of {', '.join(EVALUATIONS)}, got {evaluation!r}")
    if evaluation == "network" and params.variant.network is None:
        raise CorInfoError(f"model {params.model} is a reference, not a Brian2 network: its test samples are evaluated "
                           "by its forward pass (--evaluation batched)")
    if evaluation == "batched" and biophysics.active(params):
        raise CorInfoError("--evaluation batched runs the dense network, which has no membrane noise, synaptic "
                           "failures or delays: use --evaluation network")
    if evaluation == "batched" and not exact:
        raise CorInfoError(f"--evaluation batched needs a model whose dense network is exactly its mathematics; "
                           f"model {params.model} only approximates its rate network: use --evaluation network")
    return evaluation


def batched_evaluation(weights, X, params, threads=1, steps=None):
    """Free-phase rates of every layer for the rows of ``X``, from the dense network.

    The batched path of :func:`evaluation_path` (:func:`corinfo_sim.dense.free_rates`), in the
    network's floating-point precision, BLAS on ``threads`` threads.

    Parameters
    ----------
    weights : dict
    X : ndarray (n_samples, n_0)
    params : Params
        Of a variant with an exact oracle.
    threads : int
    steps : list, optional
        When given, the free-phase steps of every sample are appended to it (settling to a
        tolerance, :func:`corinfo_sim.dense.free_rates`).

    Returns
    -------
    rates : dict
        ``{k: (r_free, r_free)}``, each (n_samples, n_k): the ``(free, nudged)`` pairs of a
        network run's recorded rates, with the free rates in both places (evaluation has no
        nudged phase).
    seconds : float
        Wall-clock time of the evaluation.
    """
    dtype = np.dtype(getattr(params, "precision", "float64"))
    start = time.perf_counter()
    # non-finite weights give non-finite rates, which the caller reports
    with threadpool_limits(limits=threads, user_api="blas"), np.errstate(over="ignore", invalid="ignore"):
        if params.variant.free_rates is not None:  # another rule's own forward or free phase
            free = params.variant.free_rates(weights, X, params, dtype=dtype)
        else:
            free = dense.free_rates(weights, X, params.variant.oracle(params), dtype=dtype, steps=steps)
    return {k: (r, r) for k, r in free.items()}, time.perf_counter() - start


def _check_model(params, variant):
    if variant is not None and variant != params.model:
        raise CorInfoError(f"the parameters are for model {params.model!r}, not {variant!r}")


def make_session(params, dataset, build_dir, max_train=None, device="cpp_standalone", variant=None,
                 threads=1, probe=None, progress=None, build_cache=True, evaluation=None):
    """The compiled network a training run uses; several runs can share it (seeds, learning
    rates and the other values set per run may differ, see :func:`corinfo_sim.network.structure`).

    ``progress`` receives a line before the build and one after it (with its duration).
    ``evaluation`` is that of :func:`train`: with the batched evaluation the network has no
    test segment.
    """
    images, labels, n_train, n_test = training_data(dataset, max_train)
    trace_neurons = {k: np.arange(params.arch[k]) for k in range(1, params.n_layers + 1)}
    if evaluation_path(params, evaluation) == "batched":
        n_test = 0
    segments = {"train": n_train, "test": n_test, "probe": len(probe_samples(dataset, probe))}
    if params.variant.session is not None:  # a reference that is not a Brian2 network
        return params.variant.session(params, images, labels, segments)
    return Session(params, images, labels, segments, build_dir, device=device, variant=variant,
                   trace_neurons=trace_neurons, record_rates=True, threads=threads, progress=progress,
                   build_cache=build_cache)


def _plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


def train(params, dataset, epochs, out_dir, init_weights_file=None, resume=False, max_train=None,
          device="cpp_standalone", threads=1, progress=print, keep_build=False, variant=None,
          session=None, probe=None, collapse_check=True, build_cache=True, evaluation=None):
    """Train on ``dataset`` for ``epochs`` epochs, writing the run folder ``out_dir``.

    Parameters
    ----------
    params : Params
    dataset : corinfo_sim.datasets.Dataset
    epochs : int
        Total number of epochs (with ``resume``, including those already done).
    out_dir : str
        Run folder (created; locked while this function writes it).
    init_weights_file : str, optional
        Start from these weights instead of the paper's initialisation.
    resume : bool
        Continue the run in ``out_dir``.
    max_train : int, optional
        Use only the first ``max_train`` training samples.
    device : {"cpp_standalone", "runtime"}
    threads : int
    progress : callable
        Receives one line of text per event (build, epoch). If it also has a method
        ``update(segment, done, total)`` (see :class:`corinfo_sim.progress.Reporter`), it is
        told the progress within each epoch.
    keep_build : bool
        Keep the generated code in ``out_dir/build`` after the run.
    variant : str, optional
        Model variant (``models/``); it is ``params.model`` (given, it must agree).
    session : Session, optional
        An already compiled network from :func:`make_session` with the same data and network
        structure (values set per run may differ); it stays open. By default a new one is built
        in ``out_dir/build``.
    probe : sequence of int, optional
        Test-split indices of the samples recorded at every step each epoch (traces and
        correlative information); default the first two.
    collapse_check : bool
        Stop when the network collapses (:func:`check_health`); non-finite values always stop it.
    build_cache : bool
        Use the build cache (:mod:`corinfo_sim.buildcache`) for the session built here.
    evaluation : {"batched", "network"}, optional
        How the test split is evaluated after each epoch (:func:`evaluation_path`; default
        batched where the dense oracle is exact, else in the network). A ``session`` must have
        been made with the same.

    Returns
    -------
    dict
        The metrics (as in ``metrics.json``).

    Raises
    ------
    Diverged, Collapsed
        The run stopped; the run folder keeps the last good epoch.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise CorInfoError(f"epochs must be a positive integer, got {epochs!r}")
    if max_train is not None and (not isinstance(max_train, int) or max_train < 1):
        raise CorInfoError(f"--max-train-samples must be a positive integer, got {max_train!r}")
    if dataset.X_train.shape[1] != params.arch[0] or dataset.n_classes != params.arch[-1]:
        raise CorInfoError(
            f"architecture {','.join(map(str, params.arch))} does not fit data set {dataset.name} "
            f"({dataset.X_train.shape[1]} inputs, {dataset.n_classes} classes): use --arch "
            f"{dataset.X_train.shape[1]},...,{dataset.n_classes}")
    images, labels, n_train, n_test = training_data(dataset, max_train)
    probe = probe_samples(dataset, probe)
    config = {"dataset": dataset.name, "data_source": dataset.source, "image_shape": list(dataset.image_shape),
              "arch": list(params.arch), "n_train": n_train, "n_test": n_test, "max_train_samples": max_train,
              "probe_samples": probe,
              "init_weights": os.path.abspath(init_weights_file) if init_weights_file else None,
              "model": params.model, "params": params.to_dict(), **environment(device, threads)}
    _check_model(params, variant)
    evaluation = evaluation_path(params, evaluation)
    initial = load_weights(init_weights_file, params.arch, params.model)[0] if init_weights_file else None

    with locked_folder(out_dir) as folder:
        remove_stale_temporaries(folder)
        if has_run(folder) and not resume:
            raise CorInfoError(f"{out_dir} already holds a run: continue it with --resume or choose another --out")
        record = RunRecord.resume(folder, config, params) if resume and has_run(folder) else None
        if record is not None and record.epochs_done >= epochs:
            progress(f"{out_dir} already holds {_plural(record.epochs_done, 'epoch')}: nothing to do")
            return record.metrics
        own_session = session is None
        if own_session:
            session = make_session(params, dataset, os.path.join(folder, "build"), max_train, device,
                                   threads=threads, probe=probe, progress=progress, build_cache=build_cache,
                                   evaluation=evaluation)
        try:
            if len(probe) != session.segments["probe"]:
                raise ValueError("the session was built for another number of probe samples")
            if session.segments["test"] != (0 if evaluation == "batched" else n_test):
                raise ValueError(f"the session was built for another evaluation than {evaluation!r}")
            if record is None:
                weights = initial if initial is not None else init_weights(
                    params.arch, np.random.default_rng(params.seed), params.model)
                record = RunRecord.start(
                    folder, config, {"seed": params.seed, "dataset": dataset.name, "model": params.model,
                                     "arch": list(params.arch), "params": params.to_dict(),
                                     **environment(device, threads)},
                    weights, {"angles": layer_angles(weights), "activity": lateral_spectrum(weights)})
            else:
                progress(f"resuming {out_dir} after {_plural(record.epochs_done, 'epoch')}")
            record.metrics["build_s"] = session.build_s
            record.metrics["evaluation"] = evaluation
            for note in params.variant.notes(params) if params.variant.notes else ():
                progress(note)
            record.set_status("running", epochs_done=record.epochs_done)
            for epoch in range(record.epochs_done, epochs):
                run = _run_epoch(session, record.weights, params, dataset, labels, n_train, epoch, probe, evaluation,
                                 threads, _epoch_progress(progress, epoch, epochs))
                _check_epoch(run, params, dataset, record.metrics["test_acc"], epoch, out_dir, collapse_check)
                record.commit(**_epoch_files(run, params, dataset, images, n_train))
                progress(_epoch_line(record.metrics, epoch, epochs, silent_units(run["rates"], params.n_layers)))
            record.set_status("done", epochs_done=record.epochs_done)
        except Diverged as e:
            if record is not None:
                record.set_status("collapsed" if isinstance(e, Collapsed) else "diverged",
                                  epochs_done=epochs_done(folder), message=str(e))
            raise
        except KeyboardInterrupt:
            if record is not None and os.path.exists(record.paths["checkpoint.json"]):
                record.set_status("interrupted", epochs_done=epochs_done(folder))
            raise
        finally:
            if own_session:
                session.close(keep_build=keep_build)
    return record.metrics


def _run_epoch(session, weights, params, dataset, labels, n_train, epoch, probe, evaluation, threads, on_progress):
    """One epoch: train on every training sample, evaluate the test split, record the probe.

    Returns a dict: the session's ``result`` (new weights, outputs, traces, timings), the
    presentation ``order``, the learning-rate ``factor``, the test split's ``rates``
    (``{k: (r_free, r_nudged)}``) and ``outputs``, the evaluation's seconds ``eval_s`` and, when
    the phases settle to a tolerance, the free-phase ``test_steps`` of the test samples.
    """
    n_test = len(dataset.y_test)
    plan, order = epoch_plan(params, n_train, session.segments["test"], labels, epoch, probe)
    factor = params.lr_factor(epoch)
    result = session.run(plan, weights, lr_factor=factor, params=params, on_progress=on_progress)
    test_steps = []
    if evaluation == "batched":
        rates, eval_s = batched_evaluation(result.weights, dataset.X_test, params, threads, test_steps)
        outputs = rates[params.n_layers][0]
    else:
        rates, eval_s = result.rates, result.segment_s.get("test", 0.0)
        outputs = result.outputs[n_train:n_train + n_test]
        if result.steps is not None:
            test_steps.append(result.steps["free"][n_train:n_train + n_test])
    return {"result": result, "order": order, "factor": factor, "rates": rates, "outputs": outputs,
            "eval_s": eval_s, "test_steps": test_steps[0] if test_steps else None,
            "batched": evaluation == "batched"}


def _check_epoch(run, params, dataset, earlier_test_acc, epoch, out_dir, collapse_check):
    """Raise :class:`Diverged` or :class:`Collapsed` for an epoch that must not be committed."""
    result = run["result"]
    _check_finite(result.weights, (result.outputs, run["outputs"]), epoch, out_dir)
    if collapse_check:
        check_health(result.weights, run["rates"], run["outputs"], dataset.y_test, earlier_test_acc,
                     dataset.n_classes, epoch, out_dir)
        check_lateral(lateral_spectrum(result.weights), params, epoch, out_dir)


def _epoch_files(run, params, dataset, images, n_train):
    """What :meth:`RunRecord.commit` writes for an epoch: its scores, diagnostics and recordings."""
    result, order = run["result"], run["order"]
    weights, out = result.weights, result.outputs[:n_train]
    y_train = dataset.y_train[:n_train][order]
    scores = {"train_acc": accuracy(out, y_train), "test_acc": accuracy(run["outputs"], dataset.y_test),
              "train_top5": accuracy(out, y_train, top=5), "test_top5": accuracy(run["outputs"], dataset.y_test, top=5),
              "train_s": result.segment_s.get("train", 0.0), "eval_s": run["eval_s"],
              "epoch_s": result.seconds + (run["eval_s"] if run["batched"] else 0.0), "lr_factor": run["factor"]}
    settled = {} if result.steps is None else settle_summary(
        result.steps["free"][:n_train], result.steps["nudged"][:n_train], run["test_steps"])
    activity = {**layer_activity(run["rates"]), **lateral_spectrum(weights), **settled}
    corinfo = traces = None
    if result.traces is not None:
        if params.variant.weights is None:  # CorInfoMax's measure
            corinfo = _corinfo_of_probe(result.traces, images, weights, params)
        traces = dict(result.traces)
        traces["sample"] = traces["sample"] - n_train  # index into the test split
        traces["label"] = dataset.y_test[traces["sample"]]
    n_rep = min(N_REPRESENTATIONS, len(dataset.y_test))
    representations = {"labels": dataset.y_test[:n_rep],
                       **{f"h_L{k}": free[:n_rep].astype(np.float32) for k, (free, _) in run["rates"].items()}}
    return dict(weights=weights, scores=scores, angles=layer_angles(weights), activity=activity, corinfo=corinfo,
                traces=traces, representations=representations)


def _epoch_line(metrics, epoch, epochs, silent):
    """The progress line of a committed epoch."""
    return (f"epoch {epoch + 1:>3}/{epochs}  train {100 * metrics['train_acc'][-1]:6.2f} %  "
            f"test {100 * metrics['test_acc'][-1]:6.2f} %  "
            f"({metrics['train_s'][-1]:.1f} s train, {metrics['eval_s'][-1]:.1f} s test)"
            + (f"  [output unit{'s' * (len(silent) > 1)} {', '.join(map(str, silent))} silent on "
               "every test sample: never predicted]" if silent else ""))


def _epoch_progress(progress, epoch, epochs):
    """The within-epoch progress callback for a reporter (None for a plain line printer)."""
    update = getattr(progress, "update", None)
    if update is None:
        return None
    return lambda segment, done, total: update(f"epoch {epoch + 1}/{epochs} {segment}", done, total)


def evaluate(weights, dataset, params, device="cpp_standalone", build_dir=None, threads=1, variant=None,
             progress=None, build_cache=True, evaluation=None):
    """Test accuracy of ``weights`` on the test split (free phase, argmax of the output rates).

    Parameters
    ----------
    weights : dict
    dataset : corinfo_sim.datasets.Dataset
    params : Params
    device : {"cpp_standalone", "runtime"}
        Brian2 device of the network evaluation.
    build_dir : str, optional
        Folder for the network's generated code (default: a temporary one).
    threads : int
        OpenMP threads of the network, or BLAS threads of the batched evaluation.
    variant : str, optional
        Model variant; it is ``params.model`` (given, it must agree).
    progress : callable, optional
        Receives the build's lines (and, with an ``update`` method, the progress of the run).
    build_cache : bool
        Use the build cache for the network.
    evaluation : {"batched", "network"}, optional
        See :func:`evaluation_path`; "batched" builds no network.

    Returns
    -------
    accuracy : float
    result : corinfo_sim.session.RunResult
        Of the network run, or of the batched evaluation (its ``outputs`` and ``rates`` of the test
        samples, ``segment_s["test"]``).
    """
    import tempfile
    _check_model(params, variant)
    n_test = len(dataset.X_test)
    labels = dataset.y_test.astype(np.int64)
    if evaluation_path(params, evaluation) == "batched":
        rates, seconds = batched_evaluation(weights, dataset.X_test, params, threads)
        result = RunResult(weights=weights, outputs=rates[params.n_layers][0], rates=rates, traces=None,
                           seconds=seconds, segment_s={"test": seconds})
        return _test_accuracy(result.outputs, labels), result
    with tempfile.TemporaryDirectory(prefix="corinfo_eval_") as tmp:
        session = Session(params, dataset.X_test, labels, {"train": 0, "test": n_test, "probe": 0},
                          build_dir or os.path.join(tmp, "build"), device=device, threads=threads,
                          variant=variant, progress=progress, build_cache=build_cache)
        try:
            plan = Plan.make(labels, test=np.arange(n_test))
            update = getattr(progress, "update", None)
            result = session.run(plan, weights, on_progress=update)
        finally:
            session.close()
    return _test_accuracy(result.outputs[:n_test], labels), result


def _test_accuracy(outputs, labels):
    if not np.all(np.isfinite(outputs)):
        raise Diverged("the network's output is NaN or inf for these weights")
    return accuracy(outputs, labels)


# ---- health of a run -------------------------------------------------------------------------
def _check_finite(weights, outputs, epoch, out_dir):
    bad = [key for key, w in weights.items() if not np.all(np.isfinite(w))]
    if not all(np.all(np.isfinite(o)) for o in outputs):
        bad.append("output rates")
    if bad:
        raise Diverged(
            f"training diverged in epoch {epoch + 1} (NaN or inf in {', '.join(bad)}): the weights of "
            f"epoch {epoch} are kept in {os.path.join(out_dir, 'weights.npz')}; lower the learning rates "
            "(--lr-ff, --lr-fb) or the neural step (--eta), or raise --lambda")


def chance_bound(n_classes, n_test, below=False):
    """Highest accuracy that is still chance: 1/C plus :data:`CHANCE_SIGMAS` binomial standard
    errors (``below``: the lowest, 1/C minus as many)."""
    chance = 1.0 / n_classes
    margin = CHANCE_SIGMAS * np.sqrt(chance * (1 - chance) / max(n_test, 1))
    return chance - margin if below else chance + margin


def significant_drop(best, now, n_test):
    """Whether a fall of the test accuracy from ``best`` to ``now`` exceeds :data:`CHANCE_SIGMAS`
    standard errors of the difference of two accuracies on ``n_test`` samples each.

    A network that starts slowly may score just above chance in one epoch and just below in the
    next (digits, 360 test samples: 17.2 % then 11.7 %, a difference of 2.1 standard errors)
    without having learned anything to lose; a collapse loses what it had learned.
    """
    se = np.sqrt((best * (1 - best) + now * (1 - now)) / max(n_test, 1))
    return best - now > CHANCE_SIGMAS * se


def check_health(weights, rates, test_outputs, test_labels, earlier_test_acc, n_classes, epoch, out_dir):
    """Raise :class:`Collapsed` if the epoch just run left a collapsed network.

    Collapsed means any of: a forward or feedback weight beyond :data:`WEIGHT_LIMIT`; a recorded
    rate beyond :data:`RATE_LIMIT`; the same output for every one of at least 20 test samples of
    several classes; a test accuracy within chance (:func:`chance_bound`) after an earlier
    epoch was above it, by a significant fall (:func:`significant_drop`); or a test accuracy
    below chance (no network that learns is worse than guessing: the neural dynamics do not
    settle, e.g. an Euler step η too large for the conductances).

    Parameters
    ----------
    weights : dict
        Weights after the epoch.
    rates : dict
        ``{k: (r_free, r_nudged)}`` of the recorded test samples.
    test_outputs : ndarray (n_test, n_L)
        Free-phase output rates of the test samples.
    test_labels : ndarray (n_test,)
    earlier_test_acc : list of float
        Test accuracies of the earlier epochs.
    n_classes, epoch : int
        Number of classes; the epoch just run (0-based).
    out_dir : str
        Run folder (named in the message).
    """
    test_acc = accuracy(test_outputs, test_labels)
    what = None
    for key in sorted(weights):
        peak = float(np.max(np.abs(weights[key]))) if not key.startswith("B") else 0.0
        if peak > WEIGHT_LIMIT:
            what = f"the weights ran away (|{key}| up to {peak:.3g}, limit {WEIGHT_LIMIT:g})"
            break
    for k, (free, nudged) in sorted(rates.items()):
        peak = max([float(np.nanmax(np.abs(r))) for r in (free, nudged) if r.size] + [0.0])
        if what is None and peak > RATE_LIMIT:
            what = f"the rates ran away (layer {k} up to {peak:.3g}, limit {RATE_LIMIT:g})"
    if what is None and len(test_outputs) >= 20 and len(np.unique(test_labels)) > 1 \
            and np.ptp(test_outputs, axis=0).max() == 0:
        what = f"the output is the same for every test sample (test accuracy {100 * test_acc:.1f} %)"
    if what is None and test_acc < chance_bound(n_classes, len(test_labels), below=True):
        what = (f"test accuracy {100 * test_acc:.1f} % is below chance level ({100 / n_classes:.0f} %): the neural "
                "dynamics do not settle (a smaller --eta steadies them)")
    if what is None and earlier_test_acc:
        best = max(earlier_test_acc)
        if test_acc <= chance_bound(n_classes, len(test_labels)) < best \
                and significant_drop(best, test_acc, len(test_labels)):
            what = (f"test accuracy fell to {100 * test_acc:.1f} %, chance level ({100 / n_classes:.0f} %), "
                    f"from {100 * best:.1f} % in epoch {1 + earlier_test_acc.index(best)}")
    if what is not None:
        raise Collapsed(
            f"training collapsed in epoch {epoch + 1}: {what}; the weights of epoch {epoch} are kept in "
            f"{os.path.join(out_dir, 'weights.npz')}; lower the learning rates (--lr-ff, --lr-fb) and start a new "
            "run (--init-weights with the kept weights continues from them), or pass --no-collapse-check")


def check_lateral(spectrum, params, epoch, out_dir):
    """Raise :class:`Collapsed` if a lateral matrix B_k ran away, before it turns into NaN.

    Ran away means: its smallest eigenvalue is below −:data:`B_NEGATIVE_LIMIT` (B, the inverse
    of a correlation matrix, is no longer positive definite), or its lateral loop gain
    γ λ_max(B_k) exceeds :data:`B_LOOP_LIMIT` of the soma's coupling (1/ε in a hidden layer,
    1/ε + 1 at the output).

    Parameters
    ----------
    spectrum : dict
        :func:`corinfo_sim.diagnostics.lateral_spectrum` of the weights after the epoch.
    params : Params
    epoch : int
        The epoch just run (0-based).
    out_dir : str
        Run folder (named in the message).
    """
    L = params.n_layers
    for k in range(1, L + 1):
        if f"B_min_L{k}" not in spectrum:
            continue
        smallest, largest = spectrum[f"B_min_L{k}"], spectrum[f"B_max_L{k}"]
        coupling = 1 / params.epsilon + (1.0 if k == L else 0.0)
        loop = params.gamma * largest / coupling
        what = None
        if smallest < -B_NEGATIVE_LIMIT:
            what = (f"the lateral matrix B{k} is no longer positive definite (eigenvalues {smallest:.3g} to "
                    f"{largest:.3g}; limit −{B_NEGATIVE_LIMIT:g})")
        elif loop > B_LOOP_LIMIT:
            what = (f"the lateral matrix B{k} ran away (largest eigenvalue {largest:.3g}: lateral loop gain "
                    f"γ·λ_max = {loop:.2f} of the soma's coupling, limit {B_LOOP_LIMIT:g})")
        if what:
            raise Collapsed(
                f"training collapsed in epoch {epoch + 1}: {what}; the weights of epoch {epoch} are kept in "
                f"{os.path.join(out_dir, 'weights.npz')}; let B remember longer (--lambda-batch 20, or a --lambda "
                "closer to 1) and start a new run, or pass --no-collapse-check")


def _corinfo_of_probe(traces, images, weights, params):
    """Correlative information per step of each probe sample, ``{key: (n_probe, steps)}``."""
    steps = params.steps_per_sample
    n_probe = len(traces["t"]) // steps
    per_sample = []
    for s in range(n_probe):
        rows = slice(s * steps, (s + 1) * steps)
        x = images[traces["sample"][rows][0]]
        rates = [np.tile(x, (steps, 1))] + [traces[f"rate_L{k}"][rows] for k in range(1, params.n_layers + 1)]
        per_sample.append(correlative_information(rates, weights, params.epsilon))
    return {key: np.stack([d[key] for d in per_sample]) for key in per_sample[0]}
