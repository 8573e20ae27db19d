"""`make demo`: store A changes, store B follows, through the real handlers on the local stack.

Two simulated BigCommerce stores, the stack from template.yaml on embedded moto, A's webhooks registered
to the local HTTP API. The script edits store A like a merchant would, shows each delivery's way through
the pipeline live, then checks that B's catalog equals A's. Exit 0 only if it converged.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

from rich.console import Console
from rich.live import Live
from rich.table import Table

from catalog_sync_local.compare import catalog_differences
from catalog_sync_local.sandbox import Sandbox

CONNECTION = "store-a-to-b"
MAX_SECONDS = 90.0
# The handlers' own JSON logs and EMF metrics would drown the demo's table: keep warnings only.
QUIET = {"Parameters": {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}}


def _phases(box: Sandbox) -> list[tuple[str, Callable[[], None]]]:
    """What a merchant does in store A's dashboard, in phases the demo lets sync one by one."""
    a = box.source_store(CONNECTION)
    ids: dict[str, int] = {}

    def create() -> None:
        kitchen = a.create_category({"name": "Kitchen", "parent_id": 0})
        ids["mugs"] = a.create_category({"name": "Mugs", "parent_id": kitchen["id"]})["id"]
        brand = a.create_brand({"name": "Acme"})
        ids["mug"] = a.create_product(
            {
                "name": "Coffee Mug",
                "type": "physical",
                "sku": "MUG-1",
                "price": 12.0,
                "weight": 1,
                "categories": [ids["mugs"]],
                "brand_id": brand["id"],
                "variants": [
                    {"sku": "MUG-1-BLU", "price": 12.0, "option_values": [_color("Blue")]},
                    {"sku": "MUG-1-RED", "price": 12.0, "option_values": [_color("Red")]},
                ],
                "images": [{"image_url": "https://cdn.example.com/mug-front.jpg", "is_thumbnail": True}],
            }
        )["id"]
        ids["plate"] = a.create_product(
            {"name": "Dinner Plate", "type": "physical", "sku": "PLATE-1", "price": 8.0, "weight": 2}
        )["id"]
        ids["bowl"] = a.create_product(
            {"name": "Clearance Bowl", "type": "physical", "sku": "BOWL-9", "price": 3.0, "weight": 1}
        )["id"]

    def edit() -> None:
        a.update_product(ids["mug"], {"name": "Coffee Mug XL", "price": 14.5})
        a.add_image(ids["mug"], {"image_url": "https://cdn.example.com/mug-side.jpg", "sort_order": 1})
        variants = (a.get_product(ids["mug"], include="variants") or {}).get("variants", [])
        red = next(v for v in variants if v["sku"] == "MUG-1-RED")
        a.update_variant(ids["mug"], red["id"], {"price": 13.0})
        a.update_product(ids["plate"], {"description": "<p>Stoneware</p>"})
        a.update_category(ids["mugs"], {"name": "Mugs & Cups"})

    def delete() -> None:
        a.delete_product(ids["bowl"])

    return [
        (
            "create categories Kitchen > Mugs, brand Acme, MUG-1 (2 variants, 1 image), PLATE-1, BOWL-9",
            create,
        ),
        (
            "rename + reprice MUG-1, add an image, reprice variant MUG-1-RED, describe PLATE-1, rename Mugs",
            edit,
        ),
        ("delete BOWL-9 (store B keeps it hidden and disabled: a soft delete)", delete),
    ]


def _color(label: str) -> dict[str, str]:
    return {"option_display_name": "Color", "label": label}


def _events_table(box: Sandbox) -> Table:
    table = Table(title="webhook deliveries → EventsTable → sync (latest 25)", expand=False)
    for column in ("delivery", "scope", "entity", "status", "outcome", "latency ms"):
        table.add_column(column)
    for e in sorted(box.events(), key=lambda e: e.get("received_at", 0))[-25:]:  # newest last
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


def _watch(box: Sandbox, console: Console) -> None:
    """Show the events table live until the pipeline is quiet (bounded)."""
    with Live(_events_table(box), console=console, refresh_per_second=4) as live:
        deadline = time.monotonic() + MAX_SECONDS / 3
        while time.monotonic() < deadline:
            time.sleep(0.5)
            live.update(_events_table(box))
            statuses = Counter(e["status"] for e in box.events())
            quiet = box.queue_depth("SyncQueue") == 0 and not box.deliveries_pending()
            if quiet and statuses.get("received", 0) == 0:
                break
    console.print()


def run_demo() -> int:
    console = Console(width=max(110, Console().width))
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
        for number, (description, action) in enumerate(_phases(box), start=1):
            console.print(f"[cyan]store A, step {number}:[/] {description}")
            action()
            _watch(box, console)
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
            box.source_store(CONNECTION),
            box.destination_store(CONNECTION),
            deleted_skus=frozenset({"BOWL-9"}),
        )
    if problems:
        console.print("[bold red]NOT converged:[/] store B differs from store A:")
        for problem in problems:
            console.print(f"  - {problem}")
        return 1
    console.print("[bold green]converged:[/] store B's catalog equals store A's for every synced field")
    return 0
