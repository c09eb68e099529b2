"""Diagnostics of a CorInfoMax network: weight alignment and correlative information.

These are the quantities behind the diagnostic figures of Bozkurt, Pehlevan & Erdogan (NeurIPS 2023):

- the **angle** between the forward weights of layer k+1 and the transposed feedback weights of
  layer k, which shows whether the feedback path aligns with the forward path without weight
  transport;
- the **activity of each layer**: the fraction of active units and the summed rate Σ_i r_i (the
  sparse network keeps the latter near 1);
- the **layerwise correlative information** in its forward form (layer k predicted from layer k−1
  through W_ff,k) and backward form (layer k predicted from layer k+1 through W_fb,k).

Everything here is plain numpy and works on the public weights format, a mapping with keys

- ``Wff{k}``, shape (n_k, n_{k−1}), k = 1..L: feedforward weights into layer k (onto basal dendrites);
- ``Wfb{k}``, shape (n_k, n_{k+1}), k = 1..L−1: feedback weights into layer k (onto apical dendrites);
- ``B{k}``, shape (n_k, n_k), k = 1..L: lateral weights held by the interneurons of layer k.

All weights are dimensionless; rates are dimensionless; angles are in degrees; information is in
nats (natural logarithms).
"""

import re
import warnings

import numpy as np

__all__ = [
    "layer_activity",
    "weight_angle",
    "layer_angles",
    "n_layers",
    "correlation_from_lateral",
    "running_correlation",
    "correlative_information",
]


def weight_angle(W_ff_next, W_fb):
    """Angle between the forward weights of layer k+1 and the transposed feedback weights of layer k.

    With A = ``W_ff_next`` (n_{k+1} × n_k) and B = ``W_fb``ᵀ (``W_fb`` is n_k × n_{k+1}), the angle is
    (180/π)·acos( tr(A Bᵀ) / √(tr(A Aᵀ) tr(B Bᵀ)) ), the angle between the two matrices seen as
    vectors (Frobenius inner product).

    Parameters
    ----------
    W_ff_next : array_like, shape (n_{k+1}, n_k)
        Feedforward weights W_ff,k+1 from layer k into layer k+1.
    W_fb : array_like, shape (n_k, n_{k+1})
        Feedback weights W_fb,k from layer k+1 into layer k.

    Returns
    -------
    float
        The angle in degrees, in [0, 180]: 0 when ``W_fb`` is a positive multiple of ``W_ff_next``ᵀ,
        90 when they are orthogonal, 180 when it is a negative multiple.

    Raises
    ------
    ValueError
        If the shapes do not match (``W_fb`` must have the transposed shape of ``W_ff_next``) or
        either matrix is all zeros (the angle is then undefined).

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> round(weight_angle(W, W.T), 6)
    0.0
    >>> round(weight_angle(W, -W.T), 6)
    180.0
    """
    A = np.asarray(W_ff_next, dtype=float)
    W_fb = np.asarray(W_fb, dtype=float)
    if A.ndim != 2 or W_fb.ndim != 2:
        raise ValueError(
            f"weight_angle needs two matrices, got arrays with {A.ndim} and {W_fb.ndim} dimensions"
        )
    B = W_fb.T
    if A.shape != B.shape:
        raise ValueError(
            f"W_fb has shape {W_fb.shape}, but the feedback weights of layer k must have the transposed "
            f"shape of W_ff,k+1 {A.shape}, i.e. {A.shape[::-1]}"
        )
    norm = np.sqrt(np.sum(A * A) * np.sum(B * B))
    if norm == 0.0:
        raise ValueError("the angle is undefined when W_ff,k+1 or W_fb,k is all zeros")
    cosine = np.clip(np.sum(A * B) / norm, -1.0, 1.0)
    return float(np.degrees(np.arccos(cosine)))


def _layer_numbers(weights, prefix):
    """The sorted layer numbers k of the keys ``{prefix}{k}`` in ``weights``."""
    pattern = re.compile(rf"^{prefix}(\d+)$")
    return sorted(int(m.group(1)) for m in map(pattern.match, weights) if m)


def n_layers(weights):
    """Number of weight layers L of a network in the public weights format.

    Parameters
    ----------
    weights : mapping
        Weights with keys ``Wff1`` … ``WffL`` (see the module docstring); an ``np.load``-ed
        ``weights.npz`` works.

    Returns
    -------
    int
        L, the index of the output layer (layer 0 is the input).

    Raises
    ------
    ValueError
        If there is no ``Wff{k}`` key or the feedforward layers are not numbered 1..L.
    """
    ks = _layer_numbers(weights, "Wff")
    if not ks:
        raise ValueError("the weights have no feedforward matrices (keys Wff1, Wff2, ...)")
    if ks != list(range(1, len(ks) + 1)):
        raise ValueError(f"the feedforward matrices must be numbered Wff1..WffL, got Wff{ks}")
    return len(ks)


def layer_angles(weights):
    """Angle between W_ff,k+1 and W_fb,kᵀ for every hidden layer k = 1..L−1 (feedback alignment:
    between W_{k+1} and F_kᵀ; none for equilibrium propagation and backprop, whose feedback is
    W_{k+1}ᵀ).

    Parameters
    ----------
    weights : mapping
        Weights in the public format (keys ``Wff{k}``, ``Wfb{k}``, ``B{k}``).

    Returns
    -------
    dict of int to float
        ``{k: angle in degrees}`` for k = 1..L−1; empty for a network without hidden layer.

    Raises
    ------
    ValueError
        If a feedback matrix ``Wfb{k}`` is missing or has the wrong shape.

    See Also
    --------
    weight_angle : the angle of one layer pair.
    """
    if "Wff1" not in weights:
        # the other rules: feedback alignment's fixed feedback F{k} against its forward W{k+1};
        # equilibrium propagation and backprop send the feedback through W{k+1}ᵀ itself (0° by
        # construction) and have no separate matrix to compare
        ks = _layer_numbers(weights, "F")
        return {k: weight_angle(weights[f"W{k + 1}"], weights[f"F{k}"]) for k in ks}
    L = n_layers(weights)
    angles = {}
    for k in range(1, L):
        if f"Wfb{k}" not in weights:
            raise ValueError(f"the weights have Wff{k + 1} but no feedback matrix Wfb{k}")
        angles[k] = weight_angle(weights[f"Wff{k + 1}"], weights[f"Wfb{k}"])
    return angles


def correlation_from_lateral(B):
    """The correlation matrix R_k that the lateral weights B_k stand for: R_k = B_k⁻¹.

    The anti-Hebbian lateral rule B ← (B − γ z zᵀ)/λ with z = B r and γ = (1 − λ)/λ is the
    Sherman–Morrison update (to first order in γ) of the inverse of the running correlation
    R ← λR + (1 − λ) r rᵀ, so B_k tracks R_k⁻¹.

    Parameters
    ----------
    B : array_like, shape (n_k, n_k)
        Lateral weights of one layer.

    Returns
    -------
    ndarray, shape (n_k, n_k)
    """
    B = np.asarray(B, dtype=float)
    if B.ndim != 2 or B.shape[0] != B.shape[1]:
        raise ValueError(f"the lateral weights must be a square matrix, got shape {B.shape}")
    return np.linalg.inv(B)


def running_correlation(R, r, lam):
    """One step of the λ-weighted running correlation: λR + (1 − λ) r rᵀ.

    Parameters
    ----------
    R : array_like, shape (n, n)
        Current correlation matrix.
    r : array_like, shape (n,) or (m, n)
        Rates of the layer; with a mini-batch of m rows the outer product is averaged over the batch.
    lam : float
        Forgetting factor λ in (0, 1] (0.99999 in the paper).

    Returns
    -------
    ndarray, shape (n, n)
        The updated correlation matrix.
    """
    R = np.asarray(R, dtype=float)
    r = np.atleast_2d(np.asarray(r, dtype=float))
    if R.ndim != 2 or R.shape != (r.shape[1], r.shape[1]):
        raise ValueError(f"R has shape {R.shape} but the rates have {r.shape[1]} neurons")
    if not 0.0 < lam <= 1.0:
        raise ValueError(f"the forgetting factor lam must be in (0, 1], got {lam}")
    return lam * R + (1.0 - lam) * (r.T @ r) / r.shape[0]


def _logdet(R, epsilon, k):
    """log det(R + εI) by slogdet; nan (with a warning) if the matrix is not positive definite."""
    M = R + epsilon * np.eye(R.shape[0])
    sign, logdet = np.linalg.slogdet(M)
    try:
        np.linalg.cholesky(0.5 * (M + M.T))
        positive_definite = sign > 0
    except np.linalg.LinAlgError:
        positive_definite = False
    if not positive_definite:
        warnings.warn(
            f"R_{k} + epsilon*I is not positive definite; its log-determinant is set to nan",
            RuntimeWarning,
            stacklevel=3,
        )
        return np.nan
    return logdet


def correlative_information(rates, weights, epsilon, R=None):
    """Layerwise correlative information, forward and backward, at every time step of one sample.

    For one sample (batch size m = 1), with n_k the size of layer k:

    - forward, k = 1..L:
      I_fwd,k(t) = log det(R_k + εI) − [ (1/ε)‖r_k(t) − W_ff,k r_{k−1}(t)‖² − n_k log ε ]
    - backward, k = 1..L−1:
      I_bwd,k(t) = log det(R_k + εI) − [ (1/ε)‖r_k(t) − W_fb,k r_{k+1}(t)‖² − n_k log ε ]

    The log-determinant term is the same in both forms; the bracket penalises the error of predicting
    layer k from the layer below (forward) or from the layer above (backward).

    Parameters
    ----------
    rates : sequence of array_like
        ``[r_0, r_1, ..., r_L]``, each of shape (steps, n_k): the rates of every layer at every time
        step (r_0 is the input). A 1-D array is taken as a single step.
    weights : mapping
        Weights in the public format (keys ``Wff{k}``, ``Wfb{k}``, ``B{k}``).
    epsilon : float
        ε > 0 (0.15 in the paper).
    R : sequence of array_like, optional
        Correlation matrices of layers 1..L (``R[k - 1]`` is R_k, shape (n_k, n_k)). By default
        R_k = B_k⁻¹ (see `correlation_from_lateral`).

    Returns
    -------
    dict of str to ndarray
        ``"I_fwd_L{k}"`` for k = 1..L and ``"I_bwd_L{k}"`` for k = 1..L−1, each of shape (steps,),
        in nats.

    Raises
    ------
    ValueError
        If the number of layers, the numbers of steps or the layer sizes do not match the weights.

    Warns
    -----
    RuntimeWarning
        If R_k + εI is not positive definite; the values of that layer are then nan.
    """
    if not epsilon > 0:
        raise ValueError(f"epsilon must be positive, got {epsilon}")
    L = n_layers(weights)
    rates = [np.atleast_2d(np.asarray(r, dtype=float)) for r in rates]
    if len(rates) != L + 1:
        raise ValueError(
            f"rates must list the L + 1 = {L + 1} layers r_0..r_L of the network, got {len(rates)}"
        )
    steps = rates[0].shape[0]
    for k, r in enumerate(rates):
        if r.ndim != 2 or r.shape[0] != steps:
            raise ValueError(
                f"rates of layer {k} have shape {r.shape}; every layer needs shape (steps={steps}, n_k)"
            )
    for k in range(1, L + 1):
        expected = (rates[k].shape[1], rates[k - 1].shape[1])
        if np.shape(weights[f"Wff{k}"]) != expected:
            raise ValueError(
                f"Wff{k} has shape {np.shape(weights[f'Wff{k}'])} but the rates give layer sizes {expected}"
            )
    if R is None:
        R = [correlation_from_lateral(weights[f"B{k}"]) for k in range(1, L + 1)]
    if len(R) != L:
        raise ValueError(f"R must hold one correlation matrix per layer 1..L ({L}), got {len(R)}")

    out = {}
    for k in range(1, L + 1):
        r_k = rates[k]
        n_k = r_k.shape[1]
        R_k = np.asarray(R[k - 1], dtype=float)
        if R_k.shape != (n_k, n_k):
            raise ValueError(f"R_{k} has shape {R_k.shape}, expected ({n_k}, {n_k})")
        logdet = _logdet(R_k, epsilon, k)
        constant = logdet + n_k * np.log(epsilon)

        err = r_k - rates[k - 1] @ np.asarray(weights[f"Wff{k}"], dtype=float).T
        out[f"I_fwd_L{k}"] = constant - np.sum(err * err, axis=1) / epsilon
        if k < L:
            W_fb = np.asarray(weights[f"Wfb{k}"], dtype=float)
            if W_fb.shape != (n_k, rates[k + 1].shape[1]):
                raise ValueError(
                    f"Wfb{k} has shape {W_fb.shape}, expected ({n_k}, {rates[k + 1].shape[1]})"
                )
            err = r_k - rates[k + 1] @ W_fb.T
            out[f"I_bwd_L{k}"] = constant - np.sum(err * err, axis=1) / epsilon
    return out


def layer_activity(rates):
    """Fraction of active units (r > 0) and mean summed rate Σ_i r_i of every layer.

    Parameters
    ----------
    rates : dict
        ``{k: (r_free, r_nudged)}``, each (samples, n_k), as a run records them; the free-phase
        rates are used.

    Returns
    -------
    dict
        ``{"active_L{k}": fraction, "sum_r_L{k}": mean over samples of Σ_i r_k,i, "silent_L{k}":
        number of units with r = 0 on every sample}``. A silent output unit is a class the
        network never predicts. With hard-sigmoid rates it has hardly any contrast between the
        phases (the teacher's push is smaller than a strongly negative basal drive), so it comes
        back only slowly, through the changes of the hidden layer.
    """
    out = {}
    for k, (free, _) in sorted(rates.items()):
        free = np.asarray(free, dtype=float)
        if free.size:
            out[f"active_L{k}"] = float(np.mean(free > 0))
            out[f"sum_r_L{k}"] = float(np.mean(free.sum(axis=1)))
            out[f"silent_L{k}"] = float(np.sum(np.all(free <= 0, axis=0)))
    return out


def silent_units(rates, layer):
    """Indices of the units of ``layer`` whose free-phase rate is 0 on every sample of ``rates``."""
    free = np.asarray(rates[layer][0], dtype=float)
    return [int(i) for i in np.flatnonzero(np.all(free <= 0, axis=0))] if free.size else []


#: Most negative eigenvalue of a healthy lateral matrix B_k. B = AAᵀ starts positive definite with
#: a smallest eigenvalue near 1e-6; healthy Fashion-MNIST runs dip to about −0.003 in their
#: first epochs and recover, while B1 of the run that diverged (λ per sample) stood at −0.145
#: after epoch 25, one epoch before its weights turned into NaN.
B_NEGATIVE_LIMIT = 0.05
#: Largest share of the soma's stability margin that B's lateral loop may take: in the linear
#: range the lateral term feeds γ B r back onto the soma, whose other couplings hold it with
#: 1/ε (hidden layers) or 1/ε + 1 (output); at γ λ_max(B) equal to that the fixed point turns
#: unstable. Healthy runs stay below 1e-3 of it.
B_LOOP_LIMIT = 0.5


def lateral_spectrum(weights):
    """Smallest and largest eigenvalue and condition number of every lateral matrix B_k.

    B_k estimates the (scaled) inverse of the layer's rate correlation matrix, so it should stay
    symmetric positive definite; along directions the rates no longer visit it grows like
    λ_B^(−t) (``corinfo_sim.dense.lambda_update``). The eigenvalues are those of the symmetric
    part (B + Bᵀ)/2, in float64.

    Parameters
    ----------
    weights : dict
        Holds ``B{k}`` for every layer k (other keys are ignored).

    Returns
    -------
    dict
        ``{"B_min_L{k}", "B_max_L{k}", "B_cond_L{k}"}``: the smallest and largest eigenvalue, and
        max |eigenvalue| / min |eigenvalue| (inf for a singular B).
    """
    out = {}
    for k in _layer_numbers(weights, "B"):
        B = np.asarray(weights[f"B{k}"], dtype=np.float64)
        if not np.all(np.isfinite(B)):
            continue
        eig = np.linalg.eigvalsh((B + B.T) / 2)
        smallest = np.min(np.abs(eig))
        out[f"B_min_L{k}"] = float(eig[0])
        out[f"B_max_L{k}"] = float(eig[-1])
        out[f"B_cond_L{k}"] = float(np.max(np.abs(eig)) / smallest) if smallest > 0 else float("inf")
    return out


def settle_summary(free, nudged=None, test=None):
    """Distribution of the steps the phases of a sample took when settling to a tolerance.

    Parameters
    ----------
    free, nudged : array of int
        Steps of the free and of the nudged phase(s) (both nudged phases together with three
        phases) of every training sample of an epoch.
    test : array of int, optional
        Steps of the free phase of every test sample.

    Returns
    -------
    dict
        ``{"steps_{phase}_{stat}": value}`` for phase ``free``, ``nudged``, ``test`` and stat
        ``mean``, ``p10``, ``p50``, ``p90`` and ``max`` (percentiles over the samples).
    """
    out = {}
    for phase, steps in (("free", free), ("nudged", nudged), ("test", test)):
        if steps is None or len(steps) == 0:
            continue
        steps = np.asarray(steps, dtype=float)
        out[f"steps_{phase}_mean"] = float(steps.mean())
        for q in (10, 50, 90):
            out[f"steps_{phase}_p{q}"] = float(np.percentile(steps, q))
        out[f"steps_{phase}_max"] = float(steps.max())
    return out
