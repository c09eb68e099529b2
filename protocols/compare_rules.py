"""Learning rules side by side: CorInfoMax, equilibrium propagation, feedback alignment, backprop.

Every rule learns on the same data split, with the same seeds, epochs, online presentation
(a new order per seed and epoch) and initialisation scheme, each rule with its own settings for
the data set (``corinfo-sim train --model RULE --help`` lists them). Each rule is one Dask sweep
(``corinfo-sim sweep``, its file written to ``OUT/<rule>.toml``) into ``OUT/<rule>/``, a normal
sweep folder whose points are normal run folders. The rules run one after the other, so their
training times are measured on the same machine in the same run; ``--rules`` runs some of them
(several invocations into one OUT may run side by side), and running the command again resumes.
At the end it writes ``OUT/summary.md``: one table, rule × (test accuracy at epoch 1, 5 and the
last, mean ± std over seeds; training ms per sample, median over seeds and epochs), beside the
paper's numbers, and the figures ``OUT/learning_curves.png`` (the rules' test accuracy, mean ± std
over seeds) and ``OUT/angle.png`` (feedback against forward weights).

Examples (from the repository folder)::

    .venv/bin/python protocols/compare_rules.py --dataset digits --out runs/compare_digits
    .venv/bin/python protocols/compare_rules.py --dataset fashion-mnist --out runs/compare_fashion --workers 1
    .venv/bin/python protocols/compare_rules.py --dataset digits --out runs/compare_digits --table-only

Digits: 5 seeds × 20 epochs (defaults); Fashion-MNIST: 3 seeds × 8 epochs.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

#: The rules compared, by ``--model``: CorInfoMax (the paper's main network), equilibrium
#: propagation (a Brian2 network), feedback alignment and backprop (dense references).
RULES = ("antisparse", "ep", "fa", "bp")
NAMES = {"antisparse": "CorInfoMax (antisparse)", "sparse": "CorInfoMax-Sparse", "ep": "equilibrium propagation",
         "fa": "feedback alignment", "bp": "backprop"}
#: Seeds and epochs per data set.
DEFAULTS = {"digits": dict(epochs=20, seeds=(0, 1, 2, 3, 4)), "fashion-mnist": dict(epochs=8, seeds=(0, 1, 2))}
#: The published numbers beside which the table puts them (test accuracy %, batch 20, 50 epochs):
#: CorInfoMax from the paper (Bozkurt, Pehlevan & Erdogan, NeurIPS 2023), EP from the authors' EP
#: runs for it; digits is not in the paper.
PAPER = {"fashion-mnist": {"antisparse": "88.14 ± 0.28 (10 seeds)", "sparse": "88.09 ± 0.08 (10 seeds)",
                           "ep": "88.06"},
         "mnist": {"antisparse": "97.6 ± 0.1", "ep": "97.6"}}
EPOCHS_SHOWN = (1, 5)


def sweep_file(rule, dataset, epochs, seeds, fixed):
    """The TOML sweep file of one rule."""
    lines = [f'# {NAMES.get(rule, rule)} on {dataset}: protocols/compare_rules.py', f'model = "{rule}"',
             f'dataset = "{dataset}"', f"epochs = {epochs}", f"seeds = [{', '.join(map(str, seeds))}]"]
    if fixed:
        lines.append("[fixed]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in fixed.items()]
    return "\n".join(lines) + "\n"


def run_rule(rule, args, fixed):
    """Run (or resume) the sweep of one rule; return its exit status."""
    folder = os.path.join(args.out, rule)
    spec = os.path.join(args.out, f"{rule}.toml")
    with open(spec, "w") as f:
        f.write(sweep_file(rule, args.dataset, args.epochs, args.seeds, fixed))
    cmd = [sys.executable, "-m", "corinfo_sim.cli", "sweep", spec, "--out", folder]
    if args.scheduler:
        cmd += ["--scheduler", args.scheduler]
    else:
        cmd += ["--workers", str(args.workers)]
    if os.path.exists(os.path.join(folder, "points")):
        cmd.append("--resume")
    print(f"== {rule}: {' '.join(cmd[2:])}", flush=True)
    return subprocess.call(cmd)


def rule_runs(folder):
    """``{seed: metrics}`` of every point of a sweep folder with a finished epoch; each metrics dict
    also holds ``n_train``, the training samples per epoch (from the point's config.json)."""
    runs = {}
    points = os.path.join(folder, "points")
    for name in sorted(os.listdir(points)) if os.path.isdir(points) else ():
        try:
            with open(os.path.join(points, name, "metrics.json")) as f:
                metrics = json.load(f)
            with open(os.path.join(points, name, "config.json")) as f:
                metrics["n_train"] = json.load(f)["n_train"]
        except (OSError, ValueError, KeyError):
            continue
        if metrics.get("test_acc"):
            runs[int(metrics.get("seed", len(runs)))] = metrics
    return runs


def _mean_std(values):
    values = 100 * np.asarray(values, dtype=float)
    if not len(values):
        return "—"
    return f"{values.mean():.2f} ± {values.std():.2f}" if len(values) > 1 else f"{values[0]:.2f}"


def table(out, rules, dataset, epochs):
    """The comparison table (markdown) of the rules' sweep folders in ``out``."""
    paper = PAPER.get(dataset, {})
    shown = [e for e in EPOCHS_SHOWN if e < epochs] + [epochs]
    header = ["rule", "`--model`"] + [f"test % epoch {e}" for e in shown] + \
        ["seeds", "training ms/sample", f"paper ({dataset}, 50 epochs, batch 20)" if paper else "paper"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for rule in rules:
        runs = rule_runs(os.path.join(out, rule))
        cells = [NAMES.get(rule, rule), f"`{rule}`"]
        for e in shown:
            cells.append(_mean_std([m["test_acc"][e - 1] for m in runs.values() if len(m["test_acc"]) >= e]))
        done = [len(m["test_acc"]) for m in runs.values()]
        cells.append(f"{sum(d >= epochs for d in done)}" + (f" (+{sum(d < epochs for d in done)} running)"
                                                            if any(d < epochs for d in done) else ""))
        ms = [1e3 * seconds / m["n_train"] for m in runs.values() for seconds in m["train_s"]]
        cells.append(f"{np.median(ms):.3g}" if ms else "—")
        cells.append(paper.get(rule, "—") if paper else f"— ({dataset} is not in the paper)")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def figures(out, rules):
    """The learning curves of every rule and the weight angles, drawn from the sweep folders."""
    from corinfo_sim.errors import CorInfoError
    from corinfo_sim.figures import make_figure
    folders = [os.path.join(out, rule) for rule in rules if rule_runs(os.path.join(out, rule))]
    for name, path in (("learning-curves", "learning_curves.png"), ("angle", "angle.png")):
        try:
            for written in make_figure(name, folders, os.path.join(out, path)):
                print(written)
        except CorInfoError as e:
            print(f"figure {name}: {e}")


def parse(argv=None):
    """The command line's options, with each data set's epochs and seeds as defaults."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="digits", choices=sorted(DEFAULTS) + ["mnist", "cifar10"],
                        help="data set (default digits)")
    parser.add_argument("--out", required=True, help="folder of the comparison (one sweep folder per rule)")
    parser.add_argument("--rules", default=",".join(RULES), help=f"rules (--model names), default {','.join(RULES)}")
    parser.add_argument("--epochs", type=int, help="epochs (default: digits 20, fashion-mnist 8)")
    parser.add_argument("--seeds", help="seeds, e.g. 0,1,2 (default: digits 0-4, fashion-mnist 0,1,2)")
    parser.add_argument("--workers", type=int, default=1, help="workers of each sweep's local cluster (default 1)")
    parser.add_argument("--scheduler", help="a running Dask scheduler (tcp://host:8786) instead of a local cluster")
    parser.add_argument("--max-train-samples", type=int, help="first N training samples only (default: all)")
    parser.add_argument("--table-only", action="store_true", help="only write the table and figures from OUT")
    args = parser.parse_args(argv)
    defaults = DEFAULTS.get(args.dataset, DEFAULTS["fashion-mnist"])
    args.epochs = args.epochs or defaults["epochs"]
    args.seeds = tuple(int(s) for s in args.seeds.split(",")) if args.seeds else defaults["seeds"]
    return args


def main(argv=None):
    """Run every rule's sweep (unless ``--table-only``), then write the table and the figures."""
    args = parse(argv)
    from corinfo_sim.models import VARIANTS
    rules = [r for r in args.rules.split(",") if r]
    unknown = [r for r in rules if r not in VARIANTS]
    if unknown:
        print(f"error: unknown rule {unknown[0]!r}: choose among {', '.join(VARIANTS)}", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    fixed = {"max_train_samples": args.max_train_samples} if args.max_train_samples else {}
    status = 0
    if not args.table_only:
        for rule in rules:
            code = run_rule(rule, args, fixed)
            if code not in (0, 4):  # 4: some points failed, recorded in the rule's results.csv
                return code
            status = max(status, code)
    text = (f"# Learning rules on {args.dataset}: {args.epochs} epochs, seeds {', '.join(map(str, args.seeds))}\n\n"
            + table(args.out, rules, args.dataset, args.epochs))
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write(text)
    print(text)
    figures(args.out, rules)
    return status


if __name__ == "__main__":
    sys.exit(main())
