"""FullSyncFunction (daily): enqueue every product of each connection, resumable by page checkpoint."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from catalog_sync.connections import BigCommerceEndpoint
from catalog_sync.connectors.bigcommerce import BigCommerceClient
from catalog_sync.jobs import full_sync, time_left_from
from catalog_sync.services import get_services

logger = Logger()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    services = get_services()
    time_left = time_left_from(time.monotonic() + context.get_remaining_time_in_millis() / 1000)
    reports = []
    for name, connection in services.connections().connections.items():
        if not isinstance(connection.source, BigCommerceEndpoint):
            continue  # other sources get their own pull strategy (audit mode)
        report = full_sync(
            name,
            BigCommerceClient.for_endpoint(connection.source),
            services.queue,
            services.state,
            page_size=services.settings.full_sync_page_size,
            now=datetime.now(UTC),
            time_left_s=time_left,
        )
        logger.info("full sync", extra=asdict(report))
        reports.append(asdict(report))
    return {"job": "full_sync", "connections": reports}
