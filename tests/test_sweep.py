"""Sweeps on Dask: the sweep file, points that run exactly what ``corinfo-sim train`` runs, one
build per network structure, results, and faults (a failing or diverging point, a killed worker,
Ctrl-C, resume)."""
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from corinfo_sim.sweep import expand, load_spec, run_point

EXE = os.path.join(os.path.dirname(sys.executable), "corinfo-sim")
DASK = os.path.join(os.path.dirname(sys.executable), "dask")


def cli(*args, **kwargs):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, timeout=1800, **kwargs)


def write(path, text):
    path.write_text(text)
    return path


def weights_of(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def same_weights(a, b):
    a, b = weights_of(a), weights_of(b)
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def results(folder):
    with open(folder / "results.csv") as f:
        return {row["id"]: row for row in csv.DictReader(f)}


def train_alone(spec_path, folder, point, out):
    """Run the ``corinfo-sim train`` command line of a sweep's point on its own, uninterrupted,
    into ``out``; return its weights file."""
    spec, _ = load_spec(str(spec_path))
    argv = next(p.argv for p in expand(spec, str(folder), str(spec_path)) if p.id == point)
    argv[argv.index("--out") + 1] = str(out)
    proc = cli(*argv)
    assert proc.returncode == 0, proc.stderr
    return out / "weights.npz"


# ---- the sweep file --------------------------------------------------------------------------------
GOOD = """
epochs = 1
seeds = [0, 1]
[fixed]
arch = [64, 100, 10]
[grid]
g_leak = [0.3, 0.5]
lr_ff = [[0.25, 0.175], [0.5, 0.35]]
[[points]]
lambda = 0.9999
"""


def test_points_are_the_grid_then_the_listed_points_with_every_seed(tmp_path):
    spec, _ = load_spec(str(write(tmp_path / "s.toml", GOOD)))
    points = expand(spec, str(tmp_path / "out"))
    assert [p.id for p in points] == [f"p{n:03d}_s{s}" for n in range(5) for s in (0, 1)]
    assert points[0].values == {"arch": [64, 100, 10], "g_leak": 0.3, "lr_ff": [0.25, 0.175]}
    assert points[3].values["lr_ff"] == [0.5, 0.35] and points[3].seed == 1
    assert points[8].values == {"arch": [64, 100, 10], "lambda": 0.9999}
    argv = points[3].argv
    assert argv[:2] == ["train", "--model"] and "--seed" in argv and argv[argv.index("--seed") + 1] == "1"
    assert argv[argv.index("--lr-ff") + 1] == "0.5,0.35" and argv[argv.index("--g-leak") + 1] == "0.3"
    assert argv[argv.index("--out") + 1] == str(tmp_path / "out" / "points" / "p001_s1")


@pytest.mark.parametrize("text, words", [
    ("epochs = 1\n[grid]\ng_lek = [0.3]\n", ["g_lek", "unknown key"]),
    ("epochs = 1\n[grid]\ng_leak = []\n", ["g_leak", "empty"]),
    ("epochs = 1\n[grid]\ng_leak = 0.3\n", ["g_leak", "list"]),
    ("epochs = 1\n[grid]\ng_leak = ['a']\n", ["g_leak", "number"]),
    ("epochs = 1\n[fixed]\nlr_ff = 'fast'\n", ["lr_ff", "numbers"]),
    ("epochs = 1\n[fixed]\nn_free = 2.5\n", ["n_free", "whole number"]),
    ("epochs = 1\n[fixed]\nthree_phase = 1\n", ["three_phase", "true or false"]),
    ("epochs = 1\n[fixed]\nseed = 3\n", ["seed", "seeds = ["]),
    ("epochs = 1\n[fixed]\ng_leak = -1.0\n", ["g_leak", "positive"]),
    ("epochs = 1\n[fixed]\narch = [64, 100, 3]\n", ["arch", "does not fit"]),
    ("epochs = 1\n[fixed]\nnu_max = 100\n", ["nu_max", "spiking"]),
    ("epochs = 1\n[fixed]\ninit_weights = 'missing.npz'\n", ["init_weights", "does not exist"]),
    ("epochs = 1\n[fixed]\nprobe_samples = [5000]\n", ["probe samples"]),
    ("epochs = 0\n", ["epochs"]),
    ("seeds = [0]\n", ["epochs is missing"]),
    ("epochs = 1\nseeds = [0, 0]\n", ["seeds"]),
    ("epochs = 1\nmodel = 'nope'\n", ["unknown model", "nope"]),
    ("epochs = 1\nlr_ff = [0.1]\n", ["lr_ff", "[fixed]"]),
    ("epochs = 1\n[[points]]\n", ["points", "empty"]),
    ("epochs = [1\n", ["not valid TOML"]),
])
def test_bad_sweep_files_give_one_line_naming_the_key(tmp_path, text, words):
    proc = cli("sweep", write(tmp_path / "s.toml", text), "--out", tmp_path / "out")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for word in words:
        assert word.lower() in lines[0].lower(), lines[0]
    assert not (tmp_path / "out").exists(), "a refused sweep leaves no folder"


def test_missing_sweep_file(tmp_path):
    proc = cli("sweep", tmp_path / "none.toml", "--out", tmp_path / "out")
    assert proc.returncode == 2 and "cannot read the sweep file" in proc.stderr


# ---- a sweep on the local cluster --------------------------------------------------------------------
SMALL = """
epochs = 2
seeds = [0, 1]
[fixed]
max_train_samples = 200
max_test_samples = 100
[grid]
g_leak = [0.3, 0.5]
[[points]]
lr_ff = [1e4, 1e4]
lr_fb = [1e3]
[[points]]
init_weights = "bad.npz"
"""


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    """A sweep of 8 points on a local cluster of 2 workers: 4 fine, 2 diverging, 2 failing."""
    tmp = tmp_path_factory.mktemp("sweep")
    np.savez(tmp / "bad.npz", Wff1=np.zeros((3, 3)))
    spec = write(tmp / "small.toml", SMALL)
    proc = cli("sweep", spec, "--out", tmp / "out", "--workers", "2")
    return tmp, proc


@pytest.mark.standalone
def test_local_sweep_runs_every_point_and_records_faults(local_sweep):
    tmp, proc = local_sweep
    assert proc.returncode == 4, proc.stderr  # some points failed
    assert "2 of 8 points failed" in proc.stderr
    assert "local Dask cluster: 2 worker processes" in proc.stdout
    rows = results(tmp / "out")
    assert sorted(rows) == [f"p{n:03d}_s{s}" for n in range(4) for s in (0, 1)]
    for pid in ("p000_s0", "p000_s1", "p001_s0", "p001_s1"):
        row = rows[pid]
        assert row["status"] == "done" and row["epochs_done"] == "2", row
        assert len(row["test_acc_per_epoch"].split()) == 2 and float(row["final_test_acc"]) > 10
        assert row["host"] == socket.gethostname() and row["build"] in ("compiled", "cache", "reused")
        assert (tmp / "out" / "points" / pid / "weights.npz").exists()
    for pid in ("p002_s0", "p002_s1"):
        assert rows[pid]["status"] == "diverged", rows[pid]
    for pid in ("p003_s0", "p003_s1"):
        assert rows[pid]["status"].startswith("failed: ") and "bad.npz" in rows[pid]["status"], rows[pid]
    assert proc.stdout.count("] p0") == 8, proc.stdout  # a line per finished point
    assert "ETA" in proc.stdout
    # one network structure: at most one build per worker, the rest re-ran a worker's network
    builds = [rows[p]["build"] for p in rows if rows[p]["build"] != "-"]
    assert sum(b in ("compiled", "cache") for b in builds) <= 2 and builds.count("reused") >= 2, builds
    assert not (tmp / "out" / "builds").exists()


@pytest.mark.standalone
def test_a_sweep_point_is_exactly_its_train_command(local_sweep):
    tmp, _ = local_sweep
    alone = train_alone(tmp / "small.toml", tmp / "out", "p001_s1", tmp / "alone")
    assert same_weights(alone, tmp / "out" / "points" / "p001_s1" / "weights.npz")
    with open(tmp / "out" / "points" / "p001_s1" / "config.json") as f:
        assert json.load(f)["params"]["g_leak"] == 0.5


@pytest.mark.standalone
def test_a_finished_point_run_again_returns_its_record_untouched(local_sweep):
    """A task run again after its worker died holding the result: the run folder says the point is done."""
    tmp, _ = local_sweep
    record = tmp / "out" / "points" / "p000_s0" / "point.json"
    before, mtime = record.read_bytes(), record.stat().st_mtime_ns
    spec, _ = load_spec(str(tmp / "small.toml"))
    point = next(p for p in expand(spec, str(tmp / "out"), str(tmp / "small.toml")) if p.id == "p000_s0")
    assert run_point(point.id, point.request, str(tmp / "out")) == json.loads(before)
    assert record.read_bytes() == before and record.stat().st_mtime_ns == mtime


@pytest.mark.standalone
def test_sweep_summary_and_figure(local_sweep):
    tmp, _ = local_sweep
    summary = (tmp / "out" / "summary.md").read_text()
    assert "| 0.3 |" in summary and "| 0.5 |" in summary and "±" in summary and "2 diverged" in summary
    assert "Builds:" in summary
    proc = cli("figure", "sweep", "--run", tmp / "out", "--x", "g_leak", "--out", tmp / "fig.png")
    assert proc.returncode == 0, proc.stderr
    assert (tmp / "fig.png").stat().st_size > 0 and (tmp / "fig.pdf").exists()


@pytest.mark.standalone
def test_sweep_resume_skips_finished_points_and_a_second_sweep_is_refused(local_sweep):
    tmp, _ = local_sweep
    spec = tmp / "small.toml"
    again = cli("sweep", spec, "--out", tmp / "out", "--workers", "1")
    assert again.returncode == 2 and "already holds a sweep" in again.stderr
    before = (tmp / "out" / "points" / "p000_s0" / "point.json").stat().st_mtime_ns
    np.savez(tmp / "bad.npz", **{k: v for k, v in weights_of(tmp / "out" / "points" / "p000_s0" /
                                                           "weights.npz").items()})  # the failing points now run
    resumed = cli("sweep", spec, "--out", tmp / "out", "--workers", "1", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "8 points (6 finished before)" in resumed.stdout
    assert (tmp / "out" / "points" / "p000_s0" / "point.json").stat().st_mtime_ns == before
    assert results(tmp / "out")["p003_s0"]["status"] == "done"
    other = write(tmp / "other.toml", SMALL.replace("0.5]", "0.6]"))
    refused = cli("sweep", other, "--out", tmp / "out", "--resume")
    assert refused.returncode == 2 and "another sweep" in refused.stderr


# ---- faults: a killed worker, Ctrl-C --------------------------------------------------------------
LONGER = """
epochs = 12
seeds = [0, 1]
[fixed]
max_test_samples = 50
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(condition, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _running_pid(point_dir, min_epochs):
    """The pid of the process training ``point_dir`` once it has committed ``min_epochs`` epochs."""
    try:
        with open(point_dir / "checkpoint.json") as f:
            if json.load(f)["epochs_done"] < min_epochs:
                return None
        with open(point_dir / "status.json") as f:
            status = json.load(f)
        return status["pid"] if status["status"] == "running" else None
    except (OSError, ValueError, KeyError):
        return None


@pytest.mark.long
@pytest.mark.standalone
def test_a_killed_worker_point_reruns_elsewhere_and_ends_as_uninterrupted(tmp_path):
    """A scheduler and two workers started with the dask command line on 127.0.0.1; the worker
    running point p000_s0 is killed (SIGKILL) after its second epoch."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        for _ in range(2):
            procs.append(subprocess.Popen([DASK, "worker", address, "--nthreads", "1", "--no-nanny",
                                           "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        spec = write(tmp_path / "longer.toml", LONGER)
        sweep = subprocess.Popen([EXE, "sweep", str(spec), "--out", str(tmp_path / "out"), "--scheduler", address],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        point = tmp_path / "out" / "points" / "p000_s0"
        victim = _wait_for(lambda: _running_pid(point, 2), 600, "two epochs of p000_s0")
        assert victim in [p.pid for p in procs[1:]]
        os.kill(victim, signal.SIGKILL)
        stdout, stderr = sweep.communicate(timeout=1200)
        assert sweep.returncode == 0, stderr
        assert "2 workers" in stdout
    finally:
        for p in procs:
            p.kill()
            p.wait()
    rows = results(tmp_path / "out")
    assert rows["p000_s0"]["status"] == "done" and rows["p000_s0"]["epochs_done"] == "12"
    with open(point / "point.json") as f:
        assert json.load(f)["pid"] != victim, "the point was re-run by another worker"
    alone = train_alone(spec, tmp_path / "out", "p000_s0", tmp_path / "alone")
    assert same_weights(alone, point / "weights.npz")
    with open(point / "metrics.json") as f, open(tmp_path / "alone" / "metrics.json") as g:
        assert json.load(f)["test_acc"] == json.load(g)["test_acc"]


@pytest.mark.long
@pytest.mark.standalone
def test_ctrl_c_keeps_every_finished_epoch_and_resume_completes(tmp_path):
    spec = write(tmp_path / "longer.toml", LONGER)
    out = tmp_path / "out"
    sweep = subprocess.Popen([EXE, "sweep", str(spec), "--out", str(out), "--workers", "2"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    _wait_for(lambda: _running_pid(out / "points" / "p000_s0", 2), 600, "two epochs of p000_s0")
    os.killpg(sweep.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends to the foreground group
    stdout, stderr = sweep.communicate(timeout=300)
    assert sweep.returncode == 130, stderr
    assert "every finished epoch is kept" in stderr.strip().splitlines()[-1]
    done = json.loads((out / "points" / "p000_s0" / "checkpoint.json").read_text())["epochs_done"]
    assert 2 <= done < 12
    resumed = cli("sweep", spec, "--out", out, "--workers", "2", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    rows = results(out)
    assert all(row["status"] == "done" and row["epochs_done"] == "12" for row in rows.values()), rows
    alone = train_alone(spec, out, "p000_s0", tmp_path / "alone")
    assert same_weights(alone, out / "points" / "p000_s0" / "weights.npz")


# ---- the paper's studies -----------------------------------------------------------------------------
STUDIES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "protocols", "sweeps")


@pytest.mark.parametrize("name", sorted(os.listdir(STUDIES)))
def test_every_study_file_is_a_valid_sweep(tmp_path, name):
    from corinfo_sim.errors import CorInfoError
    spec, _ = load_spec(os.path.join(STUDIES, name))
    try:
        points = expand(spec, str(tmp_path), os.path.join(STUDIES, name))
    except CorInfoError as e:
        if "not found" in str(e) or "missing" in str(e) or "no such" in str(e).lower():
            pytest.skip(f"the data set of {name} is not on this machine")
        raise
    # the grid's combinations, then the listed points, each with every seed
    grid = int(np.prod([len(v) for v in spec["grid"].values()])) if spec["grid"] else 0
    assert len(points) == len(spec["seeds"]) * max(1, grid + len(spec.get("points", [])))


def test_an_unreachable_scheduler_is_one_line(tmp_path):
    spec = write(tmp_path / "s.toml", "epochs = 1\n")
    proc = cli("sweep", spec, "--out", tmp_path / "out", "--scheduler", f"tcp://127.0.0.1:{_free_port()}")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "cannot reach the Dask scheduler" in proc.stderr


def test_time_left_counts_epochs_since_the_start(tmp_path):
    """The estimate uses the epochs trained in this sweep (a resumed point's earlier ones do not
    count), stops counting an ended point's missing epochs, and is re-read from the folders only
    every ``every`` seconds or when a point ends."""
    from types import SimpleNamespace

    from corinfo_sim.sweep import _TimeLeft

    def epochs(pid, n):
        folder = tmp_path / "points" / pid
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "checkpoint.json").write_text(json.dumps({"epochs_done": n}))

    epochs("p000_s0", 0)
    epochs("p001_s0", 2)  # resumed after two epochs
    todo = [SimpleNamespace(id="p000_s0"), SimpleNamespace(id="p001_s0"), SimpleNamespace(id="p002_s0")]
    left = _TimeLeft(todo, str(tmp_path), epochs=4, every=10)
    assert left(5.0) is None  # nothing trained yet
    epochs("p000_s0", 1)
    epochs("p001_s0", 3)
    assert left(9.0) is None  # read again only 10 s after the last reading
    # 2 epochs trained in 100 s; 3 + 1 + 4 still to train
    assert left(100.0) == pytest.approx(100.0 * 8 / 2)
    epochs("p000_s0", 2)
    assert left(105.0) == pytest.approx(400.0)  # not read again yet
    left.ended("p001_s0")  # diverged after its third epoch: 2 + 0 + 4 to train, 3 trained
    assert left(106.0) == pytest.approx(106.0 * 6 / 3)
