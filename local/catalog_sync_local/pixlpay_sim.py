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
updates `name, description, price, is_active`. `JsonServer` is shared with the Medusa simulator.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple, Self
from urllib.parse import parse_qsl, urlsplit

from catalog_sync_local.bigcommerce_sim_http import FailureInjector

PREFIX = "/api/external/v1"
Reply = tuple[int, Any, dict[str, str]]
Handler = Callable[[str, str, dict[str, str], Any, Mapping[str, str]], Reply]


class RequestRecord(NamedTuple):
    method: str
    path: str  # without the API prefix and query string
    status: int


class JsonServer:
    """ThreadingHTTPServer on 127.0.0.1 in a daemon thread, calling `handler(method, path, query, body,
    headers)`; keeps a request log. stop() is prompt and bounded."""

    def __init__(self, handler: Handler, name: str) -> None:
        self.log: list[RequestRecord] = []
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"
            timeout = 10

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def do_PUT(self) -> None:
                self._serve()

            def do_DELETE(self) -> None:
                self._serve()

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(min(length, 10_000_000)) if length > 0 else b""
                url = urlsplit(self.path)
                query = dict(parse_qsl(url.query, keep_blank_values=True))
                try:
                    body = json.loads(raw) if raw.strip() else None
                except ValueError:
                    headers: dict[str, str] = {}
                    status, reply = 400, {"message": "invalid JSON"}
                else:
                    status, reply, headers = handler(self.command, url.path, query, body, dict(self.headers))
                with server._lock:
                    server.log.append(RequestRecord(self.command, url.path, status))
                payload = b"" if reply is None else json.dumps(reply).encode()
                self.send_response(status)
                for key, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name=name
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout)
        self._httpd.server_close()

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self.log)


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


class JsonStore(ABC):
    """What the JSON API simulators share: serving on 127.0.0.1 through JsonServer, the request log,
    and failure injection (the BigCommerce simulator's FailureInjector)."""

    server_name = "json-sim"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._failures = FailureInjector()
        self._server: JsonServer | None = None

    @abstractmethod
    def _handle(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: Mapping[str, str]
    ) -> Reply: ...

    def start(self) -> Self:
        if self._server is None:
            self._server = JsonServer(self._handle, self.server_name)
            self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def api_url(self) -> str:
        """The store URL (what a connection's `api_url` holds)."""
        if self._server is None:
            raise RuntimeError("the store is not started")
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def request_log(self) -> list[RequestRecord]:
        return [] if self._server is None else self._server.records()

    def fail_next(self, method: str, path_regex: str, status: int = 500, times: int = 1) -> None:
        self._failures.add(method, path_regex, status, times)


class PixlpayStore(JsonStore):
    server_name = "pixlpay-sim"

    def __init__(
        self,
        token: str = "pixlpay-token",  # noqa: S107 - a simulator's test token
        *,
        quota: int = 60,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.token = token
        self.clock = clock
        self._products: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._limiter = FixedWindow(quota, window_s, clock)

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
            return copy.deepcopy(product)

    def update_product(self, product_id: int, **changes: Any) -> dict[str, Any]:
        with self._lock:
            product = self._products[product_id]
            product.update(_normalised(changes))
            product["updated_at"] = self._now()
            return copy.deepcopy(product)

    def delete_product(self, product_id: int) -> None:
        with self._lock:
            del self._products[product_id]

    def get_product(self, product_id: int) -> dict[str, Any] | None:
        with self._lock:
            found = self._products.get(product_id)
            return copy.deepcopy(found) if found else None

    def products(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(p) for _, p in sorted(self._products.items())]

    def _now(self) -> str:
        return datetime.fromtimestamp(int(self.clock()), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

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
        match = re.fullmatch(r"/products/(\d+)/?", path)
        if match is None:
            return 404, {"success": False, "error": "Not Found", "message": "Route not found"}
        product = self.get_product(int(match.group(1)))
        if product is None:
            return 404, {"success": False, "error": "Not Found", "message": "Product not found"}
        if method == "GET":
            return 200, {"success": True, "data": product}
        if method == "PUT":
            if not isinstance(body, dict):
                return 422, {
                    "success": False,
                    "error": "Validation Error",
                    "message": "body must be an object",
                }
            unknown = set(body) - {"name", "description", "price", "is_active"}
            if unknown:
                return 422, {
                    "success": False,
                    "error": "Validation Error",
                    "message": f"unknown: {sorted(unknown)}",
                }
            return 200, {"success": True, "data": self.update_product(product["id"], **body)}
        return 405, {"success": False, "error": "Method Not Allowed", "message": method}

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
