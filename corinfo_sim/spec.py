"""What a model variant declares: its parameters, and its network as data.

A variant module in ``models/`` defines ``VARIANT = Variant(...)``: its parameters
(:class:`Parameter`; :data:`COMMON` to every variant, :data:`RATE` to the rate networks), its
time course, its network, its dense oracle and its settings per data set. Its ``network(params)``
returns a :class:`NetworkSpec` — populations, pathways, the schedule slot of every operation,
which synapses hold which weights, what is recorded — and :class:`corinfo_sim.network.CorInfoNetwork`
turns any spec into a named Brian2 Network. Nothing here creates a Brian2 object.

Every sample is a *slot* of ``steps_per_sample`` time steps. An :class:`Operation` runs

- ``at="onset"``: at the first step of every sample (the previous sample's plasticity, resets,
  loading the new input);
- ``at="step"``: at every step;
- ``at=<event>``: at the steps where a population event declared in ``Population.events`` holds
  (``free_end``: ``step == n_free``, the end of the free phase).

Within a step the slot (``when``: Brian2's ``start``, ``groups``, ``after_groups``, ...) and the
``order`` fix the sequence; the builder sets them explicitly for every object, so a spec states
its update order completely.
"""
import dataclasses
import functools
import math
from dataclasses import field

import brian2

from .errors import CorInfoError

#: The paper trains with mini-batches of 20; online rates are the batch rates divided by this.
PAPER_BATCH = 20


def online(batch_rates):
    """Per-sample (online) learning rates from the paper's batch-20 rates."""
    return tuple(r / PAPER_BATCH for r in batch_rates)


#: The paper's λ, translated to online learning: B is updated once per sample, forgetting by
#: λ^(1/20) each time, so that its memory is the paper's 10⁵ batches (see ``lambda_batch``).
ONLINE_LAMBDA = dict(lambda_batch=PAPER_BATCH)


def fit_rates(rates, n):
    """``rates`` for ``n`` layers: as given when the number fits, else the first rate followed by
    the last one repeated (the pattern of the paper's rates: a larger rate for the first layer)."""
    rates = tuple(rates)
    if len(rates) == n or not rates:
        return rates
    return (rates[0],) + (rates[-1],) * (n - 1) if n > 0 else ()


# ---- deep networks ---------------------------------------------------------------------------------
#: Networks with two or more hidden layers (L ≥ 3 layers of weights) take other defaults: their
#: fixed point is slower to reach (the loops between layers) and a one-sided nudge β = 1 biases
#: the contrast, and the output layer's larger error makes the same rates run away (measured
#: on digits: docs/model.md, "Deep networks"). Their defaults: symmetric nudging (three phases),
#: settling to a tolerance (``DEEP_SETTLE_TOL``) with these step counts as caps, and learning
#: rates that fall with depth (:func:`depth_rates`).
DEEP_STEPS = (200, 100)
#: Settling tolerance by number of layers L: at the weights of 3- and 4-hidden-layer digits
#: networks (after 5 and 15 epochs) 1e-3 leaves the update 0.11–0.22 and 0.39–0.63 of its size
#: away from that of converged dynamics, 1e-4 0.05–0.10 and 0.04–0.13; 2 and 3 hidden layers
#: learn with 1e-3, 4 need 1e-4.
DEEP_SETTLE_TOL = {3: 1e-3, 4: 1e-3}
DEEP_SETTLE_TOL_DEEPER = 1e-4


def n_layers_of(values):
    """L, the number of layers of weights, of the values resolved so far (``arch`` first)."""
    return len(values["arch"]) - 1


def is_deep(values):
    """Two or more hidden layers: the deep defaults apply (three phases, settling, falling rates)."""
    return n_layers_of(values) >= 3


def is_deeper(values):
    """Four or more hidden layers: the plasticity of clipped neurons is gated by default."""
    return n_layers_of(values) >= 5


def deep_settle_tol(values):
    """The default ``settle_tol``: 0 (fixed steps) with one hidden layer, else by depth."""
    L = n_layers_of(values)
    return 0.0 if L < 3 else DEEP_SETTLE_TOL.get(L, DEEP_SETTLE_TOL_DEEPER)


def depth_rates(rates, n, feedback=False):
    """Learning rates for ``n`` layers from a data set's one-hidden-layer rates.

    As given when the number fits; with one hidden layer (n ≤ 2 feedforward, 1 feedback rate) the
    first rate and the last one repeated (:func:`fit_rates`). Deeper, the rates fall with depth:
    η_ff,k = η_ff,1 / k and η_fb,k = η_fb,1 (2/3)^k. With the one-hidden-layer digits rates the
    3-hidden-layer network collapsed (3 seeds of 3) and the 4-hidden-layer one with them.
    """
    rates = tuple(rates)
    if len(rates) == n or not rates or n <= (1 if feedback else 2):
        return fit_rates(rates, n)
    if feedback:
        return tuple(rates[0] * (2 / 3) ** k for k in range(1, n + 1))
    return tuple(rates[0] / k for k in range(1, n + 1))


UNITS = {"ms": brian2.ms, "Hz": brian2.Hz, "mV": brian2.mV, "pF": brian2.pF, "nS": brian2.nS}


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One parameter of a model variant.

    Attributes
    ----------
    name : str
        Attribute of :class:`Params` (``g_leak``).
    default : object or callable
        The value, or ``f(values)`` of the other values (e.g. per-layer rates from ``arch``).
    help : str
        What it is, for ``--help`` (symbol, meaning, range).
    kind : str
        ``float``, ``int``, ``bool``, ``choice``, ``floats``, ``ints``, ``quantity`` or ``schedule``.
    unit : str, optional
        For quantities: the unit of the command line's plain numbers (``ms``, ``Hz``, ``mV``).
    choices : tuple
        For ``choice``.
    check : callable, optional
        ``check(value)`` returns an error message (without the name) or None.
    label : str, optional
        Name in messages when it differs from ``name`` (``lambda`` for ``lam``).
    option : str, optional
        Command-line option (default ``--`` + the name with dashes); None: not on the command line.
    learning : bool
        A parameter of training only (``train`` has it; ``evaluate``, ``traces``, ``bench`` do not).
    runtime : bool
        Changes the values a compiled network runs with, not its code: runs that differ only in
        run-time parameters share one build.
    signed : bool
        For quantities: any finite value (a reversal potential), not only positive ones.
    aliases : dict
        Other spellings of a choice's values (``True`` for ``"free"``), read from older files.
    optional : bool
        None is a value: the parameter is unset and another one applies (its help says which).
    """

    name: str
    default: object
    help: str
    kind: str = "float"
    unit: str = None
    choices: tuple = ()
    check: object = None
    label: str = None
    option: str = "auto"
    learning: bool = False
    runtime: bool = False
    signed: bool = False
    aliases: dict = field(default_factory=dict)
    optional: bool = False

    @property
    def cli(self):
        """The command-line option, or None."""
        if self.option == "auto":
            return "--" + self.name.replace("_", "-")
        return self.option

    @property
    def shown_name(self):
        return self.label or self.name

    def default_for(self, values):
        return self.default(values) if callable(self.default) else self.default

    def convert(self, value):
        """``value`` in this parameter's type, or CorInfoError."""
        kind, name = self.kind, self.shown_name
        if value is None and self.optional:
            return None
        if value is None:
            raise CorInfoError(f"{name} has no value: give one")
        if kind == "quantity":
            unit = UNITS[self.unit]
            if isinstance(value, str):
                value = parse_quantity(value)
            if not isinstance(value, brian2.Quantity) or not brian2.have_same_dimensions(value, unit) \
                    or not math.isfinite(float(value)) or (float(value) <= 0 and not self.signed):
                raise CorInfoError(f"{name} must be a {'' if self.signed else 'positive '}{_dimension(unit)}, "
                                   f"e.g. {self.default_text()} {self.unit}, got {shown(value, unit)}")
            return value
        if kind in ("floats", "ints"):
            try:
                items = tuple(value)
            except TypeError:
                items = (value,)
            cast = float if kind == "floats" else int
            return tuple(cast(v) if _numeric(v) else v for v in items)
        if kind == "schedule":
            return tuple((int(first), float(d)) for first, d in value)
        if kind == "bool":
            if not isinstance(value, (bool, int)) or value not in (0, 1):
                raise CorInfoError(f"{name} must be true or false, got {value!r}")
            return bool(value)
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    return int(value)
                raise CorInfoError(f"{name} must be a whole number, got {value!r}")
            return value
        if kind == "choice":
            if isinstance(value, bool) or value in self.aliases:
                value = self.aliases.get(value, value)
            if value not in self.choices:
                raise CorInfoError(f"{name} must be one of {', '.join(map(str, self.choices))}, got {value!r}")
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise CorInfoError(f"{name} must be a finite number, got {value!r}")
        return float(value)

    def default_text(self, values=None):
        """The default as the command line writes it (per-layer defaults need ``values``)."""
        value = self.default if not callable(self.default) else (self.default(values) if values else "per layer")
        return show(value, self.unit)

    def to_json(self, value):
        if self.kind == "quantity":
            return format_quantity(value)
        if isinstance(value, tuple):
            return [list(v) if isinstance(v, tuple) else v for v in value]
        return value


def _numeric(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _dimension(unit):
    names = ((brian2.Hz, "rate"), (brian2.second, "time"), (brian2.volt, "potential"), (brian2.farad, "capacitance"),
             (brian2.siemens, "conductance"))
    return next(name for u, name in names if brian2.have_same_dimensions(unit, u))


def show(value, unit=None):
    """A value as the command line writes it: 0.5, 64,100,10, on/off, 800 (in ``unit``)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, brian2.Quantity) and unit:
        return f"{float(value / UNITS[unit]):g}"
    if isinstance(value, (tuple, list)):
        return ",".join(show(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# ---- checks ---------------------------------------------------------------------------------------
def in_open_unit_interval(example):
    return lambda v: None if 0 < v < 1 else f"must lie in (0, 1), got {v:g}: e.g. {example}"


def positive(example=None):
    return lambda v: None if v > 0 else f"must be positive, got {v:g}" + (f": e.g. {example}" if example else "")


def _check_arch(arch):
    if len(arch) < 3 or any(not isinstance(n, int) or n < 1 for n in arch):
        return (f"{list(arch)} is not valid: give at least three positive layer sizes, input first, "
                "e.g. --arch 64,100,10")
    return None


def _check_rates():
    def check(rates):
        for v in rates:
            if not _numeric(v) or not math.isfinite(v):
                return f"rates must be finite numbers, got {v!r}"
            if v <= 0:
                return f"rates must be positive, got {v}"
        return None
    return check


def _check_schedule(schedule):
    for first, d in schedule:
        if not math.isfinite(d) or not 0 < d <= 1 or first < 0:
            return f"must lie in (0, 1] (1 disables the schedule), got {d}"
    return None


def _not_negative(option, unit, example):
    def check(value):
        number = float(value / UNITS[unit])
        return None if number >= 0 else f"must not be negative, got {number:g} {unit}: e.g. {option} {example}"
    return check


def _probability(option):
    def check(value):
        return None if 0 < value <= 1 else f"must lie in (0, 1], got {value:g}: e.g. {option} 0.5"
    return check


#: Biophysical perturbations of every Brian2 variant (membrane noise, synaptic failures, delays;
#: ``corinfo_sim/biophysics.py`` builds them). All off by default; the values of noise and release
#: probability are set per run, but switching one on (from 0 or from 1) compiles another network,
#: and every delay is compiled in.
BIOPHYSICS = (
    Parameter("noise_soma", 0 * brian2.mV, "membrane noise of every soma: the standard deviation of the stationary "
              "fluctuation of its potential at rest (leak and couplings only, no synaptic input), in mV; a white-"
              "noise current whose diffusion constant gives that SD with the soma's resting time constant "
              "(0: off)", kind="quantity", unit="mV", signed=True,
              check=_not_negative("--noise-soma", "mV", 2), label="--noise-soma"),
    Parameter("noise_dendrite", 0 * brian2.mV, "membrane noise of every basal and apical dendrite, the standard "
              "deviation of its stationary fluctuation at rest in mV (white noise of that SD per step where the "
              "dendrite has no time constant of its own, the rate networks'; 0: off)", kind="quantity", unit="mV",
              signed=True, check=_not_negative("--noise-dendrite", "mV", 2), label="--noise-dendrite"),
    Parameter("release_prob", 1.0, "release probability p of every forward, feedback and lateral synapse: a "
              "presynaptic spike is transmitted with probability p (Bernoulli per spike and synapse); in the rate "
              "networks each synapse's contribution is transmitted with probability p at every step (1: off; "
              "--release-prob-ff, --release-prob-fb, --release-prob-lateral set one kind of pathway's own)",
              check=_probability("--release-prob"), label="--release-prob"),
    *(Parameter(f"release_prob_{kind}", None, f"release probability of the {pathways} pathways alone (default: "
                "unset, --release-prob's applies)", optional=True, check=_probability(f"--release-prob-{kind}"),
                label=f"--release-prob-{kind}")
      for kind, pathways in (("ff", "forward"), ("fb", "feedback"), ("lateral", "lateral"))),
    Parameter("release_noise", "bernoulli", "how a rate-carrying synapse fails (spikes always fail per spike and "
              "synapse): 'bernoulli', each synapse's contribution transmitted with probability p at every step; "
              "'gaussian', the summed input drawn at every step from the normal distribution with the same mean "
              "and variance (a random number per neuron, not per synapse: faster, the same two moments)",
              kind="choice", choices=("bernoulli", "gaussian"), label="--release-noise"),
    Parameter("release_scale", True, "with --release-prob below 1, scale every transmitted contribution by 1/p so "
              "that the mean drive stays W r (--no-release-scale: the mean drive is p W r)", kind="bool",
              runtime=True),
    Parameter("delay_ff", 0 * brian2.ms, "transmission delay of the forward pathways (layer k-1 to the basal "
              "dendrites of layer k), a whole number of steps dt, at most the shortest phase (0: off)",
              kind="quantity", unit="ms", signed=True, check=_not_negative("--delay-ff", "ms", 2),
              label="--delay-ff"),
    Parameter("delay_fb", 0 * brian2.ms, "transmission delay of the feedback pathways (layer k+1 to the apical "
              "dendrites of layer k), a whole number of steps dt, at most the shortest phase (0: off)",
              kind="quantity", unit="ms", signed=True, check=_not_negative("--delay-fb", "ms", 2),
              label="--delay-fb"),
    Parameter("delay_lateral", 0 * brian2.ms, "transmission delay of the lateral pathways (pyramidal neurons to "
              "their layer's interneurons), a whole number of steps dt, at most the shortest phase (0: off)",
              kind="quantity", unit="ms", signed=True, check=_not_negative("--delay-lateral", "ms", 2),
              label="--delay-lateral"),
)


#: Parameters of every CorInfoMax variant.
COMMON = (
    Parameter("arch", (64, 100, 10), "layer sizes n_0,...,n_L, input first", kind="ints", check=_check_arch,
              label="architecture"),
    Parameter("epsilon", 0.15, "ε in (0, 1): variance of the prediction errors; the basal and apical couplings "
              "are 1/ε", check=in_open_unit_interval("--epsilon 0.15"), runtime=True),
    Parameter("lam", 0.99999, "λ in (0, 1): forgetting factor of the layers' correlation estimate, "
              "γ = (1 − λ)/λ", check=in_open_unit_interval("--lambda 0.99999"), label="lambda", option="--lambda",
              runtime=True),
    Parameter("lambda_batch", 1, "samples per step of λ: B is updated every sample with the forgetting factor "
              "λ^(1/m) and γ_B = (1 − λ^(1/m))/λ^(1/m), so it remembers as many samples as the paper's rule "
              "with batches of m (20 in the paper's protocols; 1: λ per sample); the dynamics keep γ",
              kind="int", check=lambda v: None if v >= 1 else f"must be a positive whole number of samples, got {v}: "
              "e.g. --lambda-batch 20", runtime=True),
    Parameter("g_leak", 0.5, "leak conductance g_L of the somata, dimensionless", check=positive("--g-leak 0.5"),
              runtime=True),
    Parameter("beta", 1.0, "nudging strength β₀ > 0 (its sign is set by --beta-sign)",
              check=lambda v: None if v > 0 else f"must be positive (its sign is set by --beta-sign), got {v:g}",
              runtime=True),
    Parameter("beta_sign", "random", "sign of β per sample: drawn at random or always +", kind="choice",
              choices=("random", "positive"), label="beta sign", learning=True, runtime=True),
    Parameter("lr_ff", lambda v: depth_rates((0.5, 0.35), n_layers_of(v)),
              "per-sample learning rates η_ff,k of the feedforward weights, one per layer k = 1..L (default 0.5 "
              "for layer 1, 0.35 for layer 2; with two or more hidden layers 0.5/k)", kind="floats",
              check=_check_rates(), label="--lr-ff", learning=True, runtime=True),
    Parameter("lr_fb", lambda v: depth_rates((0.075,), n_layers_of(v) - 1, feedback=True),
              "per-sample learning rates η_fb,k of the feedback weights, one per hidden layer (default 0.075; with "
              "two or more hidden layers 0.075 (2/3)^k)",
              kind="floats",
              check=_check_rates(), label="--lr-fb", learning=True, runtime=True),
    Parameter("lr_schedule", ((0, 0.95),), "per-epoch learning-rate decay: rates × d**epoch (1 disables it)",
              kind="schedule", check=_check_schedule, label="learning-rate decay", option="--lr-decay",
              learning=True, runtime=True),
    Parameter("seed", 0, "seed of the initial weights, the sample order and the β signs", kind="int",
              check=lambda v: None if v >= 0 else f"must be a non-negative integer, got {v}", learning=True,
              runtime=True),
    Parameter("shuffle", True, "present the training samples in a new random order each epoch", kind="bool",
              option="--shuffle", learning=True, runtime=True),
    Parameter("V0", 10 * brian2.mV, "potential scale: u = v_soma / V0", kind="quantity", unit="mV",
              option=None, runtime=True),
    Parameter("dt", 1 * brian2.ms, "simulation time step", kind="quantity", unit="ms",
              option=None),
    Parameter("precision", "float64", "floating-point type of the compiled network's state variables and "
              "weights (float32 halves the memory that every step streams)", kind="choice",
              choices=("float64", "float32")),
) + BIOPHYSICS


def _steps(v):
    return None if v >= 1 else f"must be a positive whole number of steps, got {v}"


#: Parameters of the rate networks (the paper's discretisation of the somatic dynamics).
RATE = (
    Parameter("eta", 0.05, "neural step η = dt/τ of the somatic Euler integration, in (0, 1]",
              check=lambda v: None if 0 < v <= 1 else f"must lie in (0, 1], got {v:g}: e.g. --eta 0.05",
              label="the neural step eta", runtime=True),
    Parameter("n_free", lambda v: DEEP_STEPS[0] if is_deep(v) else 30, "Euler steps of the free phase, the cap "
              "when settling to a tolerance (default 30; 200 with two or more hidden layers)", kind="int",
              check=_steps),
    Parameter("n_nudged", lambda v: DEEP_STEPS[1] if is_deep(v) else 10, "Euler steps of each nudged phase, the "
              "cap when settling (default 10; 100 with two or more hidden layers)", kind="int", check=_steps),
    Parameter("eta_schedule", "off", "neural step schedule η_t = max(η/(1 + 0.01 t), 0.001), t the step within "
              "the phase: off, in the free phase, or in every phase (the authors' code)", kind="choice",
              choices=("off", "free", "both"), aliases={True: "free", False: "off"}, runtime=True),
    Parameter("update_order", "simultaneous", "within a step: every layer from the previous step's rates "
              "(simultaneous), or bottom-up, each layer from the new rates of the one below (layered, the "
              "authors' code)", kind="choice", choices=("simultaneous", "layered")),
    Parameter("nudged_start", "continue", "the nudged phase continues from the free phase's potentials "
              "(continue) or restarts from its rates, u = σ(u) (rates, the authors' code)", kind="choice",
              choices=("continue", "rates")),
    Parameter("three_phase", is_deep, "free, +β and −β phases; the update contrasts the +β and −β states, "
              "divided by 2β (default off; on with two or more hidden layers)", kind="bool"),
    Parameter("settle_tol", deep_settle_tol, "settling tolerance (in units of u): a phase ends after the first "
              "step in which no somatic potential changed by this much or more, its step count (--n-free, "
              "--n-nudged) being the cap; 0 runs every step (default 0; 1e-3 with two or three hidden layers, "
              "1e-4 with more)", check=lambda v: None if v >= 0 else
              f"must be 0 (off) or positive, got {v:g}: e.g. --settle-tol 1e-4", label="--settle-tol"),
    Parameter("gate_clipped", is_deeper, "no forward or feedback plasticity onto a neuron whose rate sits at a "
              "bound of its rate function (0, or 1 for the hard sigmoid) in both contrasted states (default off; on "
              "with four or more hidden layers)", kind="bool"),
)


def with_defaults(parameters, **defaults):
    """``parameters`` with other defaults for some of them (e.g. another ``dt``)."""
    return tuple(dataclasses.replace(p, default=defaults[p.name]) if p.name in defaults else p for p in parameters)


def on_command_line(parameters, *names):
    """``parameters`` with the named ones offered as command-line options (``--dt``)."""
    return tuple(dataclasses.replace(p, option="auto") if p.name in names else p for p in parameters)




# ---- the network ---------------------------------------------------------------------------------
@dataclasses.dataclass
class Operation:
    """Code a population runs at one point of every sample (see the module docstring)."""

    code: str
    at: str = "step"
    when: str = "start"
    order: int = 0


@dataclasses.dataclass
class Population:
    """A NeuronGroup.

    Attributes
    ----------
    name : str
        The Brian2 name (``pyr_1``).
    size : int
    equations : str
        Brian2 equations.
    namespace : dict
        Names besides the network's namespace (``g_A``, ``nu_max``, ...).
    threshold, reset : str, optional
        Spike condition and reset code.
    events : dict
        Custom events ``{name: (condition, when, order)}``.
    operations : list of Operation
    linked : dict
        ``{variable: (population, variable)}``: linked variables (one-to-one).
    per_sample : bool
        Updated once per sample (its clock's dt is the sample duration) instead of every step.
    state_schedule : tuple
        ``(when, order)`` of its differential equations' update (default ``("groups", 0)``).
    method : str
        Brian2's integration method of its differential equations (default ``"euler"``).
    layer : int, optional
        The pyramidal population of layer k: recorded (rates, traces, spikes) as layer k.
    traced : dict
        Variables recorded at every step of the traced samples, ``{traces key: variable}``
        (recorded for the neurons chosen in the layer it belongs to, ``trace_layer``).
    trace_layer : int, optional
        Layer whose tracing also records this population (all of its neurons).
    refractory : brian2.Quantity, optional
        Refractory period after a spike (Brian2's ``refractory``; equations flagged
        ``(unless refractory)`` are held).
    """

    name: str
    size: int
    equations: str
    namespace: dict = field(default_factory=dict)
    threshold: str = None
    reset: str = None
    events: dict = field(default_factory=dict)
    operations: list = field(default_factory=list)
    linked: dict = field(default_factory=dict)
    per_sample: bool = False
    state_schedule: tuple = ("groups", 0)
    method: str = "euler"
    layer: int = None
    traced: dict = field(default_factory=dict)
    trace_layer: int = None
    refractory: object = None


@dataclasses.dataclass
class Pathway:
    """A Synapses object.

    Attributes
    ----------
    name : str
        The Brian2 name (``ff_2``).
    pre, post : str
        Population names.
    model : str
        Synapse equations (weights ``w``, learning rate ``eta``, summed variables).
    connectivity : str
        ``all`` (every pair, presynaptic-major), ``all_but_self``, ``one_to_one`` or ``diagonal``
        (i → i of two populations of equal size). ``all`` and ``all_but_self`` run in the compiled
        all-to-all code object (:mod:`corinfo_sim.codegen`).
    on_pre : str, optional
        Code run on every presynaptic spike.
    plasticity : str, optional
        Code run once per sample, at the next sample's onset (slot ``start``, order 4).
    summed : tuple
        ``(when, order)`` of its summed variable's update.
    weight : tuple, optional
        ``(key, part)``: the weights-file matrix (``"Wff2"``) this pathway holds, ``part`` one of
        ``"all"``, ``"offdiag"``, ``"diag"`` (the synapses' indices pick the entries), or
        ``(key, "exc")`` / ``(key, "inh")``: the excitatory half max(W, 0) + c or the inhibitory
        half max(−W, 0) + c of a signed matrix under Dale's law, c the pathway's namespace entry
        ``offset`` (the matrix read back is the excitatory half minus the inhibitory one).
    learning_rate : tuple, optional
        ``(parameter, index)``: ``eta`` is ``params.<parameter>[index]`` times the epoch's factor.
    namespace : dict
    """

    name: str
    pre: str
    post: str
    model: str
    connectivity: str = "all"
    on_pre: str = None
    plasticity: str = None
    summed: tuple = ("start", 0)
    weight: tuple = None
    learning_rate: tuple = None
    namespace: dict = field(default_factory=dict)


@dataclasses.dataclass
class NetworkSpec:
    """A whole network.

    Attributes
    ----------
    populations, pathways : list
    namespace : dict
        Names every object sees (constants of the equations).
    rate_variables : tuple
        ``(free, nudged)`` variables of the layer populations recorded as the free and nudged
        rates of a sample (read at the next sample's onset).
    trace_variables : dict
        ``{traces key: variable}`` recorded on every traced layer; ``output_trace_variables``
        only on the output layer.
    spikes : bool
        Record the spikes of the traced neurons (spiking variants).
    plan_values : callable, optional
        ``plan_values(plan) -> {"timed": {name: per-slot values}, "variables": {(population,
        variable): values}}``: what a run needs besides weights and the plan's own arrays (e.g.
        the encoders' phases), computed from the plan and passed to every run.
    compartments : dict
        ``{population: {"soma" or "dendrite": [(variable, retention), ...]}}``: the compartment
        potentials that membrane noise enters (``corinfo_sim/biophysics.py``). ``variable`` is a
        differential equation or a subexpression of the population; ``retention`` the Brian2
        expression of the fraction of a deviation from rest that one time step keeps (leak and
        couplings only: ``exp(-dt/tau_rest)`` or its Euler step ``1 - dt/tau_rest``), or None for
        a compartment without a time constant of its own (a subexpression).
    delays : dict
        ``{pathway: delay}``: Brian2 transmission delays of spike-carrying pathways (set by
        ``corinfo_sim/biophysics.py``).
    """

    populations: list
    pathways: list
    namespace: dict = field(default_factory=dict)
    rate_variables: tuple = ("r_free", "r")
    trace_variables: dict = field(default_factory=dict)
    output_trace_variables: dict = field(default_factory=dict)
    spikes: bool = False
    plan_values: object = None
    compartments: dict = field(default_factory=dict)
    delays: dict = field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Variant:
    """A model variant: its parameters, time course, network and dense oracle.

    Attributes
    ----------
    name : str
        ``--model`` name.
    summary : str
        One line on what it simulates.
    parameters : tuple of corinfo_sim.params.Parameter
    timing : callable
        ``timing(params) -> {"free_steps", "steps_per_sample", "window_steps", "tau"}``.
    network : callable
        ``network(params) -> NetworkSpec``.
    oracle : callable
        ``oracle(params) -> corinfo_sim.dense.DenseParams``: the dense numpy model of the same
        mathematics (for spiking variants, the rate network they approximate).
    dataset_defaults : dict
        ``{data set: {parameter: value}}``: the settings of ``train --dataset NAME``.
    validate : callable, optional
        ``validate(params) -> message or None``: checks across parameters.
    check_images : callable, optional
        ``check_images(images) -> message or None``: what the variant needs of its inputs.
    notes : callable, optional
        ``notes(params) -> list of str``: what a user should know before training it.
    exact_oracle : bool
        The dense oracle is exactly this network's mathematics (the rate networks), so its free
        phase can stand in for the network's: the test set is then evaluated by the batched dense
        path (:func:`corinfo_sim.dense.free_rates`). False when the oracle only approximates it
        (spiking variants): they are evaluated in the network.
    weights : corinfo_sim.weights.WeightScheme, optional
        The matrices of a learning rule other than CorInfoMax's (keys, shapes, initialisation);
        None: ``Wff{k}``, ``Wfb{k}``, ``B{k}``.
    session : callable, optional
        For a reference that is not a Brian2 network (``network`` None): ``session(params, images,
        labels, segments) ->`` an object that runs plans as :class:`corinfo_sim.session.Session`
        does (``corinfo_sim/references.py``).
    free_rates : callable, optional
        ``free_rates(weights, X, params, dtype) -> {k: r_k}``: the batched free phase of the
        evaluation (default :func:`corinfo_sim.dense.free_rates` with the oracle).
    """

    name: str
    summary: str
    parameters: tuple
    timing: object
    network: object
    oracle: object
    dataset_defaults: dict = field(default_factory=dict)
    validate: object = None
    check_images: object = None
    notes: object = None
    exact_oracle: bool = False
    weights: object = None
    session: object = None
    free_rates: object = None

    @property
    def parameters_by_name(self):
        return {p.name: p for p in self.parameters}


# ---- quantities as text ---------------------------------------------------------------------------
def format_quantity(value):
    """``value`` as "number unit" that reads back exactly: in ms, Hz or mV when that is exact
    ("0.5 ms", "800.0 Hz"), else in SI units ("0.35000000000000003 s")."""
    for unit in (brian2.ms, brian2.Hz, brian2.mV, brian2.pF, brian2.nS):
        if brian2.have_same_dimensions(value, unit):
            text = f"{float(value / unit)!r} {unit!s}"
            if parse_quantity(text) == value:
                return text
    return f"{float(value)!r} {brian2.get_unit(value.dim)!s}"


@functools.lru_cache(maxsize=1)
def _units_by_name():
    """Brian2's units by their printed names ("s", "ms", "kHz", "mV", ...)."""
    from brian2.units.allunits import all_units
    return {str(u): u for u in all_units}


def parse_quantity(text):
    """A quantity as :meth:`Params.to_dict` writes it ("0.5 ms", "0.35 s"), or as Brian2 prints
    it ("1.6 kHz", "250. us")."""
    try:
        number, name = str(text).split()
        units = _units_by_name()
        return float(number) * (units[name] if name in units else getattr(brian2, name))
    except (ValueError, AttributeError):
        raise CorInfoError(f"cannot read the quantity {text!r} in the saved parameters: "
                           f"write it as a number and a unit, e.g. '100 ms'") from None


def shown(value, unit):
    """``value`` for an error message: in ``unit`` when it has that dimension ("inf Hz", "0 ms")."""
    if isinstance(value, brian2.Quantity) and brian2.have_same_dimensions(value, unit):
        return f"{float(value / unit):g} {unit!s}"
    return repr(value)
