"""Paper protocols: one experiment's settings, several seeds, one compiled network, a summary.

A :class:`Protocol` holds the paper's architecture and hyperparameters for one data set,
translated to online learning (per-sample rate = the paper's batch-20 rate / 20). :func:`main`
gives every protocol script the same command line::

    python protocols/fashion_mnist.py --epochs 50 --seeds 0,10,20 --out runs/fmnist [--resume]

Each seed trains into ``OUT/seed_{s}/`` (a run folder as written by
:func:`corinfo_sim.training.train`); the network is compiled once and reused by every seed
and epoch. After each seed, ``OUT/summary.json``, ``summary.csv`` and ``summary.md`` give the
per-epoch mean ± std of train and test accuracy over the seeds finished so far.
"""
import argparse
import csv
import dataclasses
import io
import os

import numpy as np

from .errors import CorInfoError
from .params import Params
from .spec import online


@dataclasses.dataclass(frozen=True)
class Protocol:
    """One paper experiment.

    Attributes
    ----------
    name : str
        Protocol name (used in messages and the summary).
    dataset : str
        Data set name (see :mod:`corinfo_sim.datasets`).
    params : Params
        Architecture and hyperparameters, learning rates already per sample.
    epochs : int
        The paper's number of epochs (the default of ``--epochs``).
    paper_result : str
        What the paper reports, for the summary.
    """

    name: str
    dataset: str
    params: Params
    epochs: int
    paper_result: str

    online = staticmethod(online)

    def authors(self):
        """The same protocol discretised as the authors' code (rate models): updates layer by layer,
        every later phase from the rates, the neural step schedule (if the protocol has one) in
        every phase."""
        p = self.params
        if "update_order" not in p.variant.parameters_by_name:
            raise CorInfoError(f"the authors' discretisation is one of the rate models, not of {p.model!r}")
        schedule = "both" if p.eta_schedule != "off" else "off"
        return dataclasses.replace(self, name=f"{self.name} (authors' discretisation)",
                                   params=p.replace(update_order="layered", nudged_start="rates",
                                                    eta_schedule=schedule))


def summarize(seed_metrics, protocol_name="", paper_result=""):
    """Per-epoch mean ± std over seeds of train and test accuracy (in %), and the final values.

    Parameters
    ----------
    seed_metrics : dict
        ``{seed: metrics}`` as in ``metrics.json``.

    Returns
    -------
    dict
    """
    seeds = sorted(seed_metrics)
    n_epochs = min(len(seed_metrics[s]["test_acc"]) for s in seeds)
    out = {"protocol": protocol_name, "paper": paper_result, "seeds": seeds, "epochs": n_epochs, "per_epoch": []}
    for e in range(n_epochs):
        row = {"epoch": e + 1}
        for key in ("train_acc", "test_acc", "test_top5"):
            values = [100 * seed_metrics[s][key][e] for s in seeds if len(seed_metrics[s].get(key, [])) > e]
            if values:
                row[f"{key}_mean"] = float(np.mean(values))
                row[f"{key}_std"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        out["per_epoch"].append(row)
    if out["per_epoch"]:
        out["final"] = out["per_epoch"][-1]
    return out


def write_summary(out_dir, summary):
    """``summary.json``, ``summary.csv`` and ``summary.md`` in ``out_dir``."""
    from .runfolder import write_json
    write_json(os.path.join(out_dir, "summary.json"), summary)
    rows = summary["per_epoch"]
    columns = ["epoch"] + [k for k in rows[0] if k != "epoch"] if rows else ["epoch"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    with open(os.path.join(out_dir, "summary.csv"), "w") as f:
        f.write(buf.getvalue())
    lines = [f"# {summary['protocol']}: {len(summary['seeds'])} seed(s) ({', '.join(map(str, summary['seeds']))})",
             "", f"Paper: {summary['paper']}", "",
             "| epoch | train accuracy (%) | test accuracy (%) |", "|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row['epoch']} | {row['train_acc_mean']:.2f} ± {row['train_acc_std']:.2f} | "
                     f"{row['test_acc_mean']:.2f} ± {row['test_acc_std']:.2f} |")
    with open(os.path.join(out_dir, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def _seeds(text):
    try:
        seeds = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of seeds, e.g. 0,10,20")
    if any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"seeds must be distinct non-negative integers, got {text}")
    return seeds


def parser_for(protocol, doc=None):
    """The command line every protocol script shares."""
    from .cli import _Parser, _positive_int, add_build_cache_option
    p = _Parser(prog=protocol.name, description=doc or protocol.paper_result,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=_positive_int, default=protocol.epochs,
                   help=f"epochs per seed (paper: {protocol.epochs})")
    p.add_argument("--seeds", type=_seeds, default=[0], help="comma-separated seeds (default 0)")
    p.add_argument("--max-train-samples", type=_positive_int, metavar="N",
                   help="use the first N training samples (default: all)")
    p.add_argument("--max-test-samples", type=_positive_int, metavar="N",
                   help="evaluate on the first N test samples (default: all)")
    p.add_argument("--out", required=True, metavar="DIR", help="protocol folder (one seed_{s} run folder per seed)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted protocol run")
    p.add_argument("--authors-discretisation", action="store_true",
                   help="discretise as the authors' published code: layer-by-layer updates, each phase "
                        "restarting from the rates, the step schedule (if any) in every phase "
                        "(default: the simultaneous Euler steps of the model's equations)")
    p.add_argument("--data-dir", metavar="DIR", help="folder with the data set's files (default: the data set's "
                                                     "usual place)")
    p.add_argument("--threads", type=_positive_int, default=1, help="OpenMP threads (default 1)")
    p.add_argument("--device", choices=("cpp_standalone", "runtime"), default="cpp_standalone",
                   help="Brian2 device (default cpp_standalone)")
    add_build_cache_option(p)
    return p



def run(protocol, epochs, seeds, out_dir, max_train=None, resume=False, data_dir=None, device="cpp_standalone",
        threads=1, progress=print, max_test=None, build_cache=True):
    """Run ``protocol`` for every seed, compiling once; return the summary.

    The protocol folder is locked while it runs; each seed's run folder too. With ``resume``,
    seeds whose runs already hold ``epochs`` epochs are not run again, and nothing is compiled
    when no seed is left to run.
    """
    from .datasets import load_dataset
    from .runfolder import locked_folder
    from .runrecord import epochs_done, has_run
    from .training import make_session, train
    dataset = load_dataset(protocol.dataset, data_dir).subset(max_test=max_test)
    with locked_folder(out_dir, what="protocol folder") as folder:
        seed_dir = {s: os.path.join(folder, f"seed_{s}") for s in seeds}
        if not resume and any(has_run(d) for d in seed_dir.values()):
            raise CorInfoError(f"{out_dir} already holds runs of these seeds: continue with --resume or choose "
                               f"another --out")
        todo = [s for s in seeds if not (resume and epochs_done(seed_dir[s]) >= epochs)]
        session = None
        if todo:
            session = make_session(protocol.params, dataset, os.path.join(folder, "build"), max_train, device,
                                   threads=threads, progress=progress, build_cache=build_cache)
            progress(f"{protocol.name}: seeds {', '.join(map(str, seeds))}, {epochs} epochs")
        metrics = {}
        try:
            for seed in seeds:
                progress(f"seed {seed}")
                metrics[seed] = train(protocol.params.replace(seed=seed), dataset, epochs, seed_dir[seed],
                                      resume=resume, max_train=max_train, device=device, threads=threads,
                                      progress=progress, session=session)
                summary = summarize(metrics, protocol.name, protocol.paper_result)
                summary["build_s"] = session.build_s if session else 0.0
                write_summary(folder, summary)
        finally:
            if session is not None:
                session.close()
    final = summary.get("final")
    if final:
        progress(f"{protocol.name}: test accuracy after {summary['epochs']} epochs "
                 f"{final['test_acc_mean']:.2f} ± {final['test_acc_std']:.2f} % over {len(seeds)} seed(s) "
                 f"(paper: {protocol.paper_result}); summary in {out_dir}/summary.md")
    return summary


def main(protocol, argv=None, doc=None):
    """Command-line entry of a protocol script; returns the exit status."""
    from .cli import guarded
    from .progress import Reporter
    state = {}

    def action():
        state["args"] = args = parser_for(protocol, doc).parse_args(argv)
        chosen = protocol.authors() if args.authors_discretisation else protocol
        run(chosen, args.epochs, args.seeds, args.out, max_train=args.max_train_samples, resume=args.resume,
            data_dir=args.data_dir, device=args.device, threads=args.threads, max_test=args.max_test_samples,
            progress=Reporter(), build_cache=args.build_cache)

    return guarded(action, out=lambda: getattr(state.get("args"), "out", None))
