"""BigCommerce webhook notifications of our own making, shaped like the payloads BigCommerce documents.

The documented shapes (keys and value types per scope) are derived facts in bigcommerce_contract.json;
`tests/unit/test_payloads.py` checks every notification made here against them.
"""

from __future__ import annotations

import hashlib
from typing import Any

STORE_ID = "1000001"
PRODUCER = "stores/abc123"
CREATED_AT = 1_717_236_000  # 2024-06-01T10:00:00Z


def notification(scope: str, entity_id: int, *, product_id: int = 0) -> dict[str, Any]:
    """A notification of `scope` naming `entity_id`; sku scopes also name their product (`product_id`)."""
    kind = scope.split("/")[1]
    data: dict[str, Any] = {"type": kind, "id": entity_id}
    if kind == "sku":
        data["sku"] = {"product_id": product_id, "variant_id": entity_id + 1000}
    return {
        "scope": scope,
        "store_id": STORE_ID,
        "data": data,
        "hash": hashlib.sha1(f"{scope}:{entity_id}".encode()).hexdigest(),  # noqa: S324 - an id
        "created_at": CREATED_AT,
        "producer": PRODUCER,
    }
