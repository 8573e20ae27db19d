"""The merchant and the hostile world of `make chaos`: what changes at store A, and what goes wrong.

Store A gets a random stream of changes (renames with a rising version number, price and variant
edits, new images, new products, deletes and re-creates) while the pipeline suffers:
- duplicated and re-ordered notifications (old payloads re-sent with new delivery ids, by several
  concurrent senders), dropped ones (A's hooks switched off for a while);
- destination failures (bursts of 503 and 429 from store B) and source hiccups (a transient 404 for a
  live product, which the engine takes for a delete until a later sync restores it);
- issue 10's cases: products deleted and re-created with the same SKU (a new id) with the old id's
  delete arriving late; bursts of edits in one frozen second (ties longer than the pull's page) and
  one product edited twice in that second, with webhooks off so only the pull can find them;
  products deleted at the destination behind the system's back, then edited at the source;
- issue 13's: a consumer worker killed (SIGKILL) in the middle of a batch, SQS SendMessage hanging past
  the receiver's timeout after its DynamoDB put (the store then retries the delivery), and lease
  contention: many edits of a few hot products at once, spread over concurrent consumers.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import boto3
import requests

from bench.chaos_observe import quiet_queues
from catalog_sync.signatures import sign_standard_webhooks
from catalog_sync.sync_request import SyncRequest
from catalog_sync_local.demo.sample_events import local_signing_secret
from catalog_sync_local.runtime.aws_faults import Fault, arm
from catalog_sync_local.runtime.process_runtime import ProcessRuntime
from catalog_sync_local.runtime.sandbox import Sandbox

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

CONNECTION = "store-a-to-b"
CONSUMER = "SyncConsumerFunction"
SENDERS = 4  # concurrent senders of replayed notifications
RECEIVER_TIMEOUT_HANG_S = 12.0  # > the receiver's 10 s timeout: its container is killed mid-send


# What a merchant counts as it goes (a run sums them over its seeds).
COUNTED = (
    "changes",
    "replayed",
    "source_hiccups",
    "destination_failures",
    "recreated",
    "tie_bursts",
    "same_second",
    "dest_deletes",
    "hot_bursts",
    "kills",
    "send_failures",
)


class Merchant:
    def __init__(self, box: Sandbox, rng: random.Random) -> None:
        self.box, self.rng = box, rng
        self.a = box.source_store(CONNECTION)
        self.b = box.destination_store(CONNECTION)
        self.version: dict[int, int] = {}  # product id at A -> version in its name
        self.sku: dict[int, str] = {}
        self.deleted: set[str] = set()
        self.secret = local_signing_secret(CONNECTION)
        self.retired: set[int] = set()  # ids deleted and re-created under a new id with the same SKU
        self.late: list[int] = []  # retired ids whose delete is still to arrive, late
        self.counts = dict.fromkeys(COUNTED, 0)
        self._senders = ThreadPoolExecutor(SENDERS, thread_name_prefix="chaos-sender")

    def close(self) -> None:
        self._senders.shutdown(wait=True)

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
        self.counts["changes"] += 1
        live = self.live()
        roll = self.rng.random()
        if not live or roll < 0.06:
            self.create()
            return
        pid = self.rng.choice(live)
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
        elif roll < 0.92:
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
        self.counts["recreated"] += 1

    def late_deletes(self) -> None:
        self.enqueue(self.late)
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
            self.counts["tie_bursts"] += 1
            twice = self.rng.choice(live)
            self.bump(twice)
            self.pull()  # reads the run; the consumers sync this version...
            self.bump(twice)  # ...and the merchant edits it again in the same second
            self.counts["same_second"] += 1
        finally:
            self.a.catalog.clock = time.time
        time.sleep(max(0.0, frozen + 1.05 - time.time()))  # later edits get later seconds
        self.pull()
        self.set_hooks_active(True)

    def destination_delete(self) -> None:
        """Someone deletes a synced product at the destination; the merchant then edits it at the source."""
        at_b = {p["sku"]: p["id"] for p in self.b.products(include=())}
        live = [pid for pid in self.live() if self.sku[pid] in at_b]
        if not live:
            return
        pid = self.rng.choice(live)
        self.b.delete_product(at_b[self.sku[pid]])
        self.bump(pid)
        self.counts["dest_deletes"] += 1

    def pull(self) -> None:
        """The hourly pull, and its syncs done by the consumers (bounded wait)."""
        self.box.runtime.invoke("PullSyncFunction", {"connection": CONNECTION})
        quiet_queues(self.box, max_seconds=120)

    def enqueue(self, pids: list[int]) -> None:
        """Queue syncs of these products directly (as the pull does), ten per SendMessageBatch."""
        sqs = boto3.client("sqs")
        url = self.box.stack.queues["SyncQueue"].url
        for start in range(0, len(pids), 10):
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {
                    "Id": str(n),
                    "MessageBody": SyncRequest(
                        connection=CONNECTION, entity_type="product", entity_id=pid, origin="pull"
                    ).model_dump_json(),
                }
                for n, pid in enumerate(pids[start : start + 10])
            ]
            sqs.send_message_batch(QueueUrl=url, Entries=entries)

    # --- hostile delivery ----------------------------------------------------------------------------

    def replay_old_notifications(self, count: int) -> None:
        """Re-send earlier notifications with fresh delivery ids, from concurrent senders: duplicates
        that arrive out of order."""
        sent = [d.payload for d in self.a.deliveries]
        chosen = self.rng.sample(sent, min(count, len(sent)))
        list(self._senders.map(self._send, chosen))
        self.counts["replayed"] += len(chosen)

    def _send(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        headers |= sign_standard_webhooks(
            self.secret, f"msg_replay_{uuid.uuid4().hex}", int(time.time()), body
        )
        requests.post(self.box.webhook_url(CONNECTION), data=body, headers=headers, timeout=30)

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
        self.enqueue([pid])
        self.counts["source_hiccups"] += 1

    def destination_outage(self) -> None:
        """A burst of 503s or of 429s (without rate-limit headers) from store B."""
        status = self.rng.choice((503, 429))
        self.b.fail_next("*", r"/catalog/products.*", status=status, times=self.rng.randint(1, 8))
        self.counts["destination_failures"] += 1

    # --- issue 13: crashes, a send lost after the put, hot entities ------------------------------------

    def hot_entities(self) -> None:
        """Many edits of a few products at once: each edit a webhook, plus direct syncs of them, so
        several consumers hold batches naming the same products and contend for their leases."""
        live = self.live()
        if not live:
            return
        hot = self.rng.sample(live, min(len(live), self.rng.randint(2, 3)))
        for _ in range(self.rng.randint(8, 16)):
            self.bump(self.rng.choice(hot))
            self.counts["changes"] += 1
        self.enqueue([pid for pid in hot for _ in range(3)])
        self.counts["hot_bursts"] += 1

    def kill_consumer(self, wait_s: float = 10.0) -> bool:
        """SIGKILL a consumer container in the middle of its batch (waiting, bounded, for a busy one).
        Its batch is neither deleted nor reported: SQS shows it again after the visibility timeout."""
        runtime = self.box.runtime
        if not isinstance(runtime, ProcessRuntime):
            raise TypeError("kills need the worker-process runtime")
        pool = runtime.pool(CONSUMER)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if pool.kill_busy(pick=self.rng.randrange(8)) is not None:
                self.counts["kills"] += 1
                return True
            time.sleep(0.02)
        return False

    def send_fails_after_put(self) -> None:
        """The next SendMessage to SyncQueue hangs past the receiver's timeout, after its DynamoDB put
        of the event: the store's delivery times out and is retried with the same delivery id."""
        endpoint = self.box.aws.endpoint_url
        if endpoint is None:
            raise TypeError("failure injection needs the moto server process")
        queue = self.box.stack.queues["SyncQueue"].url.rsplit("/", 1)[1]
        arm(endpoint, Fault(operation="SendMessage", queue=queue, hang_s=RECEIVER_TIMEOUT_HANG_S))
        live = self.live()
        if live:
            self.bump(self.rng.choice(live))
            self.counts["changes"] += 1
        self.a.wait_for_deliveries(timeout=60)
        self.counts["send_failures"] += 1


def _size(label: str) -> dict[str, str]:
    return {"option_display_name": "Size", "label": label}
