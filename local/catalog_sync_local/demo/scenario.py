"""`make demo`: store A changes, store B follows; Pixlpay changes, Medusa follows; through the real
handlers on the local stack.

Two simulated BigCommerce stores, a simulated Pixlpay store and Medusa application, the stack from
template.yaml on embedded moto, the sources' webhooks registered to the local HTTP API, the queue polled
into the consumer with the template's batch settings (batch size, batching window). The script edits store
A like a merchant would in three steps (create, edit, delete), then the Pixlpay store likewise, shows each
delivery's way through the pipeline live with its end-to-end latency (from the merchant's change to the
write at the destination), then checks that B's catalog (products, categories, deletes) equals A's and
that Medusa holds Pixlpay's products by external_id `pixlpay_<id>` with their brand and category (seeds
000, 002). Exit 0 only if both converged.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from rich.console import Console
from rich.live import Live
from rich.table import Table

from catalog_sync_local.demo.compare import catalog_differences, medusa_differences, medusa_view
from catalog_sync_local.demo.two_way import (
    TWO_WAY_CONNECTION,
    conflicts_table,
    two_way_differences,
    two_way_steps,
)
from catalog_sync_local.runtime.local_runtime import DrainReport
from catalog_sync_local.runtime.sandbox import Sandbox
from catalog_sync_local.simulators.bigcommerce.contract import coverage, take_unexpected_violations

CONNECTION = "store-a-to-b"
PIXLPAY_CONNECTION = "pixlpay-to-medusa"
MAX_SECONDS = 100.0  # the whole demo, well under two minutes; the steps share it (see run_demo)
DELETED_SKUS = frozenset({"BOWL-9"})
DELETED_CATEGORIES = frozenset({"Seasonal"})
# The handlers' own JSON logs and EMF metrics would drown the demo's table: keep warnings only.
QUIET = {"Parameters": {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}}


class DemoObserver(Protocol):
    """Watches a demo run (`make dashboard` records its metrics): called with the running sandbox."""

    def started(self, box: Sandbox) -> None: ...

    def finishing(self, box: Sandbox) -> None: ...


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


def _pixlpay_steps(box: Sandbox) -> tuple[list[Step], dict[str, int]]:
    """What a merchant does in the Pixlpay dashboard; the product ids, by short name, for the final check."""
    pixlpay = box.pixlpay_store(PIXLPAY_CONNECTION)
    ids: dict[str, int] = {}

    def create() -> None:
        ids["vip"] = pixlpay.create_product(
            "VIP Rank",
            "9.99",
            description="Access to VIP features",
            sku="VIP-1",
            category={"id": 1, "name": "Ranks", "slug": "ranks"},
            images=["https://cdn.pixlpay.test/vip.png"],
        )["id"]
        ids["kit"] = pixlpay.create_product("Starter Kit", "4.99", description="Tools to begin", sku="KIT-1")[
            "id"
        ]
        ids["crate"] = pixlpay.create_product(
            "Winter Crate", "2.50", description="Seasonal loot", sku="CRATE-W"
        )["id"]

    def edit() -> None:
        pixlpay.update_product(ids["vip"], name="VIP+ Rank", price="12.50")

    def delete() -> None:
        pixlpay.delete_product(ids["crate"])

    steps = [
        Step("create VIP Rank (category Ranks, an image), Starter Kit and Winter Crate", create),
        Step("rename + reprice VIP Rank: VIP+ Rank at 12.50", edit),
        Step("delete Winter Crate (Medusa keeps it as a draft: soft delete)", delete),
    ]
    return steps, ids


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


def _connection_events(box: Sandbox, connection: str) -> list[dict[str, Any]]:
    return [e for e in box.events() if e["pk"] == connection]


def _events_table(box: Sandbox, steps: list[Step], connection: str, destination: str) -> Table:
    title = f"webhook deliveries → EventsTable → sync into {destination} (latest 25)"
    table = Table(title=title, expand=False)
    for column in ("step", "delivery", "scope", "entity", "status", "outcome", "webhook→sync ms"):
        table.add_column(column)
    table.add_column("change→sync ms", justify="right")
    events = _connection_events(box, connection)
    for e in sorted(events, key=lambda e: e.get("received_at", 0))[-25:]:  # newest last
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


@dataclass
class Part:
    """One connection's share of the demo: its steps, shown against its own events."""

    connection: str
    source: str  # as the merchant knows it: "store A", "Pixlpay"
    destination: str
    steps: list[Step]


def _watch(box: Sandbox, console: Console, part: Part, seconds: float) -> None:
    """Show the part's events table live until the pipeline is quiet (bounded by `seconds`)."""

    def table() -> Table:
        return _events_table(box, part.steps, part.connection, part.destination)

    with Live(table(), console=console, refresh_per_second=4) as live:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.5)
            live.update(table())
            statuses = Counter(e["status"] for e in box.events())
            quiet = box.queue_depth("SyncQueue") == 0 and not box.deliveries_pending()
            if quiet and statuses.get("received", 0) == 0:
                break
    console.print()


def run_demo(
    console: Console | None = None,
    *,
    env_overrides: dict[str, dict[str, str]] | None = None,
    observer: DemoObserver | None = None,
) -> int:
    """The demo; 0 if store B converged to store A, Medusa to Pixlpay and stores C and D to each other."""
    console = console or Console(width=max(120, Console().width))
    started = time.monotonic()
    with Sandbox(
        register_webhooks=True, env_overrides=QUIET if env_overrides is None else env_overrides
    ) as box:
        if observer is not None:
            observer.started(box)
        console.print(f"[bold]local stack up[/] from template.yaml; HTTP API at {box.api.url}")
        for name, store in box.stores.items():
            console.print(f"  store {name}: {store.v3_base}")
        pixlpay, medusa = box.pixlpay_store(PIXLPAY_CONNECTION), box.medusa_store(PIXLPAY_CONNECTION)
        console.print(f"  Pixlpay store: {pixlpay.base_url}   Medusa: {medusa.api_url}/admin")
        [source] = box.stack.functions["SyncConsumerFunction"].sqs_sources
        console.print(
            f"  SyncQueue → SyncConsumerFunction: batches of up to {source.batch_size}, "
            f"batching window {source.batching_window_s} s (from template.yaml)"
        )
        pixlpay_steps, pixlpay_ids = _pixlpay_steps(box)
        parts = [
            Part(CONNECTION, "store A", "store B", _steps(box)),
            Part(PIXLPAY_CONNECTION, "Pixlpay", "Medusa", pixlpay_steps),
            Part(TWO_WAY_CONNECTION, "store C", "store D ⇄ store C", [Step(*s) for s in two_way_steps(box)]),
        ]
        per_step = MAX_SECONDS / (sum(len(p.steps) for p in parts) + 1)
        with box.runtime.pollers() as pollers:  # the SQS event source mapping, with the template's settings
            for part in parts:
                console.rule(f"[bold]{part.connection}[/]: {part.source} → {part.destination}")
                for number, step in enumerate(part.steps, start=1):
                    console.print(f"[cyan]{part.source}, step {number}:[/] {step.description}")
                    step.started_ms = int(time.time() * 1000)
                    step.action()
                    _watch(box, console, part, per_step)
        if observer is not None:
            observer.finishing(box)
        box.settle(max_rounds=5, max_seconds=10)  # anything left after the pollers stopped

        sent = {
            CONNECTION: len(box.source_store(CONNECTION).deliveries),
            PIXLPAY_CONNECTION: len(pixlpay.deliveries),
            TWO_WAY_CONNECTION: len(box.source_store(TWO_WAY_CONNECTION).deliveries)
            + len(box.destination_store(TWO_WAY_CONNECTION).deliveries),
        }
        console.print(_summary(box, parts, sent, pollers.report, time.monotonic() - started))
        console.print(_medusa_table(box))
        console.print(conflicts_table(box))
        for brand in box.medusa_store(PIXLPAY_CONNECTION).brands():
            console.print(f"  Medusa brand {brand['name']!r}: external_id {brand['external_id']} (seed 002)")
        problems = {
            CONNECTION: catalog_differences(
                box.source_store(CONNECTION),
                box.destination_store(CONNECTION),
                deleted_skus=DELETED_SKUS,
                check_categories=True,
                deleted_categories=DELETED_CATEGORIES,
            ),
            PIXLPAY_CONNECTION: medusa_differences(
                pixlpay,
                medusa,
                brand=box.connection(PIXLPAY_CONNECTION)["source"].get("brand"),
                deleted_ids=frozenset({pixlpay_ids["crate"]}),
            ),
            TWO_WAY_CONNECTION: two_way_differences(box),
        }
    verdicts = {
        CONNECTION: ("store B", "store A", "products, variants, images, brands, categories; deletes hidden"),
        PIXLPAY_CONNECTION: (
            "Medusa",
            "Pixlpay",
            "products by external_id pixlpay_<id>, brand and category linked; deleted = draft",
        ),
        TWO_WAY_CONNECTION: (
            "store D",
            "store C",
            "both merchants' edits kept; the price conflict settled by C",
        ),
    }
    for name, (to_system, from_system, what) in verdicts.items():
        if problems[name]:
            console.print(f"[bold red]NOT converged:[/] {to_system} differs from {from_system}:")
            for problem in problems[name]:
                console.print(f"  - {problem}")
        else:
            console.print(f"[bold green]converged:[/] {to_system} equals {from_system}: {what}")
    kept_contract = _contract_report(console)
    return 1 if any(problems.values()) or not kept_contract else 0


def _contract_report(console: Console) -> bool:
    """Whether every BigCommerce request and answer of the run matched the official operation schemas
    (the simulated stores check each one: simulators.bigcommerce.contract)."""
    violations = take_unexpected_violations()
    checked = coverage()
    operations = len({name for name, _ in checked})
    if violations:
        console.print(f"[bold red]BigCommerce contract broken:[/] {len(violations)} violation(s):")
        for violation in violations[:20]:
            console.print(f"  - {violation}")
        return False
    console.print(
        f"[bold green]BigCommerce contract kept:[/] {sum(checked.values())} requests and answers over "
        f"{operations} operations matched the official schemas"
    )
    return True


def _summary(
    box: Sandbox, parts: list[Part], sent: dict[str, int], report: DrainReport, seconds: float
) -> Table:
    """Per connection: deliveries, stored events, dedup, outcomes, latencies; then the shared figures."""
    summary = Table(title="summary")
    summary.add_column("figure")
    for part in parts:
        summary.add_column(part.connection, justify="right")
    rows: dict[str, list[object]] = {}
    for part in parts:
        events = _connection_events(box, part.connection)
        statuses = Counter(e["status"] for e in events)
        latencies = [ms for ms in (change_to_sync_ms(e, part.steps) for e in events) if ms is not None]
        for label, value in (
            ("webhook deliveries sent by the source", sent[part.connection]),
            ("events stored", len(events)),
            ("deduplicated (redeliveries not stored twice)", sent[part.connection] - len(events)),
            ("synced (processed)", statuses.get("processed", 0)),
            ("failed", statuses.get("failed", 0)),
            ("change → sync, median ms", _median(latencies)),
            ("change → sync, slowest ms", max(latencies, default=0)),
        ):
            rows.setdefault(label, []).append(value)
    for label, values in rows.items():
        summary.add_row(label, *(str(v) for v in values))
    blank = [""] * (len(parts) - 1)
    summary.add_row("in the DLQ (both)", str(box.queue_depth("SyncDeadLetterQueue")), *blank)
    summary.add_row("consumer batches (sizes)", f"{report.batches} {report.batch_sizes}", *blank)
    summary.add_row("seconds", str(round(seconds, 1)), *blank)
    return summary


def _medusa_table(box: Sandbox) -> Table:
    """What Medusa holds now, as its Admin API would list it."""
    medusa = box.medusa_store(PIXLPAY_CONNECTION)
    table = Table(title="Medusa products (external_id = pixlpay_<Pixlpay id>)")
    for column in ("external_id", "title", "price", "status", "brand", "categories", "soft-deleted"):
        table.add_column(column)
    for product in sorted(medusa.products(), key=lambda p: str(p.get("external_id"))):
        view = medusa_view(medusa, product)
        brand = product.get("brand") or {}  # the Brand Module's link (additional_data.brand_id)
        table.add_row(
            str(product.get("external_id")),
            str(view["title"]),
            f"{view['price']:.2f}" if view["price"] is not None else "-",
            str(view["status"]),
            str(brand.get("name", "-")),
            ", ".join(view["categories"]) or "-",
            "yes" if (product.get("metadata") or {}).get("pixlpay_deleted") else "",
        )
    return table


def _median(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0
