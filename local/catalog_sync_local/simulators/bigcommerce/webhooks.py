"""Webhooks of the simulated store: the `/hooks` registry (webhooks.v3.yml) and signed delivery.

A delivery is the BigCommerce payload `{scope, store_id, data, hash, created_at, producer}` POSTed with the
hook's custom `headers`, signed and sent by simulators.shared.delivery.

As webhooks.v3.yml says, a hook is `scope`, `destination`, `is_active` and `headers`, all four required on
create and on update (a PUT replaces the hook), and its destination is served on port 443: an `https` URL
on the default port. The local runtime's receiver listens on plain http on a loopback port, so a store
made with `allow_loopback_http=True` also accepts `http://127.0.0.1:<port>` - and nothing else.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlparse

from catalog_sync_local.simulators.bigcommerce.fields import check_fields, invalid, not_found, require_object

HOOK_FIELDS = {"scope": ("str", ""), "destination": ("str", ""), "is_active": ("bool", True)}
REQUIRED = ("scope", "destination", "is_active", "headers")


def scope_matches(pattern: str, scope: str) -> bool:
    """`store/product/*` matches `store/product/updated` (and deeper scopes); otherwise exact."""
    if pattern.endswith("/*"):
        return scope.startswith(pattern[:-1])
    return pattern == scope


class Hooks:
    """The hook registry behind `/hooks` (its own lock: hooks are not catalog state)."""

    def __init__(
        self,
        *,
        store_hash: str,
        client_id: str,
        clock: Callable[[], float],
        allow_loopback_http: bool = False,
    ) -> None:
        self.store_hash = store_hash
        self.allow_loopback_http = allow_loopback_http
        self.client_id = client_id
        self.clock = clock
        self._lock = threading.Lock()
        self._hooks: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(18_048_287)

    def list_hooks(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(h) for _, h in sorted(self._hooks.items())]

    def get(self, hook_id: int) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._hook(hook_id))

    def create(self, body: Any) -> dict[str, Any]:
        with self._lock:
            body = require_object(body)
            _validate(body, allow_loopback_http=self.allow_loopback_http)
            now = int(self.clock())
            hook = {
                "id": next(self._ids),
                "client_id": self.client_id,
                "store_hash": self.store_hash,
                "created_at": now,
                "updated_at": now,
                "scope": body["scope"],
                "destination": body["destination"],
                "is_active": body["is_active"],
                "headers": dict(body["headers"]),
            }
            self._hooks[hook["id"]] = hook
            return copy.deepcopy(hook)

    def update(self, hook_id: int, body: Any) -> dict[str, Any]:
        with self._lock:
            hook = self._hook(hook_id)
            body = require_object(body)
            _validate(body, allow_loopback_http=self.allow_loopback_http)
            hook |= {key: body[key] for key in ("scope", "destination", "is_active")}
            hook["headers"] = dict(body["headers"])
            hook["updated_at"] = int(self.clock())
            return copy.deepcopy(hook)

    def delete(self, hook_id: int) -> dict[str, Any]:
        with self._lock:
            return self._hooks.pop(self._hook(hook_id)["id"])

    def matching(self, scope: str) -> list[dict[str, Any]]:
        with self._lock:
            return [
                copy.deepcopy(h)
                for _, h in sorted(self._hooks.items())
                if h["is_active"] and scope_matches(h["scope"], scope)
            ]

    def _hook(self, hook_id: int) -> dict[str, Any]:
        hook = self._hooks.get(hook_id)
        if hook is None:
            raise not_found("webhook", hook_id)
        return hook


def destination_error(url: str, *, allow_loopback_http: bool) -> str | None:
    """Why BigCommerce would refuse `url` as a hook destination (None: it would not)."""
    try:
        parsed = urlparse(url)
        port = parsed.port
    except ValueError:
        return "error.url.invalid"
    if not parsed.hostname:
        return "error.url.invalid"
    if parsed.scheme == "https" and port in (None, 443):
        return None
    if allow_loopback_http and parsed.scheme == "http" and parsed.hostname == "127.0.0.1":
        return None
    return "error.url.invalid: a destination is served over https on port 443"


def _validate(body: Mapping[str, Any], *, allow_loopback_http: bool) -> None:
    errors = check_fields(body, HOOK_FIELDS, required=REQUIRED)
    destination = body.get("destination")
    if isinstance(destination, str):
        problem = destination_error(destination, allow_loopback_http=allow_loopback_http)
        if problem:
            errors["destination"] = problem
    headers = body.get("headers")
    if "headers" in body and not (
        isinstance(headers, Mapping) and all(isinstance(v, str) for v in headers.values())
    ):
        errors["headers"] = "error.expected.jsobject"
    if errors:
        raise invalid(errors)
