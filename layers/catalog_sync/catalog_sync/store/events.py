"""EventsTable: every webhook delivery, keyed by (connection, delivery id), with its processing status.

Layout: pk = connection, sk = delivery id; `status` + `received_at` feed the ByStatus index the cleanup
sweeper reads; `expires_at` is the TTL, set only once an event is finished (processed or ignored) and
kept past the provider's retry horizon so redeliveries still dedup.
Status flow: received -> processed | failed; failed -> processed; `ignored` for validly signed scopes we
do not sync. `processed` is final: a failure reported later (a duplicate SQS delivery of a message that
already synced) does not overwrite it. Status updates never create an event that is not stored.
Times: received_at / processed_at / failed_at in epoch milliseconds; expires_at in epoch seconds (TTL).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from catalog_sync.store.items import from_item, to_item

EventStatus = Literal["received", "processed", "failed", "ignored"]
STATUS_INDEX = "ByStatus"


@dataclass(frozen=True)
class EventRecord:
    connection: str
    delivery_id: str
    status: EventStatus
    scope: str
    received_at_ms: int
    entity_type: str | None = None
    entity_id: int | None = None
    action: str | None = None
    payload: str | None = None  # the validated notification (small); never the raw request
    attempts: int = 0
    last_error: str | None = None
    outcome: str | None = None

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> EventRecord:
        return cls(
            connection=values["pk"],
            delivery_id=values["sk"],
            status=values["status"],
            scope=values.get("scope", ""),
            received_at_ms=int(values.get("received_at", 0)),
            entity_type=values.get("entity_type"),
            entity_id=values.get("entity_id"),
            action=values.get("action"),
            payload=values.get("payload"),
            attempts=int(values.get("attempts", 0)),
            last_error=values.get("last_error"),
            outcome=values.get("outcome"),
        )


class EventStore:
    def __init__(
        self,
        table_name: str,
        client: Any,
        *,
        retention_days: int = 7,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table_name = table_name
        self.client = client
        self.retention_s = retention_days * 86_400
        self.clock = clock

    def put_new(self, record: EventRecord) -> bool:
        """Store a delivery once. False when that delivery id is already stored (a redelivery)."""
        return self.put_new_or_existing(record) is None

    def put_new_or_existing(self, record: EventRecord) -> EventRecord | None:
        """Store a delivery once: None when stored now, else the event already stored under that id
        (read by the same conditional put, ReturnValuesOnConditionCheckFailure: no extra call)."""
        values = {
            "pk": record.connection,
            "sk": record.delivery_id,
            "status": record.status,
            "scope": record.scope,
            "received_at": record.received_at_ms,
            "entity_type": record.entity_type,
            "entity_id": record.entity_id,
            "action": record.action,
            "payload": record.payload,
            "attempts": 0,
            # Only finished events expire: a `received` event keeps no TTL until it is processed, so
            # DynamoDB can never drop an event nothing has synced yet (mark_processed sets the expiry).
            "expires_at": self._expiry() if record.status == "ignored" else None,
        }
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=to_item(values),
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                stored: dict[str, Any] | None = exc.response.get("Item")  # type: ignore[assignment]
                return EventRecord.from_values(from_item(stored)) if stored else record
            raise
        return None

    def get(self, connection: str, delivery_id: str) -> EventRecord | None:
        resp = self.client.get_item(
            TableName=self.table_name, Key=to_item({"pk": connection, "sk": delivery_id}), ConsistentRead=True
        )
        return EventRecord.from_values(from_item(resp["Item"])) if "Item" in resp else None

    def mark_processed(self, connection: str, delivery_id: str, outcome: str) -> None:
        """Processed events expire `retention` after processing; the TTL then removes them."""
        self._update(
            connection,
            delivery_id,
            "SET #s = :s, outcome = :o, processed_at = :now, expires_at = :exp ADD attempts :one",
            "attribute_exists(pk)",
            {
                ":s": "processed",
                ":o": outcome,
                ":now": int(self.clock() * 1000),
                ":exp": self._expiry(),
                ":one": 1,
            },
        )

    def mark_failed(self, connection: str, delivery_id: str, error: str) -> None:
        self._update(
            connection,
            delivery_id,
            "SET #s = :s, last_error = :e, failed_at = :now ADD attempts :one",
            "attribute_exists(pk) AND #s <> :done",
            {
                ":s": "failed",
                ":e": error[:500],
                ":now": int(self.clock() * 1000),
                ":one": 1,
                ":done": "processed",
            },
        )

    def by_status(self, status: EventStatus, *, received_before_ms: int) -> Iterator[EventRecord]:
        """Events in a status received before a cut-off, oldest first, through the ByStatus index."""
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": STATUS_INDEX,
            "KeyConditionExpression": "#s = :s AND received_at < :cut",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": to_item({":s": status, ":cut": received_before_ms}),
        }
        while True:
            resp = self.client.query(**kwargs)
            for item in resp.get("Items", []):
                yield EventRecord.from_values(from_item(item))
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def delete_if_status(self, connection: str, delivery_id: str, status: EventStatus) -> bool:
        """Delete only when the event is still in `status` (never an event that changed meanwhile)."""
        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key=to_item({"pk": connection, "sk": delivery_id}),
                ConditionExpression="#s = :s",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=to_item({":s": status}),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _expiry(self) -> int:
        return int(self.clock()) + self.retention_s

    def _update(
        self, connection: str, delivery_id: str, expression: str, condition: str, values: dict[str, Any]
    ) -> bool:
        """Apply the update when `condition` holds; False when it did not (nothing changed)."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=to_item({"pk": connection, "sk": delivery_id}),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
