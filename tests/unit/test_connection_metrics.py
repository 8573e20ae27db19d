"""The service's metrics: one EMF document per connection and invocation, with the {connection, service}
and {service} dimension sets; silent and empty when switched off; only names from the catalog."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from catalog_sync.connection_metrics import (
    CATALOG,
    SERVICE_WIDE,
    ConnectionMetrics,
    ResponseCounter,
)


def _documents(lines: list[str]) -> dict[str, dict[str, Any]]:
    """EMF documents by their connection ('-' for service-wide ones)."""
    parsed = [json.loads(line) for line in lines]
    return {d.get("connection", SERVICE_WIDE): d for d in parsed}


def _metrics(lines: list[str]) -> ConnectionMetrics:
    return ConnectionMetrics(namespace="CatalogSync", service="catalog-sync", emit=lines.append)


@pytest.fixture(autouse=True)
def _switched_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")


def test_each_connection_gets_its_own_document_with_both_dimension_sets() -> None:
    lines: list[str] = []
    metrics = _metrics(lines)
    metrics.add("store-a-to-b", "Sync_records")
    metrics.add("store-a-to-b", "Sync_records")
    metrics.add("store-a-to-b", "Sync_lag", 1200)
    metrics.add("store-a-to-b", "Sync_lag", 800)
    metrics.add("pixlpay-to-medusa", "Webhook_accepted")

    metrics.flush()

    documents = _documents(lines)
    assert set(documents) == {"store-a-to-b", "pixlpay-to-medusa"}
    a = documents["store-a-to-b"]
    [directive] = a["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "CatalogSync"
    assert directive["Dimensions"] == [["connection", "service"], ["service"]]
    assert a["service"] == "catalog-sync"
    assert a["Sync_records"] == [2.0]  # counts add up to one value per invocation
    assert sorted(a["Sync_lag"]) == [800.0, 1200.0]  # timings stay samples (percentiles need them)
    units = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
    assert units == {"Sync_records": "Count", "Sync_lag": "Milliseconds"}
    assert documents["pixlpay-to-medusa"]["Webhook_accepted"] == [1.0]


def test_service_wide_metrics_carry_the_service_dimension_only() -> None:
    lines: list[str] = []
    metrics = _metrics(lines)
    metrics.add(SERVICE_WIDE, "Events_requeued", 3)
    metrics.flush()

    [document] = [json.loads(line) for line in lines]
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    assert "connection" not in document
    assert document["Events_requeued"] == [3.0]


def test_a_flush_starts_the_next_invocation_empty() -> None:
    lines: list[str] = []
    metrics = _metrics(lines)
    metrics.add("c", "Webhook_accepted")
    metrics.flush()
    metrics.flush()
    assert len(lines) == 1


def test_a_name_outside_the_catalog_is_refused() -> None:
    with pytest.raises(KeyError, match="Sync_bogus"):
        _metrics([]).add("c", "Sync_bogus")


def test_switched_off_metrics_stay_empty_and_silent_across_150_invocations(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    metrics = ConnectionMetrics(namespace="CatalogSync", service="catalog-sync")

    @metrics.flushing
    def handler(event: dict[str, Any], context: object) -> str:
        metrics.add("c", "Sync_lag", 5)  # a timing: one more sample per invocation if kept
        return "ok"

    for _ in range(150):
        assert handler({}, None) == "ok"

    assert metrics._values == {}
    assert "_aws" not in capsys.readouterr().out


def test_a_handler_that_raises_still_flushes(capsys: pytest.CaptureFixture[str]) -> None:
    metrics = ConnectionMetrics(namespace="CatalogSync", service="catalog-sync")

    @metrics.flushing
    def handler() -> None:
        metrics.add("c", "Sync_failed")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        handler()
    assert '"Sync_failed":[1.0]' in capsys.readouterr().out


@dataclass
class _Response:
    status_code: int


def test_destination_responses_are_counted_per_connection_with_429s_apart() -> None:
    counter = ResponseCounter()
    a, b = counter.hook("a"), counter.hook("b")
    for status in (200, 429, 429, 207):
        a(_Response(status))
    b(_Response(200))
    lines: list[str] = []
    metrics = _metrics(lines)

    counter.drain_into(metrics)
    metrics.flush()
    counter.drain_into(metrics)  # drained: nothing twice

    documents = _documents(lines)
    assert (documents["a"]["Destination_requests"], documents["a"]["Destination_throttled"]) == ([4.0], [2.0])
    assert documents["b"]["Destination_requests"] == [1.0]
    assert "Destination_throttled" not in documents["b"]
    assert metrics._values == {}


def test_every_catalog_entry_has_a_unit_and_a_meaning() -> None:
    for name, spec in CATALOG.items():
        assert spec.unit in ("Count", "Milliseconds"), name
        assert spec.meaning, name
