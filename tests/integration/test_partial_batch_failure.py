"""A failing record is the only one retried; after the redrive limit it is in the DLQ; the rest sync."""

from __future__ import annotations

import io
import json
import logging
import time

import boto3

from catalog_sync.consumer import DEFER_FOR_S, MAX_DEFERRALS
from catalog_sync.store.state import StateStore
from catalog_sync.sync_request import SyncRequest
from catalog_sync_local.runtime.sandbox import Sandbox
from tests.integration.conftest import CONNECTION


def _enqueue(box: Sandbox, product_ids: list[int], queued_at: float | None = None) -> None:
    sqs = boto3.client("sqs")
    entries = [
        {
            "Id": str(i),
            "MessageBody": SyncRequest(
                connection=CONNECTION, entity_type="product", entity_id=pid, queued_at=queued_at
            ).model_dump_json(),
        }
        for i, pid in enumerate(product_ids)
    ]
    sqs.send_message_batch(QueueUrl=box.stack.queues["SyncQueue"].url, Entries=entries)


def test_one_failing_record_in_ten_is_retried_alone_then_dead_lettered(sandbox: Sandbox) -> None:
    store_a = sandbox.source_store(CONNECTION)
    ids = [
        store_a.create_product(
            {"name": f"P{i}", "type": "physical", "sku": f"SKU-{i}", "price": i, "weight": 1}
        )["id"]
        for i in range(10)
    ]
    # Another worker holds product 0's lease for 10 minutes, and the records were queued more than the
    # deferral window ago: product 0's is queued again (deferred) MAX_DEFERRALS times, then every attempt
    # on it is a retriable failure. (Younger, it would be deferred until the window closes.)
    state = StateStore(sandbox.stack.resources["SyncStateTable"], boto3.client("dynamodb"))
    state.acquire(CONNECTION, "product", ids[0], owner="someone-else", lease_s=600)
    _enqueue(sandbox, ids, queued_at=time.time() - DEFER_FOR_S - 1)

    report = sandbox.runtime.drain(max_batches=30)

    redrive = sandbox.stack.queues["SyncQueue"].max_receive_count
    assert report.succeeded == 9 + MAX_DEFERRALS  # the nine, then each deferral of product 0
    assert report.failed == redrive  # the same record, once per receive, until the redrive limit
    synced = {p["sku"] for p in sandbox.destination_store(CONNECTION).products()}
    assert synced == {f"SKU-{i}" for i in range(1, 10)}
    assert sandbox.queue_depth("SyncQueue") == 0
    assert sandbox.queue_depth("SyncDeadLetterQueue") == 1
    [parked] = boto3.client("sqs").receive_message(QueueUrl=sandbox.stack.queues["SyncDeadLetterQueue"].url)[
        "Messages"
    ]
    assert SyncRequest.model_validate_json(parked["Body"]).entity_id == ids[0]


def test_a_record_no_retry_can_fix_goes_to_the_dlq_at_once_with_its_reason(sandbox: Sandbox) -> None:
    store_a = sandbox.source_store(CONNECTION)
    no_sku = store_a.create_product({"name": "Nameless", "type": "physical", "price": 1, "weight": 1})
    fine = store_a.create_product(
        {"name": "Fine", "type": "physical", "sku": "FINE-1", "price": 1, "weight": 1}
    )
    _enqueue(sandbox, [no_sku["id"], fine["id"]])

    report = sandbox.runtime.drain()

    assert (report.received, report.failed) == (2, 0)
    [parked] = boto3.client("sqs").receive_message(
        QueueUrl=sandbox.stack.queues["SyncDeadLetterQueue"].url, MessageAttributeNames=["All"]
    )["Messages"]
    assert parked["MessageAttributes"]["error_code"]["StringValue"] == "missing_sku"
    assert [p["sku"] for p in sandbox.destination_store(CONNECTION).products()] == ["FINE-1"]


def test_ten_price_edits_in_one_batch_are_one_destination_write_and_a_refused_product_fails_alone(
    sandbox: Sandbox,
) -> None:
    store_a, store_b = sandbox.source_store(CONNECTION), sandbox.destination_store(CONNECTION)
    ids = [
        store_a.create_product(
            {"name": f"P{i}", "type": "physical", "sku": f"SKU-{i}", "price": i, "weight": 1}
        )["id"]
        for i in range(10)
    ]
    _enqueue(sandbox, ids)
    sandbox.runtime.drain()
    store_b.create_product({"name": "Taken", "type": "physical", "sku": "B-ONLY", "price": 1, "weight": 1})
    for product_id in ids:
        store_a.update_product(product_id, price=99.0)
    store_a.update_product(ids[3], name="Taken")  # B has a product of that name already: 409 for this one
    mark = len(store_b.request_log)
    _enqueue(sandbox, ids)

    report = sandbox.runtime.drain()

    assert (report.batches, report.received, report.failed) == (1, 10, 0)
    writes = [(r.method, r.path) for r in store_b.request_log[mark:] if r.method != "GET"]
    assert writes == [("PUT", "/catalog/products")]  # 10 products' fields, one request (207 for one)
    prices = {p["sku"]: p["price"] for p in store_b.products()}
    assert all(prices[f"SKU-{i}"] == 99.0 for i in range(10) if i != 3)
    assert prices["SKU-3"] == 3
    [parked] = boto3.client("sqs").receive_message(
        QueueUrl=sandbox.stack.queues["SyncDeadLetterQueue"].url, MessageAttributeNames=["All"]
    )["Messages"]
    assert SyncRequest.model_validate_json(parked["Body"]).entity_id == ids[3]
    assert "409" in parked["MessageAttributes"]["error"]["StringValue"]


def test_the_consumers_layer_logs_are_structured_json_with_the_entity_and_error(sandbox: Sandbox) -> None:
    warm, fine = (
        sandbox.source_store(CONNECTION).create_product(
            {"name": name, "type": "physical", "sku": name.upper(), "price": 1, "weight": 1}
        )
        for name in ("Warm", "Fine")
    )
    state = StateStore(sandbox.stack.resources["SyncStateTable"], boto3.client("dynamodb"))
    state.acquire(CONNECTION, "product", fine["id"], owner="someone-else", lease_s=600)
    _enqueue(sandbox, [warm["id"]])
    sandbox.runtime.drain(max_batches=1)  # a warm container: its logger is set up
    _enqueue(sandbox, [fine["id"]])
    stream = io.StringIO()
    handlers = [h for h in logging.getLogger("catalog-sync").handlers if isinstance(h, logging.StreamHandler)]
    previous = [h.setStream(stream) for h in handlers]
    try:
        sandbox.runtime.drain(max_batches=1)
    finally:
        for handler, old in zip(handlers, previous, strict=True):
            if old is not None:
                handler.setStream(old)

    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    [failed] = [line for line in lines if line.get("message") == "sync failed"]
    assert (failed["level"], failed["entity"], failed["error"]) == (
        "WARNING",
        f"product/{fine['id']}",
        "lease_held",
    )
    assert "SyncConsumerFunction" in failed["function_name"]  # the invocation's Lambda context keys
