"""SyncConsumerFunction: SQS batch -> sync each entity; failed records are reported alone.

Powertools BatchProcessor turns raised exceptions into `batchItemFailures`, so only failed records
return to the queue (and after the redrive limit, to the DLQ).
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from catalog_sync.connection_metrics import UNKNOWN_CONNECTION, ConnectionMetrics
from catalog_sync.consumer import SyncBatch, parsed_request
from catalog_sync.entity_sync import WRITES
from catalog_sync.services import get_services

logger = Logger()
# The layer logs through std logging: give it this logger's JSON format, level and context keys.
copy_config_to_registered_loggers(source_logger=logger, include={"catalog_sync"})
metrics = ConnectionMetrics()
processor = BatchProcessor(event_type=EventType.SQS)

# Stop starting HTTP retries this long before the Lambda timeout, so state is committed or released.
SAFETY_MARGIN_S = 5.0


@logger.inject_lambda_context(clear_state=True)
@metrics.flushing
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - SAFETY_MARGIN_S
    services = get_services()
    batch = SyncBatch(services, owner=context.aws_request_id, deadline=lambda: deadline)
    batch.sync_all([r.get("body", "") for r in event.get("Records") or [] if isinstance(r, dict)])

    def record_handler(record: SQSRecord) -> str:
        request = parsed_request(record.body)
        connection = request.connection if request else UNKNOWN_CONNECTION
        metrics.add(connection, "Sync_records")
        try:
            action = batch.handle(
                record.body,
                receive_count=int(record.attributes.approximate_receive_count or 1),
                receipt_handle=record.receipt_handle,
                message_id=record.message_id,
            )
        except Exception:
            metrics.add(connection, "Sync_failed")
            raise
        metrics.add(connection, f"Sync_{action}")
        if request and request.changed_at_ms is not None and action in WRITES:
            metrics.add(connection, "Sync_lag", max(0.0, time.time() * 1000 - request.changed_at_ms))
        return action

    try:
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        services.destination_responses.drain_into(metrics)
        # Two-way connections: the conflicts this invocation's merges recorded.
        for name, count in services.conflicts.drain_detected().items():
            metrics.add(name, "Conflicts_detected", count)
    return dict(response)
