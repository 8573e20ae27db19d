"""A JSON API simulator's serving, shared by the Pixlpay and Medusa simulators: `JsonServer` decodes each
request's query and JSON body, calls `handler(method, path, query, body, headers)`, encodes the answer and
keeps a request log; `JsonStore` is the base of a simulator served that way (lifecycle, request log,
failure injection).
"""

from __future__ import annotations

import json
import threading
from abc import abstractmethod
from collections.abc import Callable, Mapping
from email.message import Message
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from catalog_sync_local.simulators.shared.http_server import FailureInjector, ServedSimulator, Server

Reply = tuple[int, Any, dict[str, str]]
Handler = Callable[[str, str, dict[str, str], Any, Mapping[str, str]], Reply]


class RequestRecord(NamedTuple):
    method: str
    path: str  # without the API prefix and query string
    status: int


class JsonServer:
    """A JSON API on the simulators' shared HTTP server (simulators.shared.http_server.Server), calling
    `handler(method, path, query, body, headers)`; keeps a request log."""

    def __init__(self, handler: Handler, name: str) -> None:
        self.log: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._handler = handler
        self._server = Server(self._serve, name=name)
        self.port: int = self._server.port

    def _serve(
        self, method: str, target: str, headers: Message, raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(target)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            extra: dict[str, str] = {}
            status, reply = 400, {"message": "invalid JSON"}
        else:
            status, reply, extra = self._handler(method, url.path, query, body, dict(headers.items()))
        with self._lock:
            self.log.append(RequestRecord(method, url.path, status))
        # bytes go out as they are (the Medusa simulator's HTML 404, with its own Content-Type)
        payload = reply if isinstance(reply, bytes) else b"" if reply is None else json.dumps(reply).encode()
        return status, {"Content-Type": "application/json", **extra}, payload

    def start(self) -> None:
        self._server.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._server.stop(timeout)

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self.log)


class JsonStore(ServedSimulator):
    """What the JSON API simulators share: serving on 127.0.0.1 through JsonServer, the request log,
    and failure injection (the BigCommerce simulator's FailureInjector)."""

    server_name = "json-sim"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._failures = FailureInjector()

    @abstractmethod
    def _handle(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: Mapping[str, str]
    ) -> Reply: ...

    def _open_server(self) -> JsonServer:
        return JsonServer(self._handle, self.server_name)

    @property
    def request_log(self) -> list[RequestRecord]:
        return [] if self._json_server is None else self._json_server.records()

    @property
    def _json_server(self) -> JsonServer | None:
        return self._server if isinstance(self._server, JsonServer) else None

    def fail_next(self, method: str, path_regex: str, status: int = 500, times: int = 1) -> None:
        self._failures.add(method, path_regex, status, times)
