"""WebhookReceiverFunction: POST /webhooks/{connection} -> verify, store once, queue, then 200.

Thin glue over catalog_sync.ingest. One exception handler maps every typed request error to a 4xx
JSON body; only "nothing could be stored" is a 5xx (503), so the provider retries exactly then.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from catalog_sync import ingest
from catalog_sync.errors import ConfigurationError, PayloadInvalid, RequestRejected, StorageUnavailable
from catalog_sync.services import get_services

logger = Logger()
metrics = Metrics()
app = APIGatewayHttpResolver()


@app.post("/webhooks/<connection>")
def receive_webhook(connection: str) -> Response[str]:
    services = get_services()
    event = app.current_event
    delivery = ingest.Delivery(
        connection=connection,
        headers={k.lower(): v for k, v in (event.headers or {}).items()},
        body=_raw_body(event.raw_event),
    )
    receipt = ingest.receive(
        delivery,
        services.connections().get(connection),
        events=services.events,
        queue=services.queue,
        now_s=time.time(),
        max_age_s=services.settings.event_retention_days * 86_400,
    )
    logger.info(
        "webhook",
        extra={"connection": connection, "delivery_id": receipt.delivery_id, "outcome": receipt.status},
    )
    metrics.add_metric(name=f"Webhook_{receipt.status}", unit=MetricUnit.Count, value=1)
    if not receipt.queued and receipt.status == "accepted":
        metrics.add_metric(name="Webhook_queue_deferred", unit=MetricUnit.Count, value=1)
    return _json(200, {"status": receipt.status, "delivery_id": receipt.delivery_id})


@app.exception_handler(RequestRejected)
def rejected(exc: RequestRejected) -> Response[str]:
    logger.warning("webhook rejected", extra={"error": exc.code, "status": exc.status})
    metrics.add_metric(name="Webhook_rejected", unit=MetricUnit.Count, value=1)
    return _json(exc.status, {"error": exc.code, "message": str(exc)})


@app.exception_handler(StorageUnavailable)
def unavailable(exc: StorageUnavailable) -> Response[str]:
    logger.exception("webhook not stored")
    return _json(503, {"error": exc.code, "message": "temporarily unable to store the event; retry"})


@app.exception_handler(ConfigurationError)
def misconfigured(exc: ConfigurationError) -> Response[str]:
    logger.exception("configuration error")
    return _json(500, {"error": exc.code, "message": "the service is misconfigured"})


@app.not_found
def not_found(_: Exception) -> Response[str]:
    return _json(
        404, {"error": "not_found", "message": "no such route; webhooks go to POST /webhooks/{connection}"}
    )


def _raw_body(raw_event: dict[str, Any]) -> bytes:
    """The exact bytes the provider signed: API Gateway may have base64-encoded them."""
    body = raw_event.get("body") or ""
    if raw_event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except ValueError:
            raise PayloadInvalid("body is not valid base64") from None
    return body.encode("utf-8")


def _json(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
