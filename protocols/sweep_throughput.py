"""Benchmark: throughput of a sweep with 1 and with N local workers, side by side.

Runs the same sweep (digits 64-100-10, ``--points`` seeds × ``--epochs`` epochs) with
``--workers 1`` and with ``--workers N`` (default: the cores), each as a whole
``corinfo-sim sweep`` command into a fresh folder, the build cache warmed first, and prints the
wall-clock seconds, points per minute and their ratio, the mean seconds of an epoch in either
run (how much the workers slow each other down, apart from the sweep's own work) and the builds
made for the points run. About 5 minutes on a 2-core machine with the defaults.

    .venv/bin/python protocols/sweep_throughput.py
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

SPEC = """
model = "antisparse"
dataset = "digits"
epochs = {epochs}
seeds = {seeds}
"""


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--points", type=int, default=24, help="points (seeds) of the sweep (default 24)")
    p.add_argument("--epochs", type=int, default=20, help="epochs per point (default 20)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help=f"workers of the parallel run (default: the cores, {os.cpu_count()})")
    return p.parse_args(argv)


def run(spec, out, workers):
    exe = os.path.join(os.path.dirname(sys.executable), "corinfo-sim")
    start = time.perf_counter()
    proc = subprocess.run([exe, "sweep", spec, "--out", out, "--workers", str(workers)], capture_output=True,
                          text=True)
    seconds = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"the sweep with {workers} worker(s) failed: {proc.stderr.strip()}")
    with open(os.path.join(out, "results.csv")) as f:
        rows = list(csv.DictReader(f))
    builds = {kind: sum(r["build"] == kind for r in rows) for kind in ("compiled", "cache", "reused")}
    # an epoch's wall clock inside its point (compiled run and the epoch's files): what the
    # workers slow each other down by, apart from the sweep's own work
    epoch_s = sum(float(r["epoch_s"]) for r in rows) / len(rows)
    return {"workers": workers, "seconds": round(seconds, 1), "points": len(rows),
            "points_per_minute": round(60 * len(rows) / seconds, 2), "epoch_s": round(epoch_s, 3),
            "builds": builds}


def main(argv=None):
    args = parse(argv)
    with tempfile.TemporaryDirectory(prefix="corinfo_sweep_bench_") as tmp:
        spec = os.path.join(tmp, "bench.toml")
        with open(spec, "w") as f:
            f.write(SPEC.format(epochs=args.epochs, seeds=list(range(args.points))))
        warm = os.path.join(tmp, "warm.toml")
        with open(warm, "w") as f:
            f.write(SPEC.format(epochs=1, seeds=[0]))
        run(warm, os.path.join(tmp, "warm"), 1)  # the binary into the build cache
        one = run(spec, os.path.join(tmp, "one"), 1)
        many = run(spec, os.path.join(tmp, "many"), args.workers)
    print(json.dumps({"one_worker": one, f"{args.workers}_workers": many,
                      "speedup": round(one["seconds"] / many["seconds"], 2),
                      "epoch_slowdown": round(many["epoch_s"] / one["epoch_s"], 2)}, indent=1))


if __name__ == "__main__":
    main()
