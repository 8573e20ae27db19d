"""`make demo` (catalog-sync demo): store A's changes reach store B, Pixlpay's reach Medusa, and the final
checks are real checks (the Medusa one: tests/integration/test_pixlpay_to_medusa_local.py)."""

from __future__ import annotations

import io
import time

from rich.console import Console

from catalog_sync_local.demo.compare import category_differences
from catalog_sync_local.demo.scenario import run_demo
from catalog_sync_local.simulators.bigcommerce.store import BigCommerceStore


def test_the_demo_converges_well_within_two_minutes() -> None:
    out = io.StringIO()
    started = time.monotonic()

    code = run_demo(Console(file=out, width=140))

    text = out.getvalue()
    assert code == 0, text
    assert "converged: store B equals store A" in text
    assert "converged: Medusa equals Pixlpay" in text
    assert "NOT converged" not in text
    assert "BigCommerce contract kept" in text
    assert time.monotonic() - started < 120
    for scope in ("product/deleted", "category/deleted", "sku/updated", "category/updated"):
        assert scope in text  # every kind of change the demo makes went through the pipeline
    for event in ("product.created", "product.updated", "product.deleted"):
        assert event in text  # ... and every Pixlpay event
    for external_id in ("pixlpay_1", "pixlpay_2", "pixlpay_3"):
        assert external_id in text  # Medusa's products, by seed 000's external id


def _tree(store: BigCommerceStore, *, seasonal_visible: bool | None) -> None:
    kitchen = store.create_category("Kitchen")
    store.create_category("Mugs", parent_id=kitchen["id"])
    if seasonal_visible is not None:
        store.create_category("Seasonal", parent_id=kitchen["id"], is_visible=seasonal_visible)


def test_the_final_check_sees_category_differences() -> None:
    a = BigCommerceStore("a", "token-a")
    _tree(a, seasonal_visible=None)  # Seasonal deleted in A
    hidden, shown, flat = BigCommerceStore("b", "t"), BigCommerceStore("c", "t"), BigCommerceStore("d", "t")
    _tree(hidden, seasonal_visible=False)
    _tree(shown, seasonal_visible=True)
    flat.create_category("Kitchen")
    flat.create_category("Mugs")  # right name, wrong parent

    deleted = frozenset({"Seasonal"})
    assert category_differences(a, hidden, deleted=deleted) == []
    assert category_differences(a, shown, deleted=deleted) == [
        "category 'Seasonal' (under 'Kitchen'): visible in destination, not in source",
        "category 'Seasonal': deleted at the source but still visible at the destination",
    ]
    assert category_differences(a, flat) == [
        "category 'Mugs' (under 'Kitchen'): missing or hidden in destination",
        "category 'Mugs' (under 'the root'): visible in destination, not in source",
    ]
