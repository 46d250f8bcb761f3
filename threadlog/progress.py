"""A one-line progress bar with rate and ETA, drawn on a terminal only.

Drawn on stderr and only when stderr is a terminal: piped or redirected output (a log file, a
CI job) gets no carriage returns, and stdout stays the command's answer (`--json`).
"""

import sys
import time
from typing import TextIO

_WIDTH = 24
_EVERY_S = 0.2


class ProgressBar:
    """`update(done, total)` redraws at most five times a second; `close()` ends the line."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.label = label
        self._start = time.monotonic()
        self._drawn = 0.0
        self._shown = False

    def update(self, done: int, total: int | None = None, *, force: bool = False) -> None:
        """Show `done` of `total` (of an unknown total: the count and rate alone)."""
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._drawn < _EVERY_S:
            return
        self._drawn = now
        self._shown = True
        self.stream.write("\r" + line(self.label, done, total, now - self._start) + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line, so that what follows starts on its own."""
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False


def line(label: str, done: int, total: int | None, elapsed_s: float) -> str:
    """The bar's text: `label [#####-----] done/total  rate/s  ETA m:ss`."""
    rate = done / elapsed_s if elapsed_s > 0 else 0.0
    if total is None or total <= 0:
        return f"{label} {done:,}  {rate:,.0f}/s"
    filled = min(_WIDTH, _WIDTH * done // total)
    eta = (total - done) / rate if rate > 0 else None
    eta_text = f"{int(eta) // 60}:{int(eta) % 60:02d}" if eta is not None else "?"
    bar = "#" * filled + "-" * (_WIDTH - filled)
    return f"{label} [{bar}] {done:,}/{total:,}  {rate:,.0f}/s  ETA {eta_text}"
