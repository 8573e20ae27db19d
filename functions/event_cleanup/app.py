"""EventCleanupFunction (every 2 hours): expire old processed events, re-enqueue stuck ones, report
failed ones that used up their attempts. Never deletes an unprocessed event."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from catalog_sync.connection_metrics import SERVICE_WIDE, ConnectionMetrics
from catalog_sync.jobs import cleanup_events, time_left_from
from catalog_sync.services import get_services

logger = Logger()
# The layer logs through std logging: give it this logger's JSON format, level and context keys.
copy_config_to_registered_loggers(source_logger=logger, include={"catalog_sync"})
metrics = ConnectionMetrics()


@logger.inject_lambda_context(clear_state=True)
@metrics.flushing
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    services = get_services()
    report = cleanup_events(
        services.events,
        services.queue,
        now_s=time.time(),
        retention_s=services.settings.event_retention_days * 86_400,
        stuck_after_s=services.settings.stuck_after_s,
        time_left_s=time_left_from(time.monotonic() + context.get_remaining_time_in_millis() / 1000),
    )
    # The sweep spans every connection's events: service-wide metrics.
    metrics.add(SERVICE_WIDE, "Events_requeued", report.requeued)
    metrics.add(SERVICE_WIDE, "Events_failed", report.failed)
    metrics.add(SERVICE_WIDE, "Events_failed_exhausted", report.failed_exhausted)
    if report.failed_exhausted:
        logger.warning("failed events past their attempts", extra={"events": report.exhausted_ids})
    logger.info("cleanup", extra=asdict(report))
    return {"job": "cleanup", **asdict(report)}
