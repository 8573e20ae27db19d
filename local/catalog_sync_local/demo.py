"""`make demo`: store A changes, store B follows, through the real handlers on the local stack.

Two simulated BigCommerce stores, the stack from template.yaml on embedded moto, A's webhooks registered
to the local HTTP API. The script edits store A like a merchant would, shows each delivery's way through
the pipeline live, then checks that B's catalog equals A's. Exit 0 only if it converged.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from catalog_sync_local.compare import catalog_differences
from catalog_sync_local.sandbox import Sandbox

CONNECTION = "store-a-to-b"
MAX_SECONDS = 90.0
# The handlers' own JSON logs and EMF metrics would drown the demo's table: keep warnings only.
QUIET = {"Parameters": {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}}


def _merchant_edits(box: Sandbox, say: Any) -> frozenset[str]:
    """What a merchant does in store A's dashboard; returns the SKUs it deleted."""
    a = box.source_store(CONNECTION)
    kitchen = a.create_category({"name": "Kitchen", "parent_id": 0})
    mugs = a.create_category({"name": "Mugs", "parent_id": kitchen["id"]})
    brand = a.create_brand({"name": "Acme"})
    say("created categories Kitchen > Mugs and brand Acme")
    mug = a.create_product(
        {
            "name": "Coffee Mug",
            "type": "physical",
            "sku": "MUG-1",
            "price": 12.0,
            "weight": 1,
            "categories": [mugs["id"]],
            "brand_id": brand["id"],
            "variants": [
                {
                    "sku": "MUG-1-BLU",
                    "price": 12.0,
                    "option_values": [{"option_display_name": "Color", "label": "Blue"}],
                },
                {
                    "sku": "MUG-1-RED",
                    "price": 12.0,
                    "option_values": [{"option_display_name": "Color", "label": "Red"}],
                },
            ],
            "images": [{"image_url": "https://cdn.example.com/mug-front.jpg", "is_thumbnail": True}],
        }
    )
    say("created product MUG-1 with 2 variants and an image")
    plate = a.create_product(
        {"name": "Dinner Plate", "type": "physical", "sku": "PLATE-1", "price": 8.0, "weight": 2}
    )
    temp = a.create_product(
        {"name": "Clearance Bowl", "type": "physical", "sku": "BOWL-9", "price": 3.0, "weight": 1}
    )
    say("created products PLATE-1 and BOWL-9")
    time.sleep(0.5)
    a.update_product(mug["id"], {"name": "Coffee Mug XL", "price": 14.5})
    say("renamed MUG-1 and changed its price")
    a.add_image(mug["id"], {"image_url": "https://cdn.example.com/mug-side.jpg", "sort_order": 1})
    say("added an image to MUG-1")
    variants = (a.get_product(mug["id"], include="variants") or {}).get("variants", [])
    red = next(v for v in variants if v["sku"] == "MUG-1-RED")
    a.update_variant(mug["id"], red["id"], {"price": 13.0})
    say("repriced variant MUG-1-RED")
    a.update_product(plate["id"], {"description": "<p>Stoneware</p>"})
    a.update_category(mugs["id"], {"name": "Mugs & Cups"})
    say("described PLATE-1, renamed category Mugs")
    a.delete_product(temp["id"])
    say("deleted BOWL-9")
    return frozenset({"BOWL-9"})


def _events_table(box: Sandbox) -> Table:
    table = Table(title="deliveries → events → sync", expand=False)
    for column in ("delivery", "scope", "entity", "status", "outcome", "latency ms"):
        table.add_column(column)
    for e in sorted(box.events(), key=lambda e: e.get("received_at", 0))[-25:]:
        latency = e["processed_at"] - e["received_at"] if "processed_at" in e else None
        table.add_row(
            str(e["sk"])[:14],
            str(e.get("scope", "")).removeprefix("store/"),
            f"{e.get('entity_type', '-')}/{e.get('entity_id', '-')}",
            str(e["status"]),
            str(e.get("outcome", "")),
            "" if latency is None else str(latency),
        )
    return table


def run_demo() -> int:
    console = Console()
    started = time.monotonic()
    with Sandbox(register_webhooks=True, env_overrides=QUIET) as box:
        console.print(f"[bold]local stack up[/] from template.yaml; HTTP API at {box.api.url}")
        for name, store in box.stores.items():
            console.print(f"  store {name}: {store.v3_base}")
        stop = threading.Event()

        def pump() -> None:  # the SQS event source mapping: poll the queue into the consumer
            while not stop.is_set():
                box.settle(max_rounds=3, max_seconds=10)
                stop.wait(0.2)

        poller = threading.Thread(target=pump, name="queue-poller", daemon=True)
        poller.start()
        log: list[str] = []
        deleted = _merchant_edits(box, log.append)
        for line in log:
            console.print(f"  [cyan]store A[/]: {line}")
        with Live(_events_table(box), console=console, refresh_per_second=4) as live:
            deadline = time.monotonic() + MAX_SECONDS
            while time.monotonic() < deadline:
                live.update(_events_table(box))
                pending = box.queue_depth("SyncQueue")
                statuses = Counter(e["status"] for e in box.events())
                if pending == 0 and statuses.get("received", 0) == 0 and not box.deliveries_pending():
                    break
                time.sleep(0.5)
            live.update(_events_table(box))
        stop.set()
        poller.join(timeout=15)
        box.settle(max_rounds=5, max_seconds=15)

        events = box.events()
        statuses = Counter(e["status"] for e in events)
        sent = box.source_store(CONNECTION).deliveries
        summary = Table(title="summary")
        summary.add_column("figure")
        summary.add_column("value", justify="right")
        for label, value in (
            ("webhook deliveries sent by store A", len(sent)),
            ("events stored", len(events)),
            ("deduplicated (redeliveries not stored twice)", len(sent) - len(events)),
            ("synced (processed)", statuses.get("processed", 0)),
            ("failed", statuses.get("failed", 0)),
            ("in the DLQ", box.queue_depth("SyncDeadLetterQueue")),
            ("seconds", round(time.monotonic() - started, 1)),
        ):
            summary.add_row(label, str(value))
        console.print(summary)
        problems = catalog_differences(
            box.source_store(CONNECTION), box.destination_store(CONNECTION), deleted_skus=deleted
        )
    if problems:
        console.print("[bold red]NOT converged:[/] store B differs from store A:")
        for problem in problems:
            console.print(f"  - {problem}")
        return 1
    console.print("[bold green]converged:[/] store B's catalog equals store A's for every synced field")
    return 0
