"""Where the local stack's AWS is: one setting, `AWS_ENDPOINT_URL`, which every boto3 client honours.

Two backends, both moto:

- embedded (`mock_aws()`, inside one process: tests, the demo, `local invoke`), where the endpoint is unset;
- a moto server on 127.0.0.1 (`local start`), which other processes reach through its URL: the ops
  commands today, a worker process per function later. Whoever talks to it applies `environment()` and
  nothing else: the handlers, the runtime and the stack deployer make plain boto3 clients.

The credentials are always fake ones, so a local command can never sign with a real AWS identity.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from catalog_sync_local.runtime.stack import LocalStackError

ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL"
REGION = "us-east-1"
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass(frozen=True)
class AwsBackend:
    """The local AWS: `endpoint_url` of a moto server, or None for moto embedded in this process."""

    endpoint_url: str | None = None
    region: str = REGION

    def environment(self) -> dict[str, str | None]:
        """The process environment that points boto3 at this backend (None: variable unset)."""
        return {
            **FAKE_AWS_ENV,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_PROFILE": None,  # a profile's own endpoint or credentials must not win over these
            ENDPOINT_VARIABLE: self.endpoint_url,
        }


@contextlib.contextmanager
def applied(backend: AwsBackend) -> Iterator[AwsBackend]:
    """Point this process's boto3 clients at `backend` for the block, then restore the environment."""
    with patched_environ(backend.environment()):
        yield backend


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str | None]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    _set(values)
    try:
        yield
    finally:
        _set(saved)


def _set(values: Mapping[str, str | None]) -> None:
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


class AwsPortUnavailable(LocalStackError):
    pass


def moto_server(host: str, port: int, fd: int, wrap: Callable[[Any], Any] | None = None) -> Any:
    """moto's threaded werkzeug server on the socket `fd` (bound by the caller), its WSGI app wrapped by
    `wrap` if given; both local servers are this one."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from catalog_sync_local.runtime import moto_sqs

    moto_sqs.install()  # a receive linear in the queue's backlog, not quadratic
    # werkzeug logs every request to stderr unless its logger is told otherwise.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app: Any = DomainDispatcherApplication(create_backend_app)
    return make_server(
        host,
        port,
        wrap(app) if wrap else app,
        threaded=True,
        request_handler=MotoRequestHandler,
        fd=fd,
    )


class MotoServer:
    """moto in server mode on 127.0.0.1, served by a thread of this process (port 0: any free port).

    Built from the parts moto's ThreadedMotoServer uses, but bound in the caller's thread: a port that is
    taken raises AwsPortUnavailable at once (ThreadedMotoServer's thread would exit the process), and
    `stop()` closes the socket, so the port is free again when the process goes on."""

    def __init__(self, port: int = 0, *, region: str = REGION) -> None:
        self.port = port
        self.region = region
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> AwsBackend:
        with listening_socket(self.port) as listening:  # werkzeug keeps a duplicate of it
            self._server = moto_server("127.0.0.1", self.port, listening.fileno())
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-server", daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        return AwsBackend(endpoint_url=f"http://{host}:{port}", region=self.region)

    def stop(self, timeout_s: float = 5.0) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._server = self._thread = None


def listening_socket(port: int) -> socket.socket:
    """The moto server's socket on 127.0.0.1, bound by the caller rather than by werkzeug, which prints a
    message and exits the process when the port is taken."""
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as http.server does
        listening.bind(("127.0.0.1", port))
        listening.listen(128)
    except OSError as exc:
        listening.close()
        raise AwsPortUnavailable(
            f"the moto server cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}"
        ) from None
    return listening
