"""The content hash decides 'unchanged = no write': it must see every synced field and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

from catalog_sync.models import Image, OptionValue, Product, Variant, canonical_hash
from catalog_sync.sync_request import SyncRequest


def _product(**changes: object) -> Product:
    base = Product(
        source_id=1,
        date_modified=datetime(2026, 1, 1, tzinfo=UTC),
        sku="MUG-1",
        name="Mug",
        price=10.0,
        images=(Image(image_url="https://cdn.example.com/a.jpg", is_thumbnail=True),),
        variants=(
            Variant(sku="MUG-1-BLU", option_values=(OptionValue(option_display_name="Color", label="Blue"),)),
        ),
    )
    return base.model_copy(update=changes)


def test_hash_ignores_source_ids_and_modification_time() -> None:
    assert _product().content_hash() == _product(source_id=99, date_modified=datetime.now(UTC)).content_hash()


def test_hash_sees_every_synced_field() -> None:
    original = _product().content_hash()
    for change in (
        {"name": "Big mug"},
        {"price": 11.0},
        {"is_visible": False},
        {"images": ()},
        {"variants": ()},
    ):
        assert _product(**change).content_hash() != original, change


def test_canonical_hash_does_not_depend_on_key_order() -> None:
    assert canonical_hash({"a": 1, "b": [1, 2]}) == canonical_hash({"b": [1, 2], "a": 1})


def test_sync_request_round_trips_as_a_queue_message() -> None:
    request = SyncRequest(connection="c", entity_type="product", entity_id=7, delivery_id="d")
    assert SyncRequest.model_validate_json(request.model_dump_json()) == request
    assert request.entity_key == ("c", "product", 7)
