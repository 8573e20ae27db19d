"""Deploy template.yaml into moto and read the stack back: the local runtime's single source of truth.

What `sam deploy` does, done on one machine without Docker or AWS:

1. parse template.yaml and point every function's CodeUri / layer's ContentUri at an s3:// object, as
   `sam package` would (the object is a placeholder zip: moto stores functions as metadata only, the
   local runtime imports the handlers from their source directories);
2. transform the SAM template into plain CloudFormation with aws-sam-translator, exactly as the
   `AWS::Serverless-2016-10-31` transform does on deploy;
3. create what moto's CloudFormation cannot (AWS::SecretsManager::Secret) directly, substitute its ARN
   for every reference, drop what has no local counterpart (AWS::ApiGatewayV2::*: the local runtime
   serves the HTTP routes itself; CloudWatch alarms; SNS subscriptions; KMS keys), and `create_stack`
   the rest;
4. read functions, event source mappings, schedules and queue attributes back FROM MOTO, so what the
   local runtime uses is what the template's own properties created. Where moto keeps no data, the
   transformed template is the source, said so where it happens: table TTL and point-in-time recovery
   (applied through the API), function layers, HTTP routes;
5. disable moto's own SQS -> Lambda delivery: the local runtime polls the queues in process.

It assumes moto is active in the caller (`mock_aws()`, or boto3 pointed at a moto server through
AWS_ENDPOINT_URL) and only uses plain boto3 clients.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import yaml

REPO = Path(__file__).resolve().parents[3]
DEFAULT_TEMPLATE = REPO / "template.yaml"
DEFAULT_CONNECTIONS = REPO / "config" / "connections.local.yaml"

SERVERLESS_FUNCTION = "AWS::Serverless::Function"
SERVERLESS_LAYER = "AWS::Serverless::LayerVersion"
SECRET = "AWS::SecretsManager::Secret"  # noqa: S105 - a resource type, not a password
# Resource types left out of the local stack, other than the secret (created directly): moto's
# CloudFormation cannot create the HTTP API (the local runtime serves its routes, read from the template),
# alarms or subscriptions; and KMS keys have no local use while moto spends ~0.15 s generating an RSA key
# pair for each. When moto is importable, anything else its CloudFormation does not model is dropped too.
NOT_LOCAL_TYPES = frozenset(
    {
        "AWS::KMS::Key",
        "AWS::KMS::Alias",
        "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Stage",
        "AWS::ApiGatewayV2::Route",
        "AWS::ApiGatewayV2::Integration",
        "AWS::ApiGatewayV2::Authorizer",
        "AWS::ApiGatewayV2::DomainName",
        "AWS::ApiGatewayV2::ApiMapping",
        "AWS::CloudWatch::Alarm",
        "AWS::SNS::Subscription",
    }
)


class LocalStackError(RuntimeError):
    """The template cannot be deployed locally (bad override, unsupported shape, failed create)."""


@dataclass(frozen=True)
class SqsSource:
    queue_logical_id: str
    queue_url: str
    queue_arn: str
    batch_size: int
    batching_window_s: int
    report_batch_item_failures: bool
    maximum_concurrency: int | None


@dataclass(frozen=True)
class ScheduleSpec:
    rule_name: str
    expression: str
    enabled: bool


@dataclass(frozen=True)
class HttpRoute:
    method: str  # "POST", or "ANY"
    path: str  # "/webhooks/{connection}"
    authorizer: str | None = None  # "AWS_IAM": callers must sign with SigV4 (runtime/iam_auth.py)


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    function_name: str
    handler: str
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    environment: Mapping[str, str]
    timeout_s: int
    memory_mb: int
    http_routes: tuple[HttpRoute, ...]
    sqs_sources: tuple[SqsSource, ...]
    schedules: tuple[ScheduleSpec, ...]


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    url: str
    arn: str
    visibility_timeout_s: int
    dlq_arn: str | None
    max_receive_count: int | None


@dataclass(frozen=True)
class LocalStack:
    stack_name: str
    region: str
    functions: Mapping[str, FunctionSpec]
    queues: Mapping[str, QueueSpec]
    resources: Mapping[str, str]  # logical id -> physical id (table names, queue urls, secret arn, ...)


# --- template parsing and transform ----------------------------------------------------------------


class _CfnLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """yaml.SafeLoader that understands CloudFormation's short-form tags (!Ref, !Sub, !GetAtt ...)."""


def _cfn_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(template_path: Path) -> dict[str, Any]:
    """template.yaml as a dict, short-form intrinsics expanded (without touching yaml.SafeLoader)."""
    template = yaml.load(template_path.read_text(), Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass  # nosec B506
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise LocalStackError(f"{template_path} is not a CloudFormation/SAM template")
    return template


def transform_template(
    template: Mapping[str, Any],
    parameter_values: Mapping[str, Any] | None = None,
    *,
    region: str = "us-east-1",
) -> dict[str, Any]:
    """The SAM transform (aws-sam-translator), as CloudFormation applies it on deploy.

    Mirrors `samtranslator.translator.transform.transform`, with the region given explicitly (instead of
    read from the environment) and no managed-policy-name lookup (the template names managed policies
    by ARN only, so the transform never needs IAM). CodeUri / ContentUri must already be s3:// URIs
    (see `package_template`)."""
    from samtranslator.metrics.metrics import DummyMetricsPublisher, Metrics
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import (
        to_py27_compatible_template,
        undo_mark_unicode_str_in_template,
    )

    fragment = copy.deepcopy(dict(template))
    values = dict(parameter_values or {})
    to_py27_compatible_template(fragment, values)
    metrics = Metrics(metrics_publisher=DummyMetricsPublisher())
    session = boto3.session.Session(region_name=region)
    translator = Translator(None, Parser(), boto_session=session, metrics=metrics)
    translated = translator.translate(fragment, parameter_values=values, get_managed_policy_map=dict)
    metrics.publish()  # to the dummy publisher: the transform's usage metrics stay on this machine
    result: dict[str, Any] = undo_mark_unicode_str_in_template(translated)
    return result


def package_template(
    template: Mapping[str, Any], template_dir: Path, bucket: str
) -> tuple[dict[str, Any], dict[str, Path], dict[str, Path]]:
    """What `sam package` does: local code paths become s3:// URIs (one key per function or layer).

    Returns the packaged template, function logical id -> code dir, layer logical id -> content dir."""
    packaged = copy.deepcopy(dict(template))
    global_code = ((packaged.get("Globals") or {}).get("Function") or {}).get("CodeUri")
    code_dirs: dict[str, Path] = {}
    layer_dirs: dict[str, Path] = {}
    for logical_id, resource in packaged["Resources"].items():
        props = resource.setdefault("Properties", {})
        if resource.get("Type") == SERVERLESS_FUNCTION:
            uri = props.get("CodeUri", global_code)
            if not isinstance(uri, str) or uri.startswith("s3://"):
                raise LocalStackError(f"{logical_id}: CodeUri must be a local directory, not {uri!r}")
            code_dirs[logical_id] = _existing_dir(template_dir / uri, f"{logical_id} CodeUri")
            props["CodeUri"] = f"s3://{bucket}/functions/{logical_id}.zip"
        elif resource.get("Type") == SERVERLESS_LAYER:
            uri = props.get("ContentUri")
            if not isinstance(uri, str) or uri.startswith("s3://"):
                raise LocalStackError(f"{logical_id}: ContentUri must be a local directory, not {uri!r}")
            layer_dirs[logical_id] = _existing_dir(template_dir / uri, f"{logical_id} ContentUri")
            props["ContentUri"] = f"s3://{bucket}/layers/{logical_id}.zip"
    return packaged, code_dirs, layer_dirs


def _existing_dir(path: Path, what: str) -> Path:
    resolved = path.resolve()
    if not resolved.is_dir():
        raise LocalStackError(f"{what}: {resolved} is not a directory")
    return resolved


# --- deploy ------------------------------------------------------------------------------------------


def deploy_local_stack(
    template_path: Path = DEFAULT_TEMPLATE,
    *,
    connections_path: Path = DEFAULT_CONNECTIONS,
    parameter_overrides: Mapping[str, str] | None = None,
    stack_name: str = "catalog-sync-local",
    region: str = "us-east-1",
) -> LocalStack:
    """Create the template's stack in the active moto backend and describe it as the runtime needs."""
    template_path = Path(template_path).resolve()
    template = load_template(template_path)
    overrides = {k: str(v) for k, v in (parameter_overrides or {}).items()}
    parameters = template.get("Parameters") or {}
    unknown = sorted(set(overrides) - set(parameters))
    if unknown:
        raise LocalStackError(f"unknown template parameter(s): {', '.join(unknown)}")
    parameter_values = {
        name: overrides.get(name, str(spec.get("Default", "")))
        for name, spec in parameters.items()
        if name in overrides or "Default" in spec
    }

    clients = _Clients(region)
    bucket = _artifact_bucket(clients, stack_name)
    packaged, code_dirs, layer_content = package_template(template, template_path.parent, bucket)
    _upload_placeholders(
        clients,
        bucket,
        [f"functions/{i}.zip" for i in code_dirs] + [f"layers/{i}.zip" for i in layer_content],
    )
    transformed = transform_template(packaged, parameter_values, region=region)

    secrets = _create_secrets(clients, transformed, stack_name, connections_path)
    cfn_template = _local_cloudformation(transformed, secrets)
    clients.cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(cfn_template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(overrides.items())],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    stack = clients.cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise LocalStackError(
            f"local stack {stack_name}: {stack['StackStatus']} {stack.get('StackStatusReason')}"
        )

    summaries = _stack_resources(clients, stack_name)
    # moto leaves some physical ids empty (layer versions, permissions): nothing to look up there.
    resources = {
        s["LogicalResourceId"]: s["PhysicalResourceId"] for s in summaries if s["PhysicalResourceId"]
    }
    resources.update(secrets)
    types = {s["LogicalResourceId"]: s["ResourceType"] for s in summaries}

    _apply_table_settings(clients, cfn_template, resources)
    queues = _read_queues(clients, types, resources)
    layer_dirs_by_cfn_id = _layer_dirs(transformed, bucket, layer_content)
    own_mappings = {resources.get(i) for i, t in types.items() if t == "AWS::Lambda::EventSourceMapping"}
    mappings = [m for m in _event_source_mappings(clients) if m["UUID"] in own_mappings]
    functions = _read_functions(
        clients,
        mappings=mappings,
        template=template,
        transformed=transformed,
        types=types,
        resources=resources,
        code_dirs=code_dirs,
        layer_dirs=layer_dirs_by_cfn_id,
        queues=queues,
    )
    _stop_moto_pollers(clients, mappings)
    return LocalStack(
        stack_name=stack_name, region=region, functions=functions, queues=queues, resources=resources
    )


# Service models parsed once per process: moto's mock_aws() replaces boto3's default session each time
# it starts, which would re-read every service's JSON model on each deploy (~0.5 s).
_SHARED_LOADER = botocore.loaders.create_loader()


class _Clients:
    """Plain boto3 clients for one region, made on first use (moto intercepts them)."""

    def __init__(self, region: str) -> None:
        self.region = region
        core = botocore.session.get_session()  # a fresh session: credentials/endpoint from the environment
        core.register_component("data_loader", _SHARED_LOADER)
        self._session = boto3.session.Session(botocore_session=core, region_name=region)

    def _client(self, service: str) -> Any:
        return self._session.client(service)  # type: ignore[call-overload]

    @cached_property
    def cloudformation(self) -> Any:
        return self._client("cloudformation")

    @cached_property
    def s3(self) -> Any:
        return self._client("s3")

    @cached_property
    def secretsmanager(self) -> Any:
        return self._client("secretsmanager")

    @cached_property
    def dynamodb(self) -> Any:
        return self._client("dynamodb")

    @cached_property
    def sqs(self) -> Any:
        return self._client("sqs")

    @cached_property
    def awslambda(self) -> Any:
        return self._client("lambda")

    @cached_property
    def events(self) -> Any:
        return self._client("events")

    @cached_property
    def account_id(self) -> str:
        account: str = self._client("sts").get_caller_identity()["Account"]
        return account


def _artifact_bucket(clients: _Clients, stack_name: str) -> str:
    """The bucket `sam package` would upload to, holding one placeholder zip per function/layer key."""
    bucket = re.sub(r"[^a-z0-9-]", "-", f"{stack_name}-artifacts".lower())[:63].strip("-")
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if clients.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": clients.region}
    with contextlib.suppress(clients.s3.exceptions.BucketAlreadyOwnedByYou):
        clients.s3.create_bucket(**kwargs)
    return bucket


def _upload_placeholders(clients: _Clients, bucket: str, keys: list[str]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "README.txt", "code runs in process locally; see catalog_sync_local.runtime.local_runtime\n"
        )
    for key in keys:
        clients.s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())


def _create_secrets(
    clients: _Clients, transformed: Mapping[str, Any], stack_name: str, connections_path: Path
) -> dict[str, str]:
    """moto's CloudFormation has no AWS::SecretsManager::Secret: create each one directly.

    The connections secret (every secret, in fact: the template has one) gets config/connections.local.yaml
    as its JSON document, where a deployed stack gets the empty document the template declares."""
    secrets: dict[str, str] = {}
    document: str | None = None
    for logical_id, resource in transformed["Resources"].items():
        if resource.get("Type") != SECRET:
            continue
        if document is None:
            document = json.dumps(yaml.safe_load(Path(connections_path).read_text()))
        props = resource.get("Properties") or {}
        name = _resolve_pseudo(props.get("Name"), stack_name, clients.region, clients.account_id)
        name = name or f"{stack_name}/{logical_id}"
        try:
            arn = clients.secretsmanager.create_secret(
                Name=name, SecretString=document, Description=str(props.get("Description", ""))
            )["ARN"]
        except clients.secretsmanager.exceptions.ResourceExistsException:
            arn = clients.secretsmanager.put_secret_value(SecretId=name, SecretString=document)["ARN"]
        secrets[logical_id] = arn
    return secrets


def _resolve_pseudo(value: Any, stack_name: str, region: str, account_id: str) -> str | None:
    """A string, or an Fn::Sub over pseudo parameters only (e.g. "${AWS::StackName}/connections")."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        pseudo = {"AWS::StackName": stack_name, "AWS::Region": region, "AWS::AccountId": account_id}
        text: str = value["Fn::Sub"]
        return re.sub(r"\$\{([^}]+)\}", lambda m: pseudo.get(m.group(1), m.group(0)), text)
    return None


def _local_cloudformation(transformed: Mapping[str, Any], secrets: Mapping[str, str]) -> dict[str, Any]:
    """The transformed template minus what moto cannot create, with references to it substituted."""
    cfn = copy.deepcopy(dict(transformed))
    supported = _moto_supported_types()
    resources: dict[str, Any] = cfn["Resources"]
    dropped = {
        logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] == SECRET
        or resource["Type"] in NOT_LOCAL_TYPES
        or (supported is not None and resource["Type"] not in supported)
    }
    stand_ins = {logical_id: secrets.get(logical_id, f"local-{logical_id}") for logical_id in dropped}
    for logical_id in dropped:
        del resources[logical_id]
    for resource in resources.values():
        depends = resource.get("DependsOn")
        if isinstance(depends, str) and depends in dropped:
            del resource["DependsOn"]
        elif isinstance(depends, list):
            resource["DependsOn"] = [d for d in depends if d not in dropped]
    substituted: dict[str, Any] = _substitute(cfn, stand_ins)
    return substituted


def _moto_supported_types() -> frozenset[str] | None:
    """The resource types moto's CloudFormation models, when moto is importable (else None)."""
    try:
        from moto.cloudformation.parsing import get_model_map
    except ImportError:  # boto3 pointed at a moto server from an environment without moto installed
        return None
    return frozenset(get_model_map())


def _substitute(node: Any, stand_ins: Mapping[str, str]) -> Any:
    """Replace Ref / GetAtt / ${Name} of dropped resources by their stand-in values."""
    if isinstance(node, list):
        return [_substitute(item, stand_ins) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, value),) = node.items()
        if key == "Ref" and isinstance(value, str) and value in stand_ins:
            return stand_ins[value]
        if key == "Fn::GetAtt" and isinstance(value, list) and value and value[0] in stand_ins:
            return stand_ins[value[0]]
        if key == "Fn::Sub":
            return {key: _substitute_sub(value, stand_ins)}
    return {key: _substitute(value, stand_ins) for key, value in node.items()}


def _substitute_sub(value: Any, stand_ins: Mapping[str, str]) -> Any:
    def replace(text: str, local_names: set[str]) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1).split(".", 1)[0]
            if name in stand_ins and name not in local_names:
                return stand_ins[name]
            return match.group(0)

        return re.sub(r"\$\{([^}!][^}]*)\}", one, text)

    if isinstance(value, str):
        return replace(value, set())
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
        variables = value[1] if isinstance(value[1], dict) else {}
        return [replace(value[0], set(variables)), _substitute(variables, stand_ins)]
    return _substitute(value, stand_ins)


def _stack_resources(clients: _Clients, stack_name: str) -> list[dict[str, Any]]:
    summaries: list[dict[str, Any]] = []
    for page in clients.cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        summaries.extend(page["StackResourceSummaries"])
    return summaries


# --- read back -----------------------------------------------------------------------------------------


def _apply_table_settings(clients: _Clients, cfn: Mapping[str, Any], resources: Mapping[str, str]) -> None:
    """moto's CloudFormation ignores a table's TimeToLiveSpecification and PointInTimeRecoverySpecification
    (moto 5.2.5), so they are applied here, from the template's own properties, through the API."""
    for logical_id, resource in cfn["Resources"].items():
        if resource["Type"] != "AWS::DynamoDB::Table" or logical_id not in resources:
            continue
        props = resource.get("Properties") or {}
        table = resources[logical_id]
        ttl = props.get("TimeToLiveSpecification") or {}
        if ttl.get("Enabled") in (True, "true") and ttl.get("AttributeName"):
            clients.dynamodb.update_time_to_live(
                TableName=table,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        pitr = props.get("PointInTimeRecoverySpecification") or {}
        if pitr.get("PointInTimeRecoveryEnabled") in (True, "true"):
            clients.dynamodb.update_continuous_backups(
                TableName=table,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )


def _read_queues(
    clients: _Clients, types: Mapping[str, str], resources: Mapping[str, str]
) -> dict[str, QueueSpec]:
    queues: dict[str, QueueSpec] = {}
    for logical_id, resource_type in types.items():
        if resource_type != "AWS::SQS::Queue":
            continue
        url = resources[logical_id]
        attrs = clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        redrive = json.loads(attrs["RedrivePolicy"]) if attrs.get("RedrivePolicy") else {}
        queues[logical_id] = QueueSpec(
            logical_id=logical_id,
            url=url,
            arn=attrs["QueueArn"],
            visibility_timeout_s=int(attrs.get("VisibilityTimeout", 30)),
            dlq_arn=redrive.get("deadLetterTargetArn"),
            max_receive_count=int(redrive["maxReceiveCount"]) if "maxReceiveCount" in redrive else None,
        )
    return queues


def _layer_dirs(
    transformed: Mapping[str, Any], bucket: str, layer_content: Mapping[str, Path]
) -> dict[str, Path]:
    """Transformed layer logical ids (SAM appends a content hash) -> the layer's local directory."""
    dirs: dict[str, Path] = {}
    for logical_id, resource in transformed["Resources"].items():
        if resource["Type"] != "AWS::Lambda::LayerVersion":
            continue
        content = (resource.get("Properties") or {}).get("Content") or {}
        key = content.get("S3Key", "") if content.get("S3Bucket") == bucket else ""
        source_id = key.removeprefix("layers/").removesuffix(".zip")
        if source_id in layer_content:
            dirs[logical_id] = layer_content[source_id]
    return dirs


def _read_functions(
    clients: _Clients,
    *,
    mappings: list[dict[str, Any]],
    template: Mapping[str, Any],
    transformed: Mapping[str, Any],
    types: Mapping[str, str],
    resources: Mapping[str, str],
    code_dirs: Mapping[str, Path],
    layer_dirs: Mapping[str, Path],
    queues: Mapping[str, QueueSpec],
) -> dict[str, FunctionSpec]:
    queue_by_arn = {q.arn: q for q in queues.values()}
    schedules = _schedules(clients, types, resources)
    functions: dict[str, FunctionSpec] = {}
    for logical_id, code_dir in code_dirs.items():
        name = resources[logical_id]
        config = clients.awslambda.get_function_configuration(FunctionName=name)
        arn = config["FunctionArn"]
        environment = {k: str(v) for k, v in (config.get("Environment") or {}).get("Variables", {}).items()}
        sqs_sources = tuple(
            _sqs_source(mapping, queue_by_arn)
            for mapping in mappings
            if mapping.get("FunctionArn") == arn and mapping.get("EventSourceArn") in queue_by_arn
        )
        functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            function_name=name,
            handler=config["Handler"],
            code_dir=code_dir,
            # moto does not keep a CloudFormation function's Layers: taken from the transformed template.
            layer_dirs=_function_layers(transformed["Resources"][logical_id], layer_dirs),
            environment=environment,
            timeout_s=int(config.get("Timeout", 3)),
            memory_mb=int(config.get("MemorySize", 128)),
            # The HTTP API is not created in moto: routes come from the template's HttpApi events.
            http_routes=_http_routes(template["Resources"][logical_id]),
            sqs_sources=tuple(sorted(sqs_sources, key=lambda s: s.queue_logical_id)),
            schedules=tuple(sorted(schedules.get(arn, []), key=lambda s: s.rule_name)),
        )
    return functions


def _event_source_mappings(clients: _Clients) -> list[dict[str, Any]]:
    mappings: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = clients.awslambda.list_event_source_mappings(**kwargs)
        mappings.extend(page.get("EventSourceMappings", []))
        if not page.get("NextMarker"):
            return mappings
        kwargs["Marker"] = page["NextMarker"]


def _stop_moto_pollers(clients: _Clients, mappings: list[dict[str, Any]]) -> None:
    """Disable moto's own SQS -> Lambda delivery (the mappings stay, readable, as metadata).

    An enabled mapping makes moto receive from the queue on every SendMessage and run the function in
    Docker; without Docker that fails after a delay, and the receive still counts towards the redrive
    limit. The local runtime polls the queues itself, in process, with the mappings' settings."""
    for mapping in mappings:
        clients.awslambda.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)


def _sqs_source(mapping: Mapping[str, Any], queue_by_arn: Mapping[str, QueueSpec]) -> SqsSource:
    queue = queue_by_arn[mapping["EventSourceArn"]]
    concurrency = (mapping.get("ScalingConfig") or {}).get("MaximumConcurrency")
    return SqsSource(
        queue_logical_id=queue.logical_id,
        queue_url=queue.url,
        queue_arn=queue.arn,
        batch_size=int(mapping.get("BatchSize", 10)),
        batching_window_s=int(mapping.get("MaximumBatchingWindowInSeconds", 0)),
        report_batch_item_failures="ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or []),
        maximum_concurrency=int(concurrency) if concurrency is not None else None,
    )


def _schedules(
    clients: _Clients, types: Mapping[str, str], resources: Mapping[str, str]
) -> dict[str, list[ScheduleSpec]]:
    """Function ARN -> its schedule rules, as EventBridge (moto) holds them."""
    by_function: dict[str, list[ScheduleSpec]] = {}
    for logical_id, resource_type in types.items():
        if resource_type != "AWS::Events::Rule":
            continue
        rule = clients.events.describe_rule(Name=resources[logical_id])
        expression = rule.get("ScheduleExpression")
        if not expression:
            continue  # an event-pattern rule, not a schedule
        spec = ScheduleSpec(
            rule_name=rule["Name"], expression=expression, enabled=rule.get("State") == "ENABLED"
        )
        for target in clients.events.list_targets_by_rule(Rule=rule["Name"]).get("Targets", []):
            by_function.setdefault(target["Arn"], []).append(spec)
    return by_function


def _function_layers(resource: Mapping[str, Any], layer_dirs: Mapping[str, Path]) -> tuple[Path, ...]:
    layers = (resource.get("Properties") or {}).get("Layers") or []
    found = []
    for layer in layers:
        ref = layer.get("Ref") if isinstance(layer, dict) else None
        if isinstance(ref, str) and ref in layer_dirs:
            found.append(layer_dirs[ref])
    return tuple(found)


def _http_routes(resource: Mapping[str, Any]) -> tuple[HttpRoute, ...]:
    events = (resource.get("Properties") or {}).get("Events") or {}
    routes = []
    for event in events.values():
        if event.get("Type") not in ("HttpApi", "Api"):
            continue
        props = event.get("Properties") or {}
        method = str(props.get("Method", "ANY")).upper()
        if method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
            method = "ANY"
        authorizer = (props.get("Auth") or {}).get("Authorizer")
        routes.append(
            HttpRoute(
                method=method,
                path=str(props.get("Path", "/{proxy+}")),
                authorizer=str(authorizer) if authorizer and authorizer != "NONE" else None,
            )
        )
    return tuple(routes)
