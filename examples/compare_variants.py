"""Two variants' learning curves from their run folders.

What it shows: the antisparse CorInfoMax network and equilibrium propagation (``ep``) trained on
digits with the same seed and epochs, each into its own run folder (:func:`corinfo_sim.train`);
both folders opened with :func:`corinfo_sim.load_run`, their per-epoch metrics side by side as a
pandas DataFrame, and one figure with both learning curves
(:func:`corinfo_sim.plotting.plot_learning_curves` given both runs).

Run it from the repository folder::

    .venv/bin/python examples/compare_variants.py --out examples_out/compare
    .venv/bin/python examples/compare_variants.py --runs runs/compare_digits/antisparse runs/compare_digits/ep

Training both for 5 epochs takes about 30 s (plus two C++ builds the first time, about 30 s);
given ``--runs`` it only reads and draws (2 s). ``CORINFO_EXAMPLES_QUICK=1`` trains 2 epochs on
200 samples.
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
    parser.add_argument("--runs", nargs=2, metavar="RUN", help="two run folders (default: train them into OUT)")
    parser.add_argument("--out", default="examples_out/compare", help="output folder")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    folders = args.runs
    if not folders:
        folders = []
        for model in ("antisparse", "ep"):
            folder = os.path.join(args.out, model)
            if not os.path.exists(os.path.join(folder, "checkpoint.json")):
                cim.train(cim.params(model, dataset="digits", seed=0), "digits", epochs=2 if QUICK else 5, out=folder,
                          max_train=200 if QUICK else None, max_test=100 if QUICK else None)
            folders.append(folder)
    runs = [cim.load_run(folder) for folder in folders]
    for run in runs:
        print(f"{run.model}: test accuracy per epoch " + ", ".join(f"{100 * a:.2f}" for a in run.metrics["test_acc"]) + " %")
    try:
        import pandas
        table = pandas.concat({run.model: run.metrics_frame()[["test_acc", "train_s"]] for run in runs}, axis=1)
        print(table.to_string())
    except ImportError:
        pass
    axes = cim.plotting.plot_learning_curves(runs, references=False)
    path = os.path.join(args.out, "learning_curves.png")
    axes[0].figure.savefig(path)
    plt.close(axes[0].figure)
    print(path)


if __name__ == "__main__":
    main()
