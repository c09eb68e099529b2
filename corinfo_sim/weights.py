"""The weights file: a stable, public NPZ format, and the paper's initialisation.

Keys, all float64 in the paper's dimensionless units, for an architecture n_0, ..., n_L:

- ``Wff{k}``  (n_k × n_{k−1}), k = 1..L: feedforward weights into layer k;
- ``Wfb{k}``  (n_k × n_{k+1}), k = 1..L−1: feedback weights into layer k from layer k+1;
- ``B{k}``    (n_k × n_k),     k = 1..L: lateral weights held by the interneurons of layer k.

Nothing else is needed to read it: ``numpy.load(path)``.

The other learning rules (``models/ep.py``, ``models/fa.py``, ``models/bp.py``) declare their own
matrices (:class:`WeightScheme`: ``W{k}``, ``b{k}``, ...); their files also hold ``rule``, the
rule's name, so that a file of one rule given to another is refused with a message naming both.
"""
import dataclasses
import os
import re
import tempfile
import zipfile

import numpy as np
from threadpoolctl import threadpool_limits

from .errors import CorInfoError


#: The rule of the CorInfoMax variants' files (antisparse, sparse, spiking: the same matrices).
CORINFOMAX = "corinfomax"


@dataclasses.dataclass(frozen=True)
class WeightScheme:
    """The weights of a learning rule other than CorInfoMax's (``Variant.weights``).

    Attributes
    ----------
    rule : str
        Name of the rule, written into its weights files as ``rule`` (``"ep"``).
    shapes : callable
        ``shapes(arch) -> {key: shape}`` of every matrix and bias vector.
    init : callable
        ``init(arch, rng) -> {key: ndarray}``: the initial weights.
    description : str
        What the rule is, for messages ("equilibrium propagation").
    """

    rule: str
    shapes: object
    init: object
    description: str = ""


def scheme(model=None):
    """The :class:`WeightScheme` of variant ``model``, or None for the CorInfoMax matrices."""
    if model is None:
        return None
    from .models import get_variant
    return get_variant(model).weights


def rule_of(model=None):
    """The rule whose weights variant ``model`` reads (:data:`CORINFOMAX` for the CorInfoMax variants)."""
    s = scheme(model)
    return s.rule if s else CORINFOMAX


def _models_of_rule(rule):
    from .models import VARIANTS
    return [name for name in VARIANTS if rule_of(name) == rule]


def weight_shapes(arch, model=None):
    """``{key: shape}`` of every weight matrix of architecture ``arch`` (of variant ``model``; default
    the CorInfoMax matrices)."""
    s = scheme(model)
    if s is not None:
        return s.shapes(arch)
    L = len(arch) - 1
    shapes = {}
    for k in range(1, L + 1):
        shapes[f"Wff{k}"] = (arch[k], arch[k - 1])
        if k < L:
            shapes[f"Wfb{k}"] = (arch[k], arch[k + 1])
        shapes[f"B{k}"] = (arch[k], arch[k])
    return shapes


def arch_from_weights(weights, model=None):
    """Architecture ``(n_0, ..., n_L)`` implied by a weights dict (of variant ``model``: its forward
    matrices are ``W{k}`` instead of ``Wff{k}`` for the other rules)."""
    prefix = "Wff" if scheme(model) is None else "W"
    L = sum(1 for key in weights if re.fullmatch(prefix + r"\d+", key))
    if L < 1 or any(f"{prefix}{k}" not in weights for k in range(1, L + 1)):
        raise CorInfoError(f"weights have no consecutive {prefix}1, {prefix}2, ... keys: not a corinfo_sim weights "
                           f"file of model {model or 'antisparse'}")
    return (weights[f"{prefix}1"].shape[1],) + tuple(weights[f"{prefix}{k}"].shape[0] for k in range(1, L + 1))


def check_weights(weights, arch, source="weights", model=None):
    """Raise CorInfoError unless ``weights`` has every key, shape and finite value of ``arch``
    (the matrices of variant ``model``; default the CorInfoMax ones)."""
    shapes = weight_shapes(arch, model)
    for key, shape in shapes.items():
        if key not in weights:
            raise CorInfoError(f"{source} lacks {key}: weights of model {model or 'antisparse'} for "
                               f"{','.join(map(str, arch))} are {', '.join(shapes)}")
        w = np.asarray(weights[key])
        if w.shape != shape:
            raise CorInfoError(
                f"{source}: {key} has shape {w.shape} but architecture "
                f"{','.join(map(str, arch))} needs {shape}: pass the matching --arch")
        if not np.issubdtype(w.dtype, np.number) or not np.all(np.isfinite(w)):
            raise CorInfoError(f"{source}: {key} holds NaN, inf or non-numbers: use another weights file")


def xavier(n_out, n_in, rng):
    """An n_out × n_in matrix drawn Xavier-uniform: bound √(6/(n_in + n_out))."""
    bound = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-bound, bound, size=(n_out, n_in))


def layered_shapes(arch, feedback=False):
    """The matrices of a layered network with biases: ``W{k}`` (n_k × n_{k−1}) and ``b{k}`` (n_k,),
    k = 1..L, and with ``feedback`` ``F{k}`` (n_k × n_{k+1}), k = 1..L−1 (the other rules' files)."""
    shapes = {}
    for k in range(1, len(arch)):
        shapes[f"W{k}"] = (arch[k], arch[k - 1])
        shapes[f"b{k}"] = (arch[k],)
    if feedback:
        for k in range(1, len(arch) - 1):
            shapes[f"F{k}"] = (arch[k], arch[k + 1])
    return shapes


def layered_init(arch, rng, feedback=False):
    """:func:`layered_shapes` drawn as the paper's networks are: every matrix Xavier-uniform (W_1..W_L,
    then F_1..F_{L−1}: the same W for every rule of one seed), biases 0."""
    return {key: xavier(*shape, rng) if len(shape) == 2 else np.zeros(shape)
            for key, shape in layered_shapes(arch, feedback).items()}


def init_weights(arch, rng, model=None):
    """The paper's initialisation: Xavier-uniform W_ff and W_fb, B = A Aᵀ with A Xavier-uniform
    (for another rule, its :class:`WeightScheme`'s ``init``).

    Parameters
    ----------
    arch : sequence of int
    rng : numpy.random.Generator
    model : str, optional
        The variant whose weights are drawn (default: the CorInfoMax matrices).
    """
    s = scheme(model)
    if s is not None:
        return s.init(arch, rng)

    def xavier_(n_out, n_in):
        return xavier(n_out, n_in, rng)

    W = {}
    for key, (n_out, n_in) in weight_shapes(arch).items():
        if key.startswith("B"):
            A = xavier_(n_out, n_out)
            with threadpool_limits(limits=1, user_api="blas"):  # the same sums whatever the BLAS threads
                W[key] = A @ A.T
        else:
            W[key] = xavier_(n_out, n_in)
    return W


def load_weights(path, arch=None, model=None):
    """Read and validate a weights file; ``arch=None`` takes the architecture from the file.

    ``model`` (default: a CorInfoMax variant) is the variant that will read the weights: a file of
    another learning rule is refused with one line naming both.

    Returns
    -------
    weights : dict of ndarray
    arch : tuple of int
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CorInfoError(f"weights file {path} does not exist: give the weights.npz written by 'corinfo-sim train'")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise CorInfoError(f"weights file {path} cannot be read ({e.__class__.__name__}): "
                           "it must be an NPZ file written by 'corinfo-sim train'") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise CorInfoError(f"weights file {path} holds a single array, not the named matrices of a weights file: "
                           "give the weights.npz written by 'corinfo-sim train' (keys Wff1, Wfb1, B1, ...)")
    try:
        with loaded as f:
            weights = {key: np.array(f[key]) for key in f.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise CorInfoError(f"weights file {path} cannot be read ({e.__class__.__name__}): "
                           "it must be an NPZ file written by 'corinfo-sim train'") from None
    _check_rule(path, weights, model)
    if arch is None:
        arch = arch_from_weights(weights, model)
    check_weights(weights, arch, source=f"weights file {path}", model=model)
    return {k: weights[k].astype(float) for k in weight_shapes(arch, model)}, tuple(arch)


def file_rule(weights):
    """The rule a loaded weights file belongs to: its ``rule`` entry, else :data:`CORINFOMAX` when
    it holds ``Wff1``, else None."""
    if "rule" in weights:
        return str(weights["rule"])
    return CORINFOMAX if "Wff1" in weights else None


def _check_rule(path, weights, model):
    """Refuse a file of one rule given to a variant of another, naming both."""
    found, wanted = file_rule(weights), rule_of(model)
    if found is None or found == wanted:
        return
    owners = _models_of_rule(found)
    raise CorInfoError(
        f"weights file {path} holds weights of the {found} rule (model {' or '.join(owners) or found}), not of the "
        f"{wanted} rule that model {model or 'antisparse'} learns with: pass --model {owners[0] if owners else found} "
        f"or a weights file of model {model or 'antisparse'}")


def save_weights(path, weights, model=None):
    """Write weights atomically (a crash never leaves a half-written file); the files of a rule
    other than CorInfoMax's (variant ``model``) also hold its name as ``rule``."""
    arrays = {k: np.asarray(v, dtype=float) for k, v in weights.items()}
    if scheme(model) is not None:
        arrays["rule"] = np.array(rule_of(model))
    atomic_savez(path, **arrays)


def atomic_savez(path, **arrays):
    """``numpy.savez`` to a temporary file in the same folder, then rename it over ``path``."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npz.tmp")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # like a file written directly, not mkstemp's 0600
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
