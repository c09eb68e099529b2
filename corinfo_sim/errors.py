"""The one exception type the command line turns into a one-line message."""


class CorInfoError(Exception):
    """A problem with the user's input (arguments, files, data) that they can fix.

    The command line prints ``error: <message>`` on stderr and exits with status 2.
    Messages say what is wrong and how to fix it, on one line.
    """
