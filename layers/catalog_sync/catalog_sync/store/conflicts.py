"""Conflicts of two-way connections, as data in SyncStateTable (merge.py says when there is one).

Layout: pk = "{connection}#conflicts"; an open (held, `manual`) conflict at sk = "open#{type}#{id}#{field}"
(at most one per field: it is updated while it stays open), a settled one (a rule decided it, or a person
resolved it) at sk = "settled#{type}#{id}#{field}#{epoch ms}" with the table's TTL. One Query lists a
connection's open conflicts; each one holds the base, both values, both modification times, the rule and
the outcome.

The store also counts the conflicts it records, per connection, until a handler drains the counts into
its metrics (`drain_detected`: the consumer's `Conflicts_detected`), so the engines need not know metrics.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from catalog_sync.merge import Conflict
from catalog_sync.store.items import from_item, to_item

SETTLED_RETENTION_DAYS = 90


@dataclass(frozen=True)
class ConflictRecord:
    connection: str
    entity_type: str
    source_id: int
    field: str
    status: str  # open | settled | resolved
    rule: str
    outcome: str  # source | destination | held | value (a person gave one)
    base: Any
    source_value: Any
    destination_value: Any
    source_modified: str | None
    destination_modified: str | None
    detected_at: float
    dest_id: int | str | None = None
    resolved_at: float | None = None
    resolution: Any = None  # the value a resolve wrote to both sides

    @property
    def conflict_id(self) -> str:
        """How an operator names an open conflict: `product/12/price`."""
        return f"{self.entity_type}/{self.source_id}/{self.field}"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.conflict_id, **{k: v for k, v in self.__dict__.items() if k != "connection"}}


def parse_conflict_id(conflict_id: str) -> tuple[str, int, str]:
    """`product/12/price` -> ("product", 12, "price"); ValueError naming the expected shape."""
    parts = conflict_id.split("/")
    if len(parts) != 3 or not parts[1].isdigit() or not parts[0] or not parts[2]:
        raise ValueError(f"conflict id '{conflict_id}' is not <entity type>/<source id>/<field>")
    return parts[0], int(parts[1]), parts[2]


class ConflictStore:
    def __init__(self, table_name: str, client: Any, *, clock: Callable[[], float] = time.time) -> None:
        self.table_name = table_name
        self.client = client
        self.clock = clock
        self._detected: dict[str, int] = {}  # conflicts recorded since the last drain, per connection

    def drain_detected(self) -> dict[str, int]:
        """Conflicts recorded since the last call, per connection (a held one counts when first seen)."""
        detected, self._detected = self._detected, {}
        return detected

    def _detect(self, connection: str) -> None:
        self._detected[connection] = self._detected.get(connection, 0) + 1

    def record(
        self,
        connection: str,
        entity_type: str,
        source_id: int,
        conflict: Conflict,
        *,
        dest_id: int | str | None = None,
    ) -> None:
        """Store a conflict: held ones stay open (detected_at of the first sighting is kept), the others
        are stored settled with the outcome their rule gave."""
        now = self.clock()
        values = {
            "entity_type": entity_type,
            "source_id": source_id,
            "field": conflict.field,
            "rule": conflict.rule,
            "outcome": conflict.outcome,
            "base": conflict.base,
            "source_value": conflict.source_value,
            "destination_value": conflict.destination_value,
            "source_modified": conflict.source_modified,
            "destination_modified": conflict.destination_modified,
            "dest_id": dest_id,
        }
        if conflict.held:
            open_key = self._open_key(connection, entity_type, source_id, conflict.field)
            previous = self._get(open_key)
            detected = previous.detected_at if previous is not None else now
            self._put({**open_key, **values, "status": "open", "detected_at": detected})
            if previous is None:  # a held one seen again while it stays open is the same conflict
                self._detect(connection)
            return
        self._put(
            {
                **self._settled_key(connection, entity_type, source_id, conflict.field, now),
                **values,
                "status": "settled",
                "detected_at": now,
                "expires_at": self._expiry(now),
            }
        )
        self._detect(connection)

    def close(
        self,
        connection: str,
        entity_type: str,
        source_id: int,
        field: str,
        *,
        outcome: str,
        resolution: Any,
    ) -> ConflictRecord | None:
        """Settle an open conflict (a person resolved it, or both sides came to agree): the open row
        becomes a settled one carrying the outcome and the value. None when nothing was open."""
        open_key = self._open_key(connection, entity_type, source_id, field)
        previous = self._get(open_key)
        if previous is None:
            return None
        now = self.clock()
        item = {
            **previous.__dict__,
            "status": "resolved",
            "outcome": outcome,
            "resolution": resolution,
            "resolved_at": now,
            "expires_at": self._expiry(now),
        }
        item.pop("connection")
        self._put({**self._settled_key(connection, entity_type, source_id, field, now), **item})
        self.client.delete_item(TableName=self.table_name, Key=to_item(open_key))
        return self._record(connection, item)

    def get_open(
        self, connection: str, entity_type: str, source_id: int, field: str
    ) -> ConflictRecord | None:
        return self._get(self._open_key(connection, entity_type, source_id, field))

    def open_fields(self, connection: str, entity_type: str, source_id: int) -> frozenset[str]:
        prefix = f"open#{entity_type}#{source_id}#"
        return frozenset(r.field for r in self._query(connection, prefix))

    def history(self, connection: str, entity_type: str, source_id: int, field: str) -> list[ConflictRecord]:
        """One field's settled and resolved conflicts (kept SETTLED_RETENTION_DAYS), newest first."""
        settled = self._query(connection, f"settled#{entity_type}#{source_id}#{field}#")
        return sorted(settled, key=lambda r: r.resolved_at or r.detected_at, reverse=True)

    def list(self, connection: str, *, include_settled: bool = False) -> list[ConflictRecord]:
        records = list(self._query(connection, "open#"))
        if include_settled:
            records.extend(self._query(connection, "settled#"))
        return records

    def count_open(self, connection: str) -> int:
        return sum(1 for _ in self._query(connection, "open#"))

    # --- items --------------------------------------------------------------------------------------

    @staticmethod
    def _open_key(connection: str, entity_type: str, source_id: int, field: str) -> dict[str, Any]:
        return {"pk": f"{connection}#conflicts", "sk": f"open#{entity_type}#{source_id}#{field}"}

    @staticmethod
    def _settled_key(
        connection: str, entity_type: str, source_id: int, field: str, now: float
    ) -> dict[str, Any]:
        return {
            "pk": f"{connection}#conflicts",
            "sk": f"settled#{entity_type}#{source_id}#{field}#{int(now * 1000)}",
        }

    @staticmethod
    def _expiry(now: float) -> int:
        return int(now) + SETTLED_RETENTION_DAYS * 86_400

    def _put(self, item: dict[str, Any]) -> None:
        self.client.put_item(TableName=self.table_name, Item=to_item(item))

    def _get(self, key: dict[str, Any]) -> ConflictRecord | None:
        resp = self.client.get_item(TableName=self.table_name, Key=to_item(key), ConsistentRead=True)
        if "Item" not in resp:
            return None
        return self._record(key["pk"].rsplit("#", 1)[0], from_item(resp["Item"]))

    def _query(self, connection: str, prefix: str, *, max_pages: int = 1_000) -> Iterator[ConflictRecord]:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_item({":pk": f"{connection}#conflicts", ":prefix": prefix}),
            "ConsistentRead": True,
        }
        for _ in range(max_pages):
            resp = self.client.query(**kwargs)
            for item in resp.get("Items", []):
                yield self._record(connection, from_item(item))
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    @staticmethod
    def _record(connection: str, values: dict[str, Any]) -> ConflictRecord:
        return ConflictRecord(
            connection=connection,
            entity_type=str(values["entity_type"]),
            source_id=int(values["source_id"]),
            field=str(values["field"]),
            status=str(values["status"]),
            rule=str(values["rule"]),
            outcome=str(values["outcome"]),
            base=values.get("base"),
            source_value=values.get("source_value"),
            destination_value=values.get("destination_value"),
            source_modified=values.get("source_modified"),
            destination_modified=values.get("destination_modified"),
            detected_at=float(values["detected_at"]),
            dest_id=values.get("dest_id"),
            resolved_at=float(values["resolved_at"]) if values.get("resolved_at") is not None else None,
            resolution=values.get("resolution"),
        )
