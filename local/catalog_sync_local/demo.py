"""`make demo`: store A changes, store B follows, through the real handlers on the local stack.

Two simulated BigCommerce stores, the stack from template.yaml on embedded moto, A's webhooks registered
to the local HTTP API, the queue polled into the consumer with the template's batch settings (batch size,
batching window). The script edits store A like a merchant would in three steps (create, edit, delete),
shows each delivery's way through the pipeline live with its end-to-end latency (from the merchant's
change to the write in store B), then checks that B's catalog (products, categories, deletes) equals
A's. Exit 0 only if it converged.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from catalog_sync_local.compare import catalog_differences
from catalog_sync_local.sandbox import Sandbox

CONNECTION = "store-a-to-b"
MAX_SECONDS = 100.0  # the whole demo, well under two minutes; each step gets a third at most
DELETED_SKUS = frozenset({"BOWL-9"})
DELETED_CATEGORIES = frozenset({"Seasonal"})
# The handlers' own JSON logs and EMF metrics would drown the demo's table: keep warnings only.
QUIET = {"Parameters": {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}}


@dataclass
class Step:
    description: str
    action: Callable[[], None]
    started_ms: int = 0  # when the merchant made the change (epoch ms, like the events' timestamps)


def _steps(box: Sandbox) -> list[Step]:
    """What a merchant does in store A's dashboard, in steps the demo lets sync one by one."""
    a = box.source_store(CONNECTION)
    ids: dict[str, int] = {}

    def create() -> None:
        kitchen = a.create_category({"name": "Kitchen", "parent_id": 0})
        ids["mugs"] = a.create_category({"name": "Mugs", "parent_id": kitchen["id"]})["id"]
        ids["seasonal"] = a.create_category({"name": "Seasonal", "parent_id": kitchen["id"]})["id"]
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
        a.delete_category(ids["seasonal"])

    return [
        Step(
            "create categories Kitchen > Mugs, Kitchen > Seasonal, brand Acme, MUG-1 (2 variants, 1 image), "
            "PLATE-1, BOWL-9",
            create,
        ),
        Step(
            "rename + reprice MUG-1, add an image, reprice variant MUG-1-RED, describe PLATE-1, rename Mugs",
            edit,
        ),
        Step(
            "delete BOWL-9 and category Seasonal (store B keeps both, hidden: soft deletes)",
            delete,
        ),
    ]


def _color(label: str) -> dict[str, str]:
    return {"option_display_name": "Color", "label": label}


def _step_of(event: dict[str, Any], steps: list[Step]) -> int:
    """The step whose change caused the event: the last one started before the webhook arrived."""
    started = [
        n for n, step in enumerate(steps, start=1) if 0 < step.started_ms <= event.get("received_at", 0)
    ]
    return started[-1] if started else 0


def change_to_sync_ms(event: dict[str, Any], steps: list[Step]) -> int | None:
    """End-to-end latency: from the merchant's change in store A to the event's sync into store B."""
    step = _step_of(event, steps)
    if "processed_at" not in event or step == 0:
        return None
    return int(event["processed_at"]) - steps[step - 1].started_ms


def _events_table(box: Sandbox, steps: list[Step]) -> Table:
    table = Table(title="webhook deliveries → EventsTable → sync into store B (latest 25)", expand=False)
    for column in ("step", "delivery", "scope", "entity", "status", "outcome", "webhook→sync ms"):
        table.add_column(column)
    table.add_column("change→sync ms", justify="right")
    for e in sorted(box.events(), key=lambda e: e.get("received_at", 0))[-25:]:  # newest last
        in_pipeline = e["processed_at"] - e["received_at"] if "processed_at" in e else None
        end_to_end = change_to_sync_ms(e, steps)
        table.add_row(
            str(_step_of(e, steps) or "-"),
            str(e["sk"])[:14],
            str(e.get("scope", "")).removeprefix("store/"),
            f"{e.get('entity_type', '-')}/{e.get('entity_id', '-')}",
            str(e["status"]),
            str(e.get("outcome", "")),
            "" if in_pipeline is None else str(in_pipeline),
            "" if end_to_end is None else str(end_to_end),
        )
    return table


def _watch(box: Sandbox, console: Console, steps: list[Step], seconds: float) -> None:
    """Show the events table live until the pipeline is quiet (bounded by `seconds`)."""
    with Live(_events_table(box, steps), console=console, refresh_per_second=4) as live:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.5)
            live.update(_events_table(box, steps))
            statuses = Counter(e["status"] for e in box.events())
            quiet = box.queue_depth("SyncQueue") == 0 and not box.deliveries_pending()
            if quiet and statuses.get("received", 0) == 0:
                break
    console.print()


def run_demo(console: Console | None = None) -> int:
    """The demo; 0 if store B converged to store A, 1 if not."""
    console = console or Console(width=max(120, Console().width))
    started = time.monotonic()
    with Sandbox(register_webhooks=True, env_overrides=QUIET) as box:
        console.print(f"[bold]local stack up[/] from template.yaml; HTTP API at {box.api.url}")
        for name, store in box.stores.items():
            console.print(f"  store {name}: {store.v3_base}")
        [source] = box.stack.functions["SyncConsumerFunction"].sqs_sources
        console.print(
            f"  SyncQueue → SyncConsumerFunction: batches of up to {source.batch_size}, "
            f"batching window {source.batching_window_s} s (from template.yaml)"
        )
        steps = _steps(box)
        with box.runtime.pollers() as pollers:  # the SQS event source mapping, with the template's settings
            for number, step in enumerate(steps, start=1):
                console.print(f"[cyan]store A, step {number}:[/] {step.description}")
                step.started_ms = int(time.time() * 1000)
                step.action()
                _watch(box, console, steps, MAX_SECONDS / (len(steps) + 1))
        box.settle(max_rounds=5, max_seconds=10)  # anything left after the pollers stopped

        events = box.events()
        statuses = Counter(e["status"] for e in events)
        latencies = [ms for ms in (change_to_sync_ms(e, steps) for e in events) if ms is not None]
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
            ("consumer batches (sizes)", f"{pollers.report.batches} {pollers.report.batch_sizes}"),
            ("change → sync, median ms", _median(latencies)),
            ("change → sync, slowest ms", max(latencies, default=0)),
            ("seconds", round(time.monotonic() - started, 1)),
        ):
            summary.add_row(label, str(value))
        console.print(summary)
        problems = catalog_differences(
            box.source_store(CONNECTION),
            box.destination_store(CONNECTION),
            deleted_skus=DELETED_SKUS,
            check_categories=True,
            deleted_categories=DELETED_CATEGORIES,
        )
    if problems:
        console.print("[bold red]NOT converged:[/] store B differs from store A:")
        for problem in problems:
            console.print(f"  - {problem}")
        return 1
    console.print(
        "[bold green]converged:[/] store B equals store A: products, variants, images, brands, "
        "categories; deletes hidden"
    )
    return 0


def _median(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0
