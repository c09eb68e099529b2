"""A protocol of your own: a sample shown with its label for longer, and the apical input perturbed.

What it shows, written only against the public API and Brian2's own objects:

1. **Longer teaching.** The same digit is presented with its label to two copies of a trained
   network, one with the nudged phase of the training (10 steps) and one four times as long
   (``corinfo_sim.Network(p, weights, nudged=40*ms)``). A ``StateMonitor`` on the output layer
   shows the output rate of the labelled class still rising after 10 steps.
2. **Perturbed apical input.** The feedback pathway onto the hidden layer's apical dendrites
   (``net.fb[1]``, the weights W_fb,1) is silenced for one presentation and restored. Without it
   the nudged phase's error no longer reaches the hidden layer: its rates barely move from the
   free phase, while with the pathway they do.

Run it from the repository folder::

    .venv/bin/python examples/custom_protocol.py --out examples_out/protocol

It trains a network for 3 epochs first (about 15 s, plus the C++ build the first time) unless
``--run`` names one; the presentations take a few seconds. ``CORINFO_EXAMPLES_QUICK=1`` trains on
200 samples for 1 epoch.
"""
import argparse
import os

import brian2
from brian2 import ms
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import corinfo_sim as cim  # noqa: E402

QUICK = bool(os.environ.get("CORINFO_EXAMPLES_QUICK"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="a digits run folder (default: train one into OUT/run)")
    parser.add_argument("--out", default="examples_out/protocol", help="output folder")
    parser.add_argument("--sample", type=int, default=0, help="test sample shown (default 0)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.run:
        run = cim.load_run(args.run)
    else:
        folder = os.path.join(args.out, "run")
        if not os.path.exists(os.path.join(folder, "checkpoint.json")):
            cim.train(cim.params("antisparse", dataset="digits"), "digits", epochs=1 if QUICK else 3, out=folder,
                      max_train=200 if QUICK else None, max_test=100 if QUICK else None)
        run = cim.load_run(folder)
    p, weights = run.params, run.weights
    data = cim.load_dataset(run.dataset)
    image, label = data.X_test[args.sample], int(data.y_test[args.sample])

    # 1. the nudged phase of training, and four times as long
    fig, (ax_time, ax_rates) = plt.subplots(1, 2, figsize=(7, 2.5), constrained_layout=True)
    nudged_default = p.n_nudged * p.dt
    for nudged in (nudged_default, 4 * nudged_default):
        net = cim.Network(p, weights, nudged=nudged)
        out = brian2.StateMonitor(net.pyr[p.n_layers], "r", record=True)
        net.add(out)
        shown = net.present(image, label=label)
        cim.plotting.plot_state(out.t / ms, out.r[label], var_name=f"output rate of class {label}", axes=ax_time,
                                label=f"nudged {nudged / ms:g} ms")
        print(f"nudged {nudged / ms:g} ms: output rate of class {label} "
              f"{shown.free[p.n_layers][label]:.3f} (free) -> {shown.nudged[p.n_layers][label]:.3f} (end)")
    ax_time.axvline(p.free_steps * p.dt / ms, color="0.5", lw=0.5)
    ax_time.legend(frameon=False, fontsize=6)

    # 2. the hidden layer's nudged response with and without its apical (feedback) input
    net = cim.Network(p, weights)
    changes = {}
    for condition in ("intact", "feedback silenced"):
        saved = np.array(net.fb[1].w[:])
        if condition != "intact":
            net.fb[1].w[:] = 0                      # lesion: no error reaches the apical dendrites
        shown = net.present(image, label=label)
        net.fb[1].w[:] = saved                      # restored for whatever comes next
        changes[condition] = np.abs(shown.nudged[1] - shown.free[1])
        print(f"{condition}: mean |r_nudged - r_free| of the hidden layer {changes[condition].mean():.4f}")
    ax_rates.bar(list(changes), [c.mean() for c in changes.values()], color=["C0", "C3"])
    ax_rates.set_ylabel("hidden layer: mean |Δr| free → nudged")
    path = os.path.join(args.out, "protocol.png")
    fig.savefig(path)
    print(path)


if __name__ == "__main__":
    main()
