"""Failure injection for the moto server process: make chosen AWS calls fail or hang, as AWS sometimes does.

`make chaos` needs what only a shared backend can do to every container at once: an SQS SendMessage
that fails after the receiver's DynamoDB put succeeded. The moto server process started with faults on
(`MotoServerProcess(faults=True)`; `local start` never does) wraps its WSGI app in `FaultInjection`,
which serves one control path beside the AWS APIs:

    POST {endpoint}/_faults  {"operation": "SendMessage", "queue": "SyncQueue", "times": 1, "hang_s": 12}
    GET  {endpoint}/_faults  -> {"armed": [...], "triggered": {"SendMessage": 1}}

An armed fault matches the next `times` calls of `operation` (and, when `queue` is given, whose QueueUrl
contains it). Each matching call waits `hang_s` seconds (a call that hangs past its caller's timeout),
then answers `status` with an AWS error body (InternalFailure), as a failing AWS endpoint does.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qs

import requests

CONTROL_PATH = "/_faults"
MAX_HANG_S = 120.0
MAX_BODY_BYTES = 1024 * 1024

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass
class Fault:
    operation: str  # the API action, e.g. "SendMessage"
    times: int = 1
    queue: str | None = None  # a substring of the QueueUrl (SQS only)
    hang_s: float = 0.0
    status: int = 500

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Fault:
        fault = cls(
            operation=str(raw["operation"]),
            times=int(raw.get("times", 1)),
            queue=str(raw["queue"]) if raw.get("queue") else None,
            hang_s=float(raw.get("hang_s", 0.0)),
            status=int(raw.get("status", 500)),
        )
        if not (
            1 <= fault.times <= 10_000 and 0.0 <= fault.hang_s <= MAX_HANG_S and 400 <= fault.status < 600
        ):
            raise ValueError("times 1..10000, hang_s 0..120, status 4xx/5xx")
        return fault


class FaultInjection:
    """WSGI middleware: the control path, then every AWS call checked against the armed faults."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._armed: list[Fault] = []
        self._triggered: dict[str, int] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == CONTROL_PATH:
            return self._control(environ, start_response)
        body = _read_body(environ)
        fault = self._take(_operation(environ, body), _queue_url(environ, body))
        if fault is None:
            return self.app(environ, start_response)
        time.sleep(fault.hang_s)
        error = {"__type": "InternalFailure", "message": "injected failure (make chaos)"}
        start_response(f"{fault.status} Injected", [("Content-Type", "application/x-amz-json-1.0")])
        return [json.dumps(error).encode()]

    def _take(self, operation: str | None, queue_url: str | None) -> Fault | None:
        if operation is None:
            return None
        with self._lock:
            for fault in self._armed:
                if fault.operation == operation and (fault.queue is None or fault.queue in (queue_url or "")):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._armed.remove(fault)
                    self._triggered[operation] = self._triggered.get(operation, 0) + 1
                    return fault
        return None

    def _control(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST":
            try:
                fault = Fault.parse(json.loads(_read_body(environ) or b"{}"))
            except (ValueError, KeyError, TypeError) as exc:
                start_response("400 Bad Request", [("Content-Type", "application/json")])
                return [json.dumps({"error": f"bad fault: {exc}"}).encode()]
            with self._lock:
                self._armed.append(fault)
        with self._lock:
            state = {"armed": [asdict(f) for f in self._armed], "triggered": dict(self._triggered)}
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(state).encode()]


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body, read once and put back for the app behind."""
    try:
        length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_BODY_BYTES)
    except ValueError:
        length = 0
    body: bytes = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _operation(environ: dict[str, Any], body: bytes) -> str | None:
    target = environ.get("HTTP_X_AMZ_TARGET")  # JSON protocol: "AmazonSQS.SendMessage"
    if target:
        return str(target).rpartition(".")[2]
    form = parse_qs(body.decode("utf-8", "replace")) | parse_qs(str(environ.get("QUERY_STRING", "")))
    actions = form.get("Action")  # query protocol
    return actions[0] if actions else None


def _queue_url(environ: dict[str, Any], body: bytes) -> str | None:
    if environ.get("HTTP_X_AMZ_TARGET"):
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            return None
        return str(parsed.get("QueueUrl")) if isinstance(parsed, dict) and parsed.get("QueueUrl") else None
    form = parse_qs(body.decode("utf-8", "replace"))
    return form.get("QueueUrl", [None])[0]


# --- the client side --------------------------------------------------------------------------------


def arm(endpoint_url: str, fault: Fault) -> None:
    """Arm a fault on a moto server process started with faults on."""
    resp = requests.post(f"{endpoint_url}{CONTROL_PATH}", json=asdict(fault), timeout=10)
    resp.raise_for_status()


def triggered(endpoint_url: str) -> dict[str, int]:
    """How many calls each operation's faults have failed so far."""
    resp = requests.get(f"{endpoint_url}{CONTROL_PATH}", timeout=10)
    resp.raise_for_status()
    counts: dict[str, int] = resp.json()["triggered"]
    return counts
