"""Audit trail in SyncStateTable: every change applied at a destination, queryable per entity.

Layout: pk = "{connection}#changes#{entity_type}#{source_id}", sk = ISO-8601 UTC time (microseconds) plus a
short random suffix (two writes in one microsecond never collide); `expires_at` is the table's TTL
attribute, so the trail keeps itself to `retention_days`. An entry holds the action, the source version
applied, the fields that changed and a short summary of what the destination answered.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from catalog_sync.store.items import from_item, to_item

MAX_SUMMARY_CHARS = 2_000


@dataclass(frozen=True)
class Change:
    connection: str
    entity_type: str
    source_id: int
    action: str
    source_version: str | None = None
    fields: tuple[str, ...] = ()
    dest_id: int | str | None = None
    response: Mapping[str, Any] = field(default_factory=dict)


def _pk(connection: str, entity_type: str, source_id: int) -> str:
    return f"{connection}#changes#{entity_type}#{source_id}"


class ChangeLog:
    def __init__(
        self,
        table_name: str,
        client: Any,
        *,
        retention_days: int = 30,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table_name = table_name
        self.client = client
        self.retention_s = retention_days * 86_400
        self.clock = clock

    def record(self, change: Change) -> None:
        now = self.clock()
        stamp = datetime.fromtimestamp(now, UTC).isoformat(timespec="microseconds")
        item = {
            "pk": _pk(change.connection, change.entity_type, change.source_id),
            "sk": f"{stamp}#{secrets.token_hex(3)}",
            "action": change.action,
            "source_version": change.source_version,
            "fields": list(change.fields),
            "dest_id": change.dest_id,
            "response": _summary(change.response),
            "expires_at": int(now + self.retention_s),
        }
        self.client.put_item(TableName=self.table_name, Item=to_item(item))

    def history(
        self, connection: str, entity_type: str, source_id: int, *, limit: int = 50, newest_first: bool = True
    ) -> list[dict[str, Any]]:
        resp = self.client.query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_item({":pk": _pk(connection, entity_type, source_id)}),
            ScanIndexForward=not newest_first,
            Limit=limit,
        )
        return [from_item(item) for item in resp.get("Items", [])]


def _summary(response: Mapping[str, Any]) -> dict[str, Any]:
    """Scalars of the destination's answer (ids, status, counts), truncated: an audit entry stays small."""
    kept: dict[str, Any] = {}
    size = 0
    for key, value in response.items():
        if isinstance(value, str | int | float | bool) or value is None:
            text = str(value)
            size += len(key) + len(text)
            if size > MAX_SUMMARY_CHARS:
                break
            kept[key] = value if not isinstance(value, str) else text[:200]
    return kept
