"""Progress records of long jobs (the full sync), in SyncStateTable, with optimistic concurrency.

Layout: pk = "{connection}#progress", sk = job name; `data` = the record (a map), `step` = a counter
every invocation that works on the run bumps with a conditional write. Two invocations of one run (a
redelivered continuation message, a schedule firing during a run) cannot both claim the same step, so
pages are never worked twice at once; a writer that lost its claim sees `save` return False and stops.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from catalog_sync.store.items import from_item, to_item


class ProgressStore:
    def __init__(self, table_name: str, client: Any, *, clock: Callable[[], float] = time.time) -> None:
        self.table_name = table_name
        self.client = client
        self.clock = clock

    def get(self, connection: str, job: str) -> dict[str, Any] | None:
        resp = self.client.get_item(
            TableName=self.table_name,
            Key=to_item({"pk": f"{connection}#progress", "sk": job}),
            ConsistentRead=True,
        )
        if "Item" not in resp:
            return None
        return dict(from_item(resp["Item"]).get("data") or {})

    def save(self, connection: str, job: str, data: dict[str, Any], *, expected_step: int | None) -> bool:
        """Write `data` (its `step` included) only if the stored step is still `expected_step`, or, with
        None, only if no record exists yet (two first-ever runs cannot both claim). False when another
        invocation got there first."""
        item = {
            "pk": f"{connection}#progress",
            "sk": job,
            "data": data,
            "step": int(data.get("step", 0)),
            "updated_at": int(self.clock()),
        }
        kwargs: dict[str, Any] = {"TableName": self.table_name, "Item": to_item(item)}
        if expected_step is None:
            kwargs["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            kwargs["ConditionExpression"] = "attribute_not_exists(pk) OR step = :e"
            kwargs["ExpressionAttributeValues"] = to_item({":e": expected_step})
        try:
            self.client.put_item(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True


class ContinuationQueue:
    """The full sync's `Continuation` port: a message on FullSyncContinuationQueue, whose event source
    mapping invokes FullSyncFunction again (in AWS and in the local runtime alike)."""

    def __init__(self, queue_url: str, client: Any) -> None:
        self.queue_url = queue_url
        self.client = client

    def continue_run(self, connection: str, run_id: str, step: int, *, delay_s: int = 0) -> None:
        body = json.dumps({"connection": connection, "run_id": run_id, "step": step})
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=body, DelaySeconds=min(delay_s, 900))
