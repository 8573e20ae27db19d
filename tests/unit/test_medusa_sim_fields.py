"""The simulator's `fields` parameter, as Medusa's remote query reads it."""

from __future__ import annotations

from typing import Any

from catalog_sync_local.simulators.medusa.fields import shape

PRODUCT: dict[str, Any] = {
    "id": "prod_1",
    "title": "Mug",
    "metadata": {"a": 1},
    "variants": [{"id": "v1", "sku": "M", "prices": [{"id": "p1", "amount": 5}], "options": []}],
    "categories": [{"id": "c1", "name": "Kitchen"}],
}


def test_no_fields_is_the_default_view() -> None:
    assert shape(PRODUCT, "product", None) == PRODUCT


def test_plain_fields_replace_the_default_and_keep_the_id() -> None:
    assert shape(PRODUCT, "product", "title") == {"id": "prod_1", "title": "Mug"}


def test_a_star_relation_has_its_columns_but_not_its_relations() -> None:
    got = shape(PRODUCT, "product", "*variants")
    assert got == {"id": "prod_1", "variants": [{"id": "v1", "sku": "M"}]}
    deeper = shape(PRODUCT, "product", "*variants,*variants.prices")
    assert deeper["variants"] == [{"id": "v1", "sku": "M", "prices": [{"id": "p1", "amount": 5}]}]


def test_one_column_of_a_relation() -> None:
    assert shape(PRODUCT, "product", "categories.name") == {
        "id": "prod_1",
        "categories": [{"name": "Kitchen"}],
    }


def test_plus_and_minus_change_the_default() -> None:
    default = {"id": {}, "title": {}}
    assert shape(PRODUCT, "product", "+metadata", default) == {
        "id": "prod_1",
        "title": "Mug",
        "metadata": {"a": 1},
    }
    assert shape(PRODUCT, "product", "-title", default) == {"id": "prod_1"}
