"""A small sweep from Python and its figure.

What it shows: a sweep given as a dict (the same keys as a sweep file: ``epochs``, ``seeds``,
``[fixed]``, ``[grid]``; values in the units of the command-line options) run with
:func:`corinfo_sim.run_sweep` on a local Dask cluster of one worker; its results table (one row
per point: parameters, seed, status, final and best test accuracy) as a pandas DataFrame; the
final test accuracy against the leak conductance g_L, mean ± std over the seeds
(:func:`corinfo_sim.plotting.plot_sweep`). Every point is a normal run folder in ``OUT/points/``.

Run it from the repository folder::

    .venv/bin/python examples/small_sweep.py --out examples_out/sweep

Six points (three values of g_L, two seeds) of 3 epochs each take about 1 minute on one worker
(the network is compiled once, or taken from the build cache, and reused by every point).
``CORINFO_EXAMPLES_QUICK=1`` runs 2 epochs on 200 samples.
"""
import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import corinfo_sim as cim  # noqa: E402

QUICK = bool(os.environ.get("CORINFO_EXAMPLES_QUICK"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_out/sweep", help="sweep folder (default examples_out/sweep)")
    args = parser.parse_args()
    spec = {"model": "antisparse", "dataset": "digits", "epochs": 2 if QUICK else 3, "seeds": [0, 1],
            "grid": {"g_leak": [0.3, 0.5, 1.0]}}
    if QUICK:
        spec["fixed"] = {"max_train_samples": 200, "max_test_samples": 100}
    results = cim.run_sweep(spec, args.out, workers=1, resume=os.path.exists(os.path.join(args.out, "sweep.toml")),
                            progress=print)
    for row in results:
        print(f"{row['id']}: g_leak {row['g_leak']}, seed {row['seed']}, {row['status']}, "
              f"final test accuracy {100 * float(row['final_test_acc']):.2f} %")
    try:
        print(results.frame()[["g_leak", "seed", "status", "final_test_acc"]].to_string())
    except cim.CorInfoError:
        pass  # no pandas: the rows above say the same
    ax = cim.plotting.plot_sweep(results, x="g_leak")
    path = os.path.join(args.out, "accuracy_vs_g_leak.png")
    ax.figure.savefig(path)
    plt.close(ax.figure)
    print(path)


if __name__ == "__main__":
    main()
