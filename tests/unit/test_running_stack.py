"""How other processes find the running `local start`: its stack file, trusted only while it is alive."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog_sync_local.runtime import running_stack
from catalog_sync_local.runtime.aws_backend import AwsBackend
from catalog_sync_local.runtime.running_stack import RunningStack, find_running, publish, withdraw
from catalog_sync_local.runtime.stack import FunctionSpec, HttpRoute, LocalStack, QueueSpec, SqsSource


@pytest.fixture
def stack_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "state" / "local-stack.json"
    monkeypatch.setenv(running_stack.STACK_FILE_VARIABLE, str(path))
    return path


@pytest.fixture
def listening_endpoint() -> Iterator[str]:
    """A port something listens on, as a running moto server's does."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def _closed_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"  # closed when the block ends


def _reaped() -> int:
    """The pid of a process that has exited (and been waited for)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _stack() -> LocalStack:
    queue = QueueSpec("SyncQueue", "http://127.0.0.1:1/123/q", "arn:aws:sqs:us-east-1:123:q", 30, None, None)
    source = SqsSource("SyncQueue", queue.url, queue.arn, 10, 2, True, 5)
    consumer = FunctionSpec(
        logical_id="SyncConsumerFunction",
        function_name="catalog-sync-local-SyncConsumerFunction-X",
        handler="app.handler",
        code_dir=Path("/repo/functions/sync_consumer"),
        layer_dirs=(Path("/repo/layers/catalog_sync"),),
        environment={"SYNC_QUEUE_URL": queue.url},
        timeout_s=60,
        memory_mb=512,
        http_routes=(HttpRoute("POST", "/webhooks/{connection}"),),
        sqs_sources=(source,),
        schedules=(),
    )
    return LocalStack(
        stack_name="catalog-sync-local",
        region="us-east-1",
        functions={"SyncConsumerFunction": consumer},
        queues={"SyncQueue": queue},
        resources={"SyncQueue": queue.url, "EventsTable": "events"},
    )


def _running(endpoint: str, pid: int | None = None) -> RunningStack:
    return RunningStack(
        pid=os.getpid() if pid is None else pid,
        aws=AwsBackend(endpoint_url=endpoint),
        api_url="http://127.0.0.1:3000",
        stack=_stack(),
        endpoints={"store-a-to-b/source": "http://127.0.0.1:4000/stores/storea"},
        env_overrides={"Parameters": {"LOG_LEVEL": "DEBUG"}},
    )


def test_a_published_stack_is_found_whole_while_its_process_and_endpoint_are_alive(
    stack_file: Path, listening_endpoint: str
) -> None:
    running = _running(listening_endpoint)

    assert publish(running) == stack_file

    assert find_running() == running


def test_no_file_means_no_stack(stack_file: Path) -> None:
    assert find_running() is None


def test_a_file_left_by_a_process_that_is_gone_is_stale(stack_file: Path, listening_endpoint: str) -> None:
    publish(_running(listening_endpoint, pid=_reaped()))

    assert find_running() is None


def test_a_file_whose_aws_endpoint_does_not_answer_is_stale(stack_file: Path) -> None:
    publish(_running(_closed_endpoint()))

    assert find_running() is None


def test_an_unreadable_file_is_no_stack(stack_file: Path) -> None:
    stack_file.parent.mkdir(parents=True)
    stack_file.write_text('{"pid": ')

    assert find_running() is None


def test_a_stack_withdraws_only_its_own_file(stack_file: Path, listening_endpoint: str) -> None:
    publish(_running(listening_endpoint))

    withdraw(os.getpid() + 1)
    assert stack_file.exists()

    withdraw(os.getpid())
    assert not stack_file.exists()
