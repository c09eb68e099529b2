"""Run every script in ``examples/`` and keep what it printed and drew for the documentation site.

Each example runs with its full settings (not ``CORINFO_EXAMPLES_QUICK``) into a scratch folder;
its standard output goes to ``docs/examples/<name>/output.txt`` (the scratch folder's path written
as ``OUT``) and its figures (``*.png``) beside it. ``docs/examples.rst`` shows each script, its
output and its figures. Run it from the repository folder after changing an example::

    .venv/bin/python scripts/render_examples.py            # every example: 6 minutes on a shared 2-core machine
    .venv/bin/python scripts/render_examples.py membrane_traces

Exit status 1 when an example fails (its standard error is printed; the rendered output of the
others is kept).
"""
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
RENDERED = ROOT / "docs" / "examples"


def parse(argv):
    """The examples named in ``argv`` (all when none); exit status 2 and one line for an unknown name."""
    known = sorted(p.stem for p in (ROOT / "examples").glob("*.py"))
    for name in argv:
        if name not in known:
            print(f"error: no example {name!r}: choose among {', '.join(known)}", file=sys.stderr)
            sys.exit(2)
    return list(argv) or known


def render(name):
    """Run ``examples/<name>.py`` and replace its rendered output; return True if it ran."""
    script = ROOT / "examples" / f"{name}.py"
    with tempfile.TemporaryDirectory(prefix=f"example_{name}_") as scratch:
        out = pathlib.Path(scratch) / "out"
        env = {key: value for key, value in os.environ.items() if key != "CORINFO_EXAMPLES_QUICK"}
        env["MPLBACKEND"] = "Agg"
        proc = subprocess.run([sys.executable, str(script), "--out", str(out)], cwd=ROOT, env=env,
                              capture_output=True, text=True)
        if proc.returncode:
            print(f"{name}: failed (exit {proc.returncode})\n{proc.stderr[-3000:]}", file=sys.stderr)
            return False
        target = RENDERED / name
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        (target / "output.txt").write_text(proc.stdout.replace(str(out), "OUT"))
        figures = sorted(out.rglob("*.png"))
        for figure in figures:
            shutil.copy(figure, target / figure.name)
        print(f"{name}: {len(proc.stdout.splitlines())} lines of output, "
              f"{len(figures)} figure(s) in {target.relative_to(ROOT)}")
        return True


def main(argv):
    return 0 if all([render(name) for name in parse(argv)]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
