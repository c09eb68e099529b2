"""Figures drawn from small synthetic run folders (Agg backend): files written and what is drawn."""

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from corinfo_sim.errors import CorInfoError  # noqa: E402
from corinfo_sim.figures import (  # noqa: E402
    FIGURES,
    angle,
    corinfo,
    embedding,
    learning_curves,
    make_figure,
    receptive_fields,
    schematic,
    style,
    traces,
    weights,
)
from corinfo_sim.figures.results import save_figure  # noqa: E402

ARCH = [64, 12, 8, 10]  # two hidden layers: two angles, two backward informations
N_FREE, N_NUDGED, DT = 30, 10, 0.1  # steps per phase, ms per step
N_SAMPLES = 3


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _metrics(seed, epochs=5, dataset="digits", arch=ARCH):
    rng = np.random.default_rng(seed)
    base = 1.0 - 0.9 * np.exp(-np.arange(1, epochs + 1) / 1.5)
    return {
        "train_acc": list(np.clip(base + rng.normal(0, 0.01, epochs), 0, 1)),
        "test_acc": list(np.clip(base - 0.02 + rng.normal(0, 0.01, epochs), 0, 1)),
        "train_s": [1.0] * epochs, "eval_s": [0.1] * epochs, "build_s": 3.0, "seed": seed,
        "dataset": dataset, "arch": arch, "brian2_version": "2.9.0", "device": "cpp_standalone", "threads": 1,
        "params": {"epsilon": 0.15},
    }


def _weights(arch=ARCH, seed=0):
    rng = np.random.default_rng(seed)
    L = len(arch) - 1
    w = {f"Wff{k}": rng.normal(0, 0.3, (arch[k], arch[k - 1])) for k in range(1, L + 1)}
    w.update({f"Wfb{k}": rng.normal(0, 0.3, (arch[k], arch[k + 1])) for k in range(1, L)})
    for k in range(1, L + 1):
        A = rng.uniform(-0.5, 0.5, (arch[k], arch[k]))
        w[f"B{k}"] = A @ A.T
    return w


def _traces(arch=ARCH, layers=(1, 3), n_rec=4, labels=None):
    steps = N_SAMPLES * (N_FREE + N_NUDGED)
    t = DT * np.arange(steps)
    within = np.arange(steps) % (N_FREE + N_NUDGED)
    phase = (within >= N_FREE).astype(np.int8)
    sample = np.arange(steps) // (N_FREE + N_NUDGED)
    L = len(arch) - 1
    out = {"t": t, "phase": phase, "sample": sample, "beta": phase * 1.0}
    units = {"t": "ms", "beta": "1", "phase": "1", "sample": "1"}
    for k in layers:
        tau = 1.0 - np.exp(-within[:, None] * DT / 0.5)
        drive = np.linspace(-5, 15, n_rec)[None, :]
        out[f"v_soma_L{k}"] = drive * tau + 2.0 * phase[:, None]
        out[f"v_basal_L{k}"] = drive * np.ones((steps, 1))
        out[f"v_apical_L{k}"] = drive * tau - 3.0 * phase[:, None]
        out[f"rate_L{k}"] = np.clip(out[f"v_soma_L{k}"] / 20.0, 0, 1)
        out[f"z_L{k}"] = 0.1 * out[f"rate_L{k}"]
        out[f"neurons_L{k}"] = np.arange(0, 2 * n_rec, 2)
        units.update({f"v_soma_L{k}": "mV", f"v_basal_L{k}": "mV", f"v_apical_L{k}": "mV",
                      f"rate_L{k}": "1", f"z_L{k}": "1"})
    if L in layers:
        out[f"teacher_L{L}"] = -5.0 * phase[:, None] * np.ones((1, n_rec))
        units[f"teacher_L{L}"] = "mV"
    if labels is not None:  # class label of each sample, per step (as `corinfo-sim traces` records it)
        out["label"] = np.asarray(labels)[sample]
        units["label"] = ""
    out["units"] = np.array(json.dumps(units))
    return out


def _corinfo(arch=ARCH, epochs=(1, 2, 3), n_probe=4):
    steps = N_FREE + N_NUDGED
    t = DT * np.arange(steps)
    rng = np.random.default_rng(5)
    L = len(arch) - 1
    out = {"t": t, "phase": (np.arange(steps) >= N_FREE).astype(np.int8), "epoch": np.array(epochs)}
    for k in range(1, L + 1):
        curve = -10.0 * k * np.exp(-t / 0.5)
        out[f"I_fwd_L{k}"] = curve + rng.normal(0, 0.3, (len(epochs), n_probe, steps))
        if k < L:
            out[f"I_bwd_L{k}"] = curve - 2 + rng.normal(0, 0.3, (len(epochs), n_probe, steps))
    return out


def make_run(folder, arch=ARCH, dataset="digits", image_shape=(8, 8), seed=0, epochs=5):
    """A complete synthetic run folder, as the simulator writes it."""
    folder.mkdir(parents=True, exist_ok=True)
    L = len(arch) - 1
    (folder / "metrics.json").write_text(json.dumps(_metrics(seed, epochs=epochs, dataset=dataset, arch=arch)))
    (folder / "config.json").write_text(json.dumps({"arch": arch, "dataset": dataset,
                                                    "image_shape": list(image_shape)}))
    np.savez(folder / "weights.npz", **_weights(arch, seed))
    samples = np.arange(0, 1000, 100, dtype=np.int64)
    diag = {"samples_seen": samples, "epoch": samples / 500.0}
    for k in range(1, L):
        diag[f"angle_L{k}"] = 90.0 - 40.0 * (1 - np.exp(-samples / 300.0)) * k / L
    for k in range(1, L + 1):  # activity per epoch (none measured before training)
        diag[f"active_L{k}"] = np.concatenate([[np.nan], np.linspace(0.6, 0.3, samples.size - 1)])
        diag[f"sum_r_L{k}"] = np.concatenate([[np.nan], np.linspace(3.0, 1.2, samples.size - 1)])
        diag[f"B_max_L{k}"] = 4.0 * np.exp(samples / 400.0)  # the spectrum of the lateral matrices
        diag[f"B_min_L{k}"] = 1e-6 - 1e-3 * np.sin(samples / 300.0)
        diag[f"B_cond_L{k}"] = diag[f"B_max_L{k}"] / np.abs(diag[f"B_min_L{k}"])
    np.savez(folder / "diagnostics.npz", **diag)
    np.savez(folder / "corinfo.npz", **_corinfo(arch))
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(4), 15)
    reps = {"labels": labels}
    for k in range(1, L + 1):
        centres = rng.normal(0, 1, (4, arch[k]))
        reps[f"h_L{k}"] = (centres[labels] + 0.2 * rng.normal(size=(labels.size, arch[k]))).astype(np.float32)
    np.savez(folder / "representations.npz", **reps)
    np.savez(folder / "traces.npz", **_traces(arch))
    return folder


def make_protocol(folder, seeds=(0, 1, 2), dataset="mnist", epochs=5):
    for s in seeds:
        make_run(folder / f"seed_{s}", dataset=dataset, seed=s, epochs=epochs)
    (folder / "summary.json").write_text(json.dumps({"seeds": list(seeds)}))
    return folder


@pytest.fixture
def run(tmp_path):
    return make_run(tmp_path / "run")


def _is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _is_pdf(path):
    return path.read_bytes()[:5] == b"%PDF-"


def _data_lines(ax):
    """Lines drawn from data (not the sample-onset or reference lines)."""
    return [line for line in ax.get_lines() if line.get_gid() is None]


def _nudged_spans(ax):
    return [p for p in ax.patches if p.get_gid() == "phase-nudged"]


def _drawn_by_make(module, monkeypatch, run_dir, tmp_path, **options):
    """The figure that ``module.make`` draws, caught before it is written and closed."""
    drawn = []
    monkeypatch.setattr(module, "save_figure", lambda fig, out: drawn.append(fig) or [])
    module.make(run_dir, tmp_path / "x.png", **options)
    (fig,) = drawn
    return fig


def _tick_labels(axis):
    """The visible, non-empty major tick labels of ``axis`` within its view."""
    lo, hi = sorted(axis.get_view_interval())
    return [tick.label1 for tick in axis.get_major_ticks()
            if lo <= tick.get_loc() <= hi and tick.label1.get_visible() and tick.label1.get_text()]


def _crowded_tick_labels(ax, gap_pt=3.0):
    """Pairs of tick labels of ``ax`` closer than ``gap_pt`` points (rendered boxes, after a draw)."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    pad = gap_pt / 2 * fig.dpi / 72.0
    crowded = []
    for axis in (ax.xaxis, ax.yaxis):
        labels = _tick_labels(axis)
        boxes = [label.get_window_extent(renderer).padded(pad) for label in labels]
        crowded += [(labels[i].get_text(), labels[j].get_text())
                    for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]
    return crowded


# --- every figure writes a PNG and a PDF -----------------------------------------------------


# raster: test_raster.py; sweep reads a sweep folder: test_sweep_figure.py
@pytest.mark.parametrize("name", [name for name in FIGURES if name not in ("raster", "sweep")])
def test_every_figure_writes_png_and_pdf(run, tmp_path, name):
    out = tmp_path / "figs" / f"{name}.png"
    paths = make_figure(name, run, out)
    assert sorted(p.suffix for p in paths) == [".pdf", ".png"]
    for p in paths:
        assert p.is_file() and p.stat().st_size > 1000
    assert _is_png(out) and _is_pdf(out.with_suffix(".pdf"))


def test_pdf_output_also_writes_png(run, tmp_path):
    paths = make_figure("angle", run, tmp_path / "angle.pdf")
    assert set(paths) == {tmp_path / "angle.pdf", tmp_path / "angle.png"}
    assert _is_pdf(tmp_path / "angle.pdf") and _is_png(tmp_path / "angle.png")


def test_save_figure_rejects_unknown_format(tmp_path):
    fig, _ = style.new_figure()
    with pytest.raises(CorInfoError, match=r"\.png, \.pdf"):
        save_figure(fig, tmp_path / "x.jpeg")


# --- errors ----------------------------------------------------------------------------------


def _one_line(err):
    message = str(err.value)
    assert "\n" not in message and message
    return message


def test_unknown_figure_lists_valid_names(run, tmp_path):
    with pytest.raises(CorInfoError) as err:
        make_figure("spikes", run, tmp_path / "x.png")
    message = _one_line(err)
    assert "spikes" in message
    for name in FIGURES:
        assert name in message


@pytest.mark.parametrize("name", list(FIGURES))
def test_missing_run_folder(tmp_path, name):
    with pytest.raises(CorInfoError) as err:
        make_figure(name, tmp_path / "nowhere", tmp_path / "x.png")
    assert "nowhere" in _one_line(err)


@pytest.mark.parametrize("name, missing", [
    ("learning-curves", "metrics.json"),
    ("angle", "diagnostics.npz"),
    ("corinfo", "corinfo.npz"),
    ("weights", "weights.npz"),
    ("receptive-fields", "weights.npz"),
    ("embedding", "representations.npz"),
    ("traces", "traces.npz"),
])
def test_missing_file_names_the_file_and_how_to_make_it(run, tmp_path, name, missing):
    (run / missing).unlink()
    with pytest.raises(CorInfoError) as err:
        make_figure(name, run, tmp_path / "x.png")
    message = _one_line(err)
    assert missing in message and "corinfo-sim" in message
    assert not (tmp_path / "x.png").exists()


def test_protocol_folder_points_to_a_seed_folder(tmp_path):
    folder = make_protocol(tmp_path / "proto", seeds=(4, 5))
    with pytest.raises(CorInfoError) as err:
        make_figure("angle", folder, tmp_path / "x.png")
    message = _one_line(err)
    assert "diagnostics.npz" in message and "seed_4" in message


def test_schematic_without_architecture(run, tmp_path):
    (run / "config.json").unlink()
    (run / "metrics.json").unlink()
    with pytest.raises(CorInfoError) as err:
        make_figure("schematic", run, tmp_path / "x.png")
    assert "config.json" in _one_line(err)


def test_traces_missing_suggests_traces_option(run, tmp_path):
    (run / "traces.npz").unlink()
    with pytest.raises(CorInfoError) as err:
        make_figure("traces", run, tmp_path / "x.png")
    message = _one_line(err)
    assert "has no traces.npz" in message and "--traces" in message
    with pytest.raises(CorInfoError, match="does not exist"):
        make_figure("traces", run, tmp_path / "x.png", traces=tmp_path / "other.npz")


def test_traces_from_separate_file(run, tmp_path):
    (run / "traces.npz").rename(tmp_path / "T.npz")
    paths = make_figure("traces", None, tmp_path / "t.png", traces=tmp_path / "T.npz")
    assert all(p.stat().st_size > 0 for p in paths)


def test_inconsistent_arrays_and_bad_options_are_user_errors(run, tmp_path):
    data = _corinfo()
    data["I_fwd_L2"] = data["I_fwd_L2"][:, :, :5]
    np.savez(run / "corinfo.npz", **data)
    with pytest.raises(CorInfoError, match="I_fwd_L2 has shape"):
        make_figure("corinfo", run, tmp_path / "x.png")
    with pytest.raises(CorInfoError) as err:
        make_figure("traces", run, tmp_path / "x.png", layers=[7])
    assert "layer 7 was not recorded" in _one_line(err)


def test_corrupt_inputs_are_user_errors(run, tmp_path):
    (run / "metrics.json").write_text("{not json")
    with pytest.raises(CorInfoError, match="not valid JSON"):
        make_figure("learning-curves", run, tmp_path / "x.png")
    (run / "weights.npz").write_bytes(b"garbage")
    with pytest.raises(CorInfoError, match="not a readable .npz"):
        make_figure("weights", run, tmp_path / "x.png")


# --- traces ----------------------------------------------------------------------------------


def test_traces_panels_units_and_phases(run):
    data = traces.load(run)
    axes = traces.plot_traces(data)
    assert axes.shape == (5, 2)  # soma, basal, apical, z, teacher × layers 1 and 3
    for j in range(2):
        for i in range(3):
            ax = axes[i, j]
            assert "(mV)" in ax.get_ylabel()
            assert len(_data_lines(ax)) == 3  # at most 3 neurons per layer by default
            assert len(_nudged_spans(ax)) == N_SAMPLES
            # sample boundaries: one marker per new sample
            assert len([ln for ln in ax.get_lines() if ln.get_gid() == "sample-onset"]) == N_SAMPLES - 1
    assert axes[4, 0].get_visible() is False  # no teacher in a hidden layer
    assert axes[4, 1].get_visible() and axes[4, 1].get_ylabel() == "teacher (mV)"
    assert axes[4, 1].get_xlabel() == "time (ms)" and axes[3, 0].get_xlabel() == "time (ms)"
    assert "a.u." in axes[3, 0].get_ylabel()
    assert "output" in axes[0, 1].get_title(loc="left") and "hidden" in axes[0, 0].get_title(loc="left")
    legend_texts = [t.get_text() for t in axes[0, 0].get_legend().get_texts()]
    assert legend_texts == ["neuron 0", "neuron 2", "neuron 4"]


def test_traces_neuron_count_and_sample_selection(run):
    data = traces.load(run)
    axes = traces.plot_traces(data, layers=[3], neurons_per_layer=1, samples=[1])
    assert axes.shape == (5, 1)
    assert len(_data_lines(axes[0, 0])) == 1
    assert len(_nudged_spans(axes[0, 0])) == 1
    x = _data_lines(axes[0, 0])[0].get_xdata()
    assert x[0] == pytest.approx((N_FREE + N_NUDGED) * DT)


def test_plot_state_helper():
    t = DT * np.arange(80)
    phase = (np.arange(80) % 40 >= 30).astype(int)
    ax = traces.plot_state(t, np.random.default_rng(0).normal(size=(80, 2)), var_name="soma", var_unit="mV",
                           labels=["a", "b"], phase=phase, sample=np.arange(80) // 40)
    assert ax.get_xlabel() == "time (ms)" and ax.get_ylabel() == "soma (mV)"
    assert [ln.get_label() for ln in _data_lines(ax)] == ["a", "b"]
    assert len(_nudged_spans(ax)) == 2
    # drawing into given axes keeps them
    fig, given = plt.subplots()
    assert traces.plot_state(t, t, axes=given) is given


def test_traces_mark_the_label_neuron_of_every_sample(run):
    labels = (4, 0, 2)  # three samples, three different labels; neurons 0, 2, 4, 6 are recorded
    np.savez(run / "traces.npz", **_traces(labels=labels))
    data = traces.load(run)
    axes = traces.plot_traces(data)
    hidden, output = axes[:, 0], axes[:, 1]
    assert [t.get_text() for t in output[0].get_legend().get_texts()] == [
        "neuron 4 (label)", "neuron 0 (label)", "neuron 2 (label)"]
    assert all("label" not in t.get_text() for t in hidden[0].get_legend().get_texts())
    t, sample, ids = data["t"], data["sample"], list(data["neurons_L3"])
    for (prefix, _, _), ax in zip(traces.ROWS, output):
        marks = [ln for ln in ax.get_lines() if ln.get_gid() == "label-highlight"]
        assert len(marks) == len(labels)
        for s, (label, mark) in enumerate(zip(labels, marks)):
            # each sample's label neuron is highlighted over that sample's time span, in its colour
            np.testing.assert_allclose(mark.get_xdata(), t[sample == s])
            np.testing.assert_allclose(mark.get_ydata(), data[f"{prefix}_L3"][sample == s, ids.index(label)])
            line = next(ln for ln in _data_lines(ax) if ln.get_label() == f"neuron {label} (label)")
            assert matplotlib.colors.same_color(mark.get_color(), line.get_color())
    notes = [x for x in output[0].texts if x.get_gid() == "label-annotation"]
    assert [x.get_text() for x in notes] == ["label 4", "label 0", "label 2"]
    assert [x.get_position()[0] for x in notes] == pytest.approx([t[sample == s][0] for s in range(3)])
    for ax in hidden:
        assert not [ln for ln in ax.get_lines() if ln.get_gid() == "label-highlight"] and not ax.texts


def test_traces_label_of_the_shown_samples_only(run):
    np.savez(run / "traces.npz", **_traces(labels=(4, 0, 5)))  # neuron 5 is not recorded
    data = traces.load(run)
    (ax,) = traces.plot_traces(data, layers=[3], samples=[1, 2])[:1, 0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["neuron 0 (label)", "neuron 2", "neuron 4"]
    assert [x.get_text() for x in ax.texts if x.get_gid() == "label-annotation"] == ["label 0", "label 5"]
    assert len([ln for ln in ax.get_lines() if ln.get_gid() == "label-highlight"]) == 1


def test_traces_name_the_classes_of_the_data_set(tmp_path, monkeypatch):
    run = make_run(tmp_path / "fashion", dataset="fashion-mnist")
    np.savez(run / "traces.npz", **_traces(labels=(4, 0, 2)))
    fig = _drawn_by_make(traces, monkeypatch, run, tmp_path)
    notes = [x.get_text() for ax in fig.axes for x in ax.texts if x.get_gid() == "label-annotation"]
    assert notes == ["label 4 (Coat)", "label 0 (T-shirt/top)", "label 2 (Pullover)"]


# --- learning curves -------------------------------------------------------------------------


def _seed_lines(ax):
    return [ln for ln in ax.get_lines() if ln.get_label().startswith("seed ")]


def _reference_lines(ax):
    return [ln for ln in ax.get_lines() if ln.get_gid() == "reference"]


def test_learning_curves_protocol_folder_mnist(tmp_path):
    folder = make_protocol(tmp_path / "proto", seeds=(0, 1, 2), dataset="mnist")
    runs, dataset = learning_curves.load(folder)
    assert sorted(runs) == [0, 1, 2] and dataset == "mnist"
    train, test, zoom = learning_curves.plot_learning_curves(runs, dataset)
    for ax in (train, test, zoom):
        assert len(_seed_lines(ax)) == 3
        assert [ln.get_label() for ln in ax.get_lines()].count("mean") == 1
        assert len(ax.collections) == 1  # the ± std band
        assert "%" in ax.get_ylabel() and ax.get_xlabel() == "epoch"
    labels = {ln.get_label() for ln in _reference_lines(test)}
    assert labels == {"CorInfoMax 97.6 %", "EP 97.6 %", "CSM 98.1 %", "PC 98.2 %", "PC-Nudge 98 %"}
    assert len(_reference_lines(zoom)) == 5 and not _reference_lines(train)
    # the zoom panel shows the last epochs and every reference line
    assert zoom.get_xlim()[0] > 1 and zoom.get_ylim()[0] < 97.6 and zoom.get_ylim()[1] > 98.2
    assert [t.get_text() for t in zoom.get_legend().get_texts()][0] == "CorInfoMax 97.6 %"
    # accuracies are drawn in percent
    assert np.nanmax(_seed_lines(test)[0].get_ydata()) > 50


def test_learning_curves_single_run_and_other_datasets(tmp_path):
    run = make_run(tmp_path / "one", dataset="fashion-mnist")
    runs, dataset = learning_curves.load(run)
    train, test, zoom = learning_curves.plot_learning_curves(runs, dataset)
    assert len(_seed_lines(test)) == 1 and not test.collections
    assert [ln.get_ydata()[0] for ln in _reference_lines(test)] == [88.14]
    axes = learning_curves.plot_learning_curves(runs, "digits")
    assert len(axes) == 2 and not _reference_lines(axes[1])  # no reference, no zoom panel


def test_learning_curves_reference_dict_states_source():
    assert learning_curves.PAPER_REFERENCE["mnist"]["PC"] == 98.2
    assert "NeurIPS 2023" in learning_curves.__doc__ or "NeurIPS 2023" in open(learning_curves.__file__).read()


def _has_marker(line):
    return line.get_marker() not in (None, "", " ", "None", "none") and line.get_markersize() > 0


@pytest.mark.parametrize("seeds", [(0,), (0, 1, 2)])
def test_learning_curves_of_one_epoch_are_visible(tmp_path, seeds):
    folder = make_protocol(tmp_path / "proto", seeds=seeds, epochs=1)
    runs, dataset = learning_curves.load(folder)
    axes = learning_curves.plot_learning_curves(runs, dataset)
    for ax, key in zip(axes, ("train_acc", "test_acc", "test_acc")):
        # a single epoch is a point: drawn with a marker, not as a line of zero length
        drawn = _seed_lines(ax) + [ln for ln in ax.get_lines() if ln.get_label() == "mean"]
        assert len(drawn) == len(seeds) + (len(seeds) > 1)
        assert all(len(ln.get_xdata()) == 1 and _has_marker(ln) for ln in drawn)
        assert [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]] == [1]
        if len(seeds) > 1:  # the std over seeds: an error bar, as a band over one epoch has no width
            (bar,) = [c for c in ax.collections if c.get_gid() == "std"]
            assert isinstance(bar, matplotlib.collections.LineCollection)
            (segment,) = bar.get_segments()
            acc = 100 * np.array([runs[s][key][0] for s in seeds])
            np.testing.assert_allclose(segment[:, 0], [1, 1])
            np.testing.assert_allclose(sorted(segment[:, 1]), [acc.mean() - acc.std(), acc.mean() + acc.std()])
    assert [t.get_text() for t in axes[1].get_legend().get_texts()][-1] == (
        "mean ± std" if len(seeds) > 1 else "seed 0")


def test_learning_curves_few_epochs_have_markers_many_do_not(tmp_path):
    few = learning_curves.load(make_protocol(tmp_path / "few", epochs=5))[0]
    many = learning_curves.load(make_protocol(tmp_path / "many", epochs=200))[0]
    for ax in learning_curves.plot_learning_curves(few, "digits"):
        assert all(_has_marker(ln) for ln in _data_lines(ax))
    train = learning_curves.plot_learning_curves(many, "mnist")[0]
    assert not any(_has_marker(ln) for ln in _data_lines(train))


@pytest.mark.parametrize("epochs", [1, 20, 50, 100])
def test_learning_curves_tick_labels_do_not_overlap(tmp_path, epochs):
    folder = make_protocol(tmp_path / "proto", seeds=(0, 1, 2), dataset="mnist", epochs=epochs)
    runs, dataset = learning_curves.load(folder)
    axes = learning_curves.plot_learning_curves(runs, dataset)
    for ax in axes:  # train, test, and the zoom onto the last epochs
        assert _crowded_tick_labels(ax) == []
        x_ticks = [float(label.get_text().replace("−", "-")) for label in _tick_labels(ax.xaxis)]
        assert x_ticks and all(t.is_integer() for t in x_ticks)
    assert len(_tick_labels(axes[2].xaxis)) <= 5


# --- angle, corinfo, weights -----------------------------------------------------------------


def test_angle_one_line_per_hidden_layer(run):
    epoch, angles = angle.load(run)
    ax = angle.plot_angles(epoch, angles)
    assert len(_data_lines(ax)) == len(ARCH) - 2
    ref = [ln for ln in ax.get_lines() if ln.get_gid() == "reference-90"]
    assert len(ref) == 1 and ref[0].get_linestyle() == "--" and ref[0].get_ydata()[0] == 90
    assert "°" in ax.get_ylabel() and ax.get_xlabel() == "epoch"


def test_angle_without_hidden_layer_is_a_user_error(tmp_path):
    run = make_run(tmp_path / "shallow", arch=[64, 10])
    with pytest.raises(CorInfoError, match="no hidden layer"):
        make_figure("angle", run, tmp_path / "x.png")


@pytest.mark.parametrize("epochs", [1, 2, 3, 20])
def test_angle_ticks_at_whole_epochs(epochs):
    epoch = np.arange(epochs + 1.0)  # measured before training and after every epoch
    ax = angle.plot_angles(epoch, {1: np.linspace(90, 60, epoch.size), 2: np.linspace(88, 75, epoch.size)})
    ax.figure.canvas.draw()
    lo, hi = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks)
    assert all(label.get_text().isdigit() for label in _tick_labels(ax.xaxis))


def test_corinfo_lines_per_layer_and_phases(run):
    data = corinfo.load(run)
    fwd, bwd = corinfo.plot_corinfo(data)
    L = len(ARCH) - 1
    assert len(_data_lines(fwd)) == L and len(_data_lines(bwd)) == L - 1
    for ax in (fwd, bwd):
        assert len(_nudged_spans(ax)) == 1
        assert "ms" in ax.get_xlabel() and "nats" in ax.get_ylabel()
    # mean over probe samples of the last recorded epoch
    np.testing.assert_allclose(_data_lines(fwd)[0].get_ydata(), data["I_fwd_L1"][-1].mean(axis=0))
    assert "epoch 3" in fwd.figure.get_suptitle()
    (first,) = corinfo.plot_corinfo(data, epoch=1)[:1]
    np.testing.assert_allclose(_data_lines(first)[0].get_ydata(), data["I_fwd_L1"][0].mean(axis=0))


def test_weight_histograms_per_layer(run):
    w = weights.load(run)
    axes = weights.plot_weight_histograms(w)
    L = len(ARCH) - 1
    assert len(axes) == 4
    counts = [len([p for p in ax.patches]) for ax in axes]
    assert counts == [L, L - 1, L, L]
    for ax in axes:
        assert "dimensionless" in ax.get_xlabel()
    shallow = weights.plot_weight_histograms(_weights([5, 3]))
    assert len(shallow) == 3  # no feedback weights without a hidden layer


# --- receptive fields, embedding, schematic --------------------------------------------------


def test_receptive_fields_grid_and_symmetric_colormap(run):
    W, shape = receptive_fields.load(run)
    assert shape == (8, 8)
    ax = receptive_fields.plot_receptive_fields(W, shape)
    (image,) = ax.get_images()
    vmin, vmax = image.get_clim()
    assert vmin == -vmax
    # 12 units → 3 rows × 4 columns of 8 × 8 fields with 1-pixel gaps
    assert image.get_array().shape == (3 * 9 - 1, 4 * 9 - 1)
    many = receptive_fields.plot_receptive_fields(np.random.default_rng(0).normal(size=(100, 64)), (8, 8))
    assert many.get_images()[0].get_array().shape == (8 * 9 - 1, 8 * 9 - 1)  # at most 64 units


def test_receptive_fields_colour_images(tmp_path):
    run = make_run(tmp_path / "cifar", arch=[3 * 4 * 4, 5, 10], image_shape=(3, 4, 4))
    W, shape = receptive_fields.load(run)
    mean = receptive_fields.plot_receptive_fields(W, shape)
    assert mean.get_images()[0].get_array().ndim == 2
    rgb = receptive_fields.plot_receptive_fields(W, shape, channels="rgb")
    assert rgb.get_images()[0].get_array().shape[-1] == 3
    assert receptive_fields.infer_image_shape(784) == (28, 28)
    assert receptive_fields.infer_image_shape(3072) == (3, 32, 32)


def test_receptive_fields_wrong_image_shape(tmp_path):
    run = make_run(tmp_path / "bad", image_shape=(7, 7))
    with pytest.raises(CorInfoError, match="image_shape"):
        make_figure("receptive-fields", run, tmp_path / "x.png")


def test_embedding_pca_and_tsne(run):
    h, labels, k = embedding.load(run)
    assert k == len(ARCH) - 2  # last hidden layer
    ax = embedding.plot_embedding(h, labels, layer=k)
    assert len(ax.collections) == 4  # one per class
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "1", "2", "3"]
    assert "PC 1" in ax.get_xlabel() and "%" in ax.get_xlabel()
    with threadpool_limits(limits=1):  # t-SNE's OpenMP threads crawl on a busy machine
        ax = embedding.plot_embedding(h, labels, method="tsne")
    assert len(ax.collections) == 4 and "t-SNE" in ax.get_xlabel()
    with pytest.raises(ValueError, match="method"):
        embedding.plot_embedding(h, labels, method="umap")


def test_pca_matches_covariance_eigenvectors():
    rng = np.random.default_rng(2)
    h = rng.normal(size=(200, 3)) * np.array([5.0, 1.0, 0.1])
    coords, explained = embedding.pca(h)
    assert explained[0] > 0.9
    np.testing.assert_allclose(np.var(coords[:, 0]), np.max(np.linalg.eigvalsh(np.cov(h.T, bias=True))))


@pytest.mark.parametrize("dataset, names", [
    ("fashion-mnist", ["T-shirt/top", "Trouser", "Pullover", "Dress"]),
    ("cifar10", ["airplane", "automobile", "bird", "cat"]),
    ("digits", ["0", "1", "2", "3"]),
    ("mnist", ["0", "1", "2", "3"]),
    ("cifar100", ["0", "1", "2", "3"]),
])
def test_embedding_names_the_classes_of_the_data_set(tmp_path, monkeypatch, dataset, names):
    run = make_run(tmp_path / dataset, dataset=dataset)
    (ax,) = _drawn_by_make(embedding, monkeypatch, run, tmp_path).axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == names


def test_class_names_of_the_data_sets():
    from corinfo_sim.datasets import CLASS_NAMES

    assert set(CLASS_NAMES) == {"fashion-mnist", "cifar10"}
    assert all(len(names) == 10 for names in CLASS_NAMES.values())
    assert CLASS_NAMES["fashion-mnist"][9] == "Ankle boot" and CLASS_NAMES["cifar10"][0] == "airplane"


def test_schematic_draws_every_pathway(run):
    ax = schematic.draw_network(ARCH)
    L = len(ARCH) - 1
    texts = " ".join(t.get_text() for t in ax.texts)
    for k in range(1, L + 1):
        assert f"$W_{{ff,{k}}}$" in texts and f"$B_{{{k}}}$" in texts and f"= {ARCH[k]}" in texts
    for k in range(1, L):
        assert f"$W_{{fb,{k}}}$" in texts
    assert "teacher" in texts and "basal" in texts and "apical" in texts and "soma" in texts
    arrows = [p for p in ax.patches if p.get_gid() == "arrow"]
    assert len(arrows) == L + (L - 1) + 2 * L + 1  # ff, fb, pyr→int and int→pyr per layer, teacher


def test_schematic_draws_both_halves_under_dale(run, tmp_path):
    """--dale: every signed pathway twice (W⁺ and, from the relays, W⁻), read from config.json."""
    L = len(ARCH) - 1
    ax = schematic.draw_network(ARCH, dale=True)
    texts = " ".join(t.get_text() for t in ax.texts)
    for k in range(1, L + 1):
        assert f"$W^+_{{ff,{k}}}$" in texts and f"$W^-_{{ff,{k}}}$" in texts and f"$B^-_{{{k}}}$" in texts
    arrows = [p for p in ax.patches if p.get_gid() == "arrow"]
    assert len(arrows) == 2 * L + 2 * (L - 1) + 3 * L + 1
    config = json.loads((run / "config.json").read_text())
    assert schematic.read_dale(run) is False
    config.setdefault("params", {})["dale"] = True
    (run / "config.json").write_text(json.dumps(config))
    assert schematic.read_dale(run) is True
    assert make_figure("schematic", run, tmp_path / "dale.png")


def test_schematic_reads_protocol_folder(tmp_path):
    folder = make_protocol(tmp_path / "proto", seeds=(3,))
    paths = make_figure("schematic", folder, tmp_path / "s.png")
    assert all(p.stat().st_size > 0 for p in paths)


# --- style -----------------------------------------------------------------------------------


def test_style_sizes_and_spines():
    with style.use():
        fig, ax = style.new_figure("double", height=2.0)
        assert tuple(fig.get_size_inches()) == (7.0, 2.0)
        assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()
        assert plt.rcParams["font.size"] == 8
    fig, _ = style.new_figure("single")
    assert fig.get_size_inches()[0] == 3.5
    with pytest.raises(ValueError, match="width"):
        style.new_figure("triple")
    assert style.STYLE_FILE.is_file()


def test_sparse_run_draws_its_multipliers_and_sparsity(tmp_path):
    """A real (tiny) sparse run: the traces figure has a row for the global inhibition s, and the
    sparsity figure shows Σ r and the active fraction over the phases and over training."""
    import subprocess
    import sys
    from pathlib import Path
    exe = Path(sys.executable).parent / "corinfo-sim"
    out = tmp_path / "run"
    proc = subprocess.run([str(exe), "train", "--model", "sparse", "--dataset", "digits", "--arch", "64,12,10",
                           "--max-train-samples", "40", "--max-test-samples", "30", "--epochs", "2", "--device",
                           "runtime", "--n-free", "10", "--n-nudged", "5", "--no-collapse-check", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    with np.load(out / "traces.npz") as tr:
        assert tr["s_L2"].shape == (2 * 15, 1) and tr["q_L1"].shape == (2 * 15, 1)
    written = make_figure("traces", out, tmp_path / "traces.png")
    assert all(Path(p).exists() for p in written)
    from corinfo_sim.figures import sparsity, traces as traces_figure
    data = traces_figure.load(out)
    ax = traces_figure.plot_traces(data)
    labels = [a.get_ylabel() for a in np.ravel(ax) if a.get_visible()]
    assert any("global inhibition s" in label for label in labels), labels
    tr, diag = sparsity.load(out)
    axes = sparsity.plot_sparsity(tr, diag)
    assert len(axes[0, 0].get_lines()) == 3 and len(axes[0, 1].get_lines()) == 3  # 2 layers + the line at 1
    np.testing.assert_allclose(axes[1, 1].get_lines()[0].get_ydata()[1:], diag["active_L1"][1:])
    assert np.all((diag["active_L1"][1:] >= 0) & (diag["active_L1"][1:] <= 1))
    plt.close("all")
    assert make_figure("sparsity", out, tmp_path / "sparsity.png")


def test_lateral_spectrum_of_every_layer(run, tmp_path):
    """The lateral figure draws B's largest and smallest eigenvalue and condition number of every
    layer after every epoch, as diagnostics.npz holds them; an older run folder without them is a
    user error that says what to do."""
    from corinfo_sim.figures import lateral
    diag = lateral.load(run)
    axes = lateral.plot_spectrum(diag)
    epochs = len(diag["epoch"])
    L = len(lateral.layer_numbers(diag, "B_max_L"))
    assert L == len(ARCH) - 1
    top, bottom = (_data_lines(ax) for ax in axes)
    assert len(bottom) == L and all(len(line.get_xdata()) == epochs for line in bottom)
    labels = [line.get_label() for line in top]
    assert "B1 largest" in labels and "B2 smallest" in labels
    drawn = {line.get_label(): line.get_ydata() for line in top}
    np.testing.assert_array_equal(drawn["B1 smallest"], diag["B_min_L1"])
    assert np.all(diag["B_max_L1"] >= diag["B_min_L1"])
    plt.close("all")
    with np.load(run / "diagnostics.npz") as d:
        old = {k: d[k] for k in d.files if not k.startswith("B_")}
    np.savez(run / "diagnostics.npz", **old)
    with pytest.raises(CorInfoError, match="no spectrum of the lateral matrices"):
        make_figure("lateral", run, tmp_path / "x.png")
