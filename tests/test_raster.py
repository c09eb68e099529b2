"""The spike raster figure: drawn from spike keys of a traces file; refused without them."""
import json

import numpy as np
import pytest

from corinfo_sim.errors import CorInfoError
from corinfo_sim.figures import make_figure, raster


def spiking_traces(path, with_spikes=True):
    steps, rng = 80, np.random.default_rng(0)
    data = {"t": np.arange(steps) * 0.5, "phase": (np.arange(steps) % 40 >= 20).astype(np.int8),
            "sample": np.repeat([0, 1], 40), "beta": np.zeros(steps),
            "v_soma_L1": rng.normal(size=(steps, 4)), "neurons_L1": np.array([0, 2, 5, 7]),
            "units": json.dumps({"v_soma_L1": "mV", "t": "ms"})}
    if with_spikes:
        data["spikes_t_L1"] = np.sort(rng.uniform(0, 40, 60))
        data["spikes_i_L1"] = np.array([0, 2, 5, 7])[rng.integers(0, 4, 60)]
    np.savez(path, **data)
    return data


def test_raster_draws_every_spike_and_the_population_rate(tmp_path):
    data = spiking_traces(tmp_path / "t.npz")
    written = make_figure("raster", tmp_path, tmp_path / "r.png", traces=tmp_path / "t.npz")
    assert all(p.stat().st_size > 0 for p in written) and {p.suffix for p in written} == {".png", ".pdf"}
    loaded = dict(np.load(tmp_path / "t.npz"))
    loaded["units"] = {}
    axes = raster.plot_raster(loaded, bin_ms=5.0)
    top, bottom = axes[0, 0], axes[1, 0]
    assert len(top.collections[0].get_offsets()) == 60
    assert "Hz" in bottom.get_ylabel() and "ms" in bottom.get_xlabel()
    rate = bottom.get_lines()[0].get_ydata()
    # the mean population rate equals spikes / neurons / duration
    assert np.mean(rate[:8]) == pytest.approx(60 / 4 / 40e-3, rel=1e-9)
    assert any(p.get_facecolor() for p in top.patches)  # nudged phase shaded
    assert np.isin(data["spikes_i_L1"], data["neurons_L1"]).all()


def test_raster_without_spikes_is_refused(tmp_path):
    spiking_traces(tmp_path / "t.npz", with_spikes=False)
    with pytest.raises(CorInfoError, match="no spikes"):
        make_figure("raster", tmp_path, tmp_path / "r.png", traces=tmp_path / "t.npz")


def test_spikes_go_to_the_nwb_units_table(tmp_path):
    from pynwb import NWBHDF5IO

    from corinfo_sim.traces import save_nwb
    data = spiking_traces(tmp_path / "t.npz")
    save_nwb(tmp_path / "t.nwb", data)
    with NWBHDF5IO(str(tmp_path / "t.nwb"), "r") as io:
        units = io.read().units.to_dataframe()
    assert list(units["neuron"]) == [0, 2, 5, 7] and set(units["layer"]) == {1}
    for _, unit in units.iterrows():
        expected = np.sort(data["spikes_t_L1"][data["spikes_i_L1"] == unit["neuron"]]) * 1e-3
        np.testing.assert_allclose(unit["spike_times"], expected)
