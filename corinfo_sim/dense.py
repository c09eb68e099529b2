"""Dense numpy implementation of the CorInfoMax rate network (the paper's mathematics).

This is the reference the Brian2 simulation must match: the tests use it as their
oracle, and ``corinfo-sim bench`` times it as the baseline. It follows ``docs/model.md`` of the
project literally, in the paper's dimensionless units, with online updates (one sample per
update) and the input drive ``W_ff,1 x`` computed once per sample. The free phase also runs on
a batch of samples at once (:func:`free_rates`): the same functions, with the samples as columns.

Notation
--------
Layers ``k = 0..L`` with ``r_0 = x``. ``W["Wff{k}"]`` is n_k × n_{k-1} (k = 1..L),
``W["Wfb{k}"]`` is n_k × n_{k+1} (k = 1..L-1), ``W["B{k}"]`` is n_k × n_k (k = 1..L).
Potentials and rates are lists indexed by layer: ``u[0]`` is None, ``r[0] = x``. A state is
one sample (vectors, ``u_k`` of shape (n_k,)) or a batch (matrices, (n_k, n_samples): one
column per sample, the multipliers ``s_k``, ``q_k`` of shape (n_samples,)).
ε = ``epsilon``, λ = ``lam``, γ = (1 − λ)/λ, g_L = ``g_leak``, η = ``eta``.

Neural dynamics (one forward-Euler step ``u_k ← u_k + η_t du_k``)
-----------------------------------------------------------------
- rate: ``r_k = σ(u_k)``, σ the hard sigmoid ``clip(u, 0, 1)``; in a sparse layer
  ``r_k = ReLU(u_k)`` (not clipped at 1);
- basal potential ``v_B,k = W_ff,k r_{k-1}``, lateral term ``z_k = B_k r_k``;
- apical potential, hidden layer (k < L):
  ``v_A,k = ε (2γ z_k + g_L r_k − s_k) + W_fb,k r_{k+1}``;
  output layer: ``v_A,L = γ z_L + g_L r_L − s_L − β (r_L − y)``
  (``s_k = 0`` unless layer k is sparse);
- soma, hidden: ``du_k = −g_L u_k + (v_B,k − u_k)/ε + (v_A,k − u_k)/ε``;
  output: ``du_L = −g_L u_L + (v_B,L − u_L)/ε + (v_A,L − u_L)``;
- sparse layer k (CorInfoMax-Sparse): a global inhibitory interneuron with potential
  ``q_k`` holds the Lagrange multiplier ``s_k ≥ 0`` of the constraint ``Σ_i r_k,i ≤ 1``.
  After layer k's rates of the step are computed:
  ``q_k ← q_k + η_s,k (Σ_i r_k,i − 1 − q_k + s_k)``, then ``s_k ← ReLU(q_k)`` (per sample);
  the soma update of the step used the ``s_k`` from before this update.
- step size: η, or with a schedule ``η_t = max(η / (1 + 0.01 t), 0.001)``, t the index of
  the step within its phase.
- update order: "simultaneous" (Jacobi: every layer from the previous step's rates) or
  "layered" (Gauss–Seidel, bottom-up: layer k's basal input reads the rate of layer k − 1
  computed in the same step; its lateral and feedback inputs are the old rates).
- settling to a tolerance (``settle_tol`` > 0): a phase ends after the first step in which no
  somatic potential changed by ``settle_tol`` or more (``max_k,i |Δu_k,i| < settle_tol``), at
  the latest after its step count; each sample of a batch settles on its own.

One training sample
-------------------
Free phase from ``u = 0`` (and ``q = s = 0``) with β = 0 for ``n_free`` steps → ``r^f``; nudged
phase with β for ``n_nudged`` steps → ``r^n`` (optionally a third phase with −β →
``r^−``). Plasticity, once, from the stored rates and the old weights:

- ``e = r_k − W_ff,k r_{k-1}``, ``ΔW_ff,k = (η_ff,k / β) (e^n (r_{k-1}^n)ᵀ − e^f (r_{k-1}^f)ᵀ)``;
- ``e = r_k − W_fb,k r_{k+1}``, ``ΔW_fb,k = (η_fb,k / β) (e^n (r_{k+1}^n)ᵀ − e^f (r_{k+1}^f)ᵀ)``;
- three-phase: the contrast is ``+β`` against ``−β`` divided by ``2β``;
- lateral: ``z = B_k r_k^n`` (the +β state), ``B_k ← (B_k − γ z zᵀ) / λ``.
"""
from dataclasses import dataclass, field

import numpy as np

ETA_SCHEDULES = ("off", "free", "both")
UPDATE_ORDERS = ("simultaneous", "layered")
NUDGED_STARTS = ("continue", "rates")


class ForgettingFactors:
    """γ, λ_B and γ_B of a parameter set with attributes ``lam`` (λ) and ``lambda_batch`` (m)."""

    @property
    def gamma(self):
        """γ = (1 − λ)/λ, the weight of the lateral term in the neural dynamics."""
        return (1 - self.lam) / self.lam

    @property
    def lam_update(self):
        """λ_B = λ^(1/m), the forgetting factor of each per-sample update of B."""
        return lambda_update(self.lam, self.lambda_batch)

    @property
    def gamma_update(self):
        """γ_B = (1 − λ_B)/λ_B, the anti-Hebbian step of each per-sample update of B."""
        return (1 - self.lam_update) / self.lam_update


@dataclass(frozen=True)
class DenseParams(ForgettingFactors):
    """Dimensionless parameters of the rate network (``docs/model.md``).

    Parameters
    ----------
    epsilon : float
        ε, the weight of the prediction errors (and the hidden somatic time constant).
    lam : float
        λ, the forgetting factor of the correlation estimate; γ = (1 − λ)/λ.
    g_leak : float
        g_L, the somatic leak (the Hopfield ``g`` of the paper's code).
    eta : float
        η, the Euler step of the somatic dynamics.
    n_free, n_nudged : int
        Euler steps of the free phase and of each nudged phase.
    eta_schedule : {"off", "free", "both"} or bool
        Neural step schedule ``η_t = max(η / (1 + 0.01 t), 0.001)``, t the step index within
        the phase: "off" never (constant η); "free" in the free phase only (the nudged phases
        use η); "both" in every phase, t restarting at 0 at each phase's start. ``True``
        means "free" and ``False`` "off" (normalised on construction).
    update_order : {"simultaneous", "layered"}
        "simultaneous": every layer is updated from the previous step's rates (Jacobi).
        "layered": within a step the layers are updated bottom-up, k = 1..L, layer k's
        basal input ``W_ff,k r_{k-1}`` reading the rate of layer k − 1 computed in the same
        step, its lateral ``B_k r_k`` and feedback ``W_fb,k r_{k+1}`` inputs the rates from
        before its update (Gauss–Seidel; the order of the paper's code).
    nudged_start : {"continue", "rates"}
        Start of every phase after the free one: "continue" from the potentials u at the end
        of the previous phase; "rates": u is replaced by the rates σ(u) of that state (as
        the paper's code does).
    three_phase : bool
        After the +β phase, run a −β phase of ``n_nudged`` steps from the +β state; the
        plasticity contrasts the +β and −β states (divided by 2β) instead of the +β and
        free states.
    settle_tol : float
        Tolerance of settling: a phase ends after the first step in which every somatic
        potential changed by less than this (``max |Δu| < settle_tol``), its step count being the
        cap; 0 runs every phase for its whole step count.
    lambda_batch : int
        m, the samples per step of λ: each per-sample update of B forgets by λ_B = λ^(1/m) and
        subtracts γ_B z zᵀ, γ_B = (1 − λ_B)/λ_B (:func:`lambda_update`); the dynamics use γ.
    sparse_layers : tuple of int
        Layers k (1..L) of CorInfoMax-Sparse: ReLU rates and a multiplier ``s_k`` enforcing
        ``Σ_i r_k,i ≤ 1``.
    eta_s : tuple of float
        η_s,k, the step size of each layer's multiplier potential ``q_k``, one per layer
        k = 1..L (entries of layers that are not sparse are ignored). Required (length L)
        when ``sparse_layers`` is not empty.
    gate_clipped : bool
        No forward or feedback plasticity onto a neuron whose rate sits at a bound of its rate
        function (0, or 1 for the hard sigmoid) in both contrasted states (:func:`clipped`).
    """

    epsilon: float = 0.15
    lam: float = 0.99999
    g_leak: float = 0.5
    eta: float = 0.05
    n_free: int = 30
    n_nudged: int = 10
    eta_schedule: str = "off"
    update_order: str = "simultaneous"
    nudged_start: str = "continue"
    three_phase: bool = False
    lambda_batch: int = 1
    settle_tol: float = 0.0
    sparse_layers: tuple = field(default=())
    eta_s: tuple = field(default=())
    gate_clipped: bool = False

    def __post_init__(self):
        schedule = self.eta_schedule
        if isinstance(schedule, (bool, np.bool_)):
            schedule = "free" if schedule else "off"
        if schedule not in ETA_SCHEDULES:
            raise ValueError(f"eta_schedule must be one of {ETA_SCHEDULES} or a bool, got {schedule!r}")
        if self.update_order not in UPDATE_ORDERS:
            raise ValueError(f"update_order must be one of {UPDATE_ORDERS}, got {self.update_order!r}")
        if self.nudged_start not in NUDGED_STARTS:
            raise ValueError(f"nudged_start must be one of {NUDGED_STARTS}, got {self.nudged_start!r}")
        sparse = tuple(sorted({int(k) for k in self.sparse_layers}))
        if any(k < 1 for k in sparse):
            raise ValueError(f"sparse_layers are layer numbers 1..L, got {self.sparse_layers!r}")
        eta_s = tuple(float(a) for a in np.atleast_1d(self.eta_s)) if np.size(self.eta_s) else ()
        if not self.settle_tol >= 0:
            raise ValueError(f"settle_tol must be ≥ 0, got {self.settle_tol!r}")
        object.__setattr__(self, "eta_schedule", schedule)
        object.__setattr__(self, "three_phase", bool(self.three_phase))
        object.__setattr__(self, "sparse_layers", sparse)
        object.__setattr__(self, "eta_s", eta_s)

    def step_size(self, t):
        """η_t of step ``t`` of a scheduled phase: ``max(η / (1 + 0.01 t), 0.001)``."""
        return max(self.eta / (1 + 0.01 * t), 0.001)


def n_layers(W):
    """Number L of weight layers in a weights dict."""
    return sum(1 for key in W if key.startswith("Wff"))


def _check_sparse(p, L):
    """The sparse layers of ``p`` for an L-layer network, checked against L."""
    if p.sparse_layers:
        if p.sparse_layers[-1] > L:
            raise ValueError(f"sparse_layers {p.sparse_layers} name a layer beyond L = {L}")
        if len(p.eta_s) != L:
            raise ValueError(f"eta_s needs one step size per layer (L = {L}), got {p.eta_s!r}")
    return p.sparse_layers


def activation(u, sparse=False):
    """Rate of a potential: the hard sigmoid ``clip(u, 0, 1)``, or ``ReLU(u)`` in a sparse layer."""
    return np.maximum(u, 0.0) if sparse else np.clip(u, 0.0, 1.0)


def rates(x, u, p=None):
    """Rates ``[x, r_1, ..., r_L]`` from potentials ``u`` (``u[0]`` unused).

    Parameters
    ----------
    x : ndarray (n_0,) or (n_0, n_samples)
        Input rates, returned as ``r[0]``.
    u : list of ndarray
        Potentials of layers 1..L (vectors, or matrices with one column per sample).
    p : DenseParams, optional
        For its ``sparse_layers`` (ReLU rates); all layers use the hard sigmoid when None.
    """
    sparse = p.sparse_layers if p is not None else ()
    return [x] + [activation(uk, k in sparse) for k, uk in enumerate(u[1:], start=1)]


def relax(W, x, y, beta, n_steps, p, u=None, drive=None, first_step=None, s=None, q=None, steps=None):
    """Run ``n_steps`` forward-Euler steps of the somatic dynamics (see the module docstring), or
    fewer: with ``p.settle_tol`` > 0 a sample stops after the first step in which no potential
    changed by ``settle_tol`` or more.

    Parameters
    ----------
    W : dict
        Weights in the public format.
    x : ndarray (n_0,) or (n_0, n_samples)
        Input rates: one sample, or a batch with one column per sample (then every state below
        has one column, or entry, per sample).
    y : ndarray (n_L,) or (n_L, n_samples)
        One-hot label (only used when ``beta != 0``; for a batch, (n_L, 1) broadcasts).
    beta : float
        Nudging strength (0 in the free phase).
    n_steps : int
        Number of Euler steps.
    p : DenseParams
        Uses ``update_order``, ``sparse_layers``, ``eta_s`` and, with ``first_step``, the
        schedule (``nudged_start`` and ``three_phase`` belong to :func:`run_phase` and
        :func:`train_sample`).
    u : list of ndarray, optional
        Somatic potentials of layers 1..L (index 0 unused); zeros (of the type of ``x`` and the
        weights) when None. Not modified.
    drive : ndarray, optional
        ``W_ff,1 x``, computed when None.
    first_step : int, optional
        Index within its phase of the first step, for the neural step schedule: steps are
        scheduled (``η_t``, t = first_step, first_step + 1, ...) when this is given and
        ``p.eta_schedule`` is not "off"; None gives the constant η.
    s, q : dict, optional
        ``{k: s_k}`` and ``{k: q_k}`` of the sparse layers at the start (0 for a missing
        layer; for a batch, arrays (n_samples,) or scalars); when given, the dicts are updated
        in place to the values at the end.
    steps : list, optional
        When given, the number of steps each sample took is appended to it (an int, or for a
        batch an array (n_samples,)).

    Returns
    -------
    u : list of ndarray
        Potentials after the steps (``u[0]`` is None).
    """
    L = n_layers(W)
    sparse = _check_sparse(p, L)
    if u is None:
        dtype = np.result_type(x, W["B1"])
        u = [None] + [np.zeros(W[f"B{k}"].shape[:1] + np.shape(x)[1:], dtype=dtype) for k in range(1, L + 1)]
    if drive is None:
        drive = W["Wff1"] @ x
    s = {} if s is None else s
    q = {} if q is None else q
    for k in sparse:
        s.setdefault(k, 0.0)
        q.setdefault(k, 0.0)
    Wff = [None, None] + [W[f"Wff{k}"] for k in range(2, L + 1)]
    Wfb = [None] + [W[f"Wfb{k}"] for k in range(1, L)] + [None]
    B = [None] + [W[f"B{k}"] for k in range(1, L + 1)]
    is_sparse = [k in sparse for k in range(L + 1)]
    layered = p.update_order == "layered"
    scheduled = p.eta_schedule != "off" and first_step is not None
    eps, gamma, gl = p.epsilon, p.gamma, p.g_leak
    r = [x] + [activation(u[k], is_sparse[k]) for k in range(1, L + 1)]
    settle = p.settle_tol > 0
    # samples still running (all of them without a tolerance) and the steps each one took
    running = np.ones(np.shape(x)[1:], dtype=bool)
    taken = np.zeros(np.shape(x)[1:], dtype=np.int64)
    for step in range(n_steps):
        if not running.any():
            break
        eta = p.step_size(first_step + step) if scheduled else p.eta
        new = [None]
        for k in range(1, L + 1):
            # with "layered", r[k - 1] was already replaced by this step's rate of layer k - 1
            v_b = drive if k == 1 else Wff[k] @ r[k - 1]
            z = B[k] @ r[k]
            if k < L:
                v_a = eps * (2 * gamma * z + gl * r[k]) + Wfb[k] @ r[k + 1]
                if is_sparse[k]:
                    v_a -= eps * s[k]
                du = -gl * u[k] + (v_b - u[k]) / eps + (v_a - u[k]) / eps
            else:
                v_a = gamma * z + gl * r[k] - beta * (r[k] - y)
                if is_sparse[k]:
                    v_a -= s[k]
                du = -gl * u[k] + (v_b - u[k]) / eps + (v_a - u[k])
            new.append(u[k] + eta * du if not settle else np.where(running, u[k] + eta * du, u[k]))
            if layered:
                r[k] = activation(new[k], is_sparse[k])
        change = np.max([np.abs(new[k] - u[k]).max(axis=0) for k in range(1, L + 1)], axis=0) if settle else None
        u = new
        if not layered:
            r = [x] + [activation(u[k], is_sparse[k]) for k in range(1, L + 1)]
        # the multipliers read only their own layer's new rates: the same in either order
        for k in sparse:
            q_new = q[k] + p.eta_s[k - 1] * (r[k].sum(axis=0) - 1.0 - q[k] + s[k])
            q[k] = q_new if not settle else np.where(running, q_new, q[k])
            s[k] = np.maximum(q[k], 0.0)
        taken += running
        if settle:
            running = running & (change >= p.settle_tol)
    if steps is not None:
        steps.append(taken if taken.ndim else int(taken))
    return u


@dataclass
class PhaseState:
    """State of the network at the end of a phase.

    Attributes
    ----------
    u : list of ndarray
        Potentials ``[None, u_1, ..., u_L]``.
    r : list of ndarray
        Rates ``[x, r_1, ..., r_L]``.
    s, q : dict
        ``{k: s_k}`` multipliers and ``{k: q_k}`` interneuron potentials of the sparse layers.
    steps : int or ndarray
        Steps the phase took (fewer than its step count when it settled, ``settle_tol``).
    """

    u: list
    r: list
    s: dict
    q: dict
    steps: object = None

    def as_dict(self):
        """``{"u": [...], "r": [...], "s": {k: s_k}, "q": {k: q_k}, "steps": n}`` (copies of the containers)."""
        return {"u": list(self.u), "r": list(self.r), "s": dict(self.s), "q": dict(self.q), "steps": self.steps}


def run_phase(W, x, y, beta, n_steps, p, prev=None, drive=None):
    """Run one phase of a sample from the end state of the previous phase.

    Parameters
    ----------
    W, x, y, beta, n_steps, p, drive
        As in :func:`relax`.
    prev : PhaseState, optional
        End state of the previous phase; None for the free phase at the sample's onset.

    Returns
    -------
    PhaseState
        The state after the phase.

    Notes
    -----
    At the onset (``prev`` None) ``u = 0``, ``q = s = 0`` and the steps are scheduled unless
    ``p.eta_schedule`` is "off". A later phase starts from ``prev.u`` ("continue") or from
    ``prev.r`` ("rates", ``p.nudged_start``), with ``s`` continuing and ``q = s``; its steps are
    scheduled only with ``p.eta_schedule == "both"``, t restarting at 0.
    """
    if prev is None:
        u, s, q, first_step = None, {}, {}, 0
    else:
        u = [None] + list(prev.r[1:]) if p.nudged_start == "rates" else prev.u
        s, q = dict(prev.s), dict(prev.s)
        first_step = 0 if p.eta_schedule == "both" else None
    steps = []
    u = relax(W, x, y, beta, n_steps, p, u=u, drive=drive, first_step=first_step, s=s, q=q, steps=steps)
    return PhaseState(u=u, r=rates(x, u, p), s=s, q=q, steps=steps[0])


def train_sample(W, x, y, beta, lr_ff, lr_fb, p, states=None):
    """One online training sample: free phase, nudged phase(s), plasticity (in place).

    Parameters
    ----------
    W : dict
        Weights, updated in place.
    x : ndarray (n_0,)
        Input rates.
    y : ndarray (n_L,)
        One-hot label.
    beta : float
        Nudging strength β of the (+β) nudged phase; its sign may be negative.
    lr_ff : sequence of float
        η_ff,k for k = 1..L (``lr_ff[k - 1]``).
    lr_fb : sequence of float
        η_fb,k for k = 1..L-1 (``lr_fb[k - 1]``).
    p : DenseParams
    states : dict, optional
        When a dict, filled with the end state of each phase as
        ``{"u": [...], "r": [...], "s": {k: s_k}, "q": {k: q_k}}`` under "free", "nudged"
        (the +β phase) and, with ``p.three_phase``, "minus" (the −β phase).

    Returns
    -------
    r_free, r_nudged : list of ndarray
        Rates of every layer (index 0 = input) at the end of the free and of the +β phase.

    Notes
    -----
    Two-phase: ``ΔW_ff,k = (η_ff,k/β)(e^n (r_{k-1}^n)ᵀ − e^f (r_{k-1}^f)ᵀ)`` with
    ``e = r_k − W_ff,k r_{k-1}``, likewise W_fb with ``e = r_k − W_fb,k r_{k+1}`` and
    ``r_{k+1}``. Three-phase: the +β state replaces n, the −β state replaces f and β becomes
    2β. All ΔW are computed from the old weights before any is applied; then
    ``B_k ← (B_k − γ z zᵀ)/λ`` with ``z = B_k r_k^n`` (the +β state).
    """
    L = n_layers(W)
    drive = W["Wff1"] @ x
    free = run_phase(W, x, y, 0.0, p.n_free, p, drive=drive)
    nudged = run_phase(W, x, y, beta, p.n_nudged, p, prev=free, drive=drive)
    if p.three_phase:
        minus = run_phase(W, x, y, -beta, p.n_nudged, p, prev=nudged, drive=drive)
        r_a, r_b, contrast_beta = nudged.r, minus.r, 2 * beta
    else:
        minus = None
        r_a, r_b, contrast_beta = nudged.r, free.r, beta
    if states is not None:
        states["free"] = free.as_dict()
        states["nudged"] = nudged.as_dict()
        if minus is not None:
            states["minus"] = minus.as_dict()
    updates = {}
    for k in range(1, L + 1):
        # the rows of neurons clipped in both states do not learn (gate_clipped)
        gate = ~clipped(r_a[k], r_b[k], k in p.sparse_layers)[:, None] if p.gate_clipped else 1.0
        Wff = W[f"Wff{k}"]
        e_a, e_b = r_a[k] - Wff @ r_a[k - 1], r_b[k] - Wff @ r_b[k - 1]
        updates[f"Wff{k}"] = gate * lr_ff[k - 1] / contrast_beta * (np.outer(e_a, r_a[k - 1])
                                                                   - np.outer(e_b, r_b[k - 1]))
        if k < L:
            Wfb = W[f"Wfb{k}"]
            e_a, e_b = r_a[k] - Wfb @ r_a[k + 1], r_b[k] - Wfb @ r_b[k + 1]
            updates[f"Wfb{k}"] = gate * lr_fb[k - 1] / contrast_beta * (np.outer(e_a, r_a[k + 1])
                                                                       - np.outer(e_b, r_b[k + 1]))
    for key, dW in updates.items():
        W[key] += dW
    for k in range(1, L + 1):
        W[f"B{k}"] = lateral_update(W[f"B{k}"], nudged.r[k], p)
    return free.r, nudged.r


def clipped(r_a, r_b, relu=False):
    """Neurons whose rate sits at a bound of the rate function in both contrasted states.

    The bounds are 0 and 1 for the hard sigmoid, 0 for the ReLU of a sparse layer (``relu``).
    Such a neuron's rate did not respond to the nudging, yet the contrast of its prediction
    errors ``e = r − W r_pre`` is not zero: it is ``−W (r_pre^a r_pre^aᵀ − r_pre^b r_pre^bᵀ)``,
    proportional to the neuron's own weights. With ``gate_clipped`` their rows do not learn.
    """
    at_bound = (r_a <= 0) if relu else (r_a <= 0) | (r_a >= 1)
    return (r_a == r_b) & at_bound


def lambda_update(lam, lambda_batch):
    """λ_B = λ^(1/m): the per-sample forgetting factor that remembers as long as λ per batch of m.

    The paper updates B once per batch of m samples, ``B ← (B − γ ⟨z zᵀ⟩)/λ``: the correlation
    estimate R ← λR + (1 − λ)⟨r rᵀ⟩ forgets by λ per m samples. Online, B is updated after every
    sample; m updates with λ_B = λ^(1/m) and γ_B = (1 − λ_B)/λ_B forget as much and, to first
    order in γ, add the same ``γ ⟨z zᵀ⟩``. Keeping λ per sample instead shortens the memory m-fold,
    and along directions that the rates no longer visit B grows like λ^(−t) (t in updates).
    """
    return lam ** (1.0 / lambda_batch)


def lateral_update(B, r, p):
    """One per-sample anti-Hebbian update of the lateral matrix: ``(B − γ_B z zᵀ)/λ_B``, z = B r.

    ``r`` is the layer's rate vector of the state the rule reads (the nudged one), or a batch
    with one column per sample, updated one after the other.
    """
    r = np.asarray(r)
    for col in (r.T if r.ndim == 2 else (r,)):
        z = B @ col
        B = (B - p.gamma_update * np.outer(z, z)) / p.lam_update
    return B


def free_rates(W, X, p, batch=1000, dtype=np.float64, steps=None):
    """Free-phase rates of every layer for every row of ``X``, a batch of samples at a time.

    Each block of ``batch`` samples runs :func:`run_phase` (β = 0, from ``u = 0``) with one
    column per sample, so that every synaptic input is one matrix–matrix product.

    Parameters
    ----------
    W : dict
        Weights in the public format (cast to ``dtype`` once).
    X : ndarray (n_samples, n_0)
        Input rates, one sample per row.
    p : DenseParams
    batch : int
        Samples per block (the result does not depend on it beyond rounding).
    dtype : numpy dtype
        Floating-point type of the computation, ``np.float64`` or ``np.float32``.
    steps : list, optional
        When given, the free-phase steps of every sample (array (n_samples,)) are appended to it.

    Returns
    -------
    dict
        ``{k: r_k}`` for k = 1..L, ``r_k`` of shape (n_samples, n_k) in ``dtype``.
    """
    if batch < 1:
        raise ValueError(f"batch must be a positive number of samples, got {batch!r}")
    L = n_layers(W)
    W = {key: np.asarray(w, dtype=dtype) for key, w in W.items()}
    X = np.asarray(X)
    out = {k: np.empty((len(X), W[f"B{k}"].shape[0]), dtype=dtype) for k in range(1, L + 1)}
    no_label = np.zeros((W[f"B{L}"].shape[0], 1), dtype=dtype)
    taken = np.zeros(len(X), dtype=np.int64)
    for first in range(0, len(X), batch):
        block = np.ascontiguousarray(X[first:first + batch].T, dtype=dtype)
        state = run_phase(W, block, no_label, 0.0, p.n_free, p)
        for k in out:
            out[k][first:first + batch] = state.r[k].T
        taken[first:first + batch] = state.steps
    if steps is not None:
        steps.append(taken)
    return out


def predict(W, X, p):
    """Free-phase output rates for each row of ``X`` (shape (n, n_L)), by :func:`free_rates`."""
    return free_rates(W, X, p)[n_layers(W)]


# ---- equilibrium propagation (models/ep.py) -------------------------------------------------------
@dataclass(frozen=True)
class EPParams:
    """Parameters of equilibrium propagation's neural dynamics (Scellier & Bengio 2017).

    Parameters
    ----------
    eta : float
        η, the step of ``s_k ← σ(s_k − η ∂Φ/∂s_k)``.
    n_free, n_nudged : int
        Steps of the free phase (from s = 0, β = 0) and of the nudged phase (continuing, β).
    """

    eta: float = 0.5
    n_free: int = 20
    n_nudged: int = 4


def ep_layers(W):
    """Number L of weight layers of equilibrium propagation's weights (keys ``W{k}``, ``b{k}``)."""
    return sum(1 for key in W if key.startswith("W"))


def ep_relax(W, x, y, beta, n_steps, p, s=None, drive=None):
    """``n_steps`` steps of equilibrium propagation's dynamics, every layer from the previous step.

    With the energy Φ = ½ Σ_k ‖s_k‖² − Σ_k s_kᵀ(W_k s_{k−1} + b_k) + β ‖s_L − y‖²,
    ``s_k ← σ((1 − η) s_k + η (W_k s_{k−1} + b_k + W_{k+1}ᵀ s_{k+1}))``, at the output plus
    ``2ηβ (y − s_L)``; σ = clip(·, 0, 1), ``s_0 = x``.

    Parameters
    ----------
    W : dict
        ``W{k}`` (n_k × n_{k−1}) and ``b{k}`` (n_k,), k = 1..L.
    x : ndarray (n_0,) or (n_0, n_samples)
        Input: one sample, or a batch with one column per sample.
    y : ndarray (n_L,) or (n_L, n_samples)
        One-hot label (used when ``beta != 0``).
    beta : float
    n_steps : int
    p : EPParams
    s : list of ndarray, optional
        States ``[x, s_1, ..., s_L]`` to start from (zeros when None); not modified.
    drive : ndarray, optional
        ``W_1 x``, computed when None.

    Returns
    -------
    list of ndarray
        ``[x, s_1, ..., s_L]`` after the steps.
    """
    L = ep_layers(W)
    if drive is None:
        drive = W["W1"] @ x
    column = (slice(None),) + (None,) * (np.ndim(x) - 1)  # a bias as a column of a batch
    b = [None] + [W[f"b{k}"][column] for k in range(1, L + 1)]
    if s is None:
        dtype = np.result_type(x, W["W1"])
        s = [x] + [np.zeros(W[f"W{k}"].shape[:1] + np.shape(x)[1:], dtype=dtype) for k in range(1, L + 1)]
    eta = p.eta
    for _ in range(n_steps):
        new = [x]
        for k in range(1, L + 1):
            total = (drive if k == 1 else W[f"W{k}"] @ s[k - 1]) + b[k]
            if k < L:
                total = total + W[f"W{k + 1}"].T @ s[k + 1]
            v = s[k] + eta * (total - s[k])
            if k == L and beta != 0:
                v = v + 2 * eta * beta * (y - s[k])
            new.append(np.clip(v, 0.0, 1.0))
        s = new
    return s


def ep_train_sample(W, x, y, beta, lr, p, states=None):
    """One online equilibrium-propagation sample: free phase, nudged phase, update (in place).

    ``ΔW_k = (η_k/β)(s_k^n s_{k−1}^nᵀ − s_k^f s_{k−1}^fᵀ)``, ``Δb_k = (η_k/β)(s_k^n − s_k^f)``,
    from the old weights.

    Parameters
    ----------
    W : dict
        Weights, updated in place.
    x, y : ndarray
        Input (n_0,) and one-hot label (n_L,).
    beta : float
        Signed nudging strength.
    lr : sequence of float
        η_k, k = 1..L.
    p : EPParams
    states : dict, optional
        Filled with ``{"free": {"r": [...]}, "nudged": {"r": [...]}}``.

    Returns
    -------
    s_free, s_nudged : list of ndarray
    """
    L = ep_layers(W)
    drive = W["W1"] @ x
    free = ep_relax(W, x, y, 0.0, p.n_free, p, drive=drive)
    nudged = ep_relax(W, x, y, beta, p.n_nudged, p, s=free, drive=drive)
    if states is not None:
        states["free"], states["nudged"] = {"r": list(free)}, {"r": list(nudged)}
    for k in range(1, L + 1):
        step = lr[k - 1] / beta
        W[f"W{k}"] += step * (np.outer(nudged[k], nudged[k - 1]) - np.outer(free[k], free[k - 1]))
        W[f"b{k}"] += step * (nudged[k] - free[k])
    return free, nudged


def ep_free_rates(W, X, p, batch=1000, dtype=np.float64):
    """Free-phase states of every layer for every row of ``X`` (as :func:`free_rates`).

    Returns
    -------
    dict
        ``{k: s_k}``, each (n_samples, n_k) in ``dtype``.
    """
    if batch < 1:
        raise ValueError(f"batch must be a positive number of samples, got {batch!r}")
    L = ep_layers(W)
    W = {key: np.asarray(w, dtype=dtype) for key, w in W.items()}
    X = np.asarray(X)
    out = {k: np.empty((len(X), W[f"W{k}"].shape[0]), dtype=dtype) for k in range(1, L + 1)}
    for first in range(0, len(X), batch):
        block = np.ascontiguousarray(X[first:first + batch].T, dtype=dtype)
        s = ep_relax(W, block, None, 0.0, p.n_free, p)
        for k in out:
            out[k][first:first + batch] = s[k].T
    return out
