"""Sweeps that never hang and never redo a point: workers killed again and again (also a
replacement within seconds), the sweep process killed and resumed, a point whose worker dies
three times, a lost scheduler, a cluster without workers; the status line."""
import io
import json
import os
import random
import signal
import subprocess
import time

import psutil
import pytest

from corinfo_sim.progress import Reporter
from test_sweep import DASK, EXE, _free_port, _wait_for, cli, results, same_weights, train_alone, write

#: Workers of a local cluster lose their slot 2 s after they die (Dask's default: 15 s), so that
#: every kill below takes the path where Dask gives a slot up for good.
QUICK_SLOT_LOSS = dict(os.environ, DASK_DISTRIBUTED__DEPLOY__LOST_WORKER_TIMEOUT="2s")


def _start(*args, **kwargs):
    return subprocess.Popen([EXE, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)


def _alive(sweep):
    """Fail at once when the sweep process ``sweep`` has ended (rather than wait for what it cannot do)."""
    if sweep.poll() is not None:
        raise AssertionError(f"the sweep ended with status {sweep.returncode}: {sweep.communicate()[1]}")
    return None


def _training_pid(point_dir, exclude=()):
    """The pid of the process that trains ``point_dir`` now (from its status.json), unless in ``exclude``."""
    try:
        with open(point_dir / "status.json") as f:
            status = json.load(f)
    except (OSError, ValueError):
        return None
    pid = status.get("pid")
    return pid if status.get("status") == "running" and pid not in exclude and psutil.pid_exists(pid) else None


def _done_records(out):
    """``{id: bytes of point.json}`` of the points whose point.json says done."""
    records = {}
    for folder in (out / "points").glob("*"):
        try:
            data = (folder / "point.json").read_bytes()
        except OSError:
            continue
        if json.loads(data).get("status") == "done":
            records[folder.name] = data
    return records


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _workers_of(sweep_pid):
    """The worker processes of a sweep's local cluster (Python children started by multiprocessing)."""
    try:
        children = psutil.Process(sweep_pid).children()
    except psutil.Error:
        return set()
    found = set()
    for child in children:
        try:
            if any("spawn_main" in word for word in child.cmdline()):
                found.add(child.pid)
        except psutil.Error:
            pass
    return found


# ---- the soak: repeated worker kills, the sweep killed, --resume --------------------------------------------
SOAK = """
epochs = 4
seeds = [0, 1, 2, 3, 4, 5]
[fixed]
max_test_samples = 50
[grid]
g_leak = [0.3, 0.5]
"""


@pytest.mark.long
@pytest.mark.standalone
def test_soak_workers_killed_again_and_again_then_the_sweep_then_resume(tmp_path):
    """12 points on 2 workers: the worker of a running point killed, its replacement killed within
    seconds of its start, another running point's worker killed; then the sweep process itself
    (SIGKILL); ``--resume`` finishes the rest. Every point is done exactly once: a finished
    point's point.json is never written again, and three points equal a plain ``train`` bit for bit."""
    rng = random.Random(26)
    spec = write(tmp_path / "soak.toml", SOAK)
    out = tmp_path / "out"
    sweep = _start("sweep", spec, "--out", out, "--workers", 2, env=QUICK_SLOT_LOSS)
    points = [f"p{n:03d}_s{s}" for n in range(2) for s in range(6)]
    killed, hit, first_done = set(), [], {}

    def watch():  # the point.json of every point as it is first seen done
        _alive(sweep)
        for pid, data in _done_records(out).items():
            first_done.setdefault(pid, data)
        return None

    def kill_a_running_point():
        def running():
            watch()
            for pid in rng.sample(points, len(points)):
                victim = _training_pid(out / "points" / pid, killed)
                if victim:
                    return pid, victim
            return None
        pid, victim = _wait_for(running, 900, "a running point")
        time.sleep(rng.uniform(0, 1.5))  # a random moment of its training
        _kill(victim)
        killed.add(victim)
        hit.append(pid)

    try:
        kill_a_running_point()
        # the replacement of that worker: killed within seconds of its start
        before = _workers_of(sweep.pid) - killed
        replacement = _wait_for(lambda: watch() or (_workers_of(sweep.pid) - killed - before), 120,
                                "a replacement worker")
        time.sleep(rng.uniform(0.5, 3))
        for pid in replacement:
            _kill(pid)
            killed.add(pid)
        kill_a_running_point()
        _wait_for(lambda: watch() or len(_done_records(out)) >= 5, 900, "five points done")
        kill_a_running_point()
        time.sleep(rng.uniform(0, 2))
        workers = _workers_of(sweep.pid)
        _kill(sweep.pid)  # the sweep process itself; its workers follow it
        sweep.communicate(timeout=60)
        _wait_for(lambda: not any(psutil.pid_exists(w) and psutil.Process(w).status() != psutil.STATUS_ZOMBIE
                                  for w in workers), 60, "the workers of the killed sweep to stop")
    finally:
        _kill(sweep.pid)
        sweep.communicate()
    for pid, data in _done_records(out).items():
        first_done.setdefault(pid, data)
    assert 5 <= len(first_done) < 12, first_done.keys()
    resumed = cli("sweep", spec, "--out", out, "--workers", 2, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    rows = results(out)
    assert all(rows[p]["status"] == "done" and rows[p]["epochs_done"] == "4" for p in points), rows
    for pid, data in first_done.items():  # never run again, however often workers died
        assert (out / "points" / pid / "point.json").read_bytes() == data, pid
    assert "(12 points ran)" in (out / "summary.md").read_text()
    for pid in list(dict.fromkeys(hit + points))[:3]:  # the points killed first
        alone = train_alone(spec, out, pid, tmp_path / f"alone_{pid}")
        assert same_weights(alone, out / "points" / pid / "weights.npz"), pid


# ---- a point whose worker dies three times ---------------------------------------------------------------
THREE = """
epochs = 2
seeds = [0, 1, 2]
[fixed]
max_test_samples = 50
"""


@pytest.mark.long
@pytest.mark.standalone
def test_a_point_whose_worker_dies_three_times_fails_and_the_sweep_goes_on(tmp_path):
    """One worker; each time it trains point p000_s0 it is killed. Each kill also takes its slot
    (Dask gives it up after 2 s here): the sweep must open it again, fail the point after the third
    death and run the others. On a loaded machine Dask may also count a worker that misses its
    heartbeats as lost while it trains the point: the sweep may then fail it before the third kill."""
    spec = write(tmp_path / "three.toml", THREE)
    out = tmp_path / "out"
    sweep = _start("sweep", spec, "--out", out, "--workers", 1, env=QUICK_SLOT_LOSS)
    killed = []
    try:
        for _ in range(3):
            victim = _wait_for(lambda: (sweep.poll() is not None and "ended")
                               or _training_pid(out / "points" / "p000_s0", killed), 600,
                               f"p000_s0 to run again (killed {len(killed)} times)")
            if victim == "ended":
                break
            _kill(victim)
            killed.append(victim)
        assert killed, "the sweep ended before its worker was killed once"
        stdout, stderr = sweep.communicate(timeout=600)
    finally:
        _kill(sweep.pid)
        sweep.communicate()
    assert sweep.returncode == 4, stderr
    rows = results(out)
    assert rows["p000_s0"]["status"] == "failed: its worker died 3 times while running it (out of memory? " \
                                        "a crash? see the workers' logs)", rows["p000_s0"]
    assert rows["p000_s1"]["status"] == rows["p000_s2"]["status"] == "done"
    assert "a worker left the cluster" in stdout, stdout
    assert len(stderr.strip().splitlines()) == 1 and "1 of 3 points failed" in stderr, stderr


# ---- a lost scheduler; a cluster without workers ------------------------------------------------------------
LOST = """
epochs = 5
seeds = [0, 1, 2, 3, 4, 5]
[fixed]
max_test_samples = 50
"""


def _scheduler(port):
    return subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _worker(port):
    return subprocess.Popen([DASK, "worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1", "--no-dashboard"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(procs):
    for proc in procs:
        proc.kill()
        proc.wait()


@pytest.mark.long
@pytest.mark.standalone
def test_a_lost_scheduler_is_one_line_and_resume_with_a_new_one_finishes(tmp_path):
    """``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1; the scheduler is killed
    while one point is done and two run."""
    spec = write(tmp_path / "lost.toml", LOST)
    out = tmp_path / "out"
    port = _free_port()
    procs = [_scheduler(port)]
    try:
        procs += [_worker(port), _worker(port)]
        sweep = _start("sweep", spec, "--out", out, "--scheduler", f"tcp://127.0.0.1:{port}")
        _wait_for(lambda: _alive(sweep) or _done_records(out) and sum(_training_pid(p) is not None
                                                     for p in (out / "points").glob("*")) == 2,
                  900, "a point done and two running")
        done_before = _done_records(out)
        procs[0].kill()
        lost_at = time.time()
        stdout, stderr = sweep.communicate(timeout=120)
        seconds = time.time() - lost_at
        assert sweep.returncode == 5, stderr
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and "lost the Dask scheduler" in lines[0] and "--resume" in lines[0], stderr
        assert seconds < 30, seconds
        rows = results(out)
        statuses = [row["status"] for row in rows.values()]
        assert not any(s.startswith("failed") for s in statuses), statuses
        assert statuses.count("not started") >= 2 and set(statuses) <= {"done", "unfinished", "not started"}
        assert (out / "builds").exists(), "the workers still run their points in OUT/builds"
        # the old workers finish the points they run, in their folders
        _wait_for(lambda: all(p.poll() is not None for p in procs[1:]), 300, "the old workers to finish")
        for pid, row in rows.items():
            if row["status"] == "unfinished":
                assert json.loads((out / "points" / pid / "point.json").read_text())["status"] == "done", pid
        port = _free_port()
        procs += [_scheduler(port), _worker(port), _worker(port)]
        resumed = cli("sweep", spec, "--out", out, "--scheduler", f"tcp://127.0.0.1:{port}", "--resume")
        assert resumed.returncode == 0, resumed.stderr
    finally:
        _stop(procs)
    rows = results(out)
    assert all(row["status"] == "done" and row["epochs_done"] == "5" for row in rows.values()), rows
    for pid, data in done_before.items():
        assert (out / "points" / pid / "point.json").read_bytes() == data, pid


def test_a_cluster_without_workers_stops_after_the_worker_timeout(tmp_path):
    spec = write(tmp_path / "s.toml", "epochs = 1\nseeds = [0, 1]\n[fixed]\nmax_train_samples = 50\n")
    port = _free_port()
    procs = [_scheduler(port)]
    try:
        start = time.time()
        proc = cli("sweep", spec, "--out", tmp_path / "out", "--scheduler", f"tcp://127.0.0.1:{port}",
                   "--worker-timeout", 3)
        seconds = time.time() - start
    finally:
        _stop(procs)
    assert proc.returncode == 5, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "no Dask worker for 3 s" in proc.stderr, proc.stderr
    assert "no worker: waiting up to 3 s" in proc.stdout
    assert seconds < 60, seconds
    assert {row["status"] for row in results(tmp_path / "out").values()} == {"not started"}


def test_bad_worker_timeout_is_one_line(tmp_path):
    spec = write(tmp_path / "s.toml", "epochs = 1\n")
    proc = cli("sweep", spec, "--out", tmp_path / "out", "--worker-timeout", "0")
    assert proc.returncode == 2 and "--worker-timeout" in proc.stderr and "positive" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


# ---- the status line ----------------------------------------------------------------------------------------
def test_status_line_is_redrawn_on_a_terminal_and_printed_every_interval_in_a_log():
    terminal = io.StringIO()
    reporter = Reporter(stream=terminal, tty=True)
    reporter.status("1/4 points done")
    reporter.status("2/4 points done")
    reporter("[2/4] p001_s0  done")
    assert terminal.getvalue() == "\r1/4 points done\x1b[K\r2/4 points done\x1b[K\r\x1b[K[2/4] p001_s0  done\n"
    log = io.StringIO()
    reporter = Reporter(stream=log, tty=False, interval=0.2)
    reporter.status("first")  # the clock starts
    reporter.status("too soon")
    time.sleep(0.25)
    reporter.status("after the interval")
    assert log.getvalue() == "  after the interval\n"
