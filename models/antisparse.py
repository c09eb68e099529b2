"""Antisparse CorInfoMax: the paper's main rate network as Brian2 equations.

Bozkurt, Pehlevan & Erdogan (NeurIPS 2023), section 4 (the mathematics: ``docs/model.md``).
Every layer k = 1..L is a population of three-compartment pyramidal neurons (soma, basal
dendrite, apical dendrite) paired one-to-one with a population of linear interneurons:

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

======================  ============================  ======  =============================================
paper                   Brian2                        unit    meaning
======================  ============================  ======  =============================================
u_k                     ``v_soma / V0``               volt    somatic potential (pyr_k)
v_B,k                   ``v_basal``                   volt    basal potential, W_ff,k r_{k-1} V₀
v_A,k                   ``v_apical``                  volt    apical potential
r_k = σ(u_k)            ``r``                         1       rate, hard sigmoid clip(u, 0, 1)
z_k = B_k r_k           ``z`` (inh_k), ``z_inh``      1       interneuron activity (and its copy on pyr_k)
W_ff,k                  ``ff_k.w``                    1       feedforward weights onto the basal dendrite
W_fb,k                  ``fb_k.w``                    1       feedback weights onto the apical dendrite
B_k                     ``pyr_to_inh_k.w``            1       lateral weights held by the interneurons
−β (r_L − y)            ``v_teacher``                 volt    teacher input at the output's apical dendrite
y                       ``y``                         1       one-hot label of the current sample
ε, γ, λ, g_L            ``epsilon, gamma, lam, g_L``  1       CorInfoMax constants, γ = (1 − λ)/λ
λ_B, γ_B                ``lam_B, gamma_B``            1       per-sample step of B: λ^(1/m), (1 − λ_B)/λ_B
1/ε, g_A                ``g_B, g_A``                  1       basal and apical coupling conductances
η = dt/τ                ``eta0 = dt / tau_step``      1       neural step ("neural learning rate")
η_ff,k, η_fb,k          ``ff_k.eta``, ``fb_k.eta``    1       per-sample learning rates
r^f                     ``r_free``                    1       rate at the end of the free phase
r^ref, e^ref            ``r_ref, e_ff_ref, ...``      1       the state the nudged one is contrasted with
u before the step       ``v_prev``                    volt    potential before the Euler step (settling)
#{|Δu_k,i| ≥ δ}         ``settle.unsettled_k``        1       neurons of layer k still moving (settling)
δ                       ``settle_tol``                1       settling tolerance
======================  ============================  ======  =============================================

Timing of one sample (``steps_per_sample`` steps): at its first step the network applies the
plasticity of the previous sample (from the stored reference values and the current, nudged,
state), resets every soma to 0 and loads the new input; the free phase runs with β = 0; at step
``n_free`` the free rates and the reference errors are stored and β switches on. The weight
update is ΔW = (η_W c/β)(e^n r_pre^n − e^ref r_pre^ref) with c = 1 and the free state as the
reference; with ``three_phase`` a −β phase follows, the reference is the +β state and c = −1/2,
so ΔW = (η_W/2β)(e^+ r_pre^+ − e^− r_pre^−).

**Settling to a tolerance** (``settle_tol`` = δ > 0): every pyramidal neuron stores ``v_prev``
before the Euler step; after every layer's update the pathways ``settle_k`` (pyr_k → the one-neuron
group ``settle``) sum the neurons with |Δu| ≥ δ, and when no neuron of any layer moved that much
the group's ``settle_jump`` moves the step clock on to the first step of the next phase (or the
next sample), so the remaining steps of the phase are not simulated; ``n_free`` and ``n_nudged``
are then caps. ``settle`` counts the steps of each phase (``steps_free``, ``steps_nudged``,
recorded at the next onset). Traced samples run every step.

**Deep networks** (two or more hidden layers) take other defaults (``corinfo_sim.spec``,
``DEEP_STEPS``, ``DEEP_SETTLE_TOL``, ``depth_rates``): three phases, settling to 1e-3 (two or
three hidden layers) or 1e-4 (more) with caps of 200 free and 100 nudged steps, and learning
rates that fall with depth, η_ff,k = η_ff,1/k and η_fb,k = η_fb,1 (2/3)^k; with four or more
hidden layers also ``gate_clipped``: no forward or feedback plasticity onto a neuron clipped at a
bound of its rate in both contrasted states (``GATE``). ``docs/model.md`` ("Deep networks",
"Clipped neurons") gives the measurements behind them.

The discretisation switches (parameters ``update_order``, ``nudged_start``, ``eta_schedule``,
``three_phase``) select the Euler steps of the model's equations (the defaults) or the
authors' published code: they change only the schedule of the same operations and a few lines of
code (see :func:`network`).

The names in the strings below that are not model variables come from the network's namespace
(see :func:`network`): V0, g_L, g_B, g_A, epsilon, gamma, lam, eta0, schedule_free,
schedule_nudged, lam_B, gamma_B, n_free, n_minus, steps_per_sample, contrast, settle_tol, the function
settle_jump (from the builder, :func:`corinfo_sim.network.settle_jump`), and the TimedArrays beta_of_sample,
label_of_sample, image_of_sample, images, row_period, learn_at_onset, beta_at_onset, trace_on.
"""
from corinfo_sim.dense import DenseParams
from corinfo_sim.spec import (COMMON, ONLINE_LAMBDA, RATE, NetworkSpec, Operation, Pathway, Population, Variant,
                              online)

#: Settings per data set: what ``corinfo-sim train --dataset NAME`` uses unless told otherwise,
#: and what the protocols run. The paper's settings (batch 20) translated to online learning:
#: per-sample rates are the batch rates / 20 (``online``), and B forgets by λ once per 20 samples
#: (``ONLINE_LAMBDA``: λ^(1/20) per sample; with λ per sample the hidden layer's B grew without
#: bound on Fashion-MNIST and the 50-epoch run diverged in epoch 26). Everything not given here
#: takes the parameter's default (ε = 0.15, λ = 0.99999, η = 0.05, 30 free and 10 nudged steps,
#: β = ±1, decay 0.95 per epoch, float64).
#: The image data sets run in float32: on Fashion-MNIST (3 epochs, 2 seeds) it gave the float64
#: accuracies to within 0.15 % per epoch (84.09 ± 0.76 % against 84.04 ± 0.83 %) and trains
#: 784-500-10 in half the time; digits, whose weights fit the cache either way, gains little and
#: keeps float64.
PAPER = dict(precision="float32", **ONLINE_LAMBDA)
DATASET_DEFAULTS = {
    # not in the paper, online from the start (λ per sample): a dense online implementation
    # reaches ≈ 97–98 % within 15 epochs
    "digits": dict(arch=(64, 100, 10), g_leak=0.5, lr_ff=(0.5, 0.35), lr_fb=(0.075,)),
    "fashion-mnist": dict(arch=(784, 500, 10), g_leak=0.3, eta_schedule="free", lr_ff=online((0.3, 0.22)),
                          lr_fb=online((0.07,)), lr_schedule=((0, 0.95), (20, 0.9), (25, 0.8)), **PAPER),
    "mnist": dict(arch=(784, 500, 10), g_leak=0.5, lr_ff=online((1.0, 0.7)), lr_fb=online((0.15,)),
                  lr_schedule=((0, 0.95), (15, 0.9)), **PAPER),
    "cifar10": dict(arch=(3072, 1000, 10), g_leak=0.1, lr_ff=online((0.08, 0.04)), lr_fb=online((0.04,)),
                    **PAPER),
    # the paper's CIFAR-100 network; its rates follow the CIFAR-10 row
    "cifar100": dict(arch=(3072, 2000, 1000, 100), g_leak=0.1, n_free=50, n_nudged=20,
                     lr_ff=online((0.08, 0.04, 0.04)), lr_fb=online((0.04, 0.04)), **PAPER),
}

# ---- pyramidal neuron, by compartment ---------------------------------------------------------
#: Time step within the sample (every group whose events or schedule depend on it).
STEP = "step = t_in_timesteps % steps_per_sample : integer  # time step within the sample\n"

#: Soma of a pyramidal neuron (hidden and output layers alike).
SOMA = """
dv_soma/dt = (-g_L*v_soma + g_B*(v_basal - v_soma) + g_A*(v_apical - v_soma)) / tau_step : volt  # somatic potential u V0
r : 1                   # rate sigma(u) of the previous step
""" + STEP

#: Time constant τ_t = dt/η_t of the Euler step: the neural step η, or where the schedule applies
#: (``schedule_free``, ``schedule_nudged``: 1 or 0, set per run) η_t = max(η/(1 + 0.01 t), 0.001),
#: t the step within the phase (restarting at each phase, as in the authors' code).
TAU = """
tau_step = dt/((1 - scheduled)*eta0 + scheduled*clip(eta0/(1 + 0.01*step_in_phase), 0.001, 1)) : second  # dt/eta_t
scheduled = int(step < n_free)*schedule_free + int(step >= n_free)*schedule_nudged : 1  # the schedule applies
step_in_phase = step - n_free*int(step >= n_free) - (n_minus - n_free)*int(step >= n_minus) : integer  # t
"""
#: Phases where the step schedule applies, by ``eta_schedule``: (free, nudged).
SCHEDULED_PHASES = {"off": (0.0, 0.0), "free": (1.0, 0.0), "both": (1.0, 1.0)}

#: Basal dendrite: the feedforward prediction.
BASAL = """
v_basal = basal_ff : volt  # basal potential W_ff r_{k-1} V0
basal_ff : volt {linked}    # summed input of pathway ff_k
"""

#: Apical dendrite of a hidden layer: lateral term and feedback prediction ({inhibition}: see
#: models/sparse.py).
APICAL_HIDDEN = """
v_apical = epsilon*(2*gamma*z_inh + g_L*r{inhibition})*V0 + apical_fb : volt  # apical potential
apical_fb : volt        # summed input of pathway fb_k: W_fb r_{k+1} V0
z_inh : 1               # activity of the paired interneuron (inh_to_pyr_k)
"""

#: Apical dendrite of the output layer: lateral term and teacher (β > 0 in the +β phase, < 0
#: in a −β phase).
APICAL_OUTPUT = """
v_apical = (gamma*z_inh + g_L*r{inhibition})*V0 + v_teacher : volt  # apical potential
v_teacher = -beta*(r - y)*V0 : volt   # teacher input, zero in the free phase
beta = beta_of_sample(t)*int(step >= n_free)*(1 - 2*int(step >= n_minus)) : 1  # nudging strength
y = int(label_of_sample(t) == i) : 1  # one-hot label of the current sample
z_inh : 1               # activity of the paired interneuron (inh_to_pyr_L)
"""

#: Values stored during the sample for the plasticity and the recordings.
STORED = """
r_free : 1              # rate at the end of the free phase
r_ref : 1               # rate of the reference state (free, or +beta with three phases)
e_ff_ref : 1            # basal error r - v_basal/V0 of the reference state
"""
STORED_HIDDEN = """
e_fb_ref : 1            # apical error r - apical_fb/V0 of the reference state
"""

#: End of the free phase (``free_end``, after the inputs of that step are summed).
FREE_STORE = "r_free = r\n"
#: The reference state (at the end of the free phase, or of the +β phase with three phases).
REF_STORE = """
r_ref = r
e_ff_ref = r - v_basal/V0
"""
REF_STORE_HIDDEN = "e_fb_ref = r - apical_fb/V0\n"
#: A phase that restarts from the rates (``nudged_start="rates"``): u = σ(u).
RESTART_FROM_RATES = "v_soma = r*V0\n"

#: Recurrent inputs set to 0 at sample onset (all rates are 0 then), with their units.
ONSET_ZERO = {"basal_ff": "volt", "apical_fb": "volt", "z_inh": "1"}

#: Rate of the new state (runs after every Euler step): the hard sigmoid.
RATE_UPDATE = "r = clip(v_soma/V0, 0, 1)"

#: Sample onset: every soma starts at 0, so every rate and every recurrent input is 0.
ONSET_RESET = """
v_soma = 0*volt
r = 0
"""

#: Input layer r_0 = x: one unit per pixel, loaded at sample onset.
INPUT = """
r : 1                   # pixel intensity of the current sample (rate of layer 0)
r_free = r : 1          # the input is the same in every phase
r_ref = r : 1
"""
INPUT_LOAD = "r = images(image_of_sample(t)*row_period, i)"

#: Basal input stage of layer 1, updated once per sample (its input is constant within a sample).
BASAL_RELAY = """
basal_ff : volt         # summed input of ff_1: W_ff,1 x V0
r : 1 (linked)          # rate of the pyramidal neuron it belongs to
e_ff_ref : 1 (linked)   # its stored basal error of the reference state
"""
#: ... with ``gate_clipped``, which also reads the reference rate.
BASAL_RELAY_REF = "r_ref : 1 (linked)      # its rate in the reference state\n"

#: Interneuron of layer k: linear, z = B r.
INTERNEURON = """
z : 1                   # activity z = B r (summed over pyr_to_inh_k)
"""
#: With three phases the lateral rule uses the +β state, kept until the next onset.
INTERNEURON_PLUS = "z_plus : 1  # activity at the end of the +beta phase\n"

# ---- synapses, by pathway -----------------------------------------------------------------
#: Feedforward pyramidal_{k-1} -> basal dendrite of pyramidal_k, weights W_ff,k.
FF_MODEL = """
w : 1                   # W_ff,k[post, pre]
eta : 1 (shared, constant)  # per-sample learning rate eta_ff,k
basal_ff_post = w*r_pre*V0 : volt (summed)  # basal prediction W_ff r V0
"""
#: ΔW_ff = (η c/β)(e^n r_pre^n − e^ref r_pre^ref), e = r − W_ff r_pre, once per sample
#: ({gate}: see GATE).
FF_PLASTICITY = """
w += learn_at_onset(t)*eta*contrast/beta_at_onset(t)*{gate}((r_post - basal_ff_post/V0)*r_pre - e_ff_ref_post*r_ref_pre)
"""

#: Feedback pyramidal_{k+1} -> apical dendrite of pyramidal_k, weights W_fb,k.
FB_MODEL = """
w : 1                   # W_fb,k[post, pre]
eta : 1 (shared, constant)  # per-sample learning rate eta_fb,k
apical_fb_post = w*r_pre*V0 : volt (summed)  # apical prediction W_fb r V0
"""
#: ΔW_fb = (η c/β)(e^n r_pre^n − e^ref r_pre^ref), e = r − W_fb r_pre, once per sample.
FB_PLASTICITY = """
w += learn_at_onset(t)*eta*contrast/beta_at_onset(t)*{gate}((r_post - apical_fb_post/V0)*r_pre - e_fb_ref_post*r_ref_pre)
"""

#: ``gate_clipped``: the factor that stops the plasticity onto a neuron whose rate sits at a bound
#: of its rate function in both contrasted states (r_post: now, r_ref_post: the reference), by
#: rate function: the hard sigmoid (bounds 0 and 1) and a sparse layer's ReLU (bound 0). Off, no
#: factor: the code is the paper's rule.
GATE = {"hard_sigmoid": "(1 - int(r_post == r_ref_post)*int(r_post <= 0 or r_post >= 1))*",
        "relu": "(1 - int(r_post == r_ref_post)*int(r_post <= 0))*"}

#: Lateral pyramidal_k (j) -> interneuron_k (i), weights B_k[i, j].
PYR_TO_INH_MODEL = """
w : 1                   # B_k[post, pre]
z_post = w*r_pre : 1 (summed)  # interneuron activity z = B r
"""
#: B ← (B − γ_B z zᵀ)/λ_B from the nudged state: z_post is the interneuron, z_inh_pre its partner's
#: copy. λ_B = λ^(1/m) and γ_B = (1 − λ_B)/λ_B with m = ``lambda_batch``: once per sample, the
#: paper's update per batch of m (``corinfo_sim.dense.lambda_update``).
PYR_TO_INH_PLASTICITY = """
w = learn_at_onset(t)*(w - gamma_B*z_post*z_inh_pre)/lam_B + (1 - learn_at_onset(t))*w
"""
#: ... with three phases, from the +β state.
PYR_TO_INH_PLASTICITY_PLUS = """
w = learn_at_onset(t)*(w - gamma_B*z_plus_post*z_inh_plus_pre)/lam_B + (1 - learn_at_onset(t))*w
"""

#: Interneuron_k (i) -> apical dendrite of pyramidal_k (i), one-to-one.
INH_TO_PYR_MODEL = """
z_inh_post = z_pre : 1 (summed)  # the apical dendrite receives its interneuron's activity
"""


# ---- settling to a tolerance (settle_tol > 0) -------------------------------------------------
#: Each pyramidal neuron keeps its potential from before the step's Euler update.
SETTLE_PREVIOUS = "v_prev : volt  # somatic potential before this step's Euler update\n"
SETTLE_STORE = "v_prev = v_soma"
#: Pyramidal_k (every neuron) -> the settling monitor: how many neurons of layer k changed their
#: potential by settle_tol or more in this step (after every layer's update).
SETTLE_MODEL = """
unsettled_{k}_post = int(abs(v_soma_pre - v_prev_pre) >= settle_tol*V0) : 1 (summed)  # neurons still moving
"""
#: The settling monitor: one neuron that ends a phase when no potential of any layer moved by
#: settle_tol in the last step (``settle_jump``: the step clock goes on at the phase's end; the
#: network builder provides it), counting the steps each phase took. Traced samples run every
#: step, so that their traces cover the whole phase.
SETTLE = STEP + """
phase_end = n_free*int(step < n_free) + n_minus*int(step >= n_free)*int(step < n_minus) + steps_per_sample*int(step >= n_minus) : integer  # the current phase's last step + 1
steps_free : 1          # steps the free phase of this sample took
steps_nudged : 1        # steps the nudged phase(s) took
ended : 1               # 1 when this step ended its phase early
"""
SETTLE_ONSET = """
steps_free = 0
steps_nudged = 0
"""
SETTLE_STEP = """
steps_free += int(step < n_free)
steps_nudged += int(step >= n_free)
ended = settle_jump(int({unsettled} == 0){after}*(1 - trace_on(t)), t_in_timesteps, step, phase_end)
"""
#: A further condition (``settling(p, after)``): the phase has run ``after`` steps or more (two phases).
SETTLE_AFTER = "*int(steps_free >= {after} or step >= n_free)*int(steps_nudged >= {after} or step < n_free)"


#: Where membrane noise enters (``corinfo_sim/biophysics.py``): the soma, whose Euler step keeps
#: 1 − η_t (g_L + g_B + g_A) of a deviation from rest, and the two dendrites, which have no time
#: constant of their own (white noise per step).
COMPARTMENTS = {"soma": [("v_soma", "1 - dt*(g_L + g_B + g_A)/tau_step")],
                "dendrite": [("v_basal", None), ("v_apical", None)]}


def settling(p, after=0):
    """The populations and pathways that end a phase once the network has settled (``settle_tol``),
    and, with ``after`` > 0 (a network of two phases), not before the phase has run ``after`` steps."""
    L = p.n_layers
    unsettled = " + ".join(f"unsettled_{k}" for k in range(1, L + 1))
    equations = SETTLE + "".join(f"unsettled_{k} : 1  # neurons of layer {k} still moving\n" for k in range(1, L + 1))
    step_code = SETTLE_STEP.format(unsettled=unsettled, after=SETTLE_AFTER.format(after=after) if after else "")
    monitor = Population("settle", 1, equations,
                         operations=[Operation(SETTLE_ONSET, at="onset", order=7),
                                     Operation(step_code, when="end", order=1)])
    pathways = [Pathway(f"settle_{k}", f"pyr_{k}", "settle", SETTLE_MODEL.format(k=k), summed=("end", 0))
                for k in range(1, L + 1)]
    return [monitor], pathways


def pyramidal_equations(output, first, inhibition="", extra=""):
    """Equations of a pyramidal neuron of a hidden (``output=False``) or the output layer.

    ``first`` marks layer 1, whose basal input is a linked variable (from ``basal_1``);
    ``inhibition`` is a further term of the apical dendrite's lateral input (models/sparse.py).
    """
    eqs = SOMA + TAU + BASAL.replace("{linked}", "(linked)" if first else "")
    eqs += (APICAL_OUTPUT if output else APICAL_HIDDEN).replace("{inhibition}", inhibition)
    return eqs + STORED + ("" if output else STORED_HIDDEN) + extra


def layer_schedule(params, k):
    """Schedule slots of layer k's per-step operations: ``{what: (when, order)}``.

    Simultaneous (the default): every summed input from the rates r(t) at the start of the step,
    then every soma's Euler step, then every rate — all layers from the previous step. Layered
    (the authors' code): layer by layer, bottom-up, within the ``groups`` slot; layer k's basal
    input is summed from the new rates of layer k−1, its feedback and lateral inputs are those
    summed at the start of the step (old rates).
    """
    if params.update_order == "layered":
        base = 10 * k
        return {"basal": ("groups", base), "soma": ("groups", base + 1), "rate": ("groups", base + 2),
                "after_rate": ("groups", base + 3), "after_after_rate": ("groups", base + 4)}
    return {"basal": ("start", 0), "soma": ("groups", 0), "rate": ("after_groups", 0),
            "after_rate": ("after_groups", 1), "after_after_rate": ("after_groups", 2)}


def phase_events(params):
    """Events at the phase boundaries: ``{name: condition}``.

    ``free_end`` at step n_free; with three phases ``plus_end`` at the end of the +β phase.
    """
    events = {"free_end": "step == n_free"}
    if params.three_phase:
        events["plus_end"] = "step == n_minus"
    return events


def network(p, sparse=None):
    """The rate network of parameters ``p`` as a :class:`~corinfo_sim.spec.NetworkSpec`.

    Parameters
    ----------
    p : Params
    sparse : callable, optional
        ``sparse(k, p) -> dict or None`` (``models/sparse.py``): for a sparse layer k, its rate
        code, its apical inhibition term and input variable, the inputs it zeroes at onset, and
        its extra populations and pathways.
    """
    L = p.n_layers
    three = p.three_phase
    n_minus = p.n_free + p.n_nudged if three else p.steps_per_sample
    schedule_free, schedule_nudged = SCHEDULED_PHASES[p.eta_schedule]
    namespace = dict(V0=p.V0, eta0=p.eta, g_L=p.g_leak, epsilon=p.epsilon, gamma=p.gamma,
                     lam_B=p.lam_update, gamma_B=p.gamma_update, settle_tol=p.settle_tol,
                     n_minus=n_minus, contrast=-0.5 if three else 1.0, schedule_free=schedule_free,
                     schedule_nudged=schedule_nudged)
    ref_event = "plus_end" if three else "free_end"
    restart = RESTART_FROM_RATES if p.nudged_start == "rates" else ""
    events = phase_events(p)

    populations = [Population("inp", p.arch[0], INPUT, operations=[Operation(INPUT_LOAD, at="onset", order=8)])]
    pathways = []
    for k in range(1, L + 1):
        out, first = k == L, k == 1
        slot = layer_schedule(p, k)
        layer = sparse(k, p) if sparse else None
        rate_code = layer["rate"] if layer else RATE_UPDATE
        zero = dict(ONSET_ZERO, **(layer["onset_zero"] if layer else {}))
        if first:
            zero.pop("basal_ff")  # layer 1's comes from the relay, set once per sample
        if out:
            zero.pop("apical_fb")
        onset = ONSET_RESET + "".join(f"{v} = 0*{unit}\n" for v, unit in zero.items())
        store = {"free_end": FREE_STORE}
        ref = REF_STORE + ("" if out else REF_STORE_HIDDEN)
        store[ref_event] = store.get(ref_event, "") + ref + ("z_inh_plus = z_inh\n" if three else "")
        ops = [Operation(code + restart, at=event, when="start", order=3) for event, code in store.items()]
        ops += [Operation(onset, at="onset", order=7),
                Operation(rate_code, when=slot["rate"][0], order=slot["rate"][1])]
        extra = "z_inh_plus : 1  # the partner's activity at the end of the +beta phase\n" if three else ""
        extra += layer["equations"] if layer else ""
        if p.settle_tol > 0:
            extra += SETTLE_PREVIOUS
            ops.append(Operation(SETTLE_STORE, when="start", order=12))
        populations.append(Population(
            f"pyr_{k}", p.arch[k],
            pyramidal_equations(out, first, layer["inhibition"] if layer else "", extra),
            namespace=dict(g_B=1 / p.epsilon, g_A=1.0 if out else 1 / p.epsilon),
            events={name: (cond, "start", 2) for name, cond in events.items()}, operations=ops,
            state_schedule=slot["soma"], layer=k))
        inh_ops = [Operation("z = 0", at="onset", order=7)]
        if three:
            inh_ops.append(Operation("z_plus = z", at="plus_end", order=3))
        populations.append(Population(
            f"inh_{k}", p.arch[k], INTERNEURON + (INTERNEURON_PLUS + STEP if three else ""),
            events={"plus_end": (events["plus_end"], "start", 2)} if three else {}, operations=inh_ops))

        pre = "inp" if first else f"pyr_{k - 1}"
        gate = GATE["relu" if layer else "hard_sigmoid"] if p.gate_clipped else ""
        pathways.append(Pathway(f"ff_{k}", pre, "basal_1" if first else f"pyr_{k}", FF_MODEL,
                                plasticity=FF_PLASTICITY.format(gate=gate),
                                summed=("start", 9) if first else slot["basal"],
                                weight=(f"Wff{k}", "all"), learning_rate=("lr_ff", k - 1)))
        if not out:
            pathways.append(Pathway(f"fb_{k}", f"pyr_{k + 1}", f"pyr_{k}", FB_MODEL,
                                    plasticity=FB_PLASTICITY.format(gate=gate),
                                    weight=(f"Wfb{k}", "all"), learning_rate=("lr_fb", k - 1)))
        pathways.append(Pathway(f"pyr_to_inh_{k}", f"pyr_{k}", f"inh_{k}", PYR_TO_INH_MODEL,
                                plasticity=PYR_TO_INH_PLASTICITY_PLUS if three else PYR_TO_INH_PLASTICITY,
                                weight=(f"B{k}", "all")))
        pathways.append(Pathway(f"inh_to_pyr_{k}", f"inh_{k}", f"pyr_{k}", INH_TO_PYR_MODEL,
                                connectivity="one_to_one", summed=("start", 1)))
        if layer:
            populations += layer["populations"]
            pathways += layer["pathways"]

    if p.settle_tol > 0:
        monitor, settle_pathways = settling(p)
        populations += monitor
        pathways += settle_pathways
    # basal input stage of layer 1: its input is constant within a sample
    relay = {"r": ("pyr_1", "r"), "e_ff_ref": ("pyr_1", "e_ff_ref")}
    if p.gate_clipped:
        relay["r_ref"] = ("pyr_1", "r_ref")
    populations.append(Population("basal_1", p.arch[1], BASAL_RELAY + (BASAL_RELAY_REF if p.gate_clipped else ""),
                                  per_sample=True, linked=relay))
    populations[1].linked["basal_ff"] = ("basal_1", "basal_ff")
    return NetworkSpec(
        populations, pathways, namespace=namespace, rate_variables=("r_free", "r"),
        trace_variables={"v_soma": "v_soma", "v_basal": "v_basal", "v_apical": "v_apical", "rate": "r",
                         "z": "z_inh"},
        output_trace_variables={"teacher": "v_teacher"},
        compartments={f"pyr_{k}": COMPARTMENTS for k in range(1, L + 1)})


def timing(p):
    """Steps of a sample: free, nudged (twice with three phases); τ = dt/η."""
    return {"free_steps": p.n_free, "steps_per_sample": p.n_free + p.n_nudged * (2 if p.three_phase else 1),
            "window_steps": 1, "tau": p.dt / p.eta}


def oracle(p):
    """The dense numpy model of the same network (:mod:`corinfo_sim.dense`)."""
    return DenseParams(epsilon=p.epsilon, lam=p.lam, lambda_batch=p.lambda_batch, g_leak=p.g_leak, eta=p.eta,
                       n_free=p.n_free,
                       n_nudged=p.n_nudged, eta_schedule=p.eta_schedule, update_order=p.update_order,
                       nudged_start=p.nudged_start, three_phase=p.three_phase, settle_tol=p.settle_tol,
                       sparse_layers=tuple(getattr(p, "sparse_layers", ())),
                       eta_s=tuple(getattr(p, "eta_s", ())), gate_clipped=p.gate_clipped)


VARIANT = Variant(
    name="antisparse",
    summary="the paper's main rate network: hard-sigmoid rates in [0, 1], lateral interneurons",
    parameters=COMMON + RATE,
    timing=timing,
    network=network,
    oracle=oracle,
    dataset_defaults=DATASET_DEFAULTS,
    exact_oracle=True,
)
