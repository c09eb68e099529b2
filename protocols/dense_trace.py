"""Where a rate network's training goes wrong, sample by sample, in the dense oracle.

Continues a run of a rate network (``antisparse`` or ``sparse``) from the weights it had after
epoch ``--epoch`` (``RUN/snapshots/weights_e{E}.npz``) with the dense numpy model of the same
mathematics (``corinfo_sim.dense.train_sample``: the same phases, settling, three phases and
learning rates, the run's learning-rate factor of that epoch), one training sample at a time,
and, at the start and every ``--every`` samples, prints the free-phase activity Σ r of every layer
and the test accuracy on the first ``--probe`` test samples, how far every weight matrix has moved
from where it started (Frobenius norm of the change) and, with ``--contrast N``, how strongly each
layer's rates differ between the two states the rule contrasts (on the first N probe samples).
The samples come in an order of their own (``--order-seed``), not the run's, and β's sign as the
run's ``beta_sign`` says (random per sample, or always +).

Reproduces the README's account of the four-hidden-layer collapse (section "Deep networks"):
after ``corinfo-sim train --arch 64,100,100,100,100,10 --epochs 20 --seed 0 --no-gate-clipped
--no-collapse-check --out runs/deep4_s0`` (without the gate that is now the default),

    python protocols/dense_trace.py runs/deep4_s0 --epoch 10 --samples 1437 --every 100
    python protocols/dense_trace.py runs/deep4_s0 --epoch 10 --samples 700 --every 50 --lr-factor 1
    python protocols/dense_trace.py runs/deep4_s0 --epoch 10 --samples 700 --every 50 --lr-factor 1 --gate-clipped

and why the deeper networks start slowly (activity and contrast per layer after epoch 1 of the
depth study's seed 0, ``corinfo-sim sweep protocols/sweeps/digits_depth.toml --out
runs/digits_depth``; ``p000`` … ``p003``: one to four hidden layers),

    python protocols/dense_trace.py runs/digits_depth/points/p003_s0 --epoch 1 --samples 0 --probe 360 --contrast 30

Time here: about 15 minutes for the first (a digits epoch of 64-100-100-100-100-10, up to 400
steps per sample, on a core shared with two other jobs).
"""
import argparse
import dataclasses
import json
import os
import sys

import numpy as np

from corinfo_sim.api import run_config
from corinfo_sim.cli import guarded
from corinfo_sim.datasets import load_dataset
from corinfo_sim.dense import free_rates, n_layers, train_sample
from corinfo_sim.errors import CorInfoError
from corinfo_sim.params import Params
from corinfo_sim.weights import load_weights

#: The variants whose oracle is their exact mathematics.
MODELS = ("antisparse", "sparse")


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="run folder of a rate network (config.json, snapshots/)")
    parser.add_argument("--epoch", type=int, default=0, help="start from the weights after this epoch (default 0: "
                        "the initial weights)")
    parser.add_argument("--samples", type=int, default=500, help="training samples presented (default 500; 0 "
                        "prints only where the trace starts)")
    parser.add_argument("--every", type=int, default=50, help="print a line every this many samples (default 50)")
    parser.add_argument("--probe", type=int, default=200, help="test samples for Σ r and the accuracy (default 200)")
    parser.add_argument("--lr-factor", type=float, help="learning rates × this (default: the run's factor of the "
                        "epoch after --epoch, its schedule's decay)")
    parser.add_argument("--gate-clipped", action=argparse.BooleanOptionalAction, help="gate the plasticity of "
                        "clipped neurons (corinfo-sim train --gate-clipped; default: as the run did)")
    parser.add_argument("--contrast", type=int, default=0, metavar="N", help="also print, per layer, the mean "
                        "contrast |r^a − r^b|/β' of the rates between the two states the rule contrasts (+β and "
                        "−β with three phases, β' = 2β; else nudged and free), on the first N probe samples "
                        "(default 0: not measured)")
    parser.add_argument("--order-seed", type=int, default=1, help="seed of the sample order and of β's signs")
    parser.add_argument("--data-dir", help="folder with the data set's files (not for digits)")
    parser.add_argument("--json", help="also write the lines to this file")
    return parser.parse_args(argv)


def _run_params(run):
    config = run_config(run)
    try:
        params = Params.from_dict(config["params"])
    except (KeyError, TypeError, ValueError) as error:
        raise CorInfoError(f"{run} is not a run folder with a readable config.json ({error}): give the --out of a "
                           "corinfo-sim train run")
    if params.model not in MODELS:
        raise CorInfoError(f"{run} is a {params.model} run: this traces the rate networks ({', '.join(MODELS)})")
    return params, config.get("dataset", "digits")


def rate_contrast(weights, images, targets, beta, oracle):
    """Per layer k = 1..L, the mean over neurons and samples of |r_k^a − r_k^b|/β': how strongly the
    two states that the rule contrasts differ (the signal each layer's update lives on). The weights
    are not changed (the learning rates are 0, and the lateral update works on a copy)."""
    L = n_layers(weights)
    zeros = [0.0] * L
    sums = np.zeros(L)
    for x, y in zip(images, targets):
        states = {}
        train_sample({key: w.copy() for key, w in weights.items()}, x, y, beta, zeros, zeros, oracle, states)
        a, b = states["nudged"]["r"], states["minus" if oracle.three_phase else "free"]["r"]
        sums += [np.mean(np.abs(a[k] - b[k])) for k in range(1, L + 1)]
    return [float(c) for c in sums / (len(images) * beta * (2 if oracle.three_phase else 1))]


def run(args):
    params, dataset = _run_params(args.run)
    for name, least in (("samples", 0), ("every", 1), ("probe", 1), ("contrast", 0)):
        if getattr(args, name) < least:
            raise CorInfoError(f"--{name} must be at least {least}, got {getattr(args, name)}")
    snapshot = os.path.join(args.run, "snapshots", f"weights_e{args.epoch:03d}.npz")
    if not os.path.exists(snapshot):
        raise CorInfoError(f"{snapshot} does not exist: --epoch must be an epoch the run has finished")
    weights, _ = load_weights(snapshot, tuple(params.arch))
    data = load_dataset(dataset, args.data_dir)
    oracle = params.variant.oracle(params)
    if args.gate_clipped is not None:
        oracle = dataclasses.replace(oracle, gate_clipped=args.gate_clipped)
    factor = params.lr_factor(args.epoch) if args.lr_factor is None else args.lr_factor
    if not factor > 0:
        raise CorInfoError(f"--lr-factor must be positive, got {factor}")
    lr_ff = [factor * r for r in params.lr_ff]
    lr_fb = [factor * r for r in params.lr_fb]
    rng = np.random.default_rng(args.order_seed)
    order = rng.permutation(len(data.X_train))[:args.samples]
    probe_x, probe_y = data.X_test[:args.probe], data.y_test[:args.probe]
    start = {key: w.copy() for key, w in weights.items()}
    eye = np.eye(data.n_classes)
    lines = []

    def report(i):
        rates = free_rates(weights, probe_x, oracle)
        top = max(rates)
        line = {"sample": i, "test_acc": float(np.mean(np.argmax(rates[top], axis=1) == probe_y)),
                "sum_r": [float(rates[k].sum(axis=1).mean()) for k in sorted(rates)],
                "change": {key: float(np.linalg.norm(weights[key] - start[key])) for key in sorted(weights)}}
        contrast = ""
        if args.contrast:
            line["contrast"] = rate_contrast(weights, probe_x[:args.contrast], eye[probe_y[:args.contrast]],
                                             params.beta, oracle)
            contrast = " | contrast " + " ".join(f"{c:.2e}" for c in line["contrast"])
        lines.append(line)
        print(f"{i:6d} {100 * line['test_acc']:6.1f}  " + " ".join(f"{s:5.2f}" for s in line["sum_r"]) + " | "
              + " ".join(f"{key} {c:.2f}" for key, c in line["change"].items()) + contrast, flush=True)

    print(f"{'sample':>6} {'test %':>6}  Σ r per layer (free phase) | ‖ΔW‖ since epoch {args.epoch}")
    report(0)  # where the trace starts
    for i, n in enumerate(order, start=1):
        sign = rng.choice([-1.0, 1.0]) if params.beta_sign == "random" else 1.0
        train_sample(weights, data.X_train[n], eye[data.y_train[n]], sign * params.beta, lr_ff, lr_fb, oracle)
        if i % args.every == 0 or i == len(order):
            report(i)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"run": args.run, "epoch": args.epoch, "lr_factor": factor,
                       "gate_clipped": oracle.gate_clipped, "lines": lines}, f, indent=1)


if __name__ == "__main__":
    arguments = parse(sys.argv[1:])
    sys.exit(guarded(lambda: run(arguments)))
