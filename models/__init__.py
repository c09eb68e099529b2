"""Model variants: each module here that defines ``VARIANT`` (a :class:`corinfo_sim.spec.Variant`)
is a network ``corinfo-sim`` can simulate, under the module's name.

A variant declares its parameters, its network as populations and pathways, and its dense
oracle; :class:`corinfo_sim.network.CorInfoNetwork` builds any of them. Adding a variant is adding
a module (see ``sparse.py`` for a worked example) and its tests; this registry finds it.
"""
import importlib
import pkgutil

from corinfo_sim.errors import CorInfoError


#: The variant every command simulates unless told otherwise: the paper's main network.
DEFAULT = "antisparse"


def _discover():
    names = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_") and hasattr(importlib.import_module(f"{__name__}.{info.name}"), "VARIANT"):
            names.append(info.name)
    return tuple(sorted(names, key=lambda n: n != DEFAULT))  # the default first


#: Names of the registered variants (``--model``).
VARIANTS = _discover()


def get_variant(name):
    """The :class:`~corinfo_sim.spec.Variant` called ``name`` (one of :data:`VARIANTS`)."""
    if name not in VARIANTS:
        raise CorInfoError(f"unknown model {name!r}: choose one of {', '.join(VARIANTS)}")
    return importlib.import_module(f"{__name__}.{name}").VARIANT
