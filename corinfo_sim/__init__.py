"""corinfo_sim: Brian2 simulator of CorInfoMax networks (Bozkurt, Pehlevan & Erdogan, NeurIPS 2023).

The public interface, for scripts and notebooks::

    import corinfo_sim as cim
    p = cim.params("antisparse", dataset="digits")         # validated parameters, with units
    result = cim.train(p, "digits", epochs=2, out="runs/mine")
    run = cim.load_run("runs/mine")                         # config, metrics, weights, traces
    net = cim.Network(p, run.weights)                       # a brian2.Network in runtime mode
    net.present(image, label=3)                             # one sample; your monitors record it

Layers and what each owns: :mod:`corinfo_sim.api`. Every name below is documented in the API
reference of the documentation site (``bash scripts/docs.sh``).
"""
__version__ = "0.1.0"

# the submodules whose names the API reuses are imported first: binding the functions afterwards
# keeps corinfo_sim.params a function (the module stays importable as corinfo_sim.params.Params)
from . import params as _params_module  # noqa: F401
from . import sweep as _sweep_module  # noqa: F401
from .api import (SampleResult, Run, SweepResult, TrainResult, benchmark, evaluate, init_weights, load_dataset,
                  load_run, load_weights, parameters, params, record_traces, run_samples, run_sweep, save_traces,
                  save_weights, train, variants)
from .errors import CorInfoError, SweepFailures, SweepStopped
from .interactive import Network, Presentation
from .training import Collapsed, Diverged
from . import plotting

__all__ = ["CorInfoError", "Collapsed", "Diverged", "SweepFailures", "SweepStopped",
           "variants", "parameters", "params", "load_dataset", "init_weights", "load_weights", "save_weights",
           "Network", "Presentation", "run_samples", "SampleResult", "record_traces", "save_traces",
           "train", "TrainResult", "evaluate", "load_run", "Run", "run_sweep", "SweepResult", "benchmark",
           "plotting"]
