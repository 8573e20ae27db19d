"""Every AWS call a handler makes is allowed by its function's role in template.yaml.

The local runtime does not enforce IAM, so a call a role does not grant works here and is refused in
AWS: the consumer's deferrals sent to SyncQueue were such a call, never granted (test_template's list of
what each function needs was written by hand and had drifted). Here the calls are recorded as the
handlers make them (botocore's before-parameter-build hook) through the system's paths: webhooks; syncs
that succeed, are deferred, retried and dead-lettered; the scheduled jobs and the status API. Each
(action, resource) is looked up in the role's statements. The event source mapping's own polling
(ReceiveMessage, DeleteMessage) happens outside the handlers; test_template checks it by name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

from bench import default_session
from catalog_sync.store.state import StateStore
from catalog_sync_local.demo.sample_events import webhook_event
from catalog_sync_local.runtime.sandbox import Sandbox
from catalog_sync_local.runtime.stack import load_template, package_template, transform_template
from tests.integration.conftest import CONNECTION, REPO, TEMPLATE
from tests.unit.test_template import _grants, _referenced, _statements

EVENTS = REPO / "events"
# botocore's name for a service -> the IAM prefix of its actions, where they differ.
IAM_PREFIX = {"monitoring": "cloudwatch"}
# SQS authorises its batch operations by the single operation's action.
IAM_ACTION = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}

Call = tuple[str, str, str]  # (function, IAM action, logical id of the resource)


@contextmanager
def recorded_calls(box: Sandbox) -> Iterator[set[Call]]:
    """The AWS calls made inside handler invocations, by function, as (function, action, resource)."""
    calls: set[Call] = set()
    physical = {value: logical for logical, value in box.stack.resources.items()}
    current: list[str] = []
    runtime = box.runtime
    invoke = runtime.invoke

    def invoking(logical_id: str, event: Any) -> Any:
        current.append(logical_id)
        try:
            return invoke(logical_id, event)
        finally:
            current.pop()

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        if not current:
            return  # the runtime's own calls (the event source mapping polling, the test's setup)
        service = model.service_model.signing_name
        operation = f"{IAM_PREFIX.get(service, service)}:{model.name}"
        action = IAM_ACTION.get(operation, operation)
        for name in _resource_names(params):
            calls.add((current[-1], action, physical.get(name) or _by_suffix(physical, name)))

    session = default_session()
    runtime.invoke = invoking  # type: ignore[method-assign]
    session.events.register("before-parameter-build", record, unique_id="iam-calls")
    try:
        yield calls
    finally:
        session.events.unregister("before-parameter-build", unique_id="iam-calls")
        runtime.invoke = invoke  # type: ignore[method-assign]


def _resource_names(params: dict[str, Any]) -> list[str]:
    if "RequestItems" in params:  # BatchGetItem / BatchWriteItem name their tables as keys
        return list(params["RequestItems"])
    for key in ("TableName", "QueueUrl", "SecretId"):
        if key in params:
            return [str(params[key])]
    return ["*"]


def _by_suffix(physical: dict[str, str], name: str) -> str:
    """A secret named by its name where the stack knows its ARN (or the other way round)."""
    for value, logical in physical.items():
        if value.endswith(name) or name.endswith(value):
            return logical
    return name


def test_every_aws_call_a_handler_makes_is_granted_by_its_role(sandbox: Sandbox) -> None:
    a, b = sandbox.source_store(CONNECTION), sandbox.destination_store(CONNECTION)
    state = StateStore(sandbox.stack.resources["SyncStateTable"], boto3.client("dynamodb"))
    mug = a.create_product({"name": "Mug", "sku": "MUG-1", "type": "physical", "price": 9, "weight": 1})
    nameless = a.create_product({"name": "No SKU", "type": "physical", "price": 1, "weight": 1})

    def webhook(product: dict[str, Any], scope: str = "store/product/updated") -> None:
        answer = sandbox.runtime.invoke(
            "WebhookReceiverFunction", webhook_event(CONNECTION, scope, product["id"])
        )
        assert answer["statusCode"] == 200, answer

    with recorded_calls(sandbox) as calls:
        webhook(mug, "store/product/created")
        webhook(nameless, "store/product/created")  # no SKU: dead-lettered at once
        sandbox.runtime.drain()
        webhook(mug)
        a.update_product(mug["id"], price=10)
        sandbox.runtime.invoke(
            "PullSyncFunction", json.loads((EVENTS / "pull_sync" / "scheduled.json").read_text())
        )
        sandbox.runtime.drain()
        state.acquire(CONNECTION, "product", mug["id"], owner="another-worker", lease_s=600)
        webhook(mug)  # its lease is held: deferred, queued again
        sandbox.runtime.drain(max_batches=1)
        state.release(CONNECTION, "product", mug["id"], owner="another-worker")
        a.update_product(mug["id"], price=11)
        b.fail_next("*", r"/catalog/products.*", status=503, times=30)
        webhook(mug)  # store B failing: the record fails, its retry is pushed out
        sandbox.runtime.drain(max_batches=1)
        for folder in ("full_sync", "event_cleanup", "status_api"):
            for event_file in sorted((EVENTS / folder).glob("*.json")):
                sandbox.runtime.invoke(_function_for(folder), json.loads(event_file.read_text()))

    made = {action for _, action, _ in calls}
    # The paths above were all taken (a batch reads its entities' state at once; a deferral sends).
    assert {"dynamodb:BatchGetItem", "sqs:SendMessage", "sqs:ChangeMessageVisibility"} <= made
    assert {function for function, _, _ in calls} == set(sandbox.stack.functions)  # every one of them
    assert _not_granted(calls) == []


def _function_for(folder: str) -> str:
    return {
        "full_sync": "FullSyncFunction",
        "event_cleanup": "EventCleanupFunction",
        "status_api": "StatusApiFunction",
    }[folder]


def _not_granted(calls: set[Call]) -> list[Call]:
    packaged, _, _ = package_template(load_template(TEMPLATE), REPO, "artifacts")
    resources = transform_template(packaged)["Resources"]
    refused = []
    for function, action, target in sorted(calls):
        role_id = resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = [s for s in _statements(resources[role_id]) if s["Effect"] == "Allow"]
        if not any(_grants(s, action) and target in _referenced(s["Resource"]) for s in statements):
            refused.append((function, action, target))
    return refused
