"""A simulated Pixlpay store API on 127.0.0.1, as docs.pixlpay.net/developers/api describes it.

    with PixlpayStore(token="t0ken") as store:
        store.create_product(name="VIP Rank", price="9.99", type="digital")
        requests.get(f"{store.base_url}/products?per_page=100", headers={"Authorization": "Bearer t0ken"})

Base path `/api/external/v1`; Bearer authentication (401 `{success: false, error: "Unauthenticated"}`);
answers `{success: true, data}` and, for lists, `meta{current_page, last_page, per_page, total}`
(`per_page` default 15, at most 100); a missing product is 404 `{success: false, error: "Not Found",
message: "Product not found"}`. Rate limit: `quota` requests per `window_s` per token (60 a minute live),
`X-RateLimit-Limit` / `X-RateLimit-Remaining` on every answer, 429 with `Retry-After` beyond. Prices are
decimal strings, times ISO-8601 UTC to the second. `PUT /products/{id}` (the write-back of seed 000)
updates `name, description, price, is_active` (the assumed endpoint of catalog_sync.connectors.pixlpay: the
public docs list no product write): it bumps `updated_at`, is kept in `write_log`, answers `{success, data,
message}` and sends `product.updated` like a dashboard edit; a bad body is 422 `VALIDATION_ERROR` with
per-field `errors` (docs.pixlpay.net/guides/error-handling). Served by
`simulators.shared.json_server.JsonStore`, as the Medusa simulator is.

Webhooks (docs.pixlpay.net/developers/api/webhooks and /developers/webhooks/events): `GET/POST /webhooks`,
`GET/PUT/DELETE /webhooks/{id}` with `{url, events[], is_active}`; creating one answers its signing `secret`
(shown only then). Product changes (`product.created|updated|deleted`, from the dashboard methods below or
the write-back PUT) are delivered to every active webhook subscribed to the event, as
`{id: "wh_del_...", event_type, created_at, data{product_id}}` POSTed with `X-Pixlpay-Signature` (hex
HMAC-SHA256 of the raw body, keyed by the webhook's secret), `X-Pixlpay-Event` and `X-Pixlpay-Delivery-Id`.
Where the real service generates each webhook's secret, the simulator uses `webhook_secret` when given (so a
local connection's committed test secret verifies its deliveries). Pixlpay requires HTTPS webhook URLs; the
simulator also takes `http://` and delivers only to loopback, from one background thread, retrying a failed
delivery a few times with a short backoff (live: 1, 5 and 30 minutes).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import math
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple
from urllib.parse import urlsplit

from catalog_sync_local.simulators.shared.delivery import DeliveringSimulator, Delivery, Dispatcher
from catalog_sync_local.simulators.shared.json_server import JsonStore, Reply

PREFIX = "/api/external/v1"
PRODUCT_EVENTS = ("product.created", "product.updated", "product.deleted")
# Every event a webhook may subscribe to (docs.pixlpay.net/developers/webhooks/events); only the product
# events are ever sent by this simulator.
WEBHOOK_EVENTS = frozenset(
    {
        "order.received",
        "order.refunded",
        "payment.failed",
        "subscription.created",
        "subscription.renewed",
        "subscription.cancelled",
        "subscription.payment_failed",
        "customer.created",
        "delivery.completed",
        "delivery.failed",
        "ticket.created",
        "ticket.reply",
        "dispute.created",
        "dispute.resolved",
        *PRODUCT_EVENTS,
    }
)


class PixlpayWrite(NamedTuple):
    """One write-back through the API (`PUT /products/{id}`), as the simulator accepted it."""

    product_id: int
    fields: dict[str, Any]  # the body as sent
    at: str  # the product's new updated_at


class FixedWindow:
    def __init__(self, quota: int, window_s: float, clock: Callable[[], float]) -> None:
        self.quota, self.window_s, self.clock = quota, window_s, clock
        self._lock = threading.Lock()
        self._start: float | None = None
        self._used = 0

    def take(self) -> tuple[bool, dict[str, str]]:
        with self._lock:
            now = self.clock()
            if self._start is None or now >= self._start + self.window_s:
                self._start, self._used = now, 0
            allowed = self._used < self.quota
            if allowed:
                self._used += 1
            headers = {
                "X-RateLimit-Limit": str(self.quota),
                "X-RateLimit-Remaining": str(self.quota - self._used),
            }
            if not allowed:
                headers["Retry-After"] = str(max(1, math.ceil(self._start + self.window_s - now)))
            return allowed, headers


class PixlpayStore(DeliveringSimulator, JsonStore):  # deliveries: `scope` holds the event type
    server_name = "pixlpay-sim"

    def __init__(
        self,
        token: str = "pixlpay-token",  # noqa: S107 - a simulator's test token
        *,
        quota: int = 60,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.time,
        webhook_secret: str | None = None,
        delivery_attempts: int = 3,
        delivery_backoff_s: float = 0.05,
    ) -> None:
        super().__init__()
        self.token = token
        self.clock = clock
        self.webhook_secret = webhook_secret
        self._products: dict[int, dict[str, Any]] = {}
        self._writes: list[PixlpayWrite] = []
        self._ids = itertools.count(1)
        self._limiter = FixedWindow(quota, window_s, clock)
        self._webhooks: dict[int, dict[str, Any]] = {}
        self._webhook_ids = itertools.count(1)
        self._dispatcher = PixlpayDispatcher(max_attempts=delivery_attempts, backoff_s=delivery_backoff_s)
        # "delivery": `{id, event_type, created_at}`; "event": the docs' other shape, `{event, timestamp}`
        # in whole seconds and no id, so two edits of a product within a second send identical bytes.
        self.payload_shape: Literal["delivery", "event"] = "delivery"

    @property
    def base_url(self) -> str:
        return self.api_url + PREFIX

    # --- the merchant's dashboard -------------------------------------------------------------------

    def create_product(self, name: str, price: str | float = "0.00", **fields: Any) -> dict[str, Any]:
        with self._lock:
            pid = next(self._ids)
            now = self._now()
            product: dict[str, Any] = {
                "id": pid,
                "name": name,
                "slug": re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"),
                "description": "",
                "price": _money(price),
                "compare_price": None,
                "type": "digital",
                "category": None,
                "images": [],
                "is_active": True,
                "stock": None,
                "sku": None,
                "created_at": now,
                "updated_at": now,
            }
            product.update(_normalised(fields))
            self._products[pid] = product
            created = copy.deepcopy(product)
        self._emit("product.created", pid)
        return created

    def update_product(self, product_id: int, **changes: Any) -> dict[str, Any]:
        with self._lock:
            product = self._products[product_id]
            product.update(_normalised(changes))
            product["updated_at"] = self._now()
            updated = copy.deepcopy(product)
        self._emit("product.updated", product_id)
        return updated

    def delete_product(self, product_id: int) -> None:
        with self._lock:
            del self._products[product_id]
        self._emit("product.deleted", product_id)

    def get_product(self, product_id: int) -> dict[str, Any] | None:
        with self._lock:
            found = self._products.get(product_id)
            return copy.deepcopy(found) if found else None

    def products(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(p) for _, p in sorted(self._products.items())]

    @property
    def write_log(self) -> list[PixlpayWrite]:
        """Every write-back the API accepted, in order (the merchant's dashboard edits are not in it)."""
        with self._lock:
            return list(self._writes)

    def _now(self) -> str:
        return datetime.fromtimestamp(int(self.clock()), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    # --- webhooks (the dashboard's Settings > Webhooks, and the /webhooks API) ----------------------

    def webhooks(self) -> list[dict[str, Any]]:
        """The registered webhooks, as `GET /webhooks` lists them (without their secrets)."""
        with self._lock:
            return [_public(h) for _, h in sorted(self._webhooks.items())]

    def create_webhook(self, url: str, events: list[str], *, is_active: bool = True) -> dict[str, Any]:
        """Register a webhook; the answer (only this one) carries its signing `secret`."""
        _check_webhook({"url": url, "events": events, "is_active": is_active}, required=True)
        with self._lock:
            hook: dict[str, Any] = {
                "id": next(self._webhook_ids),
                "url": url,
                "events": list(dict.fromkeys(events)),
                "is_active": is_active,
                "secret": self.webhook_secret or f"whsec_{secrets.token_hex(16)}",
                "created_at": self._now(),
            }
            self._webhooks[hook["id"]] = hook
            return copy.deepcopy(hook)

    def update_webhook(self, webhook_id: int, **changes: Any) -> dict[str, Any]:
        _check_webhook(changes, required=False)
        with self._lock:
            hook = self._webhooks[webhook_id]
            for key in ("url", "events", "is_active"):
                if key in changes:
                    hook[key] = copy.deepcopy(changes[key])
            return _public(hook)

    def delete_webhook(self, webhook_id: int) -> None:
        with self._lock:
            del self._webhooks[webhook_id]

    def _emit(self, event_type: str, product_id: int) -> None:
        """Queue one delivery of a product event to every active webhook subscribed to it."""
        created_at = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with self._lock:
            hooks = [
                copy.deepcopy(h)
                for _, h in sorted(self._webhooks.items())
                if h["is_active"] and event_type in h["events"]
            ]
        for hook in hooks:
            payload: dict[str, Any] = {
                "id": f"wh_del_{uuid.uuid4().hex[:24]}",
                "event_type": event_type,
                "created_at": created_at,
                "data": {"product_id": product_id},
            }
            if self.payload_shape == "event":
                payload = {"event": event_type, "timestamp": self._now(), "data": {"product_id": product_id}}
            self._dispatcher.enqueue(hook, payload)

    # --- HTTP ---------------------------------------------------------------------------------------

    def _handle(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: Mapping[str, str]
    ) -> Reply:
        if not path.startswith(PREFIX + "/"):
            return 404, {"success": False, "error": "Not Found", "message": "Route not found"}, {}
        path = path[len(PREFIX) :]
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        if auth != f"Bearer {self.token}":
            return 401, {"success": False, "error": "Unauthenticated", "message": "Invalid API token"}, {}
        allowed, limits = self._limiter.take()
        if not allowed:
            return (
                429,
                {"success": False, "error": "Too Many Requests", "message": "Rate limit exceeded"},
                limits,
            )
        injected = self._failures.take(method, path)
        if injected is not None:
            return (
                injected,
                {"success": False, "error": "Server Error", "message": "Injected failure"},
                limits,
            )
        status, reply = self._route(method, path, query, body)
        return status, reply, limits

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        if path.rstrip("/") == "/products" and method == "GET":
            return self._list(query)
        if path.rstrip("/") == "/webhooks" or path.startswith("/webhooks/"):
            return self._webhooks_route(method, path.rstrip("/"), body)
        match = re.fullmatch(r"/products/(\d+)/?", path)
        if match is None:
            return 404, {"success": False, "error": "Not Found", "message": "Route not found"}
        product = self.get_product(int(match.group(1)))
        if product is None:
            return 404, {"success": False, "error": "Not Found", "message": "Product not found"}
        if method == "GET":
            return 200, {"success": True, "data": product}
        if method == "PUT":
            errors = _product_write_errors(body)
            if errors:
                return 422, {
                    "success": False,
                    "error": "VALIDATION_ERROR",
                    "message": "The given data was invalid",
                    "errors": errors,
                }
            with self._lock:
                self._writes.append(PixlpayWrite(product["id"], copy.deepcopy(body), self._now()))
            updated = self.update_product(product["id"], **body)
            return 200, {"success": True, "data": updated, "message": "Product updated successfully"}
        return 405, {"success": False, "error": "Method Not Allowed", "message": method}

    def _webhooks_route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        try:
            if path == "/webhooks":
                if method == "GET":
                    return 200, {"success": True, "data": self.webhooks()}
                if method == "POST":
                    fields = _object(body)
                    _check_webhook(fields, required=True)
                    created = self.create_webhook(
                        str(fields["url"]), list(fields["events"]), is_active=fields.get("is_active", True)
                    )
                    return 201, {"success": True, "data": created, "message": "Webhook created successfully"}
                return 405, {"success": False, "error": "Method Not Allowed", "message": method}
            match = re.fullmatch(r"/webhooks/(\d+)", path)
            with self._lock:
                found = match is not None and int(match.group(1)) in self._webhooks
            if match is None or not found:
                return 404, {"success": False, "error": "Not Found", "message": "Webhook not found"}
            webhook_id = int(match.group(1))
            if method == "GET":
                with self._lock:
                    return 200, {"success": True, "data": _public(self._webhooks[webhook_id])}
            if method == "PUT":
                updated = self.update_webhook(webhook_id, **_object(body))
                return 200, {"success": True, "data": updated, "message": "Webhook updated successfully"}
            if method == "DELETE":
                self.delete_webhook(webhook_id)
                return 200, {"success": True, "message": "Webhook deleted successfully"}
            return 405, {"success": False, "error": "Method Not Allowed", "message": method}
        except _Invalid as exc:
            return 422, {
                "success": False,
                "error": "Validation Error",
                "message": "The given data was invalid.",
                "errors": exc.errors,
            }

    def _list(self, query: dict[str, str]) -> tuple[int, Any]:
        try:
            page = max(1, int(query.get("page", "1")))
            per_page = max(1, min(int(query.get("per_page", "15")), 100))
        except ValueError:
            return 422, {
                "success": False,
                "error": "Validation Error",
                "message": "page and per_page are integers",
            }
        items = self.products()
        if "is_active" in query:
            wanted = query["is_active"].lower() in ("1", "true")
            items = [p for p in items if p["is_active"] == wanted]
        chunk = items[(page - 1) * per_page : page * per_page]
        meta = {
            "current_page": page,
            "last_page": max(1, math.ceil(len(items) / per_page)),
            "per_page": per_page,
            "total": len(items),
        }
        return 200, {"success": True, "data": chunk, "meta": meta}


class PixlpayDispatcher(Dispatcher):
    """The BigCommerce simulator's delivery thread (queue, bounded waits and retries, loopback only), with
    Pixlpay's payload and headers: the body is signed once at enqueue time, so a retry resends the same
    bytes with the same signature and `id` (the receiver's dedup key)."""

    def __init__(self, *, max_attempts: int = 3, backoff_s: float = 0.05, timeout_s: float = 5.0) -> None:
        super().__init__(secret=None, max_attempts=max_attempts, backoff_s=backoff_s, timeout_s=timeout_s)

    def enqueue(self, hook: Mapping[str, Any], payload: dict[str, Any]) -> None:
        body = webhook_body(payload)
        event = str(payload.get("event_type") or payload.get("event"))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Pixlpay-Webhooks/1.0",
            "X-Pixlpay-Event": event,
            "X-Pixlpay-Signature": signature(hook["secret"], body),
        }
        if "id" in payload:
            headers["X-Pixlpay-Delivery-Id"] = payload["id"]
        delivery = Delivery(hook["id"], event, hook["url"], payload, headers)
        with self._idle:
            self._records.append(delivery)
            self._pending += 1
        self._queue.put(delivery)

    def _message_id(self, delivery: Delivery) -> str:
        return str(delivery.payload.get("id") or hashlib.sha256(webhook_body(delivery.payload)).hexdigest())

    def _headers(self, delivery: Delivery, body: bytes, msg_id: str) -> dict[str, str]:
        return dict(delivery.headers)  # signed once at enqueue time: a retry resends the same bytes


def webhook_body(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def signature(secret: str, body: bytes) -> str:
    """`X-Pixlpay-Signature`: hex HMAC-SHA256 of the raw body, keyed by the secret's UTF-8 bytes."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _Invalid(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("invalid")
        self.errors = errors


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _Invalid({"body": ["The body must be an object."]})
    return body


def _check_webhook(fields: Mapping[str, Any], *, required: bool) -> None:
    errors: dict[str, list[str]] = {}
    unknown = set(fields) - {"url", "events", "is_active"}
    if unknown:
        errors["body"] = [f"Unknown fields: {sorted(unknown)}."]
    if required or "url" in fields:
        url = fields.get("url")
        if (
            not isinstance(url, str)
            or urlsplit(url).scheme not in ("http", "https")
            or not urlsplit(url).netloc
        ):
            errors["url"] = ["The url must be a valid URL."]
    if required or "events" in fields:
        events = fields.get("events")
        if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
            errors["events"] = ["The events must be a non-empty array."]
        elif set(events) - WEBHOOK_EVENTS:
            errors["events"] = [f"Unknown events: {sorted(set(events) - WEBHOOK_EVENTS)}."]
    if "is_active" in fields and not isinstance(fields["is_active"], bool):
        errors["is_active"] = ["The is_active field must be true or false."]
    if errors:
        raise _Invalid(errors)


def _product_write_errors(body: Any) -> dict[str, list[str]]:
    """What Pixlpay's validation would say about a write-back body (empty: valid)."""
    if not isinstance(body, dict) or not body:
        return {"body": ["The body must be an object with at least one field."]}
    errors: dict[str, list[str]] = {}
    for key in sorted(set(body) - {"name", "description", "price", "is_active"}):
        errors[key] = [f"The {key} field is not allowed."]
    if "name" in body and (not isinstance(body["name"], str) or not body["name"].strip()):
        errors["name"] = ["The name field must be a non-empty string."]
    if "description" in body and not isinstance(body["description"], str):
        errors["description"] = ["The description field must be a string."]
    if "price" in body:
        try:
            ok = not isinstance(body["price"], bool) and 0 <= float(body["price"]) < 1e8
        except (TypeError, ValueError):
            ok = False
        if not ok:
            errors["price"] = ["The price must be a number between 0 and 99999999.99."]
    if "is_active" in body and not isinstance(body["is_active"], bool):
        errors["is_active"] = ["The is_active field must be true or false."]
    return errors


def _public(hook: Mapping[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in hook.items() if k != "secret"}


def _money(value: str | float) -> str:
    return f"{float(value):.2f}"


def _normalised(fields: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    for key in ("price", "compare_price"):
        if out.get(key) is not None:
            out[key] = _money(out[key])
    if "images" in out:
        out["images"] = [
            {"url": i, "is_primary": n == 0} if isinstance(i, str) else dict(i)
            for n, i in enumerate(out["images"])
        ]
    return out
