"""The local scheduler fires the template's EventBridge schedules when AWS would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from catalog_sync_local.runtime.scheduler import Scheduler, UnsupportedSchedule, next_fire
from catalog_sync_local.runtime.stack import FunctionSpec, LocalStack, ScheduleSpec

T0 = datetime(2026, 11, 23, 9, 30, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(5 minutes)", timedelta(minutes=5)),
        ("rate(1 hour)", timedelta(hours=1)),  # PullSyncFunction
        ("rate(2 hours)", timedelta(hours=2)),  # EventCleanupFunction
        ("rate(1 day)", timedelta(days=1)),
    ],
)
def test_a_rate_fires_that_long_after_the_last_time(expression: str, after: timedelta) -> None:
    assert next_fire(expression, T0) == T0 + after


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (T0, datetime(2026, 11, 24, 3, 0, tzinfo=UTC)),  # after 03:00: tomorrow
        (datetime(2026, 11, 23, 2, 59, 59, tzinfo=UTC), datetime(2026, 11, 23, 3, 0, tzinfo=UTC)),
        (
            datetime(2026, 11, 23, 3, 0, tzinfo=UTC),
            datetime(2026, 11, 24, 3, 0, tzinfo=UTC),
        ),  # strictly after
        (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), datetime(2027, 1, 1, 3, 0, tzinfo=UTC)),
    ],
)
def test_the_templates_daily_cron_fires_at_three_utc(now: datetime, expected: datetime) -> None:
    assert next_fire("cron(0 3 * * ? *)", now) == expected  # FullSyncFunction


def test_an_hourly_cron_fires_at_its_minute() -> None:
    assert next_fire("cron(15 * * * ? *)", T0) == datetime(2026, 11, 23, 10, 15, tzinfo=UTC)


@pytest.mark.parametrize("expression", ["cron(0 3 ? * MON *)", "rate(0.5 hours)", "at(2026-11-23T10:00:00)"])
def test_an_expression_it_does_not_understand_is_refused_not_guessed(expression: str) -> None:
    with pytest.raises(UnsupportedSchedule, match="does not understand"):
        next_fire(expression, T0)


class _Runtime:
    def __init__(self) -> None:
        self.fired: list[str] = []

    def fire_schedule(self, logical_id: str) -> Any:
        self.fired.append(logical_id)
        return {}


def _function(logical_id: str, expression: str, *, enabled: bool = True) -> FunctionSpec:
    return FunctionSpec(
        logical_id=logical_id,
        function_name=logical_id,
        handler="app.handler",
        code_dir=Path("."),
        layer_dirs=(),
        environment={},
        timeout_s=3,
        memory_mb=128,
        http_routes=(),
        sqs_sources=(),
        schedules=(ScheduleSpec(f"{logical_id}-rule", expression, enabled),),
    )


def test_due_fires_each_enabled_schedule_when_its_time_comes_then_reschedules_it() -> None:
    functions = [
        _function("PullSyncFunction", "rate(1 hour)"),
        _function("EventCleanupFunction", "rate(2 hours)"),
        _function("Disabled", "rate(1 minute)", enabled=False),
    ]
    stack = LocalStack("s", "us-east-1", {f.logical_id: f for f in functions}, {}, {})
    now = [T0.timestamp()]
    runtime = _Runtime()
    scheduler = Scheduler(runtime, stack, clock=lambda: now[0])  # type: ignore[arg-type]

    fired = []
    for minutes in (30, 60, 90, 120, 180):
        now[0] = (T0 + timedelta(minutes=minutes)).timestamp()
        fired.append(scheduler.due())

    assert fired == [
        [],
        ["PullSyncFunction"],
        [],
        ["EventCleanupFunction", "PullSyncFunction"],
        ["PullSyncFunction"],
    ]
    assert runtime.fired == [name for batch in fired for name in batch]


def test_disabled_schedules_fire_only_when_asked_to() -> None:
    functions = [_function("PullSyncFunction", "rate(1 hour)", enabled=False)]
    stack = LocalStack("s", "us-east-1", {f.logical_id: f for f in functions}, {}, {})
    now = [T0.timestamp()]
    runtimes = {"as deployed": _Runtime(), "include disabled": _Runtime()}
    schedulers = [
        Scheduler(runtimes["as deployed"], stack, clock=lambda: now[0]),  # type: ignore[arg-type]
        Scheduler(runtimes["include disabled"], stack, clock=lambda: now[0], include_disabled=True),  # type: ignore[arg-type]
    ]

    now[0] = (T0 + timedelta(hours=1)).timestamp()
    for scheduler in schedulers:
        scheduler.due()

    assert {name: r.fired for name, r in runtimes.items()} == {
        "as deployed": [],
        "include disabled": ["PullSyncFunction"],
    }
