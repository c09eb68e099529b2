"""Build the spiking CorInfoMax network (``models/spiking.py``) as Brian2 objects.

:class:`SpikingCorInfoNetwork` is a :class:`~corinfo_sim.network.CorInfoNetwork`: the same
:class:`~corinfo_sim.network.Plan` (one slot per sample, its TimedArrays indexed by slot), the
same weights format, ``run_args``, recordings and segment timer, so a
:class:`~corinfo_sim.session.Session` and the training protocol use it unchanged. Its objects:

==========================  ==============================================================
object                      what it is
==========================  ==============================================================
``inp``                     input layer: one spike generator per pixel, rate ν_input x
``pyr_k``                   spiking pyramidal neurons of layer k (soma, basal and apical traces)
``inh_k``                   graded interneurons of layer k (z = B_ii r_i + Σ_{j≠i} B_ij s_j)
``ff_k``                    feedforward synapses (spikes → basal trace of layer k), W_ff,k
``fb_k``                    feedback synapses (spikes → apical trace of layer k), W_fb,k
``pyr_to_inh_k``            lateral synapses j → i, j ≠ i, by spikes: B_k off the diagonal
``pyr_to_inh_diag_k``       lateral synapses i → i, graded: the diagonal of B_k
==========================  ==============================================================

Interneuron i → apical dendrite of pyramidal neuron i is one-to-one: the pyramidal neuron reads
the interneuron's z as a linked variable (``z_inh``), and keeps the window sum of z for the
lateral rule, which the interneuron reads back (``acc_z``), so no per-step synaptic sum is needed.

Schedule of one time step (``when``, ``order``); every quantity averaged or recorded at the start
of step s is the state at that time, so the window sums, the traces and the rate recordings agree:

=============  =====  ==========================================================================
slot           order  operation
=============  =====  ==========================================================================
start          0      graded lateral term B_ii r_i from the rates r(t); segment timer
start          1      interneuron activity z = B_ii r_i + lateral trace; the trace decays
start          2, 3   at the end of the free phase: store the free-window averages, reset the sums
start          4      at sample onset: plasticity of the previous sample (synapses)
start          5, 6   at sample onset: record the previous sample's window-averaged rates
start          7      at sample onset: reset somata, rates, traces, sums; encoder phases to φ₀
start          8      at sample onset: load the new input
start          9      encoder phases to φ₀ before each window (same lead in both phases); window
                      sums (spike trace, rate, errors, z) of the state of step t
start          10,11  traced samples: record every step
groups         0      Euler step: somata, trace decay, encoder phases
after_groups   0      rates r(t + dt) = σ(v(t + dt) / V0)
thresholds     0      spikes (phase ≥ 1, or Poisson)
synapses       0      spikes into the target traces (felt from the next step on)
resets         0      phase −= 1, the unit's own spike trace += 1/(ν τ_s)
after_resets   0, 1   traced samples: record the spikes of the trace neurons
=============  =====  ==========================================================================

Both encoders are reproducible without Brian2's random generator. Starting phases: φ₀ =
frac(offset_i + shift(slot)), with per-neuron offsets and per-slot shifts drawn by numpy from a
generator seeded with the parameters' seed and the plan's contents, and passed to every run
(``run_args``). Poisson spikes: a uniform number per (slot, group, step, neuron) from
:func:`uniform_hash`, keyed by a per-slot number drawn from the same generator: a run of a plan
draws the same spikes compiled and in runtime mode, and when resumed; another plan (the next
epoch's order) draws other ones.
"""
import zlib

import brian2
import numpy as np

from .codegen import AllToAllCodeObject
from .errors import CorInfoError
from .network import CorInfoNetwork
from .weights import weight_shapes

#: Pyramidal encoders restart this many trace time constants τ_s before each averaging window
#: (the input units as early as both phases allow).
RESTART_LEAD = 2


_HASH_CPP = """
// splitmix64 (Steele, Lea & Flood 2014) of the combined counters, top 53 bits as a double in [0, 1)
static inline double corinfo_uniform_hash(double key, int64_t stream, int64_t step, int64_t index)
{
    uint64_t z = (uint64_t)(int64_t)key * 0x9E3779B97F4A7C15ULL;
    z ^= (uint64_t)stream * 0xD1B54A32D192ED03ULL;
    z ^= (uint64_t)step * 0xBF58476D1CE4E5B9ULL;
    z ^= (uint64_t)index * 0x94D049BB133111EBULL;
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}
"""


@brian2.implementation("cpp", _HASH_CPP, name="corinfo_uniform_hash")
@brian2.check_units(key=1, stream=1, step=1, index=1, result=1)
def uniform_hash(key, stream, step, index):
    """A uniform number in [0, 1) determined by four integer counters (counter-based noise).

    The same splitmix64 mixing in C++ (compiled runs) and numpy (runtime mode), bit for bit, so
    that Poisson spikes depend only on the key of the sample, the group (``stream``), the time
    step and the neuron, not on the device or on what ran before.
    """
    shape = np.broadcast(key, stream, step, index).shape
    u64 = lambda v: np.broadcast_to(np.asarray(v).astype(np.int64).astype(np.uint64), shape)  # noqa: E731
    with np.errstate(over="ignore"):
        z = u64(key) * np.uint64(0x9E3779B97F4A7C15)
        z ^= u64(stream) * np.uint64(0xD1B54A32D192ED03)
        z ^= u64(step) * np.uint64(0xBF58476D1CE4E5B9)
        z ^= u64(index) * np.uint64(0x94D049BB133111EB)
        z += np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(float) * (1.0 / 9007199254740992.0)


def lateral_index(n):
    """Pre- and postsynaptic indices of the off-diagonal lateral synapses (presynaptic major)."""
    i = np.repeat(np.arange(n), n)
    j = np.tile(np.arange(n), n)
    keep = i != j
    return i[keep], j[keep]


class SpikingCorInfoNetwork(CorInfoNetwork):
    """The spiking CorInfoMax network of one architecture as a named Brian2 Network.

    Parameters are those of :class:`~corinfo_sim.network.CorInfoNetwork`; ``params.model`` must be
    ``"spiking"`` (it sets the time course of a sample). Besides the base class's interface:
    :meth:`spike_trains` (spikes of the trace neurons in the traced samples) and
    :meth:`free_outputs` / :meth:`recorded_rates` return window averages.
    """

    NUDGED_RATE = "r_nudged"  # the nudged window's average

    def __init__(self, params, images, plan, weights, variant="spiking", trace_neurons=None,
                 record_rates=False, name="corinfo"):
        # the builder of the rate model is not run: this one builds its own objects, with the
        # base class's helpers, monitors and interface
        from .models import get_variant
        from brian2.devices.cpp_standalone.device import CPPStandaloneDevice
        if params.model != "spiking":
            raise CorInfoError(
                f"the spiking network needs Params(model='spiking'), got model={params.model!r}")
        self.params = p = params
        self.model = m = get_variant(variant)
        self.standalone = isinstance(brian2.get_device(), CPPStandaloneDevice)
        images = self._checked_inputs(p, images, weights)
        if images.size and (images.min() < 0 or images.max() > 1):
            raise CorInfoError(
                f"the spiking model needs pixel intensities in [0, 1] (they are firing rates / nu_input), "
                f"got [{images.min():.3g}, {images.max():.3g}]: rescale the data set")
        self.plan = plan
        self.L = L = p.n_layers
        T = p.sample_duration
        self.sample_duration = T
        self.trace_neurons = {int(k): np.asarray(v, dtype=int) for k, v in (trace_neurons or {}).items()}
        for k, idx in self.trace_neurons.items():
            if not 1 <= k <= L or len(idx) == 0 or idx.min() < 0 or idx.max() >= p.arch[k]:
                raise CorInfoError(f"trace neurons: layer {k} must lie in 1..{L} and its neuron indices in "
                                   f"0..{p.arch[k] - 1 if 1 <= k <= L else '?'}")
        enc = p.encoder

        self.row_period = 1 * brian2.second
        unused = {"trace_on"} if not self.trace_neurons else set()
        unused |= {"record_at_onset"} if not record_rates else set()
        self.timed = {key: brian2.TimedArray(values, dt=T, name=key) for key, values in plan.arrays().items()
                      if key not in unused}
        self.timed["images"] = brian2.TimedArray(images, dt=self.row_period, name="images")
        shift, self._offsets, noise_key = self._phases(plan)
        if enc == "deterministic":
            self.timed["phase_of_sample"] = brian2.TimedArray(shift, dt=T, name="phase_of_sample")
        else:
            self.timed["noise_key_of_sample"] = brian2.TimedArray(noise_key, dt=T, name="noise_key_of_sample")

        n_free, n_window, steps = p.free_steps, p.window_steps, p.steps_per_sample
        # encoder phases restart at φ₀ the same number of steps before both windows: the input
        # units (constant rates) as early as both phases allow, the pyramidal neurons 2 τ_s before
        settle = min(n_free, steps - n_free) - n_window
        lead = min(int(round(float(RESTART_LEAD * p.tau_s / p.dt))), settle)
        ns = dict(
            V0=p.V0, tau_soma=p.tau_soma, tau_s=p.tau_s, g_L=p.g_leak, epsilon=p.epsilon,
            gamma=p.gamma, lam=p.lam, n_free=n_free, steps_per_sample=steps, n_window=n_window,
            free_window_start=n_free - n_window, nudged_window_start=steps - n_window,
            row_period=self.row_period, uniform_hash=uniform_hash, **self.timed,
        )
        self.namespace = ns
        self.clock = clock = brian2.Clock(dt=p.dt, name="step_clock")
        objects = []

        # ---- input layer: spike generators ---------------------------------------------------
        # constant rates: restarted at the same time before both windows, the input's spike trains
        # are the same in both windows and in the trace time before them
        # (each group and the synapses it drives get their own maximal rate and spike weight)
        ns_in = dict(ns, free_restart=n_free - n_window - settle, nudged_restart=steps - n_window - settle,
                     nu_max=p.nu_input, spike_weight=float(1 / (p.nu_input * p.tau_s)), stream=0)
        ns_pyr = dict(ns, free_restart=n_free - n_window - lead, nudged_restart=steps - n_window - lead,
                      nu_max=p.nu_max, spike_weight=float(1 / (p.nu_max * p.tau_s)))
        self.inp = inp = brian2.NeuronGroup(
            p.arch[0], m.input_equations(enc), threshold=m.threshold(enc, "x"), reset=m.RESET[enc],
            method="euler", clock=clock, namespace=ns_in, name="inp", events={"free_end": "step == n_free"})
        load = m.INPUT_LOAD + (m.ONSET_PHASE if enc == "deterministic" else "")
        inp.run_regularly(load, dt=T, when="start", order=8, name="inp_load")
        self._free_end(inp, m.INPUT_FREE_STORE)
        restart = m.PHASE_RESTART if enc == "deterministic" else ""
        inp.run_regularly(restart + m.INPUT_ACCUMULATE, when="start", order=9, name="inp_step")
        objects.append(inp)

        # ---- pyramidal neurons and interneurons ---------------------------------------------------
        self.pyr, self.inh = {}, {}
        for k in range(1, L + 1):
            out = k == L
            traced = k in self.trace_neurons
            group_ns = dict(ns_pyr, g_B=1 / p.epsilon, g_A=1.0 if out else 1 / p.epsilon, stream=k)
            events = {"free_end": "step == n_free"}
            if record_rates:
                events["record_rates"] = "step == 0 and record_at_onset(t) > 0"
            reset = m.RESET[enc]
            if traced:
                events["trace"] = "traced and trace_on(t) > 0"
                events["traced_spike"] = "traced and trace_on(t) > 0 and t_spike == t"
                reset += "\nt_spike = t"
            pyr = brian2.NeuronGroup(
                p.arch[k], m.pyramidal_equations(out, enc, traced), threshold=m.threshold(enc, "r"), reset=reset,
                method="euler", clock=clock, namespace=group_ns, name=f"pyr_{k}", events=events)
            if traced:
                pyr.t_spike = -1 * brian2.second
            self._free_end(pyr, m.FREE_STORE + ("" if out else m.FREE_STORE_HIDDEN))
            onset = m.ONSET_RESET + ("" if out else m.ONSET_RESET_HIDDEN)
            onset += m.ONSET_PHASE if enc == "deterministic" else ""
            pyr.run_regularly(onset, dt=T, when="start", order=7, name=f"pyr_{k}_onset")
            pyr.run_regularly(restart + m.ACCUMULATE + ("" if out else m.ACCUMULATE_HIDDEN), when="start",
                              order=9, name=f"pyr_{k}_step")
            pyr.run_regularly(m.RATE_UPDATE, when="after_groups", order=0, name=f"pyr_{k}_rate")

            inh = brian2.NeuronGroup(p.arch[k], m.INTERNEURON, clock=clock, namespace=ns, name=f"inh_{k}")
            inh.run_regularly(m.INTERNEURON_STEP, when="start", order=1, name=f"inh_{k}_step")
            inh.run_regularly(m.INTERNEURON_ONSET, dt=T, when="start", order=7, name=f"inh_{k}_onset")
            pyr.z_inh = brian2.linked_var(inh, "z")
            inh.acc_z = brian2.linked_var(pyr, "acc_z")
            self.pyr[k], self.inh[k] = pyr, inh
            objects += [pyr, inh]

        # ---- synapses, by pathway -------------------------------------------------------------
        self.ff, self.fb, self.pyr_to_inh, self.pyr_to_inh_diag = {}, {}, {}, {}
        for k in range(1, L + 1):
            n = p.arch[k]
            pre = inp if k == 1 else self.pyr[k - 1]
            self.ff[k] = self._pathway(pre, self.pyr[k], m.FF_MODEL, m.FF_ON_PRE, m.FF_PLASTICITY, f"ff_{k}")
            if k < L:
                self.fb[k] = self._pathway(self.pyr[k + 1], self.pyr[k], m.FB_MODEL, m.FB_ON_PRE,
                                           m.FB_PLASTICITY, f"fb_{k}")
            self.pyr_to_inh[k] = self._pathway(self.pyr[k], self.inh[k], m.LATERAL_MODEL, m.LATERAL_ON_PRE,
                                               m.LATERAL_PLASTICITY, f"pyr_to_inh_{k}", index=lateral_index(n))
            diag = self._pathway(self.pyr[k], self.inh[k], m.LATERAL_DIAG_MODEL, None, m.LATERAL_PLASTICITY,
                                 f"pyr_to_inh_diag_{k}", index=(np.arange(n), np.arange(n)))
            self._schedule_summed(diag, order=0)
            self.pyr_to_inh_diag[k] = diag
        for pathway in (self.ff, self.fb, self.pyr_to_inh, self.pyr_to_inh_diag):
            objects += list(pathway.values())

        # ---- monitors ---------------------------------------------------------------------------
        # free-window output rates of each sample, recorded at the next onset
        self.output_monitor = brian2.StateMonitor(self.pyr[L], "r_free", record=True, dt=T,
                                                  when="start", order=5, name="output_monitor")
        objects.append(self.output_monitor)
        self.rate_monitors = {}
        if record_rates:
            for k in range(1, L + 1):
                self.pyr[k].set_event_schedule("record_rates", when="start", order=5)
                mon = brian2.EventMonitor(self.pyr[k], "record_rates", variables=["r_free", "r_nudged"],
                                          when="start", order=6, name=f"rate_monitor_{k}")
                self.rate_monitors[k] = mon
                objects.append(mon)
        self.trace_monitors, self.spike_monitors = {}, {}
        for k, idx in self.trace_neurons.items():
            traced = np.zeros(p.arch[k], dtype=bool)
            traced[idx] = True
            self.pyr[k].traced = traced
            self.pyr[k].set_event_schedule("trace", when="start", order=10)
            variables = ["v_soma", "v_basal", "v_apical", "r", "z_inh"] + (["v_teacher", "beta"] if k == L else [])
            mon = brian2.EventMonitor(self.pyr[k], "trace", variables=variables, when="start", order=11,
                                      name=f"trace_monitor_{k}")
            self.trace_monitors[k] = mon
            self.pyr[k].set_event_schedule("traced_spike", when="after_resets", order=0)
            spikes = brian2.EventMonitor(self.pyr[k], "traced_spike", variables=[], when="after_resets", order=1,
                                         name=f"spike_monitor_{k}")
            self.spike_monitors[k] = spikes
            objects += [mon, spikes]

        objects += self._timer(ns, clock)

        self.network = brian2.Network(*objects, name=name)
        self.set_weights(weights)

    # ---- construction helpers ------------------------------------------------------------------
    def _free_end(self, group, code):
        group.set_event_schedule("free_end", when="start", order=2)
        group.run_on_event("free_end", code, when="start", order=3)

    def _pathway(self, pre, post, model, on_pre, plasticity, name, index=None):
        """Synapses of one pathway: spikes into a trace (``on_pre``), plasticity once per sample."""
        namespace = dict(self.namespace, spike_weight=pre.namespace["spike_weight"])
        syn = brian2.Synapses(pre, post, model, on_pre=on_pre, clock=self.clock, namespace=namespace,
                              name=name, codeobj_class=AllToAllCodeObject if self.standalone else None)
        if index is None:
            index = (np.repeat(np.arange(len(pre)), len(post)), np.tile(np.arange(len(post)), len(pre)))
        if len(index[0]):
            syn.connect(i=index[0], j=index[1])
        else:  # a layer of one neuron has no off-diagonal lateral synapse
            syn.connect(False)
        syn._index = index
        syn.run_regularly(plasticity, dt=self.sample_duration, when="start", order=4, name=f"{name}_plasticity")
        return syn

    def _phases(self, plan):
        """Per-slot shifts and per-neuron offsets of the encoders' starting phases, and the
        per-slot keys of the Poisson encoder's hash.

        Drawn from a generator seeded with the parameters' seed and the plan, so that a run (and a
        resumed run) of the same plan sees the same phases and spikes.
        """
        key = [self.params.seed]
        for values in (plan.image, plan.beta, plan.learn):
            key.append(zlib.crc32(np.ascontiguousarray(values).tobytes()))
        rng = np.random.default_rng(key)
        shift = rng.uniform(0, 1, size=plan.n_slots)
        offsets = [rng.uniform(0, 1, size=n) for n in self.params.arch]
        noise_key = rng.integers(0, 2 ** 52, size=plan.n_slots).astype(float)  # exact as a float
        return shift, offsets, noise_key

    def _phase_groups(self):
        return [self.inp] + [self.pyr[k] for k in range(1, self.L + 1)]

    # ---- weights ---------------------------------------------------------------------------------
    # pathways() (inherited) maps ``B{k}`` to the spiking, off-diagonal part of B_k; its diagonal
    # is held by ``pyr_to_inh_diag[k]``, and get_weights/set_weights/run_args join the two.

    def _synaptic_weights(self):
        """``{Synapses: flat weights}`` of every plastic pathway from the remembered matrices."""
        out = {}
        for key in weight_shapes(self.params.arch):
            W = self._weights[key]
            if key.startswith("B"):
                k = int(key[1:])
                i, j = self.pyr_to_inh[k]._index
                out[self.pyr_to_inh[k]] = W[j, i]
                out[self.pyr_to_inh_diag[k]] = np.diag(W).copy()
            else:
                syn = self.pathways()[key]
                i, j = syn._index
                out[syn] = W[j, i]
        return out

    def _learning_rates(self):
        out = {}
        for k in range(1, self.L + 1):
            out[self.ff[k]] = self.params.lr_ff[k - 1] * self._lr_factor
            if k < self.L:
                out[self.fb[k]] = self.params.lr_fb[k - 1] * self._lr_factor
        return out

    def set_weights(self, weights, lr_factor=1.0):
        """Set weights and learning rates now (runtime) or remember them for the next run (standalone)."""
        self._weights = {key: np.array(weights[key], dtype=float) for key in weight_shapes(self.params.arch)}
        self._lr_factor = lr_factor
        if not self.standalone:
            for syn, values in self._synaptic_weights().items():
                syn.w[:] = values
            for syn, eta in self._learning_rates().items():
                syn.eta = eta
            if self.params.encoder == "deterministic":
                for group, offsets in zip(self._phase_groups(), self._offsets):
                    group.phase_offset = offsets

    def get_weights(self):
        """Current weights in the public format (float64 matrices)."""
        out = {}
        for key, shape in weight_shapes(self.params.arch).items():
            W = np.zeros(shape)
            if key.startswith("B"):
                k = int(key[1:])
                i, j = self.pyr_to_inh[k]._index
                W[j, i] = self.pyr_to_inh[k].w[:]
                W[np.diag_indices(shape[0])] = self.pyr_to_inh_diag[k].w[:]
            else:
                syn = self.pathways()[key]
                i, j = syn._index
                W[j, i] = syn.w[:]
            out[key] = W
        return out

    def run_args(self, plan=None):
        """``run_args`` for a standalone run: weights, learning rates, the plan's arrays and phases."""
        plan = plan or self.plan
        if plan.n_slots != self.plan.n_slots or plan.segments != self.plan.segments:
            raise ValueError("a standalone binary can only run plans of the shape it was built for")
        args = {syn.w: values for syn, values in self._synaptic_weights().items()}
        for syn, eta in self._learning_rates().items():
            args[syn.eta] = eta
        for key, values in plan.arrays().items():
            if key in self.timed:
                args[self.timed[key]] = values
        shift, offsets, noise_key = self._phases(plan)
        if self.params.encoder == "deterministic":
            args[self.timed["phase_of_sample"]] = shift
            for group, values in zip(self._phase_groups(), offsets):
                args[group.phase_offset] = values
        else:
            args[self.timed["noise_key_of_sample"]] = noise_key
        return args

    # ---- recordings --------------------------------------------------------------------------------
    def spike_trains(self):
        """Spikes of the trace neurons in the traced samples.

        Returns
        -------
        dict
            ``{k: (t_ms, neuron_index)}``: spike times in ms since the onset of the first traced
            sample, counted on the traces' time axis (traced samples back to back), and the index
            of the neuron in layer k.
        """
        p, plan = self.params, self.plan
        steps = p.steps_per_sample
        slots = np.flatnonzero(plan.trace)
        position = np.full(plan.n_slots, -1)
        position[slots] = np.arange(len(slots))
        dt_ms = float(p.dt / brian2.ms)
        out = {}
        for k, mon in self.spike_monitors.items():
            step = np.rint(np.asarray(mon.t / p.dt)).astype(int)
            row = position[step // steps] * steps + step % steps
            keep = row >= 0
            out[k] = (row[keep] * dt_ms, np.asarray(mon.i)[keep].astype(np.int64))
        return out


def mean_update_error(params, images, labels, weights, build_dir, factor=1e-3, oracle_steps=3000,
                      device="cpp_standalone"):
    """How far the spiking network's average weight update is from the rate model's.

    Runs the samples once, online, with the learning rates scaled by ``factor`` (small, so that
    the weights barely move and the summed change is the sum of the one-sample updates at
    ``weights``), β = +1, and compares the summed change of every feedforward and feedback
    weight matrix with the dense rate oracle's (:mod:`corinfo_sim.dense`, each phase run
    ``oracle_steps`` steps to its fixed point, the same scaled rates). Spike noise that averages
    out leaves only the finite-sample error; a bias of the spike-based estimate remains.

    Parameters
    ----------
    params : Params
        Spiking-model parameters (``beta_sign`` is set to ``"positive"``).
    images : ndarray (n, n_0)
    labels : ndarray (n,)
    weights : dict
        Weights in the public format (:func:`corinfo_sim.weights.init_weights`).
    build_dir : str
        Folder for the compiled network (removed afterwards).
    factor : float
        Scale of the learning rates.
    oracle_steps : int
        Steps of each phase of the dense oracle.
    device : {"cpp_standalone", "runtime"}

    Returns
    -------
    dict
        ``{key: {"rel_error": |ΔW_spk − ΔW_oracle| / |ΔW_oracle|, "norm_ratio": |ΔW_spk| /
        |ΔW_oracle|, "cosine": cos(ΔW_spk, ΔW_oracle)}}`` for every ``Wff{k}`` and ``Wfb{k}``.
    """
    from . import dense
    from .network import Plan
    from .session import Session

    if not factor > 0 or oracle_steps < 1:
        raise CorInfoError(f"factor must be positive and oracle_steps at least 1, got {factor}, {oracle_steps}")
    p = params.replace(beta_sign="positive")
    images, labels = np.asarray(images, dtype=float), np.asarray(labels)
    n = len(images)
    session = Session(p, images, labels, {"train": n, "test": 0, "probe": 0}, build_dir, device=device,
                      variant="spiking")
    try:
        result = session.run(Plan.make(labels, train=np.arange(n), beta=np.ones(n)), weights, lr_factor=factor)
    finally:
        session.close()
    dp = dense.DenseParams(epsilon=p.epsilon, lam=p.lam, g_leak=p.g_leak, n_free=oracle_steps,
                           n_nudged=oracle_steps)
    W = {key: np.array(value, dtype=float) for key, value in weights.items()}
    eye = np.eye(p.arch[-1])
    lr_ff, lr_fb = [a * factor for a in p.lr_ff], [a * factor for a in p.lr_fb]
    for x, y in zip(images, labels):
        dense.train_sample(W, x, eye[y], 1.0, lr_ff, lr_fb, dp)
    out = {}
    for key in weights:
        if key.startswith("B"):
            continue
        spiking, oracle = result.weights[key] - weights[key], W[key] - weights[key]
        norm_s, norm_o = np.linalg.norm(spiking), np.linalg.norm(oracle)
        out[key] = {"rel_error": float(np.linalg.norm(spiking - oracle) / norm_o),
                    "norm_ratio": float(norm_s / norm_o),
                    "cosine": float(np.sum(spiking * oracle) / (norm_s * norm_o))}
    return out
