"""Operations commands: what they do to a stack, resource resolution for a deployed stack (on moto), and
what they say when no local stack is running. tests/integration/test_ops_reach_local_start.py runs them
against a running `local start`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from catalog_sync.store.events import EventRecord, EventStore
from catalog_sync.sync_request import SyncRequest
from catalog_sync_local.cli.main import main
from catalog_sync_local.cli.ops import Ops, resolve_stack
from catalog_sync_local.runtime import running_stack
from catalog_sync_local.runtime.aws_backend import AwsBackend
from catalog_sync_local.runtime.sandbox import Sandbox
from catalog_sync_local.runtime.stack import LocalStack
from tests.integration.conftest import CONNECTION


def ops_for(box: Sandbox) -> Ops:
    return Ops(dict(box.stack.resources), boto3.session.Session(), box.runtime)


def test_a_deployed_stack_resolves_to_the_same_resources_the_template_created(sandbox: Sandbox) -> None:
    resolved = resolve_stack(boto3.session.Session(), sandbox.stack.stack_name)

    for logical_id in (
        "SyncQueue",
        "SyncDeadLetterQueue",
        "SyncStateTable",
        "EventsTable",
        "FullSyncFunction",
    ):
        assert resolved[logical_id] == sandbox.stack.resources[logical_id]


def test_redrive_dry_run_lists_without_moving_and_redrive_moves(sandbox: Sandbox) -> None:
    sqs, ops = boto3.client("sqs"), ops_for(sandbox)
    for entity_id in (1, 2):
        body = SyncRequest(
            connection=CONNECTION, entity_type="product", entity_id=entity_id
        ).model_dump_json()
        sqs.send_message(QueueUrl=sandbox.stack.resources["SyncDeadLetterQueue"], MessageBody=body)

    listed = ops.redrive(dry_run=True)
    assert len(listed) == 2
    assert (sandbox.queue_depth("SyncDeadLetterQueue"), sandbox.queue_depth("SyncQueue")) == (2, 0)

    moved = ops.redrive(dry_run=False)
    assert len(moved) == 2
    assert (sandbox.queue_depth("SyncDeadLetterQueue"), sandbox.queue_depth("SyncQueue")) == (0, 2)


def test_replay_reenqueues_one_request_per_entity_in_the_time_range(sandbox: Sandbox) -> None:
    events = EventStore(sandbox.stack.resources["EventsTable"], boto3.client("dynamodb"))
    now_ms = int(time.time() * 1000)
    for delivery_id, entity_id, age_ms in (
        ("a", 1, 1_000),
        ("b", 1, 2_000),
        ("c", 2, 3_000),
        ("old", 3, 10**8),
    ):
        events.put_new(
            EventRecord(
                CONNECTION,
                delivery_id,
                "processed",
                "store/product/updated",
                now_ms - age_ms,
                "product",
                entity_id,
                "upsert",
            )
        )

    count = ops_for(sandbox).replay(CONNECTION, now_ms - 60_000, now_ms)

    assert count == 2
    assert sandbox.queue_depth("SyncQueue") == 2


def test_status_says_what_is_in_sync_and_what_is_not(hooked_sandbox: Sandbox) -> None:
    sandbox = hooked_sandbox
    store_a = sandbox.source_store(CONNECTION)
    fine = store_a.create_product(
        {"name": "Fine", "type": "physical", "sku": "FINE-1", "price": 1, "weight": 1}
    )
    gone = store_a.create_product(
        {"name": "Gone", "type": "physical", "sku": "GONE-1", "price": 1, "weight": 1}
    )
    sandbox.settle()
    store_a.delete_product(gone["id"])
    no_sku = store_a.create_product({"name": "Nameless", "type": "physical", "price": 1, "weight": 1})
    sandbox.settle()

    status = ops_for(sandbox).status(CONNECTION)

    assert status["in_sync"] is False
    assert status["entities"]["product"] == {"in_sync": 1, "not_in_sync": 1, "deleted": 1}
    assert status["not_in_sync"] == [
        {"entity": f"product/{no_sku['id']}", "last_outcome": "never applied", "dest_id": None}
    ]
    [failed] = status["failed_events"]["latest"]
    assert (failed["entity"], failed["entity_now"]) == (f"product/{no_sku['id']}", "not_in_sync")
    assert failed["error"].startswith("missing_sku")
    assert fine["id"] not in {int(e["entity"].split("/")[1]) for e in status["not_in_sync"]}


OPS_COMMANDS = {
    "status": ["status", "--connection", CONNECTION],
    "replay": ["replay", "--connection", CONNECTION, "--since", "2026-01-01T00:00:00Z"],
    "redrive": ["redrive", "--dry-run"],
    "full-sync": ["full-sync", "--connection", CONNECTION, "--wait", "5"],
    "drift": ["drift", "--connection", CONNECTION],
}


@pytest.mark.parametrize("command", list(OPS_COMMANDS))
def test_without_a_running_local_stack_an_ops_command_says_so_and_exits_2(command: str) -> None:
    result = CliRunner().invoke(main, OPS_COMMANDS[command])

    assert result.exit_code == 2, result.output
    assert "no local stack is running (start one with: catalog-sync local start)" in result.output
    assert "in_sync" not in result.output  # never a report about some other, empty stack


def test_a_stack_file_left_by_a_killed_local_start_counts_as_no_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    killed = subprocess.Popen([sys.executable, "-c", "pass"])
    killed.wait()
    monkeypatch.setenv(running_stack.STACK_FILE_VARIABLE, str(tmp_path / "local-stack.json"))
    running_stack.publish(
        running_stack.RunningStack(
            pid=killed.pid,
            aws=AwsBackend(endpoint_url="http://127.0.0.1:9"),
            api_url="http://127.0.0.1:3000",
            stack=LocalStack("catalog-sync-local", "us-east-1", {}, {}, {}),
        )
    )

    result = CliRunner().invoke(main, OPS_COMMANDS["status"])

    assert result.exit_code == 2
    assert "no local stack is running" in result.output


def test_a_local_stack_that_stops_answering_mid_command_is_named_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(running_stack.STACK_FILE_VARIABLE, str(tmp_path / "local-stack.json"))
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with socket.socket() as dying:  # accepts, then hangs up: a stack going down as the command runs
        dying.bind(("127.0.0.1", 0))
        dying.listen()
        endpoint = f"http://127.0.0.1:{dying.getsockname()[1]}"
        hang_up = threading.Thread(target=_hang_up_on_each, args=(dying, 10), daemon=True)
        hang_up.start()
        running_stack.publish(
            running_stack.RunningStack(
                pid=os.getpid(),
                aws=AwsBackend(endpoint_url=endpoint),
                api_url="http://127.0.0.1:3000",
                stack=LocalStack(
                    "catalog-sync-local", "us-east-1", {}, {}, {"SyncStateTable": "t", "EventsTable": "e"}
                ),
            )
        )

        result = CliRunner().invoke(main, OPS_COMMANDS["status"])

    assert result.exit_code == 2, result.output
    assert f"the local stack stopped answering at {endpoint}" in result.output


def _hang_up_on_each(server: socket.socket, count: int) -> None:
    server.settimeout(10)
    for _ in range(count):
        try:
            connection, _ = server.accept()
        except OSError:
            return
        connection.close()
