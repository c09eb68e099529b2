"""Nothing silently wrong, nothing lost: collapse detection, locked run folders, atomic
checkpoints, one-line errors for unwritable outputs and Ctrl-C during the compile, progress."""
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from corinfo_sim import runrecord, training
from corinfo_sim.datasets import load_dataset
from corinfo_sim.params import Params
from corinfo_sim.progress import Reporter
from corinfo_sim.weights import init_weights

EXE = os.path.join(os.path.dirname(sys.executable), "corinfo-sim")
#: A tiny run in runtime mode (no compiler): a few seconds.
TINY = ["--dataset", "digits", "--arch", "64,12,10", "--max-train-samples", "30", "--max-test-samples", "20",
        "--device", "runtime", "--n-free", "12", "--n-nudged", "6"]


def cli(*args, env=None, **kwargs):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, **(env or {})), **kwargs)


def one_line(proc, code, *words):
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "report this issue" not in proc.stderr
    for word in words:
        assert word.lower() in lines[0].lower(), lines[0]
    return lines[0]


def weights_of(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


# ---- 1. collapse ---------------------------------------------------------------------------------
def _health(weights=None, rates=None, outputs=None, labels=None, earlier=(), n_classes=10):
    rng = np.random.default_rng(0)
    weights = weights or init_weights((64, 12, 10), rng)
    labels = np.arange(100) % n_classes if labels is None else labels
    outputs = rng.uniform(0, 1, (len(labels), n_classes)) if outputs is None else outputs
    rates = rates or {1: (rng.uniform(0, 1, (5, 12)), rng.uniform(0, 1, (5, 12)))}
    training.check_health(weights, rates, outputs, labels, list(earlier), n_classes, 3, "RUN")


def test_health_check_passes_healthy_networks():
    _health()                                     # random outputs at chance, nothing earlier
    _health(earlier=[0.12, 0.13])                 # never above chance: not a collapse
    slow = np.eye(10)[np.where(np.arange(360) < 42, np.arange(360) % 10, (np.arange(360) + 1) % 10)] + 1e-3
    _health(outputs=slow, labels=np.arange(360) % 10, earlier=[0.1, 0.1722])  # a slow start: 17.2 % then 11.7 %
    W = init_weights((64, 12, 10), np.random.default_rng(1))
    W["B1"] *= 1e6                                # lateral weights of silent units grow by design
    _health(weights=W)
    eye = np.eye(10)[np.arange(100) % 10]
    _health(outputs=eye, earlier=[0.9])           # one-hot outputs, all correct
    _health(outputs=eye[:10] * 0 + eye[0], labels=np.zeros(10, int))  # one class only: may be constant


@pytest.mark.parametrize("case, words", [
    ("weights", ["weights ran away", "Wff2", "epoch 4", "epoch 3", "--lr-ff"]),
    ("rates", ["rates ran away", "layer 1"]),
    ("constant", ["same for every test sample"]),
    ("chance", ["chance level", "10 %", "from 90.0 % in epoch 2"]),
    ("below chance", ["2.0 % is below chance level", "--eta"]),
])
def test_health_check_finds_collapses(case, words):
    W = init_weights((64, 12, 10), np.random.default_rng(1))
    kwargs = {}
    if case == "weights":
        W["Wff2"][0, 0] = 250.0
        kwargs["weights"] = W
    elif case == "rates":
        kwargs["rates"] = {1: (np.full((3, 12), 5e3), np.zeros((3, 12)))}
    elif case == "constant":
        kwargs["outputs"] = np.tile(np.linspace(0, 1, 10), (100, 1))
    elif case == "below chance":  # 20 of 1000 right, with nothing earlier
        labels = kwargs["labels"] = np.arange(1000) % 10
        kwargs["outputs"] = np.eye(10)[np.where(np.arange(1000) < 20, labels, (labels + 1) % 10)] + 1e-3
    else:
        kwargs["outputs"] = np.tile(np.eye(10)[3], (100, 1)) + 1e-3 * np.random.default_rng(2).random((100, 10))
        kwargs["earlier"] = [0.5, 0.9, 0.8]
    with pytest.raises(training.Collapsed) as err:
        _health(**kwargs)
    for word in words:
        assert word.lower() in str(err.value).lower(), str(err.value)
    assert "\n" not in str(err.value)


def test_a_fall_to_chance_must_be_significant():
    assert not training.significant_drop(0.1722, 0.1167, 360)   # 2.1 standard errors
    assert training.significant_drop(0.25, 0.11, 360)
    assert training.significant_drop(0.9, 0.1, 100)


def test_chance_bound_follows_the_test_set_size():
    assert training.chance_bound(10, 10000) == pytest.approx(0.1 + 3 * 0.003)
    assert training.chance_bound(10, 10000, below=True) == pytest.approx(0.1 - 3 * 0.003)
    assert training.chance_bound(10, 20, below=True) < 0   # 20 samples: never below chance
    assert 0.127 < training.chance_bound(10, 1000) < 0.129   # 10.7 % of 1000 samples is chance
    assert training.chance_bound(100, 10000) < 0.014


def test_runaway_learning_rates_stop_the_run_and_keep_good_weights(tmp_path):
    out = tmp_path / "run"
    proc = cli("train", *TINY, "--epochs", "2", "--lr-ff", "1e6,1e6", "--lr-fb", "1e6", "--out", out)
    line = one_line(proc, 3)
    assert "collapsed" in line or "diverged" in line, line
    kept, initial = weights_of(out / "weights.npz"), weights_of(out / "snapshots" / "weights_e000.npz")
    for key in kept:
        np.testing.assert_array_equal(kept[key], initial[key])
    status = json.loads((out / "status.json").read_text())
    assert status["status"] in ("collapsed", "diverged") and status["epochs_done"] == 0
    assert json.loads((out / "checkpoint.json").read_text())["epochs_done"] == 0


def test_collapse_check_can_be_switched_off(tmp_path):
    out = tmp_path / "run"
    proc = cli("train", *TINY, "--epochs", "1", "--lr-ff", "1e6,1e6", "--lr-fb", "1e6", "--no-collapse-check",
               "--out", out)
    if proc.returncode == 3:  # NaN or inf always stop a run
        assert "diverged" in proc.stderr and "NaN" in proc.stderr
    else:
        assert proc.returncode == 0, proc.stderr
        assert max(np.abs(w).max() for w in weights_of(out / "weights.npz").values()) > training.WEIGHT_LIMIT


# ---- 1. defaults per data set ------------------------------------------------------------------------
def _resolved(*argv):
    from corinfo_sim import cli as cli_module
    args = cli_module.build_parser().parse_args(["train", "--epochs", "1", "--out", "x", *argv])
    dataset = load_dataset(args.dataset or "digits") if (args.dataset or "digits") == "digits" else \
        type("D", (), {"name": args.dataset})()
    return cli_module._params(args, dataset)


def test_each_dataset_brings_its_defaults():
    from corinfo_sim.params import make_params
    fashion = _resolved("--dataset", "fashion-mnist")
    assert fashion.arch == (784, 500, 10) and fashion.g_leak == 0.3 and fashion.eta_schedule == "free"
    assert fashion.lr_ff == pytest.approx((0.015, 0.011)) and fashion.lr_fb == pytest.approx((0.0035,))
    assert fashion.lr_schedule == ((0, 0.95), (20, 0.9), (25, 0.8))
    assert _resolved().arch == (64, 100, 10) and _resolved().lr_ff == (0.5, 0.35)
    cifar = _resolved("--dataset", "cifar100")
    assert cifar.arch == (3072, 2000, 1000, 100) and (cifar.n_free, cifar.n_nudged) == (50, 20)
    # options replace the defaults; another depth keeps the first rate and repeats the last
    deep = _resolved("--dataset", "fashion-mnist", "--arch", "784,500,500,10", "--g-leak", "0.4",
                     "--eta-schedule", "off", "--lr-decay", "1")
    # another depth: the data set's rates falling with depth, η_ff,1/k and η_fb,1 (2/3)^k
    assert deep.lr_ff == pytest.approx((0.015, 0.015 / 2, 0.015 / 3))
    assert deep.lr_fb == pytest.approx((0.0035 * 2 / 3, 0.0035 * 4 / 9))
    assert deep.g_leak == 0.4 and deep.eta_schedule == "off" and deep.lr_schedule == ((0, 1.0),)
    assert _resolved("--dataset", "fashion-mnist", "--eta-schedule").eta_schedule == "free"
    spiking = make_params("spiking", dataset="fashion-mnist")
    assert spiking.lr_ff == fashion.lr_ff and "eta_schedule" not in spiking.values()


def _docstring_command(module):
    line = next(l for l in module.__doc__.splitlines() if l.strip().startswith("corinfo-sim train"))
    return line.split()[1:]


@pytest.mark.parametrize("name", ["digits", "fashion_mnist", "mnist", "cifar10", "cifar100"])
def test_protocol_docstrings_give_their_train_command(name):
    """The `corinfo-sim train` line in each protocol's docstring trains with the protocol's settings."""
    import importlib
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "protocols"))
    try:
        module = importlib.import_module(name)
    finally:
        sys.path.pop(0)
    argv = _docstring_command(module)
    seed = int(argv[argv.index("--seed") + 1])
    assert _resolved(*argv[argv.index("--dataset"):]).to_dict() == module.PROTOCOL.params.replace(seed=seed).to_dict()


def test_fashion_mnist_docstring_command_runs(tmp_path):
    """...and it runs (shortened: 1 epoch of 20 samples, runtime mode), recording the settings."""
    import importlib
    if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
        pytest.skip("the Debian package dataset-fashion-mnist is not installed")
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "protocols"))
    try:
        module = importlib.import_module("fashion_mnist")
    finally:
        sys.path.pop(0)
    argv = _docstring_command(module)
    argv[argv.index("--epochs") + 1] = "1"
    argv[argv.index("--out") + 1] = str(tmp_path / "run")
    proc = cli(*argv, "--max-train-samples", "20", "--max-test-samples", "20", "--device", "runtime",
               "--no-collapse-check")
    assert proc.returncode == 0, proc.stderr
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["params"] == module.PROTOCOL.params.to_dict()


# ---- 2. locks and checkpoints ---------------------------------------------------------------------
HOLD = """
import sys, time
from corinfo_sim.runfolder import locked_folder
with locked_folder(sys.argv[1]):
    print("held", flush=True)
    time.sleep(600)
"""


@contextlib.contextmanager
def held(folder):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_a_second_writer_is_refused_and_a_killed_holder_leaves_no_lock(tmp_path):
    out = tmp_path / "run"
    with held(out) as holder:
        proc = cli("train", *TINY, "--epochs", "1", "--out", out)
        line = one_line(proc, 2, "in use", f"pid {holder.pid}")
        assert "--out" in line
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        proc = cli("train", *TINY, "--epochs", "1", "--out", out)
        assert proc.returncode == 0, proc.stderr


def test_protocol_folder_is_locked(tmp_path):
    out = tmp_path / "proto"
    with held(out) as holder:
        proc = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "..", "protocols", "digits.py"),
                               "--epochs", "1", "--out", str(out), "--device", "runtime"],
                              capture_output=True, text=True, timeout=300)
        one_line(proc, 2, "in use", f"pid {holder.pid}")


def test_two_trainings_into_one_folder_one_is_refused(tmp_path):
    out = tmp_path / "run"
    procs = [subprocess.Popen([EXE, "train", *TINY, "--epochs", "2", "--seed", str(s), "--out", str(out)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for s in (0, 1)]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, err in results if code == 2)
    assert "in use" in refused
    # the folder holds the winner's run, whole
    winner = [s for s, (code, _) in zip((0, 1), results) if code == 0][0]
    assert json.loads((out / "config.json").read_text())["params"]["seed"] == winner
    assert json.loads((out / "checkpoint.json").read_text())["epochs_done"] == 2


SAVE_POINTS = ["snapshot", "diagnostics.npz", "corinfo.npz", "traces.npz", "representations.npz", "weights.npz",
               "metrics.json", "checkpoint.json"]


class Killed(BaseException):
    """Stands for SIGKILL in the middle of a checkpoint (a BaseException: nothing catches it)."""


@pytest.mark.parametrize("point", SAVE_POINTS)
def test_a_kill_at_any_point_of_the_save_resumes_to_the_same_run(tmp_path, digits, monkeypatch, point):
    p = Params(arch=(64, 12, 10), n_free=12, n_nudged=6)
    data = digits.subset(max_train=30, max_test=20)
    quiet = lambda line: None  # noqa: E731
    ref = training.train(p, data, 2, str(tmp_path / "ref"), device="runtime", progress=quiet)

    def kill(name, epochs_done):
        if epochs_done == 2 and name == point:
            raise Killed(name)
    monkeypatch.setattr(runrecord, "_after_write", kill)
    with pytest.raises(Killed):
        training.train(p, data, 2, str(tmp_path / "run"), device="runtime", progress=quiet)
    monkeypatch.undo()
    done = runrecord.epochs_done(str(tmp_path / "run"))
    assert done == (2 if point == "checkpoint.json" else 1)
    resumed = training.train(p, data, 2, str(tmp_path / "run"), device="runtime", progress=quiet, resume=True)
    for key in ("train_acc", "test_acc", "epochs_done", "lr_factor"):
        assert resumed[key] == ref[key], key
    a, b = weights_of(tmp_path / "ref" / "weights.npz"), weights_of(tmp_path / "run" / "weights.npz")
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["test_acc"] == ref["test_acc"]
    with np.load(tmp_path / "run" / "diagnostics.npz") as d:
        assert d["samples_seen"].tolist() == [0, 30, 60]
    assert not [f for f in os.listdir(tmp_path / "run") if f.endswith(".tmp")]


# ---- 3. one line, nothing left behind -----------------------------------------------------------------
@pytest.fixture
def readonly(tmp_path):
    """A folder nobody may write (a read-only mount as root, where permissions do not apply)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot make a read-only folder here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


@pytest.fixture
def run_folder(tmp_path_factory):
    """A finished tiny run, to evaluate, trace and draw."""
    out = tmp_path_factory.mktemp("runs") / "run"
    proc = cli("train", *TINY, "--epochs", "1", "--out", out, "--no-collapse-check")
    assert proc.returncode == 0, proc.stderr
    return out


def test_every_command_refuses_an_unwritable_output_in_one_line(tmp_path, readonly, run_folder):
    env = {"TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    cases = {
        "train": ["train", *TINY, "--epochs", "1", "--out", readonly / "run"],
        "train into it": ["train", *TINY, "--epochs", "1", "--out", readonly],
        "traces": ["traces", "--weights", run_folder, "--samples", "0", "--out", readonly / "t.npz"],
        "traces nwb": ["traces", "--weights", run_folder, "--samples", "0", "--out", readonly / "t.nwb"],
        "figure": ["figure", "learning-curves", "--run", run_folder, "--out", readonly / "f.png"],
    }
    for name, argv in cases.items():
        proc = cli(*argv, env=env)
        line = one_line(proc, 2, str(readonly))
        assert any(w in line for w in ("read-only", "permission denied")), (name, line)
    protocol = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "..", "protocols", "digits.py"),
                               "--epochs", "1", "--out", str(readonly / "p")], capture_output=True, text=True,
                              timeout=300, env=dict(os.environ, **env))
    one_line(protocol, 2, str(readonly))
    assert os.listdir(tmp_path / "tmp") == [], "no debug log or script may be left behind"


def test_long_names_and_plain_npy_weights_give_one_line(tmp_path, run_folder):
    long = tmp_path / ("x" * 300)
    one_line(cli("train", *TINY, "--epochs", "1", "--out", long), 2, "too long")
    one_line(cli("traces", "--weights", run_folder, "--samples", "0", "--out", tmp_path / ("y" * 300 + ".npz")),
             2, "too long")
    np.save(tmp_path / "plain.npy", np.zeros((3, 3)))
    one_line(cli("evaluate", "--weights", tmp_path / "plain.npy"), 2, "single array")
    one_line(cli("evaluate", "--weights", tmp_path), 2, "no weights.npz")


@pytest.mark.standalone
def test_ctrl_c_during_the_compile(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([EXE, "train", "--dataset", "digits", "--epochs", "1", "--out", str(out), "--no-build-cache"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not (out / "build" / "make.log").exists():
        time.sleep(0.05)
    assert (out / "build" / "make.log").exists(), "the compile never started"
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends to the foreground group
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert stderr.strip() == "interrupted: nothing was written"
    assert not out.exists(), os.listdir(out) if out.exists() else None
    leftover = subprocess.run(["pgrep", "-f", str(out / "build")], capture_output=True, text=True).stdout
    assert leftover == "", "the compiler was left running"


def test_bad_input_leaves_no_output_folder(tmp_path):
    out = tmp_path / "new"
    one_line(cli("train", *TINY, "--epochs", "1", "--lr-ff", "-1,1", "--out", out), 2, "--lr-ff")
    one_line(cli("train", *TINY, "--epochs", "1", "--init-weights", tmp_path / "missing.npz", "--out", out), 2)
    assert not out.exists()


def test_traces_refuses_to_overwrite(tmp_path, run_folder):
    target = tmp_path / "t.npz"
    target.write_bytes(b"precious")
    one_line(cli("traces", "--weights", run_folder, "--samples", "0", "--out", target), 2, "--overwrite")
    assert target.read_bytes() == b"precious"
    proc = cli("traces", "--weights", run_folder, "--samples", "0", "--out", target, "--overwrite")
    assert proc.returncode == 0, proc.stderr
    with np.load(target) as t:
        assert "v_soma_L1" in t.files


def test_traces_nwb_out_writes_nwb_that_passes_the_inspector(tmp_path, run_folder):
    nwbinspector = pytest.importorskip("nwbinspector")
    path = tmp_path / "t.nwb"
    proc = cli("traces", "--weights", run_folder, "--samples", "0,1,2", "--out", path)
    assert proc.returncode == 0, proc.stderr
    assert path.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n", "an NWB file is HDF5"
    from nwbinspector import Importance
    bad = [m for m in nwbinspector.inspect_nwbfile(nwbfile_path=str(path))
           if m.importance in (Importance.CRITICAL, Importance.BEST_PRACTICE_VIOLATION)]
    assert not bad, bad
    from pynwb import NWBHDF5IO
    with NWBHDF5IO(str(path), "r") as io_:
        nwb = io_.read()
        trials = nwb.trials.to_dataframe()
        assert list(trials["sample"]) == [0, 1, 2]
        digits = load_dataset("digits")
        assert list(trials["label"]) == list(digits.y_test[:3])
        assert len(nwb.stimulus_template["input_images"].images) == 3


# ---- 5. progress ------------------------------------------------------------------------------------
def test_reporter_on_a_terminal_and_in_a_log(monkeypatch):
    clock = iter(np.arange(0, 1000, 1.0))
    monkeypatch.setattr(time, "monotonic", lambda: next(clock))
    tty = io.StringIO()
    r = Reporter(stream=tty, tty=True)
    for done in range(0, 101, 10):
        r.update("epoch 1/2 train", done, 100)
    r("epoch   1/2 ...")
    text = tty.getvalue()
    assert "\r" in text and "100/100" in text and "samples/s" in text and "ETA" in text
    assert text.endswith("\r\x1b[Kepoch   1/2 ...\n"), "the bar is cleared before a line"
    log = io.StringIO()
    r = Reporter(stream=log, tty=False, interval=30)
    for done in range(0, 101):
        r.update("epoch 1/2 train", done, 100)
    lines = log.getvalue().splitlines()
    assert 2 <= len(lines) <= 4 and "\r" not in log.getvalue()   # one line per 30 s of 100 s
    assert lines[0].startswith("  epoch 1/2 train: 30/100 samples")


@pytest.mark.standalone
def test_compiled_runs_report_progress_within_an_epoch(tmp_path, digits, monkeypatch):
    import corinfo_sim.session as session_module
    from corinfo_sim.network import Plan
    from corinfo_sim.session import Session
    monkeypatch.setattr(session_module, "WATCH_PERIOD", 0.01)
    p = Params(arch=(64, 100, 10))
    n = len(digits.X_train)
    plan = Plan.make(digits.y_train, train=np.arange(n), test=np.arange(300), beta=np.ones(n))
    session = Session(p, digits.X_train, digits.y_train, plan.segments, str(tmp_path / "build"))
    seen = []
    try:
        session.run(plan, init_weights(p.arch, np.random.default_rng(0)),
                    on_progress=lambda segment, done, total: seen.append((segment, done, total)))
        with open(os.path.join(os.path.dirname(session._stdout_path()), "stdout.txt")) as f:
            ticks = [line for line in f if line.startswith("corinfo-mark 5 ")]
    finally:
        session.close()
    assert 150 <= len(ticks) <= 210, "about 100 progress marks per segment"
    slots = [int(line.split()[2]) for line in ticks]
    assert slots == sorted(slots)
    assert seen and all(total == (n if seg == "train" else 300) for seg, _, total in seen)
    train_done = [d for seg, d, _ in seen if seg == "train"]
    assert train_done == sorted(train_done)


def test_train_says_what_it_builds_and_prints_lines_as_they_come(tmp_path):
    proc = cli("train", "--dataset", "digits", "--arch", "64,12,10", "--max-train-samples", "30",
               "--max-test-samples", "20", "--epochs", "2", "--out", tmp_path / "run", "--no-collapse-check")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("building the network 64,12,10 (antisparse)")
    assert lines[1].startswith("built in ") and lines[1].endswith(" s")
    assert lines[-1].startswith("final test accuracy") and "after 2 epochs" in lines[-1]


# ---- 9, 10. help, version and smaller things ------------------------------------------------------------
def test_help_shows_every_default(capsys):
    from corinfo_sim.cli import build_parser
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, command in sub.choices.items():
        for action in command._actions:
            if action.help is None or action.dest in ("help",) or action.required or action.nargs == 0 \
                    or action.option_strings == []:
                continue
            assert "default" in action.help, f"{name} {action.option_strings}: {action.help}"
    with pytest.raises(SystemExit):
        parser.parse_args(["figure", "--help"])
    assert "learning-curves" in capsys.readouterr().out
    assert "(0, 1)" in sub.choices["train"].format_help() and "forgetting factor" in sub.choices["train"].format_help()


def test_version():
    proc = cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("corinfo-sim ")


def test_one_epoch_is_singular(tmp_path):
    proc = cli("train", *TINY, "--epochs", "1", "--out", tmp_path / "r", "--no-collapse-check")
    assert "after 1 epoch;" in proc.stdout, proc.stdout


def test_weights_may_be_a_run_folder_whose_settings_are_used(tmp_path, run_folder):
    proc = cli("evaluate", "--weights", run_folder, "--device", "runtime", "--max-test-samples", "20")
    assert proc.returncode == 0, proc.stderr
    assert "20 samples of digits" in proc.stdout
    # a run's model is known: the rate model on spiking weights is refused, naming the model
    config = json.loads((run_folder / "config.json").read_text())
    spiking = tmp_path / "spiking_run"
    spiking.mkdir()
    (spiking / "weights.npz").write_bytes((run_folder / "weights.npz").read_bytes())
    (spiking / "config.json").write_text(json.dumps(dict(config, model="spiking")))
    one_line(cli("evaluate", "--weights", spiking, "--model", "antisparse"), 2, "'spiking' run", "--model spiking")


def test_protocol_resume_with_nothing_to_do_does_not_compile(tmp_path):
    script = os.path.join(os.path.dirname(__file__), "..", "protocols", "digits.py")
    args = [sys.executable, script, "--epochs", "1", "--out", str(tmp_path / "p"), "--max-train-samples", "30",
            "--max-test-samples", "20", "--device", "runtime"]
    first = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    again = subprocess.run(args + ["--resume", "--device", "cpp_standalone"], capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0, again.stderr
    assert "building" not in again.stdout and "nothing to do" in again.stdout
    assert not (tmp_path / "p" / "build").exists()


# ---- 7. every recorded sample starts from the onset state ---------------------------------------------
@pytest.mark.standalone
def test_spiking_training_traces_start_from_the_onset_state(tmp_path):
    """The probe samples of a spiking training run come after hundreds of samples (here slot
    420 and more, where the clocks of 0.5 ms steps and 175 ms samples round differently): their
    first recorded step is the onset state, not the previous sample's end."""
    out = tmp_path / "run"
    proc = cli("train", "--model", "spiking", "--dataset", "digits", "--arch", "64,20,10", "--max-train-samples",
               "400", "--max-test-samples", "20", "--epochs", "1", "--out", out, "--no-collapse-check")
    assert proc.returncode == 0, proc.stderr
    with np.load(out / "traces.npz") as tr:
        steps = int(np.sum(tr["sample"] == tr["sample"][0]))
        onsets = np.flatnonzero(np.diff(np.concatenate([[-1], tr["sample"]])))
        assert len(onsets) == 2 and steps == 350
        for first in onsets:
            for k in (1, 2):
                for var in ("v_soma", "v_basal", "v_apical", "rate", "z"):
                    assert np.all(tr[f"{var}_L{k}"][first] == 0), (var, k, tr[f"{var}_L{k}"][first])
            assert np.any(tr["v_basal_L1"][first + 1:first + 20] != 0), "the input arrives after the onset"
