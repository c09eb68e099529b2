"""Speed benchmark: compiled Brian2 training and evaluation beside the dense numpy reference.

``corinfo-sim bench`` trains online on random data (inputs uniform in [0, 1], random labels), or
on the first samples of a data set, and prints one JSON object. Figures are wall-clock times on
this machine, measured inside the compiled run (loading the binary's data is not counted in
``ms_per_sample``; it is in ``run_s``). The dense baseline (:mod:`corinfo_sim.dense`, batch 1,
input drive computed once per sample) runs the same algorithm in the same process, its BLAS on
``threads`` threads. ``peak_rss_mb`` is the compiled binary's peak memory (resident set size).

With ``settle_tol`` > 0 (settling to a tolerance) the same samples are also trained from the same
weights with the fixed step counts (``settle_tol`` 0), both :data:`SETTLE_REPEATS` times, alternately,
and the faster run of each counts (on a busy machine the load changes from run to run):
``fixed`` holds that run's figures, ``steps_per_sample`` the mean steps the settled samples took
(``steps_free``, ``steps_nudged`` by phase), ``step_ratio`` and ``time_ratio`` the fixed run's
steps and training time per sample divided by the settled run's, ``cpu_ratio`` the same for the
binary's CPU time (training and the network's evaluation of as many samples; unlike wall-clock
time, not stretched by other processes on the machine), and ``same_predictions`` the
fraction of evaluation samples that both trained networks classify alike.

``eval_ms_per_sample`` times the evaluation a training run uses
(:func:`corinfo_sim.training.evaluation_path`): for the variants with an exact dense oracle the
batched dense free phase on the same evaluation samples and the trained weights, else the
compiled network's test segment; ``network_eval_ms_per_sample`` always times the latter.
"""
import contextlib
import os
import sys
import tempfile
import time

import brian2
import numpy as np
from threadpoolctl import threadpool_limits

from . import dense
from .errors import CorInfoError
from .models import DEFAULT
from .params import make_params
from .session import Session
from .network import Plan
from .training import batched_evaluation, environment, evaluation_path
from .weights import init_weights


#: Runs the compiled binary (its command line in argv) and prints the binary's peak memory.
_RSS_WRAPPER = """
import os, sys
pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ)
_, status, usage = os.wait4(pid, 0)
print("corinfo-rss-kb", usage.ru_maxrss, usage.ru_utime + usage.ru_stime, flush=True)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@contextlib.contextmanager
def _peak_memory_reported():
    """Compiled runs within report their binary's peak memory (RSS) in their output."""
    pref = "devices.cpp_standalone.run_cmd_unix"
    before = brian2.prefs[pref]
    brian2.prefs[pref] = [sys.executable, "-c", _RSS_WRAPPER, "./main"]
    try:
        yield
    finally:
        brian2.prefs[pref] = before


def _reported_peak_memory(stdout_path):
    """Peak RSS in MB and CPU seconds (user and system) that :func:`_peak_memory_reported` wrote
    to a run's output."""
    with open(stdout_path) as f:
        fields = [line.split()[1:] for line in f if line.startswith("corinfo-rss-kb ")]
    return int(fields[-1][0]) / 1024, float(fields[-1][1])


#: Runs of each network when a settled network is timed against the fixed step counts.
SETTLE_REPEATS = 2


def _timed_run(params, images, labels, weights, samples, eval_samples, threads, progress, build_cache):
    """Train on the first ``samples`` images and evaluate the next ones in a compiled session of
    its own; the run's result (with ``cpu_s``, the binary's CPU seconds), the (closed) session
    and the binary's peak memory in MB."""
    with tempfile.TemporaryDirectory(prefix="corinfo_bench_") as tmp:
        session = Session(params, images, labels, {"train": samples, "test": eval_samples, "probe": 0},
                          os.path.join(tmp, "build"), threads=threads, progress=progress, build_cache=build_cache)
        try:
            plan = Plan.make(labels, train=np.arange(samples), test=samples + np.arange(eval_samples),
                             beta=np.ones(samples))
            with _peak_memory_reported():
                result = session.run(plan, weights)
            peak_rss_mb, result["cpu_s"] = _reported_peak_memory(session._stdout_path())
        finally:
            session.close()
    return result, session, peak_rss_mb


def bench(arch=(784, 500, 10), samples=1000, threads=1, dense_samples=200, eval_samples=None, seed=0,
          variant=None, params=None, options=None, dataset=None, progress=None, build_cache=True):
    """Time ``samples`` online training samples and an evaluation; return a dict of figures.

    ``params`` replaces the benchmark's parameters; ``options`` (a dict of Params fields, e.g.
    the spiking model's ``nu_max``) changes some of them. With a
    :class:`~corinfo_sim.datasets.Dataset`, the first training and test samples are used instead
    of random inputs (``arch`` must fit it). ``progress`` receives the build's lines.
    """
    if params is None:
        from .models import get_variant
        L = len(arch) - 1
        rates = dict(lr_ff=(0.01,) * L, lr_fb=(0.001,) * (L - 1))
        if "lr" in get_variant(variant or DEFAULT).parameters_by_name:  # equilibrium propagation
            rates = dict(lr=(0.01,) * L)
        params = make_params(variant or DEFAULT, arch=tuple(arch), seed=seed, **rates, **(options or {}))
    if params.variant.network is None:
        raise CorInfoError(f"model {params.model} is a feed-forward reference, not a Brian2 network: nothing to "
                           "benchmark")
    rng = np.random.default_rng(seed)
    eval_samples = eval_samples or samples
    if dataset is None:
        images = rng.uniform(0, 1, size=(samples + eval_samples, arch[0]))
        labels = rng.integers(0, arch[-1], size=samples + eval_samples)
    else:
        if dataset.X_train.shape[1] != arch[0] or dataset.n_classes != arch[-1]:
            raise CorInfoError(f"--arch {','.join(map(str, arch))} does not fit data set {dataset.name} "
                               f"({dataset.X_train.shape[1]} inputs, {dataset.n_classes} classes)")
        if len(dataset.X_train) < samples or len(dataset.X_test) < eval_samples:
            raise CorInfoError(f"data set {dataset.name} has {len(dataset.X_train)} training and "
                               f"{len(dataset.X_test)} test samples: lower --samples")
        images = np.concatenate([dataset.X_train[:samples], dataset.X_test[:eval_samples]])
        labels = np.concatenate([dataset.y_train[:samples], dataset.y_test[:eval_samples]])
    weights = init_weights(arch, rng, params.model)
    settle = params.values().get("settle_tol", 0) > 0
    runs = {"fixed": [], "settled": []}
    networks = ((("fixed", params.replace(settle_tol=0.0)),) if settle else ()) + (("settled", params),)
    for _ in range(SETTLE_REPEATS if settle else 1):  # alternately, so that both see the same load
        for name, run_params in networks:
            runs[name].append(_timed_run(run_params, images, labels, weights, samples, eval_samples, threads,
                                         progress, build_cache))
    fastest = {name: min(done, key=lambda run: run[0].segment_s["train"]) for name, done in runs.items() if done}
    result, session, peak_rss_mb = fastest["settled"]
    fixed = fastest.get("fixed")
    evaluation = evaluation_path(params)
    network_eval_ms = 1e3 * result.segment_s["test"] / eval_samples
    if evaluation == "batched":
        _, seconds = batched_evaluation(result.weights, images[samples:], params, threads)
        eval_ms = 1e3 * seconds / eval_samples
    else:
        eval_ms = network_eval_ms
    out = {
        "model": params.model, "arch": list(arch), "inputs": dataset.name if dataset else "random",
        "samples": samples, "eval_samples": eval_samples,
        "ms_per_sample": 1e3 * result.segment_s["train"] / samples,
        "evaluation": evaluation, "eval_ms_per_sample": eval_ms, "network_eval_ms_per_sample": network_eval_ms,
        "compile_s": session.build_s, "run_s": result.seconds, "peak_rss_mb": peak_rss_mb,
        "threads_used": result.threads, "cpu_s": result.cpu_s,
        "steps_per_sample": params.steps_per_sample, "sample_ms": float(params.sample_duration / brian2.ms),
    }
    out["us_per_step"] = 1e3 * out["ms_per_sample"] / params.steps_per_sample
    if settle:
        fixed_result, fixed_session, _ = fixed
        steps = {phase: float(np.mean(result.steps[phase][:samples])) for phase in ("free", "nudged")}
        out.update(steps_free=steps["free"], steps_nudged=steps["nudged"], steps_per_sample=sum(steps.values()))
        out["us_per_step"] = 1e3 * out["ms_per_sample"] / out["steps_per_sample"]
        fixed_ms = 1e3 * fixed_result.segment_s["train"] / samples
        out["fixed"] = {"ms_per_sample": fixed_ms, "steps_per_sample": params.steps_per_sample,
                        "compile_s": fixed_session.build_s, "cpu_s": fixed_result.cpu_s}
        out["cpu_s"] = result.cpu_s
        out["step_ratio"] = params.steps_per_sample / out["steps_per_sample"]
        out["time_ratio"] = fixed_ms / out["ms_per_sample"]
        out["cpu_ratio"] = fixed_result.cpu_s / result.cpu_s
        out["same_predictions"] = float(np.mean(np.argmax(result.outputs[samples:], axis=1)
                                                == np.argmax(fixed_result.outputs[samples:], axis=1)))
    if dense_samples > 0:
        dp = params.variant.oracle(params)  # the same mathematics (for a spiking model: its rate network)
        W = {k: v.copy() for k, v in weights.items()}
        n = min(dense_samples, samples)
        eye = np.eye(arch[-1])
        with threadpool_limits(limits=threads, user_api="blas"):
            start = time.perf_counter()
            for s in range(n):
                if isinstance(dp, dense.EPParams):
                    dense.ep_train_sample(W, images[s], eye[labels[s]], 1.0, params.lr, dp)
                else:
                    dense.train_sample(W, images[s], eye[labels[s]], 1.0, params.lr_ff, params.lr_fb, dp)
            out["dense_ms_per_sample"] = 1e3 * (time.perf_counter() - start) / n
        out["dense_samples"] = n
        out["ratio_to_dense"] = out["ms_per_sample"] / out["dense_ms_per_sample"]
    out.update(environment("cpp_standalone", threads))
    return out
