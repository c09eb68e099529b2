"""What a long command tells its user while it works: event lines and progress within a run.

:class:`Reporter` is the ``progress`` argument of :func:`corinfo_sim.training.train` and the
protocols: called with a line of text it prints that line; :meth:`Reporter.update` is told how
many samples of a segment are done. On a terminal that is a progress bar redrawn in place; in a
log (not a terminal) a plain line at most every ``interval`` seconds, so that an epoch of a few
seconds adds nothing and a long one shows that it is moving.
"""
import sys
import time


def _duration(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Reporter:
    """Prints event lines and progress.

    Parameters
    ----------
    stream : file, optional
        Where to write (default: standard output).
    interval : float
        Seconds between two progress lines when ``stream`` is not a terminal.
    tty : bool, optional
        Treat ``stream`` as a terminal (default: ask it).
    """

    BAR = 24

    def __init__(self, stream=None, interval=30.0, tty=None):
        self.stream = stream or sys.stdout
        self.interval = interval
        self.tty = self.stream.isatty() if tty is None else tty
        self._what = None
        self._start = None
        self._last_line = 0.0
        self._last_status = None
        self._drawn = False

    def __call__(self, text):
        """Print one line (clearing a progress bar first)."""
        self._clear()
        print(text, file=self.stream, flush=True)

    def update(self, what, done, total):
        """``done`` of ``total`` samples of ``what`` (e.g. "epoch 3/20 train") are finished."""
        now = time.monotonic()
        if what != self._what:
            self._what, self._start, self._start_done = what, now, done
            self._last_line = now
        if total <= 0:
            return
        elapsed = now - self._start
        rate = (done - self._start_done) / elapsed if elapsed > 0 and done > self._start_done else None
        eta = f", ETA {_duration((total - done) / rate)}" if rate else ""
        speed = f", {rate:.0f} samples/s" if rate else ""
        if self.tty:
            filled = int(self.BAR * done / total)
            bar = "#" * filled + "-" * (self.BAR - filled)
            self.stream.write(f"\r{what} [{bar}] {done}/{total}{speed}{eta}\x1b[K")
            self.stream.flush()
            self._drawn = True
        elif now - self._last_line >= self.interval:
            self._last_line = now
            print(f"  {what}: {done}/{total} samples{speed}{eta}", file=self.stream, flush=True)

    def status(self, text):
        """A status line (e.g. a sweep's points done and running): redrawn in place on a terminal;
        in a log printed every ``interval`` seconds, the first ``interval`` seconds after the first call."""
        now = time.monotonic()
        if self.tty:
            self.stream.write(f"\r{text}\x1b[K")
            self.stream.flush()
            self._drawn = True
        elif self._last_status is None:
            self._last_status = now
        elif now - self._last_status >= self.interval:
            self._last_status = now
            print(f"  {text}", file=self.stream, flush=True)

    def _clear(self):
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False
