"""Tests of corinfo_sim.datasets on small files written in each format."""

import builtins
import gzip
import os
import pickle
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from corinfo_sim import datasets
from corinfo_sim.datasets import (
    DATASETS,
    Dataset,
    default_data_dir,
    load_dataset,
    read_cifar,
    read_idx,
)
from corinfo_sim.errors import CorInfoError

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
IDX_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path, monkeypatch):
    """No CORINFO_DATA and an empty home, so the user's own data never interferes."""
    monkeypatch.delenv("CORINFO_DATA", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))


# ---------------------------------------------------------------------------
# writers of small files in the real formats


def idx_bytes(array, magic=None):
    """The IDX encoding of a uint8 array (optionally with another magic number)."""
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = 0x0800 | array.ndim
    header = np.array([magic, *array.shape], dtype=">u4").tobytes()
    return header + array.tobytes()


def write_idx(path, array, magic=None, extra=b"", cut=0):
    """Write `array` as IDX to `path` (gzipped if it ends with .gz).

    `extra` bytes are appended and `cut` bytes removed from the end of the
    uncompressed content, to make broken files.
    """
    content = idx_bytes(array, magic) + extra
    if cut:
        content = content[:-cut]
    path = Path(path)
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(content))
    else:
        path.write_bytes(content)
    return path


def make_images(n, seed, shape=(28, 28)):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    images[0, 0, 0] = 255  # make sure both ends of the range occur
    images[0, 0, 1] = 0
    return images


def write_mnist_dir(directory, n_train=7, n_test=5, gz=(True, True, True, True)):
    """Write the four MNIST files; return (train images, train labels, test ...)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = (
        make_images(n_train, 1),
        np.arange(n_train) % 10,
        make_images(n_test, 2),
        (np.arange(n_test) * 3) % 10,
    )
    for stem, array, zipped in zip(IDX_NAMES, arrays, gz):
        write_idx(directory / (stem + (".gz" if zipped else "")), array)
    return arrays


def write_pickle(path, obj, protocol=2):
    Path(path).write_bytes(pickle.dumps(obj, protocol=protocol))
    return path


def cifar_batch(n, seed, label_key=b"labels", n_classes=10):
    """A CIFAR batch dict like the real ones: uint8 data (n, 3072) and a label list."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, n_classes, size=n)]
    labels[0] = n_classes - 1
    return {
        b"batch_label": b"testing batch",
        label_key: labels,
        b"data": data,
        b"filenames": [b"img%d.png" % i for i in range(n)],
    }


def write_cifar10_dir(directory, sizes=(2, 3, 1, 2, 4), n_test=3):
    """Write data_batch_1..5 and test_batch; return the batch dicts."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    train = [cifar_batch(n, seed=i) for i, n in enumerate(sizes)]
    for i, batch in enumerate(train, start=1):
        write_pickle(directory / f"data_batch_{i}", batch)
    test = cifar_batch(n_test, seed=99)
    write_pickle(directory / "test_batch", test)
    return train, test


def write_cifar100_dir(directory, n_train=5, n_test=3):
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    train = cifar_batch(n_train, 7, label_key=b"fine_labels", n_classes=100)
    test = cifar_batch(n_test, 8, label_key=b"fine_labels", n_classes=100)
    train[b"coarse_labels"] = [0] * n_train
    test[b"coarse_labels"] = [0] * n_test
    write_pickle(directory / "train", train)
    write_pickle(directory / "test", test)
    return train, test


def normalised(pixel, channel):
    """The paper's CIFAR normalisation of one pixel, by hand."""
    mean = (0.4914, 0.4822, 0.4465)[channel]
    std = (0.2023, 0.1994, 0.2010)[channel]
    return (pixel / 255 - mean) / (3 * std)


def raises_error(function, *args, **kwargs):
    """The ExceptionInfo of the CorInfoError `function(*args, **kwargs)` raises."""
    with pytest.raises(CorInfoError) as excinfo:
        function(*args, **kwargs)
    return excinfo


def one_line(excinfo):
    message = str(excinfo.value)
    assert "\n" not in message and "\r" not in message, message
    return message


def check_dataset(data, n_train, n_test, n_features, n_classes):
    assert isinstance(data, Dataset)
    assert data.X_train.shape == (n_train, n_features)
    assert data.X_test.shape == (n_test, n_features)
    assert data.y_train.shape == (n_train,)
    assert data.y_test.shape == (n_test,)
    for X in (data.X_train, data.X_test):
        assert X.dtype == np.float64 and X.flags.c_contiguous
    for y in (data.y_train, data.y_test):
        assert y.dtype == np.int64
        assert y.min() >= 0 and y.max() < n_classes
    assert data.n_classes == n_classes
    assert int(np.prod(data.image_shape)) == n_features


# ---------------------------------------------------------------------------
# IDX


@pytest.mark.parametrize("filename", ["images-idx3-ubyte.gz", "images-idx3-ubyte"])
def test_read_idx_round_trip_images(tmp_path, filename):
    images = make_images(4, 0)
    out = read_idx(write_idx(tmp_path / filename, images))
    assert out.dtype == np.uint8
    assert out.shape == (4, 28, 28)
    np.testing.assert_array_equal(out, images)


@pytest.mark.parametrize("filename", ["labels-idx1-ubyte.gz", "labels-idx1-ubyte"])
def test_read_idx_round_trip_labels(tmp_path, filename):
    labels = np.array([3, 0, 9, 1, 1], dtype=np.uint8)
    out = read_idx(write_idx(tmp_path / filename, labels))
    assert out.shape == (5,)
    np.testing.assert_array_equal(out, labels)


def test_read_idx_recognises_gzip_without_gz_name(tmp_path):
    images = make_images(2, 0)
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(gzip.compress(idx_bytes(images)))
    np.testing.assert_array_equal(read_idx(path), images)


def test_read_idx_accepts_str_path(tmp_path):
    path = write_idx(tmp_path / "labels", np.arange(3))
    np.testing.assert_array_equal(read_idx(str(path)), [0, 1, 2])


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_read_idx_bad_magic(tmp_path, suffix):
    path = tmp_path / ("images" + suffix)
    write_idx(path, make_images(2, 0), magic=0x12340803)
    with pytest.raises(CorInfoError, match=re.escape(str(path)) + ".*bad magic number 0x12340803"):
        read_idx(path)
    one_line(raises_error(read_idx, path))


def test_read_idx_unsupported_element_type(tmp_path):
    path = write_idx(tmp_path / "floats", np.zeros(4), magic=0x00000D01)
    with pytest.raises(CorInfoError, match=r"unsupported IDX element type 0x0d"):
        read_idx(path)


def test_read_idx_zero_dimension(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(np.array([0x0803, 0, 28, 28], dtype=">u4").tobytes())
    with pytest.raises(CorInfoError, match=r"empty: header declares a zero dimension"):
        read_idx(path)


def test_read_idx_too_short_for_header(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(b"\x00\x00")
    with pytest.raises(CorInfoError, match=r"short: file too short for an IDX header"):
        read_idx(path)


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_read_idx_truncated(tmp_path, suffix):
    path = write_idx(tmp_path / ("images" + suffix), make_images(3, 0), cut=100)
    excinfo = raises_error(read_idx, path)
    message = one_line(excinfo)
    assert message.startswith(str(path) + ": truncated")
    assert "replace it with an intact copy" in message


def test_read_idx_truncated_header(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(np.array([0x0803, 5], dtype=">u4").tobytes())
    with pytest.raises(CorInfoError, match=r"labels: truncated header"):
        read_idx(path)


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_read_idx_trailing_bytes(tmp_path, suffix):
    path = write_idx(tmp_path / ("labels" + suffix), np.arange(5), extra=b"\x00\x01")
    with pytest.raises(CorInfoError, match=re.escape(str(path)) + ": trailing bytes"):
        read_idx(path)
    one_line(raises_error(read_idx, path))


def test_read_idx_gzip_claiming_absurd_size(tmp_path):
    path = tmp_path / "huge.gz"
    header = np.array([0x0803, 60000, 60000, 60000], dtype=">u4").tobytes()
    path.write_bytes(gzip.compress(header + b"\x00" * 10))
    with pytest.raises(CorInfoError, match=r"huge.gz: truncated.*cannot hold"):
        read_idx(path)


def test_read_idx_corrupt_gzip_garbage(tmp_path):
    path = tmp_path / "images.gz"
    path.write_bytes(b"this is not gzip data at all")
    excinfo = raises_error(read_idx, path)
    assert re.match(re.escape(str(path)) + r": corrupt gzip data", one_line(excinfo))


def test_read_idx_corrupt_gzip_crc(tmp_path):
    path = tmp_path / "labels.gz"
    content = bytearray(gzip.compress(idx_bytes(np.arange(10))))
    content[-8] ^= 0xFF  # damage the CRC-32 in the gzip trailer
    path.write_bytes(bytes(content))
    with pytest.raises(CorInfoError, match=re.escape(str(path)) + r": corrupt gzip data"):
        read_idx(path)


def test_read_idx_cut_gzip_stream(tmp_path):
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(idx_bytes(make_images(3, 0)))[:-30])
    with pytest.raises(CorInfoError, match=r"images.gz: corrupt gzip data"):
        read_idx(path)


def test_read_idx_missing_file(tmp_path):
    path = tmp_path / "nothing-here"
    with pytest.raises(CorInfoError, match=r"nothing-here: cannot read the file"):
        read_idx(path)


# ---------------------------------------------------------------------------
# MNIST and Fashion-MNIST


@pytest.mark.parametrize("gz", [(True, True, True, True), (False, True, False, False)])
def test_mnist_from_data_dir(tmp_path, gz):
    directory = tmp_path / "mnist-files"
    train_x, train_y, test_x, test_y = write_mnist_dir(directory, gz=gz)
    data = load_dataset("mnist", data_dir=directory)
    check_dataset(data, 7, 5, 784, 10)
    assert data.name == "mnist"
    assert data.image_shape == (28, 28)
    assert data.source == str(directory)
    np.testing.assert_array_equal(data.X_train, train_x.reshape(7, 784) / 255)
    np.testing.assert_array_equal(data.X_test, test_x.reshape(5, 784) / 255)
    np.testing.assert_array_equal(data.y_train, train_y)
    np.testing.assert_array_equal(data.y_test, test_y)
    assert data.X_train.min() == 0.0 and data.X_train.max() == 1.0
    # one pixel by hand: image 1, row 2, column 3
    assert data.X_train[1, 2 * 28 + 3] == train_x[1, 2, 3] / 255


def test_gz_preferred_when_both_present(tmp_path):
    write_mnist_dir(tmp_path, gz=(True,) * 4)
    # a broken raw copy next to the good .gz is not read
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"junk")
    load_dataset("mnist", data_dir=tmp_path)


def test_mnist_from_env_root_with_subfolder(tmp_path, monkeypatch):
    root = tmp_path / "data"
    train_x, *_ = write_mnist_dir(root / "mnist")
    monkeypatch.setenv("CORINFO_DATA", str(root))
    assert default_data_dir("mnist") == root / "mnist"
    data = load_dataset("mnist")
    assert data.source == str(root / "mnist")
    np.testing.assert_array_equal(data.X_train, train_x.reshape(7, 784) / 255)


def test_mnist_from_env_directory_itself(tmp_path, monkeypatch):
    write_mnist_dir(tmp_path / "flat")
    monkeypatch.setenv("CORINFO_DATA", str(tmp_path / "flat"))
    assert default_data_dir("mnist") == tmp_path / "flat"
    check_dataset(load_dataset("mnist"), 7, 5, 784, 10)


def test_data_dir_with_tilde(tmp_path):
    write_mnist_dir(Path(os.environ["HOME"]) / "digits-files")
    check_dataset(load_dataset("mnist", data_dir="~/digits-files"), 7, 5, 784, 10)


def test_data_dir_root_with_subfolder(tmp_path):
    write_mnist_dir(tmp_path / "mnist")
    assert load_dataset("mnist", data_dir=tmp_path).source == str(tmp_path / "mnist")


def test_mnist_default_in_home(tmp_path):
    home_dir = Path(os.environ["HOME"]) / ".corinfo" / "data" / "mnist"
    assert default_data_dir("mnist") == home_dir
    write_mnist_dir(home_dir)
    check_dataset(load_dataset("mnist"), 7, 5, 784, 10)


def test_fashion_mnist_from_data_dir(tmp_path):
    train_x, *_ = write_mnist_dir(tmp_path, n_train=3, n_test=2)
    data = load_dataset("fashion-mnist", data_dir=tmp_path)
    check_dataset(data, 3, 2, 784, 10)
    assert data.name == "fashion-mnist"
    np.testing.assert_array_equal(data.X_train, train_x.reshape(3, 784) / 255)


def test_default_data_dirs(monkeypatch, tmp_path):
    assert default_data_dir("fashion-mnist") == FASHION_DIR
    home = Path(os.environ["HOME"])
    assert default_data_dir("cifar10") == home / ".corinfo" / "data" / "cifar10"
    assert default_data_dir("cifar100") == home / ".corinfo" / "data" / "cifar100"
    monkeypatch.setenv("CORINFO_DATA", str(tmp_path))
    assert default_data_dir("cifar10") == tmp_path
    (tmp_path / "cifar-100-python").mkdir()
    (tmp_path / "cifar-100-python" / "train").write_bytes(b"")
    assert default_data_dir("cifar100") == tmp_path / "cifar-100-python"
    with pytest.raises(CorInfoError, match=r"digits: .*embedded in scikit-learn"):
        default_data_dir("digits")


def test_mnist_missing_files_listed(tmp_path):
    write_mnist_dir(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    excinfo = raises_error(load_dataset, "mnist", data_dir=tmp_path)
    message = one_line(excinfo)
    assert message.startswith(
        f"mnist: missing train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz in {tmp_path};"
    )
    # the fix names all four expected files
    for stem in IDX_NAMES:
        assert stem + ".gz" in message
    assert "--data-dir" in message and "CORINFO_DATA" in message


def test_mnist_missing_default_names_env(tmp_path, monkeypatch):
    monkeypatch.setenv("CORINFO_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(
        CorInfoError,
        match=re.escape(f"in {tmp_path / 'nowhere'} (from CORINFO_DATA)"),
    ):
        load_dataset("mnist")


def test_fashion_mnist_missing_says_how_to_install(tmp_path):
    excinfo = raises_error(load_dataset, "fashion-mnist", data_dir=tmp_path)
    message = one_line(excinfo)
    assert message.startswith("fashion-mnist: missing train-images-idx3-ubyte.gz, ")
    assert str(tmp_path) in message
    assert "`apt-get install dataset-fashion-mnist`" in message
    assert "--data-dir" in message


def test_swapped_image_and_label_files(tmp_path):
    write_mnist_dir(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.arange(7))
    with pytest.raises(
        CorInfoError,
        match=r"train-images-idx3-ubyte.gz: not an IDX image file: magic number "
        r"0x00000801, expected 0x00000803",
    ):
        load_dataset("mnist", data_dir=tmp_path)
    write_mnist_dir(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", make_images(5, 0))
    with pytest.raises(CorInfoError, match=r"t10k-labels-idx1-ubyte.gz: not an IDX label file"):
        load_dataset("mnist", data_dir=tmp_path)


def test_labels_out_of_range(tmp_path):
    write_mnist_dir(tmp_path)
    path = write_idx(tmp_path / "train-labels-idx1-ubyte.gz", [0, 1, 2, 10, 4, 5, 6])
    excinfo = raises_error(load_dataset, "mnist", data_dir=tmp_path)
    assert one_line(excinfo).startswith(f"{path}: label 10 out of range 0..9;")


def test_count_mismatch(tmp_path):
    write_mnist_dir(tmp_path)
    path = write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", [0, 1, 2])
    excinfo = raises_error(load_dataset, "mnist", data_dir=tmp_path)
    assert one_line(excinfo).startswith(
        f"{path}: 3 labels but t10k-images-idx3-ubyte.gz has 5 images;"
    )


def test_wrong_image_size(tmp_path):
    write_mnist_dir(tmp_path)
    path = write_idx(tmp_path / "train-images-idx3-ubyte.gz", make_images(7, 0, (32, 28)))
    excinfo = raises_error(load_dataset, "fashion-mnist", data_dir=tmp_path)
    assert one_line(excinfo).startswith(f"{path}: images are 32x28 pixels, expected 28x28")


def test_bad_file_in_data_set_is_named(tmp_path):
    write_mnist_dir(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(CorInfoError, match=re.escape(str(path)) + ": corrupt gzip data"):
        load_dataset("mnist", data_dir=tmp_path)


# ---------------------------------------------------------------------------
# names and directories


def test_unknown_name_lists_known_names():
    excinfo = raises_error(load_dataset, "imagenet")
    message = one_line(excinfo)
    assert "unknown data set 'imagenet'" in message
    for name in DATASETS:
        assert name in message


def test_name_is_case_and_underscore_insensitive(tmp_path):
    write_mnist_dir(tmp_path)
    assert load_dataset("Fashion_MNIST", data_dir=tmp_path).name == "fashion-mnist"


def test_data_dir_does_not_exist(tmp_path):
    missing = tmp_path / "absent"
    excinfo = raises_error(load_dataset, "mnist", data_dir=missing)
    assert one_line(excinfo).startswith(f"{missing}: data directory does not exist;")


def test_data_dir_is_a_file(tmp_path):
    path = tmp_path / "file.txt"
    path.write_text("x")
    with pytest.raises(CorInfoError, match=re.escape(f"{path}: data directory is not a directory")):
        load_dataset("cifar10", data_dir=path)


# ---------------------------------------------------------------------------
# CIFAR


def test_cifar10_values_and_normalisation(tmp_path):
    train, test = write_cifar10_dir(tmp_path)
    data = load_dataset("cifar10", data_dir=tmp_path)
    check_dataset(data, 12, 3, 3072, 10)
    assert data.name == "cifar10"
    assert data.image_shape == (3, 32, 32)
    assert data.source == str(tmp_path)
    expected_y = [label for batch in train for label in batch[b"labels"]]
    np.testing.assert_array_equal(data.y_train, expected_y)
    np.testing.assert_array_equal(data.y_test, test[b"labels"])
    # one pixel by hand: 4th training image (second image of data_batch_2),
    # green channel, row 5, column 7 -> feature 1 * 1024 + 5 * 32 + 7
    pixel = int(train[1][b"data"][1, 1024 + 5 * 32 + 7])
    assert data.X_train[3, 1024 + 5 * 32 + 7] == pytest.approx(normalised(pixel, 1), rel=1e-12)
    # blue channel of the last test image
    pixel = int(test[b"data"][2, 2 * 1024 + 31 * 32 + 31])
    assert data.X_test[2, 3071] == pytest.approx(normalised(pixel, 2), rel=1e-12)
    # all pixels at once, channel by channel
    raw = np.concatenate([batch[b"data"] for batch in train]).reshape(12, 3, 1024)
    mean = np.array([0.4914, 0.4822, 0.4465])[None, :, None]
    std = np.array([0.2023, 0.1994, 0.2010])[None, :, None]
    np.testing.assert_allclose(
        data.X_train, ((raw / 255 - mean) / (3 * std)).reshape(12, 3072), rtol=1e-12
    )


def test_read_cifar_returns_raw_pixels(tmp_path):
    train, test = write_cifar10_dir(tmp_path)
    X_train, y_train, X_test, y_test = read_cifar(tmp_path, "cifar10")
    assert X_train.dtype == np.uint8 and X_train.shape == (12, 3072)
    np.testing.assert_array_equal(X_train, np.concatenate([b[b"data"] for b in train]))
    np.testing.assert_array_equal(X_test, test[b"data"])
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    np.testing.assert_array_equal(y_test, test[b"labels"])


def test_read_cifar_rejects_other_names(tmp_path):
    with pytest.raises(CorInfoError, match=r"unknown CIFAR data set 'mnist'"):
        read_cifar(tmp_path, "mnist")


def test_cifar10_in_extracted_archive_folder(tmp_path):
    write_cifar10_dir(tmp_path / "cifar-10-batches-py")
    data = load_dataset("cifar10", data_dir=tmp_path)
    assert data.source == str(tmp_path / "cifar-10-batches-py")


def test_cifar10_from_env(tmp_path, monkeypatch):
    write_cifar10_dir(tmp_path / "cifar10" / "cifar-10-batches-py")
    monkeypatch.setenv("CORINFO_DATA", str(tmp_path))
    data = load_dataset("cifar10")
    assert data.source == str(tmp_path / "cifar10" / "cifar-10-batches-py")


def test_cifar100(tmp_path, monkeypatch):
    train, test = write_cifar100_dir(tmp_path / "cifar100")
    monkeypatch.setenv("CORINFO_DATA", str(tmp_path))
    data = load_dataset("cifar100")
    check_dataset(data, 5, 3, 3072, 100)
    assert data.n_classes == 100 and data.image_shape == (3, 32, 32)
    np.testing.assert_array_equal(data.y_train, train[b"fine_labels"])
    assert data.y_train.max() == 99
    pixel = int(train[b"data"][4, 0])  # red channel, row 0, column 0
    assert data.X_train[4, 0] == pytest.approx(normalised(pixel, 0), rel=1e-12)


def test_cifar_numpy1_pickle_names(tmp_path):
    """Batches pickled by numpy 1.x name numpy.core.multiarray._reconstruct."""
    train, test = write_cifar10_dir(tmp_path)
    for path in tmp_path.glob("*_batch*"):
        content = path.read_bytes()
        content = content.replace(
            b"numpy._core.multiarray\n_reconstruct", b"numpy.core.multiarray\n_reconstruct"
        )
        assert b"numpy.core.multiarray\n_reconstruct" in content
        path.write_bytes(content)
    X_train, *_ = read_cifar(tmp_path, "cifar10")
    np.testing.assert_array_equal(X_train[:2], train[0][b"data"])


@pytest.mark.parametrize("protocol", [4, 5])
def test_cifar_newer_pickle_protocols(tmp_path, protocol):
    train, test = write_cifar100_dir(tmp_path)
    write_pickle(tmp_path / "train", train, protocol=protocol)
    X_train, *_ = read_cifar(tmp_path, "cifar100")
    np.testing.assert_array_equal(X_train, train[b"data"])


def test_cifar_data_as_lists_and_str_keys(tmp_path):
    write_cifar10_dir(tmp_path)
    batch = cifar_batch(2, 5)
    plain = {"data": batch[b"data"].astype(np.int64).tolist(), "labels": batch[b"labels"]}
    write_pickle(tmp_path / "test_batch", plain)
    _, _, X_test, y_test = read_cifar(tmp_path, "cifar10")
    assert X_test.dtype == np.uint8
    np.testing.assert_array_equal(X_test, batch[b"data"])


def test_cifar_missing_files_listed(tmp_path):
    write_cifar10_dir(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    (tmp_path / "test_batch").unlink()
    excinfo = raises_error(load_dataset, "cifar10", data_dir=tmp_path)
    message = one_line(excinfo)
    assert message.startswith(f"cifar10: missing data_batch_3, test_batch in {tmp_path};")
    assert "cifar-10-python.tar.gz" in message


def test_cifar100_missing_everything(tmp_path):
    excinfo = raises_error(load_dataset, "cifar100", data_dir=tmp_path)
    assert one_line(excinfo).startswith(f"cifar100: missing train, test in {tmp_path};")


class _SystemCall:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


class _Eval:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (builtins.eval, (f"open({str(self.target)!r}, 'w').close()",))


class _Popen:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (subprocess.Popen, (["touch", str(self.target)],))


@pytest.mark.parametrize(
    "payload, refused",
    [
        (_SystemCall, f"{os.system.__module__}.system"),
        (_Eval, "builtins.eval"),
        (_Popen, "subprocess.Popen"),
    ],
)
@pytest.mark.parametrize("protocol", [2, 4])
def test_hostile_pickle_is_refused_without_running(tmp_path, payload, refused, protocol):
    write_cifar10_dir(tmp_path)
    target = tmp_path / "pwned"
    batch = cifar_batch(2, 3)
    batch[b"filenames"] = payload(target)
    path = write_pickle(tmp_path / "data_batch_2", batch, protocol=protocol)
    excinfo = raises_error(load_dataset, "cifar10", data_dir=tmp_path)
    message = one_line(excinfo)
    assert message.startswith(
        f"{path}: refused to unpickle {refused}: not a CIFAR batch file"
    )
    assert not target.exists()


def test_hostile_codecs_encode_is_limited_to_latin1(tmp_path):
    write_cifar100_dir(tmp_path)
    path = tmp_path / "test"
    # _codecs.encode("x", "rot13") -- only latin-1 (what protocol 2 uses) is allowed
    path.write_bytes(b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00xX\x05\x00\x00\x00rot13\x86R.")
    with pytest.raises(CorInfoError, match=re.escape(str(path)) + ": not a readable CIFAR batch"):
        read_cifar(tmp_path, "cifar100")


def test_cifar_pickle_not_a_dict(tmp_path):
    write_cifar10_dir(tmp_path)
    path = write_pickle(tmp_path / "data_batch_1", [1, 2, 3])
    excinfo = raises_error(load_dataset, "cifar10", data_dir=tmp_path)
    assert one_line(excinfo).startswith(
        f"{path}: not a CIFAR batch file (holds a list, expected a dict)"
    )


def test_cifar_missing_keys(tmp_path):
    write_cifar100_dir(tmp_path)
    batch = cifar_batch(2, 1)  # CIFAR-10 style: b"labels", no b"fine_labels"
    path = write_pickle(tmp_path / "train", batch)
    excinfo = raises_error(load_dataset, "cifar100", data_dir=tmp_path)
    assert one_line(excinfo).startswith(
        f"{path}: not a cifar100 batch file: missing key(s) fine_labels"
    )


def test_cifar_not_a_pickle(tmp_path):
    write_cifar10_dir(tmp_path)
    path = tmp_path / "test_batch"
    path.write_bytes(b"\x00garbage\n" * 10)
    with pytest.raises(CorInfoError, match=re.escape(str(path)) + ": not a readable CIFAR batch"):
        load_dataset("cifar10", data_dir=tmp_path)
    one_line(raises_error(load_dataset, "cifar10", data_dir=tmp_path))


def test_cifar_truncated_pickle(tmp_path):
    write_cifar10_dir(tmp_path)
    path = tmp_path / "data_batch_4"
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(CorInfoError, match=re.escape(str(path)) + ": not a readable CIFAR batch"):
        load_dataset("cifar10", data_dir=tmp_path)


@pytest.mark.parametrize(
    "change, problem",
    [
        (lambda b: b.update({b"data": b[b"data"][:, :3000]}), r"data has shape \(2, 3000\)"),
        (lambda b: b.update({b"data": b[b"data"][:0]}), r"data has shape \(0, 3072\)"),
        (lambda b: b.update({b"data": b[b"data"].astype(np.int16) * 2}), r"data values 0\.\.\d+ out of range 0\.\.255"),
        (lambda b: b.update({b"data": b[b"data"] / 255}), r"data has element type float64"),
        (lambda b: b.update({b"labels": [1, 2, 3]}), r"labels has shape \(3,\) but data has 2 images"),
        (lambda b: b.update({b"labels": [1, 10]}), r"labels values 1\.\.10 out of range 0\.\.9"),
        (lambda b: b.update({b"labels": [1, -1]}), r"labels values -1\.\.1 out of range 0\.\.9"),
    ],
)
def test_cifar_invalid_batch_contents(tmp_path, change, problem):
    write_cifar10_dir(tmp_path)
    batch = cifar_batch(2, 4)
    change(batch)
    path = write_pickle(tmp_path / "data_batch_5", batch)
    with pytest.raises(CorInfoError, match=re.escape(str(path)) + ": " + problem):
        load_dataset("cifar10", data_dir=tmp_path)
    one_line(raises_error(load_dataset, "cifar10", data_dir=tmp_path))


# ---------------------------------------------------------------------------
# digits


def test_digits_split_and_determinism(tmp_path):
    np.random.seed(1)
    first = load_dataset("digits")
    np.random.seed(2)
    second = load_dataset("digits", data_dir=tmp_path / "ignored")
    check_dataset(first, 1437, 360, 64, 10)
    assert first.image_shape == (8, 8)
    assert first.source == "sklearn.datasets.load_digits"
    assert first.X_train.min() == 0.0 and first.X_train.max() == 1.0
    for a, b in [(first.X_train, second.X_train), (first.y_test, second.y_test)]:
        np.testing.assert_array_equal(a, b)
    # stratified: every class is in the test set in proportion
    assert np.bincount(first.y_test, minlength=10).min() >= 35


def test_dataset_repr_is_short():
    text = repr(load_dataset("digits"))
    assert "X_train=(1437, 64)" in text and len(text) < 200


# ---------------------------------------------------------------------------
# the real Fashion-MNIST files


@pytest.mark.skipif(
    not FASHION_DIR.is_dir(),
    reason=f"{FASHION_DIR} absent (install the Debian package dataset-fashion-mnist)",
)
def test_real_fashion_mnist():
    data = load_dataset("fashion-mnist")
    check_dataset(data, 60000, 10000, 784, 10)
    assert data.source == str(FASHION_DIR)
    assert data.X_train.min() == 0.0 and data.X_train.max() == 1.0
    assert set(np.unique(data.y_train)) == set(range(10))
    assert set(np.unique(data.y_test)) == set(range(10))


# ---------------------------------------------------------------------------


def test_module_exports():
    assert DATASETS == ("digits", "fashion-mnist", "mnist", "cifar10", "cifar100")
    assert set(datasets.__all__) >= {
        "DATASETS", "Dataset", "load_dataset", "default_data_dir", "read_idx", "read_cifar",
    }
