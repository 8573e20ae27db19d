"""The local AWS server's SQS: the same answers as moto's, in time linear in a queue's backlog."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.utils import unix_time as motos_unix_time
from moto.sqs import models

from catalog_sync_local.runtime import moto_sqs

REGION = "us-east-1"
BACKLOG = 200


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's SQS in this process with moto_sqs installed, put back as it was afterwards."""
    for name in ("unix_time", "unix_time_millis"):
        monkeypatch.setattr(models, name, getattr(models, name))
    check = "is_message_valid_based_on_retention_period"
    monkeypatch.setattr(models.SQSBackend, check, getattr(models.SQSBackend, check))
    moto_sqs.install()
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def _queue_with_backlog(sqs: Any, count: int, **attributes: str) -> str:
    url = sqs.create_queue(QueueName="backlog", Attributes=attributes)["QueueUrl"]
    for start in range(0, count, 10):
        entries = [{"Id": str(n), "MessageBody": f"m{start + n}"} for n in range(10)]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    return str(url)


def _stored_messages() -> list[Any]:
    backend = models.sqs_backends["123456789012"][REGION]
    return list(backend.queues["backlog"]._messages)


def test_a_receive_from_a_long_backlog_does_not_recount_the_queue_per_message(
    sqs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _queue_with_backlog(sqs, BACKLOG)
    reads = []
    attributes = models.Queue.attributes

    def counted(queue: Any) -> Any:
        reads.append(1)
        return attributes.fget(queue)  # type: ignore[attr-defined]

    monkeypatch.setattr(models.Queue, "attributes", property(counted))

    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]

    assert len(received) == 10
    # moto alone reads every attribute (three counts of the whole backlog each) twice per message.
    assert reads == []


def test_a_message_older_than_the_queues_retention_is_not_received(sqs: Any) -> None:
    url = _queue_with_backlog(sqs, 10, MessageRetentionPeriod="60")
    old, *young = _stored_messages()
    old.sent_timestamp -= 61_000  # sent 61 s ago: past the queue's 60 s

    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])

    assert "m0" not in [m["Body"] for m in received]
    assert len(young) == 9
    young[0].sent_timestamp -= 59_000  # 59 s old: still retained
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    assert "m1" in [m["Body"] for m in again.get("Messages", [])]


def test_a_received_message_stays_invisible_for_its_visibility_timeout(sqs: Any) -> None:
    url = _queue_with_backlog(sqs, 10)

    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)["Messages"]
    second = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    for message in _stored_messages():
        message.change_visibility(0)
    third = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]

    assert len(first) == 10
    assert second == []
    assert sorted(m["Body"] for m in third) == sorted(m["Body"] for m in first)


def test_sqs_reads_the_same_clock_as_moto() -> None:
    assert abs(moto_sqs._unix_time() - motos_unix_time()) < 1.0
    assert moto_sqs._unix_time_millis() == pytest.approx(motos_unix_time() * 1000, abs=1000)
