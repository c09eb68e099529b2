"""Membrane noise, synaptic failures and transmission delays, for every Brian2 model variant.

The options (:data:`corinfo_sim.spec.BIOPHYSICS`: ``noise_soma``, ``noise_dendrite``,
``release_prob`` and ``release_prob_ff``, ``release_prob_fb``, ``release_prob_lateral``,
``release_scale``, ``delay_ff``, ``delay_fb``, ``delay_lateral``) are built by
:func:`apply`, which rewrites a variant's :class:`~corinfo_sim.spec.NetworkSpec` before the one
network builder (:class:`corinfo_sim.network.CorInfoNetwork`) turns it into Brian2 objects. No
variant carries a copy of this code; a variant only declares where its compartments are
(``NetworkSpec.compartments``), and its pathways are told apart by their names (:func:`pathway_kind`).
With every option off, :func:`apply` returns the spec unchanged: the generated code, the build and
the results are those of a network without them.

**Membrane noise** (``noise_soma``, ``noise_dendrite``, in mV). A white-noise current enters
every declared compartment potential V. Its size is given as σ, the standard deviation of the
stationary fluctuation it gives the compartment at rest (leak and couplings only, no synaptic
input): an Ornstein–Uhlenbeck process dV = −(V − V_rest)/τ dt + σ √(2/τ) dW in the continuous
limit, diffusion constant σ²·2/τ. It is added to the compartment's own integration step: with r
the fraction of a deviation that one step of length dt keeps at rest (declared by the variant:
1 − dt/τ for a forward-Euler step, exp(−dt/τ) for an exponential-Euler one), each step adds
σ √(1 − r²) n (times (−ln r)/(1 − r) for exponential Euler, which spreads a constant input over the
step), n a standard normal number, so that the simulated stationary variance at rest is exactly
σ² for any step. A compartment without a time constant of its own (the rate networks' dendrites,
which are instantaneous) receives σ n at every step: white noise of variance σ². Synaptic input
opens conductances and shortens τ, so with input the fluctuation of a conductance-based
compartment is smaller than σ.

**Synaptic failures** (``release_prob`` p, ``release_scale``). Every forward, feedback and lateral
synapse transmits with probability p (a kind of pathway with its own ``release_prob_ff``,
``release_prob_fb`` or ``release_prob_lateral`` with that one instead): a spike-carrying synapse each presynaptic spike
(Bernoulli per spike and synapse), a rate-carrying synapse its contribution w·r_pre at every step
(Bernoulli per step and synapse: multiplicative noise ξ ∈ {0, 1} with mean p on each term of the
sum). With ``release_scale`` each transmitted contribution is scaled by 1/p, so the mean drive
stays W r and only its variance, (1 − p)/p Σ_j w_j² r_j², is added; without, the mean drive is
p W r. The input pathway of the rate networks is summed once per sample (its input is constant),
so its failures are drawn once per sample.

With ``release_noise = "gaussian"`` a rate-carrying pathway draws no decision per synapse: each
postsynaptic neuron's summed input X is drawn at every step from the normal distribution with the
mean and variance of the Bernoulli sum, X = m Σ_j w_j r_j + √(v Σ_j w_j² r_j²) n (scaled: m = 1,
v = (1 − p)/p; not scaled: m = p, v = p(1 − p); n a normal number per neuron and step). Both sums
run in the pathway's own loop as two summed variables (``X_sum``, ``X_sq``), and the postsynaptic
population forms X right after them. Different neurons and steps stay independent, as with
Bernoulli decisions; what is lost is the shape of a sum of few terms (a conductance, which a
Bernoulli sum keeps at or above 0, is clipped at 0). Spike-carrying pathways always fail per
spike and synapse.

**Transmission delays** (``delay_ff``, ``delay_fb``, ``delay_lateral``, in ms, whole numbers of
steps dt, at most the shortest phase). Spike-carrying pathways take Brian2's synaptic ``delay``:
a spike emitted at step t acts at step t + d/dt (spikes still in flight when a sample ends are
dropped, as the onset reset clears the rate networks' delay lines). Rate-carrying pathways read the presynaptic rate
of d/dt steps before from a delay line: every presynaptic population keeps its last D rates
(``r_d1``, ..., ``r_dD``: a shift register updated at every step after the step's inputs are
summed, cleared at sample onset, when every rate is 0), and the pathway's summed input reads
``r_dD`` instead of ``r``. The rate network with delays is a delay-differential equation whose
fixed points are those of the network without delays (a constant rate is the same at every lag).
The plasticity still reads the current presynaptic rates. The lateral delay is that of the
pyramidal → interneuron synapses (the one-to-one return to the apical dendrite adds none); the
input pathway of the rate networks is not delayed (see above). Delays need the simultaneous
update order and fixed step counts (settling to a tolerance skips steps that the delay line
must see).

**Random numbers.** Every noise value and release decision is drawn by a counter-based hash
(:func:`hash32`, as the spiking model's Poisson encoder draws its spikes) of a key per sample slot (drawn from the seed and the plan, :func:`sample_keys`), a stream per
compartment or pathway, the step within the sample and the neuron or synapse index. A run is
therefore reproducible, a resumed run draws exactly what the uninterrupted one drew, and every
epoch (another plan) draws other numbers. Brian2's own ``xi`` draws from the device's generator,
which a compiled binary restarts at every run (each epoch is one run of the binary): every epoch
would draw the same noise, or, unseeded, irreproducible noise.
"""
import dataclasses
import re
import zlib

import brian2
import numpy as np


#: The perturbations' options and their values when off (a kind's own release probability
#: unset: ``release_prob`` applies).
OFF = {"noise_soma": 0 * brian2.mV, "noise_dendrite": 0 * brian2.mV, "release_prob": 1.0,
       "release_prob_ff": None, "release_prob_fb": None, "release_prob_lateral": None,
       "release_noise": "bernoulli", "delay_ff": 0 * brian2.ms, "delay_fb": 0 * brian2.ms, "delay_lateral": 0 * brian2.ms}

#: The kinds of pathway that fail and are delayed (:func:`pathway_kind`).
KINDS = ("ff", "fb", "lateral")
#: Delay options by pathway kind.
DELAYS = {kind: f"delay_{kind}" for kind in KINDS}

#: Execution slot of the delay lines' shift (after every operation at the start of a step: the
#: summed inputs of the step have read the line).
SHIFT_SLOT = ("start", 20)


def pathway_kind(name):
    """The kind of a pathway by its name: ``ff`` (``ff_k``, ``ff_k_exc``, ...), ``fb``,
    ``lateral`` (``pyr_to_inh_k``, ``pyr_to_inh_diag_k``, ``rel_to_inh_k``), or None (the
    one-to-one interneuron → pyramidal return, the sparse network's global inhibition, the
    settling monitor): the pathways that failures and delays apply to."""
    if name.startswith("ff_"):
        return "ff"
    if name.startswith("fb_"):
        return "fb"
    if name.startswith(("pyr_to_inh_", "rel_to_inh_")):
        return "lateral"
    return None


def value(params, name):
    """The value of option ``name`` (its off value for a variant without it)."""
    return getattr(params, name) if name in params.variant.parameters_by_name else OFF[name]


def delay_steps(params, kind):
    """Steps of the delay of pathway kind ``kind`` (0: none)."""
    return int(round(float(value(params, DELAYS[kind]) / params.dt)))


def release_p(params, kind):
    """Release probability of the pathways of kind ``kind``: their own (``release_prob_ff``, ...)
    if set, else ``release_prob``."""
    own = value(params, f"release_prob_{kind}")
    return value(params, "release_prob") if own is None else own


def failing(params):
    """The pathway kinds whose release probability is below 1."""
    return [kind for kind in KINDS if release_p(params, kind) < 1]


def active(params):
    """Whether any option is on (noise above 0, a release probability below 1, a delay above 0)."""
    return (any(float(value(params, name)) > 0 for name in ("noise_soma", "noise_dendrite"))
            or bool(failing(params)) or any(delay_steps(params, kind) for kind in KINDS))


def describe(params):
    """What is compiled in, for the structure key: which options are on and the delays in steps."""
    return {"noise_soma": float(value(params, "noise_soma")) > 0,
            "noise_dendrite": float(value(params, "noise_dendrite")) > 0,
            "failures": bool(failing(params)),
            "release_noise": value(params, "release_noise") if failing(params) else None,
            "delays": {kind: delay_steps(params, kind) for kind in DELAYS}}


def shortest_phase_steps(params):
    """Steps of the shortest phase of a sample (free, or each nudged phase)."""
    nudged = params.steps_per_sample - params.free_steps
    if "three_phase" in params.variant.parameters_by_name and params.three_phase:
        nudged //= 2
    return min(params.free_steps, nudged)


def validate(params):
    """A one-line message for delays the network cannot run, or None."""
    if "delay_ff" not in params.variant.parameters_by_name:
        return None
    dt_ms = float(params.dt / brian2.ms)
    bound = shortest_phase_steps(params)
    for kind, name in DELAYS.items():
        delay = float(getattr(params, name) / brian2.ms)
        if delay == 0:
            continue
        option = "--" + name.replace("_", "-")
        steps = delay / dt_ms
        if abs(steps - round(steps)) > 1e-9 * max(1.0, steps):
            return (f"{option} {delay:g} ms is not a whole number of steps dt = {dt_ms:g} ms: give a multiple of "
                    f"{dt_ms:g} ms (delays are not rounded)")
        if round(steps) > bound:
            return (f"{option} {delay:g} ms is longer than the shortest phase of a sample ({bound * dt_ms:g} ms): "
                    f"it must be at most {bound * dt_ms:g} ms")
        if getattr(params, "update_order", "simultaneous") != "simultaneous":
            return f"{option} needs the simultaneous update order (--update-order simultaneous)"
        if getattr(params, "settle_tol", 0) > 0:
            return (f"{option} needs fixed step counts: settling to a tolerance skips steps that the delay line "
                    "must see (--settle-tol 0)")
    return None


# ---- random numbers --------------------------------------------------------------------------
#: Random numbers are drawn for every neuron and, in the rate networks, for every synapse at every
#: step: hundreds of thousands per step. They come from a 32-bit counter-based hash (Wellons'
#: "lowbias32" finaliser, a bijection of 32-bit integers with full avalanche) of the counters,
#: branch-free, so that the compiler vectorises the synapse loops. Measured on 784-500-10: with the
#: 64-bit splitmix64 of the Poisson encoder in the release decision, a training sample took 30
#: times as long as without failures.
_HASH_CPP = """
// 32 random bits from the counters (sample key, stream, step within the sample, index)
static inline uint32_t corinfo_hash32(uint64_t k, int64_t stream, int64_t step, int64_t index)
{
    uint32_t x = (uint32_t)index * 0x9E3779B1u;
    x ^= (uint32_t)step * 0x85EBCA77u + (uint32_t)stream * 0xC2B2AE3Du + (uint32_t)k + (uint32_t)(k >> 32) * 0x27D4EB2Fu;
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}
"""

#: A normal number: the sum of four uniform numbers of 16 bits each (two hashes), centred and
#: scaled to variance 1 (Irwin–Hall; its tails end at ±2√3 SD, its kurtosis is 2.7 instead of 3).
_NORMAL_CPP = """
static inline double corinfo_normal_hash(double key, int64_t stream, int64_t step, int64_t index)
{
    const uint64_t k = (uint64_t)(int64_t)key;
    const uint32_t a = _hash32(k, stream, step, 2*index);
    const uint32_t b = _hash32(k, stream, step, 2*index + 1);
    const double sum = (double)((a & 0xFFFFu) + (a >> 16) + (b & 0xFFFFu) + (b >> 16)) + 2.0;
    return (sum * (1.0 / 65536.0) - 2.0) * 1.7320508075688772;
}
"""

#: The release decision of synapse pre → post: 24 bits of the hash of the index pre·2¹⁶ + post
#: against the threshold p·2²⁴; the value of a transmitted contribution (1, or 1/p when scaled).
#: Every argument is an integer, in 32-bit arithmetic, and the code has no branch: the compiler
#: then keeps the loop's constants in registers and vectorises the synapse loop (with a
#: floating-point key and p, read again at every synapse because the summed variable's stores
#: might change them, and with branches, the loop ran scalar, and 784-500-10 with every option on
#: took 23 times as long as without).
_RELEASE_CPP = """
static inline double corinfo_release_gate(int32_t key, int32_t stream, int32_t step, int32_t pre, int32_t post,
                                          int32_t threshold, int32_t scaled)
{
    const uint32_t index = (uint32_t)pre * 65536u + (uint32_t)post;
    const double transmitted = 1.0 + (double)scaled * (16777216.0 / (double)threshold - 1.0);  // no branch
    const int32_t draw = (int32_t)(_hash32((uint64_t)(uint32_t)key, stream, step, (int64_t)index) >> 8);
    return (double)(draw < threshold) * transmitted;
}
"""


#: The release decisions of a rate pathway's synapses, in two stages so that the synapse loop reads
#: nothing but arrays indexed by its presynaptic neuron (as it reads the rate) and its postsynaptic
#: index: every presynaptic neuron draws a seed per step (``release_seed``, 31 bits of the hash of
#: the sample key, the population's stream, the step and the neuron), and each of its synapses
#: hashes that seed with the pathway's stream and its postsynaptic index
#: (``release_row_gate``). With the key and p read in the synapse loop itself the compiler did not
#: vectorise it, and 784-500-10 with every option on trained 23 times as slowly as without.
_SEED_CPP = """
static inline double corinfo_release_seed(double key, int64_t stream, int64_t step, int64_t index)
{
    return (double)(_hash32((uint64_t)(int64_t)key, stream, step, index) >> 1);
}
"""
_ROW_GATE_CPP = """
static inline double corinfo_release_row_gate(int32_t seed, int32_t stream, int32_t post, int32_t threshold,
                                              double transmit)
{
    uint32_t x = ((uint32_t)post * 0x9E3779B1u) ^ (uint32_t)seed ^ ((uint32_t)stream * 0xC2B2AE3Du);
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    const int32_t below = (int32_t)((uint32_t)((int32_t)(x >> 8) - threshold) >> 31);  // draw < threshold
    return (double)below * transmit;
}
"""


def release_seed(key, stream, step, index):
    """31 random bits per presynaptic neuron and step: numpy twin of ``corinfo_release_seed``."""
    return (hash32(key, stream, step, index) >> np.uint32(1)).astype(float)


def release_row_gate(seed, stream, post, threshold, transmit):
    """``transmit`` where synapse (seed of its presynaptic neuron, ``post``) transmits, else 0:
    numpy twin of ``corinfo_release_row_gate``."""
    shape = np.broadcast(seed, stream, post, threshold, transmit).shape
    u32 = lambda v: (np.broadcast_to(np.asarray(v).astype(np.int64), shape).astype(np.uint64)  # noqa: E731
                     & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    with np.errstate(over="ignore"):
        x = (u32(post) * np.uint32(0x9E3779B1)) ^ u32(seed) ^ (u32(stream) * np.uint32(0xC2B2AE3D))
        x ^= x >> np.uint32(16)
        x *= np.uint32(0x7FEB352D)
        x ^= x >> np.uint32(15)
        x *= np.uint32(0x846CA68B)
        x ^= x >> np.uint32(16)
    below = (x >> np.uint32(8)).astype(np.int64) < np.broadcast_to(np.asarray(threshold).astype(np.int64), shape)
    return below * np.broadcast_to(np.asarray(transmit, dtype=float), shape)


def hash32(key, stream, step, index):
    """The 32-bit counter-based hash (numpy twin of the C++ ``corinfo_hash32``, bit for bit)."""
    shape = np.broadcast(key, stream, step, index).shape
    k = np.broadcast_to(np.asarray(key).astype(np.int64).astype(np.uint64), shape)
    u32 = lambda v: (np.broadcast_to(np.asarray(v).astype(np.int64).astype(np.uint64), shape)  # noqa: E731
                     & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    with np.errstate(over="ignore"):
        x = u32(index) * np.uint32(0x9E3779B1)
        x ^= (u32(step) * np.uint32(0x85EBCA77) + u32(stream) * np.uint32(0xC2B2AE3D)
              + (k & np.uint64(0xFFFFFFFF)).astype(np.uint32) + (k >> np.uint64(32)).astype(np.uint32)
              * np.uint32(0x27D4EB2F))
        x ^= x >> np.uint32(16)
        x *= np.uint32(0x7FEB352D)
        x ^= x >> np.uint32(15)
        x *= np.uint32(0x846CA68B)
        x ^= x >> np.uint32(16)
    return x


def normal_numbers(key, stream, step, index):
    """Normal numbers (mean 0, variance 1) of the counters: numpy twin of ``corinfo_normal_hash``."""
    index = np.asarray(index).astype(np.int64)
    a = hash32(key, stream, step, 2 * index).astype(np.float64)
    b = hash32(key, stream, step, 2 * index + 1).astype(np.float64)
    high = np.float64(65536)
    total = (a % high) + np.floor(a / high) + (b % high) + np.floor(b / high) + 2.0
    return (total * (1.0 / 65536.0) - 2.0) * 1.7320508075688772


def release_decisions(key, stream, step, pre, post, threshold, scaled):
    """The value of synapse pre → post's contribution: 0 (failed), 1, or 2²⁴/threshold (transmitted,
    ``scaled``): numpy twin of ``corinfo_release_gate``."""
    index = (np.asarray(pre).astype(np.int64) * 65536 + np.asarray(post).astype(np.int64)) & 0xFFFFFFFF
    key = np.asarray(key).astype(np.int64) & 0xFFFFFFFF
    threshold = np.asarray(threshold).astype(float)
    transmitted = np.where(np.asarray(scaled) != 0, 16777216.0 / threshold, 1.0)
    return np.where((hash32(key, stream, step, index) >> np.uint32(8)).astype(float) < threshold, transmitted, 0.0)


def _functions():
    """The Brian2 functions ``normal_hash(key, stream, step, index)``, ``release_gate(key, stream,
    step, pre, post, threshold, scaled)`` (spikes), ``release_seed(key, stream, step, index)`` and
    ``release_row_gate(seed, stream, post, threshold, transmit)`` (rates), C++ (compiled runs) and
    numpy (runtime mode)."""
    hash_function = brian2.Function(hash32, arg_units=[1, 1, 1, 1], return_unit=1)
    hash_function.implementations.add_implementation("cpp", _HASH_CPP, name="corinfo_hash32")
    normal_hash = brian2.Function(normal_numbers, arg_units=[1, 1, 1, 1], return_unit=1)
    normal_hash.implementations.add_implementation("cpp", _NORMAL_CPP, name="corinfo_normal_hash",
                                                   dependencies={"_hash32": hash_function})
    release_gate = brian2.Function(release_decisions, arg_units=[1, 1, 1, 1, 1, 1, 1], return_unit=1)
    release_gate.implementations.add_implementation("cpp", _RELEASE_CPP, name="corinfo_release_gate",
                                                    dependencies={"_hash32": hash_function})
    seed = brian2.Function(release_seed, arg_units=[1, 1, 1, 1], return_unit=1)
    seed.implementations.add_implementation("cpp", _SEED_CPP, name="corinfo_release_seed",
                                            dependencies={"_hash32": hash_function})
    row_gate = brian2.Function(release_row_gate, arg_units=[1, 1, 1, 1, 1], return_unit=1)
    row_gate.implementations.add_implementation("cpp", _ROW_GATE_CPP, name="corinfo_release_row_gate")
    return normal_hash, release_gate, seed, row_gate


def normal_hash_function():
    """The Brian2 function ``normal_hash(key, stream, step, index)``: a standard normal number (of
    four 16-bit uniform numbers) determined by the counters, the same in C++ and numpy."""
    return _functions()[0]


def sample_keys(params, plan):
    """The key of every slot of ``plan``: drawn from the seed and the plan (as the spiking
    model's encoder phases), so that a run of the same plan draws the same numbers."""
    key = [params.seed, 0xB105]
    for values in (plan.image, plan.beta, plan.learn):
        key.append(zlib.crc32(np.ascontiguousarray(values).tobytes()))
    return np.random.default_rng(key).integers(0, 2 ** 31, size=plan.n_slots).astype(float)  # int32 and exact


def stream(*names):
    """A stream number of the hash for a compartment or pathway (a 31-bit checksum of its name)."""
    return zlib.crc32(":".join(names).encode()) & 0x7FFFFFFF


#: The step within the sample and the slot key, as the hash's counters.
_STEP = "t_in_timesteps % steps_per_sample"
_KEY = "bio_key_of_sample(t)"


# ---- rewriting equations and code ----------------------------------------------------------------
def _add_term(equations, variable, term):
    """``equations`` with ``term`` added to the right-hand side of ``variable``'s equation
    (a differential equation ``dX/dt = ...`` or a subexpression ``X = ...``)."""
    pattern = re.compile(rf"^\s*(d{variable}/dt|{variable})\s*=")
    lines = equations.split("\n")
    for n, line in enumerate(lines):
        if pattern.match(line):
            code, hash_, comment = line.partition("#")
            left, _, unit = code.rpartition(":")
            name, _, expression = left.partition("=")
            lines[n] = (f"{name.strip()} = ({expression.strip()}){term} : {unit.strip()}"
                        + (f"  # {comment.strip()}" if hash_ else ""))
            return "\n".join(lines)
    raise ValueError(f"no equation for {variable!r} to add membrane noise to")


def _unit_of(equations, variable):
    """The unit of ``variable`` in ``equations`` (as written after the colon)."""
    for line in equations.split("\n"):
        code = line.partition("#")[0]
        if re.match(rf"^\s*{variable}\s*[:=]", code):
            return code.rpartition(":")[2].split("(")[0].strip()
    return "1"


def _delayed(code, steps, needed):
    """``code`` reading every presynaptic variable ``x_pre`` from its delay line, ``x_d{steps}_pre``;
    records the variables in ``needed``."""
    def replace(match):
        needed.add(match.group(1))
        return f"{match.group(1)}_d{steps}_pre"
    return re.sub(r"\b(\w+)_pre\b", replace, code)


def _rewrite_summed(model, rewrite):
    """``model`` with every summed-variable line ``X_post = e : unit (summed)  # c`` replaced by
    the lines ``rewrite(X_post, e, unit, c)`` returns (``unit`` with its flag, ``c`` "" if none)."""
    lines = []
    for line in model.split("\n"):
        if "(summed)" not in line:
            lines.append(line)
            continue
        code, hash_, comment = line.partition("#")
        left, _, unit = code.rpartition(":")
        target, _, expression = left.partition("=")
        lines += rewrite(target.strip(), expression.strip(), unit.strip(), comment.strip() if hash_ else "")
    return "\n".join(lines)


def _gated_summed(model, gate, steps, needed):
    """A pathway model whose summed variables are gated by ``gate`` and delayed by ``steps``."""
    def rewrite(target, expression, unit, comment):
        if steps:
            expression = _delayed(expression, steps, needed)
        if gate:
            expression = f"({expression})*{gate}"
        return [f"{target} = {expression} : {unit}" + (f"  # {comment}" if comment else "")]
    return _rewrite_summed(model, rewrite)


def _moment_summed(model, steps, needed):
    """A pathway model whose summed variables ``X_post = e`` become two, ``X_sum_post = e`` and
    ``X_sq_post = (e)**2`` (delayed by ``steps``); the targets ``[(X, unit)]``."""
    targets = []

    def rewrite(target, expression, unit, comment):
        if steps:
            expression = _delayed(expression, steps, needed)
        name, unit = target[:-len("_post")], unit.replace("(summed)", "").strip()
        targets.append((name, unit))
        return [f"{name}_sum_post = {expression} : {unit} (summed)  # sum of its terms",
                f"{name}_sq_post = ({expression})**2 : {_squared(unit)} (summed)  # sum of their squares"]
    return _rewrite_summed(model, rewrite), targets


def _squared(unit):
    """The square of a unit as written in equations."""
    return "1" if unit == "1" else f"{unit}**2"


#: The summed input X of a rate pathway with Gaussian failures, formed from its two sums (mean factor
#: m and variance factor v of the Bernoulli sum from p and the scaling, run-time values).
MOMENT_EQUATIONS = """
{x}_sum : {unit}  # sum of the terms of {x} (Gaussian failures)
{x}_sq : {squared}  # sum of the squares of the terms of {x}
"""
MOMENT_CODE = """
{x} = {clip_open}(release_scaled + (1 - release_scaled)*release_p_{kind})*{x}_sum + sqrt((1 - release_p_{kind})*(release_scaled/release_p_{kind} + (1 - release_scaled)*release_p_{kind})*{x}_sq)*normal_hash({key}, {stream}, {step}, i){clip_close}
"""


def _gated_on_pre(on_pre, gate):
    """``on_pre`` code whose increments (``x += ...``) are transmitted only when ``gate`` is 1."""
    out = []
    for line in on_pre.split("\n"):
        code, hash_, comment = line.partition("#")
        target, plus, expression = code.partition("+=")
        if plus:
            line = f"{target.strip()} += ({expression.strip()})*{gate}" + (f"  # {comment.strip()}" if hash_ else "")
        out.append(line)
    return "\n".join(out)


def _delay_line(equations, variables):
    """Equations and operations of the delay lines of ``variables`` ({name: steps}) of a population."""
    from .spec import Operation
    equations += "".join(f"{x}_d{m} : {_unit_of(equations, x)}  # {x} of {m} steps before (delay line)\n"
                         for x, depth in sorted(variables.items()) for m in range(1, depth + 1))
    shift = "".join(f"{x}_d{m} = {x}_d{m - 1}\n" for x, depth in sorted(variables.items())
                    for m in range(depth, 1, -1))
    shift += "".join(f"{x}_d1 = {x}\n" for x in sorted(variables))
    clear = "".join(f"{x}_d{m} = 0*{x}_d{m}\n" for x, depth in sorted(variables.items()) for m in range(1, depth + 1))
    return equations, [Operation(shift, when=SHIFT_SLOT[0], order=SHIFT_SLOT[1]),
                       Operation(clear, at="onset", when="start", order=7)]


#: What a presynaptic neuron of rate pathways with failures keeps for its synapses' decisions:
#: a seed per step, and per kind of its failing pathways (``{kind}``) p and the transmitted value.
SEED_EQUATIONS = """
bio_seed : integer      # random seed of this step's release decisions of the neuron's synapses
"""
KIND_EQUATIONS = """
bio_threshold_{kind} : integer  # release probability p of its {kind} pathways as a threshold p 2**24 of 24 random bits
bio_transmit_{kind} : 1        # value of a transmitted contribution of its {kind} pathways: 1/p (scaled) or 1
"""
#: Every step, before the step's inputs are summed.
SEED_CODE = """
bio_seed = int(release_seed(bio_key_of_sample(t), {stream}, t_in_timesteps % steps_per_sample, i))
"""
KIND_CODE = """
bio_threshold_{kind} = int(release_p_{kind}*16777216)
bio_transmit_{kind} = 1 + release_scaled*(16777216.0/bio_threshold_{kind} - 1)
"""


# ---- the spec --------------------------------------------------------------------------------
def apply(spec, params):
    """``spec`` with the options of ``params`` built in (``spec`` itself when every option is off).

    Parameters
    ----------
    spec : NetworkSpec
        A variant's network.
    params : Params

    Returns
    -------
    NetworkSpec
    """
    if not active(params):
        return spec
    from .spec import Operation
    sigma = {"soma": value(params, "noise_soma"), "dendrite": value(params, "noise_dendrite")}
    p_release = {kind: release_p(params, kind) for kind in KINDS}
    gaussian = value(params, "release_noise") == "gaussian"
    normal_hash, release_gate, seed_function, row_gate = _functions()
    namespace = dict(spec.namespace, normal_hash=normal_hash, release_gate=release_gate,
                     release_seed=seed_function, release_row_gate=row_gate,
                     sigma_soma=sigma["soma"], sigma_dendrite=sigma["dendrite"],
                     **{f"release_p_{kind}": float(p) for kind, p in p_release.items()},
                     release_scaled=1.0 if params.release_scale else 0.0)
    populations = {pop.name: pop for pop in spec.populations}

    # membrane noise
    for name, compartments in spec.compartments.items():
        pop = populations[name]
        equations = pop.equations
        for kind, entries in compartments.items():
            if float(sigma[kind]) <= 0:
                continue
            for variable, retention in entries:
                noise = f"normal_hash({_KEY}, {stream('noise', name, variable)}, {_STEP}, i)"
                if retention is None:  # a compartment without a time constant: white noise of SD sigma
                    term = f" + sigma_{kind}*{noise}"
                else:
                    size = f"sqrt(1 - ({retention})**2)"
                    if pop.method == "exponential_euler":
                        size += f"*(-log({retention}))/(1 - ({retention}))"
                    term = f" + sigma_{kind}*{size}*{noise}/dt"
                equations = _add_term(equations, variable, term)
        populations[name] = dataclasses.replace(pop, equations=equations)

    # failures and delays
    pathways, delays, lines, seeded = [], {}, {}, {}
    for pathway in spec.pathways:
        kind = pathway_kind(pathway.name)
        if kind is None:
            pathways.append(pathway)
            continue
        gate = None
        fails = p_release[kind] < 1
        if fails:
            gate = (f"release_gate(int({_KEY}), {stream('release', pathway.name)}, {_STEP}, i, j, "
                    f"int(release_p_{kind}*16777216), int(release_scaled))")
        steps = delay_steps(params, kind)
        changes = {}
        if pathway.on_pre:  # spikes: Bernoulli per spike and synapse, Brian2's delay
            if steps:
                delays[pathway.name] = steps * params.dt
            # a spike still in flight at the end of a sample arrives in the first d/dt steps of the
            # next one, where no spike of that sample can have arrived yet: it is dropped
            spike_gate = " * ".join(filter(None, [gate, f"int({_STEP} >= {steps})" if steps else None]))
            if spike_gate:
                changes["on_pre"] = _gated_on_pre(pathway.on_pre, spike_gate)
        if "(summed)" in pathway.model:  # rates: Bernoulli per step and synapse, a delay line
            per_sample = populations[pathway.post].per_sample
            needed = set()
            row_gate = None
            if fails and gaussian:
                changes["model"], targets = _moment_summed(pathway.model, 0 if per_sample else steps, needed)
                post = populations[pathway.post]
                code = "".join(MOMENT_CODE.format(
                    x=x, kind=kind, key=_KEY, stream=stream("release", pathway.name, x),
                    step=0 if per_sample else _STEP,  # once per sample where the input is summed once
                    clip_open="clip(" if unit == "siemens" else "",
                    clip_close=f", 0*siemens, inf*siemens)" if unit == "siemens" else "") for x, unit in targets)
                populations[pathway.post] = dataclasses.replace(
                    post, equations=post.equations + "".join(
                        MOMENT_EQUATIONS.format(x=x, unit=unit, squared=_squared(unit)) for x, unit in targets),
                    operations=post.operations + [Operation(code, when=pathway.summed[0],
                                                            order=pathway.summed[1] + 0.5)])
            elif fails:
                row_gate = (f"release_row_gate(bio_seed_pre, {stream('release', pathway.name)}, j, "
                            f"bio_threshold_{kind}_pre, bio_transmit_{kind}_pre)")
                seeded.setdefault(pathway.pre, set()).add(kind)
            if "model" not in changes:
                changes["model"] = _gated_summed(pathway.model, row_gate, 0 if per_sample else steps, needed)
            for variable in needed:
                depth = lines.setdefault(pathway.pre, {})
                depth[variable] = max(depth.get(variable, 0), steps)
        pathways.append(dataclasses.replace(pathway, **changes))
    for name, variables in lines.items():
        pop = populations[name]
        equations, operations = _delay_line(pop.equations, variables)
        populations[name] = dataclasses.replace(pop, equations=equations, operations=pop.operations + operations)

    for name, kinds in sorted(seeded.items()):  # presynaptic populations of rate pathways with failures
        pop = populations[name]
        code = SEED_CODE.format(stream=stream("seed", name)) + "".join(KIND_CODE.format(kind=k) for k in sorted(kinds))
        populations[name] = dataclasses.replace(
            pop, equations=pop.equations + SEED_EQUATIONS + "".join(KIND_EQUATIONS.format(kind=k) for k in sorted(kinds)),
            operations=pop.operations + [Operation(code, when="start", order=-1)])

    base_values = spec.plan_values
    drawn = bool(failing(params)) or any(float(sigma[kind]) > 0 for kind in sigma)  # delays alone draw nothing

    def plan_values(plan):
        out = dict(base_values(plan)) if base_values else {}
        out["timed"] = dict(out.get("timed", {}), bio_key_of_sample=sample_keys(params, plan))
        return out

    return dataclasses.replace(spec, populations=[populations[pop.name] for pop in spec.populations],
                               pathways=pathways, namespace=namespace,
                               plan_values=plan_values if drawn else base_values, delays=delays)

