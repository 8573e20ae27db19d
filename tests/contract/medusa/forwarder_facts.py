"""What one delivery of our Medusa webhook forwarder looks like, checked the same way against a real Medusa
running the subscriber (test_webhook_forwarder.py, under `make contract`) and against the Medusa simulator
(tests/unit/test_medusa_sim_forwarding.py): the same check passing on both keeps them the same shape."""

from __future__ import annotations

import json
import re
import time

from pydantic import SecretStr

from catalog_sync.connections import Signing
from catalog_sync.payloads import MedusaProductEvent, parse_medusa_product_event
from catalog_sync.signatures import verify
from tests.webhook_listener import Received

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
HEADERS = {"content-type", "webhook-id", "webhook-timestamp", "webhook-signature"}


def check_forwarded(received: Received, secret: str) -> MedusaProductEvent:
    """Assert the delivery is the forwarder's shape and signed with `secret`; answer it parsed."""
    headers = received.headers
    assert set(headers) >= HEADERS, sorted(headers)
    assert headers["content-type"].startswith("application/json")
    assert re.fullmatch(r"msg_[0-9a-f]{32}", headers["webhook-id"]), headers["webhook-id"]
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 120
    assert re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", headers["webhook-signature"])
    signing = Signing(scheme="standard-webhooks", secrets=[SecretStr(secret)])
    assert verify(signing, headers, received.body) == headers["webhook-id"]  # the layer's own check

    body = json.loads(received.body)
    assert received.body == json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()  # compact
    assert list(body) == ["type", "timestamp", "data"]
    assert list(body["data"]) == ["id", "external_id", "updated_at"]
    assert ISO_MS.match(body["timestamp"])
    assert body["data"]["updated_at"] is None or ISO_MS.match(body["data"]["updated_at"])
    return parse_medusa_product_event(received.body)
