"""The ``corinfo-sim`` command line: train, evaluate, bench, traces, figure.

Every problem with the user's input ends the program with exit status 2 and one line on stderr
(``error: ...``) that says what is wrong and how to fix it; a diverged run exits with status 3,
an interrupted one with 130, keeping every finished epoch.
"""
import argparse
import json
import os
import sys

from .errors import CorInfoError

EXIT_USAGE, EXIT_DIVERGED, EXIT_INTERRUPTED = 2, 3, 130


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors."""

    def error(self, message):
        raise CorInfoError(f"{message} (see '{self.prog} --help')")


def _number_list(cast, example):
    """argparse type: a comma-separated list of numbers."""
    def parse(text):
        try:
            return tuple(cast(v) for v in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers, e.g. {example}")
    return parse


_ints = _number_list(int, "64,100,10")
_floats = _number_list(float, "0.5,0.35")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be positive")
    return value


def _index_range(text):
    """``0:10`` or ``0,3,5`` → list of int."""
    try:
        if ":" in text:
            a, b = text.split(":")
            return list(range(int(a), int(b)))
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list (0,3,5) or a range (0:10) of indices")


def _add_model_args(p):
    from .models import VARIANTS
    p.add_argument("--model", choices=VARIANTS, default="antisparse",
                   help="model variant (default antisparse: the paper's rate network)")
    p.add_argument("--arch", type=_ints, help="layer sizes, input first (default: data set inputs,100,classes)")
    p.add_argument("--epsilon", type=float, default=0.15, help="ε (default 0.15)")
    p.add_argument("--lambda", dest="lam", type=float, default=0.99999, help="λ (default 0.99999)")
    p.add_argument("--g-leak", type=float, default=0.5, help="leak conductance g_L (default 0.5)")
    p.add_argument("--eta", type=float, default=0.05, help="neural step η = dt/τ (default 0.05)")
    p.add_argument("--n-free", type=_positive_int, default=30, help="free-phase steps (default 30)")
    p.add_argument("--n-nudged", type=_positive_int, default=10, help="nudged-phase steps (default 10)")
    p.add_argument("--device", choices=("cpp_standalone", "runtime"), default="cpp_standalone",
                   help="Brian2 device (default cpp_standalone: compiled C++)")
    p.add_argument("--threads", type=_positive_int, default=1, help="OpenMP threads (default 1)")
    add_spiking_args(p)


#: Spiking-model options: (Params field, unit, help). Values are plain numbers in the unit shown.
SPIKING_OPTIONS = {
    "nu_max": ("Hz", "maximal firing rate ν_max of the pyramidal neurons"),
    "nu_input": ("Hz", "maximal firing rate of the input units"),
    "tau_s": ("ms", "synaptic trace time constant τ_s"),
    "tau_soma": ("ms", "somatic time constant τ_soma"),
    "t_free": ("ms", "free phase length"),
    "t_nudged": ("ms", "nudged phase length"),
    "t_window": ("ms", "averaging window at the end of each phase"),
    "dt": ("ms", "simulation step"),
}


def add_spiking_args(p):
    import brian2
    from .models.spiking import DEFAULT_DT, DEFAULTS, ENCODERS
    defaults = dict(DEFAULTS, dt=DEFAULT_DT)
    group = p.add_argument_group("spiking model (--model spiking)")
    for name, (unit, text) in SPIKING_OPTIONS.items():
        default = float(defaults[name] / getattr(brian2, unit))
        group.add_argument("--" + name.replace("_", "-"), type=float, metavar=unit.upper(),
                           help=f"{text}, in {unit} (default {default:g})")
    group.add_argument("--encoder", choices=ENCODERS, help=f"spike generator (default {defaults['encoder']})")


def spiking_kwargs(args):
    """Params fields of the spiking options given on the command line (with their units)."""
    import brian2
    given = {name: getattr(args, name) for name in list(SPIKING_OPTIONS) + ["encoder"]
             if getattr(args, name, None) is not None}
    if given and getattr(args, "model", "antisparse") != "spiking":
        raise CorInfoError(f"--{next(iter(given)).replace('_', '-')} is an option of the spiking model: "
                           "add --model spiking")
    for name, value in given.items():
        if name in SPIKING_OPTIONS:
            given[name] = value * getattr(brian2, SPIKING_OPTIONS[name][0])
    return given


def _add_data_args(p):
    p.add_argument("--dataset", default="digits", help="digits, fashion-mnist, mnist, cifar10, cifar100")
    p.add_argument("--data-dir", help="folder with the data set's files (not for digits)")


def build_parser():
    parser = _Parser(prog="corinfo-sim", description="Brian2 simulator of CorInfoMax networks.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    t = sub.add_parser("train", help="train on a data set, write a run folder")
    _add_data_args(t)
    t.add_argument("--epochs", type=_positive_int, required=True)
    t.add_argument("--out", required=True, help="run folder")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--init-weights", help="start from this weights file (NPZ)")
    t.add_argument("--beta", type=float, default=1.0, help="nudging strength β₀ (default 1)")
    t.add_argument("--beta-sign", choices=("random", "positive"), default="random")
    t.add_argument("--no-shuffle", action="store_true", help="present training samples in data-set order")
    t.add_argument("--max-train-samples", type=_positive_int, help="use the first N training samples")
    t.add_argument("--max-test-samples", type=_positive_int, help="evaluate on the first N test samples")
    t.add_argument("--lr-ff", type=_floats, help="per-sample rates η_ff,k, one per layer (default 0.5,0.35,...)")
    t.add_argument("--lr-fb", type=_floats, help="per-sample rates η_fb,k, one per hidden layer (default 0.075)")
    t.add_argument("--lr-decay", type=float, default=0.95, help="per-epoch decay d: rates × d**epoch (1: off)")
    t.add_argument("--eta-schedule", action="store_true", help="free-phase step η_t = max(η/(1+0.01t), 0.001)")
    t.add_argument("--probe-samples", type=_index_range,
                   help="test samples recorded at every step each epoch (traces, correlative information); default 0,1")
    t.add_argument("--resume", action="store_true", help="continue the run in --out")
    t.add_argument("--keep-build", action="store_true", help="keep the generated C++ in OUT/build")
    _add_model_args(t)

    e = sub.add_parser("evaluate", help="test accuracy of a weights file")
    e.add_argument("--weights", required=True)
    _add_data_args(e)
    _add_model_args(e)

    b = sub.add_parser("bench", help="time compiled training and evaluation (random inputs or a data set)")
    b.add_argument("--arch", type=_ints, default=(784, 500, 10))
    b.add_argument("--samples", type=_positive_int, default=1000)
    b.add_argument("--threads", type=_positive_int, default=1)
    b.add_argument("--dense-samples", type=int, default=200, help="samples timed for the dense numpy baseline")
    b.add_argument("--model", default="antisparse", help="model variant (default antisparse)")
    b.add_argument("--n-free", type=_positive_int, help="free-phase steps of the rate model (default 30)")
    b.add_argument("--n-nudged", type=_positive_int, help="nudged-phase steps of the rate model (default 10)")
    b.add_argument("--dataset", help="time on the first samples of this data set (default: random inputs)")
    b.add_argument("--data-dir", help="folder with the data set's files (not for digits)")
    add_spiking_args(b)

    r = sub.add_parser("traces", help="record membrane traces of chosen samples")
    r.add_argument("--weights", required=True)
    _add_data_args(r)
    r.add_argument("--samples", type=_index_range, required=True, help="sample indices, e.g. 0,5 or 0:3")
    r.add_argument("--split", choices=("test", "train"), default="test")
    r.add_argument("--layers", type=_index_range, help="layers to record, e.g. 1,2 (default: all)")
    r.add_argument("--neurons", type=_index_range, help="neuron indices per layer, e.g. 0:10 (default: first 10)")
    r.add_argument("--out", required=True, help="traces file (.npz)")
    r.add_argument("--nwb", help="also write an NWB file")
    r.add_argument("--plastic", action="store_true", help="learn from the samples while recording")
    r.add_argument("--beta", type=float, default=1.0, help="nudging strength in the nudged phase (default 1)")
    _add_model_args(r)
    r.set_defaults(device="runtime")

    f = sub.add_parser("figure", help="draw a figure from a run folder")
    f.add_argument("name")
    f.add_argument("--run", required=True, help="run folder (or protocol folder)")
    f.add_argument("--out", required=True, help="output file (.png; a .pdf is written beside it)")
    f.add_argument("--traces", help="traces file (default RUN/traces.npz)")
    return parser


def _params(args, dataset):
    from .models import make_params
    arch = args.arch or (dataset.X_train.shape[1], 100, dataset.n_classes)
    kwargs = dict(arch=arch, epsilon=args.epsilon, lam=args.lam, g_leak=args.g_leak, eta=args.eta,
                  n_free=args.n_free, n_nudged=args.n_nudged, **spiking_kwargs(args))
    if hasattr(args, "seed"):
        if args.lr_decay is not None and not 0 < args.lr_decay <= 1:
            raise CorInfoError(f"--lr-decay must lie in (0, 1] (1 disables the schedule), got {args.lr_decay}")
        kwargs.update(seed=args.seed, beta=args.beta, beta_sign=args.beta_sign, lr_ff=args.lr_ff,
                      lr_fb=args.lr_fb, lr_schedule=((0, args.lr_decay),), eta_schedule=args.eta_schedule,
                      shuffle=not args.no_shuffle)
        if args.seed < 0:
            raise CorInfoError(f"--seed must be non-negative, got {args.seed}")
    return make_params(args.model, **kwargs)


def cmd_train(args):
    from .datasets import load_dataset
    from .training import train
    dataset = load_dataset(args.dataset, args.data_dir).subset(max_test=args.max_test_samples)
    params = _params(args, dataset)
    metrics = train(params, dataset, args.epochs, args.out, init_weights_file=args.init_weights,
                    resume=args.resume, max_train=args.max_train_samples, device=args.device,
                    threads=args.threads, keep_build=args.keep_build, probe=args.probe_samples,
                    variant=args.model)
    if metrics["test_acc"]:
        print(f"final test accuracy {100 * metrics['test_acc'][-1]:.2f} % after {metrics['epochs_done']} "
              f"epochs; results in {args.out}")


def cmd_evaluate(args):
    from .datasets import load_dataset
    from .training import evaluate
    from .weights import load_weights
    weights, arch = load_weights(args.weights)
    dataset = load_dataset(args.dataset, args.data_dir)
    if args.arch and tuple(args.arch) != arch:
        raise CorInfoError(f"--arch {','.join(map(str, args.arch))} differs from the weights file's "
                           f"{','.join(map(str, arch))}: drop --arch")
    args.arch = arch
    params = _params(args, dataset)
    if dataset.X_test.shape[1] != arch[0] or dataset.n_classes != arch[-1]:
        raise CorInfoError(f"weights for {','.join(map(str, arch))} do not fit data set {dataset.name} "
                           f"({dataset.X_test.shape[1]} inputs, {dataset.n_classes} classes)")
    acc, _ = evaluate(weights, dataset, params, device=args.device, threads=args.threads, variant=args.model)
    print(f"test accuracy {100 * acc:.2f} % ({len(dataset.X_test)} samples of {dataset.name})")


def cmd_traces(args):
    from .datasets import load_dataset
    from .traces import record, save_npz, save_nwb
    from .weights import load_weights
    weights, arch = load_weights(args.weights)
    dataset = load_dataset(args.dataset, args.data_dir)
    if dataset.X_test.shape[1] != arch[0] or dataset.n_classes != arch[-1]:
        raise CorInfoError(f"weights for {','.join(map(str, arch))} do not fit data set {dataset.name} "
                           f"({dataset.X_test.shape[1]} inputs, {dataset.n_classes} classes)")
    args.arch = arch
    params = _params(args, dataset).replace(beta=args.beta)
    for path in (args.out, args.nwb):
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise CorInfoError(f"folder of {path} does not exist: create it first")
    traces = record(weights, dataset, args.samples, params, split=args.split, layers=args.layers,
                    neurons=args.neurons, plastic=args.plastic, device=args.device, variant=args.model)
    weights_after = traces.pop("weights_after", None)
    save_npz(args.out, traces)
    print(f"{len(traces['t'])} steps of {len(args.samples)} sample(s) written to {args.out}")
    if weights_after is not None:
        from .weights import save_weights
        after = os.path.splitext(args.out)[0] + "_weights_after.npz"
        save_weights(after, weights_after)
        print(f"weights after learning from the samples: {after}")
    if args.nwb:
        save_nwb(args.nwb, traces)
        print(f"NWB file: {args.nwb}")


def cmd_bench(args):
    from .bench import bench
    from .models import get_variant
    get_variant(args.model)
    options = spiking_kwargs(args)
    for name in ("n_free", "n_nudged"):
        if getattr(args, name) is not None:
            if args.model == "spiking":
                raise CorInfoError(f"--{name.replace('_', '-')} sets the rate model's steps: the spiking model's "
                                   f"phases are --t-free and --t-nudged")
            options[name] = getattr(args, name)
    dataset = None
    if args.dataset:
        from .datasets import load_dataset
        dataset = load_dataset(args.dataset, args.data_dir)
    print(json.dumps(bench(args.arch, args.samples, args.threads, dense_samples=args.dense_samples,
                           variant=args.model, options=options, dataset=dataset), indent=1))


def cmd_figure(args):
    from .figures import make_figure
    written = make_figure(args.name, args.run, args.out, traces=args.traces)
    for path in written:
        print(path)


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "traces": cmd_traces, "bench": cmd_bench,
            "figure": cmd_figure}


def quiet_brian2():
    """Keep Brian2's warnings off the console: our own messages say what went wrong, on one line."""
    import logging

    from brian2.utils.logger import BrianLogger
    if BrianLogger.console_handler is not None:
        BrianLogger.console_handler.setLevel(logging.ERROR)


def guarded(action, out=None):
    """Run ``action()`` and turn the user's problems into an exit status and one line on stderr.

    ``out`` is the run folder named in the message after Ctrl-C.
    """
    import signal
    import threading

    from .training import Diverged
    quiet_brian2()
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C must stop a run even where the shell started us with SIGINT ignored (a background job)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        action()
    except Diverged as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_DIVERGED
    except CorInfoError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        where = f" in {out()}; continue with --resume" if out and out() else ""
        print(f"interrupted: every finished epoch is kept{where}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def main(argv=None):
    """Entry point of ``corinfo-sim``."""
    state = {}

    def action():
        state["args"] = args = build_parser().parse_args(argv)
        COMMANDS[args.command](args)

    return guarded(action, out=lambda: getattr(state.get("args"), "out", None))


if __name__ == "__main__":
    sys.exit(main())
