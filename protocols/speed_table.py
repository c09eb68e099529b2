"""Speed table: every network of the README's speed section, float64 and float32, 1 and 2 threads.

For each network and precision ``corinfo-sim bench`` runs on 1 thread with an empty build cache
(the cold build: code generation and compile), then on 2 threads with the binary from that cache
(the cached build: code generation and the cache look-up), each beside the dense numpy baseline of the same run
(batch 1, BLAS on as many threads). Printed as a Markdown table: training and evaluation ms per
sample, the epoch a data set of 60 000 training and 10 000 test samples would take at these
rates, the compiled network's time relative to the dense baseline, build seconds, and the peak
memory (RSS) of the compiled binary. Figures in one table are measured in one run, one after the
other; compare rows only as ratios (machines of one kind differ by up to 3×).

Takes about 15 minutes on a 2-core machine (``--quick``: the two smallest networks, 2 minutes)::

    .venv/bin/python protocols/speed_table.py [--quick] [--out speed.md]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

#: (name, bench options): random inputs unless a data set is named.
NETWORKS = [
    ("64-100-10", ["--arch", "64,100,10", "--samples", "2000"]),
    ("784-500-10", ["--arch", "784,500,10", "--samples", "2000"]),
    ("784-500-500-10", ["--arch", "784,500,500,10", "--samples", "1000"]),
    ("3072-1000-10", ["--arch", "3072,1000,10", "--samples", "400", "--dense-samples", "100"]),
    ("3072-2000-1000-100", ["--arch", "3072,2000,1000,100", "--samples", "60", "--dense-samples", "10"]),
    ("spiking 784-500-10, Fashion-MNIST", ["--model", "spiking", "--dataset", "fashion-mnist", "--samples", "300"]),
]
QUICK = 2
PRECISIONS = ("float64", "float32")
THREADS = (1, 2)
BENCH = [sys.executable, "-m", "corinfo_sim.cli", "bench"]


def bench(options, cache):
    """One ``corinfo-sim bench`` run with the build cache ``cache``: its figures."""
    env = dict(os.environ, CORINFO_CACHE=cache)
    done = subprocess.run(BENCH + options, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"bench {' '.join(options)} failed: {done.stderr.strip().splitlines()[-1]}")
    return json.loads(done.stdout)


def measure(networks):
    """Rows of the table: one per network, precision and thread count."""
    rows = []
    for name, options in networks:
        for precision in PRECISIONS:
            with tempfile.TemporaryDirectory(prefix="corinfo_speed_") as cache:
                cold = None  # the first run compiles into the empty cache, the others take it from there
                for threads in THREADS:
                    out = bench(options + ["--precision", precision, "--threads", str(threads)], cache)
                    cold = cold or out["compile_s"]
                    rows.append(dict(out, network=name, precision=precision, cold_build_s=cold))
                    print(f"{name} {precision} {threads} thread(s): {out['ms_per_sample']:.3f} ms/sample",
                          file=sys.stderr)
    return rows


def table(rows):
    """The rows as a Markdown table."""
    lines = ["| network | precision | threads | training ms/sample | evaluation ms/sample | epoch s (60k + 10k) "
             "| dense numpy ms/sample | compiled / dense | build s, cold / cached | peak RSS MB |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        epoch = (60000 * r["ms_per_sample"] + 10000 * r["eval_ms_per_sample"]) / 1e3
        dense = f"{r['dense_ms_per_sample']:.3g} | {r['ratio_to_dense']:.2f}" if "dense_ms_per_sample" in r else "— | —"
        threads = r["threads"] if r["threads_used"] == r["threads"] else f"{r['threads']} (ran {r['threads_used']})"
        lines.append(
            f"| {r['network']} | {r['precision']} | {threads} | {r['ms_per_sample']:.3g} | "
            f"{r['eval_ms_per_sample']:.3g} | {epoch:.0f} | {dense} | {r['cold_build_s']:.1f} / {r['compile_s']:.1f} | "
            f"{r['peak_rss_mb']:.0f} |")
    return "\n".join(lines)


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the two smallest networks")
    parser.add_argument("--out", help="also write the table to this Markdown file")
    parser.add_argument("--json", help="also write every run's figures to this JSON file")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    rows = measure(NETWORKS[:QUICK] if args.quick else NETWORKS)
    text = table(rows)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
