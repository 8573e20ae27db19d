"""Integration fixtures: the whole stack from template.yaml on moto, with two simulated stores."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from catalog_sync.sync_request import SyncRequest
from catalog_sync_local.runtime.sandbox import Sandbox

CONNECTION = "store-a-to-b"
REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(register_webhooks=False) as box:
        yield box


@pytest.fixture
def hooked_sandbox() -> Iterator[Sandbox]:
    """Store A's webhooks registered to the local HTTP API, as `make demo` does."""
    with Sandbox(register_webhooks=True) as box:
        yield box


ECHO_HANDLER = '''"""Echo: returns the environment the local runtime gave it; records each SQS batch size."""
import json
import os

BATCH_SIZES = []


def handler(event, context):
    if event.get("version") == "2.0":  # an HTTP API request: answer with the event API Gateway built
        return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}
    records = event.get("Records")
    if records is not None:
        BATCH_SIZES.append(len(records))
        return {"batchItemFailures": []}
    return {name: os.environ.get(name) for name in event.get("names", [])}
'''


def modified_template(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of template.yaml in tmp_path, changed by `change`.

    Code paths are made absolute so they still resolve from tmp_path; tmp_path/echo holds a tiny echo
    handler (see ECHO_HANDLER) that `change` may point a function's CodeUri at."""
    from catalog_sync_local.runtime.stack import load_template

    template = load_template(TEMPLATE)
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = str(REPO / props[key])
    echo = tmp_path / "echo"
    echo.mkdir(exist_ok=True)
    (echo / "app.py").write_text(ECHO_HANDLER)
    change(template)
    path = tmp_path / "template.yaml"
    path.write_text(json.dumps(template, indent=1))  # JSON is YAML: load_template reads it back
    return path


def queued(box: Sandbox) -> list[SyncRequest]:
    """Take every message off SyncQueue (without syncing them)."""
    sqs, url = boto3.client("sqs"), box.stack.queues["SyncQueue"].url
    taken: list[SyncRequest] = []
    for _ in range(1_000):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        for message in messages:
            taken.append(SyncRequest.model_validate_json(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return taken
