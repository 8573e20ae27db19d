"""A webhook receiver for tests: an HTTP server on 127.0.0.1 that records every POST (headers lower-cased,
raw body) and answers with the next status of `statuses` (then 200)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # monotonic


@dataclass
class Listener:
    url: str  # http://127.0.0.1:<port>
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        """The first `count` deliveries, waiting at most `timeout` seconds (AssertionError if they miss)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.received)} of {count} deliveries after {timeout} s")
                self._changed.wait(min(left, 0.2))
            return list(self.received[:count])

    def _record(self, item: Received) -> int:
        with self._changed:
            self.received.append(item)
            self._changed.notify_all()
            return self.statuses.pop(0) if self.statuses else 200


@contextmanager
def webhook_listener(port: int = 0, statuses: list[int] | None = None) -> Iterator[Listener]:
    """Serve on 127.0.0.1:`port` (0: any free port) until the block ends."""
    listener = Listener(url="", statuses=list(statuses or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = listener._record(Received(self.path, headers, body, time.monotonic()))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    listener.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        server.shutdown()
        server.server_close()
        thread.join(2.0)
