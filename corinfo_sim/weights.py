"""The weights file: a stable, public NPZ format, and the paper's initialisation.

Keys, all float64 in the paper's dimensionless units, for an architecture n_0, ..., n_L:

- ``Wff{k}``  (n_k × n_{k−1}), k = 1..L: feedforward weights into layer k;
- ``Wfb{k}``  (n_k × n_{k+1}), k = 1..L−1: feedback weights into layer k from layer k+1;
- ``B{k}``    (n_k × n_k),     k = 1..L: lateral weights held by the interneurons of layer k.

Nothing else is needed to read it: ``numpy.load(path)``.
"""
import os
import tempfile
import zipfile

import numpy as np
from threadpoolctl import threadpool_limits

from .errors import CorInfoError


def weight_shapes(arch):
    """``{key: shape}`` of every weight matrix of architecture ``arch``."""
    L = len(arch) - 1
    shapes = {}
    for k in range(1, L + 1):
        shapes[f"Wff{k}"] = (arch[k], arch[k - 1])
        if k < L:
            shapes[f"Wfb{k}"] = (arch[k], arch[k + 1])
        shapes[f"B{k}"] = (arch[k], arch[k])
    return shapes


def arch_from_weights(weights):
    """Architecture ``(n_0, ..., n_L)`` implied by a weights dict."""
    L = sum(1 for key in weights if key.startswith("Wff"))
    if L < 1 or any(f"Wff{k}" not in weights for k in range(1, L + 1)):
        raise CorInfoError("weights have no consecutive Wff1, Wff2, ... keys: not a corinfo_sim weights file")
    return (weights["Wff1"].shape[1],) + tuple(weights[f"Wff{k}"].shape[0] for k in range(1, L + 1))


def check_weights(weights, arch, source="weights"):
    """Raise CorInfoError unless ``weights`` has every key, shape and finite value of ``arch``."""
    for key, shape in weight_shapes(arch).items():
        if key not in weights:
            raise CorInfoError(
                f"{source} lacks {key}: a weights file needs Wff1..Wff{len(arch) - 1}, "
                f"Wfb1..Wfb{len(arch) - 2} and B1..B{len(arch) - 1}")
        w = np.asarray(weights[key])
        if w.shape != shape:
            raise CorInfoError(
                f"{source}: {key} has shape {w.shape} but architecture "
                f"{','.join(map(str, arch))} needs {shape}: pass the matching --arch")
        if not np.issubdtype(w.dtype, np.number) or not np.all(np.isfinite(w)):
            raise CorInfoError(f"{source}: {key} holds NaN, inf or non-numbers: use another weights file")


def init_weights(arch, rng):
    """The paper's initialisation: Xavier-uniform W_ff and W_fb, B = A Aᵀ with A Xavier-uniform.

    Parameters
    ----------
    arch : sequence of int
    rng : numpy.random.Generator
    """
    def xavier(n_out, n_in):
        bound = np.sqrt(6.0 / (n_in + n_out))
        return rng.uniform(-bound, bound, size=(n_out, n_in))

    W = {}
    for key, (n_out, n_in) in weight_shapes(arch).items():
        if key.startswith("B"):
            A = xavier(n_out, n_out)
            with threadpool_limits(limits=1, user_api="blas"):  # the same sums whatever the BLAS threads
                W[key] = A @ A.T
        else:
            W[key] = xavier(n_out, n_in)
    return W


def load_weights(path, arch=None):
    """Read and validate a weights file; ``arch=None`` takes the architecture from the file.

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
    if arch is None:
        arch = arch_from_weights(weights)
    check_weights(weights, arch, source=f"weights file {path}")
    return {k: weights[k].astype(float) for k in weight_shapes(arch)}, tuple(arch)


def save_weights(path, weights):
    """Write weights atomically (a crash never leaves a half-written file)."""
    atomic_savez(path, **{k: np.asarray(v, dtype=float) for k, v in weights.items()})


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
