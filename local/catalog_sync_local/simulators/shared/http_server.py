"""The HTTP plumbing every store simulator shares: a threaded server on 127.0.0.1 (`Server`), the
lifecycle of a served simulator (`ServedSimulator`: start once, stop, context manager, `api_url`) and
failure injection (`FailureInjector`: answer the next matching requests with a given status).
"""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Protocol, Self


@dataclass
class _Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    times: int


class FailureInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: list[_Failure] = []

    def add(self, method: str, path_regex: str, status: int, times: int) -> None:
        with self._lock:
            self._failures.append(_Failure(method.upper(), re.compile(path_regex), status, times))

    def take(self, method: str, path: str) -> int | None:
        """The status to answer instead of performing `method path`, if an injected failure matches."""
        with self._lock:
            for failure in self._failures:
                if failure.method in ("*", method) and failure.pattern.search(path):
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                    return failure.status
            return None


# (method, target with query string, request headers, raw body) -> (status, headers, body bytes)
RawHandler = Callable[[str, str, Message, bytes], tuple[int, Mapping[str, str], bytes]]


class _Handler(BaseHTTPRequestHandler):
    server_version = "StoreSim/1.0"
    protocol_version = "HTTP/1.0"  # one request per connection: stop() leaves no live keep-alive sockets
    timeout = 10

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(min(length, 10_000_000)) if length > 0 else b""
        serve: RawHandler = self.server.serve  # type: ignore[attr-defined]
        status, headers, payload = serve(self.command, self.path, self.headers, raw)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return  # the simulators keep their own request logs


class Server:
    """A simulator's HTTP server: ThreadingHTTPServer on 127.0.0.1 in a daemon thread, every request
    handed to `serve`; stop() is prompt and bounded. Shared by the BigCommerce, Pixlpay and Medusa
    simulators."""

    def __init__(self, serve: RawHandler, port: int = 0, *, name: str = "store-sim") -> None:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.serve = serve  # type: ignore[attr-defined]
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=name,
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout)
        self._httpd.server_close()


class _Serving(Protocol):
    port: int

    def start(self) -> None: ...

    def stop(self, timeout: float = 2.0) -> None: ...


class ServedSimulator(ABC):
    """The lifecycle every store simulator shares: a server on 127.0.0.1 opened by `start()` (once),
    closed by `stop()`, a context manager, and the URL it answers on."""

    _server: _Serving | None = None

    @abstractmethod
    def _open_server(self) -> _Serving: ...

    def start(self) -> Self:
        if self._server is None:
            self._server = self._open_server()
            self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def api_url(self) -> str:
        """The store URL (what a connection's `api_url` holds)."""
        if self._server is None:
            raise RuntimeError("the store is not started")
        return f"http://127.0.0.1:{self._server.port}"
