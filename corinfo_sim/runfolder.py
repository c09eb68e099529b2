"""Output folders and files: exclusive locks, checked writability, nothing half-written.

Every command that writes a folder (a run, a protocol, a sweep) holds :func:`locked_folder`
for as long as it writes: an advisory ``flock`` on ``FOLDER/.lock``, which the kernel releases
when the process ends, however it ends (also SIGKILL), so a lock is never left stuck. A second
writer is refused at once with the holder's process id. A folder that the command created and
left empty (bad input found after creating it, Ctrl-C during the compile) is removed again.
"""
import contextlib
import errno
import fcntl
import json
import os
import shutil

from .errors import CorInfoError

LOCK_NAME = ".lock"


def os_error_message(e, path, action="write"):
    """One line for an OSError while touching ``path``: what is wrong and how to fix it."""
    reason = {errno.EACCES: "permission denied", errno.EPERM: "permission denied", errno.EROFS: "read-only file system",
              errno.ENAMETOOLONG: "the name is too long", errno.ENOSPC: "no space left on the device",
              errno.ENOTDIR: "a part of the path is a file, not a folder", errno.EDQUOT: "disk quota exceeded",
              errno.EISDIR: "it is a folder"}.get(e.errno, e.strerror or e.__class__.__name__)
    fix = {errno.ENAMETOOLONG: "choose a shorter path", errno.ENOSPC: "free some space or choose another place",
           errno.EDQUOT: "free some space or choose another place"}.get(e.errno, "choose another place")
    return f"cannot {action} {path}: {reason}; {fix}"


def check_writable_file(path, overwrite=False, option="--out"):
    """Refuse an output file that exists (unless ``overwrite``) or whose folder cannot be written."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise CorInfoError(f"{option} {path} is a folder: give a file name")
    if os.path.exists(path) and not overwrite:
        raise CorInfoError(f"{path} exists: pass --overwrite to replace it, or choose another {option}")
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(folder):
        raise CorInfoError(f"the folder of {path} does not exist: create it first")
    if len(os.path.basename(path).encode()) > 250:
        raise CorInfoError(f"cannot write {path}: the name is too long; choose a shorter path")
    if not os.access(folder, os.W_OK):
        raise CorInfoError(f"cannot write {path}: permission denied; choose another {option}")


def _holder(lock_path):
    try:
        with open(lock_path) as f:
            return f.read().strip() or "unknown"
    except OSError:
        return "unknown"


@contextlib.contextmanager
def locked_folder(path, what="run folder", option="--out"):
    """Create (if needed) and lock ``path`` for writing; yield its absolute path.

    Raises
    ------
    CorInfoError
        The folder cannot be created or written, or another process holds it.
    """
    path = os.path.abspath(os.fspath(path))
    created = not os.path.exists(path)
    try:
        os.makedirs(path, exist_ok=True)
        fd = os.open(os.path.join(path, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        _remove_if_empty(path, created)
        raise CorInfoError(os_error_message(e, path) + f" ({option})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CorInfoError(
                f"{path} is in use by another corinfo-sim process (pid {_holder(os.path.join(path, LOCK_NAME))}): "
                f"wait for it to finish, or choose another {option}") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
        _remove_if_empty(path, created)


def _remove_if_empty(path, created):
    """Remove a folder this process created if it holds nothing but the lock file."""
    if not created or not os.path.isdir(path):
        return
    if set(os.listdir(path)) <= {LOCK_NAME}:
        shutil.rmtree(path, ignore_errors=True)


def remove_stale_temporaries(folder):
    """Delete ``*.tmp`` files an interrupted atomic write left behind (in ``folder`` and its subfolders)."""
    for root, _, files in os.walk(folder):
        for name in files:
            if name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(root, name))


def write_json(path, data):
    """Write JSON atomically (a temporary file, flushed to disk, then renamed over ``path``)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
