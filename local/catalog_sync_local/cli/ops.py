"""Operations commands: `catalog-sync full-sync | replay | redrive | status | drift` (and `conflicts`,
in cli.conflicts).

Each runs against the stack `catalog-sync local start` is running (found through its stack file, see
`runtime.running_stack`: its moto server, resources and functions) or, with `--stack-name S [--profile P]`,
against a deployed stack whose resources are resolved from CloudFormation (logical id -> physical id), so
the commands never hard-code names. With neither, they say that no local stack is running and exit 2:
a fresh, empty stack would only report on itself.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from catalog_sync.jobs import FULL_SYNC_JOB, replay
from catalog_sync.store.events import EventRecord

if TYPE_CHECKING:
    from catalog_sync_local.runtime.local_runtime import LocalRuntime

REDRIVE_LIMIT = 10_000


def resolve_stack(session: Any, stack_name: str) -> dict[str, str]:
    """A deployed stack's resources, logical id -> physical id (queue URL, table or function name)."""
    cloudformation = session.client("cloudformation")
    resources: dict[str, str] = {}
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for summary in page["StackResourceSummaries"]:
            if summary.get("PhysicalResourceId"):
                resources[summary["LogicalResourceId"]] = summary["PhysicalResourceId"]
    return resources


NO_LOCAL_STACK = "no local stack is running (start one with: catalog-sync local start)"
LOCAL_POLL_S = 0.5  # how often a local full sync's progress and queues are read


class NoLocalStack(click.ClickException):
    exit_code = 2


class BadInput(click.ClickException):
    """A command that cannot do what it was asked (an unknown connection...): exit 2, as diff does."""

    exit_code = 2


@dataclass
class Ops:
    resources: Mapping[str, str]
    session: Any
    # The running local stack's functions, invoked in this process against its moto server; None for a
    # deployed stack (whose functions Lambda runs).
    runtime: LocalRuntime | None = None

    def client(self, service: str) -> Any:
        return self.session.client(service)

    def progress(self, connection: str) -> dict[str, Any] | None:
        from catalog_sync.store.progress import ProgressStore

        return ProgressStore(self.resources["SyncStateTable"], self.client("dynamodb")).get(
            connection, FULL_SYNC_JOB
        )

    def status(self, connection: str) -> dict[str, Any]:
        from catalog_sync.store.events import EventStore
        from catalog_sync.store.progress import ProgressStore
        from catalog_sync.store.state import StateStore
        from catalog_sync.sync_status import TableStatusSources, conflicts_summary, status_report

        dynamodb = self.client("dynamodb")
        sources = TableStatusSources(
            StateStore(self.resources["SyncStateTable"], dynamodb),
            EventStore(self.resources["EventsTable"], dynamodb),
            ProgressStore(self.resources["SyncStateTable"], dynamodb),
            now_ms=lambda: int(time.time() * 1000),
        )
        report = status_report(connection, sources, self.depth)
        # The stack's tables answered: now the connection (a two-way one's report counts open conflicts,
        # as GET /status/{connection} does).
        if self.connection(connection).two_way:
            report["conflicts"] = conflicts_summary(self.conflicts().list(connection))
        return report

    def conflicts(self) -> Any:
        """Two-way connections' conflicts (catalog_sync.store.conflicts) in the stack's SyncStateTable."""
        from catalog_sync.store.conflicts import ConflictStore

        return ConflictStore(self.resources["SyncStateTable"], self.client("dynamodb"))

    def connection(self, name: str) -> Any:
        """A connection from the stack's connections secret (a clear error for an unknown name)."""
        from catalog_sync.connections import ConnectionsDocument

        secret = self.client("secretsmanager").get_secret_value(SecretId=self.resources["ConnectionsSecret"])
        document = ConnectionsDocument.parse(json.loads(secret["SecretString"]))
        if name not in document.connections:
            known = ", ".join(sorted(document.connections)) or "none"
            raise BadInput(f"no connection '{name}' in the connections secret (known: {known})")
        return document.connections[name]

    def drift(self, name: str) -> dict[str, Any]:
        """Both sides of the connection compared entity by entity (catalog_sync.drift); writes nothing.
        A side that cannot be read (refused, unreachable) is BadInput: no comparison, no verdict."""
        from catalog_sync.connections import BigCommerceEndpoint, MedusaEndpoint, PixlpayEndpoint
        from catalog_sync.connectors.bigcommerce import BigCommerceClient
        from catalog_sync.connectors.medusa import MedusaClient
        from catalog_sync.connectors.pixlpay import PixlpayClient
        from catalog_sync.drift import bigcommerce_drift
        from catalog_sync.drift_medusa import medusa_drift
        from catalog_sync.errors import SyncError
        from catalog_sync.store.state import StateStore

        connection = self.connection(name)
        source, destination = connection.source, connection.destination
        try:
            if isinstance(source, BigCommerceEndpoint) and isinstance(destination, BigCommerceEndpoint):
                table = StateStore(self.resources["SyncStateTable"], self.client("dynamodb"))
                report = bigcommerce_drift(
                    name,
                    BigCommerceClient.for_endpoint(source),
                    BigCommerceClient.for_endpoint(destination),
                    table.iter_states(name),
                    channel_on_source=connection.channel_on_source,
                )
            elif isinstance(source, PixlpayEndpoint) and isinstance(destination, MedusaEndpoint):
                report = medusa_drift(
                    name,
                    PixlpayClient.for_endpoint(source),
                    MedusaClient.for_endpoint(destination),
                    brand=source.brand,
                )
            else:
                raise BadInput(
                    "drift compares BigCommerce -> BigCommerce and Pixlpay -> Medusa connections; "
                    f"'{name}' is {source.kind} -> {destination.kind}"
                )
        except SyncError as exc:  # the message names the request and status, never a credential
            raise BadInput(f"drift cannot read both sides of '{name}': {exc}") from None
        return report.as_dict()

    def depth(self, logical_id: str) -> int | None:
        url = self.resources.get(logical_id)
        if not url:
            return None
        attrs = self.client("sqs").get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def start_full_sync(self, connection: str, *, restart: bool) -> None:
        payload = {"connection": connection, "restart": restart}
        if self.runtime is not None:
            # The handler's logs go to stderr, as `local invoke` sends them: stdout is the command's.
            with contextlib.redirect_stdout(sys.stderr):
                self.runtime.invoke("FullSyncFunction", payload)
        else:
            self.client("lambda").invoke(
                FunctionName=self.resources["FullSyncFunction"],
                InvocationType="Event",
                Payload=json.dumps(payload).encode(),
            )

    def wait_for_queues(self, queues: tuple[str, ...], deadline: float) -> bool:
        """Wait (until the monotonic `deadline`) for the queues to be empty: the local stack's pollers
        are working through them."""
        while time.monotonic() < deadline:
            if all(not self.depth(q) for q in queues):
                return True
            time.sleep(LOCAL_POLL_S)
        return False

    def replay(self, connection: str, since_ms: int, until_ms: int) -> int:
        from catalog_sync.store.items import from_item, to_item
        from catalog_sync.store.queue import SyncQueue

        dynamodb = self.client("dynamodb")
        kwargs: dict[str, Any] = {
            "TableName": self.resources["EventsTable"],
            "KeyConditionExpression": "pk = :c",
            "FilterExpression": "received_at BETWEEN :a AND :b",
            "ExpressionAttributeValues": to_item({":c": connection, ":a": since_ms, ":b": until_ms}),
        }
        records: list[EventRecord] = []
        for _ in range(100_000):
            resp = dynamodb.query(**kwargs)
            records.extend(EventRecord.from_values(from_item(i)) for i in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return replay(records, SyncQueue(self.resources["SyncQueue"], self.client("sqs")))

    def redrive(self, *, dry_run: bool, limit: int = REDRIVE_LIMIT) -> list[dict[str, Any]]:
        """Move DLQ messages back to SyncQueue (without their error attributes); a dry run only lists them
        and makes them visible again at once."""
        sqs = self.client("sqs")
        dlq, target = self.resources["SyncDeadLetterQueue"], self.resources["SyncQueue"]
        moved: list[dict[str, Any]] = []
        seen: set[str] = set()
        held: list[str] = []
        for _ in range(limit):
            messages = sqs.receive_message(
                QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=60, MessageAttributeNames=["All"]
            ).get("Messages", [])
            fresh = [m for m in messages if m["MessageId"] not in seen]
            if not fresh:
                break
            for message in fresh:
                seen.add(message["MessageId"])
                attrs = message.get("MessageAttributes") or {}
                moved.append(
                    {
                        "message_id": message["MessageId"],
                        "body": message["Body"],
                        "error_code": attrs.get("error_code", {}).get("StringValue"),
                    }
                )
                if not dry_run:
                    sqs.send_message(QueueUrl=target, MessageBody=message["Body"])
                    sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
                held.append(message["ReceiptHandle"])
            if len(moved) >= limit:
                break
        if dry_run:  # listed while held invisible (each seen once); hand them all back now
            for receipt in held:
                sqs.change_message_visibility(QueueUrl=dlq, ReceiptHandle=receipt, VisibilityTimeout=0)
        return moved


@contextlib.contextmanager
def ops_target(profile: str | None, stack_name: str | None) -> Iterator[Ops]:
    """The deployed stack `stack_name`, or else the running local stack (NoLocalStack when none is)."""
    import boto3

    if stack_name:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            session = boto3.session.Session(profile_name=profile)
            resources = resolve_stack(session, stack_name)
        except (BotoCoreError, ClientError) as exc:  # no credentials, no region, no such stack...
            raise click.ClickException(f"cannot read stack '{stack_name}': {exc}") from None
        yield Ops(resources, session)
        return
    from catalog_sync_local.cli.local_extras import require_local_stack

    require_local_stack(otherwise="or pass --stack-name to reach a deployed stack")
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError

    from catalog_sync_local.runtime.aws_backend import applied
    from catalog_sync_local.runtime.local_runtime import LocalRuntime
    from catalog_sync_local.runtime.running_stack import find_running

    running = find_running()
    if running is None:
        raise NoLocalStack(NO_LOCAL_STACK)
    with applied(running.aws):
        runtime = LocalRuntime(running.stack, env_overrides=running.env_overrides)
        try:
            yield Ops(dict(running.stack.resources), boto3.session.Session(), runtime)
        except (BotoConnectionError, HTTPClientError):  # refused, reset, closed: it stopped meanwhile
            raise NoLocalStack(
                f"the local stack stopped answering at {running.aws.endpoint_url} (pid {running.pid})"
            ) from None


def _target_options(command: Any) -> Any:
    command = click.option("--stack-name", default=None, help="A deployed stack (default: the local stack).")(
        command
    )
    return click.option("--profile", default=None, help="AWS profile for --stack-name.")(command)


def _parse_time(value: str) -> int:
    moment = datetime.fromisoformat(value)
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)


@click.command(
    "full-sync",
    epilog="\b\nExample:\n  catalog-sync full-sync --connection store-a-to-b --stack-name catalog-sync-prod",
)
@click.option("--connection", required=True)
@click.option("--restart", is_flag=True, help="Start a new run even if one is in progress.")
@click.option("--wait", "wait_s", default=3600.0, show_default=True, help="Stop watching after this long.")
@_target_options
def full_sync_command(
    connection: str, restart: bool, wait_s: float, profile: str | None, stack_name: str | None
) -> None:
    """Start a full sync of CONNECTION and follow its progress record to the end."""
    from rich.progress import BarColumn, Progress, TextColumn

    with ops_target(profile, stack_name) as ops:
        ops.start_full_sync(connection, restart=restart)
        deadline = time.monotonic() + wait_s
        record: dict[str, Any] = {}
        with Progress(
            TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[detail]}")
        ) as bar:
            task = bar.add_task(f"full sync {connection}", total=None, detail="")
            while time.monotonic() < deadline:
                record = ops.progress(connection) or {}
                detail = (
                    f"pages {record.get('pages', 0)}  seen {record.get('seen', 0)}  "
                    f"changed {record.get('changed', 0)}  deleted {record.get('deleted', 0)}  "
                    f"errors {record.get('errors', 0)}"
                )
                bar.update(task, completed=record.get("pages", 0), detail=detail)
                if record.get("state") in ("done", "failed"):
                    bar.update(task, total=record.get("pages", 0))
                    break
                # Continuations run where the stack runs: in Lambda, or in `local start`'s pollers.
                time.sleep(5 if ops.runtime is None else LOCAL_POLL_S)
        if ops.runtime is not None:  # locally, return once what the run enqueued has synced
            ops.wait_for_queues(("FullSyncContinuationQueue", "SyncQueue"), deadline)
    click.echo(
        json.dumps(
            {
                "state": record.get("state"),
                **{k: record.get(k) for k in ("run_id", "pages", "seen", "changed", "deleted", "errors")},
            }
        )
    )


@click.command(
    "replay",
    epilog=(
        "\b\nExample:\n  catalog-sync replay --connection store-a-to-b --since "
        "2026-11-01T00:00:00Z --stack-name catalog-sync-prod"
    ),
)
@click.option("--connection", required=True)
@click.option("--since", required=True, help="ISO-8601 time (UTC when no offset).")
@click.option("--until", default=None, help="ISO-8601 time (default: now).")
@_target_options
def replay_command(
    connection: str, since: str, until: str | None, profile: str | None, stack_name: str | None
) -> None:
    """Re-enqueue the entities named by CONNECTION's stored events received between SINCE and UNTIL."""
    until_ms = _parse_time(until) if until else int(time.time() * 1000)
    with ops_target(profile, stack_name) as ops:
        count = ops.replay(connection, _parse_time(since), until_ms)
    click.echo(json.dumps({"replayed": count}))


@click.command(
    "redrive", epilog="\b\nExample:\n  catalog-sync redrive --dry-run --stack-name catalog-sync-prod"
)
@click.option("--dry-run", is_flag=True, help="List what would move; move nothing.")
@_target_options
def redrive_command(dry_run: bool, profile: str | None, stack_name: str | None) -> None:
    """Move SyncDeadLetterQueue's messages back to SyncQueue."""
    with ops_target(profile, stack_name) as ops:
        moved = ops.redrive(dry_run=dry_run)
    for message in moved:
        verb = "would move" if dry_run else "moved"
        click.echo(f"{verb} {message['message_id']} [{message['error_code']}] {message['body']}")
    click.echo(json.dumps({"dry_run": dry_run, "messages": len(moved)}))


@click.command(
    "status",
    epilog="\b\nExample:\n  catalog-sync status --connection store-a-to-b --stack-name catalog-sync-prod",
)
@click.option("--connection", required=True)
@_target_options
def status_command(connection: str, profile: str | None, stack_name: str | None) -> None:
    """What of CONNECTION is in sync and what is not (entities, failed deliveries), full sync progress,
    pull checkpoints and queue depths."""
    with ops_target(profile, stack_name) as ops:
        click.echo(json.dumps(ops.status(connection), indent=2, default=str))


@click.command("drift")
@click.option("--connection", required=True)
@_target_options
def drift_command(connection: str, profile: str | None, stack_name: str | None) -> None:
    """Compare CONNECTION's source and destination product by product and list what differs, writing
    nothing (BigCommerce -> BigCommerce and Pixlpay -> Medusa connections). Exits like diff: 0 when both
    sides agree, 1 when something drifted, 2 when they cannot be compared (an unknown connection, a side
    that refuses or does not answer).

    Example: catalog-sync drift --connection pixlpay-to-medusa"""
    with ops_target(profile, stack_name) as ops:
        report = ops.drift(connection)
    click.echo(json.dumps(report, indent=2, default=str))
    if not report["in_sync"]:
        sys.exit(1)


def register_ops(group: click.Group) -> None:
    from catalog_sync_local.cli.conflicts import conflicts_group

    for command in (
        full_sync_command,
        replay_command,
        redrive_command,
        status_command,
        drift_command,
        conflicts_group,
    ):
        group.add_command(command)
