"""Antisparse CorInfoMax: the paper's main rate network as Brian2 equations.

Bozkurt, Pehlevan & Erdogan (NeurIPS 2023), section 4 and DESIGN §2. Every layer k = 1..L
is a population of three-compartment pyramidal neurons (soma, basal dendrite, apical
dendrite) paired one-to-one with a population of linear interneurons:

- the **basal dendrite** carries the feedforward prediction ``W_ff,k r_{k-1}``;
- the **apical dendrite** carries the feedback prediction ``W_fb,k r_{k+1}`` plus the
  lateral term from the paired interneuron (and, at the output, the teacher);
- the **soma** integrates both through the coupling conductances g_B = 1/ε and
  g_A = 1/ε (hidden) or 1 (output), with leak g_L;
- the **interneurons** of layer k compute ``z_k = B_k r_k``; their input synapses hold
  B_k and learn it with the anti-Hebbian rule ``B ← (B − γ z zᵀ)/λ``; each interneuron
  projects back onto the apical dendrite of its own pyramidal neuron.

Potentials are in volts with the scale V₀ (``u = v_soma / V₀`` is the paper's dimensionless
somatic potential), time in ms with the Euler step ``dt`` and ``dt/τ = η``. Conductances are
dimensionless (in units of 1/τ), as in the paper.

======================  ==========================  ======  ======================================
paper                   Brian2                      unit    meaning
======================  ==========================  ======  ======================================
u_k                     ``v_soma / V0``             volt    somatic potential (pyr_k)
v_B,k                   ``v_basal``                 volt    basal potential, W_ff,k r_{k-1} V₀
v_A,k                   ``v_apical``                volt    apical potential
r_k = σ(u_k)            ``r``                       1       rate, hard sigmoid clip(u, 0, 1)
z_k = B_k r_k           ``z`` (inh_k), ``z_inh``    1       interneuron activity (and its copy on pyr_k)
W_ff,k                  ``ff_k.w``                  1       feedforward weights onto the basal dendrite
W_fb,k                  ``fb_k.w``                  1       feedback weights onto the apical dendrite
B_k                     ``pyr_to_inh_k.w``          1       lateral weights held by the interneurons
−β (r_L − y)            ``v_teacher``               volt    teacher input at the output's apical dendrite
y                       ``y``                       1       one-hot label of the current sample
ε, γ, λ, g_L            ``epsilon, gamma, lam, g_L``  1     CorInfoMax constants, γ = (1 − λ)/λ
1/ε, g_A                ``g_B, g_A``                1       basal and apical coupling conductances
η = dt/τ                ``dt / tau``                1       neural step ("neural learning rate")
η_ff,k, η_fb,k          ``ff_k.eta``, ``fb_k.eta``  1       per-sample learning rates
r^f, e^f                ``r_free, e_ff_free, ...``  1       rates and errors stored at the end of the free phase
======================  ==========================  ======  ======================================

Timing of one sample (``steps_per_sample = n_free + n_nudged`` steps): at its first step the
network applies the plasticity of the previous sample (from the stored free values and the
current, nudged, state), resets every soma to 0 and loads the new input; the free phase runs
with β = 0; at step ``n_free`` the free rates and errors are stored and β switches on.

The names in the strings below that are not model variables come from the namespace the
network builder passes (see :mod:`corinfo_sim.network`): V0, tau, g_L, g_B, g_A, epsilon,
gamma, lam, n_free, steps_per_sample, and the TimedArrays beta_of_sample, label_of_sample,
image_of_sample, images, row_period, learn_at_onset, beta_at_onset.
"""
from corinfo_sim.params import online

NAME = "antisparse"

#: Settings per data set: what ``corinfo-sim train --dataset NAME`` uses unless told otherwise,
#: and what the protocols run. The paper's settings (batch 20) translated to online learning:
#: per-sample rates are the batch rates / 20 (``online``). Everything not given here takes the
#: :class:`~corinfo_sim.params.Params` default (ε = 0.15, λ = 0.99999, η = 0.05, 30 free and 10
#: nudged steps, β = ±1, decay 0.95 per epoch).
DATASET_DEFAULTS = {
    # not in the paper: a dense online implementation reaches ≈ 97–98 % within 15 epochs
    "digits": dict(arch=(64, 100, 10), g_leak=0.5, lr_ff=(0.5, 0.35), lr_fb=(0.075,)),
    "fashion-mnist": dict(arch=(784, 500, 10), g_leak=0.3, eta_schedule=True, lr_ff=online((0.3, 0.22)),
                          lr_fb=online((0.07,)), lr_schedule=((0, 0.95), (20, 0.9), (25, 0.8))),
    "mnist": dict(arch=(784, 500, 10), g_leak=0.5, lr_ff=online((1.0, 0.7)), lr_fb=online((0.15,)),
                  lr_schedule=((0, 0.95), (15, 0.9))),
    "cifar10": dict(arch=(3072, 1000, 10), g_leak=0.1, lr_ff=online((0.08, 0.04)), lr_fb=online((0.04,))),
    # the paper's CIFAR-100 network; its rates follow the CIFAR-10 row
    "cifar100": dict(arch=(3072, 2000, 1000, 100), g_leak=0.1, n_free=50, n_nudged=20,
                     lr_ff=online((0.08, 0.04, 0.04)), lr_fb=online((0.04, 0.04))),
}

#: Soma of a pyramidal neuron (hidden and output layers alike).
SOMA = """
dv_soma/dt = (-g_L*v_soma + g_B*(v_basal - v_soma) + g_A*(v_apical - v_soma)) / tau_step : volt  # somatic potential u V0
r : 1                   # rate sigma(u) = clip(u, 0, 1) of the previous step
step = t_in_timesteps % steps_per_sample : integer  # time step within the sample
"""

#: Time constant: fixed, τ = dt/η ...
TAU_FIXED = """
tau_step = tau : second  # membrane time constant, dt/tau = eta
"""
#: ... or the free-phase neural step schedule η_t = max(η/(1 + 0.01 t), 0.001) (η in the nudged phase).
TAU_SCHEDULED = """
tau_step = dt/(int(step < n_free)*clip(eta0/(1 + 0.01*step), 0.001, 1) + int(step >= n_free)*eta0) : second
"""

#: Basal dendrite: the feedforward prediction.
BASAL = """
v_basal = basal_ff : volt  # basal potential W_ff r_{k-1} V0
basal_ff : volt {linked}    # summed input of pathway ff_k
"""

#: Apical dendrite of a hidden layer: lateral term and feedback prediction.
APICAL_HIDDEN = """
v_apical = epsilon*(2*gamma*z_inh + g_L*r)*V0 + apical_fb : volt  # apical potential
apical_fb : volt        # summed input of pathway fb_k: W_fb r_{k+1} V0
z_inh : 1               # activity of the paired interneuron (inh_to_pyr_k)
"""

#: Apical dendrite of the output layer: lateral term and teacher.
APICAL_OUTPUT = """
v_apical = (gamma*z_inh + g_L*r)*V0 + v_teacher : volt  # apical potential
v_teacher = -beta*(r - y)*V0 : volt   # teacher input, zero in the free phase
beta = beta_of_sample(t)*int(step >= n_free) : 1  # nudging strength (0 in the free phase)
y = int(label_of_sample(t) == i) : 1  # one-hot label of the current sample
z_inh : 1               # activity of the paired interneuron (inh_to_pyr_L)
"""

#: Values kept from the end of the free phase for the plasticity.
FREE_STORE_VARS = """
r_free : 1              # rate at the end of the free phase
e_ff_free : 1           # basal error r - v_basal/V0 at the end of the free phase
"""
FREE_STORE_VARS_HIDDEN = """
e_fb_free : 1           # apical error r - apical_fb/V0 at the end of the free phase
"""

#: Store the free-phase values (runs at step n_free, after the inputs of that step are summed).
FREE_STORE = """
r_free = r
e_ff_free = r - v_basal/V0
"""
FREE_STORE_HIDDEN = """
e_fb_free = r - apical_fb/V0
"""

#: Recurrent inputs set to 0 at sample onset (all rates are 0 then).
ONSET_ZERO = ("basal_ff", "apical_fb", "z_inh")

#: Rate of the new state (runs after every Euler step).
RATE_UPDATE = "r = clip(v_soma/V0, 0, 1)"

#: Sample onset: every soma starts at 0, so every rate and every recurrent input is 0.
ONSET_RESET = """
v_soma = 0*volt
r = 0
"""

#: Input layer r_0 = x: one unit per pixel, loaded at sample onset.
INPUT = """
r : 1                   # pixel intensity of the current sample (rate of layer 0)
r_free = r : 1          # the input is the same in both phases
"""
INPUT_LOAD = "r = images(image_of_sample(t)*row_period, i)"

#: Basal input stage of layer 1, updated once per sample (its input is constant within a sample).
BASAL_RELAY = """
basal_ff : volt         # summed input of ff_1: W_ff,1 x V0
r : 1 (linked)          # rate of the pyramidal neuron it belongs to
e_ff_free : 1 (linked)  # its stored free-phase basal error
"""

#: Interneuron of layer k: linear, z = B r.
INTERNEURON = """
z : 1                   # activity z = B r (summed over pyr_to_inh_k)
"""

# ---- synapses, by pathway -----------------------------------------------------------------
#: Feedforward pyramidal_{k-1} -> basal dendrite of pyramidal_k, weights W_ff,k.
FF_MODEL = """
w : 1                   # W_ff,k[post, pre]
eta : 1 (shared, constant)  # per-sample learning rate eta_ff,k
basal_ff_post = w*r_pre*V0 : volt (summed)  # basal prediction W_ff r V0
"""
#: ΔW_ff = (η/β)(e^n r_pre^n − e^f r_pre^f), e = r − W_ff r_pre, once per sample.
FF_PLASTICITY = """
w += learn_at_onset(t)*eta/beta_at_onset(t)*((r_post - basal_ff_post/V0)*r_pre - e_ff_free_post*r_free_pre)
"""

#: Feedback pyramidal_{k+1} -> apical dendrite of pyramidal_k, weights W_fb,k.
FB_MODEL = """
w : 1                   # W_fb,k[post, pre]
eta : 1 (shared, constant)  # per-sample learning rate eta_fb,k
apical_fb_post = w*r_pre*V0 : volt (summed)  # apical prediction W_fb r V0
"""
#: ΔW_fb = (η/β)(e^n r_pre^n − e^f r_pre^f), e = r − W_fb r_pre, once per sample.
FB_PLASTICITY = """
w += learn_at_onset(t)*eta/beta_at_onset(t)*((r_post - apical_fb_post/V0)*r_pre - e_fb_free_post*r_free_pre)
"""

#: Lateral pyramidal_k (j) -> interneuron_k (i), weights B_k[i, j].
PYR_TO_INH_MODEL = """
w : 1                   # B_k[post, pre]
z_post = w*r_pre : 1 (summed)  # interneuron activity z = B r
"""
#: B ← (B − γ z zᵀ)/λ from the nudged state: z_post is the interneuron, z_inh_pre its partner's copy.
PYR_TO_INH_PLASTICITY = """
w = learn_at_onset(t)*(w - gamma*z_post*z_inh_pre)/lam + (1 - learn_at_onset(t))*w
"""

#: Interneuron_k (i) -> apical dendrite of pyramidal_k (i), one-to-one.
INH_TO_PYR_MODEL = """
z_inh_post = z_pre : 1 (summed)  # the apical dendrite receives its interneuron's activity
"""


def pyramidal_equations(output, first, eta_schedule=False):
    """Equations of a pyramidal neuron of a hidden (``output=False``) or the output layer.

    ``first`` marks layer 1, whose basal input is a linked variable (from ``basal_1``).
    """
    eqs = SOMA + (TAU_SCHEDULED if eta_schedule else TAU_FIXED)
    eqs += BASAL.replace("{linked}", "(linked)" if first else "")
    eqs += (APICAL_OUTPUT if output else APICAL_HIDDEN) + FREE_STORE_VARS
    if not output:
        eqs += FREE_STORE_VARS_HIDDEN
    return eqs


def network_class():
    """The builder of this variant's Brian2 network."""
    from corinfo_sim.network import CorInfoNetwork
    return CorInfoNetwork
