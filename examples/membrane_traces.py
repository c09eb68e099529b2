"""Membrane traces of a trained network, sample by sample, with a StateMonitor of your own.

What it shows: a trained CorInfoMax network (the antisparse variant, digits) rebuilt in Brian2's
runtime mode as a ``brian2.Network`` (:class:`corinfo_sim.Network`); a ``brian2.StateMonitor``
of your own on the hidden layer's somatic, basal and apical potentials; three test digits
presented one after the other, each with its label (free phase, then the nudged phase that pulls
the output towards the label), without plasticity; one figure per sample of the potentials in mV
against time in ms, the nudged phase shaded.

Run it from the repository folder::

    .venv/bin/python examples/membrane_traces.py --out examples_out/traces
    .venv/bin/python examples/membrane_traces.py --run runs/digits --out examples_out/traces

Without ``--run`` it first trains a network for 3 epochs (about 15 s; the C++ build takes
another 15–30 s the first time, then comes from the build cache); presenting three samples in
runtime mode takes about 2 s. ``CORINFO_EXAMPLES_QUICK=1`` trains on 200 samples for 1 epoch.
"""
import argparse
import os

import brian2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import corinfo_sim as cim  # noqa: E402

QUICK = bool(os.environ.get("CORINFO_EXAMPLES_QUICK"))


def trained_run(out):
    """A short digits run in ``out/run`` (trained once; reused when it is there)."""
    folder = os.path.join(out, "run")
    if os.path.exists(os.path.join(folder, "checkpoint.json")):
        return cim.load_run(folder)
    p = cim.params("antisparse", dataset="digits")
    result = cim.train(p, "digits", epochs=1 if QUICK else 3, out=folder, max_train=200 if QUICK else None,
                       max_test=100 if QUICK else None, progress=print)
    return result.run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", help="a run folder of the digits data set (default: train one into OUT/run)")
    parser.add_argument("--out", default="examples_out/traces", help="output folder (default examples_out/traces)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    run = cim.load_run(args.run) if args.run else trained_run(args.out)
    data = cim.load_dataset(run.dataset)

    net = cim.Network(run.params, run.weights)          # a brian2.Network in runtime mode
    neurons = [0, 1, 2]
    monitor = brian2.StateMonitor(net["pyr_1"], ["v_soma", "v_basal", "v_apical"], record=neurons)
    net.add(monitor)

    free_steps = int(round(float(net.free_duration / run.params.dt)))
    for n in range(3):
        shown = net.present(data.X_test[n], label=data.y_test[n])
        rows = (monitor.t >= shown.start) & (monitor.t < shown.stop)
        t = monitor.t[rows] - shown.start
        phase = (t >= net.free_duration).astype(int)
        fig, axes = plt.subplots(1, 3, figsize=(7, 2.2), sharey=True, constrained_layout=True)
        for ax, variable in zip(axes, ("v_soma", "v_basal", "v_apical")):
            values = getattr(monitor, variable)[:, rows].T      # (steps, neurons), a Quantity in volt
            cim.plotting.plot_state(t, values, var_name=variable, var_unit="mV", phase=phase, axes=ax,
                                    labels=[f"neuron {i}" for i in neurons])
        fig.suptitle(f"test sample {n}: label {shown.label}, free-phase answer {shown.prediction} "
                     f"({free_steps} free steps)")
        path = os.path.join(args.out, f"sample_{n}.png")
        fig.savefig(path)
        plt.close(fig)
        print(f"sample {n}: label {shown.label}, answer {shown.prediction}; {path}")


if __name__ == "__main__":
    main()
