"""Build the CorInfoMax network as Brian2 objects.

:class:`CorInfoNetwork` turns an architecture, :class:`~corinfo_sim.params.Params`, a model
variant (``models/``) and a presentation :class:`Plan` into a named :class:`brian2.Network`:

=====================  =================================================================
object                 what it is
=====================  =================================================================
``inp``                input layer r_0 = x, loaded at each sample onset
``basal_1``            basal input stage of layer 1, updated once per sample
``pyr_k``              pyramidal neurons of layer k (soma, basal and apical compartments)
``inh_k``              interneurons of layer k (z = B r)
``ff_k``               feedforward synapses, layer k−1 → basal dendrite of layer k (W_ff,k)
``fb_k``               feedback synapses, layer k+1 → apical dendrite of layer k (W_fb,k)
``pyr_to_inh_k``       lateral synapses, layer k → its interneurons (B_k)
``inh_to_pyr_k``       interneuron i → apical dendrite of pyramidal neuron i
=====================  =================================================================

Samples are presented by time. A sample takes ``n_free + n_nudged`` steps; TimedArrays
indexed by the sample slot give the image, the label, β and the plasticity switch. The
schedule within a time step is set explicitly so that **all layers are updated
simultaneously** from the previous step's rates (forward Euler, DESIGN §2):

=============  =====  ====================================================================
slot           order  operation
=============  =====  ====================================================================
start          0      summed inputs of ff_k (k>1), fb_k, pyr_to_inh_k from the rates r(t)
start          1      summed input of inh_to_pyr_k (the interneurons' z(t))
start          2, 3   at step n_free: store free rates and errors ("free_end" event)
start          4      at sample onset: plasticity of the previous sample (synapses)
start          5, 6   at sample onset: record the previous sample's free and nudged rates
start          7      at sample onset: reset somata, rates and recurrent inputs to 0
start          8      at sample onset: load the new input
start          9      at sample onset: input drive W_ff,1 x into basal_1
start          10,11  traced samples: record every step (a consistent snapshot of step t)
groups         0      Euler step of every soma: v(t + dt) from the inputs of step t
after_groups   0      rates r(t + dt) = σ(v(t + dt) / V0)
=============  =====  ====================================================================

One ``run()`` shows one :class:`Plan`: a training segment (plastic), a test segment (free
phase only, its hidden rates recorded on request), a probe segment (a few samples, both phases,
traces recorded) and one closing step that applies the last sample's plasticity and records its
output. Recordings are gated by events, so one run needs no monitor switched on or off. In
standalone mode, weights and the plan's arrays are passed to every run through ``run_args``,
so one build serves every epoch and seed.
"""
from dataclasses import dataclass

import brian2
from brian2.devices.cpp_standalone.device import CPPStandaloneDevice
import numpy as np

from .codegen import AllToAllCodeObject
from .errors import CorInfoError
from .models import get_variant
from .weights import check_weights

#: Recorded variables for traces, per layer type (the teacher only at the output).
TRACE_VARS = ("v_soma", "v_basal", "v_apical", "r", "z_inh")


@dataclass
class Plan:
    """What the network is shown, slot by slot (one slot per sample).

    Attributes
    ----------
    image : ndarray of int, (n_slots,)
        Row of the image table shown in each slot.
    label : ndarray of int, (n_slots,)
        Its label.
    beta : ndarray of float, (n_slots,)
        Signed nudging strength of each slot (0: free phase only).
    learn : ndarray of float, (n_slots,)
        1 where the slot's sample is learned from, else 0.
    record : ndarray of float, (n_slots,)
        1 where the free and nudged rates of every layer are recorded (default: test samples).
    trace : ndarray of float, (n_slots,)
        1 where every step is recorded for the trace neurons (default: probe samples).
    segments : dict
        Number of slots of the segments ``train``, ``test`` and ``probe`` (in this order).
    """

    image: np.ndarray
    label: np.ndarray
    beta: np.ndarray
    learn: np.ndarray
    record: np.ndarray
    trace: np.ndarray
    segments: dict

    @classmethod
    def make(cls, labels, train=None, test=None, probe=None, beta=None, probe_beta=1.0, learn=True,
             record=None, trace=None):
        """Plan from image indices per segment.

        Parameters
        ----------
        labels : array of int
            Label of every row of the image table.
        train, test, probe : array of int or None
            Indices into the image table for each segment.
        beta : array of float
            Signed β for each training sample (default +1).
        probe_beta : float
            β of the probe samples (they run both phases, without plasticity).
        learn : bool
            Whether the training segment is plastic.
        record, trace : array of bool, optional
            Per sample (train, test, probe in order): record the end-of-phase rates of every
            layer, or every step. Default: record the test samples, trace the probe samples.
        """
        train = np.asarray([] if train is None else train, dtype=np.int64)
        test = np.asarray([] if test is None else test, dtype=np.int64)
        probe = np.asarray([] if probe is None else probe, dtype=np.int64)
        if beta is None:
            beta = np.ones(len(train))
        beta = np.asarray(beta, dtype=float)
        if beta.shape != train.shape:
            raise ValueError(f"beta has {beta.size} values for {train.size} training samples")
        # one closing slot: its first step applies the last plasticity and records the last output
        image = np.concatenate([train, test, probe, [0]])
        betas = np.concatenate([beta, np.zeros(len(test)), np.full(len(probe), probe_beta), [0.0]])
        learn_arr = np.concatenate([np.full(len(train), float(learn)), np.zeros(len(test) + len(probe) + 1)])
        n = len(image) - 1
        if record is None:
            record = np.concatenate([np.zeros(len(train)), np.ones(len(test)), np.zeros(len(probe))])
        if trace is None:
            trace = np.concatenate([np.zeros(len(train) + len(test)), np.ones(len(probe))])
        flags = []
        for name, values in (("record", record), ("trace", trace)):
            values = np.asarray(values, dtype=float)
            if values.shape != (n,):
                raise ValueError(f"{name} needs one flag per sample ({n}), got shape {values.shape}")
            flags.append(np.concatenate([values, [0.0]]))
        return cls(image=image, label=np.asarray(labels)[image].astype(np.int64), beta=betas,
                   learn=learn_arr, record=flags[0], trace=flags[1],
                   segments={"train": len(train), "test": len(test), "probe": len(probe)})

    @property
    def n_slots(self):
        return len(self.image)

    def arrays(self):
        """Per-slot arrays of the plan's TimedArrays, by name.

        At a slot's onset the network applies the plasticity of the previous slot's sample
        and records its free-phase rates, so the onset arrays are the slot arrays shifted by one.
        β at onset is 1 where nothing is learned, so that η/β is always finite.
        """
        n_train, n_test = self.segments["train"], self.segments["test"]
        learn_on = np.concatenate([[0.0], self.learn[:-1]])
        beta_on = np.where(learn_on > 0, np.concatenate([[1.0], self.beta[:-1]]), 1.0)
        # wall-clock marks: progress ticks (code 5) through the training and test segments, the
        # segment starts (codes 1-3) and the end (4)
        mark = np.zeros(self.n_slots)
        for first, n in ((0, n_train), (n_train, n_test)):
            mark[first + np.arange(0, n, max(1, n // PROGRESS_TICKS))] = 5
        for code, (first, n) in enumerate(((0, n_train), (n_train, n_test), (n_train + n_test, 0)), start=1):
            if n or code == 3:
                mark[first] = code if first < self.n_slots - 1 else mark[first]
        mark[-1] = 4
        return {
            "image_of_sample": self.image.astype(float),
            "label_of_sample": self.label.astype(float),
            "beta_of_sample": self.beta.astype(float),
            "learn_at_onset": learn_on,
            "beta_at_onset": beta_on,
            "record_at_onset": np.concatenate([[0.0], self.record[:-1]]),
            "trace_on": self.trace.astype(float),
            "segment_mark": mark,
        }


#: Progress marks per segment of a compiled run (read live, see corinfo_sim.session).
PROGRESS_TICKS = 100

_WALL_CLOCK_CPP = """
double corinfo_mark_time(double code, double slot)
{
    if (code > 0)
    {
        const double now = std::chrono::duration<double>(
            std::chrono::steady_clock::now().time_since_epoch()).count();
        std::printf("corinfo-mark %d %.0f %.6f\\n", (int)code, slot, now);
        std::fflush(stdout);
    }
    return 0.0;
}
"""

WALL_MARKS = []  # (code, seconds) of the last runtime-mode run


def wall_clock():
    """Brian2 function ``mark_time(code, slot)`` (C++ only): print the wall clock when ``code > 0``.

    The compiled binary prints ``corinfo-mark <code> <slot> <seconds>`` on its standard output:
    codes 1-3 start the training, test and probe segments, 4 ends the run, 5 is a progress tick.
    """
    f = brian2.Function(lambda code, slot: code, arg_units=[1, 1], return_unit=1, stateless=False)
    f.implementations.add_implementation(
        "cpp", _WALL_CLOCK_CPP, name="corinfo_mark_time", compiler_kwds={"headers": ["<chrono>", "<cstdio>"]})
    return f


def parse_marks(marks):
    """Seconds of each segment from the wall-clock marks ``(code, seconds)``: ``{code: seconds
    from its start to the next segment mark}`` (progress ticks, code 5, are skipped)."""
    marks = sorted((t, code) for code, t in marks if code != 5)
    return {code: marks[n + 1][0] - t for n, (t, code) in enumerate(marks[:-1])}


def weight_index(n_post, n_pre):
    """Pre- and postsynaptic indices of a dense pathway, presynaptic neuron major.

    Synapse ``s = i_pre * n_post + j_post`` holds ``W[j_post, i_pre]``, so
    ``w = W.T.ravel()`` and ``W = w.reshape(n_pre, n_post).T``.
    """
    i = np.repeat(np.arange(n_pre), n_post)
    j = np.tile(np.arange(n_post), n_pre)
    return i, j


def to_synapses(W):
    """Flat synaptic weights from a matrix (n_post × n_pre)."""
    return np.ascontiguousarray(W.T).ravel()


def from_synapses(w, n_post, n_pre):
    """Matrix (n_post × n_pre) from flat synaptic weights."""
    return np.asarray(w, dtype=float).reshape(n_pre, n_post).T.copy()


class CorInfoNetwork:
    """The CorInfoMax network of one architecture as a named Brian2 Network.

    Parameters
    ----------
    params : Params
        Architecture and constants.
    images : ndarray (n_images, n_0)
        The image table; the plan indexes its rows.
    plan : Plan
        What to show. In standalone mode, later runs can pass another plan of the same shape.
    weights : dict
        Initial weights in the public format (see :mod:`corinfo_sim.weights`).
    variant : str
        Model variant in ``models/`` (default ``"antisparse"``).
    trace_neurons : dict, optional
        ``{k: indices}`` of neurons recorded at every step of the samples the plan marks ``trace``.
    record_rates : bool
        Record the free and nudged rates of every layer for the samples the plan marks.
    name : str
        Name of the Brian2 Network.
    """

    #: Variable the rate monitors record as the nudged rate (at the next onset, before the reset).
    NUDGED_RATE = "r"

    def __init__(self, params, images, plan, weights, variant="antisparse", trace_neurons=None,
                 record_rates=False, name="corinfo"):
        self.params = p = params
        if getattr(p, "model", variant) != variant:
            raise CorInfoError(f"the parameters are for model {p.model!r} but the network is {variant!r}: "
                               f"pass the same model to both (--model {p.model})")
        self.model = get_variant(variant)
        self.standalone = isinstance(brian2.get_device(), CPPStandaloneDevice)
        images = self._checked_inputs(p, images, weights)
        self.plan = plan
        self.L = L = p.n_layers
        T = p.sample_duration
        self.sample_duration = T
        self.trace_neurons = {int(k): np.asarray(v, dtype=int) for k, v in (trace_neurons or {}).items()}

        m = self.model
        self.row_period = 1 * brian2.second
        unused = {"trace_on"} if not self.trace_neurons else set()
        unused |= {"record_at_onset"} if not record_rates else set()
        self.timed = {key: brian2.TimedArray(values, dt=T, name=key) for key, values in plan.arrays().items()
                      if key not in unused}
        self.timed["images"] = brian2.TimedArray(images, dt=self.row_period, name="images")

        ns = dict(
            V0=p.V0, tau=p.tau, g_L=p.g_leak, epsilon=p.epsilon, gamma=p.gamma, lam=p.lam,
            n_free=p.n_free, steps_per_sample=p.steps_per_sample, row_period=self.row_period,
            **self.timed,
        )
        if p.eta_schedule:
            ns["eta0"] = p.eta
        self.namespace = ns
        self.clock = clock = brian2.Clock(dt=p.dt, name="step_clock")
        objects = []

        # ---- input layer --------------------------------------------------------------
        self.inp = brian2.NeuronGroup(p.arch[0], m.INPUT, clock=clock, namespace=ns, name="inp")
        self.inp.run_regularly(m.INPUT_LOAD, dt=T, when="start", order=8, name="inp_load")
        objects.append(self.inp)

        # ---- pyramidal neurons and interneurons ---------------------------------------------
        self.pyr, self.inh = {}, {}
        for k in range(1, L + 1):
            out = k == L
            eqs = m.pyramidal_equations(output=out, first=(k == 1), eta_schedule=p.eta_schedule)
            group_ns = dict(ns, g_B=1 / p.epsilon, g_A=1.0 if out else 1 / p.epsilon)
            store = m.FREE_STORE + ("" if out else m.FREE_STORE_HIDDEN)
            events = {"free_end": "step == n_free"}
            if record_rates:
                events["record_rates"] = "step == 0 and record_at_onset(t) > 0"
            if k in self.trace_neurons:
                eqs += "traced : boolean (constant)  # recorded by the trace monitor\n"
                events["trace"] = "traced and trace_on(t) > 0"
            pyr = brian2.NeuronGroup(p.arch[k], eqs, method="euler", clock=clock, namespace=group_ns,
                                     name=f"pyr_{k}", events=events)
            pyr.set_event_schedule("free_end", when="start", order=2)
            pyr.run_on_event("free_end", store, when="start", order=3)
            zero_inputs = [v for v in m.ONSET_ZERO if v in pyr.variables and not (k == 1 and v == "basal_ff")]
            reset = m.ONSET_RESET + "\n".join(f"{v} = 0*{self._unit(pyr, v)}" for v in zero_inputs)
            pyr.run_regularly(reset, dt=T, when="start", order=7, name=f"pyr_{k}_onset")
            pyr.run_regularly(m.RATE_UPDATE, when="after_groups", order=0, name=f"pyr_{k}_rate")
            inh = brian2.NeuronGroup(p.arch[k], m.INTERNEURON, clock=clock, namespace=ns, name=f"inh_{k}")
            inh.run_regularly("z = 0", dt=T, when="start", order=7, name=f"inh_{k}_onset")
            self.pyr[k], self.inh[k] = pyr, inh
            objects += [pyr, inh]

        # basal input stage of layer 1: its input is constant within a sample
        self.basal_1 = brian2.NeuronGroup(p.arch[1], m.BASAL_RELAY, dt=T, namespace=ns, name="basal_1")
        self.basal_1.r = brian2.linked_var(self.pyr[1], "r")
        self.basal_1.e_ff_free = brian2.linked_var(self.pyr[1], "e_ff_free")
        self.pyr[1].basal_ff = brian2.linked_var(self.basal_1, "basal_ff")
        objects.append(self.basal_1)

        # ---- synapses, by pathway ----------------------------------------------------------
        self.ff, self.fb, self.pyr_to_inh, self.inh_to_pyr = {}, {}, {}, {}
        for k in range(1, L + 1):
            pre = self.inp if k == 1 else self.pyr[k - 1]
            post = self.basal_1 if k == 1 else self.pyr[k]
            self.ff[k] = self._dense(pre, post, m.FF_MODEL, m.FF_PLASTICITY, f"ff_{k}", ns,
                                     order=9 if k == 1 else 0)
            if k < L:
                self.fb[k] = self._dense(self.pyr[k + 1], self.pyr[k], m.FB_MODEL, m.FB_PLASTICITY,
                                         f"fb_{k}", ns)
            self.pyr_to_inh[k] = self._dense(self.pyr[k], self.inh[k], m.PYR_TO_INH_MODEL,
                                             m.PYR_TO_INH_PLASTICITY, f"pyr_to_inh_{k}", ns)
            syn = brian2.Synapses(self.inh[k], self.pyr[k], m.INH_TO_PYR_MODEL, clock=clock, namespace=ns,
                                  name=f"inh_to_pyr_{k}")
            syn.connect(j="i")
            self._schedule_summed(syn, order=1)
            self.inh_to_pyr[k] = syn
        objects += list(self.ff.values()) + list(self.fb.values())
        objects += list(self.pyr_to_inh.values()) + list(self.inh_to_pyr.values())

        # ---- monitors ---------------------------------------------------------------------
        # free-phase output rates of each sample, recorded at the next onset
        self.output_monitor = brian2.StateMonitor(self.pyr[L], "r_free", record=True, dt=T,
                                                  when="start", order=5, name="output_monitor")
        objects.append(self.output_monitor)
        # gated recordings: an EventMonitor records only when its event fires
        self.rate_monitors = {}
        if record_rates:
            for k in range(1, L + 1):
                self.pyr[k].set_event_schedule("record_rates", when="start", order=5)
                mon = brian2.EventMonitor(self.pyr[k], "record_rates", variables=["r_free", "r"], when="start",
                                          order=6, name=f"rate_monitor_{k}")
                self.rate_monitors[k] = mon
                objects.append(mon)
        self.trace_monitors = {}
        for k, idx in self.trace_neurons.items():
            if len(idx) == 0 or idx.min() < 0 or idx.max() >= p.arch[k]:
                raise CorInfoError(f"neuron indices for layer {k} must lie in 0..{p.arch[k] - 1}")
            traced = np.zeros(p.arch[k], dtype=bool)
            traced[idx] = True
            self.pyr[k].traced = traced
            self.pyr[k].set_event_schedule("trace", when="start", order=10)
            variables = list(TRACE_VARS) + (["v_teacher", "beta"] if k == L else [])
            mon = brian2.EventMonitor(self.pyr[k], "trace", variables=variables, when="start", order=11,
                                      name=f"trace_monitor_{k}")
            self.trace_monitors[k] = mon
            objects.append(mon)

        objects += self._timer(ns, clock)

        self.network = brian2.Network(*objects, name=name)
        self.set_weights(weights)

    # ---- construction helpers ----------------------------------------------------------------
    @staticmethod
    def _checked_inputs(p, images, weights):
        """The image table as float64, after checking it and the weights against the architecture."""
        check_weights(weights, p.arch)
        images = np.ascontiguousarray(images, dtype=float)
        if images.ndim != 2 or images.shape[1] != p.arch[0]:
            raise CorInfoError(
                f"images have shape {images.shape}, but the input layer has {p.arch[0]} units: "
                f"use --arch {images.shape[-1]},...")
        if not np.all(np.isfinite(images)):
            raise CorInfoError("the images contain NaN or inf values: clean the data set")
        return images

    def _timer(self, ns, clock):
        """Wall clock at segment boundaries (compiled runs), so train and test times are measured."""
        if not self.standalone:
            self.timed.pop("segment_mark")
            ns.pop("segment_mark", None)
            return []
        self.timer = brian2.NeuronGroup(1, "mark : 1", clock=clock, name="timer",
                                        namespace=dict(ns, mark_time=wall_clock(),
                                                       sample_duration=self.sample_duration))
        self.timer.run_regularly("mark = mark_time(segment_mark(t), floor(t/sample_duration + 0.5))",
                                 dt=self.sample_duration, when="start", order=0)
        return [self.timer]

    @staticmethod
    def _unit(group, var):
        dim = group.variables[var].dim
        return "volt" if dim == brian2.volt.dim else "1"

    @staticmethod
    def _schedule_summed(syn, order):
        """Sum this pathway's input at the start of the step (default: just before its target)."""
        for updater in syn.summed_updaters.values():
            updater.when = "start"
            updater.order = order

    def _dense(self, pre, post, model, plasticity, name, ns, order=0):
        syn = brian2.Synapses(pre, post, model, clock=self.clock, namespace=ns, name=name,
                              codeobj_class=AllToAllCodeObject if self.standalone else None)
        i, j = weight_index(len(post), len(pre))
        syn.connect(i=i, j=j)
        self._schedule_summed(syn, order)
        syn.run_regularly(plasticity, dt=self.sample_duration, when="start", order=4,
                          name=f"{name}_plasticity")
        return syn

    # ---- weights -------------------------------------------------------------------------
    def pathways(self):
        """``{weights-file key: Synapses}`` for every plastic pathway."""
        out = {}
        for k in range(1, self.L + 1):
            out[f"Wff{k}"] = self.ff[k]
            if k < self.L:
                out[f"Wfb{k}"] = self.fb[k]
            out[f"B{k}"] = self.pyr_to_inh[k]
        return out

    def set_weights(self, weights, lr_factor=1.0):
        """Set weights and learning rates now (runtime) or remember them for the next run (standalone)."""
        self._weights = {key: np.array(weights[key], dtype=float) for key in self.pathways()}
        self._lr_factor = lr_factor
        if not self.standalone:
            for key, syn in self.pathways().items():
                syn.w[:] = to_synapses(self._weights[key])
            for k in range(1, self.L + 1):
                self.ff[k].eta = self.params.lr_ff[k - 1] * lr_factor
                if k < self.L:
                    self.fb[k].eta = self.params.lr_fb[k - 1] * lr_factor

    def get_weights(self):
        """Current weights in the public format (float64 matrices)."""
        out = {}
        for key, syn in self.pathways().items():
            out[key] = from_synapses(syn.w[:], len(syn.target), len(syn.source))
        return out

    def run_args(self, plan=None):
        """``run_args`` for a standalone run: weights, learning rates and the plan's arrays."""
        args = {syn.w: to_synapses(self._weights[key]) for key, syn in self.pathways().items()}
        for k in range(1, self.L + 1):
            args[self.ff[k].eta] = self.params.lr_ff[k - 1] * self._lr_factor
            if k < self.L:
                args[self.fb[k].eta] = self.params.lr_fb[k - 1] * self._lr_factor
        plan = plan or self.plan
        if plan.n_slots != self.plan.n_slots or plan.segments != self.plan.segments:
            raise ValueError("a standalone binary can only run plans of the shape it was built for")
        for key, values in plan.arrays().items():
            if key in self.timed:
                args[self.timed[key]] = values
        return args

    # ---- running ---------------------------------------------------------------------------
    def schedule_run(self, on_progress=None):
        """Run the whole plan: every slot, then the closing step.

        Compiled, this is one ``run()`` (Brian2 generates every code object anew for each run, so
        one run keeps the generated code small) and only records the run into the generated code;
        the segments are timed inside the binary. In runtime mode each segment is its own
        ``run()``, timed here, and the marks go to :data:`WALL_MARKS`; ``on_progress(segment,
        done, total)`` is told the samples done about once a second. The run namespace is the
        network's own (monitors evaluate subexpressions in it), so no name is ever looked up in
        the caller's frame.
        """
        T, p = self.sample_duration, self.params
        if self.standalone:
            duration = (self.plan.n_slots - 1) * T + p.dt
            self.network.run(duration, namespace=self.namespace)
            return
        import time
        WALL_MARKS.clear()
        for code, name in ((1, "train"), (2, "test"), (3, "probe")):
            n = self.plan.segments[name]
            if n:
                WALL_MARKS.append((code, time.monotonic()))
                report = None
                if on_progress is not None and name != "probe":
                    report = (lambda elapsed, done, start, duration, name=name, n=n:  # noqa: E731
                              on_progress(name, int(round(done * n)), n))
                self.network.run(n * T, namespace=self.namespace, report=report, report_period=1 * brian2.second)
        WALL_MARKS.append((4, time.monotonic()))
        self.network.run(p.dt, namespace=self.namespace)

    def free_outputs(self):
        """Free-phase output rates of every slot's sample, shape (n_slots - 1, n_L)."""
        r = np.asarray(self.output_monitor.r_free).T  # (records, n_L); record s = sample s-1
        return r[1:self.plan.n_slots]

    def recorded_rates(self):
        """Free and nudged rates of every layer for the samples the plan marked ``record``.

        Returns
        -------
        dict
            ``{k: (r_free, r_nudged)}``, each of shape (n_recorded, n_k), in slot order.
        """
        slots = np.flatnonzero(self.plan.record[:-1])
        position = np.full(self.plan.n_slots, -1)
        position[slots] = np.arange(len(slots))
        out = {}
        for k, mon in self.rate_monitors.items():
            free = np.full((len(slots), len(self.pyr[k])), np.nan)
            nudged = free.copy()
            # each sample is recorded at the onset of the next slot
            slot = np.rint(np.asarray(mon.t / self.sample_duration)).astype(int) - 1
            rows, cols = position[slot], np.asarray(mon.i)
            free[rows, cols] = np.asarray(mon.r_free)
            nudged[rows, cols] = np.asarray(getattr(mon, self.NUDGED_RATE))
            out[k] = (free, nudged)
        return out
