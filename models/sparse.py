"""Sparse CorInfoMax: the paper's second network (the authors' ``ContrastiveCorInfoMaxHopfieldSparse``).

The antisparse network (``models/antisparse.py``) with two changes in every *sparse* layer k
(``sparse_layers``, by default all of them):

- the rate is ``r_k = ReLU(u_k)``: nonnegative and unbounded, instead of the hard sigmoid;
- one **global inhibitory interneuron** (population ``gi_k``, a NeuronGroup of one neuron) holds
  the Lagrange multiplier ``s_k ≥ 0`` of the constraint Σ_i r_k,i ≤ 1, with potential ``q_k``.
  It reads the layer's summed activity through synapses from every pyramidal neuron
  (``pyr_to_gi_k``) and inhibits every apical dendrite of the layer (``gi_to_pyr_k``):

  - hidden: v_A,k = ε (2γ z_k + g_L r_k − s_k) + W_fb,k r_{k+1}
  - output: v_A,L = γ z_L + g_L r_L − s_L − β (r_L − y)
  - every step, after the layer's rates of that step: q ← q + η_s,k (Σ_i r_k,i − 1 − q + s),
    s ← ReLU(q). While q ≥ 0 this integrates the excess activity; −q + ReLU(q) keeps s ≥ 0.
  - q = s = 0 at sample onset; every later phase continues from s, with q set to s.

Everything else — soma, couplings, interneurons, the plasticity of W_ff, W_fb and B, the
discretisation switches — is the antisparse network's.

======================  ===========================  ======  =======================================
paper                   Brian2                       unit    meaning
======================  ===========================  ======  =======================================
r_k = ReLU(u_k)         ``pyr_k.r``                  1       rate of a sparse layer
s_k                     ``gi_k.s``, ``pyr_k.s_inh``  1       Lagrange multiplier (global inhibition)
q_k                     ``gi_k.q``                   1       its potential, s = ReLU(q)
Σ_i r_k,i               ``gi_k.sum_r``               1       summed activity (pyr_to_gi_k)
η_s,k                   ``eta_s``                    1       step of the multiplier's dynamics
======================  ===========================  ======  =======================================

This module is also the worked example of adding a variant: it declares its parameters (the
rate network's plus ``sparse_layers`` and ``eta_s``), its settings per data set, and its network
— the antisparse spec with, per sparse layer, another rate code, the apical inhibition term and
two more populations' worth of pathways (:func:`sparse_layer`).
"""
from corinfo_sim.spec import COMMON, RATE, Operation, Parameter, Pathway, Population, Variant, online

from . import antisparse

#: Settings per data set: the authors' (batch 20, 50 epochs), translated to online learning as the
#: antisparse network's are (rates / 20, λ once per 20 samples); every layer sparse. The authors'
#: Fashion-MNIST and MNIST runs decay the rates by 0.95 per epoch, then 0.9 from epoch 15.
#: Digits (not in the paper): the antisparse digits settings. The image data sets run in float32, as
#: the antisparse network's do: on Fashion-MNIST (seed 0) it gave the float64 accuracies to within
#: 0.07 % (81.98 and 84.01 % after epochs 1 and 2, float64 81.93 and 83.94 %).
PAPER = antisparse.PAPER
DATASET_DEFAULTS = {
    "digits": dict(arch=(64, 100, 10), g_leak=0.5, lr_ff=(0.5, 0.35), lr_fb=(0.075,), eta_s=(1e-6, 0.01)),
    "fashion-mnist": dict(arch=(784, 500, 10), g_leak=0.2, eta=0.045, n_free=20, n_nudged=10, eta_schedule="free",
                          lr_ff=online((0.35, 0.23)), lr_fb=online((0.06,)), eta_s=(1e-6, 0.01),
                          lr_schedule=((0, 0.95), (15, 0.9)), **PAPER),
    "mnist": dict(arch=(784, 500, 10), g_leak=0.5, eta=0.05, n_free=20, n_nudged=4, eta_schedule="free",
                  lr_ff=online((1.0, 0.7)), lr_fb=online((0.15,)), eta_s=(1e-6, 0.01),
                  lr_schedule=((0, 0.95), (15, 0.9)), **PAPER),
    "cifar10": dict(arch=(3072, 1000, 10), g_leak=0.1, eta=0.025, n_free=30, n_nudged=10, eta_schedule="free",
                    lr_ff=online((0.09, 0.07)), lr_fb=online((0.045,)), eta_s=(1e-5, 0.01), **PAPER),
}

# ---- the global inhibitory interneuron -----------------------------------------------------------
#: One neuron per sparse layer.
GLOBAL_INHIBITORY = antisparse.STEP + """
q : 1                   # potential of the Lagrange multiplier
s : 1                   # Lagrange multiplier s = ReLU(q): inhibition of the layer's apical dendrites
sum_r : 1               # summed activity of the layer (pyr_to_gi_k)
"""
#: Every step, after the layer's new rates are summed.
MULTIPLIER_STEP = """
q += eta_s*(sum_r - 1 - q + s)
s = clip(q, 0, inf)
"""
MULTIPLIER_ONSET = """
q = 0
s = 0
"""
#: Every later phase continues from s.
MULTIPLIER_PHASE = "q = s\n"

#: Rate of a sparse layer: ReLU.
RATE_UPDATE = "r = clip(v_soma/V0, 0, inf)"
#: The apical inhibition term and its input variable on the pyramidal neurons.
INHIBITION = " - s_inh"
INHIBITION_INPUT = "s_inh : 1               # global inhibition s of the layer (gi_to_pyr_k)\n"

#: Pyramidal_k (every neuron) -> global interneuron k: the summed activity.
PYR_TO_GI_MODEL = """
sum_r_post = r_pre : 1 (summed)  # the layer's activity sum_i r_i
"""
#: Global interneuron k -> apical dendrite of every pyramidal neuron of layer k.
GI_TO_PYR_MODEL = """
s_inh_post = s_pre : 1 (summed)  # global inhibition of the apical dendrite
"""


def sparse_layer(k, p):
    """What a sparse layer k adds to the antisparse network (see :func:`antisparse.network`)."""
    if k not in p.sparse_layers:
        return None
    slot = antisparse.layer_schedule(p, k)
    events = antisparse.phase_events(p)
    gi = Population(
        f"gi_{k}", 1, GLOBAL_INHIBITORY, namespace=dict(eta_s=p.eta_s[k - 1]),
        events={name: (condition, "start", 2) for name, condition in events.items()},
        operations=[Operation(MULTIPLIER_ONSET, at="onset", order=7),
                    Operation(MULTIPLIER_STEP, when=slot["after_after_rate"][0], order=slot["after_after_rate"][1])]
        + [Operation(MULTIPLIER_PHASE, at=event, order=3) for event in events],
        traced={"s": "s", "q": "q"}, trace_layer=k)
    pathways = [Pathway(f"pyr_to_gi_{k}", f"pyr_{k}", f"gi_{k}", PYR_TO_GI_MODEL, summed=slot["after_rate"]),
                Pathway(f"gi_to_pyr_{k}", f"gi_{k}", f"pyr_{k}", GI_TO_PYR_MODEL, summed=("start", 1))]
    return {"rate": RATE_UPDATE, "inhibition": INHIBITION, "equations": INHIBITION_INPUT,
            "onset_zero": {"s_inh": "1"}, "populations": [gi], "pathways": pathways}


def network(p):
    """The sparse network: the antisparse spec with :func:`sparse_layer` in every sparse layer."""
    return antisparse.network(p, sparse=sparse_layer)


def _check_layers(layers):
    return None if all(isinstance(k, int) and k >= 1 for k in layers) else \
        f"must be layer numbers 1..L, got {list(layers)}"


def _check_eta_s(values):
    return None if all(0 <= v <= 1 for v in values) else f"must lie in [0, 1], got {list(values)}"


PARAMETERS = COMMON + RATE + (
    Parameter("sparse_layers", lambda v: tuple(range(1, len(v["arch"]))), "layers k = 1..L with ReLU rates and a "
              "global inhibitory interneuron (default: all)", kind="ints", check=_check_layers, runtime=False),
    Parameter("eta_s", lambda v: (1e-6,) * (len(v["arch"]) - 2) + (0.01,), "steps η_s,k of the multipliers' "
              "dynamics, one per layer k = 1..L (default 1e-6 in hidden layers, 0.01 at the output)",
              kind="floats", check=_check_eta_s, runtime=True),
)


def validate(p):
    if any(k > p.n_layers for k in p.sparse_layers):
        return f"sparse_layers {list(p.sparse_layers)} name layers beyond L = {p.n_layers}"
    if len(p.eta_s) != p.n_layers:
        return f"eta_s needs {p.n_layers} values (one per layer k = 1..{p.n_layers}), got {len(p.eta_s)}"
    return None


VARIANT = Variant(
    name="sparse",
    summary="the paper's sparse network: ReLU rates and a global inhibitory interneuron per layer "
            "(Lagrange multiplier of Σ r ≤ 1)",
    parameters=PARAMETERS,
    timing=antisparse.timing,
    network=network,
    oracle=antisparse.oracle,
    dataset_defaults=DATASET_DEFAULTS,
    validate=validate,
    exact_oracle=True,
)
