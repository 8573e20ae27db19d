"""Shared fixtures: fake AWS credentials (never real AWS); every test ends with no BigCommerce contract
violation recorded by a simulated store (catalog_sync_local.simulators.bigcommerce.contract)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog_sync_local.simulators.bigcommerce.contract import coverage, take_unexpected_violations

REPO = Path(__file__).resolve().parents[1]
EVENTS = REPO / "events"


@pytest.fixture(scope="session", autouse=True)
def _no_running_local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Ops commands look for a running `local start` through a stack file: the tests' is their own (a
    developer's running stack is never touched; a test that starts one names its own file)."""
    from catalog_sync_local.runtime.running_stack import STACK_FILE_VARIABLE

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(STACK_FILE_VARIABLE, str(tmp_path_factory.getbasetemp() / "no-local-stack.json"))
        yield


@pytest.fixture(autouse=True)
def _fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture(autouse=True)
def _bigcommerce_contract() -> Iterator[None]:
    """A simulated BigCommerce store records every request or answer outside the official spec; a test
    that causes one fails here (unless it expected it: `store.contract.expect_violations()`)."""
    take_unexpected_violations()  # a violation from before this test (a module fixture) is not ours
    yield
    violations = take_unexpected_violations()
    if violations:
        listed = "\n".join(f"  {v}" for v in violations[:20])
        pytest.fail(f"{len(violations)} BigCommerce contract violation(s):\n{listed}", pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Violations after the last test's check (a module or session fixture's teardown) fail the run."""
    left = take_unexpected_violations()
    if left:
        print(f"\n{len(left)} BigCommerce contract violation(s) outside any test:")
        for violation in left[:20]:
            print(f"  {violation}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    checked = coverage()
    if checked:
        operations = len({name for name, _ in checked})
        terminalreporter.write_line(
            f"BigCommerce contract: {sum(checked.values())} requests and answers of the simulated stores "
            f"checked against the official schemas ({operations} operations, {len(checked)} statuses)"
        )


def load_json(path: Path) -> dict:
    return json.loads(path.read_text())
