"""Fire the template's EventBridge schedules locally: on demand, or when their rate says they are due.

Supports `rate(N minute|minutes|hour|hours|day|days)` and the daily/hourly forms of `cron(M H * * ? *)`
that the template uses (minute and hour fields as numbers or `*`); anything else is reported, not guessed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from catalog_sync_local.runtime.local_runtime import LocalRuntime
from catalog_sync_local.runtime.stack import LocalStack

UNITS = {"minute": 60, "hour": 3600, "day": 86_400}


class UnsupportedSchedule(ValueError):
    pass


def next_fire(expression: str, after: datetime) -> datetime:
    rate = re.fullmatch(r"rate\((\d+) (minute|hour|day)s?\)", expression.strip())
    if rate:
        return after + timedelta(seconds=int(rate.group(1)) * UNITS[rate.group(2)])
    cron = re.fullmatch(r"cron\((\S+) (\S+) \* \* \? \*\)", expression.strip())
    if cron:
        minute, hour = cron.groups()
        candidate = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for _ in range(2 * 24 * 60):  # bounded: a daily cron matches within a day
            if _field(minute, candidate.minute) and _field(hour, candidate.hour):
                return candidate
            candidate += timedelta(minutes=1)
    raise UnsupportedSchedule(f"local scheduler does not understand '{expression}'")


def _field(spec: str, value: int) -> bool:
    return spec == "*" or (spec.isdigit() and int(spec) == value)


class Scheduler:
    """Fires each function's schedule when it is due (`due()`, called by a loop the caller bounds).

    Only rules the stack created ENABLED fire, as in EventBridge, unless `include_disabled` (the
    template deploys its schedules disabled outside prod; `catalog-sync local start --schedules` runs
    them anyway)."""

    def __init__(
        self,
        runtime: LocalRuntime,
        stack: LocalStack,
        *,
        clock: Callable[[], float] = time.time,
        include_disabled: bool = False,
    ) -> None:
        self.runtime = runtime
        self.clock = clock
        now = datetime.fromtimestamp(clock(), UTC)
        self._expressions = {
            f.logical_id: s.expression
            for f in stack.functions.values()
            for s in f.schedules
            if s.enabled or include_disabled
        }
        self._next: dict[str, datetime] = {
            logical_id: next_fire(expression, now) for logical_id, expression in self._expressions.items()
        }

    def due(self) -> list[str]:
        """Run every function whose schedule is due; return their logical ids."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        fired = []
        for logical_id, when in sorted(self._next.items()):
            if when <= now:
                self.runtime.fire_schedule(logical_id)
                self._next[logical_id] = next_fire(self._expressions[logical_id], now)
                fired.append(logical_id)
        return fired
