"""What membrane noise, synaptic failures and delays cost: training time per sample, on against off.

Trains the same samples from the same weights with every biophysical option off and with every
option on (``corinfo_sim/biophysics.py``: membrane noise on somata and dendrites, release
probability below 1 on every forward, feedback and lateral synapse, delays on the three kinds of
pathway), each network compiled once and run ``--repeats`` times, alternately (so that both see
the same load of the machine), and prints the fastest run of each and their ratio as JSON. The
target of the options is at most 1.5 times the time without them. Each compiled run is timed
inside the binary (``corinfo-sim bench``'s ``ms_per_sample``: wall clock); ``cpu_ratio`` compares the
binaries' CPU seconds (the training and an evaluation of 50 samples), which other processes on
the machine do not stretch.

Run (784-500-10 on the first Fashion-MNIST images if the data set is installed, else on random
inputs; two compiles)::

    .venv/bin/python protocols/biophysics_cost.py --samples 500

``--release-noise gaussian`` draws the rate networks' failures as one normal number per neuron and
step instead of a decision per synapse and step (the spiking pathways fail per spike either way).

A spiking network's time per sample grows with its spikes, and strong noise or frequent failures
make its hidden layer fire more: ``--model spiking`` with the default levels measures that too. The
options' own cost shows at levels that leave the activity as it is (``--noise-soma 0.01
--noise-dendrite 0.01 --release-prob 0.999``).

The options' values (``--noise-soma`` and so on) are the on-state; the defaults lie in the
physiological ranges (membrane fluctuations of a few mV, release probabilities 0.1–0.9, local
delays of 0.5–2 ms).
"""
import argparse
import json
import sys

import brian2

from corinfo_sim import bench as bench_module
from corinfo_sim.datasets import load_dataset
from corinfo_sim.errors import CorInfoError


def parse(argv=None):
    """The command line's options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="antisparse", help="model variant (default antisparse)")
    parser.add_argument("--arch", default="784,500,10", help="layer sizes (default 784,500,10)")
    parser.add_argument("--samples", type=int, default=500, help="training samples timed per run (default 500)")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each network, alternately (default 2)")
    parser.add_argument("--dataset", default="fashion-mnist", help="images to train on (default fashion-mnist; "
                        "'random' for uniform random inputs)")
    parser.add_argument("--noise-soma", type=float, default=2.0, help="somatic noise when on, mV (default 2)")
    parser.add_argument("--noise-dendrite", type=float, default=2.0, help="dendritic noise when on, mV (default 2)")
    parser.add_argument("--release-prob", type=float, default=0.5, help="release probability when on (default 0.5)")
    parser.add_argument("--release-noise", choices=("bernoulli", "gaussian"), default="bernoulli",
                        help="how rate-carrying synapses fail when on (default bernoulli)")
    parser.add_argument("--delay-ff", type=float, default=2.0, help="forward delay when on, ms (default 2)")
    parser.add_argument("--delay-fb", type=float, default=2.0, help="feedback delay when on, ms (default 2)")
    parser.add_argument("--delay-lateral", type=float, default=1.0, help="lateral delay when on, ms (default 1)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    arch = tuple(int(n) for n in args.arch.split(","))
    dataset = None
    if args.dataset != "random":
        try:
            dataset = load_dataset(args.dataset)
        except CorInfoError as error:
            print(f"note: {error}; timing on random inputs", file=sys.stderr)
    on = dict(noise_soma=args.noise_soma * brian2.mV, noise_dendrite=args.noise_dendrite * brian2.mV,
              release_prob=args.release_prob, release_noise=args.release_noise, delay_ff=args.delay_ff * brian2.ms, delay_fb=args.delay_fb * brian2.ms,
              delay_lateral=args.delay_lateral * brian2.ms)
    runs = {"off": [], "on": []}
    for _ in range(args.repeats):
        for name, options in (("off", {}), ("on", on)):
            result = bench_module.bench(arch=arch, samples=args.samples, eval_samples=50, dense_samples=0,
                                        variant=args.model, options=options, dataset=dataset, build_cache=True)
            runs[name].append(result)
            print(f"{name}: {result['ms_per_sample']:.3f} ms/sample", file=sys.stderr, flush=True)
    fastest = {name: min(done, key=lambda r: r["ms_per_sample"]) for name, done in runs.items()}
    out = {"model": args.model, "arch": list(arch), "inputs": fastest["off"]["inputs"], "samples": args.samples,
           "repeats": args.repeats,
           "on": {k: (float(v / brian2.mV) if k.startswith("noise") else float(v / brian2.ms)
                      if k.startswith("delay") else v) for k, v in on.items()},
           "off_ms_per_sample": [r["ms_per_sample"] for r in runs["off"]],
           "on_ms_per_sample": [r["ms_per_sample"] for r in runs["on"]],
           "off_cpu_s": [r["cpu_s"] for r in runs["off"]], "on_cpu_s": [r["cpu_s"] for r in runs["on"]],
           "ratio": fastest["on"]["ms_per_sample"] / fastest["off"]["ms_per_sample"],
           "cpu_ratio": min(r["cpu_s"] for r in runs["on"]) / min(r["cpu_s"] for r in runs["off"]),
           "brian2": brian2.__version__}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
