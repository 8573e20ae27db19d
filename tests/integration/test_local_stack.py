"""deploy_local_stack: template.yaml deployed into moto is what the local runtime reads back.

Everything is created through moto's CloudFormation from the transformed template (the secret directly),
so these tests prove the local stack follows the template, including a modified copy of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from catalog_sync_local.runtime.stack import LocalStack, LocalStackError, deploy_local_stack, load_template

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
CONNECTIONS = REPO / "config" / "connections.local.yaml"
FUNCTIONS = {
    "WebhookReceiverFunction",
    "SyncConsumerFunction",
    "PullSyncFunction",
    "FullSyncFunction",
    "EventCleanupFunction",
    "StatusApiFunction",
}


FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def _moto() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        for key, value in FAKE_AWS.items():
            mp.setenv(key, value)
        for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
            mp.delenv(key, raising=False)
        with mock_aws():
            yield


@pytest.fixture
def aws() -> Iterator[None]:
    """A fresh moto backend for one test."""
    with _moto():
        yield


@pytest.fixture(scope="class")
def stack() -> Iterator[LocalStack]:
    """One stack from template.yaml, shared by the read-mostly tests of a class (deploys take ~1 s)."""
    with _moto():
        yield deploy_local_stack()


class TestTheDeployedTemplate:
    """Read back from moto: what template.yaml's own properties created."""

    def test_tables_are_created_with_their_keys_index_and_ttl(self, stack: LocalStack) -> None:
        ddb = boto3.client("dynamodb")
        for logical_id in ("EventsTable", "SyncStateTable"):
            name = stack.resources[logical_id]
            table = ddb.describe_table(TableName=name)["Table"]
            assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
            assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
            ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
            backups = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
            assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
        events = ddb.describe_table(TableName=stack.resources["EventsTable"])["Table"]
        assert [i["IndexName"] for i in events["GlobalSecondaryIndexes"]] == ["ByStatus"]

    def test_queues_are_created_with_the_redrive_to_the_dlq(self, stack: LocalStack) -> None:
        queue, dlq = stack.queues["SyncQueue"], stack.queues["SyncDeadLetterQueue"]
        assert (queue.dlq_arn, queue.max_receive_count) == (dlq.arn, 5)
        assert queue.visibility_timeout_s == 360
        assert queue.url == stack.resources["SyncQueue"]
        attrs = boto3.client("sqs").get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])[
            "Attributes"
        ]
        assert json.loads(attrs["RedrivePolicy"]) == {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 5}
        assert attrs["SqsManagedSseEnabled"] == "true"

    def test_redrive_really_moves_a_message_to_the_dlq_after_max_receives(self, stack: LocalStack) -> None:
        sqs = boto3.client("sqs")
        queue = stack.queues["SyncQueue"]
        sqs.send_message(QueueUrl=queue.url, MessageBody="poison")
        for _ in range(queue.max_receive_count or 0):
            [message] = sqs.receive_message(QueueUrl=queue.url, VisibilityTimeout=0)["Messages"]
            assert message["Body"] == "poison"
        assert "Messages" not in sqs.receive_message(QueueUrl=queue.url)
        [parked] = sqs.receive_message(QueueUrl=stack.queues["SyncDeadLetterQueue"].url)["Messages"]
        assert parked["Body"] == "poison"

    def test_connections_secret_holds_the_local_connections_document(self, stack: LocalStack) -> None:
        arn = stack.resources["ConnectionsSecret"]
        secret = boto3.client("secretsmanager").get_secret_value(SecretId=arn)
        assert secret["Name"] == "catalog-sync-local/connections"
        assert json.loads(secret["SecretString"]) == yaml.safe_load(CONNECTIONS.read_text())

    def test_functions_carry_the_template_environment_resolved_to_physical_names(
        self, stack: LocalStack
    ) -> None:
        assert set(stack.functions) == FUNCTIONS
        secret_arn = stack.resources["ConnectionsSecret"]
        for logical_id, fn in stack.functions.items():
            env = fn.environment
            assert env["EVENTS_TABLE_NAME"] == stack.resources["EventsTable"]
            assert env["STATE_TABLE_NAME"] == stack.resources["SyncStateTable"]
            assert env["SYNC_QUEUE_URL"] == stack.queues["SyncQueue"].url
            assert env["CONNECTIONS_SECRET_ID"] == secret_arn
            assert env["POWERTOOLS_SERVICE_NAME"] == "catalog-sync"
            assert env["STAGE"] == "dev"
            assert all(isinstance(v, str) and "Ref" not in v and "${" not in v for v in env.values()), (
                logical_id
            )
            assert fn.handler == "app.handler"
            assert (fn.code_dir / "app.py").is_file()
            assert fn.layer_dirs == (REPO / "layers" / "catalog_sync",)
            assert fn.function_name == stack.resources[logical_id]
        consumer = stack.functions["SyncConsumerFunction"]
        assert consumer.environment["SYNC_DLQ_URL"] == stack.queues["SyncDeadLetterQueue"].url
        assert stack.functions["EventCleanupFunction"].environment["STUCK_AFTER_SECONDS"] == "900"
        assert stack.functions["PullSyncFunction"].environment["PULL_OVERLAP_SECONDS"] == "300"
        assert stack.functions["FullSyncFunction"].environment["FULL_SYNC_PAGE_SIZE"] == "250"
        assert (consumer.timeout_s, consumer.memory_mb) == (60, 512)

    def test_routes_and_event_source_mappings_come_from_the_template(self, stack: LocalStack) -> None:
        receiver = stack.functions["WebhookReceiverFunction"]
        assert [(r.method, r.path) for r in receiver.http_routes] == [
            ("POST", "/webhooks/{connection}"),
            ("POST", "/webhooks/{connection}/destination"),
        ]
        [source] = stack.functions["SyncConsumerFunction"].sqs_sources
        assert source.queue_logical_id == "SyncQueue"
        assert source.queue_url == stack.queues["SyncQueue"].url
        assert (source.batch_size, source.batching_window_s) == (10, 2)
        assert source.report_batch_item_failures is True
        assert source.maximum_concurrency == 5
        others = [f for f in stack.functions.values() if f.logical_id != "SyncConsumerFunction"]
        assert not any(s.queue_logical_id == "SyncQueue" for f in others for s in f.sqs_sources)


def test_schedules_are_eventbridge_rules_disabled_unless_enabled(aws: None) -> None:
    default = deploy_local_stack(stack_name="schedules-off")
    enabled = deploy_local_stack(stack_name="schedules-on", parameter_overrides={"SchedulesEnabled": "true"})
    expected = {
        "PullSyncFunction": "rate(1 hour)",
        "FullSyncFunction": "cron(0 3 * * ? *)",
        "EventCleanupFunction": "rate(2 hours)",
    }
    for stack, state in ((default, False), (enabled, True)):
        schedules = {fid: f.schedules for fid, f in stack.functions.items() if f.schedules}
        assert {fid: [s.expression for s in specs] for fid, specs in schedules.items()} == {
            fid: [expr] for fid, expr in expected.items()
        }
        for [spec] in schedules.values():
            assert spec.enabled is state
            rule = boto3.client("events").describe_rule(Name=spec.rule_name)
            assert rule["State"] == ("ENABLED" if state else "DISABLED")


def test_parameter_overrides_reach_the_functions(aws: None) -> None:
    stack = deploy_local_stack(
        parameter_overrides={"Stage": "prod", "LogLevel": "DEBUG", "ConsumerMaxConcurrency": "7"}
    )
    consumer = stack.functions["SyncConsumerFunction"]
    assert consumer.environment["STAGE"] == "prod"
    assert consumer.environment["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert consumer.sqs_sources[0].maximum_concurrency == 7


def test_an_unknown_parameter_override_is_refused(aws: None) -> None:
    with pytest.raises(LocalStackError, match="NoSuchParameter"):
        deploy_local_stack(parameter_overrides={"NoSuchParameter": "1"})


def _modified_template(tmp_path: Path, change: Any) -> Path:
    """A copy of template.yaml in tmp_path (code paths kept pointing at the repo), changed by `change`."""
    template = load_template(TEMPLATE)
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = str(REPO / props[key])
    change(template)
    path = tmp_path / "template.yaml"
    path.write_text(json.dumps(template, indent=1))  # JSON is YAML: load_template reads it back
    return path


def test_a_change_to_the_template_is_what_the_local_stack_returns(aws: None, tmp_path: Path) -> None:
    def change(template: dict[str, Any]) -> None:
        consumer = template["Resources"]["SyncConsumerFunction"]["Properties"]
        consumer["Environment"]["Variables"]["CATALOG_SYNC_EXPERIMENT"] = "on"
        sqs_event = consumer["Events"]["SyncQueue"]["Properties"]
        sqs_event["BatchSize"] = 4
        sqs_event["MaximumBatchingWindowInSeconds"] = 0
        template["Resources"]["SyncQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"] = 3

    original = deploy_local_stack(stack_name="original")
    changed = deploy_local_stack(_modified_template(tmp_path, change), stack_name="changed")

    assert "CATALOG_SYNC_EXPERIMENT" not in original.functions["SyncConsumerFunction"].environment
    assert changed.functions["SyncConsumerFunction"].environment["CATALOG_SYNC_EXPERIMENT"] == "on"
    assert "CATALOG_SYNC_EXPERIMENT" not in changed.functions["WebhookReceiverFunction"].environment
    [before] = original.functions["SyncConsumerFunction"].sqs_sources
    [after] = changed.functions["SyncConsumerFunction"].sqs_sources
    assert (before.batch_size, before.batching_window_s) == (10, 2)
    assert (after.batch_size, after.batching_window_s) == (4, 0)
    assert changed.queues["SyncQueue"].max_receive_count == 3
    # ... and moto itself holds the changed values (they were not just copied from the template).
    mapping = boto3.client("lambda").list_event_source_mappings(
        FunctionName=changed.functions["SyncConsumerFunction"].function_name
    )["EventSourceMappings"]
    assert [m["BatchSize"] for m in mapping] == [4]
