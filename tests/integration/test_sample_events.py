"""Every event in events/ runs through the function the template maps its folder to.

Folder names match the functions' CodeUri (events/webhook_receiver -> functions/webhook_receiver), so
`sam local invoke <LogicalId> -e events/<folder>/<case>.json` and these tests feed the same events.
Webhook samples come from both kinds of source: BigCommerce (Standard Webhooks, a signed timestamp) and
Pixlpay (`X-Pixlpay-Signature` over the body, no signed timestamp: the payload's `created_at` dates it),
and from two-way connections' destinations (POST /webhooks/{connection}/destination): store D's
BigCommerce notification and our Medusa subscriber's delivery (Standard Webhooks; its body's `timestamp`
dates it).
"""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime
from pathlib import Path

import pytest

from catalog_sync_local.runtime.sandbox import Sandbox
from tests.conftest import EVENTS
from tests.integration.conftest import CONNECTION

ALL_EVENTS = sorted(EVENTS.glob("*/*.json"))
WEBHOOK_SAMPLES = sorted(EVENTS.glob("webhook_receiver/*.json"))
STANDARD_WEBHOOK_SAMPLES = [p for p in WEBHOOK_SAMPLES if "webhook-timestamp" in p.read_text()]
PIXLPAY_WEBHOOK_SAMPLES = [p for p in WEBHOOK_SAMPLES if "x-pixlpay-signature" in p.read_text()]
DESTINATION_WEBHOOK_SAMPLES = [
    p for p in WEBHOOK_SAMPLES if json.loads(p.read_text())["rawPath"].endswith("/destination")
]
PIXLPAY = "pixlpay-to-medusa"
TWO_WAY_STORES = "store-c-and-d"


def _function_for(box: Sandbox, event_file: Path) -> str:
    [logical_id] = [
        f.logical_id for f in box.stack.functions.values() if f.code_dir.name == event_file.parent.name
    ]
    return logical_id


def _signed_at(event: dict) -> float:
    """When the sample was made: the Standard Webhooks timestamp, else the time its payload states."""
    if "webhook-timestamp" in event["headers"]:
        return int(event["headers"]["webhook-timestamp"])
    return _stated_at(event)


def _stated_at(event: dict) -> float:
    """The payload's own time: BigCommerce's created_at (epoch seconds), Pixlpay's created_at or the Medusa
    subscriber's timestamp (ISO-8601)."""
    raw = event["body"]
    body = json.loads(base64.b64decode(raw) if event.get("isBase64Encoded") else raw)
    stated = body["created_at"] if "created_at" in body else body["timestamp"]
    if isinstance(stated, int):
        return stated
    return datetime.fromisoformat(stated.replace("Z", "+00:00")).timestamp()


def _retention_s(box: Sandbox) -> int:
    env = box.stack.functions["WebhookReceiverFunction"].environment
    return int(env["EVENT_RETENTION_DAYS"]) * 86_400


def test_the_webhook_samples_cover_both_kinds_of_source() -> None:
    assert STANDARD_WEBHOOK_SAMPLES
    assert PIXLPAY_WEBHOOK_SAMPLES
    assert sorted(STANDARD_WEBHOOK_SAMPLES + PIXLPAY_WEBHOOK_SAMPLES) == WEBHOOK_SAMPLES


def test_the_destination_samples_post_to_the_destination_route_of_both_two_way_connections() -> None:
    events = {p.name: json.loads(p.read_text()) for p in DESTINATION_WEBHOOK_SAMPLES}

    assert sorted(events) == ["medusa_product_updated.json", "store_d_product_updated.json"]
    for event in events.values():
        connection = event["pathParameters"]["connection"]
        assert (
            event["routeKey"]
            == event["requestContext"]["routeKey"]
            == "POST /webhooks/{connection}/destination"
        )
        assert (
            event["rawPath"]
            == event["requestContext"]["http"]["path"]
            == f"/webhooks/{connection}/destination"
        )
    assert events["store_d_product_updated.json"]["pathParameters"] == {"connection": TWO_WAY_STORES}
    medusa = json.loads(events["medusa_product_updated.json"]["body"])
    assert medusa["type"] == "product.updated"
    assert medusa["data"]["id"].startswith("prod_")
    assert medusa["data"]["external_id"] == "pixlpay_1"


@pytest.mark.parametrize("event_file", WEBHOOK_SAMPLES, ids=lambda p: p.name)
def test_each_webhook_sample_s_payload_states_its_signing_time(event_file: Path) -> None:
    event = json.loads(event_file.read_text())

    assert _stated_at(event) == _signed_at(event)


def test_there_is_an_event_for_every_function(sandbox: Sandbox) -> None:
    covered = {_function_for(sandbox, path) for path in ALL_EVENTS}
    assert covered == set(sandbox.stack.functions)


@pytest.mark.parametrize("event_file", WEBHOOK_SAMPLES, ids=lambda p: p.name)
def test_webhook_samples_are_accepted_at_their_signing_time(
    sandbox: Sandbox, event_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = json.loads(event_file.read_text())
    monkeypatch.setattr(time, "time", lambda: _signed_at(event) + 1.0)

    response = sandbox.runtime.invoke(_function_for(sandbox, event_file), event)

    assert response["statusCode"] == 200, response["body"]
    assert json.loads(response["body"])["status"] == "accepted"
    assert sandbox.queue_depth("SyncQueue") == 1


@pytest.mark.parametrize("event_file", STANDARD_WEBHOOK_SAMPLES, ids=lambda p: p.name)
def test_webhook_samples_are_refused_as_replays_after_the_tolerance(
    sandbox: Sandbox, event_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = json.loads(event_file.read_text())
    monkeypatch.setattr(time, "time", lambda: _signed_at(event) + 301.0)

    response = sandbox.runtime.invoke(_function_for(sandbox, event_file), event)

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"] == "timestamp_out_of_tolerance"
    assert sandbox.events() == []


@pytest.mark.parametrize("event_file", PIXLPAY_WEBHOOK_SAMPLES, ids=lambda p: p.name)
def test_pixlpay_samples_outlive_five_minutes_but_not_the_replay_window(
    sandbox: Sandbox, event_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = json.loads(event_file.read_text())
    receiver = _function_for(sandbox, event_file)
    window = _retention_s(sandbox)

    monkeypatch.setattr(time, "time", lambda: _signed_at(event) + window + 1.0)
    too_old = sandbox.runtime.invoke(receiver, event)
    monkeypatch.setattr(time, "time", lambda: _signed_at(event) + 301.0)
    still_fresh = sandbox.runtime.invoke(receiver, event)

    assert too_old["statusCode"] == 400
    assert json.loads(too_old["body"])["error"] == "delivery_too_old"
    assert still_fresh["statusCode"] == 200, still_fresh["body"]
    assert [e["pk"] for e in sandbox.events()] == [PIXLPAY]  # only the fresh one was stored


@pytest.mark.parametrize("event_file", DESTINATION_WEBHOOK_SAMPLES, ids=lambda p: p.name)
def test_destination_samples_queue_a_destination_side_request(
    sandbox: Sandbox, event_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = json.loads(event_file.read_text())
    monkeypatch.setattr(time, "time", lambda: _signed_at(event) + 1.0)

    response = sandbox.runtime.invoke(_function_for(sandbox, event_file), event)

    assert response["statusCode"] == 200, response["body"]
    delivery_id = json.loads(response["body"])["delivery_id"]
    assert delivery_id == f"destination:{event['headers']['webhook-id']}"  # the destination's namespace


def test_consumer_sample_batch_syncs_both_products(sandbox: Sandbox) -> None:
    store_a = sandbox.source_store(CONNECTION)
    for i in (1, 2):
        store_a.create_product(
            {"name": f"Sample {i}", "type": "physical", "sku": f"SAMPLE-{i}", "price": i, "weight": 1}
        )
    event_file = EVENTS / "sync_consumer" / "product_batch.json"

    response = sandbox.runtime.invoke(_function_for(sandbox, event_file), json.loads(event_file.read_text()))

    assert response == {"batchItemFailures": []}
    assert sorted(p["sku"] for p in sandbox.destination_store(CONNECTION).products()) == [
        "SAMPLE-1",
        "SAMPLE-2",
    ]


def test_pixlpay_consumer_sample_batch_syncs_both_products_into_medusa(sandbox: Sandbox) -> None:
    pixlpay = sandbox.pixlpay_store(PIXLPAY)
    for name in ("Sample Rank", "Sample Kit"):
        pixlpay.create_product(name, "3.00")  # ids 1 and 2, the ones the sample names
    event_file = EVENTS / "sync_consumer" / "pixlpay_product_batch.json"

    response = sandbox.runtime.invoke(_function_for(sandbox, event_file), json.loads(event_file.read_text()))

    assert response == {"batchItemFailures": []}
    synced = {p["external_id"]: p["title"] for p in sandbox.medusa_store(PIXLPAY).products()}
    assert synced == {"pixlpay_1": "Sample Rank", "pixlpay_2": "Sample Kit"}


def test_two_way_consumer_sample_pairs_store_c_s_product_with_store_d_s_and_merges_it(
    sandbox: Sandbox,
) -> None:
    store_c = sandbox.source_store(TWO_WAY_STORES)
    store_c.create_product(
        {"name": "Two-way", "type": "physical", "sku": "TWO-WAY-1", "price": 5, "weight": 1}
    )
    event_file = EVENTS / "sync_consumer" / "two_way_batch.json"
    requests = [json.loads(r["body"]) for r in json.loads(event_file.read_text())["Records"]]

    response = sandbox.runtime.invoke(_function_for(sandbox, event_file), json.loads(event_file.read_text()))

    assert [(r["side"], r["entity_id"], r["dest_id"]) for r in requests] == [
        ("source", 101, None),
        ("destination", 0, "101"),
    ]
    assert response == {"batchItemFailures": []}
    [copy] = sandbox.destination_store(TWO_WAY_STORES).products()
    assert (copy["id"], copy["sku"], copy["name"]) == (101, "TWO-WAY-1", "Two-way")
    assert [p["sku"] for p in store_c.products()] == ["TWO-WAY-1"]  # store D's request made no second one


def test_scheduled_samples_run_their_jobs(sandbox: Sandbox) -> None:
    store_a = sandbox.source_store(CONNECTION)
    for i in range(3):
        store_a.create_product(
            {"name": f"Sched {i}", "type": "physical", "sku": f"SCHED-{i}", "price": 1, "weight": 1}
        )
    results = {}
    for folder in ("pull_sync", "full_sync", "event_cleanup"):
        event_file = EVENTS / folder / "scheduled.json"
        results[folder] = sandbox.runtime.invoke(
            _function_for(sandbox, event_file), json.loads(event_file.read_text())
        )

    assert results["pull_sync"]["connections"][0]["enqueued"] == 3
    assert results["full_sync"]["connections"][0]["enqueued"] == 3
    assert results["event_cleanup"]["job"] == "cleanup"
    assert sandbox.queue_depth("SyncQueue") == 6
    sandbox.settle()
    assert sorted(p["sku"] for p in sandbox.destination_store(CONNECTION).products()) == [
        "SCHED-0",
        "SCHED-1",
        "SCHED-2",
    ]


def test_the_status_sample_answers_the_connections_report(sandbox: Sandbox) -> None:
    # sam local invoke hands the event straight to the function: IAM has already let it through.
    event = json.loads((EVENTS / "status_api" / "store_a_to_b.json").read_text())

    response = sandbox.runtime.invoke("StatusApiFunction", event)

    assert response["statusCode"] == 200, response["body"]
    assert json.loads(response["body"])["connection"] == "store-a-to-b"
