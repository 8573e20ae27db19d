"""Wall time whose waiting is skipped, for running a sync under a real rate-limit window at full speed.

`now()` is the real clock plus every `sleep` so far: work still takes its real time (and counts against
the quota window), only the waits for a window to reset cost nothing. Share one instance between a
store simulator (its rate limiter's clock) and the HTTP client (its clock and sleep).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class VirtualTime:
    def __init__(self, base: Callable[[], float] = time.time) -> None:
        self._base = base
        self._offset = 0.0
        self._lock = threading.Lock()
        self.slept = 0.0

    def now(self) -> float:
        with self._lock:
            return self._base() + self._offset

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._offset += max(0.0, seconds)
            self.slept += max(0.0, seconds)
