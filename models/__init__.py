"""Model variants: equations and parameter conventions of each CorInfoMax network.

A variant is a module of this package; :func:`get_variant` returns it by name. The network
builder (:mod:`corinfo_sim.network`) reads the variant's equation and code strings, so a new
variant is new data here, not a fork of the builder.
"""
import importlib

from corinfo_sim.errors import CorInfoError

VARIANTS = ("antisparse", "spiking")


def get_variant(name):
    """The module of model variant ``name`` (one of :data:`VARIANTS`)."""
    if name not in VARIANTS:
        raise CorInfoError(f"unknown model {name!r}: choose one of {', '.join(VARIANTS)}")
    return importlib.import_module(f"{__name__}.{name}")


def dataset_defaults(model, dataset):
    """The settings variant ``model`` uses on ``dataset`` unless told otherwise (a dict of Params fields)."""
    from corinfo_sim.datasets import _canonical_name
    table = getattr(get_variant(model), "DATASET_DEFAULTS", {})
    return dict(table.get(_canonical_name(dataset), {})) if dataset else {}


def make_params(model, dataset=None, **fields):
    """:class:`~corinfo_sim.params.Params` of variant ``model``: its defaults for ``dataset``
    (if given), overridden by ``fields`` (None values are ignored).

    When ``fields`` set an architecture of another depth than the data set's, the data set's
    learning rates are fitted to it (:func:`~corinfo_sim.params.fit_rates`).
    """
    from corinfo_sim.params import Params, fit_rates
    given = {k: v for k, v in fields.items() if v is not None}
    merged = dict(dataset_defaults(model, dataset), **given)
    if "arch" in merged:
        L = len(merged["arch"]) - 1
        for name, n in (("lr_ff", L), ("lr_fb", L - 1)):
            if name in merged and name not in given:
                merged[name] = fit_rates(merged[name], n)
    variant = get_variant(model)
    if hasattr(variant, "make_params"):
        return variant.make_params(**merged)
    return Params(model=model, **merged)
