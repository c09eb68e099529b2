"""The ``corinfo-sim`` command line: train, evaluate, bench, traces, figure, sweep.

A thin layer over the public API (:mod:`corinfo_sim.api`): this module owns the options (built
from each variant's parameter declarations), their parsing, the lines printed and the exit
status; every command calls one function of the API and holds no other logic.

Exit status: 0 done; 2 a problem with the input that the user can fix (one line on stderr,
``error: ...``, saying what is wrong and how to fix it); 3 a run that diverged or collapsed
(the last good epoch is kept); 4 a sweep finished with failed points; 5 a sweep stopped because
its Dask cluster went away (the scheduler lost, or no worker for ``--worker-timeout``; continue
with ``--resume``); 130 interrupted (Ctrl-C; every finished epoch is kept); 1 an internal error
(a bug: one line, the traceback with ``CORINFO_DEBUG=1``).
"""
import argparse
import json
import os
import sys

from .errors import CorInfoError, SweepFailures, SweepStopped
from .spec import show

EXIT_USAGE, EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_BUG, EXIT_FAILED_POINTS, EXIT_SWEEP_STOPPED = 2, 3, 130, 1, 4, 5


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors."""

    def error(self, message):
        if message.startswith("unrecognized arguments:"):
            for word in message.split(":", 1)[1].split():
                owners = _models_with_option(word.split("=")[0])
                if owners:
                    raise CorInfoError(f"{word.split('=')[0]} is an option of model {' and '.join(owners)}: "
                                       f"add --model {' or --model '.join(owners)} "
                                       f"(see '{self.prog} --model {owners[0]} --help')")
        raise CorInfoError(f"{message} (see '{self.prog} --help')")


def _models_with_option(option):
    from .models import VARIANTS, get_variant
    return [name for name in VARIANTS if any(p.cli == option for p in get_variant(name).parameters)]


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


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a positive number")
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


def _schedule(schedule):
    """A per-epoch learning-rate schedule as text: "0.95" or "0.95, 0.9 from epoch 20"."""
    return ", ".join(f"{d:g}" if first == 0 else f"{d:g} from epoch {first}" for first, d in schedule)


def _shown(parameter, value):
    return _schedule(value) if parameter.kind == "schedule" else show(value, parameter.unit)


def _default_help(parameter, variant):
    """"default X" of a parameter, with the data sets that bring another value."""
    if callable(parameter.default) or parameter.optional:  # per layer, or unset: its help says what applies
        text = ""
    else:
        text = f"default {parameter.default_text()}"
    if parameter.kind == "schedule":
        text = f"default {_schedule(parameter.default)}"
    elif parameter.kind == "quantity":
        text = f"default {show(parameter.default, parameter.unit)} {parameter.unit}"
    others = [f"{dataset} {_shown(parameter, values[parameter.name])}"
              for dataset, values in variant.dataset_defaults.items() if parameter.name in values]
    return "; ".join([text] * bool(text) + others)


def _defaults_epilog(variant):
    """The settings each data set brings, for ``train --help``."""
    by_name = variant.parameters_by_name
    lines = [f"defaults per data set (model {variant.name}):"]
    for dataset, values in variant.dataset_defaults.items():
        options = []
        for name, value in values.items():
            parameter = by_name[name]
            if parameter.kind == "bool":
                options.append(f"--{'' if value else 'no-'}{parameter.cli[2:]}")
            else:
                options.append(f"{parameter.cli} {_shown(parameter, value)}")
        lines.append(f"  {dataset}: " + "  ".join(options))
    if "lr" in by_name:  # the other learning rules (ep, fa, bp): one rate per layer, no deep defaults
        lines.append("Options given on the command line replace these; an --arch of another depth keeps the first "
                     "rate and repeats the last.")
        return "\n".join(lines)
    lines.append("Options given on the command line replace these; an --arch of another depth keeps the first "
                 "rate and repeats the last with one hidden layer; with two or more the rates fall with depth "
                 "(η_ff,1/k, η_fb,1 (2/3)^k) and the deep defaults apply (three phases, --settle-tol, step caps).")
    return "\n".join(lines)


def _parameter_options(parser, variant, learning, skip=()):
    """The options of a variant's parameters (its own declarations: ``models/<name>.py``)."""
    group = parser.add_argument_group(f"model {variant.name} ({variant.summary})")
    for parameter in variant.parameters:
        if parameter.cli is None or (parameter.learning and not learning) or parameter.name in skip:
            continue
        defaults = _default_help(parameter, variant)
        kwargs = dict(dest=parameter.name, default=None, help=parameter.help + (f" ({defaults})" if defaults else ""))
        kind = parameter.kind
        if kind == "bool":
            kwargs["action"] = argparse.BooleanOptionalAction
        elif kind == "choice":
            kwargs.update(choices=parameter.choices)
            if parameter.name == "eta_schedule":  # `--eta-schedule` alone: the free phase's
                kwargs.update(nargs="?", const="free")
        else:
            kwargs["type"] = {"float": float, "int": _positive_int if parameter.name != "seed" else int,
                              "floats": _floats, "ints": _ints, "quantity": float, "schedule": float}[kind]
            kwargs["metavar"] = {"floats": "R1,...", "ints": "N0,N1,...", "quantity": (parameter.unit or "").upper(),
                                 "schedule": "D"}.get(kind, parameter.name.upper())
        group.add_argument(parameter.cli, **kwargs)


def add_build_cache_option(parser):
    """``--build-cache/--no-build-cache`` (see :mod:`corinfo_sim.buildcache`)."""
    from .buildcache import CACHE_ENV
    parser.add_argument("--build-cache", action=argparse.BooleanOptionalAction, default=True,
                        help="take the compiled network from the build cache ($%s, default ~/.cache/corinfo_sim) "
                             "and store new builds there (default on)" % CACHE_ENV)


def _add_evaluation_option(parser):
    """``--evaluation {batched,network}`` (see :func:`corinfo_sim.training.evaluation_path`)."""
    from .models import VARIANTS, get_variant
    from .training import EVALUATIONS
    exact = [name for name in VARIANTS if get_variant(name).exact_oracle]
    others = [name for name in VARIANTS if name not in exact]
    parser.add_argument("--evaluation", choices=EVALUATIONS,
                        help="how the test samples are evaluated (free phase only): batched, the dense numpy network "
                             "on many samples at once (the same mathematics, for models whose dense network is "
                             "exact), or network, the compiled network one sample after the other (default batched "
                             f"for the models {', '.join(exact)}, network for {', '.join(others) or 'the others'})")


def _add_model_args(p, variant, learning=False):
    from .models import DEFAULT, VARIANTS
    p.add_argument("--model", choices=VARIANTS,
                   help=f"model variant (default {DEFAULT}; for --weights RUN the run's); its options: "
                        "corinfo-sim COMMAND --model NAME --help")
    p.add_argument("--device", choices=("cpp_standalone", "runtime"), default="cpp_standalone",
                   help="Brian2 device (default cpp_standalone: compiled C++; runtime: no compiler, small networks)")
    p.add_argument("--threads", type=_positive_int, default=1, help="OpenMP threads of the compiled run, and BLAS threads "
                                                                     "of the batched evaluation (default 1)")
    add_build_cache_option(p)
    _parameter_options(p, variant, learning)


def _add_data_args(p, default_text="digits"):
    from .datasets import DATASETS
    p.add_argument("--dataset", metavar="NAME",
                   help=f"data set: {', '.join(DATASETS)} (default {default_text})")
    p.add_argument("--data-dir", metavar="DIR",
                   help="folder with the data set's files (not for digits; default: the data set's usual place)")


def _figure_names():
    from .figures import FIGURES
    return list(FIGURES)


def _version():
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("corinfo_sim")
    except PackageNotFoundError:
        return "unknown"


def build_parser(model=None):
    """The command line, with the options of model variant ``model``'s parameters (default: the default model)."""
    from .models import DEFAULT, get_variant
    variant = get_variant(model or DEFAULT)
    parser = _Parser(prog="corinfo-sim", description="Brian2 simulator of CorInfoMax networks.")
    parser.add_argument("--version", action="version", version=f"corinfo-sim {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    t = sub.add_parser("train", help="train on a data set, write a run folder", epilog=_defaults_epilog(variant),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_data_args(t)
    t.add_argument("--epochs", type=_positive_int, required=True, help="epochs to train (with --resume: in all)")
    t.add_argument("--out", required=True, metavar="DIR", help="run folder (created; locked while training)")
    t.add_argument("--init-weights", metavar="FILE", help="start from this weights file (NPZ) or run folder "
                                                          "(default: the paper's initialisation)")
    t.add_argument("--max-train-samples", type=_positive_int, metavar="N",
                   help="use the first N training samples (default: all)")
    t.add_argument("--max-test-samples", type=_positive_int, metavar="N",
                   help="evaluate on the first N test samples (default: all)")
    t.add_argument("--probe-samples", type=_index_range, metavar="I",
                   help="test samples recorded at every step each epoch (traces, correlative information); "
                        "default 0,1")
    t.add_argument("--resume", action="store_true", help="continue the run in --out")
    t.add_argument("--no-collapse-check", action="store_true",
                   help="train on when the network collapses (runaway weights, chance accuracy); NaN and inf "
                        "always stop a run")
    t.add_argument("--keep-build", action="store_true", help="keep the generated C++ in OUT/build")
    _add_evaluation_option(t)
    _add_model_args(t, variant, learning=True)

    e = sub.add_parser("evaluate", help="test accuracy of a weights file or run folder")
    e.add_argument("--weights", required=True, metavar="FILE|RUN",
                   help="weights file (NPZ) or run folder (its weights.npz, data set, model and parameters)")
    _add_data_args(e, "the run's, else digits")
    e.add_argument("--max-test-samples", type=_positive_int, metavar="N",
                   help="evaluate on the first N test samples (default: all)")
    _add_evaluation_option(e)
    _add_model_args(e, variant)

    b = sub.add_parser("bench", help="time compiled training and evaluation (random inputs or a data set)")
    b.add_argument("--arch", type=_ints, default=(784, 500, 10), metavar="N0,N1,...",
                   help="layer sizes, input first (default 784,500,10)")
    b.add_argument("--samples", type=_positive_int, default=1000, metavar="N",
                   help="training samples timed, and as many evaluation samples, in the network and, for the "
                        "models with an exact dense network, batched (default 1000)")
    b.add_argument("--threads", type=_positive_int, default=1, help="OpenMP threads, and BLAS threads of the "
                                                                     "dense baseline and the batched evaluation (default 1)")
    b.add_argument("--dense-samples", type=int, default=200, metavar="N",
                   help="samples timed for the dense numpy baseline, 0 to skip it (default 200)")
    b.add_argument("--model", default=variant.name, help=f"model variant (default {DEFAULT})")
    add_build_cache_option(b)
    b.add_argument("--dataset", metavar="NAME", help="time on the first samples of this data set "
                                                     "(default: random inputs)")
    b.add_argument("--data-dir", metavar="DIR", help="folder with the data set's files (not for digits; default: "
                                                     "the data set's usual place)")
    _parameter_options(b, variant, learning=False, skip=("arch",))

    r = sub.add_parser("traces", help="record membrane traces of chosen samples")
    r.add_argument("--weights", required=True, metavar="FILE|RUN",
                   help="weights file (NPZ) or run folder (its weights.npz, data set, model and parameters)")
    _add_data_args(r, "the run's, else digits")
    r.add_argument("--samples", type=_index_range, required=True, metavar="I",
                   help="sample indices, e.g. 0,5 or 0:3")
    r.add_argument("--split", choices=("test", "train"), default="test", help="split of the samples (default test)")
    r.add_argument("--layers", type=_index_range, metavar="K", help="layers to record, e.g. 1,2 (default: all)")
    r.add_argument("--neurons", type=_index_range, metavar="I",
                   help="neuron indices per layer, e.g. 0:10 (default: the first 10)")
    r.add_argument("--out", required=True, metavar="FILE",
                   help="traces file: .npz (numpy) or .nwb (Neurodata Without Borders)")
    r.add_argument("--nwb", metavar="FILE", help="also write an NWB file (default: none)")
    r.add_argument("--overwrite", action="store_true", help="replace existing output files")
    r.add_argument("--plastic", action="store_true", help="learn from the samples while recording")
    _add_model_args(r, variant)
    r.set_defaults(device="runtime")

    w = sub.add_parser("sweep", help="run many trainings (seeds x parameters) on Dask workers",
                       description="Run every point of a sweep file (TOML: model, dataset, epochs, seeds, [fixed], "
                                   "[grid], [[points]]; keys are the train options with underscores) as a "
                                   "'corinfo-sim train' run into OUT/points/<id>/, on a local Dask cluster or an "
                                   "existing one. Exit status 0 when every point is done or diverged, 4 when some "
                                   "failed (see OUT/results.csv), 5 when the cluster went away (the scheduler "
                                   "lost, or no worker for --worker-timeout): continue with --resume.")
    w.add_argument("spec", metavar="SPEC", help="sweep file (TOML)")
    w.add_argument("--out", required=True, metavar="DIR", help="sweep folder (created; locked while it runs)")
    where = w.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, metavar="N",
                       help=f"worker processes of the local cluster (default: the cores, {os.cpu_count()})")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="address of a running Dask scheduler, e.g. tcp://host:8786 (default: a local cluster)")
    w.add_argument("--resume", action="store_true", help="continue the sweep in --out: skip finished points")
    w.add_argument("--worker-timeout", type=_positive_float, default=600.0, metavar="SECONDS",
                   help="stop (exit status 5) when the cluster has had no worker for this long (default: 600)")
    add_build_cache_option(w)

    names = _figure_names()
    f = sub.add_parser("figure", help="draw a figure from a run folder",
                       description=f"Draw a figure from a run folder. Figures: {', '.join(names)}.")
    f.add_argument("name", metavar="NAME", help=f"one of: {', '.join(names)}")
    f.add_argument("--run", required=True, nargs="+", metavar="DIR",
                   help="run folder (or protocol folder); learning-curves and angle: several run, protocol or "
                        "sweep folders (e.g. one per learning rule) are drawn side by side; sweep: several "
                        "folders with parts of one sweep (e.g. its seeds run separately) are drawn together, and a "
                        "copy of a sweep's results.csv stands for its folder")
    f.add_argument("--out", required=True, metavar="FILE", help="output file (.png or .pdf; the other is "
                                                                 "written beside it)")
    f.add_argument("--traces", metavar="FILE", help="traces file (default RUN/traces.npz)")
    f.add_argument("--x", metavar="PARAM", help="sweep figure: the swept parameter on the x axis (required there; "
                                               "default: none)")
    f.add_argument("--y", metavar="PARAM", help="sweep figure: a second parameter, for a heatmap over both "
                                               "(default: none, accuracy against --x)")
    return parser


def parse_args(argv):
    """Parse ``argv`` with the options of the model it names: ``--model``, else a run folder's
    (``--weights RUN``), else the default."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--model")
    pre.add_argument("--weights")
    known, _ = pre.parse_known_args(argv)
    model = known.model
    if model is None and known.weights:
        model = _run_config(_weights_source(known.weights)[1]).get("model")
    from .models import VARIANTS
    return build_parser(model if model in VARIANTS else None).parse_args(argv)


# ---- resolving what the user asked for ---------------------------------------------------------
def _weights_source(path):
    """``(weights file, run folder or None)`` for ``--weights`` given a file or a run folder."""
    from .api import weights_source
    return weights_source(path)


def _run_config(run):
    from .api import run_config
    return run_config(run)


def given_values(args, variant, skip=()):
    """The values of the variant's parameters that the command line gave (as :func:`corinfo_sim.params` takes them)."""
    from .api import from_option
    given = {}
    for parameter in variant.parameters:
        value = getattr(args, parameter.name, None)
        if value is None or parameter.cli is None or parameter.name in skip:
            continue
        given[parameter.name] = from_option(parameter, value)
    return given


def _params(args, dataset):
    """Params from the command line: the data set's defaults replaced by every option the user gave."""
    from .api import params
    from .models import DEFAULT, get_variant
    model = args.model or DEFAULT
    return params(model, dataset=dataset.name, **given_values(args, get_variant(model)))


def _load_for_run(args):
    """Weights, dataset, model and Params for evaluate/traces: from ``--weights`` (a file or a run
    folder, whose data set, model and parameters are the defaults) and the options given."""
    from .api import weights_inputs
    from .models import DEFAULT, VARIANTS, get_variant
    run_model = _run_config(_weights_source(args.weights)[1]).get("model")
    model = args.model or run_model or DEFAULT
    overrides = given_values(args, get_variant(model if model in VARIANTS else DEFAULT), skip=("arch",))
    weights, dataset, params = weights_inputs(args.weights, model=args.model, dataset=args.dataset,
                                              data_dir=args.data_dir, max_test=getattr(args, "max_test_samples", None),
                                              overrides=overrides, arch=args.arch)
    args.model = params.model
    return weights, dataset, params


def _reporter(stream=None):
    from .progress import Reporter
    return Reporter(stream=stream)


# ---- commands ------------------------------------------------------------------------------------
def train_inputs(args):
    """The data set and :class:`~corinfo_sim.params.Params` of a parsed ``train`` command line."""
    from .api import load_dataset
    dataset = load_dataset(args.dataset or "digits", args.data_dir, max_test=args.max_test_samples)
    return dataset, _params(args, dataset)


def train_from_args(args, progress):
    """Run a parsed ``train`` command line (:func:`corinfo_sim.api.train`); return the metrics."""
    from .api import train
    dataset, params = train_inputs(args)
    return train(params, dataset, args.epochs, args.out, init_weights=args.init_weights,
                 resume=args.resume, max_train=args.max_train_samples, device=args.device,
                 threads=args.threads, keep_build=args.keep_build, probe=args.probe_samples,
                 progress=progress, collapse_check=not args.no_collapse_check, build_cache=args.build_cache,
                 evaluation=getattr(args, "evaluation", None)).metrics


def cmd_train(args):
    metrics = train_from_args(args, _reporter())
    if metrics["test_acc"]:
        n = metrics["epochs_done"]
        print(f"final test accuracy {100 * metrics['test_acc'][-1]:.2f} % after {n} epoch{'' if n == 1 else 's'}; "
              f"results in {args.out}", flush=True)


def cmd_evaluate(args):
    from .api import evaluate
    weights, dataset, params = _load_for_run(args)
    acc = evaluate(weights, dataset, params, device=args.device, threads=args.threads,
                   progress=_reporter(sys.stderr), build_cache=args.build_cache, evaluation=args.evaluation)
    print(f"test accuracy {100 * acc:.2f} % ({len(dataset.X_test)} samples of {dataset.name})")


def cmd_traces(args):
    from .api import record_traces, save_traces, save_weights
    from .runfolder import check_writable_file
    if os.path.splitext(args.out)[1].lower() not in (".npz", ".nwb"):
        raise CorInfoError(f"--out {args.out}: the traces file must end in .npz or .nwb")
    if args.nwb and not args.nwb.lower().endswith(".nwb"):
        raise CorInfoError(f"--nwb {args.nwb}: the NWB file must end in .nwb")
    for option, path in (("--out", args.out), ("--nwb", args.nwb)):
        if path:
            check_writable_file(path, overwrite=args.overwrite, option=option)
    weights, dataset, params = _load_for_run(args)
    _check_network(params, "has no membrane traces")
    traces = record_traces(weights, args.samples, dataset=dataset, p=params, split=args.split, layers=args.layers,
                           neurons=args.neurons, plastic=args.plastic, device=args.device,
                           build_cache=args.build_cache)
    weights_after = traces.pop("weights_after", None)
    nwb_files = [p for p in (args.out, args.nwb) if p and p.lower().endswith(".nwb")]
    for path in [args.out] + [p for p in nwb_files if p != args.out]:
        save_traces(path, traces, dataset=dataset, split=args.split,
                    description=f"corinfo_sim {args.model} network, {dataset.name} {args.split} samples "
                                f"{','.join(map(str, args.samples))}")
    print(f"{len(traces['t'])} steps of {len(args.samples)} sample(s) written to "
          f"{' and '.join([args.out] + [p for p in nwb_files if p != args.out])}")
    if weights_after is not None:
        after = os.path.splitext(args.out)[0] + "_weights_after.npz"
        save_weights(after, weights_after)
        print(f"weights after learning from the samples: {after}")


def _check_network(params, what):
    """Refuse a reference without a Brian2 network (``--model fa``, ``bp``) where a network is needed."""
    if params.variant.network is None:
        from .models import VARIANTS, get_variant
        networks = [name for name in VARIANTS if get_variant(name).network is not None]
        raise CorInfoError(f"model {params.model} is a feed-forward reference, not a Brian2 network: it {what}; "
                           f"choose one of {', '.join(networks)}")


def cmd_bench(args):
    from .api import benchmark, load_dataset
    from .models import get_variant
    options = given_values(args, get_variant(args.model), skip=("arch",))
    dataset = load_dataset(args.dataset, args.data_dir) if args.dataset else None
    print(json.dumps(benchmark(args.model, args.arch, args.samples, threads=args.threads,
                               dense_samples=args.dense_samples, dataset=dataset, progress=_reporter(sys.stderr),
                               build_cache=args.build_cache, **options), indent=1))


def cmd_figure(args):
    from .figures import make_figure
    from .runfolder import check_writable_file
    check_writable_file(args.out, overwrite=True)
    options = {key: getattr(args, key) for key in ("x", "y") if getattr(args, key)}
    if options and args.name != "sweep":
        raise CorInfoError(f"--x and --y are options of the sweep figure, not of {args.name}")
    if args.name == "sweep":
        options.setdefault("x", None)
    runs = args.run
    if len(runs) > 1 and args.name not in ("learning-curves", "angle", "sweep"):
        raise CorInfoError(f"figure {args.name} draws one run folder, got {len(runs)}: several folders are for "
                           "learning-curves, angle and sweep")
    written = make_figure(args.name, runs if len(runs) > 1 else runs[0], args.out, traces=args.traces, **options)
    for path in written:
        print(path)


def cmd_sweep(args):
    from .api import run_sweep
    rows = run_sweep(args.spec, args.out, workers=args.workers, scheduler=args.scheduler, resume=args.resume,
                     progress=_reporter(), build_cache=args.build_cache, worker_timeout=args.worker_timeout)
    failed = sum(row["status"].startswith("failed") for row in rows)
    if failed:
        raise SweepFailures(f"{failed} of {len(rows)} points failed: see the status column of "
                            f"{os.path.join(args.out, 'results.csv')}")


COMMANDS = {"sweep": cmd_sweep, "train": cmd_train, "evaluate": cmd_evaluate, "traces": cmd_traces, "bench": cmd_bench,
            "figure": cmd_figure}


def quiet_brian2():
    """Keep Brian2's warnings off the console (:func:`corinfo_sim.brian2state.quiet_logging`)."""
    from .brian2state import quiet_logging
    quiet_logging()


def _checkpointed(folder):
    """Whether ``folder`` (a run, protocol or sweep folder) holds a finished epoch."""
    import glob
    patterns = ("checkpoint.json", "*/checkpoint.json", "points/*/checkpoint.json")
    return bool(folder) and any(glob.glob(os.path.join(glob.escape(folder), p)) for p in patterns)


def guarded(action, out=None):
    """Run ``action()`` and turn every way it can end into an exit status and at most one line on stderr.

    ``out`` returns the run folder named in the message after Ctrl-C.
    """
    import signal
    import threading

    from .runfolder import os_error_message
    from .training import Diverged
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C must stop a run even where the shell started us with SIGINT ignored (a background job)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        quiet_brian2()
        action()
    except Diverged as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_DIVERGED
    except SweepFailures as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_FAILED_POINTS
    except SweepStopped as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_SWEEP_STOPPED
    except CorInfoError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        folder = out() if out else None
        if _checkpointed(folder):
            print(f"interrupted: every finished epoch is kept in {folder}; continue with --resume", file=sys.stderr)
        else:
            print("interrupted: nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as e:
        print(f"error: {os_error_message(e, e.filename or 'a file')}", file=sys.stderr)
        return EXIT_USAGE
    except MemoryError:
        print("error: not enough memory: use a smaller network or data set (--arch, --max-train-samples)",
              file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:  # a bug: one line, the traceback on request
        if os.environ.get("CORINFO_DEBUG"):
            import traceback
            traceback.print_exc()
        detail = str(e).strip().splitlines()[0] if str(e).strip() else ""
        print(f"internal error: {e.__class__.__name__}{': ' + detail if detail else ''} (a bug in corinfo-sim; "
              "set CORINFO_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_BUG
    return 0


def main(argv=None):
    """Entry point of ``corinfo-sim``."""
    state = {}

    def action():
        state["args"] = args = parse_args(sys.argv[1:] if argv is None else list(argv))
        COMMANDS[args.command](args)

    return guarded(action, out=lambda: getattr(state.get("args"), "out", None))


if __name__ == "__main__":
    sys.exit(main())
