"""Parameters of a CorInfoMax simulation, validated, with units where they have them.

:class:`Params` holds everything a run needs besides the data and the weights. The
dimensionless constants are the paper's (DESIGN §2); the physical scales only set how traces
read (mV, ms). Every invalid value raises :class:`~corinfo_sim.errors.CorInfoError` with a
one-line message that says how to fix it.
"""
import dataclasses
import functools
import math
from dataclasses import dataclass, field

import brian2

from .errors import CorInfoError

#: Per-sample learning rates used when none are given: W_ff,1 and W_ff,k (k > 1), W_fb,k.
DEFAULT_LR_FF_FIRST = 0.5
DEFAULT_LR_FF_REST = 0.35
DEFAULT_LR_FB = 0.075
#: The paper trains with mini-batches of 20; online rates are the batch rates divided by this.
PAPER_BATCH = 20


def online(batch_rates):
    """Per-sample (online) learning rates from the paper's batch-20 rates."""
    return tuple(r / PAPER_BATCH for r in batch_rates)


def fit_rates(rates, n):
    """``rates`` for ``n`` layers: as given when the number fits, else the first rate followed by
    the last one repeated (the pattern of the paper's rates: a larger rate for the first layer)."""
    rates = tuple(rates)
    if len(rates) == n or not rates:
        return rates
    return (rates[0],) + (rates[-1],) * (n - 1) if n > 0 else ()

#: Fields of the spiking model only (None in the rate model).
SPIKING_FIELDS = ("nu_max", "tau_s", "tau_soma", "t_free", "t_nudged", "t_window", "encoder", "nu_input")
#: Fields that hold Brian2 quantities.
QUANTITY_FIELDS = ("V0", "dt", "nu_max", "tau_s", "tau_soma", "t_free", "t_nudged", "t_window", "nu_input")


@dataclass(frozen=True)
class Params:
    """Resolved parameters of one network and its training protocol.

    Attributes
    ----------
    arch : tuple of int
        Layer sizes ``(n_0, n_1, ..., n_L)``, input first, at least one hidden layer.
    epsilon : float
        ε in (0, 1): apical/basal coupling 1/ε, prediction-error variance.
    lam : float
        λ in (0, 1): forgetting factor of the correlation estimate; γ = (1 − λ)/λ.
    g_leak : float
        Leak conductance g_L (the paper's "hopfield g"), dimensionless, > 0.
    eta : float
        Neural step η = dt/τ in (0, 1].
    n_free, n_nudged : int
        Euler steps of the free and the nudged phase.
    beta : float
        Nudging strength β₀ > 0.
    beta_sign : {"random", "positive"}
        Sign of β per sample: drawn from the seeded generator, or always +.
    lr_ff : tuple of float
        Per-sample learning rates η_ff,k, k = 1..L.
    lr_fb : tuple of float
        Per-sample learning rates η_fb,k, k = 1..L−1.
    lr_schedule : tuple of (int, float)
        Per-epoch schedule: at epoch e (0-based) every rate is multiplied by ``d**e``, with d the
        base of the last ``(first_epoch, d)`` piece that starts at or before e.
        ``((0, 1.0),)`` disables it.
    eta_schedule : bool
        Free-phase neural step schedule η_t = max(η / (1 + 0.01 t), 0.001).
    seed : int
        Seed of the generator for weights, presentation order and β signs.
    shuffle : bool
        Present training samples in a new random order each epoch.
    V0 : brian2.Quantity
        Potential scale: u = v_soma / V0.
    dt : brian2.Quantity
        Euler step; τ = dt / η in the rate model. The spiking model's simulation step (its
        documented default is 0.5 ms, see ``models/spiking.py``; the dataclass default stays the
        rate model's 1 ms).
    model : str
        Network variant (``models/``): ``"antisparse"`` (the rate model) or ``"spiking"``.
    nu_max, tau_s, tau_soma, t_free, t_nudged, t_window : brian2.Quantity or None
        Spiking model only: maximal firing rate, synaptic trace and somatic time constants, free
        and nudged phase durations, and the averaging window at the end of each phase. None takes
        the spiking model's default (``models/spiking.py``); they must stay None for the rate model.
    encoder : str or None
        Spiking model only: ``"deterministic"`` (integrate-and-fire phase) or ``"poisson"``.
    nu_input : brian2.Quantity or None
        Spiking model only: maximal firing rate of the input units (pixel x fires at nu_input·x).
    """

    arch: tuple = (64, 100, 10)
    epsilon: float = 0.15
    lam: float = 0.99999
    g_leak: float = 0.5
    eta: float = 0.05
    n_free: int = 30
    n_nudged: int = 10
    beta: float = 1.0
    beta_sign: str = "random"
    lr_ff: tuple = None
    lr_fb: tuple = None
    lr_schedule: tuple = ((0, 0.95),)
    eta_schedule: bool = False
    seed: int = 0
    shuffle: bool = True
    V0: brian2.Quantity = field(default_factory=lambda: 10 * brian2.mV)
    dt: brian2.Quantity = field(default_factory=lambda: 1 * brian2.ms)
    model: str = "antisparse"
    nu_max: brian2.Quantity = None
    tau_s: brian2.Quantity = None
    tau_soma: brian2.Quantity = None
    t_free: brian2.Quantity = None
    t_nudged: brian2.Quantity = None
    t_window: brian2.Quantity = None
    encoder: str = None
    nu_input: brian2.Quantity = None

    def __post_init__(self):
        arch = tuple(self.arch)
        if len(arch) < 3 or any(int(n) != n or n < 1 for n in arch):
            raise CorInfoError(
                f"architecture {list(arch)} is not valid: give at least three positive layer sizes, "
                "input first, e.g. --arch 64,100,10")
        object.__setattr__(self, "arch", tuple(int(n) for n in arch))
        L = len(arch) - 1
        lr_ff = self.lr_ff if self.lr_ff is not None else (
            (DEFAULT_LR_FF_FIRST,) + (DEFAULT_LR_FF_REST,) * (L - 1))
        lr_fb = self.lr_fb if self.lr_fb is not None else (DEFAULT_LR_FB,) * (L - 1)
        object.__setattr__(self, "lr_ff", tuple(float(v) for v in lr_ff))
        object.__setattr__(self, "lr_fb", tuple(float(v) for v in lr_fb))
        object.__setattr__(self, "lr_schedule", tuple((int(e), float(d)) for e, d in self.lr_schedule))
        if self.model == "spiking":
            from .models.spiking import DEFAULTS
            for name, value in DEFAULTS.items():
                if getattr(self, name) is None:
                    object.__setattr__(self, name, value)
        self._validate()

    def _validate(self):
        L = self.n_layers

        def finite(name, value):
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise CorInfoError(f"{name} must be a finite number, got {value!r}")

        for name in ("epsilon", "lam", "g_leak", "eta", "beta"):
            finite(name, getattr(self, name))
        if not 0 < self.epsilon < 1:
            raise CorInfoError(f"epsilon must lie in (0, 1), got {self.epsilon}: e.g. --epsilon 0.15")
        if not 0 < self.lam < 1:
            raise CorInfoError(f"lambda must lie in (0, 1), got {self.lam}: e.g. --lambda 0.99999")
        if self.g_leak <= 0:
            raise CorInfoError(f"g_leak must be positive, got {self.g_leak}: e.g. --g-leak 0.5")
        if not 0 < self.eta <= 1:
            raise CorInfoError(f"the neural step eta must lie in (0, 1], got {self.eta}: e.g. --eta 0.05")
        if self.beta <= 0:
            raise CorInfoError(f"beta must be positive (its sign is set by --beta-sign), got {self.beta}")
        for name in ("n_free", "n_nudged"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise CorInfoError(f"{name} must be a positive whole number of steps, got {value!r}")
        if self.beta_sign not in ("random", "positive"):
            raise CorInfoError(f"beta sign must be 'random' or 'positive', got {self.beta_sign!r}")
        if len(self.lr_ff) != L:
            raise CorInfoError(
                f"--lr-ff needs {L} rates (one per layer k = 1..{L}) for architecture "
                f"{','.join(map(str, self.arch))}, got {len(self.lr_ff)}")
        if len(self.lr_fb) != L - 1:
            raise CorInfoError(
                f"--lr-fb needs {L - 1} rates (one per hidden layer k = 1..{L - 1}) for architecture "
                f"{','.join(map(str, self.arch))}, got {len(self.lr_fb)}")
        for name, rates in (("--lr-ff", self.lr_ff), ("--lr-fb", self.lr_fb)):
            for v in rates:
                finite(name, v)
                if v <= 0:
                    raise CorInfoError(f"{name} rates must be positive, got {v}")
        for first, d in self.lr_schedule:
            finite("learning-rate decay", d)
            if not 0 < d <= 1 or first < 0:
                raise CorInfoError(
                    f"learning-rate decay must lie in (0, 1] (1 disables the schedule), got {d}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise CorInfoError(f"seed must be a non-negative integer, got {self.seed!r}")
        self._validate_model()

    def _validate_model(self):
        from .models import VARIANTS
        if self.model not in VARIANTS:
            raise CorInfoError(f"unknown model {self.model!r}: choose one of {', '.join(VARIANTS)}")
        if not isinstance(self.dt, brian2.Quantity) or not brian2.have_same_dimensions(self.dt, brian2.second) \
                or not float(self.dt) > 0:
            raise CorInfoError(f"dt must be a positive time, e.g. 0.5*ms, got {_shown(self.dt, brian2.ms)}")
        if self.model != "spiking":
            for name in SPIKING_FIELDS:
                if getattr(self, name) is not None:
                    raise CorInfoError(f"{name} is a parameter of the spiking model: also pass model='spiking'")
            return
        from .models.spiking import ENCODERS
        if self.encoder not in ENCODERS:
            raise CorInfoError(f"encoder must be one of {', '.join(ENCODERS)}, got {self.encoder!r}")
        if self.eta_schedule:
            raise CorInfoError("the neural step schedule (--eta-schedule) belongs to the rate model, not to 'spiking'")
        dt = float(self.dt)
        units = {"nu_max": (brian2.Hz, "800*Hz"), "nu_input": (brian2.Hz, "400*Hz"), "tau_s": (brian2.second, "4*ms"),
                 "tau_soma": (brian2.second, "20*ms"), "t_free": (brian2.second, "100*ms"),
                 "t_nudged": (brian2.second, "75*ms"), "t_window": (brian2.second, "50*ms")}
        for name, (unit, example) in units.items():
            value = getattr(self, name)
            if (not isinstance(value, brian2.Quantity) or not brian2.have_same_dimensions(value, unit)
                    or not math.isfinite(float(value)) or float(value) <= 0):
                kind = "rate" if unit is brian2.Hz else "time"
                shown = _shown(value, brian2.Hz if unit is brian2.Hz else brian2.ms)
                raise CorInfoError(f"{name} must be a positive {kind}, e.g. {example}, got {shown}")
        for name in ("t_free", "t_nudged", "t_window"):
            steps = float(getattr(self, name)) / dt
            if abs(steps - round(steps)) > 1e-6 * max(steps, 1):
                raise CorInfoError(f"{name} = {getattr(self, name)} is not a whole number of steps dt = {self.dt}")
        if float(self.t_window) > min(float(self.t_free), float(self.t_nudged)):
            raise CorInfoError(
                f"the averaging window t_window = {self.t_window} must fit into both phases "
                f"(t_free = {self.t_free}, t_nudged = {self.t_nudged})")
        for name in ("nu_max", "nu_input"):
            if float(getattr(self, name)) * dt > 1:
                raise CorInfoError(
                    f"{name} * dt = {float(getattr(self, name)) * dt:.3g} exceeds 1 spike per step: lower {name} or dt")
        if float(self.tau_s) <= dt:
            raise CorInfoError(f"tau_s = {self.tau_s} must exceed the step dt = {self.dt}")
        # the fastest somatic relaxation (hidden layer, or the nudged output) must be a stable Euler step
        rate = max(self.g_leak + 2 / self.epsilon, self.g_leak + 1 / self.epsilon + 1 + self.beta)
        if dt * rate / float(self.tau_soma) >= 1:
            raise CorInfoError(
                f"tau_soma = {self.tau_soma} is too short for dt = {self.dt}: it must exceed "
                f"{dt * rate * 1e3:.3g} ms (dt (g_L + 2/epsilon))")

    # ---- derived quantities -----------------------------------------------------------
    @property
    def n_layers(self):
        """L, the number of weight layers."""
        return len(self.arch) - 1

    @property
    def gamma(self):
        """γ = (1 − λ)/λ."""
        return (1 - self.lam) / self.lam

    @property
    def free_steps(self):
        """Time steps of the free phase (``n_free`` in the rate model)."""
        if self.model == "spiking":
            return int(round(float(self.t_free / self.dt)))
        return self.n_free

    @property
    def window_steps(self):
        """Time steps averaged at the end of each phase (1 in the rate model: the last state)."""
        if self.model == "spiking":
            return int(round(float(self.t_window / self.dt)))
        return 1

    @property
    def steps_per_sample(self):
        if self.model == "spiking":
            return self.free_steps + int(round(float(self.t_nudged / self.dt)))
        return self.n_free + self.n_nudged

    @property
    def tau(self):
        """Membrane time constant: τ = dt/η (rate model), τ_soma (spiking model)."""
        if self.model == "spiking":
            return self.tau_soma
        return self.dt / self.eta

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

    def differences(self, other):
        """Names of the fields in which ``other`` differs (quantities up to a relative 1e-12, the
        rounding of a printed value: "0.35 s" is "350.0 ms")."""
        out = []
        for f in dataclasses.fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if isinstance(a, brian2.Quantity) and isinstance(b, brian2.Quantity):
                same = brian2.have_same_dimensions(a, b) and math.isclose(float(a), float(b), rel_tol=1e-12)
            else:
                same = a == b
            if not same:
                out.append(f.name)
        return out

    def replace(self, **changes):
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        """JSON-ready dictionary; quantities as strings with units."""
        out = {}
        for f in dataclasses.fields(self):
            if self.model == "antisparse" and f.name in ("model",) + SPIKING_FIELDS:
                continue  # rate-model runs keep the dictionary they always had
            value = getattr(self, f.name)
            if isinstance(value, brian2.Quantity):
                value = _format_quantity(value)
            elif isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            out[f.name] = value
        out["gamma"] = self.gamma
        out["tau"] = _format_quantity(self.tau)
        return out

    @classmethod
    def from_dict(cls, d):
        """Inverse of :meth:`to_dict` (derived entries are ignored)."""
        kwargs = {}
        for f in dataclasses.fields(cls):
            if f.name not in d:
                continue
            value = d[f.name]
            if f.name in QUANTITY_FIELDS and value is not None:
                value = _parse_quantity(value)
            elif f.name in ("arch", "lr_ff", "lr_fb"):
                value = tuple(value)
            elif f.name == "lr_schedule":
                value = tuple(tuple(v) for v in value)
            kwargs[f.name] = value
        return cls(**kwargs)


def _format_quantity(value):
    """``value`` as "number unit" that reads back exactly: in ms, Hz or mV when that is exact
    ("0.5 ms", "800.0 Hz"), else in SI units ("0.35000000000000003 s")."""
    for unit in (brian2.ms, brian2.Hz, brian2.mV):
        if brian2.have_same_dimensions(value, unit):
            text = f"{float(value / unit)!r} {unit!s}"
            if _parse_quantity(text) == value:
                return text
    return f"{float(value)!r} {brian2.get_unit(value.dim)!s}"


@functools.lru_cache(maxsize=1)
def _units_by_name():
    """Brian2's units by their printed names ("s", "ms", "kHz", "mV", ...)."""
    from brian2.units.allunits import all_units
    return {str(u): u for u in all_units}


def _parse_quantity(text):
    """A quantity as :meth:`Params.to_dict` writes it ("0.5 ms", "0.35 s"), or as Brian2 prints
    it ("1.6 kHz", "250. us")."""
    try:
        number, name = str(text).split()
        units = _units_by_name()
        return float(number) * (units[name] if name in units else getattr(brian2, name))
    except (ValueError, AttributeError):
        raise CorInfoError(f"cannot read the quantity {text!r} in the saved parameters: "
                           f"write it as a number and a unit, e.g. '100 ms'") from None


def _shown(value, unit):
    """``value`` for an error message: in ``unit`` when it has that dimension ("inf Hz", "0 ms")."""
    if isinstance(value, brian2.Quantity) and brian2.have_same_dimensions(value, unit):
        return f"{float(value / unit):g} {unit!s}"
    return repr(value)
