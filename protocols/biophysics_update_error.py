"""Why learning fails under noise, failures or delays: the weight update of a sample against the oracle's.

For each level of one biophysical option (``--option noise_soma --levels 0,1,2,4``; the options
of ``corinfo_sim/biophysics.py``), presents each of the first ``--samples`` training images once,
alone, with β = +1 from the same weights, and compares its update of every forward and feedback
matrix with the noise-free oracle's update of the same sample (:mod:`corinfo_sim.dense`: for the
rate networks their own discretisation, which the network without the options equals to 1e-9;
for the spiking and conductance networks the rate network they approximate, each phase run to its
fixed point). Per level and matrix it prints

- ``sample``: the median over samples of |ΔW − ΔW_oracle| / |ΔW_oracle| (one sample's update:
  what online learning uses, noise included);
- ``mean``: the same for the updates summed over the samples (what is left when the noise of the
  single updates averages out: the bias);
- ``cosine``: the cosine between the summed updates;

and, first, the β-induced potential difference of every layer, the mean |u^n − u^f| between the
nudged and the free state of the somata (β = 1, in mV): the signal the rule lives on, against
which a noise level is compared.

A level whose single-sample error exceeds 1 changes the weights more by noise than by the rule.
The noise-free network itself is the first level (0, or p = 1). Noise levels take both
compartments unless ``--option`` names one (``noise`` sets ``noise_soma`` and ``noise_dendrite``
together; ``delay`` sets the three delays together).

Run (digits, 64-100-10, initial weights of seed 0; one compile for the level 0 and one for the
others, then one run of the binary per sample and level)::

    .venv/bin/python protocols/biophysics_update_error.py --model antisparse --option noise \\
        --levels 0,0.5,1,2,4,8 --samples 40 --json runs/biophysics_update_error_noise.json
"""
import argparse
import json
import os
import sys
import tempfile

import brian2
import numpy as np

from corinfo_sim import dense
from corinfo_sim.cli import guarded
from corinfo_sim.datasets import load_dataset
from corinfo_sim.errors import CorInfoError
from corinfo_sim.network import Plan
from corinfo_sim.params import make_params
from corinfo_sim.session import Session
from corinfo_sim.weights import init_weights, load_weights

#: ``--option`` names: the Params fields each level sets, and their unit.
OPTIONS = {"noise": (("noise_soma", "noise_dendrite"), brian2.mV),
           "noise_soma": (("noise_soma",), brian2.mV), "noise_dendrite": (("noise_dendrite",), brian2.mV),
           "release_prob": (("release_prob",), 1.0), "release_prob_ff": (("release_prob_ff",), 1.0),
           "release_prob_fb": (("release_prob_fb",), 1.0), "release_prob_lateral": (("release_prob_lateral",), 1.0),
           "delay": (("delay_ff", "delay_fb", "delay_lateral"), brian2.ms),
           "delay_ff": (("delay_ff",), brian2.ms), "delay_fb": (("delay_fb",), brian2.ms),
           "delay_lateral": (("delay_lateral",), brian2.ms)}


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="antisparse", help="model variant (default antisparse)")
    parser.add_argument("--option", default="noise", choices=sorted(OPTIONS), help="the option varied (default noise)")
    parser.add_argument("--levels", required=True, help="its levels, in mV, ms or as p, e.g. 0,1,2,4")
    parser.add_argument("--arch", default="64,100,10", help="layer sizes, input first (default 64,100,10)")
    parser.add_argument("--dataset", default="digits", help="digits, fashion-mnist, ... (default digits)")
    parser.add_argument("--data-dir", help="folder with the data set's files (not for digits)")
    parser.add_argument("--samples", type=int, default=40, help="training samples, each presented alone (default 40)")
    parser.add_argument("--weights", help="weights file or run folder (default: initial weights of --seed)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and of the noise (default 0)")
    parser.add_argument("--oracle-steps", type=int, default=3000,
                        help="steps of each oracle phase for the spiking and conductance networks (default 3000)")
    parser.add_argument("--json", help="also write the errors to this file")
    return parser.parse_args(argv)


def oracle_updates(params, images, labels, weights, oracle_steps):
    """The oracle's update of each sample alone from ``weights``: a list of ``{key: ΔW}``."""
    if params.variant.exact_oracle:
        dp = params.variant.oracle(params.replace(**{name: value for name, value in _off(params).items()}))
    else:
        dp = dense.DenseParams(epsilon=params.epsilon, lam=params.lam, lambda_batch=params.lambda_batch,
                               g_leak=params.g_leak, n_free=oracle_steps, n_nudged=oracle_steps)
    eye = np.eye(params.arch[-1])
    out = []
    for x, y in zip(images, labels):
        W = {key: np.array(value, dtype=float) for key, value in weights.items()}
        dense.train_sample(W, x, eye[y], 1.0, params.lr_ff, params.lr_fb, dp)
        out.append({key: W[key] - weights[key] for key in weights if not key.startswith("B")})
    return out


def nudge_difference(params, images, labels, weights, oracle_steps):
    """The β-induced potential difference: per layer, the mean over samples and neurons of
    |u^n − u^f| (the somatic potential at the end of the nudged phase minus that of the free phase,
    β = 1, the oracle's dynamics) in mV (u times the potential scale, V0 or delta_v)."""
    if params.variant.exact_oracle:
        dp = params.variant.oracle(params.replace(**_off(params)))
        n_free, n_nudged = params.n_free, params.n_nudged
    else:
        dp = dense.DenseParams(epsilon=params.epsilon, lam=params.lam, lambda_batch=params.lambda_batch,
                               g_leak=params.g_leak, n_free=oracle_steps, n_nudged=oracle_steps)
        n_free = n_nudged = oracle_steps
    scale = float((params.V0 if "V0" in params.variant.parameters_by_name else params.delta_v) / brian2.mV)
    eye = np.eye(params.arch[-1])
    diffs = []
    for x, y in zip(images, labels):
        free = dense.run_phase(weights, x, eye[y], 0.0, n_free, dp)
        nudged = dense.run_phase(weights, x, eye[y], 1.0, n_nudged, dp, prev=free)
        diffs.append([np.mean(np.abs(nudged.u[k] - free.u[k])) * scale for k in range(1, len(params.arch))])
    return np.mean(diffs, axis=0).tolist()


def _off(params):
    from corinfo_sim.biophysics import OFF
    return {name: value for name, value in OFF.items() if name in params.variant.parameters_by_name}


def network_updates(params, images, labels, weights, build_dir):
    """The network's update of each sample alone from ``weights`` (β = +1), one compiled run each."""
    n = len(images)
    session = Session(params, images, labels, {"train": 1, "test": 0, "probe": 0}, build_dir)
    out = []
    try:
        for s in range(n):
            result = session.run(Plan.make(labels, train=[s], beta=[1.0]), weights)
            out.append({key: result.weights[key] - weights[key] for key in weights if not key.startswith("B")})
    finally:
        session.close()
    return out


def compare(network, oracle):
    """Per matrix: median single-sample relative error, relative error and cosine of the sums."""
    out = {}
    for key in oracle[0]:
        single = [np.linalg.norm(a[key] - b[key]) / np.linalg.norm(b[key]) for a, b in zip(network, oracle)]
        total_n, total_o = sum(a[key] for a in network), sum(b[key] for b in oracle)
        out[key] = {"sample": float(np.median(single)),
                    "mean": float(np.linalg.norm(total_n - total_o) / np.linalg.norm(total_o)),
                    "cosine": float(np.sum(total_n * total_o) / (np.linalg.norm(total_n) * np.linalg.norm(total_o)))}
    return out


def run(args):
    try:
        arch = tuple(int(a) for a in args.arch.split(","))
        levels = [float(v) for v in args.levels.split(",")]
    except ValueError:
        raise CorInfoError(f"--arch and --levels must be numbers separated by commas, got {args.arch!r}, "
                           f"{args.levels!r}") from None
    if args.json and not os.path.isdir(os.path.dirname(os.path.abspath(args.json))):
        raise CorInfoError(f"folder of --json {args.json} does not exist: create it first")
    data = load_dataset(args.dataset, args.data_dir)
    if not 1 <= args.samples <= len(data.X_train):
        raise CorInfoError(f"--samples must lie in 1..{len(data.X_train)} for {data.name}, got {args.samples}")
    images, labels = data.X_train[:args.samples], data.y_train[:args.samples]
    base = make_params(args.model, args.dataset, arch=arch, seed=args.seed, beta_sign="positive")
    weights = load_weights(args.weights, arch)[0] if args.weights else init_weights(arch, np.random.default_rng(args.seed))
    names, unit = OPTIONS[args.option]
    oracle = oracle_updates(base, images, labels, weights, args.oracle_steps)
    nudge = nudge_difference(base, images, labels, weights, args.oracle_steps)
    print("beta-induced potential difference |u^n - u^f| (mV), layer 1..L: "
          + ", ".join(f"{v:.3g}" for v in nudge))
    results = []
    print(f"{args.model}, {args.option}: single-sample error (median), error of the summed update, its cosine")
    for level in levels:
        params = base.replace(**{name: level * unit for name in names})
        with tempfile.TemporaryDirectory(prefix="corinfo_bio_update_") as tmp:
            errors = compare(network_updates(params, images, labels, weights, f"{tmp}/build"), oracle)
        results.append({"level": level, "errors": errors})
        shown = "  ".join(f"{key} {e['sample']:.3f} {e['mean']:.3f} {e['cosine']:.3f}" for key, e in errors.items())
        print(f"{level:g}: {shown}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model": args.model, "option": args.option, "arch": list(arch), "samples": args.samples,
                       "seed": args.seed, "weights": args.weights, "params": base.to_dict(), "nudge_mV": nudge,
                       "levels": results},
                      f, indent=1)
    return 0


if __name__ == "__main__":
    arguments = parse(sys.argv[1:])
    sys.exit(guarded(lambda: run(arguments)))
