"""template.yaml's CloudWatch dashboard, read as CloudWatch would, and evaluated over EMF documents.

The body is the template's own `DashboardBody` (`!Sub [body, variables]`): `${AWS::...}` pseudo
parameters and the variables are resolved to readable local names (a `!Ref` or `!GetAtt` becomes its
logical id), so a widget's `QueueName` is `SyncQueue` and a function's name its logical id.

Each widget's metrics are series specs: a plain metric (namespace, name, exact dimensions) or a
`SEARCH('{Namespace,dim,...} MetricName="X"', 'Stat', period)`, which CloudWatch answers with one series
per combination of those dimensions holding exactly that schema (here: one line per connection).
Points come from EMF documents, each dimension set of a document being its own series, as CloudWatch
stores them. Only the SEARCH form above is understood; anything else is refused, so a template change the
renderer cannot draw fails `make dashboard` and the tests instead of drawing something else.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog_sync_local.runtime.stack import load_template

LOCAL_PSEUDO = {"AWS::Region": "local", "AWS::StackName": "catalog-sync", "AWS::AccountId": "000000000000"}
_SEARCH = re.compile(
    r"""^SEARCH\('\{(?P<schema>[^}]+)\}\s+MetricName="(?P<name>[A-Za-z0-9_.-]+)"',\s*'(?P<stat>[A-Za-z0-9.]+)',"""
    r"""\s*(?P<period>\d+)\)$"""
)


@dataclass(frozen=True)
class SeriesSpec:
    namespace: str
    name: str
    stat: str
    dimensions: Mapping[str, str] = field(default_factory=dict)  # exact dimensions (plain metric)
    schema: tuple[str, ...] = ()  # dimension names of a SEARCH (one series per value combination)
    label: str = ""
    right_axis: bool = False

    @property
    def is_search(self) -> bool:
        return bool(self.schema)


@dataclass(frozen=True)
class Widget:
    title: str
    x: int
    y: int
    width: int
    height: int
    period_s: int
    series: tuple[SeriesSpec, ...]


@dataclass(frozen=True)
class Point:
    namespace: str
    name: str
    dimensions: Mapping[str, str]
    t_ms: int
    values: tuple[float, ...]


class DashboardError(ValueError):
    """The dashboard body uses something this reader does not understand."""


def dashboard_body(template: Mapping[str, Any]) -> dict[str, Any]:
    """The dashboard JSON of template.yaml, variables resolved to local names."""
    body, variables = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    names = {**LOCAL_PSEUDO, **{k: _local_name(v) for k, v in variables.items()}}

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in names:
            raise DashboardError(f"dashboard body uses ${{{key}}}, which the !Sub does not define")
        return names[key]

    document: dict[str, Any] = json.loads(re.sub(r"\$\{([^}]+)\}", substitute, body))
    return document


def _local_name(value: Any) -> str:
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else str(target).split(".")[0])
    if isinstance(value, str):
        return value
    raise DashboardError(f"cannot resolve dashboard variable {value!r}")


def widgets(template_path: Path) -> list[Widget]:
    return [_widget(w) for w in dashboard_body(load_template(template_path))["widgets"]]


def _widget(raw: Mapping[str, Any]) -> Widget:
    if raw.get("type") != "metric":
        raise DashboardError(f"widget type {raw.get('type')!r} is not drawn (only metric widgets)")
    props = raw["properties"]
    default_stat = str(props.get("stat", "Average"))
    series = tuple(_series(entry, default_stat) for entry in props["metrics"])
    return Widget(
        title=str(props.get("title", "")),
        x=int(raw["x"]),
        y=int(raw["y"]),
        width=int(raw["width"]),
        height=int(raw["height"]),
        period_s=int(props.get("period", 300)),
        series=series,
    )


def _series(entry: list[Any], default_stat: str) -> SeriesSpec:
    options = entry[-1] if entry and isinstance(entry[-1], dict) else {}
    right = options.get("yAxis") == "right"
    if "expression" in options:
        match = _SEARCH.match(str(options["expression"]).strip())
        if not match:
            raise DashboardError(f"unsupported expression {options['expression']!r}")
        namespace, *schema = [s.strip() for s in match["schema"].split(",")]
        return SeriesSpec(
            namespace, match["name"], match["stat"], schema=tuple(schema), label=options.get("label", "")
        )
    parts = [str(p) for p in entry if not isinstance(p, dict)]
    if len(parts) < 2 or len(parts) % 2:
        raise DashboardError(f"metric entry {entry!r} is not [namespace, name, dim, value, ...]")
    namespace, name, *pairs = parts
    return SeriesSpec(
        namespace,
        name,
        str(options.get("stat", default_stat)),
        dimensions=dict(zip(pairs[::2], pairs[1::2], strict=True)),
        label=str(options.get("label", name)),
        right_axis=right,
    )


# --- which metrics the dashboard and the alarms name -------------------------------------------------


def named_metrics(template: Mapping[str, Any], namespace: str) -> dict[str, set[str]]:
    """Metric names of `namespace` -> where they are used (widget titles, alarm logical ids)."""
    used: dict[str, set[str]] = {}
    for raw in dashboard_body(template)["widgets"]:
        widget = _widget(raw)
        for spec in widget.series:
            if spec.namespace == namespace:
                used.setdefault(spec.name, set()).add(f"widget {widget.title!r}")
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        props = resource["Properties"]
        metrics = [props] + [m["MetricStat"]["Metric"] for m in props.get("Metrics", []) if "MetricStat" in m]
        for metric in metrics:
            if metric.get("Namespace") == namespace:
                used.setdefault(str(metric["MetricName"]), set()).add(f"alarm {logical_id}")
    return used


# --- points from EMF documents -------------------------------------------------------------------------


def points(documents: Iterable[Mapping[str, Any]]) -> list[Point]:
    """Every (dimension set, metric) of every EMF document, as CloudWatch would store it."""
    found: list[Point] = []
    for document in documents:
        meta = document["_aws"]
        for directive in meta["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dims = {key: str(document[key]) for key in dimension_set}
                for metric in directive["Metrics"]:
                    raw = document.get(metric["Name"])
                    if raw is None:
                        continue
                    values = tuple(float(v) for v in (raw if isinstance(raw, list) else [raw]))
                    found.append(
                        Point(directive["Namespace"], metric["Name"], dims, int(meta["Timestamp"]), values)
                    )
    return found


def read_emf(path: Path) -> list[dict[str, Any]]:
    """The EMF documents among a file's lines (other output, e.g. log lines, is skipped)."""
    documents = []
    for line in path.read_text().splitlines():
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            if isinstance(document, dict) and "CloudWatchMetrics" in document.get("_aws", {}):
                documents.append(document)
    return documents


def evaluate(spec: SeriesSpec, data: Iterable[Point]) -> dict[str, list[Point]]:
    """The series a spec selects: label -> its points (a SEARCH gives one per dimension combination)."""
    selected: dict[str, list[Point]] = {}
    for point in data:
        if point.namespace != spec.namespace or point.name != spec.name:
            continue
        if spec.is_search:
            if set(point.dimensions) != set(spec.schema):
                continue
            varying = [point.dimensions[k] for k in spec.schema if k != "service"]
            label = f"{' '.join(varying)} {spec.name}".strip()
        else:
            if dict(point.dimensions) != dict(spec.dimensions):
                continue
            label = spec.label or spec.name
        selected.setdefault(label, []).append(point)
    return selected


def statistic(stat: str, values: list[float]) -> float:
    """CloudWatch's statistics over the samples of one period."""
    if not values:
        return math.nan
    if stat == "Sum":
        return sum(values)
    if stat == "Maximum":
        return max(values)
    if stat == "Minimum":
        return min(values)
    if stat == "Average":
        return sum(values) / len(values)
    if stat == "SampleCount":
        return float(len(values))
    if re.fullmatch(r"p\d+(\.\d+)?", stat):
        ordered = sorted(values)
        rank = math.ceil(float(stat[1:]) / 100 * len(ordered))
        return ordered[max(0, min(len(ordered) - 1, rank - 1))]
    raise DashboardError(f"statistic {stat!r} is not supported")
