"""A compiled simulation: the network built once, run again for every epoch or seed.

:class:`Session` builds a :class:`~corinfo_sim.network.CorInfoNetwork` for fixed segment
sizes, generates and compiles its C++ code once (Brian2 ``cpp_standalone``) and then runs the
binary as often as needed, each time with new weights, learning rates and presentation plan
passed through ``run_args``. ``device="runtime"`` builds the same network in Brian2's runtime
mode with the numpy target instead (no compilation; for small interactive networks; a new
network per run).
"""
import os
import shutil
import time

import brian2
import numpy as np

from .errors import CorInfoError
from . import network as network_module
from .models import get_variant
from .network import Plan, parse_marks

SEGMENT_CODES = {1: "train", 2: "test", 3: "probe"}

DEVICES = ("cpp_standalone", "runtime")


class RunResult(dict):
    """What one run of a plan returns.

    Keys: ``weights``, ``outputs`` (free-phase output rates of every sample, in slot order),
    ``rates`` (``{k: (r_free, r_nudged)}`` of the recorded samples), ``traces`` (dict or None),
    ``seconds`` (the whole run, including
    loading) and ``segment_s`` (``{"train": s, "test": s, "probe": s}``, wall clock inside the run).
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
    variant : str
        Model variant.
    trace_neurons : dict, optional
        ``{k: indices}`` recorded at every step of the samples a plan marks ``trace``.
    record_rates : bool
        Record free and nudged rates of every layer for the samples a plan marks (see Plan).
    threads : int
        OpenMP threads of the standalone binary (1: no OpenMP).
    """

    def __init__(self, params, images, labels, segments, build_dir, device="cpp_standalone",
                 variant="antisparse", trace_neurons=None, record_rates=False, threads=1):
        if device not in DEVICES:
            raise CorInfoError(f"unknown device {device!r}: choose one of {', '.join(DEVICES)}")
        if not isinstance(threads, int) or threads < 1:
            raise CorInfoError(f"threads must be a positive integer, got {threads!r}")
        self.params, self.images, self.labels = params, images, np.asarray(labels)
        self.segments = dict(segments)
        self.device, self.variant, self.threads = device, variant, threads
        self.trace_neurons, self.record_rates = trace_neurons, record_rates
        self.build_dir = os.path.abspath(build_dir)
        self.build_s = 0.0
        self.net = None
        if device == "cpp_standalone":
            self._build()

    # ---- building ------------------------------------------------------------------------
    def _placeholder_plan(self):
        seg = self.segments
        zeros = lambda n: np.zeros(n, dtype=np.int64)  # noqa: E731
        return Plan.make(self.labels, train=zeros(seg["train"]), test=zeros(seg["test"]),
                         probe=zeros(seg["probe"]), beta=np.ones(seg["train"]))

    def _new_network(self, plan, weights):
        builder = get_variant(self.variant).network_class()
        return builder(self.params, self.images, plan, weights, variant=self.variant,
                       trace_neurons=self.trace_neurons, record_rates=self.record_rates)

    def _build(self):
        from .weights import init_weights
        start = time.time()
        brian2.device.reinit()
        brian2.set_device("cpp_standalone", directory=self.build_dir, build_on_run=False)
        brian2.prefs.devices.cpp_standalone.openmp_threads = 0 if self.threads == 1 else self.threads
        # one compiler per core (Brian2's default "make -j" starts one per code object at once)
        brian2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{os.cpu_count() or 1}"]
        placeholder = init_weights(self.params.arch, np.random.default_rng(0))
        self.net = self._new_network(self._placeholder_plan(), placeholder)
        brian2.device.apply_run_args()  # weights and plans come from the command line of each run
        self.net.schedule_run()
        brian2.device.build(directory=self.build_dir, compile=True, run=False, with_output=False)
        self.build_s = time.time() - start

    # ---- running ---------------------------------------------------------------------------
    def run(self, plan, weights, lr_factor=1.0):
        """Run one plan from ``weights``; return the new weights and the recordings.

        Returns
        -------
        RunResult
        """
        start = time.time()
        if self.device == "runtime":
            self.net = None
            brian2.prefs.codegen.target = "numpy"  # no compilation: for small, interactive networks
            self.net = self._new_network(plan, weights)
            self.net.set_weights(weights, lr_factor)
            self.net.schedule_run()
            marks = list(network_module.WALL_MARKS)
        else:
            self.net.set_weights(weights, lr_factor)
            args = self.net.run_args(plan)
            self.net.plan = plan  # what the recordings are read against
            try:
                brian2.device.run(run_args=args, with_output=False)
            finally:
                self._remove_run_arg_files()
            marks = self._read_marks()
        seconds = time.time() - start
        segment_s = {SEGMENT_CODES[c]: s for c, s in parse_marks(marks).items() if c in SEGMENT_CODES}
        net = self.net
        weights = net.get_weights()
        traces = self._collect_traces(plan) if self.trace_neurons and plan.trace.any() else None
        return RunResult(weights=weights, outputs=net.free_outputs(), rates=net.recorded_rates(),
                         traces=traces, seconds=seconds, segment_s=segment_s)

    def _read_marks(self):
        path = os.path.join(brian2.get_device().results_dir, "stdout.txt")
        marks = []
        with open(path) as f:
            for line in f:
                if line.startswith("corinfo-mark "):
                    _, code, seconds = line.split()
                    marks.append((int(code), float(seconds)))
        return marks

    def _remove_run_arg_files(self):
        folder = os.path.join(self.build_dir, "static_arrays")
        for name in list(brian2.get_device().run_args_arrays):
            for path in (os.path.join(folder, name), os.path.join(folder, name + ".lock")):
                if os.path.exists(path):
                    os.unlink(path)

    def _collect_traces(self, plan):
        """Probe-segment recordings: the ``traces.npz`` layout (see :mod:`corinfo_sim.traces`)."""
        from .traces import collect
        return collect(self.net, plan)

    def close(self, keep_build=False):
        """Forget the compiled network (and delete its build folder unless ``keep_build``)."""
        if self.device == "cpp_standalone":
            brian2.device.reinit()
            brian2.set_device("runtime")
            if not keep_build:
                shutil.rmtree(self.build_dir, ignore_errors=True)
        self.net = None
