"""Backprop and feedback alignment: the feed-forward references CorInfoMax is compared with.

Not neural simulations: dense numpy, online (one sample per update), run by the same training
loop, run folders, sweeps and figures as the Brian2 networks (:class:`ReferenceSession` runs a
:class:`~corinfo_sim.network.Plan` as :class:`corinfo_sim.session.Session` does).

The network is the CorInfoMax network's architecture, layered and feed-forward, with the same
hard-sigmoid units and the same initialisation (Xavier-uniform weights, biases 0):

    a_k = W_k h_{k−1} + b_k,   h_k = σ(a_k) = clip(a_k, 0, 1),   h_0 = x,   k = 1..L,

the prediction is argmax h_L, and the loss of a sample the mean-squared error of the output,
taken for the hard sigmoid as its matching loss Σ_i ∫_0^{a_L,i} (σ(t) − y_i) dt, which is
½ ‖a_L − y‖² (up to a constant) while the outputs are in [0, 1] and whose error h_L − y reaches a
saturated output too: with ½ ‖σ(a_L) − y‖² itself, an output unit driven below 0 for its own
class never recovers (σ' = 0 there; backprop stalled at 59 % on digits, seed 0). EP's teacher
2β (y − s_L) and CorInfoMax's −β (r_L − y) act on saturated outputs in the same way. Its error
signals, with σ'(a) = 1 on (0, 1) and 0 elsewhere:

    δ_L = h_L − y,   δ_k = (G_k δ_{k+1}) ⊙ σ'(a_k),
    ΔW_k = −η_k δ_k h_{k−1}ᵀ,   Δb_k = −η_k δ_k,

with G_k = W_{k+1}ᵀ for **backprop** (the gradient: weight transport) and G_k = F_k, a fixed
random matrix (n_k × n_{k+1}, Xavier-uniform, never learned), for **feedback alignment**
(Lillicrap et al. 2016). Weights files: ``W{k}``, ``b{k}`` (and ``F{k}``, k = 1..L−1, for
feedback alignment), with ``rule`` = ``"bp"`` or ``"fa"``.
"""
import time

import numpy as np

from .session import RunResult
from .weights import WeightScheme, layered_init, layered_shapes

#: Progress reports per segment.
PROGRESS_EVERY_S = 1.0


def n_layers(W):
    """Number L of weight layers (keys ``W{k}``)."""
    return sum(1 for key in W if key.startswith("W"))


def forward(W, x):
    """The forward pass: potentials ``a`` and rates ``h`` of every layer.

    Parameters
    ----------
    W : dict
        ``W{k}``, ``b{k}`` (and ``F{k}``, unused here).
    x : ndarray (n_0,) or (n_0, n_samples)
        One input, or a batch with one column per sample.

    Returns
    -------
    a : list
        ``[None, a_1, ..., a_L]``.
    h : list
        ``[x, h_1, ..., h_L]``.
    """
    a, h = [None], [x]
    column = (slice(None),) + (None,) * (np.ndim(x) - 1)
    for k in range(1, n_layers(W) + 1):
        a.append(W[f"W{k}"] @ h[-1] + W[f"b{k}"][column])
        h.append(np.clip(a[-1], 0.0, 1.0))
    return a, h


def loss(W, x, y):
    """The loss of one sample: Σ_i ℓ(a_L,i, y_i), ℓ(a, y) = ∫_0^a (σ(t) − y) dt (the matching loss of
    the hard sigmoid; ½ (a − y)² − ½ y² for a in [0, 1])."""
    a = forward(W, x)[0][-1]
    inside = np.clip(a, 0.0, 1.0)
    return float(np.sum(0.5 * inside ** 2 + np.maximum(a - 1.0, 0.0) - y * a))


def error_signals(W, x, y, feedback):
    """``(a, h, δ)``: the forward pass and the error signals ``δ = [None, δ_1, ..., δ_L]``.

    ``feedback`` is ``"bp"`` (δ_k from W_{k+1}ᵀ δ_{k+1}) or ``"fa"`` (from F_k δ_{k+1}).
    """
    a, h = forward(W, x)
    L = n_layers(W)
    delta = [None] * (L + 1)
    delta[L] = h[L] - y  # the matching loss: a saturated output unit is not dead (module docstring)
    for k in range(L - 1, 0, -1):
        G = W[f"W{k + 1}"].T if feedback == "bp" else W[f"F{k}"]
        delta[k] = (G @ delta[k + 1]) * ((a[k] > 0) & (a[k] < 1))
    return a, h, delta


def updates(W, x, y, feedback):
    """``{key: update direction}``: δ_k h_{k−1}ᵀ for ``W{k}`` and δ_k for ``b{k}`` (for backprop the
    gradient of :func:`loss`), and the forward rates ``h``."""
    _, h, delta = error_signals(W, x, y, feedback)
    out = {}
    for k in range(1, n_layers(W) + 1):
        out[f"W{k}"] = np.outer(delta[k], h[k - 1])
        out[f"b{k}"] = delta[k]
    return out, h


def train_sample(W, x, y, lr, feedback, buffers=None):
    """One online SGD step (in place): ``W_k −= η_k δ_k h_{k−1}ᵀ``, ``b_k −= η_k δ_k``.

    ``buffers`` (a dict, filled on first use) holds one array per matrix for the outer products,
    so that a step allocates no matrix (allocating and freeing megabytes per sample cost a Dask
    worker thread more system time than the arithmetic). Returns the rates ``h`` of the forward
    pass before the step (its prediction).
    """
    _, h, delta = error_signals(W, x, y, feedback)
    buffers = {} if buffers is None else buffers
    for k in range(1, n_layers(W) + 1):
        key = f"W{k}"
        if key not in buffers:
            buffers[key] = np.empty_like(W[key])
        step = -lr[k - 1] * delta[k]
        W[key] += np.multiply.outer(step, h[k - 1], out=buffers[key])
        W[f"b{k}"] += step
    return h


def free_rates(weights, X, params=None, dtype=np.float64, batch=1000):
    """Rates of every layer for the rows of ``X``: ``{k: h_k}``, each (n_samples, n_k)."""
    W = {key: np.asarray(w, dtype=dtype) for key, w in weights.items()}
    L = n_layers(W)
    out = {k: np.empty((len(X), W[f"W{k}"].shape[0]), dtype=dtype) for k in range(1, L + 1)}
    for first in range(0, len(X), batch):
        h = forward(W, np.ascontiguousarray(np.asarray(X[first:first + batch]).T, dtype=dtype))[1]
        for k in out:
            out[k][first:first + batch] = h[k].T
    return out


# ---- weights -------------------------------------------------------------------------------------
def weight_scheme(feedback, description):
    """The :class:`~corinfo_sim.weights.WeightScheme` of ``"bp"`` or ``"fa"``."""
    return WeightScheme(feedback, lambda arch: layered_shapes(arch, feedback == "fa"),
                        lambda arch, rng: layered_init(arch, rng, feedback == "fa"), description)


# ---- running plans -------------------------------------------------------------------------------
class ReferenceSession:
    """Runs :class:`~corinfo_sim.network.Plan` s of a reference as a compiled session runs them.

    Parameters
    ----------
    params : Params
        Of model ``fa`` or ``bp`` (its ``lr``).
    images : ndarray (n_images, n_0)
    labels : ndarray (n_images,)
    segments : dict
        Slots per segment (``train``, ``test``, ``probe``).
    """

    def __init__(self, params, images, labels, segments):
        self.params, self.images, self.labels = params, np.asarray(images, dtype=float), np.asarray(labels)
        self.segments = dict(segments)
        self.feedback = params.variant.weights.rule
        self.build_s, self.from_cache, self.build_dir = 0.0, False, ""

    def run(self, plan, weights, lr_factor=1.0, on_progress=None, params=None):
        """Learn from the plan's training samples one after the other (each prediction made before
        its update), then evaluate the other samples; returns a
        :class:`~corinfo_sim.session.RunResult` (no traces: a feed-forward pass has none)."""
        start = time.time()
        if params is not None:
            self.params = params
        W = {key: np.array(w, dtype=float) for key, w in weights.items()}
        lr = [rate * lr_factor for rate in self.params.lr]
        n_train = plan.segments["train"]
        n_slots = plan.n_slots - 1
        eye = np.eye(self.params.arch[-1])
        outputs = np.zeros((n_slots, self.params.arch[-1]))
        t0 = last = time.perf_counter()
        buffers = {}
        for s in range(n_train):
            x = self.images[plan.image[s]]
            if plan.learn[s]:
                h = train_sample(W, x, eye[plan.label[s]], lr, self.feedback, buffers)
            else:
                h = forward(W, x)[1]
            outputs[s] = h[-1]
            if on_progress is not None and time.perf_counter() - last > PROGRESS_EVERY_S:
                last = time.perf_counter()
                on_progress("train", s + 1, n_train)
        t1 = time.perf_counter()
        rest = np.arange(n_train, n_slots)
        rates = free_rates(W, self.images[plan.image[rest]]) if len(rest) else {}
        L = self.params.n_layers
        if len(rest):
            outputs[rest] = rates[L]
        recorded = np.flatnonzero(plan.record[:n_slots])
        record_rates = free_rates(W, self.images[plan.image[recorded]]) if len(recorded) else \
            {k: np.zeros((0, self.params.arch[k])) for k in range(1, L + 1)}
        t2 = time.perf_counter()
        return RunResult(weights=W, outputs=outputs, rates={k: (r, r) for k, r in record_rates.items()},
                         steps=None, traces=None, seconds=time.time() - start,
                         segment_s={"train": t1 - t0, "test": t2 - t1}, threads=1)

    def close(self, keep_build=False):
        """Nothing to release (there is no compiled network)."""


# ---- the variants --------------------------------------------------------------------------------
def variant(name, summary, dataset_defaults):
    """The :class:`~corinfo_sim.spec.Variant` of reference ``name`` (``"bp"`` or ``"fa"``).

    Its parameters: the common ones that apply (architecture, seed, order, the per-epoch decay)
    and ``lr``; it has no Brian2 network (``network`` None) and runs in a :class:`ReferenceSession`.
    """
    from .spec import COMMON, Parameter, Variant, fit_rates

    def check_rates(rates):
        return None if all(v > 0 for v in rates) else f"rates must be positive, got {list(rates)}"

    parameters = tuple(q for q in COMMON if q.name in ("arch", "lr_schedule", "seed", "shuffle", "dt")) + (
        Parameter("lr", lambda v: fit_rates(dataset_defaults["digits"]["lr"], len(v["arch"]) - 1),
                  "per-sample SGD learning rates η_k of W_k and b_k, one per layer k = 1..L (default the digits "
                  "rates)", kind="floats", check=check_rates, label="--lr", learning=True, runtime=True),
    )
    return Variant(
        name=name, summary=summary, parameters=parameters,
        timing=lambda p: {"free_steps": 1, "steps_per_sample": 1, "window_steps": 1, "tau": p.dt},
        network=None,
        oracle=lambda p: None,  # the reference is its own dense model
        dataset_defaults=dataset_defaults, exact_oracle=True,
        weights=weight_scheme(name, summary.split(":")[0]),
        session=ReferenceSession,
        free_rates=lambda weights, X, p, dtype=np.float64: free_rates(weights, X, dtype=dtype))
