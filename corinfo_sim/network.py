"""Build any model variant's network as Brian2 objects, and what it is shown (the Plan).

:class:`CorInfoNetwork` turns the :class:`~corinfo_sim.spec.NetworkSpec` of a model variant
(``models/``), its :class:`~corinfo_sim.params.Params` and a presentation :class:`Plan` into a
named :class:`brian2.Network`: one NeuronGroup per population, one Synapses object per pathway
(named as the spec names them: ``pyr_k``, ``inh_k``, ``ff_k``, ``fb_k``, ``pyr_to_inh_k``,
``inh_to_pyr_k``, ...), every operation in the schedule slot the spec gives, the recordings and
the weights. All-to-all pathways run in the compiled all-to-all code object
(:mod:`corinfo_sim.codegen`).

Samples are presented by time. A sample takes ``steps_per_sample`` steps; TimedArrays indexed
by the sample slot give the image, the label, β and the plasticity switch. The builder adds to
every spec the same frame:

=============  =====  ====================================================================
slot           order  operation
=============  =====  ====================================================================
start          0      segment timer (compiled runs)
start          2, 3   phase-end events and their stores (the spec's ``free_end`` operations)
start          4      at sample onset: plasticity of the previous sample (synapses)
start          5, 6   at sample onset: record the previous sample's free and nudged rates
start          7      at sample onset: resets (the spec's ``onset`` operations, order 7)
start          10,11  traced samples: record every step (a consistent snapshot of step t)
after_resets   0, 1   traced samples: record the spikes of the trace neurons
=============  =====  ====================================================================

The rest — summed inputs, Euler steps, rates — is scheduled by the spec itself (for the rate
models: ``models/antisparse.py``, ``layer_schedule``).

One ``run()`` shows one :class:`Plan`: a training segment (plastic), a test segment (free
phase only, its rates recorded on request), a probe segment (a few samples, both phases,
traces recorded) and one closing step that applies the last sample's plasticity and records its
output. Recordings are gated by events, so one run needs no monitor switched on or off. In
standalone mode, weights and the plan's arrays are passed to every run through ``run_args``,
so one build serves every epoch and seed.

The constants of the equations that are real numbers (g_L, ε, λ, γ, V0, η, the switches of
the step schedule, the variants' own) are not compiled in as literals: the builder declares each one as a shared
constant variable (``g_L : 1 (shared, constant)``) of every group that uses it and sets it for
every run (:meth:`CorInfoNetwork.set_params`). Networks whose parameters differ only in such
values, learning rates, seed or β have the same :func:`structure` and the same generated code,
so one binary runs them all. Integers (step counts, sizes) stay literals.
"""
import hashlib
import json
import re
import warnings
from dataclasses import dataclass

import brian2
from brian2.devices.cpp_standalone.device import CPPStandaloneDevice
from brian2.utils.stringtools import get_identifiers
import numpy as np

from . import biophysics
from .codegen import AllToAllCodeObject, GroupCodeObject
from .errors import CorInfoError
from .weights import check_weights, weight_shapes


#: The halves of a signed weight matrix held by two pathways (Dale's law): their sign in it.
SIGNED_HALVES = {"exc": 1.0, "inh": -1.0}

#: Units of recorded quantities in the traces: {dimension: (unit, factor from SI)}.
TRACE_UNITS = {brian2.volt.dim: ("mV", 1e3), brian2.siemens.dim: ("nS", 1e9), brian2.amp.dim: ("pA", 1e12)}

# Brian2 compares every state variable with 1e50 after a run; for a float32 variable numpy
# warns that 1e50 overflows the cast, which says nothing about the values
warnings.filterwarnings("ignore", "overflow encountered in cast", RuntimeWarning, "brian2.groups.group")


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

_SETTLE_JUMP_CPP = """
double corinfo_settle_jump(double settled, double timestep, double step, double phase_end)
{
    const int64_t remaining = (int64_t)phase_end - (int64_t)step - 1;
    if (settled > 0 && remaining > 0)
    {
        %s[0] = (int64_t)timestep + remaining;  // the clock's tick then goes to the phase's end
        return 1.0;
    }
    return 0.0;
}
"""


def settle_jump(clock):
    """Brian2 function ``settle_jump(settled, timestep, step, phase_end)``: end the phase of a
    settled network (``settled`` > 0) by moving ``clock`` on to the phase's end.

    Called at the end of step ``step`` of the sample (at ``timestep`` of the clock), it sets the
    clock so that its tick after this step reaches step ``phase_end`` of the sample, the first of
    the next phase (or the next sample's onset): the steps in between are not run. Returns 1 when
    it moved the clock. Compiled runs write the clock's timestep array, runtime runs the same
    array through Brian2's variable.
    """
    timestep_of = clock.variables["timestep"]

    def jump(settled, timestep, step, phase_end):
        remaining = int(np.ravel(phase_end)[0]) - int(np.ravel(step)[0]) - 1
        if float(np.ravel(settled)[0]) > 0 and remaining > 0:
            timestep_of.get_value()[0] = int(np.ravel(timestep)[0]) + remaining
            return np.ones_like(settled, dtype=float)
        return np.zeros_like(settled, dtype=float)

    f = brian2.Function(jump, arg_units=[1, 1, 1, 1], return_unit=1, stateless=False)
    if isinstance(brian2.get_device(), CPPStandaloneDevice):
        array = "brian::" + brian2.get_device().get_array_name(timestep_of, access_data=False)
        f.implementations.add_implementation("cpp", _SETTLE_JUMP_CPP % array, name="corinfo_settle_jump")
    return f


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

    Synapse ``s = i_pre * n_post + j_post`` holds ``W[j_post, i_pre]``.
    """
    i = np.repeat(np.arange(n_pre), n_post)
    j = np.tile(np.arange(n_post), n_pre)
    return i, j


def connection_index(connectivity, n_pre, n_post):
    """Pre- and postsynaptic indices of a pathway's synapses (see :class:`~corinfo_sim.spec.Pathway`)."""
    if connectivity == "all":
        return weight_index(n_post, n_pre)
    if connectivity == "all_but_self":
        i, j = weight_index(n_post, n_pre)
        keep = i != j
        return i[keep], j[keep]
    if connectivity in ("one_to_one", "diagonal"):
        if n_pre != n_post:
            raise ValueError(f"{connectivity} connectivity needs populations of equal size, got {n_pre} and {n_post}")
        return np.arange(n_pre), np.arange(n_pre)
    raise ValueError(f"unknown connectivity {connectivity!r}")


def is_run_time_value(value):
    """Whether a namespace constant is set per run (a real number or scalar quantity) rather
    than compiled in (integers, arrays, functions)."""
    if isinstance(value, brian2.Quantity):
        return value.shape == ()
    return isinstance(value, float)


def _unit_of(value):
    dim = brian2.get_dimensions(value)
    return "1" if dim is brian2.units.fundamentalunits.DIMENSIONLESS else repr(brian2.get_unit(dim))


def _compiled(namespace):
    """What of a namespace is compiled in: the names of run-time values, the rest as values."""
    out = {}
    for name, value in sorted(namespace.items()):
        if is_run_time_value(value):
            out[name] = "run-time " + _unit_of(value)
        elif isinstance(value, (int, str, np.integer)):
            out[name] = repr(value)
        else:
            out[name] = type(value).__name__
    return out


def _rename(code, renames):
    """``code`` with the identifiers ``renames`` maps renamed (None stays None)."""
    for old, new in renames.items():
        code = re.sub(rf"\b{old}\b", new, code) if code else code
    return code


def network_spec(params):
    """The network of ``params``' variant with the biophysical options built in
    (:func:`corinfo_sim.biophysics.apply`; the variant's own spec when they are off)."""
    return biophysics.apply(params.variant.network(params), params)


def structure(params):
    """A key of everything of ``params``' network that is compiled into its code.

    Two parameter sets with the same key (differing only in run-time values, learning rates,
    seed, β or the learning-rate schedule) run on the same binary (:meth:`CorInfoNetwork.set_params`).
    """
    if params.variant.network is None:  # a reference without a Brian2 network: nothing is compiled
        return hashlib.sha256(json.dumps([params.model, list(params.arch)]).encode()).hexdigest()[:16]
    spec = network_spec(params)
    parts = [params.model, list(params.arch), repr(params.dt), params.precision, params.free_steps,
             params.steps_per_sample, _compiled(spec.namespace), spec.rate_variables, spec.trace_variables,
             spec.output_trace_variables, spec.spikes]
    for obj in spec.populations + spec.pathways:
        fields = {key: value for key, value in vars(obj).items() if key != "namespace"}
        parts.append([repr(fields), _compiled(obj.namespace)])
    if biophysics.active(params):
        parts.append(biophysics.describe(params))
    return hashlib.sha256(json.dumps(parts, default=repr).encode()).hexdigest()[:16]


class CorInfoNetwork:
    """The network of a model variant for one architecture, as a named Brian2 Network.

    Parameters
    ----------
    params : Params
        The variant (``params.model``), architecture and constants.
    images : ndarray (n_images, n_0)
        The image table; the plan indexes its rows.
    plan : Plan
        What to show. In standalone mode, later runs can pass another plan of the same shape.
    weights : dict
        Initial weights in the public format (see :mod:`corinfo_sim.weights`).
    trace_neurons : dict, optional
        ``{k: indices}`` of neurons recorded at every step of the samples the plan marks ``trace``.
    record_rates : bool
        Record the free and nudged rates of every layer for the samples the plan marks.
    name : str
        Name of the Brian2 Network.

    Attributes
    ----------
    groups, synapses : dict
        The NeuronGroups and Synapses by name.
    pyr, inh : dict
        ``{k: NeuronGroup}`` of the pyramidal neurons and interneurons of layer k; ``inp`` the input.
    """

    def __init__(self, params, images, plan, weights, trace_neurons=None, record_rates=False, name="corinfo"):
        self.params = p = params
        self.variant = params.variant
        # every state variable and weight of the objects created below has this type
        brian2.prefs.core.default_float_dtype = np.dtype(p.precision).type
        self.standalone = isinstance(brian2.get_device(), CPPStandaloneDevice)
        images = self._checked_inputs(p, images, weights)
        self.plan = plan
        self.L = L = p.n_layers
        T = self.sample_duration = p.sample_duration
        self.trace_neurons = {int(k): np.asarray(v, dtype=int) for k, v in (trace_neurons or {}).items()}
        for k, idx in self.trace_neurons.items():
            if not 1 <= k <= L or len(idx) == 0 or idx.min() < 0 or idx.max() >= p.arch[k]:
                raise CorInfoError(f"trace neurons: layer {k} must lie in 1..{L} and its neuron indices in "
                                   f"0..{p.arch[k] - 1 if 1 <= k <= L else '?'}")
        self.spec = spec = network_spec(p)

        self.row_period = 1 * brian2.second
        uses = " ".join(op.code for pop in spec.populations for op in pop.operations)
        unused = {"trace_on"} if not self.trace_neurons and "trace_on" not in uses else set()
        unused |= {"record_at_onset"} if not record_rates else set()
        self.timed = {key: brian2.TimedArray(values, dt=T, name=key) for key, values in plan.arrays().items()
                      if key not in unused}
        self.timed["images"] = brian2.TimedArray(images, dt=self.row_period, name="images")
        extra = spec.plan_values(plan) if spec.plan_values else {}
        for key, values in extra.get("timed", {}).items():
            self.timed[key] = brian2.TimedArray(values, dt=T, name=key)
        self.namespace = ns = dict(spec.namespace, n_free=p.free_steps, steps_per_sample=p.steps_per_sample,
                                   row_period=self.row_period, **self.timed)
        self.clock = brian2.Clock(dt=p.dt, name="step_clock")
        ns["settle_jump"] = settle_jump(self.clock)
        objects = []

        # ---- populations -----------------------------------------------------------------------------
        self.groups, self._run_time_names = {}, []  # (object, variable, namespace key) set per run
        for pop in spec.populations:
            self.groups[pop.name] = self._population(pop, record_rates)
        self.inp = self.groups["inp"]
        self.pyr = {pop.layer: self.groups[pop.name] for pop in spec.populations if pop.layer}
        self.inh = {k: self.groups[f"inh_{k}"] for k in self.pyr if f"inh_{k}" in self.groups}
        for pop in spec.populations:
            for var, (source, source_var) in pop.linked.items():
                setattr(self.groups[pop.name], var, brian2.linked_var(self.groups[source], source_var))
        objects += list(self.groups.values())

        # ---- pathways ----------------------------------------------------------------------------
        self.synapses, self._index = {}, {}
        for pathway in spec.pathways:
            self.synapses[pathway.name] = self._pathway(pathway)
        objects += list(self.synapses.values())

        # ---- monitors ---------------------------------------------------------------------------------
        free_var, nudged_var = spec.rate_variables
        # free-phase output rates of each sample, recorded at the next onset
        self.output_monitor = brian2.StateMonitor(self.pyr[L], free_var, record=True, dt=T,
                                                  when="start", order=5, name="output_monitor")
        objects.append(self.output_monitor)
        # steps each phase of a sample took (settling to a tolerance), recorded at the next onset
        self.settle_monitor = None
        if "settle" in self.groups:
            self.settle_monitor = brian2.StateMonitor(self.groups["settle"], ["steps_free", "steps_nudged"], record=0,
                                                      dt=T, when="start", order=5, name="settle_monitor")
            objects.append(self.settle_monitor)
        # gated recordings: an EventMonitor records only when its event fires
        self.rate_monitors = {}
        if record_rates:
            for k, group in self.pyr.items():
                group.set_event_schedule("record_rates", when="start", order=5)
                self.rate_monitors[k] = brian2.EventMonitor(group, "record_rates", variables=[free_var, nudged_var],
                                                            when="start", order=6, name=f"rate_monitor_{k}")
            objects += list(self.rate_monitors.values())
        self.trace_recordings, self.spike_monitors = [], {}
        for pop in spec.populations:
            k = pop.layer or pop.trace_layer
            if k not in self.trace_neurons:
                continue
            group = self.groups[pop.name]
            if pop.layer:
                neurons = self.trace_neurons[k]
                variables = dict(spec.trace_variables, **(spec.output_trace_variables if k == L else {}))
            else:
                neurons, variables = np.arange(pop.size), pop.traced
            flags = np.zeros(pop.size, dtype=bool)
            flags[neurons] = True
            group.traced = flags
            group.set_event_schedule("trace", when="start", order=10)
            monitor = brian2.EventMonitor(group, "trace", variables=sorted(set(variables.values())), when="start",
                                          order=11, name=f"trace_monitor_{pop.name}")
            self.trace_recordings.append((k, pop.name, neurons, variables, monitor))
            objects.append(monitor)
            if pop.layer and spec.spikes and pop.threshold:
                group.set_event_schedule("traced_spike", when="after_resets", order=0)
                self.spike_monitors[k] = brian2.EventMonitor(group, "traced_spike", variables=[], when="after_resets",
                                                             order=1, name=f"spike_monitor_{k}")
                objects.append(self.spike_monitors[k])

        objects += self._timer(ns)
        self.network = brian2.Network(*objects, name=name)
        # what Network.run() resolves besides the objects' own namespaces: not the run-time values,
        # which every object that uses them declares
        self._run_namespace = {k: v for k, v in ns.items() if not is_run_time_value(v)}
        self.structure = structure(p)
        self.set_params(p)
        self.set_weights(weights)

    # ---- construction helpers ----------------------------------------------------------------
    def _population(self, pop, record_rates):
        """The NeuronGroup of a population, its events and operations."""
        eqs, reset = pop.equations, pop.reset
        events = {name: condition for name, (condition, _, _) in pop.events.items()}
        k = pop.layer or pop.trace_layer
        traced = k in self.trace_neurons
        if pop.layer and record_rates:
            events["record_rates"] = "step == 0 and record_at_onset(t) > 0"
        if traced:
            eqs += "traced : boolean (constant)  # recorded by the trace monitor\n"
            events["trace"] = "traced and trace_on(t) > 0"
            if pop.layer and self.spec.spikes and pop.threshold:
                eqs += "t_spike : second  # time of the last spike\n"
                reset = (reset or "") + "\nt_spike = t"
                events["traced_spike"] = "traced and trace_on(t) > 0 and t_spike == t"
        timing = dict(dt=self.sample_duration) if pop.per_sample else dict(clock=self.clock)
        code = [eqs, reset, pop.threshold, *events.values(), *(op.code for op in pop.operations)]
        eqs, namespace, _ = self._declare_run_time_values(pop.name, eqs, pop.namespace, code)
        group = brian2.NeuronGroup(pop.size, eqs, threshold=pop.threshold, reset=reset, method=pop.method,
                                   refractory=pop.refractory if pop.refractory is not None else False,
                                   namespace=namespace, name=pop.name, events=events,
                                   codeobj_class=GroupCodeObject if self.standalone else None, **timing)
        if traced and pop.layer and self.spec.spikes and pop.threshold:
            group.t_spike = -1 * brian2.second
        group.state_updater.when, group.state_updater.order = pop.state_schedule
        for event, (_, when, order) in pop.events.items():
            group.set_event_schedule(event, when=when, order=order)
        on_event = {}
        for n, op in enumerate(pop.operations):
            if op.at == "onset":
                group.run_regularly(op.code, dt=self.sample_duration, when=op.when, order=op.order,
                                    name=f"{pop.name}_onset_{n}")
            elif op.at == "step":
                group.run_regularly(op.code, when=op.when, order=op.order, name=f"{pop.name}_step_{n}")
            else:  # one code block per event: the operations of an event run together
                code, when, order = on_event.get(op.at, ("", op.when, op.order))
                on_event[op.at] = (code + op.code, when, order)
        for event, (code, when, order) in on_event.items():
            group.run_on_event(event, code, when=when, order=order)
        return group

    def _pathway(self, pathway):
        pre, post = self.groups[pathway.pre], self.groups[pathway.post]
        all_to_all = pathway.connectivity in ("all", "all_but_self")
        code = {"model": pathway.model, "on_pre": pathway.on_pre, "plasticity": pathway.plasticity}
        model, namespace, renames = self._declare_run_time_values(pathway.name, code["model"], pathway.namespace,
                                                                   code.values(), pre.variables, post.variables)
        code = dict({key: _rename(text, renames) for key, text in code.items()}, model=model)
        syn = brian2.Synapses(pre, post, code["model"], on_pre=code["on_pre"], clock=self.clock,
                              namespace=namespace, name=pathway.name,
                              codeobj_class=AllToAllCodeObject if self.standalone and all_to_all else None)
        i, j = connection_index(pathway.connectivity, len(pre), len(post))
        if len(i):
            syn.connect(i=i, j=j)
        else:  # e.g. the off-diagonal lateral synapses of a layer of one neuron
            syn.connect(False)
        self._index[pathway.name] = (i, j)
        if pathway.name in self.spec.delays:  # a transmission delay (corinfo_sim/biophysics.py)
            syn.delay = self.spec.delays[pathway.name]
        for updater in syn.summed_updaters.values():
            updater.when, updater.order = pathway.summed
        if pathway.plasticity:
            syn.run_regularly(code["plasticity"], dt=self.sample_duration, when="start", order=4,
                              name=f"{pathway.name}_plasticity")
        return syn

    def _declare_run_time_values(self, name, equations, own_namespace, code, pre=(), post=()):
        """Declare the run-time values that ``code`` uses as shared constants of object ``name``.

        Returns the equations with one ``name : unit (shared, constant)`` line per value, the
        namespace without them (they are set per run, :meth:`set_params`) and the renames the
        code needs: in a synapse, a value whose name is also a variable of its pre- or
        postsynaptic group is declared as ``name_syn`` (Brian2 reads a synapse's unsuffixed
        names from its postsynaptic group too, and the values may differ: e.g. the spike weight).
        """
        namespace = dict(self.namespace, **own_namespace)
        used = set().union(*(get_identifiers(c) for c in code if c))
        values = sorted(n for n, v in namespace.items() if n in used and is_run_time_value(v))
        renames = {n: f"{n}_syn" for n in values if n in pre or n in post}
        for key in values:
            variable = renames.get(key, key)
            self._run_time_names.append((name, variable, key))
            equations += f"\n{variable} : {_unit_of(namespace[key])} (shared, constant)  # set per run\n"
        return _rename(equations, renames), {n: v for n, v in namespace.items() if n not in values}, renames

    def set_params(self, params):
        """Run with the values of ``params`` (run-time constants, learning rates) from now on.

        ``params`` must have this network's :func:`structure`: only values that are set per run
        may differ (see the module docstring).
        """
        if structure(params) != self.structure:
            raise CorInfoError(
                f"these parameters need another compiled network than the one built (model {params.model}, "
                f"arch {','.join(map(str, params.arch))}): only run-time values may differ")
        spec = network_spec(params)
        own = {obj.name: obj.namespace for obj in spec.populations + spec.pathways}
        base = dict(spec.namespace, row_period=self.row_period)
        self.params, self.spec = params, spec
        self._run_time_values = {}
        for name, variable, key in self._run_time_names:
            owner = self.groups.get(name) or self.synapses[name]
            self._run_time_values[getattr(owner, variable)] = dict(base, **own[name])[key]
        if not self.standalone:
            for view, value in self._run_time_values.items():
                view[:] = value

    def _checked_inputs(self, p, images, weights):
        """The image table as float64, after checking it and the weights against the architecture."""
        check_weights(weights, p.arch, model=p.model)
        images = np.ascontiguousarray(images, dtype=float)
        if images.ndim != 2 or images.shape[1] != p.arch[0]:
            raise CorInfoError(
                f"images have shape {images.shape}, but the input layer has {p.arch[0]} units: "
                f"use --arch {images.shape[-1]},...")
        if not np.all(np.isfinite(images)):
            raise CorInfoError("the images contain NaN or inf values: clean the data set")
        problem = self.variant.check_images(images) if self.variant.check_images else None
        if problem:
            raise CorInfoError(problem)
        return images

    def _timer(self, ns):
        """Wall clock at segment boundaries (compiled runs), so train and test times are measured."""
        if not self.standalone:
            self.timed.pop("segment_mark")
            ns.pop("segment_mark", None)
            return []
        self.timer = brian2.NeuronGroup(1, "mark : 1", clock=self.clock, name="timer",
                                        namespace=dict(ns, mark_time=wall_clock(),
                                                       sample_duration=self.sample_duration))
        self.timer.run_regularly("mark = mark_time(segment_mark(t), floor(t/sample_duration + 0.5))",
                                 dt=self.sample_duration, when="start", order=0)
        return [self.timer]

    # ---- weights, learning rates and what each run needs ------------------------------------------------
    def _synaptic_values(self, weights, lr_factor, plan):
        """``{VariableView: values}`` a run starts from: weights, learning rates, per-run values."""
        values = {}
        for pathway in self.spec.pathways:
            syn = self.synapses[pathway.name]
            if pathway.weight:
                i, j = self._index[pathway.name]
                W = weights[pathway.weight[0]]  # a matrix [post, pre], or a bias vector [post]
                W = W[j, i] if W.ndim == 2 else W[j]
                if pathway.weight[1] in SIGNED_HALVES:  # one half of a signed matrix (Dale's law)
                    W = np.maximum(SIGNED_HALVES[pathway.weight[1]] * W, 0.0) + pathway.namespace["offset"]
                values[syn.w] = np.ascontiguousarray(W)
            if pathway.learning_rate:
                parameter, index = pathway.learning_rate
                values[syn.eta] = getattr(self.params, parameter)[index] * lr_factor
        extra = self.spec.plan_values(plan) if self.spec.plan_values else {}
        for (population, variable), array in extra.get("variables", {}).items():
            values[getattr(self.groups[population], variable)] = array
        values.update(self._run_time_values)
        return values, extra.get("timed", {})

    def set_weights(self, weights, lr_factor=1.0):
        """Set weights and learning rates now (runtime) or remember them for the next run (standalone)."""
        self._weights = {key: np.array(weights[key], dtype=float)
                         for key in weight_shapes(self.params.arch, self.params.model)}
        self._lr_factor = lr_factor
        if not self.standalone:
            values, _ = self._synaptic_values(self._weights, lr_factor, self.plan)
            for view, array in values.items():
                view[:] = array

    def get_weights(self):
        """Current weights in the public format (float64 matrices)."""
        out = {key: np.zeros(shape) for key, shape in weight_shapes(self.params.arch, self.params.model).items()}
        for pathway in self.spec.pathways:
            if pathway.weight:
                i, j = self._index[pathway.name]
                W = out[pathway.weight[0]]
                index = (j, i) if W.ndim == 2 else j
                if pathway.weight[1] in SIGNED_HALVES:
                    W[index] += SIGNED_HALVES[pathway.weight[1]] * self.synapses[pathway.name].w[:]
                else:
                    W[index] = self.synapses[pathway.name].w[:]
        return out

    def run_args(self, plan=None):
        """``run_args`` for a standalone run: weights, learning rates, the plan's arrays and per-run values."""
        plan = plan or self.plan
        if plan.n_slots != self.plan.n_slots or plan.segments != self.plan.segments:
            raise ValueError("a standalone binary can only run plans of the shape it was built for")
        args, timed = self._synaptic_values(self._weights, self._lr_factor, plan)
        for key, values in dict(plan.arrays(), **timed).items():
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
            self.network.run(duration, namespace=self._run_namespace)
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
                self.network.run(n * T, namespace=self._run_namespace, report=report, report_period=1 * brian2.second)
        WALL_MARKS.append((4, time.monotonic()))
        self.network.run(p.dt, namespace=self._run_namespace)

    def settle_steps(self):
        """Steps the free and the nudged phase(s) of every slot's sample took (settling to a
        tolerance), ``{"free": (n_slots - 1,), "nudged": (n_slots - 1,)}``; None without settling."""
        if self.settle_monitor is None:
            return None
        return {phase: np.asarray(getattr(self.settle_monitor, f"steps_{phase}"))[0, 1:self.plan.n_slots]
                for phase in ("free", "nudged")}

    def free_outputs(self):
        """Free-phase output rates of every slot's sample, shape (n_slots - 1, n_L)."""
        r = np.asarray(getattr(self.output_monitor, self.spec.rate_variables[0])).T  # record s = sample s-1
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
        free_var, nudged_var = self.spec.rate_variables
        out = {}
        for k, mon in self.rate_monitors.items():
            free = np.full((len(slots), len(self.pyr[k])), np.nan)
            nudged = free.copy()
            # each sample is recorded at the onset of the next slot
            slot = np.rint(np.asarray(mon.t / self.sample_duration)).astype(int) - 1
            rows, cols = position[slot], np.asarray(mon.i)
            free[rows, cols] = np.asarray(getattr(mon, free_var))
            nudged[rows, cols] = np.asarray(getattr(mon, nudged_var))
            out[k] = (free, nudged)
        return out

    def _trace_rows(self, times):
        """Row of each recorded time on the traces' time axis (traced samples back to back), or −1."""
        steps = self.params.steps_per_sample
        slots = np.flatnonzero(self.plan.trace)
        position = np.full(self.plan.n_slots, -1)
        position[slots] = np.arange(len(slots))
        step = np.rint(np.asarray(times / self.params.dt)).astype(int)
        slot = position[step // steps]
        return np.where(slot >= 0, slot * steps + step % steps, -1)

    def traces(self):
        """Every recorded step of the samples the plan marked ``trace``: the traces layout of
        :mod:`corinfo_sim.traces` (without ``label``), potentials in mV, conductances in nS and
        currents in pA."""
        p, plan = self.params, self.plan
        T = p.steps_per_sample
        slots = np.flatnonzero(plan.trace)
        steps = len(slots) * T
        out, units = {}, {}
        for k, population, neurons, variables, mon in self.trace_recordings:
            column = np.full(len(self.groups[population]), -1)
            column[neurons] = np.arange(len(neurons))
            row, col = self._trace_rows(mon.t), column[np.asarray(mon.i)]
            for key, var in variables.items():
                unit, scale = TRACE_UNITS.get(mon.variables[var].dim, ("1", 1.0))
                table = np.full((steps, len(neurons)), np.nan)
                table[row, col] = np.asarray(getattr(mon, var + "_")) * scale
                out[f"{key}_L{k}"], units[f"{key}_L{k}"] = table, unit
            if population == self.pyr[k].name:
                out[f"neurons_L{k}"], units[f"neurons_L{k}"] = neurons.astype(np.int64), ""
        for k, (t_ms, neuron) in self.spike_trains().items():
            out[f"spikes_t_L{k}"], out[f"spikes_i_L{k}"] = t_ms, neuron
            units[f"spikes_t_L{k}"], units[f"spikes_i_L{k}"] = "ms", ""
        step_in_sample = np.arange(steps) % T
        slot = slots[np.arange(steps) // T]
        out["t"] = np.arange(steps) * float(p.dt / brian2.ms)
        out["phase"] = (step_in_sample >= p.free_steps).astype(np.int8)
        out["beta"] = plan.beta[slot] * out["phase"]
        out["sample"] = plan.image[slot].astype(np.int64)
        units.update(t="ms", phase="", beta="1", sample="")
        out["units"] = json.dumps(units)
        return out

    def spike_trains(self):
        """Spikes of the trace neurons in the traced samples (spiking variants).

        Returns
        -------
        dict
            ``{k: (t_ms, neuron_index)}``: spike times in ms since the onset of the first traced
            sample, counted on the traces' time axis (traced samples back to back), and the index
            of the neuron in layer k.
        """
        dt_ms = float(self.params.dt / brian2.ms)
        out = {}
        for k, mon in self.spike_monitors.items():
            row = self._trace_rows(mon.t)
            keep = row >= 0
            out[k] = (row[keep] * dt_ms, np.asarray(mon.i)[keep].astype(np.int64))
        return out
