"""Readers for the data sets the simulator trains and tests on.

Every reader validates its files and reports a bad or missing file as a one-line
:class:`~corinfo_sim.errors.CorInfoError` that names the file, the problem and the fix.

Data sets and where they are looked for when no data directory is given:

``digits``
    The 8x8 handwritten digits embedded in scikit-learn
    (``sklearn.datasets.load_digits``); no files needed.
``fashion-mnist``
    ``/usr/share/datasets/fashion-mnist/``, installed by the Debian package
    ``dataset-fashion-mnist`` (``apt-get install dataset-fashion-mnist``).
``mnist``
    ``$CORINFO_DATA`` if that environment variable is set, else
    ``~/.corinfo/data/mnist``.
``cifar10``, ``cifar100``
    ``$CORINFO_DATA`` if set, else ``~/.corinfo/data/cifar10`` resp.
    ``~/.corinfo/data/cifar100``; the files of the "CIFAR-10/100 python version"
    archives from https://www.cs.toronto.edu/~kriz/cifar.html.

A directory that holds a subfolder named after the data set (``mnist``,
``fashion-mnist``, ``cifar10``, ``cifar100``) or the folder the CIFAR archives
extract to (``cifar-10-batches-py``, ``cifar-100-python``) is searched in that
subfolder too, so ``CORINFO_DATA`` (or ``--data-dir``) can point at one root
directory for all data sets.

MNIST and Fashion-MNIST are read from the four IDX files
``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each gzipped (``.gz``)
or not.  The CIFAR batches are Python pickles; they are loaded with an unpickler
that only reconstructs numpy arrays and refuses everything else, so a hostile
file cannot run code.
"""

from __future__ import annotations

import _compat_pickle
import dataclasses
import gzip
import os
import pickle
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import CorInfoError

__all__ = [
    "DATASETS",
    "Dataset",
    "default_data_dir",
    "load_dataset",
    "read_cifar",
    "read_idx",
]

#: Names accepted by :func:`load_dataset`.
DATASETS = ("digits", "fashion-mnist", "mnist", "cifar10", "cifar100")

#: Class names by label (0-9) of the data sets whose classes are not digits; data sets not listed
#: (digits, mnist, cifar100) show the class number.
CLASS_NAMES = {
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                      "Bag", "Ankle boot"),
    "cifar10": ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
}

#: Environment variable naming the root directory of the downloaded data sets.
DATA_ENV = "CORINFO_DATA"

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_INSTALL = "apt-get install dataset-fashion-mnist"

# (train images, train labels, test images, test labels); each may carry ".gz"
IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

CIFAR_TRAIN_FILES = {
    "cifar10": tuple(f"data_batch_{i}" for i in range(1, 6)),
    "cifar100": ("train",),
}
CIFAR_TEST_FILES = {"cifar10": ("test_batch",), "cifar100": ("test",)}
CIFAR_LABEL_KEY = {"cifar10": "labels", "cifar100": "fine_labels"}
CIFAR_CLASSES = {"cifar10": 10, "cifar100": 100}
CIFAR_ARCHIVE = {
    "cifar10": ("cifar-10-python.tar.gz", "cifar-10-batches-py"),
    "cifar100": ("cifar-100-python.tar.gz", "cifar-100-python"),
}
CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar.html"
CIFAR_PIXELS = 3 * 32 * 32

# per-channel (R, G, B) normalisation of the CIFAR images, as in the paper:
# x = (pixel / 255 - mean_c) / (3 * std_c)
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2023, 0.1994, 0.2010)

# subfolders of a root directory that are searched for each data set's files
_SUBFOLDERS = {
    "fashion-mnist": ("fashion-mnist",),
    "mnist": ("mnist",),
    "cifar10": ("cifar10", "cifar-10-batches-py", "cifar10/cifar-10-batches-py"),
    "cifar100": ("cifar100", "cifar-100-python", "cifar100/cifar-100-python"),
}

_IDX_UBYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"
# deflate cannot expand data more than 1032-fold; bounds what a .gz file may claim
_MAX_DEFLATE_RATIO = 1032
_CHUNK = 1 << 24


@dataclass(frozen=True, eq=False)
class Dataset:
    """A data set split into a training and a test set.

    Attributes
    ----------
    name : str
        One of :data:`DATASETS`.
    X_train : numpy.ndarray
        Training inputs, shape ``(n_train, n_features)``, float64, C-contiguous.
        Each row is one image flattened in the order of `image_shape`.
    y_train : numpy.ndarray
        Training labels, shape ``(n_train,)``, int64 in ``0 .. n_classes - 1``.
    X_test : numpy.ndarray
        Test inputs, shape ``(n_test, n_features)``, float64, C-contiguous.
    y_test : numpy.ndarray
        Test labels, shape ``(n_test,)``, int64.
    n_classes : int
        Number of classes (10, or 100 for ``cifar100``).
    image_shape : tuple of int
        ``(8, 8)``, ``(28, 28)`` or ``(3, 32, 32)`` (channel, row, column);
        ``n_features`` is its product.
    source : str
        Directory the files were read from, or ``"sklearn.datasets.load_digits"``.

    Notes
    -----
    Instances compare by identity (comparing the arrays element-wise is left to
    the caller).
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    image_shape: tuple
    source: str

    def subset(self, max_train=None, max_test=None):
        """The same data set with only the first ``max_train`` / ``max_test`` samples of each split."""
        for name, value in (("--max-train-samples", max_train), ("--max-test-samples", max_test)):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise CorInfoError(f"{name} must be a positive integer, got {value!r}")
        return dataclasses.replace(self, X_train=self.X_train[:max_train], y_train=self.y_train[:max_train],
                                   X_test=self.X_test[:max_test], y_test=self.y_test[:max_test])

    def __repr__(self):
        return (
            f"Dataset(name={self.name!r}, X_train={self.X_train.shape}, "
            f"X_test={self.X_test.shape}, n_classes={self.n_classes}, "
            f"image_shape={self.image_shape}, source={self.source!r})"
        )


# ---------------------------------------------------------------------------
# errors


def _one_line(text, limit=None):
    """Escape line breaks (and cut overly long text) so a message stays on one line."""
    text = str(text).replace("\r", "\\r").replace("\n", "\\n")
    if limit is not None and len(text) > limit:
        text = text[:limit] + "..."
    return text


def _error(path, problem, fix):
    """A :class:`CorInfoError` saying ``<path>: <problem>; <fix>`` on one line."""
    return CorInfoError(_one_line(f"{path}: {problem}; {fix}"))


def _describe(exc):
    """Short one-line description of a low-level exception."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc) or type(exc).__name__
    return _one_line(text, limit=200)


# ---------------------------------------------------------------------------
# names and directories


def canonical_name(name):
    """The data set's name as :data:`DATASETS` spells it (``Fashion_MNIST`` → ``fashion-mnist``)."""
    return _canonical_name(name)


def _canonical_name(name):
    key = str(name).strip().lower().replace("_", "-")
    if key not in DATASETS:
        raise CorInfoError(
            _one_line(
                f"unknown data set {str(name)!r}; choose one of: {', '.join(DATASETS)}"
            )
        )
    return key


def _expected_files(name):
    if name in ("mnist", "fashion-mnist"):
        return IDX_FILES
    return CIFAR_TRAIN_FILES[name] + CIFAR_TEST_FILES[name]


def _expand(path, what):
    """`path` as a :class:`~pathlib.Path` with ``~`` expanded."""
    try:
        return Path(path).expanduser()
    except RuntimeError as exc:  # unknown user or no home directory
        raise CorInfoError(
            _one_line(
                f"{path}: cannot expand ~ in the {what} ({exc}); give the full path, "
                f"or set {DATA_ENV} or pass --data-dir"
            )
        ) from None


def _present(directory, stem, name):
    """Path of the file `stem` in `directory` (IDX files: ``.gz`` or raw), or None."""
    candidates = [stem + ".gz", stem] if name in ("mnist", "fashion-mnist") else [stem]
    for candidate in candidates:
        path = directory / candidate
        if os.path.isfile(path):  # False (not an error) for unreadable directories
            return path
    return None


def _locate(root, name):
    """The directory under `root` holding `name`'s files.

    `root` itself is preferred, then its subfolders named after the data set;
    the first of these that holds any of the expected files wins.  When none
    does, `root` is returned (and the caller reports the files as missing).
    """
    root = Path(root)
    stems = _expected_files(name)
    for directory in [root] + [root / sub for sub in _SUBFOLDERS[name]]:
        if os.path.isdir(directory) and any(_present(directory, s, name) for s in stems):
            return directory
    return root


def _env_root():
    value = os.environ.get(DATA_ENV, "").strip()
    return _expand(value, f"{DATA_ENV} directory") if value else None


def default_data_dir(name: str) -> Path:
    """Directory :func:`load_dataset` reads `name` from when no `data_dir` is given.

    Parameters
    ----------
    name : str
        A data set with files: ``"fashion-mnist"``, ``"mnist"``, ``"cifar10"`` or
        ``"cifar100"``.

    Returns
    -------
    pathlib.Path
        For ``fashion-mnist`` ``/usr/share/datasets/fashion-mnist``.  For the
        others ``$CORINFO_DATA`` when that environment variable is set, else
        ``~/.corinfo/data/<name>``; if that directory does not hold the files
        itself but a subfolder named after the data set (or the CIFAR archive's
        ``cifar-10-batches-py`` / ``cifar-100-python``) does, that subfolder.
        The directory need not exist.

    Raises
    ------
    CorInfoError
        If `name` is unknown, or is ``"digits"`` (embedded in scikit-learn, no
        data directory).
    """
    name = _canonical_name(name)
    if name == "digits":
        raise CorInfoError(
            "digits: the data set is embedded in scikit-learn and has no data "
            "directory; load it with load_dataset('digits')"
        )
    if name == "fashion-mnist":
        return _locate(FASHION_MNIST_DIR, name)
    root = _env_root()
    if root is None:
        root = _expand("~/.corinfo/data", "default data directory") / name
    return _locate(root, name)


def _data_root(name, data_dir):
    """The directory to read `name` from, and a note on where it came from."""
    if data_dir is None:
        if name != "fashion-mnist" and _env_root() is not None:
            return default_data_dir(name), f" (from {DATA_ENV})"
        return default_data_dir(name), ""
    root = _expand(data_dir, "data directory")
    if not os.path.exists(root):
        raise _error(
            root, "data directory does not exist",
            f"pass --data-dir an existing directory holding the {name} files",
        )
    if not os.path.isdir(root):
        raise _error(
            root, "data directory is not a directory",
            f"pass --data-dir the directory holding the {name} files",
        )
    return _locate(root, name), ""


def _missing_files_error(name, directory, missing, note):
    files = _expected_files(name)
    missing_list = ", ".join(missing)
    where = f"{directory}{note}"
    if name == "fashion-mnist":
        fix = (
            f"install them with `{FASHION_MNIST_INSTALL}` (puts them in "
            f"{FASHION_MNIST_DIR}) or pass --data-dir a directory holding "
            f"{', '.join(f + '.gz' for f in files)} (gzipped or not)"
        )
        missing_list = ", ".join(m + ".gz" for m in missing)
    elif name == "mnist":
        fix = (
            f"put the four MNIST files {', '.join(f + '.gz' for f in files)} "
            f"(gzipped or not) in {directory}, or set {DATA_ENV} or --data-dir to "
            "a directory holding them (or holding an mnist/ folder with them)"
        )
        missing_list = ", ".join(m + ".gz" for m in missing)
    else:
        archive, folder = CIFAR_ARCHIVE[name]
        fix = (
            f"download {archive} (python version) from {CIFAR_URL} and extract it "
            f"in {directory} (its {folder}/ folder is found there), or set "
            f"{DATA_ENV} or --data-dir to the directory holding "
            f"{', '.join(files)}"
        )
    return CorInfoError(
        _one_line(f"{name}: missing {missing_list} in {where}; {fix}")
    )


def _find_files(name, directory, note):
    """Paths of `name`'s files in `directory`, in :func:`_expected_files` order."""
    paths = [_present(directory, stem, name) for stem in _expected_files(name)]
    missing = [s for s, p in zip(_expected_files(name), paths) if p is None]
    if missing:
        raise _missing_files_error(name, directory, missing, note)
    return paths


# ---------------------------------------------------------------------------
# IDX (MNIST, Fashion-MNIST)

_IDX_FIX = "the file is damaged or not an IDX file; replace it with an intact copy"


def _read_into(stream, buffer):
    """Fill `buffer` (a writable memoryview) from `stream`; return bytes read."""
    filled = 0
    total = len(buffer)
    while filled < total:
        n = stream.readinto(buffer[filled:min(total, filled + _CHUNK)])
        if not n:
            break
        filled += n
    return filled


def _is_gzip(path):
    if path.name.endswith(".gz"):
        return True
    with open(path, "rb") as f:
        return f.read(2) == _GZIP_MAGIC


def read_idx(path) -> np.ndarray:
    """Read an IDX file of unsigned bytes (the MNIST / Fashion-MNIST format).

    Parameters
    ----------
    path : str or os.PathLike
        The file, gzip-compressed (recognised by a ``.gz`` name or the gzip
        signature) or raw.

    Returns
    -------
    numpy.ndarray
        uint8 array with the shape given in the file's header, e.g.
        ``(n, 28, 28)`` for images (magic number ``0x00000803``) or ``(n,)``
        for labels (``0x00000801``).

    Raises
    ------
    CorInfoError
        If the file cannot be read, is not valid gzip, has a bad magic number, an
        element type other than unsigned byte (``0x08``), a zero dimension, or
        more or fewer data bytes than its header says.
    """
    path = Path(path)
    try:
        compressed = _is_gzip(path)
        size = path.stat().st_size
        opener = gzip.open if compressed else open
        with opener(path, "rb") as f:
            header = f.read(4)
            if len(header) < 4:
                raise _error(path, f"file too short for an IDX header ({len(header)} bytes)", _IDX_FIX)
            if header[:2] != b"\x00\x00":
                raise _error(
                    path, f"bad magic number 0x{header.hex()} (expected 0x0000080N)",
                    _IDX_FIX,
                )
            dtype_code, ndim = header[2], header[3]
            if dtype_code != _IDX_UBYTE:
                raise _error(
                    path,
                    f"unsupported IDX element type 0x{dtype_code:02x} in magic number "
                    f"0x{header.hex()} (only unsigned byte, 0x08, is supported)",
                    _IDX_FIX,
                )
            if ndim == 0:
                raise _error(path, f"magic number 0x{header.hex()} declares 0 dimensions", _IDX_FIX)
            raw_dims = f.read(4 * ndim)
            if len(raw_dims) < 4 * ndim:
                raise _error(path, f"truncated header (expected {ndim} dimensions)", _IDX_FIX)
            dims = tuple(int(d) for d in np.frombuffer(raw_dims, dtype=">u4"))
            if any(d == 0 for d in dims):
                raise _error(path, f"header declares a zero dimension {dims}", _IDX_FIX)
            header_len = 4 + 4 * ndim
            expected = int(np.prod(dims, dtype=object))
            if compressed:
                limit = size * _MAX_DEFLATE_RATIO + (1 << 16)
                if header_len + expected > limit:
                    raise _error(
                        path,
                        f"truncated: header declares shape {dims} ({expected} bytes) "
                        f"but a {size}-byte gzip file cannot hold that much",
                        _IDX_FIX,
                    )
            elif header_len + expected != size:
                what = "truncated" if header_len + expected > size else "trailing bytes"
                raise _error(
                    path,
                    f"{what}: header declares shape {dims} ({header_len + expected} "
                    f"bytes with the header) but the file has {size} bytes",
                    _IDX_FIX,
                )
            data = np.empty(expected, dtype=np.uint8)
            got = _read_into(f, memoryview(data))
            if got < expected:
                raise _error(
                    path,
                    f"truncated: header declares shape {dims} ({expected} data bytes) "
                    f"but the file holds only {got}",
                    _IDX_FIX,
                )
            # reading on to the end also makes gzip check the CRC
            extra = f.read(1)
            if extra:
                raise _error(
                    path, f"trailing bytes after the {expected} data bytes of shape {dims}",
                    _IDX_FIX,
                )
    except CorInfoError:
        raise
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise _error(
            path, f"corrupt gzip data ({_describe(exc)})",
            "replace it with an intact copy (or the uncompressed file without .gz)",
        ) from None
    except OSError as exc:
        raise _error(
            path, f"cannot read the file ({_describe(exc)})",
            "check that it exists and is readable",
        ) from None
    return data.reshape(dims)


def _read_idx_pair(images_path, labels_path, n_classes=10):
    """Validated (images uint8 (n, 28, 28), labels int64 (n,)) from two IDX files."""
    images = read_idx(images_path)
    if images.ndim != 3:
        raise _error(
            images_path,
            f"not an IDX image file: magic number 0x{images.ndim | 0x800:08x}, "
            f"expected 0x00000803 (3-D unsigned bytes)",
            "check that the image and label files are not swapped, or replace it",
        )
    if images.shape[1:] != (28, 28):
        raise _error(
            images_path,
            f"images are {images.shape[1]}x{images.shape[2]} pixels, expected 28x28",
            "use the MNIST / Fashion-MNIST image files",
        )
    labels = read_idx(labels_path)
    if labels.ndim != 1:
        raise _error(
            labels_path,
            f"not an IDX label file: magic number 0x{labels.ndim | 0x800:08x}, "
            f"expected 0x00000801 (1-D unsigned bytes)",
            "check that the image and label files are not swapped, or replace it",
        )
    if labels.shape[0] != images.shape[0]:
        raise _error(
            labels_path,
            f"{labels.shape[0]} labels but {images_path.name} has {images.shape[0]} images",
            "use the label file that belongs to the image file",
        )
    top = int(labels.max())
    if top >= n_classes:
        raise _error(
            labels_path,
            f"label {top} out of range 0..{n_classes - 1}",
            "the file is damaged or from another data set; replace it",
        )
    return images, labels.astype(np.int64)


def _to_unit_float(images):
    """uint8 images (n, ...) -> float64 (n, n_features) in [0, 1], C-contiguous."""
    n = images.shape[0]
    out = np.empty((n, images.size // n), dtype=np.float64)
    np.divide(images.reshape(n, -1), 255.0, out=out)
    return out


def _load_idx_dataset(name, data_dir):
    directory, note = _data_root(name, data_dir)
    train_images, train_labels, test_images, test_labels = _find_files(
        name, directory, note
    )
    images, y_train = _read_idx_pair(train_images, train_labels)
    X_train = _to_unit_float(images)
    del images
    images, y_test = _read_idx_pair(test_images, test_labels)
    X_test = _to_unit_float(images)
    del images
    return Dataset(
        name=name, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test,
        n_classes=10, image_shape=(28, 28), source=str(directory),
    )


# ---------------------------------------------------------------------------
# CIFAR

_NDARRAY_RECONSTRUCT = np.empty(0).__reduce__()[0]
try:
    _NDARRAY_FROMBUFFER = np.empty(0).__reduce_ex__(5)[0]
except Exception:  # pragma: no cover - numpy without protocol-5 pickling
    _NDARRAY_FROMBUFFER = None


def _latin1_encode(text, encoding="utf-8", errors="strict"):
    """``_codecs.encode`` restricted to latin-1, as pickle protocol 2 uses for bytes."""
    if str(encoding).lower().replace("-", "").replace("_", "") not in ("latin1", "iso88591"):
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r}")
    return text.encode("latin-1", errors)


def _empty_bytes(*args):
    """``bytes()``, as pickle protocol 2 stores an empty bytes object (nothing else)."""
    if args:
        raise pickle.UnpicklingError("bytes() with arguments")
    return b""


_CIFAR_ALLOWED = {
    ("builtins", "bytes"): _empty_bytes,
    ("numpy.core.multiarray", "_reconstruct"): _NDARRAY_RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _NDARRAY_RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
}
if _NDARRAY_FROMBUFFER is not None:
    _CIFAR_ALLOWED[("numpy.core.numeric", "_frombuffer")] = _NDARRAY_FROMBUFFER
    _CIFAR_ALLOWED[("numpy._core.numeric", "_frombuffer")] = _NDARRAY_FROMBUFFER


class _Refused(Exception):
    """Raised inside the unpickler for a global a CIFAR batch never needs."""


class _CifarUnpickler(pickle.Unpickler):
    """Unpickler that only reconstructs numpy arrays (all a CIFAR batch holds)."""

    def find_class(self, module, name):
        # protocol 0-2 pickles written by Python 3 name some globals by their
        # Python 2 names (e.g. __builtin__); translate them as pickle does
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        try:
            return _CIFAR_ALLOWED[(module, name)]
        except (KeyError, TypeError):
            raise _Refused(f"{module}.{name}") from None

    def persistent_load(self, pid):
        raise _Refused("a persistent id")


_CIFAR_FIX = "replace it with the original batch file from the CIFAR python archive"


def _unpickle_cifar(path):
    try:
        with open(path, "rb") as f:
            return _CifarUnpickler(f, encoding="bytes").load()
    except _Refused as exc:
        raise _error(
            path,
            f"refused to unpickle {_one_line(exc, limit=120)}: not a CIFAR batch file",
            _CIFAR_FIX,
        ) from None
    except OSError as exc:
        raise _error(
            path, f"cannot read the file ({_describe(exc)})",
            "check that it exists and is readable",
        ) from None
    except Exception as exc:  # any failure to parse the pickle is a bad file
        raise _error(
            path,
            f"not a readable CIFAR batch (unpickling failed: {type(exc).__name__}: "
            f"{_describe(exc)})",
            _CIFAR_FIX,
        ) from None


def _as_int_array(value, path, what, low, high):
    """`value` (array or nested lists of ints) as an integer array within [low, high]."""
    try:
        array = np.asarray(value)
    except Exception as exc:
        raise _error(path, f"{what} is not an array ({_describe(exc)})", _CIFAR_FIX) from None
    if array.dtype.kind not in "iu":
        raise _error(
            path, f"{what} has element type {array.dtype}, expected integers",
            _CIFAR_FIX,
        )
    if array.size and (int(array.min()) < low or int(array.max()) > high):
        raise _error(
            path,
            f"{what} values {int(array.min())}..{int(array.max())} out of range "
            f"{low}..{high}",
            _CIFAR_FIX,
        )
    return array


def _read_cifar_batch(path, name):
    """Validated (data uint8 (n, 3072), labels int64 (n,)) of one CIFAR batch file."""
    batch = _unpickle_cifar(path)
    if not isinstance(batch, dict):
        raise _error(
            path, f"not a CIFAR batch file (holds a {type(batch).__name__}, expected a dict)",
            _CIFAR_FIX,
        )
    label_key = CIFAR_LABEL_KEY[name]
    found = {}
    for key, value in batch.items():
        if isinstance(key, bytes):
            key = key.decode("latin-1")
        if isinstance(key, str):
            found[key] = value
    missing = [k for k in ("data", label_key) if k not in found]
    if missing:
        keys = _one_line(", ".join(repr(k) for k in list(batch)[:10]), limit=200)
        raise _error(
            path,
            f"not a {name} batch file: missing key(s) {', '.join(missing)} "
            f"(has {keys or 'no keys'})",
            _CIFAR_FIX,
        )
    data = found["data"]
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8):
        data = _as_int_array(data, path, "data", 0, 255).astype(np.uint8)
    if data.ndim != 2 or data.shape[1] != CIFAR_PIXELS or data.shape[0] < 1:
        raise _error(
            path,
            f"data has shape {data.shape}, expected (n_images >= 1, {CIFAR_PIXELS})",
            _CIFAR_FIX,
        )
    n_classes = CIFAR_CLASSES[name]
    labels = _as_int_array(found[label_key], path, label_key, 0, n_classes - 1)
    if labels.ndim != 1 or labels.shape[0] != data.shape[0]:
        raise _error(
            path,
            f"{label_key} has shape {labels.shape} but data has {data.shape[0]} images",
            _CIFAR_FIX,
        )
    return np.ascontiguousarray(data), labels.astype(np.int64)


def _read_cifar_parts(directory, name, note=""):
    """Batches of `name` in `directory`: (train batches, test batches, directory)."""
    if name not in CIFAR_CLASSES:
        raise CorInfoError(
            _one_line(f"unknown CIFAR data set {name!r}; choose cifar10 or cifar100")
        )
    directory = _locate(_expand(directory, "CIFAR directory"), name)
    paths = _find_files(name, directory, note)
    n_train = len(CIFAR_TRAIN_FILES[name])
    train = [_read_cifar_batch(p, name) for p in paths[:n_train]]
    test = [_read_cifar_batch(p, name) for p in paths[n_train:]]
    return train, test, directory


def read_cifar(directory, name) -> tuple:
    """Read the CIFAR-10 or CIFAR-100 python-version batches in a directory.

    Parameters
    ----------
    directory : str or os.PathLike
        Directory holding ``data_batch_1`` .. ``data_batch_5`` and ``test_batch``
        (CIFAR-10) or ``train`` and ``test`` (CIFAR-100), or holding the
        archive's extracted folder ``cifar-10-batches-py`` / ``cifar-100-python``
        (or a ``cifar10`` / ``cifar100`` folder) with them.
    name : {"cifar10", "cifar100"}
        Which data set; CIFAR-100 uses the 100 fine labels.

    Returns
    -------
    X_train : numpy.ndarray
        uint8 pixels, shape ``(n_train, 3072)``, each row the image in
        (channel, row, column) order, as stored in the files.  The training
        batches are concatenated in file order.
    y_train : numpy.ndarray
        int64 labels, shape ``(n_train,)``.
    X_test : numpy.ndarray
        uint8 pixels, shape ``(n_test, 3072)``.
    y_test : numpy.ndarray
        int64 labels, shape ``(n_test,)``.

    Raises
    ------
    CorInfoError
        If files are missing or a file is not a CIFAR batch: it would need
        anything but numpy arrays to unpickle (such a file is refused without
        running any of its code), is not a dict with the data and label keys, has
        data not of shape ``(n, 3072)`` with pixels 0..255, or labels that do not
        match the data or are out of range.

    Notes
    -----
    The batch sizes of the real files (10000 images each) are not required;
    every batch needs at least one image.
    """
    train, test, _ = _read_cifar_parts(directory, name)
    X_train = np.concatenate([data for data, _ in train])
    y_train = np.concatenate([labels for _, labels in train])
    X_test = np.concatenate([data for data, _ in test])
    y_test = np.concatenate([labels for _, labels in test])
    return X_train, y_train, X_test, y_test


def _normalise_cifar(batches):
    """Normalised float64 (n, 3072) and int64 labels from a list of uint8 batches."""
    n = sum(data.shape[0] for data, _ in batches)
    X = np.empty((n, CIFAR_PIXELS), dtype=np.float64)
    plane = CIFAR_PIXELS // 3
    row = 0
    for data, _ in batches:
        rows = slice(row, row + data.shape[0])
        for c, (mean, std) in enumerate(zip(CIFAR_MEAN, CIFAR_STD)):
            cols = slice(c * plane, (c + 1) * plane)
            out = X[rows, cols]
            np.divide(data[:, cols], 255.0, out=out)
            out -= mean
            out /= 3.0 * std
        row += data.shape[0]
    y = np.concatenate([labels for _, labels in batches])
    return X, y


def _load_cifar_dataset(name, data_dir):
    directory, note = _data_root(name, data_dir)
    train, test, directory = _read_cifar_parts(directory, name, note)
    X_train, y_train = _normalise_cifar(train)
    del train
    X_test, y_test = _normalise_cifar(test)
    del test
    return Dataset(
        name=name, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test,
        n_classes=CIFAR_CLASSES[name], image_shape=(3, 32, 32), source=str(directory),
    )


# ---------------------------------------------------------------------------
# digits


def _load_digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = np.asarray(digits.data, dtype=np.float64) / 16.0
    y = np.asarray(digits.target, dtype=np.int64)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0
    )
    return Dataset(
        name="digits",
        X_train=np.ascontiguousarray(X_train), y_train=np.ascontiguousarray(y_train),
        X_test=np.ascontiguousarray(X_test), y_test=np.ascontiguousarray(y_test),
        n_classes=10, image_shape=(8, 8), source="sklearn.datasets.load_digits",
    )


# ---------------------------------------------------------------------------


def load_dataset(name: str, data_dir=None) -> Dataset:
    """Load a data set, split into training and test set.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`: ``"digits"``, ``"fashion-mnist"``, ``"mnist"``,
        ``"cifar10"`` or ``"cifar100"`` (case and ``_`` for ``-`` do not matter).
    data_dir : str or os.PathLike, optional
        Directory holding the data set's files, or a root directory with a
        subfolder named after the data set (see the module documentation).
        Default: :func:`default_data_dir`.  Ignored for ``digits``.

    Returns
    -------
    Dataset
        Inputs as float64 rows of flattened images: ``digits`` pixel / 16,
        ``mnist`` and ``fashion-mnist`` pixel / 255 (both in [0, 1]), CIFAR
        ``(pixel / 255 - mean_c) / (3 std_c)`` per colour channel c with
        mean (0.4914, 0.4822, 0.4465) and std (0.2023, 0.1994, 0.2010).
        ``digits`` is split 1437 / 360 (stratified, always the same split);
        the others use their files' own training / test split.

    Raises
    ------
    CorInfoError
        If `name` is unknown, `data_dir` is not a directory, or files are
        missing or invalid; the message names the file and says how to fix it.

    Examples
    --------
    >>> data = load_dataset("digits")
    >>> data.X_train.shape, data.X_test.shape
    ((1437, 64), (360, 64))
    """
    name = _canonical_name(name)
    if name == "digits":
        return _load_digits()
    if name in ("mnist", "fashion-mnist"):
        return _load_idx_dataset(name, data_dir)
    return _load_cifar_dataset(name, data_dir)
