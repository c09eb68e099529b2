"""Conductance-based CorInfoMax with spiking somata: integrate-and-fire on the same compartments.

The conductance-based network (``models/conductance.py``: capacitances, leak and coupling
conductances, synapses with reversal potentials) whose somata fire: each soma is a
conductance-based leaky integrate-and-fire compartment, and every pathway between pyramidal
neurons carries spikes, as in the spiking network (``models/spiking.py``), whose input encoders,
window averages and plasticity it shares. A variant of its own rather than an option of
``conductance``: its parameters (threshold, reset, refractory period, windows, encoder) and its
plasticity (from window averages of spike traces) are those of a spiking network, and
``--help`` then lists exactly what applies.

- **Soma.** C dV_s/dt = g_Ls (E_L − V_s) + g_B (V_b − V_s) + g_A (V_a − V_s) + noise; a spike
  when V_s crosses V_th, then V_s = V_reset and the soma is held for t_ref. Coupled to its two
  dendrites by the conductances of the abstract network's ratios (g_L : 1/ε : 1/ε), the soma
  relaxes within τ_eff = C/(g_Ls + g_B + g_A) ≈ 0.4 ms: without noise it fires not at all below
  threshold and at nearly 1/t_ref just above it (64-100-10, digits: 0 Hz, then 320 Hz within
  0.1 mV). A **fluctuation of the membrane** (SD ``sigma_escape`` at rest) turns this step into
  a graded rate, the escape-noise picture of a cortical neuron (Gerstner et al., *Neuronal
  Dynamics* §9): with the defaults the rate rises from 2 Hz at rest through 38, 160 and 268 Hz
  at 1, 2 and 3 mV above rest to 342 Hz at 5 mV, close to 400 Hz · clip(u, 0, 1) between 1.5
  and 4 mV (a lone soma with the digits network's τ_eff = 0.36 ms, dt = 0.1 ms, 2 s per value).
- **Frozen noise.** The learning rule contrasts the free and the nudged window, whose difference
  is small; independent noise in the two windows would swamp it (the Poisson encoder of the
  spiking network does not learn). The membrane fluctuation is therefore drawn from a
  counter-based hash of the step *relative to the phase's averaging window* (as the spiking
  network's ``poisson_paired`` encoder draws its spikes): both windows see the same fluctuation
  at the same point, and since a neuron driven by the same fluctuating input fires reliably at
  the same times (Mainen & Sejnowski 1995), the spike trains of the two windows differ only where
  the drive differs. Each sample and neuron draws another fluctuation.
- **Rate.** A neuron's rate is its own spike trace x (each spike adds t_ref/τ_s, decay τ_s), so
  its mean is ν t_ref = ν/ν_max with ν_max = 1/t_ref: r ∈ [0, 1), as in the rate models. The
  lateral drive of the apical dendrite and the teacher use it; the plasticity uses its window
  averages.
- **Synapses.** A presynaptic spike opens the synapse's conductance by ĝ |w|/(ν_max τ_syn)
  (ĝ = ĝ_exc or ĝ_inh by the sign of w, τ_syn = τ_exc or τ_inh, ν_max of the presynaptic
  population), which then decays with τ_syn: the mean conductance is ĝ |w| r_pre, that of the
  rate-driven conductance network. The input pixels spike through the spiking network's
  encoder at ν_input x; the interneurons are graded and read the pyramidal spikes through
  traces, as in the spiking network.
- **Plasticity**, once per sample from the window averages (the spiking network's rule with the
  conductance network's errors): ΔW_ff = (η/β)(ē^n x̄_pre^n − ē^f x̄_pre^f) with
  e = r − (V_b − E_L)/ΔV, ΔW_fb likewise with e = r − I_fb/(g_Ld ΔV), and
  B ← (B − γ_B z̄ z̄ᵀ)/λ_B from the nudged window.

Why the threshold lies only 3.5 mV above rest: the compartments operate within ΔV = 5 mV of rest
(``delta_v``, the conductance network's measured choice, since a wider range makes the 10 mV
inhibitory driving force shunt); a cortical threshold 15–20 mV above rest would need that range.

===================  ==============================  ======  ==========================================
paper                Brian2                          unit    meaning
===================  ==============================  ======  ==========================================
u_k                  ``(v_soma - E_L)/delta_v``      1       somatic potential above rest, in ΔV
v_B,k                ``(v_basal - E_L)/delta_v``     1       basal potential
v_A,k                ``(v_apical - E_L)/delta_v``    1       apical potential
r_k                  ``r = x_out``                   1       rate: the own spike trace, mean ν t_ref
z_k = B_k r_k        ``z`` (inh_k), ``z_inh``        1       interneuron activity (and its copy)
W_ff,k, W_fb,k, B_k  ``ff_k.w``, ``fb_k.w``,          1       weights, as in the abstract network
                     ``pyr_to_inh_k.w`` (j ≠ i),
                     ``pyr_to_inh_diag_k.w``
—                    ``E_L + theta``                 mV      spike threshold V_th
—                    ``E_L + theta_reset``           mV      reset potential V_reset
—                    ``t_ref``                       ms      refractory period (ν_max = 1/t_ref)
—                    ``sigma_escape``                mV      SD of the soma's frozen fluctuation at rest
—                    ``C_soma, C_dend``              pF      membrane capacitances
—                    ``g_Ls, g_Ld, g_B, g_A``        nS      leak and coupling conductances
—                    ``E_L, E_exc, E_inh``           mV      leak and synaptic reversal potentials
—                    ``g_ff_e, g_ff_i, ...``         nS      synaptic conductances (exc., inh.)
—                    ``I_ff, I_fb, I_lat``           pA      synaptic currents into the dendrites
Σ_window x, e, z     ``acc_x, acc_e_ff, ...``        1       window sums
x̄^f, ē^f             ``rate_free, e_ff_free, ...``   1       free-window averages
−β (r_L − y) ΔV      ``v_teacher``                   volt    teacher drive at the output
===================  ==============================  ======  ==========================================

The names in the strings below that are not model variables come from the namespace (see
:func:`network`): those of ``models/conductance.py`` and ``models/spiking.py``, and theta,
theta_reset, sigma_escape, escape_size (the noise's step size), spike_weight, weight_e, weight_i,
the function normal_hash and the TimedArray escape_key_of_sample.
"""
import numpy as np
from brian2 import Hz, mV, ms

from corinfo_sim import biophysics
from corinfo_sim.spec import COMMON, NetworkSpec, Operation, Parameter, Pathway, Population, Variant, \
    on_command_line, with_defaults

from . import conductance, spiking

NAME = "conductance_spiking"

#: Defaults of the spiking soma and its phases, each with its source or reason.
DEFAULTS = dict(
    theta=3.5 * mV,           # threshold 3.5 mV above rest, inside the operating range ΔV = 5 mV (module docstring):
                              # with sigma_escape 1 mV the rate then follows 400 Hz·clip(u, 0, 1) from 1.5 to 4 mV
    theta_reset=0.0 * mV,     # reset to rest (E_L), as in most cortical LIF models
    t_ref=2.5 * ms,           # absolute refractory period (cortical pyramidal cells 1–3 ms); ν_max = 400 Hz
    sigma_escape=1.0 * mV,    # membrane fluctuation at rest (in vivo 1–4 mV, Destexhe et al. 2003); it grades the
                              # rate over the 5 mV range (0.8 mV: 8 Hz at 1 mV, 248 Hz at 3 mV: steeper)
    nu_input=400 * Hz,        # input units' maximal rate: the spiking network's (measured there)
    tau_s=4.0 * ms,           # spike traces (the rate estimate, the lateral input): the spiking network's
    dt=0.1 * ms,              # resolves τ_eff ≈ 0.4 ms of the soma and spike times to 4 % of the shortest interval
    t_free=150.0 * ms,        # 50 ms to settle + a 100 ms window: 40 spikes at ν_max, as the spiking network needs
    t_nudged=125.0 * ms,      # 25 ms for the teacher to act + the same window
    t_window=100.0 * ms,      # averaging window at the end of each phase
)


def _quantity(name, unit, help_text, runtime=False, signed=False):
    return Parameter(name, DEFAULTS[name], help_text, kind="quantity", unit=unit, runtime=runtime, signed=signed)


PARAMETERS = on_command_line(with_defaults(COMMON, dt=DEFAULTS["dt"]), "dt") + conductance.MEMBRANE + (
    _quantity("theta", "mV", "spike threshold of the somata above the resting potential (V_th = E_L + theta)",
              runtime=True),
    _quantity("theta_reset", "mV", "reset potential after a spike relative to rest (V_reset = E_L + theta_reset), "
              "below theta", runtime=True, signed=True),
    _quantity("t_ref", "ms", "refractory period; the maximal rate nu_max is 1/t_ref"),
    Parameter("sigma_escape", DEFAULTS["sigma_escape"], "SD of the somata's membrane fluctuation at rest, the "
              "same in both windows of a sample (it grades the rate; 0: a deterministic soma)", kind="quantity",
              unit="mV", runtime=True, signed=True,
              check=lambda v: None if float(v) >= 0 else f"must not be negative, got {float(v / mV):g} mV"),
    _quantity("nu_input", "Hz", "maximal firing rate of the input units (pixel x fires at nu_input x)", runtime=True),
    _quantity("tau_s", "ms", "time constant of the spike traces (a neuron's rate, the lateral input)", runtime=True),
    _quantity("t_free", "ms", "free phase length"),
    _quantity("t_nudged", "ms", "nudged phase length"),
    _quantity("t_window", "ms", "averaging window at the end of each phase"),
    Parameter("encoder", spiking.DEFAULTS["encoder"], "spike generator of the input units: integrate-and-fire "
              "phase (deterministic), Poisson, or Poisson with the same random numbers in both windows "
              "(poisson_paired)", kind="choice", choices=spiking.ENCODERS),
)


# ---- pyramidal neuron, by compartment -----------------------------------------------------------
#: Soma: the conductance network's soma with a threshold, a reset and a refractory period, and the
#: frozen fluctuation (a standard normal number per step of the window-aligned counter).
SOMA = f"""
dv_soma/dt = (g_Ls*(E_L - v_soma) + g_B*(v_basal - v_soma) + g_A*(v_apical - v_soma)) / C_soma + sigma_escape*escape_size*normal_hash(escape_key_of_sample(t), stream, {spiking.WINDOW_STEP}, i)/dt : volt (unless refractory)  # somatic potential
dx_out/dt = -x_out/tau_s : 1  # the neuron's own spike trace: mean nu t_ref
r = x_out : 1           # rate (firing rate / nu_max)
"""

#: Basal dendrite: conductances opened by the feedforward spikes.
BASAL = """
dv_basal/dt = (g_Ld*(E_L - v_basal) + I_ff + g_sd*(v_soma - v_basal)) / C_dend : volt  # basal potential
I_ff = g_ff_e*(E_exc - v_basal) + g_ff_i*(E_inh - v_basal) : amp  # feedforward synaptic current
dg_ff_e/dt = -g_ff_e/tau_exc : siemens  # excitatory feedforward conductance (spikes of ff_k, w > 0)
dg_ff_i/dt = -g_ff_i/tau_inh : siemens  # inhibitory feedforward conductance (w < 0)
"""

#: Apical dendrite: the conductance network's, the interneuron's activity read by a link.
APICAL = conductance.APICAL.replace("z_inh : 1               # activity of the paired interneuron (inh_to_pyr_k)",
                                    "z_inh : 1 (linked)      # activity z of the paired interneuron (inh_k)")
APICAL_HIDDEN = """
I_fb = g_fb_e*(E_exc - v_apical) + g_fb_i*(E_inh - v_apical) : amp  # feedback synaptic current
dg_fb_e/dt = -g_fb_e/tau_exc : siemens  # excitatory feedback conductance (spikes of fb_k, w > 0)
dg_fb_i/dt = -g_fb_i/tau_inh : siemens  # inhibitory feedback conductance (w < 0)
"""

#: Window sums of the rate, the errors and z, and the free-window averages the plasticity reads.
WINDOW_VARS = """
acc_x : 1               # window sum of the rate x_out
acc_e_ff : 1            # window sum of the basal error r - (v_basal - E_L)/delta_v
acc_z : 1               # window sum of z_inh
rate_free : 1           # free-window average of the rate
e_ff_free : 1           # free-window average of the basal error
r_nudged = acc_x/n_window : 1  # nudged-window average of the rate (read at the end of the sample)
"""
WINDOW_VARS_HIDDEN = """
acc_e_fb : 1            # window sum of the apical error r - I_fb/(g_Ld*delta_v)
e_fb_free : 1           # free-window average of the apical error
"""
ACCUMULATE = """
acc_x += x_out*int(in_window)
acc_e_ff += (x_out - (v_basal - E_L)/delta_v)*int(in_window)
acc_z += z_inh*int(in_window)
"""
ACCUMULATE_HIDDEN = "acc_e_fb += (x_out - I_fb/(g_Ld*delta_v))*int(in_window)\n"
FREE_STORE = """
rate_free = acc_x/n_window
e_ff_free = acc_e_ff/n_window
acc_x = 0
acc_e_ff = 0
acc_z = 0
"""
FREE_STORE_HIDDEN = """
e_fb_free = acc_e_fb/n_window
acc_e_fb = 0
"""

#: Sample onset: every compartment at rest and not refractory, every conductance closed.
ONSET_RESET = """
v_soma = E_L
v_basal = E_L
v_apical = E_L
lastspike = -1*second
not_refractory = True
x_out = 0
g_ff_e = 0*nS
g_ff_i = 0*nS
g_lat_e = 0*nS
g_lat_i = 0*nS
acc_x = 0
acc_e_ff = 0
acc_z = 0
"""
ONSET_RESET_HIDDEN = """
g_fb_e = 0*nS
g_fb_i = 0*nS
acc_e_fb = 0
"""

# ---- synapses, by pathway -----------------------------------------------------------------------
#: A spike of ff_k (fb_k) opens the excitatory or the inhibitory conductance of the basal (apical)
#: dendrite by ĝ |w|/(ν_max τ_syn) (``weight_e``, ``weight_i``: 1/(ν_max τ_syn) of the source).
ON_PRE = """
g_{target}_e_post += g_hat_e*clip(w, 0, inf)*weight_e  # excitatory: mean conductance g_hat_e w r_pre
g_{target}_i_post += g_hat_i*clip(-w, 0, inf)*weight_i  # inhibitory: g_hat_i |w| r_pre
"""


def pyramidal_equations(output):
    """Equations of a pyramidal neuron of a hidden (``output=False``) or the output layer."""
    eqs = SOMA + spiking.CLOCK + BASAL + APICAL + (conductance.APICAL_OUTPUT if output else APICAL_HIDDEN)
    return eqs + conductance.lateral_drive(output, dale=False) + WINDOW_VARS + ("" if output else WINDOW_VARS_HIDDEN)


def escape_size(p, g_total):
    """Size of the soma's noise per step: σ √(1 − a²) (−ln a)/(1 − a) with a = exp(−dt g/C) the
    fraction of a deviation that an exponential-Euler step keeps at rest, so that the stationary
    SD at rest is σ (as :mod:`corinfo_sim.biophysics` sizes its membrane noise)."""
    a = float(np.exp(-float(p.dt * g_total / p.C_soma)))
    return float(np.sqrt(1 - a * a) * (-np.log(a)) / (1 - a))


def network(p):
    """The network of parameters ``p`` as a :class:`~corinfo_sim.spec.NetworkSpec`.

    The spiking network's schedule (``models/spiking.py``): window sums at the start of a step,
    the exponential-Euler step of every compartment and conductance, thresholds, spikes into the
    conductances and traces, resets.
    """
    L, n_free, n_window, steps = p.n_layers, p.free_steps, p.window_steps, p.steps_per_sample
    g = conductance.units(p)
    weight_pyr = float(p.t_ref / p.tau_s)  # a pyramidal spike's trace increment 1/(ν_max τ_s)
    namespace = dict(E_L=p.E_L, E_exc=p.E_exc, E_inh=p.E_inh, delta_v=p.delta_v, C_soma=p.C_soma, C_dend=p.C_dend,
                     g_Ls=g["g_Ls"], g_Ld=g["g_Ld"], g_B=g["g_B"], g_sd=p.g_sd, g_hat_e=g["g_hat_e"],
                     g_hat_i=g["g_hat_i"], tau_exc=p.tau_exc, tau_inh=p.tau_inh, tau_s=p.tau_s, theta=p.theta,
                     theta_reset=p.theta_reset, sigma_escape=p.sigma_escape, lam_B=p.lam_update, gamma_B=p.gamma_update,
                     n_window=n_window, free_window_start=n_free - n_window, nudged_window_start=steps - n_window,
                     uniform_hash=spiking.uniform_hash, normal_hash=biophysics.normal_hash_function())
    free_end = {"free_end": ("step == n_free", "start", 2)}
    populations, pathways = [spiking.input_population(p)], []
    for k in range(1, L + 1):
        out = k == L
        g_A = g["g_A_output"] if out else g["g_A_hidden"]
        lateral = dict(c_z=p.gamma, c_r=p.g_leak) if out else dict(c_z=2 * p.epsilon * p.gamma,
                                                                  c_r=p.epsilon * p.g_leak)
        populations.append(Population(
            f"pyr_{k}", p.arch[k], pyramidal_equations(out), threshold="v_soma > E_L + theta",
            reset="v_soma = E_L + theta_reset\nx_out += spike_weight", refractory=p.t_ref, method="exponential_euler",
            namespace=dict(g_A=g_A, escape_size=escape_size(p, g["g_Ls"] + g["g_B"] + g_A), stream=k,
                           spike_weight=weight_pyr, **lateral),
            events=free_end, linked={"z_inh": (f"inh_{k}", "z")}, layer=k,
            operations=[Operation(FREE_STORE + ("" if out else FREE_STORE_HIDDEN), at="free_end", order=3),
                        Operation(ONSET_RESET + ("" if out else ONSET_RESET_HIDDEN), at="onset", order=7),
                        Operation(ACCUMULATE + ("" if out else ACCUMULATE_HIDDEN), when="start", order=9)]))
        populations.append(Population(
            f"inh_{k}", p.arch[k], spiking.INTERNEURON, linked={"acc_z": (f"pyr_{k}", "acc_z")},
            namespace=dict(spike_weight=weight_pyr),
            operations=[Operation(spiking.INTERNEURON_STEP, when="start", order=1),
                        Operation(spiking.INTERNEURON_ONSET, at="onset", order=7)]))
        pre, nu_pre = ("inp", p.nu_input) if k == 1 else (f"pyr_{k - 1}", 1 / p.t_ref)
        pathways.append(Pathway(f"ff_{k}", pre, f"pyr_{k}", spiking.FF_MODEL, on_pre=ON_PRE.replace("{target}", "ff"),
                                plasticity=spiking.FF_PLASTICITY, weight=(f"Wff{k}", "all"),
                                learning_rate=("lr_ff", k - 1), namespace=_spike_weights(p, nu_pre)))
        if not out:
            pathways.append(Pathway(f"fb_{k}", f"pyr_{k + 1}", f"pyr_{k}", spiking.FB_MODEL,
                                    on_pre=ON_PRE.replace("{target}", "fb"), plasticity=spiking.FB_PLASTICITY,
                                    weight=(f"Wfb{k}", "all"), learning_rate=("lr_fb", k - 1),
                                    namespace=_spike_weights(p, 1 / p.t_ref)))
        pathways.append(Pathway(f"pyr_to_inh_{k}", f"pyr_{k}", f"inh_{k}", spiking.LATERAL_MODEL,
                                connectivity="all_but_self", on_pre=spiking.LATERAL_ON_PRE,
                                plasticity=spiking.LATERAL_PLASTICITY, weight=(f"B{k}", "offdiag"),
                                namespace=dict(spike_weight=weight_pyr)))
        pathways.append(Pathway(f"pyr_to_inh_diag_{k}", f"pyr_{k}", f"inh_{k}", spiking.LATERAL_DIAG_MODEL,
                                connectivity="diagonal", plasticity=spiking.LATERAL_PLASTICITY, summed=("start", 0),
                                weight=(f"B{k}", "diag")))
    def plan_values(plan):
        out = spiking.encoder_values(p, plan, ["inp"])
        out["timed"] = dict(out.get("timed", {}), escape_key_of_sample=biophysics.sample_keys(p, plan))
        return out

    return NetworkSpec(
        populations, pathways, namespace=namespace, rate_variables=("rate_free", "r_nudged"),
        trace_variables={"v_soma": "v_soma", "v_basal": "v_basal", "v_apical": "v_apical", "rate": "r",
                         "z": "z_inh", "g_ff_e": "g_ff_e", "g_ff_i": "g_ff_i", "g_lat_e": "g_lat_e",
                         "g_lat_i": "g_lat_i", "I_ff": "I_ff", "I_fb": "I_fb", "I_lat": "I_lat"},
        output_trace_variables={"teacher": "v_teacher"}, spikes=True, plan_values=plan_values,
        compartments={f"pyr_{k}": COMPARTMENTS for k in range(1, L + 1)})


def _spike_weights(p, nu_max):
    """``weight_e``, ``weight_i``: 1/(ν_max τ_syn) of a source population with maximal rate ν_max."""
    return dict(weight_e=float(1 / (nu_max * p.tau_exc)), weight_i=float(1 / (nu_max * p.tau_inh)))


#: Where the membrane noise options of ``corinfo_sim/biophysics.py`` enter (besides the frozen
#: fluctuation): as in the conductance network.
COMPARTMENTS = conductance.COMPARTMENTS


def timing(p):
    """Steps of a sample from the phase lengths; τ = τ_m."""
    steps = {name: int(round(float(getattr(p, name) / p.dt))) for name in ("t_free", "t_nudged", "t_window")}
    return {"free_steps": steps["t_free"], "steps_per_sample": steps["t_free"] + steps["t_nudged"],
            "window_steps": steps["t_window"], "tau": p.tau_m}


def validate(p):
    """Checks across the parameters, before anything is built: the conductance network's (reversal
    potentials, whole steps, time constants), the spiking network's windows and rates, and a
    threshold above rest and above the reset."""
    message = conductance.validate(p)
    if message:
        return message
    if not p.theta_reset < p.theta:
        return (f"theta_reset = {p.theta_reset / mV:g} mV must lie below the threshold theta = {p.theta / mV:g} mV "
                "(both relative to rest)")
    if float(p.t_window) > min(float(p.t_free), float(p.t_nudged)):
        return (f"the averaging window t_window = {p.t_window} must fit into both phases "
                f"(t_free = {p.t_free}, t_nudged = {p.t_nudged})")
    if abs(float(p.t_window / p.dt) - round(float(p.t_window / p.dt))) > 1e-6:
        return f"t_window = {p.t_window} is not a whole number of steps dt = {p.dt}"
    if float(p.nu_input * p.dt) > 1:
        return f"nu_input * dt = {float(p.nu_input * p.dt):.3g} exceeds 1 spike per step: lower nu_input or dt"
    if p.t_ref < p.dt:
        return f"t_ref = {p.t_ref} must be at least one step dt = {p.dt}"
    if float(p.tau_s) <= float(p.dt):
        return f"tau_s = {p.tau_s} must exceed the step dt = {p.dt}"
    return None


VARIANT = Variant(
    name=NAME,
    summary="conductance-based compartments and synapses with integrate-and-fire somata (threshold, reset, "
            "refractory period, frozen membrane fluctuation); plasticity from window averages",
    parameters=PARAMETERS,
    timing=timing,
    network=network,
    oracle=conductance.oracle,
    dataset_defaults=spiking.rate_settings_in_milliseconds(),
    validate=validate,
    check_images=spiking.check_images,
    exact_oracle=False,
)
