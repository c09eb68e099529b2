"""Spiking CorInfoMax: how far its average weight update is from the rate model's.

For the spiking network (``--model spiking``, the default) and the conductance-based network
with integrate-and-fire somata (``--model conductance_spiking``); the rate-driven conductance
network (``--model conductance``) on the same measure tells what the membranes alone change.

Presents the first ``--samples`` training images once, online, with the learning rates × 1e-3
(the weights barely move, so the summed change is the sum of the one-sample updates at the
given weights), and compares it with the dense rate oracle's sum (each phase run to its fixed
point): relative error, norm ratio and cosine per weight matrix. The spike noise of the single
updates averages out; what stays is a bias of the spike-based estimate.

Reproduces the README's numbers (section "Spiking CorInfoMax"):

    python protocols/spiking_update_error.py --arch 64,100,10           # one hidden layer: 0.04-0.06
    python protocols/spiking_update_error.py --arch 64,100,100,10 --no-gate-clipped    # two: up to 0.44
    python protocols/spiking_update_error.py --arch 64,100,100,10 --no-gate-clipped --weights W.npz --t-free 250
    python protocols/spiking_update_error.py --model conductance_spiking --arch 64,100,10

The spiking options (``--nu-max``, ``--t-free``, ..., ``--gate-clipped``) are those of ``corinfo-sim
train``; the oracle gates clipped neurons when the network does.
Time here (one core, 400 digits samples, compiling included): 61 s for 64,100,10, 96 s for
64,100,100,10; most of it is the dense oracle's 2 × 3000 steps per sample.
"""
import argparse
import json
import os
import sys
import tempfile

import numpy as np

from corinfo_sim.cli import _parameter_options, given_values, guarded
from corinfo_sim.datasets import load_dataset
from corinfo_sim.errors import CorInfoError
from corinfo_sim.models import get_variant
from corinfo_sim.params import make_params
from corinfo_sim.spiking import mean_update_error
from corinfo_sim.weights import init_weights, load_weights


#: The variants whose update this measures.
MODELS = ("spiking", "conductance_spiking", "conductance")


def parse(argv):
    chosen = argparse.ArgumentParser(add_help=False)
    chosen.add_argument("--model", default="spiking", choices=MODELS)
    model = chosen.parse_known_args(argv)[0].model
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="spiking", choices=MODELS,
                        help="spiking (default), conductance_spiking, or the rate-driven conductance network "
                             "as their reference; its options follow")
    parser.add_argument("--arch", default="64,100,10", help="layer sizes, input first (default 64,100,10)")
    parser.add_argument("--dataset", default="digits", help="digits, fashion-mnist, mnist, cifar10, cifar100")
    parser.add_argument("--data-dir", help="folder with the data set's files (not for digits)")
    parser.add_argument("--samples", type=int, default=400, help="training samples presented (default 400)")
    parser.add_argument("--weights", help="weights file (default: initial weights of --seed)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the errors to this file")
    _parameter_options(parser, get_variant(model), learning=False, skip=("arch",))
    return parser.parse_args(argv)


def run(args):
    try:
        arch = tuple(int(a) for a in args.arch.split(","))
    except ValueError:
        raise CorInfoError(f"--arch must be layer sizes separated by commas, e.g. 64,100,10, got {args.arch!r}")
    if args.json and not os.path.isdir(os.path.dirname(os.path.abspath(args.json))):
        raise CorInfoError(f"folder of --json {args.json} does not exist: create it first")
    given = given_values(args, get_variant(args.model), skip=("arch", "seed"))
    params = make_params(args.model, arch=arch, seed=args.seed, **given)
    data = load_dataset(args.dataset, args.data_dir)
    if not 1 <= args.samples <= len(data.X_train):
        raise CorInfoError(f"--samples must lie in 1..{len(data.X_train)} for {data.name}, got {args.samples}")
    if args.weights:
        weights, _ = load_weights(args.weights, arch)
    else:
        weights = init_weights(arch, np.random.default_rng(args.seed))
    with tempfile.TemporaryDirectory(prefix="corinfo_update_error_") as tmp:
        errors = mean_update_error(params, data.X_train[:args.samples], data.y_train[:args.samples], weights,
                                   f"{tmp}/build")
    print(f"{'weights':8} {'rel. error':>10} {'norm ratio':>10} {'cosine':>7}")
    for key, e in errors.items():
        print(f"{key:8} {e['rel_error']:10.3f} {e['norm_ratio']:10.3f} {e['cosine']:7.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"arch": list(arch), "samples": args.samples, "weights": args.weights,
                       "params": params.to_dict(), "errors": errors}, f, indent=1)


if __name__ == "__main__":
    arguments = parse(sys.argv[1:])
    sys.exit(guarded(lambda: run(arguments)))
