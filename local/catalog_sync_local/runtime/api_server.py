"""The template's HTTP API on 127.0.0.1: each request goes through LocalRuntime.http (payload v2)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from catalog_sync_local.runtime.local_runtime import LocalRuntime

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # HTTP API's own payload limit


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog is 5: a burst of concurrent senders had connections refused.
    request_queue_size = 128


class LocalApiServer:
    """Answers requests concurrently (a thread each); with a ProcessRuntime they run side by side."""

    def __init__(self, runtime: LocalRuntime, *, port: int = 0) -> None:
        self.runtime = runtime
        handler = _handler_class(runtime)
        self._server = _Server(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to one poll interval
            name="local-api",
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LocalApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler_class(runtime: LocalRuntime) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_REQUEST_BYTES:
                too_large = b'{"message":"Request Entity Too Large"}'
                self._reply(413, {"content-type": "application/json"}, too_large)
                return
            body = self.rfile.read(length) if length else b""
            headers = list(self.headers.items())  # repeated headers kept: the event joins them
            result = runtime.http(self.command, self.path, headers=headers, body=body)
            self._reply(result.status, dict(result.headers), result.body.encode())

        def handle(self) -> None:
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError):
                # The caller gave up waiting (a provider's delivery timeout): a request read was still
                # handled, as behind API Gateway; there is no one left to answer, nothing to report.
                self.close_connection = True

        def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                if key.lower() not in ("content-length", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _handle  # noqa: N815 - stdlib names

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
