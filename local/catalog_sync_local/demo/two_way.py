"""`make demo`'s two-way part (issue 12): stores C and D of connection `store-c-and-d` both edit one product.

1. a lamp is created in store C (it appears in D);
2. C renames it while D reprices it: both edits survive, at both sides;
3. both reprice it to different prices: a conflict, which the field's rule settles (price: the source, C,
   wins) and which is recorded (`catalog-sync conflicts list --connection store-c-and-d --all`).
"""

from __future__ import annotations

from typing import Any

import boto3
from rich.table import Table

from catalog_sync.connections import MERGED_FIELDS
from catalog_sync.store.conflicts import ConflictRecord, ConflictStore
from catalog_sync_local.runtime.sandbox import Sandbox

TWO_WAY_CONNECTION = "store-c-and-d"
SKU = "LAMP-2W"
# What both stores must hold at the end: C's name (step 2), C's price (step 3: the source's rule).
EXPECTED = {"name": "Desk lamp", "price": 49.0}
MERGED = tuple(MERGED_FIELDS[("bigcommerce", "bigcommerce")])


def two_way_steps(box: Sandbox) -> list[tuple[str, Any]]:
    """(description, action) per step, as merchants in two stores would make them."""
    c, d = box.source_store(TWO_WAY_CONNECTION), box.destination_store(TWO_WAY_CONNECTION)
    ids: dict[str, int] = {}

    def in_d() -> int:
        [product] = [p for p in d.products() if p["sku"] == SKU]
        return int(product["id"])

    def create() -> None:
        ids["c"] = int(
            c.create_product({"name": "Lamp", "type": "physical", "sku": SKU, "price": 40, "weight": 2})["id"]
        )

    def rename_and_reprice() -> None:
        c.update_product(ids["c"], name="Desk lamp")
        d.update_product(in_d(), price=45)

    def both_reprice() -> None:
        c.update_product(ids["c"], price=49)
        d.update_product(in_d(), price=52)

    return [
        ("store C: create Lamp at 40 (store D follows)", create),
        (
            "store C renames it Desk lamp while store D reprices it to 45: both edits survive",
            rename_and_reprice,
        ),
        (
            "both reprice it, C to 49 and D to 52: a conflict, the price rule (source: C) decides",
            both_reprice,
        ),
    ]


def conflicts(box: Sandbox) -> list[ConflictRecord]:
    store = ConflictStore(box.stack.resources["SyncStateTable"], boto3.client("dynamodb"))
    return store.list(TWO_WAY_CONNECTION, include_settled=True)


def two_way_differences(box: Sandbox) -> list[str]:
    """What keeps C and D from being equal with both merchants' edits kept; [] when they are."""
    c, d = box.source_store(TWO_WAY_CONNECTION), box.destination_store(TWO_WAY_CONNECTION)
    problems: list[str] = []
    by_sku = {p["sku"]: p for p in d.products()}
    for product in c.products():
        twin = by_sku.get(product["sku"])
        if twin is None:
            problems.append(f"{product['sku']}: in store C, not in store D")
            continue
        differing = [f for f in MERGED if product.get(f) != twin.get(f)]
        if differing:
            problems.append(f"{product['sku']}: C and D differ in {', '.join(differing)}")
    [lamp] = [p for p in c.products() if p["sku"] == SKU] or [{}]
    for field, wanted in EXPECTED.items():
        if lamp.get(field) != wanted:
            problems.append(f"{SKU}: {field} is {lamp.get(field)!r}, expected {wanted!r}")
    settled = [(r.field, r.outcome) for r in conflicts(box)]
    if settled != [("price", "source")]:
        problems.append(f"conflicts recorded: {settled}, expected one on price settled by the source")
    return problems


def conflicts_table(box: Sandbox) -> Table:
    table = Table(title=f"conflicts of {TWO_WAY_CONNECTION} (catalog-sync conflicts list --all)")
    for column in ("id", "base", "store C", "store D", "rule", "outcome", "status"):
        table.add_column(column)
    for record in conflicts(box):
        table.add_row(
            record.conflict_id,
            str(record.base),
            str(record.source_value),
            str(record.destination_value),
            record.rule,
            record.outcome,
            record.status,
        )
    return table
