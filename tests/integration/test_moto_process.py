"""moto's server in a process of its own (what `local start` runs beside its worker processes)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import boto3
import pytest

from catalog_sync_local.runtime.aws_backend import AwsPortUnavailable, applied
from catalog_sync_local.runtime.moto_process import MotoServerProcess

STARTS_ONE_AND_WAITS = """
import sys, time
from catalog_sync_local.runtime.moto_process import MotoServerProcess
server = MotoServerProcess()
server.start()
print(server._process.pid, flush=True)
time.sleep(120)
"""


def _gone(pid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_it_serves_aws_on_127_0_0_1_and_stop_ends_it() -> None:
    server = MotoServerProcess()
    backend = server.start()
    process = server._process
    assert process is not None
    try:
        with applied(backend):
            sqs = boto3.client("sqs")
            url = sqs.create_queue(QueueName="served-elsewhere")["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody="hello")
            [message] = sqs.receive_message(QueueUrl=url)["Messages"]
    finally:
        server.stop()

    assert backend.endpoint_url is not None and backend.endpoint_url.startswith("http://127.0.0.1:")
    assert message["Body"] == "hello"
    assert process.returncode is not None  # stopped, not left behind


def test_a_taken_port_is_refused_at_once() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]

        with pytest.raises(AwsPortUnavailable, match=f"127.0.0.1:{port}"):
            MotoServerProcess(port).start()


def test_it_never_outlives_the_process_that_started_it() -> None:
    parent = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", STARTS_ONE_AND_WAITS], stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        server_pid = int(parent.stdout.readline())
        os.kill(parent.pid, signal.SIGKILL)  # no cleanup runs in the parent

        assert _gone(server_pid, within_s=10)
    finally:
        parent.kill()
        parent.wait(10)
