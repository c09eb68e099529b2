"""A variant's network in Brian2's runtime mode, driven sample by sample from Python.

:class:`~corinfo_sim.Network` *is* a :class:`brian2.Network`: its NeuronGroups and Synapses carry the names of
the variant's spec (``pyr_1``, ``inh_1``, ``ff_1``, ``fb_1``, ``pyr_to_inh_1``, ...), so
``net["pyr_1"]`` returns a group, ``net.pyr[1]`` and ``net.ff[1]`` the same by layer, and a
monitor of your own is added with ``net.add(StateMonitor(net["pyr_1"], "v_soma", record=True))``.
:meth:`~corinfo_sim.Network.present` shows one image, with or without its label, with or without plasticity,
for the free and nudged durations the network was built with.

This module owns the interactive network. The Brian2 objects themselves are built by
``corinfo_sim.network.CorInfoNetwork`` from the variant's spec, as for training; the samples
are presented by time, as there: sample s occupies the s-th slot of ``steps_per_sample`` steps,
and its image, label, β and plasticity switch are TimedArrays indexed by the slot. Here they
grow by one slot with every :meth:`~corinfo_sim.Network.present`. A sample's plasticity is applied at the first
step of the next slot (as in training): :meth:`~corinfo_sim.Network.present` runs that step, reads the new
weights and steps back (``store``/``restore``), so the weights have changed when it returns and
the next sample starts where this one ended.

For long runs, the same network compiled (``cpp_standalone``) is :func:`corinfo_sim.run_samples`.
"""
import re

import brian2
import numpy as np

from .brian2state import preserved
from .errors import CorInfoError


class Presentation:
    """What one :meth:`~corinfo_sim.Network.present` measured.

    Parameters
    ----------
    free, nudged : dict
    start, stop : brian2.Quantity
    label : int or None

    Attributes
    ----------
    free, nudged : dict
        ``{k: ndarray (n_k,)}``: the rates of layer k at the end of the free phase and at the end
        of the sample (the nudged phase; without a label the free dynamics went on).
    start, stop : brian2.Quantity
        The network's time at the sample's onset and end (what a monitor of your own recorded
        between them is this sample).
    label : int or None
    """

    def __init__(self, free, nudged, start, stop, label):
        self.free, self.nudged, self.start, self.stop, self.label = free, nudged, start, stop, label

    @property
    def output(self):
        """Free-phase output rates (the network's answer)."""
        return self.free[max(self.free)]

    @property
    def prediction(self):
        """The class the free-phase output votes for."""
        return int(np.argmax(self.output))

    def __repr__(self):
        return (f"Presentation(label={self.label}, prediction={self.prediction}, "
                f"t={self.start!s}..{self.stop!s})")


class Network(brian2.Network):
    """The network of a model variant in Brian2's runtime mode, to drive sample by sample.

    Parameters
    ----------
    p : corinfo_sim.params.Params
        From :func:`corinfo_sim.params`: variant, architecture, constants.
    weights : dict or str, optional
        Weights dict, weights file or run folder (default: the initial weights of ``p.seed``).
    free, nudged : brian2.Quantity, optional
        Durations of the free and the nudged phase (default: those of ``p``); the rate
        variants take multiples of ``p.dt``.
    name : str
        Name of the Brian2 Network.

    Attributes
    ----------
    params : corinfo_sim.params.Params
    pyr, inh : dict
        ``{k: NeuronGroup}``: pyramidal neurons and interneurons of layer k.
    inp : brian2.NeuronGroup
        The input layer.
    ff, fb : dict
        ``{k: Synapses}``: feedforward (``W_ff,k``) and feedback (``W_fb,k``) pathways onto layer k.
    groups, synapses : dict
        Every NeuronGroup and Synapses object of the variant, by name.
    sample_duration, free_duration, nudged_duration : brian2.Quantity

    Raises
    ------
    CorInfoError
        A reference model without a Brian2 network (``fa``, ``bp``), weights that do not fit, or
        a Brian2 device other than runtime being active.

    Examples
    --------
    >>> import brian2
    >>> import corinfo_sim as cim
    >>> p = cim.params("antisparse", dataset="digits")
    >>> net = cim.Network(p)
    >>> mon = brian2.StateMonitor(net["pyr_1"], "v_soma", record=[0, 1])
    >>> net.add(mon)
    >>> data = cim.load_dataset("digits")
    >>> shown = net.present(data.X_test[0], label=data.y_test[0])
    >>> mon.v_soma.shape
    (2, 40)
    """

    def __init__(self, p, weights=None, *, free=None, nudged=None, name="corinfo_network*"):
        from . import api
        from .network import CorInfoNetwork, Plan
        from .weights import check_weights
        p = _with_durations(api._check_params(p), free, nudged)
        if p.variant.network is None:
            raise CorInfoError(f"model {p.model} is a feed-forward reference, not a Brian2 network: choose another "
                               "model for corinfo_sim.Network")
        from brian2.devices.device import RuntimeDevice
        if not isinstance(brian2.get_device(), RuntimeDevice):
            raise CorInfoError(f"corinfo_sim.Network runs in Brian2's runtime mode, but the device "
                               f"{type(brian2.get_device()).__name__} is active: call brian2.set_device('runtime') "
                               "first, or use corinfo_sim.run_samples(..., device='cpp_standalone')")
        if weights is None:
            weights = api.init_weights(p)
        elif not isinstance(weights, dict):
            weights = api.load_weights(weights, model=p.model)
        check_weights(weights, p.arch, model=p.model)
        self.params = p
        self._images = [np.zeros(p.arch[0])]
        self._slots = []  # (image row, label, beta, learn) of every slot shown so far
        self._Plan = Plan
        with self._brian2_settings():
            core = CorInfoNetwork(p, np.array(self._images), self._plan(), weights, name="corinfo_core*")
        self._core = core
        super().__init__(*core.network.objects, name=name)
        core.network = self
        self.groups, self.synapses = dict(core.groups), dict(core.synapses)
        self.pyr, self.inh, self.inp = dict(core.pyr), dict(core.inh), core.inp
        self.ff = _by_layer(self.synapses, "ff")
        self.fb = _by_layer(self.synapses, "fb")
        self.sample_duration = p.sample_duration
        self.free_duration = p.free_steps * p.dt
        self.nudged_duration = (p.steps_per_sample - p.free_steps) * p.dt

    # ---- Brian2 ----------------------------------------------------------------------------
    def _brian2_settings(self):
        """Brian2's preferences for building and running this network (numpy code, the network's
        precision); the caller's come back afterwards."""
        state = preserved()

        class _Settings:
            def __enter__(inner):
                state.__enter__()
                brian2.prefs.codegen.target = "numpy"
                brian2.prefs.core.default_float_dtype = np.dtype(self.params.precision).type

            def __exit__(inner, *exc):
                return state.__exit__(*exc)
        return _Settings()

    def run(self, duration, report=None, report_period=10 * brian2.second, namespace=None, profile=None, level=0):
        """Run the network as ``brian2.Network.run`` does, with the network's own namespace.

        Between samples the network runs with the last sample's input removed (a blank slot);
        :meth:`present` needs whole samples, so run multiples of ``sample_duration``.

        Parameters
        ----------
        duration : brian2.Quantity
        report, report_period, profile, level
            As for ``brian2.Network.run``.
        namespace : dict, optional
            Names your own objects' code uses, besides the network's own.
        """
        ns = dict(self._core._run_namespace, **(namespace or {}))
        with self._brian2_settings():
            super().run(duration, report=report, report_period=report_period, namespace=ns, profile=profile,
                        level=level + 1)

    # ---- what is shown ---------------------------------------------------------------------
    def _plan(self):
        """The Plan of every slot shown so far, plus the next one (blank: the closing slot)."""
        slots = self._slots + [(0, 0, 0.0, 0.0)]
        image, label, beta, learn = (np.array(column) for column in zip(*slots))
        n = len(slots)
        return self._Plan(image=image.astype(np.int64), label=label.astype(np.int64), beta=beta.astype(float),
                          learn=learn.astype(float), record=np.zeros(n), trace=np.zeros(n),
                          segments={"train": 0, "test": 0, "probe": n - 1})

    def _show_plan(self):
        """Point the network's TimedArrays at the current plan and image table."""
        core = self._core
        plan = self._plan()
        core.plan = plan
        T = core.sample_duration
        arrays = dict(plan.arrays())
        extra = core.spec.plan_values(plan) if core.spec.plan_values else {}
        arrays.update(extra.get("timed", {}))
        new = {key: brian2.TimedArray(values, dt=T, name=key) for key, values in arrays.items() if key in core.timed}
        new["images"] = brian2.TimedArray(np.array(self._images), dt=core.row_period, name="images")
        old = {id(core.timed[key]): timed for key, timed in new.items()}
        namespaces = [core.namespace, core._run_namespace] + [obj.namespace for obj in self.objects
                                                              if isinstance(getattr(obj, "namespace", None), dict)]
        for namespace in namespaces:
            for key, value in list(namespace.items()):
                if id(value) in old:
                    namespace[key] = old[id(value)]
        core.timed.update(new)
        for (population, variable), values in extra.get("variables", {}).items():
            setattr(self.groups[population], variable, values)

    def present(self, image, label=None, plastic=False):
        """Show one image for the network's free and nudged durations.

        Parameters
        ----------
        image : array (n_0,)
            Input rates (a row of a data set's ``X_test``).
        label : int, optional
            Its class: the nudged phase then pulls the output towards it (β of the parameters);
            without a label the free dynamics go on through the nudged phase.
        plastic : bool
            Learn from this sample (needs ``label``); the weights have changed when this returns.

        Returns
        -------
        Presentation

        Raises
        ------
        CorInfoError
            A wrong image size, a label out of range, ``plastic`` without a label, or a network
            time that is not a whole number of samples.
        """
        p, core = self.params, self._core
        image = np.asarray(image, dtype=float).reshape(-1)
        if image.shape != (p.arch[0],) or not np.all(np.isfinite(image)):
            raise CorInfoError(f"the image must be {p.arch[0]} finite input rates, got shape {image.shape}")
        if label is not None and (isinstance(label, bool) or not 0 <= int(label) < p.arch[-1]
                                  or int(label) != label):
            raise CorInfoError(f"label must be a class in 0..{p.arch[-1] - 1}, got {label!r}")
        if plastic and label is None:
            raise CorInfoError("plastic=True needs a label: learning contrasts the nudged phase with the free one")
        T = self.sample_duration
        slot = float(self.t / T)
        if abs(slot - round(slot)) > 1e-6:
            raise CorInfoError(f"the network's time {self.t!s} is not a whole number of samples ({T!s} each): "
                               "run() whole samples between two present()")
        while len(self._slots) < round(slot):  # whole samples run without present(): blank slots
            self._slots.append((0, 0, 0.0, 0.0))
        problem = core.variant.check_images(image[None, :]) if core.variant.check_images else None
        if problem:
            raise CorInfoError(problem)
        self._images.append(image)
        beta = float(p.values().get("beta", 1.0)) if label is not None else 0.0
        self._slots.append((len(self._images) - 1, 0 if label is None else int(label), beta, float(plastic)))
        self._show_plan()
        start = self.t
        self.run(T)
        stop = self.t
        free_var, end_var = core.spec.rate_variables
        free = {k: np.array(getattr(group, free_var)[:]) for k, group in self.pyr.items()}
        nudged = {k: np.array(getattr(group, end_var)[:]) for k, group in self.pyr.items()}
        if plastic:
            self._apply_plasticity()
        return Presentation(free, nudged, start, stop, None if label is None else int(label))

    def _apply_plasticity(self):
        """Run the first step of the next slot (where the last sample's plasticity happens), keep
        the new weights and step back."""
        core = self._core
        self.store("_corinfo_before_plasticity")
        self.run(self.params.dt)
        weights = core.get_weights()
        self.restore("_corinfo_before_plasticity")
        image, label, beta, _ = self._slots[-1]
        self._slots[-1] = (image, label, beta, 0.0)  # learned: not again at the next onset
        self._show_plan()
        self.set_weights(weights)

    # ---- weights -----------------------------------------------------------------------------
    @property
    def weights(self):
        """The current weights (dict in the format of :func:`corinfo_sim.load_weights`)."""
        return self._core.get_weights()

    def set_weights(self, weights):
        """Replace the weights.

        Parameters
        ----------
        weights : dict or str
            A weights dict, weights file or run folder.
        """
        from . import api
        from .weights import check_weights
        if not isinstance(weights, dict):
            weights = api.load_weights(weights, model=self.params.model)
        check_weights(weights, self.params.arch, model=self.params.model)
        with self._brian2_settings():
            self._core.set_weights(weights)


def _by_layer(synapses, prefix):
    out = {}
    for name, syn in synapses.items():
        match = re.fullmatch(rf"{prefix}_(\d+)", name)
        if match:
            out[int(match.group(1))] = syn
    return out


def _with_durations(p, free, nudged):
    """``p`` with the free and nudged phases lasting ``free`` and ``nudged`` (None: as they are)."""
    if free is None and nudged is None:
        return p
    values = p.values()
    changes = {}
    for phase, duration in (("free", free), ("nudged", nudged)):
        if duration is None:
            continue
        if not isinstance(duration, brian2.Quantity) or not brian2.have_same_dimensions(duration, brian2.second):
            raise CorInfoError(f"{phase} must be a duration with its unit (e.g. 30*ms), got {duration!r}")
        if f"t_{phase}" in values:  # the variants whose phases are durations
            changes[f"t_{phase}"] = duration
        elif f"n_{phase}" in values:  # the rate variants: steps of dt
            steps = float(duration / p.dt)
            if steps < 1 or abs(steps - round(steps)) > 1e-9:
                raise CorInfoError(f"{phase} = {duration!s} is not a whole number of steps of dt = {p.dt!s}")
            changes[f"n_{phase}"] = int(round(steps))
        else:
            raise CorInfoError(f"model {p.model} has no {phase} duration to set")
    return p.replace(**changes)
