"""What the simulated Medusa adds for two-way sync, as a real Medusa 2.21.2 with our subscriber did
(tests/contract/medusa): the webhook forwarder's deliveries, and the products list's `updated_at`
filters and `order`.

- Forwarding: integrations/medusa-brand/src/subscribers/catalog-sync-webhook.ts POSTs
  `{type, timestamp, data{id, external_id, updated_at}}` (compact JSON; times ISO-8601 UTC with
  milliseconds, `updated_at` null once deleted), signed per Standard Webhooks (`webhook-id`
  `msg_<32 hex>`, kept across retries; `webhook-timestamp`; `webhook-signature` `v1,<base64>`), a variant
  event as product.updated of its product. The BigCommerce simulator's dispatcher does the delivering
  (one thread, loopback only, bounded retries, a fresh timestamp and signature per attempt).
- `updated_at[$gt|$gte|$lt|$lte|$eq]=<ISO>` and `updated_at=<ISO>` filter; `order` names one field,
  `-` for descending; ties come in no id order (a real Medusa gave a batch's products in an order
  unrelated to their ids): here by id descending, so a client that assumes id order fails.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from catalog_sync_local.simulators.shared.delivery import Delivery, Dispatcher

OPERATORS = {
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
    "$eq": lambda a, b: a == b,
}
_FILTER = re.compile(r"^(created_at|updated_at|deleted_at)(?:\[(\$\w+)\])?$")
_ID_OPERATOR = re.compile(r"^id\[")


class OrderError(Exception):
    """What a real Medusa answers with a 500 (`order=updated_at,id`)."""


def forwarded_body(event_name: str, product: Mapping[str, Any], now: str) -> dict[str, Any]:
    kind = event_name if event_name in ("product.created", "product.deleted") else "product.updated"
    return {
        "type": kind,
        "timestamp": now,
        "data": {
            "id": product["id"],
            "external_id": product.get("external_id"),
            "updated_at": None if kind == "product.deleted" else product.get("updated_at"),
        },
    }


class ForwarderDispatcher(Dispatcher):
    def enqueue_event(self, url: str, body: dict[str, Any]) -> None:
        headers = {"User-Agent": "catalog-sync-medusa-forwarder/1", "webhook-id": f"msg_{uuid.uuid4().hex}"}
        delivery = Delivery(0, body["type"], url, body, headers)
        with self._idle:
            self._records.append(delivery)
            self._pending += 1
        self._queue.put(delivery)

    def _message_id(self, delivery: Delivery) -> str:
        return delivery.headers["webhook-id"]


def check_product_query(query: Mapping[str, str]) -> None:
    """Raise what a real Medusa refuses: OrderError for several order fields, ValueError for `id[$op]`."""
    if "," in query.get("order", ""):
        raise OrderError(query["order"])
    if any(_ID_OPERATOR.match(key) for key in query):
        raise ValueError(
            "Invalid request: Expected type: 'string, array' for field 'id', got: '[object Object]'"
        )


def time_filters_match(record: Mapping[str, Any], query: Mapping[str, str]) -> bool:
    for key, wanted in query.items():
        match = _FILTER.match(key)
        if match is None:
            continue
        field, operator = match.group(1), match.group(2) or "$eq"
        compare = OPERATORS.get(operator)
        if compare is None:
            raise ValueError(f"Invalid request: Unrecognized operator '{operator}' for field '{field}'")
        value = record.get(field)
        if value is None or not compare(_time(value), _time(wanted)):
            return False
    return True


def ordered(records: Iterable[dict[str, Any]], order: str | None) -> list[dict[str, Any]]:
    items = list(records)
    if not order:
        return sorted(items, key=lambda r: str(r["id"]))
    field = order.lstrip("-")
    by_id_descending = sorted(items, key=lambda r: str(r["id"]), reverse=True)  # how ties come
    return sorted(by_id_descending, key=lambda r: _sort_key(r.get(field)), reverse=order.startswith("-"))


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, "") if value is None else (1, value)


def _time(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"Invalid request: '{value}' is not a date") from None
