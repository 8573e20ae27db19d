"""What `make chaos` watches while it runs: the destination's write log, the containers' logs, the queues.

- `WriteLog`: every product write store B applies (create or update), in order, with the version the
  merchant put in the product's name ("Chaos 7 v12"). A write of an older version than one already
  written for that SKU is a stale overwrite: the promise is that there are none.
- `LogCounters`: the consumer's "sync failed" warnings in the containers' log file, by error code
  (lease_held = a lease conflict: another worker held the entity).
- `quiet_queues`: wait (bounded) until webhooks are delivered and no message is left on a queue, in
  flight or waiting out a backoff.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from catalog_sync_local.runtime.sandbox import Sandbox
from catalog_sync_local.simulators.bigcommerce.store import BigCommerceStore

VERSION = re.compile(r" v(\d+)$")
WRITE_SCOPES = ("store/product/created", "store/product/updated")


@dataclass
class WriteLog:
    """Store B's product writes, as (sku, version), from its catalog's change notifications."""

    writes: list[tuple[str, int]] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    # Per product id at B, each write applied to it, whatever request made it (a batch PUT included).
    trail: dict[int, list[str]] = field(default_factory=dict)
    _highest: dict[str, int] = field(default_factory=dict)

    def attach(self, store: BigCommerceStore) -> None:
        catalog = store.catalog
        emit = catalog.emit

        def recording(scope: str, data: dict[str, Any]) -> None:
            # Called under the catalog's lock, right after the write: the view is what was written.
            if scope in WRITE_SCOPES:
                product = catalog.product_view(int(data["id"]))
                self.record(product)
                self.trail.setdefault(int(data["id"]), []).append(_write_view(scope, product))
            elif scope == "store/product/deleted":
                self.trail.setdefault(int(data["id"]), []).append("deleted")
            emit(scope, data)

        catalog.emit = recording

    def record(self, product: dict[str, Any]) -> None:
        match = VERSION.search(str(product.get("name", "")))
        if not match:
            return
        sku, version = str(product.get("sku")), int(match.group(1))
        self.writes.append((sku, version))
        if version < self._highest.get(sku, 0):
            self.stale.append(f"{sku}: v{version} written after v{self._highest[sku]}")
        self._highest[sku] = max(version, self._highest.get(sku, 0))


def _write_view(scope: str, product: dict[str, Any]) -> str:
    shown = "visible" if product.get("is_visible") else "hidden"
    return f"{scope.rsplit('/', 1)[-1]} {product.get('name')} {shown} {product.get('availability')}"


def log_counters(path: Path) -> Counter[str]:
    """Warnings and errors of the containers' JSON log lines, as "<message>/<error code>"."""
    counts: Counter[str] = Counter()
    if not path.exists():
        return counts
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if not line.startswith("{") or '"level"' not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("level") in ("WARNING", "ERROR"):
                counts[f"{entry.get('message')}/{entry.get('error', '')}"] += 1
    return counts


def queue_depths(box: Sandbox, *queues: str) -> int:
    sqs = boto3.client("sqs")
    total = 0
    for logical_id in queues:
        attrs = sqs.get_queue_attributes(
            QueueUrl=box.stack.queues[logical_id].url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        total += sum(int(v) for v in attrs.values())
    return total


def quiet_queues(
    box: Sandbox,
    *,
    max_seconds: float,
    queues: tuple[str, ...] = ("SyncQueue", "FullSyncContinuationQueue"),
    calm_checks: int = 3,
    on_wait: Callable[[], None] | None = None,
) -> bool:
    """True once every webhook is delivered and the queues stayed empty for `calm_checks` checks in a
    row; False if `max_seconds` pass first."""
    deadline = time.monotonic() + max_seconds
    calm = 0
    while time.monotonic() < deadline:
        delivered = all(
            store.wait_for_deliveries(timeout=max(0.1, min(30.0, deadline - time.monotonic())))
            for store in [*box.stores.values(), *box.pixlpay_stores.values()]
        )
        if delivered and queue_depths(box, *queues) == 0:
            calm += 1
            if calm >= calm_checks:
                return True
        else:
            calm = 0
        if on_wait is not None:
            on_wait()
        time.sleep(0.3)
    return False


def dead_letters(box: Sandbox, limit: int = 1000) -> list[str]:
    """What the DLQ holds, one line per message: why (the consumer's error code, or the redrive after
    maxReceiveCount receives) and which entity."""
    sqs = boto3.client("sqs")
    url = box.stack.queues["SyncDeadLetterQueue"].url
    found: list[str] = []
    for _ in range(limit // 10 + 1):
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=600
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            attributes = message.get("MessageAttributes") or {}
            error = attributes.get("error")
            reason = (error.get("StringValue") if error else None) or "redriven after 5 receives"
            try:
                body = json.loads(message["Body"])
                entity = f"{body.get('entity_type')}/{body.get('entity_id')} ({body.get('origin')})"
            except ValueError:
                entity = "unparsable body"
            found.append(f"{entity}: {reason[:160]}")
    return found


def explain_sku(
    box: Sandbox, connection: str, sku: str, a_ids: list[int], writes: WriteLog
) -> dict[str, Any]:
    """Everything the run knows of one SKU that did not converge: its ids at A (live or not), their
    sync state and events, its product(s) at B, every write B applied to them and the requests B
    answered that named them in their path."""
    try:
        return _explain_sku(box, connection, sku, a_ids, writes)
    except Exception as exc:  # a report, never a reason for the run to stop
        return {"sku": sku, "error": repr(exc)}


def _explain_sku(
    box: Sandbox, connection: str, sku: str, a_ids: list[int], writes: WriteLog
) -> dict[str, Any]:
    from catalog_sync.store.state import StateStore

    a, b = box.source_store(connection), box.destination_store(connection)
    state = StateStore(box.stack.resources["SyncStateTable"], boto3.client("dynamodb"))
    events = [e for e in box.events() if e.get("entity_id") in a_ids]
    at_b = [p for p in b.products(include=()) if p.get("sku") == sku]
    paths = {f"/catalog/products/{p['id']}" for p in at_b}
    b_requests = [
        f"{r.method} {r.path} {r.status}"
        for r in b.request_log
        if any(r.path == path or r.path.startswith(path + "/") for path in paths) and r.method != "GET"
    ]
    return {
        "sku": sku,
        "at_a": {pid: a.get_product(pid) is not None for pid in a_ids},
        "state": {pid: _state_view(state.get(connection, "product", pid)) for pid in a_ids},
        "events": sorted(
            (int(e.get("received_at") or 0), str(e.get("action")), str(e.get("status")), str(e.get("sk")))
            for e in events
        ),
        "at_b": [
            {k: p.get(k) for k in ("id", "name", "is_visible", "availability", "date_modified")} for p in at_b
        ],
        "b_writes": {p["id"]: writes.trail.get(int(p["id"]), [])[-30:] for p in at_b},
        "b_requests": b_requests[-30:],
    }


def _state_view(current: Any) -> dict[str, Any] | None:
    if current is None:
        return None
    keys = ("dest_id", "deleted", "last_outcome", "source_modified", "revision")
    return {key: getattr(current, key, None) for key in keys}
