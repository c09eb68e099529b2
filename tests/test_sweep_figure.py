"""The sweep figure, drawn from small synthetic ``results.csv`` files (Agg backend, no simulation)."""

import csv

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from corinfo_sim.errors import CorInfoError  # noqa: E402
from corinfo_sim.figures import FIGURES, make_figure  # noqa: E402
from corinfo_sim.figures import sweep as sweep_figure  # noqa: E402

TAIL = ["status", "epochs_done", "final_test_acc", "best_test_acc", "best_epoch", "test_acc_per_epoch",
        "train_s_per_epoch", "epoch_s", "host", "build", "build_s"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def write_sweep(folder, points, keys):
    """A sweep folder whose results.csv holds ``points``: dicts of id, seed, the ``keys``, status, final
    (and optionally best) accuracy; written the way `corinfo_sim.sweep.write_results` writes it."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "seed"] + list(keys) + TAIL)
        writer.writeheader()
        for p in points:
            final = p.get("final")
            best = p.get("best", None if final is None else final + 1.0)
            row = {"id": p["id"], "seed": p["seed"], "status": p.get("status", "done"),
                   "epochs_done": 0 if final is None else 2,
                   "final_test_acc": "" if final is None else f"{final:.4f}",
                   "best_test_acc": "" if best is None else f"{best:.4f}",
                   "best_epoch": "" if final is None else 1,
                   "test_acc_per_epoch": "" if final is None else f"{best:.2f} {final:.2f}",
                   "train_s_per_epoch": "1.5000", "epoch_s": "", "host": "node1", "build": "cache",
                   "build_s": "0.0000"}
            row.update({k: p.get(k, "") for k in keys})
            writer.writerow(row)
    return folder


#: final test accuracy of (g_leak, lr_ff, seed)
ACC = {("0.1", "0.25,0.175", 0): 80.0, ("0.1", "0.25,0.175", 1): 82.0, ("0.1", "0.25,0.175", 2): 87.0,
       ("0.3", "0.25,0.175", 0): 90.0, ("0.3", "0.25,0.175", 1): 91.0, ("0.3", "0.25,0.175", 2): 95.0,
       ("3", "0.25,0.175", 0): 60.0, ("3", "0.25,0.175", 1): 70.0, ("3", "0.25,0.175", 2): 71.0,
       ("0.1", "0.5,0.35", 0): 70.0, ("0.1", "0.5,0.35", 1): 72.0, ("0.1", "0.5,0.35", 2): 71.0,
       ("0.3", "0.5,0.35", 0): 85.0, ("0.3", "0.5,0.35", 1): 86.5, ("0.3", "0.5,0.35", 2): 80.0,
       ("3", "0.5,0.35", 0): 50.0, ("3", "0.5,0.35", 1): 55.0, ("3", "0.5,0.35", 2): 52.0}


def grid_points():
    points, n = [], 0
    for lr in ("0.25,0.175", "0.5,0.35"):
        for g in ("0.1", "0.3", "3"):
            for seed in (0, 1, 2):
                final = ACC[(g, lr, seed)]
                points.append({"id": f"p{n:03d}_s{seed}", "seed": seed, "g_leak": g, "lr_ff": lr,
                               "arch": "64,100,10", "final": final, "best": final + seed + 1})
            n += 1
    return points


@pytest.fixture
def one_param(tmp_path):
    """g_leak swept over 3 values × 3 seeds; lr_ff and arch fixed."""
    points = [p for p in grid_points() if p["lr_ff"] == "0.25,0.175"]
    return write_sweep(tmp_path / "sweep1", points, ["g_leak", "lr_ff", "arch"])


@pytest.fixture
def two_params(tmp_path):
    return write_sweep(tmp_path / "sweep2", grid_points(), ["g_leak", "lr_ff", "arch"])


def _is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _final_lines(ax):
    return [line for line in ax.get_lines() if line.get_gid() == "final"]


def _one_line(err):
    message = str(err.value)
    assert message and "\n" not in message
    return message


# --- reading ------------------------------------------------------------------------------------------


def test_load_converts_numbers_and_finds_the_parameters(one_param):
    rows = sweep_figure.load(one_param)
    assert len(rows) == 9
    assert sweep_figure.parameters(rows) == ["g_leak", "lr_ff", "arch"]
    row = rows[1]
    assert row["seed"] == 1 and isinstance(row["seed"], int)
    assert row["final_test_acc"] == 82.0 and row["best_test_acc"] == 84.0
    assert row["g_leak"] == "0.1" and row["lr_ff"] == "0.25,0.175"  # parameters stay text
    assert row["test_acc_per_epoch"] == [84.0, 82.0]
    assert row["epochs_done"] == 2 and row["best_epoch"] == 1
    assert np.isnan(row["epoch_s"])


# --- one parameter --------------------------------------------------------------------------------------


def test_one_parameter_figure_writes_png_and_pdf(one_param, tmp_path):
    out = tmp_path / "figs" / "sweep.png"
    paths = sweep_figure.make(one_param, out, x="g_leak")
    assert sorted(p.suffix for p in paths) == [".pdf", ".png"]
    assert _is_png(out) and out.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
    assert all(p.stat().st_size > 1000 for p in paths)


def test_through_make_figure(one_param, tmp_path):
    assert "sweep" in FIGURES
    paths = make_figure("sweep", one_param, tmp_path / "s.pdf", x="g_leak")
    assert set(paths) == {tmp_path / "s.pdf", tmp_path / "s.png"}
    paths = make_figure("sweep", one_param, tmp_path / "h.png", x="g_leak", y="lr_ff")
    assert (tmp_path / "h.pdf").is_file()


def test_plotted_means_and_stds_are_over_seeds(one_param):
    rows = sweep_figure.load(one_param)
    ax = sweep_figure.plot_accuracy(rows, "g_leak")
    lines = _final_lines(ax)
    assert len(lines) == 1
    g = ["0.1", "0.3", "3"]
    finals = [[ACC[(v, "0.25,0.175", s)] for s in range(3)] for v in g]
    np.testing.assert_allclose(lines[0].get_xdata(), [0.1, 0.3, 3.0])
    np.testing.assert_allclose(lines[0].get_ydata(), [np.mean(f) for f in finals])
    # the error bars span mean ± std (population std, as summary.md)
    bars = [c for c in ax.containers if c.lines[0] is lines[0]][0]
    segments = bars.lines[2][0].get_segments()
    np.testing.assert_allclose([seg[1, 1] - seg[0, 1] for seg in segments], [2 * np.std(f) for f in finals])
    # best test accuracy: a faint dashed line of the same colour
    best = [line for line in ax.get_lines() if line.get_gid() == "best"]
    assert len(best) == 1 and best[0].get_linestyle() == "--"
    assert best[0].get_color() == lines[0].get_color() and best[0].get_alpha() < 1
    np.testing.assert_allclose(best[0].get_ydata(), [np.mean(f) + 2.0 for f in finals])  # best = final + seed + 1
    assert ax.get_xlabel() == "g_leak" and ax.get_ylabel() == "test accuracy (%)"
    assert ax.get_xscale() == "log"  # 3 / 0.1 = 30 ≥ 20
    assert ax.get_legend() is None  # one line, nothing diverged


def test_zero_beside_values_over_decades_is_symmetric_logarithmic(tmp_path):
    """An option off (0) and levels from 0.03 to 10: linear up to 0.03, logarithmic beyond."""
    values = ["0", "0.03", "0.3", "10"]
    points = [{"id": f"p{i}_s0", "seed": 0, "noise_soma": v, "final": 80.0 - i} for i, v in enumerate(values)]
    rows = sweep_figure.load(write_sweep(tmp_path / "s", points, ["noise_soma"]))
    ax = sweep_figure.plot_accuracy(rows, "noise_soma")
    assert ax.get_xscale() == "symlog"
    assert ax.xaxis.get_transform().linthresh == 0.03
    np.testing.assert_allclose(_final_lines(ax)[0].get_xdata(), [0, 0.03, 0.3, 10])
    assert [t.get_text() for t in ax.get_xticklabels()] == values  # a tick at every level


def test_narrow_numeric_range_is_linear(tmp_path):
    points = [{"id": f"p{i}_s0", "seed": 0, "g_leak": v, "final": 80.0 + i} for i, v in enumerate(["0.2", "0.3", "0.5"])]
    rows = sweep_figure.load(write_sweep(tmp_path / "s", points, ["g_leak"]))
    ax = sweep_figure.plot_accuracy(rows, "g_leak")
    assert ax.get_xscale() == "linear"
    np.testing.assert_allclose(_final_lines(ax)[0].get_ydata(), [80.0, 81.0, 82.0])


def test_one_line_per_setting_of_the_other_parameters(two_params):
    rows = sweep_figure.load(two_params)
    ax = sweep_figure.plot_accuracy(rows, "g_leak")
    lines = _final_lines(ax)
    assert len(lines) == 2
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "lr_ff=0.25,0.175" in labels and "lr_ff=0.5,0.35" in labels
    assert not any("arch" in label for label in labels)  # the same on every line
    for line, lr in zip(lines, ("0.25,0.175", "0.5,0.35")):
        expected = [np.mean([ACC[(g, lr, s)] for s in range(3)]) for g in ("0.1", "0.3", "3")]
        np.testing.assert_allclose(line.get_ydata(), expected)
    assert lines[0].get_color() != lines[1].get_color()


def test_categorical_list_values_in_order_of_appearance(two_params):
    rows = sweep_figure.load(two_params)
    ax = sweep_figure.plot_accuracy(rows, "lr_ff")
    assert ax.get_xscale() == "linear"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.25,0.175", "0.5,0.35"]
    lines = _final_lines(ax)
    assert len(lines) == 3  # one per g_leak
    for line, g in zip(lines, ("0.1", "0.3", "3")):
        np.testing.assert_allclose(line.get_xdata(), [0, 1])
        expected = [np.mean([ACC[(g, lr, s)] for s in range(3)]) for lr in ("0.25,0.175", "0.5,0.35")]
        np.testing.assert_allclose(line.get_ydata(), expected)
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels[:3] == ["g_leak=0.1", "g_leak=0.3", "g_leak=3"]


def test_text_values_are_categorical(tmp_path):
    points = [{"id": f"p{i}_s0", "seed": 0, "model": m, "final": 70.0 + i}
              for i, m in enumerate(["sparse", "antisparse", "dense"])]
    rows = sweep_figure.load(write_sweep(tmp_path / "s", points, ["model"]))
    ax = sweep_figure.plot_accuracy(rows, "model")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["sparse", "antisparse", "dense"]
    np.testing.assert_allclose(_final_lines(ax)[0].get_ydata(), [70.0, 71.0, 72.0])


def test_diverged_points_are_red_crosses_and_pending_failed_are_left_out(tmp_path):
    points = [
        {"id": "p000_s0", "seed": 0, "g_leak": "0.1", "final": 80.0},
        {"id": "p000_s1", "seed": 1, "g_leak": "0.1", "final": 84.0},
        {"id": "p001_s0", "seed": 0, "g_leak": "0.3", "final": 90.0},
        {"id": "p001_s1", "seed": 1, "g_leak": "0.3", "final": 40.0, "status": "diverged"},
        {"id": "p002_s0", "seed": 0, "g_leak": "0.5", "final": None, "status": "diverged"},
        {"id": "p002_s1", "seed": 1, "g_leak": "0.5", "final": 10.0, "status": "pending"},
        {"id": "p003_s0", "seed": 0, "g_leak": "0.7", "final": None, "status": "failed: out of memory, again"},
    ]
    rows = sweep_figure.load(write_sweep(tmp_path / "s", points, ["g_leak"]))
    assert rows[-1]["status"] == "failed: out of memory, again"
    ax = sweep_figure.plot_accuracy(rows, "g_leak")
    line = _final_lines(ax)[0]
    np.testing.assert_allclose(line.get_xdata(), [0.1, 0.3])  # diverged points are not in the mean
    np.testing.assert_allclose(line.get_ydata(), [82.0, 90.0])
    crosses = [m for m in ax.get_lines() if m.get_gid() == "diverged"]
    assert crosses and all(m.get_marker() == "x" and m.get_color() == "red" for m in crosses)
    xy = {(float(x), float(y)) for m in crosses for x, y in zip(m.get_xdata(), m.get_ydata())}
    assert (0.3, 40.0) in xy  # at its final accuracy
    bottom = [m for m in crosses if m.get_transform() != ax.transData]
    assert len(bottom) == 1 and list(bottom[0].get_xdata()) == [0.5] and list(bottom[0].get_ydata()) == [0.0]
    assert 0.7 not in {float(x) for m in ax.get_lines() for x in m.get_xdata()}  # failed: left out
    assert 10.0 not in {float(y) for m in ax.get_lines() for y in m.get_ydata()}  # pending: left out
    assert "diverged" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_plot_on_given_axes(two_params):
    rows = sweep_figure.load(two_params)
    fig, (a, b) = plt.subplots(1, 2)
    assert sweep_figure.plot_accuracy(rows, "g_leak", axes=a) is a
    assert sweep_figure.plot_heatmap(rows, "g_leak", "lr_ff", axes=b) is b


# --- two parameters: heatmap ---------------------------------------------------------------------


def test_heatmap_cells_are_the_means(two_params, tmp_path):
    rows = sweep_figure.load(two_params)
    ax = sweep_figure.plot_heatmap(rows, "g_leak", "lr_ff")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.1", "0.3", "3"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0.25,0.175", "0.5,0.35"]
    expected = np.array([[np.mean([ACC[(g, lr, s)] for s in range(3)]) for g in ("0.1", "0.3", "3")]
                         for lr in ("0.25,0.175", "0.5,0.35")])
    np.testing.assert_allclose(np.asarray(ax.images[0].get_array()), expected)
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == sorted(f"{v:.1f}" for v in expected.ravel())
    assert ax.get_xlabel() == "g_leak" and ax.get_ylabel() == "lr_ff"
    assert len(ax.figure.axes) == 2  # the colour bar
    assert "accuracy" in ax.figure.axes[1].get_ylabel()
    paths = sweep_figure.make(two_params, tmp_path / "heat.png", x="g_leak", y="lr_ff")
    assert all(p.stat().st_size > 1000 for p in paths)


def test_heatmap_averages_over_other_parameters_and_marks_diverged_cells(tmp_path):
    points = [
        {"id": "a", "seed": 0, "g_leak": "0.1", "lr_ff": "1", "eta": "1", "final": 80.0},
        {"id": "b", "seed": 0, "g_leak": "0.1", "lr_ff": "1", "eta": "2", "final": 70.0},
        {"id": "c", "seed": 1, "g_leak": "0.1", "lr_ff": "1", "eta": "2", "final": 60.0, "status": "diverged"},
        {"id": "d", "seed": 0, "g_leak": "0.2", "lr_ff": "1", "eta": "1", "final": 50.0, "status": "diverged"},
        {"id": "e", "seed": 0, "g_leak": "0.2", "lr_ff": "1", "eta": "2", "final": None, "status": "diverged"},
        {"id": "f", "seed": 0, "g_leak": "0.1", "lr_ff": "2", "eta": "1", "final": 90.0},
        {"id": "g", "seed": 0, "g_leak": "0.2", "lr_ff": "2", "eta": "1", "final": 95.0, "status": "pending"},
    ]
    rows = sweep_figure.load(write_sweep(tmp_path / "s", points, ["g_leak", "lr_ff", "eta"]))
    ax = sweep_figure.plot_heatmap(rows, "g_leak", "lr_ff")
    cells = np.ma.filled(ax.images[0].get_array().astype(float), np.nan)
    np.testing.assert_allclose(cells[0], [75.0, np.nan])  # lr_ff=1: mean of the done points; all diverged
    np.testing.assert_allclose(cells[1], [90.0, np.nan])  # lr_ff=2, g_leak=0.2 only pending: empty
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("div.") == 1 and "75.0" in texts and "90.0" in texts


# --- errors ----------------------------------------------------------------------------------------------


def test_missing_results_csv(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorInfoError) as err:
        make_figure("sweep", tmp_path / "empty", tmp_path / "x.png", x="g_leak")
    message = _one_line(err)
    assert "results.csv" in message and "corinfo-sim sweep" in message
    assert not (tmp_path / "x.png").exists()


def test_missing_folder(tmp_path):
    with pytest.raises(CorInfoError) as err:
        make_figure("sweep", tmp_path / "nowhere", tmp_path / "x.png", x="g_leak")
    assert "nowhere" in _one_line(err)


def test_no_x_lists_the_parameters(two_params, tmp_path):
    with pytest.raises(CorInfoError) as err:
        make_figure("sweep", two_params, tmp_path / "x.png")
    assert "choose --x from: g_leak, lr_ff, arch" in _one_line(err)
    with pytest.raises(CorInfoError, match="choose --x from: g_leak, lr_ff, arch"):
        sweep_figure.make(two_params, tmp_path / "x.png", x=None, y="lr_ff")


def test_unknown_x_or_y_names_the_available_ones(two_params, tmp_path):
    with pytest.raises(CorInfoError) as err:
        make_figure("sweep", two_params, tmp_path / "x.png", x="beta")
    message = _one_line(err)
    assert "beta" in message and "g_leak, lr_ff, arch" in message
    with pytest.raises(CorInfoError) as err:
        make_figure("sweep", two_params, tmp_path / "x.png", x="g_leak", y="status")
    message = _one_line(err)
    assert "status" in message and "--y" in message and "g_leak, lr_ff, arch" in message
    with pytest.raises(CorInfoError, match="seed"):  # seed is not a parameter column
        sweep_figure.plot_accuracy(sweep_figure.load(two_params), "seed")
    assert not (tmp_path / "x.png").exists()


def test_same_x_and_y(two_params, tmp_path):
    with pytest.raises(CorInfoError) as err:
        make_figure("sweep", two_params, tmp_path / "x.png", x="g_leak", y="g_leak")
    message = _one_line(err)
    assert "g_leak" in message and "different" in message


def test_no_finished_points(tmp_path):
    points = [{"id": "p0_s0", "seed": 0, "g_leak": "0.1", "final": None, "status": "pending"},
              {"id": "p1_s0", "seed": 0, "g_leak": "0.3", "final": None, "status": "failed: CorInfoError: bad"}]
    folder = write_sweep(tmp_path / "s", points, ["g_leak"])
    with pytest.raises(CorInfoError) as err:
        make_figure("sweep", folder, tmp_path / "x.png", x="g_leak")
    message = _one_line(err)
    assert "no finished points" in message and "1 pending" in message and "1 failed" in message


def test_malformed_results_are_user_errors(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "results.csv").write_text("id,seed,g_leak,status,final_test_acc,best_test_acc\n"
                                        "p0_s0,0,0.1,done,abc,80\n")
    with pytest.raises(CorInfoError) as err:
        make_figure("sweep", folder, tmp_path / "x.png", x="g_leak")
    message = _one_line(err)
    assert "final_test_acc" in message and "abc" in message and "p0_s0" in message
    (folder / "results.csv").write_text("id,seed,g_leak\np0_s0,0,0.1\n")
    with pytest.raises(CorInfoError) as err:
        make_figure("sweep", folder, tmp_path / "x.png", x="g_leak")
    assert "status" in _one_line(err)
    (folder / "results.csv").write_text("id,seed,g_leak,status,final_test_acc,best_test_acc\n")
    with pytest.raises(CorInfoError) as err:
        make_figure("sweep", folder, tmp_path / "x.png", x="g_leak")
    assert "no points" in _one_line(err)


def test_parts_of_one_sweep_are_drawn_together(tmp_path):
    """Seeds run as two sweeps: the figure of both folders averages over every seed; folders that vary
    other parameters, or hold the same point and seed twice, are refused in one line."""
    points = [{"id": f"p{n:03d}_s{seed}", "seed": seed, "g_leak": g, "final": ACC[(g, "0.25,0.175", seed)]}
              for n, g in enumerate(["0.1", "0.3", "3"]) for seed in range(3)]
    first = write_sweep(tmp_path / "s0", [p for p in points if p["seed"] == 0], ["g_leak"])
    rest = write_sweep(tmp_path / "s12", [p for p in points if p["seed"] > 0], ["g_leak"])
    rows = sweep_figure.load([first, rest])
    assert len(rows) == 9
    ax = sweep_figure.plot_accuracy(rows, "g_leak")
    means = ax.lines[0].get_ydata()
    assert np.allclose(means, [np.mean([ACC[(g, "0.25,0.175", s)] for s in range(3)]) for g in ["0.1", "0.3", "3"]])
    from corinfo_sim import plotting
    ax = plotting.plot_sweep([str(first), str(rest)], x="g_leak")
    assert np.allclose(ax.lines[0].get_ydata(), means)
    written = make_figure("sweep", [first, rest], tmp_path / "both.png", x="g_leak")
    assert all(p.stat().st_size for p in written)
    with pytest.raises(CorInfoError, match="both hold point p000_s0 with seed 0"):
        sweep_figure.load([first, first])
    other = write_sweep(tmp_path / "other", [{"id": "p000_s1", "seed": 1, "lr_ff": "0.5", "final": 90.0}], ["lr_ff"])
    with pytest.raises(CorInfoError, match="vary other parameters") as error:
        sweep_figure.load([first, other])
    assert "\n" not in str(error.value)


def test_a_parameter_varied_together_with_x_is_not_a_line_of_its_own(tmp_path):
    """noise_dendrite set equal to noise_soma at every point: one line against noise_soma."""
    points = [{"id": f"p{n:03d}_s{seed}", "seed": seed, "noise_soma": v, "noise_dendrite": v, "final": 90.0 - n + seed}
              for n, v in enumerate(["0", "0.1", "1"]) for seed in range(2)]
    rows = sweep_figure.load(write_sweep(tmp_path / "noise", points, ["noise_soma", "noise_dendrite"]))
    ax = sweep_figure.plot_accuracy(rows, "noise_soma")
    solid = [line for line in ax.lines if line.get_linestyle() == "-"]
    assert len(solid) == 1 and np.allclose(solid[0].get_ydata(), [90.5, 89.5, 88.5])
    assert ax.get_legend() is None or "noise_dendrite" not in " ".join(t.get_text() for t in ax.get_legend().texts)


def test_a_kept_copy_of_results_csv_draws_what_its_folder_draws(tmp_path):
    """A results table copied out of its sweep folder (as the README's study figures keep theirs)
    draws the same means, alone or beside a sweep folder; a missing file is a missing folder."""
    points = [{"id": f"p{n:03d}_s{seed}", "seed": seed, "g_leak": g, "final": ACC[(g, "0.25,0.175", seed)]}
              for n, g in enumerate(["0.1", "0.3", "3"]) for seed in range(3)]
    folder = write_sweep(tmp_path / "sweep", points, ["g_leak"])
    kept = tmp_path / "kept" / "study.csv"
    kept.parent.mkdir()
    kept.write_bytes((folder / "results.csv").read_bytes())
    expected = sweep_figure.plot_accuracy(sweep_figure.load(folder), "g_leak").lines[0].get_ydata()
    ax = sweep_figure.plot_accuracy(sweep_figure.load(kept), "g_leak")
    assert np.allclose(ax.lines[0].get_ydata(), expected)
    written = make_figure("sweep", str(kept), tmp_path / "kept.png", x="g_leak")
    assert all(p.stat().st_size for p in written)
    with pytest.raises(CorInfoError, match="both hold point p000_s0 with seed 0"):
        sweep_figure.load([folder, kept])
    with pytest.raises(CorInfoError, match="does not exist"):
        sweep_figure.load(tmp_path / "kept" / "other.csv")


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00\x00", b"a,b\n1,2\n", b""])
def test_a_file_that_is_not_a_results_table_is_refused_in_one_line(tmp_path, content):
    """A file given for --run that no sweep wrote (binary, other columns, empty) is named, with the fix."""
    path = tmp_path / "figure.png"
    path.write_bytes(content)
    with pytest.raises(CorInfoError, match="give a sweep folder or a copy of the results.csv") as error:
        sweep_figure.load(path)
    assert "\n" not in str(error.value) and str(path) in str(error.value)
