"""Spiking CorInfoMax: how irregular the recorded spikes of a run are.

Reads the traces of a spiking run (``RUN/traces.npz``, written by ``corinfo-sim train`` for its
probe samples, or a file of ``corinfo-sim traces``) and prints, per layer, the recorded neurons,
their spikes, their mean rate and the median coefficient of variation of the interspike
intervals (within each phase of each sample; :func:`corinfo_sim.spiking.isi_cv`): about 1 for
Poisson spikes, near 0 for the deterministic encoder.

Reproduces the README's CV of the Poisson runs (section "Spiking CorInfoMax"):

    python protocols/spike_statistics.py runs/spk_poisson_s0

Takes a second.
"""
import argparse
import json
import os
import sys

import numpy as np

from corinfo_sim.cli import guarded
from corinfo_sim.errors import CorInfoError
from corinfo_sim.spiking import isi_cv


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("traces", help="run folder of a spiking run (its traces.npz) or a traces file (NPZ)")
    parser.add_argument("--min-spikes", type=int, default=5, help="spikes a neuron needs in a phase for its CV "
                        "(default 5)")
    parser.add_argument("--json", help="also write the figures to this file")
    return parser.parse_args(argv)


def run(args):
    path = os.path.join(args.traces, "traces.npz") if os.path.isdir(args.traces) else args.traces
    try:
        traces = dict(np.load(path))
    except (OSError, ValueError) as error:
        raise CorInfoError(f"cannot read traces from {path} ({error}): give a spiking run folder or a traces file")
    layers = sorted(int(key[len("spikes_t_L"):]) for key in traces if key.startswith("spikes_t_L"))
    if not layers:
        raise CorInfoError(f"{path} holds no spikes: record the traces of a spiking run (--model spiking)")
    duration = (traces["t"][-1] - traces["t"][0]) + (traces["t"][1] - traces["t"][0])  # ms
    figures = {}
    print(f"{'layer':>5} {'neurons':>7} {'spikes':>7} {'rate (Hz)':>9} {'CVs':>5} {'median ISI CV':>13}")
    for k in layers:
        n = len(traces[f"neurons_L{k}"])
        spikes = len(traces[f"spikes_t_L{k}"])
        cvs = isi_cv(traces, k, args.min_spikes)
        median = float(np.median(cvs)) if len(cvs) else float("nan")
        figures[k] = {"neurons": n, "spikes": spikes, "rate_hz": 1000 * spikes / (n * duration), "n_cv": len(cvs),
                      "median_cv": median}
        print(f"{k:5d} {n:7d} {spikes:7d} {figures[k]['rate_hz']:9.1f} {len(cvs):5d} {median:13.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"traces": path, "layers": figures}, f, indent=1)


if __name__ == "__main__":
    arguments = parse(sys.argv[1:])
    sys.exit(guarded(lambda: run(arguments)))
