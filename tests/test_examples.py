"""Every script in examples/ runs, on the digits data set with short settings
(``CORINFO_EXAMPLES_QUICK=1``), and writes what its docstring promises."""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.name for p in (ROOT / "examples").glob("*.py"))


def run(name, out, *args):
    env = dict(os.environ, CORINFO_EXAMPLES_QUICK="1", MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / name), "--out", str(out), *args],
                          capture_output=True, text=True, timeout=1800, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_every_example_says_what_it_shows_and_how_long_it_takes():
    assert len(EXAMPLES) >= 4
    for name in EXAMPLES:
        text = (ROOT / "examples" / name).read_text()
        doc = text.split('"""')[1]
        assert "What it shows" in doc or "what it shows" in doc.lower(), name
        assert any(word in doc for word in (" s ", " s;", " s)", "minute", " s.", " s,")), f"{name}: how long?"
        assert "CORINFO_EXAMPLES_QUICK" in doc, name


def test_every_example_is_shown_with_its_output_in_the_documentation():
    page = (ROOT / "docs" / "examples.rst").read_text()
    for name in EXAMPLES:
        stem = name[:-3]
        output = ROOT / "docs" / "examples" / stem / "output.txt"
        assert output.read_text().strip(), f"{stem}: run scripts/render_examples.py {stem}"
        assert f"examples/{stem}/output.txt" in page, stem
        figures = sorted(p.name for p in output.parent.glob("*.png"))
        assert figures, f"{stem}: no figure rendered"
        assert all(f"examples/{stem}/{figure}" in page for figure in figures), stem


@pytest.mark.standalone
def test_membrane_traces(tmp_path):
    stdout = run("membrane_traces.py", tmp_path)
    assert all((tmp_path / f"sample_{n}.png").stat().st_size for n in range(3))
    assert stdout.count("answer") == 3


@pytest.mark.standalone
def test_custom_protocol(tmp_path):
    stdout = run("custom_protocol.py", tmp_path)
    assert (tmp_path / "protocol.png").stat().st_size
    lines = {line.split(":")[0]: float(line.rsplit(" ", 1)[1]) for line in stdout.splitlines()
             if line.startswith(("intact", "feedback silenced"))}
    assert lines["feedback silenced"] < lines["intact"]


@pytest.mark.standalone
def test_compare_variants(tmp_path):
    stdout = run("compare_variants.py", tmp_path)
    assert (tmp_path / "learning_curves.png").stat().st_size
    assert "antisparse: test accuracy" in stdout and "ep: test accuracy" in stdout


@pytest.mark.standalone
def test_small_sweep(tmp_path):
    stdout = run("small_sweep.py", tmp_path / "sweep")
    assert (tmp_path / "sweep" / "accuracy_vs_g_leak.png").stat().st_size
    assert stdout.count("final test accuracy") == 6
