"""A simulated BigCommerce store: its catalog in memory, served over HTTP on 127.0.0.1 like the v3 API.

    with BigCommerceStore(store_hash="abc123", access_token="t0ken", webhook_secret=secret) as store:
        requests.get(f"{store.v3_base}/catalog/products", headers={"X-Auth-Token": "t0ken"})
        store.create_product(name="Mug", price=9.5, sku="MUG-1")   # a dashboard edit: fires hooks too

Shapes follow BigCommerce's official specs (reference/bigcommerce/*.yml; tests check the responses with
`simulators.bigcommerce.spec`). The parts live in `bigcommerce_sim_*` modules: `catalog` (products, variants,
images),
`taxonomy` (categories, brands), `listings` (channel listings), `webhooks` (hooks and signed delivery),
`routes` (URLs to catalog calls), `http` (auth, rate limit, failure injection, server), `fields`
(validation and error bodies). HTTP requests and the programmatic methods below share one code path.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Callable, Iterable, Mapping
from email.message import Message
from typing import Any, Self

from catalog_sync_local.simulators.bigcommerce.catalog import Catalog
from catalog_sync_local.simulators.bigcommerce.contract import ContractMonitor
from catalog_sync_local.simulators.bigcommerce.fields import ApiError
from catalog_sync_local.simulators.bigcommerce.http_front import App, RateLimiter, RequestRecord
from catalog_sync_local.simulators.bigcommerce.routes import Routes
from catalog_sync_local.simulators.bigcommerce.webhooks import Hooks
from catalog_sync_local.simulators.shared.delivery import DeliveringSimulator, Delivery, Dispatcher
from catalog_sync_local.simulators.shared.http_server import FailureInjector, Server

__all__ = ["ApiError", "BigCommerceStore", "Delivery", "RequestRecord"]

FULL = ("variants", "images")


class BigCommerceStore(DeliveringSimulator):
    def __init__(
        self,
        store_hash: str,
        access_token: str,
        *,
        quota: int = 150,
        window_ms: int = 30_000,
        webhook_secret: str | None = None,
        clock: Callable[[], float] = time.time,
        store_id: str = "1025646",
        port: int = 0,
        image_update_events: int = 2,
        delivery_attempts: int = 3,
        delivery_backoff_s: float = 0.05,
        allow_loopback_http: bool = False,
    ) -> None:
        """`allow_loopback_http`: accept hook destinations `http://127.0.0.1:<port>` (the local runtime's
        receiver) besides what BigCommerce accepts (https on port 443)."""
        self.store_hash = store_hash
        self.store_id = store_id
        self.clock = clock
        self.catalog = Catalog(
            store_hash=store_hash, clock=clock, emit=self._emit, image_update_events=image_update_events
        )
        self.hooks = Hooks(
            store_hash=store_hash,
            client_id=f"sim-{store_hash}",
            clock=clock,
            allow_loopback_http=allow_loopback_http,
        )
        self._dispatcher = Dispatcher(
            secret=webhook_secret, max_attempts=delivery_attempts, backoff_s=delivery_backoff_s
        )
        self._failures = FailureInjector()
        # every request and answer is checked against the official spec (simulators.bigcommerce.contract)
        self.contract = ContractMonitor(store_hash)
        self._app = App(
            store_hash=store_hash,
            access_token=access_token,
            routes=Routes(self.catalog, self.hooks, clock=clock),
            limiter=RateLimiter(quota, window_ms, clock),
            failures=self._failures,
            contract=self.contract,
        )
        self._port = port
        self._event_seq = itertools.count(1)

    # --- lifecycle --------------------------------------------------------------------------------------

    def _open_server(self) -> Server:
        app = self._app

        def serve(
            method: str, target: str, headers: Message, raw: bytes
        ) -> tuple[int, dict[str, str], bytes]:
            return app.handle(method, target, headers.get("X-Auth-Token"), raw)

        return Server(serve, self._port, name="bigcommerce-sim")

    def start(self) -> Self:
        super().start()
        if self._server is not None:
            self._port = self._server.port  # a restarted store answers on the same port
        return self

    @property
    def v3_base(self) -> str:
        return f"{self.api_url}/stores/{self.store_hash}/v3"

    # --- observation and failure injection for tests ---------------------------------------------------

    @property
    def request_log(self) -> list[RequestRecord]:
        """(method, path relative to the v3 base, status) of every HTTP request, in order."""
        return self._app.request_log()

    def fail_next(self, method: str, path_regex: str, status: int = 500, times: int = 1) -> None:
        """Answer the next `times` requests matching `method` (or "*") and `path_regex` (searched in the
        path relative to the v3 base) with `status`, without performing them."""
        self._failures.add(method, path_regex, status, times)

    def refuse_batches_containing(self, product_id: int, status: int = 422) -> None:
        """Refuse every batch product update that contains `product_id` as a whole, naming no item."""
        self._app.routes.batch_faults.refuse[product_id] = status

    def drop_from_batch_answers(self, product_id: int) -> None:
        """Apply `product_id` in batch updates but leave it out of the answer (in neither list)."""
        self._app.routes.batch_faults.unreported.add(product_id)

    # --- the merchant's dashboard (programmatic edits; they fire webhooks like HTTP ones) ---------------
    # Fields come as a mapping, as keyword arguments, or both (keywords win). Errors raise ApiError.

    def create_product(
        self,
        fields: Mapping[str, Any] | None = None,
        /,
        *,
        variants: Iterable[Mapping[str, Any]] = (),
        images: Iterable[Mapping[str, Any]] = (),
        **more: Any,
    ) -> dict[str, Any]:
        """Create a product (type, weight and price default to physical, 0, 0 as in the dashboard)."""
        body: dict[str, Any] = {"type": "physical", "weight": 0, "price": 0, **(fields or {}), **more}
        body["variants"] = [*body.get("variants", []), *(dict(v) for v in variants)]
        body["images"] = [*body.get("images", []), *(dict(i) for i in images)]
        return self.catalog.create_product(body, FULL)

    def update_product(
        self, product_id: int, changes: Mapping[str, Any] | None = None, /, **more: Any
    ) -> dict[str, Any]:
        return self.catalog.update_product(product_id, _fields(changes, more), FULL)

    def delete_product(self, product_id: int) -> None:
        self.catalog.delete_product(product_id)

    def add_image(self, product_id: int, image: str | Mapping[str, Any], /, **more: Any) -> dict[str, Any]:
        """Add an image by URL (`add_image(7, "https://...")`) or by fields (`image_url`, `sort_order`)."""
        fields = {"image_url": image} if isinstance(image, str) else image
        return self.catalog.create_image(product_id, _fields(fields, more))

    def add_variant(
        self, product_id: int, fields: Mapping[str, Any] | None = None, /, **more: Any
    ) -> dict[str, Any]:
        return self.catalog.create_variant(product_id, _fields(fields, more))

    def update_variant(
        self, product_id: int, variant_id: int, changes: Mapping[str, Any] | None = None, /, **more: Any
    ) -> dict[str, Any]:
        return self.catalog.update_variant(product_id, variant_id, _fields(changes, more))

    def delete_variant(self, product_id: int, variant_id: int) -> None:
        self.catalog.delete_variant(product_id, variant_id)

    def create_category(self, category: str | Mapping[str, Any], /, **more: Any) -> dict[str, Any]:
        """`create_category("Mugs", parent_id=21)` or `create_category({"name": "Mugs", "parent_id": 21})`."""
        fields = {"name": category} if isinstance(category, str) else category
        return self.catalog.taxonomy.create_category({"parent_id": 0, **_fields(fields, more)})

    def update_category(
        self, category_id: int, changes: Mapping[str, Any] | None = None, /, **more: Any
    ) -> dict[str, Any]:
        return self.catalog.taxonomy.update_category(category_id, _fields(changes, more))

    def delete_category(self, category_id: int) -> None:
        self.catalog.taxonomy.delete_category(category_id)

    def create_brand(self, brand: str | Mapping[str, Any], /, **more: Any) -> dict[str, Any]:
        fields = {"name": brand} if isinstance(brand, str) else brand
        return self.catalog.taxonomy.create_brand(_fields(fields, more))

    def update_brand(
        self, brand_id: int, changes: Mapping[str, Any] | None = None, /, **more: Any
    ) -> dict[str, Any]:
        return self.catalog.taxonomy.update_brand(brand_id, _fields(changes, more))

    def delete_brand(self, brand_id: int) -> None:
        self.catalog.taxonomy.delete_brand(brand_id)

    def set_listing(self, channel_id: int, product_id: int, state: str = "active") -> dict[str, Any]:
        """List the product (all its variants) on the channel in `state`, creating the listing if needed."""
        return self.catalog.listings.set_state(channel_id, product_id, state)

    # --- reading the store ------------------------------------------------------------------------------
    # `include` takes sub-resource names, as an iterable or a comma-separated string ("variants,images").

    def get_product(self, product_id: int, include: str | Iterable[str] = FULL) -> dict[str, Any] | None:
        try:
            return self.catalog.product_view(product_id, _includes(include))
        except ApiError:
            return None

    def products(self, include: str | Iterable[str] = FULL) -> list[dict[str, Any]]:
        with self.catalog.lock:
            return [self.catalog.product_view(pid, _includes(include)) for pid in self.catalog.product_ids()]

    def categories(self) -> list[dict[str, Any]]:
        return self.catalog.taxonomy.list_categories()

    def brands(self) -> list[dict[str, Any]]:
        return self.catalog.taxonomy.list_brands()

    def listings(self, channel_id: int) -> list[dict[str, Any]]:
        return self.catalog.listings.query(channel_id, limit=1_000_000)[1]

    def webhooks(self) -> list[dict[str, Any]]:
        return self.hooks.list_hooks()

    # --- webhooks out -----------------------------------------------------------------------------------

    def _emit(self, scope: str, data: dict[str, Any]) -> None:
        """Queue one delivery of `scope` to every active hook whose scope matches."""
        created_at = int(self.clock())
        seq = next(self._event_seq)
        for hook in self.hooks.matching(scope):
            digest = hashlib.sha1(  # an identifier, as BigCommerce's `hash`, not security
                f"{self.store_hash}:{seq}:{hook['id']}:{scope}:{created_at}".encode(), usedforsecurity=False
            ).hexdigest()
            payload = {
                "scope": scope,
                "store_id": self.store_id,
                "data": dict(data),
                "hash": digest,
                "created_at": created_at,
                "producer": f"stores/{self.store_hash}",
            }
            self.contract.check_notification(payload)
            self._dispatcher.enqueue(hook, payload)


def _fields(given: Mapping[str, Any] | None, more: Mapping[str, Any]) -> dict[str, Any]:
    return {**(given or {}), **more}


def _includes(include: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(include, str):
        return tuple(p.strip() for p in include.split(",") if p.strip())
    return tuple(include)
