"""WebhookReceiverFunction: POST /webhooks/{connection} -> verify, store once, queue, then 200.

Thin glue over catalog_sync.ingest. `_error_response` is the one place that maps typed errors to
responses: request errors are 4xx JSON bodies naming the problem; "nothing could be stored" is 503
and a misconfigured deployment 500, so the provider retries exactly then.

No Powertools event_handler here: the function serves one route, and the resolver costs ~125 ms of
cold import (measured, see bench/receiver.py) for routing we do in five lines. boto3 is imported on
the first AWS call (catalog_sync.services), not at module import.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from catalog_sync import ingest
from catalog_sync.connection_metrics import UNKNOWN_CONNECTION, ConnectionMetrics
from catalog_sync.errors import (
    ConfigurationError,
    MethodNotAllowed,
    RequestRejected,
    RouteNotFound,
    StorageUnavailable,
)
from catalog_sync.services import get_services

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
# The layer logs through std logging: give it this logger's JSON format, level and context keys.
copy_config_to_registered_loggers(source_logger=logger, include={"catalog_sync"})
metrics = ConnectionMetrics()

ROUTE = "POST /webhooks/{connection}"
# A two-way connection's destination posts its webhooks here.
DESTINATION_ROUTE = "POST /webhooks/{connection}/destination"


@logger.inject_lambda_context(clear_state=True)
@metrics.flushing
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The metrics' connection: the path's, once the connections document knows it (a stranger's path
    # segment must not become a dimension value).
    known = [UNKNOWN_CONNECTION]
    try:
        return _receive(event, known)
    except Exception as exc:  # every outcome is a JSON response; see _error_response
        return _error_response(exc, known[0])


def _receive(event: dict[str, Any], known: list[str]) -> dict[str, Any]:
    http = (event.get("requestContext") or {}).get("http") or {}
    connection = (event.get("pathParameters") or {}).get("connection")
    route = event.get("routeKey", ROUTE)
    if not connection or route not in (ROUTE, DESTINATION_ROUTE, "$default"):
        raise RouteNotFound("no such route; webhooks go to POST /webhooks/{connection}[/destination]")
    if str(http.get("method", "POST")).upper() != "POST":
        raise MethodNotAllowed("webhooks must be POSTed")
    body = ingest.decode_body(event.get("body"), is_base64=bool(event.get("isBase64Encoded")))
    delivery = ingest.Delivery(
        connection=connection,
        headers={str(k).lower(): v for k, v in (event.get("headers") or {}).items()},
        body=body,
        side="destination" if route == DESTINATION_ROUTE else "source",
    )
    services = get_services()
    configured = services.connections().get(connection)
    known[0] = connection
    receipt = ingest.receive(
        delivery,
        configured,
        events=services.events,
        queue=services.queue,
        now_s=time.time(),
        max_age_s=services.settings.event_retention_days * 86_400,
    )
    logger.info(
        "webhook",
        extra={
            "connection": connection,
            "delivery_id": receipt.delivery_id,
            "outcome": receipt.status,
            "queued": receipt.queued,
        },
    )
    metrics.add(connection, f"Webhook_{receipt.status}")
    if receipt.status == "accepted" and not receipt.queued:
        metrics.add(connection, "Webhook_queue_deferred")
    return _json(200, {"status": receipt.status, "delivery_id": receipt.delivery_id})


def _error_response(exc: Exception, connection: str) -> dict[str, Any]:
    """The one mapping from errors to responses. Messages name the problem, never a secret."""
    if isinstance(exc, RequestRejected):
        logger.warning(
            "webhook rejected", extra={"error": exc.code, "status": exc.status, "reason": str(exc)}
        )
        metrics.add(connection, "Webhook_rejected")
        headers = {"allow": "POST"} if isinstance(exc, MethodNotAllowed) else {}
        return _json(exc.status, {"error": exc.code, "message": str(exc)}, headers)
    if isinstance(exc, StorageUnavailable):
        logger.error("webhook not stored", extra={"error": exc.code, "reason": str(exc)})
        metrics.add(connection, "Webhook_unavailable")
        return _json(503, {"error": exc.code, "message": "temporarily unable to store the event; retry"})
    if isinstance(exc, ConfigurationError):
        logger.error("configuration error", extra={"error": exc.code, "reason": str(exc)})
        metrics.add(connection, "Webhook_misconfigured")
        return _json(500, {"error": exc.code, "message": "the service is misconfigured"})
    logger.exception("unexpected error")
    metrics.add(connection, "Webhook_failed")
    return _json(500, {"error": "internal_error", "message": "unexpected error; retry"})


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }
