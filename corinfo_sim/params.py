"""Resolved parameters of one simulation, validated against its model variant's declarations.

A model variant (``models/``) declares its parameters as :class:`~corinfo_sim.spec.Parameter`
objects: name, default, unit, help text and checks, in one place. :class:`Params` holds the
resolved values of one run; every invalid value raises :class:`~corinfo_sim.errors.CorInfoError`
with a one-line message that says how to fix it. :func:`make_params` adds a data set's defaults.
The command line builds its options from the same declarations (:mod:`corinfo_sim.cli`).
"""
import math

import brian2

from . import biophysics
from .dense import ForgettingFactors
from .errors import CorInfoError
from .models import DEFAULT, VARIANTS, get_variant
from .spec import depth_rates, fit_rates, format_quantity


class Params(ForgettingFactors):
    """Resolved, validated parameters of one network of a model variant and its training.

    ``Params(model, **values)`` takes the variant's defaults for every value not given
    (:data:`COMMON`, plus the variant's own parameters; see ``models/<model>.py``); every
    value is an attribute (``p.g_leak``). Params are immutable; :meth:`replace` makes a changed,
    re-validated copy.

    Besides the values: :attr:`n_layers` (L), :attr:`gamma` (γ = (1 − λ)/λ) and the time course
    of a sample, from the variant: :attr:`free_steps`, :attr:`steps_per_sample`,
    :attr:`window_steps` (steps averaged at the end of a phase; 1 in the rate models),
    :attr:`tau` and :attr:`sample_duration`.
    """

    def __init__(self, model=DEFAULT, **values):
        variant = get_variant(model)
        declared = variant.parameters_by_name
        unknown = [name for name in values if name not in declared]
        if unknown:
            raise CorInfoError(_not_a_parameter(unknown[0], model))
        resolved = {}
        for name, parameter in declared.items():  # in order: a default may depend on earlier values
            given = values.get(name)
            value = parameter.default_for(resolved) if given is None else given
            value = parameter.convert(value)
            if parameter.check is not None and value is not None:
                problem = parameter.check(value)
                if problem:
                    raise CorInfoError(f"{parameter.shown_name} {problem}")
            resolved[name] = value
        object.__setattr__(self, "_model", variant.name)
        object.__setattr__(self, "_values", resolved)
        self._check_layers()
        problem = (variant.validate(self) if variant.validate else None) or biophysics.validate(self)
        if problem:
            raise CorInfoError(problem)

    def _check_layers(self):
        L = self.n_layers
        arch = ",".join(map(str, self.arch))
        if "lr" in self._values and len(self.lr) != L:  # the other rules: one rate per weight layer
            raise CorInfoError(f"--lr needs {L} rates (one per layer k = 1..{L}) for architecture {arch}, "
                               f"got {len(self.lr)}")
        if "lr_ff" not in self._values:
            return
        if len(self.lr_ff) != L:
            raise CorInfoError(f"--lr-ff needs {L} rates (one per layer k = 1..{L}) for architecture {arch}, "
                               f"got {len(self.lr_ff)}")
        if len(self.lr_fb) != L - 1:
            raise CorInfoError(f"--lr-fb needs {L - 1} rates (one per hidden layer k = 1..{L - 1}) for "
                               f"architecture {arch}, got {len(self.lr_fb)}")

    # ---- values -----------------------------------------------------------------------------------
    def __getattr__(self, name):
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        raise AttributeError(f"model {self._model!r} has no parameter {name!r}")

    def __setattr__(self, name, value):
        raise AttributeError("Params are immutable: use replace()")

    @property
    def model(self):
        """The model variant these parameters belong to."""
        return self._model

    @property
    def variant(self):
        return get_variant(self._model)

    def values(self):
        """``{name: value}`` of every parameter."""
        return dict(self._values)

    def __eq__(self, other):
        return isinstance(other, Params) and self._model == other._model and not self.differences(other)

    def __hash__(self):
        return hash(repr(sorted(self.to_dict().items())))

    def __repr__(self):
        shown_values = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"Params(model={self._model!r}, {shown_values})"

    # ---- derived quantities -----------------------------------------------------------------------
    @property
    def n_layers(self):
        """L, the number of weight layers."""
        return len(self.arch) - 1

    @property
    def timing(self):
        """The variant's time course of a sample (free, nudged and window steps, τ)."""
        return self.variant.timing(self)

    @property
    def free_steps(self):
        """Time steps of the free phase."""
        return self.timing["free_steps"]

    @property
    def steps_per_sample(self):
        return self.timing["steps_per_sample"]

    @property
    def window_steps(self):
        """Time steps averaged at the end of each phase (1 in the rate models: the last state)."""
        return self.timing.get("window_steps", 1)

    @property
    def tau(self):
        """Membrane time constant of the somata."""
        return self.timing["tau"]

    @property
    def sample_duration(self):
        return self.steps_per_sample * self.dt

    def lr_factor(self, epoch):
        """Factor d**epoch of the per-epoch learning-rate schedule."""
        base = 1.0
        for first, d in self.lr_schedule:
            if epoch >= first:
                base = d
        return base ** epoch

    # ---- comparing, copying, saving ---------------------------------------------------------------------
    def differences(self, other):
        """Names of the parameters in which ``other`` differs (quantities up to a relative 1e-12,
        the rounding of a printed value: "0.35 s" is "350.0 ms"); ``model`` if the variants differ."""
        if self._model != other._model:
            return ["model"]
        out = []
        for name, a in self._values.items():
            b = other._values.get(name)
            if isinstance(a, brian2.Quantity) and isinstance(b, brian2.Quantity):
                same = brian2.have_same_dimensions(a, b) and math.isclose(float(a), float(b), rel_tol=1e-12)
            else:
                same = a == b
            if not same:
                out.append(name)
        return out

    def replace(self, **changes):
        """A copy with some values changed (validated again; per-layer defaults follow a new ``arch``)."""
        values = dict(self._values)
        if "arch" in changes and len(changes["arch"]) != len(self.arch):
            for parameter in self.variant.parameters:  # values per layer follow the new depth
                if callable(parameter.default):
                    values.pop(parameter.name)
        values.update(changes)
        return Params(self._model, **values)

    def to_dict(self):
        """JSON-ready dictionary: ``model``, every value (quantities as strings with units), ``gamma``, ``tau``."""
        declared = self.variant.parameters_by_name
        out = {"model": self._model}
        out.update({name: declared[name].to_json(value) for name, value in self._values.items()})
        if "lam" in self._values:
            out["gamma"] = self.gamma
        out["tau"] = format_quantity(self.tau)
        return out

    @classmethod
    def from_dict(cls, d):
        """Inverse of :meth:`to_dict`. Derived entries and parameters this variant does not have
        (saved by an older version) are ignored; older spellings are read (``eta_schedule``
        true/false, "1. ms")."""
        model = d.get("model") or DEFAULT
        declared = get_variant(model).parameters_by_name
        values = {}
        for name, value in d.items():
            if name not in declared or value is None:
                continue
            values[name] = value
        return cls(model, **values)


def _not_a_parameter(name, model):
    owners = [v for v in VARIANTS if v != model and name in get_variant(v).parameters_by_name]
    hint = f": it belongs to model {' and '.join(owners)} (--model {owners[0]})" if owners else ""
    return f"{name} is not a parameter of model {model}{hint}"


def dataset_defaults(model, dataset):
    """The settings variant ``model`` uses on ``dataset`` unless told otherwise (a dict of values)."""
    from .datasets import canonical_name
    return dict(get_variant(model).dataset_defaults.get(canonical_name(dataset), {})) if dataset else {}


def make_params(model=DEFAULT, dataset=None, **values):
    """:class:`Params` of variant ``model``: its defaults for ``dataset`` (if given), replaced by
    ``values`` (None values are ignored).

    When ``values`` set an architecture of another depth than the data set's, the data set's
    learning rates are fitted to it (:func:`~corinfo_sim.spec.depth_rates`) and its other values per
    layer give way to the parameters' defaults.
    """
    given = {k: v for k, v in values.items() if v is not None}
    defaults = dataset_defaults(model, dataset)
    if "arch" in given and len(given["arch"]) != len(defaults.get("arch", given["arch"])):
        # the data set's values per layer, for another depth: learning rates fitted, others by default
        L = len(given["arch"]) - 1
        for parameter in get_variant(model).parameters:
            if callable(parameter.default) and parameter.name in defaults:
                value = defaults.pop(parameter.name)
                if parameter.name in ("lr_ff", "lr_fb"):  # CorInfoMax: rates that fall with depth
                    feedback = parameter.name == "lr_fb"
                    defaults[parameter.name] = depth_rates(value, L - feedback, feedback)
                elif parameter.name == "lr":
                    defaults[parameter.name] = fit_rates(value, L)
    return Params(model, **dict(defaults, **given))
