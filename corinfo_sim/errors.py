"""The library's one exception type, and the kinds of it that the command line tells apart.

Every public function of ``corinfo_sim`` raises :class:`CorInfoError` (or one of its
subclasses below) for a problem the user can fix, with a one-line message that says what is
wrong and how to fix it. The command line prints it as ``error: <message>`` and turns the
subclass into its exit status (:mod:`corinfo_sim.cli`).
"""


class CorInfoError(Exception):
    """A problem with the user's input (arguments, files, data) that they can fix.

    The command line prints ``error: <message>`` on stderr and exits with status 2.
    Messages say what is wrong and how to fix it, on one line.
    """


class SweepFailures(CorInfoError):
    """Some points of a sweep failed (exit status 4)."""


class SweepStopped(CorInfoError):
    """A sweep stopped because its Dask cluster went away (exit status 5); ``--resume`` continues it."""
