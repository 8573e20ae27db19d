"""One Lambda container: a worker process that imports one function's handler and runs its invocations.

Started by `catalog_sync_local.runtime.containers` as `python -m catalog_sync_local.runtime.lambda_container
<in fd> <out fd>` with the function's environment (template variables, the moto server's `AWS_ENDPOINT_URL`,
fake credentials). Like a Lambda container it imports the handler once (its module state lives as long as
the process: warm reuse) and runs one invocation at a time. Invocations arrive on <in fd> and results
leave on <out fd> as length-prefixed JSON, so the handler's own stdout and stderr stay its logs.

This module imports nothing but the standard library: whatever the handler imports is its cold start.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import struct
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ACCOUNT_ID = "123456789012"
_LENGTH = struct.Struct(">I")
MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # well above Lambda's 6 MB payload limit: a larger one is corrupt


@dataclass
class LambdaContextStub:
    """The attributes Powertools and our handlers read from a real LambdaContext."""

    function_name: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    region: str = "us-east-1"
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self.started)) * 1000))


# --- framing (shared with the parent side) ----------------------------------------------------------


def frame(message: Any) -> bytes:
    data = json.dumps(message, default=str).encode()
    return _LENGTH.pack(len(data)) + data


def write_message(fd: int, message: Any) -> None:
    view = memoryview(frame(message))
    while view:
        view = view[os.write(fd, view) :]


def read_exactly(fd: int, size: int) -> bytes | None:
    """`size` bytes from a blocking fd, or None at end of file (the other side has gone)."""
    chunks = bytearray()
    while len(chunks) < size:
        chunk = os.read(fd, size - len(chunks))
        if not chunk:
            return None
        chunks.extend(chunk)
    return bytes(chunks)


def read_message(fd: int) -> Any | None:
    header = read_exactly(fd, _LENGTH.size)
    if header is None:
        return None
    (size,) = _LENGTH.unpack(header)
    if size > MAX_MESSAGE_BYTES:
        raise ValueError(f"message of {size} bytes")
    data = read_exactly(fd, size)
    return None if data is None else json.loads(data)


# --- the container ----------------------------------------------------------------------------------


def _load_handler(code_dir: str, handler: str, layer_dirs: list[str]) -> Callable[..., Any]:
    """Import the handler as Lambda's Python runtime does: the code on sys.path (like /var/task), the
    layers after it (like /opt/python)."""
    module_name, _, attr = handler.rpartition(".")
    sys.path[:0] = [code_dir, *layer_dirs]
    function: Callable[..., Any] = getattr(importlib.import_module(module_name), attr)
    return function


def serve(in_fd: int, out_fd: int, config: dict[str, Any]) -> None:
    """Init (import the handler), then answer invocations until the parent closes <in fd>."""
    if config.get("niceness"):
        os.nice(int(config["niceness"]))
    started = time.perf_counter()
    try:
        handler = _load_handler(config["code_dir"], config["handler"], config.get("layer_dirs", []))
    except Exception as exc:  # an init error fails every invocation of this container, as in Lambda
        traceback.print_exc()
        init_error: str | None = f"{type(exc).__name__}: {exc}"
        handler = None
    else:
        init_error = None
    init_ms = (time.perf_counter() - started) * 1000
    for _ in range(sys.maxsize):  # ends when the parent closes the pipe
        request = read_message(in_fd)
        if request is None:
            return
        if handler is None:
            write_message(out_fd, {"ok": False, "error": f"init failed: {init_error}", "init_ms": init_ms})
            return
        context = LambdaContextStub(
            function_name=config["function_name"],
            memory_limit_in_mb=int(config["memory_mb"]),
            timeout_s=int(config["timeout_s"]),
            region=config["region"],
        )
        try:
            result = handler(request["event"], context)
        except Exception as exc:  # the runtime reports it; the container stays warm
            traceback.print_exc()
            write_message(out_fd, {"ok": False, "error": f"{type(exc).__name__}: {exc}", "init_ms": init_ms})
        else:
            write_message(out_fd, {"ok": True, "result": result, "init_ms": init_ms})
        init_ms = 0.0  # only the first invocation pays the init


def main(argv: list[str]) -> int:
    # Ctrl-C reaches the whole terminal's process group: the parent decides when containers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    in_fd, out_fd = int(argv[1]), int(argv[2])
    config = read_message(in_fd)
    if config is None:
        return 0
    serve(in_fd, out_fd, config)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
