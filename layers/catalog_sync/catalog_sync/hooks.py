"""Webhook registration, reconciled idempotently (seed 003 deletes every hook and creates them again on
each start; we never do: a delivery in flight must not find its hook gone).

For each scope a connection needs, the source store should hold exactly one active hook whose destination
is the connection's webhook URL. Hooks are "ours" when their destination ends with our route
(`/webhooks/{connection}`): other apps' hooks are never touched. The plan:
- keep an active hook of ours with the right destination (and headers);
- reactivate one of ours that BigCommerce deactivated (it does so when deliveries keep failing);
- update one of ours whose destination (host, stage) or headers are out of date;
- create the missing ones;
- delete only duplicates of ours and ours for scopes the connection no longer syncs.
Running it twice changes nothing the second time. Every create and update sends the whole hook (`scope`,
`destination`, `is_active`, `headers`): webhooks.v3.yml requires all four, a PUT included.

Pixlpay registers one webhook per endpoint with a list of events (`url`, `events[]`, `is_active`), so
there the plan is about a single webhook of ours: keep, update (url or events), reactivate, create, and
delete duplicates. Pixlpay shows a new webhook's signing secret only in the create answer: the caller
must store it in the connection's `signing.secrets` (reconcile returns it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class HookApi(Protocol):
    def list_hooks(self) -> list[dict[str, Any]]: ...

    def create_hook(self, payload: Mapping[str, Any]) -> dict[str, Any]: ...

    def update_hook(self, hook_id: int, payload: Mapping[str, Any]) -> dict[str, Any]: ...

    def delete_hook(self, hook_id: int) -> None: ...


@dataclass
class HookPlan:
    keep: list[int] = field(default_factory=list)
    create: list[str] = field(default_factory=list)  # scopes
    reactivate: list[int] = field(default_factory=list)
    update: list[int] = field(default_factory=list)
    delete: list[int] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return len(self.create) + len(self.reactivate) + len(self.update) + len(self.delete)

    def summary(self) -> dict[str, Any]:
        return {
            "keep": self.keep,
            "create": self.create,
            "reactivate": self.reactivate,
            "update": self.update,
            "delete": self.delete,
        }


def route_suffix(connection: str) -> str:
    return f"/webhooks/{connection}"


def plan_hooks(
    existing: list[dict[str, Any]],
    scopes: list[str],
    destination: str,
    *,
    connection: str,
    headers: Mapping[str, str] | None = None,
) -> HookPlan:
    plan = HookPlan()
    wanted_headers = dict(headers or {})
    ours = [
        h for h in existing if str(h.get("destination", "")).rstrip("/").endswith(route_suffix(connection))
    ]
    for scope in dict.fromkeys(scopes):  # de-duplicated, in order
        candidates = [h for h in ours if h.get("scope") == scope]
        # prefer an active hook with the right destination, then any with it, then any of ours
        candidates.sort(key=lambda h: (h.get("destination") != destination, not h.get("is_active"), h["id"]))
        if not candidates:
            plan.create.append(scope)
            continue
        chosen, *extra = candidates
        plan.delete.extend(int(h["id"]) for h in extra)
        headers_ok = not wanted_headers or dict(chosen.get("headers") or {}) == wanted_headers
        if chosen.get("destination") != destination or not headers_ok:
            plan.update.append(int(chosen["id"]))
        elif not chosen.get("is_active"):
            plan.reactivate.append(int(chosen["id"]))
        else:
            plan.keep.append(int(chosen["id"]))
    wanted = set(scopes)
    plan.delete.extend(int(h["id"]) for h in ours if h.get("scope") not in wanted)
    return plan


def reconcile_hooks(
    api: HookApi,
    scopes: list[str],
    destination: str,
    *,
    connection: str,
    headers: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> HookPlan:
    """Bring the store's hooks for `connection` to the plan; with `dry_run`, only report it."""
    existing = api.list_hooks()
    plan = plan_hooks(existing, scopes, destination, connection=connection, headers=headers)
    if dry_run:
        return plan
    body: dict[str, Any] = {"destination": destination, "is_active": True, "headers": dict(headers or {})}
    for scope in plan.create:
        api.create_hook({"scope": scope, **body})
    scope_of = {int(h["id"]): str(h["scope"]) for h in existing}
    for hook_id in plan.update + plan.reactivate:
        api.update_hook(hook_id, {"scope": scope_of[hook_id], **body})
    for hook_id in plan.delete:
        api.delete_hook(hook_id)
    return plan


# --- Pixlpay: one webhook per endpoint, subscribed to events ----------------------------------------------

PIXLPAY_PRODUCT_EVENTS = ("product.created", "product.updated", "product.deleted")


class EventHookApi(Protocol):
    def list_webhooks(self) -> list[dict[str, Any]]: ...

    def create_webhook(self, payload: Mapping[str, Any]) -> dict[str, Any]: ...

    def update_webhook(self, webhook_id: int, payload: Mapping[str, Any]) -> dict[str, Any]: ...

    def delete_webhook(self, webhook_id: int) -> None: ...


def plan_event_hooks(
    existing: list[dict[str, Any]], events: list[str], destination: str, *, connection: str
) -> HookPlan:
    """The plan for a provider whose one webhook lists its events (`create` holds the events)."""
    plan = HookPlan()
    ours = [h for h in existing if str(h.get("url", "")).rstrip("/").endswith(route_suffix(connection))]
    if not events:
        plan.delete.extend(int(h["id"]) for h in ours)
        return plan
    wanted = set(events)
    # prefer the right url, then active, then already subscribed to the right events
    ours.sort(
        key=lambda h: (
            h.get("url") != destination,
            not h.get("is_active"),
            set(h.get("events") or []) != wanted,
            h["id"],
        )
    )
    if not ours:
        plan.create.extend(events)
        return plan
    chosen, *extra = ours
    plan.delete.extend(int(h["id"]) for h in extra)
    if chosen.get("url") != destination or set(chosen.get("events") or []) != wanted:
        plan.update.append(int(chosen["id"]))
    elif not chosen.get("is_active"):
        plan.reactivate.append(int(chosen["id"]))
    else:
        plan.keep.append(int(chosen["id"]))
    return plan


def reconcile_event_hooks(
    api: EventHookApi, events: list[str], destination: str, *, connection: str, dry_run: bool = False
) -> tuple[HookPlan, str | None]:
    """Bring the provider's webhook for `connection` to the plan: (plan, the new webhook's signing secret
    when one was created - shown once by the provider, to be stored in the connection)."""
    plan = plan_event_hooks(api.list_webhooks(), events, destination, connection=connection)
    if dry_run:
        return plan, None
    body = {"url": destination, "events": list(events), "is_active": True}
    secret = None
    if plan.create:
        secret = api.create_webhook(body).get("secret")
    for hook_id in plan.update + plan.reactivate:
        api.update_webhook(hook_id, body)
    for hook_id in plan.delete:
        api.delete_webhook(hook_id)
    return plan, secret
