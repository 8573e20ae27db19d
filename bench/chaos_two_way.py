"""`make chaos`, two-way part (issue 12): random edits at both sides of a BigCommerce <-> BigCommerce two-way
connection under hostile delivery, then check the promises. In process and deterministic per seed.

Per seed: 20-40 products created at store A (the source) and 3-6 at store B (the destination: each must be
created at A). Then `edits` merchant edits, each at one side, of one or two fields, often at both sides at
once (the same step, the same second) on the same product, to the same field (a conflict) or to different
ones. Edited: name, description, price, sale_price, inventory_level (merged), and weight at A only (the
source owns it). Not edited: is_visible, a two-valued field can go back to its base value (A-B-A), which
no three-way merge of states can tell from no change. Every value an edit writes is new.
Each edit's webhook (the store's own notification: a SyncRequest of that side) and each webhook our writes
cause (echoes) go through a hostile delivery: some dropped, some duplicated, delayed by 0-40 steps and
delivered in random order; both stores answer bursts of 429/5xx (`fail_next`), sometimes long enough that
the client gives up and the request goes back to the queue. After the last edit the queue is drained, then
the safety net runs: a full-sync pass over A's products and a destination pass over B's. Seeds of the
`manual` family (price `manual`, description `destination`) then resolve every held conflict through
TwoWaySync.resolve (taking A's, B's or a new value).

Checked per seed (bench/chaos_two_way_oracle.py defines kept, lost, conflict and wrong value):
- converged: A and B equal on every merged field and on the source's own fields (weight, type, sku);
- every non-conflicting edit kept (lost = 0), conflicts settled by their rule (misruled = 0), nothing
  written where no edit asked (wrong values = 0), no open conflict left, no request dead-lettered;
- writes (POST/PUT to catalog/products*, every attempt) at each side <= the edits the other side needed
  (an edit is needed when one of its values was kept or won a conflict; an edit overwritten at its own
  side before it synced, or that lost its conflict, needs no write) + resolves + that side's failed
  (injected) write attempts, which were retried: one write per edit per side plus retries.
  `double_write_deliveries` counts deliveries that landed two writes at one side: a save at A of a
  merged field and a one-way field together (`mixed_at_a`) is one write at B (the merge carries its
  fields into the one-way engine's update).
Writes bench/chaos_two_way.json and prints it. `python -m bench.chaos_two_way [--seeds N] [--edits M]`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import create_state_table
from bench.chaos_two_way_oracle import SIDES, Edit, Oracle, Side, later

OUT = Path(__file__).resolve().parent / "chaos_two_way.json"
CONNECTION = "a-and-b"
TABLE = "SyncStateTable"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC).timestamp()
MERGED_EDITED = ("name", "description", "price", "sale_price", "inventory_level")
SOURCE_OWNED = ("weight", "type", "sku")
FAMILIES: dict[str, dict[str, str]] = {
    "defaults": {},  # price, sale_price, inventory_level: source; name, description: newest
    "manual": {"price": "manual", "description": "destination"},
}
FAILING = (429, 500, 502, 503)
MAX_DRAIN_STEPS = 5_000
MAX_RESOLVE_ATTEMPTS = 5


@dataclass(frozen=True)
class Plan:
    edits: int = 300
    p_same_time: float = 0.35  # an edit at both sides of one product in the same step
    p_same_field: float = 0.5  # ... of the same field
    p_drop: float = 0.06
    p_duplicate: float = 0.25
    p_burst: float = 0.05  # a 429/5xx burst at a side, this step
    hot: int = 6  # most edits fall on a few products, so they meet
    products: tuple[int, int] = (20, 40)  # created at A (how many: drawn in this range)
    dest_products: tuple[int, int] = (3, 6)  # created at B


@dataclass
class Note:
    """One webhook delivery: a product changed at one side."""

    side: Side
    product_id: int
    kind: str  # edit | echo | safety
    due: int


@dataclass
class Pair:
    sku: str
    a_id: int | None
    b_id: int | None


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)  # "<kind>: <action>"


class SeedRun:
    def __init__(self, seed: int, family: str, plan: Plan, world: Any) -> None:
        self.seed, self.family, self.plan, self.w = seed, family, plan, world
        self.rng = random.Random(seed)
        self.rules = {**world.engine.rules, "weight": "source"}
        self.oracle = Oracle({name: self.rules[name] for name in (*MERGED_EDITED, "weight")})
        self.pairs: dict[str, Pair] = {}
        self.queue: list[Note] = []
        self.step = 0
        self.edit_no = 0
        self.merchant = False  # True while the harness edits a store: its notifications are edits
        self.tally = Tally()
        self.resolves = 0
        self.edits_by_side: Counter[str] = Counter()
        self.errors: list[str] = []
        self.multi_writes: list[str] = []
        for side in SIDES:
            world.stores[side].catalog.emit = self._emitter(side)

    # --- webhooks -----------------------------------------------------------------------------------

    def _emitter(self, side: Side) -> Any:
        def emit(scope: str, data: dict[str, Any]) -> None:
            if scope.startswith("store/product/"):
                product_id = int(data["id"])
            elif scope.startswith("store/sku/"):
                product_id = int(data["sku"]["product_id"])
            else:
                return
            self.enqueue(side, product_id, "edit" if self.merchant else "echo")

        return emit

    def enqueue(self, side: Side, product_id: int, kind: str) -> None:
        self.tally.counts[f"{kind}_notifications"] += 1
        if kind != "safety" and self.rng.random() < self.plan.p_drop:
            self.tally.counts["dropped"] += 1
            return
        self.queue.append(Note(side, product_id, kind, self.step + self._delay()))
        if kind != "safety" and self.rng.random() < self.plan.p_duplicate:
            self.tally.counts["duplicates"] += 1
            self.queue.append(Note(side, product_id, kind, self.step + self._delay()))

    def _delay(self) -> int:
        roll = self.rng.random()
        if roll < 0.7:
            return self.rng.randint(0, 2)
        return self.rng.randint(3, 10) if roll < 0.95 else self.rng.randint(11, 40)

    # --- the run ------------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        started = time.monotonic()
        self._catalog()
        marks = {side: len(store.request_log) for side, store in self.w.stores.items()}
        while self.edit_no < self.plan.edits:
            self._merchant_step()
            self._maybe_burst()
            self._deliver(self.rng.randint(0, 3))
            self._tick()
        self._drain()
        self._safety_net()
        if self.family == "manual":
            self._resolve_all()
        return self._summary(marks, time.monotonic() - started)

    def _tick(self) -> None:
        self.step += 1
        self.w.clock.now += 1

    def _catalog(self) -> None:
        """Products at A and at B, delivered like everything else, then the safety net: the base."""
        with self._merchant():
            for n in range(1, self.rng.randint(*self.plan.products) + 1):
                self._create("a", f"A-{self.seed}-{n}", n)
            for n in range(1, self.rng.randint(*self.plan.dest_products) + 1):
                self._create("b", f"B-{self.seed}-{n}", 100 + n)
        self._tick()
        self._drain()
        self._safety_net()
        for pair in self.pairs.values():
            a, b = self._views(pair)
            if a is None or b is None or any(a[k] != b[k] for k in (*self.oracle.rules, *SOURCE_OWNED)):
                self.errors.append(f"{pair.sku}: not equal at both sides after the catalog was created")
                continue
            self.oracle.start(pair.sku, a)
        self.tally.counts.clear()
        self.tally.outcomes.clear()
        self.multi_writes.clear()

    def _create(self, side: Side, sku: str, n: int) -> None:
        store = self.w.stores[side]
        body = {
            "sku": sku,
            "name": f"{sku} v0",
            "type": "physical",
            "price": float(n),
            "sale_price": 0,
            "weight": 1,
            "description": f"{sku} described",
            "inventory_level": n,
        }
        created = store.create_product(body)
        self.pairs[sku] = Pair(sku, int(created["id"]) if side == "a" else None, None)
        if side == "b":
            self.pairs[sku].b_id = int(created["id"])

    @contextmanager
    def _merchant(self) -> Iterator[None]:
        self.merchant = True
        try:
            yield
        finally:
            self.merchant = False

    def _merchant_step(self) -> None:
        if self.rng.random() < 0.3:
            return  # a quiet second
        pair = self._pick_pair()
        if self.rng.random() < self.plan.p_same_time and self.edit_no + 2 <= self.plan.edits:
            at_a = self._fields("a")
            same = self.rng.random() < self.plan.p_same_field and at_a[0] != "weight"
            at_b = at_a[:1] if same else self._fields("b")
            both: list[tuple[Side, list[str]]] = [("a", at_a), ("b", at_b)]
            self.rng.shuffle(both)
            for side, names in both:
                self._edit(pair, side, names)
        else:
            one: Side = "a" if self.rng.random() < 0.55 else "b"
            self._edit(pair, one, self._fields(one))

    def _pick_pair(self) -> Pair:
        skus = sorted(self.pairs)
        if self.rng.random() < 0.6:
            skus = skus[: self.plan.hot]
        return self.pairs[self.rng.choice(skus)]

    def _fields(self, side: Side) -> list[str]:
        choices = [*MERGED_EDITED, "weight"] if side == "a" else list(MERGED_EDITED)
        return self.rng.sample(choices, 2 if self.rng.random() < 0.3 else 1)

    def _edit(self, pair: Pair, side: Side, names: list[str]) -> None:
        self.edit_no += 1
        self.edits_by_side[side] += 1
        if "weight" in names and len(names) > 1:
            self.edits_by_side["mixed"] += 1
        n = self.edit_no
        values = {name: _value(name, n, pair.sku, side) for name in names}
        product_id = pair.a_id if side == "a" else pair.b_id
        assert product_id is not None
        with self._merchant():
            self.w.stores[side].update_product(product_id, values)
        self.oracle.edited(Edit(n, side, pair.sku, values, self.step))

    def _maybe_burst(self) -> None:
        if self.rng.random() >= self.plan.p_burst:
            return
        side: Side = "b" if self.rng.random() < 0.7 else "a"
        status = self.rng.choice(FAILING)
        times = self.rng.choice((1, 1, 2, 3, 6))  # 6: the client's every attempt, back to the queue
        method = "PUT" if self.rng.random() < 0.6 else "*"
        self.w.stores[side].fail_next(method, r"^/catalog/products", status=status, times=times)
        self.tally.counts["bursts"] += 1

    # --- delivery -----------------------------------------------------------------------------------

    def _deliver(self, at_most: int) -> None:
        due = [note for note in self.queue if note.due <= self.step]
        self.rng.shuffle(due)
        for note in due[:at_most]:
            self.queue.remove(note)
            self._process(note)

    def _drain(self) -> None:
        for _ in range(MAX_DRAIN_STEPS):
            if not self.queue:
                return
            self._maybe_burst()
            self._deliver(4)
            self._tick()
        self.errors.append(f"queue not drained after {MAX_DRAIN_STEPS} steps: {len(self.queue)} left")

    def _process(self, note: Note) -> None:
        from catalog_sync.errors import PermanentError, RetriableError
        from catalog_sync.sync_request import Origin, SyncRequest

        origin: Origin = "full_sync" if note.kind == "safety" else "webhook"
        if note.side == "a":
            request = SyncRequest(
                connection=CONNECTION, entity_type="product", entity_id=note.product_id, origin=origin
            )
        else:
            request = SyncRequest(
                connection=CONNECTION,
                entity_type="product",
                entity_id=0,
                side="destination",
                dest_id=str(note.product_id),
                origin=origin,
            )
        pair = self._pair_of(note)
        newer = self._newer(pair)
        marks = {side: len(store.request_log) for side, store in self.w.stores.items()}
        self.tally.counts["deliveries"] += 1
        try:
            outcome = self.w.engine.sync(request)
        except RetriableError as exc:
            self.tally.counts["requeued"] += 1
            self.tally.outcomes[f"{note.kind}: retriable"] += 1
            self.queue.append(Note(note.side, note.product_id, note.kind, self.step + self.rng.randint(1, 5)))
            self._note(pair, f"step {self.step}: {note.kind} from {note.side.upper()} -> retriable ({exc})")
        except PermanentError as exc:
            self.errors.append(f"dead-lettered: {note} -> {exc}")
            self._note(pair, f"step {self.step}: {note.kind} from {note.side.upper()} -> permanent ({exc})")
        else:
            self.tally.outcomes[f"{note.kind}: {outcome.action}"] += 1
            self._note(pair, f"step {self.step}: {note.kind} from {note.side.upper()} -> {outcome.action}")
        for side, store in self.w.stores.items():
            wrote = [r for r in _writes(store.request_log[marks[side] :]) if r.status not in FAILING]
            if len(wrote) > 1:
                self.tally.counts["double_write_deliveries"] += 1
                self.multi_writes.append(
                    f"{pair.sku if pair else note.product_id}: {note.kind} from {note.side.upper()} wrote "
                    f"{side.upper()} {len(wrote)} times: {[f'{r.method} {r.path} {r.status}' for r in wrote]}"
                )
        if pair is not None and pair.a_id is None:  # a product created at B is created at A, same SKU
            pair.a_id = next((p["id"] for p in self.w.a.products(()) if p["sku"] == pair.sku), None)
        self._observe(pair, newer)

    def _pair_of(self, note: Note) -> Pair | None:
        key = "a_id" if note.side == "a" else "b_id"
        pair = next((p for p in self.pairs.values() if getattr(p, key) == note.product_id), None)
        if pair is None and note.side == "b":  # B's copy of a product of A, before the harness knew its id
            view = self.w.b.get_product(note.product_id, ())
            pair = self.pairs.get(view["sku"]) if view else None
            if pair is not None:
                pair.b_id = note.product_id
        return pair

    def _newer(self, pair: Pair | None) -> Side | None:
        if pair is None:
            return None
        a, b = self._views(pair)
        if a is None or b is None:
            return None
        return later(a["date_modified"], b["date_modified"])

    def _views(self, pair: Pair) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        if pair.b_id is None and pair.a_id is not None:
            pair.b_id = next((p["id"] for p in self.w.b.products(()) if p["sku"] == pair.sku), None)
        a = self.w.a.get_product(pair.a_id, ()) if pair.a_id is not None else None
        b = self.w.b.get_product(pair.b_id, ()) if pair.b_id is not None else None
        return a, b

    def _observe(self, pair: Pair | None, newer: Side | None, resolved: dict[str, Any] | None = None) -> None:
        if pair is None or (pair.sku, "name") not in self.oracle.tracks:
            return  # still being created
        a, b = self._views(pair)
        if a is None or b is None:
            self.errors.append(f"{pair.sku}: missing at {'A' if a is None else 'B'}")
            return
        self.oracle.observe(pair.sku, a, b, newer=newer, resolved=resolved)

    def _note(self, pair: Pair | None, line: str) -> None:
        if pair is not None:
            self.oracle.note(pair.sku, line)

    # --- safety net and resolve ---------------------------------------------------------------------

    def _safety_net(self) -> None:
        for side, store in self.w.stores.items():
            for product in store.products(()):
                self.enqueue(side, int(product["id"]), "safety")
        self._drain()

    def _resolve_all(self) -> None:
        for record in self.w.conflicts.list(CONNECTION):
            take = self.rng.choice(("source", "destination", None))
            self.edit_no += 1
            value = None if take else _value(record.field, self.edit_no, "resolved", "a")
            chosen = self._resolve(record.source_id, record.field, take, value)
            self.resolves += 1
            pair = next(p for p in self.pairs.values() if p.a_id == record.source_id)
            self._note(pair, f"resolve {record.field}: take {take or 'value'} -> {chosen!r}")
            self._observe(pair, None, resolved={record.field: chosen})
        self._drain()

    def _resolve(self, source_id: int, name: str, take: Any, value: Any) -> Any:
        """A person resolving: on a 429/5xx that outlasts the client's retries, they run it again."""
        from catalog_sync.errors import RetriableError

        for _ in range(MAX_RESOLVE_ATTEMPTS - 1):
            try:
                return self.w.engine.resolve(source_id, name, take=take, value=value).value
            except RetriableError:
                self.tally.counts["resolves_retried"] += 1
        return self.w.engine.resolve(source_id, name, take=take, value=value).value

    # --- figures ------------------------------------------------------------------------------------

    def _summary(self, marks: dict[str, int], elapsed: float) -> dict[str, Any]:
        for pair in self.pairs.values():
            self._observe(pair, None)
        edits = self.edits_by_side
        writes: dict[str, Any] = {}
        for side, store in self.w.stores.items():
            log = store.request_log[marks[side] :]
            attempts = _writes(log)
            failed = sum(1 for r in attempts if r.status in FAILING)
            other: Side = "b" if side == "a" else "a"
            strict = self.oracle.propagated(other) + self.resolves + failed
            writes[side] = {
                "attempts": len(attempts),
                "landed": len(attempts) - failed,
                "failed_retried": failed,
                "failed_requests": sum(1 for r in log if r.status in FAILING),
                "needed": self.oracle.propagated(other) + self.resolves,
                "bound": strict,
                "over_bound": max(0, len(attempts) - strict),
                "within_bound": len(attempts) <= strict,
            }
        differences = self._differences()
        open_conflicts = self.w.conflicts.count_open(CONNECTION)
        settled = Counter(
            f"{r.rule} -> {r.outcome}"
            for r in self.w.conflicts.list(CONNECTION, include_settled=True)
            if r.status != "open"
        )
        checks = {
            "converged": not differences,
            "no_lost_edits": not self.oracle.violations,
            "writes_within_bound": all(w["within_bound"] for w in writes.values()),
            "no_open_conflicts": open_conflicts == 0,
            "no_pending_edits": self.oracle.pending() == 0,
            "no_errors": not self.errors,
        }
        return {
            "seed": self.seed,
            "family": self.family,
            "rules": self.oracle.rules,
            "products": len(self.pairs),
            "edits": {
                "a": edits["a"],
                "b": edits["b"],
                "mixed_at_a": edits["mixed"],
                "fields": self.oracle.counts["field_edits"],
            },
            "delivery": dict(sorted(self.tally.counts.items())),
            "outcomes": dict(sorted(self.tally.outcomes.items())),
            "oracle": dict(sorted(self.oracle.counts.items())),
            "conflicts_judged": dict(sorted(self.oracle.conflicts.items())),
            "conflicts_recorded": dict(sorted(settled.items())),
            "resolves": self.resolves,
            "writes": writes,
            "checks": checks,
            "ok": all(checks.values()),
            "violations": self.oracle.violations[:20],
            "differences": differences[:20],
            "errors": self.errors[:20],
            "multi_writes": self.multi_writes[:10],
            "elapsed_s": round(elapsed, 1),
        }

    def _differences(self) -> list[str]:
        problems: list[str] = []
        for pair in sorted(self.pairs.values(), key=lambda p: p.sku):
            a, b = self._views(pair)
            if a is None or b is None:
                problems.append(f"{pair.sku}: missing at {'A' if a is None else 'B'}")
                continue
            for name in (*self.w.engine.rules, *SOURCE_OWNED):
                if a[name] != b[name]:
                    problems.append(f"{pair.sku}: {name} A={a[name]!r} B={b[name]!r}")
        return problems

    def reproduction(self) -> list[str]:
        """What happened to the first product the oracle faulted, in order: a minimal reproducing story."""
        if not self.oracle.violations:
            return []
        sku = self.oracle.violations[0].split(":", 1)[0]
        return [f"seed {self.seed} ({self.family}), product {sku}:", *self.oracle.history.get(sku, [])]


def _writes(log: list[Any]) -> list[Any]:
    return [r for r in log if r.method in ("POST", "PUT") and r.path.startswith("/catalog/products")]


def _value(name: str, n: int, sku: str, side: Side) -> Any:
    """A value no edit used before (n is the edit's number)."""
    if name == "name":
        return f"{sku} {side.upper()}{n}"
    if name == "description":
        return f"described by edit {n} at {side.upper()}"
    if name == "price":
        return float(100 + n) + 0.25
    if name == "sale_price":
        return float(10 + n) + 0.5
    if name == "inventory_level":
        return 1_000 + n
    if name == "weight":
        return round(2 + n / 100, 2)
    raise ValueError(name)


# --- the world ------------------------------------------------------------------------------------------


@dataclass
class World:
    a: Any
    b: Any
    clock: Clock
    engine: Any
    conflicts: Any

    @property
    def stores(self) -> dict[Side, Any]:
        return {"a": self.a, "b": self.b}


@contextmanager
def world(rules: dict[str, str]) -> Iterator[World]:
    """Two simulated stores, a state table on moto and the two-way engine between them, as the consumer
    builds it (services.py), with an injected clock and no real waits."""
    import boto3
    from moto import mock_aws
    from pydantic import SecretStr

    from catalog_sync.connections import BigCommerceEndpoint, Connection, Signing
    from catalog_sync.connectors.bigcommerce import BigCommerceClient
    from catalog_sync.engine import CatalogSync
    from catalog_sync.store.changelog import ChangeLog
    from catalog_sync.store.conflicts import ConflictStore
    from catalog_sync.store.state import StateStore
    from catalog_sync.two_way_wiring import two_way_engine
    from catalog_sync_local.simulators.bigcommerce.store import BigCommerceStore

    clock = Clock()
    with (
        mock_aws(),
        BigCommerceStore("chaosa", "token-a", clock=clock, quota=1_000_000) as a,
        BigCommerceStore("chaosb", "token-b", clock=clock, quota=1_000_000) as b,
    ):
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        create_state_table(ddb, TABLE)
        endpoints = [
            BigCommerceEndpoint(store_hash=s.store_hash, access_token=SecretStr(t), api_url=s.api_url)
            for s, t in ((a, "token-a"), (b, "token-b"))
        ]
        connection = Connection(
            name=CONNECTION,
            source=endpoints[0],
            destination=endpoints[1],
            signing=Signing(secrets=[SecretStr("whsec_dGVzdA==")]),
            direction="two-way",
            field_rules=rules,  # type: ignore[arg-type]
        )
        clients = [BigCommerceClient.for_endpoint(ep) for ep in endpoints]
        for client in clients:
            client.http.backoff_base_s = 0.001
            client.http.sleep = lambda s: None
        state = StateStore(TABLE, ddb, clock=clock)
        changes = ChangeLog(TABLE, ddb, clock=clock)
        conflicts = ConflictStore(TABLE, ddb, clock=clock)
        merged = frozenset(connection.merge_rules())
        forward = CatalogSync(
            connection, clients[0], clients[1], state, owner="w1", changes=changes, merged_fields=merged
        )
        engine = two_way_engine(
            connection, forward, clients[0], clients[1], state, conflicts, owner="w1", changes=changes
        )
        yield World(a, b, clock, engine, conflicts)


# --- the bench ------------------------------------------------------------------------------------------


def run_seed(seed: int, edits: int, plan: Plan | None = None) -> tuple[dict[str, Any], list[str]]:
    """One seed, in a world of its own: its figures and, when the oracle faulted, its story."""
    family = list(FAMILIES)[(seed - 1) % len(FAMILIES)]
    with world(FAMILIES[family]) as w:
        seed_run = SeedRun(seed, family, replace(plan or Plan(), edits=edits), w)
        return seed_run.run(), seed_run.reproduction()


def run(seeds: int = 5, edits: int = 300, *, jobs: int = 1, plan: Plan | None = None) -> dict[str, Any]:
    """Seeds 1..`seeds`, alternating the families, `jobs` at a time (each in its own process)."""
    started = time.monotonic()
    numbers = list(range(1, seeds + 1))
    if jobs > 1:
        context = multiprocessing.get_context("spawn")  # a fresh moto and stores per process
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            done = list(pool.map(run_seed, numbers, [edits] * seeds, [plan] * seeds))
    else:
        done = [run_seed(seed, edits, plan) for seed in numbers]
    results = [result for result, _ in done]
    stories = [line for _, story in done for line in story]
    return {
        **_totals(results),
        "elapsed_s": round(time.monotonic() - started, 1),
        "seeds_detail": results,
        "reproduction": stories,
    }


def _totals(results: list[dict[str, Any]]) -> dict[str, Any]:
    def total(section: str) -> dict[str, int]:
        summed: Counter[str] = Counter()
        for r in results:
            summed.update(r[section])
        return dict(sorted(summed.items()))

    writes = {
        side: {
            key: sum(r["writes"][side][key] for r in results)
            for key in (
                "attempts",
                "landed",
                "failed_retried",
                "failed_requests",
                "needed",
                "bound",
                "over_bound",
            )
        }
        for side in ("a", "b")
    }
    return {
        "seeds": len(results),
        "edits": sum(r["edits"]["a"] + r["edits"]["b"] for r in results),
        "delivery": total("delivery"),
        "outcomes": total("outcomes"),
        "oracle": total("oracle"),
        "conflicts_judged": total("conflicts_judged"),
        "conflicts_recorded": total("conflicts_recorded"),
        "resolves": sum(r["resolves"] for r in results),
        "writes": writes,
        "converged_seeds": sum(1 for r in results if r["checks"]["converged"]),
        "ok_seeds": sum(1 for r in results if r["ok"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.chaos_two_way", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--edits", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="seeds run at once")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.edits < 2 or args.jobs < 1:
        parser.error("--seeds and --jobs must be at least 1, --edits at least 2")
    summary = run(args.seeds, args.edits, jobs=min(args.jobs, args.seeds))
    OUT.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "seeds_detail"}, indent=2))
    return 0 if summary["ok_seeds"] == summary["seeds"] else 1


if __name__ == "__main__":
    sys.exit(main())
