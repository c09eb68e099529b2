"""NWB export of traces: nwbinspector-clean, regular sampling, trials with labels, presented images."""
import json

import numpy as np
import pytest

from corinfo_sim.nwb import save_nwb

pynwb = pytest.importorskip("pynwb")
nwbinspector = pytest.importorskip("nwbinspector")

DT = 0.5  # ms
FREE, NUDGED = 12, 8  # steps per phase
SAMPLES = [4, 1, 7]  # indices in the split, shown in this order
LABELS = np.array([3, 0, 2, 5, 9, 1, 8, 7, 6, 4])  # class label of each row of the split


def make_traces(samples=SAMPLES, spikes=True, label=True, neurons=((0, 2, 5), (1, 3))):
    """A synthetic traces dict in the layout of corinfo_sim.traces: 2 layers, free + nudged phases."""
    rng = np.random.default_rng(0)
    T = FREE + NUDGED
    steps = T * len(samples)
    phase = (np.arange(steps) % T >= FREE).astype(np.int8)
    tr = {"t": np.arange(steps) * DT, "phase": phase, "beta": 0.5 * phase,
          "sample": np.repeat(np.asarray(samples, dtype=np.int64), T)}
    units = {"t": "ms", "beta": "1", "phase": "", "sample": ""}
    for k, idx in enumerate(neurons, start=1):
        n = len(idx)
        tr[f"neurons_L{k}"] = np.asarray(idx, dtype=np.int64)
        for key in ("v_soma", "v_basal", "v_apical"):
            tr[f"{key}_L{k}"] = rng.normal(-60, 5, size=(steps, n))
            units[f"{key}_L{k}"] = "mV"
        tr[f"rate_L{k}"], tr[f"z_L{k}"] = rng.uniform(size=(steps, n)), rng.normal(size=(steps, n))
        units[f"rate_L{k}"] = units[f"z_L{k}"] = "1"
        units[f"neurons_L{k}"] = ""
        if spikes:
            count = 5 * n
            tr[f"spikes_t_L{k}"] = np.sort(rng.uniform(0, steps * DT, count)).round(1) + 0.05
            tr[f"spikes_i_L{k}"] = np.asarray(idx)[rng.integers(0, n, count)]
            units[f"spikes_t_L{k}"], units[f"spikes_i_L{k}"] = "ms", ""
    L = len(neurons)
    tr[f"teacher_L{L}"] = rng.normal(size=(steps, len(neurons[-1])))
    units[f"teacher_L{L}"] = "mV"
    if label:
        tr["label"] = LABELS[tr["sample"]]
        units["label"] = ""
    tr["units"] = json.dumps(units)
    return tr


def inspect(path):
    messages = list(nwbinspector.inspect_nwbfile(nwbfile_path=str(path)))
    return [m for m in messages if m is not None]


def serious(messages):
    bad = {nwbinspector.Importance.CRITICAL, nwbinspector.Importance.BEST_PRACTICE_VIOLATION}
    return [m for m in messages if m.importance in bad]


def describe(messages):
    return "\n".join(f"{m.importance.name} {m.check_function_name} {m.object_type} {m.location}: {m.message}"
                     for m in messages)


@pytest.fixture
def image_table():
    return np.random.default_rng(1).uniform(0, 1, size=(len(LABELS), 64))


@pytest.mark.parametrize("spikes", [True, False])
def test_full_file_passes_nwbinspector(tmp_path, image_table, spikes):
    save_nwb(tmp_path / "t.nwb", make_traces(spikes=spikes), images=image_table, image_shape=(8, 8),
             class_names=[f"digit {c}" for c in range(10)])
    bad = serious(inspect(tmp_path / "t.nwb"))
    assert not bad, describe(bad)


def test_old_path_without_labels_or_images_passes_nwbinspector(tmp_path):
    tr = make_traces(label=False)
    save_nwb(tmp_path / "t.nwb", tr)
    messages = inspect(tmp_path / "t.nwb")
    assert not serious(messages), describe(serious(messages))
    with pynwb.NWBHDF5IO(str(tmp_path / "t.nwb"), "r") as io:
        nwb = io.read()
        trials = nwb.trials.to_dataframe()
        assert list(trials["sample"]) == SAMPLES and "label" not in trials
        assert not nwb.stimulus and not nwb.stimulus_template
        np.testing.assert_allclose(nwb.acquisition["v_soma_L1"].data[:], tr["v_soma_L1"])


def test_traces_module_delegates(tmp_path):
    from corinfo_sim import traces
    tr = make_traces()
    traces.save_nwb(tmp_path / "t.nwb", tr)
    assert not serious(inspect(tmp_path / "t.nwb")), describe(serious(inspect(tmp_path / "t.nwb")))
    with pynwb.NWBHDF5IO(str(tmp_path / "t.nwb"), "r") as io:
        nwb = io.read()
        assert nwb.subject is not None and list(nwb.trials.to_dataframe()["label"]) == list(LABELS[SAMPLES])


def test_round_trip(tmp_path, image_table):
    tr = make_traces()
    names = [f"digit {c}" for c in range(10)]
    save_nwb(tmp_path / "t.nwb", tr, images=image_table, image_shape=(8, 8), class_names=names,
             identifier="run-1", metadata={"session_id": "probe-1", "subject": {"subject_id": "net-A"}})
    steps = len(tr["t"])
    with pynwb.NWBHDF5IO(str(tmp_path / "t.nwb"), "r") as io:
        nwb = io.read()
        assert nwb.identifier == "run-1" and nwb.session_id == "probe-1"
        assert nwb.experiment_description and nwb.session_description
        assert nwb.subject.subject_id == "net-A" and nwb.subject.species and nwb.subject.sex
        # regular sampling: rate and starting time, no timestamps; potentials in volts
        for key in ("v_soma_L1", "v_basal_L2", "v_apical_L2", "rate_L1", "z_L2", "teacher_L2", "beta", "sample"):
            ts = nwb.acquisition[key]
            assert ts.timestamps is None, key
            assert ts.rate == pytest.approx(1e3 / DT) and ts.starting_time == pytest.approx(0.0)
            assert ts.description and ts.description != "no description"
            assert ts.data.shape[0] == steps
        ts = nwb.acquisition["v_soma_L2"]
        assert ts.unit == "volts" and ts.conversion == pytest.approx(1e-3)
        assert "[1, 3]" in ts.description
        np.testing.assert_allclose(ts.data[:], tr["v_soma_L2"])
        np.testing.assert_allclose(nwb.acquisition["teacher_L2"].data[:], tr["teacher_L2"])
        assert nwb.acquisition["rate_L1"].unit == "dimensionless"
        np.testing.assert_allclose(nwb.acquisition["rate_L1"].data[:], tr["rate_L1"])
        np.testing.assert_array_equal(nwb.acquisition["sample"].data[:], tr["sample"])
        assert "neurons_L1" not in nwb.acquisition and "label" not in nwb.acquisition

        # trials: one row per sample shown, with its class
        T = FREE + NUDGED
        trials = nwb.trials.to_dataframe()
        assert list(trials["sample"]) == SAMPLES
        assert list(trials["label"]) == list(LABELS[SAMPLES])
        assert list(trials["label_name"]) == [names[c] for c in LABELS[SAMPLES]]
        np.testing.assert_allclose(trials["start_time"], np.arange(3) * T * DT * 1e-3)
        np.testing.assert_allclose(trials["stop_time"], (np.arange(3) + 1) * T * DT * 1e-3)

        # epochs: free and nudged phase of each sample
        epochs = nwb.epochs.to_dataframe()
        assert [tags[0] for tags in epochs["tags"]] == ["free", "nudged"] * 3
        assert [tags[1] for tags in epochs["tags"]] == [f"sample {s}" for s in np.repeat(SAMPLES, 2)]
        assert epochs["stop_time"].iloc[0] == pytest.approx(FREE * DT * 1e-3)

        # spikes: one unit per recorded neuron, times in s, resolution dt
        units = nwb.units.to_dataframe()
        assert nwb.units.description != "Autogenerated by NWBFile"
        assert nwb.units.resolution == pytest.approx(DT * 1e-3)
        assert list(units["layer"]) == [1, 1, 1, 2, 2] and list(units["neuron"]) == [0, 2, 5, 1, 3]
        for _, unit in units.iterrows():
            k = unit["layer"]
            expected = np.sort(tr[f"spikes_t_L{k}"][tr[f"spikes_i_L{k}"] == unit["neuron"]]) * 1e-3
            np.testing.assert_allclose(unit["spike_times"], expected)

        # the presented images: one per sample, and an index series of their onsets
        images = nwb.stimulus_template["input_images"]
        assert [im.name for im in images.order_of_images] == [f"sample_{s}" for s in SAMPLES]
        for s in SAMPLES:
            image = images.images[f"sample_{s}"]
            assert names[LABELS[s]] in image.description
            np.testing.assert_allclose(image.data[:], image_table[s].reshape(8, 8))
        shown = nwb.stimulus["presented_images"]
        np.testing.assert_array_equal(shown.data[:], [0, 1, 2])
        assert shown.indexed_images.name == "input_images"
        assert shown.rate == pytest.approx(1e3 / (T * DT)) and shown.starting_time == pytest.approx(0.0)


def test_repeated_sample_and_rgb_images(tmp_path):
    """A sample shown twice is one image shown twice; (3, h, w) images become RGB (h, w, 3)."""
    samples = [2, 2, 5]
    table = np.random.default_rng(2).uniform(size=(len(LABELS), 3 * 4 * 4))
    save_nwb(tmp_path / "t.nwb", make_traces(samples=samples), images=table, image_shape=(3, 4, 4))
    bad = serious(inspect(tmp_path / "t.nwb"))
    assert not bad, describe(bad)
    with pynwb.NWBHDF5IO(str(tmp_path / "t.nwb"), "r") as io:
        nwb = io.read()
        assert list(nwb.trials.to_dataframe()["sample"]) == samples
        assert "label_name" not in nwb.trials.to_dataframe()
        images = nwb.stimulus_template["input_images"]
        assert [im.name for im in images.order_of_images] == ["sample_2", "sample_5"]
        rgb = images.images["sample_2"]
        assert type(rgb).__name__ == "RGBImage"
        np.testing.assert_allclose(rgb.data[:], np.moveaxis(table[2].reshape(3, 4, 4), 0, -1))
        np.testing.assert_array_equal(nwb.stimulus["presented_images"].data[:], [0, 0, 1])


@pytest.mark.parametrize("n, shape", [(64, (8, 8)), (784, (28, 28)), (3072, (3, 32, 32))])
def test_image_shape_is_inferred(n, shape):
    from corinfo_sim.nwb import _image_shape
    assert _image_shape(n, None) == shape
    with pytest.raises(ValueError):
        _image_shape(10, None)
    with pytest.raises(ValueError):
        _image_shape(n, (5, 5))


def test_single_sample_from_an_npz_file(tmp_path, image_table):
    """A traces file read back with np.load (one sample shown) writes a clean file too."""
    from corinfo_sim.traces import save_npz
    save_npz(tmp_path / "t.npz", make_traces(samples=[6], spikes=False))
    with np.load(tmp_path / "t.npz") as f:
        save_nwb(tmp_path / "t.nwb", f, images=image_table)  # image shape (8, 8) inferred
    messages = inspect(tmp_path / "t.nwb")
    assert not serious(messages), describe(serious(messages))
    with pynwb.NWBHDF5IO(str(tmp_path / "t.nwb"), "r") as io:
        nwb = io.read()
        assert nwb.units is None
        trials = nwb.trials.to_dataframe()
        assert list(trials["sample"]) == [6] and list(trials["label"]) == [LABELS[6]]
        shown = nwb.stimulus["presented_images"]
        np.testing.assert_allclose(shown.timestamps[:], [0.0])
        np.testing.assert_allclose(nwb.stimulus_template["input_images"].images["sample_6"].data[:],
                                   image_table[6].reshape(8, 8))


def test_conductances_and_currents_carry_their_si_units(tmp_path, image_table):
    """The conductance model's traces: conductances (nS) and currents (pA) stored with their
    conversion to siemens and amperes, and the file still passes nwbinspector."""
    from pynwb import NWBHDF5IO
    tr = make_traces(spikes=False)
    units = json.loads(tr["units"])
    steps, n = tr["v_soma_L1"].shape
    tr["g_ff_e_L1"], units["g_ff_e_L1"] = np.full((steps, n), 20.0), "nS"
    tr["I_ff_L1"], units["I_ff_L1"] = np.full((steps, n), -150.0), "pA"
    tr["units"] = json.dumps(units)
    save_nwb(tmp_path / "c.nwb", tr, images=image_table, image_shape=(8, 8))
    assert not serious(inspect(tmp_path / "c.nwb"))
    with NWBHDF5IO(str(tmp_path / "c.nwb"), "r") as io:
        acq = io.read().acquisition
        g, current = acq["g_ff_e_L1"], acq["I_ff_L1"]
        assert g.unit == "siemens" and g.data[0, 0] * g.conversion == pytest.approx(20e-9)
        assert current.unit == "amperes" and current.data[0, 0] * current.conversion == pytest.approx(-150e-12)
        assert "conductance" in g.description and acq["v_soma_L1"].unit == "volts"
