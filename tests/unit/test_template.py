"""template.yaml: the contract names, the wiring ARCHITECTURE asks for, and least privilege.

Checks run on the template as written and on its SAM transform (aws-sam-translator, as deploy applies it),
so generated roles and event source mappings are checked too.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog_sync_local.runtime.stack import load_template, package_template, transform_template

REPO = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO / "template.yaml"

FUNCTIONS = {
    "WebhookReceiverFunction": "functions/webhook_receiver",
    "SyncConsumerFunction": "functions/sync_consumer",
    "PullSyncFunction": "functions/pull_sync",
    "FullSyncFunction": "functions/full_sync",
    "EventCleanupFunction": "functions/event_cleanup",
    "StatusApiFunction": "functions/status_api",
}
COMMON_ENV = {
    "STAGE",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_METRICS_DISABLED",
    "EVENTS_TABLE_NAME",
    "STATE_TABLE_NAME",
    "SYNC_QUEUE_URL",
    "CONNECTIONS_SECRET_ID",
    "EVENT_RETENTION_DAYS",
}
EXTRA_ENV = {
    "SyncConsumerFunction": {"SYNC_DLQ_URL", "RETRY_BACKOFF_BASE_SECONDS", "SYNC_LEASE_SECONDS"},
    "PullSyncFunction": {"PULL_OVERLAP_SECONDS"},
    "FullSyncFunction": {
        "FULL_SYNC_PAGE_SIZE",
        "FULL_SYNC_MIN_TIME_SECONDS",
        "FULL_SYNC_CONTINUATION_QUEUE_URL",
    },
    "EventCleanupFunction": {"STUCK_AFTER_SECONDS"},
    "StatusApiFunction": {"SYNC_DLQ_URL", "FULL_SYNC_CONTINUATION_QUEUE_URL"},
}
# AWS-managed policies a Lambda role may carry. Both use "Resource": "*" inside: CloudWatch Logs writes
# (the function's log group is named after the function, so scoping it would be circular) and X-Ray
# segments (X-Ray has no resource-level permissions). Notably NOT AWSLambdaSQSQueueExecutionRole, which
# would let the consumer receive/delete on every queue in the account.
ALLOWED_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}
# What each handler does to which resource (see catalog_sync.store.*): each must be granted. The calls
# the handlers really make are checked against the roles in tests/integration/test_iam_grants_every_call.py.
NEEDS = {
    "WebhookReceiverFunction": [
        ("dynamodb:PutItem", "EventsTable"),
        ("sqs:SendMessage", "SyncQueue"),
        ("secretsmanager:GetSecretValue", "ConnectionsSecret"),
    ],
    "SyncConsumerFunction": [
        ("sqs:ReceiveMessage", "SyncQueue"),
        ("sqs:DeleteMessage", "SyncQueue"),
        ("sqs:ChangeMessageVisibility", "SyncQueue"),
        ("sqs:SendMessage", "SyncDeadLetterQueue"),
        ("sqs:SendMessage", "SyncQueue"),  # deferrals
        ("dynamodb:UpdateItem", "EventsTable"),
        ("dynamodb:GetItem", "SyncStateTable"),
        ("dynamodb:BatchGetItem", "SyncStateTable"),  # covered requests
        ("dynamodb:PutItem", "SyncStateTable"),
        ("dynamodb:UpdateItem", "SyncStateTable"),
        ("secretsmanager:GetSecretValue", "ConnectionsSecret"),
    ],
    "PullSyncFunction": [
        ("dynamodb:GetItem", "SyncStateTable"),
        ("dynamodb:PutItem", "SyncStateTable"),
        ("dynamodb:Query", "SyncStateTable"),  # audit-mode snapshot
        ("dynamodb:BatchWriteItem", "SyncStateTable"),
        ("sqs:SendMessage", "SyncQueue"),
        ("secretsmanager:GetSecretValue", "ConnectionsSecret"),
    ],
    "FullSyncFunction": [
        ("dynamodb:GetItem", "SyncStateTable"),
        ("dynamodb:PutItem", "SyncStateTable"),
        ("dynamodb:Query", "SyncStateTable"),  # snapshots
        ("dynamodb:Scan", "SyncStateTable"),  # entities known at the destination
        ("dynamodb:BatchWriteItem", "SyncStateTable"),  # snapshot changes
        ("sqs:SendMessage", "SyncQueue"),
        ("sqs:SendMessage", "FullSyncContinuationQueue"),
        ("sqs:ReceiveMessage", "FullSyncContinuationQueue"),
        ("sqs:DeleteMessage", "FullSyncContinuationQueue"),
        ("secretsmanager:GetSecretValue", "ConnectionsSecret"),
    ],
    "EventCleanupFunction": [
        ("dynamodb:Query", "EventsTable"),
        ("dynamodb:DeleteItem", "EventsTable"),
        ("dynamodb:UpdateItem", "EventsTable"),
        ("sqs:SendMessage", "SyncQueue"),
    ],
    "StatusApiFunction": [
        ("dynamodb:GetItem", "SyncStateTable"),
        ("dynamodb:Scan", "SyncStateTable"),
        ("dynamodb:Query", "SyncStateTable"),  # a two-way connection's open conflicts
        ("dynamodb:Query", "EventsTable"),
        ("sqs:GetQueueAttributes", "SyncQueue"),
        ("sqs:GetQueueAttributes", "SyncDeadLetterQueue"),
        ("sqs:GetQueueAttributes", "FullSyncContinuationQueue"),
        ("secretsmanager:GetSecretValue", "ConnectionsSecret"),
    ],
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = template["Resources"]
    return result


@pytest.fixture(scope="module")
def transformed(template: dict[str, Any]) -> dict[str, Any]:
    packaged, _, _ = package_template(template, REPO, "artifacts")
    return transform_template(packaged)


def props(resources: dict[str, Any], logical_id: str) -> dict[str, Any]:
    result: dict[str, Any] = resources[logical_id]["Properties"]
    return result


def function_setting(template: dict[str, Any], logical_id: str, key: str) -> Any:
    own = props(template["Resources"], logical_id)
    return own[key] if key in own else template["Globals"]["Function"][key]


# --- contract names and shape -------------------------------------------------------------------------


def test_contract_logical_ids_exist_with_their_types(resources: dict[str, Any]) -> None:
    expected = {
        **dict.fromkeys(FUNCTIONS, "AWS::Serverless::Function"),
        "SyncQueue": "AWS::SQS::Queue",
        "SyncDeadLetterQueue": "AWS::SQS::Queue",
        "EventsTable": "AWS::DynamoDB::Table",
        "SyncStateTable": "AWS::DynamoDB::Table",
        "HttpApi": "AWS::Serverless::HttpApi",
        "CatalogSyncLayer": "AWS::Serverless::LayerVersion",
        "ConnectionsSecret": "AWS::SecretsManager::Secret",
        "AlarmTopic": "AWS::SNS::Topic",
    }
    assert {k: resources[k]["Type"] for k in expected if k in resources} == expected


def test_webhook_routes_are_post_webhooks_connection_and_its_destination_on_the_http_api(
    resources: dict[str, Any],
) -> None:
    events = props(resources, "WebhookReceiverFunction")["Events"]
    routes = [e["Properties"] for e in events.values() if e["Type"] == "HttpApi"]
    assert routes == [
        {"ApiId": {"Ref": "HttpApi"}, "Method": "POST", "Path": "/webhooks/{connection}"},
        {"ApiId": {"Ref": "HttpApi"}, "Method": "POST", "Path": "/webhooks/{connection}/destination"},
    ]


def test_functions_code_handler_runtime_and_layer(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    globals_ = template["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.12"
    assert globals_["Architectures"] == ["arm64"]
    assert globals_["Tracing"] == "Active"
    assert {"Ref": "CatalogSyncLayer"} in globals_["Layers"]
    for logical_id, code_dir in FUNCTIONS.items():
        fn = props(resources, logical_id)
        assert fn["CodeUri"].rstrip("/") == code_dir
        assert fn["Handler"] == "app.handler"
        assert (REPO / code_dir).is_dir()


def test_builds_need_no_docker_and_no_local_python312(resources: dict[str, Any]) -> None:
    makefile = (REPO / "functions" / "Makefile").read_text()
    for logical_id in FUNCTIONS:
        assert resources[logical_id]["Metadata"] == {"BuildMethod": "makefile", "ContextPath": "functions"}
        assert logical_id in makefile  # its build-<LogicalId> target
    layer = resources["CatalogSyncLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert props(resources, "CatalogSyncLayer")["ContentUri"].rstrip("/") == "layers/catalog_sync"
    layer_makefile = (REPO / "layers" / "catalog_sync" / "Makefile").read_text()
    assert "build-CatalogSyncLayer:" in layer_makefile
    for flag in ("--platform manylinux2014_aarch64", "--implementation cp", "--python-version 3.12"):
        assert flag in layer_makefile
    requirements = (REPO / "layers" / "catalog_sync" / "requirements.txt").read_text().lower()
    pinned = dict(re.findall(r"^([a-z0-9_.-]+)==(\S+)$", requirements, flags=re.MULTILINE))
    assert {"aws-lambda-powertools", "requests", "pydantic"} <= set(pinned)
    assert "boto3" not in pinned  # the Lambda runtime provides it


# --- queue, consumer, tables ---------------------------------------------------------------------------


def test_sync_queue_visibility_is_at_least_six_consumer_timeouts(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    consumer_timeout = function_setting(template, "SyncConsumerFunction", "Timeout")
    assert props(resources, "SyncQueue")["VisibilityTimeout"] >= 6 * consumer_timeout


def test_sync_queue_redrives_to_the_dead_letter_queue(resources: dict[str, Any]) -> None:
    queue = props(resources, "SyncQueue")
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["SyncDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }
    dlq = props(resources, "SyncDeadLetterQueue")
    assert dlq["MessageRetentionPeriod"] == 14 * 86_400
    assert queue["SqsManagedSseEnabled"] is True
    assert dlq["SqsManagedSseEnabled"] is True


def test_consumer_reports_partial_batch_failures_with_bounded_concurrency(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    [event] = props(resources, "SyncConsumerFunction")["Events"].values()
    assert event["Type"] == "SQS"
    sqs = event["Properties"]
    assert sqs["Queue"] == {"Fn::GetAtt": ["SyncQueue", "Arn"]}
    assert sqs["BatchSize"] == 10
    assert sqs["MaximumBatchingWindowInSeconds"] >= 1
    assert sqs["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert sqs["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "ConsumerMaxConcurrency"}
    parameter = template["Parameters"]["ConsumerMaxConcurrency"]
    assert (parameter["MinValue"], parameter["MaxValue"]) == (2, 1000)


@pytest.mark.parametrize("table", ["EventsTable", "SyncStateTable"])
def test_tables_have_ttl_pitr_sse_and_on_demand_billing(resources: dict[str, Any], table: str) -> None:
    p = props(resources, table)
    assert p["BillingMode"] == "PAY_PER_REQUEST"
    assert p["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert p["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert p["SSESpecification"] == {"SSEEnabled": True}
    assert p["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]


def test_events_table_has_the_by_status_index_the_sweeper_queries(resources: dict[str, Any]) -> None:
    p = props(resources, "EventsTable")
    [index] = p["GlobalSecondaryIndexes"]
    assert index == {
        "IndexName": "ByStatus",
        "KeySchema": [
            {"AttributeName": "status", "KeyType": "HASH"},
            {"AttributeName": "received_at", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
    types = {a["AttributeName"]: a["AttributeType"] for a in p["AttributeDefinitions"]}
    assert types == {"pk": "S", "sk": "S", "status": "S", "received_at": "N"}


@pytest.mark.parametrize(
    ("function", "expression", "switch"),
    [
        ("PullSyncFunction", "rate(1 hour)", "PullScheduleEnabled"),
        ("FullSyncFunction", "cron(0 3 * * ? *)", "FullSyncScheduleEnabled"),
        ("EventCleanupFunction", "rate(2 hours)", "CleanupScheduleEnabled"),
    ],
)
def test_schedules_follow_the_schedules_enabled_parameter_and_their_own_switch(
    template: dict[str, Any], resources: dict[str, Any], function: str, expression: str, switch: str
) -> None:
    [event] = [e for e in props(resources, function)["Events"].values() if e["Type"] == "Schedule"]
    assert event["Properties"]["Schedule"] == expression
    condition = event["Properties"]["State"]["Fn::If"][0]
    assert event["Properties"]["State"] == {"Fn::If": [condition, "ENABLED", "DISABLED"]}
    assert template["Conditions"][condition] == {
        "Fn::And": [{"Condition": "SchedulesOn"}, {"Fn::Equals": [{"Ref": switch}, "true"]}]
    }
    assert template["Conditions"]["SchedulesOn"] == {"Fn::Equals": [{"Ref": "SchedulesEnabled"}, "true"]}
    assert template["Parameters"][switch]["Default"] == "true"


def test_full_sync_continues_through_its_own_queue_one_message_at_a_time(
    resources: dict[str, Any],
) -> None:
    events = props(resources, "FullSyncFunction")["Events"]
    [sqs] = [e["Properties"] for e in events.values() if e["Type"] == "SQS"]
    assert sqs == {"Queue": {"Fn::GetAtt": ["FullSyncContinuationQueue", "Arn"]}, "BatchSize": 1}
    queue = props(resources, "FullSyncContinuationQueue")
    assert queue["VisibilityTimeout"] >= 6 * props(resources, "FullSyncFunction")["Timeout"]
    env = props(resources, "FullSyncFunction")["Environment"]["Variables"]
    assert env["FULL_SYNC_CONTINUATION_QUEUE_URL"] == {"Ref": "FullSyncContinuationQueue"}


# --- environment ---------------------------------------------------------------------------------------


def test_every_function_gets_the_environment_its_handler_reads(transformed: dict[str, Any]) -> None:
    for logical_id in FUNCTIONS:
        env = transformed["Resources"][logical_id]["Properties"]["Environment"]["Variables"]
        assert set(env) == COMMON_ENV | EXTRA_ENV.get(logical_id, set()), logical_id
        assert env["POWERTOOLS_SERVICE_NAME"] == "catalog-sync"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "CatalogSync"
        assert env["EVENTS_TABLE_NAME"] == {"Ref": "EventsTable"}
        assert env["STATE_TABLE_NAME"] == {"Ref": "SyncStateTable"}
        assert env["SYNC_QUEUE_URL"] == {"Ref": "SyncQueue"}
        assert env["CONNECTIONS_SECRET_ID"] == {"Ref": "ConnectionsSecret"}


def test_scheduled_job_settings_have_the_documented_defaults(template: dict[str, Any]) -> None:
    defaults = {name: spec.get("Default") for name, spec in template["Parameters"].items()}
    assert defaults["StuckAfterSeconds"] == 900
    assert defaults["PullOverlapSeconds"] == 300
    assert defaults["FullSyncPageSize"] == 250


# --- least privilege (on the transformed template: what deploy creates) ---------------------------------


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s for policy in role["Properties"].get("Policies", []) for s in policy["PolicyDocument"]["Statement"]
    ]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _referenced(node: Any) -> set[str]:
    """Logical ids and pseudo parameters a resource expression refers to (Ref, GetAtt, ${...} in Sub)."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= _referenced(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub":
                text, variables = (value, {}) if isinstance(value, str) else value
                names = {n.split(".")[0] for n in re.findall(r"\$\{([^}!]+)\}", text)}
                found |= names - set(variables)
                found |= _referenced(variables)
            else:
                found |= _referenced(value)
    return found


def _roles(transformed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in transformed["Resources"].items() if r["Type"] == "AWS::IAM::Role"}


def test_no_iam_statement_allows_every_resource_or_every_action(transformed: dict[str, Any]) -> None:
    roles = _roles(transformed)
    assert set(roles) == {f"{f}Role" for f in FUNCTIONS}
    assert not [k for k, r in transformed["Resources"].items() if r["Type"] in ("AWS::IAM::Policy",)]
    for logical_id, role in roles.items():
        for statement in _statements(role):
            for resource in _as_list(statement["Resource"]):
                assert resource != "*", f"{logical_id}: {statement}"
                assert not (isinstance(resource, str) and resource.endswith(":*")), (
                    f"{logical_id}: {statement}"
                )
            for action in _as_list(statement["Action"]):
                assert action != "*" and not action.endswith(":*"), f"{logical_id}: {statement}"


def test_every_iam_statement_names_this_stacks_own_resources(transformed: dict[str, Any]) -> None:
    own = set(transformed["Resources"]) | {"AWS::StackName"}
    for logical_id, role in _roles(transformed).items():
        for statement in _statements(role):
            for resource in _as_list(statement["Resource"]):
                assert _referenced(resource) & own, f"{logical_id}: {resource} is not scoped to the stack"


def _policy_statements(node: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    """Every IAM statement anywhere in the template (role policies, queue/topic policies, key policies)."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if isinstance(node.get("Statement"), list) and "Version" in node:
            found += [(where, s) for s in node["Statement"]]
        for key, value in node.items():
            found += _policy_statements(value, f"{where}.{key}")
    elif isinstance(node, list):
        for value in node:
            found += _policy_statements(value, where)
    return found


def test_a_wildcard_resource_appears_only_in_key_policies(transformed: dict[str, Any]) -> None:
    # In a key policy "Resource": "*" means the key itself.
    for logical_id, resource in transformed["Resources"].items():
        for where, statement in _policy_statements(resource.get("Properties", {}), logical_id):
            if "*" in _as_list(statement.get("Resource", [])):
                assert resource["Type"] == "AWS::KMS::Key" and ".KeyPolicy" in where, where


def test_storage_queues_and_topics_are_encrypted_at_rest(resources: dict[str, Any]) -> None:
    for logical_id, resource in resources.items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::DynamoDB::Table":
            assert properties["SSESpecification"] == {"SSEEnabled": True}, logical_id
        if resource["Type"] == "AWS::SQS::Queue":
            assert properties.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in properties, (
                logical_id
            )
        if resource["Type"] == "AWS::SNS::Topic":
            assert "KmsMasterKeyId" in properties, logical_id


def test_the_webhook_api_is_throttled(resources: dict[str, Any]) -> None:
    settings = props(resources, "HttpApi")["DefaultRouteSettings"]
    assert 0 < settings["ThrottlingRateLimit"] <= settings["ThrottlingBurstLimit"]


def test_roles_carry_only_the_allowed_aws_managed_policies(transformed: dict[str, Any]) -> None:
    for logical_id, role in _roles(transformed).items():
        arns = {
            a["Fn::Sub"].replace("${AWS::Partition}", "aws") if isinstance(a, dict) else a
            for a in role["Properties"].get("ManagedPolicyArns", [])
        }
        assert arns <= ALLOWED_MANAGED_POLICIES, logical_id


@pytest.mark.parametrize("function", list(NEEDS))
def test_each_function_is_granted_what_its_handler_does(transformed: dict[str, Any], function: str) -> None:
    resources = transformed["Resources"]
    role_id = resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = [s for s in _statements(resources[role_id]) if s["Effect"] == "Allow"]
    for action, target in NEEDS[function]:
        assert any(
            _grants(statement, action) and target in _referenced(statement["Resource"])
            for statement in statements
        ), f"{function} lacks {action} on {target}"


def _grants(statement: dict[str, Any], action: str) -> bool:
    return any(re.fullmatch(a.replace("*", ".*"), action) for a in _as_list(statement["Action"]))


def test_the_receiver_cannot_touch_sync_state(transformed: dict[str, Any]) -> None:
    role = transformed["Resources"]["WebhookReceiverFunctionRole"]
    referenced = set().union(*(_referenced(s["Resource"]) for s in _statements(role)))
    assert "SyncStateTable" not in referenced
    assert "SyncDeadLetterQueue" not in referenced


# --- operations ----------------------------------------------------------------------------------------


def test_dlq_alarm_notifies_an_encrypted_topic_that_cloudwatch_can_use(resources: dict[str, Any]) -> None:
    alarm = props(resources, "DeadLetterQueueAlarm")
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["SyncDeadLetterQueue", "QueueName"]}}
    ]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    # alias/aws/sns would silently drop alarm notifications: CloudWatch may not use that key.
    assert props(resources, "AlarmTopic")["KmsMasterKeyId"] == {"Ref": "AlarmTopicKey"}
    key_policy = props(resources, "AlarmTopicKey")["KeyPolicy"]["Statement"]
    assert any(s["Principal"] == {"Service": "cloudwatch.amazonaws.com"} for s in key_policy)


def _alarms(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def test_the_alarms_the_runbook_covers_exist(resources: dict[str, Any]) -> None:
    assert set(_alarms(resources)) == {
        "DeadLetterQueueAlarm",
        "SyncLagAlarm",
        "ConsumerErrorsAlarm",
        "ConsumerThrottlesAlarm",
        "ReceiverApi5xxAlarm",
        "ReceiverFunction5xxAlarm",
        "SyncFailureRateAlarm",
        "FullSyncOverdueAlarm",
        "DurationNearTimeoutAlarm",
        "OpenConflictsAlarm",
    }


def test_every_alarm_notifies_the_topic_and_says_what_to_do_first(resources: dict[str, Any]) -> None:
    runbook = (REPO / "README.md").read_text().split("## Runbook", 1)[1].split("\n## ", 1)[0]
    for logical_id, alarm in _alarms(resources).items():
        properties = alarm["Properties"]
        assert properties["AlarmActions"] == [{"Ref": "AlarmTopic"}], logical_id
        assert properties["OKActions"] == [{"Ref": "AlarmTopic"}], logical_id
        assert "First:" in properties["AlarmDescription"], logical_id
        assert "README Runbook" in properties["AlarmDescription"], logical_id
        assert f"`{logical_id}`" in runbook, f"README Runbook has no section for {logical_id}"


def test_alarm_thresholds_are_parameters_with_defaults(template: dict[str, Any]) -> None:
    fixed = {"DeadLetterQueueAlarm": 1, "FullSyncOverdueAlarm": 1}  # any message / no completion at all
    for logical_id, alarm in _alarms(template["Resources"]).items():
        threshold = alarm["Properties"]["Threshold"]
        if logical_id in fixed:
            assert threshold == fixed[logical_id]
            continue
        parameter = template["Parameters"][threshold["Ref"]]
        assert "Default" in parameter and parameter["Description"], logical_id


def _metric(properties: dict[str, Any]) -> tuple[str, str, Any]:
    [dimension] = properties["Dimensions"]
    return properties["Namespace"], properties["MetricName"], dimension["Value"]


def test_sync_lag_is_the_age_of_the_oldest_sync_queue_message(resources: dict[str, Any]) -> None:
    alarm = props(resources, "SyncLagAlarm")
    assert _metric(alarm) == (
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        {"Fn::GetAtt": ["SyncQueue", "QueueName"]},
    )
    assert alarm["Threshold"] == {"Ref": "SyncLagAlarmSeconds"}


def test_consumer_errors_throttles_and_receiver_5xx_are_watched(resources: dict[str, Any]) -> None:
    consumer = {"Ref": "SyncConsumerFunction"}
    assert _metric(props(resources, "ConsumerErrorsAlarm")) == ("AWS/Lambda", "Errors", consumer)
    assert _metric(props(resources, "ConsumerThrottlesAlarm")) == ("AWS/Lambda", "Throttles", consumer)
    assert _metric(props(resources, "ReceiverApi5xxAlarm")) == ("AWS/ApiGateway", "5xx", {"Ref": "HttpApi"})
    function = {m["Id"]: m for m in props(resources, "ReceiverFunction5xxAlarm")["Metrics"]}
    names = {m["MetricStat"]["Metric"]["MetricName"] for m in function.values() if "MetricStat" in m}
    assert names == {"Errors", "Webhook_unavailable", "Webhook_misconfigured", "Webhook_failed"}
    assert all(
        i in function["total"]["Expression"] for i in ("errors", "unavailable", "misconfigured", "failed")
    )


def test_the_failure_rate_counts_failed_and_dead_lettered_records(resources: dict[str, Any]) -> None:
    metrics = {m["Id"]: m for m in props(resources, "SyncFailureRateAlarm")["Metrics"]}
    assert {m["MetricStat"]["Metric"]["MetricName"] for m in metrics.values() if "MetricStat" in m} == {
        "Sync_records",
        "Sync_failed",
        "Sync_dead_lettered",
    }
    expression = metrics["rate"]["Expression"]["Fn::Sub"]
    assert "${SyncFailureMinRecords}" in expression and "/ records" in expression


def test_full_sync_overdue_alarms_when_no_run_completed_for_the_hours_asked(
    resources: dict[str, Any], template: dict[str, Any]
) -> None:
    alarm = resources["FullSyncOverdueAlarm"]
    properties = alarm["Properties"]
    assert alarm["Condition"] == "FullSyncScheduleOn"  # no schedule, no run to wait for
    assert (properties["Namespace"], properties["MetricName"]) == ("CatalogSync", "FullSync_completed")
    assert properties["Period"] == 3600
    assert properties["EvaluationPeriods"] == properties["DatapointsToAlarm"] == {"Ref": "FullSyncMaxHours"}
    assert (properties["ComparisonOperator"], properties["TreatMissingData"]) == (
        "LessThanThreshold",
        "breaching",
    )
    assert template["Parameters"]["FullSyncMaxHours"]["Default"] == 26
    # CloudWatch: Period x EvaluationPeriods <= 7 days for periods of an hour or more.
    assert template["Parameters"]["FullSyncMaxHours"]["MaxValue"] * 3600 <= 7 * 86400


def test_the_duration_alarm_divides_by_each_functions_own_timeout(template: dict[str, Any]) -> None:
    metrics = {m["Id"]: m for m in props(template["Resources"], "DurationNearTimeoutAlarm")["Metrics"]}
    expression = " ".join(metrics["worst"]["Expression"].split())
    functions = {
        i: m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"]
        for i, m in metrics.items()
        if "MetricStat" in m
    }
    assert set(functions.values()) == set(FUNCTIONS)
    for metric_id, function in functions.items():
        timeout_ms = function_setting(template, function, "Timeout") * 1000
        assert f"100 * FILL({metric_id}, 0) / {timeout_ms}" in expression, function


def test_dashboard_body_is_valid_json_with_the_metrics_asked_for(resources: dict[str, Any]) -> None:
    body, variables = props(resources, "Dashboard")["DashboardBody"]["Fn::Sub"]
    rendered = re.sub(r"\$\{([^}]+)\}", lambda m: f"<{m.group(1)}>", body)
    dashboard = json.loads(rendered)
    text = json.dumps(dashboard)
    for needle in (
        "CatalogSync",
        "Webhook",
        "Sync",
        "<QueueName>",
        "<DlqName>",
        "Errors",
        "Duration",
        "Throttles",
    ):
        assert needle in text
    used = set(re.findall(r"\$\{([^}:]+)\}", body))
    assert used == set(variables)


def test_outputs_name_the_api_queues_tables_and_secret(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    for name in (
        "ApiUrl",
        "WebhookUrl",
        "SyncQueueUrl",
        "SyncDeadLetterQueueUrl",
        "EventsTableName",
        "SyncStateTableName",
        "ConnectionsSecretArn",
        "DashboardUrl",
    ):
        assert name in outputs
    assert outputs["ConnectionsSecretArn"]["Value"] == {"Ref": "ConnectionsSecret"}


def test_the_connections_secret_starts_as_an_empty_document(resources: dict[str, Any]) -> None:
    assert json.loads(props(resources, "ConnectionsSecret")["SecretString"]) == {"connections": {}}


# --- samconfig.toml ------------------------------------------------------------------------------------


def _overrides(config: dict[str, Any], env: str) -> dict[str, str]:
    text = config[env]["deploy"]["parameters"]["parameter_overrides"]
    return {key: value for key, value in (pair.split("=", 1) for pair in shlex.split(text))}


def test_samconfig_environments_override_only_real_parameters_with_allowed_values(
    template: dict[str, Any],
) -> None:
    config = tomllib.loads((REPO / "samconfig.toml").read_text())
    parameters = template["Parameters"]
    for env in ("default", "prod"):
        deploy = config[env]["deploy"]["parameters"]
        assert "CAPABILITY_IAM" in deploy["capabilities"]
        assert deploy["resolve_s3"] is True
        for name, value in _overrides(config, env).items():
            spec = parameters[name]
            if "AllowedValues" in spec:
                assert value in [str(v) for v in spec["AllowedValues"]], (env, name, value)
            if spec["Type"] == "Number":
                assert (
                    spec.get("MinValue", float("-inf")) <= float(value) <= spec.get("MaxValue", float("inf"))
                )
    dev, prod = _overrides(config, "default"), _overrides(config, "prod")
    assert (dev["Stage"], prod["Stage"]) == ("dev", "prod")
    assert {"LogLevel", "SchedulesEnabled", "ConsumerMaxConcurrency"} <= {
        k for k in dev if dev[k] != prod.get(k)
    }
    assert config["prod"]["deploy"]["parameters"]["confirm_changeset"] is True
    assert (
        config["default"]["global"]["parameters"]["stack_name"]
        != config["prod"]["global"]["parameters"]["stack_name"]
    )


def test_the_entity_lease_outlasts_twice_every_function_that_takes_it(template: dict[str, Any]) -> None:
    """A worker can only write while it holds the entity's lease (entity_sync.fence renews it when less
    than half is left). With the lease at least twice the function's timeout, no invocation lives long
    enough to need a renewal, so a stalled worker can never lose its lease mid-write in Lambda."""
    from catalog_sync.entity_sync import DEFAULT_LEASE_S

    default_timeout = template["Globals"]["Function"]["Timeout"]
    takers = [
        logical_id
        for logical_id, path in FUNCTIONS.items()
        if re.search(r"SyncBatch|\.engine\(", (REPO / path / "app.py").read_text())
    ]
    assert takers == ["SyncConsumerFunction"]
    for logical_id in takers:
        properties = template["Resources"][logical_id]["Properties"]
        timeout = properties.get("Timeout", default_timeout)
        lease = int(properties["Environment"]["Variables"]["SYNC_LEASE_SECONDS"])
        assert timeout * 2 <= lease, f"{logical_id}: Timeout {timeout} s vs lease {lease} s"
        assert lease == DEFAULT_LEASE_S  # the engine's default when built without settings (tests)


def test_the_lease_setting_reaches_the_engine() -> None:
    from catalog_sync.connections import ConnectionsDocument
    from catalog_sync.services import Services
    from catalog_sync.settings import Settings

    document = ConnectionsDocument.parse(
        yaml.safe_load((REPO / "config" / "connections.local.yaml").read_text())
    )

    class Offline(Services):  # the connections document at hand; no AWS behind the state and audit
        state = None
        changes = None
        conflicts = None

        def _load_connections(self) -> ConnectionsDocument:
            return document

    env = {
        "EVENTS_TABLE_NAME": "events",
        "STATE_TABLE_NAME": "state",
        "SYNC_QUEUE_URL": "https://sqs.local/q",
        "CONNECTIONS_SECRET_ID": "connections",
        "SYNC_LEASE_SECONDS": "20",
    }
    services = Offline(Settings.from_env(env))
    one_way = services.engine("store-a-to-b", owner="worker-1", deadline=None)
    two_way = services.engine("store-c-and-d", owner="worker-1", deadline=None)

    assert (one_way.lease_s, two_way.lease_s) == (20.0, 20.0)


def test_open_conflicts_alarm_fires_on_two_hourly_counts_above_its_threshold(
    resources: dict[str, Any],
) -> None:
    alarm = props(resources, "OpenConflictsAlarm")
    assert _metric(alarm) == ("CatalogSync", "Conflicts_open", "catalog-sync")
    assert (alarm["Statistic"], alarm["Period"]) == ("Maximum", 3600)  # the connection with the most
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == 2
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "GreaterThanThreshold",
        {"Ref": "OpenConflictsThreshold"},
    )
    assert alarm["TreatMissingData"] == "notBreaching"  # no two-way connection, no count
