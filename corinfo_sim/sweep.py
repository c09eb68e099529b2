"""Sweeps: seeds × parameters × architectures, run on the cores of this machine or a Dask cluster.

A sweep is described by a TOML file::

    model = "antisparse"          # default: the default model
    dataset = "digits"            # default: digits
    epochs = 2                    # required
    seeds = [0, 1]                # default [0]
    [fixed]                       # every point
    arch = [64, 100, 10]
    [grid]                        # every combination of these lists
    g_leak = [0.3, 0.5]
    lr_ff = [[0.25, 0.175], [0.5, 0.35]]
    [[points]]                    # and/or points listed one by one
    g_leak = 0.4

The keys of ``[fixed]``, ``[grid]`` and ``[[points]]`` are the options of ``corinfo-sim train``
with underscores (``g_leak``, ``lr_ff``, ``lambda``, ``max_train_samples``, ...). The points are the
grid's combinations followed by the listed points, each with every seed. Point ``p003_s1`` (the
fourth parameter combination, seed 1) runs exactly the ``corinfo-sim train`` command line that
its values make, into ``DIR/points/p003_s1/``, a normal run folder. From Python the same spec is
a dict (:func:`corinfo_sim.run_sweep`).

This module owns the sweep: its spec, its points, the Dask cluster, the results table. A point
does not run a command line: it runs :func:`corinfo_sim.api.train`, the function the command
``corinfo-sim train`` calls, with the values its command line would give (``Point.request``;
``Point.argv`` is that command line, for the record and for running a point alone).

Points run as tasks of Dask (``dask.distributed``): on a :class:`~distributed.LocalCluster` of
worker processes with one thread each (default), or on an existing cluster (``--scheduler``).
A worker keeps its compiled network between points and runs the next point on it whenever the
point's network has the same structure (:func:`corinfo_sim.network.structure`: only seeds,
learning rates, β, g_L, ε, λ, η and the like differ); other workers on the same host take the
binary from the build cache (:mod:`corinfo_sim.buildcache`). ``results.csv`` counts the builds.

Faults: a point that diverges or fails is recorded and the sweep goes on. The run folders are
the sweep's state: a task's result is released once recorded, and a task run again finds its
point finished in the folder and leaves it untouched. A point whose worker dies is run again by
another worker, from the last epoch its run folder committed, and ends as an uninterrupted run
would (training resumes exactly); after :data:`WORKER_DEATHS` deaths it is failed. A local
cluster is kept at its number of workers. A lost scheduler, or a cluster without a worker for
``worker_timeout`` seconds, stops the sweep (:class:`~corinfo_sim.errors.SweepStopped`) with the
results of the folders written and ``builds/`` kept for workers that still run. Running the
sweep again with ``--resume`` skips finished points and continues the others. After Ctrl-C
every finished epoch is kept.

Files of a sweep folder: ``sweep.toml`` (the spec), ``points/<id>/`` (run folders, each with
``point.json``: status, host, build), ``results.csv`` (and ``results.parquet`` when pyarrow is
installed): one row per point; ``summary.md``: the points grouped over seeds (mean ± std).
"""
import contextlib
import csv
import dataclasses
import importlib.util
import io
import itertools
import json
import math
import os
import shutil
import signal
import socket
import sys
import threading
import time

import numpy as np

from .errors import CorInfoError, SweepStopped

#: Keys of a sweep file's top level.
TOP_KEYS = ("model", "dataset", "data_dir", "epochs", "seeds", "fixed", "grid", "points", "description")
#: ``corinfo-sim train`` options a sweep may set besides the model's parameters.
RUN_OPTIONS = {"max_train_samples": "int", "max_test_samples": "int", "probe_samples": "ints",
               "no_collapse_check": "bool", "init_weights": "path"}


@dataclasses.dataclass
class Point:
    """One run of a sweep."""

    id: str
    seed: int
    values: dict  # the sweep file's values of this point (without the seed)
    argv: list    # the ``corinfo-sim`` command line that runs the same
    request: dict = None  # the keyword arguments of corinfo_sim.api.train it runs (see run_point)


# ---- the sweep file ------------------------------------------------------------------------------
def load_spec(path):
    """Read and check a sweep file; return ``(spec dict, text)``. Errors name the key."""
    import tomllib
    try:
        with open(path, "rb") as f:
            text = f.read().decode()
        spec = tomllib.loads(text)
    except OSError as e:
        raise CorInfoError(f"cannot read the sweep file {path}: {e.strerror or e}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise CorInfoError(f"{path} is not valid TOML: {e}") from None
    return check_spec(spec, path), text


def spec_from_dict(spec):
    """A sweep given as a dict (the TOML file's tables as dicts, ``points`` a list of dicts):
    ``(spec dict, TOML text)``, checked as a file would be."""
    import tomllib
    if not isinstance(spec, dict):
        raise CorInfoError(f"a sweep is a TOML file or a dict, got {type(spec).__name__}")
    text = to_toml(spec)
    return check_spec(tomllib.loads(text), "the sweep"), text


def to_toml(spec):
    """The TOML text of a sweep dict (top-level values, ``[fixed]``, ``[grid]``, ``[[points]]``)."""
    def value(v, key):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(value(item, key) for item in v) + "]"
        if hasattr(v, "dim"):
            raise CorInfoError(f"the sweep: {key}: give a plain number in the option's unit (e.g. 0.5 for 0.5 ms), "
                               f"not {v!r}")
        raise CorInfoError(f"the sweep: {key}: expected a number, string, true/false or a list, got {v!r}")

    def lines(table):
        return [f"{k} = {value(v, k)}" for k, v in table.items()]
    top = {k: v for k, v in spec.items() if k not in ("fixed", "grid", "points")}
    out = lines(top)
    for name in ("fixed", "grid"):
        if name in spec:
            if not isinstance(spec[name], dict):
                raise CorInfoError(f"the sweep: {name} must be a dict of values")
            out += [f"[{name}]"] + lines(spec[name])
    points = spec.get("points", [])
    if not isinstance(points, (list, tuple)) or any(not isinstance(p, dict) for p in points):
        raise CorInfoError("the sweep: points must be a list of dicts")
    for point in points:
        out += ["[[points]]"] + lines(point)
    return "\n".join(out) + "\n"


def check_spec(spec, where):
    """Check a parsed sweep (see the module docstring); ``where`` is named in every message."""
    for key in spec:
        if key not in TOP_KEYS:
            raise CorInfoError(f"{where}: unknown key {key!r}: the top level takes {', '.join(TOP_KEYS)}; "
                               "parameters go in [fixed], [grid] or [[points]]")
    if "epochs" not in spec:
        raise CorInfoError(f"{where}: epochs is missing: add e.g. epochs = 2")
    epochs = spec["epochs"]
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise CorInfoError(f"{where}: epochs must be a positive whole number, got {epochs!r}")
    seeds = spec.setdefault("seeds", [0])
    if not isinstance(seeds, list) or not seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0
                                                        for s in seeds) or len(set(seeds)) != len(seeds):
        raise CorInfoError(f"{where}: seeds must be a non-empty list of distinct non-negative whole numbers, "
                           f"got {seeds!r}")
    for key in ("model", "dataset", "data_dir", "description"):
        if key in spec and not isinstance(spec[key], str):
            raise CorInfoError(f"{where}: {key} must be a string, got {spec[key]!r}")
    from .models import DEFAULT, VARIANTS
    spec.setdefault("model", DEFAULT)
    spec.setdefault("dataset", "digits")
    if spec["model"] not in VARIANTS:
        raise CorInfoError(f"{where}: unknown model {spec['model']!r}: choose one of {', '.join(VARIANTS)}")
    for table in ("fixed", "grid"):
        if not isinstance(spec.setdefault(table, {}), dict):
            raise CorInfoError(f"{where}: {table} must be a table ([{table}])")
    points = spec.setdefault("points", [])
    if not isinstance(points, list) or any(not isinstance(p, dict) for p in points):
        raise CorInfoError(f"{where}: points must be an array of tables ([[points]])")
    for key, values in spec["grid"].items():
        if not isinstance(values, list):
            raise CorInfoError(f"{where}: [grid] {key} must be a list of values, got {values!r}")
        if not values:
            raise CorInfoError(f"{where}: [grid] {key} is empty: give at least one value")
    for n, point in enumerate(points):
        if not point:
            raise CorInfoError(f"{where}: [[points]] number {n + 1} is empty: give at least one value")
    return spec


def _options(model):
    """``{key: (option, kind)}`` of every key a sweep file may set for ``model``."""
    from .models import get_variant
    options = {}
    for parameter in get_variant(model).parameters:
        if parameter.cli and parameter.name != "seed":
            key = parameter.cli[2:].replace("-", "_")
            options[key] = (parameter.cli, parameter.kind)
    for key, kind in RUN_OPTIONS.items():
        options[key] = ("--" + key.replace("_", "-"), kind)
    return options


def _number(value, integer=False):
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    return ok and not isinstance(value, bool) and math.isfinite(value)


def _argument(where, key, value, option, kind, base="."):
    """The command-line words of one value, after checking its type (one-line errors naming ``key``);
    a file name is taken relative to the folder ``base``."""
    def bad(what):
        return CorInfoError(f"{where} {key}: expected {what}, got {value!r}")
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        if key == "no_collapse_check":
            return [option] if value else []
        return [option if value else "--no-" + option[2:]]
    if kind in ("floats", "ints"):
        items = value if isinstance(value, list) else [value]
        if not items or not all(_number(v, integer=kind == "ints") for v in items):
            raise bad("a list of " + ("whole numbers" if kind == "ints" else "numbers"))
        return [option, ",".join(map(repr, items))]
    if kind == "int":
        if not _number(value, integer=True):
            raise bad("a whole number")
        return [option, str(value)]
    if kind == "choice":
        if not isinstance(value, str):
            raise bad("a string")
        return [option, value]
    if kind == "path":  # relative to the sweep file's folder
        if not isinstance(value, str) or not value:
            raise bad("a file name")
        path = os.path.join(os.path.abspath(base), value)
        if not os.path.exists(path):
            raise CorInfoError(f"{where} {key}: {path} does not exist")
        return [option, path]
    if not _number(value):  # float, quantity (in the option's unit), schedule (the decay factor)
        raise bad("a number")
    return [option, repr(float(value))]


def _combinations(spec):
    """The parameter combinations: the grid's, then the listed points, each over ``[fixed]``."""
    grid = spec["grid"]
    combos = [dict(zip(grid, values)) for values in itertools.product(*grid.values())] if grid else []
    if not grid and not spec["points"]:
        combos = [{}]
    combos += [dict(point) for point in spec["points"]]
    return [dict(spec["fixed"], **combo) for combo in combos]


def expand(spec, out_dir, path="sweep"):
    """Every point of ``spec`` (see the module docstring), its command line checked.

    Returns
    -------
    list of Point
    """
    from . import api
    from .params import _not_a_parameter
    from .training import probe_samples
    options = _options(spec["model"])
    declared = {p.cli[2:].replace("-", "_"): p for p in _parameters(spec["model"])}
    where = path
    for table, values in [("[fixed]", spec["fixed"]), ("[grid]", spec["grid"])] + \
            [("[[points]]", p) for p in spec["points"]]:
        for key in values:
            if key == "seed":
                raise CorInfoError(f"{where}: {table} seed: seeds are given by the top-level key seeds = [...]")
            if key not in options:
                hint = _not_a_parameter(key, spec["model"])
                raise CorInfoError(f"{where}: {table} {key}: unknown key ({hint}); keys are the options of "
                                   f"'corinfo-sim train --model {spec['model']}' with underscores")
    points, inputs = [], {}
    for n, combo in enumerate(_combinations(spec)):
        words, overrides = [], {}
        run = {"max_train": None, "max_test": None, "probe": None, "collapse_check": True, "init_weights": None}
        for key, value in combo.items():
            table = "[grid]" if key in spec["grid"] else "[fixed]" if key in spec["fixed"] else "[[points]]"
            more = _argument(f"{where}: {table}", key, value, *options[key], base=os.path.dirname(path))
            words += more
            if key in declared:
                try:
                    overrides[declared[key].name] = api.from_option(declared[key], _plain(value))
                except CorInfoError as e:
                    raise CorInfoError(f"{where}: {table} {key}: {e}") from None
            elif key == "no_collapse_check":
                run["collapse_check"] = not value
            elif key == "init_weights":
                run["init_weights"] = more[1]
            else:
                run[{"max_train_samples": "max_train", "max_test_samples": "max_test",
                     "probe_samples": "probe"}[key]] = _plain(value)
        for seed in spec["seeds"]:
            pid = f"p{n:03d}_s{seed}"
            out = os.path.join(out_dir, "points", pid)
            argv = ["train", "--model", spec["model"], "--dataset", spec["dataset"], "--epochs",
                    str(spec["epochs"]), "--seed", str(seed), "--out", out] + words
            if spec.get("data_dir"):
                argv += ["--data-dir", spec["data_dir"]]
            request = dict(run, model=spec["model"], dataset=spec["dataset"], data_dir=spec.get("data_dir"),
                           epochs=spec["epochs"], out=out, overrides=dict(overrides, seed=seed), build_cache=True)
            try:
                key = (spec["dataset"], run["max_test"])
                if key not in inputs:
                    inputs[key] = api.load_dataset(spec["dataset"], spec.get("data_dir"), max_test=run["max_test"])
                dataset = inputs[key]
                params = point_params(request, dataset)
                probe_samples(dataset, run["probe"])
                if dataset.X_train.shape[1] != params.arch[0] or dataset.n_classes != params.arch[-1]:
                    raise CorInfoError(f"arch {','.join(map(str, params.arch))} does not fit {dataset.name} "
                                       f"({dataset.X_train.shape[1]} inputs, {dataset.n_classes} classes)")
            except CorInfoError as e:
                raise CorInfoError(f"{where}: point {pid} ({_describe(combo) or 'defaults'}): {e}") from None
            points.append(Point(id=pid, seed=seed, values=combo, argv=argv, request=request))
    return points


def _parameters(model):
    from .models import get_variant
    return [p for p in get_variant(model).parameters if p.cli and p.name != "seed"]


def _plain(value):
    """A sweep file's value as the command line would parse it (lists as tuples)."""
    return tuple(value) if isinstance(value, list) else value


def point_params(request, dataset):
    """The :class:`~corinfo_sim.params.Params` of a point's ``request`` on ``dataset``."""
    from . import api
    return api.params(request["model"], dataset=dataset.name, **request["overrides"])


def _describe(values):
    return ", ".join(f"{k}={_text(v)}" for k, v in values.items())


def _text(value):
    if isinstance(value, list):
        return ",".join(map(_text, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


# ---- running a point (on a worker) ----------------------------------------------------------------
_WORKER = {}  # this worker process's compiled network: {"key": ..., "session": ...}


def _worker_session(request, dataset, params, out_dir):
    """The compiled network of this worker for ``params``: kept from the last point when the
    structure is the same (``"reused"``), else built (``"cache"`` or ``"compiled"``)."""
    from .network import structure
    from .training import make_session, probe_samples
    key = (structure(params), dataset.name, request["data_dir"], request["max_train"], request["max_test"],
           tuple(probe_samples(dataset, request["probe"])), request["build_cache"], out_dir)
    if _WORKER.get("key") == key and os.path.isdir(_WORKER["session"].build_dir):  # a finished sweep removes it
        return _WORKER["session"], "reused"
    _drop_session()
    build_dir = os.path.join(out_dir, "builds", f"{socket.gethostname()}-{os.getpid()}")
    session = make_session(params, dataset, build_dir, request["max_train"], probe=request["probe"],
                           build_cache=request["build_cache"])
    _WORKER.update(key=key, session=session)
    return session, "cache" if session.from_cache else "compiled"


def _drop_session():
    """Close this worker's compiled network, if any."""
    session = _WORKER.pop("session", None)
    _WORKER.clear()
    if session is not None:
        with contextlib.suppress(Exception):
            session.close()


def _import_brian2():
    """Import Brian2 in a worker's task thread (its import sets a SIGINT handler, which only the
    main thread may do; a worker is stopped by its scheduler, not by Ctrl-C)."""
    if "brian2" in sys.modules or threading.current_thread() is threading.main_thread():
        return
    original = signal.signal
    signal.signal = lambda *args: None
    try:
        importlib.import_module("brian2")
    finally:
        signal.signal = original


def run_point(pid, request, out_dir):
    """Run point ``pid`` (a Dask task): :func:`corinfo_sim.api.train` with the point's ``request``
    (:attr:`Point.request`), resuming what its run folder holds; never raises.

    The run folder is the point's state: a point it shows finished (a task run again after its
    worker died with the result) is not touched, and a folder another process still trains (a
    worker of a lost cluster) is waited for.

    Returns
    -------
    dict
        What ``point.json`` holds: ``status`` (``done``, ``diverged`` or ``failed: <line>``),
        ``host``, ``pid``, ``build`` (``compiled``, ``cache``, ``reused`` or ``-`` when there
        was nothing to run), ``build_s`` and ``seconds``.
    """
    _import_brian2()
    from . import api
    from .brian2state import quiet_logging
    from .runfolder import write_json
    from .runrecord import epochs_done, has_run
    from .training import Diverged
    from .weights import load_weights
    quiet_logging()
    start = time.time()
    info = {"id": pid, "host": socket.gethostname(), "pid": os.getpid(), "build": "-", "build_s": 0.0}
    try:
        out, epochs = request["out"], request["epochs"]
        _wait_while_locked(out)
        record = finished_record(out, epochs)
        if record is not None:
            return record
        dataset = api.load_dataset(request["dataset"], request["data_dir"], max_test=request["max_test"])
        params = point_params(request, dataset)
        if request["init_weights"] and not has_run(out):  # bad weights fail before a network is built
            load_weights(api.weights_source(request["init_weights"])[0], params.arch, params.model)
        if epochs_done(out) < epochs:
            session, info["build"] = _worker_session(request, dataset, params, out_dir)
            info["build_s"] = session.build_s if info["build"] != "reused" else 0.0
        else:
            session = None
        api.train(params, dataset, epochs, out, init_weights=request["init_weights"],
                  resume=has_run(out),  # a point a dead worker left is continued
                  max_train=request["max_train"], probe=request["probe"], collapse_check=request["collapse_check"],
                  build_cache=request["build_cache"], session=session)
        info["status"] = "done"
    except Diverged as e:
        info["status"], info["message"] = "diverged", str(e)
    except Exception as e:  # noqa: BLE001 - a failing point must not stop the sweep
        info["status"] = "failed: " + _one_line(e)
        _drop_session()  # the next point starts from a new network
    info["seconds"] = time.time() - start
    folder = os.path.join(out_dir, "points", pid)
    os.makedirs(folder, exist_ok=True)
    write_json(os.path.join(folder, "point.json"), info)
    return info


def _one_line(error):
    """``error`` in one line: its message, after its type unless it is a :class:`CorInfoError`."""
    detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if isinstance(error, CorInfoError):
        return detail
    return f"{error.__class__.__name__}{': ' + detail if detail else ''}"


def _wait_while_locked(folder, poll=2.0):
    """Wait while another process holds the lock of the run folder ``folder`` (a worker of a lost
    scheduler finishes the point it was running)."""
    import fcntl

    from .runfolder import LOCK_NAME
    try:
        fd = os.open(os.path.join(folder, LOCK_NAME), os.O_RDONLY)
    except OSError:  # no lock file: nobody has trained this point
        return
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                time.sleep(poll)
                continue
            fcntl.flock(fd, fcntl.LOCK_UN)
            return
    finally:
        os.close(fd)


def finished_record(run_folder, epochs):
    """The ``point.json`` record of a point that needs no more work, else None.

    A point needs no more work when it diverged, or is done with at least ``epochs`` epochs.
    """
    from .runrecord import epochs_done
    info = _read_json(os.path.join(run_folder, "point.json")) or {}
    status = info.get("status", "")
    if status == "diverged" or (status == "done" and epochs_done(run_folder) >= epochs):
        return info
    return None


# ---- results ---------------------------------------------------------------------------------------
def _read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def point_row(point, out_dir, keys):
    """One row of ``results.csv`` from the point's run folder.

    A point without ``point.json`` is ``unfinished`` when its training started, else ``not started``.
    """
    from .runrecord import has_run
    folder = os.path.join(out_dir, "points", point.id)
    info = _read_json(os.path.join(folder, "point.json")) or {}
    metrics = _read_json(os.path.join(folder, "metrics.json")) or {}
    test = list(metrics.get("test_acc", []))[:metrics.get("epochs_done", 0)]
    row = {"id": point.id, "seed": point.seed}
    for key in keys:
        row[key] = _text(point.values[key]) if key in point.values else ""
    started = has_run(folder) or os.path.exists(os.path.join(folder, "status.json"))
    row["status"] = info.get("status") or ("unfinished" if started else "not started")
    row["epochs_done"] = len(test)
    row["final_test_acc"] = 100 * test[-1] if test else float("nan")
    row["best_test_acc"] = 100 * max(test) if test else float("nan")
    row["best_epoch"] = 1 + int(np.argmax(test)) if test else ""
    row["test_acc_per_epoch"] = " ".join(f"{100 * a:.2f}" for a in test)
    train_s = metrics.get("train_s", [])[:len(test)]
    row["train_s_per_epoch"] = float(np.mean(train_s)) if train_s else float("nan")
    epoch_s = metrics.get("epoch_s", [])[:len(test)]
    row["epoch_s"] = float(np.mean(epoch_s)) if epoch_s else float("nan")
    row["host"] = info.get("host", "")
    row["build"] = info.get("build", "")
    row["build_s"] = info.get("build_s", float("nan"))
    return row


def _swept_keys(points):
    keys = []
    for point in points:
        keys += [k for k in point.values if k not in keys]
    return keys


def write_results(points, out_dir, spec, known=None):
    """Write ``results.csv`` (and ``results.parquet`` with pyarrow) and ``summary.md``; return the rows.

    ``known`` (``{id: row}``, kept up to date by the caller) spares reading every point's folder
    again after each finished point.
    """
    keys = _swept_keys(points)
    rows = [known[p.id] if known else point_row(p, out_dir, keys) for p in points]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.4f}" if isinstance(v, float) and math.isfinite(v) else
                             "" if isinstance(v, float) else v) for k, v in row.items()})
    _write_text(os.path.join(out_dir, "results.csv"), buf.getvalue())
    try:
        import pyarrow
        import pyarrow.parquet
        table = pyarrow.Table.from_pylist([{k: (str(v) if k in keys or k == "best_epoch" else v)
                                            for k, v in row.items()} for row in rows])
        pyarrow.parquet.write_table(table, os.path.join(out_dir, "results.parquet"))
    except ImportError:
        pass
    _write_text(os.path.join(out_dir, "summary.md"), summary_markdown(rows, keys, spec))
    return rows


def _write_text(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _mean_std(values):
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return "–"
    return f"{np.mean(values):.2f} ± {np.std(values):.2f}"


def build_counts(rows):
    """``{"compiled": n, "cache": n, "reused": n}`` over the points that ran a network."""
    return {kind: sum(r["build"] == kind for r in rows) for kind in ("compiled", "cache", "reused")}


def summary_markdown(rows, keys, spec):
    """The points grouped over seeds: final and best test accuracy, mean ± std (population std)."""
    fixed = [k for k in keys if len({row[k] for row in rows}) == 1]
    keys = [k for k in keys if k not in fixed]
    groups = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in keys), []).append(row)
    lines = [f"# Sweep: {spec['model']} on {spec['dataset']}, {spec['epochs']} epochs, seeds "
             f"{', '.join(map(str, spec['seeds']))}", ""]
    if spec.get("description"):
        lines += [spec["description"], ""]
    if fixed:
        lines += ["Every point: " + ", ".join(f"{k} = {rows[0][k]}" for k in fixed) + ".", ""]
    head = keys + ["seeds", "final test acc. (%)", "best test acc. (%)", "status"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for values, group in groups.items():
        statuses = {}
        for r in group:
            statuses[r["status"].split(":")[0]] = statuses.get(r["status"].split(":")[0], 0) + 1
        lines.append("| " + " | ".join(list(values) + [
            str(len(group)), _mean_std([r["final_test_acc"] for r in group]),
            _mean_std([r["best_test_acc"] for r in group]),
            ", ".join(f"{n} {s}" for s, n in statuses.items())]) + " |")
    counts = build_counts(rows)
    ran = sum(counts.values())
    lines += ["", f"Builds: {counts['compiled']} compiled, {counts['cache']} from the build cache, "
                  f"{counts['reused']} points re-ran a worker's network ({ran} points ran)."]
    return "\n".join(lines) + "\n"


# ---- the sweep ---------------------------------------------------------------------------------------
#: Times a point's worker may die while running it before the point is failed (on a local cluster;
#: an existing cluster's scheduler decides: ``distributed.scheduler.allowed-failures`` + 1, 4 by default).
WORKER_DEATHS = 3
#: Default of ``--worker-timeout``: seconds a sweep waits while its cluster has no worker.
WORKER_TIMEOUT = 600.0
#: Seconds between two looks at the cluster while a sweep runs.
TICK = 1.0


@contextlib.contextmanager
def _quiet_dask():
    """Keep Dask's log messages (a lost connection's traceback, a worker's death) off the console
    while a sweep runs: the sweep says what happened in its own lines. ``CORINFO_DEBUG=1`` keeps them."""
    import logging

    with contextlib.suppress(ImportError):  # (_client says how to install it)
        import distributed  # noqa: F401 - sets up its loggers
    if os.environ.get("CORINFO_DEBUG"):
        yield
        return
    names = [n for n in list(logging.root.manager.loggerDict) if n.split(".")[0] in ("distributed", "tornado")]
    loggers = [logging.getLogger(n) for n in ["distributed"] + names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _client(workers, scheduler, progress):
    """A Dask client: of an existing scheduler, or of a new LocalCluster. Returns ``(client, cluster)``."""
    import logging
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise CorInfoError("sweeps need Dask: pip install 'dask[distributed]'") from None
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as e:
            raise CorInfoError(f"cannot reach the Dask scheduler at {scheduler} ({e.__class__.__name__}): start it "
                               "with 'dask scheduler', or leave out --scheduler for a local cluster") from None
        n = len(client.scheduler_info()["workers"])
        progress(f"Dask scheduler {scheduler}: {n} worker{'s' * (n != 1)}")
        cluster = None
    else:
        dashboard = ":0" if importlib.util.find_spec("bokeh") else None
        # a worker holds only the point it runs: Dask counts a death against every task its worker holds
        with dask.config.set({"distributed.scheduler.allowed-failures": WORKER_DEATHS - 1,
                              "distributed.scheduler.worker-saturation": 1.0}):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=dashboard, silence_logs=logging.ERROR)
        client = Client(cluster)
        progress(f"local Dask cluster: {workers} worker process{'es' * (workers != 1)}, one thread each")
    if "dashboard" in client.scheduler_info().get("services", {}):
        progress(f"Dask dashboard: {client.dashboard_link}")
    return client, cluster


def _point_line(n, total, row):
    acc = (f"test {row['final_test_acc']:6.2f} % (best {row['best_test_acc']:.2f} %)"
           if math.isfinite(row["final_test_acc"]) else "no finished epoch")
    return (f"[{n:>{len(str(total))}}/{total}] {row['id']}  {row['status'].split(':')[0]:<8} {acc}  "
            f"{row['epochs_done']} epoch{'s' * (row['epochs_done'] != 1)}  {row['host']}"
            + (f"  ({row['status']})" if row["status"].startswith("failed") else ""))


def run_sweep(spec, out_dir, workers=None, scheduler=None, resume=False, progress=print, build_cache=True,
              worker_timeout=WORKER_TIMEOUT):
    """Run every point of the sweep file ``spec_path`` into ``out_dir``; return the result rows.

    Parameters
    ----------
    spec : str or dict
        The TOML sweep file (see the module docstring), or the same as a dict.
    out_dir : str
        Sweep folder (created; locked while the sweep runs).
    workers : int, optional
        Worker processes of the local cluster (default: the machine's cores).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``) instead of a local cluster.
    resume : bool
        Continue the sweep in ``out_dir``: finished points are kept, the others continued.
    progress : callable
        Receives a line per event (cluster, finished point with the overall ETA, a worker lost);
        its method ``status``, when it has one, the status line of the sweep (see
        :meth:`corinfo_sim.progress.Reporter.status`).
    build_cache : bool
        Whether the points use the build cache.
    worker_timeout : float
        Seconds the sweep waits while its cluster has no worker before it stops.

    Raises
    ------
    corinfo_sim.errors.SweepStopped
        The scheduler was lost, or the cluster had no worker for ``worker_timeout`` seconds;
        ``results.csv`` holds what the run folders hold.
    """
    from .runfolder import locked_folder
    spec_path = spec if isinstance(spec, (str, os.PathLike)) else None
    spec, text = load_spec(os.fspath(spec_path)) if spec_path else spec_from_dict(spec)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise CorInfoError(f"--workers must be a positive whole number, got {workers!r}")
    if not _number(worker_timeout) or worker_timeout <= 0:
        raise CorInfoError(f"--worker-timeout must be a positive number of seconds, got {worker_timeout!r}")
    workers = workers or os.cpu_count() or 1
    with locked_folder(out_dir, what="sweep folder") as folder:
        points = expand(spec, folder, os.fspath(spec_path) if spec_path else "the sweep")
        if not build_cache:
            for point in points:
                point.argv.append("--no-build-cache")
                point.request["build_cache"] = False
        saved = os.path.join(folder, "sweep.toml")
        if os.path.exists(saved):
            if not resume:
                raise CorInfoError(f"{out_dir} already holds a sweep: continue it with --resume or choose another --out")
            old_spec, _ = load_spec(saved)
            if dict(old_spec, epochs=0) != dict(spec, epochs=0):
                raise CorInfoError(f"cannot resume: {saved} is another sweep (only epochs may change); "
                                   "choose another --out")
        todo = [p for p in points
                if not (resume and finished_record(os.path.join(folder, "points", p.id), spec["epochs"]))]
        progress(f"sweep {os.path.basename(spec_path) if spec_path else 'from a dict'}: {len(points)} points ({len(points) - len(todo)} finished "
                 f"before), {spec['epochs']} epochs each, into {out_dir}")
        with _quiet_dask():
            client, cluster = _client(workers, scheduler, progress) if todo else (None, None)
            try:
                _write_text(saved, text)  # once the workers are there
                if todo:
                    _run_points(todo, points, folder, spec, _Watch(client, cluster, workers, scheduler,
                                                                    worker_timeout, progress, out_dir))
            finally:
                if client is not None:
                    with contextlib.suppress(Exception):
                        client.close(timeout=10)
                        if cluster is not None:
                            cluster.close(timeout=10)
                rows = write_results(points, folder, spec)  # what the run folders hold, however the sweep ended
        # only after a sweep that ended here: no worker runs a point of it (a lost cluster's workers may)
        shutil.rmtree(os.path.join(folder, "builds"), ignore_errors=True)
        counts = build_counts(rows)
        done = sum(r["status"] == "done" for r in rows)
        progress(f"sweep finished: {done} of {len(rows)} points done; {counts['compiled']} compiled, "
                 f"{counts['cache']} from the build cache, {counts['reused']} re-used a worker's network; "
                 f"results in {os.path.join(out_dir, 'results.csv')} and summary.md")
    return rows


class _Watch:
    """The cluster while a sweep runs: the workers alive, the points running, the status line; a
    local cluster kept at its number of workers; the time without a worker."""

    def __init__(self, client, cluster, workers, scheduler, worker_timeout, progress, out_dir):
        self.client, self.cluster, self.workers, self.progress = client, cluster, workers, progress
        self.where = f"the Dask scheduler {scheduler}" if scheduler else "the local Dask cluster"
        self.timeout, self.out_dir = worker_timeout, out_dir
        self.alive, self.running = None, 0
        self.no_worker_since = None
        self.scaled = 0.0

    def look(self, keys):
        """Count the workers and how many of the tasks ``keys`` they run; replace the local cluster's
        lost workers; raise :class:`~corinfo_sim.errors.SweepStopped` after ``worker_timeout`` s without a worker."""
        from .progress import _duration
        try:
            workers = self.client.scheduler_info()["workers"]
            processing = self.client.processing()
        except Exception:  # noqa: BLE001 - the scheduler is going away: its futures say so
            return
        now = time.monotonic()
        alive = len(workers)
        self.running = sum(min(info.get("nthreads", 1), sum(k in keys for k in processing.get(address, ())))
                           for address, info in workers.items())
        if self.cluster is not None and len(self.cluster.workers) < self.workers and now - self.scaled > 5:
            # Dask's SpecCluster closes a worker slot whose worker did not come back within
            # distributed.deploy.lost-worker-timeout: open it again
            self.cluster.scale(self.workers)
            self.scaled = now
        if self.alive is not None and alive < self.alive:
            self.progress(f"a worker left the cluster: {alive} alive"
                          + (f" of {self.workers}, a new one is starting" if self.cluster is not None else ""))
        self.alive = alive
        if alive:
            self.no_worker_since = None
        elif self.no_worker_since is None:
            self.no_worker_since = now
            if self.cluster is None:
                self.progress(f"no worker: waiting up to {_duration(self.timeout)} for one (--worker-timeout)")
        elif now - self.no_worker_since > self.timeout:
            raise SweepStopped(f"no Dask worker for {_duration(self.timeout)} at {self.where} (--worker-timeout): "
                               f"finished points are kept in {self.out_dir}; start workers and run the same "
                               "command with --resume")

    def status(self, done, failed, total, elapsed, left):
        """The status line: points done, running, failed and waiting; workers; time."""
        from .progress import _duration
        show = getattr(self.progress, "status", None)
        if show is None:
            return
        running = min(self.running, total - done - failed)
        alive = "?" if self.alive is None else self.alive
        workers = f"{alive} of {self.workers}" if self.cluster is not None else f"{alive}"
        show(f"{done}/{total} points done, {running} running, {failed} failed, "
             f"{total - done - failed - running} waiting; {workers} worker{'s' * (alive != 1)} alive; "
             f"{_duration(elapsed)} elapsed" + (f", about {_duration(left)} left" if left is not None else ""))

    def lost(self):
        """The error of a sweep whose scheduler went away."""
        return SweepStopped(f"lost {self.where}: finished points are kept in {self.out_dir} (points its workers "
                            "still run finish in their folders); start a scheduler and workers and run the same "
                            "command with --resume")


class _TimeLeft:
    """The time a sweep still needs, from the epochs its points have trained since it started:
    ``left(elapsed)`` is ``elapsed`` times the epochs still to train (of the points not ended) over
    the epochs trained so far (by finished and running points alike), None before the first epoch.
    Counting epochs, not points, keeps the estimate right while every worker is in its first point.
    The run folders are read at most every ``every`` seconds of ``elapsed``."""

    def __init__(self, todo, folder, epochs, every=10.0):
        from .runrecord import epochs_done
        self._epochs_done = epochs_done
        self.folders = {p.id: os.path.join(folder, "points", p.id) for p in todo}
        self.start = {i: epochs_done(f) for i, f in self.folders.items()}
        self.epochs, self.every = epochs, every
        self.ended_ids = set()
        self.at, self.value = -math.inf, None

    def ended(self, point_id):
        """Point ``point_id`` finished, diverged or failed: it needs no more epochs."""
        self.ended_ids.add(point_id)
        self.at = -math.inf

    def __call__(self, elapsed):
        if elapsed - self.at >= self.every:
            trained = remaining = 0
            for i, folder in self.folders.items():
                now = min(self.epochs, self._epochs_done(folder))
                trained += max(now - self.start[i], 0)
                remaining += 0 if i in self.ended_ids else self.epochs - now
            self.at, self.value = elapsed, (elapsed * remaining / trained if trained else None)
        return self.value


def _run_points(todo, points, folder, spec, watch):
    """Run the points ``todo`` (of ``points``) on the cluster ``watch`` looks at; record each point
    as it ends and release its task."""
    from distributed import KilledWorker

    from .progress import _duration
    client = watch.client
    start = time.time()
    # the run folders are the tasks' state: a task run twice (after a worker died) resumes
    pending = {client.submit(run_point, p.id, p.request, folder, key=f"corinfo-{p.id}-{os.getpid()}-{start:.0f}",
                             pure=False): p for p in todo}
    keys = _swept_keys(points)
    known = {p.id: point_row(p, folder, keys) for p in points}
    counted = {"done": len(points) - len(todo), "failed": 0}
    n = 0
    left = _TimeLeft(todo, folder, spec["epochs"])

    try:
        while pending:
            lost = False
            for future in [f for f in pending if f.done()]:
                point = pending.pop(future)
                if future.status == "cancelled":  # the scheduler went away
                    lost = True
                    continue
                if future.status == "error":
                    e = future.exception()
                    if isinstance(e, KilledWorker):
                        reason = (f"its worker died {e.allowed_failures + 1} times while running it (out of memory? "
                                  "a crash? see the workers' logs)")
                    else:
                        reason = _one_line(e)
                    if finished_record(os.path.join(folder, "points", point.id), spec["epochs"]) is None:
                        _record_failure(folder, {"id": point.id, "status": f"failed: {reason}"})
                future.release()  # held no longer: a worker's death cannot make it run again
                row = known[point.id] = point_row(point, folder, keys)
                counted["failed" if row["status"].startswith("failed") else "done"] += 1
                n += 1
                left.ended(point.id)
                elapsed = time.time() - start
                eta = left(elapsed) if n < len(todo) else None
                watch.progress(_point_line(n, len(todo), row) + f"  | {n}/{len(todo)} points, "
                               f"{_duration(elapsed)} elapsed" + (f", ETA {_duration(eta)}" if eta is not None else ""))
                write_results(points, folder, spec, known)
            if lost or client.status == "closed":
                raise watch.lost()
            if pending:
                watch.look({f.key for f in pending})
                elapsed = time.time() - start
                watch.status(counted["done"], counted["failed"], len(points), elapsed, left(elapsed))
                time.sleep(TICK)
    except KeyboardInterrupt:
        if watch.cluster is not None:
            _kill_children()  # workers cannot be interrupted: stop them, their binaries and compilers now
        raise
    finally:
        with contextlib.suppress(Exception):
            client.cancel(list(pending))


def _kill_children():
    """Kill the processes this one started (the local cluster's workers and what they run), but
    Python's resource tracker, which cleans up after them."""
    import psutil
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if not any("resource_tracker" in word for word in child.cmdline()):
                child.kill()


def _record_failure(folder, info):
    from .runfolder import write_json
    path = os.path.join(folder, "points", info["id"])
    os.makedirs(path, exist_ok=True)
    write_json(os.path.join(path, "point.json"), dict(info, host="", build="-"))
