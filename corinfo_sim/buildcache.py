"""Compiled networks shared between runs and processes: the build cache.

A network's binary is determined by its generated C++ code, its makefile (the compiler flags),
the compiler and Brian2. The code holds no run-time value (weights, plans, learning rates and
the real-valued constants are set per run, see :mod:`corinfo_sim.network`), so every run of one
network structure — another seed, learning rate, g_L, a later ``evaluate`` or ``traces`` —
needs the same binary. The cache keeps one binary per key (a hash of all of the above) in
``$CORINFO_CACHE/builds/<key>/`` (default ``~/.cache/corinfo_sim``). A process that has
generated a network's code looks its key up: a hit copies the binary into its own build folder,
a miss compiles and stores it. A key is locked (``flock``) while it is compiled, so processes
that need the same network at once compile it once and the others wait for it. An entry whose
binary does not match its recorded checksum is compiled again. Delete the folder to empty the
cache; ``--no-build-cache`` bypasses it.
"""
import contextlib
import fcntl
import functools
import hashlib
import os
import re
import shutil
import subprocess

import brian2

#: Environment variable naming the cache folder.
CACHE_ENV = "CORINFO_CACHE"
_SOURCES = (".cpp", ".h", ".hpp", ".c")
#: Brian2 writes the clock resets at the start of a run in set order (it varies between processes).
_CLOCK_RESET = re.compile(r"^\s*_array_\w+_clock_(timestep|t)\[0\] = ")


def cache_dir():
    """The cache folder: ``$CORINFO_CACHE`` or ``~/.cache/corinfo_sim``."""
    return os.environ.get(CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "corinfo_sim")


@functools.lru_cache(maxsize=None)
def _compiler_version():
    try:
        out = subprocess.run(["g++", "--version"], capture_output=True, text=True, timeout=30)
        return out.stdout.splitlines()[0] if out.stdout else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _canonical(text):
    """Source text with each run of clock-reset lines sorted (their order carries no meaning)."""
    lines, out, run = text.splitlines(), [], []
    for line in lines + [""]:
        if _CLOCK_RESET.match(line):
            run.append(line)
            continue
        out += sorted(run) + [line]
        run = []
    return "\n".join(out)


def build_key(build_dir):
    """Hash of everything the binary of the generated project in ``build_dir`` depends on."""
    h = hashlib.sha256(f"brian2 {brian2.__version__}\n{_compiler_version()}\n".encode())
    for root, dirs, files in os.walk(build_dir):
        dirs[:] = sorted(d for d in dirs if d not in ("static_arrays", "results"))
        for name in sorted(files):
            if name.endswith(_SOURCES) or name == "makefile":
                path = os.path.join(root, name)
                with open(path, errors="replace") as f:
                    text = _canonical(f.read())
                h.update(f"{os.path.relpath(path, build_dir)}\n{text}\n".encode())
    return h.hexdigest()[:24]


def _checksum(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _copy(source, target):
    """Copy a binary atomically (a copy beside the target, then a rename)."""
    tmp = f"{target}.{os.getpid()}.tmp"
    shutil.copy2(source, tmp)
    os.replace(tmp, target)


@contextlib.contextmanager
def _locked(path):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def compile_cached(build_dir, compile, enabled=True):
    """Put the binary of the project generated in ``build_dir`` there: from the cache, or by
    calling ``compile()`` (which builds ``build_dir/main``) and storing the result.

    Returns
    -------
    bool
        Whether the binary came from the cache. An unusable cache folder (unwritable, full)
        means compiling without it.
    """
    if not enabled:
        compile()
        return False
    entry = os.path.join(cache_dir(), "builds", build_key(build_dir))
    try:
        os.makedirs(entry, exist_ok=True)
        lock = _locked(entry + ".lock")
        lock.__enter__()
    except OSError:
        compile()
        return False
    try:
        binary, checksum_file = os.path.join(entry, "main"), os.path.join(entry, "main.sha256")
        try:
            with open(checksum_file) as f:
                valid = f.read().strip() == _checksum(binary)
        except OSError:
            valid = False
        if valid:
            _copy(binary, os.path.join(build_dir, "main"))
            return True
        compile()
        with contextlib.suppress(OSError):  # a full or read-only cache only costs the next compile
            _copy(os.path.join(build_dir, "main"), binary)
            with open(checksum_file + ".tmp", "w") as f:
                f.write(_checksum(binary))
            os.replace(checksum_file + ".tmp", checksum_file)
        return False
    finally:
        lock.__exit__(None, None, None)
