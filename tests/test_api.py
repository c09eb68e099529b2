"""The public Python interface: every exported name importable, documented and exercised; the
runtime-mode Network against the compiled and runtime runs of the same samples; run folders,
sweeps and figures from Python; one exception type for bad arguments; Brian2's global state left
as it was."""
import ast
import inspect
import json
import os
import pathlib

import brian2
import numpy as np
import pytest
from brian2 import ms

import corinfo_sim as cim
from corinfo_sim import plotting

ROOT = pathlib.Path(__file__).resolve().parents[1]
PUBLIC = [name for name in cim.__all__ if name != "plotting"]


@pytest.fixture(scope="module")
def digits():
    return cim.load_dataset("digits")


@pytest.fixture(scope="module")
def small():
    """A small network of digits and its initial weights."""
    p = cim.params("antisparse", dataset="digits", arch=(64, 20, 10), seed=3)
    return p, cim.init_weights(p)


def brian2_state():
    return (brian2.get_device(), brian2.prefs.codegen.target, brian2.prefs.core.default_float_dtype,
            list(brian2.prefs.codegen.cpp.extra_compile_args_gcc))


# ---- the surface -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", PUBLIC + [f"plotting.{n}" for n in plotting.__all__])
def test_every_public_name_is_importable_documented_and_in_the_reference(name):
    obj = cim
    for part in name.split("."):
        obj = getattr(obj, part)
    doc = inspect.getdoc(obj)
    assert doc and len(doc.splitlines()[0]) > 10, f"{name} has no docstring"
    if inspect.isfunction(obj) and inspect.signature(obj).parameters:
        assert "Parameters\n----------" in doc, f"{name}: no numpydoc Parameters section"
    reference = (ROOT / "docs" / "api.rst").read_text()
    assert f"   {name.split('.')[-1]}\n" in reference, f"{name} is not in docs/api.rst"


def test_params_reads_like_brian2_and_the_function_does_not_hide_the_module():
    p = cim.params("antisparse", dataset="digits", g_leak=0.3, dt=0.5 * ms)
    assert p.arch == (64, 100, 10) and p.g_leak == 0.3 and p.dt == 0.5 * ms
    assert callable(cim.params)
    from corinfo_sim.params import Params  # the module is still importable by name
    assert isinstance(p, Params)
    names = {entry["name"]: entry for entry in cim.parameters("conductance")}
    assert names["dt"]["unit"] == "ms" and names["g_leak"]["option"] == "--g-leak"
    assert list(cim.variants())[0] == "antisparse" and "ep" in cim.variants()


@pytest.mark.parametrize("call, words", [
    (lambda: cim.params("nope"), ["unknown model", "nope"]),
    (lambda: cim.params("antisparse", g_lek=0.3), ["g_lek", "not a parameter"]),
    (lambda: cim.params("antisparse", g_leak=-1.0), ["g_leak"]),
    (lambda: cim.params("antisparse", dt=1.0), ["dt"]),
    (lambda: cim.params("antisparse", dataset="imagenet"), ["imagenet"]),
    (lambda: cim.load_dataset("imagenet"), ["imagenet"]),
    (lambda: cim.load_dataset(3), ["string"]),
    (lambda: cim.load_weights("/nonexistent/weights.npz"), ["does not exist"]),
    (lambda: cim.load_run("/nonexistent"), ["not a run folder"]),
    (lambda: cim.train("antisparse", "digits", 1, "x"), ["corinfo_sim.params"]),
    (lambda: cim.train(cim.params(), "digits", 0, "x"), ["epochs"]),
    (lambda: cim.train(cim.params(), "digits", 1, "x", device="gpu"), ["device"]),
    (lambda: cim.evaluate({}, "digits"), ["needs the parameters"]),
    (lambda: cim.Network(cim.params("fa")), ["not a Brian2 network"]),
    (lambda: cim.Network(cim.params(), free=3), ["duration"]),
    (lambda: cim.Network(cim.params(), free=1.5 * ms), ["whole number of steps"]),
    (lambda: cim.run_samples(cim.params(), {}, np.zeros((1, 64))), ["weights"]),
    (lambda: cim.run_sweep({"epochs": 1, "grid": {"g_lek": [0.3]}}, "/tmp/never"), ["g_lek", "unknown key"]),
    (lambda: cim.run_sweep({"grid": {"g_leak": [0.3]}}, "/tmp/never"), ["epochs is missing"]),
    (lambda: cim.run_sweep(3, "/tmp/never"), ["dict"]),
    (lambda: cim.plotting.plot_angles(3), ["run"]),
    (lambda: cim.benchmark("bp"), ["nothing to benchmark"]),
])
def test_bad_arguments_raise_the_one_exception_type_with_one_line(call, words):
    with pytest.raises(cim.CorInfoError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word.lower() in message.lower(), message
    assert not os.path.exists("/tmp/never")


def test_the_sweep_does_not_import_the_command_line():
    """The two-module cycle is gone: the sweep runs its points through the API."""
    tree = ast.parse((ROOT / "corinfo_sim" / "sweep.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "cli" not in imported and "corinfo_sim.cli" not in imported


# ---- the runtime-mode Network ------------------------------------------------------------------
def test_network_is_a_brian2_network_with_named_groups_and_a_monitor_of_ones_own(small, digits):
    p, w = small
    before = brian2_state()
    net = cim.Network(p, w)
    assert isinstance(net, brian2.Network)
    assert net["pyr_1"] is net.pyr[1] and net["ff_2"] is net.ff[2] and net["fb_1"] is net.fb[1]
    assert net["inh_1"] is net.inh[1] and net.inp.name == "inp"
    assert net.sample_duration == p.steps_per_sample * p.dt and net.free_duration == p.n_free * p.dt
    mon = brian2.StateMonitor(net["pyr_1"], ["v_soma", "r"], record=[0, 1, 2])
    net.add(mon)
    shown = net.present(digits.X_test[0], label=digits.y_test[0])
    steps = p.steps_per_sample
    assert mon.v_soma.shape == (3, steps) and shown.start == 0 * ms and shown.stop == steps * p.dt
    # the monitor's rates are the rate code of its somatic potentials: r = clip(v_soma / V0, 0, 1)
    np.testing.assert_allclose(mon.r, np.clip(np.asarray(mon.v_soma / p.V0), 0, 1), atol=1e-12)
    # the free-phase rates are the rates recorded at the first step of the nudged phase
    np.testing.assert_allclose(shown.free[1][:3], mon.r[:, p.n_free], atol=1e-12)
    again = net.present(digits.X_test[1])
    assert again.start == steps * p.dt and mon.v_soma.shape == (3, 2 * steps) and again.label is None
    assert brian2_state() == before


def test_present_with_and_without_the_label(small, digits):
    """The nudged phase pulls the output towards the label; without one the free dynamics go on."""
    p, w = small
    net = cim.Network(p, w)
    label = int(digits.y_test[0])
    taught = net.present(digits.X_test[0], label=label)
    alone = net.present(digits.X_test[0])
    np.testing.assert_allclose(taught.free[2], alone.free[2], atol=1e-12)  # the same free phase
    target = np.eye(10)[label]
    assert np.abs(taught.nudged[2] - target).sum() < np.abs(taught.free[2] - target).sum()
    assert np.abs(alone.nudged[2] - alone.free[2]).max() < np.abs(taught.nudged[2] - taught.free[2]).max()


def test_plastic_presentations_learn_as_the_training_network_does(small, digits):
    """Three plastic presentations change the weights exactly as the same samples run as a plan
    (the network training uses), and non-plastic ones leave them as they are."""
    p, w = small
    X, y = digits.X_train[:3], digits.y_train[:3]
    net = cim.Network(p, w)
    for i in range(3):
        net.present(X[i], label=y[i], plastic=True)
    planned = cim.run_samples(p, w, X, y, plastic=True, device="runtime")
    for key in w:
        np.testing.assert_allclose(net.weights[key], planned.weights[key], rtol=0, atol=1e-12, err_msg=key)
        assert not np.allclose(net.weights[key], w[key]), key
    still = cim.Network(p, w)
    shown = [still.present(X[i], label=y[i]) for i in range(3)]
    for key in w:
        np.testing.assert_array_equal(still.weights[key], w[key])
    same = cim.run_samples(p, w, X, y, device="runtime")
    np.testing.assert_allclose(np.array([s.output for s in shown]), same.outputs, atol=1e-12)
    np.testing.assert_allclose(np.array([s.nudged[1] for s in shown]), same.rates[1][1], atol=1e-12)


def test_a_perturbation_and_longer_phases_through_the_public_objects(small, digits):
    p, w = small
    long = cim.Network(p, w, nudged=4 * p.n_nudged * p.dt)
    assert long.nudged_duration == 4 * p.n_nudged * p.dt and long.params.n_nudged == 4 * p.n_nudged
    net = cim.Network(p, w)
    intact = net.present(digits.X_test[0], label=digits.y_test[0])
    net.fb[1].w[:] = 0
    silenced = net.present(digits.X_test[0], label=digits.y_test[0])
    assert np.abs(silenced.nudged[1] - silenced.free[1]).max() < np.abs(intact.nudged[1] - intact.free[1]).max()
    net.run(net.sample_duration)  # a whole blank sample keeps present() in step
    net.present(digits.X_test[2])
    net.run(1 * ms)
    with pytest.raises(cim.CorInfoError, match="whole number of samples"):
        net.present(digits.X_test[3])


def test_network_refuses_a_standalone_device_and_plastic_without_label(small, digits):
    p, w = small
    net = cim.Network(p, w)
    with pytest.raises(cim.CorInfoError, match="needs a label"):
        net.present(digits.X_test[0], plastic=True)
    with pytest.raises(cim.CorInfoError, match="64 finite input rates"):
        net.present(np.zeros(10))
    with pytest.raises(cim.CorInfoError, match="label must be a class"):
        net.present(digits.X_test[0], label=10)
    brian2.set_device("cpp_standalone", build_on_run=False)
    try:
        with pytest.raises(cim.CorInfoError, match="runtime mode"):
            cim.Network(p, w)
    finally:
        brian2.device.reinit()
        brian2.set_device("runtime")


@pytest.mark.standalone
def test_compiled_samples_equal_runtime_ones_and_leave_the_process_as_it_was(small, digits):
    p, w = small
    X, y = digits.X_train[:3], digits.y_train[:3]
    before = brian2_state()
    compiled = cim.run_samples(p, w, X, y, plastic=True, trace={1: [0, 1]})
    assert brian2_state() == before and brian2.get_device().__class__.__name__ == "RuntimeDevice"
    runtime = cim.run_samples(p, w, X, y, plastic=True, device="runtime", trace={1: [0, 1]})
    for key in w:
        np.testing.assert_allclose(compiled.weights[key], runtime.weights[key], atol=1e-9)
    assert compiled.traces["v_soma_L1"].shape == (3 * p.steps_per_sample, 2)
    np.testing.assert_allclose(compiled.traces["v_soma_L1"], runtime.traces["v_soma_L1"], atol=1e-9)
    assert list(compiled.predictions) == list(np.argmax(compiled.outputs, axis=1))


# ---- training, run folders, figures --------------------------------------------------------------
@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Two epochs of a small digits network, trained from Python."""
    out = tmp_path_factory.mktemp("api") / "run"
    p = cim.params("antisparse", dataset="digits", arch=(64, 20, 10))
    lines = []
    result = cim.train(p, "digits", 2, str(out), max_train=200, max_test=100, progress=lines.append)
    return p, result, lines


@pytest.mark.standalone
def test_train_writes_the_run_folder_of_the_command_line(run):
    p, result, lines = run
    assert isinstance(result, cim.TrainResult) and result.epochs_done == 2 and len(result.test_acc) == 2
    assert any("epoch   2/2" in line for line in lines)
    loaded = cim.load_run(result.out)
    assert loaded.status == "done" and loaded.model == "antisparse" and loaded.dataset == "digits"
    assert loaded.params == p and loaded.config["n_train"] == 200
    np.testing.assert_array_equal(loaded.metrics["test_acc"], result.test_acc)
    assert list(loaded.metrics["epoch"]) == [1, 2]
    frame = loaded.metrics_frame()
    assert list(frame.index) == [1, 2] and np.allclose(frame["test_acc"], result.test_acc)
    assert set(loaded.weights) == {"Wff1", "Wfb1", "B1", "Wff2", "B2"}
    assert not np.allclose(loaded.weights_at(0)["Wff1"], loaded.weights["Wff1"])
    assert loaded.traces["v_soma_L1"].shape[0] == 2 * p.steps_per_sample
    assert "angle_L1" in loaded.diagnostics and "h_L1" in loaded.representations
    assert loaded.corinfo is not None and repr(loaded).startswith("Run(")
    with pytest.raises(cim.CorInfoError, match="already holds a run"):
        cim.train(p, "digits", 2, result.out, max_train=200, max_test=100)
    again = cim.train(p, "digits", 2, result.out, max_train=200, max_test=100, resume=True)
    assert again.epochs_done == 2
    assert cim.evaluate(result.out, max_test=100) == pytest.approx(result.test_acc[-1])
    assert cim.evaluate(loaded.weights, "digits", p, max_test=100) == pytest.approx(result.test_acc[-1])


@pytest.mark.standalone
def test_a_collapsing_run_raises_diverged_and_keeps_the_last_good_epoch(tmp_path):
    p = cim.params("antisparse", dataset="digits", arch=(64, 20, 10), lr_ff=(1e4, 1e4), lr_fb=(1e3,))
    with pytest.raises(cim.Diverged):
        cim.train(p, "digits", 2, str(tmp_path / "bad"), max_train=200, max_test=100)
    assert cim.load_run(tmp_path / "bad").status in ("diverged", "collapsed")


@pytest.mark.standalone
def test_weights_traces_and_figures_from_a_run(run, tmp_path, digits):
    import matplotlib.axes
    p, result, _ = run
    weights = cim.load_weights(result.out)
    cim.save_weights(tmp_path / "w.npz", weights)
    again = cim.load_weights(tmp_path / "w.npz")
    assert all(np.array_equal(again[k], weights[k]) for k in weights)
    traces = cim.record_traces(result.out, [0, 3], neurons=[0, 1])
    assert traces["v_soma_L1"].shape == (2 * p.steps_per_sample, 2) and list(np.unique(traces["sample"])) == [0, 3]
    cim.save_traces(tmp_path / "t.npz", traces)
    cim.save_traces(tmp_path / "t.nwb", traces, dataset=digits)
    assert (tmp_path / "t.npz").stat().st_size and (tmp_path / "t.nwb").stat().st_size
    loaded = cim.load_run(result.out)
    for axes in (plotting.plot_learning_curves(loaded), plotting.plot_learning_curves([result.out, result.out]),
                 plotting.plot_traces(loaded), plotting.plot_traces(traces), plotting.plot_weights(weights),
                 plotting.plot_weights(loaded)):
        assert all(isinstance(ax, matplotlib.axes.Axes) for ax in np.ravel(axes))
    assert isinstance(plotting.plot_angles(result), matplotlib.axes.Axes)
    t = np.arange(5) * ms
    ax = plotting.plot_state(t, np.ones((5, 2)) * brian2.mV, var_name="v_soma", var_unit="mV")
    assert isinstance(ax, matplotlib.axes.Axes) and len(ax.lines) == 2
    written = plotting.make_figure("weights", loaded, tmp_path / "w.png")
    assert any(str(path).endswith(".pdf") for path in written)


@pytest.mark.standalone
@pytest.mark.long
def test_a_sweep_from_a_dict_returns_its_table(tmp_path):
    import matplotlib.axes
    spec = {"epochs": 1, "seeds": [0], "fixed": {"arch": [64, 20, 10], "max_train_samples": 200,
                                                  "max_test_samples": 100},
            "grid": {"g_leak": [0.3, 0.5]}}
    results = cim.run_sweep(spec, tmp_path / "sweep", workers=1)
    assert isinstance(results, cim.SweepResult) and len(results) == 2
    assert [row["status"] for row in results] == ["done", "done"]
    assert (tmp_path / "sweep" / "sweep.toml").read_text().startswith("epochs = 1")
    frame = results.frame()
    assert list(frame["g_leak"]) == ["0.3", "0.5"]
    point = cim.load_run(tmp_path / "sweep" / "points" / "p001_s0")
    assert point.params.g_leak == 0.5 and point.epochs_done == 1
    assert isinstance(plotting.plot_sweep(results, x="g_leak"), matplotlib.axes.Axes)
    with open(tmp_path / "sweep" / "points" / "p000_s0" / "point.json") as f:
        assert json.load(f)["status"] == "done"
