"""Invocations side by side, as in AWS: every function runs in worker processes (containers) of its own.

A modified template.yaml points the receiver and the consumer at a small handler (RECORDER) that sleeps
as a message asks and writes one line per invocation (pid, start, end, message ids) to a file, so what
happened in the containers can be read back: which batches overlapped in time, which container ran
them, how often a message was received. AWS is one moto server shared by every process.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from catalog_sync_local.runtime.aws_backend import MotoServer, applied
from catalog_sync_local.runtime.containers import ContainerLost, ContainerPool, NoCapacity
from catalog_sync_local.runtime.process_runtime import ProcessRuntime
from catalog_sync_local.runtime.stack import deploy_local_stack
from tests.integration.conftest import modified_template

RECORDER = '''"""Sleeps as asked; records each invocation as one JSON line in $RECORD_FILE."""
import json
import os
import time

INVOCATIONS = 0  # module state: one count per container


def handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    started = time.time()
    records = event.get("Records")
    if records is None:  # a direct invocation or an HTTP request
        time.sleep(float(event.get("sleep", 0)))
        answer = {"pid": os.getpid(), "invocations": INVOCATIONS, "marker": os.environ["RECORDER_MARKER"],
                  "endpoint": os.environ.get("AWS_ENDPOINT_URL")}
        return {"statusCode": 200, "body": json.dumps(answer)} if event.get("version") == "2.0" else answer
    bodies = [json.loads(r["body"]) for r in records]
    _record({"phase": "start", "pid": os.getpid()})
    time.sleep(max(float(b.get("sleep", 0)) for b in bodies))
    _record({"phase": "end", "pid": os.getpid(), "start": started, "end": time.time(),
             "ids": [b["id"] for b in bodies],
             "receives": [int(r["attributes"]["ApproximateReceiveCount"]) for r in records]})
    return {"batchItemFailures": []}


def _record(line):
    with open(os.environ["RECORD_FILE"], "a") as f:
        f.write(json.dumps(line) + "\\n")
'''
MAX_CONCURRENCY = 2
VISIBILITY_TIMEOUT_S = 3


@dataclass
class Rig:
    runtime: ProcessRuntime
    record_file: Path
    queue_url: str

    def send(self, count: int, *, sleep: float) -> None:
        sqs = boto3.client("sqs")
        for i in range(count):
            sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps({"id": i, "sleep": sleep}))

    def records(self, phase: str = "end") -> list[dict[str, Any]]:
        """Finished batches (or, with phase="start", batches whose handler has begun)."""
        if not self.record_file.exists():
            return []
        lines = [json.loads(line) for line in self.record_file.read_text().splitlines()]
        return [line for line in lines if line["phase"] == phase]

    def wait_for(self, count: int, timeout: float, phase: str = "end") -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.records(phase)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.records(phase)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    record_file = tmp_path / "invocations.jsonl"

    def change(template: dict[str, Any]) -> None:
        code = tmp_path / "recorder"
        code.mkdir()
        (code / "app.py").write_text(RECORDER)
        variables = template["Globals"]["Function"]["Environment"]["Variables"]
        variables.update({"RECORD_FILE": str(record_file), "RECORDER_MARKER": "from-the-template"})
        resources = template["Resources"]
        for name in ("SyncConsumerFunction", "WebhookReceiverFunction"):
            resources[name]["Properties"]["CodeUri"] = str(code)
        resources["WebhookReceiverFunction"]["Properties"]["Timeout"] = 2
        sqs = resources["SyncConsumerFunction"]["Properties"]["Events"]["SyncQueue"]["Properties"]
        sqs.update({"BatchSize": 1, "MaximumBatchingWindowInSeconds": 0})
        resources["SyncQueue"]["Properties"]["VisibilityTimeout"] = VISIBILITY_TIMEOUT_S

    server = MotoServer()
    backend = server.start()
    try:
        with applied(backend):
            stack = deploy_local_stack(
                modified_template(tmp_path, change),
                stack_name=f"workers-{uuid.uuid4().hex[:8]}",  # moto's backends outlive a server
                parameter_overrides={"ConsumerMaxConcurrency": str(MAX_CONCURRENCY)},
            )
            runtime = ProcessRuntime(stack, backend)
            try:
                yield Rig(runtime, record_file, stack.queues["SyncQueue"].url)
            finally:
                runtime.close()
    finally:
        server.stop()


def _most_at_once(records: list[dict[str, Any]]) -> int:
    """The most invocations whose [start, end] intervals overlap at one moment."""
    edges = sorted([(r["start"], 1) for r in records] + [(r["end"], -1) for r in records])
    most = running = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


class TestConsumerConcurrency:
    def test_batches_overlap_in_time_up_to_the_mappings_maximum_concurrency_and_never_beyond(
        self, rig: Rig
    ) -> None:
        rig.send(6, sleep=1.0)

        with rig.runtime.pollers(idle_s=0.05):
            records = rig.wait_for(6, timeout=60)

        assert sorted(i for r in records for i in r["ids"]) == list(range(6))
        assert _most_at_once(records) == MAX_CONCURRENCY  # side by side, and no more than allowed
        assert len({r["pid"] for r in records}) == MAX_CONCURRENCY  # one container per concurrent batch
        assert rig.runtime.pool("SyncConsumerFunction").stats.peak_concurrency == MAX_CONCURRENCY

    def test_the_receiver_answers_while_every_consumer_is_busy(self, rig: Rig) -> None:
        rig.runtime.http("POST", "/webhooks/warm-up", body=b"{}")  # the receiver's container is warm
        rig.send(MAX_CONCURRENCY, sleep=3.0)

        with rig.runtime.pollers(idle_s=0.05):
            rig.wait_for(MAX_CONCURRENCY, timeout=30, phase="start")
            asked = time.time()
            answer = rig.runtime.http("POST", "/webhooks/store-a-to-b", body=b"{}")
            answered = time.time()
            records = rig.wait_for(MAX_CONCURRENCY, timeout=30)

        assert answer.status == 200
        assert len(records) == MAX_CONCURRENCY
        assert all(r["start"] < asked and answered < r["end"] for r in records), "it waited for a consumer"


class TestContainers:
    def test_module_state_and_environment_are_per_container_and_warm_containers_are_reused(
        self, rig: Rig
    ) -> None:
        runtime = rig.runtime
        one_at_a_time = [runtime.invoke("WebhookReceiverFunction", {}) for _ in range(3)]
        side_by_side: list[dict[str, Any]] = []
        threads = [
            threading.Thread(
                target=lambda: side_by_side.append(runtime.invoke("WebhookReceiverFunction", {"sleep": 1}))
            )
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

        assert [a["invocations"] for a in one_at_a_time] == [1, 2, 3]  # one warm container, reused
        assert len({a["pid"] for a in one_at_a_time}) == 1
        pids = {a["pid"] for a in side_by_side}
        assert len(pids) == 2 and os.getpid() not in pids
        # The warm one went on counting; the other started cold with a module of its own.
        assert sorted(a["invocations"] for a in side_by_side) == [1, 4]
        assert all(a["marker"] == "from-the-template" for a in one_at_a_time + side_by_side)
        assert all(a["endpoint"] == runtime.backend.endpoint_url for a in one_at_a_time)

    def test_a_container_that_overruns_the_functions_timeout_is_killed(self, rig: Rig) -> None:
        rig.runtime.invoke("WebhookReceiverFunction", {})  # warm: the timeout (2 s) alone applies
        pool = rig.runtime.pool("WebhookReceiverFunction")
        started = time.monotonic()

        with pytest.raises(ContainerLost, match="timed out"):
            rig.runtime.invoke("WebhookReceiverFunction", {"sleep": 30})

        assert time.monotonic() - started < 10
        assert pool.stats.lost == 1 and pool.size() == 0  # the killed one is forgotten

    def test_at_its_concurrency_a_call_waits_for_a_free_container_and_no_longer_than_the_pool_says(
        self, rig: Rig
    ) -> None:
        config = rig.runtime.container_config(rig.runtime.stack.functions["WebhookReceiverFunction"])
        pool = ContainerPool(config, max_containers=1, wait_s=0.5)
        answers: list[Any] = []
        try:
            pool.invoke({})  # warm
            # Busy for 1 s of the function's 2 s timeout (a margin for a loaded machine).
            busy = threading.Thread(target=lambda: answers.append(pool.invoke({"sleep": 1})))
            busy.start()
            deadline = time.monotonic() + 5
            while not pool.busy_pids() and time.monotonic() < deadline:  # until it has the container
                time.sleep(0.01)
            with pytest.raises(NoCapacity, match="all 1 containers busy"):
                pool.invoke({})
            pool.wait_s = 10
            waited = pool.invoke({})
            busy.join(10)
        finally:
            pool.close()

        assert waited.pid == answers[0].pid  # the one container, free again, warm
        assert pool.stats.cold_starts == 1 and pool.stats.peak_concurrency == 1

    def test_closing_the_runtime_stops_every_container(self, rig: Rig) -> None:
        pid = rig.runtime.invoke("WebhookReceiverFunction", {})["pid"]

        rig.runtime.close()

        assert _gone(pid)
        with pytest.raises(Exception, match="stopped"):
            rig.runtime.invoke("WebhookReceiverFunction", {})


class TestKilledContainer:
    def test_its_batch_reappears_after_the_visibility_timeout_and_is_processed(self, rig: Rig) -> None:
        sent = time.time()
        rig.send(1, sleep=1.5)
        consumers = rig.runtime.pool("SyncConsumerFunction")

        with rig.runtime.pollers(idle_s=0.05):
            [started] = rig.wait_for(1, timeout=30, phase="start")  # mid-batch
            victim = started["pid"]
            assert consumers.busy_pids() == [victim]
            os.kill(victim, signal.SIGKILL)
            [record] = rig.wait_for(1, timeout=VISIBILITY_TIMEOUT_S + 30)

        assert record["ids"] == [0]
        assert record["receives"] == [2]  # the first receive was never deleted
        assert record["pid"] != victim
        assert record["start"] >= sent + VISIBILITY_TIMEOUT_S - 0.5  # not before the timeout ran out
        assert consumers.stats.lost == 1
