"""SyncQueue: sync requests as small JSON messages, sent one at a time or in batches of 10."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from catalog_sync.errors import RetriableError
from catalog_sync.sync_request import SyncRequest

SQS_BATCH = 10


class SyncQueue:
    def __init__(self, queue_url: str, client: Any, *, clock: Callable[[], float] = time.time) -> None:
        self.queue_url = queue_url
        self.client = client
        self.clock = clock

    def _body(self, request: SyncRequest) -> str:
        """The message body, stamped with when it was first queued (a copy queued again keeps it)."""
        if request.queued_at is None:
            request = request.model_copy(update={"queued_at": self.clock()})
        return request.model_dump_json()

    def send(self, request: SyncRequest, *, delay_s: int = 0) -> None:
        """Queue one request; `delay_s` (at most SQS's 900) before a consumer can receive it."""
        extra = {"DelaySeconds": min(delay_s, 900)} if delay_s > 0 else {}
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=self._body(request), **extra)

    def dead_letter(self, body: str, *, error_code: str, error: str, message_id: str) -> None:
        """Park a message a retry cannot fix, with the reason as message attributes for the operator."""
        self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=body,
            MessageAttributes={
                "error_code": {"DataType": "String", "StringValue": error_code},
                "error": {"DataType": "String", "StringValue": error[:1000] or error_code},
                "source_message_id": {"DataType": "String", "StringValue": message_id or "unknown"},
            },
        )

    def delay(self, receipt_handle: str, seconds: int) -> None:
        """Push a received message's next delivery out (exponential backoff between retries)."""
        try:
            self.client.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=min(seconds, 43_200)
            )
        except Exception:  # best effort: without it the message simply comes back after the default timeout
            return

    def send_many(self, requests: Iterable[SyncRequest]) -> int:
        """Send in batches of 10; raises RetriableError naming what failed (callers re-run idempotently)."""
        sent = 0
        batch: list[SyncRequest] = []
        for request in requests:
            batch.append(request)
            if len(batch) == SQS_BATCH:
                sent += self._send_batch(batch)
                batch = []
        if batch:
            sent += self._send_batch(batch)
        return sent

    def _send_batch(self, batch: list[SyncRequest]) -> int:
        entries = [{"Id": str(i), "MessageBody": self._body(r)} for i, r in enumerate(batch)]
        resp = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        failed = resp.get("Failed") or []
        if failed:
            raise RetriableError(
                f"{len(failed)} of {len(batch)} messages not queued: {failed[0].get('Message')}"
            )
        return len(batch)
