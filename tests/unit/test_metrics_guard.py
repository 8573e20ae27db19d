"""With metrics switched off, a warm handler keeps no metric values between invocations and prints no
EMF line, even past the 100 values at which Powertools would publish regardless of the switch."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from catalog_sync.metrics_guard import clear_when_disabled


def _handler(metrics: Metrics) -> Any:
    @clear_when_disabled(metrics)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: object) -> str:
        metrics.add_metric(name="Webhook_accepted", unit=MetricUnit.Count, value=1)
        return "ok"

    return handler


def test_switched_off_metrics_stay_empty_and_silent_across_150_invocations(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    metrics = Metrics(namespace="Test", service="guard")
    handler = _handler(metrics)

    for _ in range(150):
        assert handler({}, None) == "ok"

    assert metrics.metric_set == {}
    assert "_aws" not in capsys.readouterr().out


def test_switched_on_metrics_are_published_once_per_invocation(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics = Metrics(namespace="Test", service="guard")
    handler = _handler(metrics)

    for _ in range(3):
        handler({}, None)

    assert capsys.readouterr().out.count('"Webhook_accepted":[1.0]') == 3
