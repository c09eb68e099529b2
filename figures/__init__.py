"""Figures drawn from saved results (they never re-run a simulation).

One module per figure, each with plotting functions that take ``axes=None`` and return the Axes,
and ``make(run_dir, out, traces=None)`` that reads a run folder, draws, and writes ``out`` plus its
PNG/PDF sibling. `make_figure` dispatches by figure name::

    from corinfo_sim.figures import make_figure
    make_figure("learning-curves", "runs/digits", "figs/learning.png")

The project style (journal column sizes, fonts) is in `corinfo_sim.figures.style`.
"""

from corinfo_sim.errors import CorInfoError

from . import (
    angle,
    corinfo,
    embedding,
    lateral,
    learning_curves,
    raster,
    receptive_fields,
    schematic,
    sparsity,
    style,
    sweep,
    traces,
    weights,
)

__all__ = ["FIGURES", "make_figure", "style"]

#: Figure name → module with ``make(run_dir, out, traces=None)``.
FIGURES = {
    "traces": traces,
    "learning-curves": learning_curves,
    "angle": angle,
    "corinfo": corinfo,
    "weights": weights,
    "receptive-fields": receptive_fields,
    "embedding": embedding,
    "schematic": schematic,
    "raster": raster,
    "sparsity": sparsity,
    "lateral": lateral,
    "sweep": sweep,
}


#: Figures of the CorInfoMax networks' own parts (correlative information, lateral matrices, circuit):
#: not for the other learning rules (``--model ep``, ``fa``, ``bp``).
CORINFOMAX_ONLY = {"corinfo", "lateral", "schematic"}
#: Figures of a simulated network's dynamics: not for the feed-forward references (``fa``, ``bp``).
DYNAMICS = {"traces", "raster", "sparsity"}


def _check_applies(name, run_dir):
    """One line when figure ``name`` does not apply to the model of the run folder ``run_dir``."""
    import json
    from pathlib import Path

    from corinfo_sim.models import VARIANTS, get_variant
    if run_dir is None or isinstance(run_dir, (list, tuple)) or not (Path(run_dir) / "config.json").is_file():
        return
    try:
        model = json.loads((Path(run_dir) / "config.json").read_text()).get("model")
    except (OSError, ValueError, AttributeError):
        return
    if model not in VARIANTS:
        return
    variant = get_variant(model)
    if (name in CORINFOMAX_ONLY and variant.weights is not None) or (name in DYNAMICS and variant.network is None):
        shown = [f for f in FIGURES if not (f in CORINFOMAX_ONLY and variant.weights is not None)
                 and not (f in DYNAMICS and variant.network is None) and f not in ("raster", "sweep")]
        raise CorInfoError(f"figure {name} does not apply to model {model} ({variant.summary.split(':')[0]}): "
                           f"its runs have the figures {', '.join(shown)}")


def make_figure(name, run_dir, out, traces=None, **options):
    """Draw figure ``name`` from the results in ``run_dir`` and write ``out`` (PNG and PDF).

    Parameters
    ----------
    name : str
        One of `FIGURES`.
    run_dir : str or Path
        Run folder (or protocol folder with ``seed_*`` subfolders for learning-curves and schematic;
        sweep folder with ``results.csv`` for sweep).
    out : str or Path
        Output file, ``.png`` or ``.pdf`` (the other format is written next to it).
    traces : str or Path, optional
        A traces file to use instead of ``run_dir/traces.npz`` (traces figure only).
    **options
        Passed on to the figure's ``make`` (sweep: ``x`` and ``y``, the parameters on the axes).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    CorInfoError
        Unknown figure name, missing or malformed result files, or options that do not fit them.
    """
    if name not in FIGURES:
        raise CorInfoError(f"unknown figure {name!r}: choose one of {', '.join(FIGURES)}")
    _check_applies(name, run_dir)
    try:
        return FIGURES[name].make(run_dir, out, traces=traces, **options)
    except ValueError as err:  # an option that does not fit the saved results
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CorInfoError(f"figure {name}: {message}") from err
