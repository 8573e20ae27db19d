"""Error classification end to end through the real SyncConsumerFunction on moto: permanent -> DLQ at once
with the reason, retriable -> back to the queue then done, skippable -> recorded, no retry; and every
applied change lands in the audit trail."""

from __future__ import annotations

import boto3

from catalog_sync.store.changelog import ChangeLog
from catalog_sync.sync_request import SyncRequest
from catalog_sync_local.runtime.sandbox import Sandbox
from tests.integration.conftest import CONNECTION


def _enqueue(box: Sandbox, product_ids: list[int]) -> None:
    sqs = boto3.client("sqs")
    for pid in product_ids:
        body = SyncRequest(connection=CONNECTION, entity_type="product", entity_id=pid).model_dump_json()
        sqs.send_message(QueueUrl=box.stack.queues["SyncQueue"].url, MessageBody=body)


def _dead_letters(box: Sandbox) -> list[dict[str, str]]:
    messages = (
        boto3.client("sqs")
        .receive_message(
            QueueUrl=box.stack.queues["SyncDeadLetterQueue"].url,
            MessageAttributeNames=["All"],
            MaxNumberOfMessages=10,
        )
        .get("Messages", [])
    )
    return [{k: v["StringValue"] for k, v in m["MessageAttributes"].items()} for m in messages]


def test_a_duplicate_sku_at_the_destination_is_dead_lettered_with_its_reason(sandbox: Sandbox) -> None:
    store_a, store_b = sandbox.source_store(CONNECTION), sandbox.destination_store(CONNECTION)
    cups = store_b.create_product(
        {"name": "Cups", "type": "physical", "sku": "CUPS", "price": 1, "weight": 1}
    )
    store_b.add_variant(cups["id"], sku="MUG", option_values=[{"option_display_name": "C", "label": "x"}])
    mug = store_a.create_product({"name": "Mug", "type": "physical", "sku": "MUG", "price": 1, "weight": 1})
    _enqueue(sandbox, [mug["id"]])

    report = sandbox.runtime.drain()

    assert report.failed == 0  # not retried: parked at once
    [parked] = _dead_letters(sandbox)
    assert parked["error_code"] == "duplicate_sku"
    assert "MUG" in parked["error"]


def test_a_destination_outage_goes_back_to_the_queue_and_completes_later(sandbox: Sandbox) -> None:
    store_a, store_b = sandbox.source_store(CONNECTION), sandbox.destination_store(CONNECTION)
    product = store_a.create_product(
        {"name": "Lamp", "type": "physical", "sku": "LAMP", "price": 3, "weight": 1}
    )
    store_b.fail_next("*", r"^/catalog/products", status=503, times=6)  # more than one record's HTTP retries
    _enqueue(sandbox, [product["id"]])

    report = sandbox.settle()

    assert report.failed >= 1 and report.succeeded == 1
    assert [p["sku"] for p in store_b.products()] == ["LAMP"]
    assert _dead_letters(sandbox) == []


def test_a_product_deleted_before_we_fetched_it_is_recorded_and_not_retried(sandbox: Sandbox) -> None:
    store_a = sandbox.source_store(CONNECTION)
    product = store_a.create_product(
        {"name": "Gone", "type": "physical", "sku": "GONE", "price": 3, "weight": 1}
    )
    store_a.delete_product(product["id"])
    _enqueue(sandbox, [product["id"]])

    report = sandbox.runtime.drain()

    assert (report.received, report.failed) == (1, 0)
    assert sandbox.queue_depth("SyncQueue") == 0
    assert _dead_letters(sandbox) == []
    assert sandbox.destination_store(CONNECTION).products() == []


def test_applied_changes_are_in_the_audit_trail_per_entity(sandbox: Sandbox) -> None:
    store_a = sandbox.source_store(CONNECTION)
    product = store_a.create_product(
        {"name": "Pen", "type": "physical", "sku": "PEN", "price": 3, "weight": 1}
    )
    _enqueue(sandbox, [product["id"]])
    sandbox.runtime.drain()

    log = ChangeLog(sandbox.stack.resources["SyncStateTable"], boto3.client("dynamodb"))
    [entry] = log.history(CONNECTION, "product", product["id"])
    assert entry["action"] == "created"
    assert entry["source_version"] and entry["expires_at"] > 0
    assert entry["dest_id"] == next(p["id"] for p in sandbox.destination_store(CONNECTION).products())
