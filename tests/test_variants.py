"""The interface every registered model variant offers (``models/*.py`` with a ``VARIANT``):
parameters, a network built from its spec, one training sample, weights round trip, traces,
the benchmark and the command line."""
import numpy as np
import pytest

from corinfo_sim.bench import bench
from corinfo_sim.cli import build_parser
from corinfo_sim.datasets import load_dataset
from corinfo_sim.errors import CorInfoError
from corinfo_sim.models import VARIANTS, get_variant
from corinfo_sim.network import CorInfoNetwork, Plan
from corinfo_sim.params import Params, make_params
from corinfo_sim.session import Session
from corinfo_sim.weights import init_weights

ARCH = (64, 6, 10)
#: Small, fast settings of each variant (the spiking model's phases in ms).
SMALL = {"spiking": dict(t_free=10 * 0.001, t_nudged=10 * 0.001, t_window=5 * 0.001),
         # its dendrites charge with τ_m = 10 ms: long enough for the teacher to make an output spike
         "conductance_spiking": dict(t_free=30 * 0.001, t_nudged=20 * 0.001, t_window=10 * 0.001)}


def small_params(model, **values):
    import brian2
    extra = {k: v * brian2.second for k, v in SMALL.get(model, {}).items()}
    declared = get_variant(model).parameters_by_name
    if "n_free" in declared:
        extra.update(n_free=6, n_nudged=4)
    # what applies: β (not in the feed-forward references), λ (CorInfoMax's lateral weights only)
    extra.update({name: value for name, value in (("beta_sign", "positive"), ("lam", 0.99)) if name in declared})
    return make_params(model, arch=ARCH, **extra, **values)


def needs_network(model):
    """Skip a part of the interface that a feed-forward reference (``fa``, ``bp``) does not have:
    it is dense numpy, without neurons, membrane traces or a compiled network."""
    if get_variant(model).network is None:
        pytest.skip(f"model {model} is a feed-forward reference: no Brian2 network, traces or build")


def rates_of(model, values):
    """Per-layer learning rates in the variant's own parameters (``lr`` or ``lr_ff``, ``lr_fb``)."""
    if "lr" in get_variant(model).parameters_by_name:
        return dict(lr=values[0])
    return dict(lr_ff=values[0], lr_fb=values[1])


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_the_registry_finds_every_variant():
    assert VARIANTS[0] == "antisparse" and {"antisparse", "sparse", "spiking", "ep", "fa", "bp"} <= set(VARIANTS)
    with pytest.raises(CorInfoError, match="unknown model 'nope'"):
        get_variant("nope")


@pytest.mark.parametrize("model", VARIANTS)
def test_parameters_are_declared_once_and_round_trip(model):
    variant = get_variant(model)
    p = Params(model)
    assert p.model == model and p.arch == (64, 100, 10)
    names = [q.name for q in variant.parameters]
    assert len(names) == len(set(names)), "a parameter is declared twice"
    for q in variant.parameters:
        assert q.help and (q.cli is None or q.cli.startswith("--")), q.name
    assert Params.from_dict(p.to_dict()) == p
    other = p.replace(arch=(64, 20, 20, 10))
    if "lr" in p.values():
        assert len(other.lr) == 3
    else:
        assert len(other.lr_ff) == 3 and len(other.lr_fb) == 2
    with pytest.raises(CorInfoError, match=f"not a parameter of model {model}"):
        Params(model, no_such_parameter=1)
    for dataset, values in variant.dataset_defaults.items():
        assert set(values) <= set(names), dataset
        assert make_params(model, dataset=dataset).arch == tuple(values.get("arch", p.arch))


def test_a_parameter_of_another_model_names_it():
    with pytest.raises(CorInfoError, match="eta_s is not a parameter of model antisparse: it belongs to model sparse"):
        Params("antisparse", eta_s=(0.1, 0.1))


@pytest.mark.parametrize("model", VARIANTS)
def test_one_sample_weights_and_traces(tmp_path, digits, model):
    """Runtime mode: build from the spec, learn from one sample, record its every step."""
    needs_network(model)
    p = small_params(model)
    X = np.concatenate([digits.X_train[:1], digits.X_test[:2]])
    y = np.concatenate([digits.y_train[:1], digits.y_test[:2]])
    W0 = init_weights(ARCH, np.random.default_rng(0), model)
    plan = Plan.make(y, train=[0], test=[1], probe=[2], beta=[1.0])
    session = Session(p, X, y, plan.segments, str(tmp_path / "b"), device="runtime", record_rates=True,
                      trace_neurons={1: [0, 1], 2: np.arange(10)})
    res = session.run(plan, W0)
    assert set(res.weights) == set(W0)
    assert all(np.all(np.isfinite(w)) for w in res.weights.values())
    assert all(np.any(res.weights[k] != W0[k]) for k in W0 if not k.startswith("B")), "nothing was learned"
    assert res.outputs.shape == (3, 10)
    tr = res.traces
    steps = p.steps_per_sample
    spec = p.variant.network(p)
    for k in (1, 2):
        for var in spec.trace_variables:
            assert tr[f"{var}_L{k}"].shape == (steps, 2 if k == 1 else 10), (var, k)
            assert np.all(np.isfinite(tr[f"{var}_L{k}"]))
    for var in spec.output_trace_variables:
        assert tr[f"{var}_L2"].shape == (steps, 10)
    assert "rate" in spec.trace_variables and "teacher" in spec.output_trace_variables
    assert tr["t"].shape == (steps,)
    # weights round trip through the network's synapses, whatever their layout
    net = CorInfoNetwork(p, X, plan, res.weights)
    for key, W in net.get_weights().items():
        np.testing.assert_array_equal(W, res.weights[key])


@pytest.mark.standalone
@pytest.mark.parametrize("model", VARIANTS)
def test_bench_runs_every_variant(model):
    needs_network(model)
    p = small_params(model, **rates_of(model, ((0.01, 0.01), (0.001,))))
    out = bench(ARCH, samples=20, dense_samples=5, params=p)
    assert out["model"] == model and out["ms_per_sample"] > 0 and out["dense_ms_per_sample"] > 0


@pytest.mark.parametrize("model", VARIANTS)
def test_the_command_line_offers_each_variants_parameters(model):
    help_text = build_parser(model)._subparsers._group_actions[0].choices["train"].format_help()
    for q in get_variant(model).parameters:
        if q.cli:
            assert q.cli in help_text, (model, q.cli)
