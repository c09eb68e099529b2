"""Spiking CorInfoMax: the antisparse network with spiking pyramidal neurons.

The network, its fixed point and its learning rule are those of the rate model
(:mod:`corinfo_sim.models.antisparse`, ``docs/model.md``); what changes is how pyramidal neurons talk
to each other and how the plasticity estimates its rates:

- the **soma** integrates its basal and apical potentials as in the rate model (same
  conductances g_B, g_A and leak g_L), with a membrane time constant τ_soma in milliseconds,
  and **emits spikes** at the rate ν = ν_max · σ(u), σ(u) = clip(u, 0, 1). The default spike
  generator is a deterministic integrate-and-fire encoder: a phase φ with dφ/dt = ν, a spike
  and φ ← φ − 1 when φ ≥ 1. Its starting phase φ₀ is drawn once per sample and neuron and
  reused in both phases (see *Encoder phases* below), so that the encoding noise is nearly the
  same in the free and the nudged window and largely cancels in their contrast. A Poisson
  generator (``u < ν·dt`` with u uniform in [0, 1), drawn per step and neuron) is the option,
  and ``poisson_paired`` a Poisson generator whose uniform numbers are the same at the same step
  of both windows (common random numbers: irregular spikes, interspike-interval CV ≥ 0.8, whose
  noise cancels in part as the deterministic encoder's does);
- every **pathway between pyramidal neurons carries spikes** into an exponentially decaying
  synaptic trace (time constant τ_s) of the target compartment: each spike adds
  ``w/(ν_max τ_s)`` (times V₀), so the trace's mean is ``W r`` exactly — the decay is a forward
  Euler step, s ← s (1 − dt/τ_s), and a spike is felt from the next step on, so one spike adds
  ``w/(ν_max τ_s) · τ_s/dt = w/(ν_max dt)`` to the sum over steps, and ν_max r dt spikes arrive
  per step on average. The input pixels spike through the same generator at ν_input·x;
- the **basal dendrite** is the trace of the feedforward pathway, the **apical dendrite** of a
  hidden layer the trace of the feedback pathway plus the lateral term; the **teacher** enters
  the output's apical dendrite as a current −β(r − y), as in the rate model;
- the **interneurons** stay graded: z_i = B_ii r_i + Σ_{j≠i} B_ij s_j. The off-diagonal
  lateral input travels by spikes (trace s_j of pyramidal neuron j), event-driven, so a
  pyramidal spike costs n_k additions instead of the rate model's n_k² per step; the diagonal
  term B_ii r_i of a neuron's own loop stays continuous (carried by spikes, a neuron would
  excite itself within τ_s after each of its own spikes).

**Phases and averages.** A sample lasts ``t_free + t_nudged``. Each phase settles, then averages
over its last ``t_window``. Every spiking unit also keeps its own spike trace x (the same kernel
as the synaptic traces: x ← x (1 − dt/τ_s), + 1/(ν_max τ_s) per spike), the presynaptic trace a
synapse sees. In each window a pyramidal neuron sums its rate σ(u), its basal error r − v_B/V₀,
its apical error r − W_fb s/V₀ (hidden layers), its interneuron's z and its trace x; the free
averages are stored at the end of the free phase, the nudged ones are read at the end of the
sample. Plasticity, once per sample, from these window averages (products of averages):

- ΔW_ff,k = (η_ff,k/β) (ē^n x̄_{k−1}^nᵀ − ē^f x̄_{k−1}^fᵀ), with ē the window average of
  r − v_B/V₀ (the postsynaptic error, v_B the basal spike trace) and x̄ the window average of the
  presynaptic trace. Because the basal trace is exactly W_ff,k x_{k−1} at every step,
  ē = r̄ − W_ff,k x̄_{k−1}: the update is the rate rule evaluated at the window-averaged rates,
  with no mismatch between the presynaptic estimate and the dendritic prediction;
- ΔW_fb,k likewise with the apical error and the traces of layer k+1;
- B_k ← (B_k − γ z̄ z̄ᵀ)/λ with z̄ the window average of the interneurons' activity in the nudged
  window. Why z̄ and not B x̄^n: z̄ is what the interneuron (and, through the one-to-one
  connection, its pyramidal partner) holds, so the rule stays local, and it is an unbiased
  estimate of B r̄ because z is linear in the traces. It is the product of the phase averages,
  never the average of the product: the average of z zᵀ would add the spike-noise covariance
  and bias B.

**Encoder phases.** The contrast ē^n x̄^n − ē^f x̄^f is small beside each of its terms, so the
spike noise of the two windows must cancel as far as possible. Each unit's phase is set to its
φ₀ at the same time before both windows: the input units (constant rates) as early as both
phases allow (``min(t_free, t_nudged) − t_window`` before the windows), so that their spike
trains — and the traces they leave — are identical in both windows; the pyramidal neurons 2 τ_s
before the windows, once the traces they receive agree. The free phase starts from rest and
needs longer to settle (the input, hidden and output traces fill one after the other) than the
nudged phase, which starts from the free state: hence t_free > t_nudged.

**Time step.** Forward Euler with step dt. The rate model's neural step η = dt/τ sets its
discretisation, not its fixed point; this model shares the fixed point and the learning rule
with the rate model (``tests/test_spiking.py`` checks that the one-sample update converges to
the dense rate oracle's, at the rate the encoder promises, as ν_max·t_window grows), not the
time course.

======================  ===========================  ======  =======================================
paper                   Brian2                       unit    meaning
======================  ===========================  ======  =======================================
u_k                     ``v_soma / V0``              volt    somatic potential (pyr_k)
r_k = σ(u_k)            ``r``                        1       rate (firing intensity / ν_max)
ν = ν_max r             ``nu_max*r``                 Hz      firing rate
φ                       ``phi``                      1       phase of the deterministic encoder
φ₀                      ``phi0``                     1       its starting phase (per sample, neuron)
v_B,k (trace)           ``v_basal = basal_ff``       volt    basal potential, mean W_ff,k r_{k-1} V₀
v_A,k                   ``v_apical``                 volt    apical potential
W_fb,k r_{k+1} (trace)  ``apical_fb``                volt    feedback trace (hidden layers)
z_k                     ``z`` (inh_k), ``z_inh``     1       interneuron activity (and its copy)
B_ii r_i                ``z_self`` (inh_k)           1       graded diagonal term
Σ_{j≠i} B_ij s_j        ``z_spk`` (inh_k)            1       spike trace of the lateral input
−β (r_L − y)            ``v_teacher``                volt    teacher current at the output
W_ff,k, W_fb,k          ``ff_k.w``, ``fb_k.w``       1       weights (as in the rate model)
B_k, j ≠ i / j = i      ``pyr_to_inh_k.w``,          1       lateral weights: spiking (off-diagonal)
                        ``pyr_to_inh_diag_k.w``              and graded (diagonal) synapses
ν_max, τ_s, τ_soma      ``nu_max, tau_s, tau_soma``  Hz, s   maximal rate, trace and soma constants
ν_input                 ``nu_max`` (group ``inp``)   Hz      maximal rate of the input units
1/(ν_max τ_s)           ``spike_weight``             1       trace increment per spike per unit w
x_k                     ``x_out``                    1       the unit's own spike trace (mean r)
Σ_window x, r, e, z     ``acc_x, acc_r, ...``        1       window sums
x̄^f, r̄^f, ē^f            ``rate_free, r_free, ...``   1       free-window averages
r̄^n                     ``r_nudged``                 1       nudged-window average (at sample end)
======================  ===========================  ======  =======================================

The names in the strings below that are not model variables come from the namespace the
network builder (:mod:`corinfo_sim.spiking`) passes: V0, tau_soma, tau_s, nu_max, g_L, g_B,
g_A, epsilon, gamma, lam_B, gamma_B, n_free, steps_per_sample, n_window, free_window_start,
nudged_window_start, free_restart, nudged_restart, spike_weight, row_period, stream (the group's
number in the Poisson hash), the function uniform_hash, and the TimedArrays beta_of_sample,
label_of_sample, image_of_sample, images, phase_of_sample, noise_key_of_sample, learn_at_onset,
beta_at_onset.
"""
import zlib

import brian2
import numpy as np

from corinfo_sim.dense import DenseParams
from corinfo_sim.spec import COMMON, NetworkSpec, Operation, Parameter, Pathway, Population, Variant, is_deep, \
    on_command_line, with_defaults

NAME = "spiking"

#: Spike generators (``Params.encoder``).
ENCODERS = ("deterministic", "poisson", "poisson_paired")

#: Defaults of the spiking model's parameters, with their reasons (declared in :data:`PARAMETERS`).
#:
#: What sets them is the spike noise of one sample's update: the contrast of the two windows is
#: small, and online learning with the rate model's learning rates tolerates only a little noise
#: on it. Measured on digits (64-100-10, 20 epochs, deterministic encoder, the rate model's
#: learning rates, ``corinfo_sim.training.train``), the learning needs ν_max t_window ≈ 40 spikes
#: per window at the maximal rate: with 5 (200 Hz × 25 ms) the one-sample error of ΔW_ff,2 is
#: ≈ 8 times the update and the weights diverge in the first epoch; with 20 (400 Hz × 50 ms,
#: 800 Hz × 25 ms) the test accuracy reaches 90–95 % and the weights then diverge; with 40 it is
#: stable at 800 Hz × 50 ms (input units at 400 Hz: 96.4, 96.7, 98.1, 96.7 % after 20 epochs,
#: seeds 0-3) and at 400 Hz × 100 ms (96.1 %, seed 0), while 200 Hz × 200 ms reached 96 % and
#: diverged in epoch 12. With dt = 1 ms (800 Hz × 50 ms) it reached 96.4 % and ended at 95.3 %.
#: With two hidden layers (64-100-100-10) every setting tried collapsed within a few epochs until
#: the plasticity of clipped neurons was gated (``gate_clipped``, the default there; README,
#: "Two hidden layers"; ``protocols/spiking_update_error.py`` measures the bias of the average update).
DEFAULTS = {
    # 800 Hz: 40 spikes per 50 ms window at the maximal rate (mean rates are ≈ 0.2 ν_max, 160 Hz,
    # in trained hidden layers). Fewer spikes per window make online learning diverge (above).
    # dt = 0.5 ms keeps ν_max dt = 0.4 ≤ 1: at most one spike per step.
    "nu_max": 800 * brian2.Hz,
    # 4 ms: the middle of the 3–5 ms range of fast AMPA/GABA_A currents. The free phase settles
    # through a cascade of traces (input, hidden, output), ≈ 10 τ_s; 5 ms smoothed no better.
    "tau_s": 4 * brian2.ms,
    # 20 ms: the rate model's dt/η (1 ms/0.05). The soma's own relaxation time is
    # τ_soma/(g_L + g_B + g_A) ≈ 1.5 ms in hidden layers (2.2 ms at the output, β = 1); the
    # network's is set by the traces. A slower soma (60 ms) filtered the spike noise but did not
    # settle within the phase.
    "tau_soma": 20 * brian2.ms,
    # free 100 ms = 50 ms to settle from rest (the rates are within 1e-3 of the fixed point after
    # ≈ 50 ms; with 25 ms the free window still drifts and biases the update) + 50 ms window;
    # nudged 75 ms = 25 ms for the teacher to act (the nudged phase starts from the settled free
    # state) + the same 50 ms window.
    "t_free": 100 * brian2.ms,
    "t_nudged": 75 * brian2.ms,
    "t_window": 50 * brian2.ms,
    # deterministic: its rate error is ≤ 1/(ν_max t_window) per window and cancels in part
    # between the phases; Poisson's is ≈ 1/√(ν_max t_window r) and does not cancel.
    "encoder": "deterministic",
    # 400 Hz for the input units: their spike trains are the same in both windows, so their noise
    # cancels in the contrast and only perturbs the state both windows share; they are the largest
    # population (784 pixels on MNIST) and their spikes the main cost (784-500-10 on Fashion-MNIST
    # images, initial weights, Brian2's own synapse loops: 7.1 ms per sample with 200 Hz, 14.9 ms
    # with 800 Hz; the all-to-all code object of corinfo_sim.codegen cut all of these). Digits, 20
    # epochs: 400 Hz was stable for seeds 0-3 (96.4, 96.7, 98.1, 96.7 %); 200 Hz for seeds 0 and 1
    # (96.7, 96.4 %) but diverged in epoch 8 for seed 2; 100 Hz diverged in epoch 9 (seed 0).
    "nu_input": 400 * brian2.Hz,
}

#: The simulation step of the spiking model: 0.5 ms resolves τ_s = 4 ms (8 steps) and keeps
#: ν_max dt = 0.4, so the phase variable never has to emit two spikes in one step.
DEFAULT_DT = 0.5 * brian2.ms


# ---- pyramidal neuron, by compartment ---------------------------------------------------------
#: Soma: the rate model's somatic equation in milliseconds; the rate is updated after each step.
SOMA = """
dv_soma/dt = (-g_L*v_soma + g_B*(v_basal - v_soma) + g_A*(v_apical - v_soma)) / tau_soma : volt  # somatic potential u V0
r : 1                   # rate sigma(u) = clip(u, 0, 1) of the previous step (firing rate / nu_max)
"""

#: Time within the sample and the two averaging windows (shared by every spiking group).
CLOCK = """
step = t_in_timesteps % steps_per_sample : integer  # time step within the sample
in_window = (step >= free_window_start and step < n_free) or step >= nudged_window_start : boolean
"""

#: Deterministic encoder: the phase integrates the firing rate; a spike when it reaches 1.
ENCODER_DETERMINISTIC = """
dphi/dt = nu_max*{rate} : 1  # phase of the integrate-and-fire encoder
phase_offset : 1 (constant)  # per-neuron part of the starting phase, drawn per run
phi0 = phase_offset + phase_of_sample(t) - floor(phase_offset + phase_of_sample(t)) : 1  # starting phase
at_restart = step == free_restart or step == nudged_restart : boolean  # phase set to phi0
"""
#: Poisson: a uniform number per (sample, group, step, neuron) from a counter-based hash (see
#: corinfo_sim.spiking.uniform_hash), keyed per sample slot, so that every run of a plan (compiled or
#: runtime, resumed or not) draws the same spikes and every epoch's plan other ones.
#: ``poisson_paired``: the same, but the counter is the step relative to the start of the phase's
#: averaging window, so that both windows of a sample draw the same numbers at the same point of
#: the window (common random numbers): each window's spike train is Poisson (interspike-interval
#: CV ≈ 1), and where a unit's rate is the same in both windows so are its spikes, so that the
#: encoding noise cancels in the contrast as the deterministic encoder's reused phase makes it.
WINDOW_STEP = "(step - free_window_start*int(step < n_free) - nudged_window_start*int(step >= n_free))"
THRESHOLD = {"deterministic": "phi >= 1",
             "poisson": "uniform_hash(noise_key_of_sample(t), stream, t_in_timesteps, i) < nu_max*{rate}*dt",
             "poisson_paired": f"uniform_hash(noise_key_of_sample(t), stream, {WINDOW_STEP}, i) < nu_max*{{rate}}*dt"}
RESET = {"deterministic": "phi -= 1\nx_out += spike_weight", "poisson": "x_out += spike_weight",
         "poisson_paired": "x_out += spike_weight"}
#: Phase set to its starting value before each averaging window (in the per-step code).
PHASE_RESTART = "phi = phi0*int(at_restart) + phi*(1 - int(at_restart))\n"

#: Basal dendrite: the spike trace of the feedforward pathway.
BASAL = """
dbasal_ff/dt = -basal_ff/tau_s : volt  # spike trace of pathway ff_k, mean W_ff r_{k-1} V0
v_basal = basal_ff : volt  # basal potential
"""

#: Apical dendrite of a hidden layer: lateral term (graded) and the feedback spike trace.
APICAL_HIDDEN = """
dapical_fb/dt = -apical_fb/tau_s : volt  # spike trace of pathway fb_k, mean W_fb r_{k+1} V0
v_apical = epsilon*(2*gamma*z_inh + g_L*r)*V0 + apical_fb : volt  # apical potential
z_inh : 1 (linked)      # activity z of the paired interneuron (inh_k)
"""

#: Apical dendrite of the output layer: lateral term and the teacher current.
APICAL_OUTPUT = """
v_apical = (gamma*z_inh + g_L*r)*V0 + v_teacher : volt  # apical potential
v_teacher = -beta*(r - y)*V0 : volt   # teacher input, zero in the free phase
beta = beta_of_sample(t)*int(step >= n_free) : 1  # nudging strength (0 in the free phase)
y = int(label_of_sample(t) == i) : 1  # one-hot label of the current sample
z_inh : 1 (linked)      # activity z of the paired interneuron (inh_L)
"""

#: The unit's own spike trace, window sums and the free-window averages kept for the plasticity.
WINDOW_VARS = """
dx_out/dt = -x_out/tau_s : 1  # the neuron's own spike trace (presynaptic trace, mean r)
acc_x : 1               # window sum of x_out
rate_free : 1           # free-window average of x_out: the presynaptic rate estimate
acc_r : 1               # window sum of r
acc_e_ff : 1            # window sum of the basal error r - v_basal/V0
acc_z : 1               # window sum of z_inh
r_free : 1              # free-window average of r
e_ff_free : 1           # free-window average of the basal error
r_nudged = acc_r/n_window : 1  # nudged-window average of r (read at the end of the sample)
"""
WINDOW_VARS_HIDDEN = """
acc_e_fb : 1            # window sum of the apical error r - apical_fb/V0
e_fb_free : 1           # free-window average of the apical error
"""

#: Window sums, once per step (after the onset reset; with the phase restart, one code object).
ACCUMULATE = """
acc_x += x_out*int(in_window)
acc_r += r*int(in_window)
acc_e_ff += (r - v_basal/V0)*int(in_window)
acc_z += z_inh*int(in_window)
"""
ACCUMULATE_HIDDEN = "acc_e_fb += (r - apical_fb/V0)*int(in_window)\n"

#: End of the free phase: store the free averages, start the nudged window's sums from 0.
FREE_STORE = """
r_free = acc_r/n_window
e_ff_free = acc_e_ff/n_window
rate_free = acc_x/n_window
acc_x = 0
acc_r = 0
acc_e_ff = 0
acc_z = 0
"""
FREE_STORE_HIDDEN = """
e_fb_free = acc_e_fb/n_window
acc_e_fb = 0
"""

#: Rate of the new state (after every Euler step).
RATE_UPDATE = "r = clip(v_soma/V0, 0, 1)"

#: Sample onset: somata, rates, traces and window sums start from 0.
ONSET_RESET = """
v_soma = 0*volt
r = 0
basal_ff = 0*volt
x_out = 0
acc_x = 0
acc_r = 0
acc_e_ff = 0
acc_z = 0
"""
ONSET_RESET_HIDDEN = """
apical_fb = 0*volt
acc_e_fb = 0
"""
ONSET_PHASE = "phi = phi0\n"


# ---- input layer ------------------------------------------------------------------------------
#: Input layer r_0 = x: one spiking unit per pixel, firing at ν_input x (``nu_max`` in its namespace).
INPUT = """
x : 1                   # pixel intensity of the current sample (rate of layer 0)
dx_out/dt = -x_out/tau_s : 1  # the unit's own spike trace (presynaptic trace, mean x)
acc_x : 1               # window sum of x_out
rate_free : 1           # free-window average of x_out
"""
INPUT_LOAD = """
x = images(image_of_sample(t)*row_period, i)
x_out = 0
acc_x = 0
"""
INPUT_ACCUMULATE = "acc_x += x_out*int(in_window)"
INPUT_FREE_STORE = """
rate_free = acc_x/n_window
acc_x = 0
"""

# ---- interneuron ------------------------------------------------------------------------------
#: Interneuron of layer k: graded, z = B_ii r_i + sum_{j != i} B_ij s_j. Its partner, pyramidal
#: neuron i, reads z as ``z_inh`` (a linked variable: the one-to-one connection interneuron i →
#: apical dendrite i) and keeps the window sum of z, which the interneuron reads back as ``acc_z``.
INTERNEURON = """
z_spk : 1               # spike trace of the off-diagonal lateral input (decays with tau_s)
z_self : 1              # graded diagonal term B_ii r_i (summed over pyr_to_inh_diag_k)
z : 1                   # interneuron activity z_self + z_spk of the current step
acc_z : 1 (linked)      # window sum of z, kept by the partner pyramidal neuron
"""
#: Once per step, after the diagonal term is summed: the activity, then the trace's Euler decay
#: (the spikes of this step are added after it, as for the synaptic traces of the pyramidal cells).
INTERNEURON_STEP = """
z = z_self + z_spk
z_spk = z_spk*(1 - dt/tau_s)
"""
INTERNEURON_ONSET = """
z = 0
z_spk = 0
z_self = 0
"""

# ---- synapses, by pathway ------------------------------------------------------------------------
#: Feedforward pyramidal_{k-1} (or input) -> basal dendrite of pyramidal_k, weights W_ff,k.
FF_MODEL = """
w : 1                   # W_ff,k[post, pre]
eta : 1 (shared, constant)  # per-sample learning rate eta_ff,k
"""
FF_ON_PRE = "basal_ff_post += w*spike_weight*V0"  # one spike: w/(nu_max tau_s) into the basal trace
#: ΔW_ff = (η/β)(ē^n x̄_pre^n − ē^f x̄_pre^f), once per sample, from the window averages.
FF_PLASTICITY = """
w += learn_at_onset(t)*eta/beta_at_onset(t)*((acc_e_ff_post/n_window)*(acc_x_pre/n_window) - e_ff_free_post*rate_free_pre)
"""

#: Feedback pyramidal_{k+1} -> apical dendrite of pyramidal_k, weights W_fb,k.
FB_MODEL = FF_MODEL.replace("W_ff,k", "W_fb,k").replace("eta_ff,k", "eta_fb,k")
FB_ON_PRE = "apical_fb_post += w*spike_weight*V0"  # one spike into the apical feedback trace
#: ΔW_fb = (η/β)(ē^n x̄_pre^n − ē^f x̄_pre^f), e the apical error.
FB_PLASTICITY = """
w += learn_at_onset(t)*eta/beta_at_onset(t)*((acc_e_fb_post/n_window)*(acc_x_pre/n_window) - e_fb_free_post*rate_free_pre)
"""

#: ``gate_clipped``: no plasticity onto a neuron whose rate σ(u) sat at 0 (or at 1) through both
#: windows (its window averages equal and at the bound; ``models/antisparse.py``, ``GATE``).
GATE = "(1 - int(r_free_post == r_nudged_post)*int(r_nudged_post <= 0 or r_nudged_post >= 1))*"


def gated(plasticity, gate):
    """The plasticity code with the gate of clipped neurons (``gate``) or as it is."""
    return plasticity.replace("eta/beta_at_onset(t)*", "eta/beta_at_onset(t)*" + GATE) if gate else plasticity


#: Lateral pyramidal_k (j) -> interneuron_k (i), j != i, weights B_k[i, j]: by spikes.
LATERAL_MODEL = """
w : 1                   # B_k[post, pre]
"""
LATERAL_ON_PRE = "z_spk_post += w*spike_weight"
#: The diagonal B_k[i, i]: graded, pyramidal_k (i) -> interneuron_k (i).
LATERAL_DIAG_MODEL = """
w : 1                   # B_k[i, i]
z_self_post = w*r_pre : 1 (summed)  # B_ii r_i
"""
#: B ← (B − γ_B z̄ z̄ᵀ)/λ_B from the nudged window: z̄_i on the interneuron, z̄_j on its partner j
#: (λ_B, γ_B: the per-sample step of B, ``models/antisparse.py``).
LATERAL_PLASTICITY = """
w = learn_at_onset(t)*(w - gamma_B*(acc_z_post/n_window)*(acc_z_pre/n_window))/lam_B + (1 - learn_at_onset(t))*w
"""


def pyramidal_equations(output, encoder):
    """Equations of a spiking pyramidal neuron of a hidden (``output=False``) or the output layer."""
    eqs = SOMA + CLOCK + BASAL + (APICAL_OUTPUT if output else APICAL_HIDDEN) + WINDOW_VARS
    if not output:
        eqs += WINDOW_VARS_HIDDEN
    if encoder == "deterministic":
        eqs += ENCODER_DETERMINISTIC.format(rate="r")
    return eqs


def input_equations(encoder):
    """Equations of the spiking input layer."""
    eqs = INPUT + CLOCK
    if encoder == "deterministic":
        eqs += ENCODER_DETERMINISTIC.format(rate="x")
    return eqs


def threshold(encoder, rate):
    """Spike condition of the encoder, for the rate variable ``rate``."""
    return THRESHOLD[encoder].format(rate=rate)


# ---- counter-based noise for the Poisson encoder --------------------------------------------------
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


# ---- the network ------------------------------------------------------------------------------------
#: Pyramidal encoders restart this many trace time constants τ_s before each averaging window
#: (the input units as early as both phases allow).
RESTART_LEAD = 2


def phases(p, plan):
    """Per-slot shifts and per-neuron offsets of the encoders' starting phases, and the per-slot
    keys of the Poisson encoder's hash.

    Drawn from a generator seeded with the parameters' seed and the plan, so that a run (and a
    resumed run) of the same plan sees the same phases and spikes.
    """
    key = [p.seed]
    for values in (plan.image, plan.beta, plan.learn):
        key.append(zlib.crc32(np.ascontiguousarray(values).tobytes()))
    rng = np.random.default_rng(key)
    shift = rng.uniform(0, 1, size=plan.n_slots)
    offsets = [rng.uniform(0, 1, size=n) for n in p.arch]
    noise_key = rng.integers(0, 2 ** 52, size=plan.n_slots).astype(float)  # exact as a float
    return shift, offsets, noise_key


def input_population(p):
    """The spiking input layer ``inp``: one unit per pixel, firing at ν_input x through the encoder.

    Its rates are constant within a sample: restarted at the same time before both windows, the
    input's spike trains are the same in both windows and in the trace time before them. Its own
    spike trace (``x_out``, window sums ``acc_x``, free average ``rate_free``) is what the
    plasticity of the pathways it drives reads.
    """
    enc, n_free, n_window, steps = p.encoder, p.free_steps, p.window_steps, p.steps_per_sample
    settle = min(n_free, steps - n_free) - n_window
    restart = PHASE_RESTART if enc == "deterministic" else ""
    onset_phase = ONSET_PHASE if enc == "deterministic" else ""
    return Population(
        "inp", p.arch[0], input_equations(enc), threshold=threshold(enc, "x"), reset=RESET[enc],
        events={"free_end": ("step == n_free", "start", 2)},
        namespace=dict(free_restart=n_free - n_window - settle, nudged_restart=steps - n_window - settle,
                       nu_max=p.nu_input, spike_weight=float(1 / (p.nu_input * p.tau_s)), stream=0),
        operations=[Operation(INPUT_LOAD + onset_phase, at="onset", order=8),
                    Operation(INPUT_FREE_STORE, at="free_end", order=3),
                    Operation(restart + INPUT_ACCUMULATE, when="start", order=9)])


def encoder_values(p, plan, groups):
    """What the encoders of ``groups`` (the input first, then layer 1, 2, ...) need for a run of
    ``plan``: the per-slot phase shifts and per-neuron offsets of the deterministic encoder, or
    the per-slot keys of the Poisson encoders (see :func:`phases`)."""
    shift, offsets, noise_key = phases(p, plan)
    if p.encoder != "deterministic":
        return {"timed": {"noise_key_of_sample": noise_key}}
    return {"timed": {"phase_of_sample": shift},
            "variables": {(group, "phase_offset"): values for group, values in zip(groups, offsets)}}


def network(p):
    """The spiking network of parameters ``p`` as a :class:`~corinfo_sim.spec.NetworkSpec`.

    Schedule of one time step (``when``, ``order``); every quantity averaged or recorded at the
    start of step s is the state at that time, so the window sums, the traces and the rate
    recordings agree:

    =============  =====  ==========================================================================
    slot           order  operation
    =============  =====  ==========================================================================
    start          0      graded lateral term B_ii r_i from the rates r(t)
    start          1      interneuron activity z = B_ii r_i + lateral trace; the trace decays
    start          2, 3   at the end of the free phase: store the free-window averages, reset the sums
    start          4      at sample onset: plasticity of the previous sample (synapses)
    start          7      at sample onset: reset somata, rates, traces, sums; encoder phases to φ₀
    start          8      at sample onset: load the new input
    start          9      encoder phases to φ₀ before each window (same lead in both phases); window
                          sums (spike trace, rate, errors, z) of the state of step t
    groups         0      Euler step: somata, trace decay, encoder phases
    after_groups   0      rates r(t + dt) = σ(v(t + dt) / V0)
    thresholds     0      spikes (phase ≥ 1, or Poisson)
    synapses       0      spikes into the target traces (felt from the next step on)
    resets         0      phase −= 1, the unit's own spike trace += 1/(ν τ_s)
    =============  =====  ==========================================================================
    """
    L, enc = p.n_layers, p.encoder
    n_free, n_window, steps = p.free_steps, p.window_steps, p.steps_per_sample
    # encoder phases restart at φ₀ the same number of steps before both windows: the input
    # units (constant rates) as early as both phases allow, the pyramidal neurons 2 τ_s before
    settle = min(n_free, steps - n_free) - n_window
    lead = min(int(round(float(RESTART_LEAD * p.tau_s / p.dt))), settle)
    namespace = dict(V0=p.V0, tau_soma=p.tau_soma, tau_s=p.tau_s, g_L=p.g_leak, epsilon=p.epsilon, gamma=p.gamma,
                     lam_B=p.lam_update, gamma_B=p.gamma_update, n_window=n_window, free_window_start=n_free - n_window,
                     nudged_window_start=steps - n_window, uniform_hash=uniform_hash)
    free_end = {"free_end": ("step == n_free", "start", 2)}
    restart = PHASE_RESTART if enc == "deterministic" else ""
    onset_phase = ONSET_PHASE if enc == "deterministic" else ""
    weight_in, weight_pyr = float(1 / (p.nu_input * p.tau_s)), float(1 / (p.nu_max * p.tau_s))
    populations = [input_population(p)]
    pathways = []
    for k in range(1, L + 1):
        out = k == L
        populations.append(Population(
            f"pyr_{k}", p.arch[k], pyramidal_equations(out, enc), threshold=threshold(enc, "r"), reset=RESET[enc],
            namespace=dict(g_B=1 / p.epsilon, g_A=1.0 if out else 1 / p.epsilon, stream=k,
                           free_restart=n_free - n_window - lead, nudged_restart=steps - n_window - lead,
                           nu_max=p.nu_max, spike_weight=weight_pyr),
            events=free_end, linked={"z_inh": (f"inh_{k}", "z")}, layer=k,
            operations=[Operation(FREE_STORE + ("" if out else FREE_STORE_HIDDEN), at="free_end", order=3),
                        Operation(ONSET_RESET + ("" if out else ONSET_RESET_HIDDEN) + onset_phase, at="onset",
                                  order=7),
                        Operation(restart + ACCUMULATE + ("" if out else ACCUMULATE_HIDDEN), when="start", order=9),
                        Operation(RATE_UPDATE, when="after_groups", order=0)]))
        populations.append(Population(
            f"inh_{k}", p.arch[k], INTERNEURON, linked={"acc_z": (f"pyr_{k}", "acc_z")},
            operations=[Operation(INTERNEURON_STEP, when="start", order=1),
                        Operation(INTERNEURON_ONSET, at="onset", order=7)]))
        pre, spike_weight = ("inp", weight_in) if k == 1 else (f"pyr_{k - 1}", weight_pyr)
        pathways.append(Pathway(f"ff_{k}", pre, f"pyr_{k}", FF_MODEL, on_pre=FF_ON_PRE,
                                plasticity=gated(FF_PLASTICITY, p.gate_clipped),
                                weight=(f"Wff{k}", "all"), learning_rate=("lr_ff", k - 1),
                                namespace=dict(spike_weight=spike_weight)))
        if not out:
            pathways.append(Pathway(f"fb_{k}", f"pyr_{k + 1}", f"pyr_{k}", FB_MODEL, on_pre=FB_ON_PRE,
                                    plasticity=gated(FB_PLASTICITY, p.gate_clipped), weight=(f"Wfb{k}", "all"),
                                    learning_rate=("lr_fb", k - 1), namespace=dict(spike_weight=weight_pyr)))
        pathways.append(Pathway(f"pyr_to_inh_{k}", f"pyr_{k}", f"inh_{k}", LATERAL_MODEL, connectivity="all_but_self",
                                on_pre=LATERAL_ON_PRE, plasticity=LATERAL_PLASTICITY, weight=(f"B{k}", "offdiag"),
                                namespace=dict(spike_weight=weight_pyr)))
        pathways.append(Pathway(f"pyr_to_inh_diag_{k}", f"pyr_{k}", f"inh_{k}", LATERAL_DIAG_MODEL,
                                connectivity="diagonal", plasticity=LATERAL_PLASTICITY, summed=("start", 0),
                                weight=(f"B{k}", "diag")))

    def plan_values(plan):
        return encoder_values(p, plan, ["inp"] + [f"pyr_{k}" for k in range(1, L + 1)])

    return NetworkSpec(
        populations, pathways, namespace=namespace, rate_variables=("r_free", "r_nudged"),
        trace_variables={"v_soma": "v_soma", "v_basal": "v_basal", "v_apical": "v_apical", "rate": "r",
                         "z": "z_inh"},
        output_trace_variables={"teacher": "v_teacher"}, spikes=True, plan_values=plan_values,
        compartments={f"pyr_{k}": compartments(k == L) for k in range(1, L + 1)})


def compartments(output):
    """Where membrane noise enters (``corinfo_sim/biophysics.py``): the soma (Euler step, relaxing
    with τ_soma/(g_L + g_B + g_A)), the basal dendrite (its synaptic trace, τ_s) and the apical
    one (a hidden layer's feedback trace, τ_s; at the output a sum without a time constant of its
    own: white noise per step)."""
    trace = "1 - dt/tau_s"
    return {"soma": [("v_soma", "1 - dt*(g_L + g_B + g_A)/tau_soma")],
            "dendrite": [("basal_ff", trace), ("v_apical", None) if output else ("apical_fb", trace)]}


# ---- parameters -------------------------------------------------------------------------------------
def _quantity(name, unit, help_text, runtime=False):
    return Parameter(name, DEFAULTS[name], help_text, kind="quantity", unit=unit, runtime=runtime)


PARAMETERS = on_command_line(with_defaults(COMMON, dt=DEFAULT_DT), "dt") + (
    _quantity("nu_max", "Hz", "maximal firing rate ν_max of the pyramidal neurons", runtime=True),
    _quantity("nu_input", "Hz", "maximal firing rate of the input units (pixel x fires at ν_input x)", runtime=True),
    _quantity("tau_s", "ms", "synaptic trace time constant τ_s"),
    _quantity("tau_soma", "ms", "somatic time constant τ_soma", runtime=True),
    _quantity("t_free", "ms", "free phase length"),
    _quantity("t_nudged", "ms", "nudged phase length"),
    _quantity("t_window", "ms", "averaging window at the end of each phase"),
    Parameter("encoder", DEFAULTS["encoder"], "spike generator: integrate-and-fire phase (deterministic), "
              "Poisson, or Poisson with the same random numbers in both windows (poisson_paired)", kind="choice",
              choices=ENCODERS),
    Parameter("gate_clipped", is_deep, "no forward or feedback plasticity onto a neuron whose rate σ(u) sat at 0 "
              "(or 1) through both windows (default off; on with two or more hidden layers)", kind="bool"),
)


def timing(p):
    """Steps of a sample from the phase lengths; τ = τ_soma."""
    free = int(round(float(p.t_free / p.dt)))
    return {"free_steps": free, "steps_per_sample": free + int(round(float(p.t_nudged / p.dt))),
            "window_steps": int(round(float(p.t_window / p.dt))), "tau": p.tau_soma}


def validate(p):
    """Checks across the spiking parameters: whole steps, windows that fit, one spike per step at
    most, a stable Euler step of the soma."""
    dt = float(p.dt)
    for name in ("t_free", "t_nudged", "t_window"):
        steps = float(getattr(p, name)) / dt
        if abs(steps - round(steps)) > 1e-6 * max(steps, 1):
            return f"{name} = {getattr(p, name)} is not a whole number of steps dt = {p.dt}"
    if float(p.t_window) > min(float(p.t_free), float(p.t_nudged)):
        return (f"the averaging window t_window = {p.t_window} must fit into both phases "
                f"(t_free = {p.t_free}, t_nudged = {p.t_nudged})")
    for name in ("nu_max", "nu_input"):
        if float(getattr(p, name)) * dt > 1:
            return f"{name} * dt = {float(getattr(p, name)) * dt:.3g} exceeds 1 spike per step: lower {name} or dt"
    if float(p.tau_s) <= dt:
        return f"tau_s = {p.tau_s} must exceed the step dt = {p.dt}"
    # the fastest somatic relaxation (hidden layer, or the nudged output) must be a stable Euler step
    rate = max(p.g_leak + 2 / p.epsilon, p.g_leak + 1 / p.epsilon + 1 + p.beta)
    if dt * rate / float(p.tau_soma) >= 1:
        return (f"tau_soma = {p.tau_soma} is too short for dt = {p.dt}: it must exceed "
                f"{dt * rate * 1e3:.3g} ms (dt (g_L + 2/epsilon))")
    return None


def check_images(images):
    if images.size and (images.min() < 0 or images.max() > 1):
        return (f"the spiking model needs pixel intensities in [0, 1] (they are firing rates / nu_input), "
                f"got [{images.min():.3g}, {images.max():.3g}]: rescale the data set")
    return None


def notes(p):
    if p.n_layers > 2 and not p.gate_clipped:
        return ["note: without the gate of clipped neurons (--gate-clipped) spiking networks with more than one hidden "
                "layer collapsed at every setting tried (README, 'Spiking CorInfoMax')"]
    if p.n_layers > 3:
        return ["note: spiking networks were measured with one and two hidden layers only (README, 'Spiking "
                "CorInfoMax')"]
    return []


def oracle(p):
    """The rate network the spiking one approximates (its fixed point; :mod:`corinfo_sim.dense`)."""
    return DenseParams(epsilon=p.epsilon, lam=p.lam, lambda_batch=p.lambda_batch, g_leak=p.g_leak,
                       gate_clipped=p.gate_clipped)


def rate_settings_in_milliseconds():
    """The rate model's settings per data set, without its step counts and step schedule (the
    spiking model's phases are set in milliseconds) and its precision (float32 was measured on
    the rate model only); the learning rates carry over."""
    from .antisparse import DATASET_DEFAULTS as RATE_DEFAULTS
    rate_only = ("eta_schedule", "n_free", "n_nudged", "precision")
    return {name: {k: v for k, v in d.items() if k not in rate_only} for name, d in RATE_DEFAULTS.items()}


VARIANT = Variant(
    name=NAME,
    summary="spiking pyramidal neurons (deterministic or Poisson encoders), exponential synaptic traces, "
            "graded interneurons; plasticity from window averages",
    parameters=PARAMETERS,
    timing=timing,
    network=network,
    oracle=oracle,
    dataset_defaults=rate_settings_in_milliseconds(),
    validate=validate,
    check_images=check_images,
    notes=notes,
    exact_oracle=False,  # its oracle is the rate network it approximates
)
