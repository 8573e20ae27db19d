"""Keep Powertools Metrics from growing when metrics are switched off (POWERTOOLS_METRICS_DISABLED).

Its flush then skips both the print and the clear, so a warm container keeps every value it was given
and, once one metric holds 100 values, prints them anyway (the EMF size guard does not look at the
switch). Clearing after each invocation when disabled keeps memory flat and the output quiet (the demo,
`make chaos` and local runs switch metrics off)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

Handler = TypeVar("Handler", bound=Callable[..., Any])
_TRUE = frozenset({"1", "true", "yes", "on"})


class Clearable(Protocol):
    def clear_metrics(self) -> None: ...


def clear_when_disabled(metrics: Clearable) -> Callable[[Handler], Handler]:
    """Decorate a handler (above `@metrics.log_metrics`, so it runs after the flush)."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return handler(*args, **kwargs)
            finally:
                if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").strip().lower() in _TRUE:
                    metrics.clear_metrics()

        return wrapper  # type: ignore[return-value]

    return decorate
