"""The running `catalog-sync local start`, as other processes find it: one small JSON file.

`local start` writes it once its stack serves and removes it when it stops. It says where the AWS backend
is (the moto server's URL), which process serves it, the HTTP API's URL, every connection endpoint's
simulator URL, and the stack as deployed (resources, functions with their environment, queues), so
another process can run the template's functions against the same stack without deploying anything.

The file lives at `$CATALOG_SYNC_LOCAL_STACK_FILE`, else `<clone>/.catalog-sync/local-stack.json`: one
running stack per clone, the stack of that clone's template. A file whose process is gone, or whose AWS
endpoint does not answer, is stale (a `local start` that was killed): no stack is running.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError

from catalog_sync_local.runtime.aws_backend import AwsBackend
from catalog_sync_local.runtime.stack import REPO, LocalStack

STACK_FILE_VARIABLE = "CATALOG_SYNC_LOCAL_STACK_FILE"
PROBE_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class RunningStack:
    pid: int
    aws: AwsBackend
    api_url: str
    stack: LocalStack
    endpoints: Mapping[str, str] = field(default_factory=dict)  # "<connection>/<role>" -> simulator URL
    env_overrides: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # --env-vars


_ADAPTER = TypeAdapter(RunningStack)


def stack_file() -> Path:
    configured = os.environ.get(STACK_FILE_VARIABLE)
    return Path(configured) if configured else REPO / ".catalog-sync" / "local-stack.json"


def publish(running: RunningStack) -> Path:
    """Write the file atomically (a reader never sees half of it)."""
    path = stack_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{running.pid}")
    partial.write_text(json.dumps(_ADAPTER.dump_python(running, mode="json"), indent=1))
    partial.replace(path)
    return path


def withdraw(pid: int) -> None:
    """Remove the file if process `pid` wrote it (never another stack's)."""
    path = stack_file()
    found = _read(path)
    if found is not None and found.pid == pid:
        path.unlink(missing_ok=True)


def find_running() -> RunningStack | None:
    """The stack `local start` serves now, or None (no file, an unreadable one, or a stale one)."""
    found = _read(stack_file())
    if found is None or not _alive(found.pid) or not _answers(found.aws):
        return None
    return found


def _read(path: Path) -> RunningStack | None:
    try:
        document: Any = json.loads(path.read_text())
        return _ADAPTER.validate_python(document)
    except (OSError, ValueError, ValidationError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True


def _answers(aws: AwsBackend) -> bool:
    """Something listens at the endpoint (a killed stack's port is closed, or soon someone else's)."""
    url = urlsplit(aws.endpoint_url or "")
    if not url.hostname or not url.port:
        return False
    with contextlib.suppress(OSError), socket.create_connection((url.hostname, url.port), PROBE_TIMEOUT_S):
        return True
    return False
