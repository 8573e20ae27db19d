"""`make chaos`: random merchant edits under hostile delivery, then check the promises.

Per seed: store A gets a random stream of changes (renames with a rising version number, price and
variant edits, new images, deletes and re-creates) while the pipeline suffers duplicated and re-ordered
notifications (old payloads re-sent with new delivery ids), dropped notifications (A's hooks switched off
for a while), destination failures (5xx bursts from store B) and source hiccups (a transient 404 for a
live product, which the engine takes for a delete). The queue is drained at random moments
so batches mix old and new notifications. On top of that, what real stores do (issue 10):
- products deleted and re-created with the same SKU (a new id), the old id's delete arriving late;
- bursts of edits in one frozen second (long runs of equal `date_modified`, several edits of one product
  in the same second) with webhooks off, so only the hourly pull (page size 3) can find them;
- products deleted at the destination behind the system's back, then edited at the source;
- Pixlpay -> Medusa with id-less `event` + `timestamp` payloads: two edits of a product in one second.
Measured:
- stale_overwrites: times store B showed an older version of a product than it had already shown;
- converged_seeds: seeds where, after the final full sync, B equals A for every synced field;
- lost_events: stored events that ended neither processed nor in the DLQ.
Writes bench/chaos.json.
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import requests

from catalog_sync.signatures import sign_standard_webhooks
from catalog_sync.sync_request import SyncRequest
from catalog_sync_local.demo.compare import catalog_differences
from catalog_sync_local.demo.sample_events import local_signing_secret
from catalog_sync_local.runtime.sandbox import Sandbox

OUT = Path(__file__).resolve().parent / "chaos.json"
CONNECTION = "store-a-to-b"
PIXLPAY = "pixlpay-to-medusa"
QUIET = {"Parameters": {"POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"}}
VERSION = re.compile(r" v(\d+)$")


class Run:
    def __init__(self, box: Sandbox, rng: random.Random) -> None:
        self.box, self.rng = box, rng
        self.a = box.source_store(CONNECTION)
        self.b = box.destination_store(CONNECTION)
        self.version: dict[int, int] = {}  # product id at A -> version in its name
        self.sku: dict[int, str] = {}
        self.deleted: set[str] = set()
        self.highest_seen: dict[str, int] = {}
        self.stale_overwrites = 0
        self.hiccups = 0
        self.secret = local_signing_secret(CONNECTION)
        self.retired: set[int] = set()  # ids deleted and re-created under a new id with the same SKU
        self.late: list[int] = []  # retired ids whose delete is still to arrive, late
        self.scenarios = dict.fromkeys(("recreated", "tie_bursts", "same_second", "dest_deletes"), 0)

    # --- merchant ----------------------------------------------------------------------------------

    def live(self) -> list[int]:
        return [pid for pid, sku in self.sku.items() if sku not in self.deleted and pid not in self.retired]

    def create(self, n: int | None = None, version: int = 1) -> int:
        n = n or len({*self.sku.values()}) + 1
        sku = f"CH-{n}"
        product = self.a.create_product(
            {
                "name": f"Chaos {n} v{version}",
                "type": "physical",
                "sku": sku,
                "price": float(n),
                "weight": 1,
                "variants": [
                    {"sku": f"{sku}-S", "price": float(n), "option_values": [_size("S")]},
                    {"sku": f"{sku}-L", "price": float(n) + 1, "option_values": [_size("L")]},
                ],
            }
        )
        self.version[product["id"]], self.sku[product["id"]] = version, sku
        self.deleted.discard(sku)
        return int(product["id"])

    def change(self) -> None:
        live = self.live()
        if not live:
            self.create()
            return
        pid = self.rng.choice(live)
        roll = self.rng.random()
        if roll < 0.55:
            self.version[pid] += 1
            name = f"Chaos {self.sku[pid].split('-')[1]} v{self.version[pid]}"
            self.a.update_product(pid, {"name": name, "price": round(self.rng.uniform(1, 99), 2)})
        elif roll < 0.75:
            variants = (self.a.get_product(pid, include="variants") or {}).get("variants", [])
            options = [v for v in variants if v.get("option_values")]
            if options:
                self.a.update_variant(
                    pid, self.rng.choice(options)["id"], {"price": round(self.rng.uniform(1, 99), 2)}
                )
        elif roll < 0.9:
            self.a.add_image(pid, {"image_url": f"https://cdn.example.com/{uuid.uuid4().hex[:8]}.jpg"})
        else:
            self.a.delete_product(pid)
            self.deleted.add(self.sku[pid])

    def bump(self, pid: int) -> None:
        self.version[pid] += 1
        self.a.update_product(pid, {"name": f"Chaos {self.sku[pid].split('-')[1]} v{self.version[pid]}"})

    # --- what real stores do (issue 10) ---------------------------------------------------------------

    def recreate(self) -> None:
        """Delete a product and create it again with the same SKU: BigCommerce gives it a new id. The
        old id's delete is re-sent later (a retried or reordered delivery)."""
        live = self.live()
        if not live:
            return
        old = self.rng.choice(live)
        self.a.delete_product(old)
        self.retired.add(old)
        self.create(int(self.sku[old].split("-")[1]), version=self.version[old] + 1)
        self.late.append(old)
        self.scenarios["recreated"] += 1

    def late_deletes(self) -> None:
        for pid in self.late:
            self.enqueue(pid)
        self.late.clear()

    def burst_in_one_second(self) -> None:
        """With webhooks off, many edits stamped with one frozen second (a run of equal date_modified
        longer than the pull's page), one product edited twice in that second with a pull in between."""
        live = self.live()
        if len(live) < 2:
            return
        self.set_hooks_active(False)
        frozen = float(int(time.time()))
        self.a.catalog.clock = lambda: frozen
        try:
            for pid in self.rng.sample(live, min(len(live), self.rng.randint(4, 9))):
                self.bump(pid)
            self.scenarios["tie_bursts"] += 1
            twice = self.rng.choice(live)
            self.bump(twice)
            self.pull()  # reads the run; the consumer syncs this version...
            self.bump(twice)  # ...and the merchant edits it again in the same second
            self.scenarios["same_second"] += 1
        finally:
            self.a.catalog.clock = time.time
        time.sleep(max(0.0, frozen + 1.05 - time.time()))  # later edits get later seconds
        self.pull()
        self.set_hooks_active(True)

    def destination_delete(self) -> None:
        """Someone deletes a synced product at the destination; the merchant then edits it at the source."""
        live = [pid for pid in self.live() if self.sku[pid] in {p["sku"] for p in self.b.products()}]
        if not live:
            return
        pid = self.rng.choice(live)
        at_b = next(p for p in self.b.products() if p["sku"] == self.sku[pid])
        self.b.delete_product(at_b["id"])
        self.highest_seen.pop(self.sku[pid], None)  # it reappears at its new version
        self.bump(pid)
        self.scenarios["dest_deletes"] += 1

    def pull(self) -> None:
        self.box.runtime.invoke("PullSyncFunction", {"connection": CONNECTION})
        self.box.runtime.drain(max_batches=20, max_seconds=20)
        self.observe()

    def enqueue(self, pid: int) -> None:
        request = SyncRequest(connection=CONNECTION, entity_type="product", entity_id=pid, origin="pull")
        boto3.client("sqs").send_message(
            QueueUrl=self.box.stack.queues["SyncQueue"].url, MessageBody=request.model_dump_json()
        )

    # --- hostile delivery ----------------------------------------------------------------------------

    def replay_old_notifications(self, count: int) -> None:
        """Re-send earlier notifications with fresh delivery ids: duplicates that arrive out of order."""
        sent = [d.payload for d in self.a.deliveries]
        for payload in self.rng.sample(sent, min(count, len(sent))):
            body = json.dumps(payload).encode()
            headers = {"Content-Type": "application/json"}
            headers |= sign_standard_webhooks(
                self.secret, f"msg_replay_{uuid.uuid4().hex}", int(time.time()), body
            )
            requests.post(self.box.webhook_url(CONNECTION), data=body, headers=headers, timeout=10)

    def set_hooks_active(self, active: bool) -> None:
        token = self.box.connection(CONNECTION)["source"]["access_token"]
        auth = {"X-Auth-Token": token, "Accept": "application/json"}
        hooks = requests.get(f"{self.a.v3_base}/hooks", headers=auth, timeout=10).json()["data"]
        for hook in hooks:  # a PUT replaces the hook: webhooks.v3.yml requires all four fields
            whole = {key: hook[key] for key in ("scope", "destination", "headers")} | {"is_active": active}
            resp = requests.put(f"{self.a.v3_base}/hooks/{hook['id']}", json=whole, headers=auth, timeout=10)
            resp.raise_for_status()

    def source_hiccup(self) -> None:
        """Store A answers 404 once for a live product (a transient error) and a sync of it is queued:
        the engine soft-deletes it at B, and a later sync (its next change, or the full sync's
        tombstone check) must restore it."""
        live = self.live()
        if not live:
            return
        pid = self.rng.choice(live)
        self.a.fail_next("GET", rf"/catalog/products/{pid}$", status=404)
        self.enqueue(pid)
        self.hiccups += 1

    def destination_outage(self) -> None:
        self.b.fail_next("*", r"/catalog/products.*", status=503, times=self.rng.randint(1, 8))

    # --- observation -------------------------------------------------------------------------------

    def drain(self) -> None:
        self.a.wait_for_deliveries(timeout=10)
        self.box.runtime.drain(max_batches=self.rng.randint(1, 4), max_seconds=20)
        self.observe()

    def observe(self) -> None:
        for product in self.b.products():
            match = VERSION.search(product.get("name", ""))
            if not match:
                continue
            version, sku = int(match.group(1)), product["sku"]
            if version < self.highest_seen.get(sku, 0):
                self.stale_overwrites += 1
            self.highest_seen[sku] = max(version, self.highest_seen.get(sku, 0))


def _size(label: str) -> dict[str, str]:
    return {"option_display_name": "Size", "label": label}


def pixlpay_same_second_edits(box: Sandbox, rng: random.Random, rounds: int) -> list[str]:
    """Pixlpay -> Medusa with the documented id-less `event` + `timestamp` payloads: each round edits a
    product's price twice within one second (the second delivery's bytes equal the first's), letting the
    first sync land in between. Medusa must end with the last price, with no pull or full sync's help."""
    pixlpay, medusa = box.pixlpay_store(PIXLPAY), box.medusa_store(PIXLPAY)
    pixlpay.payload_shape = "event"
    products = [pixlpay.create_product(f"Crate {n}", "1.00") for n in range(2)]
    pixlpay.wait_for_deliveries(timeout=10)
    box.settle(max_rounds=50, max_seconds=60)
    for _ in range(rounds):
        product = rng.choice(products)
        frozen = float(int(time.time()))
        pixlpay.clock = lambda frozen=frozen: frozen
        try:
            for _ in range(2):
                pixlpay.update_product(product["id"], price=f"{rng.uniform(1, 99):.2f}")
                pixlpay.wait_for_deliveries(timeout=10)
                box.settle(max_rounds=50, max_seconds=60)
        finally:
            pixlpay.clock = time.time
        time.sleep(max(0.0, frozen + 1.05 - time.time()))
    problems = []
    for product in products:
        want = float((pixlpay.get_product(product["id"]) or {})["price"])
        got = medusa.product_by_external_id(f"pixlpay_{product['id']}") or {}
        prices = [p["amount"] for v in got.get("variants") or [] for p in v.get("prices") or []]
        if prices != [want]:
            problems.append(f"pixlpay_{product['id']}: price {prices} in Medusa, {want} in Pixlpay")
    return problems


def run_seed(seed: int, changes: int) -> dict[str, Any]:
    rng = random.Random(seed)
    with Sandbox(register_webhooks=True, env_overrides=QUIET) as box:
        box.update_connection(CONNECTION, schedule={"page_size": 3})  # runs of ties span pages
        run = Run(box, rng)
        for _ in range(4):
            run.create()
        for step in range(changes):
            run.change()
            roll = rng.random()
            if roll < 0.15:
                run.replay_old_notifications(rng.randint(1, 4))
            elif roll < 0.2:
                run.destination_outage()
            elif roll < 0.23:
                run.set_hooks_active(False)  # notifications for the next changes are lost
            elif roll < 0.3:
                run.set_hooks_active(True)
            elif roll < 0.34:
                run.source_hiccup()
            elif roll < 0.4:
                run.recreate()
            elif roll < 0.43:
                run.burst_in_one_second()
            elif roll < 0.47:
                run.destination_delete()
            if rng.random() < 0.2:
                run.late_deletes()
            if rng.random() < 0.35 or step == changes - 1:
                run.drain()
        run.set_hooks_active(True)
        run.late_deletes()
        box.settle(max_rounds=50, max_seconds=60)
        run.observe()
        box.runtime.fire_schedule("FullSyncFunction")  # the safety net finds what webhooks missed
        box.settle(max_rounds=50, max_seconds=60)
        run.observe()
        problems = catalog_differences(run.a, run.b, deleted_skus=frozenset(run.deleted))
        problems += pixlpay_same_second_edits(box, rng, rounds=3)
        dlq = box.queue_depth("SyncDeadLetterQueue")
        unfinished = [e for e in box.events() if e["status"] not in ("processed", "ignored")]
        return {
            "seed": seed,
            "converged": not problems,
            "problems": problems[:10],
            "stale_overwrites": run.stale_overwrites,
            "lost_events": max(0, len(unfinished) - dlq),
            "source_hiccups": run.hiccups,
            **run.scenarios,
        }


def main(argv: list[str]) -> int:
    seeds = int(argv[0]) if argv else 5
    changes = int(argv[1]) if len(argv) > 1 else 60
    results = [run_seed(seed, changes) for seed in range(seeds)]
    summary = {
        "seeds": seeds,
        "changes_per_seed": changes,
        "converged_seeds": sum(r["converged"] for r in results),
        "stale_overwrites": sum(r["stale_overwrites"] for r in results),
        "lost_events": sum(r["lost_events"] for r in results),
        "source_hiccups": sum(r["source_hiccups"] for r in results),
        **{k: sum(r[k] for r in results) for k in ("recreated", "tie_bursts", "same_second", "dest_deletes")},
    }
    OUT.write_text(json.dumps({**summary, "runs": results}, indent=2) + "\n")
    for key, value in summary.items():
        print(f"{key:<18} {value}")
    for r in results:
        if r["problems"]:
            print(f"seed {r['seed']}: " + "; ".join(r["problems"][:3]))
    return 0 if summary["converged_seeds"] == seeds and not summary["stale_overwrites"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
