"""Equilibrium propagation (EP): the learning rule CorInfoMax is compared with, as Brian2 equations.

Scellier & Bengio (2017), as the CorInfoMax authors' comparison code runs it: point neurons, one
population per layer k = 1..L with hard-sigmoid states, and one weight matrix W_k per layer pair
used in both directions (weight transport), with biases b_k. The neurons descend the energy

    Φ = ½ Σ_k ‖s_k‖² − Σ_k s_kᵀ (W_k s_{k−1} + b_k) + β ‖s_L − y‖²,

s_k ← σ(s_k − η ∂Φ/∂s_k): a leaky neuron whose input is W_k s_{k−1} + b_k + W_{k+1}ᵀ s_{k+1}
(plus 2β (y − s_L) at the output), its state clipped to [0, 1] after every Euler step. A sample
runs a free phase from s = 0 (β = 0, ``n_free`` steps) and a nudged phase that continues from it
(β = ±β₀, sign drawn per sample, ``n_nudged`` steps); then, once,

    ΔW_k = (η_k/β)(s_k^n s_{k−1}^nᵀ − s_k^f s_{k−1}^fᵀ),   Δb_k = (η_k/β)(s_k^n − s_k^f).

One Synapses object per layer pair (``W_k``, layer_{k−1} → layer_k) holds W_k and carries it both
ways: a summed variable onto its postsynaptic group (W_k s_{k−1}) and one onto its presynaptic
group (W_kᵀ s_k). W_1's input is constant within a sample and summed once per sample into the
relay ``drive_1``. The biases are the synapses ``bias_k`` of a tonic unit of rate 1 (population
``bias``) onto layer k. The plasticity runs in the synapses at the next sample's onset, as in the
CorInfoMax networks (``models/antisparse.py``), from the free states stored at the end of the
free phase and the nudged states then present.

======================  =============================  ======  ===========================================
paper                   Brian2                         unit    meaning
======================  =============================  ======  ===========================================
s_k                     ``layer_k.s``                  1       state (= rate) of layer k, in [0, 1]
s_0 = x                 ``inp.s``                      1       input
W_k s_{k−1}             ``I_ff``                       1       input from below (summed, W_k)
W_{k+1}ᵀ s_{k+1}        ``I_fb``                       1       input from above (summed onto pre, W_{k+1})
b_k                     ``I_b``                        1       bias (summed, bias_k)
2β (y − s_L)            ``I_teacher``                  1       teacher input of the output layer
W_k                     ``W_k.w``                      1       the symmetric weights of layer pair k
b_k                     ``bias_k.w``                   1       biases
η = dt/τ                ``eta0 = dt / tau_step``       1       neural step
η_k                     ``W_k.eta``, ``bias_k.eta`` 1          per-sample learning rates
s^f                     ``s_free``                     1       state at the end of the free phase
======================  =============================  ======  ===========================================

Weights files hold ``W{k}`` (n_k × n_{k−1}) and ``b{k}`` (n_k,) and ``rule = "ep"``; the
initialisation is the authors': W_k Xavier-uniform, b_k = 0. The dense oracle is
:func:`corinfo_sim.dense.ep_train_sample`.
"""
import numpy as np

from corinfo_sim import dense
from corinfo_sim.spec import (COMMON, NetworkSpec, Operation, Parameter, Pathway, Population, Variant, fit_rates,
                              online, with_defaults)
from corinfo_sim.weights import WeightScheme, layered_init, layered_shapes

from . import antisparse

# ---- neurons -------------------------------------------------------------------------------------
#: A hidden layer: leaky integration of the three inputs, the state clipped after each step (RATE).
HIDDEN = antisparse.STEP + """
ds/dt = (-s + I_in)/tau_step : 1  # state s_k, dt/tau = eta
I_in = I_ff + I_fb + I_b : 1     # total input W_k s_{k-1} + W_{k+1}^T s_{k+1} + b_k
I_ff : 1 {linked}                # summed input of W_k from below
I_fb : 1                         # summed input of W_{k+1} from above (onto its presynaptic group)
I_b : 1                          # summed input of bias_k
s_free : 1                       # state at the end of the free phase
tau_step = dt/eta0 : second      # time constant of the Euler step
"""
#: The output layer: no layer above; the teacher pulls s_L towards y in the nudged phase.
OUTPUT = antisparse.STEP + """
ds/dt = (-s + I_in + I_teacher)/tau_step : 1  # state s_L
I_in = I_ff + I_b : 1            # total input W_L s_{L-1} + b_L
I_teacher = 2*beta*(y - s) : 1   # teacher input, -dPhi/ds_L of the cost term
beta = beta_of_sample(t)*int(step >= n_free) : 1  # nudging strength, 0 in the free phase
y = int(label_of_sample(t) == i) : 1  # one-hot label of the current sample
I_ff : 1                         # summed input of W_L from below
I_b : 1                          # summed input of bias_L
s_free : 1                       # state at the end of the free phase
tau_step = dt/eta0 : second      # time constant of the Euler step
"""
#: σ: the state stays in [0, 1] (after every Euler step).
RATE = "s = clip(s, 0, 1)"
#: Sample onset: every state starts at 0, so every recurrent input is 0.
ONSET = """
s = 0
I_fb = 0
"""
#: End of the free phase.
FREE_STORE = "s_free = s\n"

#: Input s_0 = x, loaded at sample onset.
INPUT = """
s : 1                   # pixel intensity of the current sample
s_free = s : 1          # the same in both phases
"""
INPUT_LOAD = "s = images(image_of_sample(t)*row_period, i)"
#: Relay of layer 1's input from below, updated once per sample.
DRIVE = """
I_ff : 1                # summed input of W_1: W_1 x
s : 1 (linked)          # state of the layer-1 neuron it belongs to
s_free : 1 (linked)     # its free state
"""
#: The tonic unit whose synapses hold the biases.
BIAS = "s = 1 : 1  # rate of the bias unit (its synapses carry w times 1)\n"

# ---- synapses ------------------------------------------------------------------------------------
#: W_k between layer_{k-1} (pre) and layer_k (post), used both ways.
W_MODEL = """
w : 1                   # W_k[post, pre]
eta : 1 (shared, constant)  # per-sample learning rate eta_k
I_ff_post = w*s_pre : 1 (summed)  # W_k s_{k-1}
"""
W_BACKWARD = "I_fb_pre = w*s_post : 1 (summed)  # W_k^T s_k onto the layer below\n"
#: ΔW_k = (η_k/β)(s_post^n s_pre^n − s_post^f s_pre^f), once per sample.
W_PLASTICITY = """
w += learn_at_onset(t)*eta/beta_at_onset(t)*(s_post*s_pre - s_free_post*s_free_pre)
"""
#: bias → layer_k, weights b_k.
BIAS_MODEL = """
w : 1                   # b_k[post]
eta : 1 (shared, constant)  # per-sample learning rate eta_k
I_b_post = w : 1 (summed)  # b_k times the bias unit's rate, 1
"""
#: Δb_k = (η_k/β)(s_post^n − s_post^f).
BIAS_PLASTICITY = """
w += learn_at_onset(t)*eta/beta_at_onset(t)*(s_post - s_free_post)
"""


def network(p):
    """Equilibrium propagation of parameters ``p`` as a :class:`~corinfo_sim.spec.NetworkSpec`.

    Within a step every summed input is computed from the states at its start, then every layer
    takes its Euler step, then its state is clipped: all layers from the previous step's states,
    as the authors' code updates them.
    """
    L = p.n_layers
    populations = [Population("inp", p.arch[0], INPUT, operations=[Operation(INPUT_LOAD, at="onset", order=8)]),
                   Population("bias", 1, BIAS)]
    pathways = []
    for k in range(1, L + 1):
        out, first = k == L, k == 1
        eqs = OUTPUT if out else HIDDEN.replace("{linked}", "(linked)" if first else "")
        onset = ONSET if not out else "s = 0\n"
        if not first:
            onset += "I_ff = 0\n"
        populations.append(Population(
            f"layer_{k}", p.arch[k], eqs, layer=k,
            events={"free_end": ("step == n_free", "start", 2)},
            operations=[Operation(FREE_STORE, at="free_end", when="start", order=3),
                        Operation(onset, at="onset", order=7),
                        Operation(RATE, when="after_groups", order=0)]))
        pre = "inp" if first else f"layer_{k - 1}"
        pathways.append(Pathway(f"W_{k}", pre, "drive_1" if first else f"layer_{k}",
                                W_MODEL + ("" if first else W_BACKWARD), plasticity=W_PLASTICITY,
                                summed=("start", 9) if first else ("start", 0), weight=(f"W{k}", "all"),
                                learning_rate=("lr", k - 1)))
        # after the onset's plasticity (order 4): the new biases act from the first step
        pathways.append(Pathway(f"bias_{k}", "bias", f"layer_{k}", BIAS_MODEL, plasticity=BIAS_PLASTICITY,
                                summed=("start", 9), weight=(f"b{k}", "all"), learning_rate=("lr", k - 1)))
    populations.append(Population("drive_1", p.arch[1], DRIVE, per_sample=True,
                                  linked={"s": ("layer_1", "s"), "s_free": ("layer_1", "s_free")}))
    populations[2].linked["I_ff"] = ("drive_1", "I_ff")
    return NetworkSpec(populations, pathways, namespace=dict(eta0=p.eta), rate_variables=("s_free", "s"),
                       trace_variables={"rate": "s", "state": "s", "input": "I_in"},
                       output_trace_variables={"teacher": "I_teacher"})


def timing(p):
    """Steps of a sample: free, then nudged; τ = dt/η."""
    return {"free_steps": p.n_free, "steps_per_sample": p.n_free + p.n_nudged, "window_steps": 1,
            "tau": p.dt / p.eta}


def oracle(p):
    """The dense numpy model of the same network (:func:`corinfo_sim.dense.ep_train_sample`)."""
    return dense.EPParams(eta=p.eta, n_free=p.n_free, n_nudged=p.n_nudged)


def free_rates(weights, X, p, dtype=np.float64):
    """The batched free phase of the evaluation (:func:`corinfo_sim.dense.ep_free_rates`)."""
    return dense.ep_free_rates(weights, X, oracle(p), dtype=dtype)


# ---- weights -------------------------------------------------------------------------------------
#: W_k Xavier-uniform, b_k = 0: the authors' initialisation.
WEIGHTS = WeightScheme("ep", layered_shapes, layered_init, "equilibrium propagation")

# ---- parameters ----------------------------------------------------------------------------------
#: The common parameters that apply: EP has no ε, λ, g_L (no compartments, no lateral weights).
SHARED = ("arch", "beta", "beta_sign", "lr_schedule", "seed", "shuffle", "dt", "precision")


def _check_rates(rates):
    return None if all(v > 0 for v in rates) else f"rates must be positive, got {list(rates)}"


def _steps(v):
    return None if v >= 1 else f"must be a positive whole number of steps, got {v}"


PARAMETERS = with_defaults(tuple(q for q in COMMON if q.name in SHARED), lr_schedule=((0, 1.0),)) + (
    Parameter("lr", lambda v: fit_rates(online((0.07, 0.03)), len(v["arch"]) - 1),
              "per-sample learning rates η_k of W_k and b_k, one per layer k = 1..L (default the authors' "
              "Fashion-MNIST rates / 20: 0.0035 for layer 1, 0.0015 for the others)", kind="floats",
              check=_check_rates, label="--lr", learning=True, runtime=True),
    Parameter("eta", 0.5, "neural step η = dt/τ of s_k ← σ(s_k − η ∂Φ/∂s_k), in (0, 1] (the authors' training "
              "dynamics: 0.5)", check=lambda v: None if 0 < v <= 1 else f"must lie in (0, 1], got {v:g}: e.g. --eta 0.5",
              label="the neural step eta", runtime=True),
    Parameter("n_free", 20, "steps of the free phase (T1)", kind="int", check=_steps),
    Parameter("n_nudged", 4, "steps of the nudged phase (T2)", kind="int", check=_steps),
)

#: Settings per data set. Fashion-MNIST and MNIST: the authors' EP runs (784-500-10, batch 20,
#: rates 0.07, 0.03, T1 = 20, T2 = 4, β = ±1, no rate decay; their training dynamics run with
#: η = 0.5) translated to online learning: rates / 20. Digits (not in the paper): rates chosen
#: on digits with the dense oracle (20 epochs, seed 0), with the project's decay 0.95 per epoch.
DATASET_DEFAULTS = {
    "digits": dict(arch=(64, 100, 10), lr=(0.1, 0.05), lr_schedule=((0, 0.95),)),
    "fashion-mnist": dict(arch=(784, 500, 10), lr=online((0.07, 0.03)), precision="float32"),
    "mnist": dict(arch=(784, 500, 10), lr=online((0.07, 0.03)), precision="float32"),
    "cifar10": dict(arch=(3072, 1000, 10), lr=online((0.07, 0.03)), precision="float32"),
}


VARIANT = Variant(
    name="ep",
    summary="equilibrium propagation (Scellier & Bengio 2017): point neurons, symmetric weights W_k used "
            "both ways, biases, free and nudged phase",
    parameters=PARAMETERS,
    timing=timing,
    network=network,
    oracle=oracle,
    dataset_defaults=DATASET_DEFAULTS,
    exact_oracle=True,
    weights=WEIGHTS,
    free_rates=free_rates,
)
