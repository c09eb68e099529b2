"""The comparison of learning rules: protocols/compare_rules.py end to end (the two references, which
need no compiler), its table, and the figures that overlay several rules."""
import importlib.util
import json
import os

import numpy as np
import pytest

from corinfo_sim.cli import main
from corinfo_sim.datasets import load_dataset
from corinfo_sim.figures import angle, learning_curves
from corinfo_sim.params import make_params
from corinfo_sim.training import train

HERE = os.path.dirname(os.path.abspath(__file__))


def protocol():
    spec = importlib.util.spec_from_file_location("compare_rules", os.path.join(HERE, "..", "protocols",
                                                                               "compare_rules.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rule_runs(tmp_path_factory):
    """fa and bp, two seeds each, as sweep-like folders (points/<id>/), and an ep-like folder."""
    out = tmp_path_factory.mktemp("compare")
    digits = load_dataset("digits").subset(max_test=100)
    for model in ("fa", "bp"):
        for seed in (0, 1):
            p = make_params(model, dataset="digits", seed=seed)
            train(p, digits, 2, str(out / model / "points" / f"p000_s{seed}"), max_train=200,
                  progress=lambda line: None)
    return out


def test_the_table_has_every_rule_and_epoch(rule_runs):
    text = protocol().table(str(rule_runs), ["fa", "bp"], "digits", 2)
    lines = text.strip().splitlines()
    assert lines[0].startswith("| rule | `--model` | test % epoch 1 | test % epoch 2 | seeds | training ms/sample")
    rows = {line.split("|")[2].strip(): line.split("|") for line in lines[2:]}
    assert set(rows) == {"`fa`", "`bp`"}
    for model, row in rows.items():
        accs = [json.load(open(rule_runs / model.strip("`") / "points" / f"p000_s{s}" / "metrics.json"))["test_acc"]
                for s in (0, 1)]
        final = 100 * np.array([a[1] for a in accs])
        assert row[4].strip() == f"{final.mean():.2f} ± {final.std():.2f}"
        assert row[5].strip() == "2" and float(row[6]) > 0


def test_figures_overlay_the_rules(rule_runs, tmp_path):
    groups, dataset = learning_curves.load_groups([rule_runs / "fa", rule_runs / "bp"])
    assert list(groups) == ["fa", "bp"] and dataset == "digits" and len(groups["fa"]) == 2
    axes = learning_curves.plot_rules(groups, dataset)
    labels = [line.get_label() for line in axes[1].get_lines()]
    assert labels == ["fa (2 seeds)", "bp (2 seeds)"]
    rules = [angle.load_rule(rule_runs / m) for m in ("fa", "bp")]
    assert rules[0][0] == "fa" and rules[0][2][1].shape == (2, 3) and rules[1][2] == {}
    ax = angle.plot_rules(rules)
    assert [line.get_gid() for line in ax.get_lines()].count("by-construction") == 1
    for name in ("learning-curves", "angle"):
        out = tmp_path / f"{name}.png"
        assert main(["figure", name, "--run", str(rule_runs / "fa"), str(rule_runs / "bp"), "--out", str(out)]) == 0
        assert out.stat().st_size > 0
    assert main(["figure", "weights", "--run", str(rule_runs / "fa"), str(rule_runs / "bp"),
                 "--out", str(tmp_path / "w.png")]) == 2


@pytest.mark.long
def test_the_protocol_runs_the_references_as_sweeps(tmp_path, capsys):
    out = tmp_path / "cmp"
    code = protocol().main(["--dataset", "digits", "--out", str(out), "--rules", "fa,bp", "--epochs", "1",
                            "--seeds", "0", "--max-train-samples", "100"])
    assert code == 0
    summary = (out / "summary.md").read_text()
    assert "| feedback alignment | `fa` |" in summary and "| backprop | `bp` |" in summary
    assert (out / "learning_curves.png").exists() and (out / "angle.png").exists()
    assert json.load(open(out / "fa" / "points" / "p000_s0" / "config.json"))["n_train"] == 100


def test_the_figures_that_apply_to_a_reference(rule_runs, tmp_path):
    from corinfo_sim.errors import CorInfoError
    from corinfo_sim.figures import make_figure
    run = rule_runs / "fa" / "points" / "p000_s0"
    for name in ("weights", "receptive-fields", "embedding", "angle", "learning-curves"):
        assert make_figure(name, run, tmp_path / f"{name}.png"), name
    for name in ("traces", "lateral", "corinfo", "schematic"):
        with pytest.raises(CorInfoError, match=f"figure {name} does not apply to model fa"):
            make_figure(name, run, tmp_path / "x.png")
