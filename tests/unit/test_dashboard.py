"""The dashboard and the alarms watch what the code emits, and the code emits nothing unwatched.

"Emitted" is read from the code itself: the metric names written in the handlers and the layer (a name
outside connection_metrics.CATALOG is refused at run time), plus the families the handlers build from
a typed outcome, `Sync_<OutcomeAction>` (and `Sync_dead_lettered`, `Sync_deferred`) and
`Webhook_<Receipt.status>`.
`make dashboard` draws template.yaml's dashboard from a local run's EMF; the README shows the picture.
"""

from __future__ import annotations

import ast
import copy
import typing
from pathlib import Path
from typing import Any, get_args

import pytest

from catalog_sync.connection_metrics import CATALOG
from catalog_sync.entity_sync import OutcomeAction
from catalog_sync.ingest import Receipt
from catalog_sync_local.dashboard.render import render
from catalog_sync_local.dashboard.template_dashboard import named_metrics, points, read_emf, widgets
from catalog_sync_local.runtime.stack import load_template

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
LOCAL_RUN = REPO / "docs" / "dashboard-metrics.jsonl"
PICTURE = REPO / "docs" / "dashboard.png"
NAMESPACE = "CatalogSync"
CODE = [*sorted((REPO / "functions").glob("*/app.py")), *sorted((REPO / "layers").rglob("*.py"))]
# f"<prefix>{x}" in the code -> the values x can take (a Literal type of the domain).
FAMILIES = {
    "Sync_": {*get_args(OutcomeAction), "dead_lettered", "deferred"},
    "Webhook_": set(get_args(typing.get_type_hints(Receipt)["status"])),
}


def emitted_by_code() -> set[str]:
    names: set[str] = set()
    for path in CODE:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if _is_catalog_definition(node):
                for child in ast.walk(node):
                    child._skip = True  # type: ignore[attr-defined]
        for node in ast.walk(tree):
            if getattr(node, "_skip", False):
                continue
            if isinstance(node, ast.Constant) and node.value in CATALOG:
                names.add(node.value)
            if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                prefix = node.values[0].value
                names |= {f"{prefix}{value}" for value in FAMILIES.get(str(prefix), ())}
    return names


def _is_catalog_definition(node: ast.AST) -> bool:
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return isinstance(node, ast.Assign | ast.AnnAssign) and any(
        isinstance(t, ast.Name) and t.id == "CATALOG" for t in targets
    )


def unemitted_metrics(template: dict[str, Any]) -> dict[str, set[str]]:
    """Service metrics a widget or an alarm names that the code never emits -> where they are named."""
    emitted = emitted_by_code()
    return {name: where for name, where in named_metrics(template, NAMESPACE).items() if name not in emitted}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


def test_every_metric_a_widget_or_an_alarm_names_is_emitted_by_the_code(template: dict[str, Any]) -> None:
    assert unemitted_metrics(template) == {}


def test_a_widget_naming_a_metric_the_code_never_emits_fails_the_check(template: dict[str, Any]) -> None:
    changed = copy.deepcopy(template)
    body, variables = changed["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widget = (
        '{"type": "metric", "x": 0, "y": 30, "width": 6, "height": 6, "properties": {"title": "typo", '
        '"region": "${AWS::Region}", "metrics": [[{"expression": '
        "\"SEARCH('{CatalogSync,connection,service} MetricName=\\\"Sync_craeted\\\"', 'Sum', 300)\", "
        '"id": "t"}]]}}'
    )
    changed["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"] = [
        body.replace('"widgets": [', '"widgets": [' + widget + ",", 1),
        variables,
    ]
    assert set(unemitted_metrics(changed)) == {"Sync_craeted"}


def test_an_alarm_on_a_metric_the_code_never_emits_fails_the_check(template: dict[str, Any]) -> None:
    changed = copy.deepcopy(template)
    alarm = copy.deepcopy(changed["Resources"]["FullSyncOverdueAlarm"])
    alarm["Properties"]["MetricName"] = "FullSync_done"
    changed["Resources"]["TypoAlarm"] = alarm
    assert unemitted_metrics(changed) == {"FullSync_done": {"alarm TypoAlarm"}}


def test_the_catalog_is_exactly_what_the_code_emits() -> None:
    assert emitted_by_code() == set(CATALOG)


def test_every_emitted_metric_is_watched_or_says_why_not(template: dict[str, Any]) -> None:
    watched = named_metrics(template, NAMESPACE)
    unexplained = [n for n in emitted_by_code() if n not in watched and not CATALOG[n].unwatched_because]
    assert unexplained == []


def test_every_sync_and_webhook_metric_of_the_local_run_names_its_connection() -> None:
    documents = read_emf(LOCAL_RUN)
    ours = [d for d in documents if d["_aws"]["CloudWatchMetrics"][0]["Namespace"] == NAMESPACE]
    assert ours, "make dashboard records the handlers' metrics"
    connections = set()
    for document in ours:
        [directive] = document["_aws"]["CloudWatchMetrics"]
        names = {m["Name"] for m in directive["Metrics"]}
        assert names <= set(CATALOG)
        if any(n.startswith(("Sync_", "Webhook_", "Destination_")) for n in names):
            assert directive["Dimensions"] == [["connection", "service"], ["service"]]
            connections.add(document["connection"])
    assert connections == {"store-a-to-b", "pixlpay-to-medusa"}


def test_the_widgets_tile_the_24_column_grid_without_overlapping() -> None:
    layout = widgets(TEMPLATE)
    cells: set[tuple[int, int]] = set()
    for widget in layout:
        assert widget.x + widget.width <= 24, widget.title
        own = {
            (x, y)
            for x in range(widget.x, widget.x + widget.width)
            for y in range(widget.y, widget.y + widget.height)
        }
        assert not own & cells, widget.title
        cells |= own


def test_make_dashboard_draws_every_widget_from_the_local_run(tmp_path: Path) -> None:
    out = tmp_path / "dashboard.png"

    empty = render(TEMPLATE, LOCAL_RUN, out)

    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    drawn = {p.name for p in points(read_emf(LOCAL_RUN))}
    for core in (
        "Webhook_accepted",
        "Sync_records",
        "Sync_lag",
        "Destination_requests",
        "FullSync_completed",
    ):
        assert core in drawn
        assert not [e for e in empty if e.endswith(f": {core}")]


def test_the_readme_shows_the_committed_dashboard_picture() -> None:
    assert PICTURE.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "](docs/dashboard.png)" in (REPO / "README.md").read_text()
