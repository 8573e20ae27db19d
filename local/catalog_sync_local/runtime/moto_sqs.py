"""moto's SQS without its quadratic receive, for the local runtime's AWS server.

moto 5 checks every message it hands out against the queue's retention period by asking for all of the
queue's attributes, twice; each time that counts the queue's messages three times, and each count reads
the clock through datetime objects for every message. A receive of 10 from a backlog of 1,000 took
690 ms (measured), so under load the local stack's one moto process spent most of its time there and the
queue drained slower than the receivers filled it. `install()` gives the same answers in linear time: the
retention period is read from the queue itself, and SQS's clock is `time.time()` (what moto's datetime
arithmetic computes, without building two datetimes per read). The local AWS servers install it in
the process that serves them (`MotoServerProcess`, `MotoServer`).
"""

from __future__ import annotations

import time
from typing import Any


def _unix_time(dt: Any = None) -> float:
    if dt is not None:  # moto's SQS never passes one; kept so the signature matches moto.core.utils'
        from moto.core.utils import unix_time

        return unix_time(dt)
    return time.time()


def _unix_time_millis(dt: Any = None) -> float:
    return _unix_time(dt) * 1000.0


def _is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
    retention_s = int(self.get_queue(queue_name).message_retention_period)
    return bool(retention_s + message.sent_timestamp / 1000 > time.time())


def install() -> None:
    """Patch moto's SQS models in this process (idempotent: patching twice patches the same)."""
    from moto.sqs import models

    setattr(models, "unix_time", _unix_time)  # noqa: B010 - the module's own names, read by its models
    setattr(models, "unix_time_millis", _unix_time_millis)  # noqa: B010
    models.SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
        _is_message_valid_based_on_retention_period
    )
