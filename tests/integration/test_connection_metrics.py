"""The handlers' metrics on the local stack: every webhook and sync metric names its connection, the
lag from the source's change to the destination's write is measured, and a path that names no
configured connection is counted as `unknown` (a stranger cannot mint dimension values)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests

from catalog_sync_local.runtime.sandbox import Sandbox
from tests.integration.conftest import CONNECTION
from tests.integration.test_webhook_to_sync import _post_webhook, _product_updated


def _emf(out: str) -> list[dict[str, Any]]:
    documents = []
    for line in out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            documents.append(json.loads(line))
    return documents


def _total(documents: list[dict[str, Any]], connection: str, name: str) -> float:
    return sum(sum(d[name]) for d in documents if d.get("connection") == connection and name in d)


def test_a_synced_webhook_is_counted_and_timed_for_its_connection(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    product = sandbox.source_store(CONNECTION).create_product(
        {"name": "Lamp", "type": "physical", "sku": "LAMP-9", "price": 30, "weight": 2}
    )
    changed_at = time.time()
    assert _post_webhook(sandbox, _product_updated(product["id"]), msg_id="m1").status_code == 200
    assert _post_webhook(sandbox, _product_updated(product["id"]), msg_id="m1").status_code == 200
    sandbox.settle()
    synced_within_ms = (time.time() - changed_at + 1) * 1000  # the notification's created_at is whole s

    documents = _emf(capsys.readouterr().out)
    for document in documents:
        if "connection" in document:
            dimensions = document["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
            assert dimensions == [["connection", "service"], ["service"]]
    assert _total(documents, CONNECTION, "Webhook_accepted") == 1
    assert _total(documents, CONNECTION, "Webhook_duplicate") == 1
    # The redelivery came before the consumer ran, so it was queued again (its first send might have
    # been lost): two records in one batch, one sync, each record judged by that sync's outcome.
    assert _total(documents, CONNECTION, "Sync_records") == 2
    assert _total(documents, CONNECTION, "Sync_created") == 2
    assert _total(documents, CONNECTION, "Destination_requests") >= 1
    lags = [v for d in documents if d.get("connection") == CONNECTION for v in d.get("Sync_lag", [])]
    assert len(lags) == 2 and all(0 <= lag <= synced_within_ms for lag in lags)


def test_a_path_naming_no_connection_is_counted_as_unknown(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sandbox.webhook_url(CONNECTION).replace(CONNECTION, "made-up-by-a-stranger")
    resp = requests.post(url, data=b"{}", headers={"content-type": "application/json"}, timeout=10)

    assert resp.status_code == 404
    documents = _emf(capsys.readouterr().out)
    assert _total(documents, "unknown", "Webhook_rejected") == 1
    assert not [d for d in documents if d.get("connection") == "made-up-by-a-stranger"]
