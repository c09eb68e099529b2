"""A compiled simulation: the network built once, run again for every epoch or seed.

:class:`Session` builds a :class:`~corinfo_sim.network.CorInfoNetwork` for fixed segment
sizes, generates and compiles its C++ code once (Brian2 ``cpp_standalone``) and then runs the
binary as often as needed, each time with new weights, learning rates and presentation plan
passed through ``run_args``. ``device="runtime"`` builds the same network in Brian2's runtime
mode with the numpy target instead (no compilation; for small interactive networks; a new
network per run).

This module owns a built network's life: device, build, build cache, runs, recordings read
back. It knows nothing of epochs or run folders (:mod:`corinfo_sim.training` does) nor of
what the network is made of (:mod:`corinfo_sim.network` and the variants do). The public
functions that use it are ``corinfo_sim.train``, ``evaluate``, ``record_traces`` and
``run_samples``; the network a user drives sample by sample is ``corinfo_sim.Network``. A
Session leaves Brian2 in runtime mode when closed; the public functions restore whatever device
the caller had (``corinfo_sim.brian2state``).
"""
import gc
import os
import shutil
import signal
import subprocess
import threading
import time

import brian2
import numpy as np

from .buildcache import compile_cached
from .codegen import fix_clock_comparison
from .errors import CorInfoError
from . import network as network_module
from .network import CorInfoNetwork, Plan, parse_marks

SEGMENT_CODES = {1: "train", 2: "test", 3: "probe"}

DEVICES = ("cpp_standalone", "runtime")


class RunResult(dict):
    """What one run of a plan returns.

    Keys: ``weights``, ``outputs`` (free-phase output rates of every sample, in slot order),
    ``rates`` (``{k: (r_free, r_nudged)}`` of the recorded samples), ``steps`` (the steps each
    sample's phases took when settling to a tolerance, or None), ``traces`` (dict or None),
    ``seconds`` (the whole run, including
    loading), ``segment_s`` (``{"train": s, "test": s, "probe": s}``, wall clock inside the run)
    and ``threads`` (that the run used).
    """

    __getattr__ = dict.__getitem__


class Session:
    """The network of one architecture, compiled once for plans of a fixed shape.

    Parameters
    ----------
    params : Params
    images : ndarray (n_images, n_0)
        Image table (every sample any plan may show).
    labels : ndarray (n_images,)
    segments : dict
        Slots per segment: ``{"train": n, "test": n, "probe": n}``.
    build_dir : str
        Folder for the generated code and binary (one per concurrent run).
    device : {"cpp_standalone", "runtime"}
    variant : str, optional
        Model variant; it is ``params.model`` (given, it must agree).
    trace_neurons : dict, optional
        ``{k: indices}`` recorded at every step of the samples a plan marks ``trace``.
    record_rates : bool
        Record free and nudged rates of every layer for the samples a plan marks (see Plan).
    threads : int
        Threads of the standalone binary's all-to-all loops (OpenMP; the same binary runs on
        any number, with the same results).
    progress : callable, optional
        Receives a line when the build starts and one when it is done, and one when a run has
        fewer idle cores than threads (it then runs on as many threads as cores are idle).
    build_cache : bool
        Take the compiled binary from the build cache (:mod:`corinfo_sim.buildcache`) when it
        holds this network, and store it there otherwise.
    """

    def __init__(self, params, images, labels, segments, build_dir, device="cpp_standalone",
                 variant=None, trace_neurons=None, record_rates=False, threads=1, progress=None,
                 build_cache=True):
        if device not in DEVICES:
            raise CorInfoError(f"unknown device {device!r}: choose one of {', '.join(DEVICES)}")
        if not isinstance(threads, int) or threads < 1:
            raise CorInfoError(f"threads must be a positive integer, got {threads!r}")
        self.params, self.images, self.labels = params, images, np.asarray(labels)
        self.segments = dict(segments)
        if variant is not None and variant != params.model:
            raise CorInfoError(f"the parameters are for model {params.model!r} but the session is for {variant!r}: "
                               f"pass the same model to both (--model {params.model})")
        self.device, self.variant, self.threads = device, params.model, threads
        self.trace_neurons, self.record_rates = trace_neurons, record_rates
        self.build_dir = os.path.abspath(build_dir)
        self.build_s, self.from_cache = 0.0, False
        self.net = None
        self.build_cache = build_cache
        if device == "cpp_standalone":
            self._progress = progress or (lambda line: None)
            self._build(self._progress)

    # ---- building ------------------------------------------------------------------------
    def _placeholder_plan(self):
        seg = self.segments
        zeros = lambda n: np.zeros(n, dtype=np.int64)  # noqa: E731
        return Plan.make(self.labels, train=zeros(seg["train"]), test=zeros(seg["test"]),
                         probe=zeros(seg["probe"]), beta=np.ones(seg["train"]))

    def _new_network(self, plan, weights):
        return CorInfoNetwork(self.params, self.images, plan, weights, trace_neurons=self.trace_neurons,
                              record_rates=self.record_rates)

    def _build(self, progress):
        from .weights import init_weights
        start = time.time()
        arch = ",".join(map(str, self.params.arch))
        progress(f"building the network {arch} ({self.variant}): generating and compiling C++ "
                 f"(Brian2 {brian2.__version__}, {self.threads} thread{'s' * (self.threads > 1)}) ...")
        try:
            gc.collect()  # the objects of an earlier network give up their names (the code stays the same)
            brian2.device.reinit()
            brian2.set_device("cpp_standalone", directory=self.build_dir, build_on_run=False)
            # OpenMP only in the all-to-all loops (corinfo_sim.codegen), with as many threads as each run asks
            brian2.prefs.devices.cpp_standalone.openmp_threads = 0
            for pref in ("codegen.cpp.extra_compile_args_gcc", "codegen.cpp.extra_link_args"):
                if "-fopenmp" not in brian2.prefs[pref]:
                    brian2.prefs[pref] = list(brian2.prefs[pref]) + ["-fopenmp"]
            placeholder = init_weights(self.params.arch, np.random.default_rng(0), self.params.model)
            self.net = self._new_network(self._placeholder_plan(), placeholder)
            brian2.device.apply_run_args()  # weights and plans come from the command line of each run
            self.net.schedule_run()
            brian2.device.build(directory=self.build_dir, compile=False, run=False, with_output=False)
            fix_clock_comparison(self.build_dir)
            self.from_cache = compile_cached(self.build_dir, self._compile, enabled=self.build_cache)
        except BaseException as e:
            # nothing half-built is left behind (also after Ctrl-C), but a failed compile's log
            self.close(keep_build=getattr(e, "keep_build", False))
            raise
        self.build_s = time.time() - start
        progress(f"built in {self.build_s:.1f} s" + (" (compiled code from the build cache)" if self.from_cache else ""))

    def _compile(self):
        """Compile the generated project with make, in a session of its own.

        Its output goes to a log file, not the terminal, and Ctrl-C reaches only this process,
        which stops the compiler cleanly (Brian2's own compile would leave that to the shell).
        """
        log_path = os.path.join(self.build_dir, "make.log")
        make = brian2.prefs.devices.cpp_standalone.make_cmd_unix
        # one compiler per core (Brian2's default "make -j" starts one per code object at once)
        cmd = [make, f"-j{os.cpu_count() or 1}"]
        if shutil.which(make) is None or shutil.which("g++") is None:
            raise CorInfoError("compiling the network needs make and g++: install them (apt-get install make g++), "
                               "or pass --device runtime for a small network")
        with open(log_path, "w") as log:
            proc = subprocess.Popen(cmd, cwd=self.build_dir, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            try:
                code = proc.wait()
            except BaseException:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise
        if code:
            with open(log_path) as f:
                errors = [line.strip() for line in f if "error" in line]
            error = CorInfoError(f"the C++ compile failed ({errors[0] if errors else f'make exit status {code}'}); "
                                 f"the generated code and make.log are in {self.build_dir}")
            error.keep_build = True
            raise error

    # ---- running ---------------------------------------------------------------------------
    def run(self, plan, weights, lr_factor=1.0, on_progress=None, params=None):
        """Run one plan from ``weights``; return the new weights and the recordings.

        ``params``, if given, replaces the session's parameters from this run on; it may differ
        only in values set per run (seed, learning rates, β, g_L, ε, λ, η, ...; see
        :func:`corinfo_sim.network.structure`).

        ``on_progress(segment, done, total)``, if given, is told the samples done in the
        training and test segments while the run goes on (from the compiled binary's marks).

        Returns
        -------
        RunResult
        """
        start = time.time()
        if params is not None and params is not self.params:
            if self.net is not None:
                self.net.set_params(params)  # checks that the compiled network fits them
            self.params = params
        if self.device == "runtime":
            self.net = None
            brian2.prefs.codegen.target = "numpy"  # no compilation: for small, interactive networks
            self.net = self._new_network(plan, weights)
            self.net.set_weights(weights, lr_factor)
            self.net.schedule_run(on_progress)
            marks = list(network_module.WALL_MARKS)
        else:
            self.net.set_weights(weights, lr_factor)
            args = self.net.run_args(plan)
            threads = self._threads_now()
            brian2.prefs.devices.cpp_standalone.run_environment_variables = thread_environment(threads)
            self.net.plan = plan  # what the recordings are read against
            watcher = _MarkWatcher(self._stdout_path(), plan, on_progress) if on_progress else None
            try:
                brian2.device.run(run_args=args, with_output=False)
            except RuntimeError:
                raise CorInfoError(f"the compiled network failed to run: see {self._stdout_path()}") from None
            finally:
                if watcher:
                    watcher.stop()
                self._remove_run_arg_files()
            marks = self._read_marks()
        seconds = time.time() - start
        segment_s = {SEGMENT_CODES[c]: s for c, s in parse_marks(marks).items() if c in SEGMENT_CODES}
        net = self.net
        weights = net.get_weights()
        traces = net.traces() if self.trace_neurons and plan.trace.any() else None
        return RunResult(weights=weights, outputs=net.free_outputs(), rates=net.recorded_rates(),
                         steps=net.settle_steps(), traces=traces, seconds=seconds, segment_s=segment_s,
                         threads=threads if self.device == "cpp_standalone" else 1)

    def _threads_now(self):
        """Threads for the next compiled run: the session's, or fewer when fewer cores are idle.

        Threads split every large loop evenly, so one that shares its core with another busy
        process holds up all the others (measured: 2 threads with the other core busy ran 6×
        slower than 1). The results are the same on any number of threads.
        """
        if self.threads == 1:
            return 1
        idle = idle_cores()
        if idle is None or idle >= self.threads - 0.5:
            return self.threads
        threads = max(1, int(idle + 0.5))
        self._progress(f"{idle:.1f} of {os.cpu_count()} cores are idle: this run uses {threads} of the "
                       f"{self.threads} threads asked for (same results, less waiting)")
        return threads

    def _stdout_path(self):
        return os.path.join(brian2.get_device().results_dir, "stdout.txt")

    def _read_marks(self):
        return [(code, seconds) for code, _, seconds in _marks(self._stdout_path())[0]]

    def _remove_run_arg_files(self):
        folder = os.path.join(self.build_dir, "static_arrays")
        for name in list(brian2.get_device().run_args_arrays):
            for path in (os.path.join(folder, name), os.path.join(folder, name + ".lock")):
                if os.path.exists(path):
                    os.unlink(path)

    def close(self, keep_build=False):
        """Forget the compiled network (and delete its build folder unless ``keep_build``)."""
        if self.device == "cpp_standalone":
            brian2.device.reinit()
            brian2.set_device("runtime")
            if not keep_build:
                shutil.rmtree(self.build_dir, ignore_errors=True)
        self.net = None


def idle_cores(seconds=0.2):
    """How many cores were idle over the next ``seconds`` (from ``/proc/stat``; None without it)."""
    def read():
        with open("/proc/stat") as f:
            ticks = [float(v) for v in f.readline().split()[1:]]
        return ticks[3] + ticks[4], sum(ticks)  # idle and I/O wait, all
    try:
        idle, total = read()
        time.sleep(seconds)
        idle_after, total_after = read()
    except (OSError, ValueError, IndexError):
        return None
    return (os.cpu_count() or 1) * (idle_after - idle) / max(total_after - total, 1e-9)


#: Spin iterations an idle thread waits for the next parallel loop before it sleeps.
SPIN_COUNT = "20000"


def thread_environment(threads):
    """Environment of a compiled run on ``threads`` threads.

    Between two parallel loops of a step an idle thread spins for a short, bounded time, then
    sleeps. Sleeping at once (``OMP_WAIT_POLICY=passive``) costs a wake-up of tens of
    microseconds per loop (in one measurement the 3072-2000-1000-100 network gained 1.16× from 2
    threads instead of 1.67×); spinning long (``OMP_WAIT_POLICY=active``) makes a thread that
    shares its core with another busy process hold up every loop. ``GOMP_SPINCOUNT`` in the
    environment replaces the bound.
    """
    return {"OMP_NUM_THREADS": str(threads), "GOMP_SPINCOUNT": os.environ.get("GOMP_SPINCOUNT", SPIN_COUNT)}


def _marks(path, offset=0):
    """The wall-clock marks ``(code, slot, seconds)`` in a binary's output from byte ``offset``
    (whole lines only), and the offset after them."""
    marks = []
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read()
    data = data[:data.rfind(b"\n") + 1]
    text = data.decode(errors="replace")
    for line in text.splitlines():
        if line.startswith("corinfo-mark "):
            _, code, slot, seconds = line.split()
            marks.append((int(code), int(slot), float(seconds)))
    return marks, offset + len(data)


#: Seconds between two looks at a running binary's output.
WATCH_PERIOD = 0.5


class _MarkWatcher:
    """Follows a running binary's output file and reports its progress marks (a thread)."""

    def __init__(self, path, plan, on_progress):
        self.path, self.plan, self.on_progress, self.period = path, plan, on_progress, WATCH_PERIOD
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()

    def _follow(self):
        n_train, n_test = self.plan.segments["train"], self.plan.segments["test"]
        offset = 0
        while not self._stop.wait(self.period):
            try:
                marks, offset = _marks(self.path, offset)
            except (OSError, ValueError):
                continue  # the binary has not started writing yet
            for code, slot, _ in marks[-1:]:
                if code == 4 or slot >= n_train + n_test:
                    continue
                segment, done, total = ("train", slot, n_train) if slot < n_train else ("test", slot - n_train, n_test)
                self.on_progress(segment, done, total)

    def stop(self):
        self._stop.set()
        self._thread.join()
