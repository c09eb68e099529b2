"""Every command in the README runs as written after the quick start: it names the installed
command (``.venv/bin/corinfo-sim``, ``.venv/bin/python protocols/...``) and its options parse."""
import importlib.util
import os
import re
import shlex
import sys

import pytest

from corinfo_sim.cli import parse_args

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = open(os.path.join(ROOT, "README.md")).read()


def commands():
    """Commands in code spans and code blocks (a span may wrap over lines)."""
    spans = re.findall(r"`([^`]+)`", re.sub(r"```.*?```", "", README, flags=re.S))
    fenced = re.findall(r"^```(\w*)\n(.*?)^```", README, flags=re.S | re.M)  # command blocks have no language
    blocks = [line for language, block in fenced if not language for line in block.splitlines()]
    return [" ".join(text.split()) for text in spans + blocks if len(text.split()) > 1]


def test_no_command_needs_an_activated_environment():
    bare = [c for c in commands() if re.match(r"(corinfo-sim|python) ", c)]
    assert not bare, f"write these as .venv/bin/...: {bare}"


@pytest.mark.parametrize("command", [c for c in commands() if c.startswith(".venv/bin/")])
def test_readme_command_parses(command, capsys):
    argv = shlex.split(command)
    if argv[0] == ".venv/bin/corinfo-sim":
        try:
            parse_args(argv[1:])
        except SystemExit as e:  # --help and --version
            assert e.code == 0, command
        return
    if argv[0] == ".venv/bin/dask":  # the Dask command line of the environment (sweeps on a cluster)
        assert os.path.exists(os.path.join(os.path.dirname(sys.executable), "dask")), command
        assert argv[1] in ("scheduler", "worker"), command
        return
    assert argv[0] == ".venv/bin/python", command
    if argv[1:3] == ["-m", "pytest"]:
        return
    assert argv[1].startswith(("protocols/", "scripts/")), command
    path = os.path.join(ROOT, argv[1])
    assert os.path.exists(path), command
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if hasattr(module, "PROTOCOL"):
        from corinfo_sim.protocol import parser_for
        parser_for(module.PROTOCOL).parse_args(argv[2:])
    else:
        module.parse(argv[2:])
