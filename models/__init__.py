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


def make_params(model, **fields):
    """:class:`~corinfo_sim.params.Params` of variant ``model``, with the variant's own defaults."""
    variant = get_variant(model)
    if hasattr(variant, "make_params"):
        return variant.make_params(**fields)
    from corinfo_sim.params import Params
    return Params(model=model, **fields)
