"""The engine under what real stores do: ids re-created with the same SKU, products deleted behind our
back at the destination, writes that outlive their lease, batches refused as a whole. Each test is a
change a merchant made that was once lost, hidden or stuck."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from catalog_sync.engine import CatalogSync
from catalog_sync.errors import PermanentError, RetriableError
from catalog_sync.store.state import LeaseHeld
from catalog_sync.sync_request import SyncRequest
from tests.unit.test_engine_rig import CONNECTION, T0, Rig, comparable, rig


@pytest.fixture
def r() -> Iterator[Rig]:
    yield from rig()


def request(product_id: int) -> SyncRequest:
    return SyncRequest(connection=CONNECTION, entity_type="product", entity_id=product_id)


def mug(r: Rig, sku: str = "MUG", **fields: Any) -> dict[str, Any]:
    r.clock.tick()
    return r.a.create_product({"name": f"Mug {sku}", "sku": sku, "price": 9, "weight": 1, **fields})


# --- a late delete of an old id never hides the product a live id owns -------------------------------


def test_a_late_delete_of_the_old_id_leaves_the_recreated_product_visible(r: Rig) -> None:
    engine = r.engine()
    old = mug(r)
    engine.sync(request(old["id"]))
    r.a.delete_product(old["id"])
    new = mug(r, price=12)  # the merchant re-creates it: same SKU, new id

    assert engine.sync(request(new["id"])).action == "updated"  # adopted by SKU
    assert engine.sync(request(old["id"])).action == "absent"  # the old id's delete arrives late
    assert engine.sync(request(new["id"])).action == "unchanged"

    shown = r.b_product("MUG")
    assert (shown["is_visible"], shown["availability"], shown["price"]) == (True, "available", 12)


def test_a_recreated_id_adopts_the_product_only_once_a_sync_of_the_old_id_in_flight_is_done(r: Rig) -> None:
    """A sync of the old id that read the source before the re-create may still write: had the new id
    adopted the product meanwhile, that write would land an older version over the new id's newer one
    (make chaos, 20 x 1,000: "CH-61: v5 written after v9"). The new id waits for the old id's lease."""
    engine = r.engine()
    old = mug(r)
    engine.sync(request(old["id"]))
    r.state.acquire(CONNECTION, "product", old["id"], owner="worker-old", lease_s=60)  # its sync in flight
    r.a.delete_product(old["id"])
    new = mug(r, price=12)
    mark = len(r.b.request_log)

    with pytest.raises(LeaseHeld):
        engine.sync(request(new["id"]))
    assert r.b_writes(mark) == []  # the new id wrote nothing over what the old id's sync may still write

    r.state.release(CONNECTION, "product", old["id"], owner="worker-old")
    assert engine.sync(request(new["id"])).action == "updated"
    assert r.b_product("MUG")["price"] == 12
    assert engine.sync(request(old["id"])).action == "absent"  # its late delete leaves the product shown
    assert r.b_product("MUG")["is_visible"] is True


def test_a_delete_processed_before_the_recreated_id_is_undone_by_its_sync(r: Rig) -> None:
    engine = r.engine()
    old = mug(r)
    engine.sync(request(old["id"]))
    r.a.delete_product(old["id"])
    new = mug(r, price=12)

    assert engine.sync(request(old["id"])).action == "deleted"
    assert engine.sync(request(new["id"])).action == "updated"

    assert r.b_product("MUG")["is_visible"] is True
    assert len(r.b.products()) == 1


def test_the_old_id_still_deletes_its_product_when_no_live_id_took_it_over(r: Rig) -> None:
    engine = r.engine()
    old = mug(r)
    engine.sync(request(old["id"]))
    r.a.delete_product(old["id"])

    assert engine.sync(request(old["id"])).action == "deleted"
    assert r.b_product("MUG")["is_visible"] is False


def test_the_last_live_id_deleted_hides_the_product_even_if_a_dead_id_claimed_it_last(r: Rig) -> None:
    """Found by make chaos (20 x 1,000): an id re-created and deleted again before any sync of it
    finished had a slow sync (read while it lived) claim the product at B after the next id adopted it,
    then fail before mapping it. When that next id is deleted too, the claim is held by an id the
    source no longer has and no state maps: nobody live owns the product, so its delete hides it."""
    engine = r.engine()
    first = mug(r)
    engine.sync(request(first["id"]))
    r.a.delete_product(first["id"])
    short_lived = mug(r)  # re-created, then deleted again before anything synced it
    r.a.delete_product(short_lived["id"])
    last = mug(r, price=12)
    assert engine.sync(request(last["id"])).action == "updated"  # adopted by SKU
    b_id = r.b_product("MUG")["id"]
    r.state.claim_destination(CONNECTION, "product", b_id, short_lived["id"])  # its stale sync's claim
    r.a.delete_product(last["id"])

    assert engine.sync(request(last["id"])).action == "deleted"

    hidden = r.b_product("MUG")
    assert (hidden["is_visible"], hidden["availability"]) == (False, "disabled")


def test_a_product_the_sync_creates_is_owned_without_asking_who_owned_it(r: Rig) -> None:
    """A product id the destination has just made cannot have had an owner: the claim reads no
    ownership row for it (one DynamoDB read fewer per create). An adopted one is still asked about."""
    owner_reads: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        if "#dest#" in params["Key"]["pk"]["S"]:
            owner_reads.append(params["Key"]["pk"]["S"])

    r.state.client.meta.events.register("provide-client-params.dynamodb.GetItem", record)
    created = mug(r)
    assert r.engine().sync(request(created["id"])).action == "created"
    b_id = r.b_product("MUG")["id"]
    assert owner_reads == []
    assert r.state.destination_owner(CONNECTION, "product", b_id) == created["id"]

    r.a.delete_product(created["id"])
    again = mug(r, price=12)  # re-created with the same SKU: adopts B's product, owned by the old id
    owner_reads.clear()
    assert r.engine().sync(request(again["id"])).action == "updated"
    assert owner_reads == [f"{CONNECTION}#product#dest#{b_id}"]
    assert r.state.destination_owner(CONNECTION, "product", b_id) == again["id"]


# --- a product deleted at the destination is created again --------------------------------------------


def test_a_product_deleted_at_the_destination_is_recreated_on_its_next_change(r: Rig) -> None:
    engine = r.engine()
    product = r.a.create_product(
        {"name": "Tee", "sku": "TEE", "price": 9, "weight": 1},
        variants=[
            {"sku": "TEE-S", "price": 9, "option_values": [{"option_display_name": "Size", "label": "S"}]}
        ],
        images=[{"image_url": "https://img.test/tee.jpg", "sort_order": 0}],
    )
    engine.sync(request(product["id"]))
    r.b.delete_product(r.b_product("TEE")["id"])  # a person (or another app) removes it from B
    r.clock.tick()
    r.a.update_product(product["id"], price=11)

    assert engine.sync(request(product["id"])).action == "created"

    assert comparable(r.b_product("TEE")) == comparable(r.a.get_product(product["id"]) or {})
    assert engine.sync(request(product["id"])).action == "unchanged"


@pytest.mark.parametrize("batched", [False, True], ids=["alone", "in a batch"])
def test_a_product_deleted_at_the_destination_is_recreated_when_several_variants_changed(
    r: Rig, batched: bool
) -> None:
    """Found by make chaos (20 x 1,000): the variants' batch write is the first write when the fields
    are unchanged (or wait for sync_many's batch), and BigCommerce answers it 422 naming each variant
    404. That is the product gone at B, like the 404 of a single write, not a refusal for good."""
    engine = r.engine()
    sizes = [
        {"sku": f"TEE-{size}", "price": 9, "option_values": [{"option_display_name": "Size", "label": size}]}
        for size in ("S", "M")
    ]
    product = r.a.create_product({"name": "Tee", "sku": "TEE", "price": 9}, variants=sizes)
    engine.sync(request(product["id"]))
    r.b.delete_product(r.b_product("TEE")["id"])  # a person (or another app) removes it from B
    r.clock.tick()
    for variant in r.a.get_product(product["id"])["variants"]:  # type: ignore[index]
        r.a.update_variant(product["id"], variant["id"], {"price": 12})

    if batched:
        outcome = r.engine().sync_many([request(product["id"])])[(CONNECTION, "product", product["id"])]
    else:
        outcome = r.engine().sync(request(product["id"]))

    assert getattr(outcome, "action", outcome) == "created"
    assert comparable(r.b_product("TEE")) == comparable(r.a.get_product(product["id"]) or {})


def test_a_product_deleted_at_the_destination_is_recreated_inside_a_batch(r: Rig) -> None:
    engine = r.engine()
    products = [mug(r, sku=f"M{n}") for n in range(3)]
    engine.sync_many([request(p["id"]) for p in products])
    r.b.delete_product(r.b_product("M1")["id"])
    r.clock.tick()
    for p in products:
        r.a.update_product(p["id"], price=20)

    results = r.engine().sync_many([request(p["id"]) for p in products])

    actions = [results[(CONNECTION, "product", p["id"])] for p in products]
    assert [getattr(a, "action", a) for a in actions] == ["updated", "created", "updated"]
    assert {p["sku"]: p["price"] for p in r.b.products()} == {"M0": 20, "M1": 20, "M2": 20}


# --- writes are fenced by the lease -------------------------------------------------------------------


class PausingSource:
    """The real source client, except that the first product read runs `meanwhile` before it answers:
    worker 1 holds an old version while worker 2 does its whole sync."""

    def __init__(self, inner: Any, meanwhile: Callable[[], None]) -> None:
        self.inner = inner
        self.meanwhile: Callable[[], None] | None = meanwhile

    def get_product(self, product_id: int) -> dict[str, Any] | None:
        data = self.inner.get_product(product_id)
        if self.meanwhile is not None:
            run, self.meanwhile = self.meanwhile, None
            run()
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_write_after_the_lease_expired_is_never_sent(r: Rig) -> None:
    product = mug(r)
    r.engine().sync(request(product["id"]))
    r.clock.tick()
    r.a.update_product(product["id"], price=10)  # worker 1 will read this version...

    def worker_2_takes_over() -> None:
        r.clock.tick(200)  # ...and stall past its lease, while the merchant edits again
        r.a.update_product(product["id"], price=11)
        assert r.engine(owner="worker-2").sync(request(product["id"])).action == "updated"

    slow = r.engine(owner="worker-1")
    slow.source = PausingSource(slow.source, worker_2_takes_over)  # type: ignore[assignment]
    mark = len(r.b.request_log)

    with pytest.raises(LeaseHeld):
        slow.sync(request(product["id"]))

    assert r.b_product("MUG")["price"] == 11
    assert len(r.b_writes(mark)) == 1  # worker 2's write only
    assert r.engine().sync(request(product["id"])).action == "unchanged"


def test_a_long_sync_renews_its_lease_before_writing(r: Rig) -> None:
    product = mug(r)
    engine = r.engine()
    engine.sync(request(product["id"]))
    r.clock.tick()
    r.a.update_product(product["id"], price=10)
    slow = r.engine()
    slow.source = PausingSource(slow.source, lambda: r.clock.tick(100))  # type: ignore[assignment]

    assert slow.sync(request(product["id"])).action == "updated"  # 100 s of a 120 s lease: renewed

    assert r.b_product("MUG")["price"] == 10


def test_a_write_retried_past_its_lease_is_never_sent(r: Rig) -> None:
    """Found by make chaos (seed 102): a write retried through a 503 burst outlived its worker's lease;
    worker 2 synced the newer version meanwhile, then worker 1's last retry landed the older one over
    it. The state kept worker 2's hash, so every later sync (pull, full sync) found it unchanged."""
    product = mug(r)
    r.engine().sync(request(product["id"]))
    r.clock.tick()
    r.a.update_product(product["id"], price=10)
    r.b.fail_next("PUT", r"/catalog/products", status=503, times=3)
    slow = r.engine(owner="worker-1")
    took_over: list[str] = []

    def stalled_backoff(_: float) -> None:
        r.clock.tick(50)  # each retry's wait stalls: the third one is past worker 1's 120 s lease
        if r.clock() - T0 > 150 and not took_over:
            r.clock.tick()
            r.a.update_product(product["id"], price=11)
            took_over.append(r.engine(owner="worker-2").sync(request(product["id"])).action)

    slow.destination.http.clock = r.clock
    slow.destination.http.sleep = stalled_backoff

    with pytest.raises(RetriableError):
        slow.sync(request(product["id"]))

    assert took_over == ["updated"]
    assert r.b_product("MUG")["price"] == 11
    assert r.engine().sync(request(product["id"])).action == "unchanged"


# --- batches refused as a whole -----------------------------------------------------------------------


def refuse_batches_with_a(r: Rig, bad_sku: str, status: int) -> None:
    """Store B refuses a whole batch PUT /catalog/products that contains `bad_sku`'s product, naming no
    item (the spec's 409/422 answers carry no per-item errors)."""
    bad_id = r.b_product(bad_sku)["id"]
    r.b.refuse_batches_containing(bad_id, status)


@pytest.mark.parametrize("status", [422, 409])
def test_a_whole_batch_refusal_fails_only_the_product_it_is_about(r: Rig, status: int) -> None:
    engine = r.engine()
    products = [mug(r, sku=f"M{n}") for n in range(10)]
    engine.sync_many([request(p["id"]) for p in products])
    r.clock.tick()
    for p in products:
        r.a.update_product(p["id"], price=30)
    refuse_batches_with_a(r, "M6", status)
    mark = len(r.b.request_log)

    results = r.engine().sync_many([request(p["id"]) for p in products])

    failed = [p["sku"] for p in products if isinstance(results[(CONNECTION, "product", p["id"])], Exception)]
    assert failed == ["M6"]
    assert {p["sku"]: p["price"] for p in r.b.products() if p["sku"] != "M6"} == {
        f"M{n}": 30 for n in range(10) if n != 6
    }
    batch_puts = [1 for m, p, _ in r.b_writes(mark) if (m, p) == ("PUT", "/catalog/products")]
    assert len(batch_puts) <= 1 + 2 * 4  # the batch, then at most two requests per halving


def test_a_207_item_named_nowhere_is_not_counted_a_success(r: Rig) -> None:
    engine: CatalogSync = r.engine()
    products = [mug(r, sku=f"M{n}") for n in range(3)]
    engine.sync_many([request(p["id"]) for p in products])
    r.clock.tick()
    for p in products:
        r.a.update_product(p["id"], price=40)
    r.b.drop_from_batch_answers(r.b_product("M2")["id"])  # the store answers 207 without it

    results = r.engine().sync_many([request(p["id"]) for p in products])

    assert isinstance(results[(CONNECTION, "product", products[2]["id"])], Exception)
    assert r.engine().sync(request(products[2]["id"])).action == "updated"  # the retry writes it


# --- a new product is hidden until every part has landed (seed 002) ----------------------------------


def test_a_new_product_is_created_hidden_and_shown_by_its_last_write(r: Rig) -> None:
    product = mug(r)

    assert r.engine().sync(request(product["id"])).action == "created"

    writes = [(m, p) for m, p, _ in r.b_writes()]
    dest_id = r.b_product("MUG")["id"]
    assert writes == [("POST", "/catalog/products"), ("PUT", f"/catalog/products/{dest_id}")]
    assert r.b_product("MUG")["is_visible"] is True


class LosesTheCreateAnswer:
    """The destination client, except that its first product create lands and its answer is lost (a
    read timeout while the store, slowed down, was still creating it)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.lost = False

    def create_product(self, payload: dict[str, Any]) -> dict[str, Any]:
        created: dict[str, Any] = self.inner.create_product(payload)
        if not self.lost:
            self.lost = True
            raise RetriableError("POST /catalog/products: read timed out")
        return created

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_create_whose_answer_was_lost_then_deleted_at_the_source_is_neither_shown_nor_sold(r: Rig) -> None:
    """Found by make chaos (20 x 1,000): nothing maps the product the store created, so the delete that
    follows finds nothing to soft-delete. Created hidden and unavailable until complete, it is a
    tombstone already; had the source product lived on, its next sync would have adopted it by SKU."""
    product = mug(r)
    engine = r.engine()
    engine.destination = LosesTheCreateAnswer(engine.destination)
    with pytest.raises(RetriableError):
        engine.sync(request(product["id"]))
    r.a.delete_product(product["id"])

    assert r.engine().sync(request(product["id"])).action == "absent"

    orphan = r.b_product("MUG")
    assert (orphan["is_visible"], orphan["availability"]) == (False, "disabled")


class LosesTheFirstCommit:
    """The real state store, except that the first commit of a product finds the lease lost (a worker
    that stalled past its lease after its writes landed)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.lost = False

    def commit(self, state: Any, *, owner: str) -> None:
        if not self.lost and state.entity_type == "product":
            self.lost = True
            raise LeaseHeld(f"lost the lease on product {state.source_id}")
        self.inner.commit(state, owner=owner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_created_product_whose_state_commit_failed_is_still_hidden_by_the_source_delete(r: Rig) -> None:
    """Found by make chaos (20 x 1,000): the create and its reveal landed, the commit found the lease
    lost, and the state never learnt the product's id at B; the source product's delete then had
    nothing to hide and B kept showing it. The id is recorded as soon as the create lands."""
    product = mug(r)
    engine = r.engine()
    engine.state = LosesTheFirstCommit(engine.state)
    with pytest.raises(LeaseHeld):
        engine.sync(request(product["id"]))
    assert r.b_product("MUG")["is_visible"] is True  # shown: every write landed
    r.a.delete_product(product["id"])

    assert r.engine().sync(request(product["id"])).action == "deleted"

    hidden = r.b_product("MUG")
    assert (hidden["is_visible"], hidden["availability"]) == (False, "disabled")


def test_a_new_product_whose_last_write_fails_stays_hidden_until_the_retry_shows_it(r: Rig) -> None:
    product = mug(r)
    engine = r.engine()
    r.b.fail_next("PUT", r"^/catalog/products/\d+$", status=503, times=engine.destination.http.max_attempts)

    with pytest.raises(RetriableError):
        engine.sync(request(product["id"]))

    assert r.b_product("MUG")["is_visible"] is False  # never a half product on show
    assert engine.sync(request(product["id"])).action == "updated"
    assert r.b_product("MUG")["is_visible"] is True and len(r.b.products()) == 1


def test_a_new_product_refused_for_good_is_left_hidden_and_marked_compensated(r: Rig) -> None:
    product = mug(r)
    r.b.fail_next("PUT", r"^/catalog/products/\d+$", status=422)

    with pytest.raises(PermanentError):
        r.engine().sync(request(product["id"]))

    assert r.b_product("MUG")["is_visible"] is False
    state = r.state.get(CONNECTION, "product", product["id"])
    assert state is not None and state.last_outcome == "compensated"
    assert r.changes.history(CONNECTION, "product", product["id"])[0]["action"] == "compensated"


def test_new_products_in_a_batch_are_shown_by_the_batch_write(r: Rig) -> None:
    products = [mug(r, sku=f"M{n}") for n in range(4)]

    r.engine().sync_many([request(p["id"]) for p in products])

    puts = [p for m, p, _ in r.b_writes() if m == "PUT"]
    assert puts == ["/catalog/products"]  # one batch reveals all four
    assert all(p["is_visible"] for p in r.b.products())


def test_a_product_hidden_at_the_source_is_created_hidden_in_one_request(r: Rig) -> None:
    product = mug(r, is_visible=False)

    r.engine().sync(request(product["id"]))

    assert [m for m, _, _ in r.b_writes()] == ["POST"]
    assert r.b_product("MUG")["is_visible"] is False
