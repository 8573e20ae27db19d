"""Our Medusa subscriber's delivery body reads as (action, product id, external_id, updated_at); anything
else is a typed refusal that names the problem."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from catalog_sync.errors import PayloadInvalid
from catalog_sync.payloads import (
    MedusaEventInvalid,
    MedusaEventUnknown,
    MedusaProductEvent,
    parse_medusa_product_event,
)


def body(**overrides: Any) -> bytes:
    data = {
        "id": "prod_01M8YHXMF8A2XJKFP6DSBYTD3X",
        "external_id": "pixlpay_12",
        "updated_at": "2026-12-03T18:15:59.724Z",
    }
    raw: dict[str, Any] = {"type": "product.updated", "timestamp": "2026-12-03T18:16:00.000Z", "data": data}
    for key, value in overrides.items():
        if key.startswith("data_"):
            data[key.removeprefix("data_")] = value
        else:
            raw[key] = value
    return json.dumps(raw).encode()


@pytest.mark.parametrize("event", ["created", "updated", "deleted"])
def test_each_product_event_names_its_action_and_product(event: str) -> None:
    parsed = parse_medusa_product_event(body(type=f"product.{event}"))
    assert parsed == MedusaProductEvent(
        action=event,  # type: ignore[arg-type]
        product_id="prod_01M8YHXMF8A2XJKFP6DSBYTD3X",
        external_id="pixlpay_12",
        updated_at=datetime(2026, 12, 3, 18, 15, 59, 724000, tzinfo=UTC),
        timestamp=datetime(2026, 12, 3, 18, 16, tzinfo=UTC),
    )


def test_a_product_medusa_made_itself_has_no_external_id_and_a_deleted_one_may_have_no_updated_at() -> None:
    parsed = parse_medusa_product_event(
        body(type="product.deleted", data_external_id=None, data_updated_at=None)
    )
    assert (parsed.action, parsed.external_id, parsed.updated_at) == ("deleted", None, None)


def test_times_without_a_zone_are_utc_and_a_str_body_reads_like_bytes() -> None:
    parsed = parse_medusa_product_event(body(timestamp="2026-12-03T18:16:00").decode())
    assert parsed.timestamp == datetime(2026, 12, 3, 18, 16, tzinfo=UTC)


def test_extra_fields_are_ignored() -> None:
    assert parse_medusa_product_event(body(extra=1, data_title="x")).action == "updated"


def test_another_event_type_is_unknown_not_malformed() -> None:
    with pytest.raises(MedusaEventUnknown) as raised:
        parse_medusa_product_event(body(type="order.placed"))
    assert "order.placed" in str(raised.value)
    assert raised.value.code == "unknown_medusa_event" and raised.value.status == 400


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (body(type=None), "type"),
        (body(timestamp="yesterday"), "timestamp"),
        (body(data="prod_1"), "data"),
        (body(data_id=12), "data.id"),
        (body(data_id=""), "data.id"),
        (body(data_id="prod_1; drop"), "data.id"),
        (body(data_external_id=12), "data.external_id"),
        (body(data_updated_at="soon"), "data.updated_at"),
        (json.dumps({"type": "product.updated", "timestamp": "2026-12-03T18:16:00Z"}).encode(), "data"),
    ],
)
def test_a_malformed_body_is_a_typed_400_naming_the_field(raw: bytes, named: str) -> None:
    with pytest.raises(MedusaEventInvalid) as raised:
        parse_medusa_product_event(raw)
    assert not isinstance(raised.value, MedusaEventUnknown)
    assert isinstance(raised.value, PayloadInvalid) and raised.value.status == 400
    assert named in str(raised.value)
    assert "drop" not in str(raised.value)  # the input is never echoed
